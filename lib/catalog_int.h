/* Internals shared by lib/catalog.c (open, safety, reads) and lib/catalog_txn.c (writes);
 * nothing outside the catalog includes this. catalog.h describes the layout. */
#ifndef DBT_CATALOG_INT_H
#define DBT_CATALOG_INT_H

#include "catalog.h"
#include "catlayout.h"

#include <stdint.h>
#include <sys/types.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

/* Shorter names for the layout's (lib/catlayout.h), as the catalog code spells them. */
#define DBT_CAT_GEN_PREFIX DBT_LAYOUT_GEN_PREFIX
#define DBT_CAT_CURRENT DBT_LAYOUT_CURRENT
#define DBT_CAT_CURRENT_TMP DBT_LAYOUT_CURRENT_TMP
#define DBT_CAT_LOCK DBT_LAYOUT_LOCK
#define DBT_CAT_INDEX_HEADER DBT_LAYOUT_INDEX_HEADER
#define DBT_CAT_META_MAX DBT_LAYOUT_META_MAX

struct dbt_catalog {
    char *path; /* absolute, symlink-free */
    int dirfd;  /* the catalog directory */
    int lockfd; /* writers only, else -1 */
    int genfd;  /* the snapshot generation, -1 before the first commit */
    unsigned long long gen;
    char gen_name[32];           /* ".gen-N" */
    char *certs_dir;             /* "<path>/.gen-N/certs" */
    unsigned long long view_gen; /* the generation has_view was found for (dbt_cat_has_view) */
    int has_view;
    int in_txn;
    /* A file a writer read broke the safety rule (dbt_cat_read_file): a transaction that met one
     * is refused, even where the read itself was allowed to fail (a damaged index only costs
     * speed; an unsafe one refuses). */
    int unsafe;
    dbt_err unsafe_err;
    uid_t euid; /* geteuid() at open: the rule's "the user", asked once, not once per file read */
};

char *dbt_cat_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int dbt_cat_snapshot_ready(dbt_catalog *cat, dbt_err *err);
/* Whether the snapshot's generation has a trust view (trust/): written by a dbtrust with scopes,
 * whose .meta files then all hold a scope line. */
int dbt_cat_has_view(dbt_catalog *cat);
/* For a generation without a trust view: 0 when no bundle is scoped (certs/ is then the same
 * trust), else -1 saying the view was lost. */
int dbt_cat_legacy_view_ok(dbt_catalog *cat, dbt_err *err);
/* The snapshot's bundle names, sorted; free with dbt_cat_free_names. */
int dbt_cat_list_names(dbt_catalog *cat, char ***names, size_t *n, dbt_err *err);
void dbt_cat_free_names(char **names, size_t n);
/* dbt_fs_read_at of a catalog file (rel in dirfd, never through a symlink), refused unless the
 * file read obeys the safety rule (lib/catsafe.h: owner root or the user, writable by nobody
 * else): a writer's walk at open leaves the files of the generation to this check when they
 * are read (DBT_SAFE_FILES_AT_USE). A refusal also sets cat->unsafe. */
int dbt_cat_read_file(dbt_catalog *cat, int dirfd, const char *rel, size_t max,
                      unsigned char **data, size_t *len, const char *display, dbt_err *err);
struct stat;
/* The identity of a trust.pem a commit wrote, as its record gives it (lib/catalog_txn.c). */
#define DBT_CAT_PEM_ID_MAX 128
void dbt_cat_pem_identity(const struct stat *st, char out[DBT_CAT_PEM_ID_MAX]);
/* The same file mapped read-only instead of read (for munmap; its fstat in *st), without a
 * message: -1 also for an empty file. For a file of the generation a writer holds, which
 * nothing rewrites in place: only its owner truncating it under the writer would fault the
 * mapping (SIGBUS, and the commit then never happened). */
int dbt_cat_map_file(dbt_catalog *cat, int dirfd, const char *rel, size_t max, void **map,
                     size_t *len, struct stat *st);
int dbt_cat_read_meta(dbt_catalog *cat, const char *name, dbt_catalog_meta *meta, dbt_err *err);
int dbt_cat_no_such_bundle(dbt_catalog *cat, const char *name, dbt_err *err);
/* One distinct certificate of a generation being written, for its trust view. */
struct dbt_cat_view_cert {
    const char *sha;  /* 64 lowercase hex digits */
    unsigned long sh; /* subject hash */
    const unsigned char *der;
    size_t len;
    X509 *x;           /* parsed, when the writer has it (else der is parsed if scoped) */
    const char *scope; /* canonical scope, NULL when any bundle holding it is unscoped */
    /* Instead of der (NULL then), for an unscoped certificate: its block of the current
     * trust.pem, copied as it is (a lazy transaction, lib/catalog_txn.c). */
    const char *pem;
    size_t pemlen;
};
/* Appends der as one PEM CERTIFICATE block to mem: the bytes PEM_write_bio(mem,
 * PEM_STRING_X509, "", der, len) writes, at a fraction of its cost (it wipes every buffer it
 * used, which was a tenth of a large commit). 1 on success, 0 on failure. */
int dbt_cat_pem_cert(BIO *mem, const unsigned char *der, size_t len);
/* 1 when text (n bytes) is nothing but blocks in dbt_cat_pem_cert's exact form (then
 * dbt_cat_pem_next decodes them cheaply; any other text is for PEM_read_bio). */
