/* PEM bundles, scanned by hand rather than with PEM_read_bio: every BEGIN line must become a
 * certificate or the decode fails naming the block, because OpenSSL silently skips what it
 * cannot read (an indented BEGIN line, a corrupt block) and a trust bundle must not shrink. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "trust.h"

/* Longest label kept for messages; real labels are at most about 30 characters. */
#define LABEL_MAX 80

enum label_kind { LABEL_CERT, LABEL_TRUSTED, LABEL_P7, LABEL_OTHER };

typedef struct pem_scan {
    const unsigned char *data;
    size_t len, pos;
    int lineno;
    const char *source;
} pem_scan;

/* Next line without its terminator; LF, CRLF and lone CR all end a line. 0 at end of input. */
static int next_line(pem_scan *s, const unsigned char **line, size_t *llen)
{
    size_t i = s->pos;

    if (s->pos >= s->len)
        return 0;
    while (i < s->len && s->data[i] != '\n' && s->data[i] != '\r')
        i++;
    *line = s->data + s->pos;
    *llen = i - s->pos;
    if (i < s->len && s->data[i] == '\r' && i + 1 < s->len && s->data[i + 1] == '\n')
        i++;
    s->pos = i < s->len ? i + 1 : i;
    s->lineno++;
    return 1;
}

/* Drops spaces, tabs and a UTF-8 byte order mark (files are concatenated, BOMs end up inside). */
static void trim(const unsigned char **line, size_t *llen)
{
    const unsigned char *p = *line;
    size_t n = *llen;

    for (;;) {
        if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
            p += 3;
            n -= 3;
        } else if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            n--;
        } else {
            break;
        }
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    *line = p;
    *llen = n;
}

static const unsigned char *find(const unsigned char *p, size_t n, const char *needle)
{
    return memmem(p, n, needle, strlen(needle));
}

/* Parses "-----<word> LABEL-----" (word is BEGIN or END) into label; 0 when well formed. */
static int parse_armor(const unsigned char *t, size_t n, const char *word, char *label)
{
    size_t wl = strlen(word), ll;

    if (n < 5 + wl + 1 + 1 + 5 || memcmp(t, "-----", 5) != 0 || memcmp(t + 5, word, wl) != 0 ||
        t[5 + wl] != ' ' || memcmp(t + n - 5, "-----", 5) != 0)
        return -1;
    ll = n - (5 + wl + 1) - 5;
    if (ll == 0 || ll >= LABEL_MAX || t[5 + wl + 1] == '-' || t[n - 6] == '-')
        return -1;
    memcpy(label, t + 5 + wl + 1, ll);
    label[ll] = '\0';
    for (size_t i = 0; i < ll; i++) {
        unsigned char c = (unsigned char)label[i];
        if (c < 0x20 || c > 0x7e)
            return -1;
    }
    return 0;
}

