#!/usr/bin/env bash
# One safety rule (lib/catsafe.c) for the commands and the provider: for each kind of unsafe
# entry (group- or world-writable file or directory, another owner, a FIFO, a device node, a
# symlink out of the catalog) in bundles/, certs/, the generation directory, the index and a
# .meta, `dbtrust list`, `dbtrust verify`, `openssl storeutl -certs dbtrust://` and
# `openssl verify -CAstore dbtrust://` all refuse the catalog (none serves a part of it).
# Then damage that is not a safety matter (garbage index, swapped, missing or extra certificate
# file, wrong or gapped hash links, broken .meta or bundle, index facts or bundle lists that
# disagree): dbtrust verify reports each with its path and exits 1, list fails where it reads it.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup catalog-safety
dbt_prov_pki
dbt=${DBTRUST:-$DBT_PROV_BUILD/dbtrust}
[ -x "$dbt" ] || { echo "Bail out! $dbt (the CLI) not built"; exit 1; }

root=$PKI/root-rsa2048.pem
sha_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }
rsha=$(sha_of "$root")
osha=$(sha_of "$PKI/other-root.pem")
rhash=$(openssl x509 -in "$root" -noout -subject_hash)
chain=(-untrusted "$PKI/intermediate.pem" "$PKI/server.pem")
"$dbt" --catalog "$W/template" import -q --bundle rds "$PKI/demo-bundle.pem" &&
    "$dbt" --catalog "$W/template" import -q --bundle other "$PKI/other-root.pem" ||
    { echo "Bail out! dbtrust import failed"; exit 1; }
root_uid=$(id -u)

# fresh NAME: a good copy of the template in $C (its generation in $G) and $C.cnf naming it.
fresh() {
    C=$W/$1
    cp -a "$W/template" "$C"
    G=$C/$(readlink "$C/current")
    "$DBT_PROV_BUILD/tests/test_provider_cnf" "$C" >"$C.cnf"
}

fresh good
expect "good catalog: verify says sound" ok "sound" "$dbt" --catalog "$C" verify
expect "good catalog: list" ok "rds" "$dbt" --catalog "$C" list
expect "good catalog: the provider verifies the chain" ok "OK" env OPENSSL_CONF="$C.cnf" \
    openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"

