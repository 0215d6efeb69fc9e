#!/usr/bin/env bash
# The real-client matrix: every database client stack of the host reaches a PostgreSQL server
# whose CA is only in the dbtrust catalog (in no system store), through each route dbtrust
# offers it, with full verification (sslmode=verify-full or the client's equivalent):
#   psycopg 3 (Debian 13's python3-psycopg, libpq 17 on OpenSSL 3.5, in the Debian 13 root):
#       sslrootcert=system after `system enable`, and with `dbtrust env`'s SSL_CERT_DIR;
#   pgjdbc (Debian's libpostgresql-jdbc-java on the host's Java) with DefaultJavaSSLFactory:
#       a truststore made by `dbtrust export --format jks`, and the JVM's system truststore
#       after `system enable`;
#   Go (Debian's golang and lib/pq, Go's own verifier): the system directory after `system
#       enable`, and SSL_CERT_DIR from `dbtrust env`;
#   node-postgres (npm pg 8, Node's own OpenSSL): --use-openssl-ca with the system directory
#       and with SSL_CERT_DIR, and NODE_EXTRA_CA_CERTS from `dbtrust env`.
# psql 17 on OpenSSL 3.0 and 3.5 is proven by tests/e2e-system.sh and tests/e2e-scope.sh.
# Each client and route gets four checks, one TAP line each: refused before the import, connects
# after it, refused after the remove (and, for system routes, after `system disable`), refused
# for a second host name that resolves to the server but is not in its certificate. Scoped
# bundles (import --only-for): connects for a name inside the scope, refused outside. Each route
# is proven alone: the system catalog and the env catalog never hold the server's CA at the same
# time. A client x route table and the test's elapsed time close the output.
# The system store is changed only inside a private mount namespace over copies
# (tests/lib/sysiso.sh, which also holds /etc/hosts with the test names) and inside the Debian
# 13 root's throwaway overlay. Clients are built or installed once into the test cache
# (tests/lib/clients.sh). Skips (77) when not root; a client that cannot be had here (mirror or
# npm registry unreachable) has its rows skipped with the reason.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS NODE_OPTIONS DBTRUST_CATALOG OPENSSL_CONF
unset DBTRUST_SYSTEM_CERT_DIR DBTRUST_SYSTEM_STATE DBTRUST_SYSTEM_CERT_FILE DBTRUST_SYSTEM_JVM_STORE
unset JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS GODEBUG
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
export PGCONNECT_TIMEOUT=15 LC_ALL=C
# Taken before the re-execution into the mount namespace, so the elapsed time covers it all.
export DBT_CLIENTS_T0=${DBT_CLIENTS_T0:-$(date +%s%N)}

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
. "$src/tests/lib/common.sh"
# Only the CLI of dbtrust runs here (import, remove, export, env, system enable and disable),
# and those run under ASan+UBSan in tests/cli-system.sh, tests/cli-scope.sh and the export
# tests; the rest is other people's clients.
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: the real-client matrix runs in the normal pass (sanitizer build: dbtrust's part" \
        "of it is in cli-system.sh, cli-scope.sh and the export tests)"
    exit 77
}
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/tests/lib/pgserver.sh"
. "$src/tests/lib/trixie.sh"
. "$src/tests/lib/clients.sh"
. "$src/certs/demo-pki.sh"

DBTRUST=${DBTRUST:-$build/dbtrust}
[ -x "$DBTRUST" ] || { echo "Bail out! no dbtrust binary at $DBTRUST (run make first)"; exit 1; }

. "$src/tests/lib/tap.sh"

work=$(mktemp -d /tmp/dbt-e2e-clients.XXXXXX) || exit 1
chmod 755 "$work"
dbt_cleanup_push "rm -rf '$work'"
dbt_sysiso_setup "$work/iso" || { echo "Bail out! could not isolate the system trust store"; exit 1; }
ok "system trust store isolated: /etc/ssl/certs and friends are copies in a mount namespace"

