#!/usr/bin/env bash
# Proves the end-to-end harness with real components: the demo PKI, PostgreSQL 15 with TLS,
# Debian 13's libpq 17 on the host's OpenSSL 3.0 (proven: the connected psql maps the host's
# libcrypto and sees the host's trust store) and on OpenSSL 3.5 in a Debian 13 root, and the
# sslrootcert=system mechanism dbtrust relies on (default verify paths read SSL_CERT_DIR).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
export PGCONNECT_TIMEOUT=15

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/common.sh"
# This test proves the test infrastructure (which libcrypto psql 17 loads); it runs no dbtrust
# code, so the sanitizer pass (make check exports DBTRUST_SANITIZED) leaves it to the normal one.
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: runs no dbtrust code (sanitizer build; it runs in the normal pass)"
    exit 77
}
. "$src/tests/lib/pgserver.sh"
. "$src/tests/lib/libpq17.sh"
. "$src/tests/lib/trixie.sh"
. "$src/certs/demo-pki.sh"

dbt_require_root "tests/e2e-infra.sh (PostgreSQL server, chroot)" || exit $?

. "$src/tests/lib/tap.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/dbt-e2e-infra.XXXXXX") || exit 1
dbt_cleanup_push "rm -rf '$work'"
pki=$work/pki
host=db.demo.internal
dbt_demo_pki "$pki" "$host" || { echo "FAIL: certs/demo-pki.sh $pki"; exit 1; }
ok "demo PKI generated and its server chain verifies"

# Trust material as dbtrust will wire it: an empty bundle file and a hashed directory.
: >"$work/empty.pem"
mkdir "$work/demo-roots" "$work/other-roots" "$work/no-roots"
csplit -s -z -f "$work/demo-roots/root" -b '%d.pem' "$pki/demo-bundle.pem" '/-----BEGIN/' '{*}'
cp "$pki/other-root.pem" "$work/other-roots/"
openssl rehash "$work/demo-roots" "$work/other-roots" "$work/no-roots" ||
    { echo "FAIL: openssl rehash"; exit 1; }
if [ "$(find "$work/demo-roots" -name '*.0' | wc -l)" = 3 ]; then
    ok "hashed directory has 3 root links"
else
    not_ok "hashed directory of the demo bundle does not have 3 links"
fi

dbt_pg_start --ssl "$pki/server-chain.pem" "$pki/server.key" || exit $?
tls_port=$DBT_PG_PORT
dbt_pg_start --ssl "$pki/expired-server-chain.pem" "$pki/expired-server.key" || exit $?
expired_port=$DBT_PG_PORT expired_dir=$DBT_PG_DIR
dbt_pg_start --nossl || exit $?
plain_port=$DBT_PG_PORT
conn="host=$host hostaddr=127.0.0.1 user=$DBT_PG_USER dbname=$DBT_PG_DB"
q="select ssl from pg_stat_ssl where pid = pg_backend_pid()"

dbt_libpq17_ensure || exit $?
expect "host psql is 17" ok "psql (PostgreSQL) 17." "$DBT_PSQL17" --version
# The route is what it claims (tests/lib/libpq17.sh): Debian 13's psql 17, connected, maps the
# host's OpenSSL 3.0 libcrypto/libssl files and sees the host's trust store directories.
expect "libpq17/3.0: the connected psql maps the host's OpenSSL 3.0 libraries" ok \
    "psql maps the host's" dbt_libpq17_proof "$DBT_PSQL17" \
    "$conn port=$tls_port sslmode=verify-full sslrootcert=$pki/demo-bundle.pem"
expect "libpq17/3.0: the connected psql sees the host's trust store" ok \
    "psql sees the host's trust store" dbt_libpq17_proof "$DBT_PSQL17" \
    "$conn port=$tls_port sslmode=verify-full sslrootcert=$pki/demo-bundle.pem"
psql17() { "$DBT_PSQL17" -X -A -t -c "$q" "$1"; }
psql15() { "$DBT_PG_BIN/psql" -X -A -t -c "$q" "$1"; }

