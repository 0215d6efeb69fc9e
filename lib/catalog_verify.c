/* dbt_catalog_verify: the whole catalog checked against lib/catalog.h, every problem reported
 * with its path and what to do (dbtrust verify prints them), without refusing at the first. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "catalog_int.h"
#include "catsafe.h"
#include "scope.h"
#include "escape.h"
#include "fsutil.h"

#define REBUILD "any change rebuilds the generation: run dbtrust import again for a bundle"

struct vctx {
    dbt_catalog_problem_fn *fn;
    void *arg;
    int n;
};

/* Every problem goes out escaped as a whole (lib/escape.h): paths and entry names in the
 * catalog, and lib/'s messages quoting them, can hold anything, and escaping escaped text again
 * changes nothing. A line is as long as it needs (paths up to PATH_MAX, each byte up to 4). */
static void report(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct vctx *v, const char *fmt, ...)
{
    char *buf = NULL, *esc = NULL;
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    v->n++;
    if (len >= 0 && (buf = malloc((size_t)len + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(buf, (size_t)len + 1, fmt, ap);
        va_end(ap);
        esc = dbt_escape_dup(buf, (size_t)len);
    }
    if (v->fn != NULL)
        v->fn(v->arg, esc != NULL ? esc : "(a problem that cannot be shown: out of memory)");
    free(esc);
    free(buf);
}

#define NO_COMMAND                                                                                 \
    "its path holds bytes shown as \\xNN, so no command is given: a pasted one would name "        \
    "another file"

/*
 * A command that applies cmd ("rm", "rm -r", "chmod go-w", ...) to exactly path, safe to paste
 * into a POSIX shell: the path single-quoted, so that nothing in it is expanded and a leading
 * '-' is an operand. A path with bytes that the printed line shows escaped cannot be spelled
 * that way: the file is then named by its inode number in its parent directory, when the
 * parent's path prints as it is. NULL when no command can be given (or memory runs out).
 */
static char *command_for(const char *cmd, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *q = NULL, *parent = NULL, *out = NULL;
    struct stat st;

    if (!dbt_escape_needed(path, strlen(path))) {
        if ((q = dbt_shell_quote_dup(path)) != NULL)
            out = dbt_cat_asprintf("%s -- %s", cmd, q);
        goto end;
    }
    if (slash == NULL || slash == path || dbt_escape_needed(path, (size_t)(slash - path)) ||
        fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0)
        goto end;
    if ((parent = strndup(path, (size_t)(slash - path))) == NULL ||
        (q = dbt_shell_quote_dup(parent)) == NULL)
        goto end;
    /* -P (find's default): the start is not followed if it is a symlink, so parent must be a
     * path without one at its end; the walk's and these checks' paths are. */
    out = dbt_cat_asprintf("find %s -mindepth 1 -maxdepth 1 -inum %llu -exec %s -- {} +", q,
                           (unsigned long long)st.st_ino, cmd);
end:
    free(parent);
    free(q);
    return out;
}

/*
 * The safety walk (lib/catsafe.c) suggests a command at the end of some messages, with the path
 * the message starts with printed raw ("... remove it (rm PATH)", "run chmod go-w PATH"). This
 * puts the paste-safe form of command_for in its place. A suggestion is recognised only when the
 * text after the command word is the very path the message starts with, followed by exactly the
 * walk's own ending, so a name that imitates a suggestion is never taken for one. Returns a new
 * message, or NULL to use msg as it is (no suggestion in it).
 */
static char *walk_commands(const char *msg)
{
    static const struct {
        const char *marker, *cmd, *tails[3];
        char term;
    } forms[] = {
        {"(rm -r ", "rm -r", {"", " and import again", " or import again"}, ')'},
        {"(rm ", "rm", {"", " and import again", " or import again"}, ')'},
        {"run chmod go-w ", "chmod go-w", {"", NULL, NULL}, '\0'},
        {"run chown root ", "chown root", {" (or remove it)", NULL, NULL}, ' '},
    };
    const char *start = strncmp(msg, "lock file ", 10) == 0 ? msg + 10 : msg;

    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        size_t mlen = strlen(forms[f].marker);

        for (const char *at = strstr(msg, forms[f].marker); at != NULL;
             at = strstr(at + 1, forms[f].marker)) {
            const char *arg = at + mlen, *rest;
            size_t l = 0;
            int tail_ok = 0;
            char *path, *cmd, *out;

            while (arg[l] != '\0' && arg[l] == start[l])
                l++;
            /* The operand ends where the message's own text goes on; the message's subject may
             * share a few bytes more with it (" (or remove it)" and " is owned" share the
             * space), so look back for the end that leaves exactly the walk's ending. */
            for (; l > 0 && !tail_ok; l--) {
                if (arg[l] != forms[f].term)
                    continue;
                rest = arg + l + (forms[f].term == ')' ? 1 : 0);
                for (size_t t = 0; t < 3 && forms[f].tails[t] != NULL; t++)
                    tail_ok |= strcmp(rest, forms[f].tails[t]) == 0;
                if (tail_ok)
                    break;
            }
            if (!tail_ok || l == 0 || (path = strndup(arg, l)) == NULL)
                continue;
            cmd = command_for(forms[f].cmd, path);
            out = dbt_cat_asprintf("%.*s%s%s%s%s", (int)(at - msg), msg,
                                   forms[f].term == ')' ? "(" : "run ",
                                   cmd != NULL ? cmd : forms[f].cmd,
                                   cmd != NULL ? "" : (forms[f].term == ')' ? ": " : " on it: "),
                                   cmd != NULL ? "" : NO_COMMAND);
            if (out != NULL && forms[f].term == ')') {
                char *o2 = dbt_cat_asprintf("%s)%s", out, rest);
                free(out);
                out = o2;
            } else if (out != NULL && forms[f].term == ' ') {
                char *o2 = dbt_cat_asprintf("%s%s", out, rest);
                free(out);
                out = o2;
            }
            free(cmd);
            free(path);
            return out;
        }
    }
    return NULL;
}

static void walk_report(void *arg, const char *problem)
{
    char *safe = walk_commands(problem);

    report(arg, "%s", safe != NULL ? safe : problem);
    free(safe);
}

/* "remove it (rm -- 'PATH')" for a stray entry, or why no command is given. */
static void report_stray(struct vctx *v, const char *path, const char *why)
{
    struct stat st;
    int dir = fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    char *cmd = command_for(dir ? "rm -r" : "rm", path);

    if (cmd != NULL)
        report(v, "%s %s: remove it (%s)", path, why, cmd);
    else
        report(v, "%s %s: remove it (" NO_COMMAND ")", path, why);
    free(cmd);
}

static int cmp_sha(const void *a, const void *b)
{
    return strcmp((const char *)a, ((const dbt_catalog_cert *)b)->sha256);
}

/* bsearch with a NULL array (nothing indexed) is undefined: look only where there is one. */
static const dbt_catalog_cert *find_cert(const dbt_catalog_cert *idx, size_t n, const char *sha)
{
    return n > 0 ? bsearch(sha, idx, n, sizeof(*idx), cmp_sha) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The index line's facts against the certificate itself. */
static void check_facts(struct vctx *v, const char *file, const dbt_catalog_cert *c, X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char sha1[41];
    int ok1 = 0, ok2 = 0;
    unsigned long sh = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok1);
    unsigned long ih = X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL, &ok2);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *serial = bn != NULL ? BN_bn2hex(bn) : NULL;

    sha1[0] = '\0';
    if (X509_digest(x, EVP_sha1(), md, &len) && len == 20)
        for (unsigned int i = 0; i < len; i++)
            snprintf(sha1 + 2 * i, 3, "%02x", md[i]);
    if (strcmp(sha1, c->sha1) != 0)
        report(v, "%s: the index gives SHA-1 %s, the certificate has %s: %s", file, c->sha1, sha1,
               REBUILD);
    if (!ok1 || sh != c->subject_hash)
        report(v, "%s: the index gives subject hash %08lx, the certificate has %08lx: %s", file,
               c->subject_hash, sh, REBUILD);
    if (!ok2 || ih != c->issuer_hash)
        report(v, "%s: the index gives issuer hash %08lx, the certificate has %08lx: %s", file,
               c->issuer_hash, ih, REBUILD);
    if (serial == NULL || strcmp(serial, c->serial) != 0)
        report(v, "%s: the index gives serial %s, the certificate has %s: %s", file, c->serial,
               serial ? serial : "?", REBUILD);
    OPENSSL_free(serial);
    BN_free(bn);
}

