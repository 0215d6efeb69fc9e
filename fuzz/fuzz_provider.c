/* Fuzz target: dbtrust.so's code (provider/ sources linked in, registered as a built-in provider)
 * through its loader functions and the OSSL_STORE API: a fuzzed dbtrust URI, fuzzed search
 * parameters (subject, issuer+serial, fingerprint, alias, expect) and optionally a fuzzed
 * certs/index, against a small catalog made once per process. Every open must end at eof within a
 * few loads, and every loaded object must be one DER certificate.
 *
 * Input: byte 0 = mode (bits 0-2 search kind, bit 3 raw "dbtrust:" URI instead of
 * "dbtrust://", bit 4 add an expect parameter, bit 5 replace certs/index, bit 6 go through
 * OSSL_STORE_open_ex + OSSL_STORE_find instead of the loader functions, bit 7 call open_ex
 * with the parameters instead of open + set_ctx_params), byte 1 = URI length
 * L, then L URI bytes, then [with bit 5: 2 bytes index length M, M index bytes] the search bytes.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/store.h>

#include "bundle.h"
#include "catalog.h"
#include "fuzz_common.h"
#include "prov.h"

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx);

enum { K_ALL, K_SUBJECT, K_ISSUER_SERIAL, K_FP_DIGEST, K_FP, K_ALIAS, K_EXPECT, K_COUNT };

/* Loads one open may take: the catalog's two certificates and a few errors, plus one per line of
 * a fuzzed index (each line may name a missing file: one error, one load). */
#define MAX_LOADS 16
static size_t max_loads = MAX_LOADS;

static OSSL_LIB_CTX *libctx;
static void *provctx;
static X509_NAME *search_name;
static ASN1_INTEGER *search_serial;
static char index_path[4096];
static unsigned char *index_orig;
static size_t index_orig_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char catdir[4096], cnf[4096], text[8192];
    dbt_catalog *cat = NULL;
    X509 *a = fuzz_cert(0), *b = fuzz_cert(1);
    OSSL_PROVIDER *prov;
    dbt_err err;
    int n;

    (void)argc;
    (void)argv;
    snprintf(catdir, sizeof(catdir), "%s/catalog", fuzz_tmpdir());
    fuzz_make_catalog(catdir, a, b);
    X509_free(a);
    X509_free(b);
    if (dbt_catalog_open(catdir, DBT_CAT_READ, &cat, &err) != 0)
        fuzz_fail("cannot open %s: %s", catdir, err.msg);
    snprintf(index_path, sizeof(index_path), "%s/index", dbt_catalog_certs_dir(cat));
    dbt_catalog_close(cat);
    if (dbt_read_all(index_path, &index_orig, &index_orig_len, &err) != 0)
        fuzz_fail("%s", err.msg);

    /* The provider reads its catalog from its openssl.cnf section, as in production. */
    snprintf(cnf, sizeof(cnf), "%s/openssl.cnf", fuzz_tmpdir());
    n = snprintf(text, sizeof(text),
                 "openssl_conf = init\n[init]\nproviders = provs\n"
                 "[provs]\ndefault = default_sect\ndbtrust = dbtrust_sect\n"
                 "[default_sect]\nactivate = 1\n"
                 "[dbtrust_sect]\nactivate = 1\ncatalog = %s\n",
                 catdir);
    fuzz_write_file(cnf, text, (size_t)n);
    if ((libctx = OSSL_LIB_CTX_new()) == NULL ||
        !OSSL_PROVIDER_add_builtin(libctx, "dbtrust", OSSL_provider_init) ||
        !OSSL_LIB_CTX_load_config(libctx, cnf) || !OSSL_PROVIDER_available(libctx, "dbtrust")) {
        ERR_print_errors_fp(stderr);
        fuzz_fail("cannot load the dbtrust provider");
    }
    if ((prov = OSSL_PROVIDER_load(libctx, "dbtrust")) == NULL ||
        (provctx = OSSL_PROVIDER_get0_provider_ctx(prov)) == NULL)
        fuzz_fail("no dbtrust provider context");
    return 0;
}

