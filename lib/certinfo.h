/* Facts about one certificate that every part of dbtrust prints, indexes or compares. */
#ifndef DBT_CERTINFO_H
#define DBT_CERTINFO_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "error.h"

typedef struct dbt_certinfo {
    char sha1[41];     /* lowercase hex, no colons */
    char sha256[65];   /* lowercase hex, no colons */
    char serial[129];  /* as `openssl x509 -serial`: uppercase, 2 digits per byte, "00" for
                          serial 0, '-' before a negative one; at most 64 bytes (else error) */
    char subject[512]; /* RFC 2253 one line (XN_FLAG_RFC2253, but UTF-8 left unescaped and
                          control characters escaped by lib/escape.h); display only, cut at a
                          character within 511 bytes */
    char issuer[512];
    char subject_cn[256]; /* first CN in encoding order (UTF-8, escaped as the subject is),
                             else the whole subject */
    int64_t not_before;   /* seconds since the epoch (dates up to 9999 fit) */
    int64_t not_after;
    char key_type[16]; /* "RSA", "RSASSA-PSS", "EC", "Ed25519", "Ed448", "DSA", else
                          OpenSSL's name or the key OID (key_bits 0 if unloadable) */
    int key_bits;
    char key_curve[32];         /* "secp384r1" for EC, else "" */
    char sig_alg[64];           /* OpenSSL long name, e.g. "sha256WithRSAEncryption" */
    int is_ca;                  /* basicConstraints CA:TRUE (or a v1 self-signed root) */
    int self_signed;            /* subject == issuer and the self-signature verifies */
    unsigned long subject_hash; /* X509_NAME_hash_ex: the <hash> of hashed directories */
    unsigned long issuer_hash;
} dbt_certinfo;

int dbt_certinfo_get(X509 *x, dbt_certinfo *ci, dbt_err *err);

/* What a certificate's validity means at a time; the CLI words it per command. */
typedef enum dbt_cert_status {
    DBT_CERT_OK,
    DBT_CERT_EXPIRING,     /* fewer than warn_days whole days left */
    DBT_CERT_EXPIRED,      /* notAfter is past */
    DBT_CERT_NOT_YET_VALID /* notBefore is ahead (only when asked to look at it) */
} dbt_cert_status;

/* Whole days from now until t, rounded down (negative once t is past: -1 within the first day). */
long dbt_days_left(int64_t t, int64_t now);
/* The status of ci at now; notBefore counts only with check_not_before (a catalog listing
 * looks at expiry alone). days_left, when not NULL, gets dbt_days_left of notAfter. */
dbt_cert_status dbt_certinfo_status(const dbt_certinfo *ci, int64_t now, long warn_days,
                                    int check_not_before, long *days_left);

/* A name as dbt_certinfo shows subject and issuer: RFC 2253, readable UTF-8, escaped by
 * lib/escape.h, cut at a character to fit outsz. A name with a value OpenSSL cannot print (a
 * UTF8String that is not UTF-8) is shown entry by entry, the bad value as escaped bytes. */
void dbt_name_line(const X509_NAME *name, char *out, size_t outsz);

/* Hex helpers: lowercase without separators (out holds 2n+1), and keytool's "AB:CD:..."
 * uppercase form (out holds 3n, at least 1). */
void dbt_hex(const unsigned char *in, size_t n, char *out);
void dbt_hex_colons(const unsigned char *in, size_t n, char *out);

/* Converts an ASN1_TIME to seconds since the epoch; 0 on success. */
int dbt_asn1_time_to_epoch(const ASN1_TIME *t, int64_t *out);

#endif
