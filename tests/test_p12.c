/* Unit tests for lib/p12.c: truststore round trips and layout (Oracle trust attribute, MAC,
 * PBES2), passwords (given, empty, none, wrong), key entries, legacy RC2, damaged input, and the
 * bounds on key derivation (iteration counts and the total per file, lib/p12.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "p12.h"
#include "p12craft.h"
#include "testpki.h"
#include "teststore.h"

#define WRONG_PASSWORD "store.p12: PKCS#12 integrity check failed: wrong password? use --password"

/* err as a program words it (the CLI's import): lib's own text names no option, only a hint. */
static const char *said(const dbt_err *err)
{
    static const char *const texts[DBT_HINT_COUNT] = {[DBT_HINT_PASSWORD] = "use --password"};
    static char out[sizeof(err->msg)];

    if (strstr(err->msg, "--") != NULL)
        fail_msg("lib's message spells an option: %s", err->msg);
    dbt_err_render(err, texts, out, sizeof(out));
    return out;
}

/* A MAC that does not match: said so, and coded so, for keytool's own wording of it. */
static void assert_wrong_password(const dbt_err *err)
{
    assert_string_equal(said(err), WRONG_PASSWORD);
    assert_int_equal(err->hint, DBT_HINT_PASSWORD);
    assert_int_equal(err->code, DBT_E_INTEGRITY);
}

static STACK_OF(X509) * bundle_stack(const dbt_bundle *b)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    size_t i;

    assert_non_null(sk);
    for (i = 0; i < b->n; i++)
        assert_true(sk_X509_push(sk, b->certs[i].x509) > 0);
    return sk;
}

static int decode(const unsigned char *d, size_t len, const char *pw, dbt_bundle **out,
                  dbt_err *err)
{
    *out = dbt_bundle_new("store.p12");
    assert_non_null(*out);
    err->msg[0] = '\0';
    return dbt_p12_decode(d, len, pw, *out, err);
}

static void p12_der(PKCS12 *p12, unsigned char **der, size_t *len)
{
    int n;

    assert_non_null(p12);
    *der = NULL;
    n = i2d_PKCS12(p12, der);
    assert_true(n > 0);
    *len = (size_t)n;
    PKCS12_free(p12);
}

