#!/bin/bash
# dbtrust convert: every input format to every output format with the same certificates (checked
# with openssl), byte-identical PKCS#7 and DER to openssl's, openssl-rehash hashed directories
# (collisions numbered in SHA-256 order, thousands of certificates), truststore passwords,
# precise errors with nothing written, exit codes 0/1/2; real bundles when DBTRUST_REALDATA is set.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start openssl jq
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
# The SHA-256s of every certificate of any file dbtrust reads, in file order.
fps() { "$DBTRUST" print --json "$@" | jq -r '.[].sha256'; }
# The certificates of a PEM file as openssl re-encodes them: canonical PEM blocks, in order, with
# anything else (bag attributes, text, CRLF) dropped. One pipeline, however many certificates.
canon() {
    openssl crl2pkcs7 -nocrl -certfile "$1" | openssl pkcs7 -print_certs |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p'
}
# same_certs A B WHAT: A and B hold the same certificates in the same order, according to openssl.
same_certs() { cmp -s <(canon "$1") <(canon "$2") || fail "$3: $1 and $2 hold different certificates"; }

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
cat root-a.pem root-b.pem inter.pem >three.pem
[ "$(canon three.pem | grep -c BEGIN)" = 3 ] || fail "test setup: openssl does not see 3 certificates"
want=$(for c in root-a root-b inter; do clipki_sha256 $c.pem; done)

# ---- inputs in every format, made by openssl ----
openssl crl2pkcs7 -nocrl -certfile three.pem -out three.p7b || fail "openssl crl2pkcs7"
openssl crl2pkcs7 -nocrl -certfile three.pem -outform DER -out three.p7d || fail "openssl crl2pkcs7 DER"
openssl pkcs12 -export -nokeys -in three.pem -passout pass:changeit -out three-changeit.p12 ||
    fail "openssl pkcs12 -export"
openssl pkcs12 -export -nokeys -in three.pem -passout pass:pw1 -out three-pw1.p12
openssl x509 -in root-a.pem -outform DER -out root-a.der
sed 's/$/\r/' three.pem >three-crlf.pem
{
    printf '\xef\xbb\xbfsome text before\n'
    cat three.pem
    echo trailing text
} >three-bom.pem

for in in three.pem three-crlf.pem three-bom.pem three.p7b three.p7d three-changeit.p12; do
    expect_rc 0 "$DBTRUST" convert --to pem "$in" "$in.out.pem"
    has err "wrote 3 certificates to $in.out.pem (pem)" "convert $in: summary"
    cmp -s "$in.out.pem" three.pem || fail "convert $in -> pem: not the PEM of three.pem"
done
expect_rc 0 "$DBTRUST" convert --to pem --in-password pw1 three-pw1.p12 pw1.pem
cmp -s pw1.pem three.pem || fail "PKCS#12 with --in-password"
expect_rc 1 "$DBTRUST" convert --to pem three-pw1.p12 nopw.pem
has err "three-pw1.p12" "wrong PKCS#12 password names the file"
has err "--in-password" "wrong PKCS#12 password names the option to use"
[ -e nopw.pem ] && fail "a failed convert wrote nopw.pem"
expect_rc 0 "$DBTRUST" convert --to pem root-a.der root-a.out.pem
cmp -s root-a.out.pem root-a.pem || fail "DER -> PEM differs from openssl's PEM"

# ---- outputs in every format ----
expect_rc 0 "$DBTRUST" convert --to p7b three.pem out.p7b
cmp -s out.p7b three.p7b || fail "p7b output differs from openssl crl2pkcs7"
expect_rc 0 "$DBTRUST" convert --to p7b-der three.pem out.p7d
cmp -s out.p7d three.p7d || fail "p7b-der output differs from openssl crl2pkcs7 -outform DER"
expect_rc 0 "$DBTRUST" convert --to der root-a.pem out.der
cmp -s out.der root-a.der || fail "der output differs from openssl's DER"
expect_rc 0 "$DBTRUST" convert --to pkcs12 three.pem out.p12
openssl pkcs12 -in out.p12 -nokeys -passin pass:changeit -out out.p12.pem 2>/dev/null ||
    fail "openssl cannot read the pkcs12 output with changeit"
same_certs out.p12.pem three.pem "pkcs12 output (changeit) read by openssl"
expect_rc 0 "$DBTRUST" convert --to pkcs12 --password s3cret three.pem sec.p12
openssl pkcs12 -in sec.p12 -nokeys -passin pass:s3cret -out sec.p12.pem 2>/dev/null ||
    fail "openssl cannot read the pkcs12 output with --password's password"
