/* dbtrust-store.so internals shared by the entry point (provider.c), the loader (store.c) and the
 * catalog reader (reader.c), and the reason codes dbtrust.so's front (front.c) uses too. Nothing
 * here is exported from either module. */
#ifndef DBT_PROV_H
#define DBT_PROV_H

#include <stdarg.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

/* Reason codes for the provider's own errors; provider.c registers their strings with
 * libcrypto under an error library of its own. Zero means "no error". */
enum {
    DBT_R_BAD_URI = 1,
    DBT_R_BAD_CONFIG,
    DBT_R_CATALOG_MISSING,
    DBT_R_UNSAFE_CATALOG,
    DBT_R_CORRUPT_CATALOG,
    DBT_R_NO_SUCH_BUNDLE,
    DBT_R_BAD_SEARCH,
    DBT_R_IO_ERROR,
    DBT_R_OUT_OF_MEMORY,
};

struct dbt_reader_checked;

/* The provider context: written once in OSSL_provider_init, read-only afterwards, so every
 * thread may use it without a lock; only *checked changes, behind its own (only ever tried)
 * mutex (provider/reader.h). */
typedef struct dbt_provctx {
    const OSSL_CORE_HANDLE *handle;
    OSSL_FUNC_core_new_error_fn *new_error;
    OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
    OSSL_FUNC_core_vset_error_fn *vset_error;
    int err_lib;   /* the error library of dbtrust's reason strings; 0 when not registered */
    char *catalog; /* from the config section's "catalog" key, or DBT_DEFAULT_CATALOG */
    struct dbt_reader_checked *checked; /* the last safety walk found safe; NULL: walk always */
} dbt_provctx;

#define DBT_DEFAULT_CATALOG "/etc/dbtrust"

/* Puts one error on the calling thread's OpenSSL error queue through the core upcalls. */
void dbt_prov_raise(const dbt_provctx *pc, int reason, const char *file, int line, const char *func,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define DBT_RAISE(pc, reason, ...)                                                                 \
    dbt_prov_raise((pc), (reason), __FILE__, __LINE__, __func__, __VA_ARGS__)

extern const OSSL_DISPATCH dbt_store_functions[];

#endif
