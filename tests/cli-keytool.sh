#!/bin/bash
# dbtrust's keytool spelling: -importcert, -list (-v, -rfc), -exportcert (-rfc), -delete, on the
# catalog (alias = bundle) and on PKCS#12 and JKS truststore files (-keystore, -storetype,
# -storepass): every certificate of a bundle imported (keytool takes only the first), fingerprints
# checked against openssl, keystores never partially written, exit codes 0/1/2.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start openssl jq
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
# keytool's form of a SHA-256 fingerprint: uppercase, colon-separated.
ktfp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
# Entries of a -list: "alias fingerprint" lines.
entries() { awk -F', ' '/trustedCertEntry/{a=$1} /^Certificate fingerprint \(SHA-256\): /{sub(/.*: /, ""); print a, $0}' "$1"; }

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
cat root-a.pem root-b.pem inter.pem >three.pem
C=$tmp/cat
K="$DBTRUST --catalog $C"

# ---- usage errors: exit 2 ----
expect_rc 2 $K -importcert -file three.pem
has err "-alias" "-importcert without -alias"
expect_rc 2 $K -exportcert
expect_rc 2 $K -delete
expect_rc 2 $K -list -nosuchoption
has err "unknown option '-nosuchoption'" "unknown keytool option named"
expect_rc 2 $K -list -alias
has err "needs a value" "option without its value"
expect_rc 2 $K -importcert -alias a -file three.pem -keystore ks.p12 -storetype jceks
has err "only pkcs12 and jks" "unsupported -storetype"
expect_rc 2 $K -genkeypair -alias a
has err "unknown keytool command '-genkeypair'" "unsupported keytool command"
expect_rc 0 $K -help
has out "-importcert -alias A -file F" "-help shows the keytool spelling"