struct link {
    unsigned long hash;
    unsigned long n;
    size_t cert; /* index of the certificate it names */
};

static int cmp_link(const void *a, const void *b)
{
    const struct link *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->n > y->n) - (x->n < y->n);
}

/* certs/: every entry is the index, an indexed <sha256>.pem, or a hash link to one whose
 * subject hash it carries; links numbered 0, 1, ... per hash; one link per certificate. */
static void check_certs_dir(struct vctx *v, dbt_catalog *cat, const dbt_catalog_cert *idx,
                            size_t nidx, int have_index)
{
    int fd = openat(cat->genfd, DBT_LAYOUT_CERTS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = NULL;
    struct dirent *de;
    struct link *links = NULL;
    size_t nlinks = 0, cap = 0, entries = 0;
    unsigned *count = calloc(nidx ? nidx : 1, sizeof(*count));

    if (fd < 0 || count == NULL || (d = fdopendir(fd)) == NULL) {
        report(v, "%s: cannot read it (%s): %s", cat->certs_dir, strerror(errno), REBUILD);
        if (fd >= 0)
            close(fd);
        free(count);
        return;
    }
    while ((de = readdir(d)) != NULL && ++entries <= DBT_SAFE_MAX_ENTRIES) {
        const char *e = de->d_name;
        size_t len = strlen(e);
        char target[128];
        ssize_t tl;
        const dbt_catalog_cert *c;
        char *end;

        if (strcmp(e, ".") == 0 || strcmp(e, "..") == 0 || strcmp(e, DBT_LAYOUT_INDEX) == 0)
            continue;
        if (len == 68 && strcmp(e + 64, ".pem") == 0) {
            char sha[65];
            memcpy(sha, e, 64);
            sha[64] = '\0';
            if (have_index && find_cert(idx, nidx, sha) == NULL)
                report(v, "%s/%s is not in the index: nothing reads it; %s", cat->certs_dir, e,
                       REBUILD);
            continue;
        }
        tl = readlinkat(fd, e, target, sizeof(target) - 1);
        unsigned long hash = len >= 10 && e[8] == '.' ? strtoul(e, &end, 16) : 0;
        if (tl < 0 || len < 10 || e[8] != '.' || end != e + 8) {
            char *full = dbt_cat_asprintf("%s/%s", cat->certs_dir, e);
            report_stray(v, full != NULL ? full : e,
                         "is not part of the catalog layout (neither the index, a "
                         "<sha256>.pem nor a <hash>.<n> link)");
            free(full);
            continue;
        }
        target[tl] = '\0';
        if (strlen(target) != 68 || strcmp(target + 64, ".pem") != 0) {
            report(v, "%s/%s -> %s does not name a <sha256>.pem beside it: %s", cat->certs_dir, e,
                   target, REBUILD);
            continue;
        }
        if (!have_index)
            continue;
        target[64] = '\0';
        c = find_cert(idx, nidx, target);
        if (c == NULL) {
            report(v, "%s/%s names %s.pem, which the index does not hold: %s", cat->certs_dir, e,
                   target, REBUILD);
            continue;
        }
        if (c->subject_hash != hash)
            report(v,
                   "%s/%s names a certificate whose subject hash is %08lx: OpenSSL would not "
                   "find it under this name; %s",
                   cat->certs_dir, e, c->subject_hash, REBUILD);
        count[c - idx]++;
        if (nlinks == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct link *nl = realloc(links, nc * sizeof(*nl));
            if (nl == NULL) {
                report(v, "out of memory checking %s", cat->certs_dir);
                goto end;
            }
            links = nl;
            cap = nc;
        }
        links[nlinks++] = (struct link){hash, strtoul(e + 9, NULL, 10), (size_t)(c - idx)};
    }
    if (entries > DBT_SAFE_MAX_ENTRIES)
        report(v, "%s has more than %d entries: not a catalog dbtrust wrote; %s", cat->certs_dir,
               DBT_SAFE_MAX_ENTRIES, REBUILD);
    /* OpenSSL's hashed lookup stops at the first missing number. */
    if (nlinks > 1)
        qsort(links, nlinks, sizeof(*links), cmp_link);
    for (size_t i = 0; i < nlinks; i++) {
        unsigned long want = i > 0 && links[i - 1].hash == links[i].hash ? links[i - 1].n + 1 : 0;
        if (links[i].n != want)
            report(v,
                   "%s/%08lx.%lu: hash links are not numbered 0, 1, ... without a gap, so "
                   "OpenSSL stops before it; %s",
                   cat->certs_dir, links[i].hash, links[i].n, REBUILD);
    }
    for (size_t i = 0; have_index && i < nidx; i++)
        if (count[i] != 1)
            report(v, "%s/%s.pem has %u hash links, not one: %s", cat->certs_dir, idx[i].sha256,
                   count[i], REBUILD);
end:
    free(links);
    free(count);
    closedir(d);
}

static int cmp_hex(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The bundle file as stored: every PEM block is a CERTIFICATE (the loader would skip another
 * kind, such as a private key, without a word), and no certificate is there twice. One pass
 * over the file and one sort: bounded by the file size limit. */
static void check_bundle_file(struct vctx *v, dbt_catalog *cat, const char *name, char (*shas)[65],
                              size_t n)
{
    static const char begin[] = "-----BEGIN ", cert[] = "CERTIFICATE-----";
    unsigned char *data = NULL;
    size_t len = 0, block = 0;
    char rel[DBT_CATALOG_NAME_MAX + 16];
    dbt_err e;

    snprintf(rel, sizeof(rel), DBT_LAYOUT_BUNDLES "/%s.pem", name);
    if (dbt_fs_read_at(cat->genfd, rel, 1, DBT_MAX_INPUT, &data, &len, rel, &e) == 0) {
        for (size_t at = 0; at + sizeof(begin) - 1 <= len; at++) {
            if ((at > 0 && data[at - 1] != '\n') ||
                memcmp(data + at, begin, sizeof(begin) - 1) != 0)
                continue;
            block++;
            at += sizeof(begin) - 1;
            if (at + sizeof(cert) - 1 > len || memcmp(data + at, cert, sizeof(cert) - 1) != 0 ||
                (at + sizeof(cert) - 1 < len && data[at + sizeof(cert) - 1] != '\n' &&
                 data[at + sizeof(cert) - 1] != '\r')) {
                size_t l = 0;
                while (at + l < len && l < 40 && data[at + l] >= 0x20 && data[at + l] < 0x7f)
                    l++;
                report(v,
                       "%s/bundles/%s.pem: PEM block %zu is not a CERTIFICATE (\"%.*s\"): a "
                       "bundle holds certificates only; %s",
                       cat->path, name, block, (int)l, (const char *)data + at, REBUILD);
            }
        }
    }
    free(data);
    if (n < 2 || shas == NULL)
        return;
    char(*sorted)[65] = malloc(n * sizeof(*sorted));
    if (sorted == NULL) {
        report(v, "out of memory checking %s/bundles/%s.pem", cat->path, name);
        return;
    }
    memcpy(sorted, shas, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_hex);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0 && (i < 2 || strcmp(sorted[i - 2], sorted[i])))
            report(v,
                   "%s/bundles/%s.pem holds certificate %s more than once: a bundle holds each "
                   "certificate once; %s",
                   cat->path, name, sorted[i], REBUILD);
    free(sorted);
}

/* Problems shown for one .meta: a hostile one (64 KiB of bad lines) gets a few lines and a count,
 * not thousands. */
#define META_MAX_PROBLEMS 8
/* Bytes of a bad value or line quoted in a message. */
#define SHOWN_MAX 64
/* A change copies the other bundles' .meta values as they are: only importing the bundle itself
 * writes its .meta anew. */
#define META_FIX "import that bundle again, which writes its .meta anew"
/* The longest line the writer makes: "origin=" and an origin of up to 1023 bytes. */
#define META_LINE_MAX (sizeof("origin=") - 1 + sizeof(((dbt_catalog_meta *)0)->origin) - 1)
/* More certificates than a catalog directory may hold entries is not a count dbtrust wrote. */
#define META_COUNT_MAX DBT_SAFE_MAX_ENTRIES

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

/* One of the names the writers record: dbt_format_key of a format, or "mixed" (inputs of
 * different formats in one import). */
static int known_format(const char *s, size_t n)
{
    char key[32];

    if (n == 5 && memcmp(s, "mixed", 5) == 0)
        return 1;
    for (int f = DBT_FMT_UNKNOWN; f <= DBT_FMT_JKS; f++) {
        dbt_format_key((dbt_format)f, key, sizeof(key));
        if (strlen(key) == n && memcmp(key, s, n) == 0)
            return 1;
    }
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" naming a real UTC time (no February 30, no hour 24): what strftime
 * wrote. */
static int valid_time(const char *s, size_t n)
{
    static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
    struct tm tm, back;
    time_t t;

    if (n != sizeof(form) - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (form[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != form[i])
            return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    back = tm;
    if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
        return 0;
    return tm.tm_year == back.tm_year && tm.tm_mon == back.tm_mon && tm.tm_mday == back.tm_mday &&
           tm.tm_hour == back.tm_hour && tm.tm_min == back.tm_min && tm.tm_sec == back.tm_sec;
}

/* What is wrong with value v (n bytes) of key k, or NULL when it has the writer's form. */
static const char *meta_value_problem(int k, const char *v, size_t n)
{
    switch (k) {
    case DBT_LAYOUT_META_ORIGIN: /* recorded escaped, so nothing in it needs escaping */
        if (n >= sizeof(((dbt_catalog_meta *)0)->origin))
            return "is longer than 1023 bytes";
        return dbt_escape_needed(v, n) ? "holds control characters, bidirectional controls or "
                                         "bytes that are not UTF-8 (shown as \\xNN)"
                                       : NULL;
    case DBT_LAYOUT_META_SHA256: /* of the imported input; empty when unknown */
        return n == 0 || (n == DBT_LAYOUT_SHA256_HEX && dbt_layout_hex_lower(v, n))
                   ? NULL
                   : "is not 64 lowercase hex digits";
    case DBT_LAYOUT_META_FORMAT:
        return known_format(v, n) ? NULL
                                  : "is not a format name dbtrust records (pem, der, pkcs-7-pem, "
                                    "pkcs-7-der, pkcs-12, jks, unknown, mixed)";
    case DBT_LAYOUT_META_IMPORTED:
    case DBT_LAYOUT_META_REFRESHED:
        return valid_time(v, n) ? NULL : "is not a UTC time of the form 2026-11-22T18:19:20Z";
    case DBT_LAYOUT_META_SOURCE: {
        size_t i = 0;
        while (i < n &&
               ((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
            i++;
        return n > 0 && n < sizeof(((dbt_catalog_meta *)0)->source) && i == n
                   ? NULL
                   : "is not a source name (a-z, 0-9 and '-', at most 63 bytes)";
    }
    case DBT_LAYOUT_META_SCOPE: {
        char buf[DBT_SCOPE_TEXT_MAX];
        if (n >= sizeof(buf))
            return "is longer than 4095 bytes";
        memcpy(buf, v, n);
        buf[n] = '\0';
        return dbt_scope_check(buf, NULL) == 0 ? NULL
                                               : "is not a scope in the canonical form import "
                                                 "--only-for records";
    }
    case DBT_LAYOUT_META_COUNT:
        if (!all_digits(v, n) || (n > 1 && v[0] == '0'))
            return "is not a decimal number without leading zeros";
        if (n > 7 || strtoul(v, NULL, 10) > META_COUNT_MAX)
            return "is more certificates than a catalog holds (1000000)";
        return NULL;
    }
    return NULL;
}

/* The .meta as written: the lines origin=, sha256=, format=, imported=, count=, scope= (in
 * a generation with a trust view) and the optional source= and refreshed= (each once, no
 * other line, each ending in a newline), each value in the form its writer gives it. The
 * readers ignore what they do not use; verify says what no dbtrust wrote. One pass over at most
 * DBT_CAT_META_MAX bytes. */
static void check_meta_file(struct vctx *v, dbt_catalog *cat, const char *name)
{
    const char *const *keys = dbt_layout_meta_keys;
    size_t seen[DBT_LAYOUT_META_NKEYS] = {0};
    char rel[DBT_CATALOG_NAME_MAX + 16], *file;
    unsigned char *data = NULL;
    size_t len = 0, line = 0, shown = 0, hidden = 0;
    dbt_err e;

    snprintf(rel, sizeof(rel), DBT_LAYOUT_BUNDLES "/%s.meta", name);
    if ((file = dbt_cat_asprintf("%s/%s/%s", cat->path, cat->gen_name, rel)) == NULL)
        return;
    /* A .meta that cannot be read, or holds a NUL, was reported by the bundle's load. */
    if (dbt_fs_read_at(cat->genfd, rel, 1, DBT_CAT_META_MAX, &data, &len, file, &e) != 0 ||
        strlen((char *)data) != len)
        goto end;
#define META_PROBLEM(...)                                                                          \
    do {                                                                                           \
        if (shown++ < META_MAX_PROBLEMS)                                                           \
            report(v, __VA_ARGS__);                                                                \
        else                                                                                       \
            hidden++;                                                                              \
    } while (0)
    for (const char *p = (const char *)data, *stop = p + len; p < stop;) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p)), *eq;
        size_t l = eol != NULL ? (size_t)(eol - p) : (size_t)(stop - p), kl, k;
        const char *why;

        line++;
        if (eol == NULL)
            META_PROBLEM("%s line %zu does not end with a newline: the file is cut short; %s", file,
                         line, META_FIX);
        eq = memchr(p, '=', l);
        kl = eq != NULL ? (size_t)(eq - p) : l;
        k = eq != NULL ? (size_t)dbt_layout_meta_key(p, kl) : (size_t)-1;
        if (k < DBT_LAYOUT_META_NKEYS) {
            size_t vl = l - kl - 1;

            if (seen[k] != 0) {
                META_PROBLEM("%s line %zu: key %s again (first on line %zu): readers would take "
                             "one of them; %s",
                             file, line, keys[k], seen[k], META_FIX);
            } else {
                seen[k] = line;
                /* The value shown is cut at SHOWN_MAX bytes: a line stays readable. */
                if ((why = meta_value_problem((int)k, eq + 1, vl)) != NULL)
                    META_PROBLEM("%s line %zu: %s value \"%.*s%s\" %s: %s", file, line, keys[k],
                                 (int)(vl > SHOWN_MAX ? SHOWN_MAX : vl), eq + 1,
                                 vl > SHOWN_MAX ? "..." : "", why, META_FIX);
            }
        } else if (l > META_LINE_MAX) {
            META_PROBLEM("%s line %zu is %zu bytes long, more than any line dbtrust writes "
                         "(%zu): %s",
                         file, line, l, (size_t)META_LINE_MAX, META_FIX);
        } else if (eq == NULL) {
            META_PROBLEM("%s line %zu (\"%.*s\") is not a key=value line: %s", file, line,
                         (int)(l > SHOWN_MAX ? SHOWN_MAX : l), p, META_FIX);
        } else {
            META_PROBLEM("%s line %zu: key \"%.*s\" is none that dbtrust writes (origin, "
                         "sha256, format, imported, count, scope, source, refreshed): %s",
                         file, line, (int)(kl > SHOWN_MAX ? SHOWN_MAX : kl), p, META_FIX);
        }
        p += l + (eol != NULL ? 1 : 0);
    }
    for (size_t k = 0; k < DBT_LAYOUT_META_NKEYS; k++)
        if (seen[k] == 0 && k != DBT_LAYOUT_META_SOURCE && k != DBT_LAYOUT_META_REFRESHED &&
            (k != DBT_LAYOUT_META_SCOPE || dbt_cat_has_view(cat)))
            META_PROBLEM("%s has no %s line: %s", file, keys[k], META_FIX);
#undef META_PROBLEM
    if (hidden > 0)
        report(v, "%s: %zu more problems in this file not shown: %s", file, hidden, META_FIX);
end:
    free(data);
    free(file);
}

/* Entries of dir in the generation, counting no further than max + 1: the bundle checks list
 * and load every name, so a bundles/ too big for a catalog is not handed to them. */
static size_t count_entries(int genfd, const char *dir, size_t max)
{
    int fd = openat(genfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d;
    size_t n = 0;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    while (n <= max && readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Every bundle loads (meta parses, PEM parses, count as the meta says) and agrees with the
 * index both ways; bundles/ holds nothing else. */
static void check_bundles(struct vctx *v, dbt_catalog *cat, const dbt_catalog_cert *idx,
                          size_t nidx, int have_index)
{
    char **names = NULL, (**shas)[65] = NULL;
    size_t nnames = 0, *nshas = NULL;
    dbt_err e;
    int fd;
    DIR *d;
    struct dirent *de;

    if (dbt_cat_list_names(cat, &names, &nnames, &e) != 0) {
        report(v, "%s", e.msg);
        return;
    }
    shas = calloc(nnames ? nnames : 1, sizeof(*shas));
    nshas = calloc(nnames ? nnames : 1, sizeof(*nshas));
    if (shas == NULL || nshas == NULL) {
        report(v, "out of memory checking %s/bundles", cat->path);
        goto end;
    }
    for (size_t i = 0; i < nnames; i++) {
        dbt_bundle *b = NULL;

        if (dbt_catalog_load(cat, names[i], &b, &e) != 0) {
            report(v, "%s", e.msg);
            check_meta_file(v, cat, names[i]);
            continue;
        }
        shas[i] = calloc(b->n ? b->n : 1, sizeof(**shas));
        for (size_t j = 0; shas[i] != NULL && j < b->n; j++) {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            const dbt_catalog_cert *c;

            if (!X509_digest(b->certs[j].x509, EVP_sha256(), md, &len))
                continue;
            for (unsigned int k = 0; k < len; k++)
                snprintf(shas[i][j] + 2 * k, 3, "%02x", md[k]);
            nshas[i]++;
            if (!have_index)
                continue;
            c = find_cert(idx, nidx, shas[i][j]);
            int listed = 0;
            for (size_t k = 0; c != NULL && k < c->nbundles; k++)
                listed |= strcmp(c->bundles[k], names[i]) == 0;
            if (!listed)
                report(v,
                       "%s/bundles/%s.pem: certificate %zu (SHA-256 %s) is not in the index "
                       "under this bundle, so the provider and the hashed view miss it; %s",
                       cat->path, names[i], j + 1, shas[i][j], REBUILD);
        }
        dbt_bundle_free(b);
        check_bundle_file(v, cat, names[i], shas[i], nshas[i]);
        check_meta_file(v, cat, names[i]);
    }
    /* The other way: each bundle the index names holds the certificate. */
    for (size_t i = 0; have_index && i < nidx; i++)
        for (size_t k = 0; k < idx[i].nbundles; k++) {
            const char *name = idx[i].bundles[k], **found;
            int holds = 0;

            found = nnames > 0 ? bsearch(&name, names, nnames, sizeof(*names), cmp_str) : NULL;
            if (found != NULL) {
                size_t bi = (size_t)((char **)found - names);
                for (size_t j = 0; j < nshas[bi] && !holds; j++)
                    holds = strcmp(shas[bi][j], idx[i].sha256) == 0;
            }
            if (!holds)
                report(v, "%s/index: %s is listed under bundle %s, which %s: %s", cat->certs_dir,
                       idx[i].sha256, name, found == NULL ? "does not exist" : "does not hold it",
                       REBUILD);
        }
    /* Nothing but <name>.pem and its <name>.meta. */
    fd = openat(cat->genfd, DBT_LAYOUT_BUNDLES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && (d = fdopendir(fd)) != NULL) {
        size_t entries = 0;
        while ((de = readdir(d)) != NULL && ++entries <= DBT_SAFE_MAX_ENTRIES) {
            char name[DBT_CATALOG_NAME_MAX + 1];
            size_t len = strlen(de->d_name), base;
            const char *p = name;
            int ok = 0;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            base = len > 5 && strcmp(de->d_name + len - 5, ".meta") == 0  ? len - 5
                   : len > 4 && strcmp(de->d_name + len - 4, ".pem") == 0 ? len - 4
                                                                          : 0;
            if (base > 0 && base <= DBT_CATALOG_NAME_MAX) {
                memcpy(name, de->d_name, base);
                name[base] = '\0';
                ok = nnames > 0 && bsearch(&p, names, nnames, sizeof(*names), cmp_str) != NULL;
            }
            if (!ok) {
                /* The generation's real path: find does not follow the "bundles" link. */
                char *full =
                    dbt_cat_asprintf("%s/%s/bundles/%s", cat->path, cat->gen_name, de->d_name);
                report_stray(v, full != NULL ? full : de->d_name,
                             "is not a bundle's .pem or .meta (or the .meta of a bundle without "
                             "a .pem)");
                free(full);
            }
        }
        closedir(d);
    } else if (fd >= 0) {
        close(fd);
    }
end:
    for (size_t i = 0; shas != NULL && i < nnames; i++)
        free(shas[i]);
    free(shas);
    free(nshas);
    dbt_cat_free_names(names, nnames);
}

/* ---------- the trust view ---------- */

struct tlink {
    unsigned long hash;
    int n, up;
    char sha[65];
};

static int cmp_tlink(const void *a, const void *b)
{
    const struct tlink *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->n > y->n) - (x->n < y->n);
}

struct tfile {
    char sha[65];
    X509 *x;
    unsigned links;
};

/* The scope each indexed certificate is served with ("" when an unscoped bundle holds it), as
 * the writer computes it: the union of its bundles' scopes. NULL entries: not computable. */
static char **served_scopes(struct vctx *v, dbt_catalog *cat, const dbt_catalog_cert *idx,
                            size_t nidx)
{
    dbt_catalog_entry *bundles = NULL;
    size_t nb = 0;
    char **out = calloc(nidx ? nidx : 1, sizeof(*out));
    dbt_err e;

    if (out == NULL || dbt_catalog_list(cat, &bundles, &nb, &e) != 0) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < nidx; i++) {
        int unscoped = 0;
        if ((out[i] = calloc(1, DBT_SCOPE_TEXT_MAX)) == NULL)
            break;
        for (size_t k = 0; k < idx[i].nbundles && !unscoped; k++)
            for (size_t j = 0; j < nb; j++)
                if (strcmp(bundles[j].name, idx[i].bundles[k]) == 0) {
                    if (bundles[j].meta.scope[0] == '\0')
                        unscoped = 1;
                    else if (dbt_scope_union(out[i], DBT_SCOPE_TEXT_MAX, bundles[j].meta.scope,
                                             &e) != 0)
                        report(v, "%s/%s/bundles: %s", cat->path, cat->gen_name, e.msg);
                    break;
                }
        if (unscoped)
            out[i][0] = '\0';
    }
    free(bundles);
    return out;
}

/* Whether x is exactly the scoped form of catalog certificate c for scope. */
static int same_constrained_root(dbt_catalog *cat, const dbt_catalog_cert *c, X509 *x,
                                 const char *scope)
{
    unsigned char *a = NULL, *b = NULL;
    X509 *orig = NULL, *want = NULL;
    int la, lb, same = 0;
    dbt_err e;

    if (dbt_catalog_load_cert(cat, c->sha256, &orig, &e) != 0 ||
        (want = dbt_scope_constrain_root(orig, scope, &e)) == NULL)
        goto end;
    la = i2d_X509(want, &a);
    lb = i2d_X509(x, &b);
    same = la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
end:
    OPENSSL_free(a);
    OPENSSL_free(b);
    X509_free(orig);
    X509_free(want);
    ERR_clear_error();
    return same;
}

/* trust/ as the writer makes it: a link to ../certs/ for each certificate an unscoped bundle
 * holds, and for each other one its scoped form with the scope of its bundles (a root
 * constrained in place, any other CA a cross-certificate signed by the generation's one anchor);
 * each file linked once, links numbered from 0. */
static void check_trust_dir(struct vctx *v, dbt_catalog *cat, const dbt_catalog_cert *idx,
                            size_t nidx)
{
    char *dir = dbt_cat_asprintf("%s/%s/" DBT_LAYOUT_TRUST, cat->path, cat->gen_name);
    struct tlink *links = NULL;
    struct tfile *files = NULL;
    size_t nl = 0, nf = 0, lcap = 256, fcap = 256;
    unsigned char *served = NULL;
    char **scopes = NULL;
    X509 *anchor = NULL;
    struct dirent *de;
    DIR *d = NULL;
    int fd;

    if (dir == NULL)
        return;
    fd = openat(cat->genfd, DBT_LAYOUT_TRUST, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        dbt_err e;
        /* Written before scopes (the next change adds it), unless a bundle is scoped. */
        if (dbt_cat_legacy_view_ok(cat, &e) != 0)
            report(v, "%s", e.msg);
        goto end;
    }
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        report(v, "%s: cannot read it (%s): %s", dir, strerror(errno), REBUILD);
        if (fd >= 0)
            close(fd);
        goto end;
    }
    /* A bundle whose .meta cannot be read is reported by the bundle checks; the view is then
     * not checked against scopes that cannot be known. */
    if ((scopes = served_scopes(v, cat, idx, nidx)) == NULL)
        goto end;
    links = calloc(lcap, sizeof(*links));
    files = calloc(fcap, sizeof(*files));
    served = calloc(nidx ? nidx : 1, 1);
    if (links == NULL || files == NULL || served == NULL) {
        report(v, "out of memory checking %s", dir);
        goto end;
    }
    while ((de = readdir(d)) != NULL) {
        char target[128];
        ssize_t len;
        unsigned long hash;
        int n, up;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (nl + nf >= DBT_SAFE_MAX_ENTRIES) {
            report(v, "%s has more than %d entries: not a catalog dbtrust wrote; %s", dir,
                   DBT_SAFE_MAX_ENTRIES, REBUILD);
            goto end;
        }
        if (nl == lcap || nf == fcap) {
            int lfull = nl == lcap;
            size_t ncap = 2 * (lfull ? lcap : fcap);
            void *p = lfull ? realloc(links, ncap * sizeof(*links))
                            : realloc(files, ncap * sizeof(*files));
            if (p == NULL) {
                report(v, "out of memory checking %s", dir);
                goto end;
            }
            if (lfull) {
                links = p;
                lcap = ncap;
            } else {
                files = p;
                memset(files + fcap, 0, (ncap - fcap) * sizeof(*files));
                fcap = ncap;
            }
        }
        if (dbt_layout_cert_file_name(de->d_name)) {
            dbt_catalog_trust t = {{0}, 0, 1};
            dbt_err e;
            memcpy(t.sha256, de->d_name, 64);
            memcpy(files[nf].sha, de->d_name, 64);
            if (dbt_catalog_load_trust_cert(cat, &t, &files[nf].x, &e) != 0)
                report(v, "%s: %s", e.msg, REBUILD);
            nf++;
            continue;
        }
        /* Anything else the safety walk reported. */
        if (!dbt_layout_hash_link_name(de->d_name, &hash, &n) ||
            (len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1)) < 0)
            continue;
        target[len] = '\0';
        if (!dbt_layout_trust_target(target, &up))
            continue;
        links[nl].hash = hash;
        links[nl].n = n;
        links[nl].up = up;
        memcpy(links[nl].sha, up ? target + strlen(DBT_LAYOUT_TRUST_UP) : target, 64);
        nl++;
    }
    /* The anchor: the one file that is self-signed in the anchor's form. */
    for (size_t i = 0; i < nf; i++)
        if (files[i].x != NULL && dbt_scope_is_anchor(files[i].x)) {
            if (anchor != NULL)
                report(v, "%s/%s.pem is a second local anchor: %s", dir, files[i].sha, REBUILD);
            else
                anchor = files[i].x;
        }
    for (size_t i = 0; i < nf; i++) {
        X509 *x = files[i].x;
        const dbt_catalog_cert *c = NULL;
        size_t k;

        if (x == NULL || x == anchor)
            continue;
        for (k = 0; k < nidx && c == NULL; k++) {
            X509 *orig = NULL;
            dbt_err e;
            if (scopes[k] == NULL || scopes[k][0] == '\0' || served[k] ||
                X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL) !=
                    idx[k].subject_hash ||
                dbt_catalog_load_cert(cat, idx[k].sha256, &orig, &e) != 0)
                continue;
            if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(orig)) == 0 &&
                EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(orig)) == 1)
                c = &idx[k];
            X509_free(orig);
        }
        if (c == NULL) {
            report(v,
                   "%s/%s.pem is no scoped form of a certificate that only scoped bundles "
                   "hold: %s",
                   dir, files[i].sha, REBUILD);
            continue;
        }
        served[c - idx] = 1;
        /* A root's scoped form is the root with its scope's constraint, byte for byte what the
         * writer makes of it. */
        if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) == 0) {
            if (!same_constrained_root(cat, c, x, scopes[c - idx]))
                report(v,
                       "%s/%s.pem is not the root it names with the scope of its bundles (%s) "
                       "as its name constraint: %s",
                       dir, files[i].sha, scopes[c - idx], REBUILD);
        } else if (anchor == NULL ||
                   X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(anchor)) != 0 ||
                   X509_verify(x, X509_get0_pubkey(anchor)) != 1)
            report(v, "%s/%s.pem is not signed by the generation's local anchor: %s", dir,
                   files[i].sha, REBUILD);
        else if (!dbt_scope_matches(x, scopes[c - idx]))
            report(v,
                   "%s/%s.pem does not carry the scope of its bundles (%s) as its name "
                   "constraint: %s",
                   dir, files[i].sha, scopes[c - idx], REBUILD);
        ERR_clear_error();
    }
    qsort(links, nl, sizeof(*links), cmp_tlink);
    for (size_t i = 0; i < nl; i++) {
        if (links[i].n != (i > 0 && links[i - 1].hash == links[i].hash ? links[i - 1].n + 1 : 0))
            report(v,
                   "%s/%08lx.%d: hash links of a subject are numbered 0, 1, ... without a "
                   "gap: %s",
                   dir, links[i].hash, links[i].n, REBUILD);
        if (links[i].up) {
            const dbt_catalog_cert *c = find_cert(idx, nidx, links[i].sha);
            if (c == NULL)
                report(v, "%s/%08lx.%d names ../certs/%s.pem, which the index does not hold: %s",
                       dir, links[i].hash, links[i].n, links[i].sha, REBUILD);
            else if (scopes[c - idx] != NULL && scopes[c - idx][0] != '\0')
                report(v,
                       "%s/%08lx.%d serves %s as it is, though only scoped bundles hold it: "
                       "OpenSSL would trust it for every name; %s",
                       dir, links[i].hash, links[i].n, links[i].sha, REBUILD);
            else if (c->subject_hash != links[i].hash)
                report(v, "%s/%08lx.%d names a certificate whose subject hash is %08lx: %s", dir,
                       links[i].hash, links[i].n, c->subject_hash, REBUILD);
            else if (served[c - idx]++)
                report(v, "%s/%08lx.%d links %s a second time: %s", dir, links[i].hash, links[i].n,
                       links[i].sha, REBUILD);
        } else {
            size_t f;
            for (f = 0; f < nf && strcmp(files[f].sha, links[i].sha) != 0; f++)
                ;
            if (f == nf)
                report(v, "%s/%08lx.%d names %s.pem, which is not beside it: %s", dir,
                       links[i].hash, links[i].n, links[i].sha, REBUILD);
            else if (files[f].x != NULL && X509_NAME_hash_ex(X509_get_subject_name(files[f].x),
                                                             NULL, NULL, NULL) != links[i].hash)
                report(v, "%s/%08lx.%d names a certificate of another subject hash: %s", dir,
                       links[i].hash, links[i].n, REBUILD);
            else
                files[f].links++;
        }
    }
    for (size_t f = 0; f < nf; f++)
        if (files[f].links != 1)
            report(v, "%s/%s.pem has %u hash links, not one: %s", dir, files[f].sha, files[f].links,
                   REBUILD);
    for (size_t i = 0; i < nidx; i++)
        if (!served[i] && scopes[i] != NULL)
            report(v, "%s: %s is not served (%s): %s", dir, idx[i].sha256,
                   scopes[i][0] ? "no scoped form of it" : "no link to it", REBUILD);
