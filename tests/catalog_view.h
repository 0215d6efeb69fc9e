/* Independent checks of a catalog's hashed view with OpenSSL alone (no lib/ code), shared by
 * tests/test_catalog.c and tests/catalog_kill.c. */
#ifndef DBT_CATALOG_VIEW_H
#define DBT_CATALOG_VIEW_H

#include <stddef.h>

/*
 * Checks <path>/certs as OpenSSL's hashed-directory lookup sees it: every index line describes
 * its certificate file (sha256, sha1, subject and issuer hash, serial), every <hash>.<n> link
 * resolves to a certificate whose X509_NAME_hash_ex is <hash>, numbers are dense from 0, and
 * files, links and index lines correspond one to one. Returns the number of certificates, or
 * -1 with the reason in why.
 */
long catview_check(const char *path, char *why, size_t len);

/* The index file's text (malloc'ed), or NULL. */
char *catview_read_text(const char *path);

#endif
