/* dbtrust.so under concurrency: N threads each build fresh X509_STOREs on dbtrust:// and verify
 * a chain (X509_verify_cert) while tests/provider-threads.sh changes the catalog from another
 * process (`dbtrust import` and `dbtrust remove` in a loop); then a forked child verifies, and
 * after AFTER_CMD removes the root from the catalog, this same process (provider still loaded)
 * must stop trusting the chain.
 * With -c CHURN_LEAF each iteration also verifies CHURN_LEAF, whose CA the other process keeps
 * importing and removing: it must verify or fail for want of its issuer, nothing else (no
 * error opening the store, no other verification error).
 * With -s STALE_CMD, first: a store session opens with a subject search for the intermediate's
 * issuer, STALE_CMD commits to the catalog twice (which would delete the session's generation
 * if the session did not hold it), and the session must still find the issuer in it.
 * Usage: test_provider_threads [-c CHURN_LEAF] [-s STALE_CMD] LEAF INTERMEDIATE THREADS ITERATIONS
 *        [AFTER_CMD]
 * OPENSSL_CONF names the configuration that loads the provider. Exit 0 when all held. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

static X509 *leaf, *churn_leaf;
static STACK_OF(X509) * untrusted;
static int iterations;

struct worker {
    pthread_t tid;
    int id, failures;
    int churn_trusted, churn_untrusted, churn_failures; /* results for CHURN_LEAF */
};

/* One trust lookup as a long-running client does it: a new store per connection. Returns the
 * X509_V_* result, or -1 when the store could not be set up. */
static int verify_once(X509 *cert, STACK_OF(X509) * chain)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    int rc = -1;

    if ((store = X509_STORE_new()) == NULL || !X509_STORE_load_store(store, "dbtrust://"))
        goto end;
    if ((ctx = X509_STORE_CTX_new()) == NULL || !X509_STORE_CTX_init(ctx, store, cert, chain))
        goto end;
    rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    if (rc == X509_V_OK && X509_STORE_CTX_get_error(ctx) != X509_V_OK)
        rc = X509_STORE_CTX_get_error(ctx);
end:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    int i, rc;
    /* Each thread verifies its own copies, as each connection of a client parses what its
     * server sends: OpenSSL fills a certificate's extension cache on first use, and threads
     * sharing one X509 race there inside libcrypto (helgrind), which is not what this tests. */
    X509 *my_leaf = X509_dup(leaf), *my_churn = churn_leaf ? X509_dup(churn_leaf) : NULL;
    STACK_OF(X509) *my_chain = untrusted ? sk_X509_deep_copy(untrusted, X509_dup, X509_free) : NULL;

    if (my_leaf == NULL || (churn_leaf != NULL && my_churn == NULL) ||
        (untrusted != NULL && my_chain == NULL)) {
        fprintf(stderr, "thread %d: cannot copy the test certificates\n", w->id);
        w->failures++;
        goto end;
    }
    for (i = 0; i < iterations; i++) {
        rc = verify_once(my_leaf, my_chain);
        if (rc != X509_V_OK) {
            w->failures++;
            fprintf(stderr, "thread %d iteration %d: verification failed: %s\n", w->id, i,
                    rc < 0 ? "cannot open dbtrust://" : X509_verify_cert_error_string(rc));
            ERR_print_errors_fp(stderr);
        }
        ERR_clear_error();
        if (my_churn == NULL)
            continue;
        rc = verify_once(my_churn, NULL);
        if (rc == X509_V_OK) {
            w->churn_trusted++;
        } else if (rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) {
            w->churn_untrusted++;
        } else {
            w->churn_failures++;
            fprintf(stderr, "thread %d iteration %d: the churning CA's leaf: %s\n", w->id, i,
                    rc < 0 ? "cannot open dbtrust://" : X509_verify_cert_error_string(rc));
            ERR_print_errors_fp(stderr);
        }
        ERR_clear_error();
    }
end:
    X509_free(my_leaf);
    X509_free(my_churn);
    sk_X509_pop_free(my_chain, X509_free);
    return NULL;
}

/* The stale-session check (-s): 1 when the issuer was found after STALE_CMD ran. */
static int stale_session(X509 *inter, const char *cmd)
{
    OSSL_STORE_CTX *st = NULL;
    OSSL_STORE_SEARCH *search = NULL;
    OSSL_STORE_INFO *info;
    int found = 0;

    if ((st = OSSL_STORE_open("dbtrust://", NULL, NULL, NULL, NULL)) == NULL ||
        (search = OSSL_STORE_SEARCH_by_name(X509_get_issuer_name(inter))) == NULL ||
        !OSSL_STORE_expect(st, OSSL_STORE_INFO_CERT) || !OSSL_STORE_find(st, search)) {
        fprintf(stderr, "stale session: cannot open dbtrust:// with a subject search\n");
        goto end;
    }
    fflush(NULL);
    if (system(cmd) != 0) {
        fprintf(stderr, "STALE_CMD failed: %s\n", cmd);
        goto end;
    }
    while (!OSSL_STORE_eof(st)) {
        if ((info = OSSL_STORE_load(st)) == NULL)
            continue;
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_CERT)
            found++;
        OSSL_STORE_INFO_free(info);
    }
    printf("stale session: %d certificate(s) found after two commits\n", found);
