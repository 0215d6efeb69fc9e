/* Downloads over verified HTTPS (libcurl), shared by fetch and refresh: one URL into memory
 * within a size cap, and a list of URLs fed to an import, any failure changing nothing. */
#ifndef CLI_DOWNLOAD_H
#define CLI_DOWNLOAD_H

#include <stddef.h>

/* A real global bundle is 165 KB; anything near this cap is not a CA bundle. */
#define CLI_DL_MAX_BYTES (16u * 1024u * 1024u)
/* URLs one bundle is made of (aurora-dsql has 4); also what one .meta origin can carry. */
#define CLI_DL_MAX_URLS 8
#define CLI_DL_DEFAULT_TIMEOUT 60

/* Parses a --timeout value (whole seconds, 1 to 3600) into *out; prints the error and returns
 * -1 when it is not one. */
int cli_dl_timeout(const char *arg, long *out);

/*
 * Downloads each of the n URLs (https:// only, redirects too; the server verified with the
 * system trust store, or only the CA certificates of ca_file) and adds each body to imp as the
 * input named by its URL, so that the origin records the URLs. Says "downloading URL" on
 * standard error unless quiet. On the first failure (download, decoding, a refused
 * certificate) prints the reason followed by "; <outcome>" and returns -1; 0 when every body
 * was added. curl_global_init must have been called.
 */
struct dbt_import;
int cli_dl_import(struct dbt_import *imp, const char *const *urls, size_t n, const char *ca_file,
                  long timeout, int quiet, const char *outcome);

#endif
