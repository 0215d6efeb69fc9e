/* Unit tests for lib/jks.c: JKS round trips, the integrity digest, hand-built JKS/JCEKS stores
 * (key entries, version 1, secret keys), every truncated prefix, alias choice. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "jks.h"
#include "testpki.h"
#include "teststore.h"

static void sha256_of(X509 *x, char out[65])
{
    testpki_sha256_hex(x, out);
}

/* A digest that does not match, as a program words it (the CLI's import): lib's own text names
 * no option, only the hint where the CLI puts it; and it is coded as an integrity failure. */
static void assert_wrong_password(const dbt_err *err)
{
    static const char *const texts[DBT_HINT_COUNT] = {[DBT_HINT_PASSWORD] = "use --password"};
    char out[sizeof(err->msg)];

    if (strstr(err->msg, "--") != NULL)
        fail_msg("lib's message spells an option: %s", err->msg);
    dbt_err_render(err, texts, out, sizeof(out));
    assert_non_null(strstr(out, "integrity check failed: wrong password? use --password (or leave "
                                "it out to read the certificates without checking)"));
    assert_int_equal(err->code, DBT_E_INTEGRITY);
}

static int decode(const unsigned char *d, size_t len, const char *pw, dbt_bundle **out,
                  dbt_err *err)
{
    *out = dbt_bundle_new("store.jks");
    assert_non_null(*out);
    err->msg[0] = '\0';
    return dbt_jks_decode(d, len, pw, *out, err);
}

/* ---- a hand-written keystore writer, independent of lib/jks.c ---- */

typedef struct hbuf {
    unsigned char d[65536];
    size_t n;
} hbuf;

static void h_bytes(hbuf *h, const void *p, size_t n)
{
    assert_true(h->n + n <= sizeof(h->d));
    memcpy(h->d + h->n, p, n);
    h->n += n;
}

static void h_u32(hbuf *h, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    h_bytes(h, b, 4);
}

static void h_utf(hbuf *h, const char *s)
{
    unsigned char b[2] = {(unsigned char)(strlen(s) >> 8), (unsigned char)strlen(s)};
    h_bytes(h, b, 2);
    h_bytes(h, s, strlen(s));
}

static void h_cert(hbuf *h, X509 *x, int version)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);

    assert_true(n > 0);
    if (version == 2)
        h_utf(h, "X.509");
    h_u32(h, (uint32_t)n);
    h_bytes(h, der, (size_t)n);
    OPENSSL_free(der);
}

static void h_header(hbuf *h, uint32_t magic, uint32_t version, uint32_t count)
{
    h->n = 0;
    h_u32(h, magic);
    h_u32(h, version);
    h_u32(h, count);
}

static void h_entry(hbuf *h, uint32_t tag, const char *alias)
{
    static const unsigned char date[8] = {0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0};
    h_u32(h, tag);
    h_utf(h, alias);
    h_bytes(h, date, 8);
}

/* Appends SHA-1(UTF-16BE(password) || "Mighty Aphrodite" || data), ASCII passwords only. */
static void h_digest(hbuf *h, const char *pw)
{
    unsigned char pre[256], md[20];
    size_t i, n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    for (i = 0; pw[i]; i++)
        pre[n++] = 0, pre[n++] = (unsigned char)pw[i];
    assert_non_null(ctx);
    assert_true(EVP_DigestInit_ex(ctx, EVP_sha1(), NULL));
    assert_true(EVP_DigestUpdate(ctx, pre, n));
    assert_true(EVP_DigestUpdate(ctx, "Mighty Aphrodite", 16));
    assert_true(EVP_DigestUpdate(ctx, h->d, h->n));
    assert_true(EVP_DigestFinal_ex(ctx, md, NULL));
    EVP_MD_CTX_free(ctx);
    h_bytes(h, md, sizeof(md));
}

/* ---- tests ---- */

