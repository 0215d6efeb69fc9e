#!/bin/bash
# What to do after an error is worded by the command at hand from the error's hint code, never
# found by searching the message: a file name holding the words of a hint ("use --password",
# "integrity check failed") is printed as it is, and the hint still goes where it belongs.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start openssl
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
expect_rc 0 "$DBTRUST" convert --to pkcs12 -p secret root-a.pem secret.p12

# A PKCS#12 file whose name holds lib's old hint text: the name is not rewritten, the hint is.
cp secret.p12 'use --password.p12'
expect_rc 1 "$DBTRUST" print 'use --password.p12'
has err "error: use --password.p12: PKCS#12 integrity check failed: wrong password? give it with --password" \
    "print names the file as it is and the option print takes"
expect_rc 1 "$DBTRUST" convert --to pem 'use --password.p12' out.pem
has err "error: use --password.p12: PKCS#12 integrity check failed: wrong password? give it with --in-password" \
    "convert names the file as it is and the option convert takes"

# keytool tells an integrity failure by its code: a keystore whose name holds those words but
# fails otherwise (a cut file) is not said to have failed its integrity check.
head -c 300 secret.p12 >'x integrity check failed.p12'
expect_rc 1 "$DBTRUST" -importcert -alias a -file root-b.pem -keystore 'x integrity check failed.p12' \
    -storepass secret
hasnt err "integrity check failed with" "a cut keystore is not called an integrity failure"
has err "x integrity check failed.p12: DER input is truncated" "the real reason is given"
# And a real integrity failure is still said so.
cp secret.p12 ks.p12
expect_rc 1 "$DBTRUST" -importcert -alias a -file root-b.pem -keystore ks.p12 -storepass wrong
has err "ks.p12: the keystore's integrity check failed with the -storepass password" \
    "a MAC that does not match is an integrity failure"

# The advice for a catalog directory that exists but was never made one is a command that works.
mkdir empty-cat
expect_rc 1 "$DBTRUST" --catalog "$PWD/empty-cat" list
has err "is not initialized" "an empty directory is not a catalog"
has err "run dbtrust --catalog $PWD/empty-cat import --bundle NAME FILE to create it" \
    "the advice names import with --bundle"
expect_rc 0 "$DBTRUST" --catalog "$PWD/empty-cat" import --bundle NAME root-a.pem
has out "bundle 'NAME': 1 certificate" "the advised command (import --bundle NAME) creates it"

exit $failed
