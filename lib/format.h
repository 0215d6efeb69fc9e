/* The format table: one row for every format dbtrust reads or writes, with its command-line
 * names, the names shown and recorded, and the functions that recognise, decode and encode it.
 * Usage texts and the bundle decoder read it; tests/test_format.c checks the man page and the
 * shell completion against it, so a new format is one row (and its functions). */
#ifndef DBT_FORMAT_H
#define DBT_FORMAT_H

#include <stddef.h>

#include "error.h"

struct dbt_bundle;

/* The values up to DBT_FMT_JKS are the input formats a bundle records (dbt_bundle.format). */
typedef enum dbt_format {
    DBT_FMT_UNKNOWN = 0,
    DBT_FMT_PEM,    /* one or more CERTIFICATE / TRUSTED CERTIFICATE blocks */
    DBT_FMT_DER,    /* one DER certificate */
    DBT_FMT_P7_PEM, /* -----BEGIN PKCS7----- */
    DBT_FMT_P7_DER, /* DER PKCS#7 SignedData (.p7b) */
    DBT_FMT_PKCS12,
    DBT_FMT_JKS,
    DBT_FMT_HASHED_DIR, /* a directory in openssl-rehash layout (output only) */
    DBT_FMT_COUNT
} dbt_format;

/* What a format can be used for (dbt_format_info.flags; lookups take any of them). */
#define DBT_FMTF_IN 0x1u       /* recognised by content and decoded */
#define DBT_FMTF_OUT 0x2u      /* encoded to one file or standard output */
#define DBT_FMTF_DIR 0x4u      /* written as a new directory */
#define DBT_FMTF_KEYSTORE 0x8u /* a Java truststore (keytool's -storetype) */

/* 1: data is this format; 0: it is not; -1: it is, truncated (*need: the bytes it would take). */
typedef int dbt_format_sniff_fn(const unsigned char *data, size_t len, size_t *need);
/* Appends the certificates of data to into; password as dbt_bundle_decode says. 0 or -1. */
typedef int dbt_format_decode_fn(const unsigned char *data, size_t len, const char *password,
                                 struct dbt_bundle *into, dbt_err *err);
/* Encodes every certificate of b into *out (OPENSSL_malloc'ed); password of keystores. */
typedef int dbt_format_encode_fn(const struct dbt_bundle *b, const char *password,
                                 unsigned char **out, size_t *outlen, dbt_err *err);
/* Writes b as a new directory dir. */
typedef int dbt_format_write_dir_fn(const char *dir, const struct dbt_bundle *b, dbt_err *err);

typedef struct dbt_format_info {
    dbt_format id;
    const char *name;           /* command-line name ("p7b-der"), case-sensitive */
    const char *const *aliases; /* other accepted spellings (NULL-terminated), or NULL */
    const char *display;        /* in messages: "PKCS#7 (DER)" */
    const char *meta;           /* recorded as format= in a bundle's .meta: "pkcs-7-der" */
    const char *ext;            /* usual file name extension: ".p7b" */
    unsigned flags;             /* DBT_FMTF_* */
    const char *plain;          /* output that cannot carry trust settings: what it holds (a
                                   restricted certificate is then refused); NULL when it can */
    dbt_format_sniff_fn *sniff; /* NULL: never recognised on its own */
    dbt_format_decode_fn *decode;
    dbt_format_encode_fn *encode;
    dbt_format_write_dir_fn *write_dir;
} dbt_format_info;

/* Every format but DBT_FMT_UNKNOWN, in enum order (the order of usage texts). */
extern const dbt_format_info dbt_formats[];
extern const size_t dbt_nformats;

/* The row of f, or NULL for DBT_FMT_UNKNOWN and values outside the enum. */
const dbt_format_info *dbt_format_get(dbt_format f);

/* How dbt_format_by_name compares. */
#define DBT_FMT_MATCH_NOCASE 0x1u  /* ASCII case-insensitive (keytool's -storetype) */
#define DBT_FMT_MATCH_ALIASES 0x2u /* also the aliases ("p12") */

/* The row named name among those with any of flags, or NULL. */
const dbt_format_info *dbt_format_by_name(const char *name, unsigned flags, unsigned match);

/* Which text of a row dbt_format_names lists. */
typedef enum dbt_format_field {
    DBT_FMT_FIELD_NAME,   /* "p7b-der" */
    DBT_FMT_FIELD_META,   /* "pkcs-7-der" */
    DBT_FMT_FIELD_FAMILY, /* the display name without its parenthesis, once: "PKCS#7" */
} dbt_format_field;

/*
 * Lists field of every row with any of flags, in table order, joined by sep and by last before
 * the final one ("pem, der, p7b, p7b-der, pkcs12, jks or hashed-dir"). Writes at most n bytes,
 * NUL included, and returns the length the whole list needs (as snprintf).
 */
size_t dbt_format_names(unsigned flags, dbt_format_field field, const char *sep, const char *last,
                        char *out, size_t n);

/*
 * Recognises data by content, in this order: JKS (magic number), then DER, PKCS#7 DER and
 * PKCS#12 (the first element inside the outer SEQUENCE), then PEM (a BEGIN or END line). Text
 * that starts with '0' and a short-form length but holds "-----BEGIN" is not DER: real DER
 * bundles use long-form lengths. Returns 1 with *row, 0 when nothing matches, or -1 when *row's
 * outer structure is truncated (*need: the bytes it says it takes).
 */
int dbt_format_sniff(const unsigned char *data, size_t len, const dbt_format_info **row,
                     size_t *need);

#endif