static void test_jks_roundtrip(void **state)
{
    static const char *cns[] = {"Amazon RDS us-east-1 Root CA RSA2048 G1",
                                "Amazon RDS us-east-1 Root CA ECC384 G1", "Project CA",
                                "Project CA"};
    static const char *aliases[] = {NULL, "my-ecc-root", NULL, "given"};
    static const char *want[] = {"amazon rds us-east-1 root ca rsa2048 g1", "my-ecc-root",
                                 "project ca", "given"};
    dbt_bundle *in = teststore_bundle(cns, aliases, 4), *out;
    unsigned char *der = NULL;
    size_t len = 0, i;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_jks_encode(in, "s3cret!", &der, &len, &err), 0);
    assert_true(dbt_jks_sniff(der, len));
    assert_int_equal(decode(der, len, "s3cret!", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    for (i = 0; i < 4; i++) {
        assert_string_equal(out->certs[i].alias, want[i]);
        assert_int_equal(out->certs[i].block, (int)i + 1);
    }
    dbt_bundle_free(out);
    /* Without a password the certificates are read and the digest is not checked. */
    assert_int_equal(decode(der, len, NULL, &out, &err), 0);
    teststore_assert_same_certs(in, out);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

static void test_jks_wrong_password(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;

    (void)state;
    /* NULL means "changeit", Java's conventional truststore password. */
    assert_int_equal(dbt_jks_encode(in, NULL, &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "changeit", &out, &err), 0);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, "changeme", &out, &err), -1);
    assert_non_null(strstr(err.msg, "store.jks: JKS integrity check failed: wrong password"));
    assert_wrong_password(&err);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, "", &out, &err), -1);
    assert_non_null(strstr(err.msg, "wrong password"));
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* Every strict prefix of a valid store is refused with a message, never read or crashed on. */
static void test_jks_every_prefix(void **state)
{
    static const char *cns[] = {"Root One", "Root Two", "Root Three"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 3), *out;
    unsigned char *der = NULL, *copy;
    size_t len = 0, cut;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_jks_encode(in, "pw", &der, &len, &err), 0);
    for (cut = 0; cut < len; cut++) {
        /* An exact-size heap copy lets valgrind catch any read past the cut. */
        copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, der, cut);
        assert_int_equal(decode(copy, cut, NULL, &out, &err), -1);
        if (cut < 4)
            assert_non_null(strstr(err.msg, "not a JKS or JCEKS keystore"));
        else
            assert_non_null(strstr(err.msg, "truncated"));
        assert_non_null(strstr(err.msg, "store.jks"));
        dbt_bundle_free(out);
        free(copy);
    }
    /* Entry and offset are named: cut inside the second entry's certificate. */
    {
        size_t second = 12;
        unsigned char *p = der + 12;
        size_t alen = ((size_t)p[4] << 8) | p[5];
        size_t clen_at = 4 + 2 + alen + 8 + 2 + 5;
        size_t clen = ((size_t)p[clen_at] << 24) | ((size_t)p[clen_at + 1] << 16) |
                      ((size_t)p[clen_at + 2] << 8) | p[clen_at + 3];
        char want[128];

        second += clen_at + 4 + clen;
        assert_int_equal(decode(der, second + 30, NULL, &out, &err), -1);
        snprintf(want, sizeof(want), "JKS entry 2 of 3 (at offset %zu): truncated", second);
        assert_non_null(strstr(err.msg, want));
        dbt_bundle_free(out);
    }
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* Any one flipped byte is caught when the password is checked, and never crashes without. */
static void test_jks_every_byte_flipped(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    unsigned char *der = NULL;
    size_t len = 0, i;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_jks_encode(in, "pw", &der, &len, &err), 0);
    for (i = 0; i < len; i++) {
        der[i] ^= 0x5A;
        assert_int_equal(decode(der, len, "pw", &out, &err), -1);
        assert_true(err.msg[0] != '\0');
        dbt_bundle_free(out);
        if (decode(der, len, NULL, &out, &err) < 0)
            assert_true(err.msg[0] != '\0');
        dbt_bundle_free(out);
        der[i] ^= 0x5A;
    }
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* Random bytes behind a valid magic number: a clean error each time. */
static void test_jks_garbage(void **state)
{
    unsigned char buf[512];
    uint32_t seed = 12345;
    dbt_bundle *out;
    dbt_err err;
    int round;
    size_t i;

    (void)state;
    for (round = 0; round < 2000; round++) {
        size_t n = 4 + (size_t)round % (sizeof(buf) - 4);
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (unsigned char)(seed >> 16);
        }
        memcpy(buf, round % 2 ? "\xce\xce\xce\xce" : "\xfe\xed\xfe\xed", 4);
        /* Small plausible headers so that parsing reaches the entries. */
        if (round % 3 != 0) {
            memcpy(buf + 4, "\0\0\0\2\0\0\0\1", n >= 12 ? 8 : n - 4);
        }
        assert_int_equal(decode(buf, n, NULL, &out, &err), -1);
        assert_non_null(strstr(err.msg, "store.jks: "));
        dbt_bundle_free(out);
    }
}

