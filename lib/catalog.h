/* The catalog: named bundles on disk plus generated views, changed only atomically. */
#ifndef DBT_CATALOG_H
#define DBT_CATALOG_H

/*
 * On-disk layout (format version 1; doc/dbtrust-catalog.5 is the user-facing description).
 *
 *   <catalog>/
 *     .lock                     writers hold an exclusive flock(2) on it
 *     current -> .gen-<N>       relative symlink, replaced atomically with rename(2)
 *     bundles -> current/bundles   fixed symlinks, never rewritten, so paths stay stable
 *     certs   -> current/certs     (SSL_CERT_DIR=<catalog>/certs reads the hashed view)
 *     trust   -> current/trust     (the trust view: SSL_CERT_DIR of `dbtrust env`)
 *     trust.pem -> current/trust.pem  (the view as one file: NODE_EXTRA_CA_CERTS of env)
 *     empty.pem                 optional empty, read-only (0444) file: the SSL_CERT_FILE of
 *                               `dbtrust env --lazy`, which creates it atomically on first use;
 *                               outside the generations so its path never changes
 *     .dead-gen-<N>/            a generation a writer is removing; never read
 *     .gen-<N>/                 one complete, immutable generation (N decimal, no leading 0)
 *       bundles/<name>.pem      source of truth: canonical PEM, one block per certificate
 *       bundles/<name>.meta     "key=value" lines: origin, sha256 (of the imported input),
 *                               format, imported (UTC, 2026-11-22T18:19:20Z), count, scope,
 *                               then source and refreshed when set;
 *                               unknown keys are ignored by readers
 *       certs/<sha256>.pem      one file per distinct certificate (lowercase hex)
 *       certs/<hash>.<n>        relative symlink -> <sha256>.pem, openssl rehash layout;
 *                               <hash> = X509_NAME_hash_ex(subject) as 8 lowercase hex digits;
 *                               certificates sharing a <hash> get n = 0, 1, ... in sha256 order
 *       certs/index             text index, see below
 *       trust/<hash>.<n>        the trust view (lib/catlayout.h): links to ../certs/<sha256>.pem,
 *       trust/<sha256>.pem      or to the scoped forms of scoped bundles' CAs and their anchor
 *       trust.pem               the view's certificates as one PEM file, in link order; empty
 *                               for an empty view; never larger than the view's files together
 *
 *   index: first line "dbtrust-index 1", then one line per distinct certificate:
 *     <sha256> <sha1> <subject-hash> <issuer-hash> <serial-hex> <bundle>[,<bundle>...]
 *   sorted by sha256, each once; fields separated by one space; sha1 and the hashes lowercase
 *   as in the link names; bundles sorted by name; serial-hex is uppercase, as OpenSSL's
 *   BN_bn2hex prints it ("0" for 0, "-1A" for a negative serial; readers take either case).
 *   lib/catlayout.h holds the names, the constants and the one parser of this file.
 *   An empty catalog is a generation with empty bundles/, certs/ and trust/, an empty
 *   trust.pem and a header-only index.
 *
 * Bundle names: 1-64 characters of ASCII [A-Za-z0-9._-], not starting with '.' or '-'.
 * A bundle holds each certificate once (a duplicate in the input is stored once and reported).
 *
 * A commit builds .gen-<N+1> beside the current one (N+1 above every existing .gen-* name),
 * either in full or by patching the generation the last commit replaced when no reader holds
 * it (renamed to .gen-<N+1> first, so that it is a leftover while patched; only the entries
 * that differ are written, and the record .changes of the last commit says which bundles may
 * differ: lib/catalog_txn.c, "what each commit changed"; with a usable record a transaction
 * reads only the bundles it needs: "lazy transactions"), flushes it (syncfs, then fsync of its
 * directories), renames
 * a fresh ".current.tmp" symlink over "current" and fsyncs the catalog directory (if that fails,
 * "current" is put back). It then deletes every generation except the new one, the one it
 * replaced, and those a reader holds.
 * Readers (dbt_catalog, the provider) hold the generation they read with a shared flock(2) on
 * its directory, taken without waiting (lib/catsafe.h, dbt_safe_hold_gen); a writer deletes a
 * generation only after an exclusive flock on it succeeds without waiting, renaming it to
 * .dead-gen-<N> first, and otherwise leaves it to a later commit. Neither side ever blocks,
 * and a reader holds its generation exactly as long as it keeps the directory open.
 * A failed commit removes its partial generation. Leftovers of a killed writer (a .gen-* above
 * "current", ".current.tmp", a .dead-gen-*) are never read and are removed by the next
 * dbt_catalog_begin(). A catalog is only created in a new or empty directory.
 * Readers resolve "current" once, at open, and read that generation only: a dbt_catalog is a
 * consistent snapshot that stays whole however many commits follow (reopen to see them).
 *
 * The writers' .lock is opened without following a symlink and without blocking, and must be
 * a regular file that passes the rule below (dbt_safe_open_lock); writers wait for each other
 * on its flock, nothing else waits.
 *
 * Safety, checked at every open by the one rule of lib/catsafe.h (the provider runs the same
 * code): the catalog directory, every entry at its top, and everything in the generation read
 * must be owned by root or the effective user, directories and files must not be writable by
 * group or others, only files, directories and symlinks may exist, current, bundles, certs,
 * trust and trust.pem must be the symlinks above, a generation's trust.pem a regular file, and
 * symlinks must be the catalog's own (current/.current.tmp -> .gen-<N>, bundles/certs/trust/
 * trust.pem -> current/..., <hash>.<n> -> <sha256>.pem in a generation's certs/ and trust/,
 * or ../certs/<sha256>.pem in trust/) or resolve inside the catalog. Other generations are
 * checked as entries only (never read).
 * Files are created 0644 and directories 0755 whatever the umask. The parents of the catalog
 * are not checked. dbt_catalog_verify checks all of it and the consistency of the rest.
 */

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "bundle.h"
#include "catlayout.h"
#include "error.h"

