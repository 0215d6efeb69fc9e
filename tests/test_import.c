/* Unit tests for lib/import.c: the leaf and expiry policies and their events, the recorded
 * format ("mixed"), origins and digest, the change report (added, removed, duplicates), inputs
 * that fail before any catalog exists, and removal by bundle and by fingerprint. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "catalog.h"
#include "import.h"
#include "testpki.h"

/* One EC key signs every certificate: RSA-4096 generation is too slow under valgrind. */
static EVP_PKEY *key;
static X509 *ca1, *ca2, *ca3, *leaf, *old_ca;

struct fx {
    char tmp[4096];
    char path[4096]; /* <tmp>/cat, created only by a commit */
};

static X509 *cert(const char *cn, long serial, int ca, time_t not_after)
{
    testpki_certspec s;

    memset(&s, 0, sizeof(s));
    s.cn = cn;
    s.key = key;
    s.serial = serial;
    s.not_before = testpki_utc(2015, 1, 1);
    s.not_after = not_after;
    s.ca = ca;
    s.pathlen = -1;
    s.md = EVP_sha256();
    return testpki_cert_new(&s);
}

static int group_setup(void **state)
{
    (void)state;
    if ((key = testpki_key("ec-p256")) == NULL)
        return -1;
    ca1 = cert("Import Test CA 1", 1, 1, testpki_utc(2121, 1, 1));
    ca2 = cert("Import Test CA 2", 2, 1, testpki_utc(2121, 1, 1));
    ca3 = cert("Import Test CA 3", 3, 1, testpki_utc(2121, 1, 1));
    leaf = cert("leaf.example.test", 4, 0, testpki_utc(2121, 1, 1));
    old_ca = cert("Import Test Old CA", 5, 1, testpki_utc(2020, 3, 5));
    return ca1 && ca2 && ca3 && leaf && old_ca ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    X509_free(ca1);
    X509_free(ca2);
    X509_free(ca3);
    X509_free(leaf);
    X509_free(old_ca);
    EVP_PKEY_free(key);
    return 0;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char st[4200];

    assert_non_null(f);
    assert_int_equal(testpki_tmpdir(f->tmp, sizeof(f->tmp)), 0);
    snprintf(f->path, sizeof(f->path), "%s/cat", f->tmp);
    /* The commit follows the system wiring named by the state file: never the real one. */
    snprintf(st, sizeof(st), "%s/no-system-state", f->tmp);
    setenv("DBTRUST_SYSTEM_STATE", st, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    testpki_rmtree(f->tmp);
    free(f);
    return 0;
}

/* Events heard, in order. */
struct heard {
    int kind[16];
    size_t index[16];
    char subject[16][128];
    size_t n;
};

static void listen(void *arg, const dbt_import_event *e)
{
    struct heard *h = arg;

    assert_true(h->n < 16);
    h->kind[h->n] = e->kind;
    h->index[h->n] = e->index;
    snprintf(h->subject[h->n], sizeof(h->subject[h->n]), "%s", e->subject);
    h->n++;
}

static void pem_of(X509 *const *xs, size_t n, unsigned char **data, size_t *len)
{
    assert_int_equal(testpki_pem(xs, n, data, len), 0);
}

/* Adds one PEM input of xs; returns what dbt_import_add returned. */
static int add_pem(dbt_import *imp, const char *source, X509 *const *xs, size_t n)
{
    unsigned char *data;
    size_t len;
    dbt_err err;
    int rc;

    pem_of(xs, n, &data, &len);
    rc = dbt_import_add(imp, source, data, len, &err);
    free(data);
    return rc;
}

static int commit(const struct fx *f, dbt_import *imp, dbt_import_report *r)
{
    dbt_catalog *cat = NULL;
    dbt_err err;
    int rc;

    if (dbt_catalog_open(f->path, DBT_CAT_CREATE, &cat, &err) != 0)
        fail_msg("open: %s", err.msg);
    rc = dbt_import_commit(imp, cat, r, &err);
    if (rc != 0)
        fail_msg("commit: %s", err.msg);
    dbt_catalog_close(cat);
    return rc;
}

/* The meta of bundle name as the catalog lists it. */
static void meta_of(const struct fx *f, const char *name, dbt_catalog_meta *m)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_entry *e = NULL;
    size_t n = 0, i;
    dbt_err err;

    assert_int_equal(dbt_catalog_open(f->path, DBT_CAT_READ, &cat, &err), 0);
    assert_int_equal(dbt_catalog_list(cat, &e, &n, &err), 0);
    for (i = 0; i < n && strcmp(e[i].name, name) != 0; i++)
        ;
    assert_true(i < n);
    *m = e[i].meta;
    free(e);
    dbt_catalog_close(cat);
}

