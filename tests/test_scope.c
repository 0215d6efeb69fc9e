/* Unit tests for lib/scope.h and the catalog's trust view: scope texts, and chains verified by
 * OpenSSL through the name-constrained cross-certificates, inside and outside the scope. */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "catalog.h"
#include "scope.h"
#include "testpki.h"

/* ---------- scope texts ---------- */

static void add_ok(char *scope, size_t len, const char *item)
{
    dbt_err err;
    int rc = dbt_scope_add(scope, len, item, &err);
    if (rc != 0)
        fail_msg("'%s' refused: %s", item, err.msg);
}

static void test_add_forms(void **state)
{
    static const char *const good[][2] = {
        {"Example.COM", "example.com"},
        {"example.com.", "example.com"},
        {"*.example.com", ".example.com"},
        {".Example.com", ".example.com"},
        {"db_1.internal", "db_1.internal"},
        {"localhost", "localhost"},
        {"10.0.0.0/8", "10.0.0.0/8"},
        {"10.1.2.3", "10.1.2.3/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},
        {"2001:DB8::/32", "2001:db8::/32"},
        {"::1", "::1/128"},
    };
    char scope[DBT_SCOPE_TEXT_MAX];
    dbt_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        scope[0] = '\0';
        add_ok(scope, sizeof(scope), good[i][0]);
        assert_string_equal(scope, good[i][1]);
        assert_int_equal(dbt_scope_check(scope, &err), 0);
    }
    /* In the order given, each once. */
    scope[0] = '\0';
    add_ok(scope, sizeof(scope), "b.test");
    add_ok(scope, sizeof(scope), "10.0.0.0/8");
    add_ok(scope, sizeof(scope), "B.test");
    add_ok(scope, sizeof(scope), "a.test");
    assert_string_equal(scope, "b.test 10.0.0.0/8 a.test");
}

static void test_add_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        ".",
        "*.",
        "*",
        "exa mple.com",
        "a..b",
        "-bad\n.com",
        "example.com/24",
        "10.0.0.1/8",
        "10.0.0.0/33",
        "10.0.0.0/",
        "10.0.0.0/x",
        "1.2.3",
        "2001:db8::1/129",
        "::1/64",
        "caf\xc3\xa9.test",
        "a\x1b[31m.test",
    };
    char scope[DBT_SCOPE_TEXT_MAX], label[80], name[300];
    dbt_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scope[0] = '\0';
        if (dbt_scope_add(scope, sizeof(scope), bad[i], &err) == 0)
            fail_msg("'%s' accepted as '%s'", bad[i], scope);
        assert_string_equal(scope, "");
    }
    /* A label of 64 bytes, a name of 254 bytes. */
    memset(label, 'a', 64);
    strcpy(label + 64, ".test");
    scope[0] = '\0';
    assert_int_equal(dbt_scope_add(scope, sizeof(scope), label, &err), -1);
    for (size_t i = 0; i < 254; i++)
        name[i] = i % 2 ? '.' : 'a';
    name[254] = '\0';
    name[253] = 'a';
    assert_int_equal(dbt_scope_add(scope, sizeof(scope), name, &err), -1);
    /* The cap on items. */
    for (int i = 0; i < DBT_SCOPE_MAX_ITEMS; i++) {
        snprintf(name, sizeof(name), "h%d.test", i);
        add_ok(scope, sizeof(scope), name);
    }
    assert_int_equal(dbt_scope_add(scope, sizeof(scope), "one-more.test", &err), -1);
    assert_non_null(strstr(err.msg, "one-more.test"));
    assert_int_equal(dbt_scope_check(scope, &err), 0);
}

static void test_check(void **state)
{
    static const char *const bad[] = {"Example.com", "a.test  b.test", "a.test ",       " a.test",
                                      "10.1.2.3",    "*.a.test",       "a.test\nb.test"};
    char many[DBT_SCOPE_TEXT_MAX];
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_scope_check("", &err), 0);
    assert_int_equal(dbt_scope_check("a.test .b.test 10.0.0.0/8 ::1/128", &err), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dbt_scope_check(bad[i], &err) == 0)
            fail_msg("'%s' passed the check", bad[i]);
    many[0] = '\0';
    for (int i = 0; i <= DBT_SCOPE_MAX_ITEMS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sh%d.t", i ? " " : "", i);
    assert_int_equal(dbt_scope_check(many, &err), -1);
}

