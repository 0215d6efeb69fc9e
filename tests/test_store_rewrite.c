/* Rewriting a Java truststore in place (lib/jks.h dbt_jks_rewrite, lib/p12.h dbt_p12_rewrite),
 * what the JVM truststore wiring builds on: kept entries byte for byte, dropped ones gone, new
 * ones listed as trusted certificates under their aliases, the integrity check redone with the
 * store's password, and truncated input refused. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "jks.h"
#include "p12.h"
#include "testpki.h"

/* A store of three trusted certificates; the last one is "ours-..." (what the callback drops). */
static dbt_bundle *three(const testpki *pki)
{
    X509 *x[3] = {pki->root_rsa2048, pki->root_ec384, pki->intermediate};
    const char *alias[3] = {"first", "second", "ours-dropme"};
    dbt_bundle *b = dbt_bundle_new("test");
    dbt_err err;
    int i;

    assert_non_null(b);
    for (i = 0; i < 3; i++) {
        X509_up_ref(x[i]);
        assert_int_equal(dbt_bundle_push(b, x[i], i + 1, 0, alias[i], &err), 0);
    }
    return b;
}

static int calls;

static int keep_all(void *arg, const char *alias, X509 *x)
{
    (void)arg, (void)alias, (void)x;
    calls++;
    return 1;
}

static int drop_ours(void *arg, const char *alias, X509 *x)
{
    (void)arg;
    assert_non_null(x);
    calls++;
    return strncmp(alias, "ours-", 5) != 0;
}

/* The aliases of a decoded store, joined with ','. */
static void aliases_of(const dbt_bundle *b, char *out, size_t n)
{
    size_t i, used = 0;

    out[0] = '\0';
    for (i = 0; i < b->n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? "," : "",
                                 b->certs[i].alias ? b->certs[i].alias : "?");
}

static void jks_keep_all_is_identity(void **state)
{
    const testpki *pki = *state;
    dbt_bundle *b = three(pki);
    unsigned char *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0;
    dbt_err err;

    assert_int_equal(dbt_jks_encode(b, "pw", &in, &inlen, &err), 0);
    calls = 0;
    assert_int_equal(dbt_jks_rewrite(in, inlen, "s.jks", "pw", keep_all, NULL, NULL, NULL, 0, &out,
                                     &outlen, &err),
                     0);
    assert_int_equal(calls, 3);
    /* Nothing dropped or added: the very same bytes, digest included. */
    assert_int_equal(outlen, inlen);
    assert_memory_equal(out, in, inlen);
    OPENSSL_free(in);
    OPENSSL_free(out);
    dbt_bundle_free(b);
}

static void jks_drop_and_add(void **state)
{
    const testpki *pki = *state;
    dbt_bundle *b = three(pki), *d = dbt_bundle_new("out");
    unsigned char *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0, head;
    X509 *add[1] = {pki->root_rsa4096};
    char *alias[1] = {"ours-new"}, names[256];
    dbt_bundle *two = dbt_bundle_new("two");
    unsigned char *in2 = NULL;
    size_t in2len = 0;
    dbt_err err;

    assert_int_equal(dbt_jks_encode(b, "pw", &in, &inlen, &err), 0);
    assert_int_equal(dbt_jks_rewrite(in, inlen, "s.jks", "pw", drop_ours, NULL, add, alias, 1, &out,
                                     &outlen, &err),
                     0);
    assert_int_equal(dbt_jks_decode(out, outlen, "pw", d, &err), 0);
    assert_int_equal(d->integrity, DBT_INTEGRITY_VERIFIED);
    aliases_of(d, names, sizeof(names));
    assert_string_equal(names, "first,second,ours-new");
    assert_int_equal(X509_cmp(d->certs[2].x509, pki->root_rsa4096), 0);
    /* The two kept entries are the input's own bytes: the same as a store of just them, past the
     * count (the first 12 bytes) and up to where the third entry starts. */
    X509_up_ref(pki->root_rsa2048);
    X509_up_ref(pki->root_ec384);
    assert_int_equal(dbt_bundle_push(two, pki->root_rsa2048, 1, 0, "first", &err), 0);
    assert_int_equal(dbt_bundle_push(two, pki->root_ec384, 2, 0, "second", &err), 0);
    assert_int_equal(dbt_jks_encode(two, "pw", &in2, &in2len, &err), 0);
    head = in2len - 20; /* without the digest */
    assert_memory_equal(out + 12, in + 12, head - 12);
    /* Another password does not open it: the digest was redone with "pw". */
    dbt_bundle_free(d);
    d = dbt_bundle_new("out");
    assert_int_equal(dbt_jks_decode(out, outlen, "other", d, &err), -1);
    assert_int_equal(err.code, DBT_E_INTEGRITY);
    OPENSSL_free(in);
    OPENSSL_free(in2);
    OPENSSL_free(out);
    dbt_bundle_free(two);
    dbt_bundle_free(d);
    dbt_bundle_free(b);
}

