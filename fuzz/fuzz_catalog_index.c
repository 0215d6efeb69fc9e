/* Fuzz target: the catalog's own files as lib/catalog.c reads them. The first input byte picks the
 * file of a real catalog (made once per process) that the rest replaces: certs/index (index
 * parser), bundles/alpha.meta (meta parser) or bundles/alpha.pem (canonical PEM reader); then
 * every read call of the public API runs on it and the file is put back. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "bundle.h"
#include "catalog.h"
#include "fuzz_common.h"

enum { F_INDEX, F_META, F_PEM, F_COUNT };

static char catdir[4096];
static char *paths[F_COUNT];
static unsigned char *originals[F_COUNT];
static size_t original_lens[F_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    dbt_catalog *cat = NULL;
    X509 *a = fuzz_cert(0), *b = fuzz_cert(1);
    const char *certs;
    dbt_err err;
    size_t n;

    (void)argc;
    (void)argv;
    snprintf(catdir, sizeof(catdir), "%s/catalog", fuzz_tmpdir());
    fuzz_make_catalog(catdir, a, b);
    X509_free(a);
    X509_free(b);
    if (dbt_catalog_open(catdir, DBT_CAT_READ, &cat, &err) != 0)
        fuzz_fail("cannot open %s: %s", catdir, err.msg);
    certs = dbt_catalog_certs_dir(cat);
    n = strlen(certs) + 32;
    for (int i = 0; i < F_COUNT; i++)
        if ((paths[i] = malloc(n)) == NULL)
            fuzz_fail("out of memory");
    /* certs is "<catalog>/.gen-N/certs": the bundles sit beside it. */
    snprintf(paths[F_INDEX], n, "%s/index", certs);
    snprintf(paths[F_META], n, "%.*s/bundles/alpha.meta", (int)(strlen(certs) - 6), certs);
    snprintf(paths[F_PEM], n, "%.*s/bundles/alpha.pem", (int)(strlen(certs) - 6), certs);
    for (int i = 0; i < F_COUNT; i++)
        if (dbt_read_all(paths[i], &originals[i], &original_lens[i], &err) != 0)
            fuzz_fail("%s", err.msg);
    dbt_catalog_close(cat);
    return 0;
}

static void read_everything(void)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_cert *certs = NULL;
    dbt_catalog_entry *list = NULL;
    dbt_catalog_meta meta;
    dbt_bundle *b = NULL;
    size_t n = 0, nl = 0;
    dbt_err err;

    if (dbt_catalog_open(catdir, DBT_CAT_READ, &cat, &err) != 0)
        fuzz_fail("the catalog no longer opens: %s", err.msg);
    if (dbt_catalog_certs(cat, &certs, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            X509 *x = NULL;

            if (strlen(certs[i].sha256) != 64 || strlen(certs[i].sha1) != 40 ||
                certs[i].nbundles == 0)
                fuzz_fail("index entry %zu was accepted with a bad field", i + 1);
            for (size_t j = 0; j < certs[i].nbundles; j++)
                if (dbt_catalog_check_name(certs[i].bundles[j], NULL) != 0)
                    fuzz_fail("index entry %zu names an invalid bundle", i + 1);
            if (dbt_catalog_load_cert(cat, certs[i].sha256, &x, &err) == 0)
                X509_free(x);
        }
        dbt_catalog_certs_free(certs, n);
    }
    if (dbt_catalog_list(cat, &list, &nl, &err) == 0)
        free(list);
    (void)dbt_catalog_get_meta(cat, "alpha", &meta, &err);
    if (dbt_catalog_load(cat, "alpha", &b, &err) == 0) {
        if (b->n != meta.count)
            fuzz_fail("loaded %zu certificates, the meta says %zu", b->n, meta.count);
        dbt_bundle_free(b);
    }
    dbt_catalog_close(cat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int which;

    if (size == 0)
        return 0;
    which = data[0] % F_COUNT;
    fuzz_write_file(paths[which], data + 1, size - 1);
    read_everything();
    fuzz_write_file(paths[which], originals[which], original_lens[which]);
    ERR_clear_error();
    return 0;
}
