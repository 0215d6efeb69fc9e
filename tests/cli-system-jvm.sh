#!/usr/bin/env bash
# dbtrust system enable|refresh|disable|status and the JVM truststore, in a private mount
# namespace (tests/lib/sysiso.sh) over a copy of the machine's own JKS cacerts: enable adds
# exactly the unscoped catalog CAs as dbtrust-<bundle>-<sha256 prefix> entries (keytool lists
# them, with the catalog's SHA-256 fingerprints), every other entry stays byte for byte, import
# and remove follow, disable gives back the original file, a scoped bundle is left out (and
# status says so), a PKCS#12 store stays PKCS#12, a wrong password, a garbage store, an alias
# taken by someone else, a symlink to elsewhere and a FIFO are refused with nothing changed, no
# store is "nothing to do", and the entries survive update-ca-certificates (plain and --fresh,
# with ca-certificates-java's own rebuild, even of a missing store) through the packaged hooks.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF DBTRUST_SYSTEM_CERT_DIR \
    DBTRUST_SYSTEM_CERT_FILE DBTRUST_SYSTEM_STATE DBTRUST_SYSTEM_JVM_STORE
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=$(realpath "${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}")
export DBTRUST

# Only the CLI runs here: the sanitizer pass covers the same library code through
# tests/cli-system.sh and the unit tests, and CI time is short.
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: the JVM truststore test runs in the normal pass (it runs keytool and" \
        "update-ca-certificates, no dbtrust code in-process)"
    exit 77
}
. "$src/tests/lib/sysiso.sh"
for t in keytool openssl update-ca-certificates; do
    command -v "$t" >/dev/null || {
        dbt_skip_reason "$t is missing (apt-get install default-jre-headless ca-certificates-java)"
        exit 77
    }
done
[ -f /etc/ssl/certs/java/cacerts ] || {
    dbt_skip_reason "no JVM truststore at /etc/ssl/certs/java/cacerts (apt-get install" \
        "ca-certificates-java)"
    exit 77
}
dbt_sysiso_enter "$0" "$@" || exit $?

. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-system-jvm.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
dbt_sysiso_setup "$w/iso" || { echo "Bail out! isolation failed"; exit 1; }
store=/etc/ssl/certs/java/cacerts
case $(head -c4 "$store" | od -An -tx1 | tr -d ' \n') in
feedfeed) ;;
*) echo "Bail out! $store is not a JKS store"; exit 1 ;;
esac
cp -a "$store" "$w/orig.jks"
pki=$w/pki
dbt_demo_pki "$pki" db.demo.internal || { echo "Bail out! demo PKI failed"; exit 1; }
export DBTRUST_CATALOG=$w/catalog

sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
# keytool's own listing of a store: "alias fingerprint" of dbtrust's entries, sorted.
ours() {
    keytool -list -keystore "$1" -storepass "${2:-changeit}" 2>/dev/null | awk '
        /trustedCertEntry/ { split($0, f, ","); a = f[1] }
        /^Certificate fingerprint \(SHA-256\)/ { if (a ~ /^dbtrust-/) { g = $4; gsub(":", "", g);
            print a, tolower(g) } a = "" }' | sort
}
# Every entry that is not dbtrust's, as keytool -list -rfc prints it (alias, date, type, PEM).
others() {
    keytool -list -rfc -keystore "$1" -storepass "${2:-changeit}" 2>/dev/null | awk '
        /^Alias name: / { keep = ($3 !~ /^dbtrust-/) }
        /^Your keystore contains/ { next }
        keep'
}
count_entries() {
    keytool -list -keystore "$1" -storepass "${2:-changeit}" 2>/dev/null |
        sed -n 's/^Your keystore contains \([0-9]*\) entr.*/\1/p'
}
want_line() { echo "dbtrust-$1-$(sha_of "$2" | cut -c1-16) $(sha_of "$2")"; }

