#!/bin/bash
# dbtrust -printcert must print exactly what Java 17's keytool -printcert prints (stdout, and the
# weak-algorithm warnings on stderr), with and without -v and with -rfc: for every real bundle
# keytool can read and for generated certificates carrying every extension kind keytool decodes.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF
export TZ=UTC LC_ALL=C

DBTRUST=${DBTRUST:-./dbtrust}
if [ ! -x "$DBTRUST" ]; then
    echo "SKIP: the dbtrust program is not built ($DBTRUST)" >&2
    exit 77
fi
if ! command -v keytool >/dev/null 2>&1; then
    echo "SKIP: keytool (Java) is not installed; install openjdk-17-jdk-headless" >&2
    exit 77
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "SKIP: the openssl program is not installed" >&2
    exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
compared=0

# keytool is Java: a JVM per run costs about a second, so the runs are queued and executed by
# keytool's own code (sun.security.tools.keytool.Main) in one JVM, each run's standard output and
# error captured to files, exactly as the keytool launcher would print them.
cat >"$tmp/KeytoolBatch.java" <<'EOF'
import java.io.*;
import java.nio.file.*;
import java.util.*;

public class KeytoolBatch {
    public static void main(String[] a) throws Exception {
        PrintStream out = System.out, err = System.err;
        for (String job : Files.readAllLines(Paths.get(a[0]))) {
            String[] f = job.split("\t");
            try (PrintStream o = new PrintStream(new FileOutputStream(f[0] + ".out"));
                 PrintStream e = new PrintStream(new FileOutputStream(f[0] + ".err"))) {
                System.setOut(o);
                System.setErr(e);
                sun.security.tools.keytool.Main.main(Arrays.copyOfRange(f, 1, f.length));
            } finally {
                System.setOut(out);
                System.setErr(err);
            }
            Files.write(Paths.get(f[0] + ".done"), new byte[0]);
        }
    }
}
EOF
njobs=0

# queue OPTION...: schedules `keytool -printcert OPTION...` (run later by run_keytool).
queue() {
    local IFS=$'\t'
    njobs=$((njobs + 1))
    printf '%s\t-printcert\t%s\n' "$tmp/job$njobs" "$*" >>"$tmp/jobs"
    printf '%s\n' "$*" >>"$tmp/jobargs"
}

# Every way a file is printed: -v, the short form and -rfc.
queue_all() {
    queue -v -file "$1"
    queue -file "$1"
    queue -rfc -file "$1"
}

# Runs the queued keytool jobs in one JVM under the current TZ and locale.
run_keytool() {
    java --add-exports java.base/sun.security.tools.keytool=ALL-UNNAMED \
        "$tmp/KeytoolBatch.java" "$tmp/jobs" >"$tmp/batch.log" 2>&1
}

# Runs dbtrust on each queued job's arguments; stdout and stderr must equal keytool's.
compare_queued() {
    local i=0 line drc
    local -a args
    while IFS= read -r line; do
        i=$((i + 1))
        IFS=$'\t' read -r -a args <<<"$line"
        compared=$((compared + 1))
        if [ ! -e "$tmp/job$i.done" ]; then
            echo "FAIL: keytool could not run -printcert ${args[*]}:"
            cat "$tmp/job$i.out" "$tmp/batch.log" 2>/dev/null | head -n 5
            fail=1
            break
        fi
        "$DBTRUST" -printcert "${args[@]}" >"$tmp/d.out" 2>"$tmp/d.err"
        drc=$?
        if [ "$drc" != 0 ]; then
            echo "FAIL: dbtrust -printcert ${args[*]} exited $drc: $(cat "$tmp/d.err")"
            fail=1
            continue
        fi
        if ! diff -u "$tmp/job$i.out" "$tmp/d.out" >"$tmp/diff"; then
            echo "FAIL: stdout differs from keytool -printcert ${args[*]}:"
            head -n 40 "$tmp/diff"
            fail=1
        fi
        if ! diff -u "$tmp/job$i.err" "$tmp/d.err" >"$tmp/diff"; then
            echo "FAIL: stderr (weak-algorithm warnings) differs from keytool -printcert ${args[*]}:"
            head -n 20 "$tmp/diff"
            fail=1
        fi
    done <"$tmp/jobargs"
    rm -f "$tmp"/job*
    njobs=0
}

# ---- generated certificates: one per feature keytool formats in its own way ----
cd "$tmp" || exit 1
cat >ext.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]
[dir_sect]
CN = Dir Name
O = Dir Org
[pol]
policyIdentifier = 1.3.6.1.4.1.99.1
CPS.1 = http://example.com/cps
userNotice.1 = @notice
[notice]
explicitText = "UTF8:Notice with ünïcode"
organization = Acme
noticeNumbers = 1,2
[crldp_sect]
fullname = URI:http://crl.example.com/a.crl
reasons = keyCompromise, CACompromise, superseded, AACompromise
CRLissuer = dirName:dir_sect
[pkup]
notBefore = IMP:0,GENTIME:20240101000000Z
notAfter = IMP:1,GENTIME:20300101000000Z
EOF

