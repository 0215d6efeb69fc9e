#!/usr/bin/env bash
# Builds dbtrust and runs the whole test suite, as CI does: unit tests, the provider through
# real OpenSSL 3.0 and 3.5, keytool/GnuTLS cross-checks, PostgreSQL + libpq 17 end to end,
# then `make distcheck` (the release tarball builds and passes its unit tests), then the whole
# suite again in a second tree built with ASan+UBSan (./_build-san, DBTRUST_BUILD_SAN overrides;
# DBTRUST_SANITIZER_PASS=0 leaves that pass out, for a quicker local run).
# Installs missing packages first when run as root. Extra arguments go to configure.
# Build tree: ./_build (DBTRUST_BUILD overrides); slow test components (libpq 17, a Debian 13
# root) are cached in ./_build/test-cache across runs.
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
. tests/setup-deps.sh
dbt_setup_deps test

build=${DBTRUST_BUILD:-$top/_build}
jobs=$(nproc 2>/dev/null || echo 2)
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror "$@"
make -j"$jobs"

summary() {
    # One closing line in the plain form CI reads: "N passed, N failed, N skipped".
    local log=$1 pass fail skip
    [ -f "$log" ] || { echo "0 passed, 1 failed, 0 skipped ($log missing)"; return; }
    pass=$(sed -n 's/^# PASS: *//p' "$log")
    fail=$(( $(sed -n 's/^# FAIL: *//p' "$log") + $(sed -n 's/^# ERROR: *//p' "$log") + $(sed -n 's/^# XPASS: *//p' "$log") ))
    skip=$(sed -n 's/^# SKIP: *//p' "$log")
    echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
}

# Every test, with the reason of each skip shown (CI runs as root: nothing should skip).
show_results() {
    local f t
    for f in $(find tests -name '*.log'); do
        t=${f%.log}
        [ -f "$t.trs" ] || continue
        if grep -qE '^:test-result: (FAIL|ERROR)' "$t.trs"; then
            echo "==== $f (failed)"; tail -n 80 "$f"
        elif grep -qE '^:test-result: SKIP' "$t.trs"; then
            echo "==== $t skipped: $(grep -m1 -i 'skip' "$f" || echo 'no reason printed')"
        fi
    done
}
# The slowest tests of a pass, from the closing line tests/lib/timed-driver writes in each .log:
# the CI budget is kept by knowing where the time goes.
slowest() {
    echo "==== slowest tests ($1), seconds:"
    grep -H '^dbtrust-test-seconds: ' $(find tests -name '*.log') 2>/dev/null |
        sed 's/\.log:dbtrust-test-seconds: / /' | sort -k2,2nr | head -n 15 | sed 's/^/    /' || true
}
status=0
make -j"$jobs" check || status=$?
show_results
slowest normal
[ "$status" = 0 ] || { summary test-suite.log; exit "$status"; }

# The release tarball: builds from `make dist` alone and passes the unit tests (the
# end-to-end tests above already ran on this very code; running them twice would double CI).
unit=$(make -s print-unit-tests)
[ -n "$unit" ] || { echo "test.sh: make print-unit-tests listed no unit test"; exit 1; }
make -j"$jobs" distcheck TESTS="$unit"
echo "normal build: $(summary test-suite.log)"
if [ "${DBTRUST_SANITIZER_PASS:-1}" = 0 ]; then
    echo "sanitizer pass left out (DBTRUST_SANITIZER_PASS=0)"
    summary test-suite.log
    exit 0
fi

# The whole suite again with AddressSanitizer and UndefinedBehaviorSanitizer. Host programs that
# load the module get the runtimes preloaded (Makefile.am, tests/lib/sanbin/); the valgrind tests
# skip here (they ran above). A sanitizer report fails the pass even when the command that
# printed it was expected to fail: reports are collected in sanitizer.log.<pid>.
san=${DBTRUST_BUILD_SAN:-$top/_build-san}
mkdir -p "$san"
cd "$san"
# The slow test components (libpq 17, the Debian 13 root) are shared with the normal tree.
cache=$(sed -n 's/^DBTRUST_CACHE_DIR = //p' "$build/Makefile")
[ -f Makefile ] || "$top/configure" --enable-werror --enable-sanitizers --with-cache-dir="$cache" "$@"
make -j"$jobs"
rm -f sanitizer.log.*
san_status=0
make -j"$jobs" check || san_status=$?
echo "==== sanitizer build ($san): skipped and failed tests"
show_results
slowest sanitizer
for f in sanitizer.log.*; do
    [ -e "$f" ] || continue
    # A report names its kind: "ERROR: AddressSanitizer: ...", "ERROR: LeakSanitizer: detected
    # memory leaks", UBSan's "runtime error: ...". A log without one is a leak check that could not
    # run because the process was killed while LeakSanitizer had its threads stopped at exit
    # ("Unable to get registers from thread N", seen when a test's teardown killed processes), or
    # an empty file: shown, not counted.
    if ! grep -qE 'ERROR: |runtime error: |SUMMARY: ' "$f"; then
        echo "==== sanitizer log without a report $f: $(head -c 300 "$f")"
        continue
    fi
    echo "==== sanitizer report $f"; head -n 60 "$f"
    san_status=1
done
echo "sanitizer build: $(summary test-suite.log)"
[ "$san_status" = 0 ] || exit "$san_status"
cd "$build"
summary test-suite.log