end:
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; files != NULL && i < nf; i++)
        X509_free(files[i].x);
    for (size_t i = 0; scopes != NULL && i < nidx; i++)
        free(scopes[i]);
    free(scopes);
    free(served);
    free(files);
    free(links);
    free(dir);
}

/* trust.pem: byte for byte the certificates trust/'s links lead to, in link order, as the
 * writer encodes them. A client that reads it (NODE_EXTRA_CA_CERTS) trusts whatever it holds,
 * so a file that differs from the view would trust other CAs, or trust scoped ones unscoped.
 * Reads at most the view's size of it. */
static void check_trust_pem(struct vctx *v, dbt_catalog *cat)
{
    char *file = dbt_cat_asprintf("%s/%s/" DBT_LAYOUT_TRUST_PEM, cat->path, cat->gen_name);
    dbt_catalog_trust *view = NULL;
    size_t nview = 0, *ends = NULL, got = 0, k = 0;
    unsigned char *data = NULL;
    char *want = NULL, lbuf[64];
    long wlen = 0;
    struct stat st;
    BIO *mem = NULL;
    dbt_err e;

    if (file == NULL)
        return;
    if (fstatat(cat->genfd, DBT_LAYOUT_TRUST_PEM, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        /* A generation without trust/ predates both; the next change writes them. */
        if (errno == ENOENT && dbt_cat_has_view(cat))
            report(v,
                   "%s is missing: a client given it as its one file of extra CAs "
                   "(NODE_EXTRA_CA_CERTS of dbtrust env) gets none of the catalog's; %s",
                   file, REBUILD);
        else if (errno != ENOENT)
            report(v, "cannot look at %s (%s): %s", file, strerror(errno), REBUILD);
        goto end;
    }
    if (!S_ISREG(st.st_mode))
        goto end; /* the safety walk reported its kind */
    /* A view that cannot be read or loaded is reported by the trust/ and certificate checks. */
    if (dbt_catalog_trust_view(cat, &view, &nview, &e) != 0)
        goto end;
    if ((mem = BIO_new(BIO_s_mem())) == NULL ||
        (ends = calloc(nview ? nview : 1, sizeof(*ends))) == NULL) {
        report(v, "out of memory checking %s", file);
        goto end;
    }
    for (size_t i = 0; i < nview; i++) {
        unsigned char *der = NULL;
        X509 *x = NULL;
        int dlen, ok;

        if (dbt_catalog_load_trust_cert(cat, &view[i], &x, &e) != 0)
            goto end;
        dlen = i2d_X509(x, &der);
        ok = dlen > 0 && PEM_write_bio(mem, PEM_STRING_X509, "", der, dlen);
        OPENSSL_free(der);
        X509_free(x);
        if (!ok) {
            report(v, "cannot encode the trust view to check %s", file);
            goto end;
        }
        ends[i] = (size_t)BIO_get_mem_data(mem, &want);
    }
    wlen = BIO_get_mem_data(mem, &want);
    if (wlen < 0)
        wlen = 0;
    if ((unsigned long long)st.st_size == (unsigned long long)wlen &&
        dbt_fs_read_at(cat->genfd, DBT_LAYOUT_TRUST_PEM, 1, (size_t)wlen, &data, &got, file, &e) !=
            0) {
        report(v, "%s: %s", e.msg, REBUILD);
        goto end;
    }
    /* An empty view has no buffer at all (want is NULL), which memcmp may not be given. */
    if (data != NULL && got == (size_t)wlen && (got == 0 || memcmp(data, want, got) == 0))
        goto end;
    if (data != NULL) {
        size_t at = 0;
        while (at < got && data[at] == (unsigned char)want[at])
            at++;
        while (k < nview && ends[k] <= at)
            k++;
    } else {
        k = nview;
    }
    if (k < nview)
        snprintf(lbuf, sizeof(lbuf), "it differs from its certificate %zu on", k + 1);
    else
        snprintf(lbuf, sizeof(lbuf), "its length differs");
    report(v,
           "%s is not the trust view as one PEM file (%lld bytes; the view's %zu certificates "
           "are %ld), %s: a client reading it would trust other CAs than OpenSSL's default "
           "trust gets from the catalog; %s",
           file, (long long)st.st_size, nview, wlen, lbuf, REBUILD);
end:
    BIO_free(mem);
    free(ends);
    free(view);
    free(data);
    free(file);
}

/* The fixed link a client is given for trust.pem: missing, it would load nothing. */
static void check_trust_pem_link(struct vctx *v, dbt_catalog *cat)
{
    struct stat st;

    if (fstatat(cat->genfd, DBT_LAYOUT_TRUST_PEM, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        fstatat(cat->dirfd, DBT_LAYOUT_TRUST_PEM, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
        report(v,
               "%s/" DBT_LAYOUT_TRUST_PEM " is missing (the link to current/" DBT_LAYOUT_TRUST_PEM
               " that dbtrust env names): %s",
               cat->path, REBUILD);
}

int dbt_catalog_verify(const char *path, dbt_catalog_problem_fn *fn, void *arg, dbt_err *err)
{
    struct vctx v = {fn, arg, 0};
    struct dbt_catalog cat;
    dbt_catalog_cert *idx = NULL;
    size_t nidx = 0;
    char target[64];
    ssize_t len;
    unsigned long long n;
    int have_index = 0, rc;
    dbt_err e;

    memset(&cat, 0, sizeof(cat));
    cat.dirfd = cat.lockfd = cat.genfd = -1;
    if ((cat.path = realpath(path, NULL)) == NULL) {
        if (errno == ENOENT)
            dbt_err_set(err, "catalog %s does not exist", path);
        else
            dbt_err_sys(err, "cannot open catalog %s", path);
        return -1;
    }
    if ((cat.dirfd = open(cat.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        dbt_err_sys(err, "cannot open catalog %s", cat.path);
        free(cat.path);
        return -1;
    }
    dbt_safe_walk(cat.dirfd, cat.path, NULL, walk_report, &v, NULL);

    len = readlinkat(cat.dirfd, DBT_CAT_CURRENT, target, sizeof(target) - 1);
    if (len < 0 || (target[len] = '\0', dbt_safe_gen_name(target, &n) != 0)) {
        report(&v,
               "%s/" DBT_CAT_CURRENT " is not a symlink to a .gen-N generation: the catalog has "
               "nothing to read; move the directory away and import the bundles again",
               cat.path);
        goto end;
    }
    rc = dbt_safe_hold_gen(cat.dirfd, target, &cat.genfd);
    if (rc != 0) {
        report(&v,
               "%s/" DBT_CAT_CURRENT " -> %s, which is missing: the catalog has nothing to read; "
               "move the directory away and import the bundles again",
               cat.path, target);
        goto end;
    }
    cat.gen = n;
    snprintf(cat.gen_name, sizeof(cat.gen_name), "%s", target);
    if ((cat.certs_dir = dbt_cat_asprintf("%s/%s/certs", cat.path, target)) == NULL) {
        dbt_err_set(err, "out of memory");
        v.n = -1;
        goto end;
    }

    if (dbt_catalog_certs(&cat, &idx, &nidx, &e) != 0)
        report(&v, "%s", e.msg);
    else
        have_index = 1;
    for (size_t i = 0; i < nidx; i++) {
        X509 *x = NULL;
        char *file = dbt_cat_asprintf("%s/%s.pem", cat.certs_dir, idx[i].sha256);

        if (dbt_catalog_load_cert(&cat, idx[i].sha256, &x, &e) != 0)
            report(&v, "%s: %s", e.msg, REBUILD);
        else
            check_facts(&v, file ? file : cat.certs_dir, &idx[i], x);
        X509_free(x);
        free(file);
    }
    check_certs_dir(&v, &cat, idx, nidx, have_index);
    if (have_index)
        check_trust_dir(&v, &cat, idx, nidx);
    check_trust_pem(&v, &cat);
    check_trust_pem_link(&v, &cat);
    /* "." and ".." count too: a margin of two entries, not a catalog's worth. */
    if (count_entries(cat.genfd, DBT_LAYOUT_BUNDLES, DBT_SAFE_MAX_ENTRIES) > DBT_SAFE_MAX_ENTRIES)
        report(&v,
               "%s/%s/bundles has more than %d entries: not a catalog dbtrust wrote, its bundles "
               "are not checked one by one; move the catalog away and import the bundles again",
               cat.path, cat.gen_name, DBT_SAFE_MAX_ENTRIES);
    else
        check_bundles(&v, &cat, idx, nidx, have_index);
end:
    dbt_catalog_certs_free(idx, nidx);
    if (cat.genfd >= 0)
        close(cat.genfd);
    close(cat.dirfd);
    free(cat.certs_dir);
    free(cat.path);
    return v.n;
}
