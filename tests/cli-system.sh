#!/usr/bin/env bash
# dbtrust system enable|disable|status|refresh and dbtrust env on a stand-in system directory
# (DBTRUST_SYSTEM_CERT_DIR / DBTRUST_SYSTEM_STATE), checked with openssl's own hashed-directory
# lookup: exact links, subject-hash collisions with the system's CAs, duplicates the system
# already trusts, renumbering on removal, undo of a failed enable, catalog changes followed,
# the update-ca-certificates hook, env --lazy's same-trust check, and status's warning about
# wired bundles without a scope whose CAs the system did not trust already. No root needed;
# tests/e2e-system.sh does the real thing.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}
. "$src/certs/demo-pki.sh"

. "$src/tests/lib/tap.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-system.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
pki=$w/pki
dbt_demo_pki "$pki" db.demo.internal || { echo "Bail out! demo PKI failed"; exit 1; }
hash_of() { openssl x509 -in "$1" -noout -subject_hash; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
h2048=$(hash_of "$pki/root-rsa2048.pem") h4096=$(hash_of "$pki/root-rsa4096.pem")
h384=$(hash_of "$pki/root-ecc384.pem")

# A stand-in system store: an unrelated CA, a different CA with the RSA2048 root's subject (same
# hash, so ours must take the next number), and the ECC384 root itself (already trusted there).
sys=$w/sys
mkdir "$sys"
cp "$pki/other-root.pem" "$sys/other.pem"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -days 30 -out "$sys/lookalike.pem" \
    -subj "$(openssl x509 -in "$pki/root-rsa2048.pem" -noout -subject -nameopt compat |
        sed 's/^subject=//')" 2>/dev/null || { echo "Bail out! lookalike CA"; exit 1; }
cp "$pki/root-ecc384.pem" "$sys/system-ecc384.pem"
cat "$sys/other.pem" "$sys/lookalike.pem" "$sys/system-ecc384.pem" >"$sys/ca-certificates.crt"
openssl rehash "$sys" 2>/dev/null
[ -L "$sys/$h2048.0" ] || { echo "Bail out! rehash made no $h2048.0"; exit 1; }

export DBTRUST_SYSTEM_CERT_DIR=$sys DBTRUST_SYSTEM_STATE=$w/state/system-state
export DBTRUST_CATALOG=$w/catalog
snapshot() { (cd "$sys" && find . ! -name . -printf '%P %l\n' | sort && sha256sum ca-certificates.crt); }
verify_chain() {
    openssl verify -no-CAfile -no-CAstore -CApath "$sys" -untrusted "$pki/intermediate.pem" \
        "$pki/server.pem"
}
snap0=$(snapshot)

expect "refresh before enable has nothing to do" ok "not enabled" "$DBTRUST" system refresh
expect "disable before enable has nothing to do" ok "not enabled" "$DBTRUST" system disable
expect "status before enable says disabled" ok "system wiring: disabled" "$DBTRUST" system status
expect "import into a catalog that is not wired" ok "" "$DBTRUST" import -q --bundle demo \
    "$pki/demo-bundle.pem"
[ -e "$w/state" ] && not_ok "commands on an unwired catalog created $w/state" ||
    ok "commands on an unwired catalog create no state directory"
expect "control: the chain does not verify against the system directory alone" fail "" verify_chain

expect "enable" ok "3 catalog certificates linked into $sys (3 new, 0 removed)" \
    "$DBTRUST" system enable
expect "the chain verifies through the system directory" ok "server.pem: OK" verify_chain
expect_eq "three dbtrust-<sha256>.pem links" "$(ls "$sys" | grep -c '^dbtrust-[0-9a-f]\{64\}\.pem$')" 3
expect_eq "each points at the catalog's file" "$(readlink "$sys/dbtrust-$(sha_of "$pki/root-rsa4096.pem").pem")" \
    "$w/catalog/certs/$(sha_of "$pki/root-rsa4096.pem").pem"
expect_eq "a subject-hash collision takes the next number" "$(readlink "$sys/$h2048.1")" \
    "dbtrust-$(sha_of "$pki/root-rsa2048.pem").pem"
expect_eq "the system's CA keeps its number" "$(readlink "$sys/$h2048.0")" lookalike.pem
expect_eq "a CA the system already trusts gets no second hash link" \
    "$(ls "$sys" | grep -c "^$h384\.")" 1
