/* PKCS#12: reading the certificates of any PKCS#12 file (trusted certificate bags and the
 * certificates of key entries), and writing truststores that Java lists as trustedCertEntry. */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "encode.h"
#include "jks.h"
#include "p12.h"
#include "trust.h"

/* Oracle's "trusted key usage" bag attribute: Java's PKCS12KeyStore makes a certificate bag
 * that carries it a trustedCertEntry; without it the bag is ignored unless a key claims it. */
#define P12_ORACLE_TRUSTED_KEY_USAGE "2.16.840.1.113894.746875.1.1"
/* Java 17's own PBE and MAC iteration count (far below DBT_P12_MAX_ITER). */
#define P12_ITER 10000
/* Certificates per encrypted safe (GnuTLS MAX_BAG_ELEMENTS is 32). */
#define P12_BAGS_PER_SAFE 32
/* Tried last when no password is given: Java's (and dbtrust's) default truststore password. */
#define P12_DEFAULT_PASS "changeit"
/* Nesting limit for safeContents bags inside bags: real files use none. */
#define P12_MAX_DEPTH 8
/* Key entries whose chains are placed by issuer, and the longest chain placed: only -list's
 * display depends on them; every certificate of a file with keys is a key's either way. */
#define P12_MAX_KEY_WALKS 64
#define P12_MAX_CHAIN 16

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
    long work;       /* key-derivation iterations spent so far, bounded by DBT_P12_MAX_WORK */
    int derivations; /* key derivations started so far, bounded by DBT_P12_MAX_DERIVE */
    /* Certificate bags without Java's trust attribute (index into "into" and localKeyID), and
     * the key bags with theirs: once every bag is read, such a certificate is a key's chain
     * when the file holds a key. Each list is bounded by the bags of the file. */
    struct p12_id {
        size_t idx;
        char *alias;
        unsigned char *id;
        int idlen;
    } * untrusted, *keys;
    size_t nuntrusted, nkeys, cuntrusted, ckeys;
} p12_rd;

/* Records a bag's localKeyID (copied; may be absent) in list; 0 or -1 when out of memory. */
static int p12_note(struct p12_id **list, size_t *n, size_t *cap, size_t idx,
                    const PKCS12_SAFEBAG *bag, const char *alias)
{
    const ASN1_TYPE *t = PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID);
    struct p12_id *e;

    if (*n == *cap) {
        size_t c = *cap == 0 ? 8 : *cap * 2;
        struct p12_id *l = realloc(*list, c * sizeof(*l));

        if (l == NULL)
            return -1;
        *list = l, *cap = c;
    }
    e = &(*list)[*n];
    memset(e, 0, sizeof(*e));
    e->idx = idx;
    if (alias != NULL && (e->alias = strdup(alias)) == NULL)
        return -1;
    if (t != NULL && t->type == V_ASN1_OCTET_STRING && t->value.octet_string != NULL) {
        e->idlen = ASN1_STRING_length(t->value.octet_string);
        if (e->idlen > 0 && (e->id = OPENSSL_memdup(ASN1_STRING_get0_data(t->value.octet_string),
                                                    (size_t)e->idlen)) == NULL) {
            free(e->alias);
            return -1;
        }
    }
    (*n)++;
    return 0;
}

static void p12_ids_free(struct p12_id *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i].alias);
        OPENSSL_free(list[i].id);
    }
    free(list);
}

/*
 * Marks each certificate bag without the trust attribute: in a file with a key it is a key's
 * chain, never an anchor; in a file without keys it stays a plain bag. A key's own certificate
 * has its localKeyID; the rest of its chain is found by issuer from there, as Java builds it
 * (at most P12_MAX_CHAIN steps for each of the first P12_MAX_KEY_WALKS keys, each step a scan
 * of the bags: bounded work whatever the file holds). A bag no walk reaches is counted to the
 * first key: in a keystore with keys, a bag without the attribute is not a Java anchor either.
 */