static void test_jks_private_key_and_v1(void **state)
{
    X509 *a = teststore_cert("Key Owner", 7), *b = teststore_cert("Issuing CA", 8),
         *c = teststore_cert("Trusted Root", 9);
    static hbuf h;
    static const unsigned char fake_key[37] = {0x30, 0x23};
    dbt_bundle *out;
    dbt_err err;
    char ha[65], hb[65];
    uint32_t version;

    (void)state;
    for (version = 1; version <= 2; version++) {
        h_header(&h, 0xFEEDFEEDu, version, 2);
        h_entry(&h, 1, "mykey");
        h_u32(&h, sizeof(fake_key));
        h_bytes(&h, fake_key, sizeof(fake_key));
        h_u32(&h, 2);
        h_cert(&h, a, (int)version);
        h_cert(&h, b, (int)version);
        h_entry(&h, 2, "root");
        h_cert(&h, c, (int)version);
        h_digest(&h, "changeit");
        assert_int_equal(decode(h.d, h.n, "changeit", &out, &err), 0);
        assert_int_equal(out->n, 3);
        sha256_of(a, ha), sha256_of(out->certs[0].x509, hb);
        assert_string_equal(ha, hb);
        sha256_of(b, ha), sha256_of(out->certs[1].x509, hb);
        assert_string_equal(ha, hb);
        sha256_of(c, ha), sha256_of(out->certs[2].x509, hb);
        assert_string_equal(ha, hb);
        assert_string_equal(out->certs[0].alias, "mykey");
        assert_string_equal(out->certs[1].alias, "mykey");
        assert_int_equal(out->certs[1].block, 1);
        assert_string_equal(out->certs[2].alias, "root");
        assert_int_equal(out->certs[2].block, 2);
        dbt_bundle_free(out);
    }
    /* A version this code does not know is refused by name. */
    h_header(&h, 0xFEEDFEEDu, 3, 0);
    h_digest(&h, "changeit");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "version 3 is not 1 or 2"));
    dbt_bundle_free(out);
    X509_free(a), X509_free(b), X509_free(c);
}

static void test_jks_jceks(void **state)
{
    X509 *a = teststore_cert("Key Owner", 7), *c = teststore_cert("Trusted Root", 9);
    static hbuf h;
    static const unsigned char fake_key[20] = {0x30, 0x12};
    dbt_bundle *out;
    dbt_err err;
    char ha[65], hb[65];

    (void)state;
    h_header(&h, 0xCECECECEu, 2, 2);
    h_entry(&h, 2, "root");
    h_cert(&h, c, 2);
    h_entry(&h, 1, "mykey");
    h_u32(&h, sizeof(fake_key));
    h_bytes(&h, fake_key, sizeof(fake_key));
    h_u32(&h, 1);
    h_cert(&h, a, 2);
    h_digest(&h, "jcekspw");
    assert_true(dbt_jks_sniff(h.d, h.n));
    assert_int_equal(decode(h.d, h.n, "jcekspw", &out, &err), 0);
    assert_int_equal(out->n, 2);
    sha256_of(c, ha), sha256_of(out->certs[0].x509, hb);
    assert_string_equal(ha, hb);
    sha256_of(a, ha), sha256_of(out->certs[1].x509, hb);
    assert_string_equal(ha, hb);
    dbt_bundle_free(out);
    assert_int_equal(decode(h.d, h.n, "other", &out, &err), -1);
    assert_non_null(strstr(err.msg, "JCEKS integrity check failed: wrong password"));
    assert_wrong_password(&err);
    dbt_bundle_free(out);

    /* A secret key entry: a serialized Java object with no length, refused by name. */
    h_header(&h, 0xCECECECEu, 2, 2);
    h_entry(&h, 2, "root");
    h_cert(&h, c, 2);
    h_entry(&h, 3, "aes-key");
    h_bytes(&h, "\xac\xed\x00\x05sr\x00\x19javax.crypto.SealedObject", 34);
    h_digest(&h, "jcekspw");
    assert_int_equal(decode(h.d, h.n, "jcekspw", &out, &err), -1);
    assert_non_null(strstr(err.msg, "JCEKS entry 2 of 2"));
    assert_non_null(strstr(err.msg, "\"aes-key\" is a secret key entry"));
    assert_non_null(strstr(err.msg, "-deststoretype pkcs12"));
    dbt_bundle_free(out);

    /* JKS has no tag 3. */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_entry(&h, 3, "aes-key");
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "unknown entry tag 3"));
    dbt_bundle_free(out);
    X509_free(a), X509_free(c);
}

