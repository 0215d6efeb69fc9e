/* Writing bundles: PEM, DER, PKCS#7 (PEM/DER), PKCS#12 and JKS truststores, to memory. */
#ifndef DBT_ENCODE_H
#define DBT_ENCODE_H

#include <stddef.h>

#include "bundle.h"
#include "error.h"
#include "format.h"

/* The output formats are rows of the format table (lib/format.h); these names stay for callers. */
typedef dbt_format dbt_outfmt;
#define DBT_OUT_PEM DBT_FMT_PEM
#define DBT_OUT_DER DBT_FMT_DER       /* exactly one certificate */
#define DBT_OUT_P7_PEM DBT_FMT_P7_PEM /* "p7b" */
#define DBT_OUT_P7_DER DBT_FMT_P7_DER /* "p7b-der" */
#define DBT_OUT_PKCS12 DBT_FMT_PKCS12 /* truststore: trusted certificate entries Java accepts */
#define DBT_OUT_JKS DBT_FMT_JKS       /* truststore as p11-kit writes it */

/*
 * The formats written to one file (not hashed-dir), from the table: name -> format (exact case;
 * aliases such as "p12" too; -1 when unknown), format -> name and usual extension (NULL when f
 * is no such format), and their names for messages ("pem, der, p7b, p7b-der, pkcs12, jks").
 */
int dbt_outfmt_from_name(const char *name);
const char *dbt_outfmt_name(dbt_outfmt f);
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

/* Format-specific encoders, the table's encode functions (password: keystores only). */
/* Canonical PEM; a certificate with trust settings stays a TRUSTED CERTIFICATE block. */
int dbt_pem_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err);
/* Exactly one certificate. */
int dbt_der_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err);
/* dbt_p7_encode_der armored, as `openssl crl2pkcs7 -nocrl` writes it. */
int dbt_p7_encode_pem(const dbt_bundle *b, const char *password, unsigned char **out,
                      size_t *outlen, dbt_err *err);
/* Degenerate certificates-only SignedData, byte for byte what `openssl crl2pkcs7 -nocrl` writes. */
int dbt_p7_encode_der(const dbt_bundle *b, unsigned char **out, size_t *outlen, dbt_err *err);
int dbt_p12_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err);
int dbt_jks_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err);

#endif
