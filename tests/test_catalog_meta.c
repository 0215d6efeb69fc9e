/* The optional .meta keys source= and refreshed= (lib/catalog.h): they round-trip through
 * dbt_catalog_put and dbt_catalog_get_meta, are written only when set, are refused in a form
 * their writers never give, are reported by dbt_catalog_verify when a .meta holds a bad value,
 * and are recorded (or cleared) by the import pipeline as fetch, refresh and import use it. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catalog.h"
#include "import.h"
#include "testpki.h"

struct fx {
    char tmp[4096], path[4200];
    X509 *a, *b;
};

static X509 *make_ca(const char *cn, long serial)
{
    testpki_certspec s = {0};
    X509 *x;

    s.cn = cn;
    s.serial = serial;
    s.key = testpki_key("ec-p256");
    s.ca = 1;
    s.pathlen = -1;
    s.md = EVP_sha256();
    s.not_before = testpki_utc(2020, 1, 1);
    s.not_after = testpki_utc(2060, 1, 1);
    x = testpki_cert_new(&s);
    EVP_PKEY_free(s.key);
    return x;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL || testpki_tmpdir(f->tmp, sizeof(f->tmp)) != 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/cat", f->tmp);
    f->a = make_ca("Meta Key Root A", 1);
    f->b = make_ca("Meta Key Root B", 2);
    if (f->a == NULL || f->b == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    testpki_rmtree(f->tmp);
    X509_free(f->a);
    X509_free(f->b);
    free(f);
    return 0;
}

static dbt_bundle *bundle_of(X509 *x)
{
    dbt_bundle *b = dbt_bundle_new("test");
    dbt_err err;

    assert_non_null(b);
    X509_up_ref(x);
    assert_int_equal(dbt_bundle_push(b, x, 1, 0, NULL, &err), 0);
    return b;
}

/* Puts bundle name with meta m in one commit; returns what put returned (commits on 0). */
static int put_one(const char *path, const char *name, X509 *x, const dbt_catalog_meta *m,
                   dbt_err *err)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    dbt_bundle *b = bundle_of(x);
    dbt_catalog_meta full = *m;
    int rc;

    assert_int_equal(dbt_catalog_open(path, DBT_CAT_CREATE, &cat, err), 0);
    assert_int_equal(dbt_catalog_begin(cat, &t, err), 0);
    /* As an import records it, so that verify has nothing else to say. */
    if (full.format[0] == '\0')
        snprintf(full.format, sizeof(full.format), "pem");
    rc = dbt_catalog_put(t, name, b, &full, NULL, err);
    if (rc == 0)
        assert_int_equal(dbt_catalog_commit(t, err), 0);
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
    dbt_bundle_free(b);
    return rc;
}

static void get_one(const char *path, const char *name, dbt_catalog_meta *m)
{
    dbt_catalog *cat = NULL;
    dbt_err err;

    assert_int_equal(dbt_catalog_open(path, DBT_CAT_READ, &cat, &err), 0);
    assert_int_equal(dbt_catalog_get_meta(cat, name, m, &err), 0);
    dbt_catalog_close(cat);
}

static char *meta_text(const char *path, const char *name)
{
    char file[4400], *text = malloc(8192);
    FILE *fp;
    size_t n;

    snprintf(file, sizeof(file), "%s/bundles/%s.meta", path, name);
    assert_non_null(text);
    assert_non_null(fp = fopen(file, "r"));
    n = fread(text, 1, 8191, fp);
    fclose(fp);
    text[n] = '\0';
    return text;
}

struct problems {
    char text[8192];
    int n;
};

