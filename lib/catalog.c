/* The catalog: open and safety checks, read access to a consistent snapshot, and transactions
 * that build a whole new generation beside the current one and swap it in with one rename. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "catalog.h"
#include "fsutil.h"

#define GEN_PREFIX ".gen-"
#define CURRENT "current"
#define CURRENT_TMP ".current.tmp"
#define LOCK_NAME ".lock"
#define INDEX_HEADER "dbtrust-index 1"
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define META_MAX (64u * 1024u)

struct dbt_catalog {
    char *path; /* absolute, symlink-free */
    int dirfd;  /* the catalog directory */
    int lockfd; /* writers only, else -1 */
    int genfd;  /* the snapshot generation, -1 before the first commit */
    unsigned long long gen;
    char gen_name[32]; /* ".gen-N" */
    char *certs_dir;   /* "<path>/.gen-N/certs" */
    int in_txn;
};

struct tcert {
    X509 *x;
    char sha[65];
};

struct tbundle {
    char name[DBT_CATALOG_NAME_MAX + 1];
    dbt_catalog_meta meta;
    struct tcert *c;
    size_t n;
};

struct dbt_catalog_txn {
    dbt_catalog *cat;
    struct tbundle *b; /* sorted by name */
    size_t nb;
};

/* ---------- small helpers ---------- */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static int is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0' || s[n] == '.';
}

