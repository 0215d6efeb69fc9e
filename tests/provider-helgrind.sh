#!/bin/sh
# The threads test under valgrind helgrind: no data race in dbtrust.so.
# In a sanitizer build (make check exports DBTRUST_SANITIZED) valgrind cannot run the ASan
# binaries; this test runs in the normal build's pass.
[ -z "${DBTRUST_SANITIZED:-}" ] ||
    { echo "SKIP: valgrind cannot run ASan-instrumented binaries (sanitizer build; runs in the normal pass)"; exit 77; }
DBT_PROV_VALGRIND=helgrind exec bash "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/provider-threads.sh"