/* ---------- chains ---------- */

static EVP_PKEY *root_key, *int_key, *leaf_key;

static int add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* A certificate CN=cn; issuer NULL: self-signed with key. ca: 1 CA (pathlen >= 0 kept), 0 leaf
 * with san ("DNS:x", "IP:x" or NULL for CN only); nc: an extra nameConstraints value or NULL. */
static X509 *cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca, int pathlen,
                  const char *san, const char *nc)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    char bc[64];
    static long serial = 1;

    assert_non_null(x);
    assert_true(
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0));
    assert_true(X509_set_version(x, 2));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++));
    assert_true(X509_set_subject_name(x, n));
    assert_true(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -86400L * (ca ? 30 : 1)));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * (ca ? 300 + pathlen : 30)));
    assert_true(X509_set_pubkey(x, key));
    if (ca && pathlen >= 0)
        snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", pathlen);
    else
        snprintf(bc, sizeof(bc), "critical,CA:%s", ca ? "TRUE" : "FALSE");
    assert_true(add_ext(issuer ? issuer : x, x, NID_basic_constraints, bc));
    assert_true(add_ext(issuer ? issuer : x, x, NID_key_usage,
                        ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"));
    assert_true(add_ext(issuer ? issuer : x, x, NID_subject_key_identifier, "hash"));
    if (issuer != NULL && X509_get0_subject_key_id(issuer) != NULL)
        assert_true(add_ext(issuer, x, NID_authority_key_identifier, "keyid:always"));
    if (!ca)
        assert_true(add_ext(issuer, x, NID_ext_key_usage, "serverAuth"));
    if (san != NULL)
        assert_true(add_ext(issuer ? issuer : x, x, NID_subject_alt_name, san));
    if (nc != NULL)
        assert_true(add_ext(issuer ? issuer : x, x, NID_name_constraints, nc));
    assert_true(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
    X509_NAME_free(n);
    return x;
}

/* X509_V_OK or the error of verifying leaf with untrusted chain against trusted. */
static int verify(X509 *leaf, X509 *const *trusted, size_t nt, X509 *const *chain, size_t nc)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *un = sk_X509_new_null();
    int rc;

    for (size_t i = 0; i < nt; i++)
        assert_true(X509_STORE_add_cert(st, trusted[i]));
    for (size_t i = 0; i < nc; i++)
        assert_true(sk_X509_push(un, chain[i]));
    assert_true(X509_STORE_CTX_init(ctx, st, leaf, un));
    rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    sk_X509_free(un);
    X509_STORE_free(st);
    ERR_clear_error();
    return rc;
}

struct pki {
    X509 *root, *inter;
};

static void pki_make(struct pki *p)
{
    p->root = cert("Scope Test Root", root_key, NULL, NULL, 1, -1, NULL, NULL);
    p->inter = cert("Scope Test Intermediate", int_key, p->root, root_key, 1, 0, NULL, NULL);
}

static void pki_free(struct pki *p)
{
    X509_free(p->root);
    X509_free(p->inter);
}

/* Builds the scoped form of the root (a root constrained in place) or of the intermediate alone
 * (a cross-certificate under a fresh anchor) for scope, trusts only that, and checks each leaf's
 * outcome. */
struct want {
    const char *cn, *san;
    int ok; /* 1: verifies; 0: fails on a name constraint */
};

static void check_scope_of(const struct pki *p, int inter, const char *scope, const struct want *w,
                           size_t n, int send_root)
{
    dbt_scope_item item = {inter ? p->inter : p->root, scope};
    X509 *anchor = NULL, *form = NULL;
    dbt_err err;

    if (dbt_scope_build(&item, 1, &anchor, &form, &err) != 0)
        fail_msg("build: %s", err.msg);
    /* A root needs no anchor; anything else does. */
    if (inter)
        assert_non_null(anchor);
    else
        assert_null(anchor);
    for (size_t i = 0; i < n; i++) {
        X509 *leaf = cert(w[i].cn, leaf_key, p->inter, int_key, 0, -1, w[i].san, NULL);
        X509 *trusted[2] = {form, anchor}, *chain[2] = {p->inter, p->root};
        int rc = verify(leaf, trusted, anchor ? 2 : 1, chain, send_root ? 2 : 1);

        if (w[i].ok ? rc != X509_V_OK
                    : rc != X509_V_ERR_PERMITTED_VIOLATION && rc != X509_V_ERR_EXCLUDED_VIOLATION)
            fail_msg("scope '%s' on the %s, leaf %s %s%s: got %d (%s), want %s", scope,
                     inter ? "intermediate" : "root", w[i].cn, w[i].san ? w[i].san : "(no SAN)",
                     send_root ? ", root sent" : "", rc, X509_verify_cert_error_string(rc),
                     w[i].ok ? "ok" : "a name violation");
        /* Control: with the raw root trusted, every leaf verifies (the test can tell). */
        trusted[0] = p->root;
        assert_int_equal(verify(leaf, trusted, 1, chain, 1), X509_V_OK);
        X509_free(leaf);
    }
    X509_free(form);
    X509_free(anchor);
}

static void check_scope(const struct pki *p, const char *scope, const struct want *w, size_t n,
                        int send_root)
{
    check_scope_of(p, 0, scope, w, n, send_root);
    check_scope_of(p, 1, scope, w, n, send_root);
}

static void test_dns_scope(void **state)
{
    static const struct want w[] = {
        {"db.scope.test", "DNS:db.scope.test", 1},
        {"scope.test", "DNS:scope.test", 1},
        {"a.b.scope.test", "DNS:a.b.scope.test", 1},
        {"evil.other.test", "DNS:evil.other.test", 0},
        {"notscope.test", "DNS:notscope.test", 0},
        {"mixed", "DNS:db.scope.test,DNS:evil.other.test", 0},
        {"cn.scope.test", NULL, 1},
        {"cn.other.test", NULL, 0},
        {"ip", "IP:10.1.2.3", 0},
        {"ip6", "IP:::1", 0},
        /* Mail addresses and URIs are outside every scope, even at an in-scope host. */
        {"mail", "DNS:db.scope.test,email:dba@scope.test", 0},
        {"uri", "DNS:db.scope.test,URI:https://db.scope.test/", 0},
    };
    struct pki p;

    (void)state;
    pki_make(&p);
    check_scope(&p, "scope.test", w, sizeof(w) / sizeof(w[0]), 0);
    check_scope(&p, "scope.test", w, sizeof(w) / sizeof(w[0]), 1);
    pki_free(&p);
}

static void test_subdomain_scope(void **state)
{
    static const struct want w[] = {
        {"db.scope.test", "DNS:db.scope.test", 1},
        {"scope.test", "DNS:scope.test", 0},
    };
    struct pki p;

    (void)state;
    pki_make(&p);
    check_scope(&p, ".scope.test", w, 2, 0);
    pki_free(&p);
}

static void test_ip_scope(void **state)
{
    static const struct want w[] = {
        {"in", "IP:10.1.2.3", 1},
        {"out", "IP:192.168.1.1", 0},
        {"v6", "IP:2001:db8::5", 1},
        {"v6out", "IP:2001:db9::5", 0},
        {"dns", "DNS:db.scope.test", 0},
        {"db.scope.test", NULL, 0}, /* a host-name CN is a DNS name, excluded */
    };
    struct pki p;

    (void)state;
    pki_make(&p);
    check_scope(&p, "10.0.0.0/8 2001:db8::/32", w, sizeof(w) / sizeof(w[0]), 0);
    pki_free(&p);
}

static void test_mixed_scope(void **state)
{
    static const struct want w[] = {
        {"in", "IP:10.1.2.3", 1},
        {"dns", "DNS:db.scope.test", 1},
        {"out", "DNS:evil.other.test", 0},
        {"ipout", "IP:11.0.0.1", 0},
    };
    struct pki p;

    (void)state;
    pki_make(&p);
    check_scope(&p, "scope.test 10.0.0.0/8", w, sizeof(w) / sizeof(w[0]), 0);
    pki_free(&p);
}

/* A root's scoped form is the root: the same names, serial, key, validity, extensions and
 * signature bytes, plus the critical constraint; OpenSSL still takes it for self-signed (an
 * anchor), its old signature no longer matches (a program that checks anchors' signatures fails
 * closed), and every build gives the same bytes. */
static void test_root_form(void **state)
{
    X509 *root = cert("Form Root", root_key, NULL, NULL, 1, 2, NULL, NULL);
    X509 *inter = cert("Form Inter", int_key, root, root_key, 1, 0, NULL, NULL);
    X509 *leaf = cert("db.scope.test", leaf_key, inter, int_key, 0, -1, "DNS:db.scope.test", NULL);
    dbt_scope_item item = {root, "scope.test"};
    X509 *a = NULL, *x1 = NULL, *x2 = NULL;
    const ASN1_BIT_STRING *sig_r, *sig_x;
    unsigned char *d1 = NULL, *d2 = NULL;
    int l1, l2, crit = 0;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_scope_build(&item, 1, &a, &x1, &err), 0);
    assert_null(a);
    assert_int_equal(dbt_scope_build(&item, 1, &a, &x2, &err), 0);
    l1 = i2d_X509(x1, &d1);
    l2 = i2d_X509(x2, &d2);
    assert_true(l1 > 0 && l1 == l2 && memcmp(d1, d2, (size_t)l1) == 0);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x1), X509_get_subject_name(root)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x1), X509_get_issuer_name(root)), 0);
    assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x1), X509_get0_serialNumber(root)), 0);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x1), X509_get0_pubkey(root)), 1);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(x1), X509_get0_notBefore(root)), 0);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(x1), X509_get0_notAfter(root)), 0);
    assert_int_equal(X509_get_ext_count(x1), X509_get_ext_count(root) + 1);
    assert_int_equal(X509_get_key_usage(x1), X509_get_key_usage(root));
    assert_int_equal(X509_get_pathlen(x1), 2);
    {
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x1, NID_name_constraints, &crit, NULL);
        assert_non_null(nc);
        assert_int_equal(crit, 1);
        NAME_CONSTRAINTS_free(nc);
    }
    X509_get0_signature(&sig_r, NULL, root);
    X509_get0_signature(&sig_x, NULL, x1);
    assert_int_equal(ASN1_STRING_cmp(sig_r, sig_x), 0);
    assert_int_equal(X509_self_signed(x1, 0), 1);
    assert_int_equal(X509_verify(root, root_key), 1);
    assert_int_not_equal(X509_verify(x1, root_key), 1);
    assert_false(dbt_scope_is_anchor(x1));
    /* Trusted as an anchor, it verifies an in-scope leaf; a verifier that checks anchors' own
     * signatures refuses it (closed, never open). */
    {
        X509 *trusted[1] = {x1}, *chain[1] = {inter};
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *un = sk_X509_new_null();

        assert_int_equal(verify(leaf, trusted, 1, chain, 1), X509_V_OK);
        assert_true(X509_STORE_add_cert(st, x1) && sk_X509_push(un, inter));
        assert_true(X509_STORE_CTX_init(ctx, st, leaf, un));
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CHECK_SS_SIGNATURE);
        assert_int_not_equal(X509_verify_cert(ctx), 1);
        assert_int_equal(X509_STORE_CTX_get_error(ctx), X509_V_ERR_CERT_SIGNATURE_FAILURE);
        X509_STORE_CTX_free(ctx);
        sk_X509_free(un);
        X509_STORE_free(st);
        ERR_clear_error();
    }
    /* Not a root: no constrained-in-place form. */
    assert_null(dbt_scope_constrain_root(inter, "scope.test", &err));
    ERR_clear_error();
    OPENSSL_free(d1);
    OPENSSL_free(d2);
    X509_free(x1);
    X509_free(x2);
    X509_free(leaf);
    X509_free(inter);
    X509_free(root);
}

