/* cmocka unit tests of dbtrust.so's catalog reader (provider/reader.c): bundle-name syntax, the
 * one-generation open, hash-link and index validation, and bounded, checked file reads. Each
 * test builds its catalog in a fresh temporary directory. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/crypto.h>

#include "prov.h"
#include "reader.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA1_A "1111111111111111111111111111111111111111"

static char dir[256];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *rel, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
    chmod(path, 0644);
}

/* A catalog with one generation: current -> .gen-1, certs/, bundles/a.pem, an index. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/dbt-reader.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    chmod(dir, 0755);
    run("umask 022 && mkdir -p '%s/.gen-1/certs' '%s/.gen-1/bundles' && ln -s .gen-1 '%s/current'",
        dir, dir, dir);
    write_file(".gen-1/bundles/a.pem", "");
    write_file(".gen-1/certs/index",
               "dbtrust-index 1\n" SHA_A " " SHA1_A " 0000abcd 0000abcd 0A a,b\n" SHA_B " " SHA1_A
               " 0000abcd 12345678 -1F b\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    run("rm -rf '%s'", dir);
    return 0;
}

static void test_name_ok(void **state)
{
    (void)state;
    assert_true(dbt_reader_name_ok("rds", 3));
    assert_true(dbt_reader_name_ok("aws.rds-global_2024", 19));
    assert_false(dbt_reader_name_ok("", 0));
    assert_false(dbt_reader_name_ok(".hidden", 7));
    assert_false(dbt_reader_name_ok("-x", 2));
    assert_false(dbt_reader_name_ok("a/b", 3));
    assert_false(dbt_reader_name_ok("a b", 3));
    assert_false(dbt_reader_name_ok("a?x", 3));
    assert_true(
        dbt_reader_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64));
    assert_false(dbt_reader_name_ok(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 65));
}

static void test_open_reads_current_generation(void **state)
{
    dbt_reader rd;
    dbt_err err;
    int found = 0;

    (void)state;
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), 0);
    assert_string_equal(rd.gen, ".gen-1");
    assert_int_equal(dbt_reader_has_bundle(&rd, "a", &found, &err), 0);
    assert_true(found);
    assert_int_equal(dbt_reader_has_bundle(&rd, "zz", &found, &err), 0);
    assert_false(found);
    /* A swap after the open does not change what this reader reads. */
    run("mkdir '%s/.gen-2' && ln -sfn .gen-2 '%s/current'", dir, dir);
    assert_int_equal(dbt_reader_index(&rd, &err), 0);
    assert_int_equal(rd.index_n, 2);
    dbt_reader_close(&rd);
}

static void test_open_refusals(void **state)
{
    dbt_reader rd;
    dbt_err err;
    char path[512];

    (void)state;
    assert_int_equal(dbt_reader_open(&rd, "relative/dir", NULL, &err), DBT_R_BAD_CONFIG);
    snprintf(path, sizeof(path), "%s/nosuch", dir);
    assert_int_equal(dbt_reader_open(&rd, path, NULL, &err), DBT_R_CATALOG_MISSING);
    assert_non_null(strstr(err.msg, "does not exist"));

    chmod(dir, 0775);
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), DBT_R_UNSAFE_CATALOG);
    assert_non_null(strstr(err.msg, "is writable by its group"));
    chmod(dir, 0755);

    run("ln -sfn ../elsewhere '%s/current'", dir);
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), DBT_R_CORRUPT_CATALOG);
    assert_non_null(strstr(err.msg, "not to a .gen-N directory"));
    run("ln -sfn .gen-1x '%s/current'", dir);
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), DBT_R_CORRUPT_CATALOG);
    run("rm '%s/current'", dir);
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), DBT_R_CATALOG_MISSING);
    assert_non_null(strstr(err.msg, "has no current generation"));
}

