/* The catalog's name rules and line formats (lib/catlayout.h): one parser for lib/, the provider
 * and the tests. libc only, nothing allocated. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "catlayout.h"

int dbt_layout_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > DBT_LAYOUT_NAME_MAX || s[0] == '.' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Every name in certs/ and every index line goes through this, so it takes 8 bytes at a time (a
 * comparison per byte cost about 540 instructions a 64-digit name, 60,000 for a catalog of 108
 * certificates, a quarter of the provider's safety walk). For bytes below 0x80, adding
 * 0x80 - lo to each sets its high bit exactly when the byte is >= lo, and no byte carries into
 * the next; a byte is a digit when it is >= '0' and not >= '9' + 1, or >= 'a' and not
 * >= 'f' + 1. */
int dbt_layout_hex_lower(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    size_t i = 0;
    uint64_t v, ok;

    for (; i + 8 <= n; i += 8) {
        memcpy(&v, s + i, 8);
        if (v & high)
            return 0;
        ok = ((v + ones * (0x80 - '0')) & ~(v + ones * (0x80 - '9' - 1))) |
             ((v + ones * (0x80 - 'a')) & ~(v + ones * (0x80 - 'f' - 1)));
        if ((ok & high) != high)
            return 0;
    }
    for (; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The value of 8 digits that dbt_layout_hex_lower accepted. */
static unsigned long hash_value(const char *s)
{
    unsigned long v = 0;

    for (int i = 0; i < DBT_LAYOUT_HASH_HEX; i++)
        v = v << 4 | (unsigned long)(s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10);
    return v;
}

int dbt_layout_gen_name(const char *s, unsigned long long *n)
{
    const char *p;
    unsigned long long v = 0;

    if (strncmp(s, DBT_LAYOUT_GEN_PREFIX, sizeof(DBT_LAYOUT_GEN_PREFIX) - 1) != 0)
        return -1;
    p = s + sizeof(DBT_LAYOUT_GEN_PREFIX) - 1;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > (ULLONG_MAX - 9) / 10)
            return -1;
        v = v * 10 + (unsigned long long)(*p - '0');
    }
    *n = v;
    return 0;
}

int dbt_layout_cert_file_name(const char *s)
{
    return strlen(s) == DBT_LAYOUT_SHA256_HEX + 4 &&
           dbt_layout_hex_lower(s, DBT_LAYOUT_SHA256_HEX) &&
           strcmp(s + DBT_LAYOUT_SHA256_HEX, ".pem") == 0;
}

int dbt_layout_trust_target(const char *target, int *up)
{
    size_t n = strlen(DBT_LAYOUT_TRUST_UP);

    *up = strncmp(target, DBT_LAYOUT_TRUST_UP, n) == 0;
    return dbt_layout_cert_file_name(*up ? target + n : target);
}

int dbt_layout_hash_link_name(const char *s, unsigned long *hash, int *n)
{
    size_t len = strlen(s);
    unsigned long v = 0;

    if (len < DBT_LAYOUT_HASH_HEX + 2 || !dbt_layout_hex_lower(s, DBT_LAYOUT_HASH_HEX) ||
        s[DBT_LAYOUT_HASH_HEX] != '.')
        return 0;
    for (size_t i = DBT_LAYOUT_HASH_HEX + 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        if (n != NULL && (v = v * 10 + (unsigned long)(s[i] - '0')) > INT_MAX)
            return 0;
    }
    if (hash != NULL)
        *hash = hash_value(s);
    if (n != NULL)
        *n = (int)v;
    return 1;
}

long dbt_layout_index_header(const char *buf, size_t len)
{
    static const char header[] = DBT_LAYOUT_INDEX_HEADER "\n";

    if (strlen(buf) != len)
        return DBT_LAYOUT_NUL;
    if (len < sizeof(header) - 1 || memcmp(buf, header, sizeof(header) - 1) != 0)
        return DBT_LAYOUT_BAD_HEADER;
    return (long)(sizeof(header) - 1);
}