/* An intermediate's cross-certificate says what the intermediate says of itself; only the
 * issuer and the scope are new. The anchor is recognized, each build has an anchor of its own. */
static void test_cross_keeps(void **state)
{
    X509 *root = cert("Keeps Root", root_key, NULL, NULL, 1, 3, NULL, NULL);
    X509 *inter = cert("Keeps Inter", int_key, root, root_key, 1, 2, NULL, NULL);
    dbt_scope_item item = {inter, "scope.test"};
    X509 *a1 = NULL, *a2 = NULL, *x1 = NULL, *x2 = NULL;
    BASIC_CONSTRAINTS *bc;
    const ASN1_OCTET_STRING *skid_r, *skid_x, *skid_a;
    const ASN1_OCTET_STRING *akid_x;
    dbt_err err;
    int crit = 0;

    (void)state;
    assert_int_equal(dbt_scope_build(&item, 1, &a1, &x1, &err), 0);
    assert_int_equal(dbt_scope_build(&item, 1, &a2, &x2, &err), 0);
    assert_non_null(a1);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x1), X509_get_subject_name(inter)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x1), X509_get_subject_name(a1)), 0);
    assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x1), X509_get0_pubkey(inter)), 1);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(x1), X509_get0_notBefore(inter)), 0);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(x1), X509_get0_notAfter(inter)), 0);
    assert_int_equal(X509_verify(x1, X509_get0_pubkey(a1)), 1);
    skid_r = X509_get0_subject_key_id(inter);
    skid_x = X509_get0_subject_key_id(x1);
    skid_a = X509_get0_subject_key_id(a1);
    akid_x = X509_get0_authority_key_id(x1);
    assert_non_null(skid_x);
    assert_int_equal(ASN1_OCTET_STRING_cmp(skid_r, skid_x), 0);
    assert_non_null(akid_x);
    assert_int_equal(ASN1_OCTET_STRING_cmp(skid_a, akid_x), 0);
    bc = X509_get_ext_d2i(x1, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 2);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_get_key_usage(x1), X509_get_key_usage(inter));
    {
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x1, NID_name_constraints, &crit, NULL);
        assert_non_null(nc);
        assert_int_equal(crit, 1);
        NAME_CONSTRAINTS_free(nc);
    }
    assert_true(dbt_scope_is_anchor(a1));
    assert_false(dbt_scope_is_anchor(x1));
    assert_false(dbt_scope_is_anchor(root));
    assert_int_not_equal(X509_NAME_cmp(X509_get_subject_name(a1), X509_get_subject_name(a2)), 0);
    assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(a1), X509_get0_pubkey(a2)), 1);
    /* The anchor spans the intermediate's validity and no more. */
    assert_int_equal(ASN1_TIME_compare(X509_get0_notBefore(a1), X509_get0_notBefore(inter)), 0);
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(a1), X509_get0_notAfter(inter)), 0);
    X509_free(a1);
    X509_free(a2);
    X509_free(x1);
    X509_free(x2);
    X509_free(inter);
    X509_free(root);
}

