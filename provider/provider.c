/* dbtrust-store.so entry point (the store code that dbtrust.so, provider/front.c, loads on the
 * first dbtrust:// open; it is also a complete provider by itself, as in the fuzz target):
 * OSSL_provider_init, the provider's dispatch table, its error reasons and its one
 * configuration key (catalog). Initialisation touches no file. */
#include "config.h"

#include <string.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "prov.h"
#include "reader.h"

static OSSL_FUNC_provider_teardown_fn dbt_prov_teardown;
static OSSL_FUNC_provider_gettable_params_fn dbt_prov_gettable_params;
static OSSL_FUNC_provider_get_params_fn dbt_prov_get_params;
static OSSL_FUNC_provider_query_operation_fn dbt_prov_query;

/* The algorithm name of a store loader is its URI scheme. */
static const OSSL_ALGORITHM dbt_prov_stores[] = {
    {"dbtrust", "provider=dbtrust", dbt_store_functions,
     "dbtrust catalog of database CA certificates"},
    {NULL, NULL, NULL, NULL},
};

/* The provider's error library and reason strings, registered with libcrypto by the store code
 * itself, once per process, instead of through get_reason_strings: a core that is handed reason
 * strings at provider init sets up its error string table in every process that loads the
 * provider, used or not. Errors are raised with ERR_PACK(dbt_err_lib, 0, reason), which the
 * core's vset_error upcall passes through as a library error. The array lives as long as the
 * process (dbtrust.so loads this module with RTLD_NODELETE). */
static ERR_STRING_DATA dbt_prov_reasons[] = {
    {0, "dbtrust"},
    {DBT_R_BAD_URI, "invalid dbtrust URI"},
    {DBT_R_BAD_CONFIG, "bad dbtrust provider configuration"},
    {DBT_R_CATALOG_MISSING, "dbtrust catalog not found"},
    {DBT_R_UNSAFE_CATALOG, "unsafe dbtrust catalog refused"},
    {DBT_R_CORRUPT_CATALOG, "damaged dbtrust catalog"},
    {DBT_R_NO_SUCH_BUNDLE, "no such bundle in the dbtrust catalog"},
    {DBT_R_BAD_SEARCH, "unsupported dbtrust search"},
    {DBT_R_IO_ERROR, "cannot read the dbtrust catalog"},
    {DBT_R_OUT_OF_MEMORY, "out of memory"},
    {0, NULL},
};
static CRYPTO_ONCE dbt_prov_err_once = CRYPTO_ONCE_STATIC_INIT;
static int dbt_err_lib; /* written once under dbt_prov_err_once */

static void dbt_prov_err_init(void)
{
    int lib = ERR_get_next_error_library();
    size_t i;

    for (i = 0; dbt_prov_reasons[i].string != NULL; i++)
        dbt_prov_reasons[i].error = ERR_PACK(lib, 0, dbt_prov_reasons[i].error);
    if (ERR_load_strings_const(dbt_prov_reasons))
        dbt_err_lib = lib;
}

void dbt_prov_raise(const dbt_provctx *pc, int reason, const char *file, int line, const char *func,
                    const char *fmt, ...)
{
    va_list ap;

    if (pc == NULL || pc->new_error == NULL || pc->vset_error == NULL)
        return;
    pc->new_error(pc->handle);
    if (pc->set_error_debug != NULL)
        pc->set_error_debug(pc->handle, file, line, func);
    va_start(ap, fmt);
    /* Without the library (strings not registered) the core files it under the provider's. */
    pc->vset_error(pc->handle, (uint32_t)ERR_PACK(pc->err_lib, 0, reason), fmt, ap);
    va_end(ap);
}

static void dbt_prov_teardown(void *provctx)
{
    dbt_provctx *pc = provctx;

    if (pc == NULL)
        return;
    OPENSSL_free(pc->catalog);
    dbt_reader_checked_free(pc->checked);
    OPENSSL_free(pc);
}

static const OSSL_PARAM *dbt_prov_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, NULL, 0),
        OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return gettable;
}

static int dbt_prov_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    (void)provctx;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "dbtrust catalog store"))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, PACKAGE_STRING))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

static const OSSL_ALGORITHM *dbt_prov_query(void *provctx, int operation_id, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    return operation_id == OSSL_OP_STORE ? dbt_prov_stores : NULL;
}

static const OSSL_DISPATCH dbt_prov_functions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))dbt_prov_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))dbt_prov_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))dbt_prov_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))dbt_prov_query},
    {0, NULL},
};

__attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE *handle,
                                                              const OSSL_DISPATCH *in,
                                                              const OSSL_DISPATCH **out,
                                                              void **provctx)
{
    OSSL_FUNC_core_get_params_fn *get_params = NULL;
    dbt_provctx *pc;
    const char *catalog = NULL;
    OSSL_PARAM params[2];

    if ((pc = OPENSSL_zalloc(sizeof(*pc))) == NULL)
        return 0;
    pc->handle = handle;
    if (CRYPTO_THREAD_run_once(&dbt_prov_err_once, dbt_prov_err_init))
        pc->err_lib = dbt_err_lib;
    for (; in != NULL && in->function_id != 0; in++) {
        switch (in->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            get_params = OSSL_FUNC_core_get_params(in);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            pc->new_error = OSSL_FUNC_core_new_error(in);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            pc->set_error_debug = OSSL_FUNC_core_set_error_debug(in);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            pc->vset_error = OSSL_FUNC_core_vset_error(in);
            break;
        default:
            break;
        }
    }

    /* Keys of the provider's openssl.cnf section come back as UTF-8 pointers. */
    params[0] = OSSL_PARAM_construct_utf8_ptr("catalog", (char **)&catalog, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (get_params == NULL || !get_params(handle, params) || catalog == NULL || *catalog == '\0')
        catalog = DBT_DEFAULT_CATALOG;
    if ((pc->catalog = OPENSSL_strdup(catalog)) == NULL) {
        OPENSSL_free(pc);
        return 0;
    }
    /* Memory only (no file is touched at init); without it every open walks the catalog. */
    pc->checked = dbt_reader_checked_new();
    *out = dbt_prov_functions;
    *provctx = pc;
    return 1;
}