static int serial_ok(const char *s)
{
    size_t len = strlen(s), i = s[0] == '-';

    if (len <= i || len > DBT_LAYOUT_SERIAL_MAX)
        return 0;
    for (; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

int dbt_layout_index_parse(char *line, dbt_layout_index_line *e)
{
    char *f[6], *p = line;
    const char *b;
    size_t blen;
    int nf = 0;

    /* Exactly one space between fields: an empty field or a trailing space is damage. */
    while (nf < 6) {
        f[nf++] = p;
        if ((p = strchr(p, ' ')) == NULL)
            break;
        *p++ = '\0';
    }
    if (nf != 6 || p != NULL)
        return DBT_LAYOUT_BAD_LINE;
    if (strlen(f[0]) != DBT_LAYOUT_SHA256_HEX ||
        !dbt_layout_hex_lower(f[0], DBT_LAYOUT_SHA256_HEX) || strlen(f[1]) != DBT_LAYOUT_SHA1_HEX ||
        !dbt_layout_hex_lower(f[1], DBT_LAYOUT_SHA1_HEX) || strlen(f[2]) != DBT_LAYOUT_HASH_HEX ||
        !dbt_layout_hex_lower(f[2], DBT_LAYOUT_HASH_HEX) || strlen(f[3]) != DBT_LAYOUT_HASH_HEX ||
        !dbt_layout_hex_lower(f[3], DBT_LAYOUT_HASH_HEX) || !serial_ok(f[4]))
        return DBT_LAYOUT_BAD_LINE;
    b = f[5];
    do {
        const char *comma = strchr(b, ',');
        blen = comma != NULL ? (size_t)(comma - b) : strlen(b);
        if (!dbt_layout_name_ok(b, blen))
            return DBT_LAYOUT_BAD_LINE;
        b = comma != NULL ? comma + 1 : NULL;
    } while (b != NULL);
    e->sha256 = f[0];
    e->sha1 = f[1];
    e->subject_hash = hash_value(f[2]);
    e->issuer_hash = hash_value(f[3]);
    e->serial = f[4];
    e->bundles = f[5];
    return 0;
}

int dbt_layout_index_next(char **pos, dbt_layout_index_line *e, const dbt_layout_index_line *prev)
{
    char *line = *pos, *nl;
    int c;

    if (*line == '\0')
        return 0;
    if ((nl = strchr(line, '\n')) == NULL)
        return DBT_LAYOUT_NOT_TERMINATED;
    *nl = '\0';
    *pos = nl + 1;
    if (dbt_layout_index_parse(line, e) != 0)
        return DBT_LAYOUT_BAD_LINE;
    if (prev != NULL && (c = strcmp(prev->sha256, e->sha256)) >= 0)
        return c == 0 ? DBT_LAYOUT_REPEATED : DBT_LAYOUT_UNSORTED;
    return 1;
}

int dbt_layout_index_keys(const char **pos, const char *end, const char **sha256,
                          unsigned long *subject_hash)
{
    const char *line = *pos, *nl;
    /* sha256 sha1 subject-hash issuer-hash serial bundles: the third field starts here */
    const size_t at = DBT_LAYOUT_SHA256_HEX + 1 + DBT_LAYOUT_SHA1_HEX + 1;

    if (line >= end)
        return 0;
    if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
        return DBT_LAYOUT_NOT_TERMINATED;
    if ((size_t)(nl - line) < at + 2 * (DBT_LAYOUT_HASH_HEX + 1) + 2 ||
        line[DBT_LAYOUT_SHA256_HEX] != ' ' || line[at - 1] != ' ' ||
        line[at + DBT_LAYOUT_HASH_HEX] != ' ' ||
        !dbt_layout_hex_lower(line, DBT_LAYOUT_SHA256_HEX) ||
        !dbt_layout_hex_lower(line + at, DBT_LAYOUT_HASH_HEX))
        return DBT_LAYOUT_BAD_LINE;
    *sha256 = line;
    *subject_hash = hash_value(line + at);
    *pos = nl + 1;
    return 1;
}

int dbt_layout_index_has_bundle(const dbt_layout_index_line *e, const char *bundle)
{
    size_t blen = strlen(bundle);
    const char *p = e->bundles;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == blen && memcmp(p, bundle, len) == 0)
            return 1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}