/* A v1 root (no extensions: OpenSSL takes it for a CA as it is) stays a CA when scoped. */
static void test_v1_root(void **state)
{
    static const struct want w[] = {
        {"db.scope.test", "DNS:db.scope.test", 1},
        {"evil.other.test", "DNS:evil.other.test", 0},
    };
    struct pki p;
    X509_NAME *n = X509_NAME_new();

    (void)state;
    p.root = X509_new();
    assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"V1 Root",
                                           -1, -1, 0));
    assert_true(X509_set_version(p.root, 0));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(p.root), 77));
    assert_true(X509_set_subject_name(p.root, n));
    assert_true(X509_set_issuer_name(p.root, n));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(p.root), -86400L));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(p.root), 86400L * 300));
    assert_true(X509_set_pubkey(p.root, root_key));
    assert_true(X509_sign(p.root, root_key, EVP_sha256()) > 0);
    X509_NAME_free(n);
    p.inter = cert("V1 Intermediate", int_key, p.root, root_key, 1, 0, NULL, NULL);
    check_scope(&p, "scope.test", w, 2, 0);
    pki_free(&p);
}

/* A server certificate (not a CA) cannot be scoped: it is trusted as it is or not at all. */
static void test_leaf_refused(void **state)
{
    X509 *leaf =
        cert("pinned.scope.test", leaf_key, NULL, NULL, 0, -1, "DNS:pinned.scope.test", NULL);
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_scope_can_scope(leaf, &err), -1);
    assert_non_null(strstr(err.msg, "not a CA"));
    X509_free(leaf);
}

