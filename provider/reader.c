/* dbtrust-store.so's catalog reader: opens the generation "current" names, reads its files through
 * directory descriptors (so a writer swapping generations cannot mix two states), and refuses
 * anything a hostile or damaged catalog could use: unsafe modes, foreign owners, links that
 * leave the catalog, special files, oversized files, malformed index lines. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "catsafe.h"
#include "prov.h"
#include "reader.h"

static const char hexdigits[] = "0123456789abcdef";

/* The ownership and mode rule of lib/catsafe.h, the same the commands apply: a trust store
 * anyone else can write to is a way to inject a CA, so it is refused rather than read. */
static int check_safe(const dbt_reader *rd, const struct stat *st, const char *path, dbt_err *err)
{
    if (dbt_safe_entry_as(st, path, rd->me, err) != 0) {
        dbt_err_prefix(err, "refusing unsafe catalog");
        return DBT_R_UNSAFE_CATALOG;
    }
    return 0;
}

/* Opens a subdirectory of dirfd without following a symlink, and checks it; *stp as fstat saw it.
 */
static int open_dir_at(const dbt_reader *rd, int dirfd, const char *name, const char *path,
                       int *out, struct stat *stp, dbt_err *err)
{
    struct stat st;
    int fd, reason;

    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            dbt_err_set(err, "%s is missing; the catalog is damaged: run dbtrust import again",
                        path);
            return DBT_R_CORRUPT_CATALOG;
        }
        if (errno == ELOOP || errno == ENOTDIR) {
            dbt_err_set(err,
                        "%s is not a directory (a symbolic link or a file); the catalog is "
                        "damaged: run dbtrust import again",
                        path);
            return DBT_R_CORRUPT_CATALOG;
        }
        dbt_err_sys(err, "cannot open %s", path);
        return DBT_R_IO_ERROR;
    }
    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot stat %s", path);
        close(fd);
        return DBT_R_IO_ERROR;
    }
    if ((reason = check_safe(rd, &st, path, err)) != 0) {
        close(fd);
        return reason;
    }
    if (stp != NULL)
        *stp = st;
    *out = fd;
    return 0;
}

/* How many times a session open resolves "current" again after its generation vanished. */
#define DBT_OPEN_RETRIES 8

/* Reads <catalog>/current into gen (32 bytes): ".gen-<digits>" only, since anything else (an
 * absolute path, "..", a slash) would leave the catalog. */
static int resolve_current(int catfd, const char *catalog, char *gen, dbt_err *err)
{
    char target[64];
    ssize_t n;
    unsigned long long num;
    int reason = 0;

    n = readlinkat(catfd, DBT_LAYOUT_CURRENT, target, sizeof(target) - 1);
    if (n < 0) {
        if (errno == ENOENT)
            dbt_err_set(err,
                        "catalog %s has no current generation (empty, or not a dbtrust catalog); "
                        "add certificates with dbtrust --catalog %s import",
                        catalog, catalog);
        else if (errno == EINVAL)
            dbt_err_set(err, "%s/current is not a symbolic link; the catalog is damaged", catalog);
        else
            dbt_err_sys(err, "cannot read %s/current", catalog);
        reason = errno == ENOENT ? DBT_R_CATALOG_MISSING : DBT_R_CORRUPT_CATALOG;
        return reason;
    }
    target[n] = '\0';
    if (n > 24 || dbt_safe_gen_name(target, &num) != 0) {
        reason = DBT_R_CORRUPT_CATALOG;
        dbt_err_set(err,
                    "%s/current points to \"%s\", not to a .gen-N directory of the catalog; "
                    "the catalog is damaged or tampered with",
                    catalog, target);
        return reason;
    }
    memcpy(gen, target, (size_t)n + 1);
    return 0;
}

/* One directory the verdict depends on: its path inside the catalog and the parts of its stat
 * that change when anything in it is added, removed or renamed, or when it is chmod'ed or
 * chown'ed. */