static void test_jks_bad_fields(void **state)
{
    X509 *c = teststore_cert("Trusted Root", 9);
    static hbuf h;
    dbt_bundle *out;
    dbt_err err;

    (void)state;
    /* Certificate type other than X.509. */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_entry(&h, 2, "x");
    h_utf(&h, "PGP");
    h_u32(&h, 0);
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "certificate type \"PGP\" is not X.509"));
    dbt_bundle_free(out);
    /* Negative certificate length. */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_entry(&h, 2, "x");
    h_utf(&h, "X.509");
    h_u32(&h, 0xFFFFFFF0u);
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "certificate length at offset 34 is negative (-16)"));
    dbt_bundle_free(out);
    /* A certificate field that is not DER. */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_entry(&h, 2, "x");
    h_utf(&h, "X.509");
    h_u32(&h, 4);
    h_bytes(&h, "abcd", 4);
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "JKS entry 1 of 1 (at offset 12): the certificate at "
                                    "offset 38 is not valid DER"));
    dbt_bundle_free(out);
    /* Bytes after the digest. */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_entry(&h, 2, "x");
    h_cert(&h, c, 2);
    h_digest(&h, "x");
    h_bytes(&h, "junk", 4);
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "4 unexpected bytes after the integrity digest"));
    dbt_bundle_free(out);
    /* An alias with U+0000 (modified UTF-8 C0 80). */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_u32(&h, 2);
    h_bytes(&h, "\0\3a\xc0\x80", 5);
    h_bytes(&h, "\0\0\0\0\0\0\0\0", 8);
    h_cert(&h, c, 2);
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "the alias contains the character U+0000"));
    dbt_bundle_free(out);
    X509_free(c);
}

