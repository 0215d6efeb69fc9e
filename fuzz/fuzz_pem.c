/* Fuzz target: the PEM scanner (dbt_pem_decode) directly, without the sniffing in front of it. */
#include "config.h"

#include <openssl/err.h>

#include "bundle.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dbt_bundle *b = dbt_bundle_new("fuzz.pem");
    dbt_err err;

    if (b == NULL)
        fuzz_fail("out of memory");
    err.msg[0] = '\0';
    if (dbt_pem_decode(data, size, b, &err) != 0 && err.msg[0] == '\0')
        fuzz_fail("a failed PEM decode must say why");
    for (size_t i = 0; i < b->n; i++)
        if (b->certs[i].x509 == NULL || b->certs[i].block < 1 || b->certs[i].line < 1)
            fuzz_fail("certificate %zu has no certificate, block or line", i + 1);
    dbt_bundle_free(b);
    ERR_clear_error();
    return 0;
}
