/* Unit tests of lib/trust.c: the classification of trust settings checked against OpenSSL's own
 * X509_check_trust for every combination of a few usages, descriptions, and refusal messages. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "bundle.h"
#include "catalog.h"
#include "testpki.h"
#include "trust.h"

/* The usages combined below: OpenSSL's purposes, anyExtendedKeyUsage and an unknown OID. */
static const char *const usages[] = {
    "serverAuth",  "clientAuth",          "emailProtection", "codeSigning",
    "OCSPSigning", "anyExtendedKeyUsage", "timeStamping",    "1.2.3.4",
};
#define NUSAGES (sizeof(usages) / sizeof(usages[0]))

static ASN1_OBJECT *obj(const char *name)
{
    ASN1_OBJECT *o = OBJ_txt2obj(name, 0);

    assert_non_null(o);
    return o;
}

/* Flags of with_lists: the trust or reject list is present even when it lists nothing. */
enum { HAS_TRUST = 1, HAS_REJECT = 2 };

/* Makes x's trust list (or reject list) present and empty: OpenSSL's API has no call for it
 * (X509_trust_clear removes the list), but a TRUSTED CERTIFICATE's DER can say it. */
static void add_empty_list(X509 *x, int reject)
{
    ASN1_OBJECT *o = obj("serverAuth");
    STACK_OF(ASN1_OBJECT) * sk;

    assert_int_equal(reject ? X509_add1_reject_object(x, o) : X509_add1_trust_object(x, o), 1);
    ASN1_OBJECT_free(o);
    sk = reject ? X509_get0_reject_objects(x) : X509_get0_trust_objects(x);
    assert_non_null(sk);
    while (sk_ASN1_OBJECT_num(sk) > 0)
        ASN1_OBJECT_free(sk_ASN1_OBJECT_pop(sk));
}

/* A copy of x with the usages of the bit sets trust and reject (bit k = usages[k]); the lists
 * named by flags are present even when their set is empty. */
static X509 *with_lists(X509 *x, unsigned trust, unsigned reject, int flags)
{
    X509 *y = X509_dup(x);

    assert_non_null(y);
    if ((flags & HAS_TRUST) && trust == 0)
        add_empty_list(y, 0);
    if ((flags & HAS_REJECT) && reject == 0)
        add_empty_list(y, 1);
    for (size_t k = 0; k < NUSAGES; k++) {
        ASN1_OBJECT *o = obj(usages[k]);

        if (trust & (1u << k))
            assert_int_equal(X509_add1_trust_object(y, o), 1);
        if (reject & (1u << k))
            assert_int_equal(X509_add1_reject_object(y, o), 1);
        ASN1_OBJECT_free(o);
    }
    return y;
}

static X509 *with_settings(X509 *x, unsigned trust, unsigned reject)
{
    return with_lists(x, trust, reject, 0);
}

/* 1 when OpenSSL trusts plain for some purpose it does not trust x for (dropping x's settings
 * would widen it). */
static int stripping_widens(X509 *x, X509 *plain)
{
    int ids[32], n = 0;

    ids[n++] = X509_TRUST_DEFAULT;
    for (int i = 0; i < X509_TRUST_get_count() && n < 32; i++)
        ids[n++] = X509_TRUST_get_trust(X509_TRUST_get0(i));
    for (int i = 0; i < n; i++)
        if (X509_check_trust(plain, ids[i], 0) == X509_TRUST_TRUSTED &&
            X509_check_trust(x, ids[i], 0) != X509_TRUST_TRUSTED)
            return 1;
    return 0;
}

/* Every trust list and reject list of up to two of the usages, each absent or present when
 * empty, on a self-signed root and on an intermediate: a certificate classified PLAIN or ALL is
 * never trusted by OpenSSL for less than its plain copy, and one classified RESTRICTED is, on the
 * root, unless it has no trust list or one holding anyExtendedKeyUsage and it rejects only
 * usages that no anyExtendedKeyUsage-honouring purpose checks (dbtrust is stricter than needed
 * there, never looser). A trust list that is present but empty rejects every purpose. */