n0=$(count_entries "$store")
others0=$(others "$store")
[ -n "$n0" ] && [ "$n0" -gt 0 ] && [ -n "$others0" ] ||
    { echo "Bail out! keytool cannot list $store"; exit 1; }

# ---- the machine's JKS store (its isolated copy)
expect "import an unscoped bundle" ok "" "$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem"
expect "import a scoped bundle" ok "" "$DBTRUST" import -q --bundle scoped \
    --only-for db.other.internal "$pki/other-root.pem"
expect "enable writes the unscoped CAs into the JVM truststore" ok \
    "JVM truststore: 3 catalog certificates in $store (JKS) (3 new, 0 removed)" \
    "$DBTRUST" system enable
want=$(for r in rsa2048 rsa4096 ecc384; do want_line demo "$pki/root-$r.pem"; done | sort)
expect_eq "keytool lists exactly the unscoped CAs, under dbtrust's aliases, with their SHA-256" \
    "$(ours "$store")" "$want"
expect_eq "the store holds the original entries and 3 more" "$(count_entries "$store")" \
    "$((n0 + 3))"
expect_eq "every original entry is unchanged (keytool -list -rfc)" "$(others "$store")" \
    "$others0"
grep -q "$(sha_of "$pki/other-root.pem" | cut -c1-16)" <<<"$(ours "$store")" &&
    not_ok "the scoped bundle's CA is in the JVM truststore" ||
    ok "the scoped bundle's CA is left out of the JVM truststore"
expect "status names the store, its format and dbtrust's entries" ok \
    "JVM truststore: $store (JKS): $((n0 + 3)) entries, 3 of them dbtrust's; 0 missing, 0 stale" \
    "$DBTRUST" system status
expect "status says the scoped bundle is left out and how to serve it to Java" ok \
    "bundle 'scoped' is scoped, so it is left out" "$DBTRUST" system status
expect "status points at export --format jks for it" ok \
    "dbtrust export --format jks --bundle scoped FILE" "$DBTRUST" system status
keytool -list -keystore "$store" -storepass changeit >/dev/null 2>&1 &&
    ok "Java's keytool loads the written store" || not_ok "keytool cannot load $store"
st=$(stat -c '%U:%G %a' "$store")
expect_eq "owner and mode are kept" "$st" "$(stat -c '%U:%G %a' "$w/orig.jks")"
snap=$(cat "$store" | sha256sum)
expect "enable again" ok "(0 new, 0 removed)" "$DBTRUST" system enable
expect_eq "a store in step is not rewritten" "$(sha256sum <"$store")" "$snap"

expect "import another unscoped bundle" ok "" "$DBTRUST" import -q --bundle extra \
    "$pki/intermediate.pem"
expect_eq "the import added its CA to the JVM truststore" "$(ours "$store")" \
    "$( (echo "$want"; want_line extra "$pki/intermediate.pem") | sort)"
expect "remove the bundle" ok "" "$DBTRUST" remove --bundle extra
expect_eq "the removal took its CA out of the JVM truststore" "$(ours "$store")" "$want"
expect "refresh" ok "JVM truststore: 3 catalog certificates in $store (JKS) (0 new, 0 removed)" \
    "$DBTRUST" system refresh

# ---- update-ca-certificates, with ca-certificates-java's hook and dbtrust's packaged hooks
for h in dbtrust zz-dbtrust-jvm; do
    sed "s|@bindir@|$(dirname "$DBTRUST")|" "$src/certs/update-ca-certificates-hook" \
        >"/etc/ca-certificates/update.d/$h" && chmod 755 "/etc/ca-certificates/update.d/$h"