expect_eq "a new subject gets .0" "$(readlink "$sys/$h4096.0")" \
    "dbtrust-$(sha_of "$pki/root-rsa4096.pem").pem"
expect_eq "the bundle file is untouched" "$(snapshot | tail -n 1)" "$(tail -n 1 <<<"$snap0")"
snap1=$(snapshot)
expect "enable again" ok "(0 new, 0 removed)" "$DBTRUST" system enable
expect_eq "enable is idempotent" "$(snapshot)" "$snap1"
expect "status resolves all through the defaults" ok "3 of 3 catalog certificates resolve" \
    env SSL_CERT_DIR="$sys" SSL_CERT_FILE=/dev/null "$DBTRUST" system status
expect "status counts the links" ok "links: 3 certificate links, 2 hash links to them" \
    env SSL_CERT_DIR="$sys" SSL_CERT_FILE=/dev/null "$DBTRUST" system status
"$DBTRUST" --catalog "$w/catalog2" import -q --bundle other "$pki/other-root.pem" >/dev/null
expect_eq "an import into another catalog leaves the wiring alone" "$(snapshot)" "$snap1"
expect "enabling a second catalog is refused" fail "is already wired" \
    "$DBTRUST" --catalog "$w/catalog2" system enable

# Catalog changes: a rotation that drops two roots, then their return.
expect "re-import with one root" ok "" "$DBTRUST" import -q --bundle demo "$pki/root-rsa2048.pem"
expect_eq "the dropped roots' links leave" "$(ls "$sys" | grep -c '^dbtrust-')" 1
[ -e "$sys/$h4096.0" ] && not_ok "$h4096.0 is left behind" || ok "their hash links leave"
expect "the chain still verifies" ok "server.pem: OK" verify_chain
expect "remove the bundle" ok "" "$DBTRUST" remove --bundle demo
expect "the chain no longer verifies" fail "" verify_chain
expect_eq "removal leaves the store as before enable" "$(snapshot)" "$snap0"
expect "import again" ok "" "$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem"
expect_eq "import while enabled restores the same links" "$(snapshot)" "$snap1"

# The hook update-ca-certificates runs, after it renumbered every link (as openssl rehash does).
openssl rehash "$sys" 2>/dev/null
expect "the update-ca-certificates hook refreshes" ok "refresh: 3 catalog certificates" \
    env DBTRUST_HOOK_BIN="$DBTRUST" sh "$src/certs/update-ca-certificates-hook" </dev/null
expect "after rehash and the hook the chain verifies" ok "server.pem: OK" verify_chain
expect "the hook is quiet when dbtrust is gone" ok "=" \
    env DBTRUST_HOOK_BIN="$w/none" sh "$src/certs/update-ca-certificates-hook" </dev/null

# A CA the system adds later under the same hash, after ours: disable must renumber it to .0,
# or OpenSSL's lookup (which stops at the first gap) would never see it.
rm "$sys/$h2048."*
ln -s "dbtrust-$(sha_of "$pki/root-rsa2048.pem").pem" "$sys/$h2048.0"
ln -s lookalike.pem "$sys/$h2048.1"
expect "disable" ok "removed 3 certificate links" "$DBTRUST" system disable
expect_eq "the system's later CA moves down to .0" "$(readlink "$sys/$h2048.0")" lookalike.pem
[ -e "$sys/$h2048.1" ] && not_ok "$h2048.1 is left" || ok "no gap and no leftover"
expect_eq "disable leaves the store as before enable" "$(snapshot)" "$snap0"
[ -e "$DBTRUST_SYSTEM_STATE" ] && not_ok "the state file is left" || ok "the state file is gone"

# What a writer killed between a temporary link and its rename leaves (tests/cli-kill.sh saw
# it): the next command under the system lock removes dbtrust's temporary links, and only those.
sha2048=$(sha_of "$pki/root-rsa2048.pem")
ln -s "$DBTRUST_CATALOG/certs/$sha2048.pem" "$sys/.dbtrust-$sha2048.pem.tmp-99999"
ln -s "dbtrust-$sha2048.pem" "$sys/.$h2048.1.tmp-99999"
ln -s other.pem "$sys/.other.pem.tmp-1"
expect "enable after a killed writer" ok "" "$DBTRUST" system enable
[ -L "$sys/.dbtrust-$sha2048.pem.tmp-99999" ] && not_ok "a temporary certificate link is left" ||
    ok "the temporary certificate link is removed"
