/* Fuzz target: the PKCS#12 reader (dbt_p12_decode) with no password and with "changeit". Inputs
 * whose MAC or PBE iteration count exceeds FUZZ_P12_MAX_ITER but that the reader would still
 * accept are skipped (each iteration is a hash: up to lib/p12.h's budget per execution would
 * stall the search, not find bugs); counts the reader refuses before any work are exercised. */
#include "config.h"

#include <openssl/err.h>

#include "bundle.h"
#include "fuzz_common.h"

static void decode(const uint8_t *data, size_t size, const char *password)
{
    dbt_bundle *b = dbt_bundle_new("fuzz.p12");
    dbt_err err;

    if (b == NULL)
        fuzz_fail("out of memory");
    err.msg[0] = '\0';
    int rc;

    rc = dbt_p12_decode(data, size, password, b, &err);
    if (rc != 0 && err.msg[0] == '\0')
        fuzz_fail("a failed PKCS#12 decode must say why");
    /* With a key, no certificate is a plain unattributed bag; without one, none is a key's. */
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        if (b->certs[i].origin == (b->nkeys > 0 ? DBT_ORIGIN_P12_NOTRUST : DBT_ORIGIN_KEY_CHAIN))
            fuzz_fail("certificate %zu has the wrong origin for a file with %zu keys", i + 1,
                      b->nkeys);
    for (size_t i = 0; i < b->n; i++)
        if (b->certs[i].x509 == NULL)
            fuzz_fail("certificate %zu is NULL", i + 1);
    dbt_bundle_free(b);
    ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_p12_too_slow(data, size))
        return 0;
    decode(data, size, NULL);
    decode(data, size, "changeit");
    return 0;
}
