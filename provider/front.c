/* dbtrust.so: the part of the provider that OpenSSL loads into every process whose openssl.cnf
 * names it. It only records what the core passes in and hands out a store dispatch table of
 * forwarders; the real provider (provider.c, store.c, reader.c, certparts.c) is the module
 * dbtrust-store.so next to it, loaded on the first dbtrust:// open.
 *
 * Why two files: OpenSSL dlopens provider modules with RTLD_NOW, so every symbol a module
 * imports is looked up when it is loaded, used or not. The store code imports about 60
 * libcrypto and libc functions (about 1,000 instructions each to bind), and reason strings
 * handed to the core at init make it set up its error string table: together about 1% of
 * `openssl version`. This file imports only the dynamic loader's dlopen/dlsym/dlerror and a
 * mutex, and gets memory from the core's own upcalls, so a process that never opens a
 * dbtrust:// URI pays for little more than the dlopen of a tiny file. */
#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h> /* OSSL_PARAM_UNMODIFIED only: no function of it is called */

#include "prov.h"

/* The store code's module, installed in the same directory as this one. */
#define DBT_STORE_MODULE "dbtrust-store.so"

#ifndef OSSL_FUNC_STORE_OPEN_EX
#define OSSL_FUNC_STORE_OPEN_EX 10
typedef void *(OSSL_FUNC_store_open_ex_fn)(void *provctx, const char *uri,
                                           const OSSL_PARAM params[],
                                           OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg);
#endif

/* The store code's functions. They are the same for every provider instance (one module), so
 * they live here once; written under dbt_front_lock by the first load, never changed after. A
 * loader context only exists after an open that went through the lock, so the functions that
 * take one read these without it. */
typedef struct dbt_store_fns {
    OSSL_provider_init_fn *init;
    OSSL_FUNC_store_open_fn *open;
    OSSL_FUNC_store_open_ex_fn *open_ex;
    OSSL_FUNC_store_settable_ctx_params_fn *settable_ctx_params;
    OSSL_FUNC_store_set_ctx_params_fn *set_ctx_params;
    OSSL_FUNC_store_load_fn *load;
    OSSL_FUNC_store_eof_fn *eof;
    OSSL_FUNC_store_close_fn *close;
} dbt_store_fns;

static pthread_mutex_t dbt_front_lock = PTHREAD_MUTEX_INITIALIZER;
static dbt_store_fns dbt_fns;
static int dbt_fns_loaded;

/* One provider instance. The store code's own provider context is made on first use, with the
 * same core handle and the core functions it uses, so it reads the same openssl.cnf section
 * (catalog) and reports errors through the same upcalls. */
typedef struct dbt_front {
    const OSSL_CORE_HANDLE *handle;
    /* The core functions the store code uses (the core does not promise that its dispatch
     * table outlives provider init, so the pointers are kept, not the table). */
    OSSL_FUNC_core_get_params_fn *get_params;
    OSSL_FUNC_core_new_error_fn *new_error;
    OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
    OSSL_FUNC_core_vset_error_fn *vset_error;
    OSSL_FUNC_CRYPTO_free_fn *c_free;

    /* Set once under dbt_front_lock. */
    int loaded;
    void *inner; /* the store code's provider context */
    OSSL_FUNC_provider_teardown_fn *inner_teardown;
    OSSL_FUNC_provider_gettable_params_fn *inner_gettable;
    OSSL_FUNC_provider_get_params_fn *inner_get_params;
} dbt_front;

static OSSL_FUNC_provider_teardown_fn dbt_front_teardown;
static OSSL_FUNC_provider_gettable_params_fn dbt_front_gettable_params;
static OSSL_FUNC_provider_get_params_fn dbt_front_get_params;
static OSSL_FUNC_provider_query_operation_fn dbt_front_query;
static OSSL_FUNC_store_open_fn dbt_front_open;
static OSSL_FUNC_store_open_ex_fn dbt_front_open_ex;
static OSSL_FUNC_store_settable_ctx_params_fn dbt_front_settable_ctx_params;
static OSSL_FUNC_store_set_ctx_params_fn dbt_front_set_ctx_params;
static OSSL_FUNC_store_load_fn dbt_front_load;
static OSSL_FUNC_store_eof_fn dbt_front_eof;
static OSSL_FUNC_store_close_fn dbt_front_close;