[ -L "$sys/.$h2048.1.tmp-99999" ] && not_ok "a temporary hash link is left" ||
    ok "the temporary hash link is removed"
[ -L "$sys/.other.pem.tmp-1" ] && ok "a temporary link that is not dbtrust's stays" ||
    not_ok "a link that is not dbtrust's was removed"
rm -f "$sys/.other.pem.tmp-1"
expect "disable after it" ok "" "$DBTRUST" system disable
expect_eq "and the store is as before enable" "$(snapshot)" "$snap0"

# A failed enable undoes every step: the third certificate's link name is taken by a directory.
taken=$sys/dbtrust-$(sha_of "$pki/root-ecc384.pem").pem
mkdir "$taken"
snap2=$(snapshot)
expect "enable fails on a name it must not replace" fail "is not a symbolic link" \
    "$DBTRUST" system enable
expect_eq "a failed enable leaves the directory as it was" "$(snapshot)" "$snap2"
[ -e "$DBTRUST_SYSTEM_STATE" ] && not_ok "a failed enable left the state file" ||
    ok "a failed enable leaves no state file"
rmdir "$taken"
expect "enable fails for a missing directory" fail "does not exist" \
    env DBTRUST_SYSTEM_CERT_DIR="$w/nodir" "$DBTRUST" system enable
[ -e "$DBTRUST_SYSTEM_STATE" ] && not_ok "the missing-directory enable left the state file" ||
    ok "the missing-directory enable leaves no state file"

# dbtrust env: a scoped SSL_CERT_DIR, absolute entries only.
def=$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')/certs
node_sh="export NODE_EXTRA_CA_CERTS='$w/catalog/trust.pem'"
node_sd="Environment=NODE_EXTRA_CA_CERTS=$w/catalog/trust.pem"
expect "env after the default directory" ok "=export SSL_CERT_DIR='$def:$w/catalog/trust'
$node_sh" "$DBTRUST" env
expect "env --shell systemd" ok "=Environment=SSL_CERT_DIR=$def:$w/catalog/trust
$node_sd" "$DBTRUST" env --shell systemd
out=$(SSL_CERT_DIR="dbtrust::/etc/ssl/certs:certs:$w/catalog/trust" "$DBTRUST" env 2>"$w/err")
expect_eq "env keeps absolute entries, drops relative and empty ones, puts the catalog last" \
    "$out" "export SSL_CERT_DIR='/etc/ssl/certs:$w/catalog/trust'
$node_sh"
expect "env names each dropped entry" ok "dropping 'dbtrust'" cat "$w/err"
expect "env refuses an unknown shell" fail "" "$DBTRUST" env --shell csh
# Quoting of every character for sh and systemd is tests/cli-env.sh's; here only that a space
# is carried, not refused.
mkdir "$w/with space"
out=$(SSL_CERT_DIR="$w/with space" "$DBTRUST" env 2>&1)
expect_eq "env carries a directory with a space" "$out" \
    "export SSL_CERT_DIR='$w/with space:$w/catalog/trust'
$node_sh"

# dbtrust env --lazy: an empty SSL_CERT_FILE and hashed directories only, offered only when the
# system directory finds every certificate of the bundle file (same hash, same certificate).
lazy() { env DBTRUST_SYSTEM_CERT_FILE="$sys/ca-certificates.crt" "$DBTRUST" env --lazy "$@"; }
lazy_env=("SSL_CERT_FILE=$w/catalog/empty.pem" "SSL_CERT_DIR=$sys:$w/catalog/trust")
stock_env=("SSL_CERT_FILE=$sys/ca-certificates.crt" "SSL_CERT_DIR=$sys:$w/catalog/trust")
verify_default() { env "$@" openssl verify -untrusted "$pki/intermediate.pem" "$pki/server.pem"; }
expect "env --lazy when the directory holds the whole bundle file" ok \
    "=export SSL_CERT_FILE='$w/catalog/empty.pem'
