#!/bin/sh
# dbtrust.so under valgrind memcheck: the threads test, then every storeutl/verify command of the
# storeutl and damaged-catalog tests, each of which must show no invalid access and no leak.
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed (apt-get install valgrind)"; exit 77; }
rc=0
DBT_PROV_VALGRIND=memcheck "$src/tests/provider-threads.sh" || rc=1
DBT_PROV_MEMCHECK=1 "$src/tests/provider-storeutl.sh" || rc=1
DBT_PROV_MEMCHECK=1 "$src/tests/provider-badcatalog.sh" || rc=1
exit $rc
