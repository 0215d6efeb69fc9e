/* Hashed directories in openssl-rehash layout (<subject-hash>.<n>), as export/convert write them.
 */
#ifndef DBT_HASHDIR_H
#define DBT_HASHDIR_H

#include "bundle.h"
#include "error.h"

/*
 * Writes each distinct certificate of b as PEM file <hash>.<n> into a new directory dir
 * (which must not exist, or be empty). The directory is built beside dir under a temporary
 * name, fsynced and renamed into place, so dir is either complete or not there. A certificate
 * with trust or reject settings is written as a TRUSTED CERTIFICATE block, which OpenSSL's
 * hashed-directory lookup honours; two copies of one certificate with different settings are
 * an error naming both.
 */
int dbt_hashdir_write(const char *dir, const dbt_bundle *b, dbt_err *err);

#endif
