/* Unit tests of the format table (lib/format.c): its rows are consistent, every encoder's output
 * is recognised as its own row, and the man pages and the shell completion list exactly its
 * names (read from the source tree: $DBTRUST_SRCDIR, which make check exports). */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "format.h"
#include "testpki.h"

#define ALL_OUT (DBT_FMTF_OUT | DBT_FMTF_DIR)

/* A whole file of the source tree, NUL-terminated (freed with free()). */
static char *source_file(const char *rel)
{
    const char *src = getenv("DBTRUST_SRCDIR");
    char path[4096];
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;

    snprintf(path, sizeof(path), "%s/%s", src != NULL && *src != '\0' ? src : DBT_TOP_SRCDIR, rel);
    if (dbt_read_all(path, &data, &len, &err) != 0)
        fail_msg("%s", err.msg);
    return (char *)data;
}

/* The list dbt_format_names renders for flags, as one string. */
static const char *names(unsigned flags, dbt_format_field field, const char *sep, const char *last)
{
    static char buf[8][256];
    static int next;
    char *out = buf[next++ % 8];

    assert_true(dbt_format_names(flags, field, sep, last, out, sizeof(buf[0])) < sizeof(buf[0]));
    return out;
}

/* The words of roff text: "\-" is '-', other escapes and punctuation separate words, and the
 * glue of lists ("or", "and", "default") is not a word. Returns them space-separated. */
