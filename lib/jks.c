/* Java KeyStore (JKS) and JCEKS files: reading the certificates of any keystore, and writing
 * truststores of trusted certificate entries laid out as p11-kit's trust/extract-jks.c does. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"
#include "escape.h"
#include "jks.h"

#define JKS_MAGIC 0xFEEDFEEDu
#define JCEKS_MAGIC 0xCECECECEu
#define JKS_DIGEST_LEN 20 /* SHA-1 */

/* Entry tags (sun.security.provider.JavaKeyStore and com.sun.crypto.provider.JceKeyStore). */
enum { JKS_TAG_PRIVATE_KEY = 1, JKS_TAG_TRUSTED_CERT = 2, JKS_TAG_SECRET_KEY = 3 };

/* Java's keyed integrity digest: SHA-1(password as UTF-16BE || this || every byte before it). */
static const char jks_whitener[16] = "Mighty Aphrodite";

/* ---- UTF-8, UTF-16 and Java's "modified UTF-8" ---- */

/* Decodes one UTF-8 character at s[*i]; -1 for malformed, overlong or surrogate sequences. */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    size_t n, k;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        (*i)++;
        return 0;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, v = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len - *i - 1 < n)
        return -1;
    for (k = 1; k <= n; k++) {
        unsigned char t = s[*i + k];
        if ((t & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (t & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    *i += n + 1;
    return 0;
}

static size_t utf8_put(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A Java char[] password as the digest sees it: UTF-16 code units, big-endian. */
static int jks_password_utf16(const char *pw, unsigned char **out, size_t *outlen, dbt_err *err)
{
    const unsigned char *s = (const unsigned char *)pw;
    size_t len = strlen(pw), i = 0, o = 0;
    unsigned char *u;
    uint32_t cp;

    /* At most 2 output bytes per input byte (ASCII: 2 for 1; 4-byte UTF-8: 4 for 4). */
    if ((u = OPENSSL_malloc(2 * len + 1)) == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    while (i < len) {
        if (utf8_next(s, len, &i, &cp) < 0) {
            OPENSSL_clear_free(u, 2 * len + 1);
            dbt_err_set(err, "the keystore password is not valid UTF-8");
            return -1;
        }
        if (cp >= 0x10000) {
            uint32_t hi = 0xD800 + ((cp - 0x10000) >> 10), lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);
            u[o++] = (unsigned char)(hi >> 8), u[o++] = (unsigned char)hi;
            u[o++] = (unsigned char)(lo >> 8), u[o++] = (unsigned char)lo;
        } else {
            u[o++] = (unsigned char)(cp >> 8), u[o++] = (unsigned char)cp;
        }
    }
    *out = u;
    *outlen = o;
    return 0;
}

/*
 * Java's DataInput.readUTF text (modified UTF-8: U+0000 as C0 80, supplementary characters as
 * two 3-byte surrogates) to standard UTF-8. A lone surrogate becomes U+FFFD. Returns NULL with
 * *why set for input Java itself would refuse, or that a C string cannot hold (U+0000).
 */
static char *jks_mutf8_to_utf8(const unsigned char *s, size_t n, const char **why)
{
    unsigned char *o;
    size_t i = 0, w = 0;

    /* Every sequence shrinks or keeps its length when converted. */
    if ((o = OPENSSL_malloc(n + 1)) == NULL) {
        *why = "out of memory";
        return NULL;
    }
    while (i < n) {
        unsigned char c = s[i];
        uint32_t v;

        if (c < 0x80) {
            v = c, i += 1;
        } else if ((c & 0xE0) == 0xC0 && n - i >= 2 && (s[i + 1] & 0xC0) == 0x80) {
            v = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F), i += 2;
        } else if ((c & 0xF0) == 0xE0 && n - i >= 3 && (s[i + 1] & 0xC0) == 0x80 &&
                   (s[i + 2] & 0xC0) == 0x80) {
            v = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
                (s[i + 2] & 0x3F);
            i += 3;
            if (v >= 0xD800 && v <= 0xDBFF && n - i >= 3 && s[i] == 0xED &&
                (s[i + 1] & 0xF0) == 0xB0 && (s[i + 2] & 0xC0) == 0x80) {
                uint32_t lo = 0xD000 | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                i += 3;
            } else if (v >= 0xD800 && v <= 0xDFFF) {
                v = 0xFFFD;
            }
        } else {
            OPENSSL_free(o);
            *why = "is not valid modified UTF-8";
            return NULL;
        }
        if (v == 0) {
            OPENSSL_free(o);
            *why = "contains the character U+0000";
            return NULL;
        }
        w += utf8_put(o + w, v);
    }
    o[w] = '\0';
    return (char *)o;
}

/* ---- a growable output buffer that remembers a failed allocation ---- */

typedef struct jks_buf {
    unsigned char *d;
    size_t len, cap;
    int failed;
} jks_buf;

static unsigned char *buf_append(jks_buf *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        unsigned char *d;

        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return NULL;
            }
            cap *= 2;
        }
        if ((d = OPENSSL_realloc(b->d, cap)) == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->d = d, b->cap = cap;
    }
    b->len += n;
    return b->d + b->len - n;
}

static void buf_add(jks_buf *b, const void *p, size_t n)
{
    unsigned char *d = buf_append(b, n);
    if (d != NULL && n > 0)
        memcpy(d, p, n);
}

static void buf_u16(jks_buf *b, uint16_t v)
{
    unsigned char d[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, d, 2);
}

static void buf_u32(jks_buf *b, uint32_t v)
{
    unsigned char d[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, d, 4);
}

static void buf_u64(jks_buf *b, uint64_t v)
{
    buf_u32(b, (uint32_t)(v >> 32));
    buf_u32(b, (uint32_t)v);
}

/* DataOutput.writeUTF: a 16-bit byte count, then modified UTF-8. */
static int buf_utf(jks_buf *b, const char *s, dbt_err *err)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, start = b->len, n;
    unsigned char tmp[4];
    uint32_t cp;

    buf_u16(b, 0);
    while (i < len) {
        if (utf8_next(u, len, &i, &cp) < 0) {
            dbt_err_set(err, "alias \"%s\" is not valid UTF-8", s);
            return -1;
        }
        if (cp >= 0x10000) {
            uint32_t hi = 0xD800 + ((cp - 0x10000) >> 10), lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);
            buf_add(b, tmp, utf8_put(tmp, hi));
            buf_add(b, tmp, utf8_put(tmp, lo));
        } else {
            buf_add(b, tmp, utf8_put(tmp, cp));
        }
    }
    if (b->failed)
        return 0; /* reported once by the caller */
    n = b->len - start - 2;
    if (n > 0xFFFF) {
        dbt_err_set(err, "alias \"%.40s...\" is %zu bytes long; Java keystores allow 65535", s, n);
        return -1;
    }
    b->d[start] = (unsigned char)(n >> 8);
    b->d[start + 1] = (unsigned char)n;
    return 0;
}