static int p12_mark_origins(p12_rd *r, dbt_err *err)
{
    dbt_bundle *b = r->into;
    size_t i, j, steps;

    if (r->nkeys > 0 && b->key_alias == NULL && r->keys[0].alias != NULL &&
        (b->key_alias = strdup(r->keys[0].alias)) == NULL)
        goto oom;
    b->nkeys += r->nkeys;
    if (r->nkeys == 0) {
        for (i = 0; i < r->nuntrusted; i++)
            b->certs[r->untrusted[i].idx].origin = DBT_ORIGIN_P12_NOTRUST;
        return 0;
    }
    for (i = 0; i < r->nuntrusted; i++)
        b->certs[r->untrusted[i].idx].chain_pos = 0; /* 0: not placed yet */
    for (j = 0; j < r->nkeys && j < P12_MAX_KEY_WALKS; j++) {
        const struct p12_id *k = &r->keys[j];
        dbt_cert *cur = NULL;
        int pos = 1;

        for (i = 0; i < r->nuntrusted && cur == NULL && k->id != NULL; i++) {
            struct p12_id *u = &r->untrusted[i];

            if (u->id != NULL && u->idlen == k->idlen &&
                memcmp(u->id, k->id, (size_t)k->idlen) == 0 && b->certs[u->idx].chain_pos == 0)
                cur = &b->certs[u->idx];
        }
        for (steps = 0; cur != NULL && steps < P12_MAX_CHAIN; steps++) {
            dbt_cert *next = NULL;

            cur->origin = DBT_ORIGIN_KEY_CHAIN;
            cur->chain_pos = pos++;
            free(cur->alias);
            cur->alias = NULL;
            if (k->alias != NULL && (cur->alias = strdup(k->alias)) == NULL)
                goto oom;
            if (X509_check_issued(cur->x509, cur->x509) == X509_V_OK)
                break; /* self-signed: the chain ends */
            for (i = 0; i < r->nuntrusted && next == NULL; i++) {
                dbt_cert *c = &b->certs[r->untrusted[i].idx];

                if (c->chain_pos == 0 && X509_check_issued(c->x509, cur->x509) == X509_V_OK)
                    next = c;
            }
            cur = next;
        }
    }
    /* Unplaced ones are numbered past any real chain place, so -list never shows them. */
    for (i = 0, j = 1000; i < r->nuntrusted; i++) {
        dbt_cert *c = &b->certs[r->untrusted[i].idx];

        if (c->chain_pos != 0)
            continue;
        c->origin = DBT_ORIGIN_KEY_CHAIN;
        c->chain_pos = (int)(j < INT_MAX ? ++j : INT_MAX);
        if (c->alias == NULL && r->keys[0].alias != NULL &&
            (c->alias = strdup(r->keys[0].alias)) == NULL)
            goto oom;
    }
    return 0;
oom:
    dbt_err_set(err, "%s: out of memory", r->src);
    return -1;
}

/* The key derivation of RFC 9579 PBMAC1-params ::= SEQUENCE { keyDerivationFunc
 * AlgorithmIdentifier, messageAuthScheme AlgorithmIdentifier }, or NULL. OpenSSL 3.4+ computes
 * such MACs with PBKDF2 and 3.0 refuses them; either way their count is checked. Read by hand
 * because OpenSSL 3.0 exports no ASN.1 type for it. */
static X509_ALGOR *p12_pbmac1_kdf(const ASN1_TYPE *param)
{
    const unsigned char *p;
    long len = 0;
    int tag = 0, xclass = 0;

    if (param == NULL || param->type != V_ASN1_SEQUENCE || param->value.sequence == NULL)
        return NULL;
    p = ASN1_STRING_get0_data(param->value.sequence);
    if ((ASN1_get_object(&p, &len, &tag, &xclass, ASN1_STRING_length(param->value.sequence)) &
         0x80) != 0 ||
        tag != V_ASN1_SEQUENCE)
        return NULL;
    return d2i_X509_ALGOR(NULL, &p, len);
}

/* An INTEGER for a message: its decimal value, or its size when it is absurdly long (printing
 * a hostile megabyte-long number in decimal would itself be slow). */
static void p12_int_text(const ASN1_INTEGER *a, char *buf, size_t n)
{
    BIGNUM *bn = NULL;
    char *dec = NULL;

    if (a != NULL && ASN1_STRING_length(a) <= 16 && (bn = ASN1_INTEGER_to_BN(a, NULL)) != NULL)
        dec = BN_bn2dec(bn);
    if (dec != NULL)
        snprintf(buf, n, "%s", dec);
    else
        snprintf(buf, n, "a %d-byte number", a != NULL ? ASN1_STRING_length(a) : 0);
    OPENSSL_free(dec);
    BN_free(bn);
}

