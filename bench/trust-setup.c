/* Per-connection trust setup as libpq does it for sslrootcert=system (a fresh SSL_CTX, then
 * SSL_CTX_set_default_verify_paths, then the server chain verified with the host name), timed
 * for several SSL_CERT_FILE/SSL_CERT_DIR routes interleaved in one process (bench/trust-setup.sh).
 * Under callgrind, --toggle-collect=bench_setup_once counts exactly the setups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

struct route {
    const char *name, *file, *dir;
    double ns;
    int fails;
};

/* One connection's worth of trust work; 1 when the chain verifies. Not static and not inlined,
 * so that callgrind can toggle collection on it. */
int bench_setup_once(X509 *leaf, STACK_OF(X509) * untrusted, const char *host);
__attribute__((noinline)) int bench_setup_once(X509 *leaf, STACK_OF(X509) * untrusted,
                                               const char *host)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
    X509_STORE_CTX *vctx = NULL;
    int ok = 0;

    if (sctx == NULL || SSL_CTX_set_default_verify_paths(sctx) != 1)
        goto end;
    if ((vctx = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_CTX_init(vctx, SSL_CTX_get_cert_store(sctx), leaf, untrusted) != 1)
        goto end;
    X509_STORE_CTX_set_default(vctx, "ssl_server");
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(vctx), host, 0);
    ok = X509_verify_cert(vctx) == 1;
end:
    X509_STORE_CTX_free(vctx);
    SSL_CTX_free(sctx);
    ERR_clear_error();
    return ok;
}

static void use_route(const struct route *r)
{
    setenv("SSL_CERT_FILE", r->file, 1);
    setenv("SSL_CERT_DIR", r->dir, 1);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct route routes[8];
    STACK_OF(X509) *chain = NULL;
    X509 *leaf = NULL, *x;
    FILE *f;
    long iters;
    int nr = 0, i, rc = 1;

    if (argc < 5 || argc - 4 > 8) {
        fprintf(stderr, "usage: trust-setup CHAIN.pem HOSTNAME ITERATIONS NAME=FILE:DIR...\n"
                        "  CHAIN.pem: the server's leaf then its intermediates; each route sets\n"
                        "  SSL_CERT_FILE=FILE and SSL_CERT_DIR=DIR; routes run interleaved.\n");
        return 2;
    }
    iters = strtol(argv[3], NULL, 10);
    for (i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '='), *colon = eq ? strchr(eq, ':') : NULL;

        if (eq == NULL || colon == NULL) {
            fprintf(stderr, "trust-setup: route '%s' is not NAME=FILE:DIR\n", argv[i]);
            return 2;
        }
        *eq = *colon = '\0';
        routes[nr++] = (struct route){argv[i], eq + 1, colon + 1, 0, 0};
    }
    if ((f = fopen(argv[1], "r")) == NULL) {
        perror(argv[1]);
        return 1;
    }
    chain = sk_X509_new_null();
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (leaf == NULL)
            leaf = x;
        else
            sk_X509_push(chain, x);
    }
    fclose(f);
    ERR_clear_error();
    if (leaf == NULL) {
        fprintf(stderr, "trust-setup: no certificate in %s\n", argv[1]);
        goto end;
    }
    /* A first round warms OpenSSL's decoder and algorithm caches, as a long-lived client has. */
    for (i = 0; i < nr; i++) {
        use_route(&routes[i]);
        if (!bench_setup_once(leaf, chain, argv[2])) {
            fprintf(stderr, "trust-setup: route %s does not verify %s; fix the route first\n",
                    routes[i].name, argv[1]);
            goto end;
        }
    }
    for (long k = 0; k < iters; k++)
        for (i = 0; i < nr; i++) {
            double t0;

            use_route(&routes[i]);
            t0 = now_ns();
            routes[i].fails += !bench_setup_once(leaf, chain, argv[2]);
            routes[i].ns += now_ns() - t0;
        }
    printf("%-10s %12s %8s  (%ld setups per route, interleaved; %s)\n", "route", "ms/setup",
           "ratio", iters, OpenSSL_version(OPENSSL_VERSION));
    for (i = 0; i < nr; i++)
        printf("%-10s %12.3f %8.3f%s\n", routes[i].name, routes[i].ns / (double)iters / 1e6,
               routes[i].ns / routes[0].ns, routes[i].fails ? "  VERIFY FAILURES" : "");
    rc = 0;
    for (i = 0; i < nr; i++)
        rc |= routes[i].fails != 0;
end:
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}