/* Given aliases win, derived ones are lowercase, clashes ignore case and take -2, -3... */
static void test_jks_alias_dedup(void **state)
{
    static const char *cns[] = {"Google Cloud SQL Server CA",
                                "Google Cloud SQL Server CA",
                                "Google Cloud SQL Server CA",
                                "X",
                                "Y",
                                "Z",
                                "  Spaced\tOut  "};
    static const char *given[] = {NULL,   NULL,   NULL, "google cloud sql server ca-2",
                                  "MyCA", "myca", NULL};
    static const char *want_p12[] = {"google cloud sql server ca",
                                     "google cloud sql server ca-3",
                                     "google cloud sql server ca-4",
                                     "google cloud sql server ca-2",
                                     "MyCA",
                                     "myca-2",
                                     "spaced out"};
    static const char *want_jks[] = {"google cloud sql server ca",
                                     "google cloud sql server ca-3",
                                     "google cloud sql server ca-4",
                                     "google cloud sql server ca-2",
                                     "myca",
                                     "myca-2",
                                     "spaced out"};
    dbt_bundle *in = teststore_bundle(cns, given, 7), *out;
    unsigned char *der = NULL;
    size_t len = 0, i;
    char **a;
    dbt_err err;

    (void)state;
    assert_non_null(a = dbt_jks_aliases(in, 0, &err));
    for (i = 0; i < 7; i++)
        assert_string_equal(a[i], want_p12[i]);
    dbt_jks_aliases_free(a, 7);
    assert_non_null(a = dbt_jks_aliases(in, 1, &err));
    for (i = 0; i < 7; i++)
        assert_string_equal(a[i], want_jks[i]);
    dbt_jks_aliases_free(a, 7);
    /* The aliases reach the file. */
    assert_int_equal(dbt_jks_encode(in, NULL, &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "changeit", &out, &err), 0);
    for (i = 0; i < 7; i++)
        assert_string_equal(out->certs[i].alias, want_jks[i]);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* Many certificates with one name stay unique (and fast: one counter per base name). */
static void test_jks_alias_many_same(void **state)
{
    dbt_bundle *in = dbt_bundle_new("same");
    X509 *x = teststore_cert("Same Name", 1);
    char **a, want[64];
    size_t i, n = 3000;
    dbt_err err;

    (void)state;
    for (i = 0; i < n; i++) {
        X509_up_ref(x);
        assert_int_equal(dbt_bundle_push(in, x, (int)i + 1, 0, NULL, &err), 0);
    }
    assert_non_null(a = dbt_jks_aliases(in, 1, &err));
    assert_string_equal(a[0], "same name");
    for (i = 1; i < n; i++) {
        snprintf(want, sizeof(want), "same name-%zu", i + 1);
        assert_string_equal(a[i], want);
    }
    dbt_jks_aliases_free(a, n);
    dbt_bundle_free(in);
    X509_free(x);
}

/* Aliases are written as Java's modified UTF-8: supplementary characters as two surrogates;
 * bytes that are not UTF-8 escaped. */
static void test_jks_alias_unicode(void **state)
{
    static const char *cns[] = {"A", "B"};
    static const char *given[] = {"caf\xc3\xa9 \xf0\x9d\x84\x9e", "bad \xff"};
    static const unsigned char mutf8[] = "caf\xc3\xa9 \xed\xa0\xb4\xed\xb4\x9e";
    dbt_bundle *in = teststore_bundle(cns, given, 1), *bad = teststore_bundle(cns, given + 1, 1),
               *out;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_jks_encode(in, "pw", &der, &len, &err), 0);
    assert_int_equal(der[16], 0);
    assert_int_equal(der[17], sizeof(mutf8) - 1);
    assert_memory_equal(der + 18, mutf8, sizeof(mutf8) - 1);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    assert_string_equal(out->certs[0].alias, given[0]);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    /* Bytes that are not UTF-8 are written escaped, like control characters (jks.c,
     * dbt_jks_aliases): keytool would print them as they are. */
    assert_int_equal(dbt_jks_encode(bad, "pw", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    assert_string_equal(out->certs[0].alias, "bad \\xff");
    dbt_bundle_free(out);
    OPENSSL_free(der);
    /* A non-ASCII password is digested as UTF-16: the same text reads back. */
    assert_int_equal(dbt_jks_encode(in, "p\xc3\xa4ss\xf0\x9f\x94\x91", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "p\xc3\xa4ss\xf0\x9f\x94\x91", &out, &err), 0);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, "pass", &out, &err), -1);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
    dbt_bundle_free(bad);
}

