#!/bin/bash
# Keystores that hold keys, and keystores nothing vouches for, through every dbtrust writer:
# a key entry's chain never becomes a trust anchor (convert to each format, import, -importcert
# -file), -importcert/-delete leave a keystore with keys byte-identical, a PKCS#12 bag without
# Java's trust attribute gains no Java trust, and nothing is written from a JKS/PKCS#12 input
# whose digest or MAC was not verified with its password. Keystores are made by Java's keytool
# and read back by it.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start --skip-hint openjdk-17-jdk-headless openssl keytool
C=$tmp/cat
K="$DBTRUST --catalog $C"
q() { "$@" >/dev/null 2>&1 || fail "setup: $*"; }
# Entry types keytool lists in STORE (password changeit): "alias type" lines, sorted.
kt_entries() {
    keytool -list -keystore "$1" -storepass "${2:-changeit}" 2>/dev/null |
        awk -F', ' '/Entry, *$/ {print $1, $4}' | sort
}

# ---- a CA hierarchy, and client keystores whose key chain is client -> Inter -> Root ----
cat >x.cnf <<'EOF'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
EOF
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
    -subj /CN=Root -days 30 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -out root.pem
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key \
    -subj /CN=Inter -out inter.csr
q openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -set_serial 2 -days 30 \
    -extfile x.cnf -extensions ca -out inter.pem
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
    -subj /CN=Other -days 30 -addext basicConstraints=critical,CA:TRUE -out other.pem
for t in pkcs12 jks; do
    q keytool -genkeypair -alias me -keyalg EC -groupname secp256r1 -dname CN=client \
        -keystore ks.$t -storetype $t -storepass changeit -keypass changeit
    q keytool -certreq -alias me -keystore ks.$t -storepass changeit -file me-$t.csr
    q openssl x509 -req -in me-$t.csr -CA inter.pem -CAkey inter.key -set_serial $RANDOM \
        -days 30 -out me-$t.pem
    cat me-$t.pem inter.pem root.pem >reply-$t.pem
    q keytool -importcert -noprompt -alias me -file reply-$t.pem -keystore ks.$t \
        -storepass changeit
    # A server keystore: a key entry plus a trusted certificate entry.
    cp ks.$t server.$t
    q keytool -importcert -noprompt -alias extra -file other.pem -keystore server.$t \
        -storepass changeit
done

# ---- -list reports key entries as keytool does, never as trustedCertEntry ----
for t in pkcs12 jks; do
    for v in "" -v -rfc; do
        # Entry for entry as keytool (which sorts the aliases; dbtrust keeps the file's order).
        keytool -list $v -alias me -keystore server.$t -storepass changeit 2>/dev/null >kt.out
        expect_rc 0 $DBTRUST -list $v -alias me -keystore server.$t -storepass changeit
        cmp -s kt.out out || fail "-list $v -alias me -keystore server.$t differs from keytool's"
        keytool -list $v -alias extra -keystore server.$t -storepass changeit 2>/dev/null >kt.out
        expect_rc 0 $DBTRUST -list $v -alias extra -keystore server.$t -storepass changeit
        cmp -s kt.out out || fail "-list $v -alias extra -keystore server.$t differs from keytool's"
    done
    expect_rc 0 $DBTRUST -list -keystore server.$t -storepass changeit
    [ "$(awk -F', ' '/Entry, *$/ {print $1, $4}' out | sort)" = "$(kt_entries server.$t)" ] ||
        fail "-list -keystore server.$t lists other entries than keytool"
    has out "Your keystore contains 2 entries" "$t: a key entry is one entry"
    expect_rc 0 $DBTRUST -list -v -keystore ks.$t -storepass changeit
    has out "Certificate chain length: 3" "$t: the key entry's chain of 3"
    hasnt out "trustedCertEntry" "$t: no chain certificate listed as trustedCertEntry"
done

# -exportcert of a key entry writes its own certificate, as keytool does.
for t in pkcs12 jks; do
    keytool -exportcert -alias me -keystore ks.$t -storepass changeit 2>/dev/null >kt.out
    expect_rc 0 $DBTRUST -exportcert -alias me -keystore ks.$t -storepass changeit
    cmp -s kt.out out || fail "-exportcert -alias me -keystore ks.$t differs from keytool's"
done

# ---- no output ever takes a key entry's chain as trusted certificates ----
for t in pkcs12 jks; do
    for to in pem der p7b p7b-der pkcs12 jks hashed-dir; do
        expect_rc 1 $DBTRUST convert --to $to -i changeit ks.$t out-$to
        has err "ks.$t: entry" "convert $t -> $to names the file"
        has err "private key entry \"me\"" "convert $t -> $to names the key entry"
        [ -e out-$to ] && fail "convert $t -> $to wrote out-$to"
    done
    expect_rc 1 $K import --bundle k -p changeit ks.$t
    has err "private key entry \"me\"" "import of $t names the key entry"
    [ -e "$C" ] && fail "import of the $t key chain created the catalog"
    expect_rc 1 $DBTRUST -importcert -alias x -file ks.$t -keystore new.p12 -storepass changeit
    has err "private key entry \"me\"" "-importcert -file $t names the key entry"
    [ -e new.p12 ] && fail "-importcert -file ks.$t wrote new.p12"
done

