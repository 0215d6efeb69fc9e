/* PKCS#12: reading the certificates of any PKCS#12 file (trusted certificate bags and the
 * certificates of key entries), and writing truststores that Java lists as trustedCertEntry. */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "jks.h"
#include "trust.h"

/* Oracle's "trusted key usage" bag attribute: Java's PKCS12KeyStore makes a certificate bag
 * that carries it a trustedCertEntry; without it the bag is ignored unless a key claims it. */
#define P12_ORACLE_TRUSTED_KEY_USAGE "2.16.840.1.113894.746875.1.1"
/* Java 17's own PBE and MAC iteration count. */
#define P12_ITER 10000
/* Certificates per encrypted safe (GnuTLS MAX_BAG_ELEMENTS is 32). */
#define P12_BAGS_PER_SAFE 32
/* Nesting limit for safeContents bags inside bags: real files use none. */
#define P12_MAX_DEPTH 8

typedef struct p12_rd {
    const char *src;
    dbt_bundle *into;
    int bag;          /* 1-based number of the bag being read, counted across all safes */
    int mac_ok;       /* the MAC confirmed pass (an undecryptable safe is then not a password
                         problem) */
    int pass_known;   /* pass is the password to use; otherwise try "" and none */
    const char *pass; /* may be NULL: "no password", which PKCS#12 tells apart from "" */
    /* OpenSSL 3 keeps the RC2, RC4 and DES PBEs that Java 8 and OpenSSL 1.x wrote in its legacy
     * provider; it is loaded into a private library context only for such files. */
    OSSL_LIB_CTX *legacy;
    OSSL_PROVIDER *legacy_default, *legacy_legacy;
    int legacy_tried;
} p12_rd;

/* 1 when pass reproduces the file's MAC, 0 when it does not, -1 when it cannot be computed. */
static int p12_mac_matches(PKCS12 *p12, const char *pass)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const ASN1_OCTET_STRING *want = NULL;

    if (!PKCS12_gen_mac(p12, pass, pass != NULL ? -1 : 0, mac, &maclen))
        return -1;
    PKCS12_get0_mac(&want, NULL, NULL, NULL, p12);
    return want != NULL && (int)maclen == ASN1_STRING_length(want) &&
           CRYPTO_memcmp(mac, ASN1_STRING_get0_data(want), maclen) == 0;
}

static OSSL_LIB_CTX *p12_legacy_ctx(p12_rd *r)
{
    if (r->legacy_tried)
        return r->legacy;
    r->legacy_tried = 1;
    if ((r->legacy = OSSL_LIB_CTX_new()) == NULL)
        return NULL;
    r->legacy_default = OSSL_PROVIDER_load(r->legacy, "default");
    r->legacy_legacy = OSSL_PROVIDER_load(r->legacy, "legacy");
    /* OPENSSL_MODULES may point elsewhere (a test tree, another provider's directory); the
     * legacy module ships in OpenSSL's own directory. */
    if (r->legacy_legacy == NULL &&
        OSSL_PROVIDER_set_default_search_path(r->legacy, OPENSSL_info(OPENSSL_INFO_MODULES_DIR)))
        r->legacy_legacy = OSSL_PROVIDER_load(r->legacy, "legacy");
    if (r->legacy_default == NULL || r->legacy_legacy == NULL) {
        OSSL_PROVIDER_unload(r->legacy_legacy);
        OSSL_PROVIDER_unload(r->legacy_default);
        OSSL_LIB_CTX_free(r->legacy);
        r->legacy = NULL, r->legacy_default = r->legacy_legacy = NULL;
    }
    return r->legacy;
}

static void p12_rd_cleanup(p12_rd *r)
{
    OSSL_PROVIDER_unload(r->legacy_legacy);
    OSSL_PROVIDER_unload(r->legacy_default);
    OSSL_LIB_CTX_free(r->legacy);
}