static void test_jks_source_date_epoch(void **state)
{
    static const char *cns[] = {"Root One"};
    static const unsigned char ms[8] = {0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00};
    dbt_bundle *in = teststore_bundle(cns, NULL, 1);
    unsigned char *d1 = NULL, *d2 = NULL;
    size_t l1 = 0, l2 = 0;
    dbt_err err;

    (void)state;
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    assert_int_equal(dbt_jks_encode(in, NULL, &d1, &l1, &err), 0);
    assert_int_equal(dbt_jks_encode(in, NULL, &d2, &l2, &err), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(d1, d2, l1);
    /* 1700000000 s = 0x18BCFE56800 ms, after magic, version, count, tag, alias "root one". */
    assert_memory_equal(d1 + 12 + 4 + 2 + 8, ms, 8);
    OPENSSL_free(d1);
    OPENSSL_free(d2);
    setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
    assert_int_equal(dbt_jks_encode(in, NULL, &d1, &l1, &err), -1);
    assert_non_null(strstr(err.msg, "SOURCE_DATE_EPOCH=\"yesterday\""));
    unsetenv("SOURCE_DATE_EPOCH");
    dbt_bundle_free(in);
}

static void test_jks_sniff(void **state)
{
    (void)state;
    assert_true(dbt_jks_sniff((const unsigned char *)"\xfe\xed\xfe\xed", 4));
    assert_true(dbt_jks_sniff((const unsigned char *)"\xce\xce\xce\xce\0\0\0\2", 8));
    assert_false(dbt_jks_sniff((const unsigned char *)"\xfe\xed\xfe", 3));
    assert_false(dbt_jks_sniff((const unsigned char *)"0\x82\x01\x00", 4));
    assert_false(dbt_jks_sniff((const unsigned char *)"-----BEGIN", 10));
    assert_false(dbt_jks_sniff(NULL, 0));
}

/* The 108 real AWS RDS roots survive a JKS round trip, in order, with distinct aliases. */
static void test_jks_realdata(void **state)
{
    dbt_bundle *in = dbt_bundle_new("aws-rds-global-bundle.pem"), *out;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;

    (void)state;
    assert_non_null(in);
    if (teststore_load_realdata(in, "aws-rds-global-bundle.pem") != 0) {
        dbt_bundle_free(in);
        skip();
        return;
    }
    assert_int_equal(in->n, 108);
    assert_int_equal(dbt_jks_encode(in, "changeit", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "changeit", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    teststore_assert_distinct_aliases(out);
    assert_string_equal(out->certs[0].alias, "amazon rds sa-east-1 root ca rsa2048 g1");
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* The reader says what vouched for what it read: the digest checked with the password, or
 * nothing (read without one); a tampered digest fails with any password. */
static void test_jks_integrity(void **state)
{
    static const char *cns[] = {"Root One"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 1), *out;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_jks_encode(in, "s3cret", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "s3cret", &out, &err), 0);
    assert_int_equal(out->integrity, DBT_INTEGRITY_VERIFIED);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, NULL, &out, &err), 0);
    assert_int_equal(out->integrity, DBT_INTEGRITY_UNCHECKED);
    dbt_bundle_free(out);
    der[len - 1] ^= 1;
    assert_int_equal(decode(der, len, "s3cret", &out, &err), -1);
    assert_non_null(strstr(err.msg, "store.jks: JKS integrity check failed"));
    assert_wrong_password(&err);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, NULL, &out, &err), 0);
    assert_int_equal(out->integrity, DBT_INTEGRITY_UNCHECKED);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* Counts from the file (entries, chain certificates) are never trusted beyond its length: a
 * 2^31-1 count in a file of a few dozen bytes stops at the first entry that is not there. */
static void test_jks_huge_counts(void **state)
{
    static hbuf h;
    dbt_bundle *out;
    dbt_err err;

    (void)state;
    h_header(&h, 0xFEEDFEEDu, 2, 0x7FFFFFFFu);
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "JKS entry 1 of 2147483647 (at offset 12)"));
    assert_int_equal(out->n, 0);
    dbt_bundle_free(out);
    /* A key entry claiming 2^31-1 chain certificates, with none there. */
    h_header(&h, 0xFEEDFEEDu, 2, 1);
    h_entry(&h, 1, "k");
    h_u32(&h, 1);
    h_bytes(&h, "\0", 1);
    h_u32(&h, 0x7FFFFFFFu);
    h_digest(&h, "x");
    assert_int_equal(decode(h.d, h.n, NULL, &out, &err), -1);
    assert_non_null(strstr(err.msg, "JKS entry 1 of 1 (at offset 12)"));
    assert_int_equal(out->n, 0);
    dbt_bundle_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jks_roundtrip),     cmocka_unit_test(test_jks_wrong_password),
        cmocka_unit_test(test_jks_every_prefix),  cmocka_unit_test(test_jks_every_byte_flipped),
        cmocka_unit_test(test_jks_garbage),       cmocka_unit_test(test_jks_private_key_and_v1),
        cmocka_unit_test(test_jks_jceks),         cmocka_unit_test(test_jks_bad_fields),
        cmocka_unit_test(test_jks_alias_dedup),   cmocka_unit_test(test_jks_alias_many_same),
        cmocka_unit_test(test_jks_alias_unicode), cmocka_unit_test(test_jks_source_date_epoch),
        cmocka_unit_test(test_jks_sniff),         cmocka_unit_test(test_jks_realdata),
        cmocka_unit_test(test_jks_integrity),     cmocka_unit_test(test_jks_huge_counts),
    };

    return cmocka_run_group_tests(tests, teststore_setup, teststore_teardown);
}