/* Checks one iteration count (what names it in messages); *iter gets its value. */
static int p12_iter_ok(const p12_rd *r, const ASN1_INTEGER *a, const char *what, long *iter,
                       dbt_err *err)
{
    int64_t v = 0;
    char shown[64];
    int fits;

    if (a == NULL) { /* the MAC's count is optional and then 1 */
        *iter = 1;
        return 0;
    }
    fits = ASN1_INTEGER_get_int64(&v, a) == 1;
    if (fits && v >= 1 && v <= DBT_P12_MAX_ITER) {
        *iter = (long)v;
        return 0;
    }
    ERR_clear_error();
    p12_int_text(a, shown, sizeof(shown));
    if (ASN1_STRING_type(a) == V_ASN1_NEG_INTEGER || (fits && v < 1))
        dbt_err_set(err,
                    "%s: %s has iteration count %s, which is not a positive number; the file is "
                    "corrupt",
                    r->src, what, shown);
    else
        dbt_err_set(err,
                    "%s: %s has iteration count %s, above the limit of %ld (Java refuses more "
                    "too; OpenSSL writes 2048, Java 10000); refused before deriving any key: the "
                    "file is corrupt or hostile, export it again with a usual count",
                    r->src, what, shown, DBT_P12_MAX_ITER);
    return -1;
}

/*
 * Hash work of a KDF that derives len bytes from a hash md (NULL: unknown, taken as SHA-1): one
 * unit per output block and iteration, and twice that for 128-byte-block hashes (SHA-384,
 * SHA-512), which cost about twice as much per iteration as SHA-1 and SHA-256.
 */
static long p12_units(int len, const EVP_MD *md)
{
    int mdlen = md != NULL ? EVP_MD_get_size(md) : 20;
    int weight = md != NULL && EVP_MD_get_block_size(md) > 64 ? 2 : 1;

    if (len <= 0 || mdlen <= 0)
        return weight;
    return (long)((len + mdlen - 1) / mdlen) * weight;
}

/* The PRF digest of PBKDF2 parameters (HMAC-SHA-1 when absent), or NULL when unknown. */
static const EVP_MD *p12_prf_md(const PBKDF2PARAM *kdf)
{
    int md_nid = NID_sha1;

    if (kdf->prf != NULL &&
        !EVP_PBE_find(EVP_PBE_TYPE_PRF, OBJ_obj2nid(kdf->prf->algorithm), NULL, &md_nid, NULL))
        return NULL;
    return EVP_get_digestbynid(md_nid);
}

/*
 * The cost, in hash iterations, of deriving one key from PBKDF2 parameters (keylen bytes, or the
 * parameters' own keyLength when keylen is 0), or -1 with err set when a count is refused.
 */
static long p12_pbkdf2_cost(const p12_rd *r, const ASN1_TYPE *param, int keylen, const char *what,
                            dbt_err *err)
{
    PBKDF2PARAM *kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), param);
    long iter, cost = -1;
    int64_t kl = 0;

    if (kdf == NULL) {
        ERR_clear_error();
        /* OpenSSL refuses unreadable parameters before deriving anything. */
        return 0;
    }
    if (p12_iter_ok(r, kdf->iter, what, &iter, err) < 0)
        goto end;
    if (kdf->keylength != NULL) {
        /* Only PBMAC1 lets the file choose the length; a huge one multiplies the work. */
        if (ASN1_INTEGER_get_int64(&kl, kdf->keylength) != 1 || kl < 1 || kl > 1024) {
            ERR_clear_error();
            dbt_err_set(err,
                        "%s: %s asks for a derived key of an invalid length; the file is "
                        "corrupt or hostile",
                        r->src, what);
            goto end;
        }
        if (keylen == 0)
            keylen = (int)kl;
    }
    cost = iter * p12_units(keylen, p12_prf_md(kdf));
end:
    PBKDF2PARAM_free(kdf);
    return cost;
}

/* The cost of one try of the MAC (hash iterations), or -1 with err set. */
static long p12_mac_cost(const p12_rd *r, const PKCS12 *p12, dbt_err *err)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_INTEGER *iter_asn = NULL;
    long iter, cost = -1;

    PKCS12_get0_mac(NULL, &alg, NULL, &iter_asn, p12);
    if (p12_iter_ok(r, iter_asn, "the PKCS#12 MAC", &iter, err) < 0)
        return -1;
    if (alg != NULL && OBJ_obj2nid(alg->algorithm) == NID_pbmac1) {
        X509_ALGOR *kdf = p12_pbmac1_kdf(alg->parameter);

        ERR_clear_error();
        if (kdf == NULL) /* OpenSSL cannot compute it either */
            return iter;
        if (OBJ_obj2nid(kdf->algorithm) == NID_id_pbkdf2)
            cost = p12_pbkdf2_cost(r, kdf->parameter, 0, "the PKCS#12 MAC (PBMAC1)", err);
        else
            dbt_err_set(err,
                        "%s: the PKCS#12 MAC (PBMAC1) derives its key with something other "
                        "than PBKDF2, which is not read",
                        r->src);
        X509_ALGOR_free(kdf);
        return cost;
    }
    /* The PKCS#12 KDF derives a MAC key of the digest's size: one block per iteration. */
    return iter * p12_units(0, alg != NULL ? EVP_get_digestbyobj(alg->algorithm) : NULL);
}