expect "libpq17/3.0 verify-full with the demo bundle file" ok "=t" \
    psql17 "$conn port=$tls_port sslmode=verify-full sslrootcert=$pki/demo-bundle.pem"
expect "libpq17/3.0 verify-full with the other root fails" fail "certificate verify failed" \
    psql17 "$conn port=$tls_port sslmode=verify-full sslrootcert=$pki/other-root.pem"
expect "libpq17/3.0 verify-full rejects the expired server" fail "certificate verify failed" \
    psql17 "$conn port=$expired_port sslmode=verify-full sslrootcert=$pki/demo-bundle.pem"
expect "libpq17/3.0 sslmode=require against the ssl=off server fails" fail \
    "server does not support SSL" psql17 "$conn port=$plain_port sslmode=require"
expect "libpq17/3.0 sslmode=disable reaches the ssl=off server" ok "=f" \
    psql17 "$conn port=$plain_port sslmode=disable"

sys() { (export SSL_CERT_FILE="$work/empty.pem" SSL_CERT_DIR="$work/$1" && "${@:2}"); }
expect "libpq17/3.0 sslrootcert=system finds the roots in SSL_CERT_DIR" ok "=t" \
    sys demo-roots psql17 "$conn port=$tls_port sslrootcert=system"
expect "libpq17/3.0 sslrootcert=system with verify-full spelled out" ok "=t" \
    sys demo-roots psql17 "$conn port=$tls_port sslmode=verify-full sslrootcert=system"
expect "libpq17/3.0 sslrootcert=system without the roots fails" fail "certificate verify failed" \
    sys no-roots psql17 "$conn port=$tls_port sslrootcert=system"
expect "libpq17/3.0 sslrootcert=system with only the other root fails" fail \
    "certificate verify failed" sys other-roots psql17 "$conn port=$tls_port sslrootcert=system"
# OpenSSL 3.0's default store lookup reads $SSL_CERT_DIR too, and a dangling hash link there
# fails the handshake with "unregistered scheme"; 3.5 has no such lookup and just fails to verify.
# A psql that silently ran on 3.5 would not say it.
mkdir "$work/dangling"
ln -s "$work/no-such-root.pem" "$work/dangling/$(openssl x509 -in "$pki/root-rsa2048.pem" \
    -noout -subject_hash).0"
expect "libpq17/3.0 behaves as OpenSSL 3.0 (a dangling hash link: unregistered scheme)" fail \
    "unregistered scheme" sys dangling psql17 "$conn port=$tls_port sslrootcert=system"
expect "libpq17/3.0 sslrootcert=system checks the host name" fail "does not match host name" \
    sys demo-roots psql17 "host=wrong.demo.internal hostaddr=127.0.0.1 user=$DBT_PG_USER
    dbname=$DBT_PG_DB port=$tls_port sslrootcert=system"
expect "libpq17/3.0 sslmode=require with sslrootcert=system is refused" fail \
    'weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")' \
    sys demo-roots psql17 "$conn port=$tls_port sslmode=require sslrootcert=system"
expect "psql 15 takes sslrootcert=system as a file name" fail \
    'root certificate file "system" does not exist' \
    sys demo-roots psql15 "$conn port=$tls_port sslmode=verify-full sslrootcert=system"

dbt_pg_stop "$expired_dir"
if [ -e "$expired_dir" ] || (exec 3<>"/dev/tcp/127.0.0.1/$expired_port") 2>/dev/null; then
    not_ok "dbt_pg_stop left $expired_dir or a listener on port $expired_port"
else
    ok "dbt_pg_stop stops the server and removes its directory"
fi

# OpenSSL 3.5 and libpq 17 as Debian 13 ships them, reaching the host's server over loopback.
dbt_trixie_ensure || exit $?
dbt_trixie_session || exit 1
expect "trixie root has OpenSSL 3.5" ok "OpenSSL 3.5." dbt_trixie_run openssl version

# A package that the mirror does not serve is a failure that names it, on the host and in the
# root (apt-get update first: the root keeps no package lists).
rc=0
out=$(dbt_apt_ensure dbtrust-no-such-package 2>&1) || rc=$?
if [ "$rc" = 77 ]; then
    ok "# SKIP the host's apt cannot reach its mirror: $out"
