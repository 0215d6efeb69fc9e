#!/usr/bin/env bash
# Cost of dbtrust.so, counted in instructions with callgrind (stable across runs and machines),
# plus wall times for orientation. `make bench-provider` runs it. Not a test: it prints figures
# and the goal each should meet.
#   1. subject lookup with 10,000 CAs vs 10 CAs in the catalog (goal: within 1.2x)
#   2. the first dbtrust:// trust lookup in a new process, 108-root AWS RDS catalog (goal: < 1 ms),
#      in a bare process and in a TLS client (after SSL_CTX_new, as libpq), against OpenSSL's own
#      hashed-directory lookup of the catalog's certs/ view and against parsing the bundle eagerly
#   3. `openssl version` with the provider loaded through openssl.cnf vs without (goal: < 1%)
set -euo pipefail
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
bench=$build/bench/provider-bench
cnfprog=$build/tests/test_provider_cnf
export OPENSSL_MODULES=${OPENSSL_MODULES:-$build/.libs}
realdata=${DBTRUST_REALDATA:-$src/../shared/realdata}
global=$realdata/aws-rds-global-bundle.pem

for p in "$bench" "$cnfprog" "$OPENSSL_MODULES/dbtrust.so" "$OPENSSL_MODULES/dbtrust-store.so"; do
    [ -e "$p" ] || { echo "provider-bench: $p not built; run make and make check first" >&2; exit 1; }
done
command -v valgrind >/dev/null || { echo "provider-bench: valgrind is needed" >&2; exit 1; }
. "$src/tests/lib/common.sh"
w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-provider-bench.XXXXXX")
dbt_cleanup_push "rm -rf '$w'"
chmod 755 "$w"

# mkcat DIR NAME=FILE...: through `dbtrust import` when the CLI is built, else tests/lib/mkcatalog.sh.
mkcat() {
    local dir=$1 a
    shift
    if [ -x "${DBTRUST:-$build/dbtrust}" ]; then
        for a in "$@"; do
            "${DBTRUST:-$build/dbtrust}" --catalog "$dir" import --bundle "${a%%=*}" "${a#*=}" >/dev/null
        done
    else
        "$src/tests/lib/mkcatalog.sh" "$dir" "$@"
    fi
    "$cnfprog" "$dir" >"$dir.cnf"
}
# ir CMD...: instructions executed inside bench_lookup (or the whole process with IR_ALL=1).
ir() {
    local out=$w/cg.out
    rm -f "$out"
    if [ -n "${IR_ALL:-}" ]; then
        valgrind -q --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null
    else
        valgrind -q --tool=callgrind --callgrind-out-file="$out" --toggle-collect=bench_lookup \
            "$@" >/dev/null
    fi || { echo "provider-bench: $* failed" >&2; return 1; }
    sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$out" | head -1
}
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { printf "%.*f", d, a / b }'; }

