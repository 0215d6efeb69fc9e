#!/bin/sh
# Replays every committed fuzz seed (fuzz/corpus/<target>/) and the seeds derived from the real
# bundles of $DBTRUST_REALDATA through each fuzz target, built without libFuzzer (fuzz/replay_main.c):
# with clang's ASan+UBSan when clang is there, else with plain cc. A crash, a sanitizer report or
# a broken round trip fails the test and names the input.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR

srcdir=${DBTRUST_SRCDIR:?run this through make check}
builddir=${DBTRUST_BUILDDIR:?run this through make check}

# Leak reports are part of the check; LeakSanitizer cannot run under ptrace-less sandboxes, where
# ASan says so and the run fails loudly rather than passing unchecked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

FUZZ_SRCDIR=$srcdir FUZZ_BUILDDIR=$builddir \
    sh "$srcdir/fuzz/fuzz.sh" replay "$builddir/fuzz-replay"
rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIP: no usable C compiler for the replay drivers (tried clang with ASan/UBSan, then \${CC:-cc})"
    exit 77
fi
exit $rc