static void test_kind_matches_x509_check_trust(void **state)
{
    testpki *pki = *state;
    X509 *subjects[2] = {pki->root_ec384, pki->intermediate};
    unsigned sets[1 + NUSAGES + NUSAGES * (NUSAGES - 1) / 2];
    size_t nsets = 0, checked = 0;
    int flags;

    sets[nsets++] = 0;
    for (size_t a = 0; a < NUSAGES; a++) {
        sets[nsets++] = 1u << a;
        for (size_t b = a + 1; b < NUSAGES; b++)
            sets[nsets++] = 1u << a | 1u << b;
    }
    for (flags = 0; flags <= (HAS_TRUST | HAS_REJECT); flags++) {
        for (size_t s = 0; s < 2; s++) {
            for (size_t t = 0; t < nsets; t++) {
                for (size_t r = 0; r < nsets; r++) {
                    X509 *x = with_lists(subjects[s], sets[t], sets[r], flags);
                    X509 *plain = X509_dup(subjects[s]);
                    dbt_trust_kind kind = dbt_trust_kind_of(x);
                    int widens = stripping_widens(x, plain);
                    /* Rejections no trust_1oidany purpose reads: OCSPSigning, the unknown OID. */
                    unsigned harmless = 1u << 4 | 1u << (NUSAGES - 1), any = 1u << 5;
                    int no_trust_list = sets[t] == 0 && !(flags & HAS_TRUST);

                    if (kind != DBT_TRUST_RESTRICTED && widens)
                        fail_msg("trust %#x reject %#x lists %d on %s: classified %d, but a plain "
                                 "copy is trusted for more",
                                 sets[t], sets[r], flags, s == 0 ? "root" : "intermediate",
                                 (int)kind);
                    if (s == 0 && kind == DBT_TRUST_RESTRICTED && !widens &&
                        !((no_trust_list || (sets[t] & any) != 0) && (sets[r] & ~harmless) == 0))
                        fail_msg("trust %#x reject %#x lists %d: classified restricted, but "
                                 "OpenSSL trusts a plain copy for no more",
                                 sets[t], sets[r], flags);
                    if (no_trust_list && sets[r] == 0)
                        assert_int_equal(kind, DBT_TRUST_PLAIN);
                    if (sets[t] == 0 && (flags & HAS_TRUST)) {
                        /* OpenSSL itself: an empty trust list rejects every purpose. */
                        assert_int_equal(kind, DBT_TRUST_RESTRICTED);
                        assert_int_equal(X509_check_trust(x, X509_TRUST_SSL_SERVER, 0),
                                         X509_TRUST_REJECTED);
                        assert_int_equal(X509_check_trust(x, X509_TRUST_DEFAULT, 0),
                                         X509_TRUST_REJECTED);
                        if (s == 0)
                            assert_true(widens);
                    }
                    X509_free(x);
                    X509_free(plain);
                    checked++;
                }
            }
        }
    }
    assert_int_equal(checked, 4 * 2 * nsets * nsets);
}

/* A present but empty trust list survives a TRUSTED CERTIFICATE round trip (what PEM and hashed
 * directory outputs write and the reader reads), still rejected for every purpose, and it is not
 * the same setting as no list at all; an empty reject list is the same as none. */