typedef struct dir_key {
    char *rel;
    dev_t dev;
    ino_t ino;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    struct timespec mtim, ctim;
} dir_key;

typedef struct key_list {
    dir_key *v;
    size_t n, cap;
    int failed; /* out of memory: the list is incomplete and must not be remembered */
} key_list;

struct dbt_reader_checked {
    pthread_mutex_t lock;
    unsigned long epoch; /* bumped whenever keys change: a reader knows which verdict it had */
    int links;           /* dbt_safe_check_links passed for this verdict too */
    key_list keys;       /* n == 0: nothing remembered */
    struct timespec at;  /* when the walk remembered was started */
};

/*
 * How long a remembered verdict is used. A chmod or chown of a file changes no directory, so no
 * key sees it; a verdict older than this is walked again, so that such a change to a file no
 * search reads (a bundle file, a meta file, the lock) refuses the catalog in a running process
 * within this time, as it does at once in a new one. One walk per second costs a long-lived
 * process well under 0.1% of its time; every file a search reads is checked as it is read.
 */
#define VERDICT_MAX_AGE_NS 1000000000LL

static long long ts_ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void keys_free(key_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].rel);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void key_set(dir_key *k, const struct stat *st)
{
    k->dev = st->st_dev;
    k->ino = st->st_ino;
    k->mode = st->st_mode;
    k->uid = st->st_uid;
    k->gid = st->st_gid;
    k->mtim = st->st_mtim;
    k->ctim = st->st_ctim;
}

static int key_same(const dir_key *k, const struct stat *st)
{
    return k->dev == st->st_dev && k->ino == st->st_ino && k->mode == st->st_mode &&
           k->uid == st->st_uid && k->gid == st->st_gid && k->mtim.tv_sec == st->st_mtim.tv_sec &&
           k->mtim.tv_nsec == st->st_mtim.tv_nsec && k->ctim.tv_sec == st->st_ctim.tv_sec &&
           k->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* dbt_safe_dir_fn: collects the directories of one walk. */
static void key_seen(void *arg, const char *rel, const struct stat *st)
{
    key_list *l = arg;
    dir_key *v;

    if (l->failed)
        return;
    if (l->n >= DBT_MAX_VERDICT_DIRS) {
        l->failed = 1; /* a catalog with that many directories is walked at every open */
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 8 : 2 * l->cap;

        if ((v = realloc(l->v, cap * sizeof(*v))) == NULL) {
            l->failed = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n].rel = strdup(rel)) == NULL) {
        l->failed = 1;
        return;
    }
    key_set(&l->v[l->n++], st);
}

dbt_reader_checked *dbt_reader_checked_new(void)
{
    dbt_reader_checked *c = OPENSSL_zalloc(sizeof(*c));

    if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
        OPENSSL_free(c);
        c = NULL;
    }
    return c;
}

void dbt_reader_checked_free(dbt_reader_checked *c)
{
    if (c == NULL)
        return;
    keys_free(&c->keys);
    pthread_mutex_destroy(&c->lock);
    OPENSSL_free(c);
}

/* The directories an open has already looked at (by descriptor, before the walk). */
struct open_stats {
    struct timespec start; /* CLOCK_REALTIME_COARSE before any of these was taken */
    const char *gen;
    struct stat cat, gen_st, certs, bundles;
};

/*
 * Whether every directory the remembered walk depended on is unchanged (1), its epoch in *epoch.
 * The catalog, the generation and its certs/ and bundles/ are compared with what this open saw
 * through its descriptors; any other (another generation's own entry, a directory at the top
 * that is not dbtrust's and everything below it) is looked at again by name. A directory added
 * anywhere changes its parent, which is on the list; so while the list matches, the walk would
 * see the same directories with the same entries, modes and owners. Files change no directory
 * when chmod'ed: each one the reader opens is checked as it is read, and a verdict is used for
 * VERDICT_MAX_AGE_NS at most, so that a chmod of any other is seen within that time.
 */
