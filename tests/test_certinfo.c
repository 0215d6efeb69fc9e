/* Unit tests of lib/certinfo.c: every fact is checked against the openssl CLI for real
 * certificates, and against values fixed when the test PKI built its certificates. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "certinfo.h"
#include "testpki.h"

static void get(X509 *x, dbt_certinfo *ci)
{
    dbt_err err;

    if (dbt_certinfo_get(x, ci, &err) != 0)
        fail_msg("dbt_certinfo_get: %s", err.msg);
}

/* "AB:CD:.." as the CLI prints a fingerprint, to lowercase hex without colons. */
static void unhex_colons(const char *in, char *out)
{
    size_t o = 0;

    for (; *in != '\0' && *in != '\n'; in++)
        if (*in != ':')
            out[o++] = (char)tolower((unsigned char)*in);
    out[o] = '\0';
}

/* "2125-05-20 17:41:02Z" (openssl -dateopt iso_8601) to seconds since the epoch, via timegm. */
static int64_t iso_to_epoch(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    assert_int_equal(sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* What the openssl CLI says about one certificate. */
typedef struct cli_facts {
    char sha1[41], sha256[65], serial[140], subject[600], issuer[600];
    unsigned long subject_hash, issuer_hash;
    int64_t not_before, not_after;
} cli_facts;

static void chomp(char *s)
{
    s[strcspn(s, "\n")] = '\0';
}

static int run_openssl(const char *pem, const char *opts, char lines[][700], int max)
{
    char cmd[5000];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout %s 2>&1", pem, opts);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (n < max && fgets(lines[n], 700, p) != NULL) {
        chomp(lines[n]);
        n++;
    }
    assert_int_equal(pclose(p), 0);
    return n;
}

static void openssl_facts(const char *pem, cli_facts *f)
{
    char lines[8][700];
    int n;

    memset(f, 0, sizeof(*f));
    /* One bare hash per run: the two hashes print the same way and are told apart by run. */
    n = run_openssl(pem,
                    "-fingerprint -sha256 -serial -subject_hash -startdate -enddate -dateopt "
                    "iso_8601 -subject -issuer -nameopt RFC2253,-esc_msb",
                    lines, 8);
    for (int i = 0; i < n; i++) {
        if (strncmp(lines[i], "sha256 Fingerprint=", 19) == 0)
            unhex_colons(lines[i] + 19, f->sha256);
        else if (strncmp(lines[i], "serial=", 7) == 0)
            snprintf(f->serial, sizeof(f->serial), "%s", lines[i] + 7);
        else if (strncmp(lines[i], "notBefore=", 10) == 0)
            f->not_before = iso_to_epoch(lines[i] + 10);
        else if (strncmp(lines[i], "notAfter=", 9) == 0)
            f->not_after = iso_to_epoch(lines[i] + 9);
        else if (strncmp(lines[i], "subject=", 8) == 0)
            snprintf(f->subject, sizeof(f->subject), "%s", lines[i] + 8);
        else if (strncmp(lines[i], "issuer=", 7) == 0)
            snprintf(f->issuer, sizeof(f->issuer), "%s", lines[i] + 7);
        else if (strlen(lines[i]) == 8)
            f->subject_hash = strtoul(lines[i], NULL, 16);
    }
    n = run_openssl(pem, "-fingerprint -sha1 -issuer_hash", lines, 8);
    for (int i = 0; i < n; i++) {
        if (strncmp(lines[i], "sha1 Fingerprint=", 17) == 0)
            unhex_colons(lines[i] + 17, f->sha1);
        else if (strlen(lines[i]) == 8)
            f->issuer_hash = strtoul(lines[i], NULL, 16);
    }
    assert_int_equal(strlen(f->sha256), 64);
    assert_int_equal(strlen(f->sha1), 40);
}

static int have_openssl_cli(void)
{
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("SKIP: the openssl command is not installed (apt-get install openssl)\n");
        return 0;
    }
    return 1;
}

/* Facts of real certificates equal what `openssl x509` prints: fingerprints, serial (0 too),
 * subject_hash/issuer_hash (the hashed-directory names), dates up to 2125, names. */