static void test_empty_lists(void **state)
{
    testpki *pki = *state;
    X509 *plain = X509_dup(pki->root_rsa2048), *et = with_lists(plain, 0, 0, HAS_TRUST),
         *er = with_lists(plain, 0, 0, HAS_REJECT), *back = NULL;
    X509 *alias_et = with_lists(plain, 0, 1u << 1, HAS_TRUST);
    unsigned char *der = NULL;
    const unsigned char *p;
    char buf[200];
    int len;

    assert_int_equal(dbt_trust_kind_of(et), DBT_TRUST_RESTRICTED);
    assert_int_equal(dbt_trust_kind_of(er), DBT_TRUST_PLAIN);
    assert_int_equal(dbt_trust_kind_of(alias_et), DBT_TRUST_RESTRICTED);
    dbt_trust_describe(et, buf, sizeof(buf));
    assert_string_equal(buf, "trusted for nothing");
    dbt_trust_describe(alias_et, buf, sizeof(buf));
    assert_string_equal(buf, "trusted for nothing; rejected for clientAuth");
    assert_false(dbt_trust_equal(et, plain));
    assert_false(dbt_trust_equal(plain, et));
    assert_true(dbt_trust_equal(er, plain));
    assert_true(dbt_trust_equal(et, et));
    len = i2d_X509_AUX(et, &der);
    assert_true(len > 0);
    p = der;
    back = d2i_X509_AUX(NULL, &p, len);
    assert_non_null(back);
    assert_non_null(X509_get0_trust_objects(back));
    assert_int_equal(dbt_trust_kind_of(back), DBT_TRUST_RESTRICTED);
    assert_true(dbt_trust_equal(back, et));
    assert_int_equal(X509_check_trust(back, X509_TRUST_SSL_SERVER, 0), X509_TRUST_REJECTED);
    assert_int_equal(X509_check_trust(plain, X509_TRUST_SSL_SERVER, 0), X509_TRUST_TRUSTED);
    OPENSSL_free(der);
    X509_free(back);
    X509_free(alias_et);
    X509_free(er);
    X509_free(et);
    X509_free(plain);
}

/* An alias, a key id: still plain. Trusted for anyExtendedKeyUsage with nothing rejected: ALL. */
static void test_kind_examples(void **state)
{
    testpki *pki = *state;
    X509 *x = X509_dup(pki->root_rsa2048);
    ASN1_OBJECT *any = obj("anyExtendedKeyUsage"), *srv = obj("serverAuth");

    assert_int_equal(X509_alias_set1(x, (const unsigned char *)"root", 4), 1);
    assert_int_equal(X509_keyid_set1(x, (const unsigned char *)"id", 2), 1);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_PLAIN);
    assert_int_equal(X509_add1_trust_object(x, any), 1);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_ALL);
    assert_int_equal(X509_add1_trust_object(x, srv), 1);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_ALL);
    assert_int_equal(X509_add1_reject_object(x, srv), 1);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_RESTRICTED);
    X509_trust_clear(x);
    X509_reject_clear(x);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_PLAIN);
    ASN1_OBJECT_free(any);
    ASN1_OBJECT_free(srv);
    X509_free(x);
}

static void add_reject(X509 *x, const char *usage)
{
    ASN1_OBJECT *o = obj(usage);

    assert_int_equal(X509_add1_reject_object(x, o), 1);
    ASN1_OBJECT_free(o);
}

static void test_describe(void **state)
{
    testpki *pki = *state;
    X509 *x = with_settings(pki->root_rsa2048, 1u << 1 | 1u << 7, 1u << 0);
    char buf[200], small[40];

    dbt_trust_describe(x, buf, sizeof(buf));
    assert_string_equal(buf, "trusted for clientAuth, 1.2.3.4; rejected for serverAuth");
    X509_free(x);
    x = with_settings(pki->root_rsa2048, 0, 0);
    dbt_trust_describe(x, buf, sizeof(buf));
    assert_string_equal(buf, "no trust settings");
    X509_free(x);
    /* 64 usages into 40 bytes: cut with "...", terminated, never past the buffer. */
    x = X509_dup(pki->root_rsa2048);
    for (int k = 0; k < 64; k++) {
        char oid[32];
        ASN1_OBJECT *o;

        snprintf(oid, sizeof(oid), "1.2.3.%d", k);
        o = obj(oid);
        assert_int_equal(X509_add1_trust_object(x, o), 1);
        ASN1_OBJECT_free(o);
    }
    memset(small, 'x', sizeof(small));
    dbt_trust_describe(x, small, sizeof(small));
    assert_true(memchr(small, '\0', sizeof(small)) != NULL);
    assert_int_equal(strncmp(small, "trusted for 1.2.3.0, ", 21), 0);
    assert_non_null(strstr(small, "..."));
    /* Every size, around the cut points of both lists: terminated, never past the buffer (the
     * heap copy lets ASan see an overrun). */
    add_reject(x, "serverAuth");
    for (size_t n = 1; n < 120; n++) {
        char *p = malloc(n);

        assert_non_null(p);
        dbt_trust_describe(x, p, n);
        assert_true(strlen(p) < n);
        free(p);
    }
    X509_free(x);
}

