#!/usr/bin/env bash
# dbtrust.so against damaged, unsafe and hostile catalogs: every case gives an error on the
# OpenSSL error queue that names the problem, no certificate from the bad part, and the host
# process (openssl storeutl, openssl verify) exits normally: no crash, no abort, no hang.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-badcatalog
dbt_prov_pki

root=$PKI/root-rsa2048.pem
sha_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }
rsha=$(sha_of "$root")
rhash=$(openssl x509 -in "$root" -noout -subject_hash)
rsubj=$(openssl x509 -in "$root" -noout -subject -nameopt compat | sed 's/^subject=//')
chain=(-untrusted "$PKI/intermediate.pem" "$PKI/server.pem")

"$MKCATALOG" "$W/template" rds="$PKI/demo-bundle.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
[ "$(readlink "$W/template/certs/$rhash.0")" = "$rsha.pem" ] ||
    { echo "Bail out! the template catalog does not link $rhash.0 to $rsha.pem"; exit 1; }

# fresh NAME: a good copy of the template in $C (its generation in $G) and $C.cnf naming it.
fresh() {
    C=$W/$1
    cp -a "$W/template" "$C"
    G=$C/$(readlink "$C/current")
    "$DBT_PROV_BUILD/tests/test_provider_cnf" "$C" >"$C.cnf"
}
# bad NAME MESSAGE [STOREUTL ARGS...]: storeutl fails with MESSAGE and lists nothing from the
# damaged part; verify of the demo chain (whose root is the damaged one) fails without crashing.
bad() {
    local name=$1 msg=$2 out
    shift 2
    [ $# -gt 0 ] || set -- -certs
    expect "$name: storeutl reports it" any "$msg" \
        env OPENSSL_CONF="$C.cnf" openssl storeutl "$@" dbtrust://
    out=$(OPENSSL_CONF="$C.cnf" timeout "$DBT_PROV_TIMEOUT" "${DBT_PROV_WRAP[@]}" openssl storeutl -certs "$@" dbtrust:// 2>/dev/null)
    if grep -q "$(head -2 "$root" | tail -1)" <<<"$out"; then
        not_ok "$name: storeutl still returned the damaged root"
    else
        ok "$name: the damaged root is not returned"
    fi
    expect "$name: verify fails and exits normally" fail "" \
        env OPENSSL_CONF="$C.cnf" openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
}
# bad_index NAME MESSAGE: the listing (which reads the index) fails with MESSAGE; trust lookups
# by subject read only the hashed view and its verified files, so the chain still verifies.
bad_index() {
    expect "$1: storeutl reports it" any "$2" env OPENSSL_CONF="$C.cnf" openssl storeutl -certs dbtrust://
    expect "$1: -sha1 -fingerprint reports it" any "$2" env OPENSSL_CONF="$C.cnf" \
        openssl storeutl -certs -sha1 -fingerprint "$(openssl x509 -in "$root" -noout -fingerprint -sha1 |
            sed 's/.*=//; s/://g')" dbtrust://
    expect "$1: subject lookups do not need the index" ok "OK" env OPENSSL_CONF="$C.cnf" \
        openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
}
subject=(-certs -subject "$rsubj")

# The template itself is good: the cases below fail because of what they break.
fresh good
expect "good copy: verify passes" ok "OK" \
    env OPENSSL_CONF="$C.cnf" openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"

# Missing or empty.
fresh missing; rm -rf "$C"
bad "missing catalog" "does not exist"
fresh empty-dir; rm -rf "$C"; mkdir "$C"
bad "empty directory" "has no current generation"
fresh not-a-dir; rm -rf "$C"; echo x >"$C"
bad "catalog is a file" "cannot open catalog"

# Unsafe modes and owners: a trust store others can write to is refused whole, by every search
# (tests/catalog-safety.sh checks that the commands refuse the same catalogs).
fresh gw-catalog; chmod g+w "$C"
bad "group-writable catalog" "is writable by"
fresh ow-catalog; chmod o+w "$C"
bad "world-writable catalog" "is writable by"
fresh gw-gen; chmod g+w "$G"
bad "group-writable generation" "is writable by"
fresh ow-certs; chmod o+w "$G/certs"
bad "world-writable certs directory" "is writable by"
fresh gw-file; chmod g+w "$G/certs/$rsha.pem"
bad "group-writable certificate file" "is writable by" "${subject[@]}"
fresh gw-index; chmod o+w "$G/certs/index"
bad "world-writable index" "is writable by"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    fresh foreign-catalog; chown nobody "$C"
    bad "catalog owned by another user" "is owned by uid"
    fresh foreign-file; chown nobody "$G/certs/$rsha.pem"
    bad "certificate file owned by another user" "is owned by uid" "${subject[@]}"
else
    echo "# not root: foreign-owner cases need chown, skipped"
fi

# "current" must name a generation of this catalog.
fresh current-up; ln -sfn ../template/.gen-1 "$C/current"
bad "current points outside (..)" "not to a .gen-N directory"
fresh current-abs; ln -sfn "$W/template/.gen-1" "$C/current"
bad "current is an absolute path" "not to a .gen-N directory"
fresh current-dangling; ln -sfn .gen-99 "$C/current"
bad "current names a missing generation" "is missing"
fresh current-dir; rm "$C/current"; mkdir "$C/current"
bad "current is a directory" "is not a symbolic link"
fresh certs-link; mv "$G/certs" "$C/elsewhere"; ln -s ../elsewhere "$G/certs"
bad "certs is a symlink" "is not a directory"

# Hash links: only a sibling <sha256>.pem.
fresh link-escape; ln -sfn ../../../template/.gen-1/certs/"$rsha.pem" "$G/certs/$rhash.0"
bad "hash link leaving the catalog" "points outside catalog" "${subject[@]}"
fresh link-abs; ln -sfn "$W/template/.gen-1/certs/$rsha.pem" "$G/certs/$rhash.0"
bad "absolute hash link" "points outside catalog" "${subject[@]}"
fresh link-dangling; rm "$G/certs/$rsha.pem"
bad "dangling hash link" "does not lead to a regular certificate file" "${subject[@]}"
fresh cert-missing; rm "$G/certs/$rsha.pem" "$G/certs/$rhash.0"
bad "indexed certificate file missing" "is missing but the catalog indexes it"
# Only that certificate is lost: the listing reports it and goes on with the others.
n=$(($(wc -l <"$G/certs/index") - 2))
expect "indexed certificate file missing: the listing still finds the other $n" any \
    "Total found: $n" env OPENSSL_CONF="$C.cnf" openssl storeutl -certs dbtrust://
fresh link-file; rm "$G/certs/$rhash.0"; cp "$root" "$G/certs/$rhash.0"
bad "hash entry is a file, not a link" "(a file) is not part of the catalog layout" "${subject[@]}"

# Certificate files.
fresh garbage; echo "garbage" >"$G/certs/$rsha.pem"
bad "garbage certificate file" "holds no PEM certificate" "${subject[@]}"
bad "garbage certificate file (listing)" "holds no PEM certificate"
fresh swapped; cp "$PKI/other-root.pem" "$G/certs/$rsha.pem"
bad "certificate file with another certificate" "not its file name" "${subject[@]}"
fresh two-blocks; cat "$root" "$PKI/other-root.pem" >"$G/certs/$rsha.pem"
bad "certificate file with two blocks" "exactly one CERTIFICATE block" "${subject[@]}"
fresh fifo; rm "$G/certs/$rsha.pem"; mkfifo "$G/certs/$rsha.pem"
bad "FIFO instead of a certificate file" "a FIFO" "${subject[@]}"
fresh dir-file; rm "$G/certs/$rsha.pem"; mkdir "$G/certs/$rsha.pem"
bad "directory instead of a certificate file" "(a directory) is not part of the catalog layout" "${subject[@]}"
fresh file-link; rm "$G/certs/$rsha.pem"; ln -s "$W/template/.gen-1/certs/$rsha.pem" "$G/certs/$rsha.pem"
bad "symlink instead of a certificate file" "(a symlink) is not part of the catalog layout" "${subject[@]}"
fresh huge-cert; truncate -s 2M "$G/certs/$rsha.pem"
bad "2 MiB certificate file" "more than the" "${subject[@]}"

# A block that is PEM but not a certificate, named after its own SHA-256 and indexed.
fresh bad-der
head -c 300 /dev/urandom >"$W/junk.der"
jsha=$(sha256sum <"$W/junk.der" | cut -c1-64)
{ echo "-----BEGIN CERTIFICATE-----"; base64 -w 64 <"$W/junk.der"; echo "-----END CERTIFICATE-----"; } \
    >"$G/certs/$jsha.pem"
{ head -1 "$G/certs/index"; { tail -n +2 "$G/certs/index"; echo "$jsha $(printf '%040d' 0) 00000000 00000000 01 rds"; } | sort; } \
    >"$W/index.new" && cat "$W/index.new" >"$G/certs/index"
expect "PEM block that is no certificate: storeutl names the file" any \
    "$jsha.pem is not a valid X.509 certificate" env OPENSSL_CONF="$C.cnf" openssl storeutl -certs dbtrust://
expect "PEM block that is no certificate: the good certificates still verify" ok "OK" \
    env OPENSSL_CONF="$C.cnf" openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"

# The index.
fresh index-line; echo "not an index line" >>"$G/certs/index"
bad_index "index with a bad line" "line 6 is not"
fresh index-header; sed -i 1s/.*/dbtrust-index\ 9/ "$G/certs/index"
bad_index "index of another version" 'does not start with "dbtrust-index 1"'
fresh index-order; { head -1 "$G/certs/index"; tail -n +2 "$G/certs/index" | sort -r; } >"$W/i" && cat "$W/i" >"$G/certs/index"
bad_index "unsorted index" "out of order or repeated"
fresh index-trunc; printf '%s' "$(cat "$G/certs/index")" >"$G/certs/index"
bad_index "truncated index" "is not terminated"
fresh index-nul; printf '\0\n' >>"$G/certs/index"
bad_index "index with a NUL byte" "contains a NUL byte"
fresh index-huge; truncate -s 100M "$G/certs/index"
bad_index "100 MiB index" "more than the"
# (valgrind itself needs more address space than the limit allows: not under memcheck; nor
# ASan, whose shadow memory reservation fails under ulimit -v: not in a sanitizer build)
if [ -z "${DBT_PROV_MEMCHECK:-}" ] && [ -z "${DBTRUST_SANITIZED:-}" ]; then
    fresh index-blank
    { echo "dbtrust-index 1"; head -c 50000000 /dev/zero | tr '\0' '\n'; } >"$G/certs/index"
    expect "50 MB of empty index lines: refused within 600 MB of address space" any \
        "line 2 is not" env OPENSSL_CONF="$C.cnf" \
        bash -c 'ulimit -v 600000 && exec "$@"' sh openssl storeutl -certs dbtrust://
    rm -rf "$C"
fi
fresh index-missing; rm "$G/certs/index"
bad_index "missing index" "index is missing"
fresh index-badbundle; sed -i '2s/ [^ ]*$/ ..\/x/' "$G/certs/index"
bad_index "index naming an impossible bundle" "line 2 is not"

# Bundles (alias search).
fresh bundle-garbage
{ cat "$PKI/root-ecc384.pem"; echo "-----BEGIN CERTIFICATE-----"; echo "!!!!"; echo "-----END CERTIFICATE-----"; } \
    >"$G/bundles/rds.pem"
expect "damaged bundle file: -alias reports the block" any "block 2 is not valid PEM" \
    env OPENSSL_CONF="$C.cnf" openssl storeutl -certs -alias rds dbtrust://
fresh bundle-key; cat "$PKI/root-ecc384.key" >"$G/bundles/rds.pem"
expect "bundle file holding a key: -alias refuses it" any "not a CERTIFICATE" \
    env OPENSSL_CONF="$C.cnf" openssl storeutl -certs -alias rds dbtrust://
# A CERTIFICATE block that is no certificate is named by its block, and the blocks after it
# still come.
fresh bundle-bad-der
{ cat "$PKI/root-ecc384.pem"; echo "-----BEGIN CERTIFICATE-----"; base64 -w 64 <"$W/junk.der"
    echo "-----END CERTIFICATE-----"; cat "$root"; } >"$G/bundles/rds.pem"
expect "bundle block that is no certificate: -alias names the block" any \
    "bundles/rds.pem certificate 2 is not a valid X.509 certificate" \
    env OPENSSL_CONF="$C.cnf" openssl storeutl -certs -alias rds dbtrust://
expect "bundle block that is no certificate: -alias still finds the other 2" any "Total found: 2" \
    env OPENSSL_CONF="$C.cnf" openssl storeutl -certs -alias rds dbtrust://

# The configuration: a relative catalog path.
fresh relative
sed "s|^catalog = .*|catalog = relative/catalog|" "$C.cnf" >"$C.rel.cnf"
expect "relative catalog path in openssl.cnf" fail "is not absolute" \
    env OPENSSL_CONF="$C.rel.cnf" openssl storeutl -certs dbtrust://

# The provider loaded but unused costs nothing and breaks nothing, even with a broken catalog.
fresh unused; rm -rf "$C"
expect "openssl version with the provider loaded and no catalog" ok "OpenSSL 3" \
    env OPENSSL_CONF="$C.cnf" openssl version
expect "the provider is active" ok "dbtrust" env OPENSSL_CONF="$C.cnf" openssl list -providers
dbt_prov_done
