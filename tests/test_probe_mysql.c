/* Unit tests of cli/probe_mysql.c: a real MariaDB greeting, every truncation of it, error
 * packets, wrong protocol versions, oversized and empty packets, hostile version strings, and
 * the SSL request built in answer. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_mysql.h"

/* What MariaDB 10.11.19 (Debian 12) sent, header included: protocol 10, version
 * "5.5.5-10.11.19-MariaDB-0+deb12u1", capabilities 0x81ff_f7fe | ..., charset 8. */
static const unsigned char mariadb_greeting[] =
    "\x64\x00\x00\x00\x0a\x35\x2e\x35\x2e\x35\x2d\x31\x30\x2e\x31\x31\x2e\x31\x39\x2d\x4d\x61"
    "\x72\x69\x61\x44\x42\x2d\x30\x2b\x64\x65\x62\x31\x32\x75\x31\x00\x09\x00\x00\x00\x61\x3d"
    "\x4d\x48\x63\x3c\x3f\x66\x00\xfe\xff\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d"
    "\x00\x00\x00\x64\x44\x66\x54\x53\x23\x54\x5f\x5e\x3b\x4a\x43\x00\x6d\x79\x73\x71\x6c\x5f"
    "\x6e\x61\x74\x69\x76\x65\x5f\x70\x61\x73\x73\x77\x6f\x72\x64\x00";
#define GREETING_LEN (sizeof(mariadb_greeting) - 1)