# The server's name and a second name for the same address that its certificate does not hold.
host=db.demo.internal wrong=wrong.demo.internal
if ! { cp /etc/hosts "$work/hosts" && printf '127.0.0.1 %s %s\n' "$host" "$wrong" >>"$work/hosts" &&
    mount --bind "$work/hosts" /etc/hosts; }; then
    echo "Bail out! cannot put the test names into /etc/hosts in the mount namespace"
    exit 1
fi
resolved() { getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }'; }
expect_eq "both test names resolve to 127.0.0.1 (private /etc/hosts)" \
    "$(resolved "$host") $(resolved "$wrong")" "127.0.0.1 127.0.0.1"

pki=$work/pki
dbt_demo_pki "$pki" "$host" || { echo "Bail out! certs/demo-pki.sh $pki failed"; exit 1; }
chmod 755 "$pki" && chmod 644 "$pki"/*.pem
dbt_pg_start --ssl "$pki/server-chain.pem" "$pki/server.key" || exit $?
pg_port=$DBT_PG_PORT
CAT_SYS=$work/cat-sys CAT_ENV=$work/cat-env

# --- the rows of the matrix ----------------------------------------------------------------
# A row is one client through one route: R_CLIENT (go, node, jdbc, psycopg), R_KIND (sys: the
# system store that `system enable` wires; env: a route that names the catalog), a title, and a
# skip reason when the client or the route is not available.
ROWS=()
declare -A R_CLIENT R_KIND R_TITLE R_ROUTE R_SKIP CELL
row() {
    ROWS+=("$1")
    R_CLIENT[$1]=$2 R_KIND[$1]=$3 R_TITLE[$1]=$4 R_ROUTE[$1]=$5
}
row psy_sys psycopg sys "psycopg 3 (libpq 17, OpenSSL 3.5)" "system enable, sslrootcert=system"
row psy_env psycopg env "psycopg 3 (libpq 17, OpenSSL 3.5)" "dbtrust env (SSL_CERT_DIR), sslrootcert=system"
row jdbc_ts jdbc env "pgjdbc (DefaultJavaSSLFactory)" "export --format jks + javax.net.ssl.trustStore"
row jdbc_jvm jdbc sys "pgjdbc (DefaultJavaSSLFactory)" "system enable, JVM system truststore"
row go_sys go sys "Go lib/pq (crypto/x509)" "system enable, /etc/ssl/certs"
row go_env go env "Go lib/pq (crypto/x509)" "dbtrust env (SSL_CERT_DIR)"
row node_sys node sys "node-postgres (Node's OpenSSL)" "system enable, --use-openssl-ca"
row node_env node env "node-postgres (Node's OpenSSL)" "dbtrust env (SSL_CERT_DIR), --use-openssl-ca"
row node_extra node env "node-postgres (Node's OpenSSL)" "dbtrust env (NODE_EXTRA_CA_CERTS)"

# What each client says when it refuses: no trusted issuer, a name not in the certificate, a
# name outside a scope's constraint (libpq says only "certificate verify failed").
declare -A F_UNTRUSTED=([psycopg]="certificate verify failed" [jdbc]="PKIX path building failed"
    [go]="certificate signed by unknown authority" [node]="unable to get local issuer certificate")
declare -A F_HOST=([psycopg]="does not match host name" [jdbc]="could not be verified by hostnameverifier"
    [go]="not $wrong" [node]="does not match certificate's altnames")
declare -A F_SCOPE=([psycopg]="certificate verify failed" [go]="not permitted by any constraint"
    [node]="permitted subtree violation")

# skip_client CLIENT REASON: every row of CLIENT is skipped with REASON.
skip_client() {
    local r
    for r in "${ROWS[@]}"; do
        [ "${R_CLIENT[$r]}" = "$1" ] && [ -z "${R_SKIP[$r]:-}" ] && R_SKIP[$r]=$2
    done
}
# ensure CLIENT CMD...: runs a client's setup; 77 skips the client's rows with the printed
# reason, another failure is a failed check and skips them too.
ensure() {
    local c=$1 rc why
    shift
    "$@" 2>"$work/ensure-$c.err"
    rc=$?
    cat "$work/ensure-$c.err" >&2
    if [ "$rc" = "$DBT_SKIP" ]; then
        why=$(sed -n 's/^SKIP: //p' "$work/ensure-$c.err" | tail -n 1)
        skip_client "$c" "$why"
        echo "ok - $c: client available # SKIP $why"
    elif [ "$rc" != 0 ]; then
        not_ok "$c: client setup failed: $(tail -n 5 "$work/ensure-$c.err")"
        skip_client "$c" "its setup failed (see the not ok line above)"
    else
        ok "$c: client available"
    fi
}

ensure go dbt_clients_go_ensure "$src/tests/lib/clients-go.go"
ensure jdbc dbt_clients_jdbc_ensure "$src/tests/lib/clients-jdbc.java"
ensure node dbt_clients_node_ensure
[ -z "${R_SKIP[go_sys]:-}" ] &&
    expect "go: built by $(go version | awk '{ print $3 }') with lib/pq $(dbt_clients_pkgver \
        golang-github-lib-pq-dev)" ok "" test -x "$DBT_CLIENTS_GO"
[ -z "${R_SKIP[jdbc_ts]:-}" ] &&
    expect "jdbc: pgjdbc $(dbt_clients_pkgver libpostgresql-jdbc-java) on $(java -version 2>&1 |
        head -n 1)" ok "" test -r "$DBT_CLIENTS_JDBC_JAR"
[ -z "${R_SKIP[node_sys]:-}" ] &&
    expect "node: node-postgres $(node -p "require('$DBT_CLIENTS_NODE_PATH/pg/package.json').version" \
        2>&1) on Node $(node --version), OpenSSL $(node -p process.versions.openssl)" ok "" \
        test -d "$DBT_CLIENTS_NODE_PATH/pg"

# The Debian 13 root for psycopg: the host's dbtrust runs there on the root's OpenSSL 3.5 (it
# needs only OPENSSL_3.0.0 symbols and an older glibc), so `system enable` acts on the root's
# own default directory.
have_root=1
dbt_trixie_ensure 2>"$work/trixie.err"
rc=$?
cat "$work/trixie.err" >&2
if [ "$rc" = "$DBT_SKIP" ]; then
    have_root=0
    skip_client psycopg "no Debian 13 root: $(sed -n 's/^SKIP: //p' "$work/trixie.err" | tail -n 1)"
elif [ "$rc" != 0 ]; then
    echo "Bail out! cannot make the Debian 13 root (tests/lib/trixie.sh)"
    exit 1
else
    dbt_trixie_session || exit 1
    cp "$DBTRUST" "$DBT_TRIXIE_WORK/dbtrust" || exit 1
    chmod 755 "$DBT_TRIXIE_WORK"
    expect "psycopg: python3-psycopg on libpq 17 and OpenSSL 3.5 in the Debian 13 root" ok \
        "libpq 17, OpenSSL 3.5." dbt_trixie_run -- python3 -c 'import psycopg, ssl
print("psycopg", psycopg.__version__, "on libpq %d," % (psycopg.pq.version() // 10000),
      ssl.OPENSSL_VERSION)' ||
        skip_client psycopg "psycopg is not usable in the Debian 13 root (see the not ok line)"
    expect "psycopg: the host's dbtrust runs in the Debian 13 root" ok "dbtrust" \
        dbt_trixie_run -- /dbt/dbtrust --version ||
        skip_client psycopg "the host's dbtrust does not run in the Debian 13 root"
fi
RCAT_SYS=/etc/dbtrust RCAT_ENV=/dbt/cat-env

# --- the clients, each given the name to connect to ----------------------------------------
conninfo() { echo "host=$1 port=$pg_port user=$DBT_PG_USER dbname=$DBT_PG_DB sslmode=verify-full connect_timeout=15${2:-}"; }
jdbc_url() {
    echo "jdbc:postgresql://$1:$pg_port/$DBT_PG_DB?user=$DBT_PG_USER&sslmode=verify-full&connectTimeout=15${2-&sslfactory=org.postgresql.ssl.DefaultJavaSSLFactory}"
}
c_go() { timeout 60 "$DBT_CLIENTS_GO" "$(conninfo "$1" "${2:-}")"; }
c_node() {
    local o=()
    [ "$2" = openssl-ca ] && o=(--use-openssl-ca)
    shift 2
    timeout 60 env NODE_PATH="$DBT_CLIENTS_NODE_PATH" node "${o[@]}" "$src/tests/lib/clients-node.js" "$@"
}
c_jdbc() {
    timeout 60 java -XX:TieredStopAtLevel=1 "${@:2}" -cp "$DBT_CLIENTS_JDBC_CP" ClientsJdbc "$1"
}
PSY='import sys, psycopg
try:
    with psycopg.connect(sys.argv[1]) as c:
        ssl = c.execute("select ssl from pg_stat_ssl where pid = pg_backend_pid()").fetchone()[0]
        print("connected ssl=%s" % str(ssl).lower())
        sys.exit(0 if ssl else 1)
except psycopg.Error as e:
    print("error: %s" % e)
    sys.exit(1)'
# psycopg is libpq: hostaddr gives the address, host the name to verify.
c_psy() { timeout 60 python3 -c "$PSY" "$(conninfo "$1" " hostaddr=127.0.0.1 sslrootcert=system")"; }

# via_env CATALOG VAR... -- CMD...: CMD in a shell that evaluated `dbtrust env` (as a profile
# does), then unset the VARs (the other routes' variables, so that one route is proven alone).
via_env() {
    local cat=$1 drop=(SSL_CERT_FILE)
    shift
    while [ "$1" != -- ]; do drop+=("$1"); shift; done
    shift
    # shellcheck disable=SC2016
    sh -c 'd=$1 c=$2 u=$3; shift 3; e=$("$d" --catalog "$c" env) || exit 1; eval "$e"
        unset $u; exec "$@"' sh "$DBTRUST" "$cat" "${drop[*]}" "$@"
}
run_go_sys() { c_go "$1"; }
run_go_env() { via_env "$CAT_ENV" NODE_EXTRA_CA_CERTS -- "$DBT_CLIENTS_GO" "$(conninfo "$1")"; }
run_node_sys() { c_node "$1" openssl-ca "$1" "$pg_port" "$DBT_PG_USER" "$DBT_PG_DB"; }
run_node_env() {
    via_env "$CAT_ENV" NODE_EXTRA_CA_CERTS -- env NODE_PATH="$DBT_CLIENTS_NODE_PATH" node \
        --use-openssl-ca "$src/tests/lib/clients-node.js" "$1" "$pg_port" "$DBT_PG_USER" "$DBT_PG_DB"
}
run_node_extra() {
    via_env "$CAT_ENV" SSL_CERT_DIR -- env NODE_PATH="$DBT_CLIENTS_NODE_PATH" node \
        "$src/tests/lib/clients-node.js" "$1" "$pg_port" "$DBT_PG_USER" "$DBT_PG_DB"
}
# The truststore is made from the catalog for each connection, as a deployment would after
# each catalog change.
run_jdbc_ts() {
    "$DBTRUST" --catalog "$CAT_ENV" export --format jks "$work/trust.jks" || return 1
    c_jdbc "$(jdbc_url "$1")" -Djavax.net.ssl.trustStore="$work/trust.jks" \
        -Djavax.net.ssl.trustStorePassword=changeit -Djavax.net.ssl.trustStoreType=JKS
}
run_jdbc_jvm() { c_jdbc "$(jdbc_url "$1")"; }
run_psy_sys() { dbt_trixie_run -- python3 -c "$PSY" "$(conninfo "$1" " hostaddr=127.0.0.1 sslrootcert=system")"; }
run_psy_env() {
    # shellcheck disable=SC2016
    dbt_trixie_run -- sh -c 'e=$(/dbt/dbtrust --catalog "$1" env) || exit 1; eval "$e"
        unset SSL_CERT_FILE; shift; exec python3 -c "$@"' sh "$RCAT_ENV" "$PSY" \
        "$(conninfo "$1" " hostaddr=127.0.0.1 sslrootcert=system")"
}

# --- checks ----------------------------------------------------------------------------------
COLS=(before import wrong removed disabled inside outside)
declare -A COL_TITLE=([before]="refused before import" [import]="connects after import"
    [wrong]="refused for a wrong host name" [removed]="refused after remove"
    [disabled]="refused after system disable" [inside]="scoped: connects inside the scope"
    [outside]="scoped: refused outside the scope")
# cell ROW COLUMN ok|FAILKIND: runs ROW's client through its route (to the wrong name for the
# wrong column) and records the outcome. ok wants a verified TLS connection; a FAILKIND
# (untrusted, host, scope) wants a refusal that gives that reason.
cell() {
    local r=$1 col=$2 want=$3 name=$host title out rc pat
    [ "$col" = wrong ] && name=$wrong
    title="${R_TITLE[$r]}, ${R_ROUTE[$r]}: ${COL_TITLE[$col]}"
    if [ -n "${R_SKIP[$r]:-}" ]; then
        echo "ok - $title # SKIP ${R_SKIP[$r]}"
        CELL[$r,$col]=skip
        return 0
    fi
    out=$("run_$r" "$name" 2>&1)
    rc=$?
    case $want in
    ok) pat="connected ssl=true" ;;
    untrusted) pat=${F_UNTRUSTED[${R_CLIENT[$r]}]} ;;
    host) pat=${F_HOST[${R_CLIENT[$r]}]} ;;
    scope) pat=${F_SCOPE[${R_CLIENT[$r]}]} ;;
    esac
    if { [ "$want" = ok ] && [ "$rc" = 0 ]; } || { [ "$want" != ok ] && [ "$rc" != 0 ]; } &&
        grep -qF -- "$pat" <<<"$out"; then
        ok "$title"
        CELL[$r,$col]=ok
        [ "$want" != ok ] && echo "# $r: $(grep -m1 -F -- "$pat" <<<"$out" | cut -c1-300)"
    else
        not_ok "$title: wanted ${want/ok/a verified connection} ('$pat'), exit status $rc; output: ${out:0:1500}"
        CELL[$r,$col]=FAIL
    fi
}
# each KIND COLUMN WANT: cell for every row of KIND (sys, env).
each() {
    local r
    for r in "${ROWS[@]}"; do [ "${R_KIND[$r]}" = "$1" ] && cell "$r" "$2" "$3"; done
}

# dbtrust on every catalog of a KIND (sys, env): the host's and, when present, the root's.
dbt_host() { expect "host: dbtrust $*" ok "" "$DBTRUST" "$@"; }
dbt_root() {
    [ "$have_root" = 1 ] && [ -z "${R_SKIP[psy_sys]:-}" ] || return 0
    expect "Debian 13 root: dbtrust $*" ok "" dbt_trixie_run -- /dbt/dbtrust "$@"
}
dbt_kind() {
    local kind=$1 hc=$CAT_SYS rc=$RCAT_SYS
    shift
    [ "$kind" = env ] && hc=$CAT_ENV rc=$RCAT_ENV
    dbt_host --catalog "$hc" "$@"
    # The root's dbtrust reads the PKI through /dbt.
    dbt_root --catalog "$rc" "${@//$pki//dbt/pki}"
}
[ "$have_root" = 1 ] && { cp -a "$pki" "$DBT_TRIXIE_WORK/pki" || exit 1; }

# --- the main matrix -------------------------------------------------------------------------
# Every catalog holds an unrelated CA throughout (exports need one certificate at least).
dbt_kind sys import --bundle other "$pki/other-root.pem"
dbt_kind env import --bundle other "$pki/other-root.pem"
dbt_kind sys system enable

# Route (b) of pgjdbc needs `system enable` to keep the JVM truststore in step; a dbtrust
# whose status does not mention it has no such wiring, and the row is skipped, not failed.
status=$("$DBTRUST" --catalog "$CAT_SYS" system status 2>&1)
jvm_line=$(grep -i -m1 'jvm truststore' <<<"$status")
if [ -z "$jvm_line" ]; then
    R_SKIP[jdbc_jvm]="this dbtrust's system enable does not wire the JVM truststore (system status names no JVM store)"
elif grep -q ': none' <<<"$jvm_line"; then
    R_SKIP[jdbc_jvm]="no JVM truststore to wire here: $jvm_line"
else
    echo "# $jvm_line"
fi
# NODE_EXTRA_CA_CERTS is a route only when `dbtrust env` prints it.
if [ -z "${R_SKIP[node_extra]:-}" ] &&
    ! "$DBTRUST" --catalog "$CAT_ENV" env | grep -q '^export NODE_EXTRA_CA_CERTS='; then
    R_SKIP[node_extra]="this dbtrust env prints no NODE_EXTRA_CA_CERTS"
fi

each sys before untrusted
each env before untrusted

# The env routes alone: the system catalog does not hold the server's CA meanwhile.
dbt_kind env import --bundle demo "$pki/demo-bundle.pem"
each env import ok
each env wrong host
dbt_kind env remove --bundle demo
each env removed untrusted

# The system routes alone.
dbt_kind sys import --bundle demo "$pki/demo-bundle.pem"
each sys import ok
each sys wrong host

# What the clients do with libpq's sslrootcert=system, which only libpq 16+ knows (recorded in
# the report below the table): lib/pq, pgjdbc's default LibPQFactory and node-postgres read it
# as a file name.
note() {
    local title=$1 pat=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != 0 ] && grep -qF -- "$pat" <<<"$out"; then
        ok "$title"
        NOTES+=("$title: $(grep -m1 -F -- "$pat" <<<"$out" | cut -c1-200)")
    else
        not_ok "$title: wanted a failure with '$pat', exit status $rc; output: ${out:0:1000}"
    fi
}
NOTES=()
[ -z "${R_SKIP[go_sys]:-}" ] &&
    note "Go lib/pq: sslrootcert=system is read as a file name" "open system: no such file" \
        c_go "$host" " sslrootcert=system"
[ -z "${R_SKIP[jdbc_ts]:-}" ] &&
    note "pgjdbc LibPQFactory (the default): sslrootcert=system is read as a file name" \
        "Could not open SSL root certificate file system" \
        c_jdbc "$(jdbc_url "$host" "&sslrootcert=system")"
[ -z "${R_SKIP[node_sys]:-}" ] && {
    note "node-postgres: sslrootcert=system in a URL is read as a file name" \
        "no such file or directory, open 'system'" c_node "$host" openssl-ca \
        "postgresql://$DBT_PG_USER@$host:$pg_port/$DBT_PG_DB?sslmode=verify-full&sslrootcert=system"
    expect "node-postgres: sslmode=verify-full in a URL verifies (system route)" ok \
        "connected ssl=true" c_node "$host" openssl-ca \
        "postgresql://$DBT_PG_USER@$host:$pg_port/$DBT_PG_DB?sslmode=verify-full"
    expect "node-postgres: sslmode=verify-full in a URL checks the name (system route)" fail \
        "${F_HOST[node]}" c_node "$wrong" openssl-ca \
        "postgresql://$DBT_PG_USER@$wrong:$pg_port/$DBT_PG_DB?sslmode=verify-full"
}

dbt_kind sys remove --bundle demo
each sys removed untrusted
dbt_kind sys import --bundle demo "$pki/demo-bundle.pem"
dbt_kind sys system disable
each sys disabled untrusted

# --- scoped bundles ----------------------------------------------------------------------
# The server's name is inside the scope demo.internal and outside other.test. pgjdbc is left
# out by design: a scope is served only through OpenSSL's default trust, never in a truststore.
R_SKIP_SAVED_JDBC_TS=${R_SKIP[jdbc_ts]:-}
R_SKIP[jdbc_ts]="scoped bundles never go into a Java truststore (Java ignores constraints on anchors)"
R_SKIP_SAVED_JDBC_JVM=${R_SKIP[jdbc_jvm]:-}
R_SKIP[jdbc_jvm]=${R_SKIP[jdbc_ts]}
dbt_kind sys remove --bundle demo
dbt_kind env import --bundle demo --only-for demo.internal "$pki/demo-bundle.pem"
each env inside ok
dbt_kind env import --bundle demo --only-for other.test "$pki/demo-bundle.pem"
each env outside scope
dbt_kind env remove --bundle demo
dbt_kind sys import --bundle demo --only-for demo.internal "$pki/demo-bundle.pem"
dbt_kind sys system enable
each sys inside ok
# The JVM store never takes a scoped bundle: Java would trust it for every name.
[ -z "$R_SKIP_SAVED_JDBC_JVM" ] &&
    expect "pgjdbc, JVM system truststore: a scoped bundle is left out (refused even inside its scope)" \
        fail "${F_UNTRUSTED[jdbc]}" run_jdbc_jvm "$host"
dbt_kind sys import --bundle demo --only-for other.test "$pki/demo-bundle.pem"
each sys outside scope
dbt_kind sys system disable
SCOPE_SKIP_JDBC=${R_SKIP[jdbc_ts]}
R_SKIP[jdbc_ts]=$R_SKIP_SAVED_JDBC_TS R_SKIP[jdbc_jvm]=$R_SKIP_SAVED_JDBC_JVM

# --- the table ---------------------------------------------------------------------------
echo "#"
echo "# client x route (ok / FAIL / skip; - = does not apply)"
printf '# %-36s %-48s' client route
for c in "${COLS[@]}"; do printf ' %-9s' "$c"; done
echo
printf '# %-36s %-48s %s\n' "psql 17 (libpq 17, OpenSSL 3.0)" "system enable / dbtrust env / lazy / bundle file" \
    "covered by e2e-system.sh (scoped: e2e-scope.sh)"
printf '# %-36s %-48s %s\n' "psql 17 (libpq 17, OpenSSL 3.5)" "system enable / dbtrust env / lazy / bundle file" \
    "covered by e2e-system.sh (scoped: e2e-scope.sh)"
reasons=()
for r in "${ROWS[@]}"; do
    printf '# %-36s %-48s' "${R_TITLE[$r]}" "${R_ROUTE[$r]}"
    for c in "${COLS[@]}"; do
        v=${CELL[$r,$c]:--}
        [ "$c" = disabled ] && [ "${R_KIND[$r]}" = env ] && v=-
        printf ' %-9s' "$v"
    done
    echo
    [ -n "${R_SKIP[$r]:-}" ] && reasons+=("${R_TITLE[$r]}, ${R_ROUTE[$r]}: skipped: ${R_SKIP[$r]}")
done
reasons+=("pgjdbc, scoped: skipped: $SCOPE_SKIP_JDBC")
for x in "${reasons[@]}" "${NOTES[@]}"; do echo "# $x"; done
elapsed=$((($(date +%s%N) - DBT_CLIENTS_T0) / 1000000))
echo "# e2e-clients: elapsed $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000))) s"
echo "e2e-clients: $passed passed, $failed failed"
[ "$failed" = 0 ]