static int checked_same(dbt_reader_checked *c, int catfd, const struct open_stats *o,
                        unsigned long *epoch)
{
    size_t glen = strlen(o->gen);
    struct stat st;
    const struct stat *now;
    int same = 0;

    if (c == NULL || pthread_mutex_trylock(&c->lock) != 0)
        return 0;
    same = c->keys.n > 0 && ts_ns(&o->start) >= ts_ns(&c->at) &&
           ts_ns(&o->start) - ts_ns(&c->at) < VERDICT_MAX_AGE_NS;
    for (size_t i = 0; same && i < c->keys.n; i++) {
        const char *rel = c->keys.v[i].rel;

        if (rel[0] == '\0')
            now = &o->cat;
        else if (strcmp(rel, o->gen) == 0)
            now = &o->gen_st;
        else if (strncmp(rel, o->gen, glen) == 0 && strcmp(rel + glen, "/certs") == 0)
            now = &o->certs;
        else if (strncmp(rel, o->gen, glen) == 0 && strcmp(rel + glen, "/bundles") == 0)
            now = &o->bundles;
        else if (fstatat(catfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
            now = &st;
        else
            now = NULL;
        same = now != NULL && key_same(&c->keys.v[i], now);
    }
    if (same)
        *epoch = c->epoch; /* which verdict this open relies on (dbt_reader_check_links) */
    pthread_mutex_unlock(&c->lock);
    return same;
}

/*
 * Whether a key can tell every later change from the state it records. A directory's times
 * come from the kernel's coarse clock (one tick, 4 ms at HZ=250) or are cut to whole seconds
 * by some filesystems, so a change made in the same tick or second as the last one before our
 * stat leaves them equal. Only times older than the open's start by more than that granularity
 * are trusted: 2 s when a time has no nanoseconds (a filesystem that keeps whole seconds), else
 * 20 ms. A catalog changed more recently is walked again at its next open.
 */
static int keys_settled(const key_list *keys, const struct timespec *start)
{
    long long limit_ns = (long long)start->tv_sec * 1000000000LL + start->tv_nsec;
    long long margin = 20000000LL;

    for (size_t i = 0; i < keys->n; i++)
        if (keys->v[i].mtim.tv_nsec == 0 || keys->v[i].ctim.tv_nsec == 0)
            margin = 2000000000LL;
    for (size_t i = 0; i < keys->n; i++) {
        const struct timespec *t[2] = {&keys->v[i].mtim, &keys->v[i].ctim};

        for (int j = 0; j < 2; j++)
            if ((long long)t[j]->tv_sec * 1000000000LL + t[j]->tv_nsec > limit_ns - margin)
                return 0;
    }
    return 1;
}

/* Remembers the directories of a walk that found the catalog safe (takes over keys). */
static void checked_store(dbt_reader_checked *c, key_list *keys, const struct timespec *start,
                          unsigned long *epoch)
{
    if (c == NULL || keys->failed || keys->n == 0 || !keys_settled(keys, start) ||
        pthread_mutex_trylock(&c->lock) != 0)
        return;
    keys_free(&c->keys);
    c->keys = *keys;
    c->at = *start;
    memset(keys, 0, sizeof(*keys));
    c->links = 0;
    *epoch = ++c->epoch;
    pthread_mutex_unlock(&c->lock);
}

/*
 * The safety rule of lib/catsafe.h over the catalog and the generation opened, with the hash
 * links of certs/ left to their point of use (DBT_SAFE_LINKS_AT_USE): a subject search follows
 * a link only through dbt_reader_hash_link, which checks it there, and opens its target only
 * through dbt_reader_cert (O_NOFOLLOW in certs_fd, fstat, the rule); every other search reads
 * no link and first calls dbt_reader_check_links. A trust lookup of a TLS client, a subject
 * search, so pays for no system call per link.
 */
static int check_catalog(dbt_reader *rd, int catfd, dbt_reader_checked *checked,
                         const struct open_stats *o, dbt_err *err)
{
    key_list keys = {NULL, 0, 0, 0};
    unsigned long epoch = 0;
    int rc;

    rd->checked = checked;
    if (checked_same(checked, catfd, o, &epoch)) {
        rd->epoch = epoch;
        return 0;
    }
    rc = dbt_safe_walk_ex(catfd, rd->catalog, rd->gen, DBT_SAFE_LINKS_AT_USE,
                          checked != NULL ? key_seen : NULL, &keys, err);
    /* This open relies on no remembered verdict unless it stores its own: the links checked
     * for another one say nothing about this state. */
    epoch = 0;
    if (rc == DBT_SAFE_OK) {
        checked_store(checked, &keys, &o->start, &epoch);
        rd->epoch = epoch;
    }
    keys_free(&keys);
    if (rc == DBT_SAFE_UNSAFE) {
        dbt_err_prefix(err, "refusing unsafe catalog %s", rd->catalog);
        return DBT_R_UNSAFE_CATALOG;
    }
    return rc == DBT_SAFE_OK ? 0 : DBT_R_IO_ERROR;
}

int dbt_reader_check_links(dbt_reader *rd, dbt_err *err)
{
    dbt_reader_checked *c = rd->checked;
    char path[4096];
    int rc, done = 0;

    if (rd->links_checked)
        return 0;
    if (c != NULL && rd->epoch != 0 && pthread_mutex_trylock(&c->lock) == 0) {
        done = c->epoch == rd->epoch && c->links;
        pthread_mutex_unlock(&c->lock);
    }
    if (!done) {
        snprintf(path, sizeof(path), "%s/%s/certs", rd->catalog, rd->gen);
        rc = dbt_safe_check_links(rd->certs_fd, path, err);
        if (rc == DBT_SAFE_UNSAFE) {
            dbt_err_prefix(err, "refusing unsafe catalog %s", rd->catalog);
            return DBT_R_UNSAFE_CATALOG;
        }
        if (rc != DBT_SAFE_OK)
            return DBT_R_IO_ERROR;
        /* The links of the generation this verdict is about: remember them with it. */
        if (c != NULL && rd->epoch != 0 && pthread_mutex_trylock(&c->lock) == 0) {
            if (c->epoch == rd->epoch)
                c->links = 1;
            pthread_mutex_unlock(&c->lock);
        }
    }
    rd->links_checked = 1;
    return 0;
}

int dbt_reader_open(dbt_reader *rd, const char *catalog, dbt_reader_checked *checked, dbt_err *err)
{
    char path[4096];
    struct open_stats o;
    int catfd = -1, reason = 0, attempt, rc;

    memset(rd, 0, sizeof(*rd));
    rd->catalog = catalog;
    rd->me = geteuid(); /* once per open, not once per entry checked */
    rd->gen_fd = rd->certs_fd = rd->bundles_fd = -1;

    if (catalog[0] != '/') {
        dbt_err_set(err,
                    "catalog path \"%s\" is not absolute; set catalog = /absolute/path in the "
                    "dbtrust section of openssl.cnf",
                    catalog);
        return DBT_R_BAD_CONFIG;
    }
    if (clock_gettime(CLOCK_REALTIME_COARSE, &o.start) != 0)
        memset(&o.start, 0, sizeof(o.start)); /* remember nothing */
    catfd = open(catalog, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (catfd < 0) {
        if (errno == ENOENT) {
            dbt_err_set(err,
                        "catalog %s does not exist; create it with dbtrust --catalog %s import, "
                        "or set catalog = DIR in the dbtrust section of openssl.cnf",
                        catalog, catalog);
            return DBT_R_CATALOG_MISSING;
        }
        dbt_err_sys(err, "cannot open catalog %s", catalog);
        return errno == ENOTDIR ? DBT_R_CATALOG_MISSING : DBT_R_IO_ERROR;
    }
    if (fstat(catfd, &o.cat) != 0) {
        dbt_err_sys(err, "cannot stat catalog %s", catalog);
        reason = DBT_R_IO_ERROR;
        goto end;
    }
    if ((reason = check_safe(rd, &o.cat, catalog, err)) != 0)
        goto end;

    /* One readlink per session: everything below goes through gen_fd, which holds the
     * generation (lib/catsafe.h): no writer removes it while this reader is open, so a store
     * kept open across any number of commits reads the generation it opened, whole. A
     * generation that a writer removes between our readlink and our lock is seen gone: resolve
     * "current" again (bounded: a writer committing faster than we can open is damage enough). */
    for (attempt = 0;; attempt++) {
        if ((reason = resolve_current(catfd, catalog, rd->gen, err)) != 0)
            goto end;
        snprintf(path, sizeof(path), "%s/%s", catalog, rd->gen);
        rc = dbt_safe_hold_gen(catfd, rd->gen, &rd->gen_fd);
        if (rc == 0)
            break;
        if (rc < 0) {
            dbt_err_sys(err, "cannot open %s", path);
            reason = DBT_R_IO_ERROR;
            goto end;
        }
        if (attempt >= DBT_OPEN_RETRIES) {
            dbt_err_set(err,
                        "%s is missing or being removed (%d attempts); the catalog is damaged: "
                        "run dbtrust import again",
                        path, attempt + 1);
            reason = DBT_R_CORRUPT_CATALOG;
            goto end;
        }
    }
    if (fstat(rd->gen_fd, &o.gen_st) != 0) {
        dbt_err_sys(err, "cannot stat %s", path);
        reason = DBT_R_IO_ERROR;
        goto end;
    }
    if ((reason = check_safe(rd, &o.gen_st, path, err)) != 0)
        goto end;
    snprintf(path, sizeof(path), "%s/%s/certs", catalog, rd->gen);
    if ((reason = open_dir_at(rd, rd->gen_fd, DBT_LAYOUT_CERTS, path, &rd->certs_fd, &o.certs,
                              err)) != 0)
        goto end;
    snprintf(path, sizeof(path), "%s/%s/bundles", catalog, rd->gen);
    if ((reason = open_dir_at(rd, rd->gen_fd, DBT_LAYOUT_BUNDLES, path, &rd->bundles_fd, &o.bundles,
                              err)) != 0)
        goto end;
    o.gen = rd->gen;
    reason = check_catalog(rd, catfd, checked, &o, err);

end:
    if (catfd >= 0)
        close(catfd);
    if (reason != 0)
        dbt_reader_close(rd);
    return reason;
}

void dbt_reader_close(dbt_reader *rd)
{
    if (rd->gen_fd >= 0)
        close(rd->gen_fd);
    if (rd->certs_fd >= 0)
        close(rd->certs_fd);
    if (rd->bundles_fd >= 0)
        close(rd->bundles_fd);
    OPENSSL_free(rd->index_buf);
    OPENSSL_free(rd->index);
    rd->gen_fd = rd->certs_fd = rd->bundles_fd = -1;
    rd->index_buf = NULL;
    rd->index = NULL;
    rd->index_n = 0;
    rd->index_loaded = 0;
    rd->links_checked = 0;
}

/* Reads a regular file below dirfd, at most max bytes, NUL-terminated. O_NONBLOCK keeps a FIFO
 * planted in the catalog from blocking the open; O_NOFOLLOW refuses a symlink. */
static int read_file_at(const dbt_reader *rd, int dirfd, const char *name, const char *path,
                        size_t max, char **out, size_t *outlen, int *missing, dbt_err *err)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    int fd, reason = 0;

    *out = NULL;
    *outlen = 0;
    if (missing != NULL)
        *missing = 0;
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && missing != NULL) {
            *missing = 1;
            return 0;
        }
        if (errno == ENOENT) {
            dbt_err_set(err, "%s is missing; the catalog is damaged: run dbtrust import again",
                        path);
            return DBT_R_CORRUPT_CATALOG;
        }
        if (errno == ELOOP) {
            dbt_err_set(err, "%s is a symbolic link where the catalog has a file; refusing it",
                        path);
            return DBT_R_CORRUPT_CATALOG;
        }
        dbt_err_sys(err, "cannot open %s", path);
        return DBT_R_IO_ERROR;
    }
    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot stat %s", path);
        reason = DBT_R_IO_ERROR;
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        dbt_err_set(err, "%s is not a regular file; refusing it", path);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    if ((reason = check_safe(rd, &st, path, err)) != 0)
        goto end;
    if ((size_t)st.st_size > max) {
        dbt_err_set(err, "%s is %lld bytes, more than the %zu this file may have; refusing it",
                    path, (long long)st.st_size, max);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    if ((buf = OPENSSL_malloc((size_t)st.st_size + 1)) == NULL) {
        dbt_err_set(err, "out of memory reading %s", path);
        reason = DBT_R_OUT_OF_MEMORY;
        goto end;
    }
    /* Never more than the size fstat saw: a file that grows while we read stays bounded. */
    while (len < (size_t)st.st_size) {
        n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            dbt_err_sys(err, "cannot read %s", path);
            reason = DBT_R_IO_ERROR;
            goto end;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    buf = NULL;
end:
    OPENSSL_free(buf);
    close(fd);
    return reason;
}

int dbt_reader_has_bundle(dbt_reader *rd, const char *name, int *found, dbt_err *err)
{
    char file[DBT_NAME_MAX + 8], path[4096];
    struct stat st;
    int reason;

    *found = 0;
    if (rd->bundles_fd < 0) {
        snprintf(path, sizeof(path), "%s/%s/bundles", rd->catalog, rd->gen);
        if ((reason = open_dir_at(rd, rd->gen_fd, DBT_LAYOUT_BUNDLES, path, &rd->bundles_fd, NULL,
                                  err)) != 0)
            return reason;
    }
    snprintf(file, sizeof(file), "%s.pem", name);
    if (fstatat(rd->bundles_fd, file, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return 0;
        dbt_err_sys(err, "cannot stat %s/%s/bundles/%s", rd->catalog, rd->gen, file);
        return DBT_R_IO_ERROR;
    }
    *found = S_ISREG(st.st_mode);
    return 0;
}

int dbt_reader_bundle(dbt_reader *rd, const char *name, char **buf, size_t *len, int *missing,
                      dbt_err *err)
{
    char file[DBT_NAME_MAX + 8], path[4096];
    int reason;

    *buf = NULL;
    *len = 0;
    *missing = 0;
    if (rd->bundles_fd < 0) {
        snprintf(path, sizeof(path), "%s/%s/bundles", rd->catalog, rd->gen);
        if ((reason = open_dir_at(rd, rd->gen_fd, DBT_LAYOUT_BUNDLES, path, &rd->bundles_fd, NULL,
                                  err)) != 0)
            return reason;
    }
    snprintf(file, sizeof(file), "%s.pem", name);
    snprintf(path, sizeof(path), "%s/%s/bundles/%s", rd->catalog, rd->gen, file);
    return read_file_at(rd, rd->bundles_fd, file, path, DBT_MAX_BUNDLE_FILE, buf, len, missing,
                        err);
}

int dbt_reader_hash_link(dbt_reader *rd, unsigned long hash, int n, char *sha, dbt_err *err)
{
    char name[32], target[128], path[4096];
    struct stat st;
    ssize_t len;
    int reason;

    sha[0] = '\0';
    snprintf(name, sizeof(name), "%08lx.%d", hash & 0xffffffffUL, n);
    len = readlinkat(rd->certs_fd, name, target, sizeof(target) - 1);
    if (len < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno == EINVAL) {
            dbt_err_set(err,
                        "%s/%s/certs/%s is not a symbolic link to a <sha256>.pem file; the "
                        "catalog is damaged: run dbtrust import again",
                        rd->catalog, rd->gen, name);
            return DBT_R_CORRUPT_CATALOG;
        }
        dbt_err_sys(err, "cannot read link %s/%s/certs/%s", rd->catalog, rd->gen, name);
        return DBT_R_IO_ERROR;
    }
    target[len] = '\0';
    /* The only target the layout allows is a sibling "<sha256>.pem": no slash, no "..". The
     * same rule and message as the walk's (which, at open, left this link to us). */
    snprintf(path, sizeof(path), "%s/%s/certs/%s", rd->catalog, rd->gen, name);
    if (dbt_safe_hash_target(path, target, err) != 0) {
        dbt_err_prefix(err, "refusing a link that may leave the catalog");
        return DBT_R_CORRUPT_CATALOG;
    }
    /* Its owner, which the walk did not look at either (a symlink's mode means nothing). */
    if (fstatat(rd->certs_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        dbt_err_sys(err, "cannot stat %s", path);
        return DBT_R_IO_ERROR;
    }
    if ((reason = check_safe(rd, &st, path, err)) != 0)
        return reason;
    memcpy(sha, target, DBT_SHA256_HEX);
    sha[DBT_SHA256_HEX] = '\0';
    return 0;
}

/* Whether "-----BEGIN" occurs in buf from offset at on, searched by length: a NUL byte must
 * not hide a block that OpenSSL's hashed lookup, reading line by line, would still find. */
static int another_block(const char *buf, size_t len, size_t at)
{
    static const char begin[] = "-----BEGIN";

    for (; at + sizeof(begin) - 1 <= len; at++)
        if (memcmp(buf + at, begin, sizeof(begin) - 1) == 0)
            return 1;
    return 0;
}

int dbt_reader_cert(dbt_reader *rd, const char *sha, unsigned char **der, long *derlen,
                    int *missing, dbt_err *err)
{
    char file[DBT_SHA256_HEX + 8], path[4096], *buf = NULL, *pem_name = NULL, *header = NULL;
    unsigned char *data = NULL, md[EVP_MAX_MD_SIZE];
    char hex[DBT_SHA256_HEX + 1];
    unsigned int mdlen = 0, i;
    size_t len;
    long dlen = 0;
    BIO *bio = NULL;
    int reason;

    *der = NULL;
    *derlen = 0;
    snprintf(file, sizeof(file), "%s.pem", sha);
    snprintf(path, sizeof(path), "%s/%s/certs/%s", rd->catalog, rd->gen, file);
    reason =
        read_file_at(rd, rd->certs_fd, file, path, DBT_MAX_CERT_FILE, &buf, &len, missing, err);
    if (reason != 0 || (missing != NULL && *missing))
        goto end;

    /* libcrypto's own complaints about a bad file are replaced by one message naming it. */
    ERR_set_mark();
    bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL || !PEM_read_bio(bio, &pem_name, &header, &data, &dlen)) {
        ERR_pop_to_mark();
        dbt_err_set(err,
                    "%s holds no PEM certificate; the catalog is damaged: run dbtrust "
                    "import again",
                    path);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    ERR_pop_to_mark();
    if (strcmp(pem_name, "CERTIFICATE") != 0 || header[0] != '\0' ||
        another_block(buf, len, len - (size_t)BIO_pending(bio))) {
        dbt_err_set(err,
                    "%s must hold exactly one CERTIFICATE block; the catalog is damaged: "
                    "run dbtrust import again",
                    path);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    if (!EVP_Digest(data, (size_t)dlen, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        dbt_err_ossl(err, "cannot compute the SHA-256 of %s", path);
        reason = DBT_R_IO_ERROR;
        goto end;
    }
    for (i = 0; i < mdlen; i++) {
        hex[2 * i] = hexdigits[md[i] >> 4];
        hex[2 * i + 1] = hexdigits[md[i] & 15];
    }
    hex[DBT_SHA256_HEX] = '\0';
    /* The file name is the certificate's identity; content that does not match it was swapped
     * or damaged after the catalog was written. */
    if (strcmp(hex, sha) != 0) {
        dbt_err_set(err,
                    "%s holds a certificate whose SHA-256 is %s, not its file name; the "
                    "catalog is damaged: run dbtrust import again",
                    path, hex);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    *der = data;
    *derlen = dlen;
    data = NULL;
end:
    BIO_free(bio);
    OPENSSL_free(pem_name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    OPENSSL_free(buf);
    return reason;
}

int dbt_reader_index(dbt_reader *rd, dbt_err *err)
{
    char path[4096], *buf = NULL, *pos;
    dbt_index_entry *entries = NULL;
    size_t len, lines = 0, n = 0, lineno = 1;
    long body;
    const char *p;
    int reason, rc;

    if (rd->index_loaded)
        return 0;
    snprintf(path, sizeof(path), "%s/%s/certs/" DBT_LAYOUT_INDEX, rd->catalog, rd->gen);
    reason = read_file_at(rd, rd->certs_fd, DBT_LAYOUT_INDEX, path, DBT_MAX_INDEX_FILE, &buf, &len,
                          NULL, err);
    if (reason != 0)
        return reason;
    if ((body = dbt_layout_index_header(buf, len)) == DBT_LAYOUT_NUL) {
        dbt_err_set(err,
                    "%s contains a NUL byte; the catalog is damaged: run dbtrust import "
                    "again",
                    path);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    if (body < 0) {
        dbt_err_set(err,
                    "%s does not start with \"" DBT_LAYOUT_INDEX_HEADER "\" (another format "
                    "version, or damaged); rebuild the catalog with this version's dbtrust",
                    path);
        reason = DBT_R_CORRUPT_CATALOG;
        goto end;
    }
    for (p = buf; *p != '\0'; p++)
        if (*p == '\n')
            lines++;
    /* A valid line has at least DBT_LAYOUT_INDEX_MIN_LINE bytes: a file of empty lines must not
     * make us allocate an entry per byte. */
    if (lines > len / DBT_LAYOUT_INDEX_MIN_LINE + 1)
        lines = len / DBT_LAYOUT_INDEX_MIN_LINE + 1;
    if ((entries = OPENSSL_zalloc((lines + 1) * sizeof(*entries))) == NULL) {
        dbt_err_set(err, "out of memory reading %s", path);
        reason = DBT_R_OUT_OF_MEMORY;
        goto end;
    }
    /* entries has a spare slot, so the line past the bound is parsed into it and refused. */
    for (pos = buf + body;; n++) {
        lineno++;
        rc = dbt_layout_index_next(&pos, &entries[n], n > 0 ? &entries[n - 1] : NULL);
        if (rc == 0)
            break;
        if (rc == 1 && n >= lines)
            rc = DBT_LAYOUT_BAD_LINE;
        if (rc == DBT_LAYOUT_NOT_TERMINATED) {
            dbt_err_set(err,
                        "%s line %zu is not terminated (truncated file); the catalog is "
                        "damaged: run dbtrust import again",
                        path, lineno);
            reason = DBT_R_CORRUPT_CATALOG;
            goto end;
        }
        if (rc == DBT_LAYOUT_BAD_LINE) {
            dbt_err_set(err,
                        "%s line %zu is not \"<sha256> <sha1> <subject-hash> <issuer-hash> "
                        "<serial> <bundles>\"; the catalog is damaged: run dbtrust import "
                        "again",
                        path, lineno);
            reason = DBT_R_CORRUPT_CATALOG;
            goto end;
        }
        /* Sorted and unique, as the layout promises: binary search depends on it. */
        if (rc < 0) {
            dbt_err_set(err,
                        "%s line %zu is out of order or repeated; the catalog is damaged: "
                        "run dbtrust import again",
                        path, lineno);
            reason = DBT_R_CORRUPT_CATALOG;
            goto end;
        }
    }
    rd->index_buf = buf;
    rd->index = entries;
    rd->index_n = n;
    rd->index_loaded = 1;
    buf = NULL;
    entries = NULL;
end:
    OPENSSL_free(buf);
    OPENSSL_free(entries);
    return reason;
}

const dbt_index_entry *dbt_reader_find(const dbt_reader *rd, const char *sha)
{
    size_t lo = 0, hi = rd->index_n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rd->index[mid].sha256, sha);
        if (c == 0)
            return &rd->index[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
