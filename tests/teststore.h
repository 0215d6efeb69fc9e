/* Fixtures shared by the truststore unit tests (test_jks.c, test_p12.c): one EC key signs every
 * test CA certificate (so they build fast), bundles of such CAs, and certificate comparisons. */
#ifndef DBT_TESTSTORE_H
#define DBT_TESTSTORE_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"

/* The signing key, made by teststore_setup and freed by teststore_teardown. */
extern EVP_PKEY *teststore_key;

/* cmocka group setup and teardown for teststore_key. */
int teststore_setup(void **state);
int teststore_teardown(void **state);

/* A self-signed CA named cn, valid 2021-05-25 to 2121-05-25. */
X509 *teststore_cert(const char *cn, long serial);

/* A bundle "test-input" of n such CAs (serials 1..n); aliases may be NULL, or hold NULLs. */
dbt_bundle *teststore_bundle(const char *const *cns, const char *const *aliases, size_t n);

/* The two certificates (or the two bundles' certificates, in order) are the same. */
void teststore_assert_same_x509(X509 *a, X509 *b);
void teststore_assert_same_certs(const dbt_bundle *a, const dbt_bundle *b);

/* Appends the certificates of DBTRUST_REALDATA/name to b: 0, or -1 after printing why the file
 * is unavailable (the caller skips). */
int teststore_load_realdata(dbt_bundle *b, const char *name);

/* No two certificates of b have the same alias (compared as Java does, ignoring case). */
void teststore_assert_distinct_aliases(const dbt_bundle *b);

#endif
