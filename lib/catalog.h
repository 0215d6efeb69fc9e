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
 *     certs   -> current/certs
 *     .gen-<N>/
 *       bundles/<name>.pem      source of truth: canonical PEM, one block per certificate
 *       bundles/<name>.meta     "key=value" lines: origin, sha256 (of the imported input),
 *                               imported (UTC ISO 8601), format, count
 *       certs/<sha256>.pem      one file per distinct certificate (lowercase hex)
 *       certs/<hash>.<n>        relative symlink -> <sha256>.pem, openssl rehash layout;
 *                               <hash> = X509_NAME_hash_ex(subject) as 8 lowercase hex digits
 *       certs/index             text index, see below
 *
 *   index: first line "dbtrust-index 1", then one line per distinct certificate:
 *     <sha256> <sha1> <subject-hash> <issuer-hash> <serial-hex> <bundle>[,<bundle>...]
 *   sorted by sha256; serial-hex is uppercase, as OpenSSL's BN_bn2hex prints it ("0" for 0).
 *
 * Bundle names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'.
 * A writer copies the current generation's unchanged files into .gen-<N+1> (hard links where
 * possible), writes the changes, fsyncs, renames a fresh "current" symlink over the old one,
 * fsyncs the catalog directory, then deletes generations older than N (one old generation is
 * kept so that a reader that resolved "current" just before the swap can finish).
 * Readers resolve "current" once (readlink) and read that generation only.
 *
 * Safety: the catalog directory and everything in it must be owned by root or the running
 * user and not writable by group or others; the provider and the CLI refuse it otherwise.
 */

#include <stddef.h>

#include "bundle.h"
#include "error.h"

#define DBT_CATALOG_FORMAT 1

typedef struct dbt_catalog dbt_catalog;

enum {
    DBT_CAT_READ = 0,
    DBT_CAT_WRITE = 1,  /* take the writer lock (blocks until free) */
    DBT_CAT_CREATE = 2, /* create an empty catalog when the directory does not exist */
};

/* Default location: $DBTRUST_CATALOG (unless secure_getenv hides it), else /etc/dbtrust for
 * root, else ${XDG_DATA_HOME:-$HOME/.local/share}/dbtrust. Writes into buf; NULL on failure. */
const char *dbt_catalog_default_path(char *buf, size_t len);

int dbt_catalog_open(const char *path, int flags, dbt_catalog **out, dbt_err *err);
void dbt_catalog_close(dbt_catalog *cat);
const char *dbt_catalog_path(const dbt_catalog *cat);

/* Validates a bundle name; 0 if good, else -1 with a message saying what is allowed. */
int dbt_catalog_check_name(const char *name, dbt_err *err);

#endif