static void test_p12_roundtrip(void **state)
{
    static const char *cns[] = {"Amazon RDS us-east-1 Root CA RSA2048 G1", "Other Root",
                                "Project CA"};
    static const char *aliases[] = {NULL, "MyRoot", NULL};
    static const char *want[] = {"amazon rds us-east-1 root ca rsa2048 g1", "MyRoot", "project ca"};
    dbt_bundle *in = teststore_bundle(cns, aliases, 3), *out;
    unsigned char *der = NULL;
    size_t len = 0, i;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_p12_encode(in, "s3cret!", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "s3cret!", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    for (i = 0; i < 3; i++) {
        assert_string_equal(out->certs[i].alias, want[i]);
        assert_int_equal(out->certs[i].block, (int)i + 1);
    }
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* What Java 17 needs to list trustedCertEntry: each bag carries friendlyName and Oracle's
 * trusted-key-usage attribute (anyExtendedKeyUsage); MAC HMAC-SHA-256, PBES2 AES-256-CBC. */
static void test_p12_truststore_layout(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2);
    unsigned char *der = NULL;
    const unsigned char *p;
    size_t len = 0;
    PKCS12 *p12;
    STACK_OF(PKCS7) * safes;
    STACK_OF(PKCS12_SAFEBAG) * bags;
    const X509_ALGOR *macalg;
    const ASN1_INTEGER *iter;
    const ASN1_OBJECT *obj;
    PKCS7 *p7;
    PBE2PARAM *pbe2;
    PBKDF2PARAM *kdf;
    ASN1_OBJECT *trust = OBJ_txt2obj("2.16.840.1.113894.746875.1.1", 1);
    dbt_err err;
    int i;

    (void)state;
    assert_int_equal(dbt_p12_encode(in, NULL, &der, &len, &err), 0);
    p = der;
    assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
    assert_true(PKCS12_mac_present(p12));
    assert_true(PKCS12_verify_mac(p12, "changeit", -1));
    PKCS12_get0_mac(NULL, &macalg, NULL, &iter, p12);
    X509_ALGOR_get0(&obj, NULL, NULL, macalg);
    assert_int_equal(OBJ_obj2nid(obj), NID_sha256);
    assert_int_equal(ASN1_INTEGER_get(iter), 10000);

    assert_non_null(safes = PKCS12_unpack_authsafes(p12));
    assert_int_equal(sk_PKCS7_num(safes), 1);
    p7 = sk_PKCS7_value(safes, 0);
    assert_int_equal(OBJ_obj2nid(p7->type), NID_pkcs7_encrypted);
    assert_int_equal(OBJ_obj2nid(p7->d.encrypted->enc_data->algorithm->algorithm), NID_pbes2);
    pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
                                     p7->d.encrypted->enc_data->algorithm->parameter);
    assert_non_null(pbe2);
    assert_int_equal(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
    assert_int_equal(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_pbkdf2);
    kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter);
    assert_non_null(kdf);
    assert_int_equal(ASN1_INTEGER_get(kdf->iter), 10000);
    assert_int_equal(OBJ_obj2nid(kdf->prf->algorithm), NID_hmacWithSHA256);
    PBKDF2PARAM_free(kdf);
    PBE2PARAM_free(pbe2);

    assert_non_null(bags = PKCS12_unpack_p7encdata(p7, "changeit", -1));
    assert_int_equal(sk_PKCS12_SAFEBAG_num(bags), 2);
    for (i = 0; i < 2; i++) {
        PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);
        const STACK_OF(X509_ATTRIBUTE) *attrs = PKCS12_SAFEBAG_get0_attrs(bag);
        int at = X509at_get_attr_by_OBJ(attrs, trust, -1);
        X509_ATTRIBUTE *attr;
        ASN1_TYPE *v;
        char *name;
        X509 *x;

        assert_int_equal(PKCS12_SAFEBAG_get_nid(bag), NID_certBag);
        assert_true(at >= 0);
        assert_true(X509at_get_attr_by_OBJ(attrs, trust, at) < 0);
        attr = X509at_get_attr(attrs, at);
        assert_int_equal(X509_ATTRIBUTE_count(attr), 1);
        v = X509_ATTRIBUTE_get0_type(attr, 0);
        assert_int_equal(v->type, V_ASN1_OBJECT);
        assert_int_equal(OBJ_obj2nid(v->value.object), NID_anyExtendedKeyUsage);
        assert_non_null(name = PKCS12_get_friendlyname(bag));
        assert_string_equal(name, i == 0 ? "root one" : "root two");
        OPENSSL_free(name);
        assert_non_null(x = PKCS12_SAFEBAG_get1_cert(bag));
        teststore_assert_same_x509(x, in->certs[i].x509);
        X509_free(x);
    }
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    PKCS12_free(p12);
    ASN1_OBJECT_free(trust);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

static void test_p12_wrong_password(void **state)
{
    static const char *cns[] = {"Root One"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 1), *out;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_p12_encode(in, NULL, &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "changeit", &out, &err), 0);
    assert_int_equal(out->n, 1);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, "changeme", &out, &err), -1);
    assert_wrong_password(&err);
    dbt_bundle_free(out);
    /* Java cannot open PKCS#12 files with a non-ASCII password: refused when writing. */
    OPENSSL_free(der);
    der = NULL;
    assert_int_equal(dbt_p12_encode(in, "p\xc3\xa4ss", &der, &len, &err), -1);
    assert_null(der);
    assert_non_null(strstr(err.msg, "password must be ASCII"));
    assert_int_equal(dbt_p12_encode(in, NULL, &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "changeit", &out, &err), 0);
    dbt_bundle_free(out);
    /* No password tries "", none, then "changeit" (the default of Java and of dbtrust). */
    assert_int_equal(decode(der, len, NULL, &out, &err), 0);
    assert_int_equal(out->integrity, DBT_INTEGRITY_VERIFIED);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    der = NULL;
    assert_int_equal(dbt_p12_encode(in, "s3cret", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, NULL, &out, &err), -1);
    assert_wrong_password(&err);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* A store protected with the empty password opens with "" and with no password. */