done
sed -i "s|^dbtrust=.*|dbtrust=$DBTRUST|" /etc/ca-certificates/update.d/{dbtrust,zz-dbtrust-jvm}
if [ -x /etc/ca-certificates/update.d/jks-keystore ]; then
    expect "update-ca-certificates (ca-certificates-java's rebuild runs)" ok "" \
        update-ca-certificates
    expect_eq "dbtrust's entries survive update-ca-certificates" "$(ours "$store")" "$want"
    expect "update-ca-certificates --fresh" ok "" update-ca-certificates --fresh
    expect_eq "dbtrust's entries survive update-ca-certificates --fresh" "$(ours "$store")" "$want"
    rm -f "$store"
    expect "update-ca-certificates --fresh with no JVM store (ca-certificates-java makes one)" ok \
        "" update-ca-certificates --fresh
    [ -f "$store" ] && ok "ca-certificates-java made a new store" ||
        not_ok "no store after ca-certificates-java's rebuild"
    expect_eq "the hook after jks-keystore put dbtrust's entries into the new store" \
        "$(ours "$store")" "$want"
else
    echo "# SKIP update-ca-certificates survival: no ca-certificates-java hook here"
fi
rm -f /etc/ca-certificates/update.d/{dbtrust,zz-dbtrust-jvm}

# ca-certificates-java's rebuild of a missing store dated its entries anew: compare with it.
others1=$(others "$store")
expect "disable" ok "JVM truststore: removed dbtrust's 3 entries from $store (JKS)" \
    "$DBTRUST" system disable
expect_eq "disable leaves none of dbtrust's entries" "$(ours "$store")" ""
expect_eq "disable gives back the original entry set" "$(others "$store")" "$others1"
cp -a "$w/orig.jks" "$store"
expect "enable on the original copy" ok "(3 new, 0 removed)" "$DBTRUST" system enable
expect "disable again" ok "removed dbtrust's 3 entries" "$DBTRUST" system disable
cmp -s "$store" "$w/orig.jks" && ok "enable then disable gives back the original file, byte for byte" ||
    not_ok "the store differs from the original after enable and disable"
expect "status with nothing wired lists the store" ok \
    "JVM truststore: $store (JKS): $n0 entries, 0 of them dbtrust's" "$DBTRUST" system status

# ---- a PKCS#12 store stays PKCS#12
p12=$w/cacerts.p12
keytool -importkeystore -srckeystore "$w/orig.jks" -srcstorepass changeit -destkeystore "$p12" \
    -deststoretype PKCS12 -deststorepass changeit -noprompt >/dev/null 2>&1 ||
    { echo "Bail out! keytool cannot convert the store to PKCS#12"; exit 1; }
p12others=$(others "$p12")
export DBTRUST_SYSTEM_JVM_STORE=$p12
expect "enable on a PKCS#12 store" ok "in $p12 (PKCS#12) (3 new, 0 removed)" "$DBTRUST" system enable
keytool -list -keystore "$p12" -storepass changeit 2>/dev/null | grep -q "^Keystore type: PKCS12" &&
    ok "the PKCS#12 store is still PKCS#12 (keytool)" || not_ok "$p12 is no longer PKCS#12"
expect_eq "keytool lists dbtrust's entries in the PKCS#12 store" "$(ours "$p12")" "$want"
expect_eq "the PKCS#12 store's other entries are unchanged" "$(others "$p12")" "$p12others"
openssl pkcs12 -in "$p12" -passin pass:changeit -nokeys -noout 2>/dev/null &&
    ok "OpenSSL verifies the PKCS#12 store's MAC" || not_ok "openssl pkcs12 cannot read $p12"
expect "disable on the PKCS#12 store" ok "removed dbtrust's 3 entries" "$DBTRUST" system disable
expect_eq "the PKCS#12 store's entries are the original set again" "$(others "$p12")" "$p12others"
expect_eq "and none of dbtrust's" "$(ours "$p12")" ""

