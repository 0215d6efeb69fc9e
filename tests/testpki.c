/* The test PKI: certificates built in memory with OpenSSL's X509 API, and writers that use plain
 * OpenSSL calls (never lib/), so tests can compare lib/'s output with an independent one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testpki.h"

static void report(const char *what)
{
    fprintf(stderr, "testpki: %s failed\n", what);
    ERR_print_errors_fp(stderr);
}

/* The slow kinds (RSA, DSA) may come from DBTRUST_TESTPKI_KEYS, a directory of keys generated
 * beforehand as <kind>-<n>.pem for the n-th request of that kind in this process (distinct
 * requests keep distinct keys). tests/unit-valgrind.sh makes one: under valgrind a 4096-bit RSA
 * key generation alone takes minutes, and it is OpenSSL's code, not what valgrind is there to
 * check. Without the variable, or without the file, the key is generated here. */
static EVP_PKEY *cached_key(const char *kind)
{
    static const char *const kinds[] = {"rsa2048", "rsa4096", "dsa2048"};
    static unsigned requests[3];
    const char *dir = getenv("DBTRUST_TESTPKI_KEYS");
    char path[4096];
    EVP_PKEY *key = NULL;
    FILE *f;
    size_t k;

    for (k = 0; k < 3 && strcmp(kinds[k], kind) != 0; k++)
        ;
    if (k == 3)
        return NULL;
    requests[k]++;
    if (dir == NULL || *dir == '\0')
        return NULL;
    snprintf(path, sizeof(path), "%s/%s-%u.pem", dir, kind, requests[k]);
    if ((f = fopen(path, "r")) == NULL)
        return NULL;
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL)
        report(path);
    return key;
}

EVP_PKEY *testpki_key(const char *kind)
{
    EVP_PKEY *key = cached_key(kind);

    if (key != NULL)
        return key;
    if (strcmp(kind, "rsa2048") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(kind, "rsa4096") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    else if (strcmp(kind, "ec-p256") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (strcmp(kind, "ec-p384") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    else if (strcmp(kind, "ed25519") == 0)
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else if (strcmp(kind, "dsa2048") == 0) {
        /* DSA needs domain parameters first; there is no one-call keygen for it. */
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
        EVP_PKEY *params = NULL;
        EVP_PKEY_CTX *kctx = NULL;

        if (pctx != NULL && EVP_PKEY_paramgen_init(pctx) > 0 &&
            EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 2048) > 0 &&
            EVP_PKEY_paramgen(pctx, &params) > 0 &&
            (kctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) != NULL &&
            EVP_PKEY_keygen_init(kctx) > 0)
            EVP_PKEY_keygen(kctx, &key);
        EVP_PKEY_CTX_free(kctx);
        EVP_PKEY_free(params);
        EVP_PKEY_CTX_free(pctx);
    }
    if (key == NULL)
        report(kind);
    return key;
}

time_t testpki_utc(int year, int month, int day)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    return timegm(&tm);
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

X509 *testpki_cert_new(const testpki_certspec *s)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509 *issuer = s->issuer != NULL ? s->issuer : x;
    EVP_PKEY *ikey = s->issuer_key != NULL ? s->issuer_key : s->key;
    char buf[64];
    int ok = 0;

    if (x == NULL || name == NULL)
        goto end;
    /* AWS RDS G1 order: C, O, OU, ST, CN, L (CN is not the last RDN). */
    if (!X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"US", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)"Amazon Web Services, Inc.", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, (const unsigned char *)"Amazon RDS",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "ST", MBSTRING_UTF8, (const unsigned char *)"WA", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)s->cn, -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(name, "L", MBSTRING_UTF8, (const unsigned char *)"Seattle", -1,
                                    -1, 0))
        goto end;
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer) : name) ||
        !X509_set_pubkey(x, s->key) ||
        ASN1_TIME_set(X509_getm_notBefore(x), s->not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), s->not_after) == NULL)
        goto end;
    if (s->ca >= 0) {
        if (s->ca && s->pathlen >= 0)
            snprintf(buf, sizeof(buf), "critical,CA:TRUE,pathlen:%d", s->pathlen);
        else
            snprintf(buf, sizeof(buf), "critical,CA:%s", s->ca ? "TRUE" : "FALSE");
        if (!add_ext(x, issuer, NID_basic_constraints, buf))
            goto end;
    }
    if (!add_ext(x, issuer, NID_key_usage,
                 s->ca > 0 ? "critical,digitalSignature,keyCertSign,cRLSign"
                           : "critical,digitalSignature,keyEncipherment") ||
        !add_ext(x, issuer, NID_subject_key_identifier, "hash"))
        goto end;
    if (s->issuer != NULL && !add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"))
        goto end;
    if (s->ca == 0 && !add_ext(x, issuer, NID_ext_key_usage, "serverAuth"))
        goto end;
    if (s->dns != NULL) {
        snprintf(buf, sizeof(buf), "DNS:%s", s->dns);
        if (!add_ext(x, issuer, NID_subject_alt_name, buf))
            goto end;
    }
    if (X509_sign(x, ikey, s->md) <= 0)
        goto end;
    ok = 1;
end:
    X509_NAME_free(name);
    if (!ok) {
        report(s->cn);
        X509_free(x);
        return NULL;
    }
    return x;
}