static dbt_import *new_import(const char *bundle, int leaf_policy, int skip_expired,
                              struct heard *h)
{
    dbt_import_opts o = {0};
    dbt_err err;
    dbt_import *imp;

    o.bundle = bundle;
    o.leaf = leaf_policy;
    o.skip_expired = skip_expired;
    imp = dbt_import_new(&o, listen, h, &err);
    assert_non_null(imp);
    return imp;
}

/* Imports xs as bundle name in one go (default policy), the report dropped. */
static void import_pems(const struct fx *f, const char *name, X509 *const *xs, size_t n)
{
    dbt_import_report r = {0};
    dbt_import *imp = new_import(name, DBT_IMPORT_LEAF_SKIP, 0, NULL);

    assert_int_equal(add_pem(imp, "in.pem", xs, n), 0);
    commit(f, imp, &r);
    dbt_import_report_clear(&r);
    dbt_import_free(imp);
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Default policy: a non-CA is skipped and said, an expired CA is kept and said. */
static void test_leaf_skipped_expired_kept(void **state)
{
    struct fx *f = *state;
    X509 *in[] = {ca1, leaf, old_ca};
    struct heard h = {0};
    dbt_import_report r = {0};
    dbt_import *imp = new_import("b", DBT_IMPORT_LEAF_SKIP, 0, &h);
    dbt_import_counts c;

    assert_int_equal(add_pem(imp, "in.pem", in, 3), 0);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.kind[0], DBT_IMPORT_LEAF_SKIPPED);
    assert_int_equal(h.index[0], 2);
    assert_non_null(strstr(h.subject[0], "leaf.example.test"));
    assert_int_equal(h.kind[1], DBT_IMPORT_EXPIRED_KEPT);
    assert_int_equal(h.index[1], 3);
    c = dbt_import_get_counts(imp);
    assert_int_equal(c.seen, 3);
    assert_int_equal(c.kept, 2);
    assert_int_equal(c.leaf, 1);
    assert_int_equal(c.expired, 0);
    commit(f, imp, &r);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.nadded, 2);
    assert_int_equal(r.leaf, 1);
    assert_false(r.existed);
    dbt_import_report_clear(&r);
    dbt_import_free(imp);
}

/* --allow-leaf and --no-expired: the leaf is kept, the expired CA skipped and counted. */
static void test_leaf_allowed_expired_skipped(void **state)
{
    struct fx *f = *state;
    X509 *in[] = {ca1, leaf, old_ca};
    struct heard h = {0};
    dbt_import_report r = {0};
    dbt_import *imp = new_import("b", DBT_IMPORT_LEAF_ALLOW, 1, &h);

    assert_int_equal(add_pem(imp, "in.pem", in, 3), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.kind[0], DBT_IMPORT_EXPIRED_SKIPPED);
    assert_int_equal(h.index[0], 3);
    commit(f, imp, &r);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.expired, 1);
    assert_int_equal(r.leaf, 0);
    dbt_import_report_clear(&r);
    dbt_import_free(imp);
}

