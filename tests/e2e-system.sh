#!/usr/bin/env bash
# sslrootcert=system end to end: `dbtrust system enable|disable`, `dbtrust env [--lazy]` and the
# update-ca-certificates hook, proven with real libpq 17 psql (Debian 13's, on the host OpenSSL 3.0
# and host trust store, and on OpenSSL 3.5 in a Debian 13 root), Python's default SSL context and
# a real PostgreSQL 15 server with TLS.
# The system store is changed only inside a private mount namespace over copies
# (tests/lib/sysiso.sh) and inside the Debian 13 root's throwaway overlay.
# Skips (77) only when not root or when the Debian mirror is unavailable for the Debian 13 root.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_SYSTEM_CERT_DIR DBTRUST_SYSTEM_STATE OPENSSL_CONF
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
export PGCONNECT_TIMEOUT=15 LC_ALL=C

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
. "$src/tests/lib/common.sh"
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/tests/lib/pgserver.sh"
. "$src/tests/lib/libpq17.sh"
. "$src/tests/lib/trixie.sh"
. "$src/certs/demo-pki.sh"

DBTRUST=${DBTRUST:-$build/dbtrust}
[ -x "$DBTRUST" ] || { echo "Bail out! no dbtrust binary at $DBTRUST (run make first)"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || dbt_apt_ensure python3 || exit $?

. "$src/tests/lib/tap.sh"

work=$(mktemp -d /tmp/dbt-e2e-system.XXXXXX) || exit 1
chmod 755 "$work"
dbt_cleanup_push "rm -rf '$work'"
dbt_sysiso_setup "$work/iso" || { echo "Bail out! could not isolate the system trust store"; exit 1; }
ok "system trust store isolated: /etc/ssl/certs and friends are copies in a mount namespace"

pki=$work/pki
host=db.demo.internal
dbt_demo_pki "$pki" "$host" || { echo "Bail out! certs/demo-pki.sh $pki failed"; exit 1; }
# A CA that the lazy-mode tests append to the bundle file only.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -days 30 -subj "/CN=E2E Bundle Only CA" -out "$pki/bundle-only.pem" 2>/dev/null ||
    { echo "Bail out! cannot make the bundle-only CA"; exit 1; }
chmod 644 "$pki/bundle-only.pem"
# The subject hash of the RSA2048 root, the one that anchors the server's chain.
anchor_hash=$(openssl x509 -in "$pki/root-rsa2048.pem" -noout -subject_hash)

dbt_pg_start --ssl "$pki/server-chain.pem" "$pki/server.key" || exit $?
pg_port=$DBT_PG_PORT
dbt_libpq17_ensure || exit $?

# A TLS server whose CA is in the system store (other-root, added through
# /usr/local/share/ca-certificates below): the system's own trust must keep working.
sys_port=$(dbt_pg_free_port) || exit 1
openssl s_server -www -quiet -accept "127.0.0.1:$sys_port" -cert "$pki/other-server.pem" \
    -key "$pki/other-server.key" </dev/null >"$work/s_server.log" 2>&1 &
s_server_pid=$!
dbt_cleanup_push "kill $s_server_pid 2>/dev/null"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$sys_port") 2>/dev/null && break; sleep 0.1; done

conn="host=$host hostaddr=127.0.0.1 port=$pg_port user=$DBT_PG_USER dbname=$DBT_PG_DB"
q="select ssl from pg_stat_ssl where pid = pg_backend_pid()"

# --- one side of the matrix: the commands of one OpenSSL build, run through $RUN -------------
# X [--cwd DIR] [VAR=VALUE...] -- CMD...: runs CMD on the side under test with only the given
# trust variables set (none by default: OpenSSL's compiled-in defaults).
X() {
    local cwd='' envs=()
    [ "${1:-}" = --cwd ] && { cwd=$2; shift 2; }
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    if [ "$SIDE" = host ]; then
        (
            [ -n "$cwd" ] && cd "$cwd"
            for e in "${envs[@]}"; do export "${e?}"; done
            exec "$@"
        )
    else
        local a=()
        for e in "${envs[@]}"; do a+=(--env "$e"); done
        [ -n "$cwd" ] && a+=(--cwd "$cwd")
        dbt_trixie_run "${a[@]}" -- "$@"
    fi
}
psql_sys() { X "$@" -- "$S_PSQL" -X -A -t -c "$q" "$conn sslrootcert=system"; }
psql_conn() { X -- "$S_PSQL" -X -A -t -c "$q" "$1"; }
dbt() { X "${S_CATENV[@]}" -- "$S_DBTRUST" "$@"; }
# Names and link targets in the system directory plus the bundle file's digest.
sys_snapshot() {
    X -- sh -c 'cd /etc/ssl/certs && find . -maxdepth 1 ! -name . -printf "%P %l\n" | sort &&
        sha256sum ca-certificates.crt'
}
our_links() { X -- sh -c 'ls /etc/ssl/certs | grep -c "^dbtrust-"'; }

run_side() {
    local t=$1 snap0 snap out env_line bundle0
    expect "$t: OpenSSL is $S_OSSL" ok "OpenSSL $S_OSSL" X -- openssl version
    expect "$t: psql is 17" ok "psql (PostgreSQL) 17." X -- "$S_PSQL" --version
    if [ "$SIDE" = host ]; then
        # Debian 13's psql on the host's OpenSSL 3.0, reading the (isolated) host store that the
        # host's dbtrust changes below, not the Debian 13 root's (tests/lib/libpq17.sh).
        expect "$t: the connected psql maps the host's OpenSSL 3.0 and sees the host's store" ok \
            "psql sees the host's trust store" dbt_libpq17_proof "$S_PSQL" \
            "$conn sslmode=verify-full sslrootcert=$S_PKI/demo-bundle.pem"
    fi

    # The system's own store, with a local CA added the Debian way.
    X -- sh -c "cp '$S_PKI/other-root.pem' /usr/local/share/ca-certificates/e2e-test-other.crt &&
        update-ca-certificates >/dev/null 2>&1" || not_ok "$t: update-ca-certificates failed"
    X -- sh -c "mkdir -p /etc/ca-certificates/update.d &&
        sed 's|@bindir@|$(dirname "$S_DBTRUST")|g' '$S_HOOK' >/etc/ca-certificates/update.d/dbtrust &&
        chmod 755 /etc/ca-certificates/update.d/dbtrust"
    expect "$t: a server of a CA from /usr/local/share/ca-certificates verifies (Python)" ok \
        "verified" X -- python3 "$S_PROBE" "$host" 127.0.0.1 "$sys_port"
    snap0=$(sys_snapshot)
    bundle0=$(tail -n 1 <<<"$snap0")

    expect "$t: sslrootcert=system fails before import" fail "certificate verify failed" psql_sys
    expect "$t: import the demo bundle" ok "bundle 'demo'" dbt import --bundle demo \
        "$S_PKI/demo-bundle.pem"
    expect "$t: import alone does not change the system store" ok "" \
        test "$(sys_snapshot)" = "$snap0"
    expect "$t: sslrootcert=system still fails after import alone" fail \
        "certificate verify failed" psql_sys
    expect "$t: status before enable says disabled" ok "system wiring: disabled" \
        dbt system status

    expect "$t: system enable" ok "3 catalog certificates linked" dbt system enable
    expect "$t: sslrootcert=system succeeds after enable" ok "=t" psql_sys
    expect "$t: verify-full spelled out succeeds too" ok "=t" \
        X -- "$S_PSQL" -X -A -t -c "$q" "$conn sslmode=verify-full sslrootcert=system"
    expect "$t: status resolves every catalog CA through the defaults" ok \
        "3 of 3 catalog certificates resolve" dbt system status
    snap=$(sys_snapshot)
    expect_eq "$t: the bundle file is not touched by enable" "$(tail -n 1 <<<"$snap")" "$bundle0"
    expect_eq "$t: enable adds 3 dbtrust-<sha256>.pem links" "$(our_links)" 3
    expect "$t: enable again is idempotent" ok "(0 new, 0 removed)" dbt system enable
    expect "$t: ... and changes nothing" ok "" test "$(sys_snapshot)" = "$snap"
    expect "$t: Python's default context verifies the PostgreSQL server" ok "verified" \
        X -- python3 "$S_PROBE" --postgres "$host" 127.0.0.1 "$pg_port"
    expect "$t: the system's own CA still verifies after enable" ok "verified" \
        X -- python3 "$S_PROBE" "$host" 127.0.0.1 "$sys_port"
    expect "$t: a wrong host name fails" fail "does not match host name" \
        psql_conn "host=wrong.demo.internal hostaddr=127.0.0.1 port=$pg_port user=$DBT_PG_USER
        dbname=$DBT_PG_DB sslrootcert=system"
    expect "$t: sslmode=require with sslrootcert=system is refused" fail \
        'weak sslmode "require" may not be used with sslrootcert=system (use "verify-full")' \
        psql_conn "$conn sslmode=require sslrootcert=system"

    # update-ca-certificates renumbers every hash link (openssl rehash); --fresh clears links.
    expect "$t: update-ca-certificates runs the dbtrust hook" ok "refresh: 3 catalog" \
        X -- update-ca-certificates
    expect "$t: still wired after update-ca-certificates" ok "=t" psql_sys
    expect "$t: update-ca-certificates --fresh" ok "" X -- update-ca-certificates --fresh
    expect "$t: still wired after update-ca-certificates --fresh" ok "=t" psql_sys
    expect "$t: status after --fresh" ok "3 of 3 catalog certificates resolve" dbt system status
    expect "$t: the system's own CA verifies after --fresh" ok "verified" \
        X -- python3 "$S_PROBE" "$host" 127.0.0.1 "$sys_port"

    # Catalog changes are followed by the links.
    expect "$t: remove the bundle" ok "removed bundle 'demo'" dbt remove --bundle demo
    expect_eq "$t: remove takes the links away" "$(our_links)" 0
    expect "$t: sslrootcert=system fails after remove" fail "certificate verify failed" psql_sys
    expect "$t: import again" ok "bundle 'demo'" dbt import --bundle demo "$S_PKI/demo-bundle.pem"
    expect "$t: import brings the links back" ok "=t" psql_sys

    expect "$t: system disable" ok "removed 3 certificate links" dbt system disable
    expect "$t: sslrootcert=system fails after disable" fail "certificate verify failed" psql_sys
    out=$(sys_snapshot)
    # --fresh may have renumbered the system's own links; what matters is that the set of
    # names and targets is the one before enable (rehash gives the same names for the same files).
    if [ "$out" = "$snap0" ]; then
        ok "$t: disable leaves exactly the store as it was before enable"
    else
        not_ok "$t: disable left a different store: $(diff <(echo "$snap0") <(echo "$out") | head)"
    fi
    expect "$t: the system's own CA still verifies after disable" ok "verified" \
        X -- python3 "$S_PROBE" "$host" 127.0.0.1 "$sys_port"
    expect "$t: disable again has nothing to do" ok "not enabled" dbt system disable

    # Scoped trust through dbtrust env, no system change.
    env_line=$(dbt env)
    expect_eq "$t: dbtrust env adds the catalog after the default directory" "$env_line" \
        "export SSL_CERT_DIR='$S_DEFDIR:$S_CATALOG/trust'
export NODE_EXTRA_CA_CERTS='$S_CATALOG/trust.pem'"
    expect "$t: sslrootcert=system succeeds with dbtrust env" ok "=t" \
        psql_sys "SSL_CERT_DIR=$S_DEFDIR:$S_CATALOG/trust"
    expect "$t: dbtrust env --shell systemd" ok \
        "=Environment=SSL_CERT_DIR=$S_DEFDIR:$S_CATALOG/trust
Environment=NODE_EXTRA_CA_CERTS=$S_CATALOG/trust.pem" dbt env --shell systemd
    out=$(X "${S_CATENV[@]}" "SSL_CERT_DIR=dbtrust::/etc/ssl/certs:certs" -- "$S_DBTRUST" env \
        2>"$work/env.err")
    expect_eq "$t: dbtrust env drops relative and empty entries" "$(head -1 <<<"$out")" \
        "export SSL_CERT_DIR='/etc/ssl/certs:$S_CATALOG/trust'"
    expect "$t: ... and says so for each" ok "" grep -q "dropping 'certs'" "$work/env.err"

    # A directory named dbtrust planted in the working directory, holding the anchor root.
    X -- sh -c "mkdir -p '$S_PLANT/dbtrust' &&
        cp '$S_PKI/root-rsa2048.pem' '$S_PLANT/dbtrust/$anchor_hash.0'"
    expect "$t: control: the planted directory is trusted when SSL_CERT_DIR names it relatively" \
        ok "=t" psql_sys --cwd "$S_PLANT" "SSL_CERT_DIR=dbtrust:/etc/ssl/certs"
    expect "$t: remove the bundle again" ok "" dbt remove --bundle demo
    env_line=$(X --cwd "$S_PLANT" "${S_CATENV[@]}" "SSL_CERT_DIR=dbtrust:/etc/ssl/certs" -- \
        "$S_DBTRUST" env 2>/dev/null | head -1)
    env_line=${env_line#export SSL_CERT_DIR=\'}
    env_line=${env_line%\'}
    expect "$t: a planted ./dbtrust is not trusted through dbtrust env" fail \
        "certificate verify failed" psql_sys --cwd "$S_PLANT" "SSL_CERT_DIR=$env_line"
    expect "$t: enable with the anchor not in the catalog" ok "" dbt system enable
    expect "$t: a planted ./dbtrust is not trusted after enable" fail "certificate verify failed" \
        psql_sys --cwd "$S_PLANT"
    expect "$t: import while enabled wires it at once" ok "" dbt import --bundle demo \
        "$S_PKI/demo-bundle.pem"
    expect "$t: ... and connections verify" ok "=t" psql_sys --cwd "$S_PLANT"
    expect "$t: final disable" ok "removed 3 certificate links" dbt system disable
    expect_eq "$t: no dbtrust link is left" "$(our_links)" 0

    # --bundle-file: the explicit, costly opt-in, through the same real clients.
    expect "$t: enable --bundle-file prints the cost" ok "+80% trust setup time" \
        dbt system enable --bundle-file
    expect "$t: sslrootcert=system succeeds through the bundle file" ok "=t" psql_sys
    expect_eq "$t: ... with no link in the directory" "$(our_links)" 0
    expect "$t: update-ca-certificates --fresh rewrites the file, the hook appends again" ok \
        "appended to" X -- update-ca-certificates --fresh
    expect "$t: ... and sslrootcert=system still succeeds" ok "=t" psql_sys
    expect "$t: disable the bundle file wiring" ok "removed dbtrust's 3 certificates" \
        dbt system disable
    expect "$t: sslrootcert=system fails after that disable" fail "certificate verify failed" \
        psql_sys
    expect_eq "$t: the store and its bundle file are as before enable" "$(sys_snapshot)" "$snap0"

    # Lazy trust (dbtrust env --lazy): an empty SSL_CERT_FILE, then the system's hashed
    # directory and the catalog's; the bundle file is never parsed.
    local lazy=("SSL_CERT_FILE=$S_CATALOG/empty.pem" "SSL_CERT_DIR=$S_DEFDIR:$S_CATALOG/trust")
    expect "$t: status says lazy mode is safe here" ok "lazy mode (dbtrust env --lazy): safe here" \
        dbt system status
    expect "$t: dbtrust env --lazy" ok "=export SSL_CERT_FILE='$S_CATALOG/empty.pem'
export SSL_CERT_DIR='$S_DEFDIR:$S_CATALOG/trust'
export NODE_EXTRA_CA_CERTS='$S_CATALOG/trust.pem'" dbt env --lazy
    expect "$t: lazy: sslrootcert=system verifies the catalog's CA" ok "=t" psql_sys "${lazy[@]}"
    expect "$t: lazy: verify-full spelled out" ok "=t" X "${lazy[@]}" -- "$S_PSQL" -X -A -t \
        -c "$q" "$conn sslmode=verify-full sslrootcert=system"
    expect "$t: lazy: the server of a CA from /usr/local/share/ca-certificates verifies" ok \
        "verified" X "${lazy[@]}" -- python3 "$S_PROBE" "$host" 127.0.0.1 "$sys_port"
    expect "$t: lazy: a wrong host name fails" fail "does not match host name" \
        X "${lazy[@]}" -- "$S_PSQL" -X -A -t -c "$q" "host=wrong.demo.internal hostaddr=127.0.0.1
        port=$pg_port user=$DBT_PG_USER dbname=$DBT_PG_DB sslrootcert=system"
    expect "$t: lazy: system enable too (the catalog's CAs reachable twice)" ok "" \
        dbt system enable
    expect "$t: lazy: still verifies with the catalog also linked into the system directory" \
        ok "=t" psql_sys "${lazy[@]}"
    expect "$t: lazy: system disable" ok "" dbt system disable
    expect "$t: lazy: remove the bundle" ok "" dbt remove --bundle demo
    expect "$t: lazy: a CA that is not present fails" fail "certificate verify failed" \
        psql_sys "${lazy[@]}"
    expect "$t: lazy: import again" ok "" dbt import --bundle demo "$S_PKI/demo-bundle.pem"
    expect "$t: lazy: verifies again" ok "=t" psql_sys "${lazy[@]}"
    # A CA appended to the bundle file only: stock mode trusts it, lazy mode would not.
    X -- sh -c "cat '$S_PKI/bundle-only.pem' >>/etc/ssl/certs/ca-certificates.crt"
    expect "$t: control: stock mode trusts the bundle-only CA" ok "bundle-only.pem: OK" \
        X -- openssl verify "$S_PKI/bundle-only.pem"
    expect "$t: a bundle-only CA makes env --lazy refuse and name it" fail \
        "/CN=E2E Bundle Only CA" dbt env --lazy
    out=$(dbt env --lazy 2>/dev/null)
    expect_eq "$t: ... with nothing on stdout" "$out" ""
    expect "$t: status says lazy mode is not safe" ok "not safe here: 1 of" dbt system status
    expect "$t: update-ca-certificates rebuilds the bundle file" ok "" X -- update-ca-certificates
    expect "$t: env --lazy is offered again" ok "export SSL_CERT_FILE=" dbt env --lazy
    expect_eq "$t: the store is as before enable" "$(sys_snapshot)" "$snap0"
}

# --- OpenSSL 3.0 on the host, inside the isolated mount namespace ----------------------------
SIDE=host S_OSSL=3.0 S_PSQL=$DBT_PSQL17 S_DBTRUST=$DBTRUST S_PKI=$pki
S_PROBE=$src/tests/lib/tlsprobe.py S_HOOK=$src/certs/update-ca-certificates-hook
S_CATALOG=$work/catalog S_CATENV=("DBTRUST_CATALOG=$work/catalog") S_PLANT=$work/plant
S_DEFDIR=$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')/certs
PATH=$(dirname "$PY"):$PATH run_side "libpq17/3.0"

# --- OpenSSL 3.5 in the Debian 13 root: dbtrust built there, enable acts on its own store ----
dbt_trixie_ensure || exit $?
dbt_trixie_session || exit 1
gw=$DBT_TRIXIE_WORK
# The CLI's sources as this build lists them (headers of its directories come along).
srcs=$(printf 'dbt-print-srcs:\n\t@echo $(dbtrust_SOURCES) $(lib_libdbtrust_la_SOURCES)\n' |
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$build" \
        -f Makefile -f - dbt-print-srcs 2>/dev/null | tail -n 1)
[ -n "$srcs" ] || { echo "Bail out! cannot list dbtrust's sources from $build/Makefile"; exit 1; }
for f in $srcs; do
    mkdir -p "$gw/src/$(dirname "$f")" && cp "$src/$f" "$gw/src/$f" || exit 1
    for h in "$src/$(dirname "$f")"/*.h; do [ -e "$h" ] && cp "$h" "$gw/src/$(dirname "$f")/"; done
done
cp "$build/config.h" "$gw/src/"
csrcs=$(for f in $srcs; do case $f in *.c) printf '/dbt/src/%s ' "$f" ;; esac; done)
cp -a "$pki" "$gw/pki"
cp "$src/tests/lib/tlsprobe.py" "$src/certs/update-ca-certificates-hook" "$gw/"
chmod -R go-w "$gw"
chmod 755 "$gw"
expect "3.5: dbtrust builds in the Debian 13 root" ok "" dbt_trixie_run -- sh -c \
    'gcc -std=gnu11 -O2 -Wall -Wextra -I/dbt/src -I/dbt/src/lib -o /usr/local/bin/dbtrust \
        '"$csrcs"' $(pkg-config --cflags --libs libssl libcrypto jansson libcurl)'
SIDE=trixie S_OSSL=3.5 S_PSQL=/usr/lib/postgresql/17/bin/psql S_DBTRUST=/usr/local/bin/dbtrust
S_PKI=/dbt/pki S_PROBE=/dbt/tlsprobe.py S_HOOK=/dbt/update-ca-certificates-hook
# The root's own default catalog (/etc/dbtrust for root): no --catalog, no environment.
S_CATALOG=/etc/dbtrust S_CATENV=() S_PLANT=/dbt/plant S_DEFDIR=/usr/lib/ssl/certs
run_side "libpq17/3.5"

echo "e2e-system: $passed passed, $failed failed"
[ "$failed" = 0 ]