gen() {
    local name=$1
    shift
    if ! openssl req -x509 -config ext.cnf -nodes -keyout /dev/null -days 30 -out "$name.pem" \
        "$@" 2>"$name.log"; then
        echo "FAIL: could not generate the $name test certificate:"
        cat "$name.log"
        fail=1
        return 1
    fi
}

gen many -newkey rsa:2048 \
    -subj '/C=US/ST=Some State/O=Acme, Inc./OU=Unit/CN=Test  CA/emailAddress=ca@example.com/DC=example/serialNumber=1234' \
    -addext 'subjectAltName=DNS:db.example.com,DNS:*.example.com,IP:10.0.0.1,IP:2001:db8::1,email:admin@example.com,URI:https://example.com/x?y=1,dirName:dir_sect,otherName:1.2.3.4;UTF8:hello,RID:1.2.3.5' \
    -addext 'extendedKeyUsage=serverAuth,clientAuth,codeSigning,emailProtection,timeStamping,OCSPSigning,1.2.3.99' \
    -addext 'crlDistributionPoints=URI:http://crl.example.com/ca.crl,URI:ldap://ldap.example.com/cn=ca' \
    -addext 'authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://example.com/ca.crt' \
    -addext 'certificatePolicies=2.23.140.1.2.1,1.2.3.4.5,@pol' \
    -addext 'nameConstraints=critical,permitted;DNS:.example.com,permitted;IP:10.0.0.0/255.0.0.0,excluded;email:.bad.com,excluded;IP:2001:db8::/ffff:ffff::' \
    -addext 'basicConstraints=critical,CA:TRUE,pathlen:3' \
    -addext 'keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement,keyCertSign,cRLSign,encipherOnly,decipherOnly' \
    -addext '1.2.3.4.5.6=ASN1:UTF8String:custom extension value that is long enough to wrap' \
    -addext '1.2.3.4.5.7=critical,DER:01:02:03' \
    -addext 'policyConstraints=requireExplicitPolicy:1,inhibitPolicyMapping:2' \
    -addext 'inhibitAnyPolicy=2' \
    -addext 'nsCertType=client,server,email,objsign,sslCA,emailCA,objCA' \
    -addext 'issuerAltName=email:issuer@example.com,DNS:issuer.example.com' \
    -addext 'subjectInfoAccess=caRepository;URI:http://repo.example.com/' \
    -addext 'authorityKeyIdentifier=keyid,issuer:always' \
    -addext 'policyMappings=1.2.3.4:1.2.3.5' \
    -addext 'noCheck=ignored'
gen names -newkey rsa:2048 -utf8 \
    -subj '/C=DE/O=Grüße GmbH/OU=a+OU=b/CN=Ünïcödé 😀 Name/L= leading space/ST=trailing space /street=quote"and\\backslash/title=#hash/description=semi;colon<>' \
    -addext 'privateKeyUsagePeriod=ASN1:SEQUENCE:pkup' \
    -addext '1.2.3.4=ASN1:BMPSTRING:hello' -addext '1.2.3.5=critical,ASN1:NULL'
gen attrs -newkey rsa:2048 \
    -subj '/CN=attrs/emailAddress=a@b.c/UID=uid1/DC=com/serialNumber=SN1/dnQualifier=q/GN=Gi/SN=Sur/initials=I' \
    -addext 'nameConstraints=permitted;IP:2001:db8::/ffff:ffff:ff00::,permitted;URI:.example.com,excluded;dirName:dir_sect'
gen ec256 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj '/CN=ec256' \
    -addext 'crlDistributionPoints=crldp_sect' -addext 'freshestCRL=URI:http://delta.example.com/d.crl'
gen ec521 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -subj '/CN=ec521'
gen ed25519 -newkey ed25519 -subj '/CN=ed25519' -addext 'basicConstraints=CA:FALSE' \
    -addext 'subjectAltName=IP:::ffff:1.2.3.4,IP:::1'
gen ed448 -newkey ed448 -subj '/CN=ed448' -addext 'basicConstraints=critical,CA:TRUE,pathlen:0'
gen pss -newkey rsa-pss -pkeyopt rsa_keygen_bits:2048 -subj '/CN=pss'
gen psssig -newkey rsa:2048 -sigopt rsa_padding_mode:pss -subj '/CN=pss-sig'
gen rsa1024 -newkey rsa:1024 -subj '/CN=rsa1024'
gen sha1 -newkey rsa:2048 -sha1 -subj '/CN=sha1'
gen serial0 -newkey rsa:2048 -sha512 -subj '/CN=serial0' -set_serial 0
gen negserial -newkey rsa:2048 -subj '/CN=negative serial' -set_serial -12345
# a version 1 certificate (no extensions at all)
openssl req -new -config ext.cnf -newkey rsa:2048 -nodes -keyout v1.key -subj /CN=v1 \
    -out v1.csr 2>/dev/null &&
    openssl x509 -req -in v1.csr -key v1.key -days 5 -out v1.pem 2>/dev/null ||
    { echo "FAIL: could not generate the v1 test certificate"; fail=1; }

