/* Fixtures shared by the truststore unit tests: see teststore.h. */
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

#include <openssl/pem.h>

#include "teststore.h"
#include "testpki.h"

EVP_PKEY *teststore_key;

int teststore_setup(void **state)
{
    (void)state;
    teststore_key = testpki_key("ec-p256");
    return teststore_key == NULL ? -1 : 0;
}

int teststore_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(teststore_key);
    teststore_key = NULL;
    return 0;
}

X509 *teststore_cert(const char *cn, long serial)
{
    testpki_certspec s;

    memset(&s, 0, sizeof(s));
    s.cn = cn;
    s.key = teststore_key;
    s.serial = serial;
    s.not_before = testpki_utc(2021, 5, 25);
    s.not_after = testpki_utc(2121, 5, 25);
    s.ca = 1;
    s.pathlen = -1;
    s.md = EVP_sha256();
    return testpki_cert_new(&s);
}

dbt_bundle *teststore_bundle(const char *const *cns, const char *const *aliases, size_t n)
{
    dbt_bundle *b = dbt_bundle_new("test-input");
    dbt_err err;
    size_t i;

    assert_non_null(b);
    for (i = 0; i < n; i++) {
        X509 *x = teststore_cert(cns[i], (long)i + 1);
        assert_non_null(x);
        assert_int_equal(dbt_bundle_push(b, x, (int)i + 1, 0, aliases ? aliases[i] : NULL, &err),
                         0);
    }
    return b;
}

void teststore_assert_same_x509(X509 *a, X509 *b)
{
    char ha[65], hb[65];

    testpki_sha256_hex(a, ha);
    testpki_sha256_hex(b, hb);
    assert_string_equal(ha, hb);
}

void teststore_assert_same_certs(const dbt_bundle *a, const dbt_bundle *b)
{
    size_t i;

    assert_int_equal(a->n, b->n);
    for (i = 0; i < a->n; i++)
        teststore_assert_same_x509(a->certs[i].x509, b->certs[i].x509);
}

int teststore_load_realdata(dbt_bundle *b, const char *name)
{
    const char *dir = getenv("DBTRUST_REALDATA");
    char path[4096];
    dbt_err err;
    X509 *x;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "", name);
    if (dir == NULL || (f = fopen(path, "r")) == NULL) {
        print_message("SKIP: %s not found (set DBTRUST_REALDATA to the realdata directory)\n",
                      path);
        return -1;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        assert_int_equal(dbt_bundle_push(b, x, (int)b->n + 1, 0, NULL, &err), 0);
    fclose(f);
    return 0;
}

void teststore_assert_distinct_aliases(const dbt_bundle *b)
{
    size_t i, j;

    for (i = 0; i < b->n; i++)
        for (j = i + 1; j < b->n; j++)
            assert_true(strcasecmp(b->certs[i].alias, b->certs[j].alias) != 0);
}
