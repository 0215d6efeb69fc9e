# TAP-style checks for the shell tests that count their assertions (one "ok - NAME" or
# "not ok - NAME: why" line each) and exit with the number that failed:
#
#   . "$src/tests/lib/tap.sh"
#   expect NAME ok|fail PATTERN CMD...
#   expect_eq NAME GOT WANTED
#   ok NAME / not_ok NAME: WHY
#   exit $failed            (or: [ "$failed" -eq 0 ])
#
# A test whose checks differ (a wrapper, a timeout, other arguments) defines its own expect after
# sourcing this file.

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# expect NAME ok|fail PATTERN CMD...: runs CMD and checks its exit status and that its output
# (stdout and stderr) contains PATTERN (a fixed string; "" = anything; "=TEXT" = exactly TEXT).
# Returns 1 when a check failed, so that a test can stop a sequence that depends on it. Long
# output is cut to its first 2,000 characters in the message.
expect() {
    local name=$1 want=$2 pat=$3 out rc
    shift 3
    out=$("$@" 2>&1)
    rc=$?
    if { [ "$want" = ok ] && [ $rc -ne 0 ]; } || { [ "$want" = fail ] && [ $rc -eq 0 ]; }; then
        not_ok "$name: exit status $rc, wanted $want; output: ${out:0:2000}"
    elif [ "${pat:0:1}" = = ] && [ "$out" != "${pat:1}" ]; then
        not_ok "$name: output is not '${pat:1}'; output: ${out:0:2000}"
    elif [ -n "$pat" ] && [ "${pat:0:1}" != = ] && ! grep -qF -- "$pat" <<<"$out"; then
        not_ok "$name: output lacks '$pat'; output: ${out:0:2000}"
    else
        ok "$name"
        return 0
    fi
    return 1
}

# expect_eq NAME GOT WANTED
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', wanted '$3'"; fi
}