/* Opens dir expecting the safety walk (lib/catsafe.c) to refuse it with phrase, then undo. */
static void check_unsafe(dbt_reader_checked *checked, const char *damage, const char *phrase,
                         const char *undo)
{
    dbt_reader rd;
    dbt_err err;

    run("cd '%s' && %s", dir, damage);
    assert_int_equal(dbt_reader_open(&rd, dir, checked, &err), DBT_R_UNSAFE_CATALOG);
    if (strstr(err.msg, phrase) == NULL)
        fail_msg("after %s: message \"%s\" lacks \"%s\"", damage, err.msg, phrase);
    run("cd '%s' && %s", dir, undo);
    assert_int_equal(dbt_reader_open(&rd, dir, checked, &err), 0);
    dbt_reader_close(&rd);
}

/* Damage anywhere in the generation read refuses the whole catalog at open, with or without
 * the remembered verdict of an earlier walk. */
static void test_open_walks(void **state)
{
    dbt_reader_checked *checked = dbt_reader_checked_new();
    dbt_reader rd;
    dbt_err err;

    (void)state;
    assert_non_null(checked);
    for (int i = 0; i < 2; i++) {
        dbt_reader_checked *c = i == 0 ? NULL : checked;

        /* The first open of each round leaves a verdict in c (when given). */
        assert_int_equal(dbt_reader_open(&rd, dir, c, &err), 0);
        dbt_reader_close(&rd);
        check_unsafe(c, "mkfifo .gen-1/certs/x", "a FIFO", "rm .gen-1/certs/x");
        check_unsafe(c, "mkfifo .gen-1/bundles/x.pem", "a FIFO", "rm .gen-1/bundles/x.pem");
        check_unsafe(c, "mknod .gen-1/certs/d c 1 3", "a device node", "rm .gen-1/certs/d");
        check_unsafe(c, "ln -s /etc/passwd .gen-1/certs/zz", "is not part of the catalog layout",
                     "rm .gen-1/certs/zz");
        /* The fixed layout: no nested directory, no stray entry, nothing unchecked at the top. */
        check_unsafe(c, "mkdir .gen-1/certs/sub", "(a directory) is not part of the catalog layout",
                     "rmdir .gen-1/certs/sub");
        check_unsafe(c, "mkdir .gen-1/bundles/sub",
                     "(a directory) is not part of the catalog layout", "rmdir .gen-1/bundles/sub");
        check_unsafe(c, "mkdir junk && touch junk/w && chmod 666 junk/w", "is writable by others",
                     "rm -r junk");
        check_unsafe(c, "printf x >empty.pem", "is not an empty file", "rm empty.pem");
        check_unsafe(c, "chmod 0775 .gen-1", "is writable by its group", "chmod 0755 .gen-1");
        check_unsafe(c, "chmod 0757 .gen-1/certs", "is writable by others",
                     "chmod 0755 .gen-1/certs");
        check_unsafe(c, "chmod 0757 .gen-1/bundles", "is writable by others",
                     "chmod 0755 .gen-1/bundles");
        if (c == NULL) {
            /* A file's own mode changes no directory: only a walk sees it at open (a reader
             * with a remembered verdict refuses it when it reads the file: test_cert_reads). */
            check_unsafe(c, "chmod 0666 .gen-1/bundles/a.pem", "is writable by others",
                         "chmod 0644 .gen-1/bundles/a.pem");
            check_unsafe(c, "chmod 0664 .gen-1/certs/index", "is writable by its group",
                         "chmod 0644 .gen-1/certs/index");
            if (geteuid() == 0)
                check_unsafe(c, "chown nobody .gen-1/certs/index", "is owned by uid",
                             "chown 0 .gen-1/certs/index");
        }
    }
    dbt_reader_checked_free(checked);
}

/* Longer than the 20 ms reader.c waits before it trusts a directory's times (2 s on a
 * filesystem that keeps whole seconds). */
static void sleep_settle(void)
{
    struct stat st;
    struct timespec t = {0, 50000000};

    if (stat(dir, &st) == 0 && st.st_mtim.tv_nsec == 0)
        t.tv_sec = 3;
    nanosleep(&t, NULL);
}