static void test_realdata_vs_openssl_cli(void **state)
{
    static const char *files[] = {
        "aws-rds-global-bundle.pem",
        "gcp-cloudsql-server-ca.pem",
        "aiven-service-leaf-plus-project-ca.pem",
        "aws-rds-combined-ca-bundle-2015-era.pem",
        "aws-rds-govcloud-global-bundle-2022.pem",
        "Amazon_Root_CA_1.pem",
        "DigiCert_Global_Root_G2.pem",
    };
    char dir[4096], tmp[4200];
    int checked = 0;

    (void)state;
    if (!have_openssl_cli())
        skip();
    assert_int_equal(testpki_tmpdir(dir, sizeof(dir)), 0);
    snprintf(tmp, sizeof(tmp), "%s/one.pem", dir);
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[4096];
        dbt_bundle *b = NULL;
        dbt_err err;

        if (testpki_realdata(files[f], path, sizeof(path)) != 0)
            continue;
        if (dbt_bundle_read_file(path, NULL, &b, &err) != 0)
            fail_msg("%s", err.msg);
        for (size_t i = 0; i < b->n; i++) {
            dbt_certinfo ci;
            cli_facts want;
            FILE *fp;

            /* Two openssl runs per certificate: sample big bundles at both ends. */
            if (b->n > 8 && i >= 2 && i + 2 < b->n)
                continue;
            fp = fopen(tmp, "w");
            assert_non_null(fp);
            assert_int_equal(PEM_write_X509(fp, b->certs[i].x509), 1);
            assert_int_equal(fclose(fp), 0);
            get(b->certs[i].x509, &ci);
            openssl_facts(tmp, &want);
            assert_string_equal(ci.sha256, want.sha256);
            assert_string_equal(ci.sha1, want.sha1);
            assert_string_equal(ci.serial, want.serial);
            assert_int_equal(ci.subject_hash, want.subject_hash);
            assert_int_equal(ci.issuer_hash, want.issuer_hash);
            assert_int_equal(ci.not_before, want.not_before);
            assert_int_equal(ci.not_after, want.not_after);
            assert_string_equal(ci.subject, want.subject);
            assert_string_equal(ci.issuer, want.issuer);
            checked++;
        }
        dbt_bundle_free(b);
    }
    testpki_rmtree(dir);
    if (checked == 0)
        skip();
    printf("checked %d real certificates against openssl x509\n", checked);
}

/* Serial 0 (real Google Cloud SQL CAs) prints "00", as `openssl x509 -serial` does. */
static void test_realdata_gcp_serial_zero(void **state)
{
    char path[4096];
    dbt_bundle *b = NULL;
    dbt_certinfo ci;
    dbt_err err;

    (void)state;
    if (testpki_realdata("gcp-cloudsql-server-ca.pem", path, sizeof(path)) != 0)
        skip();
    assert_int_equal(dbt_bundle_read_file(path, NULL, &b, &err), 0);
    assert_int_equal(b->n, 2);
    for (size_t i = 0; i < b->n; i++) {
        get(b->certs[i].x509, &ci);
        assert_string_equal(ci.serial, "00");
        assert_string_equal(ci.subject_cn, "Google Cloud SQL Server CA");
        assert_true(ci.is_ca);
        assert_true(ci.self_signed);
    }
    dbt_bundle_free(b);
}