testpki *testpki_new(void)
{
    testpki *p = calloc(1, sizeof(*p));
    time_t nb = testpki_utc(2021, 5, 25), na = testpki_utc(2121, 5, 25);

    if (p == NULL)
        return NULL;
    if ((p->rsa2048_key = testpki_key("rsa2048")) == NULL ||
        (p->rsa4096_key = testpki_key("rsa4096")) == NULL ||
        (p->ec384_key = testpki_key("ec-p384")) == NULL ||
        (p->inter_key = testpki_key("ec-p256")) == NULL ||
        (p->leaf_key = testpki_key("ec-p256")) == NULL ||
        (p->expired_key = testpki_key("rsa2048")) == NULL)
        goto fail;
    {
        testpki_certspec r2048 = {"Amazon RDS test Root CA RSA2048 G1",
                                  p->rsa2048_key,
                                  NULL,
                                  NULL,
                                  0x1001,
                                  nb,
                                  na,
                                  1,
                                  -1,
                                  NULL,
                                  EVP_sha256()};
        testpki_certspec r4096 = {"Amazon RDS test Root CA RSA4096 G1",
                                  p->rsa4096_key,
                                  NULL,
                                  NULL,
                                  0x1002,
                                  nb,
                                  na,
                                  1,
                                  -1,
                                  NULL,
                                  EVP_sha384()};
        testpki_certspec e384 = {"Amazon RDS test Root CA ECC384 G1",
                                 p->ec384_key,
                                 NULL,
                                 NULL,
                                 0x1003,
                                 nb,
                                 na,
                                 1,
                                 -1,
                                 NULL,
                                 EVP_sha384()};
        testpki_certspec expired = {"Amazon RDS test Expired Root CA",
                                    p->expired_key,
                                    NULL,
                                    NULL,
                                    0x1006,
                                    testpki_utc(2015, 3, 5),
                                    testpki_utc(2020, 3, 5),
                                    1,
                                    -1,
                                    NULL,
                                    EVP_sha256()};

        if ((p->root_rsa2048 = testpki_cert_new(&r2048)) == NULL ||
            (p->root_rsa4096 = testpki_cert_new(&r4096)) == NULL ||
            (p->root_ec384 = testpki_cert_new(&e384)) == NULL ||
            (p->expired_ca = testpki_cert_new(&expired)) == NULL)
            goto fail;
    }
    {
        testpki_certspec inter = {"Amazon RDS test us-east-1 CA",
                                  p->inter_key,
                                  p->root_rsa2048,
                                  p->rsa2048_key,
                                  0x1004,
                                  testpki_utc(2024, 1, 1),
                                  testpki_utc(2099, 1, 1),
                                  1,
                                  0,
                                  NULL,
                                  EVP_sha256()};

        if ((p->intermediate = testpki_cert_new(&inter)) == NULL)
            goto fail;
    }
    {
        testpki_certspec leaf = {TESTPKI_LEAF_DNS,
                                 p->leaf_key,
                                 p->intermediate,
                                 p->inter_key,
                                 0x1005,
                                 testpki_utc(2024, 1, 1),
                                 testpki_utc(2049, 1, 1),
                                 0,
                                 -1,
                                 TESTPKI_LEAF_DNS,
                                 EVP_sha256()};

        if ((p->leaf = testpki_cert_new(&leaf)) == NULL)
            goto fail;
    }
    return p;
fail:
    testpki_free(p);
    return NULL;
}

void testpki_free(testpki *p)
{
    if (p == NULL)
        return;
    X509_free(p->root_rsa2048);
    X509_free(p->root_rsa4096);
    X509_free(p->root_ec384);
    X509_free(p->intermediate);
    X509_free(p->leaf);
    X509_free(p->expired_ca);
    EVP_PKEY_free(p->rsa2048_key);
    EVP_PKEY_free(p->rsa4096_key);
    EVP_PKEY_free(p->ec384_key);
    EVP_PKEY_free(p->inter_key);
    EVP_PKEY_free(p->leaf_key);
    EVP_PKEY_free(p->expired_key);
    free(p);
}

void testpki_all(const testpki *p, X509 *out[TESTPKI_NCERTS])
{
    out[0] = p->root_rsa2048;
    out[1] = p->root_rsa4096;
    out[2] = p->root_ec384;
    out[3] = p->intermediate;
    out[4] = p->leaf;
    out[5] = p->expired_ca;
}

