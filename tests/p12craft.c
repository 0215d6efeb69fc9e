/* Rewriting the iteration counts of PKCS#12 files for tests (see p12craft.h). */
#include "config.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p12craft.h"

static int set_int(ASN1_INTEGER *ai, const char *dec)
{
    BIGNUM *bn = NULL;
    int ok = ai != NULL && BN_dec2bn(&bn, dec) > 0 && BN_to_ASN1_INTEGER(bn, ai) != NULL;

    BN_free(bn);
    return ok ? 0 : -1;
}

int p12craft_set_mac_iter(PKCS12 *p12, const char *dec)
{
    const ASN1_INTEGER *iter = NULL;

    PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
    /* The PKCS12 owns the INTEGER; rewriting it in place is what a hostile writer does. */
    return set_int((ASN1_INTEGER *)iter, dec);
}

/* Rewrites one PBE algorithm: its iteration count to dec (when not NULL), its PBKDF2 PRF to prf
 * (when not NID_undef), or (scrypt) its PBES2 key function. */
static int patch_alg(X509_ALGOR *alg, const char *dec, int prf, int scrypt)
{
    int nid = OBJ_obj2nid(alg->algorithm), ret = -1;

    if (nid == NID_pbes2) {
        PBE2PARAM *p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
        PBKDF2PARAM *kdf = NULL;
        ASN1_TYPE *t = NULL;

        if (p2 == NULL)
            return -1;
        if (scrypt) {
            unsigned char salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
            X509_ALGOR *s =
                PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof(salt), NULL, 1 << 14, 8, 1);
            PBE2PARAM *sp;

            if (s == NULL)
                goto p2_end;
            /* Keep the file's own cipher parameters (its IV), take scrypt's key function. */
            sp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), s->parameter);
            X509_ALGOR_free(s);
            if (sp == NULL)
                goto p2_end;
            X509_ALGOR_free(p2->keyfunc);
            p2->keyfunc = sp->keyfunc;
            sp->keyfunc = NULL;
            PBE2PARAM_free(sp);
        } else {
            kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p2->keyfunc->parameter);
            if (kdf != NULL && prf != NID_undef) {
                X509_ALGOR_free(kdf->prf);
                if ((kdf->prf = X509_ALGOR_new()) == NULL ||
                    !X509_ALGOR_set0(kdf->prf, OBJ_nid2obj(prf), V_ASN1_NULL, NULL))
                    goto p2_end;
            }
            if (kdf == NULL || (dec != NULL && set_int(kdf->iter, dec) < 0) ||
                ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf,
                                        &p2->keyfunc->parameter) == NULL)
                goto p2_end;
        }
        if ((t = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), p2, NULL)) == NULL)
            goto p2_end;
        ASN1_TYPE_free(alg->parameter);
        alg->parameter = t;
        ret = 0;
    p2_end:
        PBKDF2PARAM_free(kdf);
        PBE2PARAM_free(p2);
        return ret;
    }
    if (!scrypt) {
        PBEPARAM *p1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
        ASN1_TYPE *t = NULL;

        if (p1 != NULL && set_int(p1->iter, dec) == 0 &&
            (t = ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBEPARAM), p1, NULL)) != NULL) {
            ASN1_TYPE_free(alg->parameter);
            alg->parameter = t;
            ret = 0;
        }
        PBEPARAM_free(p1);
    }
    return ret;
}

static int patch_safes(PKCS12 *p12, const char *dec, int prf, int scrypt)
{
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    int i, n = 0, ret = -1;

    if (safes == NULL)
        return -1;
    for (i = 0; i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);

        if (OBJ_obj2nid(p7->type) != NID_pkcs7_encrypted)
            continue;
        if (patch_alg(p7->d.encrypted->enc_data->algorithm, dec, prf, scrypt) < 0)
            goto end;
        n++;
    }
    if (n > 0 && PKCS12_pack_authsafes(p12, safes))
        ret = 0;
end:
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return ret;
}

int p12craft_set_safe_iter(PKCS12 *p12, const char *dec)
{
    return patch_safes(p12, dec, NID_undef, 0);
}

int p12craft_set_safe_prf(PKCS12 *p12, int prf_nid)
{
    return patch_safes(p12, NULL, prf_nid, 0);
}

int p12craft_set_safe_scrypt(PKCS12 *p12)
{
    return patch_safes(p12, NULL, NID_undef, 1);
}

int p12craft_set_mac_pbmac1(PKCS12 *p12, const char *dec, int keylen)
{
    static const unsigned char salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const X509_ALGOR *macalg = NULL;
    X509_ALGOR *kdf =
        PKCS5_pbkdf2_set(2048, (unsigned char *)salt, sizeof(salt), NID_hmacWithSHA256, keylen);
    X509_ALGOR *mac = X509_ALGOR_new();
    PBKDF2PARAM *kp = NULL;
    ASN1_STRING *seq = NULL;
    unsigned char *der = NULL, *p;
    int l1, l2, total, ret = -1;

    PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
    if (kdf == NULL || mac == NULL || macalg == NULL ||
        !X509_ALGOR_set0(mac, OBJ_nid2obj(NID_hmacWithSHA256), V_ASN1_NULL, NULL))
        goto end;
    kp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf->parameter);
    if (kp == NULL || set_int(kp->iter, dec) < 0 ||
        ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kp, &kdf->parameter) == NULL)
        goto end;
    /* PBMAC1-params ::= SEQUENCE { keyDerivationFunc, messageAuthScheme } */
    l1 = i2d_X509_ALGOR(kdf, NULL);
    l2 = i2d_X509_ALGOR(mac, NULL);
    total = ASN1_object_size(1, l1 + l2, V_ASN1_SEQUENCE);
    if (l1 <= 0 || l2 <= 0 || total <= 0 || (der = p = OPENSSL_malloc((size_t)total)) == NULL)
        goto end;
    ASN1_put_object(&p, 1, l1 + l2, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
    i2d_X509_ALGOR(kdf, &p);
    i2d_X509_ALGOR(mac, &p);
    if ((seq = ASN1_STRING_new()) == NULL || !ASN1_STRING_set(seq, der, total))
        goto end;
    /* The PKCS12 owns the algorithm; rewriting it in place is what a hostile writer does. */
    if (!X509_ALGOR_set0((X509_ALGOR *)macalg, OBJ_nid2obj(NID_pbmac1), V_ASN1_SEQUENCE, seq))
        goto end;
    seq = NULL;
    ret = 0;
end:
    ASN1_STRING_free(seq);
    OPENSSL_free(der);
    PBKDF2PARAM_free(kp);
    X509_ALGOR_free(mac);
    X509_ALGOR_free(kdf);
    return ret;
}