elif [ "$rc" != 0 ] && grep -q "serves no binary package named: dbtrust-no-such-package" <<<"$out"; then
    ok "a package the host's mirror does not serve is a failure that names it"
else
    not_ok "dbt_apt_ensure dbtrust-no-such-package: exit $rc, output: $out"
fi
if dbt_trixie_run sh -c 'apt-get update -q' >"$work/apt-update.log" 2>&1; then
    expect_eq "the root's packages the mirror does not serve are named, and only those" \
        "$(dbt_apt_unavailable dbt_trixie_run -- openssl postgresql-client-17 \
            dbtrust-no-such-package)" dbtrust-no-such-package
else
    not_ok "apt-get update in the trixie root failed: $(tail -n 5 "$work/apt-update.log")"
fi
dbt_trixie_copy_in "$work/empty.pem" "$work/demo-roots" "$work/no-roots" "$work/dangling" \
    "$pki/demo-bundle.pem" /dbt || exit 1
expect "trixie root has the tarball build tools" ok "" dbt_trixie_run sh -c \
    'gcc --version >/dev/null && make --version >/dev/null &&
     pkg-config --exists openssl jansson libcurl cmocka'
out=$(SSL_CERT_FILE=/leak SSL_CERT_DIR=/leak dbt_trixie_run env)
if grep -q '^SSL_CERT' <<<"$out"; then
    not_ok "the host's SSL_CERT_FILE/SSL_CERT_DIR leaked into the trixie root: $out"
else
    ok "SSL_CERT_FILE/SSL_CERT_DIR do not leak into the trixie root"
fi
tpsql() {
    dbt_trixie_run --env SSL_CERT_FILE=/dbt/empty.pem --env "SSL_CERT_DIR=/dbt/$1" -- \
        /usr/lib/postgresql/17/bin/psql -X -A -t -c "$q" "$2"
}
expect "trixie psql is 17" ok "psql (PostgreSQL) 17." \
    dbt_trixie_run /usr/lib/postgresql/17/bin/psql --version
expect "libpq17/3.5 sslrootcert=system finds the roots in SSL_CERT_DIR" ok "=t" \
    tpsql demo-roots "$conn port=$tls_port sslrootcert=system"
expect "libpq17/3.5 sslrootcert=system without the roots fails" fail "certificate verify failed" \
    tpsql no-roots "$conn port=$tls_port sslrootcert=system"
expect "libpq17/3.5 sslmode=require with sslrootcert=system is refused" fail \
    'weak sslmode "require" may not be used with sslrootcert=system' \
    tpsql demo-roots "$conn port=$tls_port sslmode=require sslrootcert=system"
expect "libpq17/3.5 verify-full with the demo bundle file" ok "=t" \
    tpsql no-roots "$conn port=$tls_port sslmode=verify-full sslrootcert=/dbt/demo-bundle.pem"
expect "libpq17/3.5 behaves as OpenSSL 3.5 (a dangling hash link: verify failed)" fail \
    "certificate verify failed" tpsql dangling "$conn port=$tls_port sslrootcert=system"
# The proof is not a formality: the root's psql on its own OpenSSL 3.5 fails it.
trixie_psql() { dbt_trixie_run -- /usr/lib/postgresql/17/bin/psql "$@"; }
expect "the 3.0 route proof fails for psql on the root's own OpenSSL 3.5" fail \
    "not the host's" dbt_libpq17_proof trixie_psql \
    "$conn port=$tls_port sslmode=verify-full sslrootcert=/dbt/demo-bundle.pem"
if grep -qF "$DBT_TRIXIE_SESSION" /proc/self/mounts; then
    not_ok "mounts of the trixie session are left behind:" \
        "$(grep -F "$DBT_TRIXIE_SESSION" /proc/self/mounts)"
else
    ok "no mount outlives dbt_trixie_run"
fi

echo "e2e-infra: $passed passed, $failed failed"
[ "$failed" = 0 ]
