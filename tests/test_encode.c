/* Unit tests of lib/encode.c and the PKCS#7 writer in lib/p7.c: round trips through every output
 * format, canonical PEM, and byte equality with `openssl crl2pkcs7 -nocrl`. */
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "encode.h"
#include "testpki.h"
#include "trust.h"

/* Every format name of the table; "der" is only for single-certificate bundles. */
static const char *const all_formats[] = {"pem", "der", "p7b", "p7b-der", "pkcs12", "jks"};
#define NFMT (sizeof(all_formats) / sizeof(all_formats[0]))

/* A bundle holding the given certificates (each up-ref'ed). */
static dbt_bundle *bundle_of(X509 *const *certs, size_t n)
{
    dbt_bundle *b = dbt_bundle_new("F");
    dbt_err err;

    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(X509_up_ref(certs[i]), 1);
        assert_int_equal(dbt_bundle_push(b, certs[i], (int)i + 1, 0, NULL, &err), 0);
    }
    return b;
}

static void assert_same_bundles(const dbt_bundle *x, const dbt_bundle *y, const char *what)
{
    char a[65], e[65];

    if (x->n != y->n)
        fail_msg("%s: %zu certificates, expected %zu", what, y->n, x->n);
    for (size_t i = 0; i < x->n; i++) {
        testpki_sha256_hex(x->certs[i].x509, a);
        testpki_sha256_hex(y->certs[i].x509, e);
        if (strcmp(a, e) != 0)
            fail_msg("%s: certificate %zu differs", what, i + 1);
    }
}

/* decode(encode(b, fmt)) holds the same SHA-256 list as b, in the same order. */
static void roundtrip(const dbt_bundle *b, const char *fmtname)
{
    int fmt = dbt_outfmt_from_name(fmtname);
    unsigned char *out = NULL;
    size_t len = 0;
    dbt_bundle *back = NULL;
    dbt_err err;
    char what[300];

    assert_true(fmt >= 0);
    if (dbt_encode(b, (dbt_outfmt)fmt, NULL, &out, &len, &err) != 0)
        fail_msg("%s: encode %s: %s", b->source, fmtname, err.msg);
    /* NULL password when encoding means "changeit" (Java's conventional one). */
    if (dbt_bundle_decode(out, len, "roundtrip", "changeit", &back, &err) != 0)
        fail_msg("%s: decode %s: %s", b->source, fmtname, err.msg);
    snprintf(what, sizeof(what), "%s via %s", b->source, fmtname);
    assert_same_bundles(b, back, what);
    dbt_bundle_free(back);
    OPENSSL_free(out);
}

