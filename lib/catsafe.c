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
#include <stdint.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "catsafe.h"

/* Whether the entry passes entry_rule: the walk's test for every entry, before any message. */
static int entry_ok(const struct stat *st, uid_t me)
{
    if (st->st_uid != 0 && st->st_uid != me)
        return 0;
    if (S_ISLNK(st->st_mode))
        return 1;
    return (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) &&
           (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The rule with the effective uid given: a walk asks the kernel once, not once per entry. */
static int entry_rule(const struct stat *st, const char *path, uid_t me, dbt_err *err)
{
    if (entry_ok(st, me))
        return 0;
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

int dbt_safe_entry_as(const struct stat *st, const char *path, uid_t me, dbt_err *err)
{
    return entry_rule(st, path, me, err);
}

/* Names are checked by lib/catlayout.c: a certificate file or hash link name costs a 64- or
 * 8-digit lowercase hex check done 8 bytes at a time (dbt_layout_hex_lower), which every entry
 * of certs/ goes through. */

enum where { W_TOP, W_GEN, W_GEN_CERTS, W_GEN_BUNDLES, W_GEN_TRUST, W_OTHER };

struct walk {
    const char *catpath;
    char *real; /* realpath of catpath, resolved when a link first needs it */
    const char *gen;
    unsigned flags;
    int links_only; /* dbt_safe_check_links: only the hash links of certs/ */
    uid_t me;
    dbt_safe_report_fn *report;
    void *arg;
    dbt_safe_dir_fn *seen;
    void *seen_arg;
    dbt_err *err;
    size_t entries;
    int problems;
    /* The display path of the directory being read (catpath/sub/dir), and while an entry is
     * looked at, "/name" after it: built in place, only for messages and for the few links
     * that need realpath, instead of one allocation per entry. */
    char *path;
    size_t len, base;
};

/* catpath/.../name for the entry name of the directory being read (valid until the next call). */
static const char *full(struct walk *w, const char *name)
{
    w->path[w->len] = '/';
    memcpy(w->path + w->len + 1, name, strlen(name) + 1);
    return w->path;
}

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

static int check_link(struct walk *w, int dirfd, const char *name, enum where where)
{
    char target[PATH_MAX], *real = NULL;
    const char *path;
    ssize_t len;
    unsigned long long n;
    size_t plen;
    dbt_err e;
    int ok = 0;

    len = readlinkat(dirfd, name, target, sizeof(target) - 1);
    if (len < 0) {
        if (errno == ENOENT)
            return 0; /* removed by a writer while we looked */
        dbt_err_sys(&e, "cannot read symlink %s", full(w, name));
        return problem(w, &e);
    }
    target[len] = '\0';
    if (where == W_TOP &&
        (strcmp(name, DBT_LAYOUT_CURRENT) == 0 || strcmp(name, DBT_LAYOUT_CURRENT_TMP) == 0))
        ok = dbt_safe_gen_name(target, &n) == 0;
    else if (where == W_TOP && strcmp(name, DBT_LAYOUT_BUNDLES) == 0)
        ok = strcmp(target, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_BUNDLES) == 0;
    else if (where == W_TOP && strcmp(name, DBT_LAYOUT_CERTS) == 0)
        ok = strcmp(target, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_CERTS) == 0;
    else if (where == W_TOP && strcmp(name, DBT_LAYOUT_TRUST) == 0)
        ok = strcmp(target, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_TRUST) == 0;
    else if (where == W_TOP && strcmp(name, DBT_LAYOUT_TRUST_PEM) == 0)
        ok = strcmp(target, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_TRUST_PEM) == 0;
    else {
        /* Not one of the catalog's own links: tolerated only if it stays inside. */
        if (w->real == NULL && (w->real = realpath(w->catpath, NULL)) == NULL) {
            dbt_err_sys(&e, "cannot resolve catalog %s", w->catpath);
            return problem(w, &e);
        }
        plen = strlen(w->real);
        path = full(w, name);
        real = realpath(path, NULL);
        if (real == NULL && errno == ENOENT) {
            dbt_err_set(&e, "%s -> %s is a symlink to nothing in catalog %s: remove it (rm %s)",
                        path, target, w->catpath, path);
            return problem(w, &e);
        }
        ok = real != NULL && strncmp(real, w->real, plen) == 0 &&
             (real[plen] == '/' || real[plen] == '\0');
        free(real);
    }
    if (!ok) {
        path = full(w, name);
        dbt_err_set(&e,
                    "%s -> %s points outside catalog %s: a trust store must not lead elsewhere; "
                    "remove it (rm %s)",
                    path, target, w->catpath, path);
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

int dbt_safe_hash_target(const char *path, const char *target, dbt_err *err)
{
    if (dbt_layout_cert_file_name(target))
        return 0;
    dbt_err_set(err,
                "%s -> %s points outside catalog layout: a hash link names a <sha256>.pem beside "
                "it, no other path; remove it (rm %s)",
                path, target, path);
    return -1;
}

/* The fixed layout, checked after entry_rule passed: the generation being read holds only the
 * real directories bundles/, certs/ and trust/ and the regular file trust.pem; bundles/ only
 * regular files; certs/ only regular
 * <sha256>.pem files, the regular file index and <hash>.<n> symlinks whose target is the bare
 * name of a regular <sha256>.pem beside them. No link in a generation leads anywhere else and
 * no directory nests deeper, so what OpenSSL's hashed lookup and the readers open is exactly
 * what this walk checked. At the top, .lock and empty.pem are regular files and empty.pem is
 * empty (lazy mode makes it the SSL_CERT_FILE: whatever it holds is trusted).
 * 0 if the entry fits, else -1 with *e set. */
static int layout_rule(struct walk *w, int dirfd, const char *name, const struct stat *st,
                       enum where where, dbt_err *e)
{
    char target[PATH_MAX];
    struct stat tst;
    const char *path;
    ssize_t len;

    switch (where) {
    case W_TOP:
        if (strcmp(name, DBT_LAYOUT_LOCK) == 0 && !S_ISREG(st->st_mode)) {
            path = full(w, name);
            dbt_err_set(e,
                        "lock file %s is %s, not a regular file: nothing but dbtrust should make "
                        "it; remove it (rm -r %s)",
                        path, kind_of(st->st_mode), path);
            return -1;
        }
        if (strcmp(name, DBT_LAYOUT_EMPTY_PEM) == 0 &&
            (!S_ISREG(st->st_mode) || st->st_size != 0)) {
            path = full(w, name);
            dbt_err_set(e,
                        "%s is not an empty file (%s): lazy mode makes it the SSL_CERT_FILE, "
                        "which trusts whatever it holds or leads to; remove it (rm %s)",
                        path, S_ISREG(st->st_mode) ? "it holds data" : kind_of(st->st_mode), path);
            return -1;
        }
        return 0;
    case W_GEN:
        if ((strcmp(name, DBT_LAYOUT_CERTS) == 0 || strcmp(name, DBT_LAYOUT_BUNDLES) == 0 ||
             strcmp(name, DBT_LAYOUT_TRUST) == 0) &&
            S_ISDIR(st->st_mode))
            return 0;
        /* The one file of a generation: a client reads it whole as extra CAs, through the
         * fixed link, so it must be the file the writer made, never a link to another. */
        if (strcmp(name, DBT_LAYOUT_TRUST_PEM) == 0 && S_ISREG(st->st_mode))
            return 0;
        path = full(w, name);
        dbt_err_set(
            e,
            "%s (%s) is not part of the catalog layout: a generation holds only the "
            "directories bundles, certs and trust and the regular file " DBT_LAYOUT_TRUST_PEM
            "; remove it (rm -r %s) or import again",
            path, kind_of(st->st_mode), path);
        return -1;
    case W_GEN_BUNDLES:
        if (S_ISREG(st->st_mode))
            return 0;
        path = full(w, name);
        dbt_err_set(e,
                    "%s (%s) is not part of the catalog layout: bundles/ holds only regular "
                    "files; remove it (rm -r %s)",
                    path, kind_of(st->st_mode), path);
        return -1;
    case W_GEN_CERTS:
    case W_GEN_TRUST: {
        /* certs/: the catalog's files, index and links beside them; trust/: the scoped forms
         * and links to them or to ../certs/ (lib/catlayout.h). */
        int certs = where == W_GEN_CERTS, up = 0;

        if (dbt_layout_cert_file_name(name) || (certs && strcmp(name, DBT_LAYOUT_INDEX) == 0)) {
            if (S_ISREG(st->st_mode))
                return 0;
            path = full(w, name);
            dbt_err_set(e,
                        "%s (%s) is not part of the catalog layout: it must be a regular file; "
                        "remove it (rm -r %s) and import again",
                        path, kind_of(st->st_mode), path);
            return -1;
        }
        if (!dbt_layout_hash_link_name(name, NULL, NULL) || !S_ISLNK(st->st_mode)) {
            path = full(w, name);
            dbt_err_set(e, "%s (%s) is not part of the catalog layout: %s; remove it (rm -r %s)",
                        path, kind_of(st->st_mode),
                        certs ? "certs/ holds only <sha256>.pem files, index and <hash>.<n> "
                                "symlinks"
                              : "trust/ holds only <sha256>.pem files and <hash>.<n> symlinks",
                        path);
            return -1;
        }
        if (w->flags & DBT_SAFE_LINKS_AT_USE)
            return 0; /* certs/: its target, see dbt_safe_walk_ex; trust/: never read there */
        len = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (len < 0) {
            dbt_err_sys(e, "cannot read symlink %s", full(w, name));
            return -1;
        }
        target[len] = '\0';
        if (certs && dbt_safe_hash_target(full(w, name), target, e) != 0)
            return -1;
        if (!certs && !dbt_layout_trust_target(target, &up)) {
            path = full(w, name);
            dbt_err_set(e,
                        "%s -> %s points outside catalog layout: a trust/ link names a "
                        "<sha256>.pem beside it or in ../certs, no other path; remove it (rm %s)",
                        path, target, path);
            return -1;
        }
        /* A target of another kind is refused as an entry of its own directory; a missing
         * ../certs/ file, by the certs/ link that names it too. */
        if ((certs || !up) && fstatat(dirfd, target, &tst, AT_SYMLINK_NOFOLLOW) != 0 &&
            errno == ENOENT) {
            path = full(w, name);
            dbt_err_set(e, "%s -> %s does not lead to a %s: remove it (rm %s) and import again",
                        path, target,
                        certs ? "regular certificate file beside it"
                              : "certificate file of the generation",
                        path);
            return -1;
        }
        return 0;
    }
    case W_OTHER:
        return 0;
    }
    return 0;
}

static int walk_dir(struct walk *w, int dirfd, enum where where, int depth);

/* One entry of a directory being walked, d_type as getdents gave it. 0 to go on, 1 to stop. */
static int walk_entry(struct walk *w, int dirfd, const char *name, unsigned char type,
                      enum where where, int depth)
{
    struct stat st;
    unsigned long long n;
    dbt_err e;
    size_t len;
    int stop = 0, sfd;

    if (++w->entries > DBT_SAFE_MAX_ENTRIES) {
        dbt_err_set(&e,
                    "catalog %s has more than %d entries: not a catalog dbtrust wrote; "
                    "move it away and import the bundles again",
                    w->catpath, DBT_SAFE_MAX_ENTRIES);
        problem(w, &e);
        return 1;
    }
    if ((where == W_GEN_CERTS || where == W_GEN_TRUST) && type == DT_LNK &&
        dbt_layout_hash_link_name(name, NULL, NULL) && (w->flags & DBT_SAFE_LINKS_AT_USE))
        return 0; /* no system call at all: see dbt_safe_walk_ex */
    if (w->links_only && type != DT_LNK && type != DT_UNKNOWN)
        return 0;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return 0; /* removed by a writer while we looked */
        dbt_err_sys(&e, "cannot look at %s", full(w, name));
        return problem(w, &e);
    }
    if (w->links_only && !S_ISLNK(st.st_mode))
        return 0;
    if (!entry_ok(&st, w->me)) {
        entry_rule(&st, full(w, name), w->me, &e);
        return problem(w, &e);
    }
    if (layout_rule(w, dirfd, name, &st, where, &e) != 0)
        return problem(w, &e);
    if (S_ISLNK(st.st_mode) && where != W_TOP && where != W_OTHER)
        return 0; /* a hash link layout_rule already followed by name */
    if (where == W_TOP && !S_ISLNK(st.st_mode) &&
        (strcmp(name, DBT_LAYOUT_CURRENT) == 0 || strcmp(name, DBT_LAYOUT_BUNDLES) == 0 ||
         strcmp(name, DBT_LAYOUT_CERTS) == 0 || strcmp(name, DBT_LAYOUT_TRUST) == 0 ||
         strcmp(name, DBT_LAYOUT_TRUST_PEM) == 0)) {
        /* OpenSSL reads <catalog>/certs and <catalog>/trust, Node <catalog>/trust.pem: each
         * must be the link into the current generation. */
        const char *path = full(w, name);

        dbt_err_set(&e,
                    "%s is not the catalog's symlink into its current generation: move it "
                    "away (mv %s %s.old) and run dbtrust import again",
                    path, path, path);
        return problem(w, &e);
    }
    if (S_ISLNK(st.st_mode))
        return check_link(w, dirfd, name, where);
    if (S_ISDIR(st.st_mode)) {
        enum where sub = W_OTHER;
        int skip = 0;

        /* Every directory whose own entry passed is one the verdict depends on. */
        if (w->seen != NULL)
            w->seen(w->seen_arg, full(w, name) + w->base, &st);
        if (where == W_TOP && dbt_safe_gen_name(name, &n) == 0) {
            sub = W_GEN;
            /* Another generation is never read: its own entry is enough. */
            skip = w->gen != NULL && strcmp(name, w->gen) != 0;
        } else if (where == W_TOP) {
            /* A generation being removed (DBT_SAFE_DEAD_PREFIX) changes under us and is
             * never read. Any other directory is not dbtrust's: it is checked in full
             * (under the walk's bounds), since nothing says who reads it. */
            skip = strncmp(name, DBT_SAFE_DEAD_PREFIX, strlen(DBT_SAFE_DEAD_PREFIX)) == 0;
        } else if (where == W_GEN) {
            sub = strcmp(name, DBT_LAYOUT_CERTS) == 0   ? W_GEN_CERTS
                  : strcmp(name, DBT_LAYOUT_TRUST) == 0 ? W_GEN_TRUST
                                                        : W_GEN_BUNDLES;
            /* A writer's walk: the directory's own entry is all (dbt_safe_walk_ex). */
            skip = (w->flags & DBT_SAFE_FILES_AT_USE) != 0;
        }
        if (skip)
            return 0;
        sfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0) {
            if (errno == ENOENT)
                return 0;
            dbt_err_sys(&e, "cannot open directory %s", full(w, name));
            return problem(w, &e);
        }
        len = w->len;
        full(w, name);
        w->len += 1 + strlen(name);
        stop = walk_dir(w, sfd, sub, depth + 1);
        w->len = len;
        w->path[len] = '\0';
        close(sfd);
    }
    return stop;
}

/* One getdents64(2) record: the kernel's ABI, which getdents(2) documents. The walk reads
 * directories with it rather than readdir(3): no DIR (a 32 KiB buffer per open directory, whose
 * fresh pages a process faults in at 15-20 us each on a VM), no fstat and fcntl in fdopendir. */
struct dent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define DIRBUF_SIZE 8192

/* 0 to go on, 1 to stop (a problem without report, or an error: w->err says which). */
static int walk_dir(struct walk *w, int dirfd, enum where where, int depth)
{
    char *buf;
    long got;
    int stop = 0;
    dbt_err e;

    if (depth > DBT_SAFE_MAX_DEPTH) {
        dbt_err_set(&e, "%s: directories nested too deep for a catalog: remove it (rm -r %s)",
                    w->path, w->path);
        return problem(w, &e);
    }
    if ((buf = malloc(DIRBUF_SIZE)) == NULL) {
        dbt_err_set(&e, "out of memory reading directory %s", w->path);
        problem(w, &e);
        return 1;
    }
    while (!stop) {
        got = syscall(SYS_getdents64, dirfd, buf, DIRBUF_SIZE);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            dbt_err_sys(&e, "cannot read directory %s", w->path);
            stop = problem(w, &e);
            break;
        }
        if (got == 0)
            break;
        for (long off = 0; !stop && off < got;) {
            const struct dent64 *de = (const struct dent64 *)(buf + off);
            const char *name = de->d_name;

            off += de->d_reclen;
            if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
                continue;
            stop = walk_entry(w, dirfd, name, de->d_type, where, depth);
        }
    }
    free(buf);
    return stop;
}

/* Sets up w with room for any path the walk can build below base (catpath or a directory). */
static int walk_init(struct walk *w, const char *base, dbt_err *err)
{
    size_t blen = strlen(base);

    w->me = geteuid();
    w->path = malloc(blen + (size_t)(DBT_SAFE_MAX_DEPTH + 2) * (NAME_MAX + 1) + 1);
    if (w->path == NULL) {
        dbt_err_set(err, "out of memory checking %s", base);
        return -1;
    }
    memcpy(w->path, base, blen + 1);
    w->len = blen;
    w->base = blen + 1;
    return 0;
}

static int walk_top(int catfd, const char *catpath, const char *gen, unsigned flags,
                    dbt_safe_report_fn *report, void *arg, dbt_safe_dir_fn *seen, void *seen_arg,
                    dbt_err *err)
{
    struct walk w;
    struct stat st;
    dbt_err e;
    int rc = DBT_SAFE_ERROR;

    memset(&w, 0, sizeof(w));
    w.catpath = catpath;
    w.gen = gen;
    w.flags = flags;
    w.report = report;
    w.arg = arg;
    w.seen = seen;
    w.seen_arg = seen_arg;
    w.err = err;
    if (walk_init(&w, catpath, err) != 0)
        return DBT_SAFE_ERROR;
    if (fstat(catfd, &st) != 0) {
        dbt_err_sys(err, "cannot look at catalog %s", catpath);
        goto end;
    }
    if (entry_rule(&st, catpath, w.me, &e) != 0 && problem(&w, &e)) {
        rc = DBT_SAFE_UNSAFE;
        goto end;
    }
    if (seen != NULL)
        seen(seen_arg, "", &st);
    /* The caller's descriptor: read from its start, as a fresh open would. */
    if (lseek(catfd, 0, SEEK_SET) != 0) {
        dbt_err_sys(err, "cannot read catalog %s", catpath);
        goto end;
    }
    walk_dir(&w, catfd, W_TOP, 0);
    rc = w.problems == 0 ? DBT_SAFE_OK : DBT_SAFE_UNSAFE;
end:
    free(w.real);
    free(w.path);
    return rc;
}

int dbt_safe_walk(int catfd, const char *catpath, const char *gen, dbt_safe_report_fn *report,
                  void *arg, dbt_err *err)
{
    return walk_top(catfd, catpath, gen, 0, report, arg, NULL, NULL, err);
}

int dbt_safe_walk_ex(int catfd, const char *catpath, const char *gen, unsigned flags,
                     dbt_safe_dir_fn *seen, void *seen_arg, dbt_err *err)
{
    return walk_top(catfd, catpath, gen, flags, NULL, NULL, seen, seen_arg, err);
}

int dbt_safe_check_links(int certsfd, const char *display, dbt_err *err)
{
    struct walk w;
    int fd, rc;

    memset(&w, 0, sizeof(w));
    w.catpath = display;
    w.links_only = 1;
    w.err = err;
    if (walk_init(&w, display, err) != 0)
        return DBT_SAFE_ERROR;
    /* Its own descriptor: the caller's keeps its offset. */
    fd = openat(certsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        dbt_err_sys(err, "cannot read directory %s", display);
        free(w.path);
        return DBT_SAFE_ERROR;
    }
    walk_dir(&w, fd, W_GEN_CERTS, 0);
    close(fd);
    rc = w.problems == 0 ? DBT_SAFE_OK : DBT_SAFE_UNSAFE;
    free(w.path);
    return rc;
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
