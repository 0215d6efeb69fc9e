#!/usr/bin/env bash
# The cmocka unit tests (every tests/test_* program make check runs) under valgrind memcheck:
# no invalid access, no use of uninitialised memory and no leak (definite or indirect) in lib/,
# the provider's reader and the test PKI, beyond what the tests themselves assert.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
[ -z "${DBTRUST_SANITIZED:-}" ] ||
    { echo "SKIP: valgrind cannot run ASan-instrumented binaries (sanitizer build; runs in the normal pass)"; exit 77; }
command -v valgrind >/dev/null ||
    { echo "SKIP: valgrind is not installed (apt-get install valgrind)"; exit 77; }

# The same list make check runs and test.sh gives distcheck: UNIT_TESTS (Makefile.am).
units=${DBTRUST_UNIT_TESTS:-}
[ -n "$units" ] || { echo "Bail out! DBTRUST_UNIT_TESTS is empty (run this through make check)"; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-unit-valgrind.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT

# The test PKI's RSA and DSA keys, generated natively first (tests/testpki.c cached_key): under
# valgrind, generating them is most of the run and checks OpenSSL's code, not dbtrust's.
mkdir "$w/keys" || exit 1
for n in 1 2 3 4; do
    for kind in rsa2048:rsa_keygen_bits:2048 rsa4096:rsa_keygen_bits:4096; do
        [ "$n" -le 2 ] || [ "${kind%%:*}" = rsa2048 ] || continue
        openssl genpkey -algorithm RSA -pkeyopt "${kind#*:}" -out "$w/keys/${kind%%:*}-$n.pem" \
            2>/dev/null || { echo "Bail out! openssl genpkey (${kind%%:*}) failed"; exit 1; }
    done
done
for n in 1 2; do
    openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$w/dsa.param" \
        2>/dev/null && openssl genpkey -paramfile "$w/dsa.param" -out "$w/keys/dsa2048-$n.pem" \
        2>/dev/null || { echo "Bail out! openssl genpkey (dsa2048) failed"; exit 1; }
done
export DBTRUST_TESTPKI_KEYS=$w/keys
# Tests that run a key derivation at its cap (millions of rounds) skip those cases here.
export DBTRUST_UNDER_VALGRIND=1

passed=0 failed=0
for t in $units; do
    bin=$build/$t
    if [ ! -x "$bin" ]; then
        echo "not ok - $t: $bin not built (make check builds it)"
        failed=$((failed + 1))
        continue
    fi
    # A libtool wrapper script would put valgrind on /bin/sh, not on the test.
    if ! head -c 4 "$bin" | grep -q ELF; then
        echo "not ok - $t: $bin is not an ELF binary (a libtool wrapper?)"
        failed=$((failed + 1))
        continue
    fi
    log=$w/${t##*/}.log
    rc=0
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --log-file="$log" \
        "$bin" >"$w/out" 2>&1 || rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
        echo "ok - $t under valgrind$([ "$rc" = 77 ] && echo ' (the test itself skipped)')"
        passed=$((passed + 1))
    else
        echo "not ok - $t under valgrind: exit status $rc"
        [ "$rc" = 99 ] || tail -n 20 "$w/out"
        cat "$log"
        failed=$((failed + 1))
    fi
done
echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