/* A root with constraints of its own cannot be scoped: its own would be lost. */
static void test_own_constraints_refused(void **state)
{
    X509 *root = cert("Constrained Root", root_key, NULL, NULL, 1, -1, NULL,
                      "critical,permitted;DNS:corp.test");
    dbt_scope_item item = {root, "scope.test"};
    X509 *a = NULL, *x = NULL;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_scope_can_scope(root, &err), -1);
    assert_non_null(strstr(err.msg, "name constraints"));
    assert_int_equal(dbt_scope_build(&item, 1, &a, &x, &err), -1);
    assert_null(a);
    assert_null(x);
    X509_free(root);
}

/* ---------- the catalog's trust view ---------- */

static int no_key_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int found = 0;

    if (d == NULL)
        return 1;
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            found |= !no_key_in(path);
        } else if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "r");
            char line[512];
            while (f != NULL && fgets(line, sizeof(line), f) != NULL)
                found |= strstr(line, "PRIVATE KEY") != NULL;
            if (f != NULL)
                fclose(f);
        }
    }
    closedir(d);
    return !found;
}

static void print_problem(void *arg, const char *problem)
{
    (void)arg;
    print_message("verify: %s\n", problem);
}

static dbt_bundle *bundle_of(X509 *a, X509 *b)
{
    unsigned char *pem = NULL;
    size_t len = 0;
    X509 *v[2] = {a, b};
    dbt_bundle *out = NULL;
    dbt_err err;

    assert_int_equal(testpki_pem(v, b ? 2 : 1, &pem, &len), 0);
    if (dbt_bundle_decode(pem, len, "test", NULL, &out, &err) != 0)
        fail_msg("%s", err.msg);
    free(pem);
    return out;
}

