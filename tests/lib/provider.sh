# Shared setup of the provider tests (tests/provider-*.sh): a work directory, an openssl.cnf
# made by the same code `dbtrust config` prints (lib/osslcnf.c through tests/test_provider_cnf),
# OPENSSL_MODULES at the built dbtrust.so, the demo PKI, and TAP-style assertions.
# Sourceable from bash; defines dbt_prov_* functions, expect/ok/not_ok and the variables below.

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DBT_PROV_SRC=${DBTRUST_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DBT_PROV_BUILD=${DBTRUST_BUILDDIR:-$PWD}
MKCATALOG=$DBT_PROV_SRC/tests/lib/mkcatalog.sh
passed=0
failed=0
# A command prefix for expect (e.g. a run inside the Debian 13 root); empty: run on this host.
DBT_PROV_RUN=()
# With DBT_PROV_MEMCHECK=1 every command expect runs goes through valgrind memcheck (exit 99 on
# an invalid access or a leak); tests/provider-memcheck.sh sets it.
DBT_PROV_WRAP=()
DBT_PROV_TIMEOUT=30
if [ -n "${DBT_PROV_MEMCHECK:-}" ]; then
    DBT_PROV_WRAP=(valgrind -q --trace-children=yes --error-exitcode=99 --leak-check=full
        --errors-for-leak-kinds=definite,indirect
        --suppressions="$(dirname "${BASH_SOURCE[0]}")/../provider.supp")
    DBT_PROV_TIMEOUT=300
fi

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# expect NAME ok|fail|any PATTERN CMD...: runs CMD (30 s at most: a hang is a failure) and checks
# its exit status and that stdout+stderr contain PATTERN (fixed string; empty = anything). A crash
# (signal) fails every way: the host process must always exit normally. "any" is for OpenSSL 3.0
# storeutl, which prints a failed load()'s errors but still exits 0.
expect() {
    local name=$1 want=$2 pat=$3 out rc
    shift 3
    out=$("${DBT_PROV_RUN[@]}" timeout "$DBT_PROV_TIMEOUT" "${DBT_PROV_WRAP[@]}" "$@" 2>&1)
    rc=$?
    if [ $rc = 99 ] && [ ${#DBT_PROV_WRAP[@]} -gt 0 ]; then
        not_ok "$name: ${DBT_PROV_WRAP[0]} reported errors; output: $out"
    elif [ $rc -ge 124 ]; then
        not_ok "$name: hung or crashed (exit status $rc); output: $out"
    elif { [ "$want" = ok ] && [ $rc -ne 0 ]; } || { [ "$want" = fail ] && [ $rc -eq 0 ]; }; then
        not_ok "$name: exit status $rc, wanted $want; output: $out"
    elif [ -n "$pat" ] && ! grep -qF -- "$pat" <<<"$out"; then
        not_ok "$name: output lacks '$pat'; output: $out"
    else
        ok "$name"
    fi
}

# expect_eq NAME WANTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: wanted '$2', got '$3'"; fi
}

# Ends the test: exit 1 when an assertion failed.
dbt_prov_done() {
    echo "# $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# dbt_prov_setup NAME: work directory $W (removed at exit), $CAT the catalog path the config
# names, OPENSSL_CONF/OPENSSL_MODULES exported, trust variables unset.
dbt_prov_setup() {
    local cnfprog=$DBT_PROV_BUILD/tests/test_provider_cnf
    unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
    export LC_ALL=C
    if [ ! -f "${DBTRUST_MODULE:-$DBT_PROV_BUILD/.libs/dbtrust.so}" ]; then
        dbt_error "dbtrust.so not built (${DBTRUST_MODULE:-$DBT_PROV_BUILD/.libs/dbtrust.so}); run make"
        exit 1
    fi
    [ -x "$cnfprog" ] || { dbt_error "$cnfprog not built; run make check"; exit 1; }
    export OPENSSL_MODULES=${OPENSSL_MODULES:-$DBT_PROV_BUILD/.libs}
    W=$(mktemp -d "${TMPDIR:-/tmp}/dbt-$1.XXXXXX") || exit 1
    chmod 755 "$W"
    dbt_cleanup_push "rm -rf '$W'"
    CAT=$W/catalog
    "$cnfprog" "$CAT" >"$W/openssl.cnf" || { dbt_error "cannot write $W/openssl.cnf"; exit 1; }
    export OPENSSL_CONF=$W/openssl.cnf
}

# dbt_prov_pki: the demo PKI in $PKI (certs/demo-pki.sh), host name in $HOST.
dbt_prov_pki() {
    PKI=$W/pki
    HOST=db.demo.internal
    # shellcheck source=certs/demo-pki.sh
    . "$DBT_PROV_SRC/certs/demo-pki.sh"
    dbt_demo_pki "$PKI" "$HOST" >/dev/null || { dbt_error "certs/demo-pki.sh $PKI failed"; exit 1; }
}

# Prints the lowercase SHA-256 fingerprints of every certificate in a PEM stream, sorted.
dbt_prov_fingerprints() {
    awk '/-----BEGIN CERTIFICATE-----/ { n++ } { print > (dir "/fp." n) }' dir="$W" "${1:-/dev/stdin}"
    local f
    for f in "$W"/fp.*; do
        [ -e "$f" ] || continue
        grep -q 'BEGIN CERTIFICATE' "$f" || { rm -f "$f"; continue; }
        openssl x509 -in "$f" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
        rm -f "$f"
    done | sort
}

# Counts the certificates openssl storeutl prints for its arguments ("-" when it fails).
dbt_prov_count() {
    local out
    out=$(timeout "$DBT_PROV_TIMEOUT" "${DBT_PROV_WRAP[@]}" openssl storeutl "$@" 2>/dev/null) || { echo -; return; }
    grep -c 'BEGIN CERTIFICATE' <<<"$out"
}
