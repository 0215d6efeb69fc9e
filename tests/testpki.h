/* A small test PKI built in memory (fresh keys, fixed names, serials and dates), and helpers that
 * write certificates as PEM, DER and PKCS#7 with plain OpenSSL calls, independent of lib/. */
#ifndef DBT_TESTPKI_H
#define DBT_TESTPKI_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * Roots named like the AWS RDS G1 roots (C, O, OU, ST, CN, L: CN is not the last RDN), valid
 * 2021-05-25 to 2121-05-25 (notAfter is a GeneralizedTime); an intermediate issued by the
 * RSA-2048 root, a server leaf (CN and DNS SAN db.example.test) issued by the intermediate, and
 * a self-signed CA that expired on 2020-03-05.
 */
typedef struct testpki {
    EVP_PKEY *rsa2048_key, *rsa4096_key, *ec384_key, *inter_key, *leaf_key, *expired_key;
    X509 *root_rsa2048; /* "Amazon RDS test Root CA RSA2048 G1", sha256WithRSAEncryption */
    X509 *root_rsa4096; /* "Amazon RDS test Root CA RSA4096 G1", sha384WithRSAEncryption */
    X509 *root_ec384;   /* "Amazon RDS test Root CA ECC384 G1", ecdsa-with-SHA384 */
    X509 *intermediate; /* "Amazon RDS test us-east-1 CA", EC P-256, pathlen 0 */
    X509 *leaf;         /* "db.example.test", EC P-256, CA:FALSE, serverAuth */
    X509 *expired_ca;   /* "Amazon RDS test Expired Root CA", RSA-2048, 2015-03-05..2020-03-05 */
} testpki;

#define TESTPKI_LEAF_DNS "db.example.test"
#define TESTPKI_NCERTS 6

/* Builds the PKI (RSA-4096 key generation takes a second, much longer under valgrind: build it
 * once per test program, in a cmocka group setup). NULL on failure, reason on stderr. */
testpki *testpki_new(void);
void testpki_free(testpki *pki);

/* cmocka group setup/teardown: *state is a testpki built once for all the tests of a group. */
int testpki_group_setup(void **state);
int testpki_group_teardown(void **state);

/* The six certificates in the order of the struct (not owned by the caller). */
void testpki_all(const testpki *pki, X509 *out[TESTPKI_NCERTS]);

/* A fresh key: "rsa2048", "rsa4096", "ec-p256", "ec-p384", "ed25519", "dsa2048". */
EVP_PKEY *testpki_key(const char *kind);

/* What testpki_cert_new builds. issuer/issuer_key NULL: self-signed with key. */
typedef struct testpki_certspec {
    const char *cn; /* placed between ST and L, as in the AWS roots */
    EVP_PKEY *key;  /* subject key */
    X509 *issuer;   /* NULL: self-signed */
    EVP_PKEY *issuer_key;
    long serial; /* 0 is allowed (as in real Google Cloud SQL CAs) */
    time_t not_before, not_after;
    int ca;           /* basicConstraints CA:TRUE; -1 leaves basicConstraints out */
    int pathlen;      /* -1: no pathlen */
    const char *dns;  /* subjectAltName DNS name, or NULL */
    const EVP_MD *md; /* NULL for Ed25519/Ed448, else e.g. EVP_sha256() */
} testpki_certspec;

X509 *testpki_cert_new(const testpki_certspec *spec);

/* Seconds since the epoch for a UTC date, for certspec dates. */
time_t testpki_utc(int year, int month, int day);

/* Writers; *out is malloc'ed (free with free()). 0 on success, -1 on failure. */
int testpki_pem(X509 *const *certs, size_t n, unsigned char **out, size_t *len);
int testpki_der(X509 *x, unsigned char **out, size_t *len);
/* Certificates-only PKCS#7 made with PKCS7_sign(NULL, NULL, certs, NULL, PKCS7_PARTIAL). */
int testpki_p7_der(X509 *const *certs, size_t n, unsigned char **out, size_t *len);
int testpki_p7_pem(X509 *const *certs, size_t n, unsigned char **out, size_t *len);
/* PKCS#8 "-----BEGIN PRIVATE KEY-----" block. */
int testpki_key_pem(EVP_PKEY *key, unsigned char **out, size_t *len);
/* Lowercase hex SHA-256 of the DER certificate, computed with EVP_Digest over i2d_X509. */
void testpki_sha256_hex(X509 *x, char out[65]);

/* Writes data to path (created or truncated, mode 0644). 0 on success. */
int testpki_write_file(const char *path, const void *data, size_t len);

/*
 * Path of a real-data file ($DBTRUST_REALDATA/<name>) in buf. Returns 0 when it exists; else
 * prints why the caller skips ("SKIP: ...") and returns -1.
 */
int testpki_realdata(const char *name, char *buf, size_t n);

/* A fresh private directory under $TMPDIR (or /tmp) in buf; testpki_rmtree removes it. */
int testpki_tmpdir(char *buf, size_t n);
void testpki_rmtree(const char *dir);

#endif
