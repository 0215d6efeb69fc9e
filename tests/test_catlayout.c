/* cmocka unit tests of the catalog layout's one parser and name rules (lib/catlayout.c): every
 * accept/reject class of an index line and each result code, the name checks over all byte
 * values and under a Latin-1 locale, and that lib/ (dbt_catalog_certs, dbt_catalog_check_name)
 * and the provider (dbt_reader_index, dbt_reader_name_ok) give the same verdict on the same
 * catalog. */
#include "config.h"

#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog.h"
#include "catlayout.h"
#include "catsafe.h"
#include "prov.h"
#include "reader.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA1 "0123456789abcdef0123456789abcdef01234567"
/* A valid line's first four fields and a space. */
#define HEAD SHA_A " " SHA1 " 0000abcd 12345678 "

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "%s/dbt-catlayout.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmp) == NULL)
        return -1;
    chmod(tmp, 0755);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* One index line and the verdict of the common rule (1 accepted, 0 refused). */
static const struct {
    const char *line;
    int ok;
} lines[] = {
    {HEAD "0A a", 1},
    {HEAD "0a a", 1},  /* serial of either case */
    {HEAD "-1F a", 1}, /* negative serial */
    {HEAD "00FfAa b,c.d_e-f", 1},
    {HEAD "0A aws-rds-global,B,z9", 1},
    {HEAD "0A aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1}, /* 64 */
    /* separators: exactly one space between exactly six fields */
    {SHA_A "  " SHA1 " 0000abcd 12345678 0A a", 0},
    {SHA_A " " SHA1 " 0000abcd 12345678  0A a", 0},
    {" " HEAD "0A a", 0},
    {HEAD "0A a ", 0},
    {SHA_A "\t" SHA1 " 0000abcd 12345678 0A a", 0},
    {HEAD "0A", 0},
    {HEAD "0A a b", 0},
    {"", 0},
    /* sha256, sha1 and the hashes: lowercase hex of their exact length */
    {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA " SHA1
     " 0000abcd 12345678 0A a",
     0},
    {SHA_A "a " SHA1 " 0000abcd 12345678 0A a", 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " SHA1
     " 0000abcd 12345678 0A a",
     0},
    {"gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " SHA1
     " 0000abcd 12345678 0A a",
     0},
    {SHA_A " 0123456789ABCDEF0123456789abcdef01234567 0000abcd 12345678 0A a", 0},
    {SHA_A " " SHA1 "8 0000abcd 12345678 0A a", 0},
    {SHA_A " " SHA1 " 0000ABCD 12345678 0A a", 0},
    {SHA_A " " SHA1 " 0000abcd 1234567F 0A a", 0},
    {SHA_A " " SHA1 " 000abcd 12345678 0A a", 0},
    {SHA_A " " SHA1 " 0000abcd 123456789 0A a", 0},
    {SHA_A " " SHA1 " 0x00abcd 12345678 0A a", 0},
    /* serial: hex, an optional leading '-', 1 to DBT_LAYOUT_SERIAL_MAX bytes */
    {HEAD "- a", 0},
    {HEAD "+1 a", 0},
    {HEAD "--1 a", 0},
    {HEAD "1-1 a", 0},
    {HEAD "0x1A a", 0},
    {HEAD "0G a", 0},
    {HEAD "serial a", 0},
    /* bundles: names of the bundle-name rule, joined by single commas */
    {HEAD "0A a,,b", 0},
    {HEAD "0A ,a", 0},
    {HEAD "0A a,", 0},
    {HEAD "0A .a", 0},
    {HEAD "0A -a", 0},
    {HEAD "0A a/b", 0},
    {HEAD "0A ../x", 0},
    {HEAD "0A caf\xc3\xa9", 0},
    {HEAD "0A caf\xe9", 0},
    {HEAD "0A aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0}, /* 65 */
};

static void test_index_parse_classes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char buf[512];
        dbt_layout_index_line e;
        int rc;

        snprintf(buf, sizeof(buf), "%s", lines[i].line);
        rc = dbt_layout_index_parse(buf, &e);
        if (rc != (lines[i].ok ? 0 : DBT_LAYOUT_BAD_LINE))
            fail_msg("line %zu \"%s\": got %d", i, lines[i].line, rc);
    }
}

