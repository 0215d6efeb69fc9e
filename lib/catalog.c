/* The catalog: open and safety checks, and read access to a consistent snapshot (one
 * generation). Writing is in catalog_txn.c. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "catalog_int.h"
#include "catsafe.h"
#include "escape.h"
#include "fsutil.h"

#define GEN_PREFIX DBT_CAT_GEN_PREFIX
#define CURRENT DBT_CAT_CURRENT
#define CURRENT_TMP DBT_CAT_CURRENT_TMP
#define LOCK_NAME DBT_CAT_LOCK
#define INDEX_HEADER DBT_CAT_INDEX_HEADER
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define META_MAX DBT_CAT_META_MAX

/* ---------- small helpers ---------- */

char *dbt_cat_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
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
    /* The provider's rule, byte for byte: a name the commands accept is one it serves. */
    if (dbt_layout_name_ok(name, strlen(name)))
        return 0;
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

/* ---------- files built in memory ---------- */

void dbt_sb_reserve(struct dbt_sbuf *b, size_t n)
{
    size_t nc;
    char *v;

    if (b->oom || b->cap - b->len >= n)
        return;
    /* The first reservation is taken as asked: a caller that knows its size gets no more. */
    for (nc = b->cap ? b->cap : (n > 4096 ? n : 4096); nc - b->len < n; nc *= 2)
        if (nc > SIZE_MAX / 2) {
            b->oom = 1;
            return;
        }
    if ((v = realloc(b->p, nc)) == NULL) {
        b->oom = 1;
        return;
    }
    dbt_fs_prefault(v + b->cap, nc - b->cap);
    b->p = v;
    b->cap = nc;
}

void dbt_cat_name3(char *out, size_t size, const char *pre, const char *base, const char *ext)
{
    const char *part[3] = {pre, base, ext};
    size_t n = 0;

    if (size == 0)
        return;
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(part[i]);
        if (l > size - 1 - n)
            l = size - 1 - n;
        memcpy(out + n, part[i], l);
        n += l;
    }
    out[n] = '\0';
}

