/* PKCS#7 certificate bundles (.p7b): reading the certificates of a SignedData, and writing the
 * degenerate, certificates-only SignedData that `openssl crl2pkcs7 -nocrl` writes. */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"

/*
 * OpenSSL's PKCS#7 template reads `certificates` as a SEQUENCE OF, so real .p7b files whose
 * SET OF is not DER-sorted (AWS publishes them that way) decode in their original order.
 * CRLs in the SignedData are not certificates and are not part of a trust bundle: ignored.
 */
int dbt_p7_decode_block(const unsigned char *der, size_t len, dbt_bundle *into, int block, int line,
                        dbt_err *err)
{
    const unsigned char *p = der;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    STACK_OF(X509) * certs;
    int n, ret = -1;

    if (p7 == NULL) {
        char why[300];

        dbt_ossl_reason(why, sizeof(why));
        dbt_err_set(err, "not a PKCS#7 structure: %s", why);
        return -1;
    }
    if ((size_t)(p - der) != len) {
        dbt_err_set(err, "PKCS#7 structure is followed by %zu trailing bytes: remove them",
                    len - (size_t)(p - der));
        goto end;
    }
    if (!PKCS7_type_is_signed(p7)) {
        char name[80];

        OBJ_obj2txt(name, sizeof(name), p7->type, 0);
        dbt_err_set(err, "PKCS#7 content is %s, not SignedData: not a certificate bundle", name);
        goto end;
    }
    certs = p7->d.sign != NULL ? p7->d.sign->cert : NULL;
    n = certs != NULL ? sk_X509_num(certs) : 0;
    if (n == 0) {
        dbt_err_set(err, "PKCS#7 SignedData holds no certificates");
        goto end;
    }
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(certs, i);

        if (!X509_up_ref(x)) {
            dbt_err_ossl(err, "PKCS#7 certificate %d", i + 1);
            goto end;
        }
        /* Inside a PEM block every certificate points at that block; alone, at its entry. */
        if (dbt_bundle_push(into, x, block > 0 ? block : i + 1, line, NULL, err) != 0) {
            X509_free(x);
            goto end;
        }
    }
    ret = 0;
end:
    PKCS7_free(p7);
    return ret;
}

int dbt_p7_decode_der(const unsigned char *data, size_t len, dbt_bundle *into, dbt_err *err)
{
    if (dbt_p7_decode_block(data, len, into, 0, 0, err) != 0) {
        dbt_err_prefix(err, "%s", into->source);
        return -1;
    }
    return 0;
}

int dbt_p7_encode_der(const dbt_bundle *b, unsigned char **out, size_t *outlen, dbt_err *err)
{
    PKCS7 *p7 = NULL;
    PKCS7_SIGNED *p7s = NULL;
    unsigned char *der = NULL;
    int dlen, ret = -1;

    *out = NULL;
    *outlen = 0;
    /* Built field by field as apps/crl2pkcs7.c does, so the bytes match `crl2pkcs7 -nocrl`. */
    if ((p7 = PKCS7_new()) == NULL || (p7s = PKCS7_SIGNED_new()) == NULL)
        goto ossl_err;
    p7->type = OBJ_nid2obj(NID_pkcs7_signed);
    p7->d.sign = p7s;
    p7s->contents->type = OBJ_nid2obj(NID_pkcs7_data);
    if (!ASN1_INTEGER_set(p7s->version, 1))
        goto ossl_err;
    /* No CRL stack at all: an empty one would be written as an empty [1] that crl2pkcs7 omits. */
    if ((p7s->cert = sk_X509_new_null()) == NULL)
        goto ossl_err;
    for (size_t i = 0; i < b->n; i++) {
        if (!X509_up_ref(b->certs[i].x509))
            goto ossl_err;
        if (!sk_X509_push(p7s->cert, b->certs[i].x509)) {
            X509_free(b->certs[i].x509);
            goto ossl_err;
        }
    }
    if ((dlen = i2d_PKCS7(p7, &der)) <= 0)
        goto ossl_err;
    *out = der;
    *outlen = (size_t)dlen;
    ret = 0;
    goto end;
ossl_err:
    dbt_err_ossl(err, "%s: cannot build the PKCS#7 bundle", b->source);
end:
    if (p7 != NULL)
        PKCS7_free(p7);
    else
        PKCS7_SIGNED_free(p7s);
    return ret;
}