/* Consumes n bytes of the input, or fewer at its end. */
static const uint8_t *take(const uint8_t **data, size_t *size, size_t n, size_t *got)
{
    const uint8_t *p = *data;

    *got = n < *size ? n : *size;
    *data += *got;
    *size -= *got;
    return p;
}

/* What OpenSSL's ossl_store_handle_load_result needs from a loaded object: a certificate whose
 * DER decodes. */
static int on_object(const OSSL_PARAM params[], void *arg)
{
    const OSSL_PARAM *p;
    const unsigned char *der = NULL, *q;
    size_t len = 0;
    int type = 0;
    X509 *x;

    (void)arg;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_OBJECT_PARAM_TYPE)) == NULL ||
        !OSSL_PARAM_get_int(p, &type) || type != OSSL_OBJECT_CERT)
        fuzz_fail("a loaded object is not typed as a certificate");
    if ((p = OSSL_PARAM_locate_const(params, OSSL_OBJECT_PARAM_DATA_TYPE)) == NULL ||
        p->data_type != OSSL_PARAM_UTF8_STRING || strcmp(p->data, "CERTIFICATE") != 0)
        fuzz_fail("a loaded object's data type is not CERTIFICATE");
    if ((p = OSSL_PARAM_locate_const(params, OSSL_OBJECT_PARAM_DATA)) == NULL ||
        !OSSL_PARAM_get_octet_string_ptr(p, (const void **)&der, &len) || len > LONG_MAX)
        fuzz_fail("a loaded object has no DER");
    q = der;
    if ((x = d2i_X509(NULL, &q, (long)len)) == NULL || q != der + len)
        fuzz_fail("a loaded object is not one DER certificate");
    X509_free(x);
    return 1;
}

static void *store_fn(int id)
{
    for (const OSSL_DISPATCH *d = dbt_store_functions; d->function_id != 0; d++)
        if (d->function_id == id)
            return (void *)d->function;
    fuzz_fail("the store has no function %d", id);
}

/*
 * The loader's own functions, called as OpenSSL calls them: open then set_ctx_params (3.0), or
 * open_ex with the parameters (3.2+), then eof/load until eof, then close. Called directly
 * rather than through OSSL_STORE_open_ex, because OpenSSL 3.0's OSSL_STORE_open_ex returns a
 * context with a NULL loader when set_ctx_params refuses the parameters (it closes the loader
 * context but keeps the pointer), and the next OSSL_STORE_eof dereferences it.
 */
static void run_loader(const char *uri, const OSSL_PARAM *params, int use_open_ex)
{
    OSSL_FUNC_store_open_fn *open_fn = store_fn(OSSL_FUNC_STORE_OPEN);
    OSSL_FUNC_store_set_ctx_params_fn *set_fn = store_fn(OSSL_FUNC_STORE_SET_CTX_PARAMS);
    OSSL_FUNC_store_load_fn *load_fn = store_fn(OSSL_FUNC_STORE_LOAD);
    OSSL_FUNC_store_eof_fn *eof_fn = store_fn(OSSL_FUNC_STORE_EOF);
    OSSL_FUNC_store_close_fn *close_fn = store_fn(OSSL_FUNC_STORE_CLOSE);
    void *ctx;
    int loads = 0;

    if (use_open_ex) {
        void *(*open_ex)(void *, const char *, const OSSL_PARAM[], OSSL_PASSPHRASE_CALLBACK *,
                         void *) = store_fn(10 /* OSSL_FUNC_STORE_OPEN_EX, 3.2+ */);
        ctx = open_ex(provctx, uri, params, NULL, NULL);
    } else if ((ctx = open_fn(provctx, uri)) != NULL && !set_fn(ctx, params)) {
        close_fn(ctx);
        ctx = NULL;
    }
    if (ctx == NULL)
        return;
    while (!eof_fn(ctx)) {
        if ((size_t)++loads > max_loads)
            fuzz_fail("%s: no eof after %zu loads", uri, max_loads);
        (void)load_fn(ctx, on_object, NULL, NULL, NULL);
    }
    close_fn(ctx);
}

