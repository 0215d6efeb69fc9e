/* Writing bundles: PEM, DER, PKCS#7 (PEM/DER), PKCS#12 and JKS truststores, to memory. */
#ifndef DBT_ENCODE_H
#define DBT_ENCODE_H

#include <stddef.h>

#include "bundle.h"
#include "error.h"

typedef enum dbt_outfmt {
    DBT_OUT_PEM = 0,
    DBT_OUT_DER,    /* exactly one certificate */
    DBT_OUT_P7_PEM, /* "p7b" */
    DBT_OUT_P7_DER, /* "p7b-der" */
    DBT_OUT_PKCS12, /* truststore: trusted certificate entries Java accepts */
    DBT_OUT_JKS,    /* truststore as p11-kit writes it */
} dbt_outfmt;

/* Name <-> format ("pem", "der", "p7b", "p7b-der", "pkcs12", "jks"); -1 when unknown. */
int dbt_outfmt_from_name(const char *name);
const char *dbt_outfmt_name(dbt_outfmt f);
/* Usual file name extension (".pem", ".p7b", ...), and the list of names for usage messages. */
const char *dbt_outfmt_ext(dbt_outfmt f);
const char *dbt_outfmt_names(void);

/*
 * Encodes every certificate of b. password protects PKCS#12/JKS integrity; NULL means
 * "changeit", Java's conventional truststore password. Ignored by the other formats.
 * *out is OPENSSL_malloc'ed (free with OPENSSL_free). Returns 0, or -1 with err set.
 */
int dbt_encode(const dbt_bundle *b, dbt_outfmt fmt, const char *password, unsigned char **out,
               size_t *outlen, dbt_err *err);

/*
 * Fails, naming the certificate's block, when b holds a certificate whose trust settings fmt
 * cannot carry (every format but PEM: PKCS#12's trusted key usage is ignored by Java), so that
 * it would be trusted for more than its input says. dbt_encode checks this itself; callers that
 * merge b into other certificates first check it to name b's own file. 0 or -1.
 */
int dbt_encode_check_trust(const dbt_bundle *b, dbt_outfmt fmt, dbt_err *err);

/* Format-specific encoders used by dbt_encode. */
/* Degenerate certificates-only SignedData, byte for byte what `openssl crl2pkcs7 -nocrl` writes. */
int dbt_p7_encode_der(const dbt_bundle *b, unsigned char **out, size_t *outlen, dbt_err *err);
int dbt_p12_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err);
int dbt_jks_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err);

#endif
