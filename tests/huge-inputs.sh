#!/usr/bin/env bash
# Huge inputs: a 100 MB file holding 100,000 certificates goes through dbtrust print, import
# and convert with bounded memory (peak RSS at most twice what openssl itself needs to hold the
# same certificates, measured in the same run with openssl crl2pkcs7 -certfile), and inputs
# beyond the limits (DBT_MAX_INPUT 256 MiB + 1 byte, DBT_MAX_CERTS 200,000 + 1 certificates)
# are refused with the limit and the file named, the catalog untouched. Also a full disk under
# dbtrust import (a small tmpfs, as root).
# Certificates are made fast from one template by rewriting its serial (tests/lib/mkcerts.py).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
DBTRUST=${DBTRUST:-$build/dbtrust}
ncerts=${DBT_HUGE_CERTS:-100000}
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || { echo "SKIP: python3 is missing"; exit 77; }
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time is missing (apt-get install time)"; exit 77; }
[ -z "${DBTRUST_SANITIZED:-}" ] || ncerts=$((ncerts / 10))

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-huge.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"

# A full disk, end to end through the CLI (as root: a 2 MB tmpfs of our own): import fails
# with the reason, the catalog is exactly as before, and after space is freed the next import
# succeeds.
if [ "$(id -u)" = 0 ] && mkdir "$w/full" && mount -t tmpfs -o size=2m,mode=755 dbt-full "$w/full"; then
    trap 'umount "$w/full" 2>/dev/null; rm -rf "$w"' EXIT
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "/CN=full disk test CA" -days 30 -addext basicConstraints=critical,CA:TRUE \
        -out "$w/small.pem" 2>/dev/null || { echo "Bail out! small CA"; exit 1; }
    "$DBTRUST" --catalog "$w/full/cat" import -q --bundle first "$w/small.pem" ||
        { echo "Bail out! import on the tmpfs"; exit 1; }
    # What the failed import must leave as it was: every entry at the top but the generations,
    # the generation "current" names, whole, and the writers' record. It may have used up the
    # generation before the current one (a commit patches that one into the new state, and a
    # partly patched one is removed; no reader reads it).
    fsnap() { (cd "$w/full/cat" && readlink current &&
        find . -mindepth 1 -path './.gen-*' -prune -o -printf '%P %s %l\n' | sort &&
        cd current/ && find . -printf '%P %s %l\n' | sort && cat certs/index) | sha256sum; }
    fbefore=$(fsnap)
    dd if=/dev/zero of="$w/full/filler" bs=64k 2>/dev/null
    out=$("$DBTRUST" --catalog "$w/full/cat" import -q --bundle second "$w/small.pem" 2>&1)
    rc=$?
    if [ "$rc" = 1 ] && grep -q 'No space left' <<<"$out"; then ok "full disk: import fails with the reason: $out"
    else not_ok "full disk: import exit status $rc: $out"; fi
    cur=$(readlink "$w/full/cat/current")
    [ "$(fsnap)" = "$fbefore" ] && ok "full disk: the catalog is exactly as before" ||
        not_ok "full disk: the catalog changed: $(ls -A "$w/full/cat")"
    left=$(cd "$w/full/cat" && ls -A | grep -vxE "\.lock|current|bundles|certs|trust|trust\.pem|\.changes|\.gen-[0-9]+" |
        tr '\n' ' '; for g in .gen-*; do [ "${g#.gen-}" -le "${cur#.gen-}" ] || printf '%s ' "$g"; done)
    [ -z "$left" ] && ok "full disk: the failed import left nothing behind" ||
        not_ok "full disk: the failed import left $left"
    rm -f "$w/full/filler"
    out=$("$DBTRUST" --catalog "$w/full/cat" import -q --bundle second "$w/small.pem" 2>&1) &&
        [ "$(ls -d "$w/full/cat"/.gen-* | wc -l)" -le 2 ] &&
        ok "full disk: once space is freed the next import succeeds and leaves no leftover" ||
        not_ok "full disk: the next import: $out; $(ls -A "$w/full/cat")"
    umount "$w/full"
else
    echo "# full-disk case skipped: mounting a tmpfs needs root (CI runs as root)"
fi

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=huge input test CA" -days 30 -set_serial 0x7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e \
    -addext basicConstraints=critical,CA:TRUE -outform DER -out "$w/tpl.der" 2>/dev/null ||
    { echo "Bail out! template certificate"; exit 1; }
"$py" "$src/tests/lib/mkcerts.py" "$w/tpl.der" "$ncerts" "$w/big.pem" ||
    { echo "Bail out! mkcerts.py"; exit 1; }