/* The public API path X509_LOOKUP_store takes: open without parameters, then OSSL_STORE_find
 * with a search object (only searches the API can express reach the loader this way). */
static void run_store_find(const char *uri, OSSL_STORE_SEARCH *search)
{
    OSSL_STORE_CTX *ctx;
    int loads = 0;

    ctx = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, NULL, NULL, NULL);
    if (ctx == NULL)
        return;
    if (search == NULL || OSSL_STORE_find(ctx, search)) {
        while (!OSSL_STORE_eof(ctx)) {
            OSSL_STORE_INFO *info = OSSL_STORE_load(ctx);

            if ((size_t)++loads > max_loads)
                fuzz_fail("%s: no eof after %zu loads", uri, max_loads);
            if (info != NULL && OSSL_STORE_INFO_get_type(info) != OSSL_STORE_INFO_CERT)
                fuzz_fail("%s: the store returned a non-certificate object", uri);
            OSSL_STORE_INFO_free(info);
        }
    }
    OSSL_STORE_close(ctx);
}

/* What a host does with OSSL_STORE_open_ex(uri, ..., params): on OpenSSL 3.0 a loader that
 * refused its parameters here left a context whose next eof() crashed the host (the provider
 * now never refuses them: an unusable search finds nothing and reports why). */
static void run_store_open_params(const char *uri, const OSSL_PARAM *params)
{
    OSSL_STORE_CTX *ctx;
    int loads = 0;

    ctx = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, params, NULL, NULL);
    if (ctx == NULL)
        return;
    while (!OSSL_STORE_eof(ctx)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(ctx);

        if ((size_t)++loads > max_loads)
            fuzz_fail("%s: no eof after %zu loads", uri, max_loads);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(ctx);
}

