/* Facts about one certificate (fingerprints, names, dates, key, hashes), computed once so the CLI,
 * the catalog index and the provider all print and compare the same values. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "escape.h"

void dbt_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void dbt_hex_colons(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        out[3 * i] = digits[in[i] >> 4];
        out[3 * i + 1] = digits[in[i] & 15];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm):
 * no dependence on time_t width or timegm, and exact for years 0000-9999. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int dbt_asn1_time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return -1;
    *out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
           tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return 0;
}

/* As `openssl x509 -serial` prints it: uppercase, two digits per byte, "00" for zero. */
static int serial_hex(X509 *x, char *out, size_t outsz, dbt_err *err)
{
    const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
    BIGNUM *bn = ai != NULL ? ASN1_INTEGER_to_BN(ai, NULL) : NULL;
    unsigned char buf[64];
    size_t o = 0;
    int n, ret = -1;

    if (bn == NULL) {
        dbt_err_ossl(err, "cannot read the serial number");
        return -1;
    }
    n = BN_num_bytes(bn);
    if ((size_t)n > sizeof(buf)) {
        dbt_err_set(err, "serial number is %d bytes long; at most %zu are supported", n,
                    sizeof(buf));
        goto end;
    }
    n = BN_bn2bin(bn, buf);
    if (BN_is_negative(bn))
        out[o++] = '-';
    if (n == 0) {
        snprintf(out + o, outsz - o, "00");
    } else {
        for (int i = 0; i < n; i++)
            snprintf(out + o + 2 * (size_t)i, outsz - o - 2 * (size_t)i, "%02X", buf[i]);
    }
    ret = 0;
end:
    BN_free(bn);
    return ret;
}

/* Appends one attribute value that OpenSSL cannot print (a UTF8String that is not UTF-8, a
 * BMPString of odd length): its raw bytes, with RFC 2253's special characters escaped; what
 * could reach a terminal is escaped afterwards with the rest of the line. */
static int raw_value(BIO *bio, const ASN1_STRING *v)
{
    const unsigned char *d = ASN1_STRING_get0_data(v);
    int n = ASN1_STRING_length(v);

    for (int i = 0; i < n; i++) {
        if (strchr(",+\"\\<>;", d[i]) != NULL && d[i] != '\0' && BIO_write(bio, "\\", 1) != 1)
            return -1;
        if (BIO_write(bio, d + i, 1) != 1)
            return -1;
    }
    return 0;
}

/* The name entry by entry, for a name that X509_NAME_print_ex refuses as a whole: each entry
 * printed alone, or as its raw bytes when even that fails, so one bad value does not hide the
 * others. Same order and separators as XN_FLAG_RFC2253. */
static int name_by_entry(BIO *bio, const X509_NAME *name, unsigned long flags)
{
    int n = X509_NAME_entry_count(name), ret = -1;
    X509_NAME *one = NULL;
    BIO *tmp = NULL;

    for (int i = n - 1; i >= 0; i--) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        char *mem = NULL, field[80];
        long len = 0;
        int nid;

        X509_NAME_free(one);
        BIO_free(tmp);
        if ((one = X509_NAME_new()) == NULL || (tmp = BIO_new(BIO_s_mem())) == NULL)
            goto end;
        /* entries of one multi-valued RDN are joined by '+', RDNs by ',' */
        if (i < n - 1 && BIO_puts(bio, X509_NAME_ENTRY_set(e) ==
                                               X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i + 1))
                                           ? "+"
                                           : ",") != 1)
            goto end;
        if (X509_NAME_add_entry(one, e, -1, 0) && X509_NAME_print_ex(tmp, one, 0, flags) >= 0 &&
            (len = BIO_get_mem_data(tmp, &mem)) > 0) {
            if (BIO_write(bio, mem, (int)len) != (int)len)
                goto end;
            continue;
        }
        nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        if (nid == NID_undef || OBJ_nid2sn(nid) == NULL)
            OBJ_obj2txt(field, sizeof(field), X509_NAME_ENTRY_get_object(e), 1);
        else
            snprintf(field, sizeof(field), "%s", OBJ_nid2sn(nid));
        if (BIO_printf(bio, "%s=", field) <= 0 || raw_value(bio, X509_NAME_ENTRY_get_data(e)) != 0)
            goto end;
    }
    ret = 0;
end:
    X509_NAME_free(one);
    BIO_free(tmp);
    ERR_clear_error();
    return ret;
}

/*
 * RFC 2253 order and escaping, UTF-8 kept readable instead of \C3\A9 escapes, and OpenSSL's own
 * escaping of control characters (\1B) left out so that lib/escape.c escapes them, C1 controls
 * and malformed bytes the one way every output of dbtrust does (\x1b).
 */
void dbt_name_line(const X509_NAME *name, char *out, size_t outsz)
{
    const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~ASN1_STRFLGS_ESC_CTRL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem = NULL;
    long n;

    if (outsz == 0)
        return;
    out[0] = '\0';
    if (bio == NULL)
        return;
    if (X509_NAME_print_ex(bio, name, 0, flags) < 0) {
        ERR_clear_error();
        (void)BIO_reset(bio);
        if (name_by_entry(bio, name, flags) != 0)
            goto end;
    }
    /* Display only: a longer name is cut, at a character (names are compared as X509_NAMEs,
     * never as text). */
    if ((n = BIO_get_mem_data(bio, &mem)) > 0)
        dbt_escape(mem, (size_t)n, out, outsz);
end:
    BIO_free(bio);
}