static void collect(void *arg, const char *problem)
{
    struct problems *p = arg;
    size_t used = strlen(p->text);

    snprintf(p->text + used, sizeof(p->text) - used, "%s\n", problem);
    p->n++;
}

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    dbt_catalog_meta m, got;
    dbt_catalog_entry *list = NULL;
    dbt_catalog *cat = NULL;
    size_t n;
    char *text;
    dbt_err err;

    memset(&m, 0, sizeof(m));
    snprintf(m.origin, sizeof(m.origin), "https://h.example/global-bundle.pem");
    snprintf(m.source, sizeof(m.source), "aws-rds-govcloud");
    snprintf(m.refreshed, sizeof(m.refreshed), "2026-11-22T18:19:20Z");
    assert_int_equal(put_one(f->path, "with", f->a, &m, &err), 0);
    memset(&m, 0, sizeof(m));
    snprintf(m.origin, sizeof(m.origin), "ca.pem");
    assert_int_equal(put_one(f->path, "without", f->b, &m, &err), 0);

    get_one(f->path, "with", &got);
    assert_string_equal(got.source, "aws-rds-govcloud");
    assert_string_equal(got.refreshed, "2026-11-22T18:19:20Z");
    get_one(f->path, "without", &got);
    assert_string_equal(got.source, "");
    assert_string_equal(got.refreshed, "");
    /* The listing reads the same keys. */
    assert_int_equal(dbt_catalog_open(f->path, DBT_CAT_READ, &cat, &err), 0);
    assert_int_equal(dbt_catalog_list(cat, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "with");
    assert_string_equal(list[0].meta.source, "aws-rds-govcloud");
    assert_string_equal(list[0].meta.refreshed, "2026-11-22T18:19:20Z");
    assert_string_equal(list[1].meta.source, "");
    free(list);
    dbt_catalog_close(cat);
    /* Written after scope=, each once; not at all when empty. */
    text = meta_text(f->path, "with");
    assert_non_null(
        strstr(text, "\nscope=\nsource=aws-rds-govcloud\nrefreshed=2026-11-22T18:19:20Z\n"));
    free(text);
    text = meta_text(f->path, "without");
    assert_null(strstr(text, "source="));
    assert_null(strstr(text, "refreshed="));
    free(text);
    /* Both pass the full check. */
    struct problems p = {0};
    if (dbt_catalog_verify(f->path, collect, &p, &err) != 0)
        fail_msg("verify: %s", p.text);
}

static void test_put_refuses(void **state)
{
    static const char *const bad_sources[] = {"AWS", "aws rds", "aws\nrefreshed=x", "a_b", "a/b"};
    static const char *const bad_times[] = {"now", "2026-11-22 18:19:20", "2026\ncount=9"};
    struct fx *f = *state;
    dbt_catalog_meta m;
    dbt_err err;
    size_t i;

    for (i = 0; i < sizeof(bad_sources) / sizeof(bad_sources[0]); i++) {
        memset(&m, 0, sizeof(m));
        snprintf(m.source, sizeof(m.source), "%s", bad_sources[i]);
        assert_int_equal(put_one(f->path, "b", f->a, &m, &err), -1);
        assert_non_null(strstr(err.msg, "source name"));
    }
    for (i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        memset(&m, 0, sizeof(m));
        snprintf(m.refreshed, sizeof(m.refreshed), "%s", bad_times[i]);
        assert_int_equal(put_one(f->path, "b", f->a, &m, &err), -1);
        assert_non_null(strstr(err.msg, "refresh time"));
    }
}

/* Replaces the line starting with key= of bundle name's .meta by line (a hand edit). */
static void edit_meta(const char *path, const char *name, const char *key, const char *line)
{
    char file[4400], *text = meta_text(path, name), *at, *eol, out[8192];
    size_t kl = strlen(key);
    FILE *fp;

    at = text;
    while (strncmp(at, key, kl) != 0 || at[kl] != '=') {
        at = strchr(at, '\n');
        assert_non_null(at);
        at++;
    }
    eol = strchr(at, '\n');
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, line, eol);
    snprintf(file, sizeof(file), "%s/bundles/%s.meta", path, name);
    assert_non_null(fp = fopen(file, "w"));
    assert_int_equal(fputs(out, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    free(text);
}

static void test_verify_reports(void **state)
{
    static const struct {
        const char *key, *line;
    } cases[] = {
        {"source", "source=Not A Source"},
        {"source", "source="},
        {"source", "source=aws_rds"},
        {"refreshed", "refreshed=yesterday"},
        {"refreshed", "refreshed=2026-13-40T25:61:61Z"},
        {"refreshed", "refreshed="},
    };
    struct fx *f = *state;
    dbt_catalog_meta m;
    struct problems p;
    dbt_err err;
    size_t i;

    memset(&m, 0, sizeof(m));
    snprintf(m.origin, sizeof(m.origin), "https://h.example/x.pem");
    snprintf(m.source, sizeof(m.source), "aurora-dsql");
    snprintf(m.refreshed, sizeof(m.refreshed), "2026-11-22T18:19:20Z");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(put_one(f->path, "v", f->a, &m, &err), 0);
        assert_int_equal(dbt_catalog_verify(f->path, NULL, NULL, &err), 0);
        edit_meta(f->path, "v", cases[i].key, cases[i].line);
        memset(&p, 0, sizeof(p));
        assert_int_equal(dbt_catalog_verify(f->path, collect, &p, &err), 1);
        if (strstr(p.text, cases[i].key) == NULL || strstr(p.text, "v.meta") == NULL)
            fail_msg("'%s': the problem does not name the key and file: %s", cases[i].line, p.text);
    }
}

/* What the import pipeline records: a download's source and time; a plain import clears them;
 * the same bytes downloaded again keep imported= and change refreshed= only. */