static void test_real_greeting(void **state)
{
    struct probe_mysql_greeting g;
    size_t len;
    unsigned seq;
    char why[512];

    (void)state;
    assert_int_equal(cli_probe_mysql_header(mariadb_greeting, &len, &seq, why, sizeof(why)), 0);
    assert_int_equal(len, GREETING_LEN - 4);
    assert_int_equal(seq, 0);
    g.seq = seq;
    assert_int_equal(cli_probe_mysql_greeting(mariadb_greeting + 4, len, &g, why, sizeof(why)),
                     PROBE_MYSQL_OK);
    assert_int_equal(g.protocol, 10);
    assert_string_equal(g.version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
    assert_true(g.caps & PROBE_MYSQL_CLIENT_SSL);
    assert_true(g.caps & PROBE_MYSQL_CLIENT_PROTOCOL_41);
    assert_int_equal(g.caps >> 16, 0x81ff);
    assert_int_equal(g.charset, 8);
}

/* Every prefix of the greeting is refused or parsed within its bounds; none reads past it (the
 * prefix is copied to a heap block of exactly that size, so ASan sees any overread). */
static void test_every_truncation(void **state)
{
    const unsigned char *payload = mariadb_greeting + 4;
    size_t full = GREETING_LEN - 4, n;
    /* protocol, version and its NUL, thread id, salt, filler, capability flags */
    size_t caps_end = 1 + strlen("5.5.5-10.11.19-MariaDB-0+deb12u1") + 1 + 4 + 8 + 1 + 2;

    (void)state;
    for (n = 0; n <= full; n++) {
        struct probe_mysql_greeting g = {0};
        unsigned char *copy = malloc(n ? n : 1);
        char why[512] = "";
        enum probe_mysql_result r;

        assert_non_null(copy);
        memcpy(copy, payload, n);
        r = cli_probe_mysql_greeting(copy, n, &g, why, sizeof(why));
        if (n < caps_end) {
            assert_int_equal(r, PROBE_MYSQL_BAD);
            assert_true(why[0] != '\0');
        } else {
            assert_int_equal(r, PROBE_MYSQL_OK);
            assert_true(g.caps & PROBE_MYSQL_CLIENT_SSL);
        }
        free(copy);
    }
}

static void test_header_caps(void **state)
{
    static const unsigned char empty[4] = {0, 0, 0, 0};
    static const unsigned char huge[4] = {0xff, 0xff, 0xff, 0};
    static const unsigned char justover[4] = {(PROBE_MYSQL_MAX_GREETING + 1) & 0xff,
                                              (PROBE_MYSQL_MAX_GREETING + 1) >> 8, 0, 0};
    static const unsigned char atcap[4] = {PROBE_MYSQL_MAX_GREETING & 0xff,
                                           PROBE_MYSQL_MAX_GREETING >> 8, 0, 7};
    /* "HTTP" read as a header: 0x545448 bytes announced, far over the cap */
    static const unsigned char http[4] = {'H', 'T', 'T', 'P'};
    size_t len;
    unsigned seq;
    char why[512];

    (void)state;
    assert_int_equal(cli_probe_mysql_header(empty, &len, &seq, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "empty"));
    assert_int_equal(cli_probe_mysql_header(huge, &len, &seq, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "16777215 bytes"));
    assert_int_equal(cli_probe_mysql_header(justover, &len, &seq, why, sizeof(why)), -1);
    assert_int_equal(cli_probe_mysql_header(http, &len, &seq, why, sizeof(why)), -1);
    assert_int_equal(cli_probe_mysql_header(atcap, &len, &seq, why, sizeof(why)), 0);
    assert_int_equal(len, PROBE_MYSQL_MAX_GREETING);
    assert_int_equal(seq, 7);
}

static void test_error_packet(void **state)
{
    /* ER_HOST_IS_BLOCKED as MariaDB sends it before any greeting, with an ESC and a newline a
     * hostile server could put in the text. */
    static const unsigned char blocked[] = "\xff\x69\x04Host '10.0.0.9' is blocked\x1b[2J\n";
    static const unsigned char with_state[] = "\xff\x10\x04#08004Too many connections";
    static const unsigned char shortpkt[] = "\xff\x10";
    struct probe_mysql_greeting g;
    char why[512];

    (void)state;
    assert_int_equal(cli_probe_mysql_greeting(blocked, sizeof(blocked) - 1, &g, why, sizeof(why)),
                     PROBE_MYSQL_ERROR);
    assert_non_null(strstr(why, "error 1129"));
    assert_non_null(strstr(why, "blocked\\x1b[2J\\x0a"));
    assert_null(strchr(why, '\x1b'));
    assert_int_equal(
        cli_probe_mysql_greeting(with_state, sizeof(with_state) - 1, &g, why, sizeof(why)),
        PROBE_MYSQL_ERROR);
    assert_non_null(strstr(why, "error 1040: Too many connections"));
    assert_int_equal(cli_probe_mysql_greeting(shortpkt, sizeof(shortpkt) - 1, &g, why, sizeof(why)),
                     PROBE_MYSQL_BAD);
}

static void test_not_mysql(void **state)
{
    static const unsigned char v9[] = "\x09"
                                      "3.21\0abcd";
    static const unsigned char nonul[] = "\x0a"
                                         "8.0.36 and never a NUL";
    struct probe_mysql_greeting g;
    char why[512];

    (void)state;
    assert_int_equal(cli_probe_mysql_greeting(v9, sizeof(v9) - 1, &g, why, sizeof(why)),
                     PROBE_MYSQL_BAD);
    assert_non_null(strstr(why, "protocol version 9"));
    assert_int_equal(cli_probe_mysql_greeting(nonul, sizeof(nonul) - 1, &g, why, sizeof(why)),
                     PROBE_MYSQL_BAD);
    assert_non_null(strstr(why, "server version"));
    assert_int_equal(cli_probe_mysql_greeting(nonul, 0, &g, why, sizeof(why)), PROBE_MYSQL_BAD);
}

/* A version string of control bytes and invalid UTF-8 is escaped; one longer than the field
 * is cut; a greeting longer than the cap is looked at only up to the cap. */
static void test_hostile_version(void **state)
{
    unsigned char *p = calloc(1, PROBE_MYSQL_MAX_GREETING + 100);
    struct probe_mysql_greeting g;
    char why[512];
    size_t i;

    (void)state;
    assert_non_null(p);
    p[0] = 10;
    memcpy(p + 1, "8.0\x1b]0;pwn\x07\xff", 12);
    /* p[13] is the NUL; then thread id, salt, filler, caps 0x0800 (SSL only) */
    p[13 + 1 + 4 + 8 + 1] = 0x00;
    p[13 + 1 + 4 + 8 + 2] = 0x08;
    assert_int_equal(cli_probe_mysql_greeting(p, 13 + 1 + 4 + 8 + 1 + 2, &g, why, sizeof(why)),
                     PROBE_MYSQL_OK);
    assert_string_equal(g.version, "8.0\\x1b]0;pwn\\x07\\xff");
    assert_int_equal(g.caps, PROBE_MYSQL_CLIENT_SSL);
    assert_int_equal(g.charset, 0);

    /* No NUL within the cap: refused, although a NUL follows past it. */
    memset(p, 0, PROBE_MYSQL_MAX_GREETING + 100);
    p[0] = 10;
    for (i = 1; i < PROBE_MYSQL_MAX_GREETING; i++)
        p[i] = 'A';
    assert_int_equal(
        cli_probe_mysql_greeting(p, PROBE_MYSQL_MAX_GREETING + 100, &g, why, sizeof(why)),
        PROBE_MYSQL_BAD);
    /* A long version with the rest of the greeting: the version is cut to its field. */
    p[200] = '\0';
    assert_int_equal(cli_probe_mysql_greeting(p, 200 + 1 + 4 + 8 + 1 + 2, &g, why, sizeof(why)),
                     PROBE_MYSQL_OK);
    assert_true(strlen(g.version) < sizeof(g.version));
    assert_true(strlen(g.version) > 100);
    free(p);
}

static void test_sslrequest(void **state)
{
    struct probe_mysql_greeting g = {0};
    unsigned char req[PROBE_MYSQL_SSLREQ_LEN];
    uint32_t caps;
    size_t i;

    (void)state;
    g.seq = 0;
    g.charset = 8;
    cli_probe_mysql_sslrequest(&g, req);
    assert_int_equal(req[0] | req[1] << 8 | req[2] << 16, 32);
    assert_int_equal(req[3], 1); /* the greeting's sequence id + 1 */
    caps =
        (uint32_t)req[4] | (uint32_t)req[5] << 8 | (uint32_t)req[6] << 16 | (uint32_t)req[7] << 24;
    assert_true(caps & PROBE_MYSQL_CLIENT_SSL);
    assert_true(caps & PROBE_MYSQL_CLIENT_PROTOCOL_41);
    assert_int_equal(req[12], 8);
    for (i = 13; i < sizeof(req); i++)
        assert_int_equal(req[i], 0);
    g.seq = 255; /* the sequence id wraps */
    g.charset = 0;
    cli_probe_mysql_sslrequest(&g, req);
    assert_int_equal(req[3], 0);
    assert_int_equal(req[12], 33);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_greeting), cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_header_caps),   cmocka_unit_test(test_error_packet),
        cmocka_unit_test(test_not_mysql),     cmocka_unit_test(test_hostile_version),
        cmocka_unit_test(test_sslrequest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
