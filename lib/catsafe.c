/* The catalog's safety rule (catsafe.h): one entry's owner, mode and type, and the walk over a
 * catalog that the commands and the provider both run. libc only: the provider compiles it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "catsafe.h"

/* The rule with the effective uid given: a walk asks the kernel once, not once per entry. */
static int entry_rule(const struct stat *st, const char *path, uid_t me, dbt_err *err)
{
    if (st->st_uid != 0 && st->st_uid != me) {
        if (me == 0)
            dbt_err_set(err,
                        "%s is owned by uid %lu, not by root: a trust store must not be "
                        "changeable by another user; run chown root %s (or remove it)",
                        path, (unsigned long)st->st_uid, path);
        else
            dbt_err_set(err,
                        "%s is owned by uid %lu, neither root nor you (uid %lu): a trust store "
                        "must not be changeable by another user; have it removed or chowned",
                        path, (unsigned long)st->st_uid, (unsigned long)me);
        return -1;
    }
    if (S_ISLNK(st->st_mode))
        return 0;
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        dbt_err_set(err,
                    "%s is neither a file, a directory nor a symlink (%s): a catalog holds "
                    "nothing else; remove it (rm %s)",
                    path,
                    S_ISFIFO(st->st_mode)                          ? "a FIFO"
                    : S_ISSOCK(st->st_mode)                        ? "a socket"
                    : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device node"
                                                                   : "unknown type",
                    path);
        return -1;
    }
    if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        dbt_err_set(err,
                    "%s is writable by %s: anyone who can write a trust store can make it "
                    "trust their CA; run chmod go-w %s",
                    path, (st->st_mode & S_IWOTH) ? "others" : "its group", path);
        return -1;
    }
    return 0;
}

int dbt_safe_entry(const struct stat *st, const char *path, dbt_err *err)
{
    return entry_rule(st, path, geteuid(), err);
}

