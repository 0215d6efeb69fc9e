#!/usr/bin/env bash
# Builds dbtrust and runs the whole test suite, as CI does. Installs missing packages first when
# run as root. Extra arguments go to configure. Build tree: ./_build (DBTRUST_BUILD overrides).
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
# Unit, integration and end-to-end tests. On failure, show the logs of what failed.
if ! make -j"$jobs" check; then
    for f in $(find . -name '*.log' ! -name config.log ! -name test-suite.log); do
        grep -qE '^(FAIL|ERROR)' "${f%.log}.trs" 2>/dev/null && { echo "==== $f"; tail -n 60 "$f"; }
    done
    exit 1
fi
# The release tarball must build and pass its own tests too.
make -j"$jobs" distcheck