/* The newest AWS bundle: notAfter up to 2125 (GeneralizedTime), CN not the last RDN. */
static void test_realdata_aws_2125(void **state)
{
    char path[4096];
    dbt_bundle *b = NULL;
    dbt_certinfo ci;
    dbt_err err;
    int64_t latest = 0;
    int rsa2048 = 0, rsa4096 = 0, ec384 = 0;

    (void)state;
    if (testpki_realdata("aws-rds-global-bundle.pem", path, sizeof(path)) != 0)
        skip();
    assert_int_equal(dbt_bundle_read_file(path, NULL, &b, &err), 0);
    for (size_t i = 0; i < b->n; i++) {
        get(b->certs[i].x509, &ci);
        if (ci.not_after > latest)
            latest = ci.not_after;
        assert_true(ci.is_ca);
        assert_true(ci.self_signed);
        assert_int_equal(strncmp(ci.subject_cn, "Amazon RDS ", 11), 0);
        rsa2048 += strcmp(ci.key_type, "RSA") == 0 && ci.key_bits == 2048;
        rsa4096 += strcmp(ci.key_type, "RSA") == 0 && ci.key_bits == 4096;
        ec384 += strcmp(ci.key_type, "EC") == 0 && ci.key_bits == 384 &&
                 strcmp(ci.key_curve, "secp384r1") == 0;
    }
    /* SOURCES.md: latest notAfter 2125-05-20; key types RSA 2048 x36, RSA 4096 x36, P-384 x36. */
    assert_true(latest >= (int64_t)testpki_utc(2125, 5, 20));
    assert_true(latest < (int64_t)testpki_utc(2125, 5, 21));
    assert_int_equal(rsa2048, 36);
    assert_int_equal(rsa4096, 36);
    assert_int_equal(ec384, 36);
    dbt_bundle_free(b);
}

static void test_testpki_roots(void **state)
{
    testpki *pki = *state;
    dbt_certinfo ci;
    char sha[65];

    get(pki->root_rsa2048, &ci);
    assert_string_equal(ci.subject, "L=Seattle,CN=Amazon RDS test Root CA RSA2048 G1,ST=WA,"
                                    "OU=Amazon RDS,O=Amazon Web Services\\, Inc.,C=US");
    assert_string_equal(ci.issuer, ci.subject);
    assert_string_equal(ci.subject_cn, "Amazon RDS test Root CA RSA2048 G1");
    assert_string_equal(ci.key_type, "RSA");
    assert_int_equal(ci.key_bits, 2048);
    assert_string_equal(ci.key_curve, "");
    assert_string_equal(ci.sig_alg, "sha256WithRSAEncryption");
    assert_string_equal(ci.serial, "1001");
    assert_true(ci.is_ca);
    assert_true(ci.self_signed);
    assert_int_equal(ci.subject_hash, ci.issuer_hash);
    assert_int_equal(ci.not_before, (int64_t)testpki_utc(2021, 5, 25));
    assert_int_equal(ci.not_after, (int64_t)testpki_utc(2121, 5, 25));
    testpki_sha256_hex(pki->root_rsa2048, sha);
    assert_string_equal(ci.sha256, sha);

    get(pki->root_rsa4096, &ci);
    assert_string_equal(ci.key_type, "RSA");
    assert_int_equal(ci.key_bits, 4096);
    assert_string_equal(ci.sig_alg, "sha384WithRSAEncryption");

    get(pki->root_ec384, &ci);
    assert_string_equal(ci.key_type, "EC");
    assert_int_equal(ci.key_bits, 384);
    assert_string_equal(ci.key_curve, "secp384r1");
    assert_string_equal(ci.sig_alg, "ecdsa-with-SHA384");

    get(pki->expired_ca, &ci);
    assert_int_equal(ci.not_after, (int64_t)testpki_utc(2020, 3, 5));
    assert_true(ci.is_ca);
}

/* The intermediate and the leaf: issuer hash links to the root, CA and self-signed flags. */
static void test_testpki_chain(void **state)
{
    testpki *pki = *state;
    dbt_certinfo root, inter, leaf;

    get(pki->root_rsa2048, &root);
    get(pki->intermediate, &inter);
    get(pki->leaf, &leaf);
    assert_true(inter.is_ca);
    assert_false(inter.self_signed);
    assert_int_equal(inter.issuer_hash, root.subject_hash);
    assert_string_equal(inter.issuer, root.subject);
    assert_string_equal(inter.key_type, "EC");
    assert_string_equal(inter.key_curve, "prime256v1");
    assert_string_equal(inter.sig_alg, "sha256WithRSAEncryption");
    assert_false(leaf.is_ca);
    assert_false(leaf.self_signed);
    assert_int_equal(leaf.issuer_hash, inter.subject_hash);
    assert_string_equal(leaf.subject_cn, TESTPKI_LEAF_DNS);
    assert_string_equal(leaf.sig_alg, "ecdsa-with-SHA256");
    assert_int_equal(leaf.not_after, (int64_t)testpki_utc(2049, 1, 1));
}

