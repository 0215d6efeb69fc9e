#!/bin/bash
# doc/dbtrust.1 documents every command and option: each command listed by `dbtrust --help` has
# a section, every long option printed by `dbtrust COMMAND --help` (and every global one) appears
# in the page, and so does every option of the keytool spelling (`dbtrust -help`,
# `dbtrust -printcert -help`). groff reads the page without a warning when it is installed.
# dbtrust-provider(7) names every search parameter the provider declares settable
# (provider/store.c) and dbtrust-catalog(5) every file of the layout comment in lib/catalog.h;
# the three pages refer to each other and read without a groff warning.
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

src=${DBTRUST_SRCDIR:-$(dirname "$0")/..}
ppage=$src/doc/dbtrust-provider.7
cpage=$src/doc/dbtrust-catalog.5
for p in "$ppage" "$cpage"; do [ -f "$p" ] || fail "$p is missing"; done
# Pages as rendered text (placeholders such as <name> are italic words there), one long line per
# paragraph and no hyphenation, so that names are searched whole.
rendered() { groff -man -Tascii -rLL=250n -rHY=0 "$1" 2>/dev/null | col -b; }
if command -v groff >/dev/null 2>&1 && command -v col >/dev/null 2>&1; then
    rendered "$ppage" >"$tmp/provider.txt"
    rendered "$cpage" >"$tmp/catalog.txt"
else
    # Without groff: the sources with roff escapes and font requests undone.
    for p in provider:"$ppage" catalog:"$cpage"; do
        sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/^\.[A-Z][A-Z]* //' "${p#*:}" |
            tr -d '"' >"$tmp/${p%%:*}.txt"
    done
fi

# Every search parameter the provider declares (OSSL_STORE_PARAM_* in its settable list), by the
# name OpenSSL gives it in core_names.h.
hdr=$(echo '#include <openssl/core_names.h>' | ${CC:-cc} -E -dM - 2>/dev/null)
params=$(sed -n '/settable_ctx_params(void \*provctx)/,/OSSL_PARAM_END/p' "$src/provider/store.c" |
    grep -oE 'OSSL_STORE_PARAM_[A-Z_]+' | sort -u)
[ "$(echo "$params" | wc -w)" -ge 5 ] || fail "found only '$params' in provider/store.c's settable list"
for m in $params; do
    name=$(sed -n "s/^#define $m \"\([^\"]*\)\".*/\1/p" <<<"$hdr")
    [ -n "$name" ] || { fail "cannot resolve $m with the OpenSSL headers"; continue; }
    grep -qE "(^|[^a-z_])$name([^a-z_]|\$)" "$tmp/provider.txt" ||
        fail "dbtrust-provider.7 does not name the search parameter '$name' ($m)"
done
# Its openssl.cnf key, as provider code asks the core for it.
for k in $(grep -ohE 'OSSL_PARAM_construct_utf8_ptr\("[a-z_]+"' "$src"/provider/*.c |
    sed 's/.*("//; s/"//' | sort -u); do
    grep -qE "^ *$k = " "$tmp/provider.txt" || fail "dbtrust-provider.7 does not show the cnf key '$k ='"
done

# Every entry of the catalog layout comment: first words of the tree lines, <placeholders> as
# the page's italic words (bundles/<name>.pem -> bundles/name.pem).
layout=$(sed -n '/On-disk layout/,/index: first line/p' "$src/lib/catalog.h" |
    grep -E '^ \*     (  )?[^ ]' | awk '{print $2}' | grep -E '^[.a-z<][A-Za-z0-9._<>/-]*$' |
    tr -d '<>' | sed 's:/$::')
[ "$(echo "$layout" | wc -w)" -ge 8 ] || fail "found only '$layout' in lib/catalog.h's layout"
for f in $layout; do
    grep -qF -- "$f" "$tmp/catalog.txt" || fail "dbtrust-catalog.5 does not name '$f' (lib/catalog.h)"
done
grep -qF 'dbtrust-index 1' "$tmp/catalog.txt" || fail "dbtrust-catalog.5 lacks the index header"

# Cross references.
for ref in 'dbtrust(1)' 'dbtrust-catalog(5)'; do
    grep -qF "$ref" "$tmp/provider.txt" || fail "dbtrust-provider.7 does not refer to $ref"
done
for ref in 'dbtrust(1)' 'dbtrust-provider(7)'; do
    grep -qF "$ref" "$tmp/catalog.txt" || fail "dbtrust-catalog.5 does not refer to $ref"
done

if command -v groff >/dev/null 2>&1; then
    for p in "$page" "$ppage" "$cpage"; do
        groff -man -ww -z "$p" 2>"$tmp/groff" || fail "groff failed on $(basename "$p")"
        [ -s "$tmp/groff" ] && fail "groff warns about $(basename "$p"): $(head -5 "$tmp/groff")"
    done
fi
exit $failed
