/* Fuzz target: dbt_bundle_decode on arbitrary bytes (sniffing, PEM, DER, PKCS#7, PKCS#12, JKS),
 * then every output format written and read back: the certificates must survive each round trip
 * unchanged and in order (same SHA-256 list), with their trust settings when those restrict
 * them (a format that cannot carry them must refuse), else the target aborts. */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "fuzz_common.h"
#include "trust.h"

/* Round trips re-encode every certificate six times; huge bundles would only slow the search. */
#define ROUNDTRIP_MAX_CERTS 64

static void cert_sha256(X509 *x, unsigned char md[32])
{
    unsigned int n = 0;

    if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32)
        fuzz_fail("cannot hash a decoded certificate");
}

static void roundtrip(const dbt_bundle *b, dbt_outfmt fmt)
{
    unsigned char *out = NULL, a[32], c[32];
    size_t outlen = 0;
    dbt_bundle *back = NULL;
    dbt_err err;
    /* Truststores are written with "changeit" when no password is given (dbt_encode). */
    const char *pw = fmt == DBT_OUT_PKCS12 || fmt == DBT_OUT_JKS ? "changeit" : NULL;

    if (dbt_encode(b, fmt, NULL, &out, &outlen, &err) != 0) {
        /* DER holds one certificate by definition, and a format that cannot carry trust
         * settings refuses a certificate they restrict; every other failure is a bug. */
        if ((fmt == DBT_OUT_DER && b->n != 1) || dbt_encode_check_trust(b, fmt, &err) != 0)
            return;
        fuzz_fail("%s: %zu certificates decoded but not written: %s", dbt_outfmt_name(fmt), b->n,
                  err.msg);
    }
    if (dbt_bundle_decode(out, outlen, "roundtrip", pw, &back, &err) != 0)
        fuzz_fail("%s output does not decode again: %s", dbt_outfmt_name(fmt), err.msg);
    if (back->n != b->n)
        fuzz_fail("%s round trip: %zu certificates in, %zu out", dbt_outfmt_name(fmt), b->n,
                  back->n);
    for (size_t i = 0; i < b->n; i++) {
        cert_sha256(b->certs[i].x509, a);
        cert_sha256(back->certs[i].x509, c);
        if (memcmp(a, c, 32) != 0)
            fuzz_fail("%s round trip changed certificate %zu", dbt_outfmt_name(fmt), i + 1);
        /* Trust never widens: what was written restricts as the input did, or was plain. */
        if (dbt_trust_kind_of(b->certs[i].x509) == DBT_TRUST_RESTRICTED &&
            !dbt_trust_equal(b->certs[i].x509, back->certs[i].x509))
            fuzz_fail("%s round trip dropped the trust settings of certificate %zu",
                      dbt_outfmt_name(fmt), i + 1);
    }
    dbt_bundle_free(back);
    OPENSSL_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const dbt_outfmt fmts[] = {DBT_OUT_PEM,    DBT_OUT_DER,    DBT_OUT_P7_PEM,
                                      DBT_OUT_P7_DER, DBT_OUT_PKCS12, DBT_OUT_JKS};
    dbt_bundle *b = NULL;
    dbt_err err;

    if (fuzz_p12_too_slow(data, size))
        return 0;
    if (dbt_bundle_decode(data, size, "fuzz", NULL, &b, &err) == 0) {
        if (b->n == 0)
            fuzz_fail("decode succeeded with no certificates");
        if (b->n <= ROUNDTRIP_MAX_CERTS)
            for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
                roundtrip(b, fmts[i]);
        dbt_bundle_free(b);
    } else if (b != NULL || err.msg[0] == '\0') {
        fuzz_fail("a failed decode must give no bundle and a message");
    }
    ERR_clear_error();
    return 0;
}
