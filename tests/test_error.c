/* Unit tests of lib/error.c and lib/hint.c: a hint sits where lib put it whatever is appended or
 * prefixed, the program's text is inserted there (quoting the path it names), a rendering is cut
 * as a message set in full would be, and lib's catalog messages carry hints, not options. */
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
#include <openssl/err.h>
#include <openssl/pkcs12.h>

#include "catalog.h"
#include "error.h"

static const char *const texts[DBT_HINT_COUNT] = {
    [DBT_HINT_PASSWORD] = "use --password",
    [DBT_HINT_CATALOG_OPT] = " with --catalog",
    [DBT_HINT_CREATE_CATALOG] = ": run dbtrust --catalog %s import --bundle NAME FILE to create it",
    [DBT_HINT_INIT_CATALOG] = ": run dbtrust --catalog %s import --bundle NAME FILE to create it",
};

static const char *render(const dbt_err *e)
{
    static char out[sizeof(e->msg)];
    size_t n = dbt_err_render(e, texts, out, sizeof(out));

    assert_int_equal(n, strlen(out));
    return out;
}

/* The hint goes where the formatted text ended; text appended after it stays after it. */
static void test_hint_in_the_middle(void **state)
{
    dbt_err e;
    char small[8];

    (void)state;
    dbt_err_set(&e, "f.p12: give its password (");
    dbt_err_hint(&e, DBT_HINT_PASSWORD);
    dbt_err_more(&e, ") so that no other is tried");
    assert_string_equal(e.msg, "f.p12: give its password () so that no other is tried");
    assert_string_equal(render(&e),
                        "f.p12: give its password (use --password) so that no other is tried");
    /* No table, or no text for the hint: the message as lib worded it. */
    assert_int_equal(dbt_err_render(&e, NULL, small, sizeof(small)), 7);
    assert_string_equal(small, "f.p12: ");
    /* A later set forgets the hint and the code. */
    dbt_err_code(&e, DBT_E_INTEGRITY);
    dbt_err_set(&e, "other %s", "use --password");
    assert_int_equal(e.hint, DBT_HINT_NONE);
    assert_int_equal(e.code, DBT_E_NONE);
    assert_string_equal(render(&e), "other use --password");
    /* An out-of-range hint is none. */
    dbt_err_hint(&e, DBT_HINT_COUNT);
    assert_int_equal(e.hint, DBT_HINT_NONE);
    dbt_err_hint(NULL, DBT_HINT_PASSWORD);
    dbt_err_more(NULL, "x");
    dbt_err_code(NULL, DBT_E_INTEGRITY);
}

/* dbt_err_ossl and dbt_err_sys append a reason: the hint goes before it. */
static void test_hint_before_reason(void **state)
{
    dbt_err e;

    (void)state;
    ERR_raise(ERR_LIB_PKCS12, PKCS12_R_PKCS12_CIPHERFINAL_ERROR);
    dbt_err_ossl(&e, "f.p12: safe 1 cannot be decrypted: wrong password? ");
    dbt_err_hint(&e, DBT_HINT_PASSWORD);
    assert_string_equal(render(&e), "f.p12: safe 1 cannot be decrypted: wrong password? use "
                                    "--password: pkcs12 cipherfinal error");
    errno = ENOENT;
    dbt_err_sys(&e, "cannot change catalog /c (or choose another catalog)");
    dbt_err_hint(&e, DBT_HINT_CATALOG_OPT);
    assert_string_equal(render(&e), "cannot change catalog /c (or choose another catalog) with "
                                    "--catalog: No such file or directory");
}