/* A new catalog in a fresh temporary directory tmp (PATH_MAX bytes), at path (PATH_MAX + 16
 * bytes); its commits never read a real system wiring (the state file named is missing). */
static dbt_catalog *tmp_catalog(char *tmp, char *path)
{
    char state_file[PATH_MAX + 16];
    dbt_catalog *cat = NULL;
    dbt_err err;

    assert_int_equal(testpki_tmpdir(tmp, PATH_MAX), 0);
    snprintf(path, PATH_MAX + 16, "%s/cat", tmp);
    snprintf(state_file, sizeof(state_file), "%s/no-state", tmp);
    setenv("DBTRUST_SYSTEM_STATE", state_file, 1);
    if (dbt_catalog_open(path, DBT_CAT_CREATE, &cat, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    return cat;
}

static void put(dbt_catalog *cat, const char *name, dbt_bundle *b, const char *scope)
{
    dbt_catalog_txn *t = NULL;
    dbt_catalog_meta m;
    dbt_err err;

    memset(&m, 0, sizeof(m));
    snprintf(m.format, sizeof(m.format), "pem");
    snprintf(m.scope, sizeof(m.scope), "%s", scope);
    assert_int_equal(dbt_catalog_begin(cat, &t, &err), 0);
    if (dbt_catalog_put(t, name, b, &m, NULL, &err) != 0 || dbt_catalog_commit(t, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    dbt_catalog_txn_free(t);
}

/* What the view serves for the root: 'r' the root itself, 'x' its scoped form (its NC's
 * permitted DNS names joined into names), '-' nothing. Also checks that no anchor is there: a
 * root's scoped form needs none. */
static char view_of(dbt_catalog *cat, X509 *root, char *names, size_t nlen)
{
    dbt_catalog_trust *v = NULL;
    size_t n = 0, anchors = 0;
    char what = '-', sha[65];
    dbt_err err;

    names[0] = '\0';
    testpki_sha256_hex(root, sha);
    assert_int_equal(dbt_catalog_trust_view(cat, &v, &n, &err), 0);
    for (size_t i = 0; i < n; i++) {
        X509 *x = NULL;
        assert_int_equal(dbt_catalog_load_trust_cert(cat, &v[i], &x, &err), 0);
        if (!v[i].scoped) {
            if (strcmp(v[i].sha256, sha) == 0)
                what = 'r';
        } else if (dbt_scope_is_anchor(x)) {
            anchors++;
        } else if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(root)) == 0) {
            NAME_CONSTRAINTS *nc = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
            what = 'x';
            for (int k = 0; nc && k < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); k++) {
                GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, k)->base;
                if (g->type == GEN_DNS)
                    snprintf(names + strlen(names), nlen - strlen(names), "%s%s",
                             names[0] ? " " : "", (const char *)g->d.dNSName->data);
            }
            NAME_CONSTRAINTS_free(nc);
        }
        X509_free(x);
    }
    free(v);
    assert_int_equal(anchors, 0);
    return what;
}

