/* The format table (lib/format.h) and the content sniffers that tell the input formats apart. */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "bundle.h"
#include "encode.h"
#include "format.h"
#include "hashdir.h"

static int contains(const unsigned char *data, size_t len, const char *needle)
{
    return memmem(data, len, needle, strlen(needle)) != NULL;
}

/*
 * A DER input is told apart by the first element inside its outer SEQUENCE (inner: 0x30 a
 * Certificate's tbsCertificate, 0x06 a ContentInfo's contentType, 0x02 a PFX's version).
 * 1 when data is that kind, -1 when it is but runs past the end of the input, else 0.
 */
static int sniff_der(const unsigned char *data, size_t len, size_t *need, unsigned char inner)
{
    const unsigned char *p = data;
    long plen = 0;
    int tag = 0, xclass = 0, ret, truncated = 0;

    if (len < 2 || data[0] != 0x30)
        return 0;
    ret = ASN1_get_object(&p, &plen, &tag, &xclass, (long)(len > LONG_MAX ? LONG_MAX : len));
    ERR_clear_error();
    /* 0x80 with the header consumed: the length is fine but runs past the end of the input. */
    if ((ret & 0x80) != 0) {
        if (p == data)
            return 0;
        truncated = 1;
        ret &= ~0x80;
    }
    if (tag != V_ASN1_SEQUENCE || (size_t)(p - data) >= len || *p != inner)
        return 0;
    /* Text that merely starts with '0' is not DER: real DER bundles use long-form lengths. */
    if (data[1] < 0x80 && contains(data, len, "-----BEGIN"))
        return 0;
    /* Definite lengths must fit in the input; PKCS#12 may use BER indefinite lengths (0x21). */
    if (ret != 0x21 && (size_t)plen > len - (size_t)(p - data))
        truncated = 1;
    if (truncated) {
        *need = (size_t)(p - data) + (size_t)plen;
        return -1;
    }
    return 1;
}

static int sniff_cert(const unsigned char *data, size_t len, size_t *need)
{
    return sniff_der(data, len, need, 0x30);
}

static int sniff_p7(const unsigned char *data, size_t len, size_t *need)
{
    return sniff_der(data, len, need, 0x06);
}

static int sniff_p12(const unsigned char *data, size_t len, size_t *need)
{
    return sniff_der(data, len, need, 0x02);
}

static int sniff_jks(const unsigned char *data, size_t len, size_t *need)
{
    (void)need;
    return dbt_jks_sniff(data, len);
}

/* A stray END line alone is still PEM: the PEM scanner reports it precisely. */
static int sniff_pem(const unsigned char *data, size_t len, size_t *need)
{
    (void)need;
    return contains(data, len, "-----BEGIN") || contains(data, len, "-----END");
}

/* The decoders and encoders that take no password, in the table's shape. */
static int decode_pem(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                      dbt_err *err)
{
    (void)password;
    return dbt_pem_decode(data, len, into, err);
}

static int decode_p7(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                     dbt_err *err)
{
    (void)password;
    return dbt_p7_decode_der(data, len, into, err);
}

static int encode_p7_der(const dbt_bundle *b, const char *password, unsigned char **out,
                         size_t *outlen, dbt_err *err)
{
    (void)password;
    return dbt_p7_encode_der(b, out, outlen, err);
}

static const char *const pkcs12_aliases[] = {"p12", NULL};

#define IO (DBT_FMTF_IN | DBT_FMTF_OUT)

/* In enum order: dbt_format_get indexes it. The meta names are what catalogs already record
 * (the display name in lowercase, each run of other characters one '-'): never change one. */
const dbt_format_info dbt_formats[] = {
    {DBT_FMT_PEM, "pem", NULL, "PEM", "pem", ".pem", IO, NULL, sniff_pem, decode_pem,
     dbt_pem_encode, NULL},
    {DBT_FMT_DER, "der", NULL, "DER", "der", ".der", IO, "DER output", sniff_cert, dbt_der_decode,
     dbt_der_encode, NULL},
    /* Not sniffed: the PEM decoder reports a PEM input made of PKCS7 blocks only as this. */
    {DBT_FMT_P7_PEM, "p7b", NULL, "PKCS#7 (PEM)", "pkcs-7-pem", ".p7b", IO, "PKCS#7 output", NULL,
     decode_pem, dbt_p7_encode_pem, NULL},
    {DBT_FMT_P7_DER, "p7b-der", NULL, "PKCS#7 (DER)", "pkcs-7-der", ".p7b", IO, "PKCS#7 output",
     sniff_p7, decode_p7, encode_p7_der, NULL},
    /* PKCS#12 could list a narrower trusted key usage, but Java 17's PKIX trust manager
     * ignores it (a CA listed for clientAuth only was trusted for a server), so it does not. */
    {DBT_FMT_PKCS12, "pkcs12", pkcs12_aliases, "PKCS#12", "pkcs-12", ".p12", IO | DBT_FMTF_KEYSTORE,
     "a PKCS#12 truststore (Java trusts its entries for every purpose)", sniff_p12, dbt_p12_decode,
     dbt_p12_encode, NULL},
    {DBT_FMT_JKS, "jks", NULL, "JKS", "jks", ".jks", IO | DBT_FMTF_KEYSTORE,
     "a JKS truststore (trusted for every purpose)", sniff_jks, dbt_jks_decode, dbt_jks_encode,
     NULL},
    {DBT_FMT_HASHED_DIR, "hashed-dir", NULL, "hashed directory", NULL, "", DBT_FMTF_DIR, NULL, NULL,
     NULL, NULL, dbt_hashdir_write},
};

