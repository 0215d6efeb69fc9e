/* Set-up driver of bench/catalog-bench.sh (`make bench-catalog`): makes certificates and large
 * catalogs fast, so that the bench measures the catalog's commits and not its own set-up.
 *   catalog-bench gen N PREFIX OUT.pem
 *       N self-signed CA certificates ("PREFIX CA i"), all signed by one EC key made once
 *   catalog-bench build DIR NBUNDLES
 *       a new catalog of NBUNDLES bundles (b00000, b00001, ...) of 3 such certificates each,
 *       written in one transaction through lib/catalog.h (one commit, not NBUNDLES) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "catalog.h"

/* Largest catalog built: bounds the bench's memory (3 certificates a bundle). */
#define BENCH_MAX_BUNDLES 100000

static X509 *make_ca(EVP_PKEY *key, const char *prefix, long i)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
    X509_EXTENSION *ku =
        X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
    char cn[96];
    int good;

    snprintf(cn, sizeof(cn), "%s CA %ld", prefix, i);
    good = x != NULL && nm != NULL && X509_set_version(x, 2) &&
           ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1) &&
           X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (unsigned char *)"dbtrust bench", -1,
                                      -1, 0) &&
           X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (unsigned char *)cn, -1, -1, 0) &&
           X509_set_subject_name(x, nm) && X509_set_issuer_name(x, nm) &&
           X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
           X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) && X509_set_pubkey(x, key) &&
           bc != NULL && ku != NULL && X509_add_ext(x, bc, -1) && X509_add_ext(x, ku, -1) &&
           X509_sign(x, key, EVP_sha256());
    X509_EXTENSION_free(bc);
    X509_EXTENSION_free(ku);
    X509_NAME_free(nm);
    if (!good) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int gen(long n, const char *prefix, const char *out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    FILE *f = fopen(out, "w");
    int ok = 0;

    if (key == NULL || f == NULL)
        goto end;
    for (long i = 0; i < n; i++) {
        X509 *x = make_ca(key, prefix, i);
        int good = x != NULL && PEM_write_X509(f, x);
        X509_free(x);
        if (!good)
            goto end;
    }
    ok = 1;
end:
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    EVP_PKEY_free(key);
    if (!ok) {
        fprintf(stderr, "catalog-bench: cannot write %s\n", out);
        ERR_print_errors_fp(stderr);
    }
    return ok ? 0 : 1;
}

static int build(const char *dir, long nbundles)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    dbt_err err = {0};
    int ok = 0;

    if (key == NULL) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    if (dbt_catalog_open(dir, DBT_CAT_CREATE, &cat, &err) != 0 ||
        dbt_catalog_begin(cat, &t, &err) != 0)
        goto end;
    for (long i = 0; i < nbundles; i++) {
        char name[32];
        dbt_catalog_meta meta = {0};
        dbt_bundle *b;
        int rc = 0;

        snprintf(name, sizeof(name), "b%05ld", i);
        if ((b = dbt_bundle_new(name)) == NULL) {
            fprintf(stderr, "catalog-bench: out of memory\n");
            goto end;
        }
        for (long j = 0; j < 3 && rc == 0; j++) {
            X509 *x = make_ca(key, "Bench", 3 * i + j);
            rc = x != NULL ? dbt_bundle_push(b, x, (int)j + 1, 0, NULL, &err) : -1;
            if (x == NULL)
                snprintf(err.msg, sizeof(err.msg), "cannot make a certificate");
            else if (rc != 0)
                X509_free(x);
        }
        snprintf(meta.origin, sizeof(meta.origin), "catalog-bench");
        snprintf(meta.format, sizeof(meta.format), "pem");
        if (rc == 0)
            rc = dbt_catalog_put(t, name, b, &meta, NULL, &err);
        dbt_bundle_free(b);
        if (rc != 0)
            goto end;
    }
    if (dbt_catalog_commit(t, &err) != 0)
        goto end;
    ok = 1;
end:
    if (!ok)
        fprintf(stderr, "catalog-bench: %s: %s\n", dir, err.msg);
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
    EVP_PKEY_free(key);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long n = argc >= 4 ? strtol(argv[3 - (argc == 5)], &end, 10) : -1;

    if (argc == 5 && strcmp(argv[1], "gen") == 0 && end != NULL && *end == '\0' && n >= 0 &&
        n <= 3L * BENCH_MAX_BUNDLES)
        return gen(n, argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "build") == 0 && end != NULL && *end == '\0' && n >= 0 &&
        n <= BENCH_MAX_BUNDLES)
        return build(argv[2], n);
    fprintf(stderr, "usage: %s gen N PREFIX OUT.pem | build DIR NBUNDLES (NBUNDLES <= %d)\n",
            argv[0], BENCH_MAX_BUNDLES);
    return 2;
}
