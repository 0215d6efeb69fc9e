#!/bin/bash
# Scoped trust through the commands: import --only-for/--unscoped (forms, refusals, the scope kept
# by a re-import, changed by another), what list, list --json and the import report show, what
# OpenSSL's hashed lookup of <catalog>/trust accepts inside and outside the scope (openssl verify
# on the host's OpenSSL), env naming the trust view, exports and keytool -importcert keeping raw
# roots and the scope, verify catching a trust view that serves a scoped root unscoped, and no
# private key anywhere in the catalog after any of it. Real clients: tests/e2e-scope.sh.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start openssl jq

C=$tmp/cat
gen() { readlink "$1/current"; }
sha() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -c1-64; }
# No file under the catalog holds a private key, in PEM or in any form OpenSSL reads.
no_keys() {
    local f
    if grep -rl "PRIVATE KEY" "$C" >keys 2>/dev/null; then
        fail "$1: PRIVATE KEY in $(tr '\n' ' ' <keys)"
    fi
    while IFS= read -r -d '' f; do
        openssl pkey -in "$f" -noout 2>/dev/null && fail "$1: $f parses as a private key"
        openssl pkey -inform DER -in "$f" -noout 2>/dev/null && fail "$1: $f parses as a DER key"
    done < <(find "$C" -type f -print0)
}
# openssl verify through the trust view only: OK, or the error text.
through_view() {
    SSL_CERT_DIR=/nonexistent openssl verify -no-CAfile -CApath "$C/trust" -untrusted "$1" \
        ${3:+"$3"} "$2" 2>&1
}

# ---- a test PKI: root -> intermediate -> servers inside and outside the scope ----
cat >ext.cnf <<'EOF'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[nc]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical,permitted;DNS:corp.test
EOF
mkkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
mkkey root.key && mkkey int.key && mkkey leaf.key && mkkey nc.key || {
    echo "FAIL: cannot make keys"
    exit 1
}
openssl req -x509 -new -key root.key -subj "/CN=Scope Root/O=dbtrust test" -days 3650 \
    -config ext.cnf -extensions ca -out root.pem 2>/dev/null &&
    openssl req -new -key int.key -subj "/CN=Scope Intermediate/O=dbtrust test" -out int.csr &&
    openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 -days 1000 \
        -extfile ext.cnf -extensions ca -out int.pem 2>/dev/null &&
    openssl req -x509 -new -key nc.key -subj "/CN=Constrained Root" -days 3650 \
        -config ext.cnf -extensions nc -out nc-root.pem 2>/dev/null || {
    echo "FAIL: cannot make the CA certificates"
    exit 1
}
leaf() { # leaf NAME SAN (SAN "" for a CN-only certificate)
    openssl req -new -key leaf.key -subj "/CN=$1" -out "$1.csr" 2>/dev/null &&
        printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n%s\n' \
            "${2:+subjectAltName=$2}" >"$1.ext" &&
        openssl x509 -req -in "$1.csr" -CA int.pem -CAkey int.key -set_serial "$RANDOM" \
            -days 100 -extfile "$1.ext" -out "$1.pem" 2>/dev/null || {
        echo "FAIL: cannot make $1"
        exit 1
    }
}
leaf db.scope.test DNS:db.scope.test
leaf evil.other.test DNS:evil.other.test
leaf cn.scope.test ""
leaf cn.other.test ""
leaf ip-in IP:10.1.2.3
leaf ip-out IP:192.168.7.7
cat int.pem root.pem >chain-with-root.pem
fp_root=$(sha root.pem)

# ---- usage: bad scopes, exit 2, nothing created ----
for bad in "" "exa mple.test" "a..test" "10.0.0.1/8" "10.0.0.0/33" "*" "x/y"; do
    expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle db --only-for "$bad" root.pem
    has err "--only-for: scope '$bad'" "a bad scope '$bad' is named"
done
expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle db --only-for a.test --unscoped root.pem
has err "exclude each other" "--only-for with --unscoped"
expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle db --unscoped --only-for a.test root.pem
args=()
for i in $(seq 65); do args+=(--only-for "h$i.test"); done
expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle db "${args[@]}" root.pem
has err "at most 64" "the cap on a scope's items"
[ -e "$C" ] && fail "a usage error created the catalog"

# ---- a scoped import ----
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle db --only-for Scope.TEST \
    --only-for '*.db.internal' --only-for 10.0.0.0/8 root.pem
has out "scope: scope.test .db.internal 10.0.0.0/8" "the import report shows the scope"
has "$C/bundles/db.meta" "scope=scope.test .db.internal 10.0.0.0/8" "the scope is in the meta"
no_keys "after a scoped import"
expect_rc 0 "$DBTRUST" --catalog "$C" list
has out "SCOPE" "list has a scope section"
grep -q "^db  *scope.test .db.internal 10.0.0.0/8$" out || fail "list shows db's scope: $(cat out)"
expect_rc 0 "$DBTRUST" --catalog "$C" list --json
[ "$(jq -c '.[0].scope' out)" = '["scope.test",".db.internal","10.0.0.0/8"]' ] ||
    fail "list --json scope: $(jq -c '.[0].scope' out)"