static void roff_words(const char *s, size_t len, char *out, size_t n)
{
    size_t used = 0;
    int inword = 0;

    for (size_t i = 0; i < len && used + 2 < n; i++) {
        char c = s[i];

        if (c == '\\' && i + 1 < len && s[i + 1] == '-') {
            c = '-';
            i++;
        } else if (c == '\\' && i + 2 < len && s[i + 1] == 'f') {
            i += 2; /* \fB, \fR, \fI */
            c = ' ';
        }
        if (islower((unsigned char)c) || isdigit((unsigned char)c) || (c == '-' && inword)) {
            out[used++] = c;
            inword = 1;
        } else if (inword) {
            out[used++] = ' ';
            inword = 0;
        }
    }
    while (used > 0 && out[used - 1] == ' ')
        used--;
    out[used] = '\0';
    /* Drop the glue words in place. */
    {
        char tmp[1024], *save = NULL;
        size_t t = 0;

        snprintf(tmp, sizeof(tmp), "%s", out);
        for (char *w = strtok_r(tmp, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
            if (strcmp(w, "or") == 0 || strcmp(w, "and") == 0 || strcmp(w, "default") == 0)
                continue;
            t += (size_t)snprintf(out + t, n - t, "%s%s", t > 0 ? " " : "", w);
        }
        out[t < n ? t : n - 1] = '\0';
    }
}

/* Lowercase, each run of other characters one '-', none at the ends: how the meta names of
 * catalogs written before the table were made from the display names. */
static void slug(const char *s, char *out, size_t n)
{
    size_t used = 0;

    for (; *s != '\0' && used + 1 < n; s++) {
        char c = (char)tolower((unsigned char)*s);

        if (isalnum((unsigned char)c))
            out[used++] = c;
        else if (used > 0 && out[used - 1] != '-')
            out[used++] = '-';
    }
    while (used > 0 && out[used - 1] == '-')
        used--;
    out[used] = '\0';
}

static void test_rows(void **state)
{
    (void)state;
    assert_int_equal(dbt_nformats, DBT_FMT_COUNT - 1);
    assert_null(dbt_format_get(DBT_FMT_UNKNOWN));
    assert_null(dbt_format_get(DBT_FMT_COUNT));
    assert_null(dbt_format_get((dbt_format)-1));
    for (size_t i = 0; i < dbt_nformats; i++) {
        const dbt_format_info *f = &dbt_formats[i];

        assert_ptr_equal(dbt_format_get(f->id), f);
        assert_non_null(f->name);
        assert_non_null(f->display);
        assert_non_null(f->ext);
        assert_true(f->flags != 0);
        /* What a row says it does, it has the function for. */
        assert_true(((f->flags & DBT_FMTF_IN) != 0) == (f->decode != NULL));
        assert_true(((f->flags & DBT_FMTF_OUT) != 0) == (f->encode != NULL));
        assert_true(((f->flags & DBT_FMTF_DIR) != 0) == (f->write_dir != NULL));
        assert_true((f->flags & DBT_FMTF_IN) != 0 || f->sniff == NULL);
        /* The wrappers read the same row. */
        assert_string_equal(dbt_format_name(f->id), f->display);
        if ((f->flags & DBT_FMTF_OUT) != 0) {
            assert_int_equal(dbt_outfmt_from_name(f->name), f->id);
            assert_string_equal(dbt_outfmt_name(f->id), f->name);
            assert_string_equal(dbt_outfmt_ext(f->id), f->ext);
        } else {
            assert_int_equal(dbt_outfmt_from_name(f->name), -1);
            assert_null(dbt_outfmt_name(f->id));
        }
    }
    assert_string_equal(dbt_format_name(DBT_FMT_UNKNOWN), "unknown");
    assert_string_equal(dbt_outfmt_names(), names(DBT_FMTF_OUT, DBT_FMT_FIELD_NAME, ", ", ", "));
}

static void test_names_and_aliases(void **state)
{
    (void)state;
    for (size_t i = 0; i < dbt_nformats; i++) {
        const dbt_format_info *f = &dbt_formats[i];
        char upper[64];

        assert_ptr_equal(dbt_format_by_name(f->name, f->flags, 0), f);
        assert_null(dbt_format_by_name(f->name, ~f->flags & 0xfu, DBT_FMT_MATCH_ALIASES));
        for (size_t k = 0; k < strlen(f->name) + 1 && k < sizeof(upper); k++)
            upper[k] = (char)toupper((unsigned char)f->name[k]);
        /* Names are exact by default, keytool's -storetype compares without case. */
        assert_null(dbt_format_by_name(upper, f->flags, DBT_FMT_MATCH_ALIASES));
        assert_ptr_equal(dbt_format_by_name(upper, f->flags, DBT_FMT_MATCH_NOCASE), f);
        for (size_t k = 0; f->aliases != NULL && f->aliases[k] != NULL; k++) {
            assert_ptr_equal(dbt_format_by_name(f->aliases[k], f->flags, DBT_FMT_MATCH_ALIASES), f);
            assert_null(dbt_format_by_name(f->aliases[k], f->flags, 0));
            if ((f->flags & DBT_FMTF_OUT) != 0)
                assert_int_equal(dbt_outfmt_from_name(f->aliases[k]), f->id);
        }
        /* No name or alias is another row's. */
        for (size_t j = 0; j < dbt_nformats; j++) {
            const dbt_format_info *g = &dbt_formats[j];

            if (g == f)
                continue;
            assert_string_not_equal(g->name, f->name);
            for (size_t k = 0; g->aliases != NULL && g->aliases[k] != NULL; k++)
                assert_string_not_equal(g->aliases[k], f->name);
        }
    }
    assert_ptr_equal(dbt_format_by_name("p12", ALL_OUT, DBT_FMT_MATCH_ALIASES),
                     dbt_format_get(DBT_FMT_PKCS12));
    assert_null(dbt_format_by_name(NULL, ALL_OUT, DBT_FMT_MATCH_ALIASES));
    assert_null(dbt_format_by_name("", ALL_OUT, DBT_FMT_MATCH_ALIASES));
}

static void test_meta_names(void **state)
{
    char key[32], want[32];

    (void)state;
    for (size_t i = 0; i < dbt_nformats; i++) {
        const dbt_format_info *f = &dbt_formats[i];

        /* Every format a bundle can come from records a name; outputs only record none. */
        assert_true(((f->flags & DBT_FMTF_IN) != 0) == (f->meta != NULL));
        if (f->meta == NULL)
            continue;
        /* The names existing catalogs hold: derived from the display name before the table. */
        slug(f->display, want, sizeof(want));
        assert_string_equal(f->meta, want);
        assert_true(strspn(f->meta, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(f->meta));
        assert_string_not_equal(f->meta, "mixed");
        assert_string_not_equal(f->meta, "unknown");
        dbt_format_key(f->id, key, sizeof(key));
        assert_string_equal(key, f->meta);
        for (size_t j = 0; j < i; j++)
            if (dbt_formats[j].meta != NULL)
                assert_string_not_equal(dbt_formats[j].meta, f->meta);
    }
    dbt_format_key(DBT_FMT_UNKNOWN, key, sizeof(key));
    assert_string_equal(key, "unknown");
    dbt_format_key(DBT_FMT_HASHED_DIR, key, sizeof(key));
    assert_string_equal(key, "unknown");
}

static void test_names_list(void **state)
{
    char small[8];

    (void)state;
    assert_string_equal(names(ALL_OUT, DBT_FMT_FIELD_NAME, ", ", " or "),
                        "pem, der, p7b, p7b-der, pkcs12, jks or hashed-dir");
    assert_string_equal(names(DBT_FMTF_KEYSTORE, DBT_FMT_FIELD_NAME, "|", "|"), "pkcs12|jks");
    assert_string_equal(names(DBT_FMTF_IN, DBT_FMT_FIELD_FAMILY, ", ", " or "),
                        "PEM, DER, PKCS#7, PKCS#12 or JKS");
    assert_string_equal(names(DBT_FMTF_IN, DBT_FMT_FIELD_META, " ", " "),
                        "pem der pkcs-7-pem pkcs-7-der pkcs-12 jks");
    /* Cut like snprintf, and the whole length returned. */
    assert_int_equal(dbt_format_names(DBT_FMTF_KEYSTORE, DBT_FMT_FIELD_NAME, ", ", " and ", small,
                                      sizeof(small)),
                     strlen("pkcs12 and jks"));
    assert_string_equal(small, "pkcs12 ");
    assert_int_equal(dbt_format_names(DBT_FMTF_KEYSTORE, DBT_FMT_FIELD_NAME, ",", ",", NULL, 0),
                     strlen("pkcs12,jks"));
}

/* Each encoder's output is recognised by content as its own row (a PKCS#7 PEM as PEM, which
 * the PEM decoder then reports as PKCS#7 (PEM)), and decodes back to the same format. */
static void test_sniff_each_output(void **state)
{
    EVP_PKEY *key = testpki_key("ec-p256");
    testpki_certspec spec = {"Format Test CA", key, NULL, NULL, 7, 0, 0, 1, -1, NULL, NULL};
    dbt_bundle *b = dbt_bundle_new("F");
    dbt_err err;
    X509 *x;

    (void)state;
    assert_non_null(key);
    spec.not_before = testpki_utc(2024, 1, 1);
    spec.not_after = testpki_utc(2124, 1, 1);
    spec.md = EVP_sha256();
    assert_non_null(x = testpki_cert_new(&spec));
    assert_int_equal(dbt_bundle_push(b, x, 1, 0, NULL, &err), 0);
    for (size_t i = 0; i < dbt_nformats; i++) {
        const dbt_format_info *f = &dbt_formats[i], *row = NULL;
        unsigned char *out = NULL;
        size_t len = 0, need = 0;
        dbt_bundle *back = NULL;

        if (f->encode == NULL)
            continue;
        assert_int_equal(dbt_encode(b, f->id, "pw", &out, &len, &err), 0);
        assert_int_equal(dbt_format_sniff(out, len, &row, &need), 1);
        assert_ptr_equal(row, dbt_format_get(f->id == DBT_FMT_P7_PEM ? DBT_FMT_PEM : f->id));
        /* Cut short, a DER form is reported truncated by its own row. */
        if (out[0] == 0x30) {
            assert_int_equal(dbt_format_sniff(out, len - 1, &row, &need), -1);
            assert_ptr_equal(row, dbt_format_get(f->id));
            assert_int_equal(need, len);
        }
        if (dbt_bundle_decode(out, len, "F", "pw", &back, &err) != 0)
            fail_msg("%s: %s", f->name, err.msg);
        assert_int_equal(back->format, f->id);
        assert_int_equal(back->n, 1);
        dbt_bundle_free(back);
        OPENSSL_free(out);
    }
    /* Text that starts like short-form DER (SEQUENCE of 40 bytes holding a SEQUENCE) but holds
     * a BEGIN line is PEM, not DER. */
    {
        static const unsigned char text[] = "0(0 comment\n-----BEGIN CERTIFICATE-----\nAAAA\n"
                                            "-----END CERTIFICATE-----\n";
        const dbt_format_info *row = NULL;
        size_t need = 0;

        assert_int_equal(dbt_format_sniff(text, sizeof(text) - 1, &row, &need), 1);
        assert_ptr_equal(row, dbt_format_get(DBT_FMT_PEM));
    }
    /* A DER certificate whose name holds a BEGIN line is DER: PEM is tried last. */
    {
        dbt_bundle *odd = dbt_bundle_new("odd");
        const dbt_format_info *row = NULL;
        unsigned char *out = NULL;
        size_t len = 0, need = 0;

        spec.cn = "-----BEGIN CERTIFICATE-----";
        assert_non_null(x = testpki_cert_new(&spec));
        assert_int_equal(dbt_bundle_push(odd, x, 1, 0, NULL, &err), 0);
        assert_int_equal(dbt_encode(odd, DBT_FMT_DER, NULL, &out, &len, &err), 0);
        assert_non_null(memmem(out, len, "-----BEGIN", 10));
        assert_int_equal(dbt_format_sniff(out, len, &row, &need), 1);
        assert_ptr_equal(row, dbt_format_get(DBT_FMT_DER));
        OPENSSL_free(out);
        dbt_bundle_free(odd);
    }
    dbt_bundle_free(b);
    EVP_PKEY_free(key);
}

/* The input families named when nothing is recognised are the table's. */
static void test_not_a_bundle_lists_inputs(void **state)
{
    static const unsigned char junk[] = "hello, world\n";
    char want[256];
    dbt_bundle *b = NULL;
    dbt_err err;

    (void)state;
    snprintf(want, sizeof(want), "(expected %s)",
             names(DBT_FMTF_IN, DBT_FMT_FIELD_FAMILY, ", ", " or "));
    assert_int_equal(dbt_bundle_decode(junk, sizeof(junk) - 1, "J", NULL, &b, &err), -1);
    if (strstr(err.msg, want) == NULL)
        fail_msg("'%s' does not say %s", err.msg, want);
}

/* The text of doc/dbtrust.1 from the line starting with start to the next ".SH". */
static char *man_section(char *man, const char *start)
{
    char *s = strstr(man, start), *end;

    if (s == NULL)
        fail_msg("doc/dbtrust.1 has no '%s'", start);
    s += strlen(start);
    if ((end = strstr(s, "\n.SH ")) != NULL)
        *end = '\0';
    return s;
}

static void test_man_output_formats(void **state)
{
    char *man = source_file("doc/dbtrust.1"), *sec, *p, got[1024] = "", words[256];
    const char *want = names(ALL_OUT, DBT_FMT_FIELD_NAME, " ", " ");

    (void)state;
    /* The options that take a FORMAT list every output. */
    static const char *const opts[] = {".BR \\-t \", \" \\-\\-to \" \\fIFORMAT\\fR\"\n",
                                       ".BR \\-f \", \" \\-\\-format \" \\fIFORMAT\\fR\"\n"};
    for (size_t i = 0; i < 2; i++) {
        char *o = strstr(man, opts[i]), *eol;

        if (o == NULL)
            fail_msg("doc/dbtrust.1 has no %s", opts[i]);
        o += strlen(opts[i]);
        eol = strchr(o, '\n');
        roff_words(o, (size_t)(eol - o), words, sizeof(words));
        if (strcmp(words, want) != 0)
            fail_msg("doc/dbtrust.1 %s lists '%s', the table '%s'", opts[i], words, want);
    }
    /* OUTPUT FORMATS: one .TP tag line per format (p7b and p7b-der share one). */
    sec = man_section(man, "\n.SH OUTPUT FORMATS\n");
    for (p = sec; (p = strstr(p, ".TP\n")) != NULL;) {
        char *tag = p + 4, *eol = strchr(tag, '\n');

        roff_words(tag, eol != NULL ? (size_t)(eol - tag) : strlen(tag), words, sizeof(words));
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", got[0] ? " " : "", words);
        p = tag;
    }
    if (strcmp(got, want) != 0)
        fail_msg("doc/dbtrust.1 OUTPUT FORMATS lists '%s', the table '%s'", got, want);
    /* Each alias is named where its format is described. */
    for (size_t i = 0; i < dbt_nformats; i++) {
        const dbt_format_info *f = &dbt_formats[i];

        for (size_t k = 0; f->aliases != NULL && f->aliases[k] != NULL; k++) {
            char b1[64], b2[64];

            snprintf(b1, sizeof(b1), "\n.B %s\n", f->aliases[k]);
            snprintf(b2, sizeof(b2), "\n.BR %s ", f->aliases[k]);
            if (strstr(sec, b1) == NULL && strstr(sec, b2) == NULL)
                fail_msg("doc/dbtrust.1 OUTPUT FORMATS does not name %s's alias %s", f->name,
                         f->aliases[k]);
        }
    }
    free(man);
}

/* The meta names verify accepts, as dbtrust(1) lists them, and the examples of
 * dbtrust-catalog(5), are the table's (plus "unknown" and "mixed"). */
static void test_man_meta_names(void **state)
{
    char *man = source_file("doc/dbtrust.1"), *cat = source_file("doc/dbtrust-catalog.5");
    char want[256], words[256], one[64], *p, *end;

    (void)state;
    snprintf(want, sizeof(want), " %s unknown mixed ",
             names(DBT_FMTF_IN, DBT_FMT_FIELD_META, " ", " "));
    if ((p = strstr(man, "a format name a writer\nrecords\n")) == NULL ||
        (end = strstr(p, ");")) == NULL)
        fail_msg("doc/dbtrust.1: the meta format list of verify is not found");
    p += strlen("a format name a writer\nrecords\n");
    roff_words(p, (size_t)(end - p), words + 1, sizeof(words) - 2);
    words[0] = ' ';
    strcat(words, " ");
    if (strcmp(words, want) != 0)
        fail_msg("doc/dbtrust.1 lists the meta formats '%s', the table '%s'", words, want);

    if ((p = strstr(cat, "(the input format, such as\n")) == NULL ||
        (end = strstr(p, "for inputs of several formats")) == NULL)
        fail_msg("doc/dbtrust-catalog.5: the format key's text is not found");
    p += strlen("(the input format, such as\n");
    roff_words(p, (size_t)(end - p), words, sizeof(words));
    {
        char *save = NULL;

        for (char *w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
            if (snprintf(one, sizeof(one), " %s ", w) > 0 && strstr(want, one) == NULL)
                fail_msg("doc/dbtrust-catalog.5 says format=%s, which no writer records", w);
    }
    free(man);
    free(cat);
}

/* The value of a shell line `KEY...="VALUE"` after the first occurrence of key. */
static void shell_value(const char *text, const char *key, char *out, size_t n)
{
    const char *p = strstr(text, key), *q = NULL, *e = NULL;

    if (p != NULL && (q = strchr(p + strlen(key), '"')) != NULL)
        e = strchr(q + 1, '"');
    if (q == NULL || e == NULL) {
        fail_msg("completion/dbtrust has no %s\"...\"", key);
        return;
    }
    snprintf(out, n, "%.*s", (int)(e - q - 1), q + 1);
}

static void test_completion_lists(void **state)
{
    char *comp = source_file("completion/dbtrust"), got[256];

    (void)state;
    shell_value(comp, "local formats=", got, sizeof(got));
    assert_string_equal(got, names(ALL_OUT, DBT_FMT_FIELD_NAME, " ", " "));
    shell_value(comp, "-storetype) _dbtrust_words ", got, sizeof(got));
    assert_string_equal(got, names(DBT_FMTF_KEYSTORE, DBT_FMT_FIELD_NAME, " ", " "));
    free(comp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_names_and_aliases),
        cmocka_unit_test(test_meta_names),
        cmocka_unit_test(test_names_list),
        cmocka_unit_test(test_sniff_each_output),
        cmocka_unit_test(test_not_a_bundle_lists_inputs),
        cmocka_unit_test(test_man_output_formats),
        cmocka_unit_test(test_man_meta_names),
        cmocka_unit_test(test_completion_lists),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
