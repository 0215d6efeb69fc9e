/* A bundle: the certificates decoded from one input (PEM, DER, PKCS#7, PKCS#12, JKS), in order. */
#ifndef DBT_BUNDLE_H
#define DBT_BUNDLE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "error.h"
#include "format.h"

/* What vouches for a keystore's content (a JKS digest or a PKCS#12 MAC, keyed by its password). */
typedef enum dbt_integrity {
    DBT_INTEGRITY_UNCHECKED = 0, /* not a keystore, or a JKS read without its password */
    DBT_INTEGRITY_VERIFIED,      /* the digest or MAC matched the password it was read with */
    DBT_INTEGRITY_NONE,          /* a PKCS#12 file with no MAC: nothing vouches for it */
} dbt_integrity;

/*
 * Where a keystore certificate came from, which decides whether Java trusts it as an anchor.
 * Only trusted certificate entries (and a PKCS#12 certificate bag with Java's trusted key usage
 * attribute) are anchors; a key entry's chain is not, and Java skips a PKCS#12 certificate bag
 * with neither the attribute nor a key. Every non-keystore input is DBT_ORIGIN_PLAIN.
 */
typedef enum dbt_origin {
    DBT_ORIGIN_PLAIN = 0,   /* PEM/DER/PKCS#7 input, or a keystore's trusted certificate entry */
    DBT_ORIGIN_KEY_CHAIN,   /* a certificate of a private key entry's chain (alias: the key's) */
    DBT_ORIGIN_P12_NOTRUST, /* a PKCS#12 certificate bag without the trust attribute, in a file
                               with no key: Java does not list it, OpenSSL has no trust for it */
} dbt_origin;

typedef struct dbt_cert {
    X509 *x509;  /* owned by the bundle */
    int block;   /* 1-based position in the input (PEM block, PKCS#7/PKCS#12/JKS entry);
                    the certificates of a PEM PKCS7 block all carry that block's number */
    int line;    /* line of the BEGIN line for PEM input, else 0 */
    char *alias; /* PKCS#12 friendlyName or JKS alias, NULL when the input has none */
    dbt_origin origin;
    int chain_pos; /* DBT_ORIGIN_KEY_CHAIN: 1-based place in the key's chain (1: its own) */
} dbt_cert;

typedef struct dbt_bundle {
    dbt_cert *certs;
    size_t n, cap;
    dbt_format format;
    dbt_integrity integrity; /* set by the PKCS#12 and JKS decoders */
    size_t nkeys;            /* private and secret key entries of a keystore (never decoded) */
    char *key_alias;         /* the first key entry's alias, NULL when none or unnamed */
    char *source;            /* display name of the input ("global-bundle.pem", "<stdin>") */
} dbt_bundle;

/* Largest input read (bytes) and largest number of certificates in one bundle: bounded memory. */
#define DBT_MAX_INPUT (256u * 1024u * 1024u)
#define DBT_MAX_CERTS 200000u

dbt_bundle *dbt_bundle_new(const char *source);
void dbt_bundle_free(dbt_bundle *b);
/* Appends x (the bundle takes the reference) with its position; alias may be NULL. */
int dbt_bundle_push(dbt_bundle *b, X509 *x, int block, int line, const char *alias, dbt_err *err);

/*
 * Decodes data (len bytes) by content, never by file name. source names the input in messages.
 * password is used for PKCS#12 (NULL tries "", no password, then "changeit"; key derivation
 * is bounded as lib/p12.h says) and JKS integrity (NULL skips the check). Every PEM BEGIN line must
 * yield a certificate, else the whole decode fails with "block 3 of F (line 41): not a certificate:
 * ..." -- nothing is ever dropped silently. Returns 0 and *out, or -1 with err set.
 */
int dbt_bundle_decode(const unsigned char *data, size_t len, const char *source,
                      const char *password, dbt_bundle **out, dbt_err *err);

/* Reads path ("-" is standard input, shown as "<stdin>") and decodes it. */
int dbt_bundle_read_file(const char *path, const char *password, dbt_bundle **out, dbt_err *err);

/*
 * Reads a whole file into memory (bounded by DBT_MAX_INPUT); "-" is standard input. *data is
 * malloc'ed (free with free()) and NUL-terminated one byte past *len, so text can be read as a
 * string; an empty file gives *len 0 and a valid buffer.
 */
int dbt_read_all(const char *path, unsigned char **data, size_t *len, dbt_err *err);

/* The format's display name ("PKCS#7 (DER)"; "unknown" for DBT_FMT_UNKNOWN), from the table. */
const char *dbt_format_name(dbt_format f);
/* The name a catalog's .meta records for the format ("pkcs-7-der"; "unknown"), cut to n. */
void dbt_format_key(dbt_format f, char *out, size_t n);

/* The most precise reason of a failed OpenSSL decode (the oldest queued error, plus the field it
 * was in when known), e.g. "bad object header"; empties the error queue. */
void dbt_ossl_reason(char *buf, size_t n);

/* Format-specific decoders, used by dbt_bundle_decode; each appends to into. */
int dbt_pem_decode(const unsigned char *data, size_t len, dbt_bundle *into, dbt_err *err);
/* Exactly one DER certificate, nothing after it (password: unused, the table's shape). */
int dbt_der_decode(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                   dbt_err *err);
int dbt_p7_decode_der(const unsigned char *data, size_t len, dbt_bundle *into, dbt_err *err);
/*
 * The certificates of one DER PKCS#7 SignedData (a .p7b file, or the body of a PEM PKCS7 block),
 * appended with the given block/line (block 0: each certificate gets its 1-based entry number).
 * Messages carry no file name; the caller prefixes it. Zero certificates is an error.
 */
int dbt_p7_decode_block(const unsigned char *der, size_t len, dbt_bundle *into, int block, int line,
                        dbt_err *err);
int dbt_p12_decode(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                   dbt_err *err);
int dbt_jks_decode(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                   dbt_err *err);
/*
 * Whether b may be written out as trusted certificates (a truststore, a bundle file or the
 * catalog). Refuses, naming the file and the entry: a keystore whose integrity was not verified
 * with its password (nothing shows its certificates are the ones put there), and a certificate
 * of a key entry's chain (Java does not trust it as an anchor; writing it as one would widen
 * trust). With jks_out, also a PKCS#12 bag without Java's trust attribute, which JKS cannot keep
 * unanchored (PKCS#12 output keeps it as a plain bag; PEM, DER, PKCS#7 and the catalog take it as
 * a CA, as OpenSSL reads such a file). Where a password is the cure, err carries
 * DBT_HINT_PASSWORD (placed inside the closing parentheses), which callers render in their own
 * option's spelling. 0 or -1 with err set.
 */
int dbt_bundle_check_source(const dbt_bundle *b, int jks_out, dbt_err *err);

/* True when data looks like a JKS/JCEKS keystore (magic number). */
int dbt_jks_sniff(const unsigned char *data, size_t len);

#endif
