/* Unit tests of lib/cnfedit.c: on each distribution layout (tests/openssl-cnf/), enable gives a
 * file in which OpenSSL's own parser finds dbtrust in the providers section in use with the
 * default provider active, a second enable changes nothing and disable gives back the original
 * bytes; hostile files (CRLF, no final line end, huge lines, include loops, edited blocks) get a
 * bounded answer. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/err.h>

#include "cnfedit.h"

#define CATALOG "/var/lib/dbtrust cat"
#define MODULE "/usr/lib/dbtrust.so"

static char tmpdir[256];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char *fixture(const char *name, size_t *len)
{
    const char *src = getenv("DBTRUST_SRCDIR");
    char path[1024];

    snprintf(path, sizeof(path), "%s/tests/openssl-cnf/%s", src ? src : "..", name);
    return slurp(path, len);
}

static void spit(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int truthy(const char *v)
{
    return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
                         strcmp(v, "on") == 0);
}

/* What OpenSSL's parser makes of text: dbtrust in the providers section openssl_conf leads to,
 * activated with soft_load and the catalog; the default provider listed and activated. */
static void check_wired(const char *text, size_t len, const char *catalog, const char *module)
{
    CONF *conf = NCONF_new(NULL);
    BIO *mem = BIO_new_mem_buf(text, (int)len);
    long eline = -1;
    const char *init, *prov, *def = NULL, *dbt = NULL, *v;
    STACK_OF(CONF_VALUE) * sk;

    assert_non_null(conf);
    if (NCONF_load_bio(conf, mem, &eline) != 1)
        fail_msg("OpenSSL cannot load the result (line %ld):\n%s", eline, text);
    init = NCONF_get_string(conf, NULL, "openssl_conf");
    assert_non_null(init);
    prov = NCONF_get_string(conf, init, "providers");
    assert_non_null(prov);
    sk = NCONF_get_section(conf, prov);
    assert_non_null(sk);
    for (int i = 0; i < sk_CONF_VALUE_num(sk); i++) {
        CONF_VALUE *cv = sk_CONF_VALUE_value(sk, i);
        if (strcmp(cv->name, "default") == 0)
            def = cv->value;
        if (strcmp(cv->name, "dbtrust") == 0)
            dbt = cv->value;
    }
    if (def == NULL || dbt == NULL)
        fail_msg("providers section [%s] lacks default or dbtrust:\n%s", prov, text);
    assert_string_equal(dbt, DBT_CNF_SECT);
    if (!truthy(NCONF_get_string(conf, def, "activate")))
        fail_msg("the default provider [%s] is not activated:\n%s", def, text);
    assert_string_equal(NCONF_get_string(conf, dbt, "activate"), "1");
    assert_string_equal(NCONF_get_string(conf, dbt, "soft_load"), "1");
    assert_string_equal(NCONF_get_string(conf, dbt, "catalog"), catalog);
    v = NCONF_get_string(conf, dbt, "module");
    if (module != NULL)
        assert_string_equal(v, module);
    ERR_clear_error();
    BIO_free(mem);
    NCONF_free(conf);
}

/* enable, enable again (same bytes), disable (the original bytes). */
static void roundtrip(const char *name, const char *text, size_t len)
{
    char *a = NULL, *b = NULL, *c = NULL;
    size_t an, bn, cn;
    dbt_err err;
    dbt_cnf_info info;

    if (dbt_cnf_edit_enable(name, text, len, CATALOG, MODULE, &a, &an, &err) != 0)
        fail_msg("%s: enable: %s", name, err.msg);
    assert_true(an > len);
    check_wired(a, an, CATALOG, MODULE);
    assert_int_equal(dbt_cnf_edit_enable(name, a, an, CATALOG, MODULE, &b, &bn, &err), 0);
    assert_int_equal(bn, an);
    assert_memory_equal(a, b, an);
    assert_int_equal(dbt_cnf_edit_info(name, a, an, &info, &err), 0);
    assert_int_equal(info.wired, 1);
    assert_string_equal(info.catalog, CATALOG);
    assert_string_equal(info.module, MODULE);
    if (dbt_cnf_edit_disable(name, a, an, &c, &cn, &err) != 0)
        fail_msg("%s: disable: %s", name, err.msg);
    assert_int_equal(cn, len);
    assert_memory_equal(c, text, len);
    free(b);
    b = NULL;
    /* Disabling what has no block: nothing to do, same bytes. */
    assert_int_equal(dbt_cnf_edit_disable(name, c, cn, &b, &bn, &err), 1);
    assert_memory_equal(b, text, len);
    free(a);
    free(b);
    free(c);
}