/* A prefix added while unwinding moves the hint and its quoted path with the text. */
static void test_prefix_moves_hint(void **state)
{
    dbt_err e;

    (void)state;
    dbt_err_set(&e, "catalog %s does not exist", "/tmp/c%s");
    dbt_err_hint_arg(&e, DBT_HINT_CREATE_CATALOG, strlen("catalog "), strlen("/tmp/c%s"));
    /* The quoted path is never read as the program's text ("%s" in it stays). */
    assert_string_equal(render(&e), "catalog /tmp/c%s does not exist: run dbtrust --catalog "
                                    "/tmp/c%s import --bundle NAME FILE to create it");
    dbt_err_prefix(&e, "while %s", "opening");
    assert_string_equal(render(&e), "while opening: catalog /tmp/c%s does not exist: run dbtrust "
                                    "--catalog /tmp/c%s import --bundle NAME FILE to create it");
    /* An argument past the message is clamped to it. */
    dbt_err_set(&e, "short");
    dbt_err_hint_arg(&e, DBT_HINT_INIT_CATALOG, 3, 100);
    assert_string_equal(render(&e),
                        "short: run dbtrust --catalog rt import --bundle NAME FILE to create it");
}

/* A rendering is cut where the whole message, set at once, would have been cut. */
static void test_render_cut_as_set(void **state)
{
    char path[1500], whole[sizeof(((dbt_err *)0)->msg)], small[16];
    dbt_err e, ref;

    (void)state;
    memset(path, 'p', sizeof(path) - 1);
    path[sizeof(path) - 1] = '\0';
    for (size_t len = 900; len < sizeof(path); len += 37) {
        path[len] = '\0';
        dbt_err_set(&e, "catalog %s does not exist", path);
        dbt_err_hint_arg(&e, DBT_HINT_CREATE_CATALOG, strlen("catalog "), strlen(path));
        dbt_err_set(&ref,
                    "catalog %s does not exist: run dbtrust --catalog %s import --bundle NAME FILE "
                    "to create it",
                    path, path);
        snprintf(whole, sizeof(whole), "%s", render(&e));
        assert_string_equal(whole, ref.msg);
        path[len] = 'p';
    }
    /* A small buffer: cut and terminated. */
    dbt_err_set(&e, "give its password (");
    dbt_err_hint(&e, DBT_HINT_PASSWORD);
    dbt_err_more(&e, ")");
    assert_int_equal(dbt_err_render(&e, texts, small, sizeof(small)), sizeof(small) - 1);
    assert_string_equal(small, "give its passwo");
    assert_int_equal(dbt_err_render(&e, texts, small, 0), 0);
}

/* dbt_catalog_open's advice is a hint: lib's own text names no option and no command line. */
static void test_catalog_open_hints(void **state)
{
    char dir[] = "/tmp/test_error.XXXXXX", path[64], want[256];
    dbt_catalog *cat = NULL;
    dbt_err e;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/none", dir);
    assert_int_equal(dbt_catalog_open(path, DBT_CAT_READ, &cat, &e), -1);
    assert_null(strstr(e.msg, "--"));
    assert_int_equal(e.hint, DBT_HINT_CREATE_CATALOG);
    snprintf(want, sizeof(want),
             "catalog %s does not exist: run dbtrust --catalog %s import --bundle NAME FILE to "
             "create it",
             path, path);
    assert_string_equal(render(&e), want);

    /* An empty directory: not initialized. */
    assert_int_equal(dbt_catalog_open(dir, DBT_CAT_READ, &cat, &e), -1);
    assert_null(strstr(e.msg, "--"));
    assert_int_equal(e.hint, DBT_HINT_INIT_CATALOG);
    snprintf(want, sizeof(want),
             "catalog %s is not initialized (it has no \"current\" link): run dbtrust "
             "--catalog %s import --bundle NAME FILE to create it",
             dir, dir);
    assert_string_equal(render(&e), want);

    /* A directory holding something else is not made a catalog. */
    snprintf(path, sizeof(path), "%s/README", dir);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(dbt_catalog_open(dir, DBT_CAT_CREATE, &cat, &e), -1);
    assert_null(strstr(e.msg, "--"));
    assert_int_equal(e.hint, DBT_HINT_CATALOG_OPT);
    snprintf(want, sizeof(want),
             "%s is not a dbtrust catalog and not empty (it holds README): give a new or empty "
             "directory with --catalog",
             dir);
    assert_string_equal(render(&e), want);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hint_in_the_middle), cmocka_unit_test(test_hint_before_reason),
        cmocka_unit_test(test_prefix_moves_hint),  cmocka_unit_test(test_render_cut_as_set),
        cmocka_unit_test(test_catalog_open_hints),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
