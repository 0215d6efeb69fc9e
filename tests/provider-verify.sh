#!/usr/bin/env bash
# dbtrust.so as a trust store for `openssl verify -CAstore`: the demo chain verifies through
# dbtrust:// and through the bundle holding its root, fails through another bundle, fails once
# the root leaves the catalog (a new generation) and verifies again when it comes back.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-verify
dbt_prov_pki

# Only the store given: no default file or directory can make a verification pass.
V=(openssl verify -no-CAfile -no-CApath)
chain=(-untrusted "$PKI/intermediate.pem" "$PKI/server.pem")

"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
expect "verify through dbtrust://" ok "server.pem: OK" "${V[@]}" -CAstore dbtrust:// "${chain[@]}"
expect "verify through dbtrust://rds" ok "server.pem: OK" "${V[@]}" -CAstore dbtrust://rds "${chain[@]}"
expect "verify through dbtrust://other fails" fail "unable to get local issuer certificate" \
    "${V[@]}" -CAstore dbtrust://other "${chain[@]}"
expect "the other chain verifies through dbtrust://other" ok "other-server.pem: OK" \
    "${V[@]}" -CAstore dbtrust://other "$PKI/other-server.pem"
expect "the other chain fails through dbtrust://rds" fail "unable to get local issuer certificate" \
    "${V[@]}" -CAstore dbtrust://rds "$PKI/other-server.pem"
expect "the expired server fails through dbtrust://" fail "certificate has expired" \
    "${V[@]}" -CAstore dbtrust:// -untrusted "$PKI/intermediate.pem" "$PKI/expired-server.pem"
expect "without the intermediate the leaf fails" fail "unable to get local issuer certificate" \
    "${V[@]}" -CAstore dbtrust:// "$PKI/server.pem"
expect "without any store the leaf fails (nothing else is trusted)" fail "" \
    "${V[@]}" -no-CAstore "${chain[@]}"

# The root leaves the catalog: a new generation without it.
cat "$PKI/root-rsa4096.pem" "$PKI/root-ecc384.pem" >"$W/two-roots.pem"
"$MKCATALOG" "$CAT" rds="$W/two-roots.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
expect "after the root is removed, dbtrust:// fails" fail "unable to get local issuer certificate" \
    "${V[@]}" -CAstore dbtrust:// "${chain[@]}"
expect "after the root is removed, dbtrust://rds fails" fail "unable to get local issuer certificate" \
    "${V[@]}" -CAstore dbtrust://rds "${chain[@]}"
"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
expect "after the root is imported again, dbtrust:// verifies" ok "server.pem: OK" \
    "${V[@]}" -CAstore dbtrust:// "${chain[@]}"
expect "a bundle that left the catalog is refused by name" fail 'has no bundle "other"' \
    "${V[@]}" -CAstore dbtrust://other "${chain[@]}"

# A catalog written by the CLI, when this build's import works.
clicat=$W/cli-catalog
if [ -x "${DBTRUST:-}" ] &&
    "$DBTRUST" --catalog "$clicat" import --bundle rds "$PKI/demo-bundle.pem" >/dev/null 2>&1 &&
    "$DBTRUST" --catalog "$clicat" import --bundle other "$PKI/other-root.pem" >/dev/null 2>&1; then
    "$DBT_PROV_BUILD/tests/test_provider_cnf" "$clicat" >"$W/cli.cnf"
    expect "dbtrust import catalog: verify through dbtrust://" ok "server.pem: OK" \
        env OPENSSL_CONF="$W/cli.cnf" openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
    expect "dbtrust import catalog: verify through dbtrust://other fails" fail \
        "unable to get local issuer certificate" \
        env OPENSSL_CONF="$W/cli.cnf" openssl verify -no-CAfile -no-CApath -CAstore dbtrust://other "${chain[@]}"
else
    echo "# dbtrust import not available in this build: CLI-written catalog not checked"
fi
dbt_prov_done
