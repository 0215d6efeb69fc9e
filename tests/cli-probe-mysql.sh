#!/bin/bash
# dbtrust probe mysql:// and the real MariaDB client against a real MariaDB server (Debian's
# mariadb-server, a throwaway instance in a temporary data directory on a private port) with TLS
# from the demo PKI. The mariadb client is given no CA at all (--ssl-verify-server-cert only), so
# it can only use OpenSSL's default verify paths: it fails before the import, connects through
# `dbtrust system enable` and through `dbtrust env`, fails again after the bundle is removed and
# for a name the certificate does not hold; it also follows SSL_CERT_FILE. probe mysql:// gives
# the same verdict each time, and names the cause when the server sends no intermediate or an
# expired certificate (the same server, its certificate swapped with FLUSH SSL).
# Runs as root in a private mount namespace (tests/lib/sysiso.sh): /etc/ssl/certs and the state
# under /var/lib are copies, /etc/hosts a copy that maps the test names to 127.0.0.1.
set -u
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
. "$src/tests/lib/common.sh"
# Only the CLI's process runs dbtrust code here, and tests/test_probe_mysql feeds the greeting
# parser hostile bytes in both passes; the rest is mariadbd and the mariadb client.
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: the MariaDB server test runs in the normal pass (sanitizer build: the greeting" \
        "parser is in tests/test_probe_mysql)"
    exit 77
}
for t in mariadbd:/usr/sbin/mariadbd mariadb-install-db:mariadb-install-db mariadb:mariadb; do
    command -v "${t#*:}" >/dev/null 2>&1 && continue
    dbt_skip_reason "${t%%:*} is not installed (apt-get install mariadb-server mariadb-client)"
    exit 77
done
command -v jq >/dev/null || { dbt_skip_reason "jq is not installed (apt-get install jq)"; exit 77; }
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export LC_ALL=C TZ=UTC

DBTRUST=${DBTRUST:-$build/dbtrust}
DBTRUST=$(cd "$(dirname "$DBTRUST")" && pwd)/$(basename "$DBTRUST")
[ -x "$DBTRUST" ] || { echo "Bail out! no dbtrust binary at $DBTRUST"; exit 1; }
work=$(mktemp -d /tmp/dbt-probe-mysql.XXXXXX) || exit 1
dbt_cleanup_push "rm -rf '$work'"
cd "$work" || exit 1
dbt_sysiso_setup "$work/iso" || { echo "Bail out! could not isolate the system trust store"; exit 1; }
host=db.demo.internal
export host # the client function runs in child shells too
{ cat /etc/hosts; echo "127.0.0.1 $host wrong.demo.internal"; } >hosts &&
    mount --bind "$work/hosts" /etc/hosts ||
    { echo "Bail out! cannot map $host in a private /etc/hosts"; exit 1; }
export DBTRUST_CATALOG=$work/cat
dbt_demo_pki "$work/pki" "$host" >/dev/null || { echo "Bail out! demo PKI failed"; exit 1; }
pki=$work/pki

# ---- the server: a fresh data directory, TLS from files that FLUSH SSL rereads ----
mkdir tls && cp "$pki/server-chain.pem" tls/cert.pem && cp "$pki/server.key" tls/key.pem
mariadb-install-db --no-defaults --datadir="$work/data" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >install.log 2>&1 ||
    { echo "Bail out! mariadb-install-db failed: $(tail -5 install.log)"; exit 1; }
export port
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/mariadbd --no-defaults --datadir="$work/data" --user=root --port="$port" \
    --bind-address=127.0.0.1 --socket="$work/sock" --pid-file="$work/pid" --skip-log-bin \
    --skip-name-resolve --innodb-buffer-pool-size=8M --log-error="$work/server.log" \
    --ssl-cert="$work/tls/cert.pem" --ssl-key="$work/tls/key.pem" </dev/null >/dev/null 2>&1 &
dbt_cleanup_push "kill $! 2>/dev/null; wait $! 2>/dev/null"
for _ in $(seq 150); do [ -S "$work/sock" ] && break; sleep 0.1; done
admin() { mariadb --no-defaults -S "$work/sock" -uroot -N -e "$1"; }
admin "CREATE USER probe@'%' IDENTIFIED BY 'pw' REQUIRE SSL" ||
    { echo "Bail out! the MariaDB server did not start: $(tail -5 server.log)"; exit 1; }
ok "MariaDB server with TLS: $(admin 'SELECT VERSION()'), $(admin "SELECT @@version_ssl_library")"
# serve CHAIN KEY: the server's certificate from now on.
serve() { cp "$1" tls/cert.pem && cp "$2" tls/key.pem && admin "FLUSH SSL"; }

# The client under test: no CA given, so the default verify paths are all it has.
client() {
    mariadb --no-defaults -h "${NAME:-$host}" -P "$port" -u probe -ppw \
        --ssl-verify-server-cert -N -e "SELECT 'connected'"
}
probe() { "$DBTRUST" probe "$@"; }
probe_json() { # probe_json FILTER ARGS...: runs probe --json, prints jq FILTER of its output
    local f=$1 out
    shift
    out=$("$DBTRUST" probe --json "$@" 2>/dev/null)
    jq -r "$f" <<<"$out"
}
ok "client: $(mariadb --version)"