#define DBT_CATALOG_FORMAT DBT_LAYOUT_FORMAT
#define DBT_CATALOG_NAME_MAX DBT_LAYOUT_NAME_MAX

typedef struct dbt_catalog dbt_catalog;
typedef struct dbt_catalog_txn dbt_catalog_txn;

/* Flags of dbt_catalog_open. */
enum {
    DBT_CAT_READ = 0,
    DBT_CAT_WRITE = 1,  /* take the writer lock (waits for another writer, never for a reader) */
    DBT_CAT_CREATE = 2, /* create an empty catalog when missing (implies DBT_CAT_WRITE) */
};

/* What a bundle's .meta file records. */
typedef struct dbt_catalog_meta {
    char origin[1024]; /* path or URL of the input, escaped (dbt_catalog_meta_add_origin) */
    char sha256[65];   /* of the imported input bytes, lowercase hex; "" when unknown */
    char format[32];   /* input format name ("pem", "p7b", ...); [a-z0-9-] */
    char imported[32]; /* UTC "YYYY-MM-DDTHH:MM:SSZ"; dbt_catalog_put fills it when empty */
    size_t count;      /* certificates in the bundle; set by dbt_catalog_put */
    char scope[4096];  /* canonical scope (lib/scope.h), "" when unscoped */
    /* Optional (written only when not empty): the known source a fetch came from (its name in
     * `dbtrust sources`, [a-z0-9-]), and when the bundle was last refreshed successfully from
     * its origin (UTC, as imported), whether or not its certificates changed. */
    char source[64];
    char refreshed[32];
} dbt_catalog_meta;

/*
 * Appends text (a file name, URL or a user's description of the input) to m->origin, after a
 * space when origin already holds something. The origin is one line of the .meta file and is
 * shown by whoever reads the catalog, while text may hold anything (a newline would start
 * another line; an ESC drives a terminal): it is recorded escaped by lib/escape.h's rule, the
 * one rule every writer of the catalog uses and dbt_catalog_put checks. What does not fit is cut
 * before a whole character or escape. Returns 0, or -1 when text was cut or left out.
 */
int dbt_catalog_meta_add_origin(dbt_catalog_meta *m, const char *text);

/* One bundle of a listing. */
typedef struct dbt_catalog_entry {
    char name[DBT_CATALOG_NAME_MAX + 1];
    dbt_catalog_meta meta;
} dbt_catalog_entry;

/* One distinct certificate, as the index describes it. */
typedef struct dbt_catalog_cert {
    char sha256[65];
    char sha1[41];
    unsigned long subject_hash;
    unsigned long issuer_hash;
    char serial[132]; /* BN_bn2hex form; serials up to 64 octets (RFC 5280 allows 20) */
    char (*bundles)[DBT_CATALOG_NAME_MAX + 1]; /* the bundles holding it, sorted */
    size_t nbundles;
} dbt_catalog_cert;

/*
 * What a change did. Arrays are malloc'ed; release with dbt_catalog_change_clear.
 * put:            existed, added/removed (the bundle's gain and loss: a CA rotation made
 *                 visible), duplicates (input certificates already given earlier in it)
 * remove:         existed = 1, removed = every certificate of the bundle
 * remove_cert:    bundles = the bundles that held it (each lost it)
 * A removed certificate may still be held by another bundle: see dbt_catalog_txn_holders.
 */