/* The bags of a password-encrypted safe (PKCS#7 encryptedData), or NULL with err set. */
static STACK_OF(PKCS12_SAFEBAG) * p12_decrypt(p12_rd *r, PKCS7 *p7, int safe, dbt_err *err)
{
    const char *tries[2];
    const X509_ALGOR *alg;
    const ASN1_OCTET_STRING *ct;
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    char algname[80] = "an unknown algorithm";
    int ntries = 0, i, round;

    if (p7->d.encrypted == NULL || p7->d.encrypted->enc_data == NULL ||
        p7->d.encrypted->enc_data->algorithm == NULL ||
        p7->d.encrypted->enc_data->enc_data == NULL) {
        dbt_err_set(err, "%s: PKCS#12 safe %d is encrypted but holds no data; the file is corrupt",
                    r->src, safe);
        return NULL;
    }
    alg = p7->d.encrypted->enc_data->algorithm;
    ct = p7->d.encrypted->enc_data->enc_data;
    OBJ_obj2txt(algname, sizeof(algname), alg->algorithm, 0);
    /* An empty password is keyed as either nothing or a lone BMP NUL, depending on who wrote
     * the file (and the MAC and the encryption may disagree), so both are tried. */
    if (r->pass_known && r->pass != NULL && r->pass[0] != '\0') {
        tries[ntries++] = r->pass;
    } else {
        tries[ntries++] = r->pass_known ? r->pass : "";
        tries[ntries++] = r->pass_known && r->pass == NULL ? "" : NULL;
    }
    ERR_set_mark();
    for (round = 0; round < 2 && bags == NULL; round++) {
        OSSL_LIB_CTX *ctx = round == 0 ? NULL : p12_legacy_ctx(r);

        if (round == 1 && ctx == NULL)
            break;
        for (i = 0; i < ntries && bags == NULL; i++)
            bags = PKCS12_item_decrypt_d2i_ex(alg, ASN1_ITEM_rptr(PKCS12_SAFEBAGS), tries[i],
                                              tries[i] != NULL ? (int)strlen(tries[i]) : 0, ct, 1,
                                              ctx, NULL);
    }
    if (bags != NULL) {
        ERR_pop_to_mark();
        return bags;
    }
    ERR_clear_last_mark();
    if (r->mac_ok)
        dbt_err_ossl(err,
                     "%s: PKCS#12 safe %d is encrypted with %s, which OpenSSL here cannot "
                     "decrypt (is its legacy provider installed?)",
                     r->src, safe, algname);
    else
        dbt_err_ossl(err,
                     "%s: PKCS#12 safe %d (encrypted with %s) cannot be decrypted: wrong "
                     "password? use --password",
                     r->src, safe, algname);
    return NULL;
}

/*
 * Java's trusted-key-usage attribute on a certificate bag says what the certificate is trusted
 * for: anyExtendedKeyUsage keeps it plain, a narrower list becomes x's trust list so that no
 * output widens it. Refuses a second such attribute (Java keeps only the last) and values that
 * are not OIDs, naming the bag.
 */
static int p12_read_trust(p12_rd *r, const PKCS12_SAFEBAG *bag, X509 *x, dbt_err *err)
{
    const STACK_OF(X509_ATTRIBUTE) *attrs = PKCS12_SAFEBAG_get0_attrs(bag);
    const ASN1_OBJECT *usages[DBT_TRUST_MAX_USAGES];
    ASN1_OBJECT *tku = OBJ_txt2obj(P12_ORACLE_TRUSTED_KEY_USAGE, 1);
    X509_ATTRIBUTE *found = NULL;
    int i, n = 0, ret = -1;

    if (tku == NULL) {
        dbt_err_ossl(err, "%s: out of memory", r->src);
        return -1;
    }
    for (i = 0; i < sk_X509_ATTRIBUTE_num(attrs); i++) {
        X509_ATTRIBUTE *a = sk_X509_ATTRIBUTE_value(attrs, i);

        if (OBJ_cmp(X509_ATTRIBUTE_get0_object(a), tku) != 0)
            continue;
        if (found != NULL) {
            dbt_err_set(err,
                        "%s: PKCS#12 bag %d carries the trusted key usage attribute twice; "
                        "which one applies is unclear, so the file is refused",
                        r->src, r->bag);
            goto end;
        }
        found = a;
    }
    if (found == NULL) {
        ret = 0;
        goto end;
    }
    n = X509_ATTRIBUTE_count(found);
    if (n > DBT_TRUST_MAX_USAGES) {
        dbt_err_set(err,
                    "%s: PKCS#12 bag %d: its trusted key usage attribute lists %d usages; at "
                    "most %d are read",
                    r->src, r->bag, n, DBT_TRUST_MAX_USAGES);
        goto end;
    }
    for (i = 0; i < n; i++) {
        ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(found, i);

        if (t == NULL || t->type != V_ASN1_OBJECT) {
            dbt_err_set(err,
                        "%s: PKCS#12 bag %d: value %d of its trusted key usage attribute is not "
                        "an OBJECT IDENTIFIER; the file is corrupt",
                        r->src, r->bag, i + 1);
            goto end;
        }
        usages[i] = t->value.object;
    }
    if (dbt_trust_set_usages(x, usages, (size_t)(n > 0 ? n : 0)) != 0) {
        dbt_err_ossl(err, "%s: PKCS#12 bag %d: cannot keep its trusted key usage", r->src, r->bag);
        goto end;
    }
    ret = 0;
end:
    ASN1_OBJECT_free(tku);
    return ret;
}