static void test_format_table(void **state)
{
    static const struct {
        const char *name;
        dbt_outfmt fmt;
        const char *ext;
    } want[] = {
        {"pem", DBT_OUT_PEM, ".pem"},       {"der", DBT_OUT_DER, ".der"},
        {"p7b", DBT_OUT_P7_PEM, ".p7b"},    {"p7b-der", DBT_OUT_P7_DER, ".p7b"},
        {"pkcs12", DBT_OUT_PKCS12, ".p12"}, {"jks", DBT_OUT_JKS, ".jks"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(dbt_outfmt_from_name(want[i].name), want[i].fmt);
        assert_string_equal(dbt_outfmt_name(want[i].fmt), want[i].name);
        assert_string_equal(dbt_outfmt_ext(want[i].fmt), want[i].ext);
        assert_non_null(strstr(dbt_outfmt_names(), want[i].name));
    }
    assert_int_equal(dbt_outfmt_from_name("p12"), DBT_OUT_PKCS12);
    assert_int_equal(dbt_outfmt_from_name("PEM"), -1);
    assert_int_equal(dbt_outfmt_from_name("zip"), -1);
    assert_int_equal(dbt_outfmt_from_name(NULL), -1);
    assert_null(dbt_outfmt_name((dbt_outfmt)99));
}

static void test_roundtrip_testpki(void **state)
{
    testpki *pki = *state;
    X509 *all[TESTPKI_NCERTS];
    dbt_bundle *b, *one;

    testpki_all(pki, all);
    b = bundle_of(all, TESTPKI_NCERTS);
    one = bundle_of(&pki->root_ec384, 1);
    for (size_t i = 0; i < NFMT; i++) {
        if (strcmp(all_formats[i], "der") != 0)
            roundtrip(b, all_formats[i]);
        roundtrip(one, all_formats[i]);
    }
    dbt_bundle_free(b);
    dbt_bundle_free(one);
}

/* Canonical PEM: one CERTIFICATE block per certificate, 64 columns, LF only; the bytes are
 * those of PEM_write_bio_X509, and a TRUSTED CERTIFICATE input with only an alias (no trust or
 * reject list) comes out as CERTIFICATE. */
static void test_pem_canonical(void **state)
{
    testpki *pki = *state;
    X509 *all[TESTPKI_NCERTS], *aux = X509_dup(pki->root_rsa4096);
    unsigned char *out = NULL, *want = NULL;
    size_t len = 0, wlen = 0, col = 0, begins = 0;
    dbt_bundle *b;
    dbt_err err;

    testpki_all(pki, all);
    assert_non_null(aux);
    assert_int_equal(X509_alias_set1(aux, (const unsigned char *)"root", 4), 1);
    all[1] = aux;
    b = bundle_of(all, TESTPKI_NCERTS);
    assert_int_equal(dbt_encode(b, DBT_OUT_PEM, NULL, &out, &len, &err), 0);
    testpki_all(pki, all);
    assert_int_equal(testpki_pem(all, TESTPKI_NCERTS, &want, &wlen), 0);
    assert_int_equal(len, wlen);
    assert_memory_equal(out, want, len);
    for (size_t i = 0; i < len; i++) {
        assert_true(out[i] != '\r');
        if (out[i] == '\n') {
            assert_true(col <= 64);
            col = 0;
        } else {
            col++;
        }
    }
    assert_int_equal(out[len - 1], '\n');
    for (const char *p = (const char *)want; (p = strstr(p, "-----BEGIN ")) != NULL; p++) {
        assert_int_equal(strncmp(p, "-----BEGIN CERTIFICATE-----\n", 28), 0);
        begins++;
    }
    assert_int_equal(begins, TESTPKI_NCERTS);
    OPENSSL_free(out);
    free(want);
    dbt_bundle_free(b);
    X509_free(aux);
}

/* Adds usage (a name or OID) to x's trust list, or to its reject list. */
static void add_setting(X509 *x, const char *usage, int reject)
{
    ASN1_OBJECT *o = OBJ_txt2obj(usage, 0);

    assert_non_null(o);
    assert_int_equal(reject ? X509_add1_reject_object(x, o) : X509_add1_trust_object(x, o), 1);
    ASN1_OBJECT_free(o);
}

/* Whether OpenSSL verifies pki's leaf (through its intermediate) with anchor as the only trusted
 * certificate, for purpose (0: none, so X509_TRUST_DEFAULT applies). */
static int leaf_verifies(const testpki *pki, X509 *anchor, int purpose)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    int ok;

    assert_non_null(store);
    assert_non_null(ctx);
    assert_non_null(chain);
    assert_int_equal(X509_STORE_add_cert(store, anchor), 1);
    assert_int_equal(sk_X509_push(chain, pki->intermediate), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, pki->leaf, chain), 1);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), testpki_utc(2030, 1, 1));
    if (purpose != 0)
        assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
    ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    sk_X509_free(chain);
    X509_STORE_free(store);
    return ok;
}

/*
 * Trust settings through every output format: the root of the leaf's chain with trust settings
 * (rejected for serverAuth; trusted for clientAuth only; serverAuth only; anyExtendedKeyUsage;
 * an alias only; rejected for everything; serverAuth but rejected for clientAuth). Each format
 * either refuses the bundle naming the certificate and its settings, or what it writes decodes
 * to a root OpenSSL trusts for no purpose the input's root was not trusted for. PEM keeps the
 * settings exactly; only the formats that cannot carry them refuse, and only restricted roots.
 */
