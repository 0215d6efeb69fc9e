/* Shared pieces of the fuzz targets (see fuzz_common.h). Everything here runs once per process
 * or aborts: a fuzz target must never mistake a broken harness for a clean run. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "catalog.h"
#include "fuzz_common.h"
#include "p12.h"

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fuzz invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* Two fixed self-signed EC P-256 CAs (openssl req -x509, "/O=dbtrust fuzz/CN=fuzz alpha CA" serial
 * 1 and "... beta CA" serial 0): fixed bytes, so committed seeds can carry their fingerprints. */
static const char fixed_alpha[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBojCCAUigAwIBAgIBATAKBggqhkjOPQQDAjAvMRUwEwYDVQQKDAxkYnRydXN0\n"
    "IGZ1enoxFjAUBgNVBAMMDWZ1enogYWxwaGEgQ0EwIBcNMjYxMTIyMTkyNTMxWhgP\n"
    "MjEyNjEwMjkxOTI1MzFaMC8xFTATBgNVBAoMDGRidHJ1c3QgZnV6ejEWMBQGA1UE\n"
    "AwwNZnV6eiBhbHBoYSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKHk7F1G\n"
    "3ev1v6/6ykJzLQXT9zw63JmizSxtRuy7VkwU4DXN5iToVC58jjQaxOqtz+NjJWwn\n"
    "S6A7+UcNYNpgRxujUzBRMB0GA1UdDgQWBBRik5vbso6bNe8MDTSyKfvIlwTZ7DAf\n"
    "BgNVHSMEGDAWgBRik5vbso6bNe8MDTSyKfvIlwTZ7DAPBgNVHRMBAf8EBTADAQH/\n"
    "MAoGCCqGSM49BAMCA0gAMEUCIB1Yw5CB4xxLvxmwwjfiQ2lAnyJKI49pG/nbX/qQ\n"
    "lNt+AiEAzdklhuuulPEoVoveUMtzkoDr551H5DHi5hN6STF9Kpc=\n"
    "-----END CERTIFICATE-----\n";

static const char fixed_beta[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnzCCAUagAwIBAgIBADAKBggqhkjOPQQDAjAuMRUwEwYDVQQKDAxkYnRydXN0\n"
    "IGZ1enoxFTATBgNVBAMMDGZ1enogYmV0YSBDQTAgFw0yNjExMjIxOTI1MzFaGA8y\n"
    "MTI2MTAyOTE5MjUzMVowLjEVMBMGA1UECgwMZGJ0cnVzdCBmdXp6MRUwEwYDVQQD\n"
    "DAxmdXp6IGJldGEgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASsF35twRQR\n"
    "D9x7pde576Llscie88jlbodkx6LiWsB9jiXVX31oz6bpjjk/qsFD6OGNbF+1RL/F\n"
    "/9Mv/t+bJtpNo1MwUTAdBgNVHQ4EFgQUUknqwsMKeDAAdK2bhQDWTWeLlzswHwYD\n"
    "VR0jBBgwFoAUUknqwsMKeDAAdK2bhQDWTWeLlzswDwYDVR0TAQH/BAUwAwEB/zAK\n"
    "BggqhkjOPQQDAgNHADBEAiAz17Pi5xGI4hLdef2QTWKj29OK51vS/yAifl7u2GsM\n"
    "nQIgItEumBhyb5OQ/9L2pXlgz4xP+JuNrxv1Hqr4sngpWYg=\n"
    "-----END CERTIFICATE-----\n";

X509 *fuzz_cert(int which)
{
    const char *pem = which == 0 ? fixed_alpha : fixed_beta;
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

    if (x == NULL)
        fuzz_fail("cannot read the fixed certificate %d", which);
    BIO_free(bio);
    return x;
}

/* PBE iteration count of one AlgorithmIdentifier (PKCS#12 PBE or PBES2 with PBKDF2); -1 when it
 * cannot be bounded (scrypt, or parameters that do not parse: OpenSSL then fails fast). */
static long pbe_iter(const X509_ALGOR *alg)
{
    const ASN1_OBJECT *obj;
    const void *pval;
    int ptype;
    long iter = 0;

    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (ptype != V_ASN1_SEQUENCE)
        return 0;
    if (OBJ_obj2nid(obj) == NID_pbes2) {
        PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        if (p2 == NULL)
            return 0;
        if (OBJ_obj2nid(p2->keyfunc->algorithm) == NID_id_pbkdf2) {
            PBKDF2PARAM *kdf =
                ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter);
            if (kdf != NULL)
                iter = ASN1_INTEGER_get(kdf->iter);
            PBKDF2PARAM_free(kdf);
        } else {
            iter = -1;
        }
        PBE2PARAM_free(p2);
    } else {
        PBEPARAM *p1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
        if (p1 != NULL)
            iter = ASN1_INTEGER_get(p1->iter);
        PBEPARAM_free(p1);
    }
    return iter;
}

/* Sorts one count: the reader refuses it before any work (negative, too large for a long, or
 * above DBT_P12_MAX_ITER), or it would make this execution slow. */
static void classify(long iter, int *refused, int *slow)
{
    if (iter < 0 || iter > DBT_P12_MAX_ITER)
        *refused = 1;
    else if (iter > FUZZ_P12_MAX_ITER)
        *slow = 1;
}

int fuzz_p12_too_slow(const uint8_t *data, size_t size)
{
    const unsigned char *p = data;
    const ASN1_INTEGER *mac_iter = NULL;
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12 *p12;
    int slow = 0, refused = 0;

    if (size > LONG_MAX || (p12 = d2i_PKCS12(NULL, &p, (long)size)) == NULL) {
        ERR_clear_error();
        return 0;
    }
    if (PKCS12_mac_present(p12)) {
        PKCS12_get0_mac(NULL, NULL, NULL, &mac_iter, p12);
        /* An absent count means 1. */
        if (mac_iter != NULL)
            classify(ASN1_INTEGER_get(mac_iter), &refused, &slow);
    }
    if ((safes = PKCS12_unpack_authsafes(p12)) != NULL) {
        for (int i = 0; i < sk_PKCS7_num(safes); i++) {
            PKCS7 *p7 = sk_PKCS7_value(safes, i);

            if (OBJ_obj2nid(p7->type) != NID_pkcs7_encrypted || p7->d.encrypted == NULL ||
                p7->d.encrypted->enc_data == NULL || p7->d.encrypted->enc_data->algorithm == NULL)
                continue;
            /* -1 (scrypt or another key function) is refused by the reader too. */
            classify(pbe_iter(p7->d.encrypted->enc_data->algorithm), &refused, &slow);
        }
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    PKCS12_free(p12);
    ERR_clear_error();
    /* A file the reader refuses before any key derivation is cheap and is exercised. */
    return slow && !refused;
}

static char tmpdir[4096];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 ? -1 : 0;
}

static void rm_tmpdir(void)
{
    if (tmpdir[0] != '\0')
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    if (tmpdir[0] != '\0')
        return tmpdir;
    snprintf(tmpdir, sizeof(tmpdir), "%s/dbtrust-fuzz-XXXXXX",
             base != NULL && base[0] == '/' ? base : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        fuzz_fail("cannot create a temporary directory %s", tmpdir);
    atexit(rm_tmpdir);
    return tmpdir;
}

void fuzz_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *p = data;

    if (fd < 0 || fchmod(fd, 0644) != 0)
        fuzz_fail("cannot write %s", path);
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            fuzz_fail("cannot write %s", path);
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

static void put_bundle(dbt_catalog_txn *t, const char *name, X509 *a, X509 *b)
{
    dbt_bundle *bd = dbt_bundle_new(name);
    dbt_catalog_meta meta;
    dbt_err err;

    memset(&meta, 0, sizeof(meta));
    snprintf(meta.origin, sizeof(meta.origin), "fuzz/%s.pem", name);
    snprintf(meta.format, sizeof(meta.format), "pem");
    if (bd == NULL || !X509_up_ref(b) || dbt_bundle_push(bd, b, 1, 0, NULL, &err) != 0)
        fuzz_fail("cannot build bundle %s", name);
    if (a != NULL && (!X509_up_ref(a) || dbt_bundle_push(bd, a, 2, 0, NULL, &err) != 0))
        fuzz_fail("cannot build bundle %s", name);
    if (dbt_catalog_put(t, name, bd, &meta, NULL, &err) != 0)
        fuzz_fail("cannot put bundle %s: %s", name, err.msg);
    dbt_bundle_free(bd);
}

void fuzz_make_catalog(const char *dir, X509 *a, X509 *b)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    char state[4096];
    dbt_err err;

    /* The commit reads the system wiring's state file: one that does not exist, never the
     * machine's (lib/syswire.h). */
    snprintf(state, sizeof(state), "%s/no-system-state", fuzz_tmpdir());
    setenv("DBTRUST_SYSTEM_STATE", state, 1);
    if (dbt_catalog_open(dir, DBT_CAT_CREATE, &cat, &err) != 0 ||
        dbt_catalog_begin(cat, &t, &err) != 0)
        fuzz_fail("cannot create catalog %s: %s", dir, err.msg);
    put_bundle(t, "alpha", a, b);
    put_bundle(t, "beta", NULL, b);
    if (dbt_catalog_commit(t, &err) != 0)
        fuzz_fail("cannot commit catalog %s: %s", dir, err.msg);
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
}