/* The core's error upcalls with printf arguments (a failure to load the store code). */
static void dbt_front_error(const dbt_front *f, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void dbt_front_error(const dbt_front *f, int line, const char *func, const char *fmt, ...)
{
    va_list ap;

    if (f->new_error == NULL || f->vset_error == NULL)
        return;
    f->new_error(f->handle);
    if (f->set_error_debug != NULL)
        f->set_error_debug(f->handle, __FILE__, line, func);
    va_start(ap, fmt);
    f->vset_error(f->handle, DBT_R_IO_ERROR, fmt, ap);
    va_end(ap);
}
#define DBT_FRONT_ERROR(f, ...) dbt_front_error((f), __LINE__, __func__, __VA_ARGS__)

static size_t dbt_front_strlen(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

/* Where the store module was loaded from (set by the first successful dbt_front_resolve). */
static char dbt_store_path[PATH_MAX];

/* Loads the store code's module and finds its entry point. Called under dbt_front_lock. The
 * module sits next to dbtrust.so: the core says where it loaded dbtrust.so from (a built-in
 * registration has no file: then the configured modules directory). */
static int dbt_front_resolve(const dbt_front *f)
{
    const char *module = NULL, *dir = DBT_MODULESDIR, *err;
    size_t i, dirlen = 0, slash = 0;
    OSSL_PARAM params[2];
    void *h;

    params[0] = (OSSL_PARAM){OSSL_PROV_PARAM_CORE_MODULE_FILENAME, OSSL_PARAM_UTF8_PTR,
                             (void *)&module, 0, OSSL_PARAM_UNMODIFIED};
    params[1] = (OSSL_PARAM){NULL, 0, NULL, 0, 0};
    if (f->get_params != NULL && f->get_params(f->handle, params) && module != NULL) {
        for (i = 0; module[i] != '\0'; i++)
            if (module[i] == '/')
                slash = i + 1;
        if (slash > 0) {
            dir = module;
            dirlen = slash - 1;
        }
    }
    if (dir != module)
        dirlen = dbt_front_strlen(dir);
    if (dirlen + 1 + sizeof(DBT_STORE_MODULE) > sizeof(dbt_store_path)) {
        DBT_FRONT_ERROR(f,
                        "dbtrust: the directory of dbtrust.so is too long a path to load %s from",
                        DBT_STORE_MODULE);
        return 0;
    }
    for (i = 0; i < dirlen; i++)
        dbt_store_path[i] = dir[i];
    dbt_store_path[dirlen] = '/';
    for (i = 0; i < sizeof(DBT_STORE_MODULE); i++)
        dbt_store_path[dirlen + 1 + i] = DBT_STORE_MODULE[i];

    /* RTLD_NODELETE: the store code registers its error strings with libcrypto for the life
     * of the process, and loader contexts may outlive a provider instance's teardown. */
    h = dlopen(dbt_store_path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (h == NULL) {
        err = dlerror();
        DBT_FRONT_ERROR(f,
                        "dbtrust: cannot load the provider's store code %s: %s; reinstall dbtrust",
                        dbt_store_path, err != NULL ? err : "unknown error");
        return 0;
    }
    /* The store module is a complete provider whose only export is its OSSL_provider_init. */
    if ((dbt_fns.init = (OSSL_provider_init_fn *)dlsym(h, "OSSL_provider_init")) == NULL) {
        DBT_FRONT_ERROR(f, "dbtrust: %s has no OSSL_provider_init; reinstall dbtrust",
                        dbt_store_path);
        return 0;
    }
    return 1;
}

/* Takes the store functions from the store code's store algorithm (same for every instance). */
static int dbt_front_store_fns(const dbt_front *f, OSSL_FUNC_provider_query_operation_fn *query,
                               void *inner)
{
    const OSSL_ALGORITHM *alg;
    const OSSL_DISPATCH *d;
    int no_cache = 0;

    alg = query != NULL ? query(inner, OSSL_OP_STORE, &no_cache) : NULL;
    for (d = alg != NULL ? alg->implementation : NULL; d != NULL && d->function_id != 0; d++) {
        switch (d->function_id) {
        case OSSL_FUNC_STORE_OPEN:
            dbt_fns.open = OSSL_FUNC_store_open(d);
            break;
        case OSSL_FUNC_STORE_OPEN_EX:
            dbt_fns.open_ex = (OSSL_FUNC_store_open_ex_fn *)d->function;
            break;
        case OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS:
            dbt_fns.settable_ctx_params = OSSL_FUNC_store_settable_ctx_params(d);
            break;
        case OSSL_FUNC_STORE_SET_CTX_PARAMS:
            dbt_fns.set_ctx_params = OSSL_FUNC_store_set_ctx_params(d);
            break;
        case OSSL_FUNC_STORE_LOAD:
            dbt_fns.load = OSSL_FUNC_store_load(d);
            break;
        case OSSL_FUNC_STORE_EOF:
            dbt_fns.eof = OSSL_FUNC_store_eof(d);
            break;
        case OSSL_FUNC_STORE_CLOSE:
            dbt_fns.close = OSSL_FUNC_store_close(d);
            break;
        default:
            break;
        }
    }
    if (dbt_fns.open == NULL || dbt_fns.open_ex == NULL || dbt_fns.settable_ctx_params == NULL ||
        dbt_fns.set_ctx_params == NULL || dbt_fns.load == NULL || dbt_fns.eof == NULL ||
        dbt_fns.close == NULL) {
        DBT_FRONT_ERROR(f, "dbtrust: %s lacks store functions; reinstall dbtrust", dbt_store_path);
        return 0;
    }
    return 1;
}

/* Makes the store code's provider context for F on first use. Returns it, or NULL with an error
 * on the queue (and tries again on the next call). Later calls only take the lock and read. */
static void *dbt_front_inner(dbt_front *f)
{
    OSSL_FUNC_provider_query_operation_fn *query = NULL;
    OSSL_FUNC_provider_teardown_fn *teardown = NULL;
    const OSSL_DISPATCH *out = NULL;
    OSSL_DISPATCH in[5];
    void *inner = NULL;

    pthread_mutex_lock(&dbt_front_lock);
    if (f->loaded)
        goto end;
    if (dbt_fns.init == NULL && !dbt_front_resolve(f))
        goto end;
    /* The core functions the store code's OSSL_provider_init looks for. */
    in[0] = (OSSL_DISPATCH){OSSL_FUNC_CORE_GET_PARAMS, (void (*)(void))f->get_params};
    in[1] = (OSSL_DISPATCH){OSSL_FUNC_CORE_NEW_ERROR, (void (*)(void))f->new_error};
    in[2] = (OSSL_DISPATCH){OSSL_FUNC_CORE_SET_ERROR_DEBUG, (void (*)(void))f->set_error_debug};
    in[3] = (OSSL_DISPATCH){OSSL_FUNC_CORE_VSET_ERROR, (void (*)(void))f->vset_error};
    in[4] = (OSSL_DISPATCH){0, NULL};
    if (!dbt_fns.init(f->handle, in, &out, &inner) || inner == NULL) {
        DBT_FRONT_ERROR(f, "dbtrust: the provider's store code %s did not start", dbt_store_path);
        goto end;
    }
    for (; out != NULL && out->function_id != 0; out++) {
        switch (out->function_id) {
        case OSSL_FUNC_PROVIDER_TEARDOWN:
            teardown = OSSL_FUNC_provider_teardown(out);
            break;
        case OSSL_FUNC_PROVIDER_GETTABLE_PARAMS:
            f->inner_gettable = OSSL_FUNC_provider_gettable_params(out);
            break;
        case OSSL_FUNC_PROVIDER_GET_PARAMS:
            f->inner_get_params = OSSL_FUNC_provider_get_params(out);
            break;
        case OSSL_FUNC_PROVIDER_QUERY_OPERATION:
            query = OSSL_FUNC_provider_query_operation(out);
            break;
        default:
            break;
        }
    }
    if (!dbt_fns_loaded && !dbt_front_store_fns(f, query, inner)) {
        if (teardown != NULL)
            teardown(inner);
        goto end;
    }
    dbt_fns_loaded = 1;
    f->inner_teardown = teardown;
    f->inner = inner;
    f->loaded = 1;
end:
    inner = f->inner;
    pthread_mutex_unlock(&dbt_front_lock);
    return inner;
}

static void dbt_front_teardown(void *provctx)
{
    dbt_front *f = provctx;

    if (f == NULL)
        return;
    if (f->loaded && f->inner_teardown != NULL)
        f->inner_teardown(f->inner);
    f->c_free(f, __FILE__, __LINE__);
}

/* Provider parameters (name, version, status) come from the store code: asking for them is
 * using the provider (openssl list -providers), and a store module that cannot load shows up
 * there as an error instead of a provider that looks fine. */
static const OSSL_PARAM *dbt_front_gettable_params(void *provctx)
{
    dbt_front *f = provctx;

    if (dbt_front_inner(f) == NULL || f->inner_gettable == NULL)
        return NULL;
    return f->inner_gettable(f->inner);
}

static int dbt_front_get_params(void *provctx, OSSL_PARAM params[])
{
    dbt_front *f = provctx;

    if (dbt_front_inner(f) == NULL || f->inner_get_params == NULL)
        return 0;
    return f->inner_get_params(f->inner, params);
}

static void *dbt_front_open(void *provctx, const char *uri)
{
    void *inner = dbt_front_inner(provctx);

    return inner != NULL ? dbt_fns.open(inner, uri) : NULL;
}

static void *dbt_front_open_ex(void *provctx, const char *uri, const OSSL_PARAM params[],
                               OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    void *inner = dbt_front_inner(provctx);

    return inner != NULL ? dbt_fns.open_ex(inner, uri, params, pw_cb, pw_cbarg) : NULL;
}

static const OSSL_PARAM *dbt_front_settable_ctx_params(void *provctx)
{
    void *inner = dbt_front_inner(provctx);

    return inner != NULL ? dbt_fns.settable_ctx_params(inner) : NULL;
}

/* The functions below take a loader context, which only the store code's open makes. */
static int dbt_front_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    return dbt_fns.set_ctx_params(loaderctx, params);
}

static int dbt_front_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                          OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    return dbt_fns.load(loaderctx, object_cb, object_cbarg, pw_cb, pw_cbarg);
}

static int dbt_front_eof(void *loaderctx)
{
    return dbt_fns.eof(loaderctx);
}

static int dbt_front_close(void *loaderctx)
{
    return dbt_fns.close(loaderctx);
}

static const OSSL_DISPATCH dbt_front_store_functions[] = {
    {OSSL_FUNC_STORE_OPEN, (void (*)(void))dbt_front_open},
    {OSSL_FUNC_STORE_OPEN_EX, (void (*)(void))dbt_front_open_ex},
    {OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))dbt_front_settable_ctx_params},
    {OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))dbt_front_set_ctx_params},
    {OSSL_FUNC_STORE_LOAD, (void (*)(void))dbt_front_load},
    {OSSL_FUNC_STORE_EOF, (void (*)(void))dbt_front_eof},
    {OSSL_FUNC_STORE_CLOSE, (void (*)(void))dbt_front_close},
    {0, NULL},
};

