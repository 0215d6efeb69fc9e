/* Writing bundles to memory. One table row per output format (as p11-kit's formats[]), so a new
 * format is one row and one function. */
#include "config.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "encode.h"
#include "trust.h"

typedef int (*encode_fn)(const dbt_bundle *b, const char *password, unsigned char **out,
                         size_t *outlen, dbt_err *err);

static int encode_pem(const dbt_bundle *b, const char *password, unsigned char **out,
                      size_t *outlen, dbt_err *err);
static int encode_der(const dbt_bundle *b, const char *password, unsigned char **out,
                      size_t *outlen, dbt_err *err);
static int encode_p7_pem(const dbt_bundle *b, const char *password, unsigned char **out,
                         size_t *outlen, dbt_err *err);
static int encode_p7_der(const dbt_bundle *b, const char *password, unsigned char **out,
                         size_t *outlen, dbt_err *err);

#define P12_PLAIN "a PKCS#12 truststore (Java trusts its entries for every purpose)"

static const struct {
    const char *name;
    dbt_outfmt fmt;
    encode_fn encode;
    const char *ext;   /* usual file name extension */
    const char *plain; /* what the format holds when it cannot carry trust settings (a
                          restricted certificate is then refused), NULL when it can */
} formats[] = {
    {"pem", DBT_OUT_PEM, encode_pem, ".pem", NULL},
    {"der", DBT_OUT_DER, encode_der, ".der", "DER output"},
    {"p7b", DBT_OUT_P7_PEM, encode_p7_pem, ".p7b", "PKCS#7 output"},
    {"p7b-der", DBT_OUT_P7_DER, encode_p7_der, ".p7b", "PKCS#7 output"},
    /* PKCS#12 could list a narrower trusted key usage, but Java 17's PKIX trust manager
     * ignores it (a CA listed for clientAuth only was trusted for a server), so it does not. */
    {"pkcs12", DBT_OUT_PKCS12, dbt_p12_encode, ".p12", P12_PLAIN},
    {"jks", DBT_OUT_JKS, dbt_jks_encode, ".jks", "a JKS truststore (trusted for every purpose)"},
    /* Aliases: accepted by name, never printed (dbt_outfmt_name returns the first row). */
    {"p12", DBT_OUT_PKCS12, dbt_p12_encode, ".p12", P12_PLAIN},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

int dbt_outfmt_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < NFORMATS; i++)
        if (strcmp(formats[i].name, name) == 0)
            return (int)formats[i].fmt;
    return -1;
}

const char *dbt_outfmt_name(dbt_outfmt f)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i].fmt == f)
            return formats[i].name;
    return NULL;
}

const char *dbt_outfmt_ext(dbt_outfmt f)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i].fmt == f)
            return formats[i].ext;
    return NULL;
}

const char *dbt_outfmt_names(void)
{
    return "pem, der, p7b, p7b-der, pkcs12, jks";
}

/* Moves a memory BIO's contents into an OPENSSL_malloc'ed buffer. */
static int bio_take(BIO *bio, const dbt_bundle *b, unsigned char **out, size_t *outlen,
                    dbt_err *err)
{
    char *mem = NULL;
    long n = BIO_get_mem_data(bio, &mem);

    if (n <= 0 || (*out = OPENSSL_malloc((size_t)n)) == NULL) {
        dbt_err_ossl(err, "%s: out of memory writing the output", b->source);
        return -1;
    }
    memcpy(*out, mem, (size_t)n);
    *outlen = (size_t)n;
    return 0;
}

/* Canonical PEM: one CERTIFICATE block per certificate, 64-column base64, LF line ends. A
 * certificate with trust or reject settings stays a TRUSTED CERTIFICATE block with them (an
 * alias alone is not kept): a plain block would trust it for more than its input did. */
static int encode_pem(const dbt_bundle *b, const char *password, unsigned char **out,
                      size_t *outlen, dbt_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ret = -1;

    (void)password;
    if (bio == NULL) {
        dbt_err_ossl(err, "%s: out of memory", b->source);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        X509 *x = b->certs[i].x509;

        if (!(dbt_trust_kind_of(x) == DBT_TRUST_PLAIN ? PEM_write_bio_X509(bio, x)
                                                      : PEM_write_bio_X509_AUX(bio, x))) {
            dbt_err_ossl(err, "%s: certificate %zu: cannot write PEM", b->source, i + 1);
            goto end;
        }
    }
    ret = bio_take(bio, b, out, outlen, err);
end:
    BIO_free(bio);
    return ret;
}

static int encode_der(const dbt_bundle *b, const char *password, unsigned char **out,
                      size_t *outlen, dbt_err *err)
{
    unsigned char *der = NULL;
    int n;

    (void)password;
    if (b->n != 1) {
        dbt_err_set(err,
                    "%s: DER holds exactly one certificate, but the bundle has %zu: use p7b or "
                    "pem for %zu certificates",
                    b->source, b->n, b->n);
        return -1;
    }
    if ((n = i2d_X509(b->certs[0].x509, &der)) <= 0) {
        dbt_err_ossl(err, "%s: cannot encode the certificate as DER", b->source);
        return -1;
    }
    *out = der;
    *outlen = (size_t)n;
    return 0;
}

static int encode_p7_der(const dbt_bundle *b, const char *password, unsigned char **out,
                         size_t *outlen, dbt_err *err)
{
    (void)password;
    return dbt_p7_encode_der(b, out, outlen, err);
}

static int encode_p7_pem(const dbt_bundle *b, const char *password, unsigned char **out,
                         size_t *outlen, dbt_err *err)
{
    unsigned char *der = NULL;
    size_t dlen = 0;
    BIO *bio = NULL;
    int ret = -1;

    (void)password;
    if (dbt_p7_encode_der(b, &der, &dlen, err) != 0)
        return -1;
    /* Armors the DER above as-is: the same bytes as `crl2pkcs7 -nocrl` (PEM output). */
    if ((bio = BIO_new(BIO_s_mem())) == NULL ||
        PEM_write_bio(bio, PEM_STRING_PKCS7, "", der, (long)dlen) <= 0) {
        dbt_err_ossl(err, "%s: cannot write the PKCS#7 bundle as PEM", b->source);
        goto end;
    }
    ret = bio_take(bio, b, out, outlen, err);
end:
    BIO_free(bio);
    OPENSSL_free(der);
    return ret;
}

int dbt_encode_check_trust(const dbt_bundle *b, dbt_outfmt fmt, dbt_err *err)
{
    if (dbt_bundle_check_source(b, fmt == DBT_OUT_JKS, err) != 0)
        return -1;
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i].fmt == fmt && formats[i].plain != NULL)
            return dbt_trust_require_plain(b, formats[i].plain, 1, err);
    return 0;
}

int dbt_encode(const dbt_bundle *b, dbt_outfmt fmt, const char *password, unsigned char **out,
               size_t *outlen, dbt_err *err)
{
    *out = NULL;
    *outlen = 0;
    if (b->n == 0) {
        dbt_err_set(err, "%s: no certificates to write", b->source);
        return -1;
    }
    for (size_t i = 0; i < NFORMATS; i++) {
        if (formats[i].fmt != fmt)
            continue;
        if (dbt_encode_check_trust(b, fmt, err) != 0)
            return -1;
        /* Java's conventional truststore password when the caller gives none. */
        return formats[i].encode(b, password != NULL ? password : "changeit", out, outlen, err);
    }
    dbt_err_set(err, "unknown output format %d (known: %s)", (int)fmt, dbt_outfmt_names());
    return -1;
}
