#!/usr/bin/env bash
# What the catalog's operations cost as it grows (`make bench-catalog`; not a test: it prints
# figures and the goal). Catalogs of 0, 100 and 1,000 bundles of 3 certificates each are built in
# one transaction each (bench/catalog-bench.c), then at each size:
#   import   `dbtrust import` of a new 3-certificate bundle (goal at 1,000 bundles: <= 2x the
#            empty catalog's, measured in the same run)
#   remove   `dbtrust remove --bundle` of that bundle (import and remove alternate, so the size
#            stays put)
#   list     `dbtrust list`
#   lookup   a provider subject lookup of the new bundle's first certificate through dbtrust.so
#            (bench/provider-bench: a fresh X509_STORE on dbtrust://, one subject search)
# Each figure is the median wall time of BENCH_RUNS (default 11) runs (interleaved across the
# sizes), the system calls of one
# run (strace -f -c) and, with BENCH_CALLGRIND=1, the instructions of one run (callgrind, whole
# process). Sizes: BENCH_SIZES (default "0 100 1000").
set -euo pipefail
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG DBTRUST_SYSTEM_CERT_DIR \
    DBTRUST_SYSTEM_STATE
export LC_ALL=C
build=${DBTRUST_BUILDDIR:-$PWD}
dbtrust=${DBTRUST:-$build/dbtrust}
cb=$build/bench/catalog-bench
pb=$build/bench/provider-bench
cnfprog=$build/tests/test_provider_cnf
export OPENSSL_MODULES=${OPENSSL_MODULES:-$build/.libs}
runs=${BENCH_RUNS:-11}
sizes=${BENCH_SIZES:-0 100 1000}
for p in "$dbtrust" "$cb" "$pb" "$cnfprog" "$OPENSSL_MODULES/dbtrust.so"; do
    [ -e "$p" ] || { echo "catalog-bench: $p not built; run make first" >&2; exit 1; }
done
command -v strace >/dev/null || { echo "catalog-bench: strace is needed" >&2; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-catalog-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"

"$cb" gen 3 New "$w/new.pem"
openssl x509 -in "$w/new.pem" -out "$w/probe.pem" 2>/dev/null

now() { date +%s%N; }
# timed OUT CMD...: appends the wall time of one run of CMD (us) to OUT; CMD must succeed.
timed() {
    local out=$1 t0 t1
    shift
    t0=$(now)
    "$@" >/dev/null || { echo "catalog-bench: $* failed" >&2; exit 1; }
    t1=$(now)
    echo $(((t1 - t0) / 1000)) >>"$out"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# syscalls CMD...: the system calls of one run of CMD (all threads and children).
syscalls() {
    strace -f -qq -c -o "$w/strace" "$@" >/dev/null 2>&1 ||
        { echo "catalog-bench: $* failed under strace" >&2; return 1; }
    awk '$NF == "total" { print $4 }' "$w/strace"
}
# instrs CMD...: the instructions of one run of CMD (callgrind), or "-" without BENCH_CALLGRIND=1.
instrs() {
    if [ "${BENCH_CALLGRIND:-0}" != 1 ]; then
        echo -
        return
    fi
    rm -f "$w/cg.out"
    valgrind -q --tool=callgrind --callgrind-out-file="$w/cg.out" "$@" >/dev/null 2>&1 ||
        { echo "catalog-bench: $* failed under callgrind" >&2; return 1; }
    sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$w/cg.out" | head -1
}

declare -A T S I
# All catalogs first, then the timed runs interleaved across the sizes (one round = every
# operation at every size): a machine whose speed drifts during the bench (page cache, a
# neighbour on the host) moves every size's figures alike, and the ratios stay fair.
for n in $sizes; do
    cat=$w/cat$n
    t0=$(now)
    "$cb" build "$cat" "$n"
    t1=$(now)
    "$cnfprog" "$cat" >"$cat.cnf"
    echo "catalog of $n bundles built in $(((t1 - t0) / 1000000)) ms"
    : >"$w/imp$n"
    : >"$w/rem$n"
    : >"$w/lst$n"
    : >"$w/look$n"
done
# The catalogs just built are tens of megabytes of dirty pages: a commit's syncfs would flush
# them in the first timed runs, a cost of the setup rather than of the operation.
sync
ops() { # ops N: the four command lines for the catalog of N bundles, in imp rem lst look
    local cat=$w/cat$1
    imp=("$dbtrust" --catalog "$cat" import -q --bundle new "$w/new.pem")
    rem=("$dbtrust" --catalog "$cat" remove --bundle new)
    lst=("$dbtrust" --catalog "$cat" list)
    look=("$pb" lookup dbtrust:// "$w/probe.pem") # with OPENSSL_CONF=$cat.cnf, for it alone
}
for ((r = 0; r < runs; r++)); do
    for n in $sizes; do
        ops "$n"
        timed "$w/imp$n" "${imp[@]}"
        timed "$w/lst$n" "${lst[@]}"
        OPENSSL_CONF=$w/cat$n.cnf timed "$w/look$n" "${look[@]}"
        timed "$w/rem$n" "${rem[@]}"
    done
done
for n in $sizes; do
    ops "$n"
    cat=$w/cat$n
    T[$n,import]=$(median <"$w/imp$n")
    T[$n,remove]=$(median <"$w/rem$n")
    T[$n,list]=$(median <"$w/lst$n")
    T[$n,lookup]=$(median <"$w/look$n")
    S[$n,import]=$(syscalls "${imp[@]}")
    S[$n,list]=$(syscalls "${lst[@]}")
    S[$n,lookup]=$(OPENSSL_CONF=$cat.cnf syscalls "${look[@]}")
    S[$n,remove]=$(syscalls "${rem[@]}")
    I[$n,import]=$(instrs "${imp[@]}")
    I[$n,list]=$(instrs "${lst[@]}")
    I[$n,lookup]=$(OPENSSL_CONF=$cat.cnf instrs "${look[@]}")
    I[$n,remove]=$(instrs "${rem[@]}")
done

ratio() { if [ "$2" = - ] || [ "$2" = 0 ]; then echo -; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; fi; }
first=${sizes%% *}
echo
echo "median wall time of $runs runs (us), system calls and instructions of one run;"
echo "ratios against the catalog of $first bundles, measured in this run"
printf '%-8s %7s %10s %7s %9s %7s %14s %7s\n' op bundles wall_us ratio syscalls ratio instructions ratio
for op in import remove list lookup; do
    for n in $sizes; do
        printf '%-8s %7s %10s %7s %9s %7s %14s %7s\n' "$op" "$n" "${T[$n,$op]}" \
            "$(ratio "${T[$n,$op]}" "${T[$first,$op]}")" "${S[$n,$op]}" \
            "$(ratio "${S[$n,$op]}" "${S[$first,$op]}")" "${I[$n,$op]}" \
            "$(ratio "${I[$n,$op]}" "${I[$first,$op]}")"
    done
done
last=${sizes##* }
echo
echo "goal: import into $last bundles <= 2x import into $first: $(ratio "${T[$last,import]}" "${T[$first,import]}")"
echo "cmd: dbtrust --catalog <cat> import -q --bundle new new.pem; dbtrust --catalog <cat> remove --bundle new"