export SSL_CERT_DIR='$sys:$w/catalog/trust'
$node_sh" lazy
expect "env --lazy --shell systemd" ok "=Environment=SSL_CERT_FILE=$w/catalog/empty.pem
Environment=SSL_CERT_DIR=$sys:$w/catalog/trust
$node_sd" lazy --shell systemd
expect_eq "the lazy SSL_CERT_FILE is an empty regular file, read-only, owned by the catalog's owner" \
    "$(stat -c '%F %s %a %u' "$w/catalog/empty.pem")" "regular empty file 0 444 $(id -u)"
expect "the catalog with empty.pem still opens" ok "demo" "$DBTRUST" list
expect "status says lazy mode is safe" ok \
    "lazy mode (dbtrust env --lazy): safe here: all 3 certificates" \
    env DBTRUST_SYSTEM_CERT_FILE="$sys/ca-certificates.crt" "$DBTRUST" system status
# The stand-in store holds a CA with the RSA2048 root's exact subject: OpenSSL then never reads
# the catalog's root from a later directory, in stock mode (the bundle file's copy is in the
# store first) as in lazy mode (the system directory is searched first). Same outcome.
expect "stock env: a same-subject system CA shadows the catalog's root" fail "" \
    verify_default "${stock_env[@]}"
expect "lazy env: the same" fail "" verify_default "${lazy_env[@]}"

# Same subject hash is not enough: the RSA2048 root's hash is taken by the lookalike CA.
cp "$sys/ca-certificates.crt" "$w/bundle.lazy"
cat "$pki/root-rsa2048.pem" >>"$sys/ca-certificates.crt"
expect "a different certificate under the same subject hash does not count" fail \
    "$(sha_of "$pki/root-rsa2048.pem")" lazy
cp "$w/bundle.lazy" "$sys/ca-certificates.crt"
# OpenSSL stops at the first missing <hash>.<n>: a link behind a gap is not found.
hother=$(hash_of "$pki/other-root.pem")
mv "$sys/$hother.0" "$sys/$hother.1"
expect "a certificate behind a gap in the numbering is missing" fail \
    "/CN=Demo Other Cloud Root CA" lazy
mv "$sys/$hother.1" "$sys/$hother.0"
# A CA only in the bundle file: stock mode trusts it, lazy mode would not.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -days 30 -subj "/CN=Bundle Only Test CA" -out "$w/bundle-only.pem" 2>/dev/null
cat "$w/bundle-only.pem" >>"$sys/ca-certificates.crt"
out=$(lazy 2>"$w/err")
rc=$?
[ $rc -ne 0 ] && ok "env --lazy refuses when a certificate is only in the bundle file" ||
    not_ok "env --lazy printed with a bundle-only certificate: $out"
expect_eq "... and prints nothing on stdout" "$out" ""
expect "... names the certificate's position, subject and SHA-256" ok \
    "certificate 4 of $sys/ca-certificates.crt: /CN=Bundle Only Test CA, SHA-256 $(sha_of "$w/bundle-only.pem")" \
    cat "$w/err"
expect "... and counts what is missing" ok "1 of 4 certificates of the bundle file" cat "$w/err"
expect "status says lazy mode is not safe, with the count" ok "not safe here: 1 of 4 certificates" \
    env DBTRUST_SYSTEM_CERT_FILE="$sys/ca-certificates.crt" "$DBTRUST" system status
cp "$w/bundle.lazy" "$sys/ca-certificates.crt"
expect "a directory that is not hashed makes env --lazy refuse" fail "3 of 3 certificates" \
    env DBTRUST_SYSTEM_CERT_DIR="$w/nodir" DBTRUST_SYSTEM_CERT_FILE="$sys/ca-certificates.crt" \
    "$DBTRUST" env --lazy
expect "a missing bundle file holds nothing to lose" ok "export SSL_CERT_FILE=" \
    env DBTRUST_SYSTEM_CERT_FILE="$w/nofile" "$DBTRUST" env --lazy
chmod u+w "$w/catalog/empty.pem"
echo "# not empty" >"$w/catalog/empty.pem"
expect "a non-empty empty.pem is refused" fail "is not an empty file" lazy
rm "$w/catalog/empty.pem"
expect "env --lazy recreates empty.pem" ok "" lazy
expect_eq "... empty and read-only" "$(stat -c '%s %a' "$w/catalog/empty.pem")" "0 444"

