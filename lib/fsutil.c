/* File helpers: exclusive and atomic writes with fsync, exact modes whatever the umask,
 * symlink-safe tree removal. The ownership/permission rule of a trust store is lib/catsafe.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            /* A descriptor inherited in non-blocking mode (a pipe or terminal set up by the
             * caller's parent) must not turn a full pipe into a failure. */
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};

                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                    return -1;
                continue;
            }
            return -1;
        }
        if (w == 0) {
            errno = EIO; /* no progress and no reason: never loop forever */
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

const char *dbt_fs_kind(mode_t m)
{
    return S_ISREG(m)    ? "a regular file"
           : S_ISDIR(m)  ? "a directory"
           : S_ISLNK(m)  ? "a symbolic link"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
                         : "a special file";
}

/*
 * An atomic replace may only take the place of a regular file or of nothing: renaming over a
 * device or FIFO would replace it (a machine's /dev/null becomes a file), and renaming over a
 * symbolic link would drop the link. 0 when path may be replaced; -1 with err set.
 */
static int replaceable(const char *path, dbt_err *err)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        dbt_err_sys(err, "cannot look at %s", path);
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return 0;
    dbt_err_set(err,
                "%s is %s, not a regular file: it is never replaced; name a regular file or a "
                "new path",
                path, dbt_fs_kind(st.st_mode));
    return -1;
}

int dbt_fs_fsync_fd(int fd, const char *display, dbt_err *err)
{
    while (fsync(fd) != 0) {
        if (errno == EINTR)
            continue;
        dbt_err_sys(err, "cannot flush %s to disk", display);
        return -1;
    }
    return 0;
}

/* write_all of the pieces iov[0..n) in order, in writev calls of at most IOV_MAX pieces. */
static int write_all_iov(int fd, const struct iovec *iov, size_t n)
{
    struct iovec v[64];

    while (n > 0) {
        size_t k = n < 64 ? n : 64;
        size_t want = 0;
        ssize_t w;

        memcpy(v, iov, k * sizeof(*v));
        for (size_t i = 0; i < k; i++)
            want += v[i].iov_len;
        w = writev(fd, v, (int)k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 || (w == 0 && want > 0)) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        if ((size_t)w == want) {
            iov += k;
            n -= k;
            continue;
        }
        /* A short write: the rest of the piece it stopped in, then on. */
        for (;;) {
            if ((size_t)w < iov->iov_len) {
                if (write_all(fd, (const unsigned char *)iov->iov_base + w,
                              iov->iov_len - (size_t)w) != 0)
                    return -1;
                iov++;
                n--;
                break;
            }
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
    }
    return 0;
}

static int create_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     int sync, const char *display, dbt_err *err)
{
    struct iovec one = {(void *)data, len};

    return dbt_fs_create_iov_at(dirfd, name, &one, 1, mode, sync, display, err);
}

int dbt_fs_create_iov_at(int dirfd, const char *name, const struct iovec *iov, size_t n,
                         mode_t mode, int sync, const char *display, dbt_err *err)
{
    int fd, saved;

    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        dbt_err_sys(err, "cannot create %s", display);
        return -1;
    }
    /* fchmod, not the open mode: the umask must not decide who can read a trust store. */
    if (fchmod(fd, mode) != 0) {
        dbt_err_sys(err, "cannot set the mode of %s", display);
        goto fail;
    }
    if (write_all_iov(fd, iov, n) != 0) {
        dbt_err_sys(err, "cannot write %s", display);
        goto fail;
    }
    if (sync && dbt_fs_fsync_fd(fd, display, err) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        dbt_err_sys(err, "cannot write %s", display);
        goto fail;
    }
    return 0;
fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlinkat(dirfd, name, 0);
    errno = saved;
    return -1;
}

int dbt_fs_write_new_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        const char *display, dbt_err *err)
{
    return create_at(dirfd, name, data, len, mode, 1, display, err);
}

int dbt_fs_create_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     const char *display, dbt_err *err)
{
    return create_at(dirfd, name, data, len, mode, 0, display, err);
}

int dbt_fs_sync_tree(int fd, const char *display, dbt_err *err)
{
#ifdef __linux__
    if (syncfs(fd) != 0) {
        dbt_err_sys(err, "cannot flush %s to disk", display);
        return -1;
    }
#else
    (void)fd;
    (void)display;
    (void)err;
    sync();
#endif
    return 0;
}

