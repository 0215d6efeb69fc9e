#!/usr/bin/env bash
# Makes a demo "managed database" PKI shaped like AWS RDS's G1 roots, for tests and the demo.
# Usage: certs/demo-pki.sh OUTDIR [HOSTNAME]   (HOSTNAME defaults to db.demo.internal)
# Also sourceable: `. certs/demo-pki.sh; dbt_demo_pki OUTDIR [HOSTNAME]`.
#
# OUTDIR layout (fixed names; keys are fresh on each run, mode 0600):
#   root-rsa2048.pem/.key   "Demo RDS us-east-1 Root CA RSA2048 G1", RSA 2048, sha256WithRSA
#   root-rsa4096.pem/.key   "Demo RDS us-east-1 Root CA RSA4096 G1", RSA 4096, sha384WithRSA
#   root-ecc384.pem/.key    "Demo RDS us-east-1 Root CA ECC384 G1", P-384, ecdsa-with-SHA384
#       Like the real ones: subject C, O, OU, ST, CN, L (CN not last), no AKID, SKID present,
#       basicConstraints critical CA:TRUE, keyUsage critical digitalSignature/keyCertSign/cRLSign,
#       valid 40 years (RSA2048) or 100 years (others; notAfter as GeneralizedTime).
#   demo-bundle.pem         the three roots (what a user downloads as "the bundle")
#   intermediate.pem/.key   "Demo RDS us-east-1 Subordinate CA RSA2048 G1.A.1", RSA 2048,
#                           issued by the RSA2048 root (CA:TRUE, pathlen:0, AKID)
#   server.pem/.key         leaf for HOSTNAME (CN and DNS SAN), P-256, serverAuth, by intermediate
#   server-chain.pem        server.pem + intermediate.pem (a server's ssl_cert_file)
#   expired-server.pem/.key, expired-server-chain.pem
#                           same as server but valid only 2020-01-01..2021-01-01
#   other-root.pem/.key     an unrelated root ("Demo Other Cloud Root CA"), P-256
#   other-server.pem/.key   leaf for HOSTNAME issued by other-root
#   other-server-chain.pem  other-server.pem (other-root issues it directly)
#   hostname                the HOSTNAME used

dbt_demo_pki_fail() {
    printf 'demo-pki: %s\n' "$*" >&2
    return 1
}

# dbt_demo_pki_root OUT NAME KEYALG SUBJECT DIGEST DAYS
dbt_demo_pki_root() {
    local out=$1 name=$2 keyalg=$3 subj=$4 md=$5 days=$6
    # shellcheck disable=SC2086
    openssl genpkey $keyalg -out "$out/$name.key" 2>/dev/null ||
        dbt_demo_pki_fail "generating the $name key ($keyalg) failed" || return 1
    openssl req -new -x509 -config "$out/.pki.cnf" -extensions root_ext -key "$out/$name.key" \
        -"$md" -days "$days" -subj "$subj" -set_serial "0x$(openssl rand -hex 8)" \
        -out "$out/$name.pem" 2>"$out/.err" ||
        dbt_demo_pki_fail "self-signing $name failed: $(cat "$out/.err")" || return 1
}

# dbt_demo_pki_issue OUT NAME KEYALG SUBJECT EXTSECTION ISSUERNAME DIGEST DAYS
dbt_demo_pki_issue() {
    local out=$1 name=$2 keyalg=$3 subj=$4 ext=$5 issuer=$6 md=$7 days=$8
    # shellcheck disable=SC2086
    openssl genpkey $keyalg -out "$out/$name.key" 2>/dev/null ||
        dbt_demo_pki_fail "generating the $name key failed" || return 1
    openssl req -new -config "$out/.pki.cnf" -key "$out/$name.key" -subj "$subj" \
        -out "$out/.$name.csr" 2>"$out/.err" ||
        dbt_demo_pki_fail "making the $name request failed: $(cat "$out/.err")" || return 1
    openssl x509 -req -in "$out/.$name.csr" -CA "$out/$issuer.pem" -CAkey "$out/$issuer.key" \
        -set_serial "0x$(openssl rand -hex 8)" -"$md" -days "$days" \
        -extfile "$out/.pki.cnf" -extensions "$ext" -out "$out/$name.pem" 2>"$out/.err" ||
        dbt_demo_pki_fail "issuing $name by $issuer failed: $(cat "$out/.err")" || return 1
}