static void test_trust_never_widened(void **state)
{
    static const struct {
        const char *name, *trust, *reject;
        int restricted; /* a plain copy would be trusted for more */
    } variants[] = {
        {"reject serverAuth", NULL, "serverAuth", 1},
        {"trust clientAuth only", "clientAuth", NULL, 1},
        {"trust serverAuth only", "serverAuth", NULL, 1},
        {"trust anyExtendedKeyUsage", "anyExtendedKeyUsage", NULL, 0},
        {"alias only", NULL, NULL, 0},
        {"reject anyExtendedKeyUsage", NULL, "anyExtendedKeyUsage", 1},
        {"trust serverAuth, reject clientAuth", "serverAuth", "clientAuth", 1},
    };
    static const int purposes[] = {0, X509_PURPOSE_SSL_SERVER, X509_PURPOSE_SSL_CLIENT,
                                   X509_PURPOSE_ANY};
    testpki *pki = *state;

    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        X509 *root = X509_dup(pki->root_rsa2048), *certs[2];
        dbt_bundle *b;

        assert_non_null(root);
        assert_int_equal(X509_alias_set1(root, (const unsigned char *)"root", 4), 1);
        if (variants[v].trust != NULL)
            add_setting(root, variants[v].trust, 0);
        if (variants[v].reject != NULL)
            add_setting(root, variants[v].reject, 1);
        /* The check below must be able to fail: the input's settings matter to OpenSSL. */
        if (variants[v].restricted) {
            int differs = 0;

            for (size_t p = 0; p < sizeof(purposes) / sizeof(purposes[0]); p++)
                differs |= leaf_verifies(pki, root, purposes[p]) !=
                           leaf_verifies(pki, pki->root_rsa2048, purposes[p]);
            if (!differs)
                fail_msg("%s: test setup: OpenSSL trusts the root as if plain", variants[v].name);
        }
        certs[0] = pki->root_ec384;
        certs[1] = root;
        b = bundle_of(certs, 2);
        for (size_t f = 0; f < NFMT; f++) {
            const char *fmt = all_formats[f];
            unsigned char *out = NULL;
            size_t len = 0;
            dbt_bundle *back = NULL, *one = NULL, *in = b;
            dbt_err err;
            int rc;

            /* DER holds one certificate: the restricted root alone. */
            if (strcmp(fmt, "der") == 0)
                in = one = bundle_of(&root, 1);
            rc = dbt_encode(in, (dbt_outfmt)dbt_outfmt_from_name(fmt), NULL, &out, &len, &err);
            if (rc != 0) {
                if (!variants[v].restricted || strcmp(fmt, "pem") == 0)
                    fail_msg("%s to %s: refused: %s", variants[v].name, fmt, err.msg);
                if (strstr(err.msg, one != NULL ? "certificate 1 of F" : "certificate 2 of F") ==
                        NULL ||
                    strstr(err.msg, variants[v].trust != NULL ? variants[v].trust
                                                              : variants[v].reject) == NULL)
                    fail_msg("%s to %s: the refusal does not name the certificate and its "
                             "settings: %s",
                             variants[v].name, fmt, err.msg);
                dbt_bundle_free(one);
                continue;
            }
            if (variants[v].restricted && strcmp(fmt, "pem") != 0)
                fail_msg("%s to %s: written although %s cannot carry trust settings",
                         variants[v].name, fmt, fmt);
            if (dbt_bundle_decode(out, len, "back", "changeit", &back, &err) != 0)
                fail_msg("%s to %s: decode: %s", variants[v].name, fmt, err.msg);
            {
                X509 *got = back->certs[back->n - 1].x509;

                for (size_t p = 0; p < sizeof(purposes) / sizeof(purposes[0]); p++)
                    if (leaf_verifies(pki, got, purposes[p]) &&
                        !leaf_verifies(pki, root, purposes[p]))
                        fail_msg("%s via %s: the output is trusted for purpose %d, the input "
                                 "was not",
                                 variants[v].name, fmt, purposes[p]);
                if (strcmp(fmt, "pem") == 0) {
                    assert_true(dbt_trust_equal(got, root));
                    /* Only a certificate with trust or reject lists becomes TRUSTED. */
                    assert_int_equal(memmem(out, len, "TRUSTED CERTIFICATE", 19) != NULL,
                                     dbt_trust_kind_of(root) != DBT_TRUST_PLAIN);
                }
            }
            dbt_bundle_free(back);
            dbt_bundle_free(one);
            OPENSSL_free(out);
        }
        dbt_bundle_free(b);
        X509_free(root);
    }
}