static void first_cn(const X509_NAME *name, const char *whole, char *out, size_t outsz)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    int n;

    if (i >= 0 && (n = ASN1_STRING_to_UTF8(
                       &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)))) >= 0) {
        dbt_escape((const char *)utf8, (size_t)n, out, outsz);
        OPENSSL_free(utf8);
        return;
    }
    ERR_clear_error();
    dbt_escape(whole, strlen(whole), out, outsz); /* already escaped: this only cuts it */
}

static void key_facts(X509 *x, dbt_certinfo *ci)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);

    if (pk == NULL) {
        /* An algorithm this OpenSSL cannot load: still name it from the SPKI OID. */
        ASN1_OBJECT *oid = NULL;
        X509_PUBKEY *spki = X509_get_X509_PUBKEY(x);

        if (spki != NULL && X509_PUBKEY_get0_param(&oid, NULL, NULL, NULL, spki) && oid != NULL)
            OBJ_obj2txt(ci->key_type, sizeof(ci->key_type), oid, 0);
        else
            snprintf(ci->key_type, sizeof(ci->key_type), "unknown");
        ERR_clear_error();
        return;
    }
    ci->key_bits = EVP_PKEY_get_bits(pk);
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        snprintf(ci->key_type, sizeof(ci->key_type), "RSA");
        break;
    case EVP_PKEY_RSA_PSS:
        snprintf(ci->key_type, sizeof(ci->key_type), "RSASSA-PSS");
        break;
    case EVP_PKEY_EC:
        snprintf(ci->key_type, sizeof(ci->key_type), "EC");
        if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, ci->key_curve,
                                            sizeof(ci->key_curve), NULL))
            snprintf(ci->key_curve, sizeof(ci->key_curve), "explicit");
        break;
    case EVP_PKEY_ED25519:
        snprintf(ci->key_type, sizeof(ci->key_type), "Ed25519");
        break;
    case EVP_PKEY_ED448:
        snprintf(ci->key_type, sizeof(ci->key_type), "Ed448");
        break;
    case EVP_PKEY_DSA:
        snprintf(ci->key_type, sizeof(ci->key_type), "DSA");
        break;
    default: {
        const char *tn = EVP_PKEY_get0_type_name(pk);
        snprintf(ci->key_type, sizeof(ci->key_type), "%s", tn != NULL ? tn : "unknown");
    }
    }
    ERR_clear_error();
}

static void sig_alg(X509 *x, char *out, size_t outsz)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *oid = NULL;
    int nid = X509_get_signature_nid(x);

    if (nid != NID_undef) {
        snprintf(out, outsz, "%s", OBJ_nid2ln(nid));
        return;
    }
    X509_get0_signature(NULL, &alg, x);
    if (alg != NULL)
        X509_ALGOR_get0(&oid, NULL, NULL, alg);
    if (oid == NULL || OBJ_obj2txt(out, (int)outsz, oid, 1) <= 0)
        snprintf(out, outsz, "unknown");
}

int dbt_certinfo_get(X509 *x, dbt_certinfo *ci, dbt_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = 0, ca;

    memset(ci, 0, sizeof(*ci));
    if (!X509_digest(x, EVP_sha1(), md, &mdlen) || mdlen != 20) {
        dbt_err_ossl(err, "cannot compute the SHA-1 fingerprint");
        return -1;
    }
    dbt_hex(md, mdlen, ci->sha1);
    if (!X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32) {
        dbt_err_ossl(err, "cannot compute the SHA-256 fingerprint");
        return -1;
    }
    dbt_hex(md, mdlen, ci->sha256);
    if (serial_hex(x, ci->serial, sizeof(ci->serial), err) != 0)
        return -1;
    dbt_name_line(X509_get_subject_name(x), ci->subject, sizeof(ci->subject));
    dbt_name_line(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer));
    first_cn(X509_get_subject_name(x), ci->subject, ci->subject_cn, sizeof(ci->subject_cn));
    if (dbt_asn1_time_to_epoch(X509_get0_notBefore(x), &ci->not_before) != 0 ||
        dbt_asn1_time_to_epoch(X509_get0_notAfter(x), &ci->not_after) != 0) {
        dbt_err_ossl(err, "certificate %s has an unreadable validity date", ci->sha256);
        return -1;
    }
    key_facts(x, ci);
    sig_alg(x, ci->sig_alg, sizeof(ci->sig_alg));
    /* 1: basicConstraints CA:TRUE; 3: a v1 self-signed root. Not keyUsage or Netscape types. */
    ca = X509_check_ca(x);
    ci->is_ca = ca == 1 || ca == 3;
    ci->self_signed = X509_self_signed(x, 1) == 1;
    ci->subject_hash = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok);
    if (ok)
        ci->issuer_hash = X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL, &ok);
    if (!ok) {
        dbt_err_ossl(err, "certificate %s: cannot hash its names", ci->sha256);
        return -1;
    }
    ERR_clear_error();
    return 0;
}

long dbt_days_left(int64_t t, int64_t now)
{
    long long d = (long long)t - (long long)now;

    return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

dbt_cert_status dbt_certinfo_status(const dbt_certinfo *ci, int64_t now, long warn_days,
                                    int check_not_before, long *days_left)
{
    long days = dbt_days_left(ci->not_after, now);

    if (days_left != NULL)
        *days_left = days;
    if (ci->not_after < now)
        return DBT_CERT_EXPIRED;
    if (check_not_before && ci->not_before > now)
        return DBT_CERT_NOT_YET_VALID;
    return days < warn_days ? DBT_CERT_EXPIRING : DBT_CERT_OK;
}
