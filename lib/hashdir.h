/* Hashed directories in openssl-rehash layout (<subject-hash>.<n>), as export/convert write them.
 */
#ifndef DBT_HASHDIR_H
#define DBT_HASHDIR_H

#include "bundle.h"
#include "error.h"

/*
 * Writes each distinct certificate of b as PEM file <hash>.<n> into a new directory dir
 * (mode 0755, files 0644). dir must not exist, or be an empty directory, which is replaced (its
 * own mode and owner are not kept); a non-empty directory, a symbolic link (also spelled "dir/"),
 * a file, a FIFO, a socket or a device is refused and left as it is. The tree is built in a
 * fresh directory beside dir made by mkdtemp (".<name>.tmp-XXXXXX", 0700 until complete),
 * fsynced and renamed into place, so dir is either complete or not there; on failure only
 * what this call created is removed, and nothing that existed before (an earlier run's
 * leftovers, another user's directory) is ever reused or deleted. A certificate
 * with trust or reject settings is written as a TRUSTED CERTIFICATE block, which OpenSSL's
 * hashed-directory lookup honours; two copies of one certificate with different settings are
 * an error naming both.
 */
int dbt_hashdir_write(const char *dir, const dbt_bundle *b, dbt_err *err);

#endif