int dbt_cat_pem_canonical(const unsigned char *text, size_t n);
/* The DER of the block at *pos of a text dbt_cat_pem_canonical accepted (OPENSSL_malloc'ed,
 * *len bytes), *pos moved past it; NULL when out of memory. */
unsigned char *dbt_cat_pem_next(const unsigned char *text, size_t *pos, long *len);
/*
 * Where a commit writes a generation's files. NULL: into new, empty directories (a generation
 * written from scratch). Else over a recycled generation, a complete one that no reader holds:
 * an entry whose bytes (or link target) are already what the new generation holds is kept, any
 * other is replaced, and what the new generation does not name is removed afterwards, so that
 * the result is, entry for entry and byte for byte, what a write from scratch makes.
 * by_content: the name is the SHA-256 of the content (certs/<sha256>.pem, a scoped form), so an
 * existing regular file of the same size and mode is kept without reading it.
 */
struct dbt_cat_out;
/* Whether commits recycle the generation before the current one (default off; see
 * lib/catalog_txn.c). */
void dbt_cat_set_recycle(int on);
/* A file being built in memory: a growing buffer (realloc, so a large one moves without a copy,
 * and nothing to wipe: the catalog's files are public), its new pages faulted in at once
 * (dbt_fs_prefault). oom is set, and later calls do nothing, when memory runs out. */
struct dbt_sbuf {
    char *p;
    size_t len, cap;
    int oom;
};
void dbt_sb_reserve(struct dbt_sbuf *b, size_t n);
/* dir-relative names a commit builds tens of thousands of times at 1,000 bundles (snprintf was
 * a sixth of a commit): pre, base and ext joined ("%s%s%s"), and a hash link "%08lx.%zu". Both
 * cut at size - 1 bytes, as snprintf. */
void dbt_cat_name3(char *out, size_t size, const char *pre, const char *base, const char *ext);
/* The first 16 digits of a SHA-256 in lowercase hex as a number: ordered as the strings are,
 * so that a sort compares two numbers and only compares the strings when those are equal. */
static inline uint64_t dbt_cat_sha_key(const char *sha)
{
    uint64_t k = 0;

    for (int i = 0; i < 16; i++) {
        unsigned char c = (unsigned char)sha[i];
        k = (k << 4) | ((uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10) & 15);
    }
    return k;
}
void dbt_cat_link_name(char *out, size_t size, unsigned long hash, size_t seq);
/* Whether transactions read bundles only when they need them (default on; lib/catalog_txn.c,
 * "lazy transactions"), and how many bundles the last commit of this process never read. */
void dbt_cat_set_lazy(int on);
size_t dbt_cat_lazy_unread(void);
/* Test hooks: whether t has bundles not read yet, and how many trust.pem blocks the last commit
 * of this process copied from the current trust.pem. */
int dbt_cat_txn_lazy(const dbt_catalog_txn *t);
size_t dbt_cat_pem_copied(void);
/* Test hook: whether the last commit that recycled a generation listed its directories (0: it
 * knew them from the record and its index). */
int dbt_cat_out_listed(void);
/* Test hook: how many commits of this process failed while patching a recycled generation and
 * wrote the generation from scratch instead. */
size_t dbt_cat_commit_retries(void);
/* How many entries of the recycled generation the last commit of this process kept without
 * reading them, on the word of the last commit's record (0: it compared every entry). */
size_t dbt_cat_known_kept(void);
int dbt_cat_out_file(struct dbt_cat_out *o, int dirfd, const char *name, const void *data,
                     size_t len, int by_content, const char *display, dbt_err *err);
/* dbt_cat_out_file of the concatenation of iov[0..n) (total bytes). */
struct iovec;
int dbt_cat_out_file_iov(struct dbt_cat_out *o, int dirfd, const char *name,
                         const struct iovec *iov, size_t n, size_t total, int by_content,
                         const char *display, dbt_err *err);
int dbt_cat_out_link(struct dbt_cat_out *o, int dirfd, const char *target, const char *link,
                     const char *dirdisp, dbt_err *err);
/* Whether every <hash>.<n> link of subject hash sh in dirfd (certs/ or trust/) of the recycled
 * generation is known to be as the new state wants it (a described generation, the hash not
 * among those that changed): the caller then skips them without building their names. */
int dbt_cat_out_hash_kept(struct dbt_cat_out *o, int dirfd, unsigned long sh);
/* Writes the trust view into the open directory tfd (tdisp names it in messages): a link to
 * ../certs/<sha>.pem for each unscoped certificate, and for the scoped ones their cross-
 * certificates and one fresh anchor as files, each with its <hash>.<n> link (lib/scope.h).
 * Then the same certificates, in link order, as trust.pem in the generation directory gfd
 * (gdisp): the file holds what the view holds and nothing more, so it is as large as the
 * view's files together. */
int dbt_cat_write_trust(struct dbt_cat_out *o, int gfd, const char *gdisp, int tfd,
                        const char *tdisp, const struct dbt_cat_view_cert *in, size_t n, BIO *mem,
                        dbt_err *err);
/* Writes the first, empty generation of a catalog being created (lock held). */
int dbt_cat_commit_empty(dbt_catalog *cat, dbt_err *err);

#endif