end:
    ERR_print_errors_fp(stderr);
    OSSL_STORE_SEARCH_free(search);
    OSSL_STORE_close(st);
    return found > 0;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = NULL;

    if (f == NULL) {
        perror(path);
        return NULL;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (x == NULL)
        fprintf(stderr, "%s: no PEM certificate\n", path);
    return x;
}

int main(int argc, char **argv)
{
    struct worker *workers = NULL;
    X509 *inter = NULL;
    int nthreads, i, failures = 0, rc, status = 0, opt;
    int churn_trusted = 0, churn_untrusted = 0, churn_failures = 0;
    const char *churn_path = NULL, *stale_cmd = NULL;
    pid_t pid;

    while ((opt = getopt(argc, argv, "c:s:")) != -1) {
        if (opt == 'c')
            churn_path = optarg;
        else if (opt == 's')
            stale_cmd = optarg;
        else
            goto usage;
    }
    argc -= optind - 1;
    argv += optind - 1;
    if (argc < 5 || argc > 6) {
    usage:
        fprintf(stderr,
                "usage: %s [-c CHURN_LEAF] [-s STALE_CMD] LEAF INTERMEDIATE THREADS ITERATIONS "
                "[AFTER_CMD]\n",
                argv[0]);
        return 2;
    }
    nthreads = atoi(argv[3]);
    iterations = atoi(argv[4]);
    if (nthreads < 1 || nthreads > 256 || iterations < 1) {
        fprintf(stderr, "THREADS must be 1-256 and ITERATIONS at least 1\n");
        return 2;
    }
    if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL)) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    if ((leaf = load_cert(argv[1])) == NULL || (inter = load_cert(argv[2])) == NULL ||
        (untrusted = sk_X509_new_null()) == NULL || !sk_X509_push(untrusted, inter) ||
        (churn_path != NULL && (churn_leaf = load_cert(churn_path)) == NULL)) {
        X509_free(inter);
        status = 1;
        goto end;
    }
    if (stale_cmd != NULL && !stale_session(inter, stale_cmd))
        status = 1;
    if ((workers = calloc((size_t)nthreads, sizeof(*workers))) == NULL) {
        status = 1;
        goto end;
    }

    for (i = 0; i < nthreads; i++) {
        workers[i].id = i;
        if (pthread_create(&workers[i].tid, NULL, work, &workers[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            nthreads = i;
            status = 1;
            break;
        }
    }
    for (i = 0; i < nthreads; i++) {
        pthread_join(workers[i].tid, NULL);
        failures += workers[i].failures;
        churn_trusted += workers[i].churn_trusted;
        churn_untrusted += workers[i].churn_untrusted;
        churn_failures += workers[i].churn_failures;
    }
    printf("%d threads x %d verifications through dbtrust://: %d failed\n", nthreads, iterations,
           failures);
    if (failures != 0)
        status = 1;
    if (churn_leaf != NULL) {
        printf("churning CA: %d trusted, %d not trusted, %d errors\n", churn_trusted,
               churn_untrusted, churn_failures);
        if (churn_failures != 0)
            status = 1;
    }

    /* The provider stays usable in a child process (a pre-forking server). */
    fflush(NULL);
    if ((pid = fork()) == 0)
        _exit(verify_once(leaf, untrusted) == X509_V_OK ? 0 : 1);
    if (pid < 0 || waitpid(pid, &rc, 0) != pid || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "verification in a forked child failed\n");
        status = 1;
    } else {
        printf("verification in a forked child: ok\n");
    }

    /* A later removal is seen by this process without reloading anything. */
    if (argc == 6) {
        fflush(NULL);
        if (system(argv[5]) != 0) {
            fprintf(stderr, "AFTER_CMD failed: %s\n", argv[5]);
            status = 1;
            goto end;
        }
        rc = verify_once(leaf, untrusted);
        ERR_clear_error();
        if (rc != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) {
            fprintf(stderr, "after AFTER_CMD the chain still %s\n",
                    rc == X509_V_OK ? "verifies" : X509_verify_cert_error_string(rc));
            status = 1;
        } else {
            printf("after AFTER_CMD: %s, as expected\n", X509_verify_cert_error_string(rc));
        }
    }
end:
    free(workers);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    X509_free(churn_leaf);
    return status;
}