int dbt_safe_gen_name(const char *s, unsigned long long *n)
{
    const char *p;
    unsigned long long v = 0;

    if (strncmp(s, ".gen-", 5) != 0)
        return -1;
    p = s + 5;
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

static int is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
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

enum where { W_TOP, W_GEN, W_GEN_CERTS, W_GEN_BUNDLES, W_OTHER };

struct walk {
    const char *catpath;
    char *real; /* realpath of catpath */
    const char *gen;
    uid_t me;
    dbt_safe_report_fn *report;
    void *arg;
    dbt_err *err;
    size_t entries;
    int problems;
};

/* Records one problem whose message is in *msg. 1 to stop the walk. */
static int problem(struct walk *w, const dbt_err *msg)
{
    if (w->problems++ == 0 && w->err != NULL)
        *w->err = *msg;
    if (w->report == NULL)
        return 1;
    w->report(w->arg, msg->msg);
    return 0;
}

static int check_link(struct walk *w, int dirfd, const char *name, const char *full,
                      enum where where)
{
    char target[PATH_MAX], *real = NULL;
    ssize_t len;
    unsigned long long n;
    size_t plen = strlen(w->real);
    dbt_err e;
    int ok = 0;

    len = readlinkat(dirfd, name, target, sizeof(target) - 1);
    if (len < 0) {
        if (errno == ENOENT)
            return 0; /* removed by a writer while we looked */
        dbt_err_sys(&e, "cannot read symlink %s", full);
        return problem(w, &e);
    }
    target[len] = '\0';
    if (where == W_TOP && (strcmp(name, "current") == 0 || strcmp(name, ".current.tmp") == 0))
        ok = dbt_safe_gen_name(target, &n) == 0;
    else if (where == W_TOP && strcmp(name, "bundles") == 0)
        ok = strcmp(target, "current/bundles") == 0;
    else if (where == W_TOP && strcmp(name, "certs") == 0)
        ok = strcmp(target, "current/certs") == 0;
    else {
        /* Not one of the catalog's own links: tolerated only if it stays inside. */
        real = realpath(full, NULL);
        if (real == NULL && errno == ENOENT) {
            dbt_err_set(&e, "%s -> %s is a symlink to nothing in catalog %s: remove it (rm %s)",
                        full, target, w->catpath, full);
            return problem(w, &e);
        }
        ok = real != NULL && strncmp(real, w->real, plen) == 0 &&
             (real[plen] == '/' || real[plen] == '\0');
        free(real);
    }
    if (!ok) {
        dbt_err_set(&e,
                    "%s -> %s points outside catalog %s: a trust store must not lead elsewhere; "
                    "remove it (rm %s)",
                    full, target, w->catpath, full);
        return problem(w, &e);
    }
    return 0;
}

static const char *kind_of(mode_t m)
{
    return S_ISLNK(m)   ? "a symlink"
           : S_ISDIR(m) ? "a directory"
           : S_ISREG(m) ? "a file"
                        : "special";
}

/* The fixed layout, checked after entry_rule passed: the generation being read holds only the
 * real directories bundles/ and certs/; bundles/ only regular files; certs/ only regular
 * <sha256>.pem files, the regular file index and <hash>.<n> symlinks whose target is the bare
 * name of a regular <sha256>.pem beside them. No link in a generation leads anywhere else and
 * no directory nests deeper, so what OpenSSL's hashed lookup and the readers open is exactly
 * what this walk checked. At the top, .lock and empty.pem are regular files and empty.pem is
 * empty (lazy mode makes it the SSL_CERT_FILE: whatever it holds is trusted).
 * 0 if the entry fits, else -1 with *e set. */
static int layout_rule(int dirfd, const char *name, const struct stat *st, const char *full,
                       enum where where, dbt_err *e)
{
    char target[PATH_MAX];
    struct stat tst;
    ssize_t len;

    switch (where) {
    case W_TOP:
        if (strcmp(name, ".lock") == 0 && !S_ISREG(st->st_mode)) {
            dbt_err_set(e,
                        "lock file %s is %s, not a regular file: nothing but dbtrust should make "
                        "it; remove it (rm -r %s)",
                        full, kind_of(st->st_mode), full);
            return -1;
        }
        if (strcmp(name, "empty.pem") == 0 && (!S_ISREG(st->st_mode) || st->st_size != 0)) {
            dbt_err_set(e,
                        "%s is not an empty file (%s): lazy mode makes it the SSL_CERT_FILE, "
                        "which trusts whatever it holds or leads to; remove it (rm %s)",
                        full, S_ISREG(st->st_mode) ? "it holds data" : kind_of(st->st_mode), full);
            return -1;
        }
        return 0;
    case W_GEN:
        if ((strcmp(name, "certs") == 0 || strcmp(name, "bundles") == 0) && S_ISDIR(st->st_mode))
            return 0;
        dbt_err_set(e,
                    "%s (%s) is not part of the catalog layout: a generation holds only the "
                    "directories bundles and certs; remove it (rm -r %s) or import again",
                    full, kind_of(st->st_mode), full);
        return -1;
    case W_GEN_BUNDLES:
        if (S_ISREG(st->st_mode))
            return 0;
        dbt_err_set(e,
                    "%s (%s) is not part of the catalog layout: bundles/ holds only regular "
                    "files; remove it (rm -r %s)",
                    full, kind_of(st->st_mode), full);
        return -1;
    case W_GEN_CERTS:
        if (is_cert_file_name(name) || strcmp(name, "index") == 0) {
            if (S_ISREG(st->st_mode))
                return 0;
            dbt_err_set(e,
                        "%s (%s) is not part of the catalog layout: it must be a regular file; "
                        "remove it (rm -r %s) and import again",
                        full, kind_of(st->st_mode), full);
            return -1;
        }
        if (!is_hash_link_name(name) || !S_ISLNK(st->st_mode)) {
            dbt_err_set(e,
                        "%s (%s) is not part of the catalog layout: certs/ holds only "
                        "<sha256>.pem files, index and <hash>.<n> symlinks; remove it (rm -r %s)",
                        full, kind_of(st->st_mode), full);
            return -1;
        }
        len = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (len < 0) {
            dbt_err_sys(e, "cannot read symlink %s", full);
            return -1;
        }
        target[len] = '\0';
        if (!is_cert_file_name(target)) {
            dbt_err_set(e,
                        "%s -> %s points outside catalog layout: a hash link names a "
                        "<sha256>.pem beside it, no other path; remove it (rm %s)",
                        full, target, full);
            return -1;
        }
        /* A target of another kind is refused as an entry of this same directory. */
        if (fstatat(dirfd, target, &tst, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
            dbt_err_set(e,
                        "%s -> %s does not lead to a regular certificate file beside it: "
                        "remove it (rm %s) and import again",
                        full, target, full);
            return -1;
        }
        return 0;
    case W_OTHER:
        return 0;
    }
    return 0;
}

/* 0 to go on, 1 to stop (a problem without report, or an error: w->err says which). */
static int walk_dir(struct walk *w, int dirfd, const char *display, enum where where, int depth)
{
    DIR *d;
    struct dirent *de;
    int fd, stop = 0;
    dbt_err e;

    if (depth > DBT_SAFE_MAX_DEPTH) {
        dbt_err_set(&e, "%s: directories nested too deep for a catalog: remove it (rm -r %s)",
                    display, display);
        return problem(w, &e);
    }
    fd = dup(dirfd);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(&e, "cannot read directory %s", display);
        if (fd >= 0)
            close(fd);
        return problem(w, &e);
    }
    rewinddir(d); /* dup() shares the offset with the caller's descriptor */
    while (!stop && (de = readdir(d)) != NULL) {
        struct stat st;
        char *full = NULL;
        unsigned long long n;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (++w->entries > DBT_SAFE_MAX_ENTRIES) {
            dbt_err_set(&e,
                        "catalog %s has more than %d entries: not a catalog dbtrust wrote; "
                        "move it away and import the bundles again",
                        w->catpath, DBT_SAFE_MAX_ENTRIES);
            problem(w, &e);
            stop = 1;
            break;
        }
        if (asprintf(&full, "%s/%s", display, de->d_name) < 0) {
            dbt_err_set(&e, "out of memory");
            problem(w, &e);
            stop = 1;
            break;
        }
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) {
                dbt_err_sys(&e, "cannot look at %s", full);
                stop = problem(w, &e);
            }
        } else if (entry_rule(&st, full, w->me, &e) != 0) {
            stop = problem(w, &e);
        } else if (layout_rule(dirfd, de->d_name, &st, full, where, &e) != 0) {
            stop = problem(w, &e);
        } else if (S_ISLNK(st.st_mode) && where != W_TOP && where != W_OTHER) {
            /* A hash link layout_rule already followed by name: nothing more to check. */
        } else if (where == W_TOP && !S_ISLNK(st.st_mode) &&
                   (strcmp(de->d_name, "current") == 0 || strcmp(de->d_name, "bundles") == 0 ||
                    strcmp(de->d_name, "certs") == 0)) {
            /* OpenSSL reads <catalog>/certs: it must be the link into the current generation. */
            dbt_err_set(&e,
                        "%s is not the catalog's symlink into its current generation: move it "
                        "away (mv %s %s.old) and run dbtrust import again",
                        full, full, full);
            stop = problem(w, &e);
        } else if (S_ISLNK(st.st_mode)) {
            stop = check_link(w, dirfd, de->d_name, full, where);
        } else if (S_ISDIR(st.st_mode)) {
            enum where sub = W_OTHER;
            int skip = 0, sfd;

            if (where == W_TOP && dbt_safe_gen_name(de->d_name, &n) == 0) {
                sub = W_GEN;
                /* Another generation is never read: its own entry is enough. */
                skip = w->gen != NULL && strcmp(de->d_name, w->gen) != 0;
            } else if (where == W_TOP) {
                /* A generation being removed (DBT_SAFE_DEAD_PREFIX) changes under us and is
                 * never read. Any other directory is not dbtrust's: it is checked in full
                 * (under the walk's bounds), since nothing says who reads it. */
                skip = strncmp(de->d_name, DBT_SAFE_DEAD_PREFIX, strlen(DBT_SAFE_DEAD_PREFIX)) == 0;
            } else if (where == W_GEN) {
                sub = strcmp(de->d_name, "certs") == 0 ? W_GEN_CERTS : W_GEN_BUNDLES;
            }
            if (!skip) {
                sfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0) {
                    if (errno != ENOENT) {
                        dbt_err_sys(&e, "cannot open directory %s", full);
                        stop = problem(w, &e);
                    }
                } else {
                    stop = walk_dir(w, sfd, full, sub, depth + 1);
                    close(sfd);
                }
            }
        }
        free(full);
    }
    closedir(d);
    return stop;
}

