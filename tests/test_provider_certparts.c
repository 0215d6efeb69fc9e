/* cmocka unit tests of provider/certparts.c: the issuer, subject and serial of a DER certificate
 * read without decoding its key, names compared as OpenSSL compares them, and the refusal of
 * anything that is not exactly one certificate. The certificate is made in memory for each run. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certparts.h"

static unsigned char *der;
static int derlen;
static X509 *cert;

static int setup(void **state)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
    int ok;

    (void)state;
    cert = X509_new();
    ok = key != NULL && subj != NULL && iss != NULL && cert != NULL && X509_set_version(cert, 2) &&
         ASN1_INTEGER_set(X509_get_serialNumber(cert), 0x1234) &&
         X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (unsigned char *)"Leaf", -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC, (unsigned char *)"Issuing CA", -1, -1,
                                    0) &&
         X509_set_subject_name(cert, subj) && X509_set_issuer_name(cert, iss) &&
         X509_gmtime_adj(X509_getm_notBefore(cert), 0) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 86400) && X509_set_pubkey(cert, key) &&
         X509_sign(cert, key, EVP_sha256()) && (derlen = i2d_X509(cert, &der)) > 0;
    X509_NAME_free(subj);
    X509_NAME_free(iss);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    OPENSSL_free(der);
    X509_free(cert);
    return 0;
}

static void test_fields(void **state)
{
    dbt_certparts c;

    (void)state;
    assert_int_equal(dbt_certparts_get(der, derlen, &c), 1);
    assert_true(dbt_certparts_name_eq(c.subject, c.subject_len, X509_get_subject_name(cert)));
    assert_true(dbt_certparts_name_eq(c.issuer, c.issuer_len, X509_get_issuer_name(cert)));
    assert_false(dbt_certparts_name_eq(c.subject, c.subject_len, X509_get_issuer_name(cert)));
    assert_false(dbt_certparts_name_eq(c.issuer, c.issuer_len, X509_get_subject_name(cert)));
    assert_int_equal(ASN1_INTEGER_get(c.serial), 0x1234);
    dbt_certparts_free(&c);
    assert_null(c.subject);
    assert_null(c.serial);
}

/* A name whose bytes differ but whose canonical form is the same (OpenSSL folds case and
 * whitespace and ignores the string type) is equal, as X509_NAME_cmp says; a name that differs
 * in content is not, nor are bytes that are not a Name. */
static void test_name_canonical(void **state)
{
    X509_NAME *folded = X509_NAME_new(), *other = X509_NAME_new();
    const unsigned char *fder = NULL;
    size_t flen = 0;
    dbt_certparts c;

    (void)state;
    assert_non_null(folded);
    assert_non_null(other);
    /* "  leaf " as a PrintableString against "Leaf" as a UTF8String. */
    assert_true(X509_NAME_add_entry_by_txt(folded, "CN", V_ASN1_PRINTABLESTRING,
                                           (unsigned char *)"  leaf ", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(other, "CN", MBSTRING_ASC, (unsigned char *)"Leaf 2", -1,
                                           -1, 0));
    assert_int_equal(dbt_certparts_get(der, derlen, &c), 1);
    assert_true(X509_NAME_get0_der(folded, &fder, &flen));
    assert_false(flen == (size_t)c.subject_len && memcmp(fder, c.subject, flen) == 0);
    assert_int_equal(X509_NAME_cmp(folded, X509_get_subject_name(cert)), 0);
    assert_true(dbt_certparts_name_eq(c.subject, c.subject_len, folded));
    assert_false(dbt_certparts_name_eq(c.subject, c.subject_len, other));
    /* Not a Name: the serial number's bytes, a truncated name, nothing. */
    assert_false(dbt_certparts_name_eq(c.subject, c.subject_len - 1, folded));
    assert_false(dbt_certparts_name_eq(der, 4, folded));
    assert_false(dbt_certparts_name_eq(NULL, 0, folded));
    dbt_certparts_free(&c);
    X509_NAME_free(folded);
    X509_NAME_free(other);
}

static void test_refusals(void **state)
{
    unsigned char *buf = OPENSSL_malloc((size_t)derlen + 1);
    dbt_certparts c;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, der, (size_t)derlen);
    buf[derlen] = 0;
    /* Truncated, followed by a byte, empty, or not a SEQUENCE. */
    assert_int_equal(dbt_certparts_get(buf, derlen - 1, &c), 0);
    assert_null(c.issuer);
    assert_null(c.serial);
    assert_int_equal(dbt_certparts_get(buf, derlen + 1, &c), 0);
    assert_int_equal(dbt_certparts_get(buf, 0, &c), 0);
    buf[0] = 0x04;
    assert_int_equal(dbt_certparts_get(buf, derlen, &c), 0);
    /* A name (a SEQUENCE, but not a certificate). */
    {
        unsigned char *name = NULL;
        int len = i2d_X509_NAME(X509_get_subject_name(cert), &name);
        assert_true(len > 0);
        assert_int_equal(dbt_certparts_get(name, len, &c), 0);
        OPENSSL_free(name);
    }
    OPENSSL_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_name_canonical),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