const size_t dbt_nformats = sizeof(dbt_formats) / sizeof(dbt_formats[0]);

/* The sniff order: JKS's magic cannot be DER, and PEM comes last because a DER certificate may
 * hold "-----BEGIN" in a name. */
static const dbt_format sniff_order[] = {DBT_FMT_JKS, DBT_FMT_DER, DBT_FMT_P7_DER, DBT_FMT_PKCS12,
                                         DBT_FMT_PEM};

const dbt_format_info *dbt_format_get(dbt_format f)
{
    if (f <= DBT_FMT_UNKNOWN || (size_t)f > dbt_nformats)
        return NULL;
    return &dbt_formats[f - 1];
}

static int same(const char *a, const char *b, unsigned match)
{
    return (match & DBT_FMT_MATCH_NOCASE) != 0 ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

const dbt_format_info *dbt_format_by_name(const char *name, unsigned flags, unsigned match)
{
    for (size_t i = 0; name != NULL && i < dbt_nformats; i++) {
        const dbt_format_info *f = &dbt_formats[i];

        if ((f->flags & flags) == 0)
            continue;
        if (same(f->name, name, match))
            return f;
        for (size_t k = 0;
             (match & DBT_FMT_MATCH_ALIASES) != 0 && f->aliases != NULL && f->aliases[k] != NULL;
             k++)
            if (same(f->aliases[k], name, match))
                return f;
    }
    return NULL;
}

static const char *field_of(const dbt_format_info *f, dbt_format_field field, size_t *len)
{
    const char *s = field == DBT_FMT_FIELD_NAME   ? f->name
                    : field == DBT_FMT_FIELD_META ? f->meta
                                                  : f->display;
    const char *paren;

    if (s == NULL)
        return NULL;
    *len = strlen(s);
    if (field == DBT_FMT_FIELD_FAMILY && (paren = strstr(s, " (")) != NULL)
        *len = (size_t)(paren - s);
    return s;
}

size_t dbt_format_names(unsigned flags, dbt_format_field field, const char *sep, const char *last,
                        char *out, size_t n)
{
    const char *items[DBT_FMT_COUNT];
    size_t lens[DBT_FMT_COUNT], count = 0, used = 0;

    for (size_t i = 0; i < dbt_nformats && count < DBT_FMT_COUNT; i++) {
        size_t len = 0;
        const char *s;

        if ((dbt_formats[i].flags & flags) == 0 ||
            (s = field_of(&dbt_formats[i], field, &len)) == NULL)
            continue;
        /* Families repeat ("PKCS#7 (PEM)", "PKCS#7 (DER)"): list each once. */
        if (count > 0 && lens[count - 1] == len && memcmp(items[count - 1], s, len) == 0)
            continue;
        items[count] = s;
        lens[count++] = len;
    }
    for (size_t i = 0; i < count; i++) {
        const char *glue = i == 0 ? "" : i + 1 == count ? last : sep;
        const char *parts[2] = {glue, items[i]};
        size_t plens[2] = {strlen(glue), lens[i]};

        for (int p = 0; p < 2; p++) {
            if (used + plens[p] < n)
                memcpy(out + used, parts[p], plens[p]);
            else if (used < n)
                memcpy(out + used, parts[p], n - 1 - used);
            used += plens[p];
        }
    }
    if (n > 0)
        out[used < n ? used : n - 1] = '\0';
    return used;
}

int dbt_format_sniff(const unsigned char *data, size_t len, const dbt_format_info **row,
                     size_t *need)
{
    *row = NULL;
    for (size_t i = 0; i < sizeof(sniff_order) / sizeof(sniff_order[0]); i++) {
        const dbt_format_info *f = dbt_format_get(sniff_order[i]);
        int r = f->sniff(data, len, need);

        if (r != 0) {
            *row = f;
            return r;
        }
    }
    return 0;
}