typedef struct dbt_catalog_change {
    int existed;
    char (*added)[65];
    size_t nadded;
    char (*removed)[65];
    size_t nremoved;
    size_t duplicates;
    char (*bundles)[DBT_CATALOG_NAME_MAX + 1];
    size_t nbundles;
} dbt_catalog_change;

void dbt_catalog_change_clear(dbt_catalog_change *c);

/* Default location: $DBTRUST_CATALOG (unless secure_getenv hides it), else /etc/dbtrust for
 * root, else ${XDG_DATA_HOME:-$HOME/.local/share}/dbtrust. Writes into buf; NULL on failure. */
const char *dbt_catalog_default_path(char *buf, size_t len);

/*
 * Opens the catalog at path (relative paths are made absolute) and checks its safety.
 * A missing catalog is an error unless DBT_CAT_CREATE; the message says how to create one.
 * With DBT_CAT_WRITE/CREATE the writer lock is held until dbt_catalog_close.
 */
int dbt_catalog_open(const char *path, int flags, dbt_catalog **out, dbt_err *err);
void dbt_catalog_close(dbt_catalog *cat);
/* Absolute, symlink-free path of the catalog directory. */
const char *dbt_catalog_path(const dbt_catalog *cat);
/* Generation number N of the snapshot (.gen-N). */
unsigned long long dbt_catalog_generation(const dbt_catalog *cat);
/* Absolute path of the snapshot's hashed directory (<catalog>/.gen-N/certs): stable for the
 * snapshot's life, unlike <catalog>/certs which follows later commits. */
const char *dbt_catalog_certs_dir(const dbt_catalog *cat);

/* Validates a bundle name; 0 if good, else -1 with a message saying what is allowed. */
int dbt_catalog_check_name(const char *name, dbt_err *err);

/* Normalizes a SHA-256 fingerprint given as 64 hex digits, with or without ':' separators,
 * any case, into 64 lowercase digits in out. 0 if good, else -1 with a message. */
int dbt_catalog_parse_sha256(const char *in, char out[65], dbt_err *err);

/* --- Read side: all functions read the snapshot taken at open (or the last commit). --- */

/* Bundles sorted by name; *out is malloc'ed (free()), NULL when *n == 0. */
int dbt_catalog_list(dbt_catalog *cat, dbt_catalog_entry **out, size_t *n, dbt_err *err);
/* 1 when the snapshot holds bundle name, else 0. */
int dbt_catalog_has_bundle(dbt_catalog *cat, const char *name);
/* Meta of one bundle; -1 with a message if there is no such bundle. */
int dbt_catalog_get_meta(dbt_catalog *cat, const char *name, dbt_catalog_meta *meta, dbt_err *err);
/* Loads a bundle's certificates in stored order (format DBT_FMT_PEM, blocks and lines of the
 * canonical file). Free with dbt_bundle_free. */
int dbt_catalog_load(dbt_catalog *cat, const char *name, dbt_bundle **out, dbt_err *err);
/* Distinct certificates sorted by sha256, each with the bundles holding it (from the index). */
int dbt_catalog_certs(dbt_catalog *cat, dbt_catalog_cert **out, size_t *n, dbt_err *err);
void dbt_catalog_certs_free(dbt_catalog_cert *certs, size_t n);
/* Checks that certs/<sha256>.pem of the snapshot exists and holds the certificate its name
 * says (its DER's SHA-256), without parsing it. */
int dbt_catalog_check_cert(dbt_catalog *cat, const char *sha256, dbt_err *err);
/* Loads certs/<sha256>.pem of the snapshot. */
int dbt_catalog_load_cert(dbt_catalog *cat, const char *sha256, X509 **out, dbt_err *err);

/* One certificate of the trust view (what OpenSSL's default trust gets: <catalog>/trust). */
typedef struct dbt_catalog_trust {
    char sha256[65];
    unsigned long hash; /* its subject hash (the <hash> of its link) */
    int scoped; /* 1: a scoped form or its anchor, trust/<sha256>.pem; 0: certs/<sha256>.pem */
} dbt_catalog_trust;
/* The snapshot's trust view, sorted by hash then sha256 (*out malloc'ed, free()). A generation
 * written before scopes existed has no trust/: its view is every certificate. */
int dbt_catalog_trust_view(dbt_catalog *cat, dbt_catalog_trust **out, size_t *n, dbt_err *err);
/* Loads one certificate of the trust view, checked against its name as dbt_catalog_load_cert. */
int dbt_catalog_load_trust_cert(dbt_catalog *cat, const dbt_catalog_trust *t, X509 **out,
                                dbt_err *err);
/* When the snapshot's generation was written, in seconds since the epoch: the modification
 * time of its directory (.gen-N), which the commit sets while it writes the generation's entries,
 * just before it flushes the generation and makes it current; a generation is never changed
 * after its commit. Copying a catalog without keeping times (cp without -p) resets it. -1 with
 * err when the catalog has no generation yet or fstat fails. */
