/* Escaping of untrusted text for display: one decoder of well-formed UTF-8 and one list of code
 * points a terminal or a reader must not be handed raw (lib/escape.h says which). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

int dbt_escape_cp_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF;
}

/* Length of the well-formed UTF-8 sequence at s (1-4), its code point in *cp; 0 when the byte
 * at s does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, c &= 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, c &= 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* The next unit of s: *in bytes of input that become *out bytes of output (kept as they are
 * when *keep, else each escaped as \xNN). */
static void next_unit(const unsigned char *s, size_t n, size_t *in, size_t *out, int *keep)
{
    uint32_t cp = 0;
    size_t len = utf8_seq(s, n, &cp);

    if (len == 0) {
        *in = 1, *out = 4, *keep = 0;
        return;
    }
    *in = len;
    *keep = !dbt_escape_cp_unsafe(cp);
    *out = *keep ? len : 4 * len;
}

int dbt_escape_needed(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, in, out;
    int keep;

    while (i < n) {
        next_unit(u + i, n - i, &in, &out, &keep);
        if (!keep)
            return 1;
        i += in;
    }
    return 0;
}

size_t dbt_escape_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, total = 0, in, out;
    int keep;

    while (i < n) {
        next_unit(u + i, n - i, &in, &out, &keep);
        total += out;
        i += in;
    }
    return total;
}

size_t dbt_escape(const char *s, size_t n, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, w = 0, in, len;
    int keep;

    if (outsz == 0)
        return 0;
    while (i < n) {
        next_unit(u + i, n - i, &in, &len, &keep);
        if (len >= outsz - w)
            break; /* no room for this whole unit and the NUL */
        if (keep) {
            memcpy(out + w, u + i, in);
            w += in;
        } else {
            for (size_t k = 0; k < in; k++) {
                out[w++] = '\\';
                out[w++] = 'x';
                out[w++] = hex[u[i + k] >> 4];
                out[w++] = hex[u[i + k] & 15];
            }
        }
        i += in;
    }
    out[w] = '\0';
    return w;
}

char *dbt_escape_dup(const char *s, size_t n)
{
    size_t len = dbt_escape_len(s, n);
    char *out = malloc(len + 1);

    if (out != NULL)
        dbt_escape(s, n, out, len + 1);
    return out;
}

char *dbt_shell_quote_dup(const char *s)
{
    size_t n = 3, w = 0;
    char *out;

    for (const char *p = s; *p != '\0'; p++)
        n += *p == '\'' ? 4 : 1;
    if ((out = malloc(n)) == NULL)
        return NULL;
    out[w++] = '\'';
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\'') {
            memcpy(out + w, "'\\''", 4);
            w += 4;
        } else {
            out[w++] = *p;
        }
    }
    out[w++] = '\'';
    out[w] = '\0';
    return out;
}