# Without the lookalike, lazy mode trusts what stock mode trusts: the catalog's CA and the
# system's own.
mv "$sys/lookalike.pem" "$w/lookalike.pem"
rm "$sys/$h2048.0"
cat "$sys/other.pem" "$sys/system-ecc384.pem" >"$sys/ca-certificates.crt"
expect "env --lazy without the lookalike" ok "export SSL_CERT_DIR='$sys:$w/catalog/trust'" lazy
expect "stock env verifies the catalog's chain" ok "server.pem: OK" verify_default "${stock_env[@]}"
expect "lazy env verifies it too" ok "server.pem: OK" verify_default "${lazy_env[@]}"
expect "control: without the catalog's directory lazy mode does not" fail "" \
    verify_default "SSL_CERT_FILE=$w/catalog/empty.pem" "SSL_CERT_DIR=$sys"
expect "a system CA still verifies in lazy mode" ok "other-server.pem: OK" \
    env "${lazy_env[@]}" openssl verify "$pki/other-server.pem"
mv "$w/lookalike.pem" "$sys/lookalike.pem"
ln -s lookalike.pem "$sys/$h2048.0"
cp "$w/bundle.lazy" "$sys/ca-certificates.crt"

# --bundle-file: the explicit, costly opt-in; a marked block at the end of the bundle file.
bundle=$sys/ca-certificates.crt
cp "$bundle" "$w/bundle.orig"
export DBTRUST_SYSTEM_CERT_FILE=$bundle
verify_file() {
    openssl verify -no-CApath -no-CAstore -CAfile "$bundle" -untrusted "$pki/intermediate.pem" \
        "$pki/server.pem"
}
block_certs() { sed -n '/^# BEGIN dbtrust catalog /,/^# END dbtrust catalog$/p' "$bundle" | grep -c 'BEGIN CERT'; }
expect "control: the bundle file alone does not verify the chain" fail "" verify_file
expect "enable --bundle-file prints what it costs" ok "+80% trust setup time" \
    "$DBTRUST" system enable --bundle-file
expect "the chain verifies through the bundle file" ok "server.pem: OK" verify_file
expect_eq "the block holds the 3 catalog certificates" "$(block_certs)" 3
expect_eq "the directory gets no links" "$(ls "$sys" | grep -c '^dbtrust-')" 0
sum1=$(sha256sum <"$bundle")
expect "enable --bundle-file again" ok "" "$DBTRUST" system enable --bundle-file
expect_eq "... leaves the file as it was" "$(sha256sum <"$bundle")" "$sum1"
expect "plain enable is refused while the bundle file is wired" fail "already wired" \
    "$DBTRUST" system enable
expect "status names the bundle file" ok "appended to the bundle file" \
    env SSL_CERT_FILE="$bundle" SSL_CERT_DIR="$w/nodir" "$DBTRUST" system status
expect "re-import with one root" ok "" "$DBTRUST" import -q --bundle demo "$pki/root-rsa2048.pem"
expect_eq "the block follows the catalog" "$(block_certs)" 1
cp "$w/bundle.orig" "$bundle"
expect "the hook re-appends after update-ca-certificates rewrote the file" ok "appended" \
    env DBTRUST_HOOK_BIN="$DBTRUST" sh "$src/certs/update-ca-certificates-hook" </dev/null
expect "... and the chain verifies again" ok "server.pem: OK" verify_file
echo "# added by someone else" >>"$bundle"
sum2=$(sha256sum <"$bundle")
expect "text after the block is not overwritten" fail "text after dbtrust's block" \
    "$DBTRUST" system refresh
expect_eq "... and the file is unchanged" "$(sha256sum <"$bundle")" "$sum2"
sed -i '$d' "$bundle"
expect "disable" ok "removed dbtrust's 1 certificate" "$DBTRUST" system disable
expect "disable restores the bundle file byte for byte" ok "" cmp "$w/bundle.orig" "$bundle"
printf 'text without a final newline' >>"$bundle"
cp "$bundle" "$w/bundle.nonl"
"$DBTRUST" system enable --bundle-file >/dev/null
expect "a file without a final newline gets its certificates on their own lines" ok \
    "server.pem: OK" verify_file
"$DBTRUST" system disable >/dev/null
expect "... and gets its exact bytes back" ok "" cmp "$w/bundle.nonl" "$bundle"
cp "$w/bundle.orig" "$bundle"