int dbt_catalog_generation_time(const dbt_catalog *cat, int64_t *out, dbt_err *err);
/* A time of a .meta file (imported, refreshed: UTC "YYYY-MM-DDTHH:MM:SSZ") in seconds since the
 * epoch; 0, or -1 when s is not exactly that form of a real time. */
int dbt_catalog_meta_time(const char *s, int64_t *out);

/* --- Checking a whole catalog (dbtrust verify) --- */

typedef void dbt_catalog_problem_fn(void *arg, const char *problem);
/*
 * Checks the catalog at path in full, without refusing it at the first problem: the safety
 * rule (lib/catsafe.h) over every generation; "current"; the index (parses, sorted); every
 * indexed certificate file (exists, holds one certificate whose SHA-256 is its name, whose
 * SHA-1, subject and issuer hashes and serial are the index's); the hash links (each names an
 * indexed file and carries its subject hash, numbered 0, 1, ... without a gap, one per
 * certificate); nothing else in certs/ or bundles/; every bundle (.meta parses, the PEM parses,
 * its count is the .meta's, each certificate indexed under the bundle) and, the other way, each
 * bundle the index names holds the certificate. Each problem goes to fn (may be NULL) as one
 * line naming the path and what to do. Reads each file once, within the bounds of the readers
 * (DBT_MAX_INPUT a file, DBT_SAFE_MAX_ENTRIES a directory).
 * Returns the number of problems (0: the catalog is sound), or -1 when there is no catalog to
 * check (err says why).
 */
int dbt_catalog_verify(const char *path, dbt_catalog_problem_fn *fn, void *arg, dbt_err *err);

/* --- Write side: one transaction at a time, on a catalog opened with DBT_CAT_WRITE. --- */

/* Starts a transaction from the current generation and removes killed writers' leftovers. */
int dbt_catalog_begin(dbt_catalog *cat, dbt_catalog_txn **out, dbt_err *err);
/* Creates or replaces bundle name with the certificates of b (references are taken, b stays
 * the caller's). meta supplies origin, sha256 and format. change may be NULL. A certificate
 * whose trust settings restrict it (a TRUSTED CERTIFICATE rejected for or not trusted for some
 * purpose) is refused: the catalog serves plain certificates, trusted for every purpose. */
/* The check dbt_catalog_put makes on trust settings, for callers that want to report it per
 * input file before a transaction (the message names b's source and the block). 0 or -1. */
int dbt_catalog_check_trust(const dbt_bundle *b, dbt_err *err);
int dbt_catalog_put(dbt_catalog_txn *t, const char *name, const dbt_bundle *b,
                    const dbt_catalog_meta *meta, dbt_catalog_change *change, dbt_err *err);
/* Removes bundle name; -1 with a message when it does not exist. change may be NULL. */
int dbt_catalog_remove(dbt_catalog_txn *t, const char *name, dbt_catalog_change *change,
                       dbt_err *err);
/* Removes the certificate with this SHA-256 (any form dbt_catalog_parse_sha256 takes) from
 * every bundle (bundles may become empty and stay); -1 when no bundle holds it. */
int dbt_catalog_remove_cert(dbt_catalog_txn *t, const char *sha256, dbt_catalog_change *change,
                            dbt_err *err);
/* Number of bundles of the transaction's state holding the certificate (0 when none). */
size_t dbt_catalog_txn_holders(const dbt_catalog_txn *t, const char *sha256);
/* Writes the transaction's state as a new generation and makes it current, then has the system
 * wiring follow it when this catalog is the one wired (lib/syswire.h dbt_sys_follow: links and
 * the bundle file, so that a removed CA never leaves a link behind; an absent state file means
 * not wired and costs one failed stat). 0: committed and followed. -1: nothing changed (err says
 * why). DBT_CATALOG_COMMITTED_BEHIND: committed, but the wiring could not follow (err says so,
 * and the report function was told each step). Either way the transaction stays to be freed;
 * after a commit the catalog's snapshot is the new generation. */
#define DBT_CATALOG_COMMITTED_BEHIND 1
int dbt_catalog_commit(dbt_catalog_txn *t, dbt_err *err);
/* Receives the system wiring's messages of every later commit of this process (a
 * dbt_sys_msg_fn of lib/syswire.h; NULL: none, the default). Set once, before committing. */
struct dbt_sys_msg;
typedef void dbt_catalog_report_fn(void *arg, const struct dbt_sys_msg *m);
void dbt_catalog_set_report(dbt_catalog_report_fn *fn, void *arg);
/* Ends the transaction; without a commit nothing on disk changes. NULL is allowed. */
void dbt_catalog_txn_free(dbt_catalog_txn *t);

#endif