/*
 * The cost of one try of decrypting an encrypted safe (hash iterations: PBKDF2 blocks, or the
 * PKCS#12 KDF's key and IV), 0 when OpenSSL would refuse the algorithm before deriving
 * anything, or -1 with err set.
 */
static long p12_safe_cost(const p12_rd *r, const X509_ALGOR *alg, int safe, dbt_err *err)
{
    int nid = OBJ_obj2nid(alg->algorithm), cipher_nid = NID_undef, md_nid = NID_undef;
    char what[64];
    long cost = 0, iter;

    snprintf(what, sizeof(what), "PKCS#12 safe %d", safe);
    if (nid == NID_pbes2) {
        PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        const EVP_CIPHER *c;

        if (p2 == NULL) {
            ERR_clear_error();
            return 0;
        }
        c = EVP_get_cipherbyobj(p2->encryption->algorithm);
        if (OBJ_obj2nid(p2->keyfunc->algorithm) == NID_id_pbkdf2) {
            cost = p12_pbkdf2_cost(r, p2->keyfunc->parameter,
                                   c != NULL ? EVP_CIPHER_get_key_length(c) : 32, what, err);
        } else {
            char kdf[80];

            /* scrypt's cost and memory are chosen by the file too; no PKCS#12 writer uses it. */
            OBJ_obj2txt(kdf, sizeof(kdf), p2->keyfunc->algorithm, 0);
            dbt_err_set(err,
                        "%s: %s derives its key with %s; only PBKDF2 and the PKCS#12 KDF are "
                        "read",
                        r->src, what, kdf);
            cost = -1;
        }
        PBE2PARAM_free(p2);
        return cost;
    }
    if (EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, &cipher_nid, &md_nid, NULL)) {
        PBEPARAM *p1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
        const EVP_CIPHER *c = EVP_get_cipherbynid(cipher_nid);
        const EVP_MD *md = EVP_get_digestbynid(md_nid);

        if (p1 == NULL) {
            ERR_clear_error();
            return 0;
        }
        if (p12_iter_ok(r, p1->iter, what, &iter, err) < 0)
            cost = -1;
        else /* the key and the IV are derived separately */
            cost = iter * (p12_units(c != NULL ? EVP_CIPHER_get_key_length(c) : 24, md) +
                           p12_units(c != NULL ? EVP_CIPHER_get_iv_length(c) : 8, md));
        PBEPARAM_free(p1);
    }
    return cost;
}

/* The algorithm of an encrypted safe, or NULL when it has none (reported when it is read). */
static const X509_ALGOR *p12_safe_alg(const PKCS7 *p7)
{
    if (OBJ_obj2nid(p7->type) != NID_pkcs7_encrypted || p7->d.encrypted == NULL ||
        p7->d.encrypted->enc_data == NULL || p7->d.encrypted->enc_data->enc_data == NULL)
        return NULL;
    return p7->d.encrypted->enc_data->algorithm;
}

/*
 * Before any key is derived: every iteration count within DBT_P12_MAX_ITER, and the least work
 * the file needs (the MAC once, each encrypted safe once) within DBT_P12_MAX_WORK.
 */