# ---- refusals: nothing changed, the links' step undone too
links() { find /etc/ssl/certs -maxdepth 1 -name 'dbtrust-*' | wc -l; }
refused() { # NAME PATTERN STORE: enable fails naming the store, changes neither it nor the links
    local name=$1 pat=$2 s=$3 before
    before=$(sha256sum <"$s")
    DBTRUST_SYSTEM_JVM_STORE=$s expect "$name: enable refuses" fail "$pat" \
        timeout 20 "$DBTRUST" system enable
    expect_eq "$name: the store is unchanged" "$(sha256sum <"$s")" "$before"
    expect_eq "$name: the links step is undone too" "$(links)" 0
    [ -e /var/lib/dbtrust/system-state ] && not_ok "$name: the state file was left" ||
        ok "$name: no state file is left"
}
cp "$w/orig.jks" "$w/otherpass.jks"
keytool -storepasswd -keystore "$w/otherpass.jks" -storepass changeit -new otherpass \
    >/dev/null 2>&1 || { echo "Bail out! keytool -storepasswd failed"; exit 1; }
refused "wrong password" "$w/otherpass.jks fails its integrity check" "$w/otherpass.jks"
head -c 5000 /dev/urandom >"$w/garbage"
refused "garbage store" "$w/garbage cannot be read as a JKS or PKCS#12 keystore" "$w/garbage"
head -c 100 "$w/orig.jks" >"$w/cut.jks"
refused "truncated store" "$w/cut.jks cannot be read" "$w/cut.jks"
# An entry under the alias dbtrust wants, with another certificate: never taken over.
cp "$w/orig.jks" "$w/taken.jks"
taken=$(want_line demo "$pki/root-rsa2048.pem" | cut -d' ' -f1)
keytool -importcert -noprompt -keystore "$w/taken.jks" -storepass changeit -alias "$taken" \
    -file "$pki/other-root.pem" >/dev/null 2>&1 || { echo "Bail out! keytool -importcert"; exit 1; }
refused "alias taken by another entry" "already has an entry '$taken' that dbtrust did not write" \
    "$w/taken.jks"
cp "$w/orig.jks" "$w/real.jks"
ln -s "$w/real.jks" "$w/link.jks"
refused "symlink to elsewhere" "$w/link.jks is a symbolic link, not a regular file" "$w/link.jks"
[ -L "$w/link.jks" ] && cmp -s "$w/real.jks" "$w/orig.jks" &&
    ok "symlink: the link and the file it names are untouched" ||
    not_ok "symlink: the link or its file changed"
mkfifo "$w/fifo"
DBTRUST_SYSTEM_JVM_STORE=$w/fifo expect "FIFO: enable refuses without blocking" fail \
    "$w/fifo is a FIFO, not a regular file" timeout 20 "$DBTRUST" system enable
[ -p "$w/fifo" ] && ok "FIFO: still a FIFO" || not_ok "FIFO: replaced"
expect_eq "FIFO: the links step is undone too" "$(links)" 0

# ---- no JVM: nothing to do, said once, success
export DBTRUST_SYSTEM_JVM_STORE=$w/no-such-store
expect "no store: enable succeeds and says there is nothing to do" ok \
    "JVM truststore: none at $w/no-such-store (no Java here): nothing to do" \
    "$DBTRUST" system enable
[ -e "$w/no-such-store" ] && not_ok "no store: enable created one" || ok "no store: none is created"
expect "no store: status says so" ok "none at $w/no-such-store (no Java here)" \
    "$DBTRUST" system status
out=$("$DBTRUST" system refresh 2>&1)
grep -q "no Java here" <<<"$out" && not_ok "no store: refresh repeats the line: $out" ||
    ok "no store: refresh does not repeat it"
expect "no store: disable" ok "" "$DBTRUST" system disable
cmp -s "$store" "$w/orig.jks" && ok "the machine's store copy was left alone by the variants" ||
    not_ok "the isolated /etc store changed during the variants"

[ "$failed" -eq 0 ] || echo "# $failed failed"
exit "$failed"