# OpenSSL's hashed lookup of the trust view: inside passes, outside fails on the constraint.
r=$(through_view int.pem db.scope.test.pem)
case $r in *": OK"*) ;; *) fail "db.scope.test through the trust view: $r" ;; esac
for l in evil.other.test cn.other.test ip-out; do
    r=$(through_view int.pem $l.pem)
    case $r in *"subtree violation"*) ;; *) fail "$l through the trust view: $r" ;; esac
done
for l in cn.scope.test ip-in; do
    r=$(through_view int.pem $l.pem)
    case $r in *": OK"*) ;; *) fail "$l through the trust view: $r" ;; esac
done
# A server that sends the root too changes nothing.
r=$(through_view chain-with-root.pem evil.other.test.pem)
case $r in *"subtree violation"*) ;; *) fail "evil.other.test with the root sent: $r" ;; esac
r=$(through_view chain-with-root.pem db.scope.test.pem)
case $r in *": OK"*) ;; *) fail "db.scope.test with the root sent: $r" ;; esac
# The raw root is not in the view; certs/ (the catalog as imported) still has it.
[ -e "$C/certs/$fp_root.pem" ] || fail "certs/ lost the raw root"
[ -e "$C/trust/$fp_root.pem" ] && fail "trust/ serves the raw root"
for l in "$C"/trust/*.[0-9]; do
    [ "$(readlink "$l")" = "../certs/$fp_root.pem" ] && fail "trust/ links the raw root: $l"
done

# The root's scoped form is the root with the constraint: self-signed, its own signature kept
# (so a verifier that checks anchors' signatures refuses it: closed, never open); no anchor.
rf=$(for f in "$C"/trust/*.pem; do
    openssl x509 -in "$f" -noout -subject | grep -q "Scope Root" && echo "$f"
done)
[ "$(openssl x509 -in "$rf" -noout -issuer)" = "$(openssl x509 -in root.pem -noout -issuer)" ] ||
    fail "the root's scoped form has another issuer: $(openssl x509 -in "$rf" -noout -issuer)"
[ "$(openssl x509 -in "$rf" -noout -serial)" = "$(openssl x509 -in root.pem -noout -serial)" ] ||
    fail "the root's scoped form has another serial"
openssl x509 -in "$rf" -noout -ext nameConstraints | grep -q "DNS:scope.test" ||
    fail "the root's scoped form lacks its constraint"
grep -l "dbtrust scope anchor" <(for f in "$C"/trust/*.pem; do openssl x509 -in "$f" -noout -subject; done) \
    >/dev/null && fail "trust/ holds an anchor though the bundle holds only a root"
r=$(SSL_CERT_DIR=/nonexistent openssl verify -check_ss_sig -no-CAfile -CApath "$C/trust" \
    -untrusted int.pem db.scope.test.pem 2>&1)
case $r in *"signature failure"*) ;; *) fail "-check_ss_sig on the scoped root: $r" ;; esac

# ---- a scoped bundle holding an intermediate: a cross-certificate under one local anchor ----
C2=$tmp/cat-inter
expect_rc 0 "$DBTRUST" --catalog "$C2" import --bundle chain --only-for scope.test int.pem root.pem
anchors=$(for f in "$C2"/trust/*.pem; do openssl x509 -in "$f" -noout -subject; done |
    grep -c "dbtrust scope anchor")
[ "$anchors" = 1 ] || fail "a scoped intermediate: $anchors anchors in trust/, want 1"
xi=$(for f in "$C2"/trust/*.pem; do
    openssl x509 -in "$f" -noout -subject | grep -q "Scope Intermediate" && echo "$f"
done)
openssl x509 -in "$xi" -noout -issuer | grep -q "dbtrust scope anchor" ||
    fail "the intermediate's scoped form is not issued by the local anchor"
for sent in int.pem ""; do # the server sends the intermediate, or nothing but its leaf
    r=$(SSL_CERT_DIR=/nonexistent openssl verify -no-CAfile -CApath "$C2/trust" \
        ${sent:+-untrusted "$sent"} db.scope.test.pem 2>&1)
    case $r in *": OK"*) ;; *) fail "db.scope.test, intermediate scoped, sent '$sent': $r" ;; esac
    r=$(SSL_CERT_DIR=/nonexistent openssl verify -no-CAfile -CApath "$C2/trust" \
        ${sent:+-untrusted "$sent"} evil.other.test.pem 2>&1)
    case $r in
    *"subtree violation"*) ;;
    *) fail "evil.other.test, intermediate scoped, sent '$sent': $r" ;;
    esac
done
expect_rc 0 "$DBTRUST" --catalog "$C2" verify
C=$C2 no_keys "after a scoped intermediate"

# ---- env names the trust view ----
expect_rc 0 env SSL_CERT_DIR=/etc/ssl/certs "$DBTRUST" --catalog "$C" env
has out "SSL_CERT_DIR='/etc/ssl/certs:$C/trust'" "env names <catalog>/trust"

# ---- a re-import keeps the scope; another scope changes it; --unscoped clears it ----
g=$(gen "$C")
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle db root.pem
has out "scope: scope.test .db.internal 10.0.0.0/8" "a re-import without a scope keeps it"
has out "[unchanged]" "a re-import that changes nothing says so"
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle db --only-for other.test root.pem
has out "scope: scope.test .db.internal 10.0.0.0/8 -> other.test" "a scope change is reported"
hasnt out "[unchanged]" "a scope change is a change"
r=$(through_view int.pem evil.other.test.pem)
case $r in *": OK"*) ;; *) fail "evil.other.test after the scope moved to other.test: $r" ;; esac
r=$(through_view int.pem db.scope.test.pem)
case $r in *"subtree violation"*) ;; *) fail "db.scope.test outside the new scope: $r" ;; esac
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle db --unscoped root.pem
has out "scope: other.test -> (none: every name)" "--unscoped is reported"
grep -qx "scope=" "$C/bundles/db.meta" || fail "--unscoped records an empty scope: $(cat "$C/bundles/db.meta")"
r=$(through_view int.pem evil.other.test.pem)
case $r in *": OK"*) ;; *) fail "evil.other.test unscoped: $r" ;; esac
[ "$(readlink "$C"/trust/"$(openssl x509 -in root.pem -noout -subject_hash)".0)" = \
    "../certs/$fp_root.pem" ] || fail "the unscoped root is not linked from trust/"
expect_rc 0 "$DBTRUST" --catalog "$C" list
hasnt out "SCOPE" "no scope section without a scoped bundle"
expect_rc 0 "$DBTRUST" --catalog "$C" list --json
[ "$(jq -c '.[0].scope' out)" = null ] || fail "list --json of an unscoped bundle"
no_keys "after re-imports"

# ---- a root with name constraints of its own cannot be scoped ----
g=$(gen "$C")
expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle nc --only-for corp.test nc-root.pem
has err "nc-root.pem: certificate 1" "the refusal names the file and certificate"
has err "name constraints of its own" "the refusal says why"
[ "$(gen "$C")" = "$g" ] || fail "a refused scoped import changed the catalog"
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle nc nc-root.pem

# ---- a damaged scope line is refused, never read as unscoped ----
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle db --only-for scope.test root.pem
cur=$C/$(gen "$C")
cp "$cur/bundles/db.meta" meta.good
chmod u+w "$cur/bundles" "$cur/bundles/db.meta"
for damage in lost repeated; do
    case $damage in
    lost) grep -v '^scope=' meta.good >"$cur/bundles/db.meta" ;;
    repeated) { cat meta.good; echo "scope="; } >"$cur/bundles/db.meta" ;;
    esac
    g=$(gen "$C")
    expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle other nc-root.pem
    has err "db.meta is damaged" "a $damage scope line refuses the next change"
    [ "$(gen "$C")" = "$g" ] || fail "a $damage scope line let a change through"
    expect_rc 1 "$DBTRUST" --catalog "$C" verify
done
cp meta.good "$cur/bundles/db.meta"
chmod go-w "$cur/bundles/db.meta"
expect_rc 0 "$DBTRUST" --catalog "$C" verify

# ---- exports and keytool keep raw roots and the scope ----
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle db --only-for scope.test root.pem
expect_rc 0 "$DBTRUST" --catalog "$C" export --bundle db --format pem exported.pem
[ "$(sha exported.pem)" = "$fp_root" ] || fail "export of a scoped bundle is not the raw root"
expect_rc 0 "$DBTRUST" --catalog "$C" -importcert -alias db -file root.pem -noprompt
has "$C/bundles/db.meta" "scope=scope.test" "keytool -importcert keeps the bundle's scope"

# ---- verify: sound, then a trust view that serves the scoped root raw ----
expect_rc 0 "$DBTRUST" --catalog "$C" verify
has out "sound" "verify of a catalog with a scoped bundle"
cur=$C/$(gen "$C")
chmod u+w "$cur/trust"
h=$(openssl x509 -in root.pem -noout -subject_hash)
n=0
while [ -e "$cur/trust/$h.$n" ] || [ -L "$cur/trust/$h.$n" ]; do n=$((n + 1)); done
ln -s "../certs/$fp_root.pem" "$cur/trust/$h.$n"
expect_rc 1 "$DBTRUST" --catalog "$C" verify
has out "serves $fp_root as it is, though only scoped bundles hold it" \
    "verify finds a scoped root served raw"
rm "$cur/trust/$h.$n"
# A cross-certificate re-signed with another scope by someone holding a key is caught too.
x=$(for f in "$cur"/trust/*.pem; do
    openssl x509 -in "$f" -noout -subject | grep -q "Scope Root" && echo "$f"
done)
[ -n "$x" ] || fail "no cross-certificate of the root in trust/"
openssl x509 -in "$x" -out wide.pem -extfile <(printf 'nameConstraints=critical,permitted;DNS:test\n') \
    -signkey root.key 2>/dev/null
cp wide.pem "$x"
expect_rc 1 "$DBTRUST" --catalog "$C" verify
has out "trust/" "verify finds a tampered cross-certificate"
no_keys "at the end"
exit $failed