int dbt_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, dbt_err *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd = -1, dfd = -1, ret = -1;
    size_t dlen;

    if (slash == NULL) {
        strcpy(dir, ".");
    } else {
        dlen = slash == path ? 1 : (size_t)(slash - path);
        if (dlen >= sizeof(dir)) {
            dbt_err_set(err, "path too long: %s", path);
            return -1;
        }
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
    }
    /* ".NAME.tmp-XXXXXX" is 12 bytes longer than NAME: a name of up to NAME_MAX bytes is
     * written through a temporary name of NAME_MAX bytes at most, NAME shortened in it. */
    if (snprintf(tmp, sizeof(tmp), "%s/.%.*s.tmp-XXXXXX", dir, NAME_MAX - 12,
                 slash ? slash + 1 : path) >= (int)sizeof(tmp)) {
        dbt_err_set(err, "path too long: %s", path);
        return -1;
    }
    if (replaceable(path, err) != 0)
        return -1;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        dbt_err_sys(err, "cannot create a temporary file beside %s", path);
        return -1;
    }
    if (fchmod(fd, mode) != 0) {
        dbt_err_sys(err, "cannot set the mode of %s", tmp);
        goto end;
    }
    if (write_all(fd, data, len) != 0) {
        dbt_err_sys(err, "cannot write %s", tmp);
        goto end;
    }
    if (dbt_fs_fsync_fd(fd, tmp, err) != 0)
        goto end;
    if (close(fd) != 0) {
        fd = -1;
        dbt_err_sys(err, "cannot write %s", tmp);
        goto end;
    }
    fd = -1;
    /* Checked again right before the rename: what path is may have changed while writing. */
    if (replaceable(path, err) != 0)
        goto end;
    if (rename(tmp, path) != 0) {
        dbt_err_sys(err, "cannot rename %s to %s", tmp, path);
        goto end;
    }
    tmp[0] = '\0';
    /* The rename is only durable once the directory entry is on disk. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        dbt_err_sys(err, "cannot open directory %s", dir);
        goto end;
    }
    if (dbt_fs_fsync_fd(dfd, dir, err) != 0)
        goto end;
    ret = 0;
end:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (ret != 0 && tmp[0] != '\0') {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    return ret;
}

/* Writes data to a character device or FIFO in place: opened without O_CREAT or O_TRUNC, and
 * checked after opening to be the very node that was looked at (want), so that a path swapped
 * for a regular file in between is not overwritten in place. */
static int write_stream(const char *path, int nofollow, const struct stat *want, const void *data,
                        size_t len, dbt_err *err)
{
    struct stat st;
    int fd, ret = -1;

    /* A FIFO blocks here until a reader opens it, as with any shell redirection. */
    fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        dbt_err_sys(err, "cannot open %s for writing", path);
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot look at %s", path);
        goto end;
    }
    if ((st.st_mode & S_IFMT) != (want->st_mode & S_IFMT) || st.st_dev != want->st_dev ||
        st.st_ino != want->st_ino) {
        dbt_err_set(err, "%s changed while it was being opened; nothing was written", path);
        goto end;
    }
    if (write_all(fd, data, len) != 0) {
        dbt_err_sys(err, "cannot write %s", path);
        goto end;
    }
    ret = 0;
end:
    if (close(fd) != 0 && ret == 0) {
        dbt_err_sys(err, "cannot write %s", path);
        ret = -1;
    }
    return ret;
}

