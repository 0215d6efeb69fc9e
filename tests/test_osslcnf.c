/* Unit tests of lib/osslcnf.c: every path dbtrust config accepts is read back byte for byte by
 * OpenSSL's own configuration parser (NCONF_load_bio, the code OPENSSL_CONF goes through), and
 * the paths no openssl.cnf line can carry are refused with nothing written. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/conf.h>

#include "osslcnf.h"

/* Writes the configuration for catalog and module, loads it with OpenSSL and checks that both
 * values come back as they were. */
static void roundtrip(const char *catalog, const char *module)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dbt_err err;
    CONF *conf;
    BIO *mem;
    long eline = -1;
    const char *got;

    assert_non_null(f);
    assert_int_equal(dbt_cnf_write(f, catalog, module, &err), 0);
    assert_int_equal(fclose(f), 0);
    conf = NCONF_new(NULL);
    mem = BIO_new_mem_buf(text, (int)len);
    assert_non_null(conf);
    assert_non_null(mem);
    if (NCONF_load_bio(conf, mem, &eline) != 1)
        fail_msg("OpenSSL cannot load the configuration for %s (line %ld):\n%s", catalog, eline,
                 text);
    got = NCONF_get_string(conf, "dbtrust_sect", "catalog");
    if (got == NULL || strcmp(got, catalog) != 0)
        fail_msg("catalog '%s' reads back as '%s' from:\n%s", catalog, got ? got : "(none)", text);
    got = NCONF_get_string(conf, "dbtrust_sect", "module");
    if (module != NULL && (got == NULL || strcmp(got, module) != 0))
        fail_msg("module '%s' reads back as '%s' from:\n%s", module, got ? got : "(none)", text);
    assert_string_equal(NCONF_get_string(conf, "default_sect", "activate"), "1");
    assert_string_equal(NCONF_get_string(conf, "dbtrust_sect", "activate"), "1");
    BIO_free(mem);
    NCONF_free(conf);
    free(text);
}

static void test_plain_paths_stay_plain(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_cnf_write(f, "/etc/dbtrust", NULL, &err), 0);
    fclose(f);
    assert_non_null(strstr(text, "\ncatalog = /etc/dbtrust\n"));
    assert_null(strstr(text, "module ="));
    free(text);
    roundtrip("/etc/dbtrust", NULL);
    roundtrip("/var/lib/db-trust/cat_1.2+x,y:z@h%20~=", "/usr/lib/ossl-modules/dbtrust.so");
}

static void test_special_characters(void **state)
{
    static const char *paths[] = {
        "/cat ",       "/cat  ",      "/ cat",
        "/c at",       "/cat$HOME",   "/cat${HOME}",
        "/cat$(HOME)", "/cat$",       "/cat#x",
        "/#",          "/cat'",       "/'cat'",
        "/cat\"",      "/\"cat\"",    "/cat`x`",
        "/cat\\",      "/cat\\\\",    "/c\\at",
        "/c\\'at",     "/cat\\n",     "/cat\\t",
        "/cat;x",      "/[sect]",     "/a=b",
        "/x::y",       "/$ENV::HOME", "/caf\xc3\xa9 \xe4\xb8\xad",
        "/\\'\"#$ `",  "/ends\\ ",    "/trailing ' ",
        "/.include x", "/%s%n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        roundtrip(paths[i], NULL);
        roundtrip("/etc/dbtrust", paths[i]);
        roundtrip(paths[i], paths[i]);
    }
}

/* Every printable ASCII character at the start, middle and end of a path, and pairs of them. */
static void test_every_printable_character(void **state)
{
    char p[16];
    int c, d;

    (void)state;
    for (c = 0x20; c < 0x7f; c++) {
        snprintf(p, sizeof(p), "/%c", c);
        roundtrip(p, p);
        snprintf(p, sizeof(p), "/a%cb", c);
        roundtrip(p, NULL);
        snprintf(p, sizeof(p), "/ab%c", c);
        roundtrip(p, NULL);
        for (d = 0x20; d < 0x7f; d++) {
            snprintf(p, sizeof(p), "/%c%c", c, d);
            roundtrip(p, NULL);
        }
    }
}

/* Random printable paths, longer than OpenSSL's 512-byte read buffer too. */
static void test_random_paths(void **state)
{
    char p[1200];
    unsigned long x = 12345;
    int i, j, n;

    (void)state;
    for (i = 0; i < 2000; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        n = 1 + (int)((x >> 33) % (i % 10 == 0 ? 1100 : 40));
        p[0] = '/';
        for (j = 1; j < n; j++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            p[j] = (char)(0x20 + (x >> 33) % 0x5f);
        }
        p[n] = '\0';
        roundtrip(p, NULL);
    }
}

static void refused(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dbt_err err;

    assert_non_null(f);
    if (dbt_cnf_write(f, path, NULL, &err) != -1)
        fail_msg("catalog path '%s' was accepted", path);
    assert_non_null(strstr(err.msg, "catalog"));
    assert_int_equal(dbt_cnf_write(f, "/etc/dbtrust", path, &err), -1);
    assert_non_null(strstr(err.msg, "module"));
    fclose(f);
    assert_int_equal(len, 0); /* nothing written */
    free(text);
}

static void test_refused(void **state)
{
    char p[8];
    int c;

    (void)state;
    refused("relative/cat");
    refused("");
    refused("/cat\n");
    refused("/cat\nactivate = 0");
    refused("/cat\r");
    refused("/cat\t");
    refused("/\tcat");
    refused("/cat\x7f");
    refused("/cat\xc2\x85");     /* C1 NEL */
    refused("/cat\xff");         /* not UTF-8 */
    refused("/cat\xc3");         /* cut UTF-8 */
    refused("/cat\xc0\xaf");     /* overlong '/' */
    refused("/cat\xe2\x80\xae"); /* bidi override */
    for (c = 1; c < 0x20; c++) {
        snprintf(p, sizeof(p), "/a%cb", c);
        refused(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_paths_stay_plain),
        cmocka_unit_test(test_special_characters),
        cmocka_unit_test(test_every_printable_character),
        cmocka_unit_test(test_random_paths),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
