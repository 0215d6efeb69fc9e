/* Unit tests of lib/bundle.c, lib/pem.c and lib/p7.c: decoding by content, with the exact counts
 * of the real bundles, the real malformed files and generated edge cases. */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "bundle.h"
#include "testpki.h"
#include "trust.h"

#define NOT_A_BUNDLE "not a certificate bundle (expected PEM, DER, PKCS#7, PKCS#12 or JKS)"

/* ---- helpers ---- */

/* A growable text buffer for building test inputs. */
typedef struct buf {
    char *p;
    size_t n;
} buf;

static void buf_add(buf *b, const void *data, size_t len)
{
    b->p = realloc(b->p, b->n + len + 1);
    assert_non_null(b->p);
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void buf_str(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_pem(buf *b, X509 *x)
{
    unsigned char *pem = NULL;
    size_t len = 0;

    assert_int_equal(testpki_pem(&x, 1, &pem, &len), 0);
    buf_add(b, pem, len);
    free(pem);
}

/* Rewrites LF line ends as CRLF. */
static buf to_crlf(const buf *in)
{
    buf out = {NULL, 0};

    for (size_t i = 0; i < in->n; i++) {
        if (in->p[i] == '\n')
            buf_add(&out, "\r", 1);
        buf_add(&out, in->p + i, 1);
    }
    return out;
}

static int count_lines(const buf *b)
{
    int n = 0;

    for (size_t i = 0; i < b->n; i++)
        n += b->p[i] == '\n';
    return n;
}

static int decode(const void *data, size_t len, const char *name, dbt_bundle **b, dbt_err *err)
{
    memset(err, 0, sizeof(*err));
    return dbt_bundle_decode(data, len, name, NULL, b, err);
}

/* Asserts decode fails and the message is exactly want. */
static void expect_error(const void *data, size_t len, const char *want)
{
    dbt_bundle *b = NULL;
    dbt_err err;

    assert_int_equal(decode(data, len, "F", &b, &err), -1);
    assert_null(b);
    if (strcmp(err.msg, want) != 0)
        fail_msg("message\n  got:  %s\n  want: %s", err.msg, want);
}

/* Asserts decode fails and the message starts with want. */
static void expect_error_prefix(const void *data, size_t len, const char *want)
{
    dbt_bundle *b = NULL;
    dbt_err err;

    assert_int_equal(decode(data, len, "F", &b, &err), -1);
    assert_null(b);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("message\n  got:  %s\n  want: %s...", err.msg, want);
}

/* Asserts the bundle holds exactly certs (same SHA-256, same order). */
static void assert_same_certs(const dbt_bundle *b, X509 *const *certs, size_t n)
{
    char a[65], e[65];

    assert_int_equal(b->n, n);
    for (size_t i = 0; i < n; i++) {
        testpki_sha256_hex(b->certs[i].x509, a);
        testpki_sha256_hex(certs[i], e);
        assert_string_equal(a, e);
    }
}

static void assert_same_bundles(const dbt_bundle *x, const dbt_bundle *y)
{
    char a[65], e[65];

    assert_int_equal(x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        testpki_sha256_hex(x->certs[i].x509, a);
        testpki_sha256_hex(y->certs[i].x509, e);
        assert_string_equal(a, e);
    }
}

/* ---- real bundles: exact counts from realdata/SOURCES.md ---- */

typedef struct realfile {
    const char *name;
    size_t certs;
    dbt_format format;
} realfile;

static const realfile realfiles[] = {
    {"aws-rds-global-bundle.pem", 108, DBT_FMT_PEM},
    {"aws-rds-global-bundle-2022.pem", 115, DBT_FMT_PEM},
    {"aws-rds-global-bundle.p7b", 108, DBT_FMT_P7_DER},
    {"aws-rds-global-bundle-2022.p7b", 115, DBT_FMT_P7_PEM},
    {"aws-rds-us-east-1-bundle.pem", 3, DBT_FMT_PEM},
    {"aws-rds-us-east-1-bundle-2022.pem", 5, DBT_FMT_PEM},
    {"aws-rds-us-east-1-bundle-2022-crlf.pem", 5, DBT_FMT_PEM},
    {"aws-rds-combined-ca-bundle-legacy.pem", 30, DBT_FMT_PEM},
    {"aws-rds-combined-ca-bundle-2015-era.pem", 17, DBT_FMT_PEM},
    {"aws-rds-govcloud-global-bundle-2022.pem", 10, DBT_FMT_PEM},
    {"aws-rds-us-gov-west-1-bundle-2017.pem", 2, DBT_FMT_PEM},
    {"aiven-project-ca.pem", 1, DBT_FMT_PEM},
    {"aiven-project-ca-gen1.pem", 1, DBT_FMT_PEM},
    {"aiven-service-leaf-plus-project-ca.pem", 2, DBT_FMT_PEM},
    {"gcp-cloudsql-server-ca.pem", 2, DBT_FMT_PEM},
    {"Amazon_Root_CA_1.pem", 1, DBT_FMT_PEM},
    {"DigiCert_Global_Root_G2.pem", 1, DBT_FMT_PEM},
    /* Real malformed files that must still be read in full. */
    {"malformed/aws-rds-us-east-1-bundle-indented-begin.pem", 3, DBT_FMT_PEM},
    {"malformed/aws-rds-combined-ca-bundle-trailing-garbage.pem", 30, DBT_FMT_PEM},
};

#define NREAL (sizeof(realfiles) / sizeof(realfiles[0]))

static void test_realdata_count(void **state)
{
    const realfile *rf = *state;
    char path[4096];
    dbt_bundle *b = NULL;
    dbt_err err;

    if (testpki_realdata(rf->name, path, sizeof(path)) != 0)
        skip();
    if (dbt_bundle_read_file(path, NULL, &b, &err) != 0)
        fail_msg("%s: %s", rf->name, err.msg);
    assert_int_equal(b->n, rf->certs);
    assert_int_equal(b->format, rf->format);
    assert_string_equal(b->source, path);
    for (size_t i = 0; i < b->n; i++) {
        assert_non_null(b->certs[i].x509);
        assert_true(b->certs[i].block >= 1);
        /* Each PEM certificate block is its own block: numbers follow the certificates. */
        if (rf->format == DBT_FMT_PEM)
            assert_int_equal(b->certs[i].block, (int)i + 1);
        if (rf->format == DBT_FMT_P7_DER)
            assert_int_equal(b->certs[i].line, 0);
        else
            assert_true(b->certs[i].line >= 1);
    }
    dbt_bundle_free(b);
}

static int read_real(const char *name, dbt_bundle **b)
{
    char path[4096];
    dbt_err err;

    if (testpki_realdata(name, path, sizeof(path)) != 0)
        return -1;
    if (dbt_bundle_read_file(path, NULL, b, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    return 0;
}

/* The CRLF copy holds the same certificates as the LF one, and the .p7b files the same
 * certificates, in the same order, as their PEM counterparts. */
static void test_realdata_same_certs(void **state)
{
    static const char *pairs[][2] = {
        {"aws-rds-us-east-1-bundle-2022.pem", "aws-rds-us-east-1-bundle-2022-crlf.pem"},
        {"aws-rds-global-bundle.pem", "aws-rds-global-bundle.p7b"},
        {"aws-rds-global-bundle-2022.pem", "aws-rds-global-bundle-2022.p7b"},
        {"aws-rds-combined-ca-bundle-legacy.pem",
         "malformed/aws-rds-combined-ca-bundle-trailing-garbage.pem"},
    };
    int compared = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        dbt_bundle *x = NULL, *y = NULL;

        if (read_real(pairs[i][0], &x) != 0)
            continue;
        if (read_real(pairs[i][1], &y) != 0) {
            dbt_bundle_free(x);
            continue;
        }
        assert_same_bundles(x, y);
        compared++;
        dbt_bundle_free(x);
        dbt_bundle_free(y);
    }
    if (compared == 0)
        skip();
}

/* The indented BEGIN line (4 spaces) is block 1 at line 1: OpenSSL would drop it silently. */
static void test_realdata_indented_begin(void **state)
{
    dbt_bundle *b = NULL;

    (void)state;
    if (read_real("malformed/aws-rds-us-east-1-bundle-indented-begin.pem", &b) != 0)
        skip();
    assert_int_equal(b->n, 3);
    assert_int_equal(b->certs[0].block, 1);
    assert_int_equal(b->certs[0].line, 1);
    dbt_bundle_free(b);
}

static void test_realdata_corrupt_first_block(void **state)
{
    char path[4096], want[4200];
    dbt_bundle *b = NULL;
    dbt_err err;

    (void)state;
    if (testpki_realdata("malformed/corrupt-first-block-global-bundle.pem", path, sizeof(path)))
        skip();
    assert_int_equal(dbt_bundle_read_file(path, NULL, &b, &err), -1);
    assert_null(b);
    snprintf(want, sizeof(want), "block 1 of %s (line 1): not a certificate: ", path);
    if (strncmp(err.msg, want, strlen(want)) != 0 || strlen(err.msg) == strlen(want))
        fail_msg("got: %s\nwant: %s<OpenSSL reason>", err.msg, want);
    printf("corrupt-first-block: %s\n", err.msg);
}

static void test_realdata_xxxx_bodies(void **state)
{
    char path[4096], want[4200];
    dbt_bundle *b = NULL;
    dbt_err err;

    (void)state;
    if (testpki_realdata("malformed/placeholder-xxxx-global-bundle.pem", path, sizeof(path)))
        skip();
    assert_int_equal(dbt_bundle_read_file(path, NULL, &b, &err), -1);
    assert_null(b);
    /* The first body is "xxxx": 3 bytes, c7 1c 71. */
    snprintf(want, sizeof(want),
             "block 1 of %s (line 1): not a certificate: the base64 body decodes to 3 bytes that "
             "are not DER (first byte 0xc7, a certificate starts with 0x30): the block is corrupt "
             "or holds dummy text",
             path);
    assert_string_equal(err.msg, want);
}

/* ---- generated inputs ---- */

/* BOM, CRLF, commentary between blocks, indented BEGIN lines, no final newline: all read. */
static void test_pem_tolerated_layouts(void **state)
{
    testpki *pki = *state;
    X509 *all[TESTPKI_NCERTS];
    buf lf = {NULL, 0}, crlf;
    dbt_bundle *b = NULL;
    dbt_err err;
    int begin[4];

    testpki_all(pki, all);
    buf_str(&lf, "\xEF\xBB\xBF# Amazon RDS test bundle\n\n");
    begin[0] = count_lines(&lf) + 1;
    buf_pem(&lf, all[0]);
    buf_str(&lf, "subject=CN=some text\n"); /* commentary, as openssl x509 -text leaves */
    begin[1] = count_lines(&lf) + 1;
    buf_str(&lf, "    "); /* indented BEGIN line (spaces) */
    buf_pem(&lf, all[1]);
    begin[2] = count_lines(&lf) + 1;
    buf_str(&lf, "\t"); /* indented with a tab */
    buf_pem(&lf, all[2]);
    begin[3] = count_lines(&lf) + 1;
    buf_pem(&lf, all[3]);
    lf.n--; /* no final newline */
    lf.p[lf.n] = '\0';

    assert_int_equal(decode(lf.p, lf.n, "F", &b, &err), 0);
    assert_same_certs(b, all, 4);
    assert_int_equal(b->format, DBT_FMT_PEM);
    assert_int_equal(begin[0], 3);
    for (int i = 0; i < 4; i++)
        assert_int_equal(b->certs[i].line, begin[i]);
    dbt_bundle_free(b);

    crlf = to_crlf(&lf);
    assert_int_equal(decode(crlf.p, crlf.n, "F", &b, &err), 0);
    assert_same_certs(b, all, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(b->certs[i].line, begin[i]);
    dbt_bundle_free(b);

    /* Mixed: the first half CRLF, the rest LF. */
    {
        buf mixed = {NULL, 0};
        size_t half = crlf.n / 2;

        buf_add(&mixed, crlf.p, half);
        while (half < crlf.n && crlf.p[half - 1] != '\n')
            buf_add(&mixed, crlf.p + half++, 1);
        for (size_t i = half; i < crlf.n; i++)
            if (crlf.p[i] != '\r')
                buf_add(&mixed, crlf.p + i, 1);
        assert_int_equal(decode(mixed.p, mixed.n, "F", &b, &err), 0);
        assert_same_certs(b, all, 4);
        dbt_bundle_free(b);
        free(mixed.p);
    }
    free(lf.p);
    free(crlf.p);
}

/* The BEGIN line numbers reported are the real ones (counted in the generated text). */
static void test_pem_line_numbers(void **state)
{
    testpki *pki = *state;
    buf in = {NULL, 0};
    dbt_bundle *b = NULL;
    dbt_err err;
    int lines_first;

    buf_str(&in, "one\ntwo\n");
    buf_pem(&in, pki->root_ec384);
    lines_first = 0;
    for (size_t i = 0; i < in.n; i++)
        lines_first += in.p[i] == '\n';
    buf_pem(&in, pki->leaf);
    assert_int_equal(decode(in.p, in.n, "F", &b, &err), 0);
    assert_int_equal(b->n, 2);
    assert_int_equal(b->certs[0].line, 3);
    assert_int_equal(b->certs[0].block, 1);
    assert_int_equal(b->certs[1].line, lines_first + 1);
    assert_int_equal(b->certs[1].block, 2);
    dbt_bundle_free(b);
    free(in.p);
}

/* TRUSTED CERTIFICATE (X509_AUX with trust settings), X509 CERTIFICATE and a PKCS7 block
 * between certificates: every certificate, in order. */
static void test_pem_labels(void **state)
{
    testpki *pki = *state;
    X509 *aux = X509_dup(pki->root_rsa2048);
    X509 *want[5] = {pki->root_rsa2048, pki->root_ec384, pki->intermediate, pki->leaf,
                     pki->root_rsa4096};
    BIO *bio = BIO_new(BIO_s_mem());
    unsigned char *p7 = NULL, *der = NULL;
    size_t p7len = 0, derlen = 0;
    char *mem = NULL;
    long n;
    buf in = {NULL, 0};
    dbt_bundle *b = NULL;
    dbt_err err;

    assert_non_null(aux);
    assert_non_null(bio);
    assert_int_equal(X509_add1_trust_object(aux, OBJ_nid2obj(NID_server_auth)), 1);
    assert_int_equal(PEM_write_bio_X509_AUX(bio, aux), 1);
    n = BIO_get_mem_data(bio, &mem);
    assert_non_null(strstr(mem, "-----BEGIN TRUSTED CERTIFICATE-----"));
    buf_add(&in, mem, (size_t)n);

    /* X509 CERTIFICATE: the old label, same DER. */
    {
        X509 *x = pki->root_ec384;
        BIO *b2 = BIO_new(BIO_s_mem());

        assert_int_equal(testpki_der(x, &der, &derlen), 0);
        assert_true(PEM_write_bio(b2, "X509 CERTIFICATE", "", der, (long)derlen) > 0);
        n = BIO_get_mem_data(b2, &mem);
        buf_add(&in, mem, (size_t)n);
        BIO_free(b2);
        free(der);
    }
    assert_int_equal(testpki_p7_pem(&want[2], 2, &p7, &p7len), 0);
    buf_add(&in, p7, p7len);
    buf_pem(&in, pki->root_rsa4096);

    assert_int_equal(decode(in.p, in.n, "F", &b, &err), 0);
    assert_same_certs(b, want, 5);
    assert_int_equal(b->format, DBT_FMT_PEM);
    /* The two certificates of the PKCS7 block both point at it (block 3). */
    assert_int_equal(b->certs[2].block, 3);
    assert_int_equal(b->certs[3].block, 3);
    assert_int_equal(b->certs[4].block, 4);
    /* The trust settings of TRUSTED CERTIFICATE were read (X509_AUX), not dropped. */
    assert_non_null(X509_get0_trust_objects(b->certs[0].x509));
    dbt_bundle_free(b);
    free(p7);
    free(in.p);
    BIO_free(bio);
    X509_free(aux);
}

static void test_pem_begin_without_end(void **state)
{
    testpki *pki = *state;
    buf in = {NULL, 0};
    char want[200];
    int begin3 = 0;

    buf_pem(&in, pki->root_rsa2048);
    buf_pem(&in, pki->root_ec384);
    for (size_t i = 0; i < in.n; i++)
        begin3 += in.p[i] == '\n';
    begin3++;
    buf_pem(&in, pki->leaf);
    in.n -= strlen("-----END CERTIFICATE-----\n");
    snprintf(want, sizeof(want), "block 3 of F (line %d): no END line", begin3);
    expect_error(in.p, in.n, want);

    /* The END line of block 2 lost: the next BEGIN says so. */
    {
        buf two = {NULL, 0};
        unsigned char *pem = NULL;
        size_t len = 0;
        int next;

        assert_int_equal(testpki_pem(&pki->root_rsa2048, 1, &pem, &len), 0);
        buf_add(&two, pem, len - strlen("-----END CERTIFICATE-----\n"));
        next = 0;
        for (size_t i = 0; i < two.n; i++)
            next += two.p[i] == '\n';
        buf_add(&two, pem, len);
        snprintf(want, sizeof(want),
                 "block 1 of F (line 1): no END line (another BEGIN line follows at line %d)",
                 next + 1);
        expect_error(two.p, two.n, want);
        free(two.p);
        free(pem);
    }
    free(in.p);
}

static void test_pem_mismatched_end(void **state)
{
    testpki *pki = *state;
    buf in = {NULL, 0};
    char *end;

    buf_pem(&in, pki->root_rsa2048);
    end = strstr(in.p, "-----END CERTIFICATE-----");
    assert_non_null(end);
    in.n = (size_t)(end - in.p);
    buf_str(&in, "-----END X509 CRL-----\n");
    expect_error_prefix(in.p, in.n,
                        "block 1 of F (line 1): BEGIN CERTIFICATE ends with END X509 "
                        "CRL at line ");
    free(in.p);
}

static void test_pem_bad_base64(void **state)
{
    testpki *pki = *state;
    buf in = {NULL, 0};

    buf_str(&in, "title\n");
    buf_pem(&in, pki->root_rsa2048);
    /* Line 4 is the third body line: put a '*' in column 10. */
    {
        char *line = in.p;
        for (int l = 1; l < 4; l++)
            line = strchr(line, '\n') + 1;
        line[9] = '*';
    }
    expect_error(in.p, in.n,
                 "block 1 of F (line 2): line 4 is not base64 ('*' at column 10): the block is "
                 "corrupt");
    free(in.p);

    /* A body cut short: its length is no longer a multiple of 4. */
    in = (buf){NULL, 0};
    buf_str(&in, "-----BEGIN CERTIFICATE-----\nMIIB\nMII\n-----END CERTIFICATE-----\n");
    expect_error_prefix(in.p, in.n, "block 1 of F (line 1): base64 body does not decode");
    free(in.p);

    in = (buf){NULL, 0};
    buf_str(&in, "-----BEGIN CERTIFICATE-----\nMI==MIIB\n-----END CERTIFICATE-----\n");
    expect_error_prefix(in.p, in.n, "block 1 of F (line 1): base64 body does not decode");
    free(in.p);

    in = (buf){NULL, 0};
    buf_str(&in, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect_error(in.p, in.n,
                 "block 1 of F (line 1): not a certificate: the base64 body decodes to 3 bytes "
                 "that are not DER (first byte 0x00, a certificate starts with 0x30): the block "
                 "is corrupt or holds dummy text");
    free(in.p);

    in = (buf){NULL, 0};
    buf_str(&in, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    expect_error(in.p, in.n, "block 1 of F (line 1): the block has no base64 body");
    free(in.p);
}

static void test_pem_not_a_certificate_blocks(void **state)
{
    testpki *pki = *state;
    unsigned char *key = NULL;
    size_t klen = 0;
    buf in = {NULL, 0};
    char want[300];

    buf_pem(&in, pki->root_rsa2048);
    assert_int_equal(testpki_key_pem(pki->leaf_key, &key, &klen), 0);
    snprintf(want, sizeof(want),
             "block 2 of F (line %d): a PRIVATE KEY block, not a certificate: remove it from "
             "the bundle (a trust bundle must never carry private keys)",
             count_lines(&in) + 1);
    buf_add(&in, key, klen);
    expect_error(in.p, in.n, want);
    free(in.p);
    free(key);

    in = (buf){NULL, 0};
    buf_str(&in, "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n");
    expect_error(in.p, in.n,
                 "block 1 of F (line 1): a X509 CRL block, not a certificate: remove it from "
                 "the bundle");
    free(in.p);
}

/* A PEM certificate block whose DER has bytes after the certificate is not a certificate. */
static void test_pem_trailing_der_in_block(void **state)
{
    testpki *pki = *state;
    unsigned char *der = NULL;
    size_t len = 0;
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem;
    long n;

    assert_int_equal(testpki_der(pki->root_ec384, &der, &len), 0);
    der = realloc(der, len + 2);
    der[len] = 0;
    der[len + 1] = 0;
    assert_true(PEM_write_bio(bio, "CERTIFICATE", "", der, (long)len + 2) > 0);
    n = BIO_get_mem_data(bio, &mem);
    expect_error(mem, (size_t)n,
                 "block 1 of F (line 1): not a certificate: 2 bytes of trailing data after the "
                 "certificate inside the block");
    BIO_free(bio);
    free(der);
}

/* An END line with no BEGIN: a block lost its BEGIN line and would vanish as "commentary". */
static void test_pem_stray_end(void **state)
{
    testpki *pki = *state;
    buf in = {NULL, 0};
    unsigned char *pem = NULL;
    size_t len = 0;

    buf_pem(&in, pki->root_rsa2048);
    assert_int_equal(testpki_pem(&pki->leaf, 1, &pem, &len), 0);
    buf_add(&in, pem + strlen("-----BEGIN CERTIFICATE-----\n"),
            len - strlen("-----BEGIN CERTIFICATE-----\n"));
    expect_error_prefix(in.p, in.n, "F (line ");
    {
        dbt_bundle *b = NULL;
        dbt_err err;
        assert_int_equal(decode(in.p, in.n, "F", &b, &err), -1);
        assert_non_null(strstr(err.msg, "END line without a BEGIN line"));
    }
    free(in.p);
    free(pem);
}

/* Text that starts with '0' and holds PEM is PEM, not a broken DER. */
static void test_pem_text_starting_with_zero(void **state)
{
    testpki *pki = *state;
    buf in = {NULL, 0};
    dbt_bundle *b = NULL;
    dbt_err err;

    buf_str(&in, "0 certificates were harmed\n");
    buf_pem(&in, pki->root_rsa2048);
    assert_int_equal(decode(in.p, in.n, "F", &b, &err), 0);
    assert_same_certs(b, &pki->root_rsa2048, 1);
    dbt_bundle_free(b);
    free(in.p);
}

static void test_der_single_and_trailing(void **state)
{
    testpki *pki = *state;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_bundle *b = NULL;
    dbt_err err;
    char want[300];

    assert_int_equal(testpki_der(pki->root_rsa4096, &der, &len), 0);
    assert_int_equal(decode(der, len, "F", &b, &err), 0);
    assert_int_equal(b->format, DBT_FMT_DER);
    assert_same_certs(b, &pki->root_rsa4096, 1);
    dbt_bundle_free(b);

    snprintf(want, sizeof(want),
             "F: DER input is truncated: its outer structure needs %zu bytes, the input has %zu: "
             "download or copy the file again",
             len, len - 100);
    expect_error(der, len - 100, want);

    der = realloc(der, len + 3);
    memcpy(der + len, "\n\n\n", 3);
    snprintf(want, sizeof(want),
             "F: DER certificate is followed by 3 trailing bytes (from byte %zu): remove them, "
             "or convert several certificates to PEM or PKCS#7 instead of concatenating DER",
             len);
    expect_error(der, len + 3, want);
    free(der);
}

static void test_p7_generated(void **state)
{
    testpki *pki = *state;
    X509 *all[TESTPKI_NCERTS];
    unsigned char *der = NULL, *pem = NULL;
    size_t dlen = 0, plen = 0;
    dbt_bundle *b = NULL;
    dbt_err err;

    testpki_all(pki, all);
    assert_int_equal(testpki_p7_der(all, TESTPKI_NCERTS, &der, &dlen), 0);
    assert_int_equal(decode(der, dlen, "F", &b, &err), 0);
    assert_int_equal(b->format, DBT_FMT_P7_DER);
    assert_same_certs(b, all, TESTPKI_NCERTS);
    for (size_t i = 0; i < b->n; i++)
        assert_int_equal(b->certs[i].block, (int)i + 1);
    dbt_bundle_free(b);

    assert_int_equal(testpki_p7_pem(all, TESTPKI_NCERTS, &pem, &plen), 0);
    assert_int_equal(decode(pem, plen, "F", &b, &err), 0);
    assert_int_equal(b->format, DBT_FMT_P7_PEM);
    assert_same_certs(b, all, TESTPKI_NCERTS);
    dbt_bundle_free(b);
    free(der);
    free(pem);
}

static void test_p7_zero_certs(void **state)
{
    unsigned char *der = NULL, *pem = NULL;
    size_t dlen = 0, plen = 0;

    (void)state;
    assert_int_equal(testpki_p7_der(NULL, 0, &der, &dlen), 0);
    expect_error(der, dlen, "F: PKCS#7 SignedData holds no certificates");
    assert_int_equal(testpki_p7_pem(NULL, 0, &pem, &plen), 0);
    expect_error(pem, plen, "block 1 of F (line 1): PKCS#7 SignedData holds no certificates");
    free(der);
    free(pem);
}

static void test_empty_and_garbage(void **state)
{
    static const unsigned char bin[] = {0x00, 0x01, 0x02, 0xff, 0x30};
    static const char text[] = "this is a README, not a bundle\n";

    (void)state;
    expect_error("", 0, "F: empty input: " NOT_A_BUNDLE);
    expect_error(bin, sizeof(bin), "F: " NOT_A_BUNDLE);
    expect_error(text, strlen(text), "F: " NOT_A_BUNDLE);
    /* A DER-looking SEQUENCE that is not a certificate. */
    {
        static const unsigned char seq[] = {0x30, 0x82, 0x00, 0x03, 0x30, 0x01, 0x00};
        expect_error_prefix(seq, sizeof(seq), "F: DER input is not a certificate: ");
    }
}

/* dbt_read_all: "-" reads standard input; a file over DBT_MAX_INPUT is refused up front. */
static void test_read_all(void **state)
{
    testpki *pki = *state;
    char dir[4096], path[4200];
    unsigned char *pem = NULL, *data = NULL;
    size_t len = 0, dlen = 0;
    dbt_bundle *b = NULL;
    dbt_err err;
    int fd, saved;

    assert_int_equal(testpki_tmpdir(dir, sizeof(dir)), 0);
    snprintf(path, sizeof(path), "%s/in.pem", dir);
    assert_int_equal(testpki_pem(&pki->leaf, 1, &pem, &len), 0);
    assert_int_equal(testpki_write_file(path, pem, len), 0);

    saved = dup(STDIN_FILENO);
    fd = open(path, O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    assert_int_equal(dbt_bundle_read_file("-", NULL, &b, &err), 0);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
    assert_string_equal(b->source, "<stdin>");
    assert_same_certs(b, &pki->leaf, 1);
    dbt_bundle_free(b);

    assert_int_equal(dbt_read_all(path, &data, &dlen, &err), 0);
    assert_int_equal(dlen, len);
    assert_memory_equal(data, pem, len);
    assert_int_equal(data[dlen], 0);
    free(data);

    /* A sparse file one byte over the limit costs no disk space. */
    snprintf(path, sizeof(path), "%s/huge.pem", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)DBT_MAX_INPUT + 1), 0);
    close(fd);
    assert_int_equal(dbt_read_all(path, &data, &dlen, &err), -1);
    assert_null(data);
    assert_non_null(strstr(err.msg, "larger than 256 MiB"));
    assert_non_null(strstr(err.msg, path));

    snprintf(path, sizeof(path), "%s/missing.pem", dir);
    assert_int_equal(dbt_bundle_read_file(path, NULL, &b, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_non_null(strstr(err.msg, "No such file"));

    free(pem);
    testpki_rmtree(dir);
}

/* DBT_MAX_CERTS is a hard limit with a message that says what to do. */
static void test_max_certs(void **state)
{
    testpki *pki = *state;
    dbt_bundle *b = dbt_bundle_new("F");
    dbt_err err;
    char want[200];

    assert_non_null(b);
    for (unsigned i = 0; i < DBT_MAX_CERTS; i++) {
        assert_int_equal(X509_up_ref(pki->leaf), 1);
        if (dbt_bundle_push(b, pki->leaf, (int)i + 1, 0, NULL, &err) != 0)
            fail_msg("push %u: %s", i, err.msg);
    }
    assert_int_equal(dbt_bundle_push(b, pki->leaf, 0, 0, NULL, &err), -1);
    snprintf(want, sizeof(want),
             "F: more than %u certificates: split the bundle into smaller files", DBT_MAX_CERTS);
    assert_string_equal(err.msg, want);
    assert_int_equal(b->n, DBT_MAX_CERTS);
    dbt_bundle_free(b);
}

/* Appends x as a TRUSTED CERTIFICATE block (the certificate and its X509_AUX). */
static void buf_trusted(buf *b, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem = NULL;
    long n;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_X509_AUX(bio, x), 1);
    n = BIO_get_mem_data(bio, &mem);
    buf_add(b, mem, (size_t)n);
    BIO_free(bio);
}

static void add_usage(X509 *x, const char *usage, int reject)
{
    ASN1_OBJECT *o = OBJ_txt2obj(usage, 0);

    assert_non_null(o);
    assert_int_equal(reject ? X509_add1_reject_object(x, o) : X509_add1_trust_object(x, o), 1);
    ASN1_OBJECT_free(o);
}

/* TRUSTED CERTIFICATE blocks keep their trust and reject lists and give their alias to the
 * entry; a block listing more than DBT_TRUST_MAX_USAGES usages is refused, naming it. */
static void test_pem_trusted_certificate(void **state)
{
    testpki *pki = *state;
    X509 *x = X509_dup(pki->root_rsa2048);
    buf in = {NULL, 0}, big = {NULL, 0};
    dbt_bundle *b = NULL;
    dbt_err err;
    char desc[200];

    assert_non_null(x);
    add_usage(x, "clientAuth", 0);
    add_usage(x, "serverAuth", 1);
    assert_int_equal(X509_alias_set1(x, (const unsigned char *)"prod db CA", 10), 1);
    buf_pem(&in, pki->root_ec384);
    buf_trusted(&in, x);
    assert_int_equal(decode(in.p, in.n, "F", &b, &err), 0);
    assert_int_equal(b->n, 2);
    assert_null(b->certs[0].alias);
    assert_int_equal(dbt_trust_kind_of(b->certs[0].x509), DBT_TRUST_PLAIN);
    assert_non_null(b->certs[1].alias);
    assert_string_equal(b->certs[1].alias, "prod db CA");
    assert_int_equal(dbt_trust_kind_of(b->certs[1].x509), DBT_TRUST_RESTRICTED);
    dbt_trust_describe(b->certs[1].x509, desc, sizeof(desc));
    assert_string_equal(desc, "trusted for clientAuth; rejected for serverAuth");
    dbt_bundle_free(b);

    /* DBT_TRUST_MAX_USAGES is read; one more is refused with the block named. */
    X509_free(x);
    x = X509_dup(pki->root_rsa2048);
    for (int k = 0; k < DBT_TRUST_MAX_USAGES; k++) {
        char oid[32];

        snprintf(oid, sizeof(oid), "1.2.3.%d", k);
        add_usage(x, oid, 1);
    }
    buf_trusted(&big, x);
    assert_int_equal(decode(big.p, big.n, "F", &b, &err), 0);
    dbt_bundle_free(b);
    add_usage(x, "1.2.4", 1);
    buf_pem(&in, pki->root_rsa4096);
    buf_trusted(&in, x);
    assert_int_equal(decode(in.p, in.n, "F", &b, &err), -1);
    assert_null(b);
    assert_non_null(strstr(err.msg, "block 4 of F"));
    assert_non_null(strstr(err.msg, "65 rejected usages"));
    X509_free(x);
    free(in.p);
    free(big.p);
}

/* Oracle's trusted key usage bag attribute, as Java writes it. */
#define TKU "2.16.840.1.113894.746875.1.1"
#define TKU_TWIN "2.16.840.1.113894.746875.1.2"

/* A PKCS#12 file (no MAC, no encryption) with one certificate bag per element of usages: NULL
 * leaves the bag without a trusted key usage attribute, "" gives it an empty one, "a,b" one
 * attribute with two values; dup adds the attribute twice to the last bag. */
static void p12_with_usages(X509 *x, const char *const *usages, size_t n, int dup,
                            unsigned char **out, size_t *len)
{
    STACK_OF(PKCS12_SAFEBAG) *bags = sk_PKCS12_SAFEBAG_new_null();
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12 *p12;
    int dlen;

    assert_non_null(bags);
    for (size_t i = 0; i < n; i++) {
        PKCS12_SAFEBAG *bag = PKCS12_SAFEBAG_create_cert(x);
        char list[200], *tok, *save = NULL;
        int copies = dup && i + 1 == n ? 2 : 1;

        assert_non_null(bag);
        assert_true(sk_PKCS12_SAFEBAG_push(bags, bag) > 0);
        if (usages[i] == NULL)
            continue;
        for (int c = 0; c < copies; c++) {
            const STACK_OF(X509_ATTRIBUTE) * attrs;
            X509_ATTRIBUTE *attr;

            /* Type 0 and no data: an attribute whose SET of values is empty. OpenSSL refuses
             * a duplicate attribute, so the copy gets TKU_TWIN, patched into TKU below. */
            assert_int_equal(PKCS12_add1_attr_by_txt(bag, c == 0 ? TKU : TKU_TWIN, 0, NULL, 0), 1);
            attrs = PKCS12_SAFEBAG_get0_attrs(bag);
            attr = sk_X509_ATTRIBUTE_value(attrs, sk_X509_ATTRIBUTE_num(attrs) - 1);
            assert_int_equal(X509_ATTRIBUTE_count(attr), 0);
            snprintf(list, sizeof(list), "%s", usages[i]);
            for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                ASN1_OBJECT *o = OBJ_txt2obj(tok, 0);

                assert_non_null(o);
                assert_int_equal(X509_ATTRIBUTE_set1_data(attr, V_ASN1_OBJECT, o, -1), 1);
                ASN1_OBJECT_free(o);
            }
        }
    }
    assert_non_null(PKCS12_add_safe(&safes, bags, -1, 0, NULL));
    assert_non_null(p12 = PKCS12_add_safes(safes, 0));
    *out = NULL;
    dlen = i2d_PKCS12(p12, out);
    assert_true(dlen > 0);
    *len = (size_t)dlen;
    if (dup) {
        /* The DER of the two OIDs differs in the last byte only (.1 and .2). */
        unsigned char want[32], *der = NULL, *hit;
        ASN1_OBJECT *twin = OBJ_txt2obj(TKU_TWIN, 1);
        int olen = i2d_ASN1_OBJECT(twin, &der);

        assert_true(olen > 0 && (size_t)olen <= sizeof(want));
        memcpy(want, der, (size_t)olen);
        hit = memmem(*out, *len, want, (size_t)olen);
        assert_non_null(hit);
        hit[olen - 1] = 0x01;
        OPENSSL_free(der);
        ASN1_OBJECT_free(twin);
    }
    PKCS12_free(p12);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
}

/* Java's trusted key usage becomes trust settings: a bag listing only clientAuth/codeSigning is
 * not a plain (serverAuth-trusted) CA; anyExtendedKeyUsage, or no attribute, is plain; an empty
 * list trusts nothing; a doubled attribute or a non-OID value is refused naming the bag. */
static void test_p12_trusted_key_usage(void **state)
{
    static const char *const usages[] = {
        "anyExtendedKeyUsage", "clientAuth,codeSigning",        NULL, "",
        "serverAuth",          "clientAuth,anyExtendedKeyUsage"};
    testpki *pki = *state;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_bundle *b = NULL;
    dbt_err err;
    char desc[200];

    p12_with_usages(pki->root_rsa2048, usages, 6, 0, &der, &len);
    assert_int_equal(dbt_bundle_decode(der, len, "T.p12", NULL, &b, &err), 0);
    OPENSSL_free(der);
    der = NULL;
    assert_int_equal(b->n, 6);
    assert_int_equal(dbt_trust_kind_of(b->certs[0].x509), DBT_TRUST_PLAIN);
    assert_int_equal(dbt_trust_kind_of(b->certs[1].x509), DBT_TRUST_RESTRICTED);
    dbt_trust_describe(b->certs[1].x509, desc, sizeof(desc));
    assert_string_equal(desc, "trusted for clientAuth, codeSigning");
    assert_int_equal(X509_check_trust(b->certs[1].x509, X509_TRUST_SSL_SERVER, 0),
                     X509_TRUST_REJECTED);
    assert_int_equal(dbt_trust_kind_of(b->certs[2].x509), DBT_TRUST_PLAIN);
    dbt_trust_describe(b->certs[3].x509, desc, sizeof(desc));
    assert_string_equal(desc, "rejected for anyExtendedKeyUsage");
    dbt_trust_describe(b->certs[4].x509, desc, sizeof(desc));
    assert_string_equal(desc, "trusted for serverAuth");
    assert_int_equal(dbt_trust_kind_of(b->certs[5].x509), DBT_TRUST_PLAIN);
    /* The catalog and the formats that cannot keep it refuse the bag by number. */
    assert_int_equal(dbt_trust_require_plain(b, "the target", 0, &err), -1);
    assert_non_null(strstr(err.msg, "bag 2 of T.p12"));
    dbt_bundle_free(b);

    p12_with_usages(pki->root_rsa2048, usages, 2, 1, &der, &len);
    assert_int_equal(dbt_bundle_decode(der, len, "T.p12", NULL, &b, &err), -1);
    OPENSSL_free(der);
    assert_non_null(strstr(err.msg, "T.p12: PKCS#12 bag 2 carries the trusted key usage "
                                    "attribute twice"));
}

static void test_alias_and_format_names(void **state)
{
    testpki *pki = *state;
    dbt_bundle *b = dbt_bundle_new(NULL);
    dbt_err err;

    assert_non_null(b);
    assert_string_equal(b->source, "<input>");
    assert_int_equal(X509_up_ref(pki->leaf), 1);
    assert_int_equal(dbt_bundle_push(b, pki->leaf, 7, 0, "My Alias", &err), 0);
    assert_string_equal(b->certs[0].alias, "My Alias");
    assert_int_equal(b->certs[0].block, 7);
    dbt_bundle_free(b);
    assert_string_equal(dbt_format_name(DBT_FMT_PEM), "PEM");
    assert_string_equal(dbt_format_name(DBT_FMT_P7_DER), "PKCS#7 (DER)");
    assert_string_equal(dbt_format_name(DBT_FMT_UNKNOWN), "unknown");
}

int main(void)
{
    struct CMUnitTest real[NREAL];
    const struct CMUnitTest generated[] = {
        cmocka_unit_test(test_realdata_same_certs),
        cmocka_unit_test(test_realdata_indented_begin),
        cmocka_unit_test(test_realdata_corrupt_first_block),
        cmocka_unit_test(test_realdata_xxxx_bodies),
        cmocka_unit_test(test_pem_tolerated_layouts),
        cmocka_unit_test(test_pem_line_numbers),
        cmocka_unit_test(test_pem_labels),
        cmocka_unit_test(test_pem_begin_without_end),
        cmocka_unit_test(test_pem_mismatched_end),
        cmocka_unit_test(test_pem_bad_base64),
        cmocka_unit_test(test_pem_not_a_certificate_blocks),
        cmocka_unit_test(test_pem_trailing_der_in_block),
        cmocka_unit_test(test_pem_stray_end),
        cmocka_unit_test(test_pem_text_starting_with_zero),
        cmocka_unit_test(test_der_single_and_trailing),
        cmocka_unit_test(test_p7_generated),
        cmocka_unit_test(test_p7_zero_certs),
        cmocka_unit_test(test_empty_and_garbage),
        cmocka_unit_test(test_read_all),
        cmocka_unit_test(test_max_certs),
        cmocka_unit_test(test_alias_and_format_names),
        cmocka_unit_test(test_pem_trusted_certificate),
        cmocka_unit_test(test_p12_trusted_key_usage),
    };
    static char names[NREAL][160];
    int failed;

    for (size_t i = 0; i < NREAL; i++) {
        snprintf(names[i], sizeof(names[i]), "realdata count %zu: %s", realfiles[i].certs,
                 realfiles[i].name);
        real[i] =
            (struct CMUnitTest){names[i], test_realdata_count, NULL, NULL, (void *)&realfiles[i]};
    }
    failed = _cmocka_run_group_tests("realdata counts", real, NREAL, NULL, NULL);
    failed += cmocka_run_group_tests(generated, testpki_group_setup, testpki_group_teardown);
    return failed != 0;
}