same_certs sec.p12.pem three.pem "pkcs12 output with --password read by openssl"
expect_rc 0 "$DBTRUST" convert --to jks three.p7b out.jks
[ "$(fps out.jks)" = "$want" ] || fail "jks output read back"
expect_rc 0 "$DBTRUST" convert --to pem out.jks jks.pem
cmp -s jks.pem three.pem || fail "jks -> pem"
expect_rc 0 "$DBTRUST" convert --to pem out.p12 p12.pem
cmp -s p12.pem three.pem || fail "own pkcs12 (changeit) read back without a password"
expect_rc 0 "$DBTRUST" convert --to pkcs12 out.jks jks.p12
expect_rc 0 "$DBTRUST" convert --to pem jks.p12 jks-p12.pem
cmp -s jks-p12.pem three.pem || fail "jks -> pkcs12 -> pem"
# Standard input and output.
expect_rc 0 "$DBTRUST" convert --to p7b-der - - <three.p7b
cmp -s out three.p7d || fail "stdin -> stdout p7b-der"

# ---- hashed directory: openssl's names, usable by openssl verify ----
expect_rc 0 "$DBTRUST" convert --to hashed-dir three.pem hd
for c in root-a root-b inter; do
    h=$(openssl x509 -in $c.pem -noout -hash)
    cmp -s "hd/$h.0" $c.pem || fail "hashed-dir: $h.0 is not $c.pem"
done
[ "$(ls hd | wc -l)" = 3 ] || fail "hashed-dir: $(ls hd | wc -l) files, expected 3"
expect_rc 0 openssl verify -CApath hd -untrusted inter.pem leaf.pem
# Same subject, two certificates: <hash>.0 and .1 in SHA-256 order, duplicates written once.
openssl req -x509 -config clipki.cnf -extensions ca_ext -key root-b.key \
    -subj '/O=dbtrust test/CN=Test Root B' -days 30 -out root-b2.pem 2>/dev/null
