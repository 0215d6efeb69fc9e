#!/usr/bin/env bash
# The dbtrust demo: builds dbtrust, then runs the whole flow inside a temporary directory,
# changing nothing on the system: a demo "managed database" PKI shaped like AWS RDS's G1 roots,
# a catalog, the OpenSSL provider, and (as root) a throwaway PostgreSQL with TLS reached by
# libpq 17 with sslrootcert=system through a scoped `dbtrust env`. Binary packages only: libpq 17
# is Debian 13's psql, run on this host's OpenSSL by tests/lib/ossl30-run (a Debian 13 root made
# with debootstrap on the first run, then cached in the build tree's test-cache).
set -euo pipefail
demo_start=$(date +%s)
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
. tests/setup-deps.sh
dbt_setup_deps build

build=${DBTRUST_BUILD:-$top/_build}
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" -q; } && make -s -j"$(nproc)" >/dev/null)
dbtrust=$build/dbtrust

# Nothing from the machine's environment decides what is trusted here.
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
work=$(mktemp -d /tmp/dbtrust-demo.XXXXXX)
chmod 755 "$work"
# One EXIT trap for every cleanup (tests/lib/common.sh): the PostgreSQL helpers below register
# theirs there too, so a trap of the demo's own would be replaced and leave $work behind.
. "$top/tests/lib/common.sh"
dbt_cleanup_push "rm -rf '$work'"
catalog=$work/catalog

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. A managed database's CA bundle (generated: 3 roots like AWS RDS G1, RSA2048/RSA4096/ECC384)"
certs/demo-pki.sh "$work/pki" db.demo.internal >/dev/null
cd "$work"
run "$dbtrust" print pki/demo-bundle.pem

step "2. Import it into a catalog (every certificate, not just the first as keytool does)"
run "$dbtrust" --catalog "$catalog" import --bundle demo-rds pki/demo-bundle.pem
run "$dbtrust" --catalog "$catalog" list

step "3. The catalog's hashed view is what OpenSSL's own lookups read"
run ls "$catalog/certs/"
run openssl verify -CApath "$catalog/certs" -untrusted pki/intermediate.pem pki/server.pem

step "4. The same catalog through the OpenSSL provider, as a dbtrust:// store"
"$dbtrust" --catalog "$catalog" config --module "$build/.libs/dbtrust.so" >"$work/openssl.cnf"
export OPENSSL_CONF=$work/openssl.cnf
run openssl storeutl -noout -certs dbtrust://
run openssl verify -CAstore dbtrust:// -untrusted pki/intermediate.pem pki/server.pem
unset OPENSSL_CONF

step "5. A rotation: re-importing shows what was added and removed"
run "$dbtrust" --catalog "$catalog" import --bundle demo-rds pki/root-rsa2048.pem pki/root-ecc384.pem

if [ "$(id -u)" != 0 ]; then
    step "6. (skipped: the live PostgreSQL part needs root to run a throwaway server)"
    echo "Demo done in $(($(date +%s) - demo_start)) s."
    exit 0
fi
dbt_setup_deps test >/dev/null 2>&1 || dbt_setup_deps test
. "$top/tests/lib/pgserver.sh"
. "$top/tests/lib/libpq17.sh"
step "6. A throwaway PostgreSQL with TLS (certificate for db.demo.internal, via an intermediate)"
dbt_pg_start --ssl pki/server-chain.pem pki/server.key
echo "server on 127.0.0.1:$DBT_PG_PORT"
echo "psql 17 (sslrootcert=system needs libpq 16+): Debian 13's, run on this host's $(openssl version |
    cut -d' ' -f1-2)"
export DBTRUST_CACHE=${DBTRUST_CACHE:-$build/test-cache}
if [ -f "$DBTRUST_CACHE/trixie-root/.dbtrust-ready" ]; then
    echo "reusing the Debian 13 root cached in $DBTRUST_CACHE/trixie-root"
else
    echo "first run: making a Debian 13 root with debootstrap in $DBTRUST_CACHE (binary packages" \
        "from $(dbt_debian_mirror); log: $DBTRUST_CACHE/trixie-build.log)"
fi
t0=$(date +%s)
rc=0
dbt_libpq17_ensure || rc=$?
if [ "$rc" = 77 ]; then
    echo "(the live PostgreSQL part is skipped: see the reason above)"
    exit 0
fi
[ "$rc" = 0 ] || exit "$rc"
echo "psql 17 ready in $(($(date +%s) - t0)) s: $("$DBT_PSQL17" --version)"
conn="host=db.demo.internal hostaddr=127.0.0.1 port=$DBT_PG_PORT user=$DBT_PG_USER dbname=$DBT_PG_DB sslrootcert=system sslmode=verify-full"

step "7. Without dbtrust: sslrootcert=system does not trust the database's CA"
printf '$ psql "%s"\n' "$conn"
SSL_CERT_FILE=/dev/null "$DBT_PSQL17" "$conn" -Atc 'select 1' 2>&1 | sed 's/^/  /' || true

step "8. With a scoped dbtrust env: verify-full succeeds (no system file touched)"
run "$dbtrust" --catalog "$catalog" env
eval "$("$dbtrust" --catalog "$catalog" env)"
printf '$ psql "%s" -c "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()"\n' "$conn"
"$DBT_PSQL17" "$conn" -Atc 'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()'

step "9. Remove the bundle: new connections stop trusting it at once"
run "$dbtrust" --catalog "$catalog" remove --bundle demo-rds
"$DBT_PSQL17" "$conn" -Atc 'select 1' 2>&1 | sed 's/^/  /' || true
echo
echo "Demo done in $(($(date +%s) - demo_start)) s. Everything lived in $work and is removed now."