static void jks_truncated_refused(void **state)
{
    const testpki *pki = *state;
    dbt_bundle *b = three(pki);
    unsigned char *in = NULL, *out = NULL;
    size_t inlen = 0, outlen = 0, cut;
    dbt_err err;

    assert_int_equal(dbt_jks_encode(b, "pw", &in, &inlen, &err), 0);
    for (cut = 0; cut < inlen; cut += 97) {
        out = NULL;
        assert_int_equal(dbt_jks_rewrite(in, cut, "cut.jks", "pw", keep_all, NULL, NULL, NULL, 0,
                                         &out, &outlen, &err),
                         -1);
        assert_null(out);
        assert_non_null(strstr(err.msg, "cut.jks"));
    }
    OPENSSL_free(in);
    dbt_bundle_free(b);
}

static void p12_drop_and_add(void **state)
{
    const testpki *pki = *state;
    dbt_bundle *b = three(pki), *d = dbt_bundle_new("out");
    unsigned char *in = NULL, *out = NULL, *out2 = NULL;
    size_t inlen = 0, outlen = 0, out2len = 0;
    X509 *add[1] = {pki->root_rsa4096};
    char *alias[1] = {"ours-new"}, names[256];
    dbt_err err;

    assert_int_equal(dbt_p12_encode(b, "pw", &in, &inlen, &err), 0);
    calls = 0;
    assert_int_equal(dbt_p12_rewrite(in, inlen, "s.p12", "pw", drop_ours, NULL, add, alias, 1, &out,
                                     &outlen, &err),
                     0);
    assert_int_equal(calls, 3);
    assert_int_equal(dbt_p12_decode(out, outlen, "pw", d, &err), 0);
    assert_int_equal(d->integrity, DBT_INTEGRITY_VERIFIED);
    aliases_of(d, names, sizeof(names));
    assert_string_equal(names, "first,second,ours-new");
    assert_int_equal(d->certs[2].origin, DBT_ORIGIN_PLAIN); /* Java's trust attribute is set */
    assert_int_equal(X509_cmp(d->certs[2].x509, pki->root_rsa4096), 0);
    dbt_bundle_free(d);
    d = dbt_bundle_new("out");
    assert_int_equal(dbt_p12_decode(out, outlen, "other", d, &err), -1);
    /* Dropping the new entry again leaves the other two. */
    assert_int_equal(dbt_p12_rewrite(out, outlen, "s.p12", "pw", drop_ours, NULL, NULL, NULL, 0,
                                     &out2, &out2len, &err),
                     0);
    dbt_bundle_free(d);
    d = dbt_bundle_new("out2");
    assert_int_equal(dbt_p12_decode(out2, out2len, "pw", d, &err), 0);
    aliases_of(d, names, sizeof(names));
    assert_string_equal(names, "first,second");
    OPENSSL_free(in);
    OPENSSL_free(out);
    OPENSSL_free(out2);
    dbt_bundle_free(d);
    dbt_bundle_free(b);
}

static void p12_garbage_refused(void **state)
{
    unsigned char junk[64], *out = NULL;
    size_t outlen = 0;
    dbt_err err;

    (void)state;
    memset(junk, 0x30, sizeof(junk));
    assert_int_equal(dbt_p12_rewrite(junk, sizeof(junk), "junk.p12", "pw", keep_all, NULL, NULL,
                                     NULL, 0, &out, &outlen, &err),
                     -1);
    assert_null(out);
    assert_non_null(strstr(err.msg, "junk.p12"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jks_keep_all_is_identity), cmocka_unit_test(jks_drop_and_add),
        cmocka_unit_test(jks_truncated_refused),    cmocka_unit_test(p12_drop_and_add),
        cmocka_unit_test(p12_garbage_refused),
    };

    /* Entry dates fixed, so that two encodings of the same entries are the same bytes. */
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    return cmocka_run_group_tests(tests, testpki_group_setup, testpki_group_teardown);
}