static void layout(const char *name)
{
    size_t len;
    char *text = fixture(name, &len);

    roundtrip(name, text, len);
    free(text);
}

static void test_debian12(void **state)
{
    (void)state;
    layout("debian12.cnf");
}

static void test_debian13(void **state)
{
    (void)state;
    layout("debian13.cnf");
}

/* The provider block goes into the section the file uses, whatever its name. */
static void test_custom_names(void **state)
{
    size_t len, an;
    char *text = fixture("custom-names.cnf", &len), *a = NULL;
    dbt_err err;

    (void)state;
    roundtrip("custom-names.cnf", text, len);
    assert_int_equal(dbt_cnf_edit_enable("c", text, len, CATALOG, NULL, &a, &an, &err), 0);
    assert_non_null(strstr(a, "[site_providers]\n" DBT_CNF_BEGIN "\ndbtrust = dbtrust_sect\n"));
    assert_non_null(strstr(a, "[site_default]\n" DBT_CNF_BEGIN "\nactivate = 1\n"));
    assert_null(strstr(a, "unused_providers]\n# BEGIN"));
    assert_null(strstr(a, "module ="));
    free(a);
    free(text);
}

static void test_fedora_include(void **state)
{
    size_t len, plen;
    char *text = fixture("fedora.cnf", &len), *pol = fixture("crypto-policy.config", &plen);
    char path[512], *at, *sub;

    (void)state;
    snprintf(path, sizeof(path), "%s/policy.config", tmpdir);
    spit(path, pol, plen);
    at = strstr(text, "@POLICY@");
    assert_non_null(at);
    sub = malloc(len + strlen(path) + 1);
    sprintf(sub, "%.*s%s%s", (int)(at - text), text, path, at + 8);
    roundtrip("fedora.cnf", sub, strlen(sub));
    free(sub);
    free(text);
    free(pol);
}

static void test_no_openssl_conf(void **state)
{
    static const char t[] = "HOME = .\n\n[ req ]\ndefault_bits = 2048\n";
    (void)state;
    roundtrip("plain", t, strlen(t));
    roundtrip("empty", "", 0);
    roundtrip("keys only", "HOME = .", 8);
}

static void test_crlf(void **state)
{
    static const char t[] = "openssl_conf = init\r\n\r\n[init]\r\nproviders = p\r\n\r\n[p]\r\n"
                            "default = d\r\n[d]\r\n# activate = 1\r\n";
    char *a = NULL;
    size_t an;
    dbt_err err;

    (void)state;
    roundtrip("crlf", t, strlen(t));
    assert_int_equal(dbt_cnf_edit_enable("crlf", t, strlen(t), CATALOG, NULL, &a, &an, &err), 0);
    for (size_t i = 0; i < an; i++)
        if (a[i] == '\n')
            assert_true(i > 0 && a[i - 1] == '\r');
    free(a);
}

static void test_no_final_newline(void **state)
{
    static const char t1[] = "openssl_conf = init\n[init]\nproviders = p\n[p]\ndefault = d\n[d]";
    static const char t2[] = "openssl_conf = init\n[init]\nproviders = p\n[p]\ndefault = d\n"
                             "[d]\nactivate = 1";
    (void)state;
    roundtrip("t1", t1, strlen(t1));
    roundtrip("t2", t2, strlen(t2));
}

static void test_huge_line(void **state)
{
    size_t n = 600 * 1024, an;
    char *t = malloc(DBT_CNF_MAX_BYTES + 2), *a = NULL;
    dbt_err err;

    (void)state;
    memcpy(t, "# ", 2);
    memset(t + 2, 'x', n - 3);
    t[n - 1] = '\n';
    roundtrip("huge", t, n);
    memset(t, '#', DBT_CNF_MAX_BYTES + 1);
    assert_int_equal(
        dbt_cnf_edit_enable("toolarge", t, DBT_CNF_MAX_BYTES + 1, CATALOG, NULL, &a, &an, &err),
        -1);
    assert_non_null(strstr(err.msg, "larger than"));
    free(t);
}