/* The search object for OSSL_STORE_find that matches the raw parameters, when one exists. */
static OSSL_STORE_SEARCH *search_from(const OSSL_PARAM *params)
{
    const OSSL_PARAM *p;
    OSSL_STORE_SEARCH *s = NULL;
    const unsigned char *der, *q;
    size_t len;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SUBJECT)) != NULL ||
        (p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_ISSUER)) != NULL) {
        X509_NAME *name;
        BIGNUM *bn = NULL;
        ASN1_INTEGER *serial = NULL;

        if (!OSSL_PARAM_get_octet_string_ptr(p, (const void **)&der, &len) || len > LONG_MAX)
            return NULL;
        q = der;
        if ((name = d2i_X509_NAME(NULL, &q, (long)len)) == NULL)
            return NULL;
        if (strcmp(p->key, OSSL_STORE_PARAM_SUBJECT) == 0) {
            s = OSSL_STORE_SEARCH_by_name(name);
        } else if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SERIAL)) != NULL &&
                   OSSL_PARAM_get_BN(p, &bn) && (serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL) {
            s = OSSL_STORE_SEARCH_by_issuer_serial(name, serial);
        }
        /* The search object keeps pointers to name and serial: freed with it, by the caller. */
        BN_free(bn);
        if (s == NULL) {
            X509_NAME_free(name);
            ASN1_INTEGER_free(serial);
        } else {
            search_name = name;
            search_serial = serial;
        }
        return s;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_FINGERPRINT)) != NULL) {
        const OSSL_PARAM *pmd = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_DIGEST);
        const EVP_MD *md = EVP_get_digestbyname(pmd != NULL ? pmd->data : "SHA256");

        if (md == NULL || !OSSL_PARAM_get_octet_string_ptr(p, (const void **)&der, &len))
            return NULL;
        return OSSL_STORE_SEARCH_by_key_fingerprint(md, der, len);
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_ALIAS)) != NULL) {
        /* The search object keeps the pointer: static, valid until the next input. */
        static char alias[80];

        snprintf(alias, sizeof(alias), "%.*s", (int)(p->data_size < 79 ? p->data_size : 79),
                 (const char *)p->data);
        return OSSL_STORE_SEARCH_by_alias(alias);
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const digests[] = {"SHA1", "SHA2-256", "SHA-256", "sha256", "SHA-1",
                                          "MD5",  "SHA384",   "",        "SHA256"};
    OSSL_PARAM params[4], *p = params;
    char uri[300];
    const uint8_t *u, *ix = NULL;
    size_t ulen, ixlen = 0, got;
    int mode, kind, expect;

    if (size < 2)
        return 0;
    mode = data[0];
    kind = (mode & 7) % K_COUNT;
    u = take(&data, &size, 2, &got);
    u = take(&data, &size, u[1], &ulen);
    snprintf(uri, sizeof(uri), "%s%.*s", (mode & 8) ? "dbtrust:" : "dbtrust://", (int)ulen,
             (const char *)u);
    if (mode & 32) {
        const uint8_t *l = take(&data, &size, 2, &got);
        if (got == 2)
            ix = take(&data, &size, ((size_t)l[0] << 8) | l[1], &ixlen);
        else
            ix = take(&data, &size, 0, &ixlen);
        fuzz_write_file(index_path, ix, ixlen);
        for (size_t i = 0; i < ixlen; i++)
            max_loads += ix[i] == '\n';
    }
    if (mode & 16) {
        expect = size > 0 ? data[0] % 12 : 0;
        *p++ = OSSL_PARAM_construct_int(OSSL_STORE_PARAM_EXPECT, &expect);
    }
    switch (kind) {
    case K_SUBJECT:
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_STORE_PARAM_SUBJECT, (void *)data, size);
        break;
    case K_ISSUER_SERIAL: {
        size_t ilen = size > 0 ? data[0] : 0;
        const uint8_t *iss;

        take(&data, &size, 1, &got);
        iss = take(&data, &size, ilen, &got);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_STORE_PARAM_ISSUER, (void *)iss, got);
        *p++ = OSSL_PARAM_construct_BN(OSSL_STORE_PARAM_SERIAL, (unsigned char *)data, size);
        break;
    }
    case K_FP_DIGEST: {
        const char *md = digests[size > 0 ? data[0] % (sizeof(digests) / sizeof(digests[0])) : 0];

        take(&data, &size, 1, &got);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_STORE_PARAM_DIGEST, (char *)md, 0);
    }
        /* fall through */
    case K_FP:
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_STORE_PARAM_FINGERPRINT, (void *)data, size);
        break;
    case K_ALIAS:
        /* OSSL_STORE_find passes the alias with its length and no terminating NUL (a zero
         * length would make OSSL_PARAM_construct_utf8_string call strlen on the input). */
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_STORE_PARAM_ALIAS,
                                                size > 0 ? (char *)data : (char *)"", size);
        break;
    default:
        break;
    }
    *p = OSSL_PARAM_construct_end();
    if (mode & 64) {
        OSSL_STORE_SEARCH *search = search_from(params);

        if (kind == K_ALL || search != NULL)
            run_store_find(uri, search);
        if (mode & 128)
            run_store_open_params(uri, params);
        OSSL_STORE_SEARCH_free(search);
        X509_NAME_free(search_name);
        ASN1_INTEGER_free(search_serial);
        search_name = NULL;
        search_serial = NULL;
    } else {
        run_loader(uri, params, mode & 128);
    }
    if (ix != NULL)
        fuzz_write_file(index_path, index_orig, index_orig_len);
    max_loads = MAX_LOADS;
    ERR_clear_error();
    return 0;
}