static void test_index_parse_fields(void **state)
{
    char buf[] = HEAD "-00fF b,c";
    dbt_layout_index_line e;

    (void)state;
    assert_int_equal(dbt_layout_index_parse(buf, &e), 0);
    assert_string_equal(e.sha256, SHA_A);
    assert_string_equal(e.sha1, SHA1);
    assert_int_equal(e.subject_hash, 0x0000abcdUL);
    assert_int_equal(e.issuer_hash, 0x12345678UL);
    assert_string_equal(e.serial, "-00fF");
    assert_string_equal(e.bundles, "b,c");
    assert_true(dbt_layout_index_has_bundle(&e, "b"));
    assert_true(dbt_layout_index_has_bundle(&e, "c"));
    assert_false(dbt_layout_index_has_bundle(&e, "bc"));
    assert_false(dbt_layout_index_has_bundle(&e, ""));

    const char *p = e.bundles, *name;
    size_t len;
    assert_int_equal(dbt_layout_index_next_bundle(&p, &name, &len), 1);
    assert_int_equal(len, 1);
    assert_memory_equal(name, "b", 1);
    assert_int_equal(dbt_layout_index_next_bundle(&p, &name, &len), 1);
    assert_memory_equal(name, "c", 1);
    assert_int_equal(len, 1);
    assert_int_equal(dbt_layout_index_next_bundle(&p, &name, &len), 0);
}

static void test_serial_bound(void **state)
{
    char serial[DBT_LAYOUT_SERIAL_MAX + 2], buf[512];
    dbt_layout_index_line e;

    (void)state;
    memset(serial, 'F', sizeof(serial));
    serial[DBT_LAYOUT_SERIAL_MAX] = '\0';
    snprintf(buf, sizeof(buf), HEAD "%s a", serial);
    assert_int_equal(dbt_layout_index_parse(buf, &e), 0);
    serial[0] = '-';
    snprintf(buf, sizeof(buf), HEAD "%s a", serial);
    assert_int_equal(dbt_layout_index_parse(buf, &e), 0);
    serial[0] = 'F';
    serial[DBT_LAYOUT_SERIAL_MAX] = 'F';
    serial[DBT_LAYOUT_SERIAL_MAX + 1] = '\0';
    snprintf(buf, sizeof(buf), HEAD "%s a", serial);
    assert_int_equal(dbt_layout_index_parse(buf, &e), DBT_LAYOUT_BAD_LINE);
}

/* The whole-file codes: header, NUL, truncation, order. */
static int walk(const char *text, int *lines_read)
{
    static char buf[4096];
    dbt_layout_index_line e, prev;
    char *pos;
    long body;
    int rc, n = 0;

    snprintf(buf, sizeof(buf), "%s", text);
    if ((body = dbt_layout_index_header(buf, strlen(text))) < 0)
        return (int)body;
    for (pos = buf + body; (rc = dbt_layout_index_next(&pos, &e, n ? &prev : NULL)) == 1; prev = e)
        n++;
    *lines_read = n;
    return rc;
}

