#!/bin/sh
# The threads test under valgrind helgrind: no data race in dbtrust.so.
DBT_PROV_VALGRIND=helgrind exec bash "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/provider-threads.sh"
