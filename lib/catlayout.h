/* The catalog's on-disk layout as data and checks: names, constants, the bundle-name rule, the
 * index and .meta line formats. lib/ (catalog, safety walk, verify), the provider and the tests
 * read the layout through this one file; lib/catalog.h describes the layout in words. libc only
 * and no allocation, so that dbtrust-store.so can compile it in. */
#ifndef DBT_CATLAYOUT_H
#define DBT_CATLAYOUT_H

#include <stddef.h>
#include <string.h>

#define DBT_LAYOUT_FORMAT 1
#define DBT_LAYOUT_NAME_MAX 64   /* bytes of a bundle name */
#define DBT_LAYOUT_SHA256_HEX 64 /* digits of a certificate's name */
#define DBT_LAYOUT_SHA1_HEX 40
#define DBT_LAYOUT_HASH_HEX 8 /* digits of a subject or issuer hash */
/* Bytes of an index serial: an optional '-' and hex digits. BN_bn2hex of a 64-octet serial
 * (RFC 5280 allows 20) is 128 digits; the writer refuses longer ones. */
#define DBT_LAYOUT_SERIAL_MAX 131

/* Names at the top of a catalog. */
#define DBT_LAYOUT_CURRENT "current"
#define DBT_LAYOUT_CURRENT_TMP ".current.tmp"
#define DBT_LAYOUT_GEN_PREFIX ".gen-"
#define DBT_LAYOUT_DEAD_PREFIX ".dead-gen-" /* a generation a writer is removing */
#define DBT_LAYOUT_LOCK ".lock"
#define DBT_LAYOUT_EMPTY_PEM "empty.pem"
/* The writers' record of what the last commit changed (lib/catalog_txn.c): a regular file the
 * next commit reads, never a reader; ".changes.tmp" while it is written. */
#define DBT_LAYOUT_CHANGES ".changes"
#define DBT_LAYOUT_CHANGES_TMP ".changes.tmp"
/* Directories of a generation (and the fixed top-level links to them), and the index. */
#define DBT_LAYOUT_BUNDLES "bundles"
#define DBT_LAYOUT_CERTS "certs"
#define DBT_LAYOUT_INDEX "index"
/* The trust view: what OpenSSL's default trust gets from the catalog (SSL_CERT_DIR of `dbtrust
 * env`, the system links, the bundle file). <hash>.<n> links to ../certs/<sha256>.pem for the
 * certificates of unscoped bundles, and <sha256>.pem files (each with its <hash>.<n> link) for
 * the scoped forms of scoped bundles' certificates and their local anchor (lib/scope.h). */
#define DBT_LAYOUT_TRUST "trust"
#define DBT_LAYOUT_TRUST_UP "../" DBT_LAYOUT_CERTS "/"
/* The trust view as one PEM file, in each generation beside trust/ and through a fixed link
 * at the top (NODE_EXTRA_CA_CERTS of `dbtrust env`, for clients that take one file of extra
 * CAs): exactly the certificates trust/'s links lead to, one CERTIFICATE block each, in the
 * order of the links (subject hash, then SHA-256). Empty for an empty view. */
#define DBT_LAYOUT_TRUST_PEM "trust.pem"
#define DBT_LAYOUT_INDEX_HEADER "dbtrust-index 1"
/* A .meta file is at most this long (its lines: origin up to 1023 bytes, four short ones). */
#define DBT_LAYOUT_META_MAX (64u * 1024u)

/* What the writer prints per index line, followed by the bundles joined with ',' and '\n':
 * sha256, sha1, subject hash, issuer hash, serial (BN_bn2hex). */
#define DBT_LAYOUT_INDEX_LINE_FMT "%s %s %08lx %08lx %s "
/* A .meta file: origin, sha256, format, imported, count (size_t). */
#define DBT_LAYOUT_META_FMT "origin=%s\nsha256=%s\nformat=%s\nimported=%s\ncount=%zu\n"
/* The shortest index line, newline included: a reader sizes its table by it, so a file of
 * empty lines does not make it allocate an entry per byte. */
#define DBT_LAYOUT_INDEX_MIN_LINE (64 + 1 + 40 + 1 + 8 + 1 + 8 + 1 + 1 + 1 + 1 + 1)

/* 1 when s[0..n) is a bundle name: 1 to DBT_LAYOUT_NAME_MAX bytes of ASCII [A-Za-z0-9._-], not
 * starting with '.' or '-'. Compared as bytes, never through the locale (isalnum would accept
 * other letters after setlocale). */
int dbt_layout_name_ok(const char *s, size_t n);

/* 1 when s[0..n) are all lowercase hex digits. */
int dbt_layout_hex_lower(const char *s, size_t n);

/* ".gen-<N>" with N decimal without leading zero, fitting an unsigned long long: 0 and *n, else
 * -1. The one parser of generation names. */
int dbt_layout_gen_name(const char *s, unsigned long long *n);

/* 1 when s is "<sha256>.pem" (64 lowercase hex digits): a certificate file, and the target of
 * every hash link. */
int dbt_layout_cert_file_name(const char *s);
/* Whether a trust/ hash link's target has the writer's form: a bare <sha256>.pem (a scoped form
 * beside it) or ../certs/<sha256>.pem (a catalog certificate); 1 or 0. *up says which. */
int dbt_layout_trust_target(const char *target, int *up);

/* 1 when s is "<hash>.<n>" (8 lowercase hex digits, a dot, decimal digits): an openssl rehash
 * link name. hash and n may be NULL; when n is given, a number above INT_MAX is refused. */
int dbt_layout_hash_link_name(const char *s, unsigned long *hash, int *n);

/* Results of the index parse (0 or a line: see each function). Each reader words its own
 * message from these. */