static X509 *make_cert(EVP_PKEY *key, long serial, const EVP_MD *md, int ca)
{
    testpki_certspec spec = {
        "Amazon RDS test Other CA", key, NULL, NULL, serial, testpki_utc(2024, 1, 1),
        testpki_utc(2034, 1, 1),    ca,  -1,   NULL, md};
    X509 *x = testpki_cert_new(&spec);

    assert_non_null(x);
    return x;
}

static void test_key_types_ed25519_dsa(void **state)
{
    EVP_PKEY *ed = testpki_key("ed25519"), *dsa = testpki_key("dsa2048");
    X509 *xe, *xd;
    dbt_certinfo ci;

    (void)state;
    assert_non_null(ed);
    assert_non_null(dsa);
    xe = make_cert(ed, 7, NULL, 1);
    xd = make_cert(dsa, 8, EVP_sha256(), 1);
    get(xe, &ci);
    assert_string_equal(ci.key_type, "Ed25519");
    assert_int_equal(ci.key_bits, EVP_PKEY_get_bits(ed));
    assert_string_equal(ci.key_curve, "");
    assert_string_equal(ci.sig_alg, "ED25519");
    assert_true(ci.self_signed);
    get(xd, &ci);
    assert_string_equal(ci.key_type, "DSA");
    assert_int_equal(ci.key_bits, 2048);
    assert_string_equal(ci.sig_alg, "dsa_with_SHA256");
    assert_true(ci.self_signed);
    X509_free(xe);
    X509_free(xd);
    EVP_PKEY_free(ed);
    EVP_PKEY_free(dsa);
}

/* Serial numbers as `openssl x509 -serial` prints them: zero, small, high bit, negative. */
static void test_serials(void **state)
{
    testpki *pki = *state;
    static const struct {
        long serial;
        const char *want;
    } cases[] = {{0, "00"}, {10, "0A"}, {255, "FF"}, {0x10000, "010000"}, {-1, "-01"}};
    dbt_certinfo ci;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *x = make_cert(pki->leaf_key, cases[i].serial, EVP_sha256(), 1);

        get(x, &ci);
        assert_string_equal(ci.serial, cases[i].want);
        X509_free(x);
    }
}

/* Dates far from now: 9999-12-31 (largest GeneralizedTime) and 1950 (earliest UTCTime). */
static void test_dates_extremes(void **state)
{
    testpki *pki = *state;
    X509 *x = make_cert(pki->leaf_key, 3, EVP_sha256(), 1);
    ASN1_TIME *t = ASN1_TIME_new();
    dbt_certinfo ci;
    int64_t e;

    assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "99991231235959Z"), 1);
    assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "500101000000Z"), 1);
    assert_true(X509_sign(x, pki->leaf_key, EVP_sha256()) > 0);
    get(x, &ci);
    assert_int_equal(ci.not_after, INT64_C(253402300799));
    assert_int_equal(ci.not_before, INT64_C(-631152000));
    assert_int_equal(ASN1_TIME_set_string(t, "21250520174102Z"), 1);
    assert_int_equal(dbt_asn1_time_to_epoch(t, &e), 0);
    assert_int_equal(e, INT64_C(4903436462));
    assert_int_equal(dbt_asn1_time_to_epoch(NULL, &e), -1);
    ASN1_TIME_free(t);
    X509_free(x);
}

