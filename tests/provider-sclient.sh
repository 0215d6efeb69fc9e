#!/usr/bin/env bash
# dbtrust.so in a real TLS handshake: `openssl s_client -starttls postgres -CAstore dbtrust://`
# against PostgreSQL with the demo server chain verifies the server and its host name; a wrong
# host name, a bundle without the CA, or a catalog without the root make the handshake fail.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
. "$src/tests/lib/pgserver.sh"
dbt_pg_check || exit $?
dbt_prov_setup provider-sclient
dbt_prov_pki

"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
dbt_pg_start --ssl "$PKI/server-chain.pem" "$PKI/server.key" || exit $?
port=$DBT_PG_PORT
dbt_pg_start --ssl "$PKI/other-server-chain.pem" "$PKI/other-server.key" || exit $?
other_port=$DBT_PG_PORT

# Only the store given is trusted; stdin at EOF ends the session right after the handshake.
sc() {
    local p=$1
    shift
    openssl s_client -starttls postgres -connect "127.0.0.1:$p" -servername "$HOST" \
        -no-CAfile -no-CApath -verify_return_error "$@" </dev/null
}
export -f sc
export HOST
expect "s_client -CAstore dbtrust:// verifies the server and its name" ok \
    "Verify return code: 0 (ok)" bash -c 'sc "$@"' sc "$port" -CAstore dbtrust:// -verify_hostname "$HOST"
expect "s_client -CAstore dbtrust://rds verifies" ok "Verify return code: 0 (ok)" \
    bash -c 'sc "$@"' sc "$port" -CAstore dbtrust://rds -verify_hostname "$HOST"
expect "a wrong host name fails" fail "hostname mismatch" \
    bash -c 'sc "$@"' sc "$port" -CAstore dbtrust:// -verify_hostname wrong.demo.internal
expect "a bundle without the CA fails" fail "unable to get local issuer certificate" \
    bash -c 'sc "$@"' sc "$port" -CAstore dbtrust://other -verify_hostname "$HOST"
expect "the other server verifies through dbtrust://other" ok "Verify return code: 0 (ok)" \
    bash -c 'sc "$@"' sc "$other_port" -CAstore dbtrust://other -verify_hostname "$HOST"

# The demo root leaves the catalog.
cat "$PKI/root-rsa4096.pem" "$PKI/root-ecc384.pem" >"$W/two-roots.pem"
"$MKCATALOG" "$CAT" rds="$W/two-roots.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
expect "without the root in the catalog the handshake fails" fail \
    "unable to get local issuer certificate" \
    bash -c 'sc "$@"' sc "$port" -CAstore dbtrust:// -verify_hostname "$HOST"
dbt_prov_done
