/* dbtrust.so keeps its promise that a store kept open sees the generation it opened, whole,
 * however many commits happen meanwhile (dbtrust-provider(7), "Consistent snapshots").
 * For each count of commits given: imports NCERTS self-signed certificates as bundle "big"
 * with the real CLI, opens three stores on dbtrust://, lists 10 certificates of the first,
 * sets a subject search on the second, then runs COUNT commits (the first removes "big", the
 * others import and remove a small bundle), sets a subject search on the third, and reads
 * the rest: the first store must return every certificate of "big" once and raise no error,
 * the subject searches must each find their certificate. After the stores close, one more
 * commit must leave no more than the two generations a writer keeps.
 * Usage: test_provider_keepopen DBTRUST CATALOG WORKDIR NCERTS COUNT...
 * OPENSSL_CONF names a configuration that loads the provider on CATALOG. Exit 0 when all held. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static const char *dbtrust, *catalog, *workdir;
static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        ERR_print_errors_fp(stderr);                                                               \
        failures++;                                                                                \
    } while (0)

/* dbtrust import -q --bundle NAME FILE (file non-NULL) or dbtrust remove --bundle NAME. */
static int cli(const char *name, const char *file)
{
    char cmd[8192];

    if (file != NULL)
        snprintf(cmd, sizeof(cmd), "'%s' --catalog '%s' import -q --bundle %s '%s' >/dev/null",
                 dbtrust, catalog, name, file);
    else
        snprintf(cmd, sizeof(cmd), "'%s' --catalog '%s' remove --bundle %s >/dev/null", dbtrust,
                 catalog, name);
    fflush(NULL);
    return system(cmd);
}

/* NCERTS certificates "CN=keepopen N" under one key, written to path as one PEM bundle. */
static X509 **make_certs(int n, const char *prefix, const char *path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 **v = calloc((size_t)n, sizeof(*v));
    FILE *f = fopen(path, "w");

    if (key == NULL || v == NULL || f == NULL)
        goto fail;
    for (int i = 0; i < n; i++) {
        X509 *x = X509_new();
        X509_NAME *name = X509_NAME_new();
        char cn[64];

        X509_EXTENSION *ca = NULL;

        snprintf(cn, sizeof(cn), "%s %d", prefix, i);
        if (x == NULL || name == NULL ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)cn, -1, -1, 0) ||
            !X509_set_version(x, X509_VERSION_3) ||
            !ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1) || !X509_set_subject_name(x, name) ||
            !X509_set_issuer_name(x, name) || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) || !X509_set_pubkey(x, key) ||
            (ca = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE")) ==
                NULL ||
            !X509_add_ext(x, ca, -1) || !X509_sign(x, key, EVP_sha256()) || !PEM_write_X509(f, x)) {
            X509_EXTENSION_free(ca);
            X509_free(x);
            X509_NAME_free(name);
            goto fail;
        }
        X509_EXTENSION_free(ca);
        X509_NAME_free(name);
        v[i] = x;
    }
    EVP_PKEY_free(key);
    if (fclose(f) != 0)
        goto fail_closed;
    return v;
fail:
    if (f != NULL)
        fclose(f);
fail_closed:
    EVP_PKEY_free(key);
    for (int i = 0; v != NULL && i < n; i++)
        X509_free(v[i]);
    free(v);
    return NULL;
}

/* Index of x among certs, or -1. */
static int which(X509 **certs, int n, X509 *x)
{
    for (int i = 0; i < n; i++)
        if (X509_cmp(certs[i], x) == 0)
            return i;
    return -1;
}

/* Loads up to max certificates (max < 0: until eof); marks seen[] and counts errors. */
static int load(OSSL_STORE_CTX *st, X509 **certs, int n, int *seen, int max, const char *what)
{
    int got = 0;

    while ((max < 0 || got < max) && !OSSL_STORE_eof(st)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(st);
        X509 *x;
        int i;

        if (info == NULL) {
            if (!OSSL_STORE_eof(st) || ERR_peek_error() != 0)
                FAIL("%s: a load failed", what);
            ERR_clear_error();
            continue;
        }
        x = OSSL_STORE_INFO_get0_CERT(info);
        i = x != NULL ? which(certs, n, x) : -1;
        if (i < 0)
            FAIL("%s: returned something that is not one of the imported certificates", what);
        else if (seen[i]++)
            FAIL("%s: returned certificate %d twice", what, i);
        OSSL_STORE_INFO_free(info);
        got++;
    }
    if (ERR_peek_error() != 0)
        FAIL("%s: errors on the queue", what);
    return got;
}

