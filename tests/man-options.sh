#!/bin/bash
# doc/dbtrust.1 documents every command and option: each command listed by `dbtrust --help` has
# a section, every long option printed by `dbtrust COMMAND --help` (and every global one) appears
# in the page, and so does every option of the keytool spelling (`dbtrust -help`,
# `dbtrust -printcert -help`). groff reads the page without a warning when it is installed.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export TZ=UTC LC_ALL=C

DBTRUST=${DBTRUST:-./dbtrust}
if [ ! -x "$DBTRUST" ]; then
    echo "SKIP: the dbtrust program is not built ($DBTRUST)" >&2
    exit 77
fi
page=${DBTRUST_SRCDIR:-$(dirname "$0")/..}/doc/dbtrust.1
[ -f "$page" ] || {
    echo "FAIL: $page is missing"
    exit 1
}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
    echo "FAIL: $*"
    failed=1
}

# The page as text to search: roff escapes for '-' undone, font changes dropped.
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/-/g' "$page" >"$tmp/page.txt"
# documented WORD: the page has WORD (an option) not followed by more option characters, so that
# --bundle is not found only inside --bundle-file.
documented() { grep -qE -- "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|\$)" "$tmp/page.txt"; }

"$DBTRUST" --help >"$tmp/top" 2>&1 || fail "dbtrust --help exited $?"
commands=$(sed -n '/^Commands:/,/^$/p' "$tmp/top" | awk 'NF && $1 != "Commands:" {print $1}')
[ "$(echo "$commands" | wc -w)" -ge 10 ] || fail "dbtrust --help lists only: $commands"
for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/top" | sort -u); do
    documented "$opt" || fail "global option $opt (dbtrust --help) is not in dbtrust.1"
done
for c in $commands; do
    grep -qE "^\.SS $c( |\$)" "$page" || fail "command '$c' has no .SS section in dbtrust.1"
    if ! "$DBTRUST" "$c" --help >"$tmp/$c" 2>&1; then
        fail "dbtrust $c --help exited non-zero: $(head -3 "$tmp/$c")"
        continue
    fi
    opts=$(grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/$c" | sort -u)
    [ -n "$opts" ] || fail "dbtrust $c --help shows no long option"
    for opt in $opts; do
        documented "$opt" || fail "option $opt of '$c' (dbtrust $c --help) is not in dbtrust.1"
    done
done

# keytool spelling: the commands and options in the usage lines.
"$DBTRUST" -help >"$tmp/kt" 2>&1 || fail "dbtrust -help exited $?"
"$DBTRUST" -printcert -help >>"$tmp/kt" 2>&1 || fail "dbtrust -printcert -help exited $?"
kopts=$(grep -E '^ *(dbtrust|usage:|\[)|^ +\[' "$tmp/kt" | grep -oE -- '(^| |\[|\|)-[a-z]+' |
    sed 's/^[ [|]*//' | sort -u)
[ "$(echo "$kopts" | wc -w)" -ge 12 ] || fail "keytool usage shows only: $kopts"
for opt in $kopts; do
    documented "$opt" || fail "keytool option $opt (dbtrust -help) is not in dbtrust.1"
done
for c in -printcert -importcert -list -exportcert -delete; do
    grep -qE "^\.B \\\\$c( |\$)" "$page" || fail "keytool command $c has no entry in dbtrust.1"
done

if command -v groff >/dev/null 2>&1; then
    groff -man -ww -z "$page" 2>"$tmp/groff" || fail "groff failed on dbtrust.1"
    [ -s "$tmp/groff" ] && fail "groff warns about dbtrust.1: $(head -5 "$tmp/groff")"
fi
exit $failed
