/* dbtrust.so: the parts of a DER certificate that searches compare (issuer, subject, serial),
 * read with a light DER walk; names are compared as DER first, decoded only when that fails. */
#include "config.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "certparts.h"

void dbt_certparts_free(dbt_certparts *c)
{
    ASN1_INTEGER_free(c->serial);
    memset(c, 0, sizeof(*c));
}

/* Reads one DER header at *p (below end); 1 and *len set when it is the expected tag. */
static int der_header(const unsigned char **p, const unsigned char *end, int want_tag,
                      int want_class, int constructed, long *len)
{
    int tag, xclass, ret;

    ret = ASN1_get_object(p, len, &tag, &xclass, (long)(end - *p));
    if ((ret & 0x80) != 0 || (ret & 1) != 0 || tag != want_tag || xclass != want_class ||
        ((ret & V_ASN1_CONSTRUCTED) != 0) != constructed)
        return 0;
    return *len <= end - *p;
}

/* Skips one SEQUENCE at *p, then takes the Name (a SEQUENCE) that follows, tag included. */
static int skip_then_name(const unsigned char **p, const unsigned char *end,
                          const unsigned char **name, long *name_len)
{
    long len;

    if (!der_header(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &len))
        return 0;
    *p += len;
    *name = *p;
    if (!der_header(p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &len))
        return 0;
    *p += len;
    *name_len = (long)(*p - *name);
    return 1;
}

/* Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version OPTIONAL, serial, signature, issuer,
 * validity, subject, ... }, signatureAlgorithm, signatureValue }; nothing may follow. */
int dbt_certparts_get(const unsigned char *der, long derlen, dbt_certparts *c)
{
    const unsigned char *p = der, *end = der + derlen, *tbs_end, *q;
    long len;
    int ok = 0;

    memset(c, 0, sizeof(*c));
    ERR_set_mark();
    if (!der_header(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &len) || p + len != end)
        goto end;
    if (!der_header(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &len))
        goto end;
    tbs_end = p + len;
    q = p;
    if (der_header(&q, tbs_end, 0, V_ASN1_CONTEXT_SPECIFIC, 1, &len))
        p = q + len;
    if ((c->serial = d2i_ASN1_INTEGER(NULL, &p, (long)(tbs_end - p))) == NULL)
        goto end;
    /* signature, issuer, validity, subject */
    if (!skip_then_name(&p, tbs_end, &c->issuer, &c->issuer_len) ||
        !skip_then_name(&p, tbs_end, &c->subject, &c->subject_len))
        goto end;
    p = tbs_end;
    if (!der_header(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &len))
        goto end;
    p += len;
    if (!der_header(&p, end, V_ASN1_BIT_STRING, V_ASN1_UNIVERSAL, 0, &len) || p + len != end)
        goto end;
    ok = 1;
end:
    ERR_pop_to_mark();
    if (!ok)
        dbt_certparts_free(c);
    return ok;
}

int dbt_certparts_name_eq(const unsigned char *der, long len, const X509_NAME *want)
{
    const unsigned char *wder = NULL, *p = der;
    size_t wlen = 0;
    X509_NAME *name;
    int eq;

    if (der == NULL || len <= 0)
        return 0;
    if (X509_NAME_get0_der((X509_NAME *)want, &wder, &wlen) && wlen == (size_t)len &&
        memcmp(wder, der, wlen) == 0)
        return 1;
    ERR_set_mark();
    name = d2i_X509_NAME(NULL, &p, len);
    eq = name != NULL && p == der + len && X509_NAME_cmp(name, want) == 0;
    ERR_pop_to_mark();
    X509_NAME_free(name);
    return eq;
}