cat root-b.pem root-b2.pem root-b.pem >same.pem
expect_rc 0 "$DBTRUST" convert --to hashed-dir same.pem hd2
h=$(openssl x509 -in root-b.pem -noout -hash)
first=$( (clipki_sha256 root-b.pem; clipki_sha256 root-b2.pem) | sort | head -1)
[ "$(ls hd2 | tr '\n' ' ')" = "$h.0 $h.1 " ] || fail "hashed-dir collision names: $(ls hd2 | tr '\n' ' ')"
[ "$(clipki_sha256 hd2/$h.0)" = "$first" ] || fail "hashed-dir: .0 is not the lower SHA-256"
if openssl rehash -help >/dev/null 2>&1; then
    mkdir rh && cp root-a.pem root-b.pem inter.pem rh/ && openssl rehash rh 2>/dev/null
    for f in hd/*; do [ -L "rh/${f#hd/}" ] || fail "openssl rehash has no ${f#hd/}"; done
fi

# ---- errors: exit 2 for usage, 1 for failures, nothing written ----
expect_rc 2 "$DBTRUST" convert three.pem x.pem
has err "--to FORMAT" "convert without --to"
expect_rc 2 "$DBTRUST" convert --to pem three.pem
expect_rc 2 "$DBTRUST" convert --to pem a b c
expect_rc 2 "$DBTRUST" convert --to zip three.pem x.zip
has err "hashed-dir" "unknown format lists the formats"
expect_rc 1 "$DBTRUST" convert --to pem missing.pem x.pem
has err "missing.pem" "missing input named"
{
    cat root-a.pem
    printf -- '-----BEGIN CERTIFICATE-----\nxxxx\n-----END CERTIFICATE-----\n'
} >bad.pem
echo keep >keep.pem
expect_rc 1 "$DBTRUST" convert --to pem bad.pem keep.pem
has err "block 2 of bad.pem (line $(grep -n BEGIN bad.pem | sed -n 2p | cut -d: -f1))" \
    "malformed input: block and line named"
[ "$(cat keep.pem)" = keep ] || fail "a failed convert changed the existing output"
expect_rc 1 "$DBTRUST" convert --to der three.pem keep.pem
has err "DER holds exactly one certificate" "der of three certificates"
[ "$(cat keep.pem)" = keep ] || fail "a failed der convert changed the existing output"
expect_rc 1 "$DBTRUST" convert --to hashed-dir three.pem -
has err "needs a directory" "hashed-dir to standard output"
expect_rc 1 "$DBTRUST" convert --to hashed-dir three.pem hd
has err "exists and is not empty" "hashed-dir over a non-empty directory"
: >empty.pem
expect_rc 1 "$DBTRUST" convert --to pem empty.pem e.pem
[ -e e.pem ] && fail "convert of an empty input wrote e.pem"
[ -z "$(ls -a | grep -E '\.tmp|tmp-')" ] || fail "temporary files left behind: $(ls -a | grep -E '\.tmp|tmp-')"

# ---- thousands of certificates into a hashed directory (deduplication is O(n log n)) ----
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import cryptography' 2>/dev/null; then
        py=$p
        break
    fi
done
if [ -n "$py" ]; then
    "$py" - 4000 >bulk.pem <<'PY'
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
n = int(sys.argv[1])
key = ec.generate_private_key(ec.SECP256R1())
start = datetime.datetime(2026, 1, 1)
bc = x509.BasicConstraints(ca=True, path_length=None)
for i in range(n):
    # Two certificates per subject: every hash gets a .0 and a .1.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bulk CA %d" % (i // 2))])
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(i + 1).not_valid_before(start)
         .not_valid_after(start + datetime.timedelta(days=3650))
         .add_extension(bc, critical=True).sign(key, hashes.SHA256()))
    sys.stdout.buffer.write(c.public_bytes(serialization.Encoding.PEM))
PY
    cat bulk.pem bulk.pem >bulk2.pem # every certificate twice
    expect_rc 0 "$DBTRUST" convert --to hashed-dir bulk2.pem bulkdir
    [ "$(ls bulkdir | wc -l)" = 4000 ] || fail "bulk: $(ls bulkdir | wc -l) files, expected 4000"
    [ "$(ls bulkdir | grep -c '\.1$')" = 2000 ] || fail "bulk: $(ls bulkdir | grep -c '\.1$') .1 files, expected 2000"
    # Spot-check the SHA-256 order rule on a few hashes.
    for f in $(ls bulkdir | grep '\.0$' | head -20); do
        a=$(clipki_sha256 "bulkdir/$f")
        b=$(clipki_sha256 "bulkdir/${f%.0}.1")
        [[ "$a" < "$b" ]] || fail "bulk: ${f%.0}.0 does not have the lower SHA-256"
    done
else
    echo "note: no python3 with the cryptography module; the bulk hashed-dir check was not run"
fi

# ---- real bundles ----
R=${DBTRUST_REALDATA:-}
if [ -n "$R" ] && [ -f "$R/aws-rds-global-bundle.pem" ]; then
    expect_rc 0 "$DBTRUST" convert --to p7b-der "$R/aws-rds-global-bundle.pem" g.p7d
    cmp -s g.p7d "$R/aws-rds-global-bundle.p7b" ||
        fail "global bundle -> p7b-der differs from the openssl-made aws-rds-global-bundle.p7b"
    expect_rc 0 "$DBTRUST" convert --to p7b "$R/aws-rds-global-bundle-2022.pem" g22.p7b
    cmp -s g22.p7b "$R/aws-rds-global-bundle-2022.p7b" ||
        fail "2022 global bundle -> p7b differs from AWS's published .p7b"
    expect_rc 0 "$DBTRUST" convert --to pem "$R/aws-rds-global-bundle-2022.p7b" g22.pem
    same_certs g22.pem "$R/aws-rds-global-bundle-2022.pem" "AWS .p7b (2022) -> pem"
    [ "$(grep -c BEGIN g22.pem)" = 115 ] || fail "AWS .p7b (2022): $(grep -c BEGIN g22.pem) certificates"
    expect_rc 0 "$DBTRUST" convert --to hashed-dir "$R/aws-rds-global-bundle.pem" ghd
    [ "$(ls ghd | wc -l)" = 108 ] || fail "global bundle hashed-dir: $(ls ghd | wc -l) files"
    expect_rc 0 "$DBTRUST" convert --to pem "$R/aws-rds-us-east-1-bundle-2022-crlf.pem" crlf.pem
    [ "$(grep -c BEGIN crlf.pem)" = 5 ] || fail "CRLF bundle: $(grep -c BEGIN crlf.pem) certificates"
    expect_rc 0 "$DBTRUST" convert --to pem "$R/malformed/aws-rds-combined-ca-bundle-trailing-garbage.pem" tg.pem
    [ "$(grep -c BEGIN tg.pem)" = 30 ] || fail "trailing-garbage bundle: $(grep -c BEGIN tg.pem) certificates"
    expect_rc 1 "$DBTRUST" convert --to pem "$R/malformed/placeholder-xxxx-global-bundle.pem" ph.pem
    has err "block 1 of $R/malformed/placeholder-xxxx-global-bundle.pem (line 1)" "placeholder bundle"
    [ -e ph.pem ] && fail "the placeholder bundle produced ph.pem"
    # Never 2 of 3 silently: either all three certificates or an error naming the block.
    "$DBTRUST" convert --to pem "$R/malformed/aws-rds-us-east-1-bundle-indented-begin.pem" ind.pem >out 2>err
    rc=$?
    if [ $rc = 0 ]; then
        [ "$(grep -c BEGIN ind.pem)" = 3 ] || fail "indented BEGIN: $(grep -c BEGIN ind.pem) of 3 certificates"
    else
        grep -q "block 1 of" err || fail "indented BEGIN: error does not name block 1: $(cat err)"
    fi
else
    echo "note: DBTRUST_REALDATA not set or incomplete; real-bundle checks not run"
fi

exit $failed