# unsafe NAME MESSAGE DAMAGE...: runs DAMAGE in a fresh copy; all four readers refuse it.
unsafe() {
    local name=$1 msg=$2 n
    shift 2
    fresh "$name"
    (cd "$C" && G=$G "$@") || { not_ok "$name: cannot make the damage"; return; }
    expect "$name: list refuses" fail "$msg" "$dbt" --catalog "$C" list
    expect "$name: verify reports it" fail "$msg" "$dbt" --catalog "$C" verify
    expect "$name: storeutl refuses" any "$msg" env OPENSSL_CONF="$C.cnf" openssl storeutl -certs dbtrust://
    n=$(OPENSSL_CONF="$C.cnf" dbt_prov_count -certs dbtrust://)
    [ "$n" = - ] || [ "$n" = 0 ] && ok "$name: storeutl serves no certificate" ||
        not_ok "$name: storeutl served $n certificates of an unsafe catalog"
    expect "$name: verify -CAstore fails" fail "$msg" env OPENSSL_CONF="$C.cnf" \
        openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
}
# Run in the copy's directory with G set: "$G" is its generation.
unsafe gw-bundle "is writable by its group" sh -c 'chmod g+w "$G/bundles/rds.pem"'
unsafe ow-other-bundle "is writable by others" sh -c 'chmod o+w "$G/bundles/other.pem"'
unsafe ow-meta "is writable by others" sh -c 'chmod o+w "$G/bundles/rds.meta"'
unsafe ow-index "is writable by others" sh -c 'chmod o+w "$G/certs/index"'
unsafe gw-cert "is writable by its group" sh -c "chmod g+w \"\$G/certs/$osha.pem\""
unsafe ow-gen "is writable by others" sh -c 'chmod o+w "$G"'
unsafe gw-certs-dir "is writable by its group" sh -c 'chmod g+w "$G/certs"'
unsafe gw-bundles-dir "is writable by its group" sh -c 'chmod g+w "$G/bundles"'
unsafe fifo-certs "a FIFO" sh -c 'mkfifo "$G/certs/extra"'
unsafe fifo-bundles "a FIFO" sh -c 'mkfifo "$G/bundles/x.pem"'
unsafe fifo-gen "a FIFO" sh -c 'mkfifo "$G/fifo"'
unsafe fifo-top "a FIFO" sh -c 'mkfifo fifo'
unsafe link-out-certs "points outside catalog" sh -c 'ln -s /etc/hostname "$G/certs/x.pem"'
unsafe link-out-bundles "points outside catalog" sh -c 'ln -s /etc/hostname "$G/bundles/y.pem"'
unsafe link-out-gen "points outside catalog" sh -c 'ln -s /etc "$G/z"'
unsafe hash-link-out "points outside catalog" sh -c "ln -sfn /etc/hostname \"\$G/certs/$rhash.0\""
if [ "$root_uid" = 0 ] && id nobody >/dev/null 2>&1; then
    unsafe dev-certs "a device node" sh -c 'mknod "$G/certs/d" c 1 3'
    unsafe dev-bundles "a device node" sh -c 'mknod "$G/bundles/d" c 1 3'
    unsafe foreign-bundle "is owned by uid" sh -c 'chown nobody "$G/bundles/rds.pem"'
    unsafe foreign-meta "is owned by uid" sh -c 'chown nobody "$G/bundles/other.meta"'
    unsafe foreign-index "is owned by uid" sh -c 'chown nobody "$G/certs/index"'
    unsafe foreign-cert "is owned by uid" sh -c "chown nobody \"\$G/certs/$osha.pem\""
    unsafe foreign-gen "is owned by uid" sh -c 'chown nobody "$G"'
else
    echo "# not root: device nodes and foreign owners need root, skipped"
fi

# damaged NAME MESSAGE LIST DAMAGE...: verify exits 1 naming it; LIST=fail: list fails with
# MESSAGE too, LIST=ok: list does not read that part, LIST=other text: list fails with that.
damaged() {
    local name=$1 msg=$2 list=$3 out rc
    shift 3
    fresh "$name"
    (cd "$C" && G=$G "$@") || { not_ok "$name: cannot make the damage"; return; }
    expect "$name: verify reports it" fail "$msg" "$dbt" --catalog "$C" verify
    out=$("$dbt" --catalog "$C" verify --quiet 2>&1)
    rc=$?
    [ $rc = 1 ] && [ -z "$out" ] && ok "$name: verify --quiet exits 1 and prints nothing" ||
        not_ok "$name: verify --quiet: exit status $rc, output: ${out:0:300}"
    case $list in
    ok) ;;
    fail) expect "$name: list fails" fail "$msg" "$dbt" --catalog "$C" list ;;
    *) expect "$name: list fails" fail "$list" "$dbt" --catalog "$C" list ;;
    esac
}
damaged garbage-index 'does not start with "dbtrust-index 1"' fail sh -c 'echo junk >"$G/certs/index"'
damaged bad-index-line "is damaged: run dbtrust import again" fail sh -c 'echo "not a line" >>"$G/certs/index"'
damaged swapped-cert "holds a certificate with SHA-256" fail \
    sh -c "cat \"$PKI/root-ecc384.pem\" >\"\$G/certs/$osha.pem\""
damaged missing-cert "holds no certificate with SHA-256 $osha" fail sh -c "rm \"\$G/certs/$osha.pem\""
damaged extra-cert "is not in the index" ok \
    sh -c "cp \"\$G/certs/$osha.pem\" \"\$G/certs/$(printf '%064d' 0).pem\""
damaged stray-file "is not part of the catalog layout" ok sh -c 'echo x >"$G/certs/README"'
damaged wrong-hash-link "subject hash" ok sh -c "ln -sfn $osha.pem \"\$G/certs/$rhash.0\""
damaged hash-gap "without a gap" ok sh -c "mv \"\$G/certs/$rhash.0\" \"\$G/certs/$rhash.1\""
damaged garbage-meta "is damaged (not the key=value lines" fail sh -c 'echo junk >"$G/bundles/other.meta"'
damaged meta-count "its .meta says" fail sh -c 'sed -i s/^count=.*/count=7/ "$G/bundles/other.meta"'
damaged garbage-bundle "is not a certificate" fail \
    sh -c 'printf -- "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" >"$G/bundles/other.pem"'
damaged stray-meta "is not a bundle's .pem or .meta" ok sh -c 'cp "$G/bundles/other.meta" "$G/bundles/gone.meta"'
damaged index-bundle "listed under bundle nosuch" ok sh -c "sed -i '/^$osha /s/ other\$/ nosuch/' \"\$G/certs/index\""
damaged index-sha1 "the index gives SHA-1" ok sh -c "sed -i '/^$osha /s/^\\($osha\\) [0-9a-f]*/\\1 $(printf '%040d' 0)/' \"\$G/certs/index\""
damaged no-current "is not a symlink to a .gen-N generation" "is not initialized" sh -c 'rm current'
expect "no catalog at all: verify exits 1" fail "does not exist" "$dbt" --catalog "$W/nosuch" verify
expect "verify takes no arguments: exit 2" fail "takes no arguments" "$dbt" --catalog "$W/good" verify x
dbt_prov_done
