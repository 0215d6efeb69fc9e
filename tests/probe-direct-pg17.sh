#!/bin/bash
# dbtrust probe --direct (sslnegotiation=direct: TLS from the first byte, ALPN "postgresql")
# against a real PostgreSQL 17 server, Debian 13's, run in a throwaway session of the cached
# Debian 13 root (tests/lib/trixie.sh) with TLS from the demo PKI: probe says the server accepts
# direct TLS, finds the bundle and passes; the SSLRequest path passes too; Debian 13's psql 17
# with sslnegotiation=direct and verify-full connects to the same server (an independent client
# agreeing that the server accepted direct TLS).
# The root has psql 17 but no server: postgresql-17 is installed once into a layer cached next
# to the root ($DBTRUST_CACHE/trixie-pg17, about 50 s the first time, then reused; the root
# itself is never modified). No network for the packages: skip (77) with the reason.
set -u
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
. "$src/tests/lib/common.sh"
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: the PostgreSQL 17 direct TLS test runs in the normal pass (sanitizer build: the" \
        "direct TLS code is run by tests/cli-probe.sh and tests/cli-probe-causes.sh)"
    exit 77
}
command -v jq >/dev/null || { dbt_skip_reason "jq is not installed (apt-get install jq)"; exit 77; }
. "$src/tests/lib/trixie.sh"
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export LC_ALL=C TZ=UTC
DBTRUST=${DBTRUST:-$build/dbtrust}
DBTRUST=$(cd "$(dirname "$DBTRUST")" && pwd)/$(basename "$DBTRUST")
[ -x "$DBTRUST" ] || { echo "Bail out! no dbtrust binary at $DBTRUST"; exit 1; }
dbt_trixie_ensure || exit $?
root=$DBT_TRIXIE_ROOT
cache=$(dbt_cache_dir) || exit 1
layer=$cache/trixie-pg17

# The layer is an overlay upper directory made on top of this very root: it is rebuilt when the
# root was (its ready marker's time is recorded).
stamp() { stat -c %Y "$root/.dbtrust-ready"; }
layer_ok() { [ -f "$layer/ready" ] && [ "$(cat "$layer/ready")" = "$(stamp)" ] &&
    [ -x "$layer/upper/usr/lib/postgresql/17/bin/postgres" ]; }
build_layer() {
    layer_ok && return 0
    rm -rf "$layer.new" "$layer" && mkdir -p "$layer.new/dbt" || return 1
    (
        DBT_TRIXIE_SESSION=$layer.new DBT_TRIXIE_WORK=$layer.new/dbt
        dbt_trixie_run -- sh -c 'apt-get update -qq >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                postgresql-17 >/dev/null 2>&1 && apt-get clean && rm -rf /var/lib/apt/lists/*'
    ) || { rm -rf "$layer.new"; return 77; }
    mkdir -p "$layer" && mv "$layer.new/upper" "$layer/upper" && rm -rf "$layer.new" &&
        stamp >"$layer/ready"
}
layer_ok || dbt_with_lock "$cache/trixie.lock" build_layer
rc=$?
[ "$rc" = 77 ] && { dbt_skip_reason "cannot install postgresql-17 into the Debian 13 root" \
    "(is the Debian mirror reachable?)"; exit 77; }
[ "$rc" = 0 ] && layer_ok || { echo "Bail out! the PostgreSQL 17 layer could not be made"; exit 1; }
# Sessions see the layer above the root (overlayfs takes a list of lower directories).
DBT_TRIXIE_ROOT=$layer/upper:$root
dbt_trixie_session || exit 1
work=$DBT_TRIXIE_WORK
chmod 755 "$DBT_TRIXIE_SESSION" "$work"
ok "PostgreSQL 17 layer ready: $(dbt_trixie_run -- /usr/lib/postgresql/17/bin/postgres --version)"

host=db.demo.internal
dbt_demo_pki "$work/pki" "$host" >/dev/null || { echo "Bail out! demo PKI failed"; exit 1; }
"$DBTRUST" --catalog "$work/cat" import -q --bundle demo "$work/pki/demo-bundle.pem" ||
    { echo "Bail out! import of the demo bundle"; exit 1; }
mkdir -p "$work/pg" && cp "$work/pki/server-chain.pem" "$work/pki/server.key" "$work/pg/" &&
    chmod 600 "$work/pg/server.key" && chmod 644 "$work/pki/"*.pem
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dbt_trixie_run -- sh -c 'chown -R postgres: /dbt/pg &&
    runuser -u postgres -- /usr/lib/postgresql/17/bin/initdb -D /dbt/pg/data -A trust \
        -U postgres >/dbt/pg/initdb.log 2>&1' ||
    { echo "Bail out! initdb 17 failed: $(tail -5 "$work/pg/initdb.log")"; exit 1; }
dbt_trixie_run -- runuser -u postgres -- /usr/lib/postgresql/17/bin/postgres -D /dbt/pg/data \
    -c listen_addresses=127.0.0.1 -c port="$port" -c unix_socket_directories=/dbt/pg \
    -c ssl=on -c ssl_cert_file=/dbt/pg/server-chain.pem -c ssl_key_file=/dbt/pg/server.key \
    </dev/null >"$work/pg/server.log" 2>&1 &
# The postmaster's pid (no pid namespace: the host's) is in its pid file; stop it by that id.
dbt_cleanup_push "[ -f '$work/pg/data/postmaster.pid' ] && kill -INT \$(head -n 1 '$work/pg/data/postmaster.pid') 2>/dev/null; sleep 0.5"
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
    { echo "Bail out! PostgreSQL 17 did not start: $(tail -5 "$work/pg/server.log")"; exit 1; }

probe_json() { # probe_json FILTER ARGS...: jq FILTER of probe --json ARGS
    local f=$1 out
    shift
    out=$("$DBTRUST" --catalog "$work/cat" probe --json --hostaddr 127.0.0.1 "$@" 2>/dev/null)
    jq -r "$f" <<<"$out"
}
expect "probe --direct: direct TLS accepted, verified by the bundle" ok "direct TLS accepted" \
    "$DBTRUST" --catalog "$work/cat" probe --direct --hostaddr 127.0.0.1 "$host:$port"
expect_eq "probe --direct JSON: ok, accepted, ALPN, mode, bundle" \
    "$(probe_json '[.ok, .direct_accepted, .alpn, .mode, .catalog.bundles] | map(tostring) |
        join(" ")' --direct "$host:$port")" "true true postgresql direct demo"
expect_eq "probe over the SSLRequest: ok, mode" \
    "$(probe_json '[.ok, .mode] | map(tostring) | join(" ")' "$host:$port")" "true sslrequest"
expect_eq "probe --direct with a wrong name: hostname-mismatch only" \
    "$(probe_json '[.causes[] | select(.severity == "problem") | .cause] | join(",")' --direct \
        "wrong.demo.internal:$port")" "hostname-mismatch"
expect "psql 17 with sslnegotiation=direct and verify-full connects to the same server" ok "=t" \
    dbt_trixie_run -- /usr/lib/postgresql/17/bin/psql -X -A -t \
    -c "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" \
    "host=$host hostaddr=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=verify-full
     sslnegotiation=direct sslrootcert=/dbt/pki/demo-bundle.pem"

echo "probe-direct-pg17: $passed passed, $failed failed"
[ "$failed" = 0 ]
