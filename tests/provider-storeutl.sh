#!/usr/bin/env bash
# dbtrust.so through `openssl storeutl`: exact listings of dbtrust:// and dbtrust://<bundle>,
# every search (subject, issuer+serial, SHA-1/SHA-256 fingerprint, alias), the expect filter,
# and the refusal of every other URI spelling with a message that shows the right one. Runs on
# a catalog written by tests/lib/mkcatalog.sh and, when the CLI can import, on one it wrote.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-storeutl
dbt_prov_pki

fp() { openssl x509 -in "$1" -noout -fingerprint "-${2:-sha256}" | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
subj() { openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'; }
serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }
sorted_fps() { for f in "$@"; do fp "$f"; done | sort; }
# Prints the SHA-256 fingerprints of what storeutl finds, sorted ("-" when storeutl fails).
found() {
    local out
    out=$(timeout "$DBT_PROV_TIMEOUT" "${DBT_PROV_WRAP[@]}" openssl storeutl "$@" 2>&1) || { echo "- $out"; return; }
    dbt_prov_fingerprints <<<"$out"
}

r2048=$PKI/root-rsa2048.pem r4096=$PKI/root-rsa4096.pem ecc=$PKI/root-ecc384.pem
other=$PKI/other-root.pem inter=$PKI/intermediate.pem
cat "$r2048" "$other" >"$W/mixed.pem"
all5=$(sorted_fps "$r2048" "$r4096" "$ecc" "$other" "$inter")
uri_help="use dbtrust:// for the whole catalog or dbtrust://<bundle> for one bundle"

checks() {
    local label=$1
    # Listings: every distinct certificate exactly once, whatever bundles share it.
    expect_eq "$label: storeutl -certs dbtrust:// lists the 5 distinct certificates" \
        "$all5" "$(found -certs dbtrust://)"
    expect_eq "$label: storeutl dbtrust:// (no -certs) lists the same 5" "$all5" "$(found dbtrust://)"
    expect_eq "$label: dbtrust://rds lists its 3 roots" \
        "$(sorted_fps "$r2048" "$r4096" "$ecc")" "$(found -certs dbtrust://rds)"
    expect_eq "$label: dbtrust://mixed lists its 2 certificates" \
        "$(sorted_fps "$r2048" "$other")" "$(found -certs dbtrust://mixed)"
    expect_eq "$label: DBTRUST:// (scheme in capitals) lists the 5" "$all5" "$(found -certs DBTRUST://)"

    # Subject: served from the hashed links, names compared by meaning.
    for f in "$r2048" "$r4096" "$ecc" "$other" "$inter"; do
        expect_eq "$label: -subject finds $(basename "$f")" "$(fp "$f")" \
            "$(found -certs -subject "$(subj "$f")" dbtrust://)"
    done
    expect_eq "$label: -subject matches by meaning (case and spaces differ)" "$(fp "$r2048")" \
        "$(found -certs -subject "$(subj "$r2048" | sed -E 's/=([^/]*)/=\L\1/g; s/ /  /g')" dbtrust://)"
    expect_eq "$label: -subject of an unknown name finds nothing" "" \
        "$(found -certs -subject "/C=US/O=Nobody/CN=No Such CA" dbtrust://)"
    expect_eq "$label: -subject inside dbtrust://mixed finds its member" "$(fp "$r2048")" \
        "$(found -certs -subject "$(subj "$r2048")" dbtrust://mixed)"
    expect_eq "$label: -subject inside dbtrust://mixed skips a non-member" "" \
        "$(found -certs -subject "$(subj "$ecc")" dbtrust://mixed)"

    # Issuer + serial: from the index, confirmed on the certificate.
    expect_eq "$label: -issuer -serial finds the intermediate" "$(fp "$inter")" \
        "$(found -certs -issuer "$(subj "$r2048")" -serial "0x$(serial "$inter")" dbtrust://)"
    expect_eq "$label: -issuer -serial finds a root" "$(fp "$ecc")" \
        "$(found -certs -issuer "$(subj "$ecc")" -serial "0x$(serial "$ecc")" dbtrust://)"
    expect_eq "$label: -issuer with another serial finds nothing" "" \
        "$(found -certs -issuer "$(subj "$r2048")" -serial 0x1234 dbtrust://)"
    expect_eq "$label: -issuer -serial inside dbtrust://rds skips the intermediate" "" \
        "$(found -certs -issuer "$(subj "$r2048")" -serial "0x$(serial "$inter")" dbtrust://rds)"

    # Fingerprints: SHA-256 names the file, SHA-1 goes through the index.
    expect_eq "$label: -sha256 -fingerprint finds the certificate" "$(fp "$r4096")" \
        "$(found -certs -sha256 -fingerprint "$(fp "$r4096")" dbtrust://)"
    expect_eq "$label: -sha1 -fingerprint finds the certificate" "$(fp "$other")" \
        "$(found -certs -sha1 -fingerprint "$(fp "$other" sha1)" dbtrust://)"
    expect_eq "$label: -sha256 -fingerprint of an unknown certificate finds nothing" "" \
        "$(found -certs -sha256 -fingerprint "$(openssl rand -hex 32)" dbtrust://)"
    expect_eq "$label: -sha1 -fingerprint outside dbtrust://other finds nothing" "" \
        "$(found -certs -sha1 -fingerprint "$(fp "$r4096" sha1)" dbtrust://other)"
    expect_eq "$label: -sha256 -fingerprint inside dbtrust://mixed finds its member" "$(fp "$other")" \
        "$(found -certs -sha256 -fingerprint "$(fp "$other")" dbtrust://mixed)"
    expect_eq "$label: -sha256 -fingerprint outside dbtrust://other finds nothing" "" \
        "$(found -certs -sha256 -fingerprint "$(fp "$r4096")" dbtrust://other)"
    expect "$label: a SHA-384 fingerprint is refused with the supported digests" any \
        "use SHA-1 or SHA-256" openssl storeutl -certs -sha384 -fingerprint "$(openssl rand -hex 48)" dbtrust://

    # Alias: the bundle name.
    expect_eq "$label: -alias rds lists the bundle" "$(sorted_fps "$r2048" "$r4096" "$ecc")" \
        "$(found -certs -alias rds dbtrust://)"
    expect_eq "$label: -alias other inside dbtrust://other" "$(fp "$other")" \
        "$(found -certs -alias other dbtrust://other)"
    expect_eq "$label: -alias rds inside dbtrust://other finds nothing" "" \
        "$(found -certs -alias rds dbtrust://other)"
    expect_eq "$label: -alias of an unknown bundle finds nothing" "" "$(found -certs -alias nosuch dbtrust://)"
    expect "$label: -alias with a slash is refused" any "is not a bundle name" \
        openssl storeutl -certs -alias a/b dbtrust://

    # expect: the catalog holds certificates only.
    expect_eq "$label: -keys finds nothing" "0" "$(dbt_prov_count -keys dbtrust://)"
    expect_eq "$label: -crls finds nothing" "0" "$(dbt_prov_count -crls dbtrust://)"

    # Every other spelling is refused, naming the right one (without "//" OpenSSL tries the
    # file: loader first, so the working directory must not hold such a file).
    local bad
    for bad in "dbtrust:" "dbtrust:foo" "dbtrust:/foo" "dbtrust:///x" "dbtrust://rds/x" \
        "dbtrust://?x=1" "dbtrust://rds?x=1" "dbtrust://rds#x" "dbtrust://.hidden" "dbtrust://-x" \
        "dbtrust://a%2Fb" "dbtrust://$(printf 'a%.0s' {1..65})"; do
        expect "$label: '$bad' is refused with the right spelling" fail "$uri_help" \
            env -C "$W" openssl storeutl -certs "$bad"
    done
    expect "$label: dbtrust://nosuch names the missing bundle" fail 'has no bundle "nosuch"' \
        openssl storeutl -certs dbtrust://nosuch
}

"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" other="$other" mixed="$W/mixed.pem" inter="$inter" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
checks mkcatalog

# The same checks on a catalog the dbtrust CLI writes, when this build has a working import.
clicat=$W/cli-catalog
if [ -x "${DBTRUST:-}" ] &&
    "$DBTRUST" --catalog "$clicat" import --bundle rds "$PKI/demo-bundle.pem" >/dev/null 2>&1; then
    ok=1
    for b in other:"$other" mixed:"$W/mixed.pem" inter:"$inter"; do
        "$DBTRUST" --catalog "$clicat" import --bundle "${b%%:*}" "${b#*:}" >/dev/null || ok=0
    done
    if [ $ok = 1 ]; then
        "$DBT_PROV_BUILD/tests/test_provider_cnf" "$clicat" >"$W/cli.cnf"
        OPENSSL_CONF=$W/cli.cnf checks dbtrust-import
    else
        not_ok "dbtrust import of the other bundles failed"
    fi
else
    echo "# dbtrust import not available in this build: CLI-written catalog not checked"
fi
dbt_prov_done
