/* Unit tests of lib/escape.c: which characters are escaped and how, malformed UTF-8 of every
 * kind, cutting at a whole character or escape, and that escaping twice changes nothing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

static void check(const char *in, size_t n, const char *want)
{
    char *got = dbt_escape_dup(in, n);

    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(dbt_escape_len(in, n), strlen(want));
    assert_int_equal(dbt_escape_needed(in, n), strcmp(want, in) != 0 || strlen(in) != n);
    free(got);
}

#define CHECK(lit, want) check(lit, sizeof(lit) - 1, want)

static void test_kept(void **state)
{
    (void)state;
    CHECK("", "");
    CHECK("CN=Amazon RDS us-east-1 Root CA RSA2048 G1,O=Amazon", "CN=Amazon RDS us-east-1 Root CA "
                                                                 "RSA2048 G1,O=Amazon");
    CHECK("a\\,b \\1B ~", "a\\,b \\1B ~"); /* backslashes are kept: escaping is idempotent */
    CHECK("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x94\x92",
          "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 "
          "\xf0\x9f\x94\x92");
    CHECK("\xc2\xa0\xc2\xa9", "\xc2\xa0\xc2\xa9"); /* U+00A0, U+00A9: just past the C1 range */
    CHECK("\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", /* U+2027, 202F, 2065, 206A */
          "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
    CHECK("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
}

static void test_controls(void **state)
{
    char in[2], want[16];

    (void)state;
    for (int c = 0; c < 0x20; c++) {
        in[0] = (char)c;
        snprintf(want, sizeof(want), "\\x%02x", c);
        check(in, 1, want);
    }
    CHECK("\x7f", "\\x7f");
    CHECK("\t\n\r", "\\x09\\x0a\\x0d");
    CHECK("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
    CHECK("a\0b", "a\\x00b");
    for (int c = 0x80; c <= 0x9f; c++) {
        char u[3] = {(char)0xc2, (char)c, 0};

        snprintf(want, sizeof(want), "\\xc2\\x%02x", c);
        check(u, 2, want);
    }
    CHECK("\xe2\x80\xa8\xe2\x80\xa9", "\\xe2\\x80\\xa8\\xe2\\x80\\xa9"); /* U+2028, U+2029 */
    CHECK("\xe2\x80\xaa\xe2\x80\xae", "\\xe2\\x80\\xaa\\xe2\\x80\\xae"); /* U+202A, U+202E */
    CHECK("\xe2\x81\xa6\xe2\x81\xa9", "\\xe2\\x81\\xa6\\xe2\\x81\\xa9"); /* U+2066, U+2069 */
    CHECK("ok\xe2\x80\xaetxt.exe", "ok\\xe2\\x80\\xaetxt.exe");
}

static void test_malformed(void **state)
{
    (void)state;
    CHECK("\x80", "\\x80");                            /* a continuation byte alone */
    CHECK("\x9b[2J", "\\x9b[2J");                      /* Latin-1 CSI */
    CHECK("\xc0\x80", "\\xc0\\x80");                   /* overlong NUL */
    CHECK("\xc1\xbf", "\\xc1\\xbf");                   /* overlong */
    CHECK("\xe0\x80\xaf", "\\xe0\\x80\\xaf");          /* overlong '/' */
    CHECK("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"); /* overlong '/' */
    CHECK("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* a surrogate */
    CHECK("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    CHECK("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
    CHECK("\xff\xfe", "\\xff\\xfe");
    CHECK("ab\xe2\x82", "ab\\xe2\\x82");    /* cut short at the end */
    CHECK("\xe2\x82x", "\\xe2\\x82x");      /* cut short by an ASCII byte */
    CHECK("\xc3\xc3\xa9", "\\xc3\xc3\xa9"); /* a bad lead byte, then a good sequence */
}

/* A cut never splits a character or an escape, and the result is always NUL-terminated. */
static void test_cut(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(dbt_escape("abc", 3, out, 0), 0);
    memset(out, 'z', sizeof(out));
    assert_int_equal(dbt_escape("abc", 3, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(dbt_escape("abc", 3, out, 3), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(dbt_escape("a\x1b", 2, out, 5), 1); /* "\x1b" needs 4 bytes and the NUL */
    assert_string_equal(out, "a");
    assert_int_equal(dbt_escape("a\x1b", 2, out, 6), 5);
    assert_string_equal(out, "a\\x1b");
    assert_int_equal(dbt_escape("a\xc3\xa9", 3, out, 3), 1); /* never half of an é */
    assert_string_equal(out, "a");
    /* U+202E escaped is one unit: all three escapes or none */
    assert_int_equal(dbt_escape("\xe2\x80\xae", 3, out, 12), 0);
    assert_string_equal(out, "");
    assert_int_equal(dbt_escape("\xe2\x80\xae", 3, out, 13), 12);
}

/* Random bytes: the output is valid UTF-8 with nothing left to escape, escaping it again changes
 * nothing, and no byte below 0x20 or DEL survives. */
static void test_random_idempotent(void **state)
{
    uint32_t seed = 12345;
    unsigned char in[64];

    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 64);
        char *once, *twice;

        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* bias towards the interesting bytes: controls, C1, lead and continuation bytes */
            in[i] = (unsigned char)((seed >> 16) % 7 == 0 ? (seed >> 8) % 0x20 : seed >> 24);
        }
        once = dbt_escape_dup((const char *)in, n);
        assert_non_null(once);
        assert_false(dbt_escape_needed(once, strlen(once)));
        for (size_t i = 0; once[i] != '\0'; i++)
            assert_true((unsigned char)once[i] >= 0x20 && once[i] != 0x7f);
        twice = dbt_escape_dup(once, strlen(once));
        assert_non_null(twice);
        assert_string_equal(once, twice);
        assert_true(strlen(once) <= 4 * n);
        free(once);
        free(twice);
    }
}

static void test_cp_unsafe(void **state)
{
    static const uint32_t unsafe[] = {0,      0x1b,   0x1f,   0x7f,     0x80,      0x9b,
                                      0x9f,   0x2028, 0x2029, 0x202a,   0x202e,    0x2066,
                                      0x2069, 0xd800, 0xdfff, 0x110000, 0xffffffff};
    static const uint32_t safe[] = {0x20,   'A',    0x7e,   0xa0,   0xe9,    0x2027,
                                    0x202f, 0x2065, 0x206a, 0xfffd, 0x10ffff};

    (void)state;
    for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
        assert_true(dbt_escape_cp_unsafe(unsafe[i]));
    for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
        assert_false(dbt_escape_cp_unsafe(safe[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_random_idempotent),
        cmocka_unit_test(test_cp_unsafe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