# ---- before anything: no CA anywhere ----
expect "mariadb fails before the import" fail "unable to get local issuer certificate" client
expect "probe mysql:// fails before the import, naming the CA and the fetch" fail \
    "needs 'Demo RDS us-east-1 Root CA RSA2048 G1': run dbtrust fetch aws-rds" \
    probe --catalog "$work/nocat" "mysql://$host:$port"
expect "probe speaks the MySQL upgrade (server version from the greeting)" fail \
    "MySQL SSL request, server 5.5.5-" probe "mysql://$host:$port"
expect_eq "probe JSON: the cause is ca-missing" \
    "$(probe_json '[.causes[] | select(.severity == "problem") | .cause] | join(",")' \
        "mysql://$host:$port")" "ca-missing"

# ---- mariadb reads OpenSSL's SSL_CERT_FILE: the fallback is OpenSSL's default paths ----
expect "mariadb follows SSL_CERT_FILE (OpenSSL's default file)" ok "connected" \
    env SSL_CERT_FILE="$pki/demo-bundle.pem" bash -c "$(declare -f client); client"
expect "mariadb follows SSL_CERT_DIR (OpenSSL's default directory)" ok "connected" \
    env SSL_CERT_DIR="$work/hashed" bash -c "mkdir -p '$work/hashed' &&
        cp '$pki/root-rsa2048.pem' '$work/hashed/' && openssl rehash '$work/hashed' &&
        $(declare -f client); client"

# ---- import alone changes nothing for mariadb; probe says what enable would do ----
expect "import the demo bundle" ok "" "$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem"
expect "mariadb still fails after import alone" fail "unable to get local issuer" client
expect "probe: verified by the catalog, succeeds once wired in" ok \
    "succeeds once the catalog is wired in (dbtrust system enable)" probe "mysql://$host:$port"

# ---- dbtrust env: SSL_CERT_DIR for one shell ----
expect "mariadb connects through dbtrust env" ok "connected" \
    bash -c "eval \"\$('$DBTRUST' env)\" && $(declare -f client); client"

# ---- dbtrust system enable: the default paths themselves ----
expect "system enable" ok "" "$DBTRUST" system enable
expect "mariadb connects through system enable" ok "connected" client
expect "probe: the default trust store verifies the chain" ok \
    "the default trust store verifies the chain" probe "mysql://$host:$port"
expect_eq "probe JSON: ok, system verified, bundle demo" \
    "$(probe_json '[.ok, .system.verified, .catalog.bundles, .protocol, (.chain | length)] |
        map(tostring) | join(" ")' "mysql://$host:$port")" "true true demo mysql 2"
expect_eq "probe --protocol mysql with a bare HOST:PORT" \
    "$(probe_json .ok --protocol mysql "$host:$port")" "true"

# ---- a name the certificate does not hold ----
expect "mariadb fails for a wrong host name" fail "" env NAME=wrong.demo.internal \
    bash -c "$(declare -f client); client"
expect "probe: host name mismatch for the wrong name" fail "host name mismatch" \
    probe "mysql://wrong.demo.internal:$port"
expect_eq "probe JSON: the only problem is hostname-mismatch" \
    "$(probe_json '[.causes[] | select(.severity == "problem") | .cause] | join(",")' \
        "mysql://wrong.demo.internal:$port")" "hostname-mismatch"

# ---- the server sends no intermediate ----
serve "$pki/server.pem" "$pki/server.key" || not_ok "FLUSH SSL with the leaf alone"
expect "mariadb fails when the server sends no intermediate" fail "" client
expect "probe: the server must send the intermediate" fail \
    "the server sent only its own certificate: if 'L=Seattle,CN=Demo RDS us-east-1 Subordinate" \
    probe "mysql://$host:$port"
expect_eq "probe JSON: ca-missing and intermediate-not-sent" \
    "$(probe_json '[.causes[].cause] | join(",")' "mysql://$host:$port")" \
    "ca-missing,intermediate-not-sent"

# ---- an expired server certificate ----
serve "$pki/expired-server-chain.pem" "$pki/expired-server.key" || not_ok "FLUSH SSL (expired)"
expect "mariadb fails on the expired certificate" fail "" client
expect "probe: expired, with the date and who must fix it" fail \
    "the server certificate '$host' expired on 2021-01-01: the server must install a renewed" \
    probe "mysql://$host:$port"
expect_eq "probe JSON: the problem is expired" \
    "$(probe_json '[.causes[] | select(.severity == "problem") | .cause] | join(",")' \
        "mysql://$host:$port")" "expired"

# ---- remove: the system store follows ----
serve "$pki/server-chain.pem" "$pki/server.key" || not_ok "FLUSH SSL (good chain again)"
expect "mariadb connects again with the good chain" ok "connected" client
expect "remove the demo bundle" ok "" "$DBTRUST" remove --bundle demo
expect "mariadb fails after remove" fail "unable to get local issuer" client
expect "probe fails after remove" fail "no trusted CA for this chain" probe "mysql://$host:$port"

# ---- the wrong protocol on each side ----
expect "probe postgresql:// on the MySQL port points at mysql://" fail \
    "probe mysql://$host:$port if it is MySQL or MariaDB" probe --timeout 5 "$host:$port"

echo "cli-probe-mysql: $passed passed, $failed failed"
[ "$failed" = 0 ]