/* A remembered verdict holds only while every directory the walk depended on is unchanged,
 * nested ones included: a directory at the top that is not dbtrust's is checked in full, and a
 * change deep inside it changes none of the catalog's own directories. */
static void test_verdict_keys_nested_dirs(void **state)
{
    dbt_reader_checked *checked = dbt_reader_checked_new();
    dbt_reader rd;
    dbt_err err;

    (void)state;
    assert_non_null(checked);
    run("cd '%s' && mkdir -p junk/deep/er .gen-7 && chmod 0755 junk junk/deep junk/deep/er .gen-7",
        dir);
    /* A verdict is remembered only for directories whose times are settled (reader.c,
     * keys_settled): each change below must be the first since the verdict. */
    sleep_settle();
    /* Each damage after a verdict was remembered, changing no directory above junk/deep/er. */
    static const char *const damage[][3] = {
        {"mkfifo junk/deep/er/f", "a FIFO", "rm junk/deep/er/f"},
        {"chmod 0757 junk/deep/er", "is writable by others", "chmod 0755 junk/deep/er"},
        {"chmod 0775 junk", "is writable by its group", "chmod 0755 junk"},
        /* Another generation is not walked, but its own entry is checked. */
        {"chmod 0757 .gen-7", "is writable by others", "chmod 0755 .gen-7"},
    };
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        assert_int_equal(dbt_reader_open(&rd, dir, checked, &err), 0);
        dbt_reader_close(&rd);
        check_unsafe(checked, damage[i][0], damage[i][1], damage[i][2]);
        sleep_settle();
    }
    dbt_reader_checked_free(checked);
}

/* A chmod of a file changes no directory, so no key sees it: a remembered verdict is used for
 * one second at most (reader.c, VERDICT_MAX_AGE_NS), after which a running process refuses the
 * catalog as a new one does at once. Files no search reads: a bundle file, the lock. */
static void test_verdict_ages(void **state)
{
    dbt_reader_checked *checked = dbt_reader_checked_new();
    dbt_reader rd;
    dbt_err err;
    static const char *const damage[][2] = {
        {".gen-1/bundles/a.pem", "0666"},
        {".lock", "0646"},
    };
    struct timespec second = {1, 200000000};

    (void)state;
    assert_non_null(checked);
    run("cd '%s' && touch .lock && chmod 0644 .lock", dir);
    sleep_settle();
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        assert_int_equal(dbt_reader_open(&rd, dir, checked, &err), 0);
        dbt_reader_close(&rd);
        /* A new process refuses it at once. */
        run("cd '%s' && chmod %s %s", dir, damage[i][1], damage[i][0]);
        assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), DBT_R_UNSAFE_CATALOG);
        nanosleep(&second, NULL);
        if (dbt_reader_open(&rd, dir, checked, &err) != DBT_R_UNSAFE_CATALOG)
            fail_msg("chmod %s %s: still served by a remembered verdict after 1.2 s", damage[i][1],
                     damage[i][0]);
        assert_non_null(strstr(err.msg, "writable by others"));
        run("cd '%s' && chmod 0644 %s", dir, damage[i][0]);
        sleep_settle();
    }
    dbt_reader_checked_free(checked);
}