static enum label_kind classify(const char *label)
{
    if (strcmp(label, "CERTIFICATE") == 0 || strcmp(label, "X509 CERTIFICATE") == 0)
        return LABEL_CERT;
    if (strcmp(label, "TRUSTED CERTIFICATE") == 0)
        return LABEL_TRUSTED;
    if (strcmp(label, "PKCS7") == 0 || strcmp(label, "PKCS #7 SIGNED DATA") == 0 ||
        strcmp(label, "CMS") == 0)
        return LABEL_P7;
    return LABEL_OTHER;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Strict base64 (RFC 4648 with padding): the body has already been checked for the alphabet.
 * Writes at most 3*len/4 bytes to out. Returns a static reason on failure, NULL on success.
 */
static const char *b64_decode(const unsigned char *in, size_t len, unsigned char *out,
                              size_t *outlen)
{
    size_t pad = 0, o = 0;

    if (len == 0)
        return "the block has no base64 body";
    if (len % 4 != 0)
        return "base64 body does not decode (its length is not a multiple of 4: truncated or "
               "edited by hand)";
    if (in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (in[i] == '=')
            return "base64 body does not decode ('=' padding before the end of the body)";
    for (size_t i = 0; i < len; i += 4) {
        unsigned long v = 0;
        size_t k;

        for (k = 0; k < 4 && in[i + k] != '='; k++)
            v = v << 6 | (unsigned long)b64val(in[i + k]);
        v <<= 6 * (4 - k);
        out[o++] = (unsigned char)(v >> 16);
        if (k > 2)
            out[o++] = (unsigned char)(v >> 8);
        if (k > 3)
            out[o++] = (unsigned char)v;
    }
    *outlen = o;
    return NULL;
}

/* Decodes one complete block's DER according to its label and appends the certificates. */
static int decode_block(const char *label, const unsigned char *der, size_t len, dbt_bundle *into,
                        int block, int line, dbt_err *err)
{
    const unsigned char *p = der;
    enum label_kind kind = classify(label);
    char *alias = NULL;
    X509 *x;

    if (kind == LABEL_P7) {
        if (dbt_p7_decode_block(der, len, into, block, line, err) != 0) {
            dbt_err_prefix(err, "block %d of %s (line %d)", block, into->source, line);
            return -1;
        }
        return 0;
    }
    /* Say it plainly when the body is not even DER (dummy bodies like "xxxx", text pasted in). */
    if (len < 2 || der[0] != 0x30) {
        dbt_err_set(err,
                    "block %d of %s (line %d): not a certificate: the base64 body decodes to %zu "
                    "bytes that are not DER (first byte 0x%02x, a certificate starts with 0x30): "
                    "the block is corrupt or holds dummy text",
                    block, into->source, line, len, len > 0 ? der[0] : 0);
        return -1;
    }
    /* X509_AUX keeps the trust settings a TRUSTED CERTIFICATE block carries after the cert. */
    x = kind == LABEL_TRUSTED ? d2i_X509_AUX(NULL, &p, (long)len) : d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        char why[300];

        dbt_ossl_reason(why, sizeof(why));
        dbt_err_set(err, "block %d of %s (line %d): not a certificate: %s", block, into->source,
                    line, why);
        return -1;
    }
    if ((size_t)(p - der) != len) {
        dbt_err_set(err,
                    "block %d of %s (line %d): not a certificate: %zu bytes of trailing data "
                    "after the certificate inside the block",
                    block, into->source, line, len - (size_t)(p - der));
        X509_free(x);
        return -1;
    }
    if (kind == LABEL_TRUSTED) {
        int nt = sk_ASN1_OBJECT_num(X509_get0_trust_objects(x));
        int nr = sk_ASN1_OBJECT_num(X509_get0_reject_objects(x));
        int alen = 0;
        unsigned char *a = X509_alias_get0(x, &alen);

        /* Every list is compared with the others when written out: keep them small. */
        if (nt > DBT_TRUST_MAX_USAGES || nr > DBT_TRUST_MAX_USAGES) {
            dbt_err_set(err,
                        "block %d of %s (line %d): the TRUSTED CERTIFICATE lists %d trusted and "
                        "%d rejected usages; at most %d of each are read",
                        block, into->source, line, nt > 0 ? nt : 0, nr > 0 ? nr : 0,
                        DBT_TRUST_MAX_USAGES);
            X509_free(x);
            return -1;
        }
        /* The alias names the entry in truststores written from this bundle (up to a NUL). */
        if (a != NULL && alen > 0 &&
            (alias = OPENSSL_strndup((const char *)a, (size_t)alen)) == NULL) {
            dbt_err_set(err, "%s: out of memory", into->source);
            X509_free(x);
            return -1;
        }
    }
    if (dbt_bundle_push(into, x, block, line, alias, err) != 0) {
        OPENSSL_free(alias);
        X509_free(x);
        return -1;
    }
    OPENSSL_free(alias);
    return 0;
}

static void describe_byte(unsigned char c, char *buf, size_t n)
{
    if (c >= 0x21 && c <= 0x7e)
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02x", c);
}

int dbt_pem_decode(const unsigned char *data, size_t len, dbt_bundle *into, dbt_err *err)
{
    pem_scan s = {data, len, 0, 0, into->source};
    const unsigned char *line;
    size_t llen, blen = 0;
    unsigned char *body = NULL, *der = NULL;
    char label[LABEL_MAX], endlabel[LABEL_MAX], what[16];
    int block = 0, begin_line = 0, inside = 0, only_p7 = 1, ret = -1;

    /* The body never holds more than the input; one allocation bounds the whole scan. */
    if ((body = malloc(len + 1)) == NULL || (der = malloc(len + 1)) == NULL) {
        dbt_err_set(err, "%s: out of memory", into->source);
        goto end;
    }
    while (next_line(&s, &line, &llen)) {
        const unsigned char *t = line, *hit;
        size_t tn = llen;

        trim(&t, &tn);
        if (!inside) {
            if ((hit = find(t, tn, "-----BEGIN")) != NULL) {
                block++;
                begin_line = s.lineno;
                if (hit != t) {
                    dbt_err_set(err,
                                "block %d of %s (line %d): text before -----BEGIN on the same "
                                "line: put the BEGIN line on a line of its own",
                                block, into->source, s.lineno);
                    goto end;
                }
                if (parse_armor(t, tn, "BEGIN", label) != 0) {
                    dbt_err_set(err,
                                "block %d of %s (line %d): malformed BEGIN line (expected "
                                "\"-----BEGIN CERTIFICATE-----\")",
                                block, into->source, s.lineno);
                    goto end;
                }
                if (classify(label) == LABEL_OTHER) {
                    dbt_err_set(err,
                                "block %d of %s (line %d): a %s block, not a certificate: "
                                "remove it from the bundle%s",
                                block, into->source, s.lineno, label,
                                strstr(label, "PRIVATE KEY") != NULL
                                    ? " (a trust bundle must never carry private keys)"
                                    : "");
                    goto end;
                }
                inside = 1;
                blen = 0;
            } else if (find(t, tn, "-----END") != NULL) {
                dbt_err_set(err,
                            "%s (line %d): END line without a BEGIN line: the certificate "
                            "block above it lost its BEGIN line (after block %d)",
                            into->source, s.lineno, block);
                goto end;
            }
            /* Anything else outside a block is commentary (titles, openssl x509 -text). */
            continue;
        }
        if (tn == 0)
            continue;
        if ((hit = find(t, tn, "-----END")) != NULL) {
            size_t dlen = 0;
            const char *why;

            if (hit != t || parse_armor(t, tn, "END", endlabel) != 0) {
                dbt_err_set(err,
                            "block %d of %s (line %d): malformed END line at line %d (expected "
                            "\"-----END %s-----\")",
                            block, into->source, begin_line, s.lineno, label);
                goto end;
            }
            if (strcmp(label, endlabel) != 0) {
                dbt_err_set(err,
                            "block %d of %s (line %d): BEGIN %s ends with END %s at line %d: "
                            "the labels must match",
                            block, into->source, begin_line, label, endlabel, s.lineno);
                goto end;
            }
            if ((why = b64_decode(body, blen, der, &dlen)) != NULL) {
                dbt_err_set(err, "block %d of %s (line %d): %s", block, into->source, begin_line,
                            why);
                goto end;
            }
            if (decode_block(label, der, dlen, into, block, begin_line, err) != 0)
                goto end;
            if (classify(label) != LABEL_P7)
                only_p7 = 0;
            inside = 0;
            continue;
        }
        if (find(t, tn, "-----BEGIN") != NULL) {
            dbt_err_set(err,
                        "block %d of %s (line %d): no END line (another BEGIN line follows at "
                        "line %d)",
                        block, into->source, begin_line, s.lineno);
            goto end;
        }
        for (size_t i = 0; i < tn; i++) {
            if (t[i] != '=' && b64val(t[i]) < 0) {
                describe_byte(t[i], what, sizeof(what));
                dbt_err_set(err,
                            "block %d of %s (line %d): line %d is not base64 (%s at column %zu): "
                            "the block is corrupt",
                            block, into->source, begin_line, s.lineno, what,
                            (size_t)(t - line) + i + 1);
                goto end;
            }
        }
        memcpy(body + blen, t, tn);
        blen += tn;
    }
    if (inside) {
        dbt_err_set(err, "block %d of %s (line %d): no END line", block, into->source, begin_line);
        goto end;
    }
    into->format = block > 0 && only_p7 ? DBT_FMT_P7_PEM : DBT_FMT_PEM;
    ret = 0;
end:
    free(body);
    free(der);
    return ret;
}
