#!/usr/bin/env bash
# dbtrust.so under valgrind memcheck: the threads test (threads, fork, generation swaps), then one
# openssl command per search kind and per error path of the loader, each of which must show no
# invalid access and no leak. DBT_PROV_MEMCHECK_ALL=1 runs the whole storeutl and damaged-catalog
# tests under memcheck instead (about 20 minutes on 2 cores).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
# In a sanitizer build (make check exports DBTRUST_SANITIZED) valgrind cannot run the ASan
# binaries; this test runs in the normal build's pass.
[ -z "${DBTRUST_SANITIZED:-}" ] ||
    { echo "SKIP: valgrind cannot run ASan-instrumented binaries (sanitizer build; runs in the normal pass)"; exit 77; }
command -v valgrind >/dev/null ||
    { echo "SKIP: valgrind is not installed (apt-get install valgrind)"; exit 77; }
rc=0
DBT_PROV_VALGRIND=memcheck bash "$src/tests/provider-threads.sh" || rc=1
if [ -n "${DBT_PROV_MEMCHECK_ALL:-}" ]; then
    DBT_PROV_MEMCHECK=1 bash "$src/tests/provider-storeutl.sh" || rc=1
    DBT_PROV_MEMCHECK=1 bash "$src/tests/provider-badcatalog.sh" || rc=1
    exit $rc
fi

DBT_PROV_MEMCHECK=1
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-memcheck
dbt_prov_pki
r=$PKI/root-rsa2048.pem
subj=$(openssl x509 -in "$r" -noout -subject -nameopt compat | sed 's/^subject=//')
sha=$(openssl x509 -in "$r" -outform DER | sha256sum | cut -c1-64)
hash=$(openssl x509 -in "$r" -noout -subject_hash)
fp1=$(openssl x509 -in "$r" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
serial=$(openssl x509 -in "$r" -noout -serial | sed 's/serial=//')
"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
S=(openssl storeutl -certs)
expect "memcheck: listing" ok "Total found: 4" "${S[@]}" dbtrust://
expect "memcheck: bundle listing" ok "Total found: 3" "${S[@]}" dbtrust://rds
expect "memcheck: subject" ok "Total found: 1" "${S[@]}" -subject "$subj" dbtrust://
expect "memcheck: subject in a bundle" ok "Total found: 0" "${S[@]}" -subject "$subj" dbtrust://other
expect "memcheck: issuer+serial" ok "Total found: 1" "${S[@]}" -issuer "$subj" -serial "0x$serial" dbtrust://
expect "memcheck: sha1" ok "Total found: 1" "${S[@]}" -sha1 -fingerprint "$fp1" dbtrust://
expect "memcheck: sha256" ok "Total found: 1" "${S[@]}" -sha256 -fingerprint "$sha" dbtrust://rds
expect "memcheck: alias" ok "Total found: 3" "${S[@]}" -alias rds dbtrust://
expect "memcheck: bad alias" any "is not a bundle name" "${S[@]}" -alias a/b dbtrust://
expect "memcheck: bad digest" any "use SHA-1 or SHA-256" "${S[@]}" -sha384 -fingerprint "$(openssl rand -hex 48)" dbtrust://
expect "memcheck: bad URI" fail "use dbtrust:// for the whole catalog" "${S[@]}" dbtrust:///x
expect "memcheck: no such bundle" fail "has no bundle" "${S[@]}" dbtrust://nosuch
expect "memcheck: verify" ok "server.pem: OK" openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// \
    -untrusted "$PKI/intermediate.pem" "$PKI/server.pem"
# Error paths on a damaged copy: a garbage file behind the hash link, a bad index line.
gen=$CAT/$(readlink "$CAT/current")
echo garbage >"$gen/certs/$sha.pem"
echo "bad line" >>"$gen/certs/index"
expect "memcheck: garbage certificate file" any "holds no PEM certificate" "${S[@]}" -subject "$subj" dbtrust://
expect "memcheck: bad index line" any "is not" "${S[@]}" dbtrust://
ln -sfn ../../x "$gen/certs/$hash.0"
expect "memcheck: escaping link" any "points outside catalog" "${S[@]}" -subject "$subj" dbtrust://
chmod g+w "$CAT"
expect "memcheck: unsafe catalog" fail "is writable by its group" "${S[@]}" dbtrust://
dbt_prov_done || rc=1
exit $rc
