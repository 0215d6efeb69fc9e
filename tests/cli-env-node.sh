#!/bin/bash
# Node.js trusts the catalog through `dbtrust env`'s NODE_EXTRA_CA_CERTS line, with scopes held:
# the host's real node, as a TLS client (tls.connect) of openssl s_server instances serving
# leaves of a private CA. Without the line node does not trust the CA (control); with it a leaf
# for a name inside the bundle's --only-for scope verifies and one outside fails with OpenSSL's
# permitted-subtree error (Node's verifier is OpenSSL's, and the file carries the scoped forms:
# the root with the constraint, a scoped intermediate's cross-certificate and its anchor, never
# the raw CA), for a scoped root and for a scoped intermediate; the same leaf verifies once it is
# re-imported --unscoped (control: the leaf itself is good); after the bundle is removed, a new
# node process no longer trusts it (the path is the catalog's fixed link); an empty catalog's
# empty file makes node print no warning (an absent file would).
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
# Runs the CLI and node only: the sanitizer pass has nothing of dbtrust's to watch here that
# tests/cli-env.sh does not run.
if [ -n "${DBTRUST_SANITIZED:-}" ]; then
    dbt_skip_reason "runs the CLI and node only (tests/cli-env.sh covers env's output under the sanitizers)"
    exit 77
fi
if ! command -v node >/dev/null 2>&1; then
    dbt_skip_reason "node (Node.js) is not installed (apt-get install nodejs): the real-node check needs it"
    exit 77
fi
DBT_CLI_TIMEOUT=60
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl dash "$PY"
echo "# node $(node --version), OpenSSL $(node -p process.versions.openssl)"

# ---- a private CA (tests/lib/clipki.sh: root-a -> inter -> leaf for db.example.com) and a
# leaf for a name outside the scope under the same intermediate ----
# shellcheck source=tests/lib/clipki.sh
. "$SRCDIR/tests/lib/clipki.sh"
clipki_make || exit 1
printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:www.elsewhere.test\n' >out.ext
{
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout out.key \
        -subj "/CN=www.elsewhere.test" -out out.csr &&
        openssl x509 -req -in out.csr -CA inter.pem -CAkey inter.key -set_serial 9 -days 10 \
            -extfile out.ext -out out.pem
} >out.log 2>&1 || {
    echo "FAIL: could not make the outside leaf: $(cat out.log)"
    exit 1
}
cp leaf.pem in.pem && cp leaf.key in.key
# The PKI's own check: both leaves chain to the root (the outside one is a good certificate).
for l in in out; do
    openssl verify -no-CAfile -no-CApath -CAfile root-a.pem -untrusted inter.pem "$l.pem" >/dev/null ||
        fail "the test PKI's $l leaf does not verify against its root"
done

# shellcheck source=tests/lib/sserver.sh
. "$SRCDIR/tests/lib/sserver.sh"
# start_server LEAF: openssl s_server for LEAF's certificate and the intermediate; sets $port.
start_server() {
    dbt_start_sserver "s_server-$1.log" -cert "$1.pem" -key "$1.key" -cert_chain inter.pem
}
start_server in
port_in=$port
start_server out
port_out=$port

# The client: tls.connect with Node's default trust (its bundled roots plus NODE_EXTRA_CA_CERTS)
# and its default host name check; prints "verified" or the error's code and message.
cat >client.js <<'JS'
const tls = require("tls");
const [port, name] = process.argv.slice(2);
const s = tls.connect({ host: "127.0.0.1", port: Number(port), servername: name }, () => {
    console.log(s.authorized ? "verified" : "not authorized: " + s.authorizationError);
    s.destroy();
    process.exit(s.authorized ? 0 : 1);
});
s.setTimeout(20000, () => { console.log("timeout"); process.exit(3); });
s.on("error", (e) => { console.log("error " + e.code + ": " + e.message); process.exit(1); });
JS
# connect PORT NAME: node, in a shell that evaluated $envout (env's NODE_EXTRA_CA_CERTS line
# alone: a node built to read OpenSSL's default store would otherwise pass through env's
# SSL_CERT_DIR and prove nothing about the file), connects; its output goes to ./node.out and
# its standard error to ./node.err.
connect() {
    timeout 30 dash -c 'eval "$1"; shift; exec node client.js "$@"' sh "$envout" "$1" "$2" \
        >node.out 2>node.err
}
# expect_node WHAT RC PATTERN PORT NAME
expect_node() {
    local what=$1 want=$2 pat=$3 rc
    shift 3
    connect "$@"
    rc=$?
    if [ "$rc" != "$want" ] || ! grep -qE -- "$pat" node.out; then
        fail "$what: node exited $rc (wanted $want), said: $(cat node.out node.err | head -c 600)"
    else
        echo "ok - $what: $(head -c 200 node.out)"
    fi
}
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS
cat=$tmp/catalog

