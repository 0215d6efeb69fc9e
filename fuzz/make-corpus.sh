#!/bin/sh
# Makes fuzz seeds. Two uses:
#
#   make-corpus.sh realdata OUT    seeds derived from $DBTRUST_REALDATA (real public bundles, never
#                                  copied into the repository), written under OUT/<target>/; fuzz.sh
#                                  runs this into the build tree. Without realdata it makes nothing.
#   make-corpus.sh committed OUT   the small committed corpus (fuzz/corpus/<target>/), from the two
#                                  fixed certificates of fuzz_common.c, with openssl, keytool,
#                                  python3 and the built CLI ($DBTRUST). Run by hand when the
#                                  formats change: make-corpus.sh committed fuzz/corpus
#
# $DBTRUST (the built CLI) is used for catalog seeds and JKS conversions; without it those
# seeds are left out. $P12CRAFT (the built tests/p12craft, default: beside $DBTRUST) rewrites
# PKCS#12 iteration counts for the key-derivation limit seeds; without it those are left out.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
out=${2:-}
[ -n "$mode" ] && [ -n "$out" ] || {
    sed -n '3,10p' "$0" | sed 's/^# *//' >&2
    exit 2
}
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
DBTRUST=${DBTRUST:-}
P12CRAFT=${P12CRAFT:-${DBTRUST:+$(dirname "$DBTRUST")/tests/p12craft}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$out"
for t in fuzz_bundle fuzz_pem fuzz_jks fuzz_p12 fuzz_catalog_index fuzz_provider; do
    mkdir -p "$out/$t"
done

have_cli() {
    [ -n "$DBTRUST" ] && [ -x "$DBTRUST" ]
}

# flip FILE N: inverts the Nth byte from the end (1 = the last), in place.
flip() {
    size=$(wc -c <"$1")
    off=$((size - $2))
    byte=$(od -An -tu1 -j "$off" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((byte ^ 255)))" | dd of="$1" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

# Two bytes, big-endian, of a number below 65536.
u16() {
    printf "\\$(printf %03o $(($1 / 256)))\\$(printf %03o $(($1 % 256)))"
}

# catalog_seeds NAME PEM...: a catalog made by the CLI from the PEM files (bundle NAME, then
# "beta" from the last file), and its index, meta and bundle as fuzz_catalog_index inputs
# (selector byte 0, 1, 2) plus the index as a fuzz_provider index-mode input.
catalog_seeds() {
    name=$1
    shift
    have_cli || return 0
    cat_dir="$work/cat-$name"
    # Real bundles carry expired certificates: the warnings are expected, failures are not.
    "$DBTRUST" --catalog "$cat_dir" import -q --allow-leaf --bundle "$name" "$@" >/dev/null \
        2>"$work/import.log" || {
        cat "$work/import.log" >&2
        exit 1
    }
    gen="$cat_dir/$(readlink "$cat_dir/current")"
    { printf '\000'; cat "$gen/certs/index"; } >"$out/fuzz_catalog_index/$name-index"
    { printf '\001'; cat "$gen/bundles/$name.meta"; } >"$out/fuzz_catalog_index/$name-meta"
    { printf '\002'; cat "$gen/bundles/$name.pem"; } >"$out/fuzz_catalog_index/$name-pem"
    n=$(wc -c <"$gen/certs/index")
    if [ "$n" -lt 65536 ]; then
        # mode 0x20 (index replaced, list everything), empty URI tail, index length, index.
        { printf '\040\000'; u16 "$n"; cat "$gen/certs/index"; } \
            >"$out/fuzz_provider/$name-index"
    fi
}

realdata() {
    rd=${DBTRUST_REALDATA:-}
    if [ -z "$rd" ] || [ ! -d "$rd" ]; then
        echo "make-corpus.sh: no realdata directory (DBTRUST_REALDATA='$rd'): committed seeds only"
        return 0
    fi
    for f in "$rd"/*.pem "$rd"/*.p7b "$rd"/malformed/*; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        cp "$f" "$out/fuzz_bundle/$b"
        case $b in *.pem) cp "$f" "$out/fuzz_pem/$b" ;; esac
    done
    us="$rd/aws-rds-us-east-1-bundle.pem"
    if [ -f "$us" ]; then
        openssl pkcs12 -export -nokeys -in "$us" -passout pass:changeit \
            -out "$out/fuzz_p12/us-east-1.p12" 2>/dev/null
        openssl pkcs12 -export -nokeys -in "$us" -passout pass: -nomac \
            -out "$out/fuzz_p12/us-east-1-nomac.p12" 2>/dev/null
        cp "$out/fuzz_p12/us-east-1.p12" "$out/fuzz_bundle/us-east-1.p12"
        if have_cli; then
            "$DBTRUST" convert --to jks "$us" "$out/fuzz_jks/us-east-1.jks" >/dev/null 2>&1
            cp "$out/fuzz_jks/us-east-1.jks" "$out/fuzz_bundle/us-east-1.jks"
        fi
        catalog_seeds us-east-1 "$us"
    fi
    if [ -f "$rd/aws-rds-global-bundle-2022.pem" ]; then
        catalog_seeds global-2022 "$rd/aws-rds-global-bundle-2022.pem"
    fi
    echo "make-corpus.sh: realdata seeds in $out"
}

# DER fields of the fixed certificates, for provider search seeds.
provider_seeds() {
    python3 - "$work" "$out/fuzz_provider" <<'EOF'
import hashlib, os, subprocess, sys

work, out = sys.argv[1], sys.argv[2]

def tlv(b, i):
    """(tag, start of value, end of value) of the DER element at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n

def fields(der):
    _, s, _ = tlv(der, 0)                # Certificate
    _, s, e = tlv(der, s)                # TBSCertificate
    i = s
    t, vs, ve = tlv(der, i)
    if t == 0xA0:                        # [0] version
        i = ve
    t, vs, ve = tlv(der, i)              # serial
    serial = der[vs:ve]
    i = ve
    i = tlv(der, i)[2]                   # signature algorithm
    t, vs, ve = tlv(der, i)              # issuer
    issuer = der[i:ve]
    i = tlv(der, ve)[2]                  # validity
    t, vs, ve = tlv(der, i)              # subject
    subject = der[i:ve]
    return serial, issuer, subject

def seed(name, mode, uri, payload):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([mode, len(uri)]) + uri + payload)

for n in ("alpha", "beta"):
    der = open(os.path.join(work, n + ".der"), "rb").read()
    serial, issuer, subject = fields(der)
    # OSSL_PARAM BN: native-endian (x86: little-endian) unsigned bytes.
    bn = bytes(reversed(serial.lstrip(b"\0"))) or b"\0"
    seed(n + "-subject", 1, b"", subject)
    seed(n + "-subject-in-alpha", 1, b"alpha", subject)
    seed(n + "-subject-expect-cert", 0x11, b"", subject)
    seed(n + "-issuer-serial", 2, b"", bytes([len(issuer)]) + issuer + bn)
    seed(n + "-sha1-digest", 3, b"", bytes([0]) + hashlib.sha1(der).digest())
    seed(n + "-sha256-digest", 3, b"beta", bytes([1]) + hashlib.sha256(der).digest())
    seed(n + "-sha256", 4, b"", hashlib.sha256(der).digest())
    seed(n + "-sha1", 4, b"alpha", hashlib.sha1(der).digest())
    # The same searches through OSSL_STORE_open_ex + OSSL_STORE_find (bit 6) and open_ex (bit 7).
    seed(n + "-subject-find", 0x41, b"", subject)
    seed(n + "-issuer-serial-find", 0x42, b"", bytes([len(issuer)]) + issuer + bn)
    seed(n + "-sha256-find", 0x43, b"", bytes([1]) + hashlib.sha256(der).digest())
    seed(n + "-subject-open-ex", 0x81, b"alpha", subject)
seed("all", 0, b"", b"")
seed("all-find", 0x40, b"", b"")
seed("alias-find", 0x45, b"", b"beta")
seed("alias-open-ex", 0x85, b"", b"alpha")
# OSSL_STORE_open_ex with an unusable alias as a parameter: crashed hosts on OpenSSL 3.0 until
# the provider stopped refusing parameters (an unusable search now finds nothing).
seed("crash-openssl30-open-ex-bad-alias", 0xC5, b"", b".bad")
seed("bundle-alpha", 0, b"alpha", b"")
seed("bundle-missing", 0, b"gamma", b"")
seed("bad-uri", 0, b"../etc", b"")
seed("raw-uri", 8, b"//beta", b"")
seed("alias-alpha", 5, b"", b"alpha")
seed("alias-beta-in-alpha", 5, b"alpha", b"beta")
seed("alias-bad", 5, b"", b".hidden")
seed("expect-key", 0x16, b"", bytes([2]))
EOF
}

committed() {
    fc="$here/fuzz_common.c"
    # The fixed certificates of fuzz_common.c, so seeds carry their real fingerprints.
    for n in alpha beta; do
        sed -n "/^static const char fixed_$n\\[\\]/,/;\$/p" "$fc" |
            sed -n 's/^ *"\(.*\)\\n";\{0,1\}$/\1/p' >"$work/$n.pem"
        openssl x509 -in "$work/$n.pem" -outform DER -out "$work/$n.der"
    done
    cat "$work/alpha.pem" "$work/beta.pem" >"$work/two.pem"
    key="$work/key.pem"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null

    # PEM variants: what the scanner must accept or refuse precisely.
    b="$out/fuzz_bundle"
    p="$out/fuzz_pem"
    cp "$work/alpha.pem" "$p/one.pem"
    cp "$work/two.pem" "$p/two.pem"
    sed 's/$/\r/' "$work/two.pem" >"$p/two-crlf.pem"
    { printf '\357\273\277'; cat "$work/alpha.pem"; } >"$p/bom.pem"
    { echo "subject=fuzz alpha"; cat "$work/alpha.pem"; echo "text between"; cat "$work/beta.pem"; } \
        >"$p/text-between.pem"
    { printf '    '; cat "$work/two.pem"; } >"$p/indented-begin.pem"
    openssl x509 -in "$work/alpha.pem" -trustout -addtrust serverAuth >"$p/trusted.pem"
    { cat "$work/alpha.pem"; cat "$key"; } >"$p/cert-and-key.pem"
    sed '3s/./!/' "$work/alpha.pem" >"$p/bad-base64.pem"
    head -n 4 "$work/alpha.pem" >"$p/truncated.pem"
    openssl crl2pkcs7 -nocrl -certfile "$work/two.pem" -out "$p/two-p7.pem"
    cp "$p"/*.pem "$b/"
    cp "$work/alpha.der" "$b/alpha.der"
    openssl crl2pkcs7 -nocrl -certfile "$work/two.pem" -outform DER -out "$b/two-p7.der"

    # PKCS#12: modern (PBES2/AES, SHA-256 MAC), legacy (RC2/3DES, SHA-1 MAC), no MAC, with a key.
    q="$out/fuzz_p12"
    openssl pkcs12 -export -nokeys -in "$work/two.pem" -passout pass:changeit -out "$q/two.p12"
    openssl pkcs12 -export -nokeys -in "$work/two.pem" -passout pass:changeit -legacy \
        -out "$q/two-legacy.p12" 2>/dev/null || true
    openssl pkcs12 -export -nokeys -in "$work/two.pem" -passout pass: -nomac \
        -out "$q/two-nomac.p12"
    openssl req -x509 -key "$key" -subj "/CN=fuzz leaf" -days 3650 -out "$work/leaf.pem"
    openssl pkcs12 -export -in "$work/leaf.pem" -inkey "$key" -certfile "$work/alpha.pem" \
        -passout pass:changeit -name leaf -out "$q/key-entry.p12"
    # Key-derivation limits (lib/p12.h): MAC, PBKDF2 and PKCS#12-PBE counts above the cap, up to
    # 2^31-1 and beyond, negative, and scrypt: refused before any work. Integrity: a MAC that no
    # password matches.
    if [ -n "$P12CRAFT" ] && [ -x "$P12CRAFT" ]; then
        openssl pkcs12 -export -nokeys -in "$work/two.pem" -passout pass:changeit -iter 2048 \
            -certpbe PBE-SHA1-3DES -out "$work/3des.p12"
        openssl pkcs12 -export -nokeys -in "$work/two.pem" -passout pass:changeit -iter 2048 \
            -nomac -certpbe AES-256-CBC -out "$work/nomac-aes.p12"
        "$P12CRAFT" mac-iter 2147483647 "$q/two.p12" "$q/mac-iter-2147483647.p12"
        "$P12CRAFT" mac-iter 5000001 "$q/two.p12" "$q/mac-iter-5000001.p12"
        "$P12CRAFT" mac-iter 99999999999999999999 "$q/two.p12" "$q/mac-iter-huge.p12"
        "$P12CRAFT" mac-iter -1 "$q/two.p12" "$q/mac-iter-negative.p12"
        "$P12CRAFT" safe-iter 2147483647 "$q/two.p12" "$q/pbkdf2-iter-2147483647.p12"
        "$P12CRAFT" safe-iter 2147483647 "$work/nomac-aes.p12" "$q/pbkdf2-iter-2147483647-nomac.p12"
        "$P12CRAFT" safe-iter 2147483647 "$work/3des.p12" "$q/pbe-iter-2147483647.p12"
        "$P12CRAFT" scrypt "$work/nomac-aes.p12" "$q/scrypt.p12"
        cp "$q/two.p12" "$q/mac-tampered.p12"
        flip "$q/mac-tampered.p12" 20
    else
        echo "make-corpus.sh: P12CRAFT not built: no PKCS#12 key-derivation limit seeds" >&2
    fi
    cp "$q"/*.p12 "$b/"

    # JKS and JCEKS from Java's own keytool: trusted entries, and a private key entry.
    j="$out/fuzz_jks"
    if command -v keytool >/dev/null 2>&1; then
        for n in alpha beta; do
            keytool -importcert -noprompt -alias "$n" -file "$work/$n.pem" -keystore "$j/two.jks" \
                -storetype jks -storepass changeit >/dev/null 2>&1
            keytool -importcert -noprompt -alias "$n" -file "$work/$n.pem" \
                -keystore "$j/two.jceks" -storetype jceks -storepass changeit >/dev/null 2>&1
        done
        keytool -genkeypair -alias key -keyalg EC -groupname secp256r1 -dname "CN=fuzz key" \
            -keystore "$j/key-entry.jks" -storetype jks -storepass changeit -keypass changeit \
            >/dev/null 2>&1
        # Integrity: one flipped byte of the digest.
        cp "$j/two.jks" "$j/two-digest-tampered.jks"
        flip "$j/two-digest-tampered.jks" 1
        cp "$j"/* "$b/"
    else
        echo "make-corpus.sh: keytool not found: no JKS seeds" >&2
    fi
    # Counts a reader must not trust: 2^31-1 entries, and a key entry claiming a chain of 2^31-1
    # certificates, in files of a few dozen bytes (work bounded by the input's length).
    { printf '\376\355\376\355\000\000\000\002\177\377\377\377'; head -c 20 /dev/zero; } \
        >"$j/count-2147483647.jks"
    { printf '\376\355\376\355\000\000\000\002\000\000\000\001\000\000\000\001\000\001k'
        head -c 8 /dev/zero; printf '\000\000\000\001\000\177\377\377\377'; head -c 20 /dev/zero; } \
        >"$j/chain-2147483647.jks"
    cp "$j/count-2147483647.jks" "$j/chain-2147483647.jks" "$b/"

    # The catalog's own files, as the CLI writes them (bundles as fuzz_make_catalog makes them).
    if have_cli; then
        cat_dir="$work/catalog"
        "$DBTRUST" --catalog "$cat_dir" import -q --bundle alpha "$work/beta.pem" \
            "$work/alpha.pem" >/dev/null
        "$DBTRUST" --catalog "$cat_dir" import -q --bundle beta "$work/beta.pem" >/dev/null
        gen="$cat_dir/$(readlink "$cat_dir/current")"
        c="$out/fuzz_catalog_index"
        { printf '\000'; cat "$gen/certs/index"; } >"$c/index"
        { printf '\001'; cat "$gen/bundles/alpha.meta"; } >"$c/meta"
        { printf '\002'; cat "$gen/bundles/alpha.pem"; } >"$c/bundle-pem"
        n=$(wc -c <"$gen/certs/index")
        { printf '\040\000'; u16 "$n"; cat "$gen/certs/index"; } >"$out/fuzz_provider/index-all"
        { printf '\040\005alpha'; u16 "$n"; cat "$gen/certs/index"; } \
            >"$out/fuzz_provider/index-alpha"
    else
        echo "make-corpus.sh: DBTRUST not set: no catalog seeds" >&2
    fi
    provider_seeds
    echo "make-corpus.sh: committed seeds in $out ($(du -sk "$out" | cut -f1) KiB)"
}

case $mode in
realdata) realdata ;;
committed) committed ;;
*)
    echo "make-corpus.sh: unknown mode $mode (realdata or committed)" >&2
    exit 2
    ;;
esac