# ---- the catalog: alias = bundle ----
expect_rc 0 $K -importcert -alias rds -file three.pem -noprompt -trustcacerts
has out "bundle 'rds': 3 certificates" "-importcert into the catalog imports every certificate"
expect_rc 1 $K -importcert -alias leafy -file leaf.pem
has err "of leaf.pem is not a CA" "-importcert into the catalog skips a leaf like import"
has err "nothing to import into bundle 'leafy'" "-importcert of a leaf alone imports nothing"
expect_rc 0 $K -importcert -alias solo -storepass ignored <root-b.pem
expect_rc 0 $K -list
has out "Keystore type: dbtrust catalog" "-list header"
has out "Your keystore contains 4 entries" "-list counts every certificate of every bundle"
[ "$(entries out)" = "rds $(ktfp root-a.pem)
rds-2 $(ktfp root-b.pem)
rds-3 $(ktfp inter.pem)
solo $(ktfp root-b.pem)" ] || fail "-list entries: $(entries out)"
expect_rc 0 $K -list -alias rds -rfc
has out "Alias name: rds-3" "-list -alias -rfc names every entry of the bundle"
[ "$(grep -c 'BEGIN CERTIFICATE' out)" = 3 ] || fail "-list -rfc: $(grep -c BEGIN out) PEM blocks"
expect_rc 0 $K -list -alias solo -v
has out "Owner: CN=Test Root B, O=dbtrust test" "-list -v prints keytool's Owner line"
has out "SHA256: $(ktfp root-b.pem)" "-list -v fingerprint"
expect_rc 1 $K -list -alias nosuch
has err "alias <nosuch> does not exist" "-list of a missing alias"
expect_rc 0 $K -exportcert -alias solo -file solo.der
has out "Certificate stored in file <solo.der>" "-exportcert message"
cmp -s solo.der <(openssl x509 -in root-b.pem -outform DER) || fail "-exportcert DER differs from openssl's"
expect_rc 0 $K -exportcert -alias rds -rfc
cmp -s out three.pem || fail "-exportcert -rfc to stdout is not the bundle's PEM"
expect_rc 1 $K -exportcert -alias rds -file rds.der
has err "bundle 'rds' holds 3 certificates" "-exportcert DER of a bundle"
has err "-rfc" "-exportcert DER of a bundle says to add -rfc"
[ -e rds.der ] && fail "a failed -exportcert wrote rds.der"
expect_rc 1 $K -exportcert -alias nosuch -rfc
expect_rc 0 $K -delete -alias solo
expect_rc 0 $K -list
has out "Your keystore contains 3 entries" "-delete removed the bundle"
expect_rc 1 $K -delete -alias solo
has err "no bundle named" "-delete of a missing bundle"

# ---- PKCS#12 keystore file ----
expect_rc 0 "$DBTRUST" -importcert -alias rds -file three.pem -keystore ks.p12
has out "3 certificates were added to keystore ks.p12" "-importcert into a new PKCS#12"
openssl pkcs12 -in ks.p12 -nokeys -passin pass:changeit -out ks.pem 2>/dev/null ||
    fail "openssl cannot open the keystore with changeit"
[ "$(grep -c 'BEGIN CERTIFICATE' ks.pem)" = 3 ] || fail "openssl sees $(grep -c BEGIN ks.pem) certificates"
[ "$(grep friendlyName ks.pem | sed 's/.*: //' | tr '\n' ' ')" = "rds rds-2 rds-3 " ] ||
    fail "PKCS#12 aliases: $(grep friendlyName ks.pem | tr '\n' ' ')"
expect_rc 0 "$DBTRUST" -importcert -alias other -file root-b.pem -keystore ks.p12
expect_rc 0 "$DBTRUST" -list -keystore ks.p12
has out "Keystore type: PKCS12" "-list of a PKCS#12"
has out "Your keystore contains 4 entries" "-list counts the keystore's entries"
[ "$(entries out)" = "rds $(ktfp root-a.pem)
rds-2 $(ktfp root-b.pem)
rds-3 $(ktfp inter.pem)
other $(ktfp root-b.pem)" ] || fail "keystore -list entries: $(entries out)"
# Never a partial write: an alias clash anywhere in the input refuses the whole import.
cp ks.p12 before.p12
expect_rc 1 "$DBTRUST" -importcert -alias rds -file root-a.pem -keystore ks.p12
has err "alias <rds> already exists in ks.p12" "alias clash named"
expect_rc 0 "$DBTRUST" -importcert -alias x-2 -file root-a.pem -keystore ks.p12
cp ks.p12 before.p12
expect_rc 1 "$DBTRUST" -importcert -alias x -file three.pem -keystore ks.p12
has err "alias <x-2> already exists" "clash on the second certificate's alias"
cmp -s ks.p12 before.p12 || fail "a refused -importcert changed the keystore"
{
    cat root-b.pem
    printf -- '-----BEGIN CERTIFICATE-----\nxxxx\n-----END CERTIFICATE-----\n'
} >bad.pem
expect_rc 1 "$DBTRUST" -importcert -alias y -file bad.pem -keystore ks.p12
has err "block 2 of bad.pem" "malformed -file names the block"
cmp -s ks.p12 before.p12 || fail "a malformed -file changed the keystore"
expect_rc 1 "$DBTRUST" -importcert -alias y -file three.pem -keystore ks.p12 -storetype jks
has err "is a PKCS#12 keystore, not jks" "-storetype mismatch"
cmp -s ks.p12 before.p12 || fail "a -storetype mismatch changed the keystore"
expect_rc 0 "$DBTRUST" -exportcert -alias rds-3 -keystore ks.p12 -file inter.der
cmp -s inter.der <(openssl x509 -in inter.pem -outform DER) || fail "-exportcert from a keystore"
expect_rc 0 "$DBTRUST" -exportcert -alias RDS-2 -keystore ks.p12 -rfc
cmp -s out root-b.pem || fail "-exportcert -rfc: aliases match case-insensitively, as in keytool"
expect_rc 1 "$DBTRUST" -exportcert -alias nosuch -keystore ks.p12
has err "alias <nosuch> does not exist in ks.p12" "-exportcert of a missing alias"
expect_rc 0 "$DBTRUST" -delete -alias rds-2 -keystore ks.p12
expect_rc 0 "$DBTRUST" -list -keystore ks.p12
has out "Your keystore contains 4 entries" "-delete removed one entry"
grep -q '^rds-2,' out && fail "-delete left rds-2"
cp ks.p12 before.p12
expect_rc 1 "$DBTRUST" -delete -alias rds-2 -keystore ks.p12
cmp -s ks.p12 before.p12 || fail "a failed -delete changed the keystore"
expect_rc 1 "$DBTRUST" -list -keystore missing.p12
has err "keystore missing.p12 does not exist" "-list of a missing keystore"
expect_rc 1 "$DBTRUST" -list -keystore three.pem
has err "not a PKCS#12 or JKS keystore" "-list of a PEM file"
# A keystore password other than changeit.
expect_rc 0 "$DBTRUST" -importcert -alias a -file root-a.pem -keystore pw.p12 -storepass s3cret
openssl pkcs12 -in pw.p12 -nokeys -passin pass:s3cret >/dev/null 2>&1 || fail "openssl: -storepass not used"
expect_rc 1 "$DBTRUST" -list -keystore pw.p12
has err "give it with -storepass" "a wrong keystore password names -storepass"
expect_rc 0 "$DBTRUST" -list -keystore pw.p12 -storepass s3cret

# ---- JKS keystore file ----
expect_rc 0 "$DBTRUST" -importcert -alias rds -file three.pem -keystore ks.jks -storetype jks
[ "$(head -c 4 ks.jks | od -An -tx1 | tr -d ' ')" = feedfeed ] || fail "-storetype jks did not write JKS"
expect_rc 0 "$DBTRUST" -importcert -alias two -file root-b.pem -keystore ks.jks
[ "$(head -c 4 ks.jks | od -An -tx1 | tr -d ' ')" = feedfeed ] || fail "an existing JKS stays JKS"
expect_rc 0 "$DBTRUST" -list -keystore ks.jks
has out "Keystore type: JKS" "-list of a JKS"
has out "Your keystore contains 4 entries" "JKS entries"
expect_rc 0 "$DBTRUST" -delete -alias two -keystore ks.jks
expect_rc 0 "$DBTRUST" -list -keystore ks.jks -rfc
[ "$(grep -c 'BEGIN CERTIFICATE' out)" = 3 ] || fail "JKS -list -rfc after -delete"

# ---- rewriting needs verified integrity: a keystore is re-sealed only with its own password ----
# flip FILE N: inverts the Nth byte from the end (1 = the last), in place.
flip() {
    local size off byte
    size=$(stat -c %s "$1")
    off=$((size - $2))
    byte=$(od -An -tu1 -j "$off" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((byte ^ 255)))" | dd of="$1" bs=1 seek="$off" conv=notrunc 2>/dev/null
}
# refused_write STORE MESSAGE ARGS...: -importcert and -delete with ARGS exit 1, say MESSAGE and
# leave STORE as it was.
refused_write() {
    local ks=$1 msg=$2
    shift 2
    cp "$ks" keep.bin
    expect_rc 1 "$DBTRUST" -importcert -alias new -file root-a.pem -keystore "$ks" "$@"
    has err "$msg" "-importcert into $ks $*: refused"
    cmp -s "$ks" keep.bin || fail "a refused -importcert rewrote $ks"
    expect_rc 1 "$DBTRUST" -delete -alias rds -keystore "$ks" "$@"
    has err "$msg" "-delete from $ks $*: refused"
    cmp -s "$ks" keep.bin || fail "a refused -delete rewrote $ks"
}
INTEG="the keystore's integrity check failed with"
# A JKS whose digest was altered: refused with no -storepass (changeit is then checked) and with
# changeit; listing it still works and says its integrity was not verified, as keytool does.
expect_rc 0 "$DBTRUST" -importcert -alias rds -file three.pem -keystore t.jks -storetype jks
flip t.jks 1
refused_write t.jks "t.jks: $INTEG the default password changeit (no -storepass)"
has err "give its password with -storepass" "a refused write says to give the password"
refused_write t.jks "t.jks: $INTEG the -storepass password" -storepass changeit
expect_rc 0 "$DBTRUST" -list -keystore t.jks
has err "the integrity of t.jks has NOT been verified: give its password with -storepass" \
    "-list without -storepass warns that the JKS was not verified"
has out "Your keystore contains 3 entries" "-list still reads an unverified JKS"
# An untampered JKS with another password: not rewritten (with changeit, as before) without it;
# with it, rewritten and still sealed with that password.
expect_rc 0 "$DBTRUST" -importcert -alias rds -file three.pem -keystore s.jks -storetype jks \
    -storepass s3cret
refused_write s.jks "s.jks: $INTEG the default password changeit (no -storepass)"
expect_rc 0 "$DBTRUST" -importcert -alias new -file root-a.pem -keystore s.jks -storepass s3cret
expect_rc 0 "$DBTRUST" -delete -alias rds -keystore s.jks -storepass s3cret
expect_rc 0 "$DBTRUST" -list -keystore s.jks -storepass s3cret
has out "Your keystore contains 3 entries" "JKS rewritten with its -storepass"
hasnt err "NOT been verified" "a JKS read with its password is verified"
if command -v keytool >/dev/null 2>&1; then
    keytool -list -keystore s.jks -storepass s3cret >kt.out 2>&1 ||
        fail "keytool cannot open s.jks with its password: $(cat kt.out)"
fi
# PKCS#12: a MAC that no password matches, and a store with the empty password (which reading
# tries, but writing would have re-sealed with changeit), and one with no MAC at all.
expect_rc 0 "$DBTRUST" -importcert -alias rds -file three.pem -keystore t.p12
flip t.p12 20
refused_write t.p12 "t.p12: $INTEG the default password changeit (no -storepass)"
refused_write t.p12 "t.p12: $INTEG the -storepass password" -storepass changeit
openssl pkcs12 -export -nokeys -in three.pem -passout pass: -out e.p12
expect_rc 0 "$DBTRUST" -list -keystore e.p12
refused_write e.p12 "e.p12: $INTEG the default password changeit (no -storepass)"
expect_rc 0 "$DBTRUST" -importcert -alias new -file root-a.pem -keystore e.p12 -storepass ""
openssl pkcs12 -in e.p12 -nokeys -passin pass: -out /dev/null 2>/dev/null ||
    fail "a PKCS#12 store rewritten with -storepass '' does not open with the empty password"
openssl pkcs12 -export -nokeys -in three.pem -passout pass:pw -nomac -certpbe NONE -out n.p12
expect_rc 0 "$DBTRUST" -list -keystore n.p12
has err "n.p12 has no integrity MAC" "-list warns about a PKCS#12 store without a MAC"
refused_write n.p12 "n.p12: this PKCS#12 keystore has no integrity MAC"
refused_write n.p12 "n.p12: this PKCS#12 keystore has no integrity MAC" -storepass pw

# ---- real bundles: all 108 roots, where keytool -importcert keeps only the first ----
R=${DBTRUST_REALDATA:-}
if [ -n "$R" ] && [ -f "$R/aws-rds-global-bundle.pem" ]; then
    expect_rc 0 "$DBTRUST" -importcert -alias rds -file "$R/aws-rds-global-bundle.pem" -keystore g.jks -storetype jks
    has out "108 certificates were added" "global bundle into JKS"
    expect_rc 0 "$DBTRUST" -list -keystore g.jks
    [ "$(grep -c trustedCertEntry out)" = 108 ] || fail "global JKS: $(grep -c trustedCertEntry out) entries"
    expect_rc 0 $K -importcert -alias aiven -file "$R/aiven-service-leaf-plus-project-ca.pem"
    has err "is not a CA (CN=pg-1" "Aiven leaf named by -importcert"
    expect_rc 0 $K -list -alias aiven
    [ "$(grep -c trustedCertEntry out)" = 1 ] || fail "Aiven: only the project CA is an entry"
else
    echo "note: DBTRUST_REALDATA not set or incomplete; real-bundle checks not run"
fi

exit $failed
