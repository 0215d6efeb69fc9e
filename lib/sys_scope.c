/* Which wired bundles widen the host's trust (lib/syswire.h dbt_sys_unscoped): an unscoped
 * bundle's CAs are trusted for every host name by every program that loads OpenSSL's default
 * paths, which matters only for CAs the system did not trust already, that is, those its own
 * bundle file (dbtrust's block, in bundle-file mode, left out) does not hold. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "sys_int.h"

/* Removes every dbtrust block (a start line at a line start, up to its end line, or to the end
 * of a block cut short) from data[0..*len): what is left is the system's own. One pass that
 * copies what it keeps down in place, so the work is linear in the file's length whatever it
 * holds (NUL bytes included). */
static void strip_blocks(char *data, size_t *len)
{
    const size_t bl = strlen(SYS_BLOCK_BEGIN), el = strlen(SYS_BLOCK_END);
    char *r = data, *w = data, *end = data + *len, *b, *e;

    while ((b = memmem(r, (size_t)(end - r), SYS_BLOCK_BEGIN, bl)) != NULL) {
        /* Bytes below r are either unchanged or were copied from the same place (w == r), so
         * b[-1] is the original file's byte. */
        int line_start = b == data || b[-1] == '\n';

        memmove(w, r, (size_t)(b - r));
        w += b - r;
        if (!line_start) {
            memmove(w, b, bl);
            w += bl;
            r = b + bl;
            continue;
        }
        e = memmem(b, (size_t)(end - b), SYS_BLOCK_END, el);
        r = e != NULL ? e + el : end;
    }
    memmove(w, r, (size_t)(end - r));
    w += end - r;
    *w = '\0';
    *len = (size_t)(w - data);
}

static int cmp_sha(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/*
 * The SHA-256 of every certificate of the bundle file, sorted (*out malloc'ed, *n of them). A
 * missing file holds none, as OpenSSL loads none from it. 0, or -1 (said why).
 */
static int system_digests(const sys_out *o, const char *file, unsigned char (**out)[32], size_t *n)
{
    STACK_OF(X509_INFO) *infos = NULL;
    char *data = NULL;
    size_t len = 0, k = 0;
    BIO *in = NULL;
    int r, i, rc = -1;

    *out = NULL;
    *n = 0;
    if (*file == '\0')
        return 0;
    if ((r = sys_read_bundle_file(o, file, &data, &len)) != 0)
        return r > 0 ? 0 : -1;
    strip_blocks(data, &len);
    /* The reader OpenSSL's default file lookup uses (X509_load_cert_crl_file). */
    if ((in = BIO_new_mem_buf(data, (int)len)) == NULL ||
        (infos = PEM_X509_INFO_read_bio(in, NULL, NULL, NULL)) == NULL) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "OpenSSL cannot parse the bundle file %s, so which CAs the system trusts "
                "already is unknown; regenerate it (update-ca-certificates)",
                file);
        goto end;
    }
    if ((*out = malloc(((size_t)sk_X509_INFO_num(infos) + 1) * 32)) == NULL) {
        sys_say(o, DBT_SYS_ERROR, 0, "out of memory reading %s", file);
        goto end;
    }
    for (i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509 *x = sk_X509_INFO_value(infos, i)->x509;
        unsigned int mdlen = 0;

        /* The certificate's own DER, trust settings of a TRUSTED CERTIFICATE left out, as the
         * catalog names it. */
        if (x != NULL && X509_digest(x, EVP_sha256(), (*out)[k], &mdlen) && mdlen == 32)
            k++;
    }
    qsort(*out, k, 32, cmp_sha);
    *n = k;
    rc = 0;
end:
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(in);
    free(data);
    return rc;
}

/* 32 bytes from 64 lowercase hex digits (the catalog's names); -1 when it is not that. */
static int unhex32(const char *hex, unsigned char out[32])
{
    int i;

    for (i = 0; i < 64; i++) {
        int c = hex[i], v = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                   : -1;

        if (v < 0)
            return -1;
        out[i / 2] = (unsigned char)(i % 2 ? (out[i / 2] << 4) | v : v);
    }
    return 0;
}

static int cmp_entry_name(const void *key, const void *e)
{
    return strcmp(key, ((const dbt_catalog_entry *)e)->name);
}

long dbt_sys_unscoped(dbt_catalog *cat, const char *file, dbt_sys_wide **out, dbt_sys_msg_fn *fn,
                      void *arg)
{
    const sys_out so = {fn, arg}, *o = &so;
    dbt_catalog_entry *entries = NULL;
    dbt_catalog_cert *certs = NULL;
    unsigned char(*sys)[32] = NULL, md[32];
    size_t nentries = 0, ncerts = 0, nsys = 0, i, k, *outside = NULL;
    long nwide = 0, rc = -1;
    dbt_err err;

    *out = NULL;
    if (dbt_catalog_list(cat, &entries, &nentries, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        return -1;
    }
    for (i = 0; i < nentries && entries[i].meta.scope[0] != '\0'; i++)
        ;
    if (i == nentries) {
        rc = 0; /* every bundle is scoped: nothing to read */
        goto end;
    }
    if (system_digests(o, file, &sys, &nsys) != 0)
        goto end;
    if (dbt_catalog_certs(cat, &certs, &ncerts, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        goto end;
    }
    if ((outside = calloc(nentries, sizeof(*outside))) == NULL ||
        (*out = calloc(nentries, sizeof(**out))) == NULL) {
        sys_say(o, DBT_SYS_ERROR, 0, "out of memory");
        goto end;
    }
    /* Each certificate the system does not hold counts against every bundle holding it. */
    for (i = 0; i < ncerts; i++) {
        /* bsearch takes no NULL array, even for 0 elements (a missing or empty file). */
        if (nsys > 0 && unhex32(certs[i].sha256, md) == 0 &&
            bsearch(md, sys, nsys, 32, cmp_sha) != NULL)
            continue;
        for (k = 0; k < certs[i].nbundles; k++) {
            dbt_catalog_entry *e =
                bsearch(certs[i].bundles[k], entries, nentries, sizeof(*entries), cmp_entry_name);

            if (e != NULL)
                outside[e - entries]++;
        }
    }
    for (i = 0; i < nentries; i++) {
        if (entries[i].meta.scope[0] != '\0' || outside[i] == 0)
            continue;
        memcpy((*out)[nwide].name, entries[i].name, sizeof(entries[i].name));
        (*out)[nwide].count = entries[i].meta.count;
        (*out)[nwide].outside = outside[i];
        nwide++;
    }
    rc = nwide;
end:
    if (rc <= 0) {
        free(*out);
        *out = NULL;
    }
    free(outside);
    free(sys);
    dbt_catalog_certs_free(certs, ncerts);
    free(entries);
    return rc;
}
