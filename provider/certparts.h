/* dbtrust.so: the fields of a DER certificate that searches compare. Reading them with a DER walk
 * keeps the public key undecoded: in OpenSSL 3.0 d2i_X509 decodes it through the decoder
 * framework, which costs more than everything else in a lookup, and OpenSSL decodes the
 * certificate again anyway when the loader hands it over. The names stay DER until a comparison
 * needs more than a byte comparison (decoding a name computes its canonical form: about 90,000
 * instructions for an AWS RDS root's subject). */
#ifndef DBT_CERTPARTS_H
#define DBT_CERTPARTS_H

#include <openssl/x509.h>

typedef struct dbt_certparts {
    /* Point into the DER given to dbt_certparts_get, whole Name encodings (tag included). */
    const unsigned char *issuer, *subject;
    long issuer_len, subject_len;
    ASN1_INTEGER *serial;
} dbt_certparts;

/* 1 and c filled when der is exactly one well-formed Certificate; 0 (c empty) otherwise. The
 * names are only checked to be SEQUENCEs here; dbt_certparts_name_eq decodes them when needed. */
int dbt_certparts_get(const unsigned char *der, long derlen, dbt_certparts *c);
void dbt_certparts_free(dbt_certparts *c);

/* Whether the DER Name (der, len) equals want as X509_NAME_cmp sees it (canonical forms): the
 * same bytes are equal without decoding; other bytes are decoded and compared. A Name that does
 * not decode equals nothing. */
int dbt_certparts_name_eq(const unsigned char *der, long len, const X509_NAME *want);

#endif
