/* The system directory's links (lib/syswire.h): dbtrust-<sha256>.pem links to the catalog's
 * files and <hash>.<n> links to those, made, renumbered and removed through a journal that undoes
 * a failed run step by step. Only links dbtrust made are ever replaced or removed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certinfo.h"
#include "fsutil.h"
#include "sys_int.h"

int sys_is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* "dbtrust-<64 hex>.pem" -> the sha256, else NULL. */
const char *sys_our_link_sha(const char *name)
{
    size_t pl = strlen(SYS_LINK_PREFIX);

    if (strncmp(name, SYS_LINK_PREFIX, pl) == 0 && strlen(name) == pl + 64 + 4 &&
        sys_is_hex(name + pl, 64) && strcmp(name + pl + 64, ".pem") == 0)
        return name + pl;
    return NULL;
}

/* "<8 hex>.<n>" -> 1 with *hash and *n. */
int sys_hash_link_name(const char *name, unsigned long *hash, int *n)
{
    char *end;
    long v;

    if (strlen(name) < 10 || !sys_is_hex(name, 8) || name[8] != '.')
        return 0;
    errno = 0;
    v = strtol(name + 9, &end, 10);
    if (*end != '\0' || errno != 0 || v < 0 || v > 100000 || name[9] == '\0')
        return 0;
    *hash = strtoul(name, NULL, 16) & 0xffffffffUL;
    *n = (int)v;
    return 1;
}

static int wanted(const struct sys_want *w, size_t nw, const char *sha)
{
    size_t i;

    for (i = 0; i < nw; i++)
        if (strncmp(w[i].sha256, sha, 64) == 0)
            return 1;
    return 0;
}

int sys_link_points_to_us(const char *dir, const char *name, char *target, size_t tn)
{
    char path[PATH_MAX];
    ssize_t len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    len = readlink(path, target, tn - 1);
    if (len < 0)
        return 0;
    target[len] = '\0';
    return sys_our_link_sha(target) != NULL;
}

/* Warns once per run about an entry of the system directory that is not a certificate file
 * where OpenSSL's hashed lookup opens one: OpenSSL would block on a FIFO or fail on the rest,
 * and dbtrust neither opens nor replaces it (it is not dbtrust's). */
static void warn_special(const sys_out *o, const char *path, mode_t mode)
{
    sys_say(o, DBT_SYS_WARN, 0,
            "%s is %s, not a certificate file: dbtrust leaves it alone (it is not dbtrust's), "
            "but OpenSSL's lookup of that subject may block or fail on it; remove it",
            path, dbt_fs_kind(mode));
}

/* SHA-256 of the certificate a hash link resolves to ("" when unreadable or not a regular file:
 * only a regular file of at most DBT_SYS_CERT_MAX bytes is opened, see open_regular). */
static void cert_sha_of(const sys_out *o, const char *dir, const char *name, char out[65])
{
    char path[PATH_MAX], *data = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    struct stat st;
    size_t len;
    BIO *mem = NULL;
    X509 *x = NULL;
    int fd;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = sys_open_regular(path, 1, &st)) < 0) {
        if (fd == -2)
            warn_special(o, path, st.st_mode);
        return;
    }
    if (sys_read_capped(fd, DBT_SYS_CERT_MAX, &data, &len) == 0 &&
        (mem = BIO_new_mem_buf(data, (int)len)) != NULL)
        x = PEM_read_bio_X509_AUX(mem, NULL, NULL, NULL);
    close(fd);
    if (x != NULL && X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        dbt_hex(md, mdlen, out);
    ERR_clear_error();
    X509_free(x);
    BIO_free(mem);
    free(data);
}

/*
 * Every change made to the system directory is journaled, so that a failure half-way is undone
 * step by step in reverse and the directory is left as it was (enable and disable never leave
 * the system half-changed). Names are relative to the directory.
 */
static int j_push(struct sys_journal *j, enum sys_jkind kind, const char *name, const char *other)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        struct sys_jop *ops = realloc(j->ops, cap * sizeof(*ops));

        if (ops == NULL)
            goto oom;
        j->ops = ops;
        j->cap = cap;
    }
    j->ops[j->n].kind = kind;
    j->ops[j->n].name = strdup(name);
    j->ops[j->n].other = other != NULL ? strdup(other) : NULL;
    if (j->ops[j->n].name == NULL || (other != NULL && j->ops[j->n].other == NULL)) {
        free(j->ops[j->n].name);
        free(j->ops[j->n].other);
        goto oom;
    }
    j->n++;
    return 0;
oom:
    sys_say(j->out, DBT_SYS_ERROR, 0, "out of memory");
    return -1;
}

void sys_j_free(struct sys_journal *j)
{
    size_t i;

    for (i = 0; i < j->n; i++) {
        free(j->ops[i].name);
        free(j->ops[i].other);
    }
    free(j->ops);
    free(j->file_orig);
    j->ops = NULL;
    j->file_orig = NULL;
    j->n = j->cap = 0;
}