static void test_index_codes(void **state)
{
    static char nul[] = "dbtrust-index 1\n" HEAD "0A a\n";
    int n = -1;

    (void)state;
    assert_int_equal(walk("dbtrust-index 1\n", &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(walk("dbtrust-index 1\n" HEAD "0A a\n", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(
        walk("dbtrust-index 1\n" HEAD "0A a\n" SHA_B " " SHA1 " 00000000 00000000 1 b\n", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(walk("", &n), DBT_LAYOUT_BAD_HEADER);
    assert_int_equal(walk("dbtrust-index 1", &n), DBT_LAYOUT_BAD_HEADER);
    assert_int_equal(walk("dbtrust-index 2\n", &n), DBT_LAYOUT_BAD_HEADER);
    assert_int_equal(walk("dbtrust-index 10\n", &n), DBT_LAYOUT_BAD_HEADER);
    assert_int_equal(walk("DBTRUST-INDEX 1\n", &n), DBT_LAYOUT_BAD_HEADER);
    assert_int_equal(walk(" dbtrust-index 1\n", &n), DBT_LAYOUT_BAD_HEADER);
    /* a NUL anywhere, header or body, before the length given */
    nul[20] = '\0';
    assert_int_equal(dbt_layout_index_header(nul, sizeof(nul) - 1), DBT_LAYOUT_NUL);
    assert_int_equal(dbt_layout_index_header("\0dbtrust-index 1\n", 17), DBT_LAYOUT_NUL);
    assert_int_equal(walk("dbtrust-index 1\n" HEAD "0A a", &n), DBT_LAYOUT_NOT_TERMINATED);
    assert_int_equal(walk("dbtrust-index 1\n" HEAD "0A a\n" HEAD "0A a", &n),
                     DBT_LAYOUT_NOT_TERMINATED);
    assert_int_equal(walk("dbtrust-index 1\n\n", &n), DBT_LAYOUT_BAD_LINE);
    assert_int_equal(walk("dbtrust-index 1\n" HEAD "0A a\r\n", &n), DBT_LAYOUT_BAD_LINE);
    assert_int_equal(walk("dbtrust-index 1\n" HEAD "0A a\n" HEAD "0A b\n", &n),
                     DBT_LAYOUT_REPEATED);
    assert_int_equal(n, 1);
    assert_int_equal(
        walk("dbtrust-index 1\n" SHA_B " " SHA1 " 00000000 00000000 1 b\n" HEAD "0A a\n", &n),
        DBT_LAYOUT_UNSORTED);
    assert_int_equal(n, 1);
}

/* The writer's key-only read of a line (dbt_layout_index_keys): every line the full parser
 * accepts gives the same keys; a line too short for its fields, a key that is not lowercase
 * hex, a misplaced separator or a missing end is refused, and nothing is read past end. */
static void test_index_keys(void **state)
{
    static const char two[] = HEAD "0A a\n" SHA_B " " SHA1 " 00000000 00000000 1 b\n";
    const char *pos = two, *sha = NULL;
    unsigned long sh = 0;
    char buf[256];

    (void)state;
    assert_int_equal(dbt_layout_index_keys(&pos, two + strlen(two), &sha, &sh), 1);
    assert_ptr_equal(sha, two);
    assert_int_equal(sh, 0xabcdUL);
    assert_int_equal(dbt_layout_index_keys(&pos, two + strlen(two), &sha, &sh), 1);
    assert_memory_equal(sha, SHA_B, 64);
    assert_int_equal(sh, 0);
    assert_int_equal(dbt_layout_index_keys(&pos, two + strlen(two), &sha, &sh), 0);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char copy[512];
        dbt_layout_index_line e;
        int full, keys;
        snprintf(buf, sizeof(buf), "%s\n", lines[i].line);
        snprintf(copy, sizeof(copy), "%s", lines[i].line);
        full = dbt_layout_index_parse(copy, &e) == 0;
        pos = buf;
        keys = dbt_layout_index_keys(&pos, buf + strlen(buf), &sha, &sh) == 1;
        if (full) { /* the keys of every good line; a bad one may pass on its other fields */
            assert_true(keys);
            assert_memory_equal(sha, e.sha256, 64);
            assert_int_equal(sh, e.subject_hash);
        }
    }
    /* the end bounds the search for the newline: a line cut by it has no end */
    snprintf(buf, sizeof(buf), "%s", two);
    pos = buf;
    assert_int_equal(dbt_layout_index_keys(&pos, buf + 100, &sha, &sh), DBT_LAYOUT_NOT_TERMINATED);
    snprintf(buf, sizeof(buf), HEAD "0A a\n");
    buf[10] = 'A';
    pos = buf;
    assert_int_equal(dbt_layout_index_keys(&pos, buf + strlen(buf), &sha, &sh),
                     DBT_LAYOUT_BAD_LINE);
    snprintf(buf, sizeof(buf), HEAD "0A a\n");
    buf[108] = 'g'; /* in the subject hash */
    pos = buf;
    assert_int_equal(dbt_layout_index_keys(&pos, buf + strlen(buf), &sha, &sh),
                     DBT_LAYOUT_BAD_LINE);
    snprintf(buf, sizeof(buf), SHA_A " " SHA1 "  0000abcd 12345678 0A a\n");
    pos = buf;
    assert_int_equal(dbt_layout_index_keys(&pos, buf + strlen(buf), &sha, &sh),
                     DBT_LAYOUT_BAD_LINE);
    snprintf(buf, sizeof(buf), SHA_A " " SHA1 " 0000abcd\n");
    pos = buf;
    assert_int_equal(dbt_layout_index_keys(&pos, buf + strlen(buf), &sha, &sh),
                     DBT_LAYOUT_BAD_LINE);
}

static int ref_hex_lower(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The 8-bytes-at-a-time check against a per-byte one: every byte value at every position of
 * the word-wise part and of the tail, including bytes whose high bit is set. */
static void test_hex_lower(void **state)
{
    (void)state;
    for (size_t pos = 0; pos < 19; pos++)
        for (int c = 0; c < 256; c++) {
            char s[19];
            memset(s, 'a', sizeof(s));
            s[pos] = (char)c;
            if (dbt_layout_hex_lower(s, sizeof(s)) != ref_hex_lower((unsigned char)c))
                fail_msg("byte 0x%02x at %zu", c, pos);
            /* a byte past n is not looked at */
            assert_true(dbt_layout_hex_lower(s, pos));
        }
    assert_true(dbt_layout_hex_lower("", 0));
    assert_true(dbt_layout_hex_lower("0123456789abcdef", 16));
    assert_false(dbt_layout_hex_lower("0123456789abcdeF", 16));
    assert_false(dbt_layout_hex_lower("0123456789ABCDEF", 16));
    assert_false(dbt_layout_hex_lower("/:`g@G", 1) || dbt_layout_hex_lower(":", 1) ||
                 dbt_layout_hex_lower("`", 1) || dbt_layout_hex_lower("g", 1));
}

static void test_gen_name(void **state)
{
    unsigned long long n = 0;

    (void)state;
    assert_int_equal(dbt_layout_gen_name(".gen-1", &n), 0);
    assert_int_equal(n, 1);
    /* Bounded before it could wrap: the last digit is taken only while the value is at most
     * (ULLONG_MAX - 9) / 10, so 20-digit names stop below ULLONG_MAX. */
    assert_int_equal(dbt_layout_gen_name(".gen-18446744073709551609", &n), 0);
    assert_true(n == 18446744073709551609ULL);
    assert_int_equal(dbt_layout_gen_name(".gen-18446744073709551610", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".gen-99999999999999999999", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".gen-0", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".gen-01", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".gen-", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".gen-1a", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".gen--1", &n), -1);
    assert_int_equal(dbt_layout_gen_name("gen-1", &n), -1);
    assert_int_equal(dbt_layout_gen_name(".dead-gen-1", &n), -1);
    /* the catsafe name is the same function */
    assert_int_equal(dbt_safe_gen_name(".gen-42", &n), 0);
    assert_int_equal(n, 42);
}

static void test_file_names(void **state)
{
    unsigned long hash = 0;
    int n = -1;

    (void)state;
    assert_true(dbt_layout_cert_file_name(SHA_A ".pem"));
    assert_false(dbt_layout_cert_file_name(SHA_A ".PEM"));
    assert_false(dbt_layout_cert_file_name(SHA_A "a.pem"));
    assert_false(
        dbt_layout_cert_file_name("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                  "AAAAAAA.pem"));
    assert_false(dbt_layout_cert_file_name(SHA_A ".pem.x"));
    assert_false(dbt_layout_cert_file_name("index"));

    assert_true(dbt_layout_hash_link_name("0000abcd.0", &hash, &n));
    assert_int_equal(hash, 0xabcdUL);
    assert_int_equal(n, 0);
    assert_true(dbt_layout_hash_link_name("ffffffff.4095", &hash, &n));
    assert_int_equal(hash, 0xffffffffUL);
    assert_int_equal(n, 4095);
    assert_true(dbt_layout_hash_link_name("0000abcd.0", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("0000ABCD.0", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("000abcd.0", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("00000abcd.0", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("0000abcd.", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("0000abcd.-1", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("0000abcd.1a", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("0000abcd_0", NULL, NULL));
    assert_false(dbt_layout_hash_link_name("0000abcd.r0", NULL, NULL));
    /* a number that does not fit the caller's int is refused, not wrapped */
    assert_false(dbt_layout_hash_link_name("0000abcd.2147483648", &hash, &n));
    assert_true(dbt_layout_hash_link_name("0000abcd.2147483647", &hash, &n));
    assert_int_equal(n, INT_MAX);
}

/* Each byte value as the first and as a middle byte of a name, through the layout's rule, the
 * provider's and lib's (which words the error): all three agree with the ASCII rule. */
static void check_names_agree(const char *locale)
{
    for (int c = 0; c < 256; c++) {
        int ascii = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
        char mid[4] = {'a', (char)c, 'b', '\0'}, first[3] = {(char)c, 'b', '\0'};
        int want_first = ascii && c != '.' && c != '-';
        dbt_err err;

        if (c == 0)
            continue;
        if (dbt_layout_name_ok(mid, 3) != ascii || dbt_reader_name_ok(mid, 3) != ascii ||
            (dbt_catalog_check_name(mid, &err) == 0) != ascii)
            fail_msg("byte 0x%02x inside a name (locale %s)", c, locale);
        if (dbt_layout_name_ok(first, 2) != want_first ||
            dbt_reader_name_ok(first, 2) != want_first ||
            (dbt_catalog_check_name(first, &err) == 0) != want_first)
            fail_msg("byte 0x%02x starting a name (locale %s)", c, locale);
    }
}

static void test_names(void **state)
{
    char name[DBT_LAYOUT_NAME_MAX + 2];
    dbt_err err;

    (void)state;
    check_names_agree("C");
    memset(name, 'a', sizeof(name));
    name[DBT_LAYOUT_NAME_MAX] = '\0';
    assert_true(dbt_layout_name_ok(name, DBT_LAYOUT_NAME_MAX));
    assert_int_equal(dbt_catalog_check_name(name, &err), 0);
    name[DBT_LAYOUT_NAME_MAX] = 'a';
    name[DBT_LAYOUT_NAME_MAX + 1] = '\0';
    assert_false(dbt_layout_name_ok(name, DBT_LAYOUT_NAME_MAX + 1));
    assert_int_equal(dbt_catalog_check_name(name, &err), -1);
    assert_false(dbt_layout_name_ok("", 0));
    assert_int_equal(dbt_catalog_check_name("", &err), -1);
    assert_true(dbt_layout_name_ok("ab/", 2)); /* only n bytes are the name */
}

/* The CLI calls setlocale(LC_CTYPE, ""): in a single-byte locale, isalnum takes letters such as
 * 0xE9 (e acute in Latin-1), which the provider never serves. The name rule must not move. */
static void test_names_latin1(void **state)
{
    char dir[300], cmd[800];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/locale", tmp);
    if (system("command -v localedef >/dev/null 2>&1") != 0)
        skip(); /* cannot build a Latin-1 locale here: no localedef */
    snprintf(cmd, sizeof(cmd),
             "mkdir -p '%s' && localedef -i fr_FR -f ISO-8859-1 '%s/fr_FR.ISO-8859-1' "
             ">/dev/null 2>&1",
             dir, dir);
    if (system(cmd) != 0) {
        /* shows as setlocale failing below */
    }
    setenv("LOCPATH", dir, 1);
    if (setlocale(LC_CTYPE, "fr_FR.ISO-8859-1") == NULL) {
        unsetenv("LOCPATH");
        skip(); /* localedef could not build fr_FR.ISO-8859-1 (no locale sources) */
    }
    check_names_agree("fr_FR.ISO-8859-1");
    setlocale(LC_CTYPE, "C");
    unsetenv("LOCPATH");
}

/* One catalog, the same index under lib's reader and the provider's: same verdict, and the
 * verdict of the common rule. */
static void test_lib_and_provider_agree(void **state)
{
    char cat_path[300], gen[64], index[400], text[1024];
    dbt_catalog *cat = NULL;
    dbt_err err;
    ssize_t len;

    (void)state;
    snprintf(cat_path, sizeof(cat_path), "%s/cat", tmp);
    assert_int_equal(dbt_catalog_open(cat_path, DBT_CAT_CREATE, &cat, &err), 0);
    dbt_catalog_close(cat);
    snprintf(index, sizeof(index), "%s/current", cat_path);
    assert_true((len = readlink(index, gen, sizeof(gen) - 1)) > 0);
    gen[len] = '\0';
    snprintf(index, sizeof(index), "%s/%s/certs/index", cat_path, gen);

    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) + 3; i++) {
        dbt_catalog_cert *certs = NULL;
        size_t n = 0;
        dbt_reader rd;
        int lib_ok, prov_ok, want, rc;
        FILE *f;

        if (i < sizeof(lines) / sizeof(lines[0])) {
            snprintf(text, sizeof(text), "dbtrust-index 1\n%s\n", lines[i].line);
            want = lines[i].ok;
        } else if (i == sizeof(lines) / sizeof(lines[0])) { /* repeated */
            snprintf(text, sizeof(text), "dbtrust-index 1\n" HEAD "0A a\n" HEAD "0A b\n");
            want = 0;
        } else if (i == sizeof(lines) / sizeof(lines[0]) + 1) { /* out of order */
            snprintf(text, sizeof(text),
                     "dbtrust-index 1\n" SHA_B " " SHA1 " 0000abcd 12345678 0A a\n" HEAD "0A a\n");
            want = 0;
        } else { /* truncated */
            snprintf(text, sizeof(text), "dbtrust-index 1\n" HEAD "0A a");
            want = 0;
        }
        assert_non_null(f = fopen(index, "w"));
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);

        assert_int_equal(dbt_catalog_open(cat_path, DBT_CAT_READ, &cat, &err), 0);
        lib_ok = dbt_catalog_certs(cat, &certs, &n, &err) == 0;
        if (lib_ok && want) {
            assert_int_equal(n, 1);
            assert_string_equal(certs[0].sha256, SHA_A);
            assert_int_equal(certs[0].subject_hash, 0x0000abcdUL);
        }
        dbt_catalog_certs_free(certs, n);
        dbt_catalog_close(cat);

        assert_int_equal(dbt_reader_open(&rd, cat_path, NULL, &err), 0);
        rc = dbt_reader_index(&rd, &err);
        prov_ok = rc == 0;
        if (!prov_ok)
            assert_int_equal(rc, DBT_R_CORRUPT_CATALOG);
        dbt_reader_close(&rd);

        if (lib_ok != want || prov_ok != want)
            fail_msg("index case %zu (\"%s\"): want %s, lib %s, provider %s", i, text,
                     want ? "accepted" : "refused", lib_ok ? "accepted" : "refused",
                     prov_ok ? "accepted" : "refused");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_parse_classes),
        cmocka_unit_test(test_index_parse_fields),
        cmocka_unit_test(test_serial_bound),
        cmocka_unit_test(test_index_codes),
        cmocka_unit_test(test_index_keys),
        cmocka_unit_test(test_hex_lower),
        cmocka_unit_test(test_gen_name),
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_names_latin1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lib_and_provider_agree, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
