/* Writing bundles to memory: the PEM, DER and PKCS#7 encoders, and dbt_encode, which finds the
 * encoder of a format in the format table (lib/format.c). */
#include "config.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "encode.h"
#include "trust.h"

/* The formats written to one file: rows with DBT_FMTF_OUT. */
static const dbt_format_info *file_format(dbt_outfmt f)
{
    const dbt_format_info *row = dbt_format_get(f);

    return row != NULL && (row->flags & DBT_FMTF_OUT) != 0 ? row : NULL;
}

int dbt_outfmt_from_name(const char *name)
{
    const dbt_format_info *row = dbt_format_by_name(name, DBT_FMTF_OUT, DBT_FMT_MATCH_ALIASES);

    return row != NULL ? (int)row->id : -1;
}

const char *dbt_outfmt_name(dbt_outfmt f)
{
    const dbt_format_info *row = file_format(f);

    return row != NULL ? row->name : NULL;
}

const char *dbt_outfmt_ext(dbt_outfmt f)
{
    const dbt_format_info *row = file_format(f);

    return row != NULL ? row->ext : NULL;
}

static char outfmt_names[128];
static CRYPTO_ONCE outfmt_names_once = CRYPTO_ONCE_STATIC_INIT;

static void outfmt_names_init(void)
{
    dbt_format_names(DBT_FMTF_OUT, DBT_FMT_FIELD_NAME, ", ", ", ", outfmt_names,
                     sizeof(outfmt_names));
}

const char *dbt_outfmt_names(void)
{
    /* Rendered once, thread-safely: callers keep the pointer. */
    if (!CRYPTO_THREAD_run_once(&outfmt_names_once, outfmt_names_init))
        return "";
    return outfmt_names;
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
int dbt_pem_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err)
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

int dbt_der_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err)
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

int dbt_p7_encode_pem(const dbt_bundle *b, const char *password, unsigned char **out,
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
    const dbt_format_info *row = file_format(fmt);

    if (dbt_bundle_check_source(b, fmt == DBT_OUT_JKS, err) != 0)
        return -1;
    if (row != NULL && row->plain != NULL)
        return dbt_trust_require_plain(b, row->plain, 1, err);
    return 0;
}

int dbt_encode(const dbt_bundle *b, dbt_outfmt fmt, const char *password, unsigned char **out,
               size_t *outlen, dbt_err *err)
{
    const dbt_format_info *row = file_format(fmt);

    *out = NULL;
    *outlen = 0;
    if (b->n == 0) {
        dbt_err_set(err, "%s: no certificates to write", b->source);
        return -1;
    }
    if (row == NULL || row->encode == NULL) {
        dbt_err_set(err, "unknown output format %d (known: %s)", (int)fmt, dbt_outfmt_names());
        return -1;
    }
    if (dbt_encode_check_trust(b, fmt, err) != 0)
        return -1;
    /* Java's conventional truststore password when the caller gives none. */
    return row->encode(b, password != NULL ? password : "changeit", out, outlen, err);
}