static int p12_precheck(p12_rd *r, const PKCS12 *p12, const STACK_OF(PKCS7) * safes, dbt_err *err)
{
    long need = 0, c;
    int i, mac = PKCS12_mac_present(p12), encrypted = 0;

    if (mac && (need = p12_mac_cost(r, p12, err)) < 0)
        return -1;
    for (i = 0; need <= DBT_P12_MAX_WORK && mac + encrypted <= DBT_P12_MAX_DERIVE &&
                i < sk_PKCS7_num(safes);
         i++) {
        const X509_ALGOR *alg = p12_safe_alg(sk_PKCS7_value(safes, i));

        if (alg == NULL)
            continue;
        if ((c = p12_safe_cost(r, alg, i + 1, err)) < 0)
            return -1;
        encrypted++;
        /* need stays within DBT_P12_MAX_WORK + one cost: no overflow. */
        need += c;
    }
    if (mac + encrypted > DBT_P12_MAX_DERIVE) {
        dbt_err_set(err,
                    "%s: reading this PKCS#12 file needs more than %d key derivations (%s%d "
                    "encrypted safes at least); refused before deriving any key: the file is "
                    "corrupt or hostile",
                    r->src, DBT_P12_MAX_DERIVE, mac ? "its MAC and " : "", encrypted);
        return -1;
    }
    if (need > DBT_P12_MAX_WORK) {
        char what[64];

        if (encrypted == 0)
            snprintf(what, sizeof(what), "its MAC");
        else
            snprintf(what, sizeof(what), "%s%d encrypted safe%s", mac ? "its MAC and " : "",
                     encrypted, encrypted == 1 ? "" : "s");
        dbt_err_set(err,
                    "%s: reading this PKCS#12 file needs more than %ld key-derivation iterations "
                    "(%s); refused before deriving any key: the file is corrupt or hostile",
                    r->src, DBT_P12_MAX_WORK, what);
        return -1;
    }
    return 0;
}

/* Counts one key derivation against the file's budget; -1 with err set when it would pass it. */
static int p12_charge(p12_rd *r, long cost, dbt_err *err)
{
    if (r->derivations >= DBT_P12_MAX_DERIVE) {
        dbt_err_set(err,
                    "%s: trying passwords on this PKCS#12 file would pass the limit of %d "
                    "key derivations for one file; give its password (",
                    r->src, DBT_P12_MAX_DERIVE);
        dbt_err_hint(err, DBT_HINT_PASSWORD);
        dbt_err_more(err, ") so that no other is tried");
        return -1;
    }
    if (cost > DBT_P12_MAX_WORK - r->work) {
        dbt_err_set(err,
                    "%s: trying passwords on this PKCS#12 file would pass the limit of %ld "
                    "key-derivation iterations for one file; give its password (",
                    r->src, DBT_P12_MAX_WORK);
        dbt_err_hint(err, DBT_HINT_PASSWORD);
        dbt_err_more(err, ") so that no other is tried");
        return -1;
    }
    r->work += cost;
    r->derivations++;
    return 0;
}

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

/* True when OpenSSL's default library context has the cipher and digest of an encrypted safe,
 * so that a failed decryption is a password or corruption problem, not a missing legacy
 * provider, and trying again in the legacy context would only repeat the key derivation. */
static int p12_default_has(const X509_ALGOR *alg)
{
    int nid = OBJ_obj2nid(alg->algorithm), cipher_nid = NID_undef, md_nid = NID_undef, ok = 0;
    EVP_CIPHER *c = NULL;
    EVP_MD *md = NULL;

    if (nid == NID_pbes2) {
        PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);

        if (p2 != NULL)
            cipher_nid = OBJ_obj2nid(p2->encryption->algorithm);
        PBE2PARAM_free(p2);
    } else if (!EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, &cipher_nid, &md_nid, NULL)) {
        return 0;
    }
    ERR_set_mark();
    ok = cipher_nid != NID_undef &&
         (c = EVP_CIPHER_fetch(NULL, OBJ_nid2sn(cipher_nid), NULL)) != NULL &&
         (md_nid == NID_undef || (md = EVP_MD_fetch(NULL, OBJ_nid2sn(md_nid), NULL)) != NULL);
    ERR_pop_to_mark();
    EVP_CIPHER_free(c);
    EVP_MD_free(md);
    return ok;
}

