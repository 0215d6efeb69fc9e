/* A root file system read as if it were "/" (lib/rootfs.h): every path resolved one component at
 * a time inside it, so that a link in a container image never leads to the host's files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "rootfs.h"

/* Opens the directory at the resolved path cur (components that were directories, not links,
 * when seen: each is opened with O_NOFOLLOW again, so one swapped for a link since is refused). */
static int walk_dirs(int rootfd, const char *cur)
{
    char buf[PATH_MAX], *tok, *save = NULL;
    int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC), next;

    snprintf(buf, sizeof(buf), "%s", cur);
    for (tok = strtok_r(buf, "/", &save); fd >= 0 && tok != NULL;
         tok = strtok_r(NULL, "/", &save)) {
        next = openat(fd, tok, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
    }
    return fd;
}

/* See lib/rootfs.h: the walk openat2(RESOLVE_IN_ROOT) would make, one component at a time. */
int dbt_root_open(int rootfd, const char *path, int flags, struct stat *reg)
{
    char rest[2 * PATH_MAX], tmp[2 * PATH_MAX], target[PATH_MAX], cur[PATH_MAX] = "";
    int dirfd, fd = -1, res = -1, links = 0, e;
    const char *p;
    size_t n;

    if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((dirfd = walk_dirs(rootfd, "")) < 0)
        return -1;
    p = rest;
    for (;;) {
        char comp[NAME_MAX + 1];
        struct stat st;
        int last;

        p += strspn(p, "/");
        if (*p == '\0') {
            if (reg != NULL) {
                res = fstat(dirfd, reg) == 0 ? -2 : -1;
                break;
            }
            res = openat(dirfd, ".", flags | O_CLOEXEC | O_NOCTTY);
            break;
        }
        n = strcspn(p, "/");
        if (n > NAME_MAX) {
            errno = ENAMETOOLONG;
            break;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        p += n;
        last = p[strspn(p, "/")] == '\0';
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            char *slash = strrchr(cur, '/');

            if (slash != NULL)
                *slash = '\0'; /* at the root, ".." is the root */
            close(dirfd);
            if ((dirfd = walk_dirs(rootfd, cur)) < 0)
                return -1;
            continue;
        }
        if ((fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
            break;
        if (S_ISLNK(st.st_mode)) {
            ssize_t len;

            if (++links > DBT_ROOT_LINKS) {
                errno = ELOOP;
                break;
            }
            /* An O_PATH descriptor of a link reads the link itself with an empty name. */
            if ((len = readlinkat(fd, "", target, sizeof(target) - 1)) < 0)
                break;
            target[len] = '\0';
            close(fd);
            fd = -1;
            if (snprintf(tmp, sizeof(tmp), "%s/%s", target, p) >= (int)sizeof(tmp)) {
                errno = ENAMETOOLONG;
                break;
            }
            memcpy(rest, tmp, sizeof(rest));
            p = rest;
            if (target[0] == '/') {
                cur[0] = '\0';
                close(dirfd);
                if ((dirfd = walk_dirs(rootfd, "")) < 0)
                    return -1;
            }
            continue;
        }
        if (last) {
            if (reg != NULL) {
                *reg = st;
                if (!S_ISREG(st.st_mode)) {
                    res = -2;
                    break;
                }
            }
            close(fd);
            fd = -1;
            /* Swapped for a link since the look: refused (ELOOP), never followed. */
            res = openat(dirfd, comp, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            break;
        }
        if (strlen(cur) + 1 + strlen(comp) >= sizeof(cur)) {
            errno = ENAMETOOLONG;
            break;
        }
        strcat(cur, "/");
        strcat(cur, comp);
        close(dirfd);
        dirfd = fd;
        fd = -1;
    }
    e = errno;
    if (fd >= 0)
        close(fd);
    close(dirfd);
    errno = e;
    return res;
}

DIR *dbt_root_opendir(int rootfd, const char *path)
{
    int fd = dbt_root_open(rootfd, path, O_RDONLY | O_DIRECTORY, NULL);
    DIR *d;

    if (fd < 0)
        return NULL;
    if ((d = fdopendir(fd)) == NULL)
        close(fd);
    return d;
}

/* Reads a regular file of at most max bytes whole (NUL-terminated): 0; 1 when it is missing; -1
 * with err naming it (not a regular file, too large, unreadable). A FIFO is never waited on. */
int dbt_root_read(int rootfd, const char *path, size_t max, unsigned char **data, size_t *len,
                  struct stat *st, dbt_err *err)
{
    unsigned char *buf = NULL;
    size_t got = 0;
    ssize_t r;
    int fd;

    *data = NULL;
    *len = 0;
    if ((fd = dbt_root_open(rootfd, path, O_RDONLY | O_NONBLOCK, st)) < 0) {
        if (fd == -2) {
            dbt_err_set(err, "%s is %s, not a regular file: not read", path,
                        dbt_fs_kind(st->st_mode));
            return -1;
        }
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        dbt_err_sys(err, "cannot open %s", path);
        return -1;
    }
    if (fstat(fd, st) != 0) {
        dbt_err_sys(err, "cannot look at %s", path);
        goto fail;
    }
    if (!S_ISREG(st->st_mode)) {
        dbt_err_set(err, "%s is %s, not a regular file: not read", path, dbt_fs_kind(st->st_mode));
        goto fail;
    }
    if ((unsigned long long)st->st_size > max) {
        dbt_err_set(err, "%s is larger than %zu bytes: not read", path, max);
        goto fail;
    }
    if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
        dbt_err_set(err, "out of memory reading %s", path);
        goto fail;
    }
    /* The size may change while reading: never read past what was allocated. */
    while (got < (size_t)st->st_size && (r = read(fd, buf + got, (size_t)st->st_size - got)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            dbt_err_sys(err, "cannot read %s", path);
            goto fail;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    *data = buf;
    *len = got;
    return 0;
fail:
    free(buf);
    close(fd);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir (inside the root) that match pattern, sorted (as glob sorts): *out
 * malloc'ed. At most DBT_ROOT_MAX_DIRENTS entries are looked at. */
size_t dbt_root_list(int rootfd, const char *dir, const char *pattern, char ***out, int *cut)
{
    DIR *d = dbt_root_opendir(rootfd, dir);
    struct dirent *de;
    size_t n = 0, cap = 0, seen = 0;
    char **v = NULL, **nv;

    *out = NULL;
    *cut = 0;
    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        if (++seen > DBT_ROOT_MAX_DIRENTS) {
            *cut = 1;
            break;
        }
        if (de->d_name[0] == '.' || fnmatch(pattern, de->d_name, 0) != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
                break;
            v = nv;
        }
        if ((v[n] = strdup(de->d_name)) == NULL)
            break;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_str);
    *out = v;
    return n;
}

void dbt_root_list_free(char **v, size_t n)
{
    while (n-- > 0)
        free(v[n]);
    free(v);
}