static void test_catalog_view(void **state)
{
    char tmp[PATH_MAX], path[PATH_MAX + 16], names[256];
    struct pki p;
    X509 *other = cert("Other Root", int_key, NULL, NULL, 1, -1, NULL, NULL);
    dbt_bundle *b1, *b2;
    dbt_catalog *cat = NULL;
    dbt_err err;

    (void)state;
    pki_make(&p);
    cat = tmp_catalog(tmp, path);
    b1 = bundle_of(p.root, NULL);
    b2 = bundle_of(p.root, other);

    put(cat, "db", b1, "scope.test");
    assert_int_equal(view_of(cat, p.root, names, sizeof(names)), 'x');
    assert_string_equal(names, "scope.test");
    /* Another scoped bundle holding the same root: the union, each bundle's names kept. */
    put(cat, "db2", b2, ".other.test scope.test");
    assert_int_equal(view_of(cat, p.root, names, sizeof(names)), 'x');
    assert_string_equal(names, "scope.test .other.test");
    /* An unscoped bundle holding it trusts it for every name: served as it is. */
    put(cat, "db2", b2, "");
    assert_int_equal(view_of(cat, p.root, names, sizeof(names)), 'r');
    /* Removing that bundle brings the scoped form back. */
    {
        dbt_catalog_txn *t = NULL;
        assert_int_equal(dbt_catalog_begin(cat, &t, &err), 0);
        assert_int_equal(dbt_catalog_remove(t, "db2", NULL, &err), 0);
        assert_int_equal(dbt_catalog_commit(t, &err), 0);
        dbt_catalog_txn_free(t);
    }
    assert_int_equal(view_of(cat, p.root, names, sizeof(names)), 'x');
    {
        dbt_catalog_meta m;
        assert_int_equal(dbt_catalog_get_meta(cat, "db", &m, &err), 0);
        assert_string_equal(m.scope, "scope.test");
    }
    /* The catalog, trust view included, is sound, and holds no private key. */
    assert_int_equal(dbt_catalog_verify(path, print_problem, NULL, &err), 0);
    assert_true(no_key_in(path));
    /* A stored scope that is not canonical is refused before anything is written. */
    {
        dbt_catalog_txn *t = NULL;
        dbt_catalog_meta m;
        memset(&m, 0, sizeof(m));
        snprintf(m.scope, sizeof(m.scope), "Scope.test");
        assert_int_equal(dbt_catalog_begin(cat, &t, &err), 0);
        assert_int_equal(dbt_catalog_put(t, "bad", b1, &m, NULL, &err), -1);
        dbt_catalog_txn_free(t);
    }
    dbt_catalog_close(cat);
    dbt_bundle_free(b1);
    dbt_bundle_free(b2);
    X509_free(other);
    pki_free(&p);
    testpki_rmtree(tmp);
    unsetenv("DBTRUST_SYSTEM_STATE");
}

/* A scoped bundle holding a root and an intermediate: the root constrained in place, the
 * intermediate a cross-certificate under the generation's one anchor; verify accepts the view,
 * and no key is left anywhere. */
static void test_catalog_view_intermediate(void **state)
{
    char tmp[PATH_MAX], path[PATH_MAX + 16], rsha[65], isha[65];
    struct pki p;
    dbt_catalog_trust *v = NULL;
    size_t n = 0, anchors = 0, roots = 0, crosses = 0;
    dbt_catalog *cat = NULL;
    dbt_bundle *b;
    dbt_err err;

    (void)state;
    pki_make(&p);
    testpki_sha256_hex(p.root, rsha);
    testpki_sha256_hex(p.inter, isha);
    cat = tmp_catalog(tmp, path);
    b = bundle_of(p.root, p.inter);
    put(cat, "db", b, "scope.test");
    assert_int_equal(dbt_catalog_trust_view(cat, &v, &n, &err), 0);
    for (size_t i = 0; i < n; i++) {
        X509 *x = NULL;
        assert_int_equal(dbt_catalog_load_trust_cert(cat, &v[i], &x, &err), 0);
        assert_true(v[i].scoped);
        assert_string_not_equal(v[i].sha256, rsha);
        assert_string_not_equal(v[i].sha256, isha);
        if (dbt_scope_is_anchor(x)) {
            anchors++;
        } else if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(p.root)) == 0) {
            assert_int_equal(X509_self_signed(x, 0), 1);
            assert_true(dbt_scope_matches(x, "scope.test"));
            roots++;
        } else if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(p.inter)) == 0) {
            assert_true(dbt_scope_matches(x, "scope.test"));
            crosses++;
        }
        X509_free(x);
    }
    free(v);
    assert_int_equal(n, 3);
    assert_int_equal(anchors, 1);
    assert_int_equal(roots, 1);
    assert_int_equal(crosses, 1);
    assert_int_equal(dbt_catalog_verify(path, print_problem, NULL, &err), 0);
    assert_true(no_key_in(path));
    dbt_catalog_close(cat);
    dbt_bundle_free(b);
    pki_free(&p);
    testpki_rmtree(tmp);
    unsetenv("DBTRUST_SYSTEM_STATE");
}

