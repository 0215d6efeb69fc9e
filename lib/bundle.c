/* Bundles: reading an input (bounded), recognising its format by content (lib/format.c) and
 * dispatching to the PEM, DER, PKCS#7, PKCS#12 and JKS decoders, which all append to one
 * dbt_bundle. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "bundle.h"

/* The families of the input formats; tests/test_format.c checks them against the table. */
#define NOT_A_BUNDLE "not a certificate bundle (expected PEM, DER, PKCS#7, PKCS#12 or JKS)"

dbt_bundle *dbt_bundle_new(const char *source)
{
    dbt_bundle *b = calloc(1, sizeof(*b));

    if (b == NULL)
        return NULL;
    b->source = strdup(source != NULL ? source : "<input>");
    if (b->source == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

void dbt_bundle_free(dbt_bundle *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        X509_free(b->certs[i].x509);
        free(b->certs[i].alias);
    }
    free(b->certs);
    free(b->source);
    free(b->key_alias);
    free(b);
}

int dbt_bundle_push(dbt_bundle *b, X509 *x, int block, int line, const char *alias, dbt_err *err)
{
    char *a = NULL;

    if (b->n >= DBT_MAX_CERTS) {
        dbt_err_set(err, "%s: more than %u certificates: split the bundle into smaller files",
                    b->source, DBT_MAX_CERTS);
        return -1;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap == 0 ? 16 : b->cap * 2;
        dbt_cert *c = realloc(b->certs, cap * sizeof(*c));

        if (c == NULL) {
            dbt_err_set(err, "%s: out of memory", b->source);
            return -1;
        }
        b->certs = c;
        b->cap = cap;
    }
    if (alias != NULL && (a = strdup(alias)) == NULL) {
        dbt_err_set(err, "%s: out of memory", b->source);
        return -1;
    }
    b->certs[b->n].x509 = x;
    b->certs[b->n].block = block;
    b->certs[b->n].line = line;
    b->certs[b->n].alias = a;
    b->certs[b->n].origin = DBT_ORIGIN_PLAIN;
    b->certs[b->n].chain_pos = 0;
    b->n++;
    return 0;
}

int dbt_bundle_check_source(const dbt_bundle *b, int jks_out, dbt_err *err)
{
    size_t i;

    if ((b->format == DBT_FMT_PKCS12 || b->format == DBT_FMT_JKS) &&
        b->integrity != DBT_INTEGRITY_VERIFIED) {
        dbt_err_set(err,
                    "%s: the integrity of this keystore was not verified with its password (%s), "
                    "so nothing shows that its certificates are the ones that were put there; "
                    "nothing is written from it: give its password (",
                    b->source,
                    b->integrity == DBT_INTEGRITY_NONE ? "it has no integrity MAC"
                                                       : "it was read without its password");
        dbt_err_hint(err, DBT_HINT_PASSWORD);
        dbt_err_more(err, ")");
        return -1;
    }
    for (i = 0; i < b->n; i++) {
        const dbt_cert *c = &b->certs[i];

        if (c->origin == DBT_ORIGIN_KEY_CHAIN) {
            char where[64] = "a certificate";

            if (c->chain_pos >= 1 && c->chain_pos <= 1000)
                snprintf(where, sizeof(where), "certificate %d", c->chain_pos);
            dbt_err_set(err,
                        "%s: entry %d is %s of the chain of the private key entry "
                        "\"%s\", not a trusted certificate entry: Java does not trust it as an "
                        "anchor, so it is not written as one; take the CA certificates you trust "
                        "from their own source (keytool -exportcert shows a key entry's "
                        "certificate)",
                        b->source, c->block, where, c->alias != NULL ? c->alias : "(no alias)");
            return -1;
        }
        if (c->origin == DBT_ORIGIN_P12_NOTRUST && jks_out) {
            dbt_err_set(err,
                        "%s: PKCS#12 bag %d%s%s%s has no Java trusted key usage attribute, so Java "
                        "does not trust it, and a JKS keystore cannot hold a certificate that is "
                        "not trusted; write pkcs12 (which keeps it as it is) or pem instead",
                        b->source, c->block, c->alias != NULL ? " (alias \"" : "",
                        c->alias != NULL ? c->alias : "", c->alias != NULL ? "\")" : "");
            return -1;
        }
    }
    return 0;
}

const char *dbt_format_name(dbt_format f)
{
    const dbt_format_info *row = dbt_format_get(f);

    return row != NULL ? row->display : "unknown";
}

void dbt_format_key(dbt_format f, char *out, size_t n)
{
    const dbt_format_info *row = dbt_format_get(f);

    if (n > 0)
        snprintf(out, n, "%s", row != NULL && row->meta != NULL ? row->meta : "unknown");
}

void dbt_ossl_reason(char *buf, size_t n)
{
    const char *data = NULL, *reason;
    char where[256] = "";
    unsigned long e, first = 0;
    int flags = 0;

    /* ASN.1 decoders queue the precise cause first, then one "nested asn1 error" per level
     * whose data names the field ("Field=serialNumber, Type=X509_CINF"): keep the innermost. */
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if (first == 0)
            first = e;
        if (where[0] == '\0' && (flags & ERR_TXT_STRING) != 0 && data != NULL &&
            strstr(data, "Field=") != NULL)
            snprintf(where, sizeof(where), " (%s)", data);
    }
    reason = first != 0 ? ERR_reason_error_string(first) : NULL;
    snprintf(buf, n, "%s%s", reason != NULL ? reason : "unknown OpenSSL error", where);
}