static void test_hash_links(void **state)
{
    dbt_reader rd;
    dbt_err err;
    char sha[DBT_SHA256_HEX + 1];

    (void)state;
    /* Planted after the open (which would refuse them: test_open_walks), so that each read
     * defends itself too. */
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), 0);
    run("cd '%s/.gen-1/certs' && ln -s " SHA_A ".pem 0000abcd.0 && ln -s ../x.pem 0000abcd.1 && "
        "ln -s /etc/passwd 0000abcd.2 && touch 0000abcd.3",
        dir);
    assert_int_equal(dbt_reader_hash_link(&rd, 0xabcd, 0, sha, &err), 0);
    assert_string_equal(sha, SHA_A);
    assert_int_equal(dbt_reader_hash_link(&rd, 0xabcd, 1, sha, &err), DBT_R_CORRUPT_CATALOG);
    assert_non_null(strstr(err.msg, "refusing a link that may leave the catalog"));
    assert_int_equal(dbt_reader_hash_link(&rd, 0xabcd, 2, sha, &err), DBT_R_CORRUPT_CATALOG);
    assert_int_equal(dbt_reader_hash_link(&rd, 0xabcd, 3, sha, &err), DBT_R_CORRUPT_CATALOG);
    assert_non_null(strstr(err.msg, "is not a symbolic link"));
    assert_int_equal(dbt_reader_hash_link(&rd, 0xabcd, 4, sha, &err), 0);
    assert_string_equal(sha, "");
    /* The walk at open does not look at a hash link's owner either: it is checked here. */
    if (geteuid() == 0) {
        run("chown -h nobody '%s/.gen-1/certs/0000abcd.0'", dir);
        assert_int_equal(dbt_reader_hash_link(&rd, 0xabcd, 0, sha, &err), DBT_R_UNSAFE_CATALOG);
        assert_non_null(strstr(err.msg, "is owned by uid"));
    }
    dbt_reader_close(&rd);
}

/* What the walk at open leaves to the point of use is refused by the open of a search that
 * follows no link (dbt_reader_check_links), naming the link, with or without a verdict. */
static void test_check_links(void **state)
{
    dbt_reader_checked *checked = dbt_reader_checked_new();
    dbt_reader rd;
    dbt_err err;
    static const char *const bad[][2] = {
        {"ln -s ../x.pem 0000abcd.1", "points outside catalog layout"},
        {"ln -s /etc/passwd 0000abcd.1", "points outside catalog layout"},
        {"ln -s " SHA_B ".pem 0000abcd.1", "does not lead to a regular certificate file"},
    };

    (void)state;
    assert_non_null(checked);
    write_file(".gen-1/certs/" SHA_A ".pem", "");
    run("cd '%s/.gen-1/certs' && ln -s " SHA_A ".pem 0000abcd.0", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int round = 0; round < 2; round++) {
            dbt_reader_checked *c = round == 0 ? NULL : checked;

            /* Settled, so that the verdict and its checked links are remembered: the damage
             * below must be caught although an earlier verdict had its links checked. */
            sleep_settle();
            assert_int_equal(dbt_reader_open(&rd, dir, c, &err), 0);
            assert_int_equal(dbt_reader_check_links(&rd, &err), 0);
            dbt_reader_close(&rd);
            run("cd '%s/.gen-1/certs' && %s", dir, bad[i][0]);
            /* The open itself does not read links: the walk leaves them to their use. */
            assert_int_equal(dbt_reader_open(&rd, dir, c, &err), 0);
            assert_int_equal(dbt_reader_check_links(&rd, &err), DBT_R_UNSAFE_CATALOG);
            if (strstr(err.msg, bad[i][1]) == NULL || strstr(err.msg, "0000abcd.1") == NULL)
                fail_msg("after %s: message \"%s\" lacks \"%s\"", bad[i][0], err.msg, bad[i][1]);
            dbt_reader_close(&rd);
            run("rm '%s/.gen-1/certs/0000abcd.1'", dir);
        }
    }
    if (geteuid() == 0) {
        run("chown -h nobody '%s/.gen-1/certs/0000abcd.0'", dir);
        assert_int_equal(dbt_reader_open(&rd, dir, checked, &err), 0);
        assert_int_equal(dbt_reader_check_links(&rd, &err), DBT_R_UNSAFE_CATALOG);
        assert_non_null(strstr(err.msg, "is owned by uid"));
        dbt_reader_close(&rd);
    }
    dbt_reader_checked_free(checked);
}