# a version 1 certificate (no extensions at all)
if ! { openssl req -new -config ext.cnf -newkey rsa:2048 -nodes -keyout v1.key -subj /CN=v1 \
    -out v1.csr && openssl x509 -req -in v1.csr -key v1.key -days 5 -out v1.pem; } 2>v1.log; then
    echo "FAIL: could not generate the v1 test certificate:"
    cat v1.log
    fail=1
fi
# Encodings openssl req cannot write, made with pyca/cryptography when it is installed:
# an extension with an empty value ("(Empty value)"), and odd.pem below.
if python3 -c 'import cryptography' 2>/dev/null; then
    python3 - <<'EOF' || { echo "FAIL: could not generate the empty-extension certificate"; fail=1; }
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

key = ec.generate_private_key(ec.SECP384R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "empty extension")])
start = datetime.datetime(2025, 1, 1)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(5)
        .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.9"), b""), False)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.10"), b"\x05\x00"), True)
        .sign(key, hashes.SHA384()))
open("empty-ext.pem", "wb").write(cert.public_bytes(Encoding.PEM))

# An empty subject, a multi-valued RDN, a 159-bit serial, notAfter in 2200, an AKI with issuer
# and serial, a CRL distribution point by relative name with reasons, unknown critical ones.
key = ec.generate_private_key(ec.SECP256R1())
rdn = x509.RelativeDistinguishedName
attr = x509.NameAttribute
issuer = x509.Name([rdn([attr(NameOID.COUNTRY_NAME, "US")]),
                    rdn([attr(NameOID.COMMON_NAME, "multi"), attr(NameOID.ORGANIZATION_NAME, "zz")])])
reasons = frozenset([x509.ReasonFlags.key_compromise, x509.ReasonFlags.privilege_withdrawn])
cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(2**158 + 5)
        .not_valid_before(start).not_valid_after(datetime.datetime(2200, 1, 1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("a.example"),
                                                    x509.UniformResourceIdentifier("urn:x")]), True)
        .add_extension(x509.AuthorityKeyIdentifier(b"\x01" * 20, [x509.DirectoryName(issuer)], 7), False)
        .add_extension(x509.BasicConstraints(False, None), True)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            None, rdn([attr(NameOID.COMMON_NAME, "rel")]), reasons, None)]), False)
        .add_extension(x509.TLSFeature([x509.TLSFeatureType.status_request]), False)
        .add_extension(x509.PrecertPoison(), True)
        .sign(key, hashes.SHA512()))
open("odd.pem", "wb").write(cert.public_bytes(Encoding.PEM))
EOF
fi
# Several certificates in one input: "Certificate[n]:" headers, warnings numbered "#n of N".
cat sha1.pem rsa1024.pem many.pem >chain.pem

for f in *.pem; do
    queue_all "$tmp/$f"
done
run_keytool
compare_queued

# Standard input when -file is absent (the real keytool launcher reads it).
keytool -printcert -v <chain.pem >k.stdin 2>&1
"$DBTRUST" -printcert -v <chain.pem >d.stdin 2>&1
compared=$((compared + 1))
cmp -s k.stdin d.stdin || {
    echo "FAIL: -printcert from standard input differs from keytool"
    fail=1
}
# Non-ASCII text is written as UTF-8 under a UTF-8 locale (as '?' under C, compared above).
if locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$'; then
    queue -v -file "$tmp/names.pem"
    LC_ALL=C.UTF-8 run_keytool
    LC_ALL=C.UTF-8 compare_queued
fi
# Dates are in the local time zone, as Java's Date.toString writes them.
queue -file "$tmp/chain.pem"
TZ=Europe/Paris run_keytool
TZ=Europe/Paris compare_queued
ngen=$compared

# ---- real bundles ----
realdata=${DBTRUST_REALDATA:-}
if [ -z "$realdata" ] || [ ! -d "$realdata" ]; then
    [ "$fail" = 0 ] || exit 1
    echo "SKIP: real CA bundles not found (DBTRUST_REALDATA='$realdata');" \
        "the $ngen comparisons on generated certificates passed" >&2
    exit 77
fi
nreal=0
for f in "$realdata"/*.pem "$realdata"/*.p7b; do
    [ -f "$f" ] || continue
    queue_all "$f"
    nreal=$((nreal + 1))
done
# Malformed files: those keytool accepts are compared too (the others are errors, cli-print.sh).
for f in "$realdata"/malformed/*; do
    [ -f "$f" ] || continue
    if keytool -printcert -file "$f" >/dev/null 2>&1; then
        queue_all "$f"
        nreal=$((nreal + 1))
    fi
done
if [ "$nreal" = 0 ]; then
    echo "FAIL: no real bundle found in $realdata"
    exit 1
fi
run_keytool
compare_queued
echo "compared $compared keytool runs ($ngen on generated certificates, $nreal real files x 3)"
exit $fail