static void test_der_single_only(void **state)
{
    testpki *pki = *state;
    X509 *all[TESTPKI_NCERTS];
    unsigned char *out = NULL, *want = NULL;
    size_t len = 0, wlen = 0;
    dbt_bundle *b;
    dbt_err err;

    b = bundle_of(&pki->leaf, 1);
    assert_int_equal(dbt_encode(b, DBT_OUT_DER, NULL, &out, &len, &err), 0);
    assert_int_equal(testpki_der(pki->leaf, &want, &wlen), 0);
    assert_int_equal(len, wlen);
    assert_memory_equal(out, want, len);
    OPENSSL_free(out);
    free(want);
    dbt_bundle_free(b);

    testpki_all(pki, all);
    b = bundle_of(all, TESTPKI_NCERTS);
    out = NULL;
    assert_int_equal(dbt_encode(b, DBT_OUT_DER, NULL, &out, &len, &err), -1);
    assert_null(out);
    assert_string_equal(err.msg, "F: DER holds exactly one certificate, but the bundle has 6: use "
                                 "p7b or pem for 6 certificates");
    dbt_bundle_free(b);
}

static void test_empty_and_unknown(void **state)
{
    testpki *pki = *state;
    dbt_bundle *b = dbt_bundle_new("F");
    unsigned char *out = NULL;
    size_t len = 0;
    dbt_err err;

    assert_non_null(b);
    for (size_t i = 0; i < NFMT; i++) {
        assert_int_equal(
            dbt_encode(b, (dbt_outfmt)dbt_outfmt_from_name(all_formats[i]), NULL, &out, &len, &err),
            -1);
        assert_string_equal(err.msg, "F: no certificates to write");
    }
    dbt_bundle_free(b);
    b = bundle_of(&pki->leaf, 1);
    assert_int_equal(dbt_encode(b, (dbt_outfmt)42, NULL, &out, &len, &err), -1);
    assert_string_equal(err.msg,
                        "unknown output format 42 (known: pem, der, p7b, p7b-der, pkcs12, jks)");
    dbt_bundle_free(b);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    unsigned char *data = NULL;
    dbt_err err;

    if (dbt_read_all(path, &data, len, &err) != 0)
        fail_msg("%s", err.msg);
    return data;
}

/* The PKCS#7 writer gives the bytes `openssl crl2pkcs7 -nocrl` gives, in DER and in PEM. */
static void test_p7_equals_crl2pkcs7_cli(void **state)
{
    testpki *pki = *state;
    X509 *all[TESTPKI_NCERTS];
    char dir[4096], in[4200], cmd[9000], outp[4200];
    unsigned char *pem = NULL, *mine = NULL, *theirs;
    size_t plen = 0, mlen = 0, tlen = 0;
    dbt_bundle *b;
    dbt_err err;
    static const struct {
        const char *outform;
        dbt_outfmt fmt;
    } forms[] = {{"DER", DBT_OUT_P7_DER}, {"PEM", DBT_OUT_P7_PEM}};

    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("SKIP: the openssl command is not installed (apt-get install openssl)\n");
        skip();
    }
    testpki_all(pki, all);
    b = bundle_of(all, TESTPKI_NCERTS);
    assert_int_equal(testpki_tmpdir(dir, sizeof(dir)), 0);
    snprintf(in, sizeof(in), "%s/in.pem", dir);
    assert_int_equal(testpki_pem(all, TESTPKI_NCERTS, &pem, &plen), 0);
    assert_int_equal(testpki_write_file(in, pem, plen), 0);
    for (size_t i = 0; i < 2; i++) {
        snprintf(outp, sizeof(outp), "%s/out.%s", dir, forms[i].outform);
        snprintf(cmd, sizeof(cmd), "openssl crl2pkcs7 -nocrl -certfile '%s' -outform %s -out '%s'",
                 in, forms[i].outform, outp);
        assert_int_equal(system(cmd), 0);
        theirs = slurp(outp, &tlen);
        assert_int_equal(dbt_encode(b, forms[i].fmt, NULL, &mine, &mlen, &err), 0);
        assert_int_equal(mlen, tlen);
        assert_memory_equal(mine, theirs, mlen);
        OPENSSL_free(mine);
        free(theirs);
    }
    free(pem);
    dbt_bundle_free(b);
    testpki_rmtree(dir);
}

