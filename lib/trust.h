/* Auxiliary trust settings: the trust and reject lists of a TRUSTED CERTIFICATE block (OpenSSL's
 * X509_AUX) or of a PKCS#12 trusted-key-usage attribute, kept on the X509 so that no output
 * trusts a certificate for more than its input did. */
#ifndef DBT_TRUST_H
#define DBT_TRUST_H

#include <stddef.h>

#include <openssl/x509.h>

#include "bundle.h"
#include "error.h"

/*
 * What dropping a certificate's trust settings would do, as OpenSSL's X509_check_trust reads
 * them (a reject list wins over a trust list; a trust list that lacks the purpose rejects it,
 * so a trust list that is present but empty rejects every purpose).
 */
typedef enum dbt_trust_kind {
    DBT_TRUST_PLAIN = 0, /* no trust list and no reject entry (at most an alias, or an empty
                            reject list): a plain certificate */
    DBT_TRUST_ALL,       /* trusted for anyExtendedKeyUsage, nothing rejected: a plain copy is
                            trusted for no more (an intermediate only stops being an anchor) */
    DBT_TRUST_RESTRICTED /* anything else: a plain copy would be trusted for more */
} dbt_trust_kind;

dbt_trust_kind dbt_trust_kind_of(X509 *x);

/* An OID as its OpenSSL short name ("serverAuth", "anyExtendedKeyUsage") or in dotted form. */
void dbt_trust_oid_name(const ASN1_OBJECT *o, char *buf, size_t n);

/* "trusted for clientAuth; rejected for serverAuth" (lists cut with "..." to fit buf). */
void dbt_trust_describe(X509 *x, char *buf, size_t n);

/*
 * Fails on the first certificate of b whose trust settings target cannot keep (kind
 * DBT_TRUST_RESTRICTED), with a message naming b's source, the block and the settings. target
 * names what the certificates go into ("the catalog", "DER output"); is_output adds that PEM
 * and hashed directories keep the settings.
 */
int dbt_trust_require_plain(const dbt_bundle *b, const char *target, int is_output, dbt_err *err);

/* Most usages read from one trust list, reject list or PKCS#12 trusted-key-usage attribute
 * (real files list one or two): comparing lists is then bounded work. Longer is an error. */
#define DBT_TRUST_MAX_USAGES 64

/*
 * Applies a trusted-key-usage attribute read from PKCS#12 to x: anyExtendedKeyUsage among them
 * leaves x plain, other usages become x's trust list, no usage at all rejects every purpose.
 */
int dbt_trust_set_usages(X509 *x, const ASN1_OBJECT *const *usages, size_t n);

/* True when a and b have the same trust and reject lists (in any order; an empty trust list is
 * not an absent one). */
int dbt_trust_equal(X509 *a, X509 *b);

/* Where certificate i of b came from, for messages: "block 2 of F (line 25)". */
void dbt_trust_where(const dbt_bundle *b, size_t i, char *buf, size_t n);

#endif
