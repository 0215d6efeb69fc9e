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
w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-provider-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT
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
    if [ -n "${IR_ALL:-}" ]; then
        valgrind -q --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null
    else
        valgrind -q --tool=callgrind --callgrind-out-file="$out" --toggle-collect=bench_lookup \
            "$@" >/dev/null
    fi
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
    echo "   wall time inside the lookup, ${WALL_RUNS:-41} fresh processes each, interleaved (goal < 1000 us):"
    echo "     dbtrust://, bare process:        $(wall bare)"
    echo "     dbtrust://, TLS client:          $(wall tls)"
    echo "     hashed directory, TLS client:    $(wall dir)"
    echo "     eager parse, bare process:       $(wall eager)"
    echo "   cmd: OPENSSL_CONF=<cat>.cnf bench/provider-bench lookup dbtrust:// root54.pem [tls]"
else
    echo "   skipped: $global not present (DBTRUST_REALDATA)"
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