static void test_index(void **state)
{
    const dbt_index_entry *e;
    dbt_reader rd;
    dbt_err err;

    (void)state;
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), 0);
    assert_int_equal(dbt_reader_index(&rd, &err), 0);
    assert_non_null(e = dbt_reader_find(&rd, SHA_B));
    assert_string_equal(e->serial, "-1F");
    assert_int_equal(e->issuer_hash, 0x12345678UL);
    assert_true(dbt_index_in_bundle(e, "b"));
    assert_false(dbt_index_in_bundle(e, "a"));
    assert_non_null(e = dbt_reader_find(&rd, SHA_A));
    assert_true(dbt_index_in_bundle(e, "a"));
    assert_true(dbt_index_in_bundle(e, "b"));
    assert_false(dbt_index_in_bundle(e, "ab"));
    assert_null(dbt_reader_find(&rd, "cc"));
    dbt_reader_close(&rd);
}

/* Each bad index: the reason and a phrase of the message. */
static void check_bad_index(const char *text, const char *phrase)
{
    dbt_reader rd;
    dbt_err err;

    write_file(".gen-1/certs/index", text);
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), 0);
    assert_int_equal(dbt_reader_index(&rd, &err), DBT_R_CORRUPT_CATALOG);
    if (strstr(err.msg, phrase) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, phrase);
    dbt_reader_close(&rd);
}

static void test_bad_indexes(void **state)
{
    (void)state;
    check_bad_index("dbtrust-index 2\n", "does not start with");
    check_bad_index("dbtrust-index 1\nfoo\n", "line 2 is not");
    check_bad_index("dbtrust-index 1\n" SHA_A " " SHA1_A " 0000abcd 0000abcd 0A a b\n",
                    "line 2 is not");
    check_bad_index("dbtrust-index 1\n" SHA_A " " SHA1_A " 0000abcd 0000abcd 0A ../x\n",
                    "line 2 is not");
    check_bad_index("dbtrust-index 1\n" SHA_A " " SHA1_A " 0000abcd 0000abcd 0G a\n",
                    "line 2 is not");
    check_bad_index("dbtrust-index 1\n" SHA_B " " SHA1_A " 0000abcd 0000abcd 0A a\n" SHA_A
                    " " SHA1_A " 0000abcd 0000abcd 0A a\n",
                    "line 3 is out of order");
    check_bad_index("dbtrust-index 1\n" SHA_A " " SHA1_A " 0000abcd 0000abcd 0A a",
                    "not terminated");
}

static void test_cert_reads(void **state)
{
    unsigned char *der = NULL;
    long derlen = 0;
    dbt_reader rd;
    dbt_err err;
    int missing = 0;

    (void)state;
    assert_int_equal(dbt_reader_open(&rd, dir, NULL, &err), 0);
    write_file(".gen-1/certs/" SHA_A ".pem", "not pem\n");
    run("cd '%s/.gen-1/certs' && mkfifo " SHA_B ".pem", dir);
    assert_int_equal(dbt_reader_cert(&rd, SHA_A, &der, &derlen, &missing, &err),
                     DBT_R_CORRUPT_CATALOG);
    assert_non_null(strstr(err.msg, "holds no PEM certificate"));
    /* A FIFO would block a plain open(); it is refused without waiting. */
    assert_int_equal(dbt_reader_cert(&rd, SHA_B, &der, &derlen, &missing, &err),
                     DBT_R_CORRUPT_CATALOG);
    assert_non_null(strstr(err.msg, "is not a regular file"));
    assert_int_equal(dbt_reader_cert(&rd, "cc", &der, &derlen, &missing, &err), 0);
    assert_true(missing);
    assert_null(der);
    run("truncate -s 2M '%s/.gen-1/certs/" SHA_A ".pem'", dir);
    assert_int_equal(dbt_reader_cert(&rd, SHA_A, &der, &derlen, &missing, &err),
                     DBT_R_CORRUPT_CATALOG);
    assert_non_null(strstr(err.msg, "more than the"));
    run("chmod 0666 '%s/.gen-1/certs/" SHA_A ".pem'", dir);
    assert_int_equal(dbt_reader_cert(&rd, SHA_A, &der, &derlen, &missing, &err),
                     DBT_R_UNSAFE_CATALOG);
    dbt_reader_close(&rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test_setup_teardown(test_open_reads_current_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_walks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_keys_nested_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_ages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_reads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
