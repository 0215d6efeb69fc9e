/* dbtrust.so's reader of the catalog layout described in lib/catalog.h: one generation per
 * session, every file checked for ownership and mode, every read bounded. */
#ifndef DBT_READER_H
#define DBT_READER_H

#include <stddef.h>
#include <sys/types.h>

#include "catlayout.h"
#include "error.h"

/* Bounds that keep a damaged or hostile catalog from exhausting memory. */
#define DBT_MAX_CERT_FILE (1024 * 1024)
#define DBT_MAX_INDEX_FILE (64 * 1024 * 1024)
#define DBT_MAX_BUNDLE_FILE (64 * 1024 * 1024)
#define DBT_MAX_HASH_CHAIN 4096 /* <hash>.0 ... <hash>.4095 */
/* Directories a remembered verdict may key on (a catalog dbtrust wrote has 3 per generation
 * plus itself); past that, no verdict is remembered and every open walks. */
#define DBT_MAX_VERDICT_DIRS 1024

/* The layout's own constants (lib/catlayout.h), under the names the store code uses. */
#define DBT_SHA256_HEX DBT_LAYOUT_SHA256_HEX
#define DBT_NAME_MAX DBT_LAYOUT_NAME_MAX

/* One line of certs/index, pointing into the reader's copy of the file (lib/catlayout.h). */
typedef dbt_layout_index_line dbt_index_entry;

/*
 * What the last safety walk (lib/catsafe.h) found safe: every directory it depended on (the
 * catalog, the generation and its directories, the other generations' own entries, and any
 * directory at the top that is not dbtrust's, with all below it), by path, identity and change
 * times. A generation is immutable once written; adding, removing or renaming an entry or
 * changing a directory's own mode or owner changes these times, so while they stay the same a
 * later open checks only these directories and, as always, each file it reads. One per provider
 * context, shared by its threads behind a mutex that is only ever tried
 * (pthread_mutex_trylock): a busy or inherited-locked mutex costs a walk, never a wait.
 */
typedef struct dbt_reader_checked dbt_reader_checked;
dbt_reader_checked *dbt_reader_checked_new(void);
void dbt_reader_checked_free(dbt_reader_checked *c);

typedef struct dbt_reader {
    const char *catalog; /* borrowed from the provider context */
    char gen[32];        /* ".gen-N" that "current" named when the session opened */
    int gen_fd, certs_fd, bundles_fd;
    char *index_buf;
    dbt_index_entry *index;
    size_t index_n;
    int index_loaded;
    dbt_reader_checked *checked; /* the verdict cache this open used, and which verdict */
    unsigned long epoch;
    int links_checked; /* dbt_reader_check_links passed */
    uid_t me;          /* the effective uid when the session opened */
} dbt_reader;

/* Every function returns 0 on success or a DBT_R_* reason with a message in err. */

/*
 * Resolves "current" once, opens that generation and holds it (dbt_safe_hold_gen: no writer
 * removes it until dbt_reader_close, and nobody ever waits), then checks the catalog with the
 * rule of lib/catsafe.h (the whole walk, or only its directories when checked remembers the
 * same state safe; checked may be NULL). Later commits do not change what this reader sees.
 */
int dbt_reader_open(dbt_reader *rd, const char *catalog, dbt_reader_checked *checked, dbt_err *err);
void dbt_reader_close(dbt_reader *rd);

/* The hash links of the generation, all checked (dbt_safe_check_links), once per reader and
 * once per remembered verdict: what a search that follows no link calls before it serves
 * anything, so that it refuses a catalog with a bad link as the commands do. A subject search
 * instead checks each link it follows (dbt_reader_hash_link) and need not call this. */
int dbt_reader_check_links(dbt_reader *rd, dbt_err *err);

/* 1 when name has the bundle-name syntax (dbt_layout_name_ok). */
static inline int dbt_reader_name_ok(const char *name, size_t len)
{
    return dbt_layout_name_ok(name, len);
}

/* Whether bundles/<name>.pem exists in this generation: 0 and *found set. */
int dbt_reader_has_bundle(dbt_reader *rd, const char *name, int *found, dbt_err *err);

/* certs/<hash>.<n>: the target's sha256 into sha (65 bytes), or "" when there is no such link.
 * The link is checked here, where it is followed (the walk at open leaves it to its use): a
 * symlink, owned by root or the effective user, naming a <sha256>.pem beside it and nothing else;
 * dbt_reader_cert then opens that name with O_NOFOLLOW and checks the file it got. */
int dbt_reader_hash_link(dbt_reader *rd, unsigned long hash, int n, char *sha, dbt_err *err);

/* Reads certs/<sha>.pem and returns its DER after checking that its SHA-256 is the file name.
 * *der is OPENSSL_malloc'd (the caller frees it); *missing is set when the file does not exist. */
int dbt_reader_cert(dbt_reader *rd, const char *sha, unsigned char **der, long *derlen,
                    int *missing, dbt_err *err);

/* Loads certs/index once per session. */
int dbt_reader_index(dbt_reader *rd, dbt_err *err);
/* The index line for sha, or NULL (binary search; the index is sorted by sha256). */
const dbt_index_entry *dbt_reader_find(const dbt_reader *rd, const char *sha);
/* 1 when the entry lists bundle among its bundles. */
static inline int dbt_index_in_bundle(const dbt_index_entry *e, const char *bundle)
{
    return dbt_layout_index_has_bundle(e, bundle);
}

/* Reads bundles/<name>.pem (NUL-terminated, OPENSSL_malloc'd); *missing when it does not exist. */
int dbt_reader_bundle(dbt_reader *rd, const char *name, char **buf, size_t *len, int *missing,
                      dbt_err *err);

#endif