void dbt_cat_link_name(char *out, size_t size, unsigned long hash, size_t seq)
{
    static const char hex[] = "0123456789abcdef";
    char t[2 * sizeof(hash) + 2 + 3 * sizeof(seq)], d[3 * sizeof(seq)];
    size_t n = 0, nd = 0, k = 0;

    do {
        t[n++] = hex[hash & 15];
        hash >>= 4;
    } while (hash != 0 || n < 8);
    for (size_t i = 0; i < n / 2; i++) { /* most significant digit first */
        char c = t[i];
        t[i] = t[n - 1 - i];
        t[n - 1 - i] = c;
    }
    t[n++] = '.';
    do {
        d[nd++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq != 0);
    while (nd > 0)
        t[n++] = d[--nd];
    if (size == 0)
        return;
    k = n < size - 1 ? n : size - 1;
    memcpy(out, t, k);
    out[k] = '\0';
}

/* ---------- safety ---------- */

/* The rule of lib/catsafe.h, on the generation the snapshot reads (gen NULL before it is
 * known: every generation). */
static int check_tree(dbt_catalog *cat, const char *gen, dbt_err *err)
{
    int rc = dbt_safe_walk(cat->dirfd, cat->path, gen, NULL, NULL, err);

    if (rc == DBT_SAFE_UNSAFE)
        dbt_err_prefix(err, "refusing unsafe catalog %s", cat->path);
    return rc == DBT_SAFE_OK ? 0 : -1;
}

/* A writer's walk (dbt_catalog_open with DBT_CAT_WRITE): the directories and the top in full,
 * the files and links of the generation by d_type and name only (DBT_SAFE_FILES_AT_USE). */
static int check_tree_writer(dbt_catalog *cat, const char *gen, dbt_err *err)
{
    int rc = dbt_safe_walk_ex(cat->dirfd, cat->path, gen,
                              DBT_SAFE_FILES_AT_USE | DBT_SAFE_LINKS_AT_USE, NULL, NULL, err);

    if (rc == DBT_SAFE_UNSAFE)
        dbt_err_prefix(err, "refusing unsafe catalog %s", cat->path);
    return rc == DBT_SAFE_OK ? 0 : -1;
}

int dbt_cat_read_file(dbt_catalog *cat, int dirfd, const char *rel, size_t max,
                      unsigned char **data, size_t *len, const char *display, dbt_err *err)
{
    struct stat st;
    dbt_err e;

    if (dbt_fs_read_at_st(dirfd, rel, 1, max, data, len, &st, display, err) != 0)
        return -1;
    if (dbt_safe_entry_as(&st, display, cat->euid, &e) == 0)
        return 0;
    free(*data);
    *data = NULL;
    *len = 0;
    dbt_err_prefix(&e, "refusing unsafe catalog %s", cat->path);
    if (!cat->unsafe) {
        cat->unsafe = 1;
        cat->unsafe_err = e;
    }
    if (err != NULL)
        *err = e;
    errno = EACCES;
    return -1;
}

int dbt_cat_map_file(dbt_catalog *cat, int dirfd, const char *rel, size_t max, void **map,
                     size_t *len, struct stat *st)
{
    dbt_err e;

    if (dbt_fs_map_at_st(dirfd, rel, max, map, len, st) != 0)
        return -1;
    if (dbt_safe_entry_as(st, rel, cat->euid, &e) == 0)
        return 0;
    munmap(*map, *len);
    *map = NULL;
    *len = 0;
    dbt_err_prefix(&e, "refusing unsafe catalog %s", cat->path);
    if (!cat->unsafe) {
        cat->unsafe = 1;
        cat->unsafe_err = e;
    }
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
        if (dbt_safe_gen_name(target, &n) != 0) {
            dbt_err_set(err,
                        "%s/" CURRENT " -> %s is not a catalog generation: the catalog is "
                        "damaged; remove that link and run dbtrust import again",
                        cat->path, target);
            return -1;
        }
        /* Held (catsafe.h) until the snapshot is closed or replaced, so that no writer
         * removes it under us. A writer removing it between our readlink and open: look
         * again. */
        int rc = dbt_safe_hold_gen(cat->dirfd, target, &fd);
        if (rc < 0) {
            dbt_err_sys(err, "cannot open %s/%s", cat->path, target);
            return -1;
        }
        if (rc == 0)
            break;
        if (attempt >= 8) {
            dbt_err_set(err,
                        "%s/" CURRENT " -> %s: that generation is missing or being removed, "
                        "again after %d attempts; the catalog is damaged, or a writer commits "
                        "faster than it can be read: try again",
                        cat->path, target, attempt + 1);
            return -1;
        }
    }
    char *certs = dbt_cat_asprintf("%s/%s/certs", cat->path, target);
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

/* A catalog is only created in a directory that holds nothing else (or what an interrupted
 * creation left): never spread a catalog over an existing directory such as /etc. */
static int check_creatable(dbt_catalog *cat, dbt_err *err)
{
    int fd = dup(cat->dirfd), ret = 0;
    DIR *d;
    struct dirent *de;
    unsigned long long n;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(err, "cannot read %s", cat->path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        const char *e = de->d_name;
        if (strcmp(e, ".") == 0 || strcmp(e, "..") == 0 || strcmp(e, LOCK_NAME) == 0 ||
            strcmp(e, CURRENT_TMP) == 0 || strcmp(e, "bundles") == 0 || strcmp(e, "certs") == 0 ||
            dbt_safe_gen_name(e, &n) == 0)
            continue;
        dbt_err_set(err,
                    "%s is not a dbtrust catalog and not empty (it holds %s): give a new or "
                    "empty directory",
                    cat->path, e);
        dbt_err_hint(err, DBT_HINT_CATALOG_OPT);
        ret = -1;
        break;
    }
    closedir(d);
    return ret;
}

/* The catalog's lock file is read and written by its owner only (see dbt_catalog_open). */
#define LOCK_MODE 0600

static int narrow_lock_mode(int fd, const char *display, dbt_err *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot look at the lock file %s", display);
        return -1;
    }
    /* A hard link would make the lock (and its mode change below) a file elsewhere. */
    if (st.st_nlink != 1) {
        dbt_err_set(err,
                    "lock file %s has %lu hard links: it is also a file elsewhere; nothing but "
                    "dbtrust should make it: remove it and try again",
                    display, (unsigned long)st.st_nlink);
        return -1;
    }
    if ((st.st_mode & 07777) == LOCK_MODE)
        return 0;
    if (st.st_uid != geteuid() && geteuid() != 0) {
        dbt_err_set(err,
                    "lock file %s has mode %04o and another owner: others could hold it and "
                    "stall every writer; run this as the catalog's owner",
                    display, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    if (fchmod(fd, LOCK_MODE) != 0) {
        dbt_err_sys(err, "cannot set the mode of the lock file %s to %04o", display, LOCK_MODE);
        return -1;
    }
    return 0;
}

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
        if (errno == ENOENT) {
            dbt_err_set(err, "catalog %s does not exist", path);
            dbt_err_hint_arg(err, DBT_HINT_CREATE_CATALOG, strlen("catalog "), strlen(path));
        } else
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
    cat->euid = geteuid();
    cat->lockfd = -1;
    cat->genfd = -1;
    cat->dirfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cat->dirfd < 0) {
        dbt_err_sys(err, "cannot open catalog %s", real);
        goto fail;
    }
    /* Before anything is created in it (even the lock file). */
    if ((flags & DBT_CAT_CREATE) &&
        faccessat(cat->dirfd, CURRENT, F_OK, AT_SYMLINK_NOFOLLOW) != 0 &&
        check_creatable(cat, err) != 0)
        goto fail;
    if (flags & DBT_CAT_WRITE) {
        if (faccessat(cat->dirfd, ".", W_OK, AT_EACCESS) != 0) {
            int e = errno;

            /* The hint goes inside the parentheses, before the reason. */
            dbt_err_set(
                err, "cannot change catalog %s (run as its owner, or choose another catalog", real);
            dbt_err_hint(err, DBT_HINT_CATALOG_OPT);
            dbt_err_more(err, "): %s", strerror(e));
            goto fail;
        }
        char *lock = dbt_cat_asprintf("%s/" LOCK_NAME, real);
        if (lock == NULL) {
            dbt_err_set(err, "out of memory");
            goto fail;
        }
        /* Mode 0600: a user who may open the lock file may hold a lock on it, and a reader
         * with no right to write the catalog must not be able to stall its writers. A lock
         * file an older dbtrust made 0644 is narrowed before it is waited on. */
        cat->lockfd = dbt_safe_open_lock(cat->dirfd, LOCK_NAME, LOCK_MODE, lock, err);
        if (cat->lockfd >= 0 && narrow_lock_mode(cat->lockfd, lock, err) != 0) {
            close(cat->lockfd);
            cat->lockfd = -1;
        }
        free(lock);
        if (cat->lockfd < 0)
            goto fail;
        while (flock(cat->lockfd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                dbt_err_sys(err, "cannot lock %s/" LOCK_NAME, real);
                goto fail;
            }
        }
    }
    /* After the lock, so that a writer checks what it is going to build on; after resolving
     * "current", so that the generation read is checked in full. */
    rc = load_snapshot(cat, err);
    if (rc < 0) {
        /* A "current" that is not a link to a generation: the walk says what is wrong. */
        dbt_err walk;
        if (check_tree(cat, NULL, &walk) != 0 && err != NULL)
            *err = walk;
        goto fail;
    }
    if (rc == 0 && (flags & DBT_CAT_WRITE)
            ? check_tree_writer(cat, cat->gen_name, err) != 0
            : check_tree(cat, rc == 0 ? cat->gen_name : NULL, err) != 0)
        goto fail;
    if (rc == 1) {
        if (!(flags & DBT_CAT_CREATE)) {
            dbt_err_set(err, "catalog %s is not initialized (it has no \"" CURRENT "\" link)",
                        real);
            dbt_err_hint_arg(err, DBT_HINT_INIT_CATALOG, strlen("catalog "), strlen(real));
            goto fail;
        }
        if (check_creatable(cat, err) != 0 || dbt_cat_commit_empty(cat, err) != 0)
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

int dbt_catalog_meta_add_origin(dbt_catalog_meta *m, const char *text)
{
    size_t used = strnlen(m->origin, sizeof(m->origin) - 1), len = strlen(text);

    if (used > 0) {
        if (used + 3 > sizeof(m->origin))
            return -1; /* not even the space and one byte of text */
        m->origin[used++] = ' ';
        m->origin[used] = '\0';
    }
    return dbt_escape(text, len, m->origin + used, sizeof(m->origin) - used) ==
                   dbt_escape_len(text, len)
               ? 0
               : -1;
}

_Static_assert(DBT_LAYOUT_META_COUNT == DBT_LAYOUT_META_NKEYS - 1,
               "meta_parse sizes its table of text keys by the count key coming last");

/* need_scope: the generation has a trust view, whose writers give every bundle a scope line
 * (empty when unscoped): one that is missing or given twice is damage, never read as
 * "unscoped", which would widen trust at the next commit. */
static int meta_parse(const char *text, const char *display, dbt_catalog_meta *m, int need_scope,
                      dbt_err *err)
{
    const char *p = text;
    int have_count = 0, have_scope = 0;
    /* Where each text key's value goes (count is a number, parsed apart). */
    const struct {
        char *dst;
        size_t size;
    } text_fields[DBT_LAYOUT_META_COUNT] = {
        [DBT_LAYOUT_META_ORIGIN] = {m->origin, sizeof(m->origin)},
        [DBT_LAYOUT_META_SHA256] = {m->sha256, sizeof(m->sha256)},
        [DBT_LAYOUT_META_FORMAT] = {m->format, sizeof(m->format)},
        [DBT_LAYOUT_META_IMPORTED] = {m->imported, sizeof(m->imported)},
        [DBT_LAYOUT_META_SOURCE] = {m->source, sizeof(m->source)},
        [DBT_LAYOUT_META_REFRESHED] = {m->refreshed, sizeof(m->refreshed)},
        [DBT_LAYOUT_META_SCOPE] = {m->scope, sizeof(m->scope)},
    };

    memset(m, 0, sizeof(*m));
    while (*p != '\0') {
        const char *eol = strchr(p, '\n'), *eq;
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t klen, vlen;
        int key;

        eq = memchr(p, '=', len);
        if (eq != NULL) {
            klen = (size_t)(eq - p);
            vlen = len - klen - 1;
            key = dbt_layout_meta_key(p, klen); /* -1: a key this version ignores */
            if (key == DBT_LAYOUT_META_COUNT) {
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
            } else if (key >= 0) {
                if (vlen >= text_fields[key].size)
                    goto bad;
                if (key == DBT_LAYOUT_META_SCOPE && have_scope++)
                    goto bad;
                memcpy(text_fields[key].dst, eq + 1, vlen);
                text_fields[key].dst[vlen] = '\0';
            }
        } else if (len != 0) {
            goto bad;
        }
        p += len + (eol ? 1 : 0);
    }
    if (!have_count || (need_scope && !have_scope))
        goto bad;
    return 0;
bad:
    dbt_err_set(err,
                "%s is damaged (not the key=value lines dbtrust writes): run dbtrust import "
                "again for that bundle",
                display);
    return -1;
}

int dbt_cat_snapshot_ready(dbt_catalog *cat, dbt_err *err)
{
    if (cat->genfd < 0) {
        dbt_err_set(err, "catalog %s has no generation to read", cat->path);
        return -1;
    }
    return 0;
}

int dbt_cat_has_view(dbt_catalog *cat)
{
    struct stat st;

    if (cat->view_gen != cat->gen || cat->view_gen == 0) {
        cat->view_gen = cat->gen;
        cat->has_view = cat->genfd >= 0 &&
                        fstatat(cat->genfd, DBT_LAYOUT_TRUST, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISDIR(st.st_mode);
    }
    return cat->has_view;
}

int dbt_cat_read_meta(dbt_catalog *cat, const char *name, dbt_catalog_meta *meta, dbt_err *err)
{
    char rel[DBT_CATALOG_NAME_MAX + 32], *display;
    unsigned char *data = NULL;
    size_t len;
    int ret = -1;

    snprintf(rel, sizeof(rel), DBT_LAYOUT_BUNDLES "/%s.meta", name);
    display = dbt_cat_asprintf("%s/%s", cat->path, rel);
    if (display == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_cat_read_file(cat, cat->genfd, rel, META_MAX, &data, &len, display, err) != 0)
        goto end;
    if (strlen((char *)data) != len) {
        dbt_err_set(err, "%s is damaged (binary data): run dbtrust import again", display);
        goto end;
    }
    ret = meta_parse((char *)data, display, meta, dbt_cat_has_view(cat), err);
end:
    free(data);
    free(display);
    return ret;
}

static int bundle_exists(dbt_catalog *cat, const char *name)
{
    char rel[DBT_CATALOG_NAME_MAX + 32];
    struct stat st;

    snprintf(rel, sizeof(rel), DBT_LAYOUT_BUNDLES "/%s.pem", name);
    return fstatat(cat->genfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Names of the snapshot's bundles, sorted; *names is malloc'ed, each entry too. */
int dbt_cat_list_names(dbt_catalog *cat, char ***names, size_t *n, dbt_err *err)
{
    int fd;
    DIR *d;
    struct dirent *de;
    char **v = NULL;
    size_t cnt = 0, cap = 0;

    *names = NULL;
    *n = 0;
    fd = openat(cat->genfd, DBT_LAYOUT_BUNDLES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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

void dbt_cat_free_names(char **v, size_t n)
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
    if (dbt_cat_snapshot_ready(cat, err) != 0 || dbt_cat_list_names(cat, &names, &cnt, err) != 0)
        return -1;
    if (cnt > 0 && (e = calloc(cnt, sizeof(*e))) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    for (size_t i = 0; i < cnt; i++) {
        snprintf(e[i].name, sizeof(e[i].name), "%s", names[i]);
        if (dbt_cat_read_meta(cat, names[i], &e[i].meta, err) != 0)
            goto end;
    }
    *out = e;
    *n = cnt;
    e = NULL;
    ret = 0;
end:
    free(e);
    dbt_cat_free_names(names, cnt);
    return ret;
}

int dbt_cat_no_such_bundle(dbt_catalog *cat, const char *name, dbt_err *err)
{
    dbt_err_set(err, "catalog %s has no bundle named \"%s\": dbtrust list shows the bundles",
                cat->path, name);
    return -1;
}

int dbt_catalog_has_bundle(dbt_catalog *cat, const char *name)
{
    return dbt_catalog_check_name(name, NULL) == 0 && dbt_cat_snapshot_ready(cat, NULL) == 0 &&
           bundle_exists(cat, name);
}

int dbt_catalog_get_meta(dbt_catalog *cat, const char *name, dbt_catalog_meta *meta, dbt_err *err)
{
    if (dbt_catalog_check_name(name, err) != 0 || dbt_cat_snapshot_ready(cat, err) != 0)
        return -1;
    if (!bundle_exists(cat, name))
        return dbt_cat_no_such_bundle(cat, name, err);
    return dbt_cat_read_meta(cat, name, meta, err);
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
    if (dbt_catalog_check_name(name, err) != 0 || dbt_cat_snapshot_ready(cat, err) != 0)
        return -1;
    if (!bundle_exists(cat, name))
        return dbt_cat_no_such_bundle(cat, name, err);
    if (dbt_cat_read_meta(cat, name, &meta, err) != 0)
        return -1;
    snprintf(rel, sizeof(rel), DBT_LAYOUT_BUNDLES "/%s.pem", name);
    display = dbt_cat_asprintf("%s/bundles/%s.pem", cat->path, name);
    if (display == NULL || (b = dbt_bundle_new(display)) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    b->format = DBT_FMT_PEM;
    if (dbt_cat_read_file(cat, cat->genfd, rel, DBT_MAX_INPUT, &data, &len, display, err) != 0)
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

_Static_assert(DBT_LAYOUT_SERIAL_MAX < sizeof(((dbt_catalog_cert *)0)->serial),
               "an index serial the parser accepts fits dbt_catalog_cert");

/* A parsed index line (dbt_layout_index_next) as the caller's copy. */
static int index_cert(const dbt_layout_index_line *e, dbt_catalog_cert *c)
{
    const char *p = e->bundles, *name;
    size_t nb = 1, len;

    memset(c, 0, sizeof(*c));
    memcpy(c->sha256, e->sha256, sizeof(c->sha256));
    memcpy(c->sha1, e->sha1, sizeof(c->sha1));
    c->subject_hash = e->subject_hash;
    c->issuer_hash = e->issuer_hash;
    /* The parser bounds the serial by DBT_LAYOUT_SERIAL_MAX, which fits. */
    memcpy(c->serial, e->serial, strlen(e->serial) + 1);
    for (const char *q = p; *q; q++)
        nb += *q == ',';
    if ((c->bundles = calloc(nb, sizeof(*c->bundles))) == NULL)
        return -1;
    while (dbt_layout_index_next_bundle(&p, &name, &len)) {
        memcpy(c->bundles[c->nbundles], name, len);
        c->bundles[c->nbundles++][len] = '\0';
    }
    return 0;
}

int dbt_catalog_certs(dbt_catalog *cat, dbt_catalog_cert **out, size_t *n, dbt_err *err)
{
    char *display = NULL, *pos;
    unsigned char *data = NULL;
    size_t len, cnt = 0, cap = 0, lineno = 1;
    dbt_catalog_cert *v = NULL;
    dbt_layout_index_line line, prev;
    long body;
    int ret = -1, rc;

    *out = NULL;
    *n = 0;
    if (dbt_cat_snapshot_ready(cat, err) != 0)
        return -1;
    display = dbt_cat_asprintf("%s/" DBT_LAYOUT_INDEX, cat->certs_dir);
    if (display == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_cat_read_file(cat, cat->genfd, DBT_LAYOUT_CERTS "/" DBT_LAYOUT_INDEX, DBT_MAX_INPUT,
                          &data, &len, display, err))
        goto end;
    /* A NUL would end the parse early and silently hide every line after it. */
    if ((body = dbt_layout_index_header((const char *)data, len)) == DBT_LAYOUT_NUL) {
        dbt_err_set(err,
                    "%s contains a NUL byte at offset %zu: the catalog is damaged; run "
                    "dbtrust import again to rebuild it",
                    display, strlen((const char *)data));
        goto end;
    }
    if (body < 0) {
        dbt_err_set(err,
                    "%s does not start with \"" INDEX_HEADER "\": the catalog is damaged or from "
                    "a newer dbtrust; run dbtrust import again to rebuild it",
                    display);
        goto end;
    }
    for (pos = (char *)data + body;; prev = line) {
        lineno++;
        rc = dbt_layout_index_next(&pos, &line, cnt > 0 ? &prev : NULL);
        if (rc == 0)
            break;
        if (rc == DBT_LAYOUT_NOT_TERMINATED) {
            dbt_err_set(err, "%s: line %zu has no end: the catalog is damaged", display, lineno);
            goto end;
        }
        if (rc == DBT_LAYOUT_BAD_LINE) {
            dbt_err_set(err,
                        "%s: line %zu is damaged: run dbtrust import again to rebuild the "
                        "catalog",
                        display, lineno);
            goto end;
        }
        /* Sorted and unique, as the layout promises and the provider requires: a repeated line
         * could list a certificate under a second set of bundles. */
        if (rc < 0) {
            dbt_err_set(err,
                        "%s: line %zu (SHA-256 %s) is %s: the catalog is damaged; run dbtrust "
                        "import again to rebuild it",
                        display, lineno, line.sha256,
                        rc == DBT_LAYOUT_REPEATED
                            ? "repeated (the line before holds the same certificate)"
                            : "out of order (the index is sorted by SHA-256)");
            goto end;
        }
        if (cnt == cap) {
            /* A line is at least 125 bytes: the first allocation holds them all (its pages
             * past the last line are never touched), where doubling copied them 6 times. */
            size_t nc = cap ? cap * 2 : len / 125 + 1;
            dbt_catalog_cert *nv = realloc(v, nc * sizeof(*nv));
            if (nv == NULL) {
                dbt_err_set(err, "out of memory");
                goto end;
            }
            v = nv;
            cap = nc;
        }
        rc = index_cert(&line, &v[cnt]);
        cnt++;
        if (rc != 0) {
            dbt_err_set(err, "out of memory");
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

/* A certificate file holds exactly one CERTIFICATE block, without headers, and nothing after
 * it that looks like another block: OpenSSL's hashed lookup reads every block of the file, so
 * a second one would be trusted under the first one's name. (The provider applies the same
 * rule to the same files.) */
static int one_cert_block(const unsigned char *data, size_t len, const char *display, dbt_err *err)
{
    static const char begin[] = "-----BEGIN";
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long dlen = 0;
    size_t rest, at;
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    int ret = -1;

    if (bio == NULL || !PEM_read_bio(bio, &name, &header, &der, &dlen) ||
        strcmp(name, PEM_STRING_X509) != 0) {
        dbt_err_ossl(err, "%s: not a certificate: the catalog is damaged", display);
        goto end;
    }
    /* Searched by length: a NUL byte must not hide what follows it. */
    rest = (size_t)BIO_pending(bio);
    for (at = len - rest; at + sizeof(begin) - 1 <= len; at++)
        if (memcmp(data + at, begin, sizeof(begin) - 1) == 0)
            break;
    if (header[0] != '\0' || at + sizeof(begin) - 1 <= len) {
        dbt_err_set(err,
                    "%s must hold exactly one CERTIFICATE block and nothing else: the catalog is "
                    "damaged; run dbtrust import again to rebuild it",
                    display);
        goto end;
    }
    ret = 0;
end:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    return ret;
}

/* Reads the snapshot's file of the certificate named by its SHA-256, which must hold exactly
 * one certificate block; *display is the path to show in messages (the caller frees both). */
static int cert_file_read_in(dbt_catalog *cat, const char *dir, const char *sha256, char sha[65],
                             char **display, unsigned char **data, size_t *len, dbt_err *err)
{
    char rel[96];

    *display = NULL;
    *data = NULL;
    if (dbt_catalog_parse_sha256(sha256, sha, err) != 0 || dbt_cat_snapshot_ready(cat, err) != 0)
        return -1;
    snprintf(rel, sizeof(rel), "%s/%s.pem", dir, sha);
    if ((*display = dbt_cat_asprintf("%s/%s/%s", cat->path, cat->gen_name, rel)) == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_cat_read_file(cat, cat->genfd, rel, DBT_MAX_INPUT, data, len, *display, err) != 0) {
        if (errno == ENOENT)
            dbt_err_set(err, "catalog %s holds no certificate with SHA-256 %s", cat->path, sha);
        return -1;
    }
    return one_cert_block(*data, *len, *display, err);
}

static int cert_file_read(dbt_catalog *cat, const char *sha256, char sha[65], char **display,
                          unsigned char **data, size_t *len, dbt_err *err)
{
    return cert_file_read_in(cat, DBT_LAYOUT_CERTS, sha256, sha, display, data, len, err);
}

int dbt_catalog_check_cert(dbt_catalog *cat, const char *sha256, dbt_err *err)
{
    char sha[65], got[65], *display = NULL, *name = NULL, *header = NULL;
    unsigned char *data = NULL, *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t len = 0;
    long dlen = 0;
    BIO *bio = NULL;
    int ret = -1;

    if (cert_file_read(cat, sha256, sha, &display, &data, &len, err) != 0)
        goto end;
    /* The DER's digest only: parsing the certificate costs far more and proves nothing more
     * about which certificate the file holds. */
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL || !PEM_read_bio(bio, &name, &header, &der, &dlen) ||
        strcmp(name, PEM_STRING_X509) != 0) {
        dbt_err_ossl(err, "%s: not a certificate: the catalog is damaged", display);
        goto end;
    }
    if (!EVP_Digest(der, (size_t)dlen, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        dbt_err_ossl(err, "cannot compute a SHA-256 fingerprint");
        goto end;
    }
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(got + 2 * i, 3, "%02x", md[i]);
    if (strcmp(got, sha) != 0) {
        dbt_err_set(err,
                    "%s holds a certificate with SHA-256 %s: the catalog is damaged; run "
                    "dbtrust import again to rebuild it",
                    display, got);
        goto end;
    }
    ret = 0;
end:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    free(data);
    free(display);
    return ret;
}

static int load_cert_in(dbt_catalog *cat, const char *dir, const char *sha256, X509 **out,
                        dbt_err *err)
{
    char sha[65], *display = NULL;
    unsigned char *data = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    X509 *x = NULL;
    int ret = -1;

    *out = NULL;
    if (cert_file_read_in(cat, dir, sha256, sha, &display, &data, &len, err) != 0)
        goto end;
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

int dbt_catalog_load_cert(dbt_catalog *cat, const char *sha256, X509 **out, dbt_err *err)
{
    return load_cert_in(cat, DBT_LAYOUT_CERTS, sha256, out, err);
}

int dbt_catalog_load_trust_cert(dbt_catalog *cat, const dbt_catalog_trust *t, X509 **out,
                                dbt_err *err)
{
    return load_cert_in(cat, t->scoped ? DBT_LAYOUT_TRUST : DBT_LAYOUT_CERTS, t->sha256, out, err);
}

static int cmp_trust(const void *a, const void *b)
{
    const dbt_catalog_trust *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return strcmp(x->sha256, y->sha256);
}

int dbt_cat_legacy_view_ok(dbt_catalog *cat, dbt_err *err)
{
    dbt_catalog_entry *bundles = NULL;
    size_t nb = 0;
    int rc = 0;

    if (dbt_catalog_list(cat, &bundles, &nb, err) != 0)
        return -1;
    for (size_t i = 0; i < nb && rc == 0; i++)
        if (bundles[i].meta.scope[0] != '\0') {
            dbt_err_set(err,
                        "catalog %s has a scoped bundle (%s) but its generation %s has no "
                        "trust view: it was lost, and serving the bundle's certificates as they "
                        "are would trust them for every name; run dbtrust import again for that "
                        "bundle to rebuild the view",
                        cat->path, bundles[i].name, cat->gen_name);
            rc = -1;
        }
    free(bundles);
    return rc;
}

int dbt_catalog_trust_view(dbt_catalog *cat, dbt_catalog_trust **out, size_t *n, dbt_err *err)
{
    dbt_catalog_trust *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    DIR *d = NULL;
    int fd;

    *out = NULL;
    *n = 0;
    if (dbt_cat_snapshot_ready(cat, err) != 0)
        return -1;
    fd = openat(cat->genfd, DBT_LAYOUT_TRUST, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        /* A generation written before scopes existed: every certificate, as imported. */
        dbt_catalog_cert *certs = NULL;
        size_t nc = 0;
        if (dbt_catalog_certs(cat, &certs, &nc, err) != 0)
            return -1;
        if ((v = calloc(nc ? nc : 1, sizeof(*v))) == NULL) {
            dbt_catalog_certs_free(certs, nc);
            dbt_err_set(err, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < nc; i++) {
            memcpy(v[i].sha256, certs[i].sha256, 65);
            v[i].hash = certs[i].subject_hash;
        }
        dbt_catalog_certs_free(certs, nc);
        if (nc > 1)
            qsort(v, nc, sizeof(*v), cmp_trust);
        *out = v;
        *n = nc;
        /* Only a catalog without scopes may lack the view: a scoped bundle there means the
         * view was lost (an older dbtrust removed it), and serving every certificate as it
         * is would trust the scoped ones for every name. */
        return dbt_cat_legacy_view_ok(cat, err) == 0 ? 0 : (free(v), *out = NULL, *n = 0, -1);
    }
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(err, "cannot read %s/%s/" DBT_LAYOUT_TRUST, cat->path, cat->gen_name);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char target[128];
        unsigned long hash;
        int num, up;
        ssize_t len;

        if (!dbt_layout_hash_link_name(de->d_name, &hash, &num))
            continue;
        len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
        if (len < 0)
            continue; /* not a link: the safety rule refused it at open */
        target[len] = '\0';
        if (!dbt_layout_trust_target(target, &up))
            continue;
        if (cnt >= DBT_SAFE_MAX_ENTRIES) {
            dbt_err_set(err, "%s/%s/" DBT_LAYOUT_TRUST " has too many entries", cat->path,
                        cat->gen_name);
            goto fail;
        }
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            dbt_catalog_trust *nv = realloc(v, ncap * sizeof(*nv));
            if (nv == NULL) {
                dbt_err_set(err, "out of memory");
                goto fail;
            }
            v = nv;
            cap = ncap;
        }
        memcpy(v[cnt].sha256, up ? target + strlen(DBT_LAYOUT_TRUST_UP) : target, 64);
        v[cnt].sha256[64] = '\0';
        v[cnt].hash = hash;
        v[cnt].scoped = !up;
        cnt++;
    }
    closedir(d);
    if (cnt > 1)
        qsort(v, cnt, sizeof(*v), cmp_trust);
    *out = v;
    *n = cnt;
    return 0;
fail:
    closedir(d);
    free(v);
    return -1;
}

int dbt_catalog_generation_time(const dbt_catalog *cat, int64_t *out, dbt_err *err)
{
    struct stat st;

    if (cat->genfd < 0) {
        dbt_err_set(err, "catalog %s has no generation to read", cat->path);
        return -1;
    }
    /* The held descriptor, not a path: the time is the snapshot's even if a commit follows. */
    if (fstat(cat->genfd, &st) != 0) {
        dbt_err_sys(err, "cannot read the time of %s/%s", cat->path, cat->gen_name);
        return -1;
    }
    *out = (int64_t)st.st_mtime;
    return 0;
}

int dbt_catalog_meta_time(const char *s, int64_t *out)
{
    static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
    struct tm tm, back;
    time_t t;

    if (strlen(s) != sizeof(form) - 1)
        return -1;
    for (size_t i = 0; form[i] != '\0'; i++)
        if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
            return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    back = tm;
    /* timegm normalizes 2026-02-30 into March: such a date is not one dbtrust wrote. */
    if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_year != back.tm_year || tm.tm_mon != back.tm_mon ||
        tm.tm_mday != back.tm_mday || tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min ||
        tm.tm_sec != back.tm_sec)
        return -1;
    *out = (int64_t)t;
    return 0;
}