# Control: Node's own roots do not hold the private CA.
envout=
expect_node "control: without dbtrust env node does not trust the CA" 1 \
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN" \
    "$port_in" db.example.com

# Scoped: the name inside verifies, the one outside fails on the name constraint.
expect_rc 0 "$DBTRUST" --catalog "$cat" import --bundle nodeca --only-for db.example.com root-a.pem
expect_rc 0 "$DBTRUST" --catalog "$cat" env
grep -qxF "export NODE_EXTRA_CA_CERTS='$cat/trust.pem'" out ||
    fail "dbtrust env prints no NODE_EXTRA_CA_CERTS line for the catalog: $(cat out)"
envout=$(grep '^export NODE_EXTRA_CA_CERTS=' out)
expect_node "scoped: a leaf inside the scope verifies" 0 "^verified" "$port_in" db.example.com
[ -s node.err ] && fail "scoped: node warned: $(head -c 400 node.err)"
expect_node "scoped: a leaf outside the scope fails on the name constraint" 1 \
    "PERMITTED_VIOLATION|permitted subtree" "$port_out" www.elsewhere.test
# The lazy form carries the same line.
DBTRUST_SYSTEM_CERT_FILE=$tmp/no-bundle.crt DBTRUST_SYSTEM_CERT_DIR=/etc/ssl/certs \
    expect_rc 0 "$DBTRUST" --catalog "$cat" env --lazy
envout=$(grep '^export NODE_EXTRA_CA_CERTS=' out)
[ -n "$envout" ] || fail "env --lazy prints no NODE_EXTRA_CA_CERTS line: $(cat out)"
expect_node "scoped, env --lazy's line: inside verifies" 0 "^verified" "$port_in" db.example.com
expect_node "scoped, env --lazy's line: outside fails" 1 "PERMITTED_VIOLATION|permitted subtree" \
    "$port_out" www.elsewhere.test

# A scoped intermediate (not self-signed) is served as a cross-certificate under the
# generation's local anchor, both in the file: node builds leaf -> cross-certificate -> anchor
# and holds the constraint the same way.
expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle nodeca
expect_rc 0 "$DBTRUST" --catalog "$cat" import --bundle nodeint --only-for db.example.com inter.pem
grep -q "dbtrust scope anchor" <(openssl crl2pkcs7 -nocrl -certfile "$cat/trust.pem" |
    openssl pkcs7 -print_certs -noout) || fail "no local anchor in trust.pem for the scoped intermediate"
expect_node "scoped intermediate: a leaf inside the scope verifies" 0 "^verified" "$port_in" db.example.com
expect_node "scoped intermediate: a leaf outside the scope fails on the name constraint" 1 \
    "PERMITTED_VIOLATION|permitted subtree" "$port_out" www.elsewhere.test
expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle nodeint

# Control: unscoped, the outside leaf verifies, so the failures above were the scope's.
expect_rc 0 "$DBTRUST" --catalog "$cat" import --bundle nodeca --unscoped root-a.pem
expect_rc 0 "$DBTRUST" --catalog "$cat" env
envout=$(grep '^export NODE_EXTRA_CA_CERTS=' out)
expect_node "control: unscoped, the outside leaf verifies" 0 "^verified" "$port_out" www.elsewhere.test
# Node's host name check still applies: the outside leaf is not good for the inside name.
expect_node "control: node checks the host name" 1 "ERR_TLS_CERT_ALTNAME_INVALID" \
    "$port_out" db.example.com

# The same env line after the bundle left the catalog: a new node process no longer trusts it.
expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle nodeca
expect_rc 0 "$DBTRUST" --catalog "$cat" env
[ "$(grep '^export NODE_EXTRA_CA_CERTS=' out)" = "$envout" ] ||
    fail "the NODE_EXTRA_CA_CERTS line changed with the catalog: $(cat out)"
expect_node "removed: node no longer trusts the CA" 1 \
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE" "$port_in" db.example.com
[ -s node.err ] && fail "an empty catalog's trust.pem made node warn: $(head -c 400 node.err)"
# Control: node does warn about a file it cannot load, so the silence above means something.
envout="export NODE_EXTRA_CA_CERTS='$tmp/absent.pem'"
connect "$port_in" db.example.com
grep -q "absent.pem" node.err || fail "control: node did not warn about an absent file: $(cat node.err)"

exit $failed