static OSSL_STORE_CTX *open_store(void)
{
    OSSL_STORE_CTX *st = OSSL_STORE_open("dbtrust://", NULL, NULL, NULL, NULL);

    if (st == NULL || !OSSL_STORE_expect(st, OSSL_STORE_INFO_CERT))
        FAIL("cannot open dbtrust://");
    return st;
}

static int find_subject(OSSL_STORE_CTX *st, X509 *x)
{
    OSSL_STORE_SEARCH *s = OSSL_STORE_SEARCH_by_name(X509_get_subject_name(x));
    int ok = s != NULL && OSSL_STORE_find(st, s);

    OSSL_STORE_SEARCH_free(s);
    return ok;
}

static int count_generations(void)
{
    DIR *d = opendir(catalog);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, ".gen-", 5) == 0;
    closedir(d);
    return n;
}

static void round_of(X509 **certs, int n, int commits, const char *big, const char *small)
{
    OSSL_STORE_CTX *all = NULL, *early = NULL, *late = NULL;
    int *seen = calloc((size_t)n, sizeof(*seen)), seen_early[1] = {0}, seen_late[1] = {0};
    int got, k = n * 2 / 3, gens;

    printf("# %d certificates, %d commits while three stores are open\n", n, commits);
    if (seen == NULL || cli("big", big) != 0) {
        FAIL("cannot import %s", big);
        goto end;
    }
    if ((all = open_store()) == NULL || (early = open_store()) == NULL ||
        (late = open_store()) == NULL)
        goto end;
    if (!find_subject(early, certs[k]))
        FAIL("cannot set a subject search");
    got = load(all, certs, n, seen, 10, "listing before the commits");
    if (got != 10)
        FAIL("the listing returned %d certificates before the commits, wanted 10", got);

    for (int c = 0; c < commits; c++) {
        int rc = c == 0 ? cli("big", NULL) : cli("small", c % 2 == 1 ? small : NULL);
        if (rc != 0) {
            FAIL("commit %d failed", c + 1);
            goto end;
        }
    }
    if (!find_subject(late, certs[k + 1]))
        FAIL("cannot set a subject search after the commits");

    got += load(all, certs, n, seen, -1, "listing after the commits");
    if (got != n)
        FAIL("after %d commits the kept-open listing returned %d of %d certificates", commits, got,
             n);
    for (int i = 0; i < n; i++)
        if (seen[i] != 1) {
            FAIL("certificate %d was returned %d times", i, seen[i]);
            break;
        }
    if (load(early, certs + k, 1, seen_early, -1, "subject search set before") != 1)
        FAIL("the subject search set before %d commits did not find its certificate", commits);
    if (load(late, certs + k + 1, 1, seen_late, -1, "subject search set after") != 1)
        FAIL("the subject search set after %d commits did not find its certificate", commits);
end:
    OSSL_STORE_close(all);
    OSSL_STORE_close(early);
    OSSL_STORE_close(late);
    free(seen);
    /* Nothing holds the old generation any more: the next commit removes it. */
    if (cli("small", small) != 0 || cli("small", NULL) != 0)
        FAIL("cannot commit after closing the stores");
    if ((gens = count_generations()) > 2)
        FAIL("%d generations left after the stores closed and a commit, wanted at most 2", gens);
    printf("# %d generations after closing\n", gens);
}

int main(int argc, char **argv)
{
    char big[4096], small[4096];
    X509 **certs, **extra;
    int n;

    if (argc < 6) {
        fprintf(stderr, "usage: %s DBTRUST CATALOG WORKDIR NCERTS COUNT...\n", argv[0]);
        return 2;
    }
    dbtrust = argv[1];
    catalog = argv[2];
    workdir = argv[3];
    n = atoi(argv[4]);
    if (n < 20) {
        fprintf(stderr, "NCERTS must be at least 20\n");
        return 2;
    }
    snprintf(big, sizeof(big), "%s/big.pem", workdir);
    snprintf(small, sizeof(small), "%s/small.pem", workdir);
    if ((certs = make_certs(n, "keepopen", big)) == NULL ||
        (extra = make_certs(1, "keepopen small", small)) == NULL) {
        fprintf(stderr, "cannot make the test certificates\n");
        return 1;
    }
    for (int i = 5; i < argc; i++)
        round_of(certs, n, atoi(argv[i]), big, small);
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    X509_free(extra[0]);
    free(extra);
    printf("%s\n", failures == 0 ? "all held" : "FAILED");
    return failures == 0 ? 0 : 1;
}
