#!/usr/bin/env bash
# dbtrust config: the openssl.cnf it prints names the catalog and the module so that OpenSSL reads
# back exactly those paths, whatever they hold (a blank at either end, '$', '#', quotes,
# backslashes): checked by loading the written file with OpenSSL itself and reading the catalog
# through the provider (a decoy catalog sits at each path OpenSSL would read if the value were
# cut or expanded). Paths no openssl.cnf line can carry (control characters, bytes that are not
# UTF-8) are refused, exit 1, nothing on standard output.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
DBTRUST=${DBTRUST:-$build/dbtrust}
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"
[ -f "$build/.libs/dbtrust.so" ] || { echo "Bail out! $build/.libs/dbtrust.so not built"; exit 1; }

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-config.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
dbt_demo_pki "$w/pki" db.demo.internal >/dev/null 2>&1 || { echo "Bail out! demo PKI failed"; exit 1; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
want=$(sha_of "$w/pki/root-rsa4096.pem")
decoy=$w/pki/other-root.pem
export OPENSSL_MODULES=$build/.libs

# The certificates the provider serves under OPENSSL_CONF=$1, as SHA-256s.
served() {
    OPENSSL_CONF=$1 timeout 20 openssl storeutl -certs dbtrust:// 2>/dev/null |
        awk '/BEGIN CERT/{n++} {print > (d "/served." n)}' d="$w"
    local f
    for f in "$w"/served.*; do
        [ -e "$f" ] && grep -q 'BEGIN CERT' "$f" && sha_of "$f"
        rm -f "$f"
    done
}

# Each catalog name, with decoys where a cut or expanded value would lead.
i=0
for name in 'cat ' 'cat  ' ' cat' 'c$HOME' 'c${HOME}' 'c#x' "c'q" 'c"q' 'c\b' 'c\' "c\\'" \
    'a b$c#d'"'"'e"f\g ' 'c;x' 'c`x`' 'caf'$'\xc3\xa9'; do
    i=$((i + 1))
    cat=$w/$name
    mkdir -p "$w/decoys$i"
    for d in "$w/cat" "$w/c" "$w/a b" "$w/cb" "$w/cq"; do
        [ "$d" = "$cat" ] || [ -e "$d" ] ||
            "$DBTRUST" --catalog "$d" import -q --bundle decoy "$decoy" >/dev/null 2>&1
    done
    "$DBTRUST" --catalog "$cat" import -q --bundle real "$w/pki/root-rsa4096.pem" >/dev/null 2>&1 ||
        { not_ok "import into '$cat'"; continue; }
    if ! "$DBTRUST" --catalog "$cat" config >"$w/cnf$i" 2>"$w/err"; then
        not_ok "config for catalog '$name': $(cat "$w/err")"
        continue
    fi
    expect_eq "catalog '$name': OpenSSL reads the catalog it names" "$(served "$w/cnf$i")" "$want"
    rm -rf "$cat"
done

# The module path too: the provider (and its store module beside it) copied under odd names.
for name in 'mod ' 'm$HOME' 'm#x' "m'q\"\\z"; do
    mkdir -p "$w/$name"
    cp "$build/.libs/dbtrust.so" "$build/.libs/dbtrust-store.so" "$w/$name/"
    "$DBTRUST" --catalog "$w/plain" import -q --bundle real "$w/pki/root-rsa4096.pem" >/dev/null 2>&1
    if ! "$DBTRUST" --catalog "$w/plain" config --module "$w/$name/dbtrust.so" >"$w/mcnf" 2>"$w/err"; then
        not_ok "config for module '$name': $(cat "$w/err")"
        continue
    fi
    expect_eq "module '$name': OpenSSL loads the module it names" \
        "$(env -u OPENSSL_MODULES bash -c "$(declare -f served sha_of); w='$w'; served '$w/mcnf'")" "$want"
done

# Paths no line can carry: refused, nothing printed.
for name in $'c\tx' $'c\nx' $'c\rx' $'c\x01x' $'c\x7fx' $'c\xc2\x85x' $'c\xffx' $'c\xe2\x80\xaex'; do
    out=$("$DBTRUST" --catalog "$w/$name" config 2>"$w/err")
    rc=$?
    expect_eq "catalog $(printf %q "$name"): refused with exit 1" "$rc" 1
    expect_eq "... nothing on standard output" "$out" ""
    expect "... the message says why" ok "control character" cat "$w/err"
    out=$("$DBTRUST" --catalog "$w/plain" config --module "$w/$name/dbtrust.so" 2>"$w/err")
    rc=$?
    expect_eq "module $(printf %q "$name"): refused, nothing printed" "$rc:$out" "1:"
done
expect "a relative module path is refused" fail "not absolute" \
    "$DBTRUST" --catalog "$w/plain" config --module dbtrust.so

echo "cli-config: $passed passed, $failed failed"
[ "$failed" = 0 ]
