#!/bin/bash
# Every output format of dbtrust convert/export, read by other implementations: GnuTLS certtool
# (--certificate-info, --p7-info, --p12-info with --password) reports the same SHA-256
# fingerprints as certtool computes for the input, and Java keytool lists every PKCS#12 and JKS
# truststore as N trustedCertEntry entries with those fingerprints. Generated certificates, and
# the real AWS global bundle when DBTRUST_REALDATA is set.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start --skip-hint "openssl gnutls-bin openjdk-17-jre-headless" openssl certtool keytool
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
run() { "$@" >out 2>err || fail "'$*' exited $? (stderr: $(head -c 400 err))"; }

# The certificate SHA-256 fingerprints (not the public key IDs) in certtool's report, in order.
ct_pick() { awk '/^[[:space:]]*Fingerprint:/{f=1; next} f && /sha256:/{sub(/.*sha256:/, ""); print; f=0}'; }
# What certtool reports for PEM certificates on standard input.
ct_fps() { certtool --certificate-info | ct_pick; }
# What certtool makes of each dbtrust output format.
ct_read() {
    local fmt=$1 f=$2 pw=${3:-changeit}
    case $fmt in
    pem) certtool --certificate-info --infile "$f" | ct_pick ;;
    der) certtool --certificate-info --inder --infile "$f" | ct_pick ;;
    p7b) certtool --p7-info --infile "$f" | ct_fps ;;
    p7b-der) certtool --p7-info --inder --infile "$f" | ct_fps ;;
    pkcs12) certtool --p12-info --inder --infile "$f" --password "$pw" 2>/dev/null | ct_fps ;;
    esac
}
# keytool -list of a truststore: checks the entry count and prints the fingerprints, sorted
# (keytool lists entries in its own order, not the file's).
kt_fps() {
    local f=$1 type=$2 pw=$3 n=$4 out
    out=$(keytool -list -keystore "$f" -storetype "$type" -storepass "$pw" 2>&1) || {
        fail "keytool -list $f ($type): $(echo "$out" | head -5)"
        return
    }
    grep -q "^Your keystore contains $n entr" <<<"$out" ||
        fail "keytool: $f is not $n entries: $(grep 'Your keystore' <<<"$out")"
    [ "$(grep -c ', trustedCertEntry,' <<<"$out")" = "$n" ] ||
        fail "keytool: $f does not hold $n trustedCertEntry entries"
    sed -n 's/^Certificate fingerprint (SHA-256): //p' <<<"$out" | tr -d : | tr A-F a-f | sort
}

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
cat root-a.pem root-b.pem inter.pem soon.pem old.pem >five.pem

# crosscheck NAME SRC: SRC through convert into every format, each read back by certtool and
# keytool; then the same certificates through a catalog and export.
crosscheck() {
    local name=$1 src=$2 want n fmt got sorted
    want=$(ct_read pem "$src")
    n=$(echo "$want" | wc -l)
    [ "$n" -gt 0 ] || fail "$name: certtool reads no certificate from $src"
    for fmt in pem p7b p7b-der pkcs12; do
        run "$DBTRUST" convert --to $fmt "$src" "$name.$fmt"
        got=$(ct_read $fmt "$name.$fmt")
        [ "$got" = "$want" ] || fail "$name: certtool reads different certificates from convert --to $fmt"
    done
    run "$DBTRUST" convert --to pkcs12 --password 'Pass word1' "$src" "$name-pw.p12"
    [ "$(ct_read pkcs12 "$name-pw.p12" 'Pass word1')" = "$want" ] ||
        fail "$name: certtool with --password reads different certificates from the pkcs12"
    run "$DBTRUST" convert --to jks "$src" "$name.jks"
    sorted=$(echo "$want" | sort)
    [ "$(kt_fps "$name.pkcs12" PKCS12 changeit "$n")" = "$sorted" ] ||
        fail "$name: keytool lists other fingerprints in the PKCS#12 truststore"
    [ "$(kt_fps "$name-pw.p12" PKCS12 'Pass word1' "$n")" = "$sorted" ] ||
        fail "$name: keytool lists other fingerprints in the PKCS#12 with a password"
    [ "$(kt_fps "$name.jks" JKS changeit "$n")" = "$sorted" ] ||
        fail "$name: keytool lists other fingerprints in the JKS truststore"

    # Through the catalog: export writes each distinct certificate, in fingerprint order.
    run "$DBTRUST" --catalog "$tmp/cat-$name" import --quiet --allow-leaf --bundle b "$src"
    want=$(echo "$want" | sort -u)
    n=$(echo "$want" | wc -l)
    for fmt in pem p7b p7b-der pkcs12; do
        run "$DBTRUST" --catalog "$tmp/cat-$name" export --format $fmt "$name-exp.$fmt"
        [ "$(ct_read $fmt "$name-exp.$fmt" | sort)" = "$want" ] ||
            fail "$name: certtool reads different certificates from export --format $fmt"
    done
    run "$DBTRUST" --catalog "$tmp/cat-$name" export --format jks "$name-exp.jks"
    [ "$(kt_fps "$name-exp.jks" JKS changeit "$n")" = "$want" ] ||
        fail "$name: keytool lists other fingerprints in the exported JKS"
    [ "$(kt_fps "$name-exp.pkcs12" PKCS12 changeit "$n")" = "$want" ] ||
        fail "$name: keytool lists other fingerprints in the exported PKCS#12"
}

crosscheck gen five.pem
# DER holds one certificate.
run "$DBTRUST" convert --to der root-b.pem root-b.der
[ "$(ct_read der root-b.der)" = "$(ct_read pem root-b.pem)" ] || fail "certtool reads another certificate from der"
# The keytool spelling's keystores are Java's too.
run "$DBTRUST" -importcert -alias db -file five.pem -keystore kt.jks -storetype jks
run "$DBTRUST" -importcert -alias more -file root-b.pem -keystore kt.jks
[ "$(kt_fps kt.jks JKS changeit 6)" = "$(cat five.pem root-b.pem | ct_fps | sort)" ] ||
    fail "keytool lists other fingerprints in the JKS made by -importcert"
run "$DBTRUST" -importcert -alias db -file five.pem -keystore kt.p12
[ "$(kt_fps kt.p12 PKCS12 changeit 5)" = "$(ct_read pem five.pem | sort)" ] ||
    fail "keytool lists other fingerprints in the PKCS#12 made by -importcert"

R=${DBTRUST_REALDATA:-}
if [ -n "$R" ] && [ -f "$R/aws-rds-global-bundle.pem" ]; then
    crosscheck global "$R/aws-rds-global-bundle.pem"
    [ "$(ct_read pem "$R/aws-rds-global-bundle.pem" | wc -l)" = 108 ] || fail "global bundle: not 108 certificates"
else
    echo "note: DBTRUST_REALDATA not set or incomplete; real-bundle checks not run"
fi

exit $failed
