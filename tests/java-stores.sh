#!/bin/bash
# Cross-checks lib/'s Java truststores with Java's own keytool: our PKCS#12 and JKS files list as
# exactly N trustedCertEntry with the right SHA-256 fingerprints and aliases, and stores keytool
# writes (JKS, PKCS12, JCEKS; trusted certificates plus a private key entry) decode to the right
# certificates. Drives lib/ through the test-only tests/jks_tool.
set -eu
unset SSL_CERT_FILE SSL_CERT_DIR

if ! command -v keytool >/dev/null 2>&1; then
    echo "SKIP: keytool not found (install a JDK, e.g. apt-get install default-jdk-headless)" >&2
    exit 77
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "SKIP: the openssl command is needed to make test certificates" >&2
    exit 77
fi
TOOL=${DBTRUST_BUILDDIR:-.}/tests/jks_tool
if [ ! -x "$TOOL" ]; then
    echo "error: $TOOL is not built; run this through make check" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

# SHA-256 fingerprints (keytool's spelling: uppercase, colons) of every certificate of PEM files,
# one per line, computed without lib/: by GnuTLS certtool in one run when installed, else by the
# openssl command one certificate at a time.
pem_fingerprints() {
    local d f
    if command -v certtool >/dev/null 2>&1; then
        cat "$@" >"$work/fp-in.pem"
        certtool -i --infile "$work/fp-in.pem" |
            awk '/^\tFingerprint:/ { fp = 1; next } fp && /sha256:/ { sub(/.*sha256:/, ""); print; fp = 0 }' |
            tr a-f A-F | sed 's/../&:/g; s/:$//'
        return
    fi
    d=$(mktemp -d -p "$work")
    cat "$@" | awk -v dir="$d" '/-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/%06d.pem", dir, n) }
        f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }'
    for f in "$d"/*.pem; do
        openssl x509 -in "$f" -noout -fingerprint -sha256 | sed 's/^.*=//'
    done
}

# keytool -list -v of STORE with PASSWORD: "Alias name", "Entry type", SHA256 lines.
keytool_listing() {
    keytool -list -v -keystore "$1" -storepass "$2" 2>&1
}

# Our truststore (format jks|pkcs12) from PEM files, read back by keytool.
check_ours() {
    local fmt=$1 label=$2 pw=$3
    shift 3
    local store="ours-$label.$fmt" n listing pwargs=()
    [ "$pw" != - ] && pwargs=(-p "$pw")
    if ! "$TOOL" encode "$fmt" "$store" "${pwargs[@]}" "$@" 2>err.txt; then
        fail "$label $fmt: jks_tool encode failed: $(cat err.txt)"
        return
    fi
    [ "$pw" = - ] && pw=changeit
    pem_fingerprints "$@" | sort >want.fp
    n=$(wc -l <want.fp)
    listing=$(keytool_listing "$store" "$pw") || {
        fail "$label $fmt: keytool cannot read our store: $listing"
        return
    }
    if ! grep -q "^Your keystore contains $n entr" <<<"$listing"; then
        fail "$label $fmt: keytool does not count $n entries: $(grep '^Your keystore' <<<"$listing")"
    fi
    if [ "$(grep -c '^Entry type: trustedCertEntry$' <<<"$listing")" != "$n" ] ||
        [ "$(grep -c '^Entry type:' <<<"$listing")" != "$n" ]; then
        fail "$label $fmt: keytool does not list exactly $n trustedCertEntry"
    fi
    sed -n 's/^[[:space:]]*SHA256: //p' <<<"$listing" | sort >got.fp
    if ! cmp -s want.fp got.fp; then
        fail "$label $fmt: keytool's SHA-256 fingerprints differ from openssl's: $(diff want.fp got.fp | head -5)"
    fi
    # The aliases keytool shows are the ones we wrote (and read back).
    sed -n 's/^Alias name: //p' <<<"$listing" | sort >got.alias
    "$TOOL" decode -p "$pw" "$store" | cut -f3 | sort >ours.alias
    if ! cmp -s got.alias ours.alias; then
        fail "$label $fmt: keytool's aliases differ from ours: $(diff got.alias ours.alias | head -5)"
    fi
    if [ "$(sort -u got.alias | wc -l)" != "$n" ]; then
        fail "$label $fmt: aliases are not unique"
    fi
    pass "$label $fmt: keytool lists $n trustedCertEntry with the right fingerprints"
}

# Test certificates: two share a CN, so aliases must be de-duplicated.
k=0
for i in 1 2 3 1; do
    k=$((k + 1))
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "/O=dbtrust test/CN=Test Root $i" -days 3650 -out "c$k.pem" 2>/dev/null
done
for fmt in jks pkcs12; do
    check_ours "$fmt" generated storepw1 c1.pem c2.pem c3.pem c4.pem
    check_ours "$fmt" default-password - c1.pem c2.pem
done
if grep -q '^Alias name: test root 1-2$' <(keytool_listing ours-generated.jks storepw1); then
    pass "duplicate CN got alias 'test root 1-2'"
else
    fail "duplicate CN: no alias 'test root 1-2' in ours-generated.jks"
fi

real=${DBTRUST_REALDATA:-}
if [ -n "$real" ] && [ -f "$real/aws-rds-global-bundle.pem" ] && [ -f "$real/gcp-cloudsql-server-ca.pem" ]; then
    for fmt in jks pkcs12; do
        check_ours "$fmt" realdata changeit "$real/aws-rds-global-bundle.pem" \
            "$real/gcp-cloudsql-server-ca.pem"
    done
else
    echo "SKIP (part): real bundles not found in DBTRUST_REALDATA='$real'; generated certificates only" >&2
fi

# Stores written by keytool itself: trusted certificates plus a private key entry.
for type in JKS PKCS12 JCEKS; do
    store=k.$type
    for i in 1 2 3; do
        keytool -importcert -noprompt -trustcacerts -alias "ca$i" -file "c$i.pem" \
            -keystore "$store" -storetype "$type" -storepass changeit >/dev/null 2>&1 ||
            fail "keytool -importcert into $type failed"
    done
    keytool -genkeypair -alias mykey -keyalg EC -groupname secp256r1 -dname "CN=Key Owner" \
        -validity 30 -keystore "$store" -storetype "$type" -storepass changeit \
        -keypass changeit >/dev/null 2>&1 || fail "keytool -genkeypair into $type failed"
    keytool -exportcert -rfc -alias mykey -keystore "$store" -storetype "$type" \
        -storepass changeit >mykey.pem 2>/dev/null || fail "keytool -exportcert from $type failed"
    pem_fingerprints c1.pem c2.pem c3.pem mykey.pem | sort >want.fp
    if ! "$TOOL" decode -p changeit "$store" >dec.txt 2>err.txt; then
        fail "keytool $type store: decode failed: $(cat err.txt)"
        continue
    fi
    cut -f1 dec.txt | sort >got.fp
    cut -f3 dec.txt | sort | tr '\n' ' ' >got.alias
    if cmp -s want.fp got.fp && [ "$(cat got.alias)" = "ca1 ca2 ca3 mykey " ]; then
        pass "keytool $type store (3 trusted + 1 key entry) decodes to the right 4 certificates"
    else
        fail "keytool $type store decodes wrong: $(cat dec.txt)"
    fi
    if "$TOOL" decode -p wrongpass "$store" >/dev/null 2>err.txt; then
        fail "keytool $type store: a wrong password was accepted"
    elif grep -q "integrity check failed: wrong password" err.txt; then
        pass "keytool $type store: wrong password refused: $(cat err.txt)"
    else
        fail "keytool $type store: unexpected wrong-password message: $(cat err.txt)"
    fi
done

# JCEKS secret key entries cannot be stepped over: a clear error, not a crash or a silent drop.
keytool -importcert -noprompt -alias ca1 -file c1.pem -keystore s.jceks -storetype JCEKS \
    -storepass changeit >/dev/null 2>&1
keytool -genseckey -alias aes -keyalg AES -keysize 128 -keystore s.jceks -storetype JCEKS \
    -storepass changeit -keypass changeit >/dev/null 2>&1
if "$TOOL" decode -p changeit s.jceks >/dev/null 2>err.txt; then
    fail "JCEKS with a secret key entry decoded without complaint"
elif grep -q '"aes" is a secret key entry' err.txt; then
    pass "JCEKS secret key entry refused: $(cat err.txt)"
else
    fail "JCEKS secret key entry: unexpected message: $(cat err.txt)"
fi

# Passwordless PKCS#12 as Java writes it (no MAC, plain certificate bags).
if keytool -J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE \
    -J-Dkeystore.pkcs12.macAlgorithm=NONE -importcert -noprompt -alias ca2 -file c2.pem \
    -keystore nopw.p12 -storetype PKCS12 -storepass changeit >/dev/null 2>&1; then
    pem_fingerprints c2.pem >want.fp
    if "$TOOL" decode nopw.p12 >dec.txt 2>err.txt && [ "$(cut -f1 dec.txt)" = "$(cat want.fp)" ] &&
        [ "$(cut -f3 dec.txt)" = ca2 ]; then
        pass "Java passwordless PKCS#12 decodes without a password"
    else
        fail "Java passwordless PKCS#12: $(cat dec.txt err.txt)"
    fi
else
    fail "keytool could not write a passwordless PKCS#12"
fi

# Non-ASCII JKS passwords: Java digests UTF-16 code units; both directions must agree.
if locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$'; then
    pw='pässwörd🔑'
    LC_ALL=C.UTF-8 "$TOOL" encode jks u.jks -p "$pw" c1.pem
    if LC_ALL=C.UTF-8 keytool -list -keystore u.jks -storepass "$pw" 2>&1 | grep -q trustedCertEntry; then
        pass "keytool opens our JKS with a non-ASCII password"
    else
        fail "keytool cannot open our JKS with a non-ASCII password"
    fi
    LC_ALL=C.UTF-8 keytool -importcert -noprompt -alias 'ça 🔑' -file c2.pem -keystore u2.jks \
        -storetype JKS -storepass "$pw" >/dev/null 2>&1
    if [ "$(LC_ALL=C.UTF-8 "$TOOL" decode -p "$pw" u2.jks | cut -f3)" = 'ça 🔑' ]; then
        pass "keytool's JKS with a non-ASCII password and alias decodes"
    else
        fail "keytool's JKS with a non-ASCII password or alias does not decode"
    fi
else
    echo "SKIP (part): no C.UTF-8 locale for the non-ASCII password check" >&2
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all Java truststore checks passed"