static void collect_problem(void *arg, const char *problem)
{
    char *buf = arg;
    snprintf(buf + strlen(buf), 4096 - strlen(buf), "%s\n", problem);
}

/* verify tells a root's scoped form from anything else under its name: the same root with a
 * wider constraint, or the raw root, in its place is damage. */
static void test_verify_root_form(void **state)
{
    char tmp[PATH_MAX], path[PATH_MAX + 16], file[PATH_MAX + 200];
    char problems[4096];
    struct pki p;
    dbt_catalog_trust *v = NULL;
    size_t n = 0;
    dbt_catalog *cat = NULL;
    dbt_bundle *b;
    dbt_err err;
    X509 *wider, *subst[2];

    (void)state;
    pki_make(&p);
    cat = tmp_catalog(tmp, path);
    b = bundle_of(p.root, NULL);
    put(cat, "db", b, "scope.test");
    assert_int_equal(dbt_catalog_trust_view(cat, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    snprintf(file, sizeof(file), "%s/trust/%s.pem", path, v[0].sha256);
    free(v);
    problems[0] = '\0';
    assert_int_equal(dbt_catalog_verify(path, collect_problem, problems, &err), 0);
    assert_string_equal(problems, "");
    wider = dbt_scope_constrain_root(p.root, "other.test scope.test", &err);
    assert_non_null(wider);
    subst[0] = wider;
    subst[1] = p.root;
    /* Each in place of the scoped root, under its own file name (the name is the content's
     * SHA-256, which verify checks first) and with the hash link following it. */
    for (int k = 0; k < 2; k++) {
        char sha[65], link[PATH_MAX + 64], target[96], tdir[PATH_MAX + 32];
        unsigned char *pem = NULL;
        size_t len = 0;
        FILE *f;

        snprintf(tdir, sizeof(tdir), "%s/trust", path);
        snprintf(link, sizeof(link), "%s/%08lx.0", tdir,
                 X509_NAME_hash_ex(X509_get_subject_name(p.root), NULL, NULL, NULL));
        testpki_sha256_hex(subst[k], sha);
        assert_int_equal(testpki_pem(&subst[k], 1, &pem, &len), 0);
        assert_int_equal(unlink(file), 0);
        snprintf(file, sizeof(file), "%s/%s.pem", tdir, sha);
        assert_non_null(f = fopen(file, "w"));
        assert_int_equal(fwrite(pem, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(file, 0444), 0);
        snprintf(target, sizeof(target), "%s.pem", sha);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(symlink(target, link), 0);
        free(pem);
        problems[0] = '\0';
        dbt_catalog_verify(path, collect_problem, problems, &err);
        if (strstr(problems, "is not the root it names with the scope of its bundles") == NULL)
            fail_msg("%s in place of the scoped root: verify said: %s",
                     k ? "the raw root" : "a wider form", problems);
    }
    X509_free(wider);
    dbt_catalog_close(cat);
    dbt_bundle_free(b);
    pki_free(&p);
    testpki_rmtree(tmp);
    unsetenv("DBTRUST_SYSTEM_STATE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_forms),
        cmocka_unit_test(test_add_refuses),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_dns_scope),
        cmocka_unit_test(test_subdomain_scope),
        cmocka_unit_test(test_ip_scope),
        cmocka_unit_test(test_mixed_scope),
        cmocka_unit_test(test_root_form),
        cmocka_unit_test(test_cross_keeps),
        cmocka_unit_test(test_own_constraints_refused),
        cmocka_unit_test(test_v1_root),
        cmocka_unit_test(test_leaf_refused),
        cmocka_unit_test(test_catalog_view),
        cmocka_unit_test(test_catalog_view_intermediate),
        cmocka_unit_test(test_verify_root_form),
    };
    int rc;

    root_key = testpki_key("ec-p256");
    int_key = testpki_key("ec-p256");
    leaf_key = testpki_key("ec-p256");
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
    EVP_PKEY_free(leaf_key);
    return rc;
}