int dbt_safe_walk(int catfd, const char *catpath, const char *gen, dbt_safe_report_fn *report,
                  void *arg, dbt_err *err)
{
    struct walk w = {catpath, NULL, gen, geteuid(), report, arg, err, 0, 0};
    struct stat st;
    dbt_err e;

    if (fstat(catfd, &st) != 0) {
        dbt_err_sys(err, "cannot look at catalog %s", catpath);
        return DBT_SAFE_ERROR;
    }
    if (entry_rule(&st, catpath, w.me, &e) != 0 && problem(&w, &e))
        return DBT_SAFE_UNSAFE;
    if ((w.real = realpath(catpath, NULL)) == NULL) {
        dbt_err_sys(err, "cannot resolve catalog %s", catpath);
        return DBT_SAFE_ERROR;
    }
    walk_dir(&w, catfd, catpath, W_TOP, 0);
    free(w.real);
    return w.problems == 0 ? DBT_SAFE_OK : DBT_SAFE_UNSAFE;
}

int dbt_safe_hold_gen(int catfd, const char *gen, int *out)
{
    struct stat st, byname;
    int fd;

    *out = -1;
    fd = openat(catfd, gen, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK || errno == EINTR) {
            close(fd); /* a writer is removing it */
            return 1;
        }
        /* No flock here (ENOLCK, EINVAL, EBADF on some network filesystems): read unlocked. */
    }
    /* Opened before a writer renamed it away, locked after the writer let go: gone. */
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    if (fstatat(catfd, gen, &byname, AT_SYMLINK_NOFOLLOW) != 0 || byname.st_dev != st.st_dev ||
        byname.st_ino != st.st_ino || st.st_nlink == 0) {
        close(fd);
        return 1;
    }
    *out = fd;
    return 0;
}