static void test_import_records(void **state)
{
    struct fx *f = *state;
    unsigned char *pem = NULL, *pem2 = NULL;
    size_t len, len2;
    dbt_catalog_meta first, got;
    X509 *both[2];

    both[0] = f->a;
    both[1] = f->b;
    assert_int_equal(testpki_pem(both, 1, &pem, &len), 0);
    assert_int_equal(testpki_pem(both, 2, &pem2, &len2), 0);

    struct step {
        const unsigned char *data;
        size_t len;
        const char *source, *refreshed;
    } steps[] = {
        {pem, len, "aws-rds", "2026-01-01T00:00:00Z"},
        {pem, len, "aws-rds", "2026-01-02T00:00:00Z"}, /* the same bytes */
        {pem2, len2, "aws-rds", "2026-01-03T00:00:00Z"},
        {pem2, len2, NULL, NULL}, /* a plain import */
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        dbt_import_opts o = {0};
        dbt_import_report r = {0};
        dbt_catalog *cat = NULL;
        dbt_import *imp;
        dbt_err err;

        o.bundle = "dl";
        o.leaf = DBT_IMPORT_LEAF_REFUSE;
        o.source = steps[i].source;
        o.refreshed = steps[i].refreshed;
        assert_non_null(imp = dbt_import_new(&o, NULL, NULL, &err));
        assert_int_equal(
            dbt_import_add(imp, "https://h.example/b.pem", steps[i].data, steps[i].len, &err), 0);
        assert_int_equal(dbt_catalog_open(f->path, DBT_CAT_CREATE, &cat, &err), 0);
        assert_int_equal(dbt_import_commit(imp, cat, &r, &err), 0);
        dbt_import_report_clear(&r);
        dbt_catalog_close(cat);
        dbt_import_free(imp);
        get_one(f->path, "dl", &got);
        assert_string_equal(got.source, steps[i].source ? steps[i].source : "");
        assert_string_equal(got.refreshed, steps[i].refreshed ? steps[i].refreshed : "");
        if (i == 0) {
            first = got;
            /* imported= is whole seconds: the next import must be able to differ. */
            snprintf(first.imported, sizeof(first.imported), "%s", got.imported);
        } else if (i == 1) {
            assert_string_equal(got.imported, first.imported); /* kept: the same bytes */
            assert_string_equal(got.sha256, first.sha256);
        } else if (i == 2) {
            assert_string_not_equal(got.sha256, first.sha256);
        }
    }
    free(pem);
    free(pem2);
}

/* A check refuses the commit: nothing changes, the report says what would have. */
static int refuse_all(void *arg, const dbt_import_report *r, dbt_err *err)
{
    size_t *seen = arg;

    *seen = r->nadded * 100 + r->nremoved;
    dbt_err_set(err, "refused by the check");
    return 1;
}

static void test_import_check(void **state)
{
    struct fx *f = *state;
    unsigned char *pem = NULL;
    size_t len, seen = 0;
    dbt_catalog_meta m, got;
    dbt_import_opts o = {0};
    dbt_import_report r = {0};
    dbt_catalog *cat = NULL;
    dbt_import *imp;
    dbt_err err;
    unsigned long long gen;

    memset(&m, 0, sizeof(m));
    snprintf(m.origin, sizeof(m.origin), "a.pem");
    assert_int_equal(put_one(f->path, "c", f->a, &m, &err), 0);
    assert_int_equal(testpki_pem(&f->b, 1, &pem, &len), 0);
    o.bundle = "c";
    o.leaf = DBT_IMPORT_LEAF_REFUSE;
    o.check = refuse_all;
    o.check_arg = &seen;
    assert_non_null(imp = dbt_import_new(&o, NULL, NULL, &err));
    assert_int_equal(dbt_import_add(imp, "b.pem", pem, len, &err), 0);
    assert_int_equal(dbt_catalog_open(f->path, DBT_CAT_WRITE, &cat, &err), 0);
    gen = dbt_catalog_generation(cat);
    assert_int_equal(dbt_import_commit(imp, cat, &r, &err), DBT_IMPORT_REFUSED);
    assert_string_equal(err.msg, "refused by the check");
    assert_int_equal(seen, 101); /* one added, one removed */
    assert_int_equal(r.count, 1);
    assert_int_equal(r.nadded, 1);
    assert_int_equal(r.nremoved, 1);
    dbt_import_report_clear(&r);
    dbt_catalog_close(cat);
    dbt_import_free(imp);
    assert_int_equal(dbt_catalog_open(f->path, DBT_CAT_READ, &cat, &err), 0);
    assert_int_equal(dbt_catalog_generation(cat), gen);
    dbt_catalog_close(cat);
    get_one(f->path, "c", &got);
    assert_string_equal(got.origin, "a.pem");
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_check, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