dbt_demo_pki() {
    local out=${1:-} host=${2:-db.demo.internal} org ec256 ec384 rsa2048 rsa4096 r
    [ -n "$out" ] || dbt_demo_pki_fail "usage: demo-pki.sh OUTDIR [HOSTNAME]" || return 2
    command -v openssl >/dev/null ||
        dbt_demo_pki_fail "the openssl command is needed (apt-get install openssl)" || return 1
    mkdir -p "$out" || dbt_demo_pki_fail "cannot create $out" || return 1
    (
        umask 077
        set -e
        org="/C=US/O=Amazon Web Services, Inc. (demo)/OU=Amazon RDS/ST=WA"
        rsa2048="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
        rsa4096="-algorithm RSA -pkeyopt rsa_keygen_bits:4096"
        ec256="-algorithm EC -pkeyopt ec_paramgen_curve:P-256"
        ec384="-algorithm EC -pkeyopt ec_paramgen_curve:P-384"
        cat >"$out/.pki.cnf" <<EOF
# Extensions of the demo PKI (written by certs/demo-pki.sh).
[ req ]
distinguished_name = dn
prompt = no
string_mask = utf8only
[ dn ]
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = none
[ sub_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:$host
[ ca ]
default_ca = expired_ca
[ expired_ca ]
database = $out/.ca-index
new_certs_dir = $out/.ca-new
serial = $out/.ca-serial
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
x509_extensions = server_ext
[ any_policy ]
commonName = supplied
EOF
        rm -f "$out"/*.pem "$out"/*.key
        dbt_demo_pki_root "$out" root-rsa2048 "$rsa2048" \
            "$org/CN=Demo RDS us-east-1 Root CA RSA2048 G1/L=Seattle" sha256 14600
        dbt_demo_pki_root "$out" root-rsa4096 "$rsa4096" \
            "$org/CN=Demo RDS us-east-1 Root CA RSA4096 G1/L=Seattle" sha384 36500
        dbt_demo_pki_root "$out" root-ecc384 "$ec384" \
            "$org/CN=Demo RDS us-east-1 Root CA ECC384 G1/L=Seattle" sha384 36500
        cat "$out/root-rsa2048.pem" "$out/root-rsa4096.pem" "$out/root-ecc384.pem" \
            >"$out/demo-bundle.pem"

        dbt_demo_pki_issue "$out" intermediate "$rsa2048" \
            "$org/CN=Demo RDS us-east-1 Subordinate CA RSA2048 G1.A.1/L=Seattle" sub_ext \
            root-rsa2048 sha256 7300
        dbt_demo_pki_issue "$out" server "$ec256" "/CN=$host" server_ext intermediate sha256 365
        cat "$out/server.pem" "$out/intermediate.pem" >"$out/server-chain.pem"

        # openssl x509 on 3.0 cannot set notBefore; "openssl ca" can, so the expired leaf
        # comes from a throwaway CA database.
        mkdir -p "$out/.ca-new"
        : >"$out/.ca-index"
        openssl rand -hex 8 >"$out/.ca-serial"
        openssl genpkey $ec256 -out "$out/expired-server.key"
        openssl req -new -config "$out/.pki.cnf" -key "$out/expired-server.key" -subj "/CN=$host" \
            -out "$out/.expired.csr"
        openssl ca -batch -notext -config "$out/.pki.cnf" -cert "$out/intermediate.pem" \
            -keyfile "$out/intermediate.key" -startdate 20200101000000Z -enddate 20210101000000Z \
            -in "$out/.expired.csr" -out "$out/expired-server.pem" 2>"$out/.err" ||
            dbt_demo_pki_fail "issuing the expired server certificate failed: $(cat "$out/.err")"
        cat "$out/expired-server.pem" "$out/intermediate.pem" >"$out/expired-server-chain.pem"

        dbt_demo_pki_root "$out" other-root "$ec256" \
            "/C=US/O=Demo Other Cloud/CN=Demo Other Cloud Root CA" sha256 3650
        dbt_demo_pki_issue "$out" other-server "$ec256" "/CN=$host" server_ext other-root sha256 365
        cp "$out/other-server.pem" "$out/other-server-chain.pem"

        echo "$host" >"$out/hostname"
        rm -rf "$out/.ca-new" "$out"/.ca-* "$out"/.*.csr "$out/.err"
        # Certificates are public; only keys stay private.
        chmod 644 "$out"/*.pem "$out/hostname"
    ) || { r=$?; dbt_demo_pki_fail "could not make the demo PKI in $out"; return $r; }
    # A check that the chain as produced verifies, so a broken recipe fails here, not later.
    openssl verify -no-CApath -no-CAstore -CAfile "$out/demo-bundle.pem" \
        -untrusted "$out/intermediate.pem" -verify_hostname "$host" "$out/server.pem" \
        >/dev/null 2>"$out/.err" ||
        { dbt_demo_pki_fail "the new chain in $out does not verify: $(cat "$out/.err")"; return 1; }
    rm -f "$out/.err"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    dbt_demo_pki "$@"
fi