/* is_ca: CA:TRUE, or a v1 self-signed root; not a v3 self-signed cert without CA:TRUE. */
static void test_is_ca_v1_root(void **state)
{
    testpki *pki = *state;
    X509 *v1 = make_cert(pki->leaf_key, 5, EVP_sha256(), -1);
    X509 *nobc = make_cert(pki->leaf_key, 6, EVP_sha256(), -1);
    dbt_certinfo ci;

    while (X509_get_ext_count(v1) > 0)
        X509_EXTENSION_free(X509_delete_ext(v1, 0));
    assert_int_equal(X509_set_version(v1, X509_VERSION_1), 1);
    assert_true(X509_sign(v1, pki->leaf_key, EVP_sha256()) > 0);
    get(v1, &ci);
    assert_true(ci.is_ca);
    assert_true(ci.self_signed);
    get(nobc, &ci);
    assert_false(ci.is_ca);
    assert_true(ci.self_signed);
    X509_free(v1);
    X509_free(nobc);
}

/* A certificate whose signature does not verify is not self-signed, even if subject == issuer. */
static void test_bad_self_signature(void **state)
{
    testpki *pki = *state;
    X509 *x = X509_dup(pki->root_ec384);
    dbt_certinfo ci;

    assert_non_null(x);
    /* Re-signed with another key: names still match, the signature no longer verifies. */
    assert_true(X509_sign(x, pki->leaf_key, EVP_sha256()) > 0);
    get(x, &ci);
    assert_false(ci.self_signed);
    X509_free(x);
}

static void test_hex(void **state)
{
    static const unsigned char in[] = {0x00, 0xab, 0xff, 0x10};
    char out[16];

    (void)state;
    dbt_hex(in, sizeof(in), out);
    assert_string_equal(out, "00abff10");
    dbt_hex_colons(in, sizeof(in), out);
    assert_string_equal(out, "00:AB:FF:10");
    dbt_hex_colons(in, 0, out);
    assert_string_equal(out, "");
    dbt_hex(in, 0, out);
    assert_string_equal(out, "");
}

/* Names are shown escaped (lib/escape.h): controls in a valid value, C1 from a T61String, and a
 * value OpenSSL cannot print at all, which must not hide the name's other entries. */
static void test_name_line_escaped(void **state)
{
    X509_NAME *nm = X509_NAME_new();
    char out[512], small[24];

    (void)state;
    assert_non_null(nm);
    assert_true(X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8,
                                           (const unsigned char *)"Org\x1b[31m\r\n", -1, -1, 0));
    assert_true(X509_NAME_add_entry_by_txt(nm, "OU", V_ASN1_T61STRING,
                                           (const unsigned char *)"t61\x9b", -1, -1, 0));
    dbt_name_line(nm, out, sizeof(out));
    assert_string_equal(out, "OU=t61\\xc2\\x9b,O=Org\\x1b[31m\\x0d\\x0a");
    /* a UTF8String that is not UTF-8 (X509_NAME_print_ex refuses the whole name) */
    assert_true(X509_NAME_add_entry_by_txt(nm, "CN", V_ASN1_UTF8STRING,
                                           (const unsigned char *)"bad\xff,\xc0\x80", -1, -1, 0));
    dbt_name_line(nm, out, sizeof(out));
    assert_string_equal(out, "CN=bad\\xff\\,\\xc0\\x80,OU=t61\\xc2\\x9b,O=Org\\x1b[31m\\x0d\\x0a");
    /* cut to fit, never inside an escape */
    dbt_name_line(nm, small, sizeof(small));
    assert_string_equal(small, "CN=bad\\xff\\,\\xc0\\x80,OU");
    dbt_name_line(nm, small, 20);
    assert_string_equal(small, "CN=bad\\xff\\,\\xc0");
    X509_NAME_free(nm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realdata_vs_openssl_cli),
        cmocka_unit_test(test_realdata_gcp_serial_zero),
        cmocka_unit_test(test_realdata_aws_2125),
        cmocka_unit_test(test_testpki_roots),
        cmocka_unit_test(test_testpki_chain),
        cmocka_unit_test(test_key_types_ed25519_dsa),
        cmocka_unit_test(test_serials),
        cmocka_unit_test(test_dates_extremes),
        cmocka_unit_test(test_is_ca_v1_root),
        cmocka_unit_test(test_bad_self_signature),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_name_line_escaped),
    };

    return cmocka_run_group_tests(tests, testpki_group_setup, testpki_group_teardown);
}