/* fetch's policy: one non-CA refuses the whole import, and no catalog is created. */
static void test_leaf_refused(void **state)
{
    struct fx *f = *state;
    X509 *in[] = {ca1, leaf};
    struct heard h = {0};
    dbt_import *imp = new_import("b", DBT_IMPORT_LEAF_REFUSE, 0, &h);

    assert_int_equal(add_pem(imp, "in.pem", in, 2), DBT_IMPORT_REFUSED);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.kind[0], DBT_IMPORT_LEAF_REFUSED);
    assert_int_equal(h.index[0], 2);
    dbt_import_free(imp);
    assert_false(exists(f->path));
}

/* An input that does not decode fails as such, before anything exists; so does a bad name. */
static void test_bad_input(void **state)
{
    struct fx *f = *state;
    static const unsigned char junk[] = "not a certificate\n";
    struct heard h = {0};
    dbt_import_opts o = {0};
    dbt_import *imp = new_import("b", DBT_IMPORT_LEAF_SKIP, 0, &h);
    dbt_err err;

    assert_int_equal(add_pem(imp, "ok.pem", &ca1, 1), 0);
    assert_int_equal(dbt_import_add(imp, "junk.txt", junk, sizeof(junk) - 1, &err),
                     DBT_IMPORT_E_DECODE);
    assert_non_null(strstr(err.msg, "junk.txt"));
    dbt_import_free(imp);
    assert_false(exists(f->path));
    o.bundle = "bad/name";
    assert_null(dbt_import_new(&o, NULL, NULL, &err));
}

/* An empty PEM input is said, and an import of nothing counts nothing kept. */
static void test_empty_input(void **state)
{
    struct heard h = {0};
    static const unsigned char empty[] = "# nothing here\n";
    dbt_import *imp = new_import("b", DBT_IMPORT_LEAF_SKIP, 0, &h);
    dbt_err err;
    int rc = dbt_import_add(imp, "empty.pem", empty, sizeof(empty) - 1, &err);

    (void)state;
    /* The decoder may refuse text without a certificate; if it takes it, the event says so. */
    if (rc == 0) {
        assert_int_equal(h.n, 1);
        assert_int_equal(h.kind[0], DBT_IMPORT_EMPTY_INPUT);
        assert_int_equal(dbt_import_get_counts(imp).kept, 0);
    } else {
        assert_int_equal(rc, DBT_IMPORT_E_DECODE);
    }
    dbt_import_free(imp);
}

/* Inputs of two formats record "mixed"; of one format, its name. The origins are the sources
 * in order, and the digest covers every input's bytes in order. */
static void test_format_origins_digest(void **state)
{
    struct fx *f = *state;
    dbt_import_report r = {0};
    dbt_catalog_meta m;
    unsigned char *pem = NULL, *der = NULL, *both = NULL, md[EVP_MAX_MD_SIZE];
    size_t plen, dlen;
    unsigned int mdlen;
    char hex[65];
    dbt_err err;
    dbt_import *imp = new_import("mix", DBT_IMPORT_LEAF_SKIP, 0, NULL);
    dbt_import_opts o = {0};

    pem_of(&ca1, 1, &pem, &plen);
    assert_int_equal(testpki_der(ca2, &der, &dlen), 0);
    assert_int_equal(dbt_import_add(imp, "a.pem", pem, plen, &err), 0);
    assert_int_equal(dbt_import_add(imp, "b\n.der", der, dlen, &err), 0);
    commit(f, imp, &r);
    dbt_import_report_clear(&r);
    dbt_import_free(imp);
    meta_of(f, "mix", &m);
    assert_string_equal(m.format, "mixed");
    assert_string_equal(m.origin, "a.pem b\\x0a.der"); /* escaped: one line of .meta */
    both = malloc(plen + dlen);
    assert_non_null(both);
    memcpy(both, pem, plen);
    memcpy(both + plen, der, dlen);
    assert_int_equal(EVP_Digest(both, plen + dlen, md, &mdlen, EVP_sha256(), NULL), 1);
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(m.sha256, hex);

    /* Two PEM inputs: "pem"; --origin replaces the sources. */
    o.bundle = "one";
    o.origin = "https://example.test/ca.pem";
    imp = dbt_import_new(&o, NULL, NULL, &err);
    assert_non_null(imp);
    assert_int_equal(dbt_import_add(imp, "a.pem", pem, plen, &err), 0);
    assert_int_equal(add_pem(imp, "c.pem", &ca3, 1), 0);
    commit(f, imp, &r);
    dbt_import_report_clear(&r);
    dbt_import_free(imp);
    meta_of(f, "one", &m);
    assert_string_equal(m.format, "pem");
    assert_string_equal(m.origin, "https://example.test/ca.pem");
    free(pem);
    free(der);
    free(both);
}

