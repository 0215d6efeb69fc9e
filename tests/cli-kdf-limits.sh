#!/bin/bash
# Bounded key derivation for PKCS#12 input (lib/p12.h): a file whose MAC, PBES2/PBKDF2 or
# PKCS#12-PBE iteration count is above 5,000,000 (hostile counts up to 2^31-1 and beyond) is
# refused by print, import, convert, -printcert and -list -keystore with a message that names
# the file and the count, exit 1 and the catalog untouched; a store at the limit is read. The
# hostile files are made by tests/p12craft from small-count files, without the work they ask.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start openssl
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
CRAFT=${DBTRUST_BUILDDIR:-.}/tests/p12craft
[ -x "$CRAFT" ] || {
    echo "FAIL: $CRAFT is not built"
    exit 1
}
# Without the limits each refused command below would run for minutes to days: a hang is a
# failure, not a slow pass.
export DBT_CLI_TIMEOUT=${DBT_CLI_TIMEOUT:-60}

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
cat root-a.pem root-b.pem >two.pem
C=$tmp/cat
mkdir -p "$C" && chmod 700 "$C"
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle keep root-a.pem
snapshot() { { readlink "$C/current"; ls "$C/certs/"; "$DBTRUST" --catalog "$C" list; } 2>&1; }
before=$(snapshot)

# Small-count sources: PBES2/AES-256 (PBKDF2) or PKCS#12-PBE 3DES certificate safes, with a MAC
# or without, and a MAC over unencrypted certificates.
openssl pkcs12 -export -nokeys -in two.pem -passout pass:pw -iter 2048 -out pbes2.p12 ||
    fail "openssl pkcs12 -export (PBES2)"
openssl pkcs12 -export -nokeys -in two.pem -passout pass:pw -iter 2048 \
    -certpbe PBE-SHA1-3DES -out pbe3des.p12 || fail "openssl pkcs12 -export (3DES)"
openssl pkcs12 -export -nokeys -in two.pem -passout pass:pw -iter 2048 -nomac \
    -certpbe AES-256-CBC -out nomac.p12 || fail "openssl pkcs12 -export -nomac"
openssl pkcs12 -export -nokeys -in two.pem -passout pass:changeit -iter 2048 -certpbe NONE \
    -out plain.p12 || fail "openssl pkcs12 -export -certpbe NONE"

craft() { # KIND N IN OUT
    "$CRAFT" "$@" || fail "p12craft $*"
}
# refuse FILE MESSAGE [all]: print refuses FILE saying MESSAGE; with "all", so do every other
# command that reads a PKCS#12 file, with and without a password.
refuse() {
    local f=$1 msg=$2
    expect_rc 1 "$DBTRUST" print "$f"
    has err "$f: $msg" "print $f"
    [ "${3:-}" = all ] || return 0
    expect_rc 1 "$DBTRUST" print --password pw "$f"
    has err "$f: $msg" "print --password $f"
    expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle evil "$f"
    has err "$f: $msg" "import $f"
    expect_rc 1 "$DBTRUST" convert --to pem --in-password pw "$f" out.pem
    has err "$f: $msg" "convert $f"
    [ -e out.pem ] && fail "a refused convert of $f wrote out.pem"
    expect_rc 1 "$DBTRUST" -printcert -file "$f"
    has err "$f: $msg" "-printcert $f"
    expect_rc 1 "$DBTRUST" -list -keystore "$f" -storepass pw
    has err "$f: $msg" "-list -keystore $f"
    cp "$f" ks.p12
    expect_rc 1 "$DBTRUST" -importcert -alias x -file root-a.pem -keystore ks.p12 -storepass pw
    has err "ks.p12: $msg" "-importcert into $f"
    cmp -s "$f" ks.p12 || fail "a refused -importcert changed $f"
}
for count in 5000001 100000000 2147483647 99999999999999999999; do
    all=
    case $count in 5000001 | 2147483647) all=all ;; esac
    craft mac-iter "$count" pbes2.p12 "mac-$count.p12"
    craft mac-iter "$count" plain.p12 "macplain-$count.p12"
    craft safe-iter "$count" pbes2.p12 "pbkdf2-$count.p12"
    craft safe-iter "$count" nomac.p12 "pbkdf2nomac-$count.p12"
    craft safe-iter "$count" pbe3des.p12 "pbe-$count.p12"
    for f in "mac-$count.p12" "macplain-$count.p12"; do
        refuse "$f" "the PKCS#12 MAC has iteration count $count, above the limit of 5000000" $all
    done
    for f in "pbkdf2-$count.p12" "pbkdf2nomac-$count.p12" "pbe-$count.p12"; do
        refuse "$f" "PKCS#12 safe 1 has iteration count $count, above the limit of 5000000" $all
    done
done
[ "$(snapshot)" = "$before" ] || fail "refused imports changed the catalog"

# The whole message, once: the file, the count, the limit and what to do.
expect_rc 1 "$DBTRUST" print mac-2147483647.p12
[ "$(cat err)" = "dbtrust: error: mac-2147483647.p12: the PKCS#12 MAC has iteration count 2147483647, above the limit of 5000000 (Java refuses more too; OpenSSL writes 2048, Java 10000); refused before deriving any key: the file is corrupt or hostile, export it again with a usual count" ] ||
    fail "the message for a MAC count of 2^31-1: $(cat err)"

# Zero and negative counts are corrupt, not large.
craft mac-iter -1 pbes2.p12 neg.p12
expect_rc 1 "$DBTRUST" print neg.p12
has err "neg.p12: the PKCS#12 MAC has iteration count -1, which is not a positive number" "negative count"

# scrypt: its work and memory are the file's choice too, and no PKCS#12 writer uses it.
craft scrypt nomac.p12 scrypt.p12
expect_rc 1 "$DBTRUST" print --password pw scrypt.p12
has err "scrypt.p12: PKCS#12 safe 1 derives its key with scrypt" "scrypt refused"

# At the limit: read, with its password. (openssl's -iter sets the MAC's count too; the
# certificates are left unencrypted to halve the work, the unit tests cover both at the limit.)
openssl pkcs12 -export -nokeys -in two.pem -passout pass:pw -iter 5000000 -certpbe NONE \
    -out atcap.p12 || fail "openssl pkcs12 -export -iter 5000000"
openssl asn1parse -inform DER -in atcap.p12 | grep -q "INTEGER *:4C4B40$" ||
    fail "atcap.p12 does not hold the count 5000000 (0x4C4B40)"
expect_rc 0 "$DBTRUST" print --password pw atcap.p12
has out "Test Root B" "a store at the limit is read"
expect_rc 0 "$DBTRUST" -list -keystore atcap.p12 -storepass pw
# openssl -nokeys writes no Java trust attribute: as for keytool, no entries, each bag named.
has out "Your keystore contains 0 entries" "-list of a store at the limit"
has err "PKCS#12 bag 2" "-list of a store at the limit names its bags"

exit $failed