/* The refusal names the file, the block (line for PEM, bag for PKCS#12), the settings and what
 * cannot keep them; plain and ALL certificates pass. */
static void test_require_plain(void **state)
{
    testpki *pki = *state;
    dbt_bundle *b = dbt_bundle_new("ca.pem");
    X509 *restricted = with_settings(pki->root_rsa2048, 0, 1u << 0);
    X509 *all = with_settings(pki->root_ec384, 1u << 5, 0);
    dbt_err err;

    assert_non_null(b);
    b->format = DBT_FMT_PEM;
    assert_int_equal(X509_up_ref(pki->root_rsa4096), 1);
    assert_int_equal(dbt_bundle_push(b, pki->root_rsa4096, 1, 1, NULL, &err), 0);
    assert_int_equal(dbt_bundle_push(b, all, 2, 20, NULL, &err), 0);
    assert_int_equal(dbt_trust_require_plain(b, "the target", 0, &err), 0);
    assert_int_equal(dbt_bundle_push(b, restricted, 3, 40, NULL, &err), 0);
    assert_int_equal(dbt_trust_require_plain(b, "the target", 0, &err), -1);
    assert_non_null(strstr(err.msg, "block 3 of ca.pem (line 40)"));
    assert_non_null(strstr(err.msg, "rejected for serverAuth"));
    assert_non_null(strstr(err.msg, "the target cannot keep them"));
    assert_null(strstr(err.msg, "Write PEM"));
    assert_int_equal(dbt_trust_require_plain(b, "DER output", 1, &err), -1);
    assert_non_null(strstr(err.msg, "Write PEM or a hashed directory"));
    b->certs[2].line = 0;
    b->format = DBT_FMT_PKCS12;
    assert_int_equal(dbt_trust_require_plain(b, "the target", 0, &err), -1);
    assert_non_null(strstr(err.msg, "bag 3 of ca.pem"));
    dbt_bundle_free(b);
}

/* A PKCS#12 trusted key usage: any list holding anyExtendedKeyUsage stays plain, a narrower one
 * becomes the trust list, an empty one rejects every purpose. */
static void test_set_usages(void **state)
{
    testpki *pki = *state;
    ASN1_OBJECT *cli = obj("clientAuth"), *code = obj("codeSigning"),
                *any = obj("anyExtendedKeyUsage");
    const ASN1_OBJECT *narrow[2] = {cli, code}, *wide[2] = {cli, any};
    X509 *x = X509_dup(pki->root_rsa2048);
    char buf[200];

    assert_int_equal(dbt_trust_set_usages(x, wide, 2), 0);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_PLAIN);
    assert_int_equal(dbt_trust_set_usages(x, narrow, 2), 0);
    assert_int_equal(dbt_trust_kind_of(x), DBT_TRUST_RESTRICTED);
    dbt_trust_describe(x, buf, sizeof(buf));
    assert_string_equal(buf, "trusted for clientAuth, codeSigning");
    assert_int_equal(X509_check_trust(x, X509_TRUST_SSL_SERVER, 0), X509_TRUST_REJECTED);
    assert_int_equal(X509_check_trust(x, X509_TRUST_SSL_CLIENT, 0), X509_TRUST_TRUSTED);
    X509_free(x);
    x = X509_dup(pki->root_rsa2048);
    assert_int_equal(dbt_trust_set_usages(x, NULL, 0), 0);
    dbt_trust_describe(x, buf, sizeof(buf));
    assert_string_equal(buf, "rejected for anyExtendedKeyUsage");
    assert_int_equal(X509_check_trust(x, X509_TRUST_SSL_SERVER, 0), X509_TRUST_REJECTED);
    X509_free(x);
    ASN1_OBJECT_free(cli);
    ASN1_OBJECT_free(code);
    ASN1_OBJECT_free(any);
}

