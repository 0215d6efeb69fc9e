/* dbtrust.so: the fields of a DER certificate that searches compare. Decoding them alone keeps
 * the public key undecoded: in OpenSSL 3 d2i_X509 decodes it through the decoder framework,
 * which costs more than everything else in a lookup, and OpenSSL decodes the certificate again
 * anyway when the loader hands it over. */
#ifndef DBT_CERTPARTS_H
#define DBT_CERTPARTS_H

#include <openssl/x509.h>

typedef struct dbt_certparts {
    X509_NAME *issuer, *subject;
    ASN1_INTEGER *serial;
} dbt_certparts;

/* 1 and c filled when der is exactly one well-formed Certificate; 0 (c empty) otherwise. */
int dbt_certparts_get(const unsigned char *der, long derlen, dbt_certparts *c);
void dbt_certparts_free(dbt_certparts *c);

#endif