# Up to 100 MB with text after the last block (allowed between blocks, read and skipped).
size=$(stat -c %s "$w/big.pem")
want=$((100 * 1000 * 1000))
if [ "$size" -lt "$want" ]; then
    "$py" -c "import sys; sys.stdout.write(('x' * 79 + '\\n') * (($want - $size) // 80))" >>"$w/big.pem"
fi
size=$(stat -c %s "$w/big.pem")
echo "# input: $ncerts certificates, $size bytes"

# peak KB CMD...: runs CMD, sets $rss (peak RSS in KB), $rc and $out (stderr+stdout tail).
peak() {
    rc=0
    /usr/bin/time -f %M -o "$w/rss" "$@" >"$w/out" 2>&1 || rc=$?
    rss=$(tail -n 1 "$w/rss")
    out=$(tail -c 2000 "$w/out")
}
peak openssl crl2pkcs7 -nocrl -certfile "$w/big.pem" -out /dev/null
[ "$rc" = 0 ] || { echo "Bail out! openssl crl2pkcs7 failed: $out"; exit 1; }
base=$rss
bound=$((2 * base))
echo "# openssl crl2pkcs7 holding the same certificates: $base KB; bound for dbtrust: $bound KB"

bounded() {
    local label=$1
    shift
    peak "$@"
    if [ "$rc" != 0 ]; then not_ok "$label: exit status $rc: $out"
    elif [ "$rss" -gt "$bound" ]; then not_ok "$label: peak RSS $rss KB > $bound KB"
    else ok "$label: peak RSS $rss KB ($((rss * 100 / base))% of openssl's)"; fi
}
bounded "print $ncerts certificates" "$DBTRUST" print "$w/big.pem"
grep -q 'Certificate\|certificate' "$w/out" || not_ok "print printed no certificate"
bounded "import $ncerts certificates" "$DBTRUST" --catalog "$w/cat" import -q --bundle big "$w/big.pem"
n=$("$DBTRUST" --catalog "$w/cat" list --bundle big 2>/dev/null | grep -c 'huge input test CA')
[ "$n" = "$ncerts" ] && ok "the catalog lists all $ncerts certificates" ||
    not_ok "the catalog lists $n certificates, wanted $ncerts"
bounded "convert $ncerts certificates to DER PKCS#7" "$DBTRUST" convert --to p7b-der "$w/big.pem" "$w/big.p7b"
n=$(openssl pkcs7 -inform DER -in "$w/big.p7b" -print_certs 2>/dev/null | grep -c 'BEGIN CERT')
[ "$n" = "$ncerts" ] && ok "the PKCS#7 output holds all $ncerts certificates" ||
    not_ok "the PKCS#7 output holds $n certificates, wanted $ncerts"

# Beyond the limits: refused with the limit named, and the catalog as it was.
snap() { (cd "$w/cat" && find . -printf '%P %s %l\n' | sort | sha256sum); }
before=$(snap)
truncate -s $((256 * 1024 * 1024 + 1)) "$w/too-big.pem"
peak "$DBTRUST" --catalog "$w/cat" import -q --bundle toobig "$w/too-big.pem"
if [ "$rc" = 1 ] && grep -qF "$w/too-big.pem" <<<"$out" && grep -q '256 MiB' <<<"$out"; then
    ok "256 MiB + 1 byte refused naming the file and the limit ($rss KB peak): $(head -1 <<<"$out")"
else not_ok "256 MiB + 1 byte: exit status $rc: $out"; fi
[ "$(snap)" = "$before" ] && ok "catalog untouched by the refused input" ||
    not_ok "the catalog changed on a refused input"
peak "$DBTRUST" print "$w/too-big.pem"
[ "$rc" = 1 ] && grep -q '256 MiB' <<<"$out" && ok "print refuses it too" || not_ok "print: $rc: $out"

if [ -z "${DBTRUST_SANITIZED:-}" ]; then
    "$py" "$src/tests/lib/mkcerts.py" "$w/tpl.der" 200001 "$w/many.pem" || { echo "Bail out! mkcerts"; exit 1; }
    peak "$DBTRUST" --catalog "$w/cat" import -q --bundle many "$w/many.pem"
    if [ "$rc" = 1 ] && grep -qF "$w/many.pem" <<<"$out" && grep -q '200000' <<<"$out"; then
        ok "200,001 certificates refused naming the file and the limit: $(head -1 <<<"$out")"
    else not_ok "200,001 certificates: exit status $rc: $out"; fi
    [ "$(snap)" = "$before" ] && ok "catalog untouched by the refused input" ||
        not_ok "the catalog changed on a refused input"
else
    echo "# the 200,001-certificate case runs in the normal build (too slow under ASan)"
fi
echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