enum {
    DBT_LAYOUT_BAD_HEADER = -1,     /* the first line is not DBT_LAYOUT_INDEX_HEADER */
    DBT_LAYOUT_NOT_TERMINATED = -2, /* the last line has no '\n' (a truncated file) */
    DBT_LAYOUT_BAD_LINE = -3,       /* not the six fields below */
    DBT_LAYOUT_UNSORTED = -4,       /* sha256 below the line before it */
    DBT_LAYOUT_REPEATED = -5,       /* sha256 equal to the line before it */
    DBT_LAYOUT_NUL = -6,            /* a NUL byte in the file */
};

/*
 * One index line, pointing into the caller's buffer:
 *   <sha256> <sha1> <subject-hash> <issuer-hash> <serial> <bundle>[,<bundle>...]
 * fields separated by exactly one space; sha256 (64), sha1 (40) and the hashes (8) are
 * lowercase hex; serial is hex of either case with an optional leading '-', 1 to
 * DBT_LAYOUT_SERIAL_MAX bytes; each bundle passes dbt_layout_name_ok (no empty name).
 */
typedef struct dbt_layout_index_line {
    const char *sha256, *sha1, *serial, *bundles;
    unsigned long subject_hash, issuer_hash;
} dbt_layout_index_line;

/* The offset of the first line after the header in buf[0..len) (buf[len] is a NUL, as both
 * readers leave it), or DBT_LAYOUT_NUL (a NUL byte before len: it would end a parse early and
 * hide the lines after it) or DBT_LAYOUT_BAD_HEADER. */
long dbt_layout_index_header(const char *buf, size_t len);

/* Parses one line (NUL-terminated, without its '\n') in place: the separators become NULs.
 * 0, or DBT_LAYOUT_BAD_LINE (e is then undefined). */
int dbt_layout_index_parse(char *line, dbt_layout_index_line *e);

/*
 * The next line at *pos (in a NUL-terminated body after the header): 1 with e filled and *pos
 * past the line, 0 at the end, or DBT_LAYOUT_NOT_TERMINATED, DBT_LAYOUT_BAD_LINE,
 * DBT_LAYOUT_UNSORTED or DBT_LAYOUT_REPEATED. prev is the line before (NULL for the first): the
 * index is sorted by sha256 and holds each once, which binary search and the bundle lists rely
 * on. Work is linear in the line's length.
 */
int dbt_layout_index_next(char **pos, dbt_layout_index_line *e, const dbt_layout_index_line *prev);

/* The SHA-256 (64 digits at *sha256, not terminated) and subject hash of the line at *pos
 * (body up to end), checked and converted without parsing the rest of the line, for a writer
 * that only needs to know which certificates an index lists: 1 with *pos past the line, 0 at
 * the end, DBT_LAYOUT_NOT_TERMINATED or DBT_LAYOUT_BAD_LINE. The caller checks the order. */
int dbt_layout_index_keys(const char **pos, const char *end, const char **sha256,
                          unsigned long *subject_hash);

/* 1 when the line lists bundle among its bundles. */
int dbt_layout_index_has_bundle(const dbt_layout_index_line *e, const char *bundle);

/* The keys of a .meta file, in the order the writer prints them. */
enum dbt_layout_meta_key {
    DBT_LAYOUT_META_ORIGIN,
    DBT_LAYOUT_META_SHA256,
    DBT_LAYOUT_META_FORMAT,
    DBT_LAYOUT_META_IMPORTED,
    DBT_LAYOUT_META_SOURCE,    /* optional, after scope: the known source fetched from */
    DBT_LAYOUT_META_REFRESHED, /* optional, after source: the last successful refresh */
    DBT_LAYOUT_META_SCOPE,     /* after count; every bundle of a generation with trust/ has one
                                  ("" unscoped), older generations none */
    DBT_LAYOUT_META_COUNT,
    DBT_LAYOUT_META_NKEYS
};

/* The .meta and bundle-list helpers below are the commands' alone: inline, so that
 * dbtrust-store.so, which compiles catlayout.c but reads no .meta, carries none of them. */
static const char *const dbt_layout_meta_keys[DBT_LAYOUT_META_NKEYS] = {
    [DBT_LAYOUT_META_ORIGIN] = "origin", [DBT_LAYOUT_META_SHA256] = "sha256",
    [DBT_LAYOUT_META_FORMAT] = "format", [DBT_LAYOUT_META_IMPORTED] = "imported",
    [DBT_LAYOUT_META_SOURCE] = "source", [DBT_LAYOUT_META_REFRESHED] = "refreshed",
    [DBT_LAYOUT_META_SCOPE] = "scope",   [DBT_LAYOUT_META_COUNT] = "count",
};

/* The dbt_layout_meta_key named by k[0..n), or -1 for a key no dbtrust writes. */
static inline int dbt_layout_meta_key(const char *k, size_t n)
{
    for (int i = 0; i < DBT_LAYOUT_META_NKEYS; i++)
        if (strlen(dbt_layout_meta_keys[i]) == n && memcmp(dbt_layout_meta_keys[i], k, n) == 0)
            return i;
    return -1;
}

/* Walks a parsed bundles field (start with *p = e->bundles): 1 with the next name in
 * name[0..len) and *p past it and its comma, 0 at the end. */
static inline int dbt_layout_index_next_bundle(const char **p, const char **name, size_t *len)
{
    const char *comma;

    if (**p == '\0')
        return 0;
    comma = strchr(*p, ',');
    *name = *p;
    *len = comma != NULL ? (size_t)(comma - *p) : strlen(*p);
    *p = comma != NULL ? comma + 1 : *p + *len;
    return 1;
}

#endif