static void test_p12_empty_password(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    STACK_OF(X509) *sk = bundle_stack(in);
    unsigned char *der;
    size_t len;
    dbt_err err;

    (void)state;
    p12_der(PKCS12_create("", NULL, NULL, NULL, sk, 0, 0, 0, 0, 0), &der, &len);
    assert_int_equal(decode(der, len, NULL, &out, &err), 0);
    teststore_assert_same_certs(in, out);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, "", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, "x", &out, &err), -1);
    assert_wrong_password(&err);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    sk_X509_free(sk);
    dbt_bundle_free(in);
}

/* No MAC and plain certificate bags, as Java 18+ writes passwordless truststores and as
 * `openssl pkcs12 -export -keypbe NONE -certpbe NONE -nomac` does. */
static void test_p12_no_password(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    STACK_OF(X509) *sk = bundle_stack(in);
    unsigned char *der;
    size_t len;
    dbt_err err;

    (void)state;
    p12_der(PKCS12_create(NULL, NULL, NULL, NULL, sk, -1, -1, 0, -1, 0), &der, &len);
    assert_int_equal(decode(der, len, NULL, &out, &err), 0);
    teststore_assert_same_certs(in, out);
    assert_null(out->certs[0].alias);
    dbt_bundle_free(out);
    /* Nothing to check a given password against: the certificates are still read, and nothing
     * is written from them, the hint in its place inside the parentheses. */
    assert_int_equal(decode(der, len, "anything", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    out->format = DBT_FMT_PKCS12; /* as dbt_bundle_decode sets it */
    assert_int_equal(dbt_bundle_check_source(out, 0, &err), -1);
    assert_non_null(strstr(said(&err), "store.p12: the integrity of this keystore was not verified "
                                       "with its password (it has no integrity MAC), "));
    assert_non_null(strstr(said(&err), "nothing is written from it: give its password (use "
                                       "--password)"));
    assert_int_equal(err.hint, DBT_HINT_PASSWORD);
    dbt_bundle_free(out);
    OPENSSL_free(der);

    /* No MAC but an encrypted safe: the password matters again. */
    p12_der(PKCS12_create("pw", NULL, NULL, NULL, sk, -1, 0, 0, -1, 0), &der, &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    dbt_bundle_free(out);
    assert_int_equal(decode(der, len, NULL, &out, &err), -1);
    assert_non_null(strstr(said(&err), "store.p12: PKCS#12 safe 1 (encrypted with PBES2) cannot be "
                                       "decrypted: wrong password? use --password: "));
    /* A safe that does not decrypt is not an integrity failure: the MAC was not checked. */
    assert_int_equal(err.code, DBT_E_NONE);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    sk_X509_free(sk);
    dbt_bundle_free(in);
}

/* A private key entry: its certificate and chain are read, the key is not. */
static void test_p12_key_entry(void **state)
{
    static const char *cns[] = {"Key Owner", "Issuing CA"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    STACK_OF(X509) *ca = sk_X509_new_null();
    unsigned char *der;
    size_t len;
    dbt_err err;

    (void)state;
    assert_true(sk_X509_push(ca, in->certs[1].x509) > 0);
    p12_der(PKCS12_create("pw", "mykey", teststore_key, in->certs[0].x509, ca, 0, 0, 0, 0, 0), &der,
            &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    /* Both belong to the key entry (its own certificate by localKeyID), named by the key's
     * alias, and neither is a trusted certificate. */
    assert_string_equal(out->certs[0].alias, "mykey");
    assert_string_equal(out->certs[1].alias, "mykey");
    assert_int_equal(out->certs[0].origin, DBT_ORIGIN_KEY_CHAIN);
    assert_int_equal(out->certs[1].origin, DBT_ORIGIN_KEY_CHAIN);
    assert_int_equal(out->certs[0].chain_pos, 1);
    /* The CA did not issue the key's certificate here: in the key's file, never an anchor, but
     * placed past the chain. */
    assert_true(out->certs[1].chain_pos > 1);
    assert_int_equal(out->nkeys, 1);
    assert_string_equal(out->key_alias, "mykey");
    assert_int_equal(dbt_bundle_check_source(out, 0, &err), -1);
    assert_non_null(strstr(err.msg, "private key entry \"mykey\""));
    dbt_bundle_free(out);
    OPENSSL_free(der);
    sk_X509_free(ca);
    dbt_bundle_free(in);
}

/* Certificate bags with neither Java's trust attribute nor a key (openssl pkcs12 -export
 * -nokeys): Java lists none of them. They read as such, a JKS cannot take them, PEM and the
 * catalog can, and a PKCS#12 written from them keeps them without the attribute. */
static void test_p12_untrusted_bags(void **state)
{
    static const char *cns[] = {"Plain One", "Plain Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out, *again;
    STACK_OF(X509) *sk = sk_X509_new_null();
    unsigned char *der, *p12 = NULL;
    size_t len, p12len = 0;
    dbt_err err;

    (void)state;
    assert_true(sk_X509_push(sk, in->certs[0].x509) > 0);
    assert_true(sk_X509_push(sk, in->certs[1].x509) > 0);
    p12_der(PKCS12_create("pw", NULL, NULL, NULL, sk, -1, 0, 0, 0, 0), &der, &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    assert_int_equal(out->nkeys, 0);
    assert_int_equal(out->certs[0].origin, DBT_ORIGIN_P12_NOTRUST);
    assert_int_equal(out->certs[1].origin, DBT_ORIGIN_P12_NOTRUST);
    assert_int_equal(dbt_bundle_check_source(out, 0, &err), 0);
    assert_int_equal(dbt_bundle_check_source(out, 1, &err), -1);
    assert_non_null(strstr(err.msg, "PKCS#12 bag 1"));
    assert_int_equal(dbt_encode(out, DBT_OUT_JKS, "pw", &p12, &p12len, &err), -1);
    assert_int_equal(dbt_encode(out, DBT_OUT_PKCS12, "pw", &p12, &p12len, &err), 0);
    assert_int_equal(decode(p12, p12len, "pw", &again, &err), 0);
    assert_int_equal(again->certs[0].origin, DBT_ORIGIN_P12_NOTRUST);
    assert_int_equal(again->certs[1].origin, DBT_ORIGIN_P12_NOTRUST);
    dbt_bundle_free(again);
    OPENSSL_free(p12);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    sk_X509_free(sk);
    dbt_bundle_free(in);
}

/* Java 8 and OpenSSL 1.x encrypted certificates with 40-bit RC2, which OpenSSL 3 keeps in its
 * legacy provider: still readable. */
static void test_p12_legacy_rc2(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in, *out;
    STACK_OF(X509) * sk;
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    OSSL_PROVIDER *def = NULL, *leg = NULL;
    unsigned char *der;
    size_t len;
    dbt_err err;

    (void)state;
    assert_non_null(ctx);
    assert_true(OSSL_PROVIDER_set_default_search_path(ctx, OPENSSL_info(OPENSSL_INFO_MODULES_DIR)));
    def = OSSL_PROVIDER_load(ctx, "default");
    leg = OSSL_PROVIDER_load(ctx, "legacy");
    if (def == NULL || leg == NULL) {
        print_message("SKIP: OpenSSL's legacy provider is not installed in %s\n",
                      OPENSSL_info(OPENSSL_INFO_MODULES_DIR));
        OSSL_PROVIDER_unload(leg);
        OSSL_PROVIDER_unload(def);
        OSSL_LIB_CTX_free(ctx);
        skip();
        return;
    }
    in = teststore_bundle(cns, NULL, 2);
    sk = bundle_stack(in);
    p12_der(PKCS12_create_ex("pw", NULL, NULL, NULL, sk, NID_pbe_WithSHA1And40BitRC2_CBC,
                             NID_pbe_WithSHA1And40BitRC2_CBC, 2048, 2048, 0, ctx, NULL),
            &der, &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    sk_X509_free(sk);
    dbt_bundle_free(in);
    OSSL_PROVIDER_unload(leg);
    OSSL_PROVIDER_unload(def);
    OSSL_LIB_CTX_free(ctx);
}

static void test_p12_damaged(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    unsigned char *der = NULL, *copy;
    size_t len = 0, cut;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_p12_encode(in, "pw", &der, &len, &err), 0);
    for (cut = 0; cut < len; cut++) {
        copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, der, cut);
        assert_int_equal(decode(copy, cut, "pw", &out, &err), -1);
        assert_non_null(strstr(err.msg, "store.p12: not a PKCS#12 file"));
        dbt_bundle_free(out);
        free(copy);
    }
    copy = malloc(len + 3);
    assert_non_null(copy);
    memcpy(copy, der, len);
    memcpy(copy + len, "xyz", 3);
    assert_int_equal(decode(copy, len + 3, "pw", &out, &err), -1);
    assert_non_null(strstr(err.msg, "3 unexpected bytes after the PKCS#12 data"));
    dbt_bundle_free(out);
    free(copy);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* Java compares aliases without case: "A" and "a" would be one entry, so the second moves. */
static void test_p12_alias_dedup(void **state)
{
    static const char *cns[] = {"Same", "Same", "X", "Y"};
    static const char *given[] = {NULL, NULL, "Corp CA", "corp ca"};
    static const char *want[] = {"same", "same-2", "Corp CA", "corp ca-2"};
    dbt_bundle *in = teststore_bundle(cns, given, 4), *out;
    unsigned char *der = NULL;
    size_t len = 0, i;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_p12_encode(in, "pw", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    for (i = 0; i < 4; i++)
        assert_string_equal(out->certs[i].alias, want[i]);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

static void test_p12_realdata(void **state)
{
    dbt_bundle *in = dbt_bundle_new("realdata"), *out;
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;

    (void)state;
    assert_non_null(in);
    /* Two real CAs with the same CN and serial 0, then the 108 AWS RDS roots. */
    if (teststore_load_realdata(in, "gcp-cloudsql-server-ca.pem") != 0 ||
        teststore_load_realdata(in, "aws-rds-global-bundle.pem") != 0) {
        dbt_bundle_free(in);
        skip();
        return;
    }
    assert_int_equal(in->n, 110);
    assert_int_equal(dbt_p12_encode(in, "changeit", &der, &len, &err), 0);
    assert_int_equal(decode(der, len, "changeit", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    assert_string_equal(out->certs[0].alias, "google cloud sql server ca");
    assert_string_equal(out->certs[1].alias, "google cloud sql server ca-2");
    teststore_assert_distinct_aliases(out);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    dbt_bundle_free(in);
}

/* A two-certificate store with password "pw", certificates encrypted with cert_nid (-1: not
 * encrypted), at iter; mac_iter -1 for no MAC. */
static PKCS12 *kdf_store(int cert_nid, int iter, int mac_iter)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2);
    STACK_OF(X509) *sk = bundle_stack(in);
    PKCS12 *p12 = PKCS12_create("pw", NULL, NULL, NULL, sk, -1, cert_nid, iter, mac_iter, 0);

    assert_non_null(p12);
    sk_X509_free(sk);
    dbt_bundle_free(in);
    return p12;
}

/* Decoding der with each password fails with a message holding want. */
static void assert_refused(unsigned char *der, size_t len, const char *want)
{
    static const char *const pws[] = {NULL, "pw", "changeit"};
    dbt_bundle *out;
    dbt_err err;
    size_t i;

    for (i = 0; i < sizeof(pws) / sizeof(pws[0]); i++) {
        assert_int_equal(decode(der, len, pws[i], &out, &err), -1);
        if (strstr(err.msg, want) == NULL)
            fail_msg("password %s: \"%s\" does not say \"%s\"", pws[i] ? pws[i] : "(none)", err.msg,
                     want);
        assert_int_equal(out->n, 0);
        dbt_bundle_free(out);
    }
}

/* A MAC iteration count above DBT_P12_MAX_ITER is refused, naming the file and the count,
 * before any key is derived (the counts here would take from seconds to years). */
static void test_p12_mac_iter_cap(void **state)
{
    static const char *const counts[] = {"5000001",
                                         "100000000",
                                         "2147483647",
                                         "9223372036854775807",
                                         "18446744073709551615",
                                         "340282366920938463463374607431"};
    char want[256];
    size_t i;

    (void)state;
    assert_int_equal(DBT_P12_MAX_ITER, 5000000L);
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        PKCS12 *p12 = kdf_store(NID_aes_256_cbc, 2048, 2048);
        unsigned char *der;
        size_t len;

        assert_int_equal(p12craft_set_mac_iter(p12, counts[i]), 0);
        p12_der(p12, &der, &len);
        snprintf(want, sizeof(want),
                 "store.p12: the PKCS#12 MAC has iteration count %s, above the limit of 5000000",
                 counts[i]);
        assert_refused(der, len, want);
        OPENSSL_free(der);
    }
    /* Zero and negative counts are corrupt, not large. */
    for (i = 0; i < 2; i++) {
        PKCS12 *p12 = kdf_store(NID_aes_256_cbc, 2048, 2048);
        unsigned char *der;
        size_t len;

        assert_int_equal(p12craft_set_mac_iter(p12, i == 0 ? "0" : "-7"), 0);
        p12_der(p12, &der, &len);
        snprintf(want, sizeof(want),
                 "store.p12: the PKCS#12 MAC has iteration count %s, which is not a positive "
                 "number",
                 i == 0 ? "0" : "-7");
        assert_refused(der, len, want);
        OPENSSL_free(der);
    }
}

/* RFC 9579 PBMAC1 MACs (OpenSSL 3.4+ computes them) carry their count in PBKDF2 parameters, and
 * choose the length of the derived key, which multiplies the work: both are bounded. */
static void test_p12_pbmac1_limits(void **state)
{
    static const struct {
        const char *iter;
        int keylen;
        const char *want;
    } cases[] = {
        {"2147483647", 32,
         "store.p12: the PKCS#12 MAC (PBMAC1) has iteration count 2147483647, above the limit "
         "of 5000000"},
        {"2048", 100000,
         "store.p12: the PKCS#12 MAC (PBMAC1) asks for a derived key of an invalid "
         "length"},
        {"5000000", 1024,
         "store.p12: reading this PKCS#12 file needs more than 10000000 key-derivation "
         "iterations (its MAC)"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PKCS12 *p12 = kdf_store(-1, 2048, 2048);
        unsigned char *der;
        size_t len;

        assert_int_equal(p12craft_set_mac_pbmac1(p12, cases[i].iter, cases[i].keylen), 0);
        p12_der(p12, &der, &len);
        assert_refused(der, len, cases[i].want);
        OPENSSL_free(der);
    }
}

/* The same for the key of an encrypted certificate safe: PBES2 with PBKDF2 (what OpenSSL 3 and
 * Java 12+ write) and the PKCS#12 PBE (3DES, what older writers use), with and without a MAC. */
static void test_p12_safe_iter_cap(void **state)
{
    static const int nids[] = {NID_aes_256_cbc, NID_pbe_WithSHA1And3_Key_TripleDES_CBC};
    static const char *const counts[] = {"5000001", "1000000000", "2147483647"};
    size_t i, j, m;

    (void)state;
    for (i = 0; i < 2; i++)
        for (j = 0; j < sizeof(counts) / sizeof(counts[0]); j++)
            for (m = 0; m < 2; m++) {
                PKCS12 *p12 = kdf_store(nids[i], 2048, m == 0 ? -1 : 2048);
                unsigned char *der;
                size_t len;
                char want[256];

                assert_int_equal(p12craft_set_safe_iter(p12, counts[j]), 0);
                p12_der(p12, &der, &len);
                snprintf(want, sizeof(want),
                         "store.p12: PKCS#12 safe 1 has iteration count %s, above the limit of "
                         "5000000",
                         counts[j]);
                assert_refused(der, len, want);
                OPENSSL_free(der);
            }
}

/* scrypt lets the file choose memory and work too; no PKCS#12 writer uses it: refused. */
static void test_p12_scrypt_refused(void **state)
{
    PKCS12 *p12 = kdf_store(NID_aes_256_cbc, 2048, -1);
    unsigned char *der;
    size_t len;

    (void)state;
    assert_int_equal(p12craft_set_safe_scrypt(p12), 0);
    p12_der(p12, &der, &len);
    assert_refused(der, len,
                   "store.p12: PKCS#12 safe 1 derives its key with scrypt; only "
                   "PBKDF2 and the PKCS#12 KDF are read");
    OPENSSL_free(der);
}

/* Many safes each within the cap, together beyond DBT_P12_MAX_WORK: refused before any work. */
static void test_p12_work_budget_safes(void **state)
{
    static const char *cns[] = {"Root One"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 1);
    STACK_OF(PKCS12_SAFEBAG) *bags = sk_PKCS12_SAFEBAG_new_null();
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12 *p12;
    unsigned char *der;
    size_t len;
    int i;

    (void)state;
    assert_non_null(bags);
    assert_true(sk_PKCS12_SAFEBAG_push(bags, PKCS12_SAFEBAG_create_cert(in->certs[0].x509)) > 0);
    /* 11 x 1,000,000 = 11,000,000 > 10,000,000. */
    for (i = 0; i < 11; i++)
        assert_true(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 1000, "pw"));
    p12 = PKCS12_add_safes(safes, 0);
    assert_non_null(p12);
    assert_int_equal(p12craft_set_safe_iter(p12, "1000000"), 0);
    assert_true(PKCS12_set_mac(p12, "pw", -1, NULL, 0, 2048, EVP_sha256()));
    p12_der(p12, &der, &len);
    assert_refused(der, len,
                   "store.p12: reading this PKCS#12 file needs more than 10000000 "
                   "key-derivation iterations (its MAC and 10 encrypted safes); refused "
                   "before deriving any key");
    OPENSSL_free(der);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    dbt_bundle_free(in);
}

/* Many safes of count 1: within the iteration budget, but each derivation has a fixed cost, so
 * more than DBT_P12_MAX_DERIVE of them are refused before any work; a store of 100 such safes
 * (its MAC and 100 safes) is read with its password. */
static void test_p12_derivation_cap(void **state)
{
    static const char *cns[] = {"Root One"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 1), *out;
    const int sizes[] = {DBT_P12_MAX_DERIVE + 1, 100};
    dbt_err err;
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        STACK_OF(PKCS12_SAFEBAG) *bags = sk_PKCS12_SAFEBAG_new_null();
        STACK_OF(PKCS7) *safes = NULL;
        PKCS12 *p12;
        unsigned char *der;
        size_t len;
        int i;

        assert_non_null(bags);
        assert_true(sk_PKCS12_SAFEBAG_push(bags, PKCS12_SAFEBAG_create_cert(in->certs[0].x509)) >
                    0);
        for (i = 0; i < sizes[k]; i++)
            assert_true(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 1, "pw"));
        p12 = PKCS12_add_safes(safes, 0);
        assert_non_null(p12);
        if (k == 0) {
            p12_der(p12, &der, &len);
            assert_refused(der, len,
                           "store.p12: reading this PKCS#12 file needs more than 4096 key "
                           "derivations");
        } else {
            assert_true(PKCS12_set_mac(p12, "pw", -1, NULL, 0, 2048, EVP_sha256()));
            p12_der(p12, &der, &len);
            assert_int_equal(decode(der, len, "pw", &out, &err), 0);
            assert_int_equal(out->n, 100);
            dbt_bundle_free(out);
        }
        OPENSSL_free(der);
        sk_PKCS7_pop_free(safes, PKCS7_free);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    dbt_bundle_free(in);
}

/* HMAC-SHA-512 costs about twice HMAC-SHA-256 per iteration and counts twice: two safes of
 * 3,000,000 such iterations are refused, where two of SHA-256 would be within the budget. */
static void test_p12_work_budget_sha512(void **state)
{
    static const char *cns[] = {"Root One"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 1);
    STACK_OF(PKCS12_SAFEBAG) *bags = sk_PKCS12_SAFEBAG_new_null();
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12 *p12;
    unsigned char *der;
    size_t len;

    (void)state;
    assert_non_null(bags);
    assert_true(sk_PKCS12_SAFEBAG_push(bags, PKCS12_SAFEBAG_create_cert(in->certs[0].x509)) > 0);
    assert_true(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 1000, "pw"));
    assert_true(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 1000, "pw"));
    p12 = PKCS12_add_safes(safes, 0);
    assert_non_null(p12);
    assert_int_equal(p12craft_set_safe_iter(p12, "3000000"), 0);
    assert_int_equal(p12craft_set_safe_prf(p12, NID_hmacWithSHA512), 0);
    p12_der(p12, &der, &len);
    assert_refused(der, len,
                   "store.p12: reading this PKCS#12 file needs more than 10000000 "
                   "key-derivation iterations (2 encrypted safes)");
    OPENSSL_free(der);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    dbt_bundle_free(in);
}

/* Each try of a password costs a derivation: without a password "", none and changeit are
 * tried, and with a MAC of 4,000,000 iterations the third try would pass DBT_P12_MAX_WORK. */
static void test_p12_work_budget_tries(void **state)
{
    PKCS12 *p12 = kdf_store(-1, 2048, 2048);
    unsigned char *der;
    size_t len;
    dbt_bundle *out;
    dbt_err err;

    (void)state;
    assert_int_equal(p12craft_set_mac_iter(p12, "4000000"), 0);
    p12_der(p12, &der, &len);
    assert_int_equal(decode(der, len, NULL, &out, &err), -1);
    assert_string_equal(said(&err), "store.p12: trying passwords on this PKCS#12 file would pass "
                                    "the limit of 10000000 key-derivation iterations for one "
                                    "file; give its password (use --password) so that no other "
                                    "is tried");
    assert_int_equal(err.code, DBT_E_NONE);
    dbt_bundle_free(out);
    OPENSSL_free(der);
}

/* A store whose MAC and certificate encryption are both at the cap is read with its password. */
static void test_p12_at_cap(void **state)
{
    static const char *cns[] = {"Root One", "Root Two"};
    dbt_bundle *in = teststore_bundle(cns, NULL, 2), *out;
    STACK_OF(X509) *sk = bundle_stack(in);
    const ASN1_INTEGER *mac_iter = NULL;
    PKCS12 *p12;
    unsigned char *der;
    size_t len;
    dbt_err err;

    (void)state;
    if (getenv("DBTRUST_UNDER_VALGRIND") != NULL) {
        /* 20 million SHA-256 rounds (two at the cap to make, two to read) take many minutes
         * under valgrind; the code they run is the one the stores of count 2048 run. */
        print_message("skipped under valgrind: the at-cap store runs natively and under ASan\n");
        sk_X509_free(sk);
        dbt_bundle_free(in);
        skip();
    }
    p12 = PKCS12_create("pw", NULL, NULL, NULL, sk, -1, NID_aes_256_cbc, (int)DBT_P12_MAX_ITER,
                        (int)DBT_P12_MAX_ITER, 0);
    assert_non_null(p12);
    PKCS12_get0_mac(NULL, NULL, NULL, &mac_iter, p12);
    assert_int_equal(ASN1_INTEGER_get(mac_iter), DBT_P12_MAX_ITER);
    p12_der(p12, &der, &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    teststore_assert_same_certs(in, out);
    assert_int_equal(out->integrity, DBT_INTEGRITY_VERIFIED);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    sk_X509_free(sk);
    dbt_bundle_free(in);
}

/* What vouches for the content is reported: a matching MAC, or none at all. */
static void test_p12_integrity(void **state)
{
    PKCS12 *p12 = kdf_store(NID_aes_256_cbc, 2048, -1);
    unsigned char *der;
    size_t len;
    dbt_bundle *out;
    dbt_err err;

    (void)state;
    p12_der(p12, &der, &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    assert_int_equal(out->integrity, DBT_INTEGRITY_NONE);
    dbt_bundle_free(out);
    OPENSSL_free(der);
    p12_der(kdf_store(NID_aes_256_cbc, 2048, 2048), &der, &len);
    assert_int_equal(decode(der, len, "pw", &out, &err), 0);
    assert_int_equal(out->integrity, DBT_INTEGRITY_VERIFIED);
    dbt_bundle_free(out);
    /* One flipped byte of the MAC value: no password makes it match. */
    der[len - 30] ^= 1;
    assert_int_equal(decode(der, len, "pw", &out, &err), -1);
    assert_wrong_password(&err);
    dbt_bundle_free(out);
    OPENSSL_free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p12_roundtrip),
        cmocka_unit_test(test_p12_truststore_layout),
        cmocka_unit_test(test_p12_wrong_password),
        cmocka_unit_test(test_p12_empty_password),
        cmocka_unit_test(test_p12_no_password),
        cmocka_unit_test(test_p12_key_entry),
        cmocka_unit_test(test_p12_untrusted_bags),
        cmocka_unit_test(test_p12_legacy_rc2),
        cmocka_unit_test(test_p12_damaged),
        cmocka_unit_test(test_p12_alias_dedup),
        cmocka_unit_test(test_p12_realdata),
        cmocka_unit_test(test_p12_mac_iter_cap),
        cmocka_unit_test(test_p12_safe_iter_cap),
        cmocka_unit_test(test_p12_scrypt_refused),
        cmocka_unit_test(test_p12_work_budget_safes),
        cmocka_unit_test(test_p12_derivation_cap),
        cmocka_unit_test(test_p12_work_budget_tries),
        cmocka_unit_test(test_p12_at_cap),
        cmocka_unit_test(test_p12_work_budget_sha512),
        cmocka_unit_test(test_p12_pbmac1_limits),
        cmocka_unit_test(test_p12_integrity),
    };

    return cmocka_run_group_tests(tests, teststore_setup, teststore_teardown);
}