static int bio_out(BIO *bio, unsigned char **out, size_t *len)
{
    char *mem = NULL;
    long n = BIO_get_mem_data(bio, &mem);

    if (n < 0 || (*out = malloc((size_t)n + 1)) == NULL)
        return -1;
    memcpy(*out, mem, (size_t)n);
    (*out)[n] = '\0';
    *len = (size_t)n;
    return 0;
}

int testpki_pem(X509 *const *certs, size_t n, unsigned char **out, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ret = -1;

    if (bio == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!PEM_write_bio_X509(bio, certs[i]))
            goto end;
    ret = bio_out(bio, out, len);
end:
    BIO_free(bio);
    return ret;
}

int testpki_der(X509 *x, unsigned char **out, size_t *len)
{
    int n = i2d_X509(x, NULL);
    unsigned char *p;

    if (n <= 0 || (*out = malloc((size_t)n)) == NULL)
        return -1;
    p = *out;
    i2d_X509(x, &p);
    *len = (size_t)n;
    return 0;
}

static PKCS7 *certs_only(X509 *const *certs, size_t n)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    PKCS7 *p7 = NULL;

    if (sk == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!sk_X509_push(sk, certs[i]))
            goto end;
    /* No signer, no key, no data: a certificates-only SignedData. PKCS7_PARTIAL skips
     * PKCS7_final, which needs data; the result differs from crl2pkcs7's (an empty eContent
     * OCTET STRING, no empty certificates field), which makes it an independent sample. */
    p7 = PKCS7_sign(NULL, NULL, sk, NULL, PKCS7_PARTIAL);
end:
    sk_X509_free(sk);
    return p7;
}

int testpki_p7_der(X509 *const *certs, size_t n, unsigned char **out, size_t *len)
{
    PKCS7 *p7 = certs_only(certs, n);
    int dl = p7 != NULL ? i2d_PKCS7(p7, NULL) : -1;
    unsigned char *p;

    if (dl <= 0 || (*out = malloc((size_t)dl)) == NULL) {
        PKCS7_free(p7);
        return -1;
    }
    p = *out;
    i2d_PKCS7(p7, &p);
    *len = (size_t)dl;
    PKCS7_free(p7);
    return 0;
}

int testpki_p7_pem(X509 *const *certs, size_t n, unsigned char **out, size_t *len)
{
    PKCS7 *p7 = certs_only(certs, n);
    BIO *bio = BIO_new(BIO_s_mem());
    int ret = -1;

    if (p7 != NULL && bio != NULL && PEM_write_bio_PKCS7(bio, p7))
        ret = bio_out(bio, out, len);
    BIO_free(bio);
    PKCS7_free(p7);
    return ret;
}

int testpki_key_pem(EVP_PKEY *key, unsigned char **out, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ret = -1;

    if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        ret = bio_out(bio, out, len);
    BIO_free(bio);
    return ret;
}

void testpki_sha256_hex(X509 *x, char out[65])
{
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int n = i2d_X509(x, &der);

    out[0] = '\0';
    if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32)
        for (unsigned int i = 0; i < mdlen; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    OPENSSL_free(der);
}

int testpki_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (f == NULL)
        return -1;
    ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : -1;
}

int testpki_realdata(const char *name, char *buf, size_t n)
{
    const char *dir = getenv("DBTRUST_REALDATA");
    struct stat st;

    if (dir == NULL || *dir == '\0') {
        printf("SKIP: DBTRUST_REALDATA is not set (run through make check, or export it)\n");
        return -1;
    }
    snprintf(buf, n, "%s/%s", dir, name);
    if (stat(buf, &st) != 0) {
        printf("SKIP: real-data file %s is not present\n", buf);
        return -1;
    }
    return 0;
}

int testpki_tmpdir(char *buf, size_t n)
{
    const char *t = getenv("TMPDIR");

    snprintf(buf, n, "%s/dbtrust-test.XXXXXX", t != NULL && *t != '\0' ? t : "/tmp");
    return mkdtemp(buf) != NULL ? 0 : -1;
}

void testpki_rmtree(const char *dir)
{
    char cmd[4200];

    /* Test directories hold only flat files the test wrote; rm -rf keeps this short. */
    if (strncmp(dir, "/", 1) == 0 && strstr(dir, "dbtrust-test.") != NULL) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "testpki: could not remove %s\n", dir);
    }
}

int testpki_group_setup(void **state)
{
    testpki *pki = testpki_new();

    if (pki == NULL)
        return -1;
    *state = pki;
    return 0;
}

int testpki_group_teardown(void **state)
{
    testpki_free(*state);
    return 0;
}