int dbt_der_decode(const unsigned char *data, size_t len, const char *password, dbt_bundle *b,
                   dbt_err *err)
{
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)len);

    (void)password;
    if (x == NULL) {
        char why[300];

        dbt_ossl_reason(why, sizeof(why));
        dbt_err_set(err, "%s: DER input is not a certificate: %s", b->source, why);
        return -1;
    }
    if ((size_t)(p - data) != len) {
        dbt_err_set(err,
                    "%s: DER certificate is followed by %zu trailing bytes (from byte %zu): "
                    "remove them, or convert several certificates to PEM or PKCS#7 instead of "
                    "concatenating DER",
                    b->source, len - (size_t)(p - data), (size_t)(p - data));
        X509_free(x);
        return -1;
    }
    if (dbt_bundle_push(b, x, 1, 0, NULL, err) != 0) {
        X509_free(x);
        return -1;
    }
    return 0;
}

int dbt_bundle_decode(const unsigned char *data, size_t len, const char *source,
                      const char *password, dbt_bundle **out, dbt_err *err)
{
    dbt_bundle *b = dbt_bundle_new(source);
    const dbt_format_info *row = NULL;
    size_t need = 0;
    int ret = -1;

    *out = NULL;
    if (b == NULL) {
        dbt_err_set(err, "%s: out of memory", source != NULL ? source : "<input>");
        return -1;
    }
    if (len == 0) {
        dbt_err_set(err, "%s: empty input: " NOT_A_BUNDLE, b->source);
        goto end;
    }
    if (len > DBT_MAX_INPUT) {
        dbt_err_set(err, "%s: input is larger than %u MiB: " NOT_A_BUNDLE, b->source,
                    DBT_MAX_INPUT / (1024u * 1024u));
        goto end;
    }
    switch (dbt_format_sniff(data, len, &row, &need)) {
    case -1:
        dbt_err_set(err,
                    "%s: DER input is truncated: its outer structure needs %zu bytes, the "
                    "input has %zu: download or copy the file again",
                    b->source, need, len);
        goto end;
    case 0:
        dbt_err_set(err, "%s: " NOT_A_BUNDLE, b->source);
        goto end;
    }
    /* The PEM decoder refines this (PKCS7 blocks only: PKCS#7 PEM). */
    b->format = row->id;
    if (row->decode(data, len, password, b, err) != 0)
        goto end;
    if (b->n == 0) {
        dbt_err_set(err, "%s: the %s input holds no certificates", b->source,
                    dbt_format_name(b->format));
        goto end;
    }
    *out = b;
    b = NULL;
    ret = 0;
end:
    dbt_bundle_free(b);
    return ret;
}

int dbt_read_all(const char *path, unsigned char **data, size_t *len, dbt_err *err)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    unsigned char *buf = NULL;
    size_t cap = 0, used = 0;
    struct stat st;
    int fd, ret = -1;

    *data = NULL;
    *len = 0;
    if (strcmp(path, "-") == 0) {
        fd = STDIN_FILENO;
    } else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        dbt_err_sys(err, "%s: cannot open", name);
        return -1;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        dbt_err_set(err, "%s: is a directory, not a certificate bundle file", name);
        goto end;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > DBT_MAX_INPUT) {
        dbt_err_set(err, "%s: file is larger than %u MiB (%jd bytes): not a certificate bundle",
                    name, DBT_MAX_INPUT / (1024u * 1024u), (intmax_t)st.st_size);
        goto end;
    }
    for (;;) {
        ssize_t r;

        if (used == cap) {
            size_t ncap = cap == 0 ? 65536 : cap * 2;
            unsigned char *nbuf;

            /* One byte more than the limit tells "exactly the limit" from "too large". */
            if (ncap > (size_t)DBT_MAX_INPUT + 1)
                ncap = (size_t)DBT_MAX_INPUT + 1;
            if (ncap <= used) {
                dbt_err_set(err, "%s: input is larger than %u MiB: not a certificate bundle", name,
                            DBT_MAX_INPUT / (1024u * 1024u));
                goto end;
            }
            /* The extra byte keeps the buffer NUL-terminated for callers that want a string. */
            if ((nbuf = realloc(buf, ncap + 1)) == NULL) {
                dbt_err_set(err, "%s: out of memory reading the input", name);
                goto end;
            }
            buf = nbuf;
            cap = ncap;
        }
        r = read(fd, buf + used, cap - used);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            dbt_err_sys(err, "%s: read error", name);
            goto end;
        }
        if (r == 0)
            break;
        used += (size_t)r;
    }
    if (used > DBT_MAX_INPUT) {
        dbt_err_set(err, "%s: input is larger than %u MiB: not a certificate bundle", name,
                    DBT_MAX_INPUT / (1024u * 1024u));
        goto end;
    }
    if (buf == NULL && (buf = malloc(1)) == NULL) {
        dbt_err_set(err, "%s: out of memory reading the input", name);
        goto end;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    buf = NULL;
    ret = 0;
end:
    free(buf);
    if (fd != STDIN_FILENO)
        close(fd);
    return ret;
}

int dbt_bundle_read_file(const char *path, const char *password, dbt_bundle **out, dbt_err *err)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int ret;

    *out = NULL;
    if (dbt_read_all(path, &data, &len, err) != 0)
        return -1;
    ret =
        dbt_bundle_decode(data, len, strcmp(path, "-") == 0 ? "<stdin>" : path, password, out, err);
    free(data);
    return ret;
}
