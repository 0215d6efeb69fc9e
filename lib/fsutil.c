/* File helpers: exclusive and atomic writes with fsync, exact modes whatever the umask,
 * symlink-safe tree removal. The ownership/permission rule of a trust store is lib/catsafe.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
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

static int create_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     int sync, const char *display, dbt_err *err)
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
    if (write_all(fd, data, len) != 0) {
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
    if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, slash ? slash + 1 : path) >=
        (int)sizeof(tmp)) {
        dbt_err_set(err, "path too long: %s", path);
        return -1;
    }
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

int dbt_fs_read_at(int dirfd, const char *name, int nofollow, size_t max, unsigned char **data,
                   size_t *len, const char *display, dbt_err *err)
{
    int fd;
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    int ret = -1;

    *data = NULL;
    *len = 0;
    fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        dbt_err_sys(err, "cannot open %s", display);
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        dbt_err_sys(err, "cannot look at %s", display);
        goto end;
    }
    if (!S_ISREG(st.st_mode)) {
        dbt_err_set(err, "%s is not a regular file", display);
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
    ret = 0;
end:
    free(buf);
    close(fd);
    return ret;
}