/* The bags of a password-encrypted safe (PKCS#7 encryptedData), or NULL with err set. */
static STACK_OF(PKCS12_SAFEBAG) * p12_decrypt(p12_rd *r, PKCS7 *p7, int safe, dbt_err *err)
{
    const char *tries[3];
    const X509_ALGOR *alg;
    const ASN1_OCTET_STRING *ct;
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    char algname[80] = "an unknown algorithm";
    int ntries = 0, i, round, rounds;
    long cost;

    if ((alg = p12_safe_alg(p7)) == NULL || alg->algorithm == NULL) {
        dbt_err_set(err, "%s: PKCS#12 safe %d is encrypted but holds no data; the file is corrupt",
                    r->src, safe);
        return NULL;
    }
    ct = p7->d.encrypted->enc_data->enc_data;
    OBJ_obj2txt(algname, sizeof(algname), alg->algorithm, 0);
    /* Checked by p12_precheck already; computed again for this safe's charge. */
    if ((cost = p12_safe_cost(r, alg, safe, err)) < 0)
        return NULL;
    /* An empty password is keyed as either nothing or a lone BMP NUL, depending on who wrote
     * the file (and the MAC and the encryption may disagree), so both are tried; with no
     * password at all, Java's default truststore password is tried last. */
    if (r->pass_known && r->pass != NULL && r->pass[0] != '\0') {
        tries[ntries++] = r->pass;
    } else if (r->pass_known) {
        tries[ntries++] = r->pass;
        tries[ntries++] = r->pass == NULL ? "" : NULL;
    } else {
        tries[ntries++] = "";
        tries[ntries++] = NULL;
        tries[ntries++] = P12_DEFAULT_PASS;
    }
    rounds = p12_default_has(alg) ? 1 : 2;
    ERR_set_mark();
    for (round = 0; round < rounds && bags == NULL; round++) {
        OSSL_LIB_CTX *ctx = round == 0 ? NULL : p12_legacy_ctx(r);

        if (round == 1 && ctx == NULL)
            break;
        for (i = 0; i < ntries && bags == NULL; i++) {
            if (p12_charge(r, cost, err) < 0) {
                ERR_pop_to_mark();
                return NULL;
            }
            bags = PKCS12_item_decrypt_d2i_ex(alg, ASN1_ITEM_rptr(PKCS12_SAFEBAGS), tries[i],
                                              tries[i] != NULL ? (int)strlen(tries[i]) : 0, ct, 1,
                                              ctx, NULL);
        }
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
    else {
        /* The hint goes before the reason dbt_err_ossl appends. */
        dbt_err_ossl(err,
                     "%s: PKCS#12 safe %d (encrypted with %s) cannot be decrypted: wrong "
                     "password? ",
                     r->src, safe, algname);
        dbt_err_hint(err, DBT_HINT_PASSWORD);
    }
    return NULL;
}

/*
 * Java's trusted-key-usage attribute on a certificate bag says what the certificate is trusted
 * for: anyExtendedKeyUsage keeps it plain, a narrower list becomes x's trust list so that no
 * output widens it. Refuses a second such attribute (Java keeps only the last) and values that
 * are not OIDs, naming the bag.
 */
static int p12_read_trust(p12_rd *r, const PKCS12_SAFEBAG *bag, X509 *x, int *has, dbt_err *err)
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
    *has = found != NULL;
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
        int has = 0;

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
            if (p12_read_trust(r, bag, x, &has, err) != 0) {
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
            if (!has && p12_note(&r->untrusted, &r->nuntrusted, &r->cuntrusted, r->into->n - 1, bag,
                                 NULL) != 0) {
                dbt_err_set(err, "%s: out of memory", r->src);
                return -1;
            }
            break;
        case NID_keyBag:
        case NID_pkcs8ShroudedKeyBag:
        case NID_secretBag:
            /* Never decrypted; counted so that no rewrite drops it and its chain is known. */
            alias = PKCS12_get_friendlyname(bag);
            if (p12_note(&r->keys, &r->nkeys, &r->ckeys, 0, bag, alias) != 0) {
                OPENSSL_free(alias);
                dbt_err_set(err, "%s: out of memory", r->src);
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
            /* CRLs and unknown bags are not certificates. */
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
    /* The safes are parsed (no key needed) before the MAC is checked so that every iteration
     * count is known before the first key derivation. A file whose safes cannot be parsed is
     * reported as before, after its MAC. */
    ERR_set_mark();
    safes = PKCS12_unpack_authsafes(p12);
    ERR_pop_to_mark();
    if (p12_precheck(&r, p12, safes, err) < 0)
        goto end;
    if (PKCS12_mac_present(p12)) {
        /* "" and no password are different keys in PKCS#12; writers disagree on which an
         * empty password means, so both are tried, then Java's default truststore password. */
        const char *tries[3];
        int ntries = 0, m = 0;
        long cost = p12_mac_cost(&r, p12, err);

        if (cost < 0)
            goto end;
        tries[ntries++] = password != NULL ? password : "";
        if (password == NULL || password[0] == '\0')
            tries[ntries++] = NULL;
        if (password == NULL)
            tries[ntries++] = P12_DEFAULT_PASS;
        for (i = 0; i < ntries && m == 0; i++) {
            if (p12_charge(&r, cost, err) < 0)
                goto end;
            if ((m = p12_mac_matches(p12, tries[i])) < 0) {
                dbt_err_ossl(err, "%s: the PKCS#12 integrity check cannot be computed", r.src);
                goto end;
            }
            if (m == 1)
                r.pass = tries[i];
        }
        if (m == 0) {
            dbt_err_set(err, "%s: PKCS#12 integrity check failed: wrong password? ", r.src);
            dbt_err_hint(err, DBT_HINT_PASSWORD);
            dbt_err_code(err, DBT_E_INTEGRITY);
            goto end;
        }
        r.mac_ok = r.pass_known = 1;
        into->integrity = DBT_INTEGRITY_VERIFIED;
    } else {
        /* No MAC (Java 18+ passwordless truststores, openssl pkcs12 -nomac): nothing vouches
         * for the content; encrypted safes still need the right password. */
        r.pass = password;
        r.pass_known = password != NULL;
        into->integrity = DBT_INTEGRITY_NONE;
    }
    if (safes == NULL) {
        (void)PKCS12_unpack_authsafes(p12); /* again, for OpenSSL's reason */
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
    if (p12_mark_origins(&r, err) != 0)
        goto end;
    ret = 0;
end:
    sk_PKCS7_pop_free(safes, PKCS7_free);
    PKCS12_free(p12);
    p12_ids_free(r.untrusted, r.nuntrusted);
    p12_ids_free(r.keys, r.nkeys);
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
        /* A bag Java did not trust in the input stays without the attribute. */
        if (!PKCS12_add_friendlyname_utf8(bag, aliases[i], -1) ||
            (b->certs[i].origin != DBT_ORIGIN_P12_NOTRUST &&
             !PKCS12_add1_attr_by_txt(bag, P12_ORACLE_TRUSTED_KEY_USAGE, V_ASN1_OBJECT,
                                      (const unsigned char *)any_eku, -1))) {
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

/* ---- rewriting a truststore in place ---- */

/* A certificate bag Java lists as a trustedCertEntry under alias. */
static PKCS12_SAFEBAG *p12_trusted_bag(X509 *x, const char *alias)
{
    const ASN1_OBJECT *any_eku = OBJ_nid2obj(NID_anyExtendedKeyUsage);
    PKCS12_SAFEBAG *bag = PKCS12_SAFEBAG_create_cert(x);

    if (bag == NULL || !PKCS12_add_friendlyname_utf8(bag, alias, -1) ||
        !PKCS12_add1_attr_by_txt(bag, P12_ORACLE_TRUSTED_KEY_USAGE, V_ASN1_OBJECT,
                                 (const unsigned char *)any_eku, -1)) {
        PKCS12_SAFEBAG_free(bag);
        return NULL;
    }
    return bag;
}

/* Drops the certificate bags of bags that keep says go; returns how many went, -1 on error. */
static int p12_filter(STACK_OF(PKCS12_SAFEBAG) * bags, dbt_jks_keep_fn *keep, void *arg)
{
    int i, dropped = 0;

    for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags);) {
        PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        char *alias;
        X509 *x;
        int k;

        if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag ||
            PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) {
            i++;
            continue;
        }
        if ((x = PKCS12_SAFEBAG_get1_cert(bag)) == NULL)
            return -1;
        alias = PKCS12_get_friendlyname(bag);
        k = keep(arg, alias != NULL ? alias : "", x);
        OPENSSL_free(alias);
        X509_free(x);
        if (k) {
            i++;
            continue;
        }
        PKCS12_SAFEBAG_free(sk_PKCS12_SAFEBAG_delete(bags, i));
        dropped++;
    }
    return dropped;
}

int dbt_p12_rewrite(const unsigned char *data, size_t len, const char *src, const char *password,
                    dbt_jks_keep_fn *keep, void *arg, X509 *const *add, char *const *add_alias,
                    size_t nadd, unsigned char **out, size_t *outlen, dbt_err *err)
{
    p12_rd r;
    PKCS12 *p12 = NULL, *np = NULL;
    STACK_OF(PKCS7) *safes = NULL, *nsafes = NULL;
    STACK_OF(PKCS12_SAFEBAG) *nbags = NULL;
    const unsigned char *p = data;
    unsigned char *der = NULL, *q;
    int i, n, mac, encrypted = 0, ret = -1;
    size_t k;

    memset(&r, 0, sizeof(r));
    r.src = src;
    r.pass = password;
    r.pass_known = 1;
    if (len == 0 || len > LONG_MAX || (p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL ||
        (safes = PKCS12_unpack_authsafes(p12)) == NULL) {
        dbt_err_ossl(err, "%s: not a PKCS#12 file", src);
        goto end;
    }
    mac = PKCS12_mac_present(p12);
    r.mac_ok = mac;
    if (p12_precheck(&r, p12, safes, err) < 0)
        goto end;
    if ((nsafes = sk_PKCS7_new_null()) == NULL)
        goto oom;
    for (i = 0; i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i), *np7 = NULL;
        STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
        int nid = OBJ_obj2nid(p7->type), dropped, left;

        if (nid == NID_pkcs7_data) {
            bags = PKCS12_unpack_p7data(p7);
        } else if (nid == NID_pkcs7_encrypted) {
            encrypted = 1;
            if ((bags = p12_decrypt(&r, p7, i + 1, err)) == NULL)
                goto end;
        }
        if (bags == NULL) {
            dbt_err_ossl(err, "%s: PKCS#12 safe %d cannot be read", src, i + 1);
            goto end;
        }
        if ((dropped = p12_filter(bags, keep, arg)) < 0) {
            sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
            dbt_err_ossl(err, "%s: PKCS#12 safe %d cannot be read", src, i + 1);
            goto end;
        }
        /* A safe nothing left keeps its own encoding; one that lost a bag is packed again the
         * way it came (plain, or encrypted as Java 17 encrypts), and goes when it is empty. */
        left = sk_PKCS12_SAFEBAG_num(bags);
        if (dropped == 0)
            np7 = PKCS7_dup(p7);
        else if (left == 0)
            np7 = NULL;
        else if (nid == NID_pkcs7_data)
            np7 = PKCS12_pack_p7data(bags);
        else
            np7 = PKCS12_pack_p7encdata(NID_aes_256_cbc, password, -1, NULL, 0, P12_ITER, bags);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
        if (dropped > 0 && left == 0)
            continue;
        if (np7 == NULL || !sk_PKCS7_push(nsafes, np7)) {
            PKCS7_free(np7);
            goto oom;
        }
    }
    if (nadd > 0) {
        PKCS7 *np7;

        if ((nbags = sk_PKCS12_SAFEBAG_new_null()) == NULL)
            goto oom;
        for (k = 0; k < nadd; k++) {
            PKCS12_SAFEBAG *bag = p12_trusted_bag(add[k], add_alias[k]);

            if (bag == NULL || !sk_PKCS12_SAFEBAG_push(nbags, bag)) {
                PKCS12_SAFEBAG_free(bag);
                dbt_err_ossl(err,
                             "%s: the certificate for alias \"%s\" cannot be put in a "
                             "PKCS#12 bag",
                             src, add_alias[k]);
                goto end;
            }
        }
        /* Encrypted when the store encrypts its certificates (or is protected by a MAC),
         * plain in a store of neither (Java 18+ passwordless truststores). */
        if (encrypted || mac)
            np7 = PKCS12_pack_p7encdata(NID_aes_256_cbc, password, -1, NULL, 0, P12_ITER, nbags);
        else
            np7 = PKCS12_pack_p7data(nbags);
        if (np7 == NULL || !sk_PKCS7_push(nsafes, np7)) {
            PKCS7_free(np7);
            goto oom;
        }
    }
    if ((np = PKCS12_init(NID_pkcs7_data)) == NULL || !PKCS12_pack_authsafes(np, nsafes) ||
        (mac && !PKCS12_set_mac(np, password, -1, NULL, 0, P12_ITER, EVP_sha256())))
        goto oom;
    if ((n = i2d_PKCS12(np, NULL)) <= 0 || (der = OPENSSL_malloc((size_t)n)) == NULL)
        goto oom;
    q = der;
    if (i2d_PKCS12(np, &q) != n)
        goto oom;
    *out = der, *outlen = (size_t)n;
    der = NULL;
    ret = 0;
    goto end;
oom:
    dbt_err_ossl(err, "%s: cannot rebuild the PKCS#12 truststore", src);
end:
    OPENSSL_free(der);
    PKCS12_free(np);
    PKCS12_free(p12);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    sk_PKCS7_pop_free(nsafes, PKCS7_free);
    sk_PKCS12_SAFEBAG_pop_free(nbags, PKCS12_SAFEBAG_free);
    p12_rd_cleanup(&r);
    return ret;
}