/* Points dir/name at target atomically (a temporary link renamed over it). */
static int put_link(const char *dir, const char *name, const char *target)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%ld", dir, name, (long)getpid());
    /* A link left by an earlier run of this pid is dbtrust's; anything else there is not. */
    if (lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode))
        unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
        int e = errno;

        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

/* Reverts the journal, newest step first; reports steps that cannot be reverted. */
int sys_j_undo(struct sys_journal *j)
{
    char path[PATH_MAX], to[PATH_MAX];
    struct stat st;
    int rc = 0;
    size_t i;

    if (j->file_orig != NULL) {
        dbt_err err;

        if (dbt_fs_write_atomic(j->file, j->file_orig, j->file_len, j->file_mode, &err) != 0) {
            sys_say(j->out, DBT_SYS_ERROR, 0, "could not restore %s: %s", j->file, err.msg);
            rc = -1;
        }
    }
    for (i = j->n; i-- > 0;) {
        const struct sys_jop *op = &j->ops[i];
        int r;

        snprintf(path, sizeof(path), "%s/%s", j->dir, op->name);
        switch (op->kind) {
        case J_CREATE:
            r = op->other != NULL ? put_link(j->dir, op->name, op->other) : unlink(path);
            break;
        case J_UNLINK:
            r = symlink(op->other, path);
            break;
        default:
            /* Never renamed over whatever took the old name meanwhile (not dbtrust's). */
            snprintf(to, sizeof(to), "%s/%s", j->dir, op->other);
            if (lstat(path, &st) == 0) {
                errno = EEXIST;
                r = -1;
            } else {
                r = rename(to, path);
            }
            break;
        }
        if (r != 0) {
            sys_say(j->out, DBT_SYS_ERROR, DBT_HINT_SYSTEM_REPAIR,
                    "could not undo the change to %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    sys_j_free(j);
    return rc;
}

/* Renumbers <hash>.<n> links so that numbers run 0..k-1 again: OpenSSL's lookup stops at the
 * first missing number, so a gap would hide the system's own CAs behind it. */
static int compact_hash(struct sys_journal *j, unsigned long hash)
{
    char from[PATH_MAX], to[PATH_MAX], fname[32], tname[32];
    int n, next = 0, missing = 0;
    struct stat st;

    for (n = 0; n < 1000 && missing < 32; n++) {
        snprintf(fname, sizeof(fname), "%08lx.%d", hash, n);
        snprintf(from, sizeof(from), "%s/%s", j->dir, fname);
        if (lstat(from, &st) != 0) {
            missing++;
            continue;
        }
        /* Only links and files (what openssl rehash and dbtrust make) are renumbered: anything
         * else is not a certificate and not dbtrust's, and stays where it is. */
        if (!S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode)) {
            warn_special(j->out, from, st.st_mode);
            next = n + 1;
            continue;
        }
        if (n != next) {
            snprintf(tname, sizeof(tname), "%08lx.%d", hash, next);
            snprintf(to, sizeof(to), "%s/%s", j->dir, tname);
            if (rename(from, to) != 0) {
                sys_say(j->out, DBT_SYS_ERROR, 0, "cannot rename %s to %s: %s", from, to,
                        strerror(errno));
                return -1;
            }
            if (j_push(j, J_RENAME, fname, tname) != 0)
                return -1;
        }
        next++;
    }
    return 0;
}

/* Creates (or retargets) dir/name -> target, journaled. Only symlinks are ever replaced: a
 * file or directory of that name belongs to someone else. */
static int make_link(struct sys_journal *j, const char *target, const char *name)
{
    char path[PATH_MAX], old[PATH_MAX];
    struct stat st;
    ssize_t len = -1;

    snprintf(path, sizeof(path), "%s/%s", j->dir, name);
    if (lstat(path, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            sys_say(j->out, DBT_SYS_ERROR, 0,
                    "%s exists and is not a symbolic link; dbtrust will not replace it "
                    "(move it away, then rerun)",
                    path);
            return -1;
        }
        if ((len = readlink(path, old, sizeof(old) - 1)) < 0) {
            sys_say(j->out, DBT_SYS_ERROR, 0, "cannot read link %s: %s", path, strerror(errno));
            return -1;
        }
        old[len] = '\0';
    }
    if (put_link(j->dir, name, target) != 0) {
        sys_say(j->out, DBT_SYS_ERROR, 0, "cannot create link %s -> %s: %s", path, target,
                strerror(errno));
        return -1;
    }
    return j_push(j, J_CREATE, name, len >= 0 ? old : NULL);
}

/*
 * Makes j->dir show exactly the certificates in w (nw of them; 0 removes everything dbtrust
 * added): a dbtrust-<sha256>.pem link to the catalog's file and a <hash>.<n> link to it, unless
 * the same certificate is already there under that hash (the system store holds it too, or
 * `openssl rehash` from update-ca-certificates made the hash link itself). New links go in
 * first and stale ones leave last, so no lookup misses a CA that stays. Every step is in the
 * journal; on failure the caller decides whether to undo.
 */
static int sys_sync(struct sys_journal *j, const char *catalog, const struct sys_want *w, size_t nw,
                    size_t *nadded, size_t *nremoved)
{
    const char *dir = j->dir;
    DIR *d = NULL;
    struct dirent *de;
    char target[PATH_MAX], name[PATH_MAX], sha[65];
    unsigned long *touched = NULL, hash;
    size_t ntouched = 0, captouched = 0, i;
    int n, rc = -1;

    *nadded = *nremoved = 0;
    /* 1. add what is missing */
    for (i = 0; i < nw; i++) {
        char file[PATH_MAX], cur[PATH_MAX], hl[32];
        struct stat st;
        int have = 0, free_n = -1, miss = 0;
        ssize_t len;

        snprintf(name, sizeof(name), SYS_LINK_PREFIX "%s.pem", w[i].sha256);
        snprintf(file, sizeof(file), "%s/%s", dir, name);
        snprintf(target, sizeof(target), "%s/%s/%s.pem", catalog,
                 w[i].scoped ? DBT_LAYOUT_TRUST : DBT_LAYOUT_CERTS, w[i].sha256);
        len = readlink(file, cur, sizeof(cur) - 1);
        if (len < 0 || (size_t)len != strlen(target) || memcmp(cur, target, (size_t)len) != 0) {
            if (make_link(j, target, name) != 0)
                goto end;
            (*nadded)++;
        }
        /* Scan this subject's hash chain: ours already, the same certificate, or a free slot. */
        for (n = 0; n < 1000 && miss < 8; n++) {
            char lt[PATH_MAX];

            snprintf(hl, sizeof(hl), "%08lx.%d", w[i].hash, n);
            snprintf(file, sizeof(file), "%s/%s", dir, hl);
            if (lstat(file, &st) != 0) {
                if (free_n < 0)
                    free_n = n;
                miss++;
                continue;
            }
            miss = 0;
            if (sys_link_points_to_us(dir, hl, lt, sizeof(lt))) {
                if (strncmp(sys_our_link_sha(lt), w[i].sha256, 64) == 0) {
                    have = 1;
                    break;
                }
                continue;
            }
            cert_sha_of(j->out, dir, hl, sha);
            if (strcmp(sha, w[i].sha256) == 0) {
                have = 1; /* the system store already trusts this very certificate */
                break;
            }
        }
        if (!have) {
            snprintf(hl, sizeof(hl), "%08lx.%d", w[i].hash, free_n < 0 ? n : free_n);
            if (make_link(j, name, hl) != 0)
                goto end;
        }
    }
    /* 2. remove what is stale: hash links first, then the files they pointed to */
    if ((d = opendir(dir)) == NULL) {
        sys_say(j->out, DBT_SYS_ERROR, 0, "cannot read %s: %s", dir, strerror(errno));
        goto end;
    }
    while ((de = readdir(d)) != NULL) {
        const char *s;
        int is_hash = sys_hash_link_name(de->d_name, &hash, &n);

        if (is_hash) {
            if (!sys_link_points_to_us(dir, de->d_name, target, sizeof(target)) ||
                wanted(w, nw, sys_our_link_sha(target)))
                continue;
        } else if ((s = sys_our_link_sha(de->d_name)) == NULL || wanted(w, nw, s)) {
            continue;
        } else {
            snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
            ssize_t len = readlink(name, target, sizeof(target) - 1);

            if (len < 0)
                continue; /* not a link: not ours */
            target[len] = '\0';
        }
        snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
        if (unlink(name) != 0) {
            sys_say(j->out, DBT_SYS_ERROR, 0, "cannot remove %s: %s", name, strerror(errno));
            goto end;
        }
        if (j_push(j, J_UNLINK, de->d_name, target) != 0)
            goto end;
        if (!is_hash) {
            (*nremoved)++;
            continue;
        }
        if (ntouched == captouched) {
            size_t cap = captouched ? 2 * captouched : 64;
            unsigned long *t = realloc(touched, cap * sizeof(*t));

            if (t == NULL) {
                sys_say(j->out, DBT_SYS_ERROR, 0, "out of memory");
                goto end;
            }
            touched = t;
            captouched = cap;
        }
        touched[ntouched++] = hash;
    }
    for (i = 0; i < ntouched; i++)
        if (compact_hash(j, touched[i]) != 0)
            goto end;
    rc = 0;
end:
    if (d != NULL)
        closedir(d);
    free(touched);
    return rc;
}

int sys_wire_sync(struct sys_journal *j, int bundle, const char *target, const char *catalog,
                  dbt_catalog *cat, const struct sys_want *w, size_t nw, size_t *nadded,
                  size_t *nremoved)
{
    j->dir = target;
    if (bundle)
        return sys_bundle_sync(j, target, catalog, cat, w, nw, nadded, nremoved);
    return sys_sync(j, catalog, w, nw, nadded, nremoved);
}
