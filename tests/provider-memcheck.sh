#!/bin/sh
# The threads test under valgrind memcheck: no leak or invalid access in dbtrust.so.
DBT_PROV_VALGRIND=memcheck exec "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/provider-threads.sh"