/* ".gen-<N>" with N decimal, no sign, no leading zero; anything else is not a generation. */
static int parse_gen_name(const char *s, unsigned long long *n)
{
    const char *p;
    unsigned long long v = 0;

    if (strncmp(s, GEN_PREFIX, strlen(GEN_PREFIX)) != 0)
        return -1;
    p = s + strlen(GEN_PREFIX);
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

/* "<64 hex>.pem": the target of every hash link. */
static int is_cert_file_name(const char *s)
{
    return strlen(s) == 68 && is_hex_lower(s, 64) && strcmp(s + 64, ".pem") == 0;
}

/* "<8 hex>.<n>": an openssl rehash link name. */
static int is_hash_link_name(const char *s)
{
    size_t len = strlen(s);

    if (len < 10 || !is_hex_lower(s, 8) || s[8] != '.')
        return 0;
    for (size_t i = 9; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int cert_sha256(X509 *x, char out[65], dbt_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!X509_digest(x, EVP_sha256(), md, &len) || len != 32) {
        dbt_err_ossl(err, "cannot compute a SHA-256 fingerprint");
        return -1;
    }
    for (unsigned int i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_sha(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

void dbt_catalog_change_clear(dbt_catalog_change *c)
{
    if (c == NULL)
        return;
    free(c->added);
    free(c->removed);
    free(c->bundles);
    memset(c, 0, sizeof(*c));
}

int dbt_catalog_check_name(const char *name, dbt_err *err)
{
    size_t len = strlen(name);

    if (len == 0 || len > DBT_CATALOG_NAME_MAX || name[0] == '.' || name[0] == '-')
        goto bad;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
            goto bad;
    return 0;
bad:
    dbt_err_set(err,
                "invalid bundle name \"%s\": use 1 to %d letters, digits, '.', '_' or '-', "
                "not starting with '.' or '-' (for example aws-rds-global)",
                name, DBT_CATALOG_NAME_MAX);
    return -1;
}

int dbt_catalog_parse_sha256(const char *in, char out[65], dbt_err *err)
{
    size_t n = 0;

    for (const char *p = in; *p != '\0'; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || n >= 64)
            goto bad;
        out[n++] = (char)tolower((unsigned char)*p);
    }
    if (n != 64)
        goto bad;
    out[64] = '\0';
    return 0;
bad:
    dbt_err_set(err,
                "\"%s\" is not a SHA-256 fingerprint: give 64 hex digits, with or without ':' "
                "(dbtrust list shows them)",
                in);
    return -1;
}

const char *dbt_catalog_default_path(char *buf, size_t len)
{
    const char *env, *home;
    int n;

#ifdef HAVE_SECURE_GETENV
    env = secure_getenv("DBTRUST_CATALOG");
#else
    env = getenv("DBTRUST_CATALOG");
#endif
    if (env != NULL && env[0] != '\0')
        n = snprintf(buf, len, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(buf, len, "/etc/dbtrust");
    else {
#ifdef HAVE_SECURE_GETENV
        env = secure_getenv("XDG_DATA_HOME");
        home = secure_getenv("HOME");
#else
        env = getenv("XDG_DATA_HOME");
        home = getenv("HOME");
#endif
        /* The XDG spec says relative values are invalid and must be ignored. */
        if (env != NULL && env[0] == '/') {
            n = snprintf(buf, len, "%s/dbtrust", env);
        } else {
            if (home == NULL || home[0] != '/') {
                struct passwd *pw = getpwuid(geteuid());
                home = pw != NULL ? pw->pw_dir : NULL;
            }
            if (home == NULL || home[0] != '/')
                return NULL;
            n = snprintf(buf, len, "%s/.local/share/dbtrust", home);
        }
    }
    if (n < 0 || (size_t)n >= len)
        return NULL;
    return buf;
}

/* ---------- safety walk ---------- */

enum where { W_TOP, W_GEN, W_GEN_CERTS, W_OTHER };

static int check_link(dbt_catalog *cat, int dirfd, const char *name, const char *full,
                      enum where where, dbt_err *err)
{
    char target[PATH_MAX], *real = NULL;
    ssize_t len;
    unsigned long long n;
    size_t plen = strlen(cat->path);
    int ok = 0;

    len = readlinkat(dirfd, name, target, sizeof(target) - 1);
    if (len < 0) {
        if (errno == ENOENT)
            return 0; /* removed by a writer while we looked */
        dbt_err_sys(err, "cannot read symlink %s", full);
        return -1;
    }
    target[len] = '\0';
    if (where == W_TOP && (strcmp(name, CURRENT) == 0 || strcmp(name, CURRENT_TMP) == 0))
        ok = parse_gen_name(target, &n) == 0;
    else if (where == W_TOP && strcmp(name, "bundles") == 0)
        ok = strcmp(target, CURRENT "/bundles") == 0;
    else if (where == W_TOP && strcmp(name, "certs") == 0)
        ok = strcmp(target, CURRENT "/certs") == 0;
    else if (where == W_GEN_CERTS && is_hash_link_name(name))
        ok = is_cert_file_name(target);
    else {
        /* Not one of the catalog's own links: tolerated only if it stays inside. */
        real = realpath(full, NULL);
        if (real == NULL && errno == ENOENT) {
            dbt_err_set(err, "%s -> %s is a symlink to nothing in catalog %s: remove it (rm %s)",
                        full, target, cat->path, full);
            return -1;
        }
        ok = real != NULL && strncmp(real, cat->path, plen) == 0 &&
             (real[plen] == '/' || real[plen] == '\0');
        free(real);
    }
    if (!ok) {
        dbt_err_set(err,
                    "%s -> %s points outside catalog %s: a trust store must not lead elsewhere; "
                    "remove it (rm %s)",
                    full, target, cat->path, full);
        return -1;
    }
    return 0;
}

static int walk_dir(dbt_catalog *cat, int dirfd, const char *display, enum where where, int depth,
                    dbt_err *err)
{
    DIR *d;
    struct dirent *de;
    int fd, ret = 0;

    if (depth > 8) {
        dbt_err_set(err, "%s: directories nested too deep for a catalog: remove it (rm -r %s)",
                    display, display);
        return -1;
    }
    fd = dup(dirfd);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(err, "cannot read directory %s", display);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d); /* dup() shares the offset with the caller's descriptor */
    while (ret == 0 && (de = readdir(d)) != NULL) {
        struct stat st;
        char *full;
        unsigned long long n;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        full = xasprintf("%s/%s", display, de->d_name);
        if (full == NULL) {
            dbt_err_set(err, "out of memory");
            ret = -1;
            break;
        }
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) {
                dbt_err_sys(err, "cannot look at %s", full);
                ret = -1;
            }
        } else if (dbt_fs_check_safe(&st, full, err) != 0) {
            ret = -1;
        } else if (S_ISLNK(st.st_mode)) {
            ret = check_link(cat, dirfd, de->d_name, full, where, err);
        } else if (S_ISDIR(st.st_mode)) {
            enum where sub = W_OTHER;
            int sfd;

            if (where == W_TOP && parse_gen_name(de->d_name, &n) == 0)
                sub = W_GEN;
            else if (where == W_GEN && strcmp(de->d_name, "certs") == 0)
                sub = W_GEN_CERTS;
            sfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0) {
                if (errno != ENOENT) {
                    dbt_err_sys(err, "cannot open directory %s", full);
                    ret = -1;
                }
            } else {
                ret = walk_dir(cat, sfd, full, sub, depth + 1, err);
                close(sfd);
            }
        }
        free(full);
    }
    closedir(d);
    return ret;
}

static int check_tree(dbt_catalog *cat, dbt_err *err)
{
    struct stat st;

    if (fstat(cat->dirfd, &st) != 0) {
        dbt_err_sys(err, "cannot look at catalog %s", cat->path);
        return -1;
    }
    if (dbt_fs_check_safe(&st, cat->path, err) != 0)
        goto bad;
    if (walk_dir(cat, cat->dirfd, cat->path, W_TOP, 0, err) != 0)
        goto bad;
    return 0;
bad:
    dbt_err_prefix(err, "refusing unsafe catalog %s", cat->path);
    return -1;
}

/* ---------- open / close / snapshot ---------- */

/* Points the snapshot at what "current" names now. 1 when there is no "current" yet. */
static int load_snapshot(dbt_catalog *cat, dbt_err *err)
{
    char target[64];
    unsigned long long n;
    int fd = -1;

    for (int attempt = 0;; attempt++) {
        ssize_t len = readlinkat(cat->dirfd, CURRENT, target, sizeof(target) - 1);

        if (len < 0) {
            if (errno == ENOENT)
                return 1;
            dbt_err_sys(err, "cannot read %s/" CURRENT, cat->path);
            return -1;
        }
        target[len] = '\0';
        if (parse_gen_name(target, &n) != 0) {
            dbt_err_set(err,
                        "%s/" CURRENT " -> %s is not a catalog generation: the catalog is "
                        "damaged; remove that link and run dbtrust import again",
                        cat->path, target);
            return -1;
        }
        fd = openat(cat->dirfd, target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* Two commits between our readlink and open delete the generation: look again. */
        if (fd >= 0 || errno != ENOENT || attempt >= 5)
            break;
    }
    if (fd < 0) {
        dbt_err_sys(err, "cannot open %s/%s", cat->path, target);
        return -1;
    }
    char *certs = xasprintf("%s/%s/certs", cat->path, target);
    if (certs == NULL) {
        close(fd);
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (cat->genfd >= 0)
        close(cat->genfd);
    free(cat->certs_dir);
    cat->genfd = fd;
    cat->gen = n;
    snprintf(cat->gen_name, sizeof(cat->gen_name), "%s", target);
    cat->certs_dir = certs;
    return 0;
}

static int commit_state(dbt_catalog *cat, struct tbundle *b, size_t nb, dbt_err *err);

int dbt_catalog_open(const char *path, int flags, dbt_catalog **out, dbt_err *err)
{
    dbt_catalog *cat = NULL;
    char *real = NULL;
    int rc;

    *out = NULL;
    if (flags & DBT_CAT_CREATE) {
        flags |= DBT_CAT_WRITE;
        if (dbt_fs_mkdir_p(path, err) != 0)
            return -1;
    }
    real = realpath(path, NULL);
    if (real == NULL) {
        if (errno == ENOENT)
            dbt_err_set(err,
                        "catalog %s does not exist: run dbtrust import --catalog %s NAME FILE "
                        "to create it",
                        path, path);
        else
            dbt_err_sys(err, "cannot open catalog %s", path);
        return -1;
    }
    cat = calloc(1, sizeof(*cat));
    if (cat == NULL) {
        free(real);
        dbt_err_set(err, "out of memory");
        return -1;
    }
    cat->path = real;
    cat->lockfd = -1;
    cat->genfd = -1;
    cat->dirfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cat->dirfd < 0) {
        dbt_err_sys(err, "cannot open catalog %s", real);
        goto fail;
    }
    if (flags & DBT_CAT_WRITE) {
        if (faccessat(cat->dirfd, ".", W_OK, AT_EACCESS) != 0) {
            dbt_err_sys(err,
                        "cannot change catalog %s (run as its owner, or choose another "
                        "catalog with --catalog)",
                        real);
            goto fail;
        }
        cat->lockfd = openat(cat->dirfd, LOCK_NAME, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                             DBT_FILE_MODE);
        if (cat->lockfd < 0) {
            dbt_err_sys(err, "cannot open the lock file %s/" LOCK_NAME, real);
            goto fail;
        }
        while (flock(cat->lockfd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                dbt_err_sys(err, "cannot lock %s/" LOCK_NAME, real);
                goto fail;
            }
        }
    }
    /* After the lock, so that a writer checks what it is going to build on. */
    if (check_tree(cat, err) != 0)
        goto fail;
    rc = load_snapshot(cat, err);
    if (rc < 0)
        goto fail;
    if (rc == 1) {
        if (!(flags & DBT_CAT_CREATE)) {
            dbt_err_set(err,
                        "catalog %s is not initialized (it has no \"" CURRENT "\" link): run "
                        "dbtrust import --catalog %s NAME FILE to create it",
                        real, real);
            goto fail;
        }
        if (commit_state(cat, NULL, 0, err) != 0)
            goto fail;
    }
    *out = cat;
    return 0;
fail:
    dbt_catalog_close(cat);
    return -1;
}

void dbt_catalog_close(dbt_catalog *cat)
{
    if (cat == NULL)
        return;
    if (cat->genfd >= 0)
        close(cat->genfd);
    if (cat->lockfd >= 0)
        close(cat->lockfd); /* releases the flock */
    if (cat->dirfd >= 0)
        close(cat->dirfd);
    free(cat->certs_dir);
    free(cat->path);
    free(cat);
}

const char *dbt_catalog_path(const dbt_catalog *cat)
{
    return cat->path;
}

unsigned long long dbt_catalog_generation(const dbt_catalog *cat)
{
    return cat->gen;
}

const char *dbt_catalog_certs_dir(const dbt_catalog *cat)
{
    return cat->certs_dir;
}

/* ---------- read side ---------- */

static int meta_parse(const char *text, const char *display, dbt_catalog_meta *m, dbt_err *err)
{
    const char *p = text;
    int have_count = 0;

    memset(m, 0, sizeof(*m));
    while (*p != '\0') {
        const char *eol = strchr(p, '\n'), *eq;
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t klen, vlen;
        char *dst = NULL;
        size_t dsz = 0;

        eq = memchr(p, '=', len);
        if (eq != NULL) {
            klen = (size_t)(eq - p);
            vlen = len - klen - 1;
#define KEY(k, field)                                                                              \
    if (klen == strlen(k) && memcmp(p, k, klen) == 0) {                                            \
        dst = m->field;                                                                            \
        dsz = sizeof(m->field);                                                                    \
    }
            KEY("origin", origin)
            KEY("sha256", sha256)
            KEY("format", format)
            KEY("imported", imported)
#undef KEY
            if (dst != NULL) {
                if (vlen >= dsz)
                    goto bad;
                memcpy(dst, eq + 1, vlen);
                dst[vlen] = '\0';
            } else if (klen == 5 && memcmp(p, "count", 5) == 0) {
                char num[24], *end;
                if (vlen == 0 || vlen >= sizeof(num))
                    goto bad;
                memcpy(num, eq + 1, vlen);
                num[vlen] = '\0';
                errno = 0;
                unsigned long long v = strtoull(num, &end, 10);
                if (*end != '\0' || errno != 0 || !isdigit((unsigned char)num[0]))
                    goto bad;
                m->count = (size_t)v;
                have_count = 1;
            }
        } else if (len != 0) {
            goto bad;
        }
        p += len + (eol ? 1 : 0);
    }
    if (!have_count)
        goto bad;
    return 0;
bad:
    dbt_err_set(err,
                "%s is damaged (not the key=value lines dbtrust writes): run dbtrust import "
                "again for that bundle",
                display);
    return -1;
}

static int snapshot_ready(dbt_catalog *cat, dbt_err *err)
{
    if (cat->genfd < 0) {
        dbt_err_set(err, "catalog %s has no generation to read", cat->path);
        return -1;
    }
    return 0;
}

static int read_meta(dbt_catalog *cat, const char *name, dbt_catalog_meta *meta, dbt_err *err)
{
    char rel[DBT_CATALOG_NAME_MAX + 32], *display;
    unsigned char *data = NULL;
    size_t len;
    int ret = -1;

    snprintf(rel, sizeof(rel), "bundles/%s.meta", name);
    display = xasprintf("%s/%s", cat->path, rel);
    if (display == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_fs_read_at(cat->genfd, rel, 1, META_MAX, &data, &len, display, err) != 0)
        goto end;
    if (strlen((char *)data) != len) {
        dbt_err_set(err, "%s is damaged (binary data): run dbtrust import again", display);
        goto end;
    }
    ret = meta_parse((char *)data, display, meta, err);
end:
    free(data);
    free(display);
    return ret;
}

static int bundle_exists(dbt_catalog *cat, const char *name)
{
    char rel[DBT_CATALOG_NAME_MAX + 32];
    struct stat st;

    snprintf(rel, sizeof(rel), "bundles/%s.pem", name);
    return fstatat(cat->genfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Names of the snapshot's bundles, sorted; *names is malloc'ed, each entry too. */
static int list_names(dbt_catalog *cat, char ***names, size_t *n, dbt_err *err)
{
    int fd;
    DIR *d;
    struct dirent *de;
    char **v = NULL;
    size_t cnt = 0, cap = 0;

    *names = NULL;
    *n = 0;
    fd = openat(cat->genfd, "bundles", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(err, "cannot read %s/bundles", cat->path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char name[DBT_CATALOG_NAME_MAX + 8];

        if (len < 5 || len - 4 > DBT_CATALOG_NAME_MAX || strcmp(de->d_name + len - 4, ".pem"))
            continue;
        memcpy(name, de->d_name, len - 4);
        name[len - 4] = '\0';
        if (dbt_catalog_check_name(name, NULL) != 0)
            continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof(*nv));
            if (nv == NULL)
                goto oom;
            v = nv;
            cap = nc;
        }
        if ((v[cnt] = strdup(name)) == NULL)
            goto oom;
        cnt++;
    }
    closedir(d);
    if (cnt > 1)
        qsort(v, cnt, sizeof(*v), cmp_str);
    *names = v;
    *n = cnt;
    return 0;
oom:
    closedir(d);
    for (size_t i = 0; i < cnt; i++)
        free(v[i]);
    free(v);
    dbt_err_set(err, "out of memory");
    return -1;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int dbt_catalog_list(dbt_catalog *cat, dbt_catalog_entry **out, size_t *n, dbt_err *err)
{
    char **names = NULL;
    size_t cnt = 0;
    dbt_catalog_entry *e = NULL;
    int ret = -1;

    *out = NULL;
    *n = 0;
    if (snapshot_ready(cat, err) != 0 || list_names(cat, &names, &cnt, err) != 0)
        return -1;
    if (cnt > 0 && (e = calloc(cnt, sizeof(*e))) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    for (size_t i = 0; i < cnt; i++) {
        snprintf(e[i].name, sizeof(e[i].name), "%s", names[i]);
        if (read_meta(cat, names[i], &e[i].meta, err) != 0)
            goto end;
    }
    *out = e;
    *n = cnt;
    e = NULL;
    ret = 0;
end:
    free(e);
    free_names(names, cnt);
    return ret;
}

static int no_such_bundle(dbt_catalog *cat, const char *name, dbt_err *err)
{
    dbt_err_set(err, "catalog %s has no bundle named \"%s\": dbtrust list shows the bundles",
                cat->path, name);
    return -1;
}

int dbt_catalog_get_meta(dbt_catalog *cat, const char *name, dbt_catalog_meta *meta, dbt_err *err)
{
    if (dbt_catalog_check_name(name, err) != 0 || snapshot_ready(cat, err) != 0)
        return -1;
    if (!bundle_exists(cat, name))
        return no_such_bundle(cat, name, err);
    return read_meta(cat, name, meta, err);
}

/* Decodes a canonical PEM file the catalog wrote: every BEGIN line must give a certificate.
 * data is NUL-terminated (dbt_fs_read_at); a stray NUL shows up as a count mismatch. */
static int decode_canonical(const unsigned char *data, size_t len, dbt_bundle *into, dbt_err *err)
{
    const char *text = (const char *)data, *pos = text, *p;
    int line = 1, block = 0;

    while ((p = strstr(pos, PEM_BEGIN)) != NULL) {
        BIO *bio;
        X509 *x;

        for (const char *q = pos; q < p; q++)
            if (*q == '\n')
                line++;
        block++;
        bio = BIO_new_mem_buf(p, (int)(len - (size_t)(p - text)));
        x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (x == NULL) {
            dbt_err_ossl(err,
                         "%s: block %d (line %d) is not a certificate: the catalog is damaged; "
                         "run dbtrust import again for that bundle",
                         into->source, block, line);
            return -1;
        }
        if (dbt_bundle_push(into, x, block, line, NULL, err) != 0) {
            X509_free(x);
            return -1;
        }
        pos = p + 1; /* p[0] is '-', so counting lines from here misses none */
    }
    return 0;
}

int dbt_catalog_load(dbt_catalog *cat, const char *name, dbt_bundle **out, dbt_err *err)
{
    char rel[DBT_CATALOG_NAME_MAX + 32], *display = NULL;
    unsigned char *data = NULL;
    size_t len;
    dbt_bundle *b = NULL;
    dbt_catalog_meta meta;
    int ret = -1;

    *out = NULL;
    if (dbt_catalog_check_name(name, err) != 0 || snapshot_ready(cat, err) != 0)
        return -1;
    if (!bundle_exists(cat, name))
        return no_such_bundle(cat, name, err);
    if (read_meta(cat, name, &meta, err) != 0)
        return -1;
    snprintf(rel, sizeof(rel), "bundles/%s.pem", name);
    display = xasprintf("%s/bundles/%s.pem", cat->path, name);
    if (display == NULL || (b = dbt_bundle_new(display)) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    b->format = DBT_FMT_PEM;
    if (dbt_fs_read_at(cat->genfd, rel, 1, DBT_MAX_INPUT, &data, &len, display, err) != 0)
        goto end;
    if (decode_canonical(data, len, b, err) != 0)
        goto end;
    if (b->n != meta.count) {
        dbt_err_set(err,
                    "%s holds %zu certificates but its .meta says %zu: the catalog is damaged; "
                    "run dbtrust import again for that bundle",
                    display, b->n, meta.count);
        goto end;
    }
    *out = b;
    b = NULL;
    ret = 0;
end:
    dbt_bundle_free(b);
    free(data);
    free(display);
    return ret;
}

void dbt_catalog_certs_free(dbt_catalog_cert *certs, size_t n)
{
    if (certs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(certs[i].bundles);
    free(certs);
}

/* One index line: "<sha256> <sha1> <hash> <hash> <serial> <b1>[,<b2>...]". */
static int index_line(char *line, dbt_catalog_cert *c)
{
    char *f[6], *save = NULL, *tok;
    int nf = 0;
    size_t nb = 1;

    memset(c, 0, sizeof(*c));
    for (tok = strtok_r(line, " ", &save); tok != NULL && nf < 6; tok = strtok_r(NULL, " ", &save))
        f[nf++] = tok;
    if (nf != 6 || tok != NULL)
        return -1;
    if (strlen(f[0]) != 64 || !is_hex_lower(f[0], 64) || strlen(f[1]) != 40 ||
        !is_hex_lower(f[1], 40) || strlen(f[2]) != 8 || !is_hex_lower(f[2], 8) ||
        strlen(f[3]) != 8 || !is_hex_lower(f[3], 8) || strlen(f[4]) >= sizeof(c->serial))
        return -1;
    memcpy(c->sha256, f[0], 65);
    memcpy(c->sha1, f[1], 41);
    c->subject_hash = strtoul(f[2], NULL, 16);
    c->issuer_hash = strtoul(f[3], NULL, 16);
    memcpy(c->serial, f[4], strlen(f[4]) + 1);
    for (const char *p = f[5]; *p; p++)
        nb += *p == ',';
    c->bundles = calloc(nb, sizeof(*c->bundles));
    if (c->bundles == NULL)
        return -2;
    for (tok = strtok_r(f[5], ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (c->nbundles >= nb || dbt_catalog_check_name(tok, NULL) != 0)
            return -1;
        memcpy(c->bundles[c->nbundles++], tok, strlen(tok) + 1);
    }
    return c->nbundles > 0 ? 0 : -1;
}

int dbt_catalog_certs(dbt_catalog *cat, dbt_catalog_cert **out, size_t *n, dbt_err *err)
{
    char *display = NULL, *p, *eol;
    unsigned char *data = NULL;
    size_t len, cnt = 0, cap = 0, lineno = 1;
    dbt_catalog_cert *v = NULL;
    int ret = -1;

    *out = NULL;
    *n = 0;
    if (snapshot_ready(cat, err) != 0)
        return -1;
    display = xasprintf("%s/index", cat->certs_dir);
    if (display == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_fs_read_at(cat->genfd, "certs/index", 1, DBT_MAX_INPUT, &data, &len, display, err))
        goto end;
    p = (char *)data;
    eol = strchr(p, '\n');
    if (eol == NULL || (size_t)(eol - p) != strlen(INDEX_HEADER) ||
        memcmp(p, INDEX_HEADER, strlen(INDEX_HEADER)) != 0) {
        dbt_err_set(err,
                    "%s does not start with \"" INDEX_HEADER "\": the catalog is damaged or from "
                    "a newer dbtrust; run dbtrust import again to rebuild it",
                    display);
        goto end;
    }
    for (p = eol + 1; *p != '\0'; p = eol + 1) {
        lineno++;
        eol = strchr(p, '\n');
        if (eol == NULL) {
            dbt_err_set(err, "%s: line %zu has no end: the catalog is damaged", display, lineno);
            goto end;
        }
        *eol = '\0';
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 64;
            dbt_catalog_cert *nv = realloc(v, nc * sizeof(*nv));
            if (nv == NULL) {
                dbt_err_set(err, "out of memory");
                goto end;
            }
            v = nv;
            cap = nc;
        }
        int rc = index_line(p, &v[cnt]);
        cnt++;
        if (rc != 0) {
            if (rc == -2)
                dbt_err_set(err, "out of memory");
            else
                dbt_err_set(err,
                            "%s: line %zu is damaged: run dbtrust import again to rebuild the "
                            "catalog",
                            display, lineno);
            goto end;
        }
    }
    *out = v;
    *n = cnt;
    v = NULL;
    cnt = 0;
    ret = 0;
end:
    dbt_catalog_certs_free(v, cnt);
    free(data);
    free(display);
    return ret;
}

int dbt_catalog_load_cert(dbt_catalog *cat, const char *sha256, X509 **out, dbt_err *err)
{
    char rel[96], sha[65], *display = NULL;
    unsigned char *data = NULL;
    size_t len;
    BIO *bio = NULL;
    X509 *x = NULL;
    int ret = -1;

    *out = NULL;
    if (dbt_catalog_parse_sha256(sha256, sha, err) != 0 || snapshot_ready(cat, err) != 0)
        return -1;
    snprintf(rel, sizeof(rel), "certs/%s.pem", sha);
    display = xasprintf("%s/%s.pem", cat->certs_dir, sha);
    if (display == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_fs_read_at(cat->genfd, rel, 1, DBT_MAX_INPUT, &data, &len, display, err) != 0) {
        if (errno == ENOENT)
            dbt_err_set(err, "catalog %s holds no certificate with SHA-256 %s", cat->path, sha);
        goto end;
    }
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
        dbt_err_ossl(err, "%s: not a certificate: the catalog is damaged", display);
        goto end;
    }
    char got[65];
    if (cert_sha256(x, got, err) != 0)
        goto end;
    if (strcmp(got, sha) != 0) {
        dbt_err_set(err,
                    "%s holds a certificate with SHA-256 %s: the catalog is damaged; run "
                    "dbtrust import again to rebuild it",
                    display, got);
        goto end;
    }
    *out = x;
    x = NULL;
    ret = 0;
end:
    X509_free(x);
    BIO_free(bio);
    free(data);
    free(display);
    return ret;
}

/* ---------- transactions ---------- */

static void tbundle_clear(struct tbundle *b)
{
    for (size_t i = 0; i < b->n; i++)
        X509_free(b->c[i].x);
    free(b->c);
    b->c = NULL;
    b->n = 0;
}

void dbt_catalog_txn_free(dbt_catalog_txn *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nb; i++)
        tbundle_clear(&t->b[i]);
    free(t->b);
    t->cat->in_txn = 0;
    free(t);
}

/* Generation numbers present in the catalog directory, via a callback per entry. */
static int scan_gens(dbt_catalog *cat,
                     void (*fn)(dbt_catalog *, const char *, unsigned long long, void *), void *arg,
                     dbt_err *err)
{
    int fd = dup(cat->dirfd);
    DIR *d;
    struct dirent *de;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(err, "cannot read catalog %s", cat->path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        unsigned long long n;
        if (parse_gen_name(de->d_name, &n) == 0)
            fn(cat, de->d_name, n, arg);
    }
    closedir(d);
    return 0;
}

static void gen_max(dbt_catalog *cat, const char *name, unsigned long long n, void *arg)
{
    unsigned long long *max = arg;

    (void)cat;
    (void)name;
    if (n > *max)
        *max = n;
}

/* Highest generation below the current one: the one a reader may still be using. */
static void gen_prev(dbt_catalog *cat, const char *name, unsigned long long n, void *arg)
{
    unsigned long long *prev = arg;

    (void)name;
    if (n < cat->gen && n > *prev)
        *prev = n;
}

struct keep2 {
    unsigned long long a, b;
};

static void gen_remove_others(dbt_catalog *cat, const char *name, unsigned long long n, void *arg)
{
    struct keep2 *k = arg;

    if (n != k->a && n != k->b)
        dbt_fs_rmtree_at(cat->dirfd, name, name, NULL);
}

/* Removes what killed writers left: partial generations, a stray ".current.tmp". */
static void clean_leftovers(dbt_catalog *cat)
{
    struct keep2 k = {cat->gen, 0};

    scan_gens(cat, gen_prev, &k.b, NULL);
    scan_gens(cat, gen_remove_others, &k, NULL);
    unlinkat(cat->dirfd, CURRENT_TMP, 0);
}

int dbt_catalog_begin(dbt_catalog *cat, dbt_catalog_txn **out, dbt_err *err)
{
    dbt_catalog_txn *t = NULL;
    char **names = NULL;
    size_t cnt = 0;
    dbt_bundle *b = NULL;

    *out = NULL;
    if (cat->lockfd < 0) {
        dbt_err_set(err, "catalog %s was opened read-only: open it for writing to change it",
                    cat->path);
        return -1;
    }
    if (cat->in_txn) {
        dbt_err_set(err, "catalog %s already has a transaction in progress", cat->path);
        return -1;
    }
    if (snapshot_ready(cat, err) != 0)
        return -1;
    clean_leftovers(cat);
    if (list_names(cat, &names, &cnt, err) != 0)
        return -1;
    t = calloc(1, sizeof(*t));
    if (t == NULL || (cnt > 0 && (t->b = calloc(cnt, sizeof(*t->b))) == NULL)) {
        dbt_err_set(err, "out of memory");
        goto fail;
    }
    t->cat = cat;
    for (size_t i = 0; i < cnt; i++) {
        struct tbundle *tb = &t->b[i];

        if (dbt_catalog_load(cat, names[i], &b, err) != 0)
            goto fail;
        t->nb++;
        snprintf(tb->name, sizeof(tb->name), "%s", names[i]);
        if (read_meta(cat, names[i], &tb->meta, err) != 0)
            goto fail;
        if (b->n > 0 && (tb->c = calloc(b->n, sizeof(*tb->c))) == NULL) {
            dbt_err_set(err, "out of memory");
            goto fail;
        }
        for (size_t j = 0; j < b->n; j++) {
            if (cert_sha256(b->certs[j].x509, tb->c[j].sha, err) != 0)
                goto fail;
            X509_up_ref(b->certs[j].x509);
            tb->c[j].x = b->certs[j].x509;
            tb->n++;
        }
        dbt_bundle_free(b);
        b = NULL;
    }
    free_names(names, cnt);
    cat->in_txn = 1;
    *out = t;
    return 0;
fail:
    dbt_bundle_free(b);
    free_names(names, cnt);
    if (t != NULL) {
        t->cat = cat;
        dbt_catalog_txn_free(t);
    }
    return -1;
}

static struct tbundle *find_bundle(dbt_catalog_txn *t, const char *name, size_t *pos)
{
    size_t i;

    for (i = 0; i < t->nb; i++) {
        int c = strcmp(t->b[i].name, name);
        if (c == 0) {
            *pos = i;
            return &t->b[i];
        }
        if (c > 0)
            break;
    }
    *pos = i;
    return NULL;
}

static int check_meta(const dbt_catalog_meta *m, char sha[65], dbt_err *err)
{
    for (const char *p = m->origin; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            dbt_err_set(err,
                        "origin \"%s\" contains a control character: give a plain path "
                        "or URL",
                        m->origin);
            return -1;
        }
    for (const char *p = m->format; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
            dbt_err_set(err, "format name \"%s\" must use a-z, 0-9 and '-'", m->format);
            return -1;
        }
    if (m->sha256[0] == '\0') {
        sha[0] = '\0';
        return 0;
    }
    return dbt_catalog_parse_sha256(m->sha256, sha, err);
}

struct shaidx {
    const char *sha;
    size_t idx;
};

static int cmp_shaidx(const void *a, const void *b)
{
    const struct shaidx *x = a, *y = b;
    int c = strcmp(x->sha, y->sha);

    return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sorted copy of the fingerprints of certs, for bsearch. */
static char (*sorted_shas(const struct tcert *c, size_t n))[65]
{
    char(*v)[65] = malloc((n ? n : 1) * sizeof(*v));

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(v[i], c[i].sha, 65);
    qsort(v, n, sizeof(*v), cmp_sha);
    return v;
}

static int sha_in(char (*sorted)[65], size_t n, const char *sha)
{
    return n > 0 && bsearch(sha, sorted, n, sizeof(*sorted), cmp_sha) != NULL;
}

int dbt_catalog_put(dbt_catalog_txn *t, const char *name, const dbt_bundle *b,
                    const dbt_catalog_meta *meta, dbt_catalog_change *change, dbt_err *err)
{
    struct tbundle nb = {0}, *old;
    struct shaidx *si = NULL;
    char(*olds)[65] = NULL, (*news)[65] = NULL, sha[65];
    unsigned char *keep = NULL;
    dbt_catalog_change ch = {0};
    size_t pos, n = b->n;
    int ret = -1;

    if (dbt_catalog_check_name(name, err) != 0 || check_meta(meta, sha, err) != 0)
        return -1;
    snprintf(nb.name, sizeof(nb.name), "%s", name);
    nb.meta = *meta;
    memcpy(nb.meta.sha256, sha, sizeof(sha));
    if (nb.meta.imported[0] == '\0') {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(nb.meta.imported, sizeof(nb.meta.imported), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    nb.c = calloc(n ? n : 1, sizeof(*nb.c));
    si = calloc(n ? n : 1, sizeof(*si));
    keep = calloc(n ? n : 1, 1);
    if (nb.c == NULL || si == NULL || keep == NULL)
        goto oom;
    /* Fingerprints in input order; a repeated certificate is kept at its first position. */
    char(*in)[65] = calloc(n ? n : 1, sizeof(*in));
    if (in == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (cert_sha256(b->certs[i].x509, in[i], err) != 0) {
            dbt_err_prefix(err, "%s: certificate %zu", b->source, i + 1);
            free(in);
            goto end;
        }
        si[i].sha = in[i];
        si[i].idx = i;
    }
    qsort(si, n, sizeof(*si), cmp_shaidx);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(si[i].sha, si[i - 1].sha) != 0)
            keep[si[i].idx] = 1;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i]) {
            ch.duplicates++;
            continue;
        }
        X509_up_ref(b->certs[i].x509);
        nb.c[nb.n].x = b->certs[i].x509;
        memcpy(nb.c[nb.n].sha, in[i], 65);
        nb.n++;
    }
    free(in);
    nb.meta.count = nb.n;

    old = find_bundle(t, name, &pos);
    ch.existed = old != NULL;
    olds = sorted_shas(old ? old->c : NULL, old ? old->n : 0);
    news = sorted_shas(nb.c, nb.n);
    ch.added = malloc((nb.n ? nb.n : 1) * sizeof(*ch.added));
    ch.removed = malloc(((old && old->n) ? old->n : 1) * sizeof(*ch.removed));
    if (olds == NULL || news == NULL || ch.added == NULL || ch.removed == NULL)
        goto oom;
    for (size_t i = 0; i < nb.n; i++)
        if (!sha_in(olds, old ? old->n : 0, nb.c[i].sha))
            memcpy(ch.added[ch.nadded++], nb.c[i].sha, 65);
    for (size_t i = 0; old != NULL && i < old->n; i++)
        if (!sha_in(news, nb.n, old->c[i].sha))
            memcpy(ch.removed[ch.nremoved++], old->c[i].sha, 65);

    if (old != NULL) {
        tbundle_clear(old);
        *old = nb;
    } else {
        struct tbundle *v = realloc(t->b, (t->nb + 1) * sizeof(*v));
        if (v == NULL)
            goto oom;
        t->b = v;
        memmove(&t->b[pos + 1], &t->b[pos], (t->nb - pos) * sizeof(*v));
        t->b[pos] = nb;
        t->nb++;
    }
    memset(&nb, 0, sizeof(nb));
    if (change != NULL) {
        dbt_catalog_change_clear(change);
        *change = ch;
        memset(&ch, 0, sizeof(ch));
    }
    ret = 0;
    goto end;
oom:
    dbt_err_set(err, "out of memory");
end:
    tbundle_clear(&nb);
    dbt_catalog_change_clear(&ch);
    free(si);
    free(keep);
    free(olds);
    free(news);
    return ret;
}

int dbt_catalog_remove(dbt_catalog_txn *t, const char *name, dbt_catalog_change *change,
                       dbt_err *err)
{
    struct tbundle *old;
    size_t pos;
    dbt_catalog_change ch = {0};

    if (dbt_catalog_check_name(name, err) != 0)
        return -1;
    old = find_bundle(t, name, &pos);
    if (old == NULL)
        return no_such_bundle(t->cat, name, err);
    if (change != NULL) {
        ch.existed = 1;
        ch.removed = malloc((old->n ? old->n : 1) * sizeof(*ch.removed));
        if (ch.removed == NULL) {
            dbt_err_set(err, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < old->n; i++)
            memcpy(ch.removed[i], old->c[i].sha, 65);
        ch.nremoved = old->n;
        dbt_catalog_change_clear(change);
        *change = ch;
    }
    tbundle_clear(old);
    memmove(&t->b[pos], &t->b[pos + 1], (t->nb - pos - 1) * sizeof(*t->b));
    t->nb--;
    return 0;
}

int dbt_catalog_remove_cert(dbt_catalog_txn *t, const char *sha256, dbt_catalog_change *change,
                            dbt_err *err)
{
    char sha[65];
    dbt_catalog_change ch = {0};

    if (dbt_catalog_parse_sha256(sha256, sha, err) != 0)
        return -1;
    ch.bundles = malloc((t->nb ? t->nb : 1) * sizeof(*ch.bundles));
    if (ch.bundles == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < t->nb; i++) {
        struct tbundle *b = &t->b[i];
        for (size_t j = 0; j < b->n; j++) {
            if (strcmp(b->c[j].sha, sha) != 0)
                continue;
            X509_free(b->c[j].x);
            memmove(&b->c[j], &b->c[j + 1], (b->n - j - 1) * sizeof(*b->c));
            b->n--;
            b->meta.count = b->n;
            memcpy(ch.bundles[ch.nbundles++], b->name, sizeof(b->name));
            break; /* a bundle holds a certificate once */
        }
    }
    if (ch.nbundles == 0) {
        free(ch.bundles);
        dbt_err_set(err,
                    "no bundle of catalog %s holds a certificate with SHA-256 %s: dbtrust list "
                    "shows the fingerprints",
                    t->cat->path, sha);
        return -1;
    }
    if (change != NULL) {
        dbt_catalog_change_clear(change);
        *change = ch;
    } else {
        free(ch.bundles);
    }
    return 0;
}

size_t dbt_catalog_txn_holders(const dbt_catalog_txn *t, const char *sha256)
{
    char sha[65];
    size_t cnt = 0;

    if (dbt_catalog_parse_sha256(sha256, sha, NULL) != 0)
        return 0;
    for (size_t i = 0; i < t->nb; i++)
        for (size_t j = 0; j < t->b[i].n; j++)
            if (strcmp(t->b[i].c[j].sha, sha) == 0) {
                cnt++;
                break;
            }
    return cnt;
}

/* ---------- commit: build a generation, swap "current" ---------- */

struct ref {
    const char *sha;
    X509 *x;
    size_t bi; /* bundle index; bundles are sorted by name */
};

struct dcert {
    const char *sha;
    X509 *x;
    size_t first, last; /* range in the sorted refs */
    unsigned long sh, ih;
    char sha1[41];
    char *serial;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = strcmp(x->sha, y->sha);

    return c != 0 ? c : (x->bi > y->bi) - (x->bi < y->bi);
}

static int cmp_dcert_hash(const void *a, const void *b)
{
    const struct dcert *x = *(const struct dcert *const *)a, *y = *(const struct dcert *const *)b;

    if (x->sh != y->sh)
        return x->sh < y->sh ? -1 : 1;
    return strcmp(x->sha, y->sha);
}

static int dcert_facts(struct dcert *d, dbt_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok1 = 0, ok2 = 0;
    BIGNUM *bn = NULL;

    if (!X509_digest(d->x, EVP_sha1(), md, &len) || len != 20)
        goto bad;
    for (unsigned int i = 0; i < len; i++)
        snprintf(d->sha1 + 2 * i, 3, "%02x", md[i]);
    /* Exactly what X509_LOOKUP_hash_dir computes for its lookups (default libctx). */
    d->sh = X509_NAME_hash_ex(X509_get_subject_name(d->x), NULL, NULL, &ok1);
    d->ih = X509_NAME_hash_ex(X509_get_issuer_name(d->x), NULL, NULL, &ok2);
    if (!ok1 || !ok2)
        goto bad;
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(d->x), NULL);
    if (bn == NULL || (d->serial = BN_bn2hex(bn)) == NULL)
        goto bad;
    BN_free(bn);
    return 0;
bad:
    BN_free(bn);
    dbt_err_ossl(err, "certificate %s", d->sha);
    return -1;
}

/* Writes x as PEM through the scratch BIO. */
static int write_pem_at(int dirfd, const char *name, X509 *const *xs, size_t n, BIO *mem,
                        const char *display, dbt_err *err)
{
    char *p;
    long len;

    (void)BIO_reset(mem);
    for (size_t i = 0; i < n; i++)
        if (!PEM_write_bio_X509(mem, xs[i])) {
            dbt_err_ossl(err, "cannot encode %s", display);
            return -1;
        }
    len = BIO_get_mem_data(mem, &p);
    return dbt_fs_write_new_at(dirfd, name, p, (size_t)len, DBT_FILE_MODE, display, err);
}

static int write_bio_at(int dirfd, const char *name, BIO *mem, const char *display, dbt_err *err)
{
    char *p;
    long len = BIO_get_mem_data(mem, &p);

    return dbt_fs_write_new_at(dirfd, name, len > 0 ? p : "", (size_t)(len > 0 ? len : 0),
                               DBT_FILE_MODE, display, err);
}

/* bundles -> current/bundles and certs -> current/certs: created once, never rewritten. */
static int ensure_fixed_links(dbt_catalog *cat, dbt_err *err)
{
    static const char *const links[][2] = {{"bundles", CURRENT "/bundles"},
                                           {"certs", CURRENT "/certs"}};

    for (size_t i = 0; i < 2; i++) {
        char buf[64];
        if (readlinkat(cat->dirfd, links[i][0], buf, sizeof(buf)) >= 0)
            continue; /* the safety walk at open checked its target */
        if (errno != ENOENT || symlinkat(links[i][1], cat->dirfd, links[i][0]) != 0) {
            dbt_err_sys(err, "cannot create %s/%s", cat->path, links[i][0]);
            return -1;
        }
    }
    return 0;
}

static int point_current(dbt_catalog *cat, const char *gen_name, dbt_err *err)
{
    unlinkat(cat->dirfd, CURRENT_TMP, 0);
    if (symlinkat(gen_name, cat->dirfd, CURRENT_TMP) != 0) {
        dbt_err_sys(err, "cannot create %s/" CURRENT_TMP, cat->path);
        return -1;
    }
    if (renameat(cat->dirfd, CURRENT_TMP, cat->dirfd, CURRENT) != 0) {
        dbt_err_sys(err, "cannot rename %s/" CURRENT_TMP " to " CURRENT, cat->path);
        unlinkat(cat->dirfd, CURRENT_TMP, 0);
        return -1;
    }
    return 0;
}

static int commit_state(dbt_catalog *cat, struct tbundle *b, size_t nb, dbt_err *err)
{
    struct ref *refs = NULL;
    struct dcert *dc = NULL, **byhash = NULL;
    size_t total = 0, nd = 0, k = 0;
    unsigned long long n = 0;
    char name[32], *gdisp = NULL, *disp = NULL, *certs_dir = NULL;
    int genfd = -1, bfd = -1, cfd = -1, made = 0, swapped = 0, ret = -1;
    BIO *mem = BIO_new(BIO_s_mem());

    if (mem == NULL)
        goto oom;
    for (size_t i = 0; i < nb; i++)
        total += b[i].n;
    refs = calloc(total ? total : 1, sizeof(*refs));
    dc = calloc(total ? total : 1, sizeof(*dc));
    byhash = calloc(total ? total : 1, sizeof(*byhash));
    if (refs == NULL || dc == NULL || byhash == NULL)
        goto oom;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < b[i].n; j++)
            refs[k++] = (struct ref){b[i].c[j].sha, b[i].c[j].x, i};
    qsort(refs, total, sizeof(*refs), cmp_ref);
    for (size_t i = 0; i < total; i++) {
        if (i > 0 && strcmp(refs[i].sha, refs[i - 1].sha) == 0) {
            dc[nd - 1].last = i;
            continue;
        }
        dc[nd] = (struct dcert){.sha = refs[i].sha, .x = refs[i].x, .first = i, .last = i};
        if (dcert_facts(&dc[nd], err) != 0) {
            nd++;
            goto end;
        }
        byhash[nd] = &dc[nd];
        nd++;
    }
    qsort(byhash, nd, sizeof(*byhash), cmp_dcert_hash);

    /* A fresh name above every existing one: never reuse a directory that exists. */
    if (scan_gens(cat, gen_max, &n, err) != 0)
        goto end;
    if (n < cat->gen)
        n = cat->gen;
    for (int tries = 0;; tries++) {
        n++;
        snprintf(name, sizeof(name), GEN_PREFIX "%llu", n);
        free(gdisp);
        if ((gdisp = xasprintf("%s/%s", cat->path, name)) == NULL)
            goto oom;
        if (dbt_fs_mkdir_at(cat->dirfd, name, DBT_DIR_MODE, gdisp, err) == 0)
            break;
        if (errno != EEXIST || tries > 100)
            goto end;
    }
    made = 1;
    certs_dir = xasprintf("%s/certs", gdisp);
    if (certs_dir == NULL)
        goto oom;
    genfd = openat(cat->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (genfd < 0) {
        dbt_err_sys(err, "cannot open %s", gdisp);
        goto end;
    }
    if (dbt_fs_mkdir_at(genfd, "bundles", DBT_DIR_MODE, gdisp, err) != 0 ||
        dbt_fs_mkdir_at(genfd, "certs", DBT_DIR_MODE, certs_dir, err) != 0)
        goto end;
    bfd = openat(genfd, "bundles", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cfd = openat(genfd, "certs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0 || cfd < 0) {
        dbt_err_sys(err, "cannot open the directories of %s", gdisp);
        goto end;
    }

    for (size_t i = 0; i < nb; i++) {
        char file[DBT_CATALOG_NAME_MAX + 8];
        X509 **xs = calloc(b[i].n ? b[i].n : 1, sizeof(*xs));
        const dbt_catalog_meta *m = &b[i].meta;

        if (xs == NULL)
            goto oom;
        for (size_t j = 0; j < b[i].n; j++)
            xs[j] = b[i].c[j].x;
        snprintf(file, sizeof(file), "%s.pem", b[i].name);
        free(disp);
        disp = xasprintf("%s/bundles/%s", gdisp, file);
        int rc = disp ? write_pem_at(bfd, file, xs, b[i].n, mem, disp, err) : -1;
        free(xs);
        if (rc != 0)
            goto end;
        snprintf(file, sizeof(file), "%s.meta", b[i].name);
        free(disp);
        disp = xasprintf("%s/bundles/%s", gdisp, file);
        (void)BIO_reset(mem);
        if (disp == NULL || BIO_printf(mem,
                                       "origin=%s\nsha256=%s\nformat=%s\nimported=%s\n"
                                       "count=%zu\n",
                                       m->origin, m->sha256, m->format, m->imported, b[i].n) <= 0)
            goto oom;
        if (write_bio_at(bfd, file, mem, disp, err) != 0)
            goto end;
    }

    for (size_t i = 0; i < nd; i++) {
        char file[80];
        snprintf(file, sizeof(file), "%s.pem", dc[i].sha);
        free(disp);
        if ((disp = xasprintf("%s/%s", certs_dir, file)) == NULL)
            goto oom;
        if (write_pem_at(cfd, file, &dc[i].x, 1, mem, disp, err) != 0)
            goto end;
    }
    /* openssl rehash numbering: same subject hash -> .0, .1, ... in sha256 order. */
    for (size_t i = 0, seq = 0; i < nd; i++) {
        char link[32], target[80];
        seq = (i > 0 && byhash[i]->sh == byhash[i - 1]->sh) ? seq + 1 : 0;
        snprintf(link, sizeof(link), "%08lx.%zu", byhash[i]->sh, seq);
        snprintf(target, sizeof(target), "%s.pem", byhash[i]->sha);
        if (symlinkat(target, cfd, link) != 0) {
            dbt_err_sys(err, "cannot create %s/%s", certs_dir, link);
            goto end;
        }
    }
    (void)BIO_reset(mem);
    if (BIO_printf(mem, INDEX_HEADER "\n") <= 0)
        goto oom;
    for (size_t i = 0; i < nd; i++) {
        if (BIO_printf(mem, "%s %s %08lx %08lx %s ", dc[i].sha, dc[i].sha1, dc[i].sh, dc[i].ih,
                       dc[i].serial) <= 0)
            goto oom;
        for (size_t r = dc[i].first; r <= dc[i].last; r++)
            if (BIO_printf(mem, "%s%s", r == dc[i].first ? "" : ",", b[refs[r].bi].name) <= 0)
                goto oom;
        if (BIO_printf(mem, "\n") <= 0)
            goto oom;
    }
    free(disp);
    if ((disp = xasprintf("%s/index", certs_dir)) == NULL)
        goto oom;
    if (write_bio_at(cfd, "index", mem, disp, err) != 0)
        goto end;
    /* Every file was fsynced as written; now the directory entries, innermost first. */
    if (dbt_fs_fsync_fd(cfd, certs_dir, err) != 0 || dbt_fs_fsync_fd(bfd, gdisp, err) != 0 ||
        dbt_fs_fsync_fd(genfd, gdisp, err) != 0)
        goto end;
    if (ensure_fixed_links(cat, err) != 0)
        goto end;

    if (point_current(cat, name, err) != 0)
        goto end;
    swapped = 1;
    if (dbt_fs_fsync_fd(cat->dirfd, cat->path, err) != 0) {
        /* Not durable: put the old generation back so that a failure changes nothing. */
        if (cat->genfd >= 0)
            point_current(cat, cat->gen_name, NULL);
        else
            unlinkat(cat->dirfd, CURRENT, 0);
        swapped = 0;
        goto end;
    }
    {
        struct keep2 keep = {n, cat->gen};
        scan_gens(cat, gen_remove_others, &keep, NULL);
    }
    if (cat->genfd >= 0)
        close(cat->genfd);
    cat->genfd = genfd;
    genfd = -1;
    cat->gen = n;
    snprintf(cat->gen_name, sizeof(cat->gen_name), "%s", name);
    free(cat->certs_dir);
    cat->certs_dir = certs_dir;
    certs_dir = NULL;
    ret = 0;
    goto end;
oom:
    dbt_err_set(err, "out of memory while writing catalog %s", cat->path);
end:
    if (ret != 0 && made && !swapped) {
        int saved = errno;
        dbt_fs_rmtree_at(cat->dirfd, name, gdisp, NULL);
        errno = saved;
    }
    if (ret != 0)
        dbt_err_prefix(err, "catalog %s left unchanged", cat->path);
    if (cfd >= 0)
        close(cfd);
    if (bfd >= 0)
        close(bfd);
    if (genfd >= 0)
        close(genfd);
    for (size_t i = 0; i < nd; i++)
        OPENSSL_free(dc[i].serial);
    free(dc);
    free(byhash);
    free(refs);
    free(gdisp);
    free(disp);
    free(certs_dir);
    BIO_free(mem);
    return ret;
}

int dbt_catalog_commit(dbt_catalog_txn *t, dbt_err *err)
{
    return commit_state(t->cat, t->b, t->nb, err);
}