static int p12_read_bags(p12_rd *r, const STACK_OF(PKCS12_SAFEBAG) * bags, int depth, dbt_err *err)
{
    int i;

    for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        char *alias;
        X509 *x;

        r->bag++;
        switch (PKCS12_SAFEBAG_get_nid(bag)) {
        case NID_certBag:
            if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) {
                char type[80];
                OBJ_obj2txt(type, sizeof(type), PKCS12_SAFEBAG_get0_bag_type(bag), 0);
                dbt_err_set(err,
                            "%s: PKCS#12 bag %d holds a certificate of type %s; only X.509 "
                            "certificates can be read",
                            r->src, r->bag, type);
                return -1;
            }
            if ((x = PKCS12_SAFEBAG_get1_cert(bag)) == NULL) {
                dbt_err_ossl(err, "%s: PKCS#12 bag %d: the certificate is not valid DER", r->src,
                             r->bag);
                return -1;
            }
            if (p12_read_trust(r, bag, x, err) != 0) {
                X509_free(x);
                return -1;
            }
            alias = PKCS12_get_friendlyname(bag);
            if (dbt_bundle_push(r->into, x, r->bag, 0, alias, err) < 0) {
                X509_free(x); /* the bundle takes x only on success */
                OPENSSL_free(alias);
                return -1;
            }
            OPENSSL_free(alias);
            break;
        case NID_safeContentsBag:
            if (depth >= P12_MAX_DEPTH) {
                dbt_err_set(err,
                            "%s: PKCS#12 bag %d nests safe contents more than %d deep; the "
                            "file is corrupt or hostile",
                            r->src, r->bag, P12_MAX_DEPTH);
                return -1;
            }
            if (p12_read_bags(r, PKCS12_SAFEBAG_get0_safes(bag), depth + 1, err) < 0)
                return -1;
            break;
        default:
            /* Keys (plain or shrouded), CRLs and secrets are not certificates; a key entry's
             * certificates sit in their own certificate bags, read above. */
            break;
        }
    }
    return 0;
}