/* ---- aliases ---- */

static char *str_dup_n(const char *s, size_t n)
{
    char *d = OPENSSL_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Readable text: ASCII lowercase, control characters and runs of blanks become one space. */
static char *alias_clean(const unsigned char *u, size_t n)
{
    char *o = OPENSSL_malloc(n + 1);
    size_t i, w = 0;
    int space = 0;

    if (o == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c < 0x20 || c == 0x7F || c == ' ') {
            space = 1;
            continue;
        }
        if (space && w > 0)
            o[w++] = ' ';
        space = 0;
        o[w++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    /* Cut long names at a character boundary, never inside a UTF-8 sequence. */
    if (w > DBT_JKS_ALIAS_MAX) {
        w = DBT_JKS_ALIAS_MAX;
        while (w > 0 && ((unsigned char)o[w] & 0xC0) == 0x80)
            w--;
        while (w > 0 && o[w - 1] == ' ')
            w--;
    }
    o[w] = '\0';
    return o;
}

char *dbt_jks_subject_alias(X509 *x)
{
    static const int nids[] = {NID_commonName, NID_organizationName, NID_organizationalUnitName};
    const X509_NAME *name = X509_get_subject_name(x);
    size_t k;

    for (k = 0; name != NULL && k < sizeof(nids) / sizeof(nids[0]); k++) {
        int i, last = -1;
        unsigned char *u = NULL;
        char *a;
        int n;

        /* The last CN is the most specific one when a name carries several. */
        while ((i = X509_NAME_get_index_by_NID(name, nids[k], last)) >= 0)
            last = i;
        if (last < 0)
            continue;
        n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
        if (n < 0)
            continue;
        a = alias_clean(u, (size_t)n);
        OPENSSL_free(u);
        if (a == NULL)
            return NULL;
        if (a[0] != '\0')
            return a;
        OPENSSL_free(a);
    }
    return str_dup_n("certificate", strlen("certificate"));
}

/* Open-addressing set of ASCII-lowercased aliases; each slot also counts the "-N" suffixes
 * tried for it, so that many certificates with the same name stay linear. */
typedef struct alias_slot {
    char *key;
    unsigned long next;
} alias_slot;

typedef struct alias_set {
    alias_slot *s;
    size_t mask;
} alias_set;

static alias_slot *alias_find(alias_set *set, const char *lower)
{
    uint64_t h = 1469598103934665603u;
    const unsigned char *p;
    size_t i;

    for (p = (const unsigned char *)lower; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    for (i = (size_t)h & set->mask;; i = (i + 1) & set->mask)
        if (set->s[i].key == NULL || strcmp(set->s[i].key, lower) == 0)
            return &set->s[i];
}

/* Claims want, or want-2, want-3... when taken; *out is the claimed alias with want's case. */
static int alias_take(alias_set *set, const char *want, char **out)
{
    char *lower, *cand = NULL;
    alias_slot *base, *slot;
    size_t n = strlen(want) + 24;

    if ((lower = str_dup_n(want, strlen(want))) == NULL)
        return -1;
    ascii_lower(lower);
    base = alias_find(set, lower);
    if (base->key == NULL) {
        base->key = lower, base->next = 2;
        return (*out = str_dup_n(want, strlen(want))) != NULL ? 0 : -1;
    }
    OPENSSL_free(lower);
    if ((cand = OPENSSL_malloc(n)) == NULL || (lower = OPENSSL_malloc(n)) == NULL) {
        OPENSSL_free(cand);
        return -1;
    }
    for (;;) {
        snprintf(cand, n, "%s-%lu", want, base->next++);
        memcpy(lower, cand, n);
        ascii_lower(lower);
        slot = alias_find(set, lower);
        if (slot->key == NULL) {
            slot->key = lower, slot->next = 2;
            *out = cand;
            return 0;
        }
    }
}

void dbt_jks_aliases_free(char **aliases, size_t n)
{
    size_t i;

    if (aliases == NULL)
        return;
    for (i = 0; i < n; i++)
        OPENSSL_free(aliases[i]);
    OPENSSL_free(aliases);
}

char **dbt_jks_aliases(const dbt_bundle *b, int lower_given, dbt_err *err)
{
    alias_set set = {NULL, 0};
    char **out = NULL;
    size_t cap = 16, i;
    int pass, ok = 0;

    while (cap < 2 * b->n + 16)
        cap *= 2;
    if ((set.s = OPENSSL_zalloc(cap * sizeof(*set.s))) == NULL ||
        (out = OPENSSL_zalloc((b->n + 1) * sizeof(*out))) == NULL)
        goto end;
    set.mask = cap - 1;
    /* Given aliases first, so a derived name never pushes a chosen one to "-2". */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < b->n; i++) {
            const char *given = b->certs[i].alias;
            char *want;

            if ((given != NULL && given[0] != '\0') != (pass == 0))
                continue;
            if (pass == 0) {
                /* An alias read from a file or typed as -alias may hold control characters,
                 * which every keytool -list would print raw: written escaped (\xNN), as
                 * dbtrust prints it. */
                if (dbt_escape_needed(given, strlen(given))) {
                    char *esc = dbt_escape_dup(given, strlen(given));

                    want = esc != NULL ? str_dup_n(esc, strlen(esc)) : NULL;
                    free(esc);
                } else {
                    want = str_dup_n(given, strlen(given));
                }
                if (want != NULL && lower_given)
                    ascii_lower(want);
            } else {
                want = dbt_jks_subject_alias(b->certs[i].x509);
            }
            if (want == NULL || alias_take(&set, want, &out[i]) < 0) {
                OPENSSL_free(want);
                goto end;
            }
            OPENSSL_free(want);
        }
    }
    ok = 1;
end:
    if (set.s != NULL)
        for (i = 0; i <= set.mask; i++)
            OPENSSL_free(set.s[i].key);
    OPENSSL_free(set.s);
    if (!ok) {
        dbt_jks_aliases_free(out, b->n);
        dbt_err_set(err, "out of memory while choosing keystore aliases");
        return NULL;
    }
    return out;
}

/* ---- reading ---- */

typedef struct jks_rd {
    const unsigned char *d;
    size_t len, off;
    const char *src;
    const char *kind; /* "JKS" or "JCEKS" */
    unsigned long count;
    unsigned long entry; /* 1-based entry being read, 0 outside entries */
    size_t entry_off;
} jks_rd;

static void rd_fail(const jks_rd *r, dbt_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every message names the file, the entry and where it starts, then what is wrong. */
static void rd_fail(const jks_rd *r, dbt_err *err, const char *fmt, ...)
{
    char what[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (r->entry > 0)
        dbt_err_set(err, "%s: %s entry %lu of %lu (at offset %zu): %s", r->src, r->kind, r->entry,
                    r->count, r->entry_off, what);
    else
        dbt_err_set(err, "%s: %s keystore: %s", r->src, r->kind, what);
}

static int rd_need(jks_rd *r, size_t n, const char *what, dbt_err *err)
{
    if (r->len - r->off >= n)
        return 0;
    rd_fail(r, err,
            "truncated: %s needs %zu bytes at offset %zu but the file ends at %zu; the file is "
            "cut short or is not a keystore",
            what, n, r->off, r->len);
    return -1;
}

static int rd_u32(jks_rd *r, const char *what, uint32_t *v, dbt_err *err)
{
    const unsigned char *p;

    if (rd_need(r, 4, what, err) < 0)
        return -1;
    p = r->d + r->off;
    *v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    r->off += 4;
    return 0;
}

/* A Java int used as a length or count: negative values are corrupt, not huge. */
static int rd_len(jks_rd *r, const char *what, size_t *n, dbt_err *err)
{
    uint32_t v;
    size_t at = r->off;

    if (rd_u32(r, what, &v, err) < 0)
        return -1;
    if (v > INT32_MAX) {
        rd_fail(r, err, "%s at offset %zu is negative (%ld); the file is corrupt", what, at,
                (long)v - 4294967296L);
        return -1;
    }
    *n = v;
    return 0;
}

/* DataInput.readUTF: a 16-bit length, then that many bytes of modified UTF-8 (left raw). */
static int rd_utf(jks_rd *r, const char *what, const unsigned char **s, size_t *n, dbt_err *err)
{
    const unsigned char *p;

    if (rd_need(r, 2, what, err) < 0)
        return -1;
    p = r->d + r->off;
    *n = ((size_t)p[0] << 8) | p[1];
    r->off += 2;
    if (rd_need(r, *n, what, err) < 0)
        return -1;
    *s = r->d + r->off;
    r->off += *n;
    return 0;
}

/* Printable excerpt of bytes that should have been text, for messages. */
static void show_text(char *o, size_t osz, const unsigned char *s, size_t n)
{
    size_t i, w = 0;

    for (i = 0; i < n && w + 5 < osz; i++)
        w += (size_t)snprintf(o + w, osz - w, s[i] >= 0x20 && s[i] < 0x7F ? "%c" : "\\x%02x", s[i]);
    if (i < n && w + 4 < osz)
        snprintf(o + w, osz - w, "...");
}

/* chain_pos 0: a trusted certificate entry; else the 1-based place in a key entry's chain. */
static int rd_cert(jks_rd *r, int version, const char *alias, int chain_pos, dbt_bundle *into,
                   dbt_err *err)
{
    const unsigned char *type, *p, *start;
    size_t tlen, n;
    X509 *x;

    if (version == 2) {
        if (rd_utf(r, "certificate type", &type, &tlen, err) < 0)
            return -1;
        if (tlen != 5 || memcmp(type, "X.509", 5) != 0) {
            char shown[64];
            show_text(shown, sizeof(shown), type, tlen);
            rd_fail(r, err,
                    "certificate type \"%s\" is not X.509; only X.509 certificates can be read",
                    shown);
            return -1;
        }
    }
    if (rd_len(r, "certificate length", &n, err) < 0 || rd_need(r, n, "certificate", err) < 0)
        return -1;
    start = p = r->d + r->off;
    if ((x = d2i_X509(NULL, &p, (long)n)) == NULL) {
        char off[32];
        snprintf(off, sizeof(off), "%zu", r->off);
        dbt_err_ossl(err,
                     "%s: %s entry %lu of %lu (at offset %zu): the certificate at offset %s "
                     "is not valid DER",
                     r->src, r->kind, r->entry, r->count, r->entry_off, off);
        return -1;
    }
    if ((size_t)(p - start) != n) {
        X509_free(x);
        rd_fail(r, err,
                "the certificate at offset %zu is followed by %zu stray bytes inside its "
                "%zu-byte field; the file is corrupt",
                r->off, n - (size_t)(p - start), n);
        return -1;
    }
    r->off += n;
    if (dbt_bundle_push(into, x, (int)r->entry, 0, alias, err) < 0) {
        X509_free(x); /* the bundle takes x only on success */
        return -1;
    }
    if (chain_pos > 0) {
        into->certs[into->n - 1].origin = DBT_ORIGIN_KEY_CHAIN;
        into->certs[into->n - 1].chain_pos = chain_pos;
    }
    return 0;
}

int dbt_jks_sniff(const unsigned char *data, size_t len)
{
    uint32_t m;

    if (data == NULL || len < 4)
        return 0;
    m = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) | ((uint32_t)data[2] << 8) | data[3];
    return m == JKS_MAGIC || m == JCEKS_MAGIC;
}

static int jks_digest(const unsigned char *data, size_t len, const char *password,
                      unsigned char md[JKS_DIGEST_LEN], dbt_err *err)
{
    EVP_MD_CTX *ctx = NULL;
    unsigned char *pw = NULL;
    size_t pwlen = 0;
    int ret = -1;

    if (jks_password_utf16(password, &pw, &pwlen, err) < 0)
        return -1;
    if ((ctx = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) ||
        !EVP_DigestUpdate(ctx, pw, pwlen) ||
        !EVP_DigestUpdate(ctx, jks_whitener, sizeof(jks_whitener)) ||
        !EVP_DigestUpdate(ctx, data, len) || !EVP_DigestFinal_ex(ctx, md, NULL)) {
        dbt_err_ossl(err, "cannot compute the keystore's SHA-1 integrity digest");
        goto end;
    }
    ret = 0;
end:
    EVP_MD_CTX_free(ctx);
    OPENSSL_clear_free(pw, pwlen);
    return ret;
}

int dbt_jks_decode(const unsigned char *data, size_t len, const char *password, dbt_bundle *into,
                   dbt_err *err)
{
    jks_rd r = {data, len, 0, into->source ? into->source : "<keystore>", "JKS", 0, 0, 0};
    uint32_t magic, version, count;
    unsigned char md[JKS_DIGEST_LEN];
    unsigned long i;

    if (data == NULL)
        r.len = 0;
    if (r.len < 4 || !dbt_jks_sniff(data, len)) {
        dbt_err_set(err,
                    "%s: not a JKS or JCEKS keystore (it does not start with FEEDFEED or "
                    "CECECECE)",
                    r.src);
        return -1;
    }
    rd_u32(&r, "magic number", &magic, err);
    if (magic == JCEKS_MAGIC)
        r.kind = "JCEKS";
    if (rd_u32(&r, "version", &version, err) < 0)
        return -1;
    if (version != 1 && version != 2) {
        rd_fail(&r, err, "version %lu is not 1 or 2; the file is corrupt or from an unknown Java",
                (unsigned long)version);
        return -1;
    }
    if (rd_u32(&r, "entry count", &count, err) < 0)
        return -1;
    if (count > INT32_MAX) {
        rd_fail(&r, err, "negative entry count; the file is corrupt");
        return -1;
    }
    r.count = count;
    for (i = 1; i <= count; i++) {
        const unsigned char *araw;
        size_t alen, n, j;
        uint32_t tag;
        char *alias;
        const char *why = NULL;
        int rc = -1;

        r.entry = i, r.entry_off = r.off;
        if (rd_u32(&r, "entry tag", &tag, err) < 0 || rd_utf(&r, "alias", &araw, &alen, err) < 0)
            return -1;
        if ((alias = jks_mutf8_to_utf8(araw, alen, &why)) == NULL) {
            rd_fail(&r, err, "the alias %s", why);
            return -1;
        }
        if (rd_need(&r, 8, "creation date", err) < 0)
            goto entry_end;
        r.off += 8;
        switch (tag) {
        case JKS_TAG_TRUSTED_CERT:
            rc = rd_cert(&r, (int)version, alias, 0, into, err);
            break;
        case JKS_TAG_PRIVATE_KEY:
            /* The key stays encrypted and unread. Its chain is read, and marked as a key's:
             * Java does not trust it as an anchor, so no output may write it as one. */
            if (rd_len(&r, "private key length", &n, err) < 0 ||
                rd_need(&r, n, "private key", err) < 0)
                break;
            r.off += n;
            if (rd_len(&r, "certificate chain length", &n, err) < 0)
                break;
            into->nkeys++;
            if (into->key_alias == NULL && (into->key_alias = strdup(alias)) == NULL) {
                rd_fail(&r, err, "out of memory");
                break;
            }
            for (j = 0; j < n; j++)
                if (rd_cert(&r, (int)version, alias, (int)(j < INT_MAX ? j + 1 : INT_MAX), into,
                            err) < 0)
                    goto entry_end;
            rc = 0;
            break;
        case JKS_TAG_SECRET_KEY:
            if (magic == JCEKS_MAGIC) {
                /* A secret key is a Java-serialized SealedObject with no length in front, so
                 * nothing after it can be located without a Java deserializer. */
                rd_fail(&r, err,
                        "\"%s\" is a secret key entry, which dbtrust cannot step over (its "
                        "content is a serialized Java object with no length); convert the store "
                        "with keytool -importkeystore -deststoretype pkcs12 and read that instead",
                        alias);
                break;
            }
            /* JKS has no secret key entries: as corrupt as any other unknown tag. */
            __attribute__((fallthrough));
        default:
            rd_fail(&r, err,
                    "unknown entry tag %lu (1 = private key, 2 = trusted certificate); the file "
                    "is corrupt",
                    (unsigned long)tag);
            break;
        }
    entry_end:
        OPENSSL_free(alias);
        if (rc < 0)
            return -1;
    }
    r.entry = 0;
    if (rd_need(&r, JKS_DIGEST_LEN, "the integrity digest", err) < 0)
        return -1;
    if (r.len - r.off != JKS_DIGEST_LEN) {
        rd_fail(&r, err,
                "%zu unexpected bytes after the integrity digest at offset %zu; the file "
                "is corrupt or several files were joined",
                r.len - r.off - JKS_DIGEST_LEN, r.off + JKS_DIGEST_LEN);
        return -1;
    }
    if (password == NULL) {
        /* Java's default truststore password, then an empty one (two SHA-1 runs): a store that
         * matches is verified; any other is read unchecked, as before. */
        static const char *const tries[] = {"changeit", ""};

        for (i = 0; i < 2; i++) {
            if (jks_digest(data, r.off, tries[i], md, err) < 0) {
                dbt_err_prefix(err, "%s", r.src);
                return -1;
            }
            if (CRYPTO_memcmp(md, data + r.off, JKS_DIGEST_LEN) == 0) {
                into->integrity = DBT_INTEGRITY_VERIFIED;
                break;
            }
        }
        return 0;
    }
    if (jks_digest(data, r.off, password, md, err) < 0) {
        dbt_err_prefix(err, "%s", r.src);
        return -1;
    }
    if (CRYPTO_memcmp(md, data + r.off, JKS_DIGEST_LEN) != 0) {
        dbt_err_set(err, "%s: %s integrity check failed: wrong password? ", r.src, r.kind);
        dbt_err_hint(err, DBT_HINT_PASSWORD);
        dbt_err_more(err, " (or leave it out to read the certificates without checking)");
        dbt_err_code(err, DBT_E_INTEGRITY);
        return -1;
    }
    into->integrity = DBT_INTEGRITY_VERIFIED;
    return 0;
}

/* ---- writing ---- */

/* Entry dates in Java milliseconds: now, or SOURCE_DATE_EPOCH for reproducible output. */
static int jks_timestamp(uint64_t *ms, dbt_err *err)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t now;

    if (sde != NULL && sde[0] != '\0') {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(sde, &end, 10);
        if (!isdigit((unsigned char)sde[0]) || *end != '\0' || errno != 0 ||
            v > UINT64_MAX / 1000 / 2) {
            dbt_err_set(err,
                        "SOURCE_DATE_EPOCH=\"%s\" is not a number of seconds since 1970; fix "
                        "or unset it",
                        sde);
            return -1;
        }
        *ms = (uint64_t)v * 1000;
        return 0;
    }
    if ((now = time(NULL)) == (time_t)-1 || now < 0) {
        dbt_err_sys(err, "cannot read the clock for the keystore entry dates");
        return -1;
    }
    *ms = (uint64_t)now * 1000;
    return 0;
}

int dbt_jks_encode(const dbt_bundle *b, const char *password, unsigned char **out, size_t *outlen,
                   dbt_err *err)
{
    jks_buf buf = {NULL, 0, 0, 0};
    char **aliases = NULL;
    uint64_t ms;
    size_t i;
    int ret = -1;

    if (password == NULL)
        password = "changeit";
    if (b->n > INT32_MAX) {
        dbt_err_set(err, "%zu certificates are more than a Java keystore can hold", b->n);
        return -1;
    }
    if (jks_timestamp(&ms, err) < 0 || (aliases = dbt_jks_aliases(b, 1, err)) == NULL)
        return -1;
    buf_u32(&buf, JKS_MAGIC);
    buf_u32(&buf, 2);
    buf_u32(&buf, (uint32_t)b->n);
    for (i = 0; i < b->n; i++) {
        int n = i2d_X509(b->certs[i].x509, NULL);
        unsigned char *p;

        if (n <= 0) {
            dbt_err_ossl(err, "certificate %zu cannot be DER-encoded", i + 1);
            goto end;
        }
        buf_u32(&buf, JKS_TAG_TRUSTED_CERT);
        if (buf_utf(&buf, aliases[i], err) < 0) {
            dbt_err_prefix(err, "certificate %zu", i + 1);
            goto end;
        }
        buf_u64(&buf, ms);
        buf_utf(&buf, "X.509", err);
        buf_u32(&buf, (uint32_t)n);
        if ((p = buf_append(&buf, (size_t)n)) != NULL && i2d_X509(b->certs[i].x509, &p) != n) {
            dbt_err_ossl(err, "certificate %zu cannot be DER-encoded", i + 1);
            goto end;
        }
    }
    if (!buf.failed) {
        unsigned char md[JKS_DIGEST_LEN];
        if (jks_digest(buf.d, buf.len, password, md, err) < 0)
            goto end;
        buf_add(&buf, md, sizeof(md));
    }
    if (buf.failed) {
        dbt_err_set(err, "out of memory while writing the JKS keystore");
        goto end;
    }
    *out = buf.d, *outlen = buf.len;
    buf.d = NULL;
    ret = 0;
end:
    OPENSSL_free(buf.d);
    dbt_jks_aliases_free(aliases, b->n);
    return ret;
}

/* ---- rewriting a keystore in place ---- */

/* Steps over one certificate of an entry (its type for version 2, its length and bytes); *der
 * and *dlen receive the bytes. */
static int rw_skip_cert(jks_rd *r, uint32_t version, const unsigned char **der, size_t *dlen,
                        dbt_err *err)
{
    const unsigned char *type;
    size_t tlen;

    if (version == 2 && rd_utf(r, "certificate type", &type, &tlen, err) < 0)
        return -1;
    if (rd_len(r, "certificate length", dlen, err) < 0 || rd_need(r, *dlen, "certificate", err) < 0)
        return -1;
    *der = r->d + r->off;
    r->off += *dlen;
    return 0;
}

/* One trusted certificate entry as Java writes it, in the file's version. */
static int rw_put_trusted(jks_buf *b, uint32_t version, const char *alias, X509 *x, uint64_t ms,
                          dbt_err *err)
{
    int n = i2d_X509(x, NULL);
    unsigned char *p;

    if (n <= 0) {
        dbt_err_ossl(err, "the certificate for alias \"%s\" cannot be DER-encoded", alias);
        return -1;
    }
    buf_u32(b, JKS_TAG_TRUSTED_CERT);
    if (buf_utf(b, alias, err) < 0)
        return -1;
    buf_u64(b, ms);
    if (version == 2 && buf_utf(b, "X.509", err) < 0)
        return -1;
    buf_u32(b, (uint32_t)n);
    if ((p = buf_append(b, (size_t)n)) != NULL && i2d_X509(x, &p) != n) {
        dbt_err_ossl(err, "the certificate for alias \"%s\" cannot be DER-encoded", alias);
        return -1;
    }
    return 0;
}

int dbt_jks_rewrite(const unsigned char *data, size_t len, const char *src, const char *password,
                    dbt_jks_keep_fn *keep, void *arg, X509 *const *add, char *const *add_alias,
                    size_t nadd, unsigned char **out, size_t *outlen, dbt_err *err)
{
    jks_rd r = {data, len, 0, src, "JKS", 0, 0, 0};
    jks_buf buf = {NULL, 0, 0, 0};
    uint32_t magic, version, count, kept = 0;
    unsigned char md[JKS_DIGEST_LEN];
    uint64_t ms;
    unsigned long i;
    size_t k;
    int ret = -1;

    if (!dbt_jks_sniff(data, len)) {
        dbt_err_set(err, "%s: not a JKS or JCEKS keystore", src);
        return -1;
    }
    rd_u32(&r, "magic number", &magic, err);
    if (magic == JCEKS_MAGIC)
        r.kind = "JCEKS";
    if (rd_u32(&r, "version", &version, err) < 0 || rd_u32(&r, "entry count", &count, err) < 0)
        return -1;
    if ((version != 1 && version != 2) || count > INT32_MAX) {
        rd_fail(&r, err, "bad version or entry count; the file is corrupt");
        return -1;
    }
    if (jks_timestamp(&ms, err) < 0)
        return -1;
    r.count = count;
    buf_u32(&buf, magic);
    buf_u32(&buf, version);
    buf_u32(&buf, 0); /* the count, set once known */
    for (i = 1; i <= count; i++) {
        const unsigned char *araw, *der = NULL;
        size_t alen, n, dlen = 0, j, start;
        uint32_t tag;
        char *alias = NULL;
        const char *why = NULL;
        X509 *x = NULL;
        int k_rc;

        r.entry = i, r.entry_off = start = r.off;
        if (rd_u32(&r, "entry tag", &tag, err) < 0 || rd_utf(&r, "alias", &araw, &alen, err) < 0 ||
            rd_need(&r, 8, "creation date", err) < 0)
            goto end;
        r.off += 8;
        if (tag == JKS_TAG_TRUSTED_CERT) {
            if (rw_skip_cert(&r, version, &der, &dlen, err) < 0)
                goto end;
        } else if (tag == JKS_TAG_PRIVATE_KEY) {
            if (rd_len(&r, "private key length", &n, err) < 0 ||
                rd_need(&r, n, "private key", err) < 0)
                goto end;
            r.off += n;
            if (rd_len(&r, "certificate chain length", &n, err) < 0)
                goto end;
            for (j = 0; j < n; j++)
                if (rw_skip_cert(&r, version, &der, &dlen, err) < 0)
                    goto end;
            der = NULL; /* a key entry is never the caller's to drop */
        } else {
            rd_fail(&r, err, "entry tag %lu cannot be stepped over; the keystore is kept as it is",
                    (unsigned long)tag);
            goto end;
        }
        if (der != NULL) {
            const unsigned char *p = der;

            if ((alias = jks_mutf8_to_utf8(araw, alen, &why)) == NULL) {
                rd_fail(&r, err, "the alias %s", why);
                goto end;
            }
            if ((x = d2i_X509(NULL, &p, (long)dlen)) == NULL) {
                OPENSSL_free(alias);
                dbt_err_ossl(err, "%s: %s entry %lu: the certificate is not valid DER", src, r.kind,
                             i);
                goto end;
            }
            k_rc = keep(arg, alias, x);
            X509_free(x);
            OPENSSL_free(alias);
            if (k_rc == 0)
                continue;
        }
        /* Kept: the entry's own bytes, so that what the caller does not own is never
         * re-encoded. */
        buf_add(&buf, data + start, r.off - start);
        kept++;
    }
    r.entry = 0;
    if (rd_need(&r, JKS_DIGEST_LEN, "the integrity digest", err) < 0)
        goto end;
    if (r.len - r.off != JKS_DIGEST_LEN) {
        rd_fail(&r, err, "unexpected bytes after the integrity digest; the file is corrupt");
        goto end;
    }
    if (nadd > (size_t)INT32_MAX - kept) {
        dbt_err_set(err, "%s: too many entries for a Java keystore", src);
        goto end;
    }
    for (k = 0; k < nadd; k++)
        if (rw_put_trusted(&buf, version, add_alias[k], add[k], ms, err) < 0)
            goto end;
    if (buf.failed) {
        dbt_err_set(err, "out of memory while rewriting %s", src);
        goto end;
    }
    kept += (uint32_t)nadd;
    buf.d[8] = (unsigned char)(kept >> 24), buf.d[9] = (unsigned char)(kept >> 16);
    buf.d[10] = (unsigned char)(kept >> 8), buf.d[11] = (unsigned char)kept;
    if (jks_digest(buf.d, buf.len, password, md, err) < 0)
        goto end;
    buf_add(&buf, md, sizeof(md));
    if (buf.failed) {
        dbt_err_set(err, "out of memory while rewriting %s", src);
        goto end;
    }
    *out = buf.d, *outlen = buf.len;
    buf.d = NULL;
    ret = 0;
end:
    OPENSSL_free(buf.d);
    return ret;
}