echo "== 1. subject lookup: 10,000 CAs vs 10 CAs (warm process, one lookup, callgrind Ir)"
"$bench" gen 10000 "$w/cas.pem"
awk '/BEGIN/ { n++ } n <= 10' "$w/cas.pem" >"$w/cas10.pem"
mkcat "$w/cat10" bench="$w/cas10.pem"
mkcat "$w/cat10k" bench="$w/cas.pem"
awk '/BEGIN/ { n++ } n == 6' "$w/cas.pem" >"$w/ca5.pem"
awk '/BEGIN/ { n++ } n == 5001' "$w/cas.pem" >"$w/ca5000.pem"
i10=$(OPENSSL_CONF=$w/cat10.cnf ir "$bench" lookup dbtrust:// "$w/ca5.pem" warm)
i10k=$(OPENSSL_CONF=$w/cat10k.cnf ir "$bench" lookup dbtrust:// "$w/ca5000.pem" warm)
echo "   10 CAs:     $i10 Ir"
echo "   10,000 CAs: $i10k Ir"
echo "   ratio $(ratio "$i10k" "$i10") (goal <= 1.2)"
echo "   cmd: OPENSSL_CONF=<cat>.cnf valgrind --tool=callgrind --toggle-collect=bench_lookup \\"
echo "        bench/provider-bench lookup dbtrust:// <ca>.pem warm"

echo "== 2. first trust lookup in a new process: 108 AWS RDS roots"
if [ -r "$global" ]; then
    mkcat "$w/aws" aws="$global"
    awk '/BEGIN/ { n++ } n == 54' "$global" >"$w/root54.pem"
    hashdir=$w/aws/certs
    [ -d "$hashdir" ] || { echo "provider-bench: no hashed view at $hashdir" >&2; exit 1; }
    export OPENSSL_CONF=$w/aws.cnf
    cold=$(ir "$bench" lookup dbtrust:// "$w/root54.pem")
    coldtls=$(ir "$bench" lookup dbtrust:// "$w/root54.pem" tls)
    dirtls=$(ir "$bench" lookup "$hashdir" "$w/root54.pem" tls)
    eager=$(ir "$bench" lookup "$global" "$w/root54.pem")
    echo "   instructions inside the lookup (callgrind Ir):"
    echo "     dbtrust://, bare process:                          $cold"
    echo "     dbtrust://, TLS client (SSL_CTX_new done first):   $coldtls"
    echo "     OpenSSL's hashed-directory lookup of the catalog's certs/ view, TLS client: $dirtls"
    echo "     X509_STORE_load_file(global bundle), bare process: $eager"
    echo "     ratio dbtrust/eager $(ratio "$cold" "$eager"), dbtrust/hashed directory $(ratio "$coldtls" "$dirtls")"
    # Wall time: the four interleaved, one fresh process each per round, so that the machine's
    # drift hits them alike. Page faults are counted too: on this VM each costs 15-20 us.
    : >"$w/wall"
    for i in $(seq "${WALL_RUNS:-41}"); do
        echo "bare $("$bench" lookup dbtrust:// "$w/root54.pem")" >>"$w/wall"
        echo "tls $("$bench" lookup dbtrust:// "$w/root54.pem" tls)" >>"$w/wall"
        echo "dir $("$bench" lookup "$hashdir" "$w/root54.pem" tls)" >>"$w/wall"
        echo "eager $("$bench" lookup "$global" "$w/root54.pem")" >>"$w/wall"
    done
    unset OPENSSL_CONF
    wall() { # median wall (us) with its quartiles, and the median page faults, of one kind of run
        local t f
        t=$(awk -v k="$1" '$1 == k { print $2 }' "$w/wall" | sort -n | awk '{ t[NR] = $1 }
            END { printf "median %s us (p25 %s, p75 %s)", t[int((NR + 1) / 2)],
                  t[int((NR + 3) / 4)], t[int((3 * NR + 1) / 4)] }')
        f=$(awk -v k="$1" '$1 == k { print $3 }' "$w/wall" | sort -n | awk '{ f[NR] = $1 }
            END { print f[int((NR + 1) / 2)] }')
        echo "$t, $f page faults"
    }
    echo "   wall time inside the lookup, ${WALL_RUNS:-41} fresh processes each, interleaved (goal < 1000 us);"
    echo "   a minor page fault costs $("$bench" faultcost) us on this machine:"
    echo "     dbtrust://, bare process:        $(wall bare)"
    echo "     dbtrust://, TLS client:          $(wall tls)"
    echo "     hashed directory, TLS client:    $(wall dir)"
    echo "     eager parse, bare process:       $(wall eager)"
    echo "   cmd: OPENSSL_CONF=<cat>.cnf bench/provider-bench lookup dbtrust:// root54.pem [tls]"
else
    echo "   skipped: $global not present (DBTRUST_REALDATA)"
fi

# The same on OpenSSL 3.5, in the Debian 13 root that make check caches: the modules and this
# driver built there as provider/local.mk builds them, the host's catalog bound at its own path.
echo "== 2b. the same on OpenSSL 3.5 (Debian 13 root)"
if [ ! -r "$global" ]; then
    echo "   skipped: $global not present (DBTRUST_REALDATA)"
elif [ "$(id -u)" != 0 ] || [ -z "${DBTRUST_CACHE:-}" ] ||
    [ ! -f "$DBTRUST_CACHE/trixie-root/.dbtrust-ready" ]; then
    echo "   skipped: needs root and the Debian 13 root in the test cache (run make check as root)"
else
    . "$src/tests/lib/trixie.sh"
    DBT_TRIXIE_ROOT=$DBTRUST_CACHE/trixie-root
    dbt_trixie_session
    g=$DBT_TRIXIE_WORK
    mkdir -p "$g/src/provider" "$g/src/lib" "$g/src/bench" "$g/mod"
    cp "$global" "$w/global.pem" # realdata is outside the root's view; $w is bound into it
    cp "$src"/provider/*.c "$src"/provider/*.h "$g/src/provider/"
    cp "$src/lib/error.c" "$src/lib/error.h" "$src/lib/catsafe.c" "$src/lib/catsafe.h" \
        "$src/lib/catlayout.c" "$src/lib/catlayout.h" "$g/src/lib/"
    cp "$src/bench/provider-bench.c" "$g/src/bench/"
    printf '#define PACKAGE_VERSION "bench"\n#define PACKAGE_STRING "dbtrust bench"\n' >"$g/src/config.h"
    cf="-O2 -fPIC -fvisibility=hidden -shared -nostartfiles -I/dbt/src -I/dbt/src/lib -I/dbt/src/provider"
    t35() { dbt_trixie_run --bind "$w:$w" --env "OPENSSL_CONF=$w/aws.cnf" --env OPENSSL_MODULES=/dbt/mod -- "$@"; }
    if dbt_trixie_run -- sh -c "gcc $cf -DDBT_MODULESDIR='\"/nonexistent\"' -o /dbt/mod/dbtrust.so \
            /dbt/src/provider/front.c &&
        gcc $cf -o /dbt/mod/dbtrust-store.so /dbt/src/provider/provider.c /dbt/src/provider/store.c \
            /dbt/src/provider/reader.c /dbt/src/provider/certparts.c /dbt/src/lib/error.c \
            /dbt/src/lib/catsafe.c /dbt/src/lib/catlayout.c \
            \$(pkg-config --cflags --libs libcrypto) &&
        gcc -O2 -I/dbt/src -o /dbt/provider-bench /dbt/src/bench/provider-bench.c \
            \$(pkg-config --cflags --libs libssl libcrypto)"; then
        echo "   $(dbt_trixie_run -- openssl version)"
        if dbt_trixie_run -- sh -c 'command -v valgrind >/dev/null ||
                { apt-get update -q && apt-get install -y -q valgrind; } >/dev/null 2>&1'; then
            ir35() {
                rm -f "$w/cg35.out"
                t35 valgrind -q --tool=callgrind --callgrind-out-file="$w/cg35.out" \
                    --toggle-collect=bench_lookup /dbt/provider-bench lookup "$@" >/dev/null ||
                    { echo "provider-bench: 3.5 lookup $* failed" >&2; return 1; }
                sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$w/cg35.out"
            }
            c35=$(ir35 dbtrust:// "$w/root54.pem")
            t35i=$(ir35 dbtrust:// "$w/root54.pem" tls)
            d35=$(ir35 "$hashdir" "$w/root54.pem" tls)
            e35=$(ir35 "$w/global.pem" "$w/root54.pem")
            echo "   instructions inside the lookup: dbtrust:// bare $c35, TLS client $t35i;"
            echo "     hashed directory, TLS client $d35; eager parse $e35"
            echo "     ratio dbtrust/eager $(ratio "$c35" "$e35"), dbtrust/hashed directory $(ratio "$t35i" "$d35")"
        else
            echo "   (valgrind could not be installed in the root: no instruction counts there)"
        fi
        : >"$w/wall"
        for i in $(seq "${WALL_RUNS:-41}"); do
            echo "bare $(t35 /dbt/provider-bench lookup dbtrust:// "$w/root54.pem")" >>"$w/wall"
            echo "tls $(t35 /dbt/provider-bench lookup dbtrust:// "$w/root54.pem" tls)" >>"$w/wall"
            echo "dir $(t35 /dbt/provider-bench lookup "$hashdir" "$w/root54.pem" tls)" >>"$w/wall"
            echo "eager $(t35 /dbt/provider-bench lookup "$w/global.pem" "$w/root54.pem")" >>"$w/wall"
        done
        echo "   wall time inside the lookup, ${WALL_RUNS:-41} fresh processes each, interleaved (goal < 1000 us):"
        echo "     dbtrust://, bare process:        $(wall bare)"
        echo "     dbtrust://, TLS client:          $(wall tls)"
        echo "     hashed directory, TLS client:    $(wall dir)"
        echo "     eager parse, bare process:       $(wall eager)"
    else
        echo "   (could not build the modules or bench/provider-bench.c in the root)"
    fi
fi

echo "== 3. openssl version with and without the provider in openssl.cnf (whole process, Ir)"
mkdir -p "$w/none"
"$cnfprog" "$w/none" >"$w/with.cnf"
sed '/^dbtrust = /d; /^\[dbtrust_sect\]/,$d' "$w/with.cnf" >"$w/without.cnf"
OPENSSL_CONF=$w/with.cnf openssl list -providers | grep -q dbtrust ||
    { echo "provider-bench: the provider did not load from $w/with.cnf" >&2; exit 1; }
with=$(OPENSSL_CONF=$w/with.cnf IR_ALL=1 ir openssl version)
without=$(OPENSSL_CONF=$w/without.cnf IR_ALL=1 ir openssl version)
echo "   without dbtrust: $without Ir"
echo "   with dbtrust:    $with Ir"
echo "   ratio $(ratio "$with" "$without" 4) (goal < 1.01)"
# The floor for any provider module: one with an empty OSSL_provider_init, loaded the same way.
mkdir -p "$w/null"
printf '%s\n' '#include <openssl/core.h>' '#include <openssl/core_dispatch.h>' \
    'static const OSSL_DISPATCH fns[] = {{0, NULL}};' \
    'int OSSL_provider_init(const OSSL_CORE_HANDLE *h, const OSSL_DISPATCH *in,' \
    '                       const OSSL_DISPATCH **out, void **ctx)' \
    '{ (void)h; (void)in; *out = fns; *ctx = NULL; return 1; }' >"$w/null/null.c"
if ${CC:-cc} -O2 -fPIC -shared -o "$w/null/dbtrust.so" "$w/null/null.c" 2>/dev/null; then
    null=$(OPENSSL_MODULES=$w/null OPENSSL_CONF=$w/with.cnf IR_ALL=1 ir openssl version)
    echo "   with an empty provider module instead: $null Ir, ratio $(ratio "$null" "$without" 4)"
    echo "   dbtrust.so above the empty module: $((with - null)) Ir (OpenSSL dlopens modules with"
    echo "   RTLD_NOW: each import is bound at load; dbtrust.so imports 5 libc functions and leaves"
    echo "   libcrypto and its error strings to dbtrust-store.so, loaded on the first dbtrust:// open)"
fi
echo "   cmd: OPENSSL_CONF=<cnf> valgrind --tool=callgrind openssl version"
