/* Benchmark driver for dbtrust.so (bench/provider-bench.sh runs it under callgrind):
 *   provider-bench gen N OUT.pem        N self-signed CA certificates with distinct subjects
 *   provider-bench lookup SOURCE CERT [warm|tls]
 *       one trust lookup of CERT's subject, as X509_verify_cert does it: a new X509_STORE on
 *       SOURCE (a store URI such as dbtrust://, a hashed directory as SSL_CERT_DIR gives one, or a
 *       PEM file parsed eagerly), then a subject
 *       search. bench_lookup() is the measured function (callgrind --toggle-collect); "warm" runs
 *       the same lookup once before, outside it; "tls" first makes a TLS client SSL_CTX, as every
 *       TLS client (libpq included) has done before its first trust lookup. Prints the wall time
 *       of bench_lookup in us and the minor page faults taken inside it.
 *   provider-bench faultcost
 *       the wall time of one minor page fault on this machine (first touch of anonymous pages,
 *       median of 9 runs of 2,000 pages), in us: what the lookup's page fault counts cost here. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

int bench_lookup(const char *source, const X509_NAME *name);
int bench_warm(const char *source, const X509_NAME *name);

static int lookup(const char *source, const X509_NAME *name)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_OBJECT *obj = NULL;
    struct stat st;
    int found = 0, loaded;

    if (store == NULL || ctx == NULL)
        goto end;
    if (strstr(source, "://") != NULL)
        loaded = X509_STORE_load_store(store, source);
    else if (stat(source, &st) == 0 && S_ISDIR(st.st_mode))
        loaded = X509_STORE_load_path(store, source);
    else
        loaded = X509_STORE_load_file(store, source);
    if (!loaded || !X509_STORE_CTX_init(ctx, store, NULL, NULL))
        goto end;
    obj = X509_STORE_CTX_get_obj_by_subject(ctx, X509_LU_X509, (X509_NAME *)name);
    found = obj != NULL;
end:
    X509_OBJECT_free(obj);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return found;
}

/* Separate, non-inlined entry points so that callgrind can count one and not the other. */
__attribute__((noinline)) int bench_lookup(const char *source, const X509_NAME *name)
{
    return lookup(source, name);
}

__attribute__((noinline)) int bench_warm(const char *source, const X509_NAME *name)
{
    return lookup(source, name);
}

static int gen(int n, const char *out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    FILE *f = fopen(out, "w");
    int i, ok = 0;

    if (key == NULL || f == NULL)
        goto end;
    for (i = 0; i < n; i++) {
        X509 *x = X509_new();
        X509_NAME *nm = X509_NAME_new();
        X509_EXTENSION *bc =
            X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
        X509_EXTENSION *ku =
            X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
        char cn[64];
        int good;

        snprintf(cn, sizeof(cn), "Bench CA %d", i);
        good =
            x != NULL && nm != NULL && X509_set_version(x, 2) &&
            ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1) &&
            X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (unsigned char *)"ZZ", -1, -1, 0) &&
            X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (unsigned char *)"dbtrust bench", -1,
                                       -1, 0) &&
            X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (unsigned char *)cn, -1, -1, 0) &&
            X509_set_subject_name(x, nm) && X509_set_issuer_name(x, nm) &&
            X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
            X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) && X509_set_pubkey(x, key) &&
            bc != NULL && ku != NULL && X509_add_ext(x, bc, -1) && X509_add_ext(x, ku, -1) &&
            X509_sign(x, key, EVP_sha256()) && PEM_write_X509(f, x);
        X509_EXTENSION_free(bc);
        X509_EXTENSION_free(ku);
        X509_NAME_free(nm);
        X509_free(x);
        if (!good)
            goto end;
    }
    ok = 1;
end:
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    EVP_PKEY_free(key);
    if (!ok)
        ERR_print_errors_fp(stderr);
    return ok ? 0 : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int faultcost(void)
{
    enum { PAGES = 2000, RUNS = 9 };
    double us[RUNS];
    long page = sysconf(_SC_PAGESIZE);
    int r, i;

    for (r = 0; r < RUNS; r++) {
        struct timespec t0, t1;
        volatile char *p = mmap(NULL, (size_t)page * PAGES, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < PAGES; i++)
            p[(size_t)i * (size_t)page] = 1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        munmap((void *)p, (size_t)page * PAGES);
        us[r] = ((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3) / PAGES;
    }
    qsort(us, RUNS, sizeof(us[0]), cmp_double);
    printf("%.2f\n", us[RUNS / 2]);
    return 0;
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    struct rusage r0, r1;
    SSL_CTX *tls = NULL;
    const char *mode = argc == 5 ? argv[4] : "";
    X509 *cert = NULL;
    FILE *f;
    int found, rc = 1;

    if (argc == 2 && strcmp(argv[1], "faultcost") == 0)
        return faultcost();
    if (argc == 4 && strcmp(argv[1], "gen") == 0)
        return gen(atoi(argv[2]), argv[3]);
    if (argc < 4 || argc > 5 || strcmp(argv[1], "lookup") != 0 ||
        (argc == 5 && strcmp(mode, "warm") != 0 && strcmp(mode, "tls") != 0)) {
        fprintf(stderr, "usage: %s gen N OUT.pem | lookup SOURCE CERT [warm|tls] | faultcost\n",
                argv[0]);
        return 2;
    }
    if ((f = fopen(argv[3], "r")) == NULL || (cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
        fprintf(stderr, "%s: cannot read a PEM certificate\n", argv[3]);
        if (f != NULL)
            fclose(f);
        return 1;
    }
    fclose(f);
    if (strcmp(mode, "tls") == 0 && (tls = SSL_CTX_new(TLS_client_method())) == NULL) {
        ERR_print_errors_fp(stderr);
        goto end;
    }
    if (strcmp(mode, "warm") == 0 && !bench_warm(argv[2], X509_get_subject_name(cert))) {
        fprintf(stderr, "warm-up lookup in %s found nothing\n", argv[2]);
        goto end;
    }
    getrusage(RUSAGE_SELF, &r0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    found = bench_lookup(argv[2], X509_get_subject_name(cert));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &r1);
    if (!found) {
        fprintf(stderr, "lookup in %s found nothing\n", argv[2]);
        ERR_print_errors_fp(stderr);
        goto end;
    }
    printf("%.1f %ld\n", (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3,
           r1.ru_minflt - r0.ru_minflt);
    rc = 0;
end:
    SSL_CTX_free(tls);
    X509_free(cert);
    return rc;
}