static void test_equal(void **state)
{
    testpki *pki = *state;
    X509 *a = with_settings(pki->root_rsa2048, 1u << 0 | 1u << 1, 1u << 2);
    X509 *b = with_settings(pki->root_rsa2048, 1u << 1 | 1u << 0, 1u << 2);
    X509 *c = with_settings(pki->root_rsa2048, 1u << 0, 1u << 2);
    X509 *d = X509_dup(pki->root_rsa2048);

    assert_true(dbt_trust_equal(a, b));
    assert_false(dbt_trust_equal(a, c));
    assert_false(dbt_trust_equal(a, d));
    assert_true(dbt_trust_equal(d, pki->root_rsa2048));
    X509_free(a);
    X509_free(b);
    X509_free(c);
    X509_free(d);
}

/* The catalog refuses a restricted certificate in dbt_catalog_put itself, whoever calls it (the
 * catalog keeps DER and serves plain certificates), and commits nothing; an ALL one goes in. */
static void test_catalog_put_refuses(void **state)
{
    testpki *pki = *state;
    char dir[4096], path[4200];
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    dbt_catalog_meta meta;
    dbt_catalog_entry *list = NULL;
    dbt_bundle *b = dbt_bundle_new("bundle-src");
    X509 *restricted = with_settings(pki->root_rsa2048, 1u << 0, 0);
    X509 *all = with_settings(pki->root_ec384, 1u << 5, 0);
    size_t n = 99;
    dbt_err err;

    assert_non_null(b);
    assert_int_equal(testpki_tmpdir(dir, sizeof(dir)), 0);
    /* The commit reads the system wiring's state file: one that does not exist, never the
     * machine's (lib/syswire.h). */
    snprintf(path, sizeof(path), "%s/no-system-state", dir);
    setenv("DBTRUST_SYSTEM_STATE", path, 1);
    snprintf(path, sizeof(path), "%s/cat", dir);
    memset(&meta, 0, sizeof(meta));
    snprintf(meta.origin, sizeof(meta.origin), "test");
    snprintf(meta.format, sizeof(meta.format), "pem");
    assert_int_equal(dbt_bundle_push(b, all, 1, 1, NULL, &err), 0);
    assert_int_equal(dbt_bundle_push(b, restricted, 2, 12, NULL, &err), 0);
    assert_int_equal(dbt_catalog_open(path, DBT_CAT_CREATE, &cat, &err), 0);
    assert_int_equal(dbt_catalog_begin(cat, &t, &err), 0);
    assert_int_equal(dbt_catalog_put(t, "b", b, &meta, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "block 2 of bundle-src (line 12): its trust settings "
                                    "(trusted for serverAuth)"));
    assert_non_null(strstr(err.msg, "the catalog"));
    dbt_catalog_txn_free(t);
    t = NULL;
    /* Without the restricted one the same bundle is accepted. */
    X509_free(b->certs[1].x509);
    b->n = 1;
    assert_int_equal(dbt_catalog_begin(cat, &t, &err), 0);
    assert_int_equal(dbt_catalog_put(t, "b", b, &meta, NULL, &err), 0);
    assert_int_equal(dbt_catalog_commit(t, &err), 0);
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
    assert_int_equal(dbt_catalog_open(path, DBT_CAT_READ, &cat, &err), 0);
    assert_int_equal(dbt_catalog_list(cat, &list, &n, &err), 0);
    assert_int_equal(n, 1);
    free(list);
    dbt_catalog_close(cat);
    dbt_bundle_free(b);
    testpki_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_matches_x509_check_trust),
        cmocka_unit_test(test_kind_examples),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_require_plain),
        cmocka_unit_test(test_set_usages),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_catalog_put_refuses),
    };

    return cmocka_run_group_tests(tests, testpki_group_setup, testpki_group_teardown);
}