int dbt_safe_open_lock(int dirfd, const char *name, mode_t mode, const char *display, dbt_err *err)
{
    const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    struct stat st, lst;
    int fd;

    /* Looked at before opening: opening a device node can have effects of its own. */
    if (fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(lst.st_mode))
        goto not_regular;
    fd = openat(dirfd, name, flags | O_CREAT | O_EXCL, mode);
    if (fd >= 0 && fchmod(fd, mode) != 0) {
        dbt_err_sys(err, "cannot set the mode of %s", display);
        close(fd);
        return -1;
    }
    if (fd < 0 && errno == EEXIST)
        fd = openat(dirfd, name, flags);
    if (fd < 0) {
        if (errno == ELOOP) {
            lst.st_mode = S_IFLNK;
            goto not_regular;
        }
        dbt_err_sys(err, "cannot open the lock file %s", display);
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot look at the lock file %s", display);
        close(fd);
        return -1;
    }
    lst = st;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        goto not_regular;
    }
    if (dbt_safe_entry(&st, display, err) != 0) {
        dbt_err_prefix(err, "refusing lock file %s", display);
        close(fd);
        return -1;
    }
    return fd;
not_regular:
    dbt_err_set(err,
                "lock file %s is %s, not a regular file: nothing but dbtrust should make it; "
                "remove it (rm %s) and try again",
                display,
                S_ISLNK(lst.st_mode)                           ? "a symlink"
                : S_ISFIFO(lst.st_mode)                        ? "a FIFO"
                : S_ISDIR(lst.st_mode)                         ? "a directory"
                : S_ISCHR(lst.st_mode) || S_ISBLK(lst.st_mode) ? "a device node"
                : S_ISSOCK(lst.st_mode)                        ? "a socket"
                                                               : "of an unknown type",
                display);
    return -1;
}
