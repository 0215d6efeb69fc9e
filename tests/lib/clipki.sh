# Test PKI for the CLI tests (tests/cli-*.sh), made with the openssl command in the current
# directory: two roots, an intermediate, a leaf, a CA expiring in 5 days and an expired CA.
# Sourceable from bash; defines clipki_make and clipki_sha256 only.

# clipki_make: writes root-a.pem (EC P-256 CA), root-b.pem (RSA 2048 CA), inter.pem (CA under
# root-a), leaf.pem (CA:FALSE, CN=db.example.com, under inter), soon.pem (CA, 5 days left),
# old.pem (CA, expired in 2020), with their keys. Returns 1 and shows openssl's output on failure.
clipki_make() {
    cat >clipki.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:FALSE
subjectAltName = DNS:db.example.com
[ca]
default_ca = old
[old]
dir = .
database = clipki-index.txt
new_certs_dir = .
serial = clipki-serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
CNF
    : >clipki-index.txt
    echo 1000 >clipki-serial
    {
        openssl req -x509 -config clipki.cnf -extensions ca_ext -newkey ec \
            -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root-a.key \
            -subj '/C=US/O=dbtrust test/CN=Test Root A' -days 3650 -out root-a.pem &&
            openssl req -x509 -config clipki.cnf -extensions ca_ext -newkey rsa:2048 -nodes \
                -keyout root-b.key -subj '/O=dbtrust test/CN=Test Root B' -days 3650 \
                -out root-b.pem &&
            openssl req -new -config clipki.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
                -nodes -keyout inter.key -subj '/O=dbtrust test/CN=Test Intermediate' \
                -out inter.csr &&
            openssl x509 -req -in inter.csr -CA root-a.pem -CAkey root-a.key -set_serial 2 \
                -days 1000 -extfile clipki.cnf -extensions ca_ext -out inter.pem &&
            openssl req -new -config clipki.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
                -nodes -keyout leaf.key -subj '/CN=db.example.com' -out leaf.csr &&
            openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key -set_serial 3 \
                -days 100 -extfile clipki.cnf -extensions leaf_ext -out leaf.pem &&
            openssl req -x509 -config clipki.cnf -extensions ca_ext -newkey ec \
                -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout soon.key \
                -subj '/CN=Test Expires Soon' -days 5 -out soon.pem &&
            openssl req -new -config clipki.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
                -nodes -keyout old.key -subj '/CN=Test Long Expired' -out old.csr &&
            openssl ca -config clipki.cnf -selfsign -keyfile old.key -in old.csr -batch -notext \
                -extfile clipki.cnf -extensions ca_ext -startdate 20200101000000Z \
                -enddate 20200201000000Z -out old.pem
    } >clipki.log 2>&1 || {
        cat clipki.log >&2
        return 1
    }
}

# clipki_sha256 FILE: the SHA-256 fingerprint of the first certificate of a PEM file, as
# openssl computes it, in dbtrust's form (64 lowercase hex digits).
clipki_sha256() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f
}