# ---- -importcert and -delete leave a keystore that holds keys as it is ----
for t in pkcs12 jks; do
    cp server.$t before.$t
    expect_rc 1 $DBTRUST -importcert -alias newca -file root.pem -keystore server.$t \
        -storepass changeit
    has err "key entry" "-importcert into $t with a key refused"
    has err "\"me\"" "-importcert refusal names the key entry"
    cmp -s before.$t server.$t || fail "-importcert changed server.$t"
    expect_rc 1 $DBTRUST -delete -alias extra -keystore server.$t -storepass changeit
    has err "\"me\"" "-delete refusal names the key entry"
    cmp -s before.$t server.$t || fail "-delete changed server.$t"
    [ "$(kt_entries server.$t)" = "$(printf 'extra trustedCertEntry\nme PrivateKeyEntry')" ] ||
        fail "keytool no longer sees the key entry of server.$t: $(kt_entries server.$t)"
done

# ---- a PKCS#12 bag without Java's trust attribute (openssl pkcs12 -export -nokeys) ----
q openssl pkcs12 -export -nokeys -in root.pem -passout pass:changeit -out plain.p12
expect_rc 0 $DBTRUST -list -keystore plain.p12 -storepass changeit
has out "Your keystore contains 0 entries" "plain bags list as keytool lists them"
has err "PKCS#12 bag 1" "-list says which bag it skipped"
cp plain.p12 p.p12
expect_rc 0 $DBTRUST -importcert -alias other -file other.pem -keystore p.p12 -storepass changeit
[ "$(kt_entries p.p12)" = "other trustedCertEntry" ] ||
    fail "-importcert into a plain-bag PKCS#12 made Java trust more: $(kt_entries p.p12)"
expect_rc 0 $DBTRUST convert --to pkcs12 plain.p12 conv.p12
[ -z "$(kt_entries conv.p12)" ] || fail "convert --to pkcs12 gave a plain bag Java trust"
expect_rc 1 $DBTRUST convert --to jks plain.p12 conv.jks
has err "plain.p12: PKCS#12 bag 1" "convert --to jks names the untrusted bag"
[ -e conv.jks ] && fail "convert --to jks wrote conv.jks"
expect_rc 1 $DBTRUST -importcert -alias r -file plain.p12 -keystore n.jks -storetype jks
has err "PKCS#12 bag 1" "-importcert of a plain bag into JKS refused"
# OpenSSL has no trust notion for such a bag: PEM and the catalog take it as a CA.
expect_rc 0 $DBTRUST convert --to pem plain.p12 conv.pem
expect_rc 0 $K import --bundle plain plain.p12

# ---- nothing is written from a keystore whose integrity was not verified ----
q keytool -importcert -noprompt -alias r -file root.pem -keystore s.jks -storetype jks \
    -storepass secret
cp s.jks t.jks
size=$(stat -c %s t.jks)
printf '\x00' | dd of=t.jks bs=1 seek=$((size - 1)) conv=notrunc status=none
cmp -s s.jks t.jks && fail "setup: t.jks is not tampered"
cp t.jks t0.jks
expect_rc 1 $DBTRUST convert --to jks t.jks t.jks
has err "t.jks" "convert of an unverified JKS names it"
has err "--in-password" "convert says to give the password"
cmp -s t0.jks t.jks || fail "convert --to jks IN=OUT resealed a tampered JKS"
expect_rc 1 $DBTRUST convert --to jks -i secret t.jks t.jks
cmp -s t0.jks t.jks || fail "convert -i resealed a tampered JKS"
for to in pem pkcs12 hashed-dir; do
    expect_rc 1 $DBTRUST convert --to $to t.jks o-$to
    [ -e o-$to ] && fail "convert --to $to wrote from a tampered JKS"
done
expect_rc 1 $DBTRUST convert --to pem s.jks o.pem
has err "read without its password" "a JKS with an unknown password is not written from"
expect_rc 0 $DBTRUST convert --to pem -i secret s.jks o.pem
expect_rc 1 $DBTRUST -importcert -alias v -file t.jks -keystore v.p12 -storepass changeit
has err "t.jks" "-importcert -file of a tampered JKS names it"
[ -e v.p12 ] && fail "-importcert -file of a tampered JKS wrote v.p12"
expect_rc 1 $K import --bundle t t.jks
has err "t.jks" "import of a tampered JKS names it"
expect_rc 1 $K -list -alias t
has err "alias <t> does not exist" "import of a tampered JKS left the catalog as it was"
# Java's default password is tried without -i, as for PKCS#12.
q keytool -importcert -noprompt -alias r -file root.pem -keystore d.jks -storetype jks \
    -storepass changeit
expect_rc 0 $DBTRUST convert --to pem d.jks d.pem
# PKCS#12 without a MAC: nothing vouches for it.
q openssl pkcs12 -export -nokeys -nomac -in root.pem -passout pass: -certpbe NONE -out nomac.p12
for to in pkcs12 jks pem; do
    expect_rc 1 $DBTRUST convert --to $to nomac.p12 nm-$to
    has err "nomac.p12" "convert --to $to of a MAC-less PKCS#12 names it"
    has err "no integrity MAC" "convert --to $to says why"
    [ -e nm-$to ] && fail "convert --to $to wrote from a MAC-less PKCS#12"
done
expect_rc 1 $DBTRUST -importcert -alias v -file nomac.p12 -keystore v.p12 -storepass changeit
[ -e v.p12 ] && fail "-importcert -file of a MAC-less PKCS#12 wrote v.p12"

exit $failed
