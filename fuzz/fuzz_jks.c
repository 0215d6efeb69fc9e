/* Fuzz target: the JKS/JCEKS reader (dbt_jks_decode) without a password (integrity not checked)
 * and with "changeit" (integrity checked): the keyed digest must never change what is read. */
#include "config.h"

#include <openssl/err.h>

#include "bundle.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dbt_bundle *a = dbt_bundle_new("fuzz.jks"), *b = dbt_bundle_new("fuzz.jks");
    dbt_err err;
    int ra, rb;

    if (a == NULL || b == NULL)
        fuzz_fail("out of memory");
    (void)dbt_jks_sniff(data, size);
    ra = dbt_jks_decode(data, size, NULL, a, &err);
    rb = dbt_jks_decode(data, size, "changeit", b, &err);
    /* The password only adds a check: what it accepts, the unchecked read accepts too. */
    if (rb == 0 && (ra != 0 || a->n != b->n))
        fuzz_fail("decoding with a password accepted what decoding without one refused");
    for (size_t i = 0; rb == 0 && i < b->n; i++)
        if (X509_cmp(a->certs[i].x509, b->certs[i].x509) != 0 ||
            a->certs[i].origin != b->certs[i].origin)
            fuzz_fail("certificate %zu differs with and without the password", i + 1);
    /* A key entry's chain is never writable as trusted certificates. */
    for (size_t i = 0; ra == 0 && i < a->n; i++)
        if (a->certs[i].origin == DBT_ORIGIN_KEY_CHAIN &&
            (a->nkeys == 0 || dbt_bundle_check_source(a, 0, &err) == 0))
            fuzz_fail("certificate %zu of a key entry's chain is writable", i + 1);
    dbt_bundle_free(a);
    dbt_bundle_free(b);
    ERR_clear_error();
    return 0;
}