static const dbt_import_cert *find(const dbt_import_cert *c, size_t n, X509 *x)
{
    char sha[65];

    testpki_sha256_hex(x, sha);
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].sha256, sha) == 0)
            return &c[i];
    return NULL;
}

/* Replacing a bundle reports what came and went, with subjects, and merged duplicates. */
static void test_report_replace(void **state)
{
    struct fx *f = *state;
    X509 *first[] = {ca1, ca2}, *second[] = {ca2, ca3, ca3};
    dbt_import_report r = {0};
    const dbt_import_cert *c;
    dbt_import *imp;

    import_pems(f, "b", first, 2);
    imp = new_import("b", DBT_IMPORT_LEAF_SKIP, 0, NULL);
    assert_int_equal(add_pem(imp, "2.pem", second, 3), 0);
    commit(f, imp, &r);
    assert_string_equal(r.bundle, "b");
    assert_true(r.existed);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.nadded, 1);
    assert_int_equal(r.nremoved, 1);
    assert_non_null(c = find(r.added, r.nadded, ca3));
    assert_non_null(c->subject);
    assert_non_null(strstr(c->subject, "Import Test CA 3"));
    assert_non_null(c = find(r.removed, r.nremoved, ca1));
    assert_non_null(c->subject);
    assert_non_null(strstr(c->subject, "Import Test CA 1"));
    dbt_import_report_clear(&r);
    dbt_import_free(imp);
}

/* Removal by bundle counts its certificates; by fingerprint (any accepted form) it names the
 * certificate normalized and every bundle that held it. */
static void test_remove(void **state)
{
    struct fx *f = *state;
    X509 *a[] = {ca1, ca2}, *b[] = {ca2};
    dbt_import_report r = {0};
    dbt_catalog *cat = NULL;
    char sha[65], colons[100];
    size_t i, k = 0;
    dbt_err err;

    import_pems(f, "a", a, 2);
    import_pems(f, "b", b, 1);

    testpki_sha256_hex(ca2, sha);
    for (i = 0; sha[i] != '\0'; i++) { /* "AB:CD:..." */
        if (i > 0 && i % 2 == 0)
            colons[k++] = ':';
        colons[k++] = (char)(sha[i] >= 'a' ? sha[i] - 'a' + 'A' : sha[i]);
    }
    colons[k] = '\0';
    assert_int_equal(dbt_catalog_open(f->path, DBT_CAT_WRITE, &cat, &err), 0);
    assert_int_equal(dbt_import_remove(cat, NULL, colons, &r, &err), 0);
    assert_string_equal(r.sha256, sha);
    assert_int_equal(r.nbundles, 2);
    assert_string_equal(r.bundles[0], "a");
    assert_string_equal(r.bundles[1], "b");
    dbt_import_report_clear(&r);

    assert_int_equal(dbt_import_remove(cat, "a", NULL, &r, &err), 0);
    assert_string_equal(r.bundle, "a");
    assert_int_equal(r.count, 1);
    dbt_import_report_clear(&r);
    /* a bundle that is gone: -1 and the reason, nothing changed */
    assert_int_equal(dbt_import_remove(cat, "a", NULL, &r, &err), -1);
    assert_true(err.msg[0] != '\0');
    dbt_catalog_close(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_leaf_skipped_expired_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaf_allowed_expired_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaf_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_origins_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