/* The descriptor (1 or 2) whose open file st is, or -1: /dev/stdout is a link to it. */
static int std_fd_of(const struct stat *st)
{
    struct stat fst;
    int fd;

    for (fd = 1; fd <= 2; fd++)
        if (fstat(fd, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino)
            return fd;
    return -1;
}

int dbt_fs_write_output(const char *path, const void *data, size_t len, mode_t mode, dbt_err *err)
{
    struct stat lst, st;
    char target[PATH_MAX];
    ssize_t tlen;
    int fd;

    if (lstat(path, &lst) != 0) {
        if (errno == ENOENT)
            return dbt_fs_write_atomic(path, data, len, mode, err);
        dbt_err_sys(err, "cannot look at %s", path);
        return -1;
    }
    if (S_ISREG(lst.st_mode))
        return dbt_fs_write_atomic(path, data, len, mode, err);
    if (S_ISCHR(lst.st_mode) || S_ISFIFO(lst.st_mode))
        return write_stream(path, 1, &lst, data, len, err);
    if (!S_ISLNK(lst.st_mode)) {
        dbt_err_set(err,
                    "%s is %s: output goes to a regular file (replaced atomically), a new path, "
                    "a character device, a FIFO or standard output",
                    path, dbt_fs_kind(lst.st_mode));
        return -1;
    }
    tlen = readlink(path, target, sizeof(target) - 1);
    target[tlen > 0 ? (size_t)tlen : 0] = '\0';
    if (stat(path, &st) != 0) {
        dbt_err_set(err,
                    "%s is a symbolic link to %s, which cannot be followed (%s): links are never "
                    "replaced, nor followed to create a file; name the file itself",
                    path, target, strerror(errno));
        return -1;
    }
    /* /dev/stdout, /dev/fd/1, /proc/self/fd/2: the caller's own output, whatever it is (a file
     * opened for appending must be appended to, not rewritten from its start). */
    if ((fd = std_fd_of(&st)) >= 0) {
        if (write_all(fd, data, len) != 0) {
            dbt_err_sys(err, "cannot write %s", path);
            return -1;
        }
        return 0;
    }
    /* A link to a stream (a terminal, bash's >(...) as /dev/fd/63): nothing to replace. */
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
        return write_stream(path, 0, &st, data, len, err);
    dbt_err_set(err,
                "%s is a symbolic link to %s (%s): links are never replaced, nor written "
                "through to a file elsewhere; name the file itself (or remove the link)",
                path, target, dbt_fs_kind(st.st_mode));
    return -1;
}

int dbt_fs_mkdir_at(int dirfd, const char *name, mode_t mode, const char *display, dbt_err *err)
{
    if (mkdirat(dirfd, name, mode) != 0) {
        dbt_err_sys(err, "cannot create directory %s", display);
        return -1;
    }
    if (fchmodat(dirfd, name, mode, 0) != 0) {
        int saved = errno;
        dbt_err_sys(err, "cannot set the mode of %s", display);
        unlinkat(dirfd, name, AT_REMOVEDIR);
        errno = saved;
        return -1;
    }
    return 0;
}

int dbt_fs_mkdir_p(const char *path, dbt_err *err)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    struct stat st;

    if (len == 0 || len >= sizeof(buf)) {
        dbt_err_set(err, "invalid directory path \"%s\"", path);
        return -1;
    }
    memcpy(buf, path, len + 1);
    /* Walk forward creating each missing component; existing ones keep their modes. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (stat(buf, &st) != 0) {
            if (errno != ENOENT) {
                dbt_err_sys(err, "cannot look at %s", buf);
                return -1;
            }
            if (dbt_fs_mkdir_at(AT_FDCWD, buf, DBT_DIR_MODE, buf, err) != 0 && errno != EEXIST)
                return -1;
        } else if (!S_ISDIR(st.st_mode)) {
            dbt_err_set(err, "%s is not a directory", buf);
            return -1;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    return 0;
}

static int rmtree_fd(int dirfd, const char *name, const char *display, int depth, dbt_err *err)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int fd, ret = 0;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return 0;
        dbt_err_sys(err, "cannot remove %s", display);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
            dbt_err_sys(err, "cannot remove %s", display);
            return -1;
        }
        return 0;
    }
    if (depth > 16) {
        dbt_err_set(err, "cannot remove %s: directories nested too deep", display);
        return -1;
    }
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        dbt_err_sys(err, "cannot remove %s", display);
        return -1;
    }
    d = fdopendir(fd);
    if (d == NULL) {
        dbt_err_sys(err, "cannot remove %s", display);
        close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (rmtree_fd(fd, de->d_name, display, depth + 1, err) != 0)
            ret = -1;
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        if (ret == 0)
            dbt_err_sys(err, "cannot remove %s", display);
        ret = -1;
    }
    return ret;
}

int dbt_fs_rmtree_at(int dirfd, const char *name, const char *display, dbt_err *err)
{
    return rmtree_fd(dirfd, name, display, 0, err);
}

void dbt_fs_prefault(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a, e;

    if (n < 65536 || page == 0 || page == (uintptr_t)-1)
        return;
    a = ((uintptr_t)p + page - 1) & ~(page - 1);
    e = ((uintptr_t)p + n) & ~(page - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}

int dbt_fs_map_at_st(int dirfd, const char *name, size_t max, void **map, size_t *len,
                     struct stat *st)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);

    *map = NULL;
    *len = 0;
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size <= 0 ||
        (unsigned long long)st->st_size > max) {
        close(fd);
        return -1;
    }
    *map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (*map == MAP_FAILED) {
        *map = NULL;
        return -1;
    }
    *len = (size_t)st->st_size;
    return 0;
}

int dbt_fs_read_at(int dirfd, const char *name, int nofollow, size_t max, unsigned char **data,
                   size_t *len, const char *display, dbt_err *err)
{
    return dbt_fs_read_at_st(dirfd, name, nofollow, max, data, len, NULL, display, err);
}

int dbt_fs_read_at_st(int dirfd, const char *name, int nofollow, size_t max, unsigned char **data,
                      size_t *len, struct stat *out, const char *display, dbt_err *err)
{
    int fd;
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    int ret = -1;

    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO planted where a file is expected would wait for a writer
     * forever; with it the open returns and fstat refuses the FIFO. A regular file reads the
     * same either way. O_NOCTTY: a terminal device must not become our controlling one. */
    fd = openat(dirfd, name,
                O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        dbt_err_sys(err, "cannot open %s", display);
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot look at %s", display);
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        dbt_err_set(err, "%s is not a regular file (%s)", display,
                    S_ISFIFO(st.st_mode)                         ? "a FIFO"
                    : S_ISDIR(st.st_mode)                        ? "a directory"
                    : S_ISSOCK(st.st_mode)                       ? "a socket"
                    : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device node"
                                                                 : "of unknown type");
        goto end;
    }
    if ((unsigned long long)st.st_size > max) {
        dbt_err_set(err, "%s is larger than %zu bytes", display, max);
        goto end;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        dbt_err_set(err, "out of memory reading %s", display);
        goto end;
    }
    dbt_fs_prefault(buf, (size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            dbt_err_sys(err, "cannot read %s", display);
            goto end;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
    if (out != NULL)
        *out = st;
    ret = 0;
end:
    free(buf);
    close(fd);
    return ret;
}