int dbt_p12_decode(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                   dbt_err *err)
{
    p12_rd r;
    PKCS12 *p12 = NULL;
    STACK_OF(PKCS7) *safes = NULL;
    const unsigned char *p = data;
    int i, ret = -1;

    memset(&r, 0, sizeof(r));
    r.src = into->source != NULL ? into->source : "<PKCS#12>";
    r.into = into;
    if (data == NULL || len == 0 || len > LONG_MAX ||
        (p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
        dbt_err_ossl(err, "%s: not a PKCS#12 file", r.src);
        goto end;
    }
    if ((size_t)(p - data) != len) {
        dbt_err_set(err,
                    "%s: %zu unexpected bytes after the PKCS#12 data at offset %zu; the file "
                    "is corrupt or several files were joined",
                    r.src, len - (size_t)(p - data), (size_t)(p - data));
        goto end;
    }
    if (PKCS12_mac_present(p12)) {
        /* "" and no password are different keys in PKCS#12; writers disagree on which an
         * empty password means, so both are tried. */
        const char *tries[2];
        int ntries = 0, m = 0;

        tries[ntries++] = password != NULL ? password : "";
        if (password == NULL || password[0] == '\0')
            tries[ntries++] = NULL;
        for (i = 0; i < ntries && m == 0; i++) {
            if ((m = p12_mac_matches(p12, tries[i])) < 0) {
                dbt_err_ossl(err, "%s: the PKCS#12 integrity check cannot be computed", r.src);
                goto end;
            }
            if (m == 1)
                r.pass = tries[i];
        }
        if (m == 0) {
            dbt_err_set(err, "%s: PKCS#12 integrity check failed: wrong password? use --password",
                        r.src);
            goto end;
        }
        r.mac_ok = r.pass_known = 1;
    } else {
        /* No MAC (Java 18+ passwordless truststores, openssl pkcs12 -nomac): nothing vouches
         * for the content; encrypted safes still need the right password. */
        r.pass = password;
        r.pass_known = password != NULL;
    }
    if ((safes = PKCS12_unpack_authsafes(p12)) == NULL) {
        dbt_err_ossl(err, "%s: the PKCS#12 content cannot be read", r.src);
        goto end;
    }
    for (i = 0; i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(p7->type), rc;

        if (nid == NID_pkcs7_data) {
            if ((bags = PKCS12_unpack_p7data(p7)) == NULL) {
                dbt_err_ossl(err, "%s: PKCS#12 safe %d cannot be read", r.src, i + 1);
                goto end;
            }
        } else if (nid == NID_pkcs7_encrypted) {
            if ((bags = p12_decrypt(&r, p7, i + 1, err)) == NULL)
                goto end;
        } else {
            char type[80];
            OBJ_obj2txt(type, sizeof(type), p7->type, 0);
            dbt_err_set(err,
                        "%s: PKCS#12 safe %d is %s; only plain and password-encrypted "
                        "safes can be read",
                        r.src, i + 1, type);
            goto end;
        }
        rc = p12_read_bags(&r, bags, 0, err);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
        if (rc < 0)
            goto end;
    }
    ret = 0;
end:
    sk_PKCS7_pop_free(safes, PKCS7_free);
    PKCS12_free(p12);
    p12_rd_cleanup(&r);
    return ret;
}

int dbt_p12_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err)
{
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12 *p12 = NULL;
    char **aliases = NULL;
    const ASN1_OBJECT *any_eku = OBJ_nid2obj(NID_anyExtendedKeyUsage);
    unsigned char *der = NULL, *p;
    const unsigned char *pw;
    size_t i;
    int n, ret = -1;

    if (password == NULL)
        password = "changeit";
    for (pw = (const unsigned char *)password; *pw; pw++)
        if (*pw >= 0x80) {
            /* Java 17 keytool fails on such a file with "getSecretKey failed: Password is not
             * ASCII"; a truststore Java cannot open is of no use. */
            dbt_err_set(err, "a PKCS#12 truststore password must be ASCII: Java cannot open "
                             "PKCS#12 files protected with other characters; choose another "
                             "password or write JKS");
            return -1;
        }
    if ((aliases = dbt_jks_aliases(b, 0, err)) == NULL)
        return -1;
    if ((bags = sk_PKCS12_SAFEBAG_new_null()) == NULL) {
        dbt_err_ossl(err, "cannot build the PKCS#12 truststore");
        goto end;
    }
    for (i = 0; i < b->n; i++) {
        PKCS12_SAFEBAG *bag = PKCS12_SAFEBAG_create_cert(b->certs[i].x509);

        if (bag == NULL || !sk_PKCS12_SAFEBAG_push(bags, bag)) {
            PKCS12_SAFEBAG_free(bag);
            dbt_err_ossl(err, "certificate %zu cannot be put in a PKCS#12 bag", i + 1);
            goto end;
        }
        /* The value is an OBJECT IDENTIFIER; with length -1 OpenSSL copies the ASN1_OBJECT. */
        if (!PKCS12_add_friendlyname_utf8(bag, aliases[i], -1) ||
            !PKCS12_add1_attr_by_txt(bag, P12_ORACLE_TRUSTED_KEY_USAGE, V_ASN1_OBJECT,
                                     (const unsigned char *)any_eku, -1)) {
            dbt_err_ossl(err, "certificate %zu (alias \"%s\"): cannot set its PKCS#12 attributes",
                         i + 1, aliases[i]);
            goto end;
        }
    }
    /* AES-256-CBC/PBKDF2 (HMAC-SHA-256) safes and an HMAC-SHA-256 MAC, as Java 17 writes. At
     * most P12_BAGS_PER_SAFE certificates per safe: GnuTLS reads only the first 32 elements of
     * a safe and silently drops the rest (certtool --p12-info showed 32 of 108); Java and
     * OpenSSL read any number of safes. */
    i = 0;
    do { /* an empty bundle still gets one (empty) safe, as before */
        STACK_OF(PKCS12_SAFEBAG) *chunk = sk_PKCS12_SAFEBAG_new_null();
        size_t j;
        int ok = chunk != NULL;

        /* The chunk borrows the bags; "bags" keeps ownership. */
        for (j = i; ok && j < b->n && j < i + P12_BAGS_PER_SAFE; j++)
            ok = sk_PKCS12_SAFEBAG_push(chunk, sk_PKCS12_SAFEBAG_value(bags, (int)j)) > 0;
        ok = ok && PKCS12_add_safe(&safes, chunk, NID_aes_256_cbc, P12_ITER, password);
        sk_PKCS12_SAFEBAG_free(chunk);
        if (!ok) {
            dbt_err_ossl(err, "cannot build the PKCS#12 truststore");
            goto end;
        }
        i += P12_BAGS_PER_SAFE;
    } while (i < b->n);
    if ((p12 = PKCS12_add_safes(safes, 0)) == NULL ||
        !PKCS12_set_mac(p12, password, -1, NULL, 0, P12_ITER, EVP_sha256())) {
        dbt_err_ossl(err, "cannot build the PKCS#12 truststore");
        goto end;
    }
    if ((n = i2d_PKCS12(p12, NULL)) <= 0 || (der = OPENSSL_malloc((size_t)n)) == NULL) {
        dbt_err_ossl(err, "cannot encode the PKCS#12 truststore");
        goto end;
    }
    p = der;
    if (i2d_PKCS12(p12, &p) != n) {
        dbt_err_ossl(err, "cannot encode the PKCS#12 truststore");
        goto end;
    }
    *out = der, *outlen = (size_t)n;
    der = NULL;
    ret = 0;
end:
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    dbt_jks_aliases_free(aliases, b->n);
    return ret;
}