# Unscoped bundles: status warns, one line each, about every wired bundle that has no scope and
# holds a CA the system's own bundle file does not (dbtrust's block in it left out), and says how
# to scope it; the warnings leave the exit status alone.
"$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem" >/dev/null
"$DBTRUST" import -q --bundle known "$pki/root-ecc384.pem" >/dev/null
# The lookalike CA in the bundle file shadows the catalog's RSA2048 root (see above): status
# resolves through the directory alone, while the system's bundle file stays $bundle.
status() { env SSL_CERT_FILE=/dev/null SSL_CERT_DIR="$sys" "$DBTRUST" system status; }
unscoped_line() { # BUNDLE OUTSIDE COUNT FILE
    echo "dbtrust: warning: bundle '$1' is unscoped: every OpenSSL program on this host trusts its" \
        "CAs for every host name ($2 of its $3 certificates are not in the system's bundle file" \
        "$4); scope it by importing it again with 'dbtrust import --bundle $1 --only-for" \
        "HOST... FILE', or by fetching it again with 'dbtrust fetch SOURCE' (the source's" \
        "default scope, see 'dbtrust sources')"
}
expect "status of an unwired catalog does not check scopes" ok "" status
grep -q "is unscoped" <<<"$(status 2>&1)" && not_ok "an unwired catalog's bundles are named" ||
    ok "... and names no bundle"
"$DBTRUST" system enable >/dev/null
status >"$w/out" 2>"$w/err"
expect_eq "status with an unscoped bundle still exits 0" "$?" 0
expect_eq "one warning line for the bundle with CAs the system lacks, and how to scope it" \
    "$(grep "is unscoped" "$w/err")" "$(unscoped_line demo 2 3 "$bundle")"
expect_eq "the warnings go to standard error only" "$(grep -c "is unscoped" "$w/out")" 0
grep -q "'known'" "$w/err" && not_ok "a bundle the system's bundle file holds whole is named" ||
    ok "a bundle the system's bundle file holds whole is not named"
status_nofile() { DBTRUST_SYSTEM_CERT_FILE="$w/nofile" status; }
expect "without a bundle file every unscoped bundle widens trust" ok \
    "$(unscoped_line known 1 1 "$w/nofile")" status_nofile
"$DBTRUST" import -q --bundle demo --only-for db.demo.internal "$pki/demo-bundle.pem" >/dev/null
status 2>&1 | grep -q "is unscoped" && not_ok "a scoped bundle is named" ||
    ok "a scoped bundle is not named"
"$DBTRUST" import -q --bundle demo --unscoped "$pki/demo-bundle.pem" >/dev/null
expect "--unscoped names it again" ok "$(unscoped_line demo 2 3 "$bundle")" status
"$DBTRUST" system disable >/dev/null
# In bundle-file mode the catalog's certificates are in the file, inside dbtrust's block: they
# are not the system's own.
"$DBTRUST" system enable --bundle-file >/dev/null
expect_eq "the block holds the catalog's certificates" "$(block_certs)" 3
out=$(env SSL_CERT_FILE="$bundle" SSL_CERT_DIR="$sys" "$DBTRUST" system status 2>&1)
expect "bundle-file mode: the catalog's own block does not count as the system's" ok \
    "$(unscoped_line demo 2 3 "$bundle")" echo "$out"
"$DBTRUST" system disable >/dev/null
expect "disable restores the bundle file" ok "" cmp "$w/bundle.orig" "$bundle"
# Only a start line at a line start begins dbtrust's block; one cut short runs to the end.
"$DBTRUST" system enable >/dev/null
{ cat "$w/bundle.orig"; printf '# BEGIN dbtrust catalog %s\n' "$w/catalog"; cat "$pki/root-rsa4096.pem"; } >"$bundle"
expect "a block without its end line is dbtrust's to the end of the file" ok \
    "$(unscoped_line demo 2 3 "$bundle")" status
{ cat "$w/bundle.orig"; printf 'x # BEGIN dbtrust catalog %s\n' "$w/catalog"; cat "$pki/root-rsa4096.pem"; } >"$bundle"
expect "a start line inside a line is the system's text" ok "$(unscoped_line demo 1 3 "$bundle")" \
    status
cp "$w/bundle.orig" "$bundle"
"$DBTRUST" system disable >/dev/null
"$DBTRUST" remove --bundle known >/dev/null

echo "cli-system: $passed passed, $failed failed"
[ "$failed" = 0 ]