static void test_include_loop(void **state)
{
    char path[512], text[1200], *a = NULL;
    size_t an;
    dbt_err err;

    (void)state;
    snprintf(path, sizeof(path), "%s/loop.cnf", tmpdir);
    snprintf(text, sizeof(text), ".include %s\nopenssl_conf = i\n[i]\n", path);
    spit(path, text, strlen(text));
    assert_int_equal(dbt_cnf_edit_enable(path, text, strlen(text), CATALOG, NULL, &a, &an, &err),
                     -1);
    assert_non_null(strstr(err.msg, "nested more than"));
}

/* A section the file uses but defines only in an included file is not edited there. */
static void test_section_in_include(void **state)
{
    char path[512], text[1200], *a = NULL;
    size_t an;
    dbt_err err;

    (void)state;
    snprintf(path, sizeof(path), "%s/provs.cnf", tmpdir);
    spit(path, "[p]\ndefault = d\n[d]\nactivate = 1\n", 33);
    snprintf(text, sizeof(text), "openssl_conf = i\n[i]\nproviders = p\n.include %s\n", path);
    assert_int_equal(dbt_cnf_edit_enable("main", text, strlen(text), CATALOG, NULL, &a, &an, &err),
                     -1);
    assert_non_null(strstr(err.msg, path));
}

static void test_edited_block(void **state)
{
    static const char t[] = "openssl_conf = init\n[init]\nproviders = p\n[p]\ndefault = d\n[d]\n";
    char *a = NULL, *b = NULL, *at;
    size_t an, bn;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_cnf_edit_enable("f", t, strlen(t), CATALOG, NULL, &a, &an, &err), 0);
    /* A value changed inside the block. */
    at = strstr(a, "soft_load = 1");
    assert_non_null(at);
    at[12] = '0';
    assert_int_equal(dbt_cnf_edit_disable("f", a, an, &b, &bn, &err), -1);
    assert_non_null(strstr(err.msg, "'soft_load = 0' is inside dbtrust's marked block"));
    assert_int_equal(dbt_cnf_edit_enable("f", a, an, CATALOG, NULL, &b, &bn, &err), -1);
    at[12] = '1';
    /* The END line removed. */
    at = strstr(a, DBT_CNF_END);
    at[2] = 'X';
    assert_int_equal(dbt_cnf_edit_disable("f", a, an, &b, &bn, &err), -1);
    assert_non_null(strstr(err.msg, "f line 7: '# XND dbtrust provider'"));
    free(a);
}

static void test_default_off_refused(void **state)
{
    static const char t[] = "openssl_conf = i\n[i]\nproviders = p\n[p]\ndefault = d\n[d]\n"
                            "activate = 0\n";
    char *a = NULL;
    size_t an;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_cnf_edit_enable("f", t, strlen(t), CATALOG, NULL, &a, &an, &err), -1);
    assert_non_null(strstr(err.msg, "line 7"));
}

/* Another provider already active (FIPS-only, say): default is not added. */
static void test_other_active_kept(void **state)
{
    static const char t[] = "openssl_conf = i\n[i]\nproviders = p\n[p]\nfips = f\n[f]\n"
                            "activate = 1\n";
    char *a = NULL;
    size_t an;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_cnf_edit_enable("f", t, strlen(t), CATALOG, NULL, &a, &an, &err), 0);
    assert_null(strstr(a, "default ="));
    free(a);
}

static void test_hand_wired_refused(void **state)
{
    static const char t[] = "openssl_conf = i\n[i]\nproviders = p\n[p]\ndefault = d\n"
                            "dbtrust = mine\n[d]\nactivate = 1\n[mine]\nactivate = 1\n";
    char *a = NULL;
    size_t an;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_cnf_edit_enable("f", t, strlen(t), CATALOG, NULL, &a, &an, &err), -1);
    assert_non_null(strstr(err.msg, "line 6"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_cnfedit.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debian12),          cmocka_unit_test(test_debian13),
        cmocka_unit_test(test_custom_names),      cmocka_unit_test(test_fedora_include),
        cmocka_unit_test(test_no_openssl_conf),   cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_no_final_newline),  cmocka_unit_test(test_huge_line),
        cmocka_unit_test(test_include_loop),      cmocka_unit_test(test_section_in_include),
        cmocka_unit_test(test_edited_block),      cmocka_unit_test(test_default_off_refused),
        cmocka_unit_test(test_other_active_kept), cmocka_unit_test(test_hand_wired_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