/* The algorithm name of a store loader is its URI scheme. */
static const OSSL_ALGORITHM dbt_front_stores[] = {
    {"dbtrust", "provider=dbtrust", dbt_front_store_functions,
     "dbtrust catalog of database CA certificates"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *dbt_front_query(void *provctx, int operation_id, int *no_cache)
{
    (void)provctx;
    *no_cache = 0;
    return operation_id == OSSL_OP_STORE ? dbt_front_stores : NULL;
}

static const OSSL_DISPATCH dbt_front_functions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))dbt_front_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))dbt_front_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))dbt_front_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))dbt_front_query},
    {0, NULL},
};

__attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE *handle,
                                                              const OSSL_DISPATCH *in,
                                                              const OSSL_DISPATCH **out,
                                                              void **provctx)
{
    OSSL_FUNC_CRYPTO_zalloc_fn *c_zalloc = NULL;
    dbt_front f = {.handle = handle};
    dbt_front *pf;

    for (; in != NULL && in->function_id != 0; in++) {
        switch (in->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            f.get_params = OSSL_FUNC_core_get_params(in);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            f.new_error = OSSL_FUNC_core_new_error(in);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            f.set_error_debug = OSSL_FUNC_core_set_error_debug(in);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            f.vset_error = OSSL_FUNC_core_vset_error(in);
            break;
        case OSSL_FUNC_CRYPTO_ZALLOC:
            c_zalloc = OSSL_FUNC_CRYPTO_zalloc(in);
            break;
        case OSSL_FUNC_CRYPTO_FREE:
            f.c_free = OSSL_FUNC_CRYPTO_free(in);
            break;
        default:
            break;
        }
    }
    /* Nothing else happens here: no file, no library call, one allocation. */
    if (c_zalloc == NULL || f.c_free == NULL ||
        (pf = c_zalloc(sizeof(*pf), __FILE__, __LINE__)) == NULL)
        return 0;
    *pf = f;
    *out = dbt_front_functions;
    *provctx = pf;
    return 1;
}