/* Real .p7b files are crl2pkcs7 output of their PEM: our writer reproduces them byte for byte,
 * unsorted SET OF included. */
static void test_realdata_p7_bytes(void **state)
{
    static const struct {
        const char *pem, *p7;
        dbt_outfmt fmt;
    } pairs[] = {
        {"aws-rds-global-bundle.pem", "aws-rds-global-bundle.p7b", DBT_OUT_P7_DER},
        {"aws-rds-global-bundle-2022.pem", "aws-rds-global-bundle-2022.p7b", DBT_OUT_P7_PEM},
    };
    int compared = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char pem[4096], p7[4096];
        unsigned char *want, *out = NULL;
        size_t wlen = 0, len = 0;
        dbt_bundle *b = NULL;
        dbt_err err;

        if (testpki_realdata(pairs[i].pem, pem, sizeof(pem)) != 0 ||
            testpki_realdata(pairs[i].p7, p7, sizeof(p7)) != 0)
            continue;
        assert_int_equal(dbt_bundle_read_file(pem, NULL, &b, &err), 0);
        assert_int_equal(dbt_encode(b, pairs[i].fmt, NULL, &out, &len, &err), 0);
        want = slurp(p7, &wlen);
        assert_int_equal(len, wlen);
        assert_memory_equal(out, want, len);
        free(want);
        OPENSSL_free(out);
        dbt_bundle_free(b);
        compared++;
    }
    if (compared == 0)
        skip();
}

/* Every real bundle survives every output format with the same SHA-256 list. */
static void test_realdata_roundtrip(void **state)
{
    static const char *files[] = {
        "aws-rds-global-bundle.pem",
        "aws-rds-global-bundle-2022.p7b",
        "aws-rds-global-bundle.p7b",
        "aws-rds-us-east-1-bundle-2022-crlf.pem",
        "aws-rds-combined-ca-bundle-legacy.pem",
        "aws-rds-combined-ca-bundle-2015-era.pem",
        "aws-rds-govcloud-global-bundle-2022.pem",
        "aws-rds-us-gov-west-1-bundle-2017.pem",
        "aiven-project-ca.pem",
        "aiven-project-ca-gen1.pem",
        "aiven-service-leaf-plus-project-ca.pem",
        "gcp-cloudsql-server-ca.pem",
        "Amazon_Root_CA_1.pem",
        "DigiCert_Global_Root_G2.pem",
        "malformed/aws-rds-us-east-1-bundle-indented-begin.pem",
    };
    int done = 0;

    (void)state;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[4096];
        dbt_bundle *b = NULL;
        dbt_err err;

        if (testpki_realdata(files[f], path, sizeof(path)) != 0)
            continue;
        if (dbt_bundle_read_file(path, NULL, &b, &err) != 0)
            fail_msg("%s", err.msg);
        for (size_t i = 0; i < NFMT; i++)
            if (strcmp(all_formats[i], "der") != 0 || b->n == 1)
                roundtrip(b, all_formats[i]);
        dbt_bundle_free(b);
        done++;
    }
    if (done == 0)
        skip();
    printf("round-tripped %d real bundles through %zu formats\n", done, NFMT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table),        cmocka_unit_test(test_roundtrip_testpki),
        cmocka_unit_test(test_pem_canonical),       cmocka_unit_test(test_der_single_only),
        cmocka_unit_test(test_empty_and_unknown),   cmocka_unit_test(test_p7_equals_crl2pkcs7_cli),
        cmocka_unit_test(test_realdata_p7_bytes),   cmocka_unit_test(test_realdata_roundtrip),
        cmocka_unit_test(test_trust_never_widened),
    };

    return cmocka_run_group_tests(tests, testpki_group_setup, testpki_group_teardown);
}
