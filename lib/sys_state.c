/* The system wiring's paths, messages, careful reads, lock and state file (lib/syswire.h). The
 * system directory and the state file hold what others put there: an entry is looked at with
 * stat before it is opened, and only regular files are opened. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "bundle.h"
#include "catsafe.h"
#include "escape.h"
#include "fsutil.h"
#include "sys_int.h"

const char *sys_env_or(const char *name, const char *dflt)
{
#ifdef HAVE_SECURE_GETENV
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif
    return v != NULL && *v != '\0' ? v : dflt;
}

const char *dbt_sys_cert_dir(void)
{
    return sys_env_or("DBTRUST_SYSTEM_CERT_DIR", X509_get_default_cert_dir());
}

const char *dbt_sys_cert_file(void)
{
    return sys_env_or("DBTRUST_SYSTEM_CERT_FILE", X509_get_default_cert_file());
}

const char *dbt_sys_state_path(void)
{
    return sys_env_or("DBTRUST_SYSTEM_STATE", DBT_SYS_DEFAULT_STATE);
}

/* Formats fmt whole, however long (a message may name four paths): malloc'ed, NULL when out of
 * memory. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list aq;
    char *s;
    int n;

    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void sys_say(const sys_out *o, int level, int hint, const char *fmt, ...)
{
    dbt_sys_msg m = {level, hint, 0, NULL};
    va_list ap;
    char *text;

    if (o == NULL || o->fn == NULL)
        return;
    va_start(ap, fmt);
    text = vformat(fmt, ap);
    va_end(ap);
    m.text = text != NULL ? text : "out of memory";
    m.hint_at = strlen(m.text);
    o->fn(o->arg, &m);
    free(text);
}

void sys_say_split(const sys_out *o, int level, int hint, const char *head, const char *tail)
{
    size_t hl = strlen(head), tl = strlen(tail);
    dbt_sys_msg m = {level, hint, hl, NULL};
    char *text;

    if (o == NULL || o->fn == NULL)
        return;
    if ((text = malloc(hl + tl + 1)) == NULL) {
        m.text = "out of memory";
        m.hint_at = strlen(m.text);
    } else {
        memcpy(text, head, hl);
        memcpy(text + hl, tail, tl + 1);
        m.text = text;
    }
    o->fn(o->arg, &m);
    free(text);
}

void sys_line(dbt_sys_line_fn *line, void *arg, const char *fmt, ...)
{
    va_list ap;
    char *text;

    if (line == NULL)
        return;
    va_start(ap, fmt);
    text = vformat(fmt, ap);
    va_end(ap);
    line(arg, text != NULL ? text : "(out of memory)");
    free(text);
}

const char *sys_esc(const char *s, char **tofree)
{
    *tofree = NULL;
    if (!dbt_escape_needed(s, strlen(s)))
        return s;
    if ((*tofree = dbt_escape_dup(s, strlen(s))) == NULL)
        return "(unprintable: out of memory)";
    return *tofree;
}

/*
 * Opens path for reading only when it is a regular file (through symlinks when follow).
 * Looked at with (l)stat first: a FIFO, socket or device is never opened (opening a FIFO blocks
 * until a writer comes, opening a device can act on it); then opened non-blocking, without a
 * controlling terminal, and checked again with fstat to be that same regular file. Returns the
 * descriptor; -1 with errno when it cannot be looked at or opened (ENOENT: missing); -2 when it
 * is not a regular file, with its type in st->st_mode.
 */
int sys_open_regular(const char *path, int follow, struct stat *st)
{
    struct stat fst;
    int fd;

    if ((follow ? stat(path, st) : lstat(path, st)) != 0)
        return -1;
    if (!S_ISREG(st->st_mode))
        return -2;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        if (errno == ELOOP) {
            st->st_mode = S_IFLNK;
            return -2;
        }
        return -1;
    }
    if (fstat(fd, &fst) != 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(fst.st_mode) || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
        close(fd);
        *st = fst;
        if (S_ISREG(fst.st_mode))
            st->st_mode = S_IFLNK; /* swapped while looked at: refuse it as a link would be */
        return -2;
    }
    *st = fst;
    return fd;
}

/* A file that grows while read is cut at max + 1 bytes, so the work is bounded whatever the
 * file does. */
int sys_read_capped(int fd, size_t max, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1), *nb;
    ssize_t r;

    *out = NULL;
    *len = 0;
    if (buf == NULL)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(buf);
                return 1;
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            if ((nb = realloc(buf, cap + 1)) == NULL) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            free(buf);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        free(buf);
        return 1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int sys_read_regular(const char *path, size_t max, char **out, size_t *len, struct stat *st)
{
    int fd, r;

    *out = NULL;
    *len = 0;
    if ((fd = sys_open_regular(path, 1, st)) < 0)
        return fd;
    r = sys_read_capped(fd, max, out, len);
    close(fd);
    return r < 0 ? -3 : r;
}

int sys_read_bundle_file(const sys_out *o, const char *file, char **data, size_t *len)
{
    struct stat st;
    int r = sys_read_regular(file, DBT_MAX_INPUT, data, len, &st);

    if (r == 0)
        return 0;
    if (r == -1 && errno == ENOENT)
        return 1;
    if (r == -2)
        sys_say(o, DBT_SYS_ERROR, 0,
                "the bundle file %s is %s, not a regular file; it is not read (a FIFO "
                "would block): point DBTRUST_SYSTEM_CERT_FILE or the system at a "
                "regular file",
                file, dbt_fs_kind(st.st_mode));
    else if (r > 0)
        sys_say(o, DBT_SYS_ERROR, 0, "the bundle file %s is larger than %u bytes; it is not read",
                file, DBT_MAX_INPUT);
    else
        sys_say(o, DBT_SYS_ERROR, 0, "cannot read the bundle file %s: %s%s", file, strerror(errno),
                r == -1 ? "; run as a user who can read it" : "");
    return -1;
}

/*
 * A writer killed between creating a temporary link and renaming it into place leaves
 * ".<name>.tmp-<pid>" in the cert directory: ".dbtrust-<sha256>.pem.tmp-N" for a certificate
 * link, or ".<hash>.<n>.tmp-N" pointing at a dbtrust-*.pem link. Only dbtrust makes these, only
 * under the system lock, so whoever holds the lock removes them (no name OpenSSL looks up).
 */
void sys_sweep_tmp_links(const char *dir)
{
    char path[PATH_MAX], target[PATH_MAX];
    struct dirent *e;
    struct stat st;
    ssize_t n;
    DIR *d;

    if ((d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' || strstr(e->d_name, ".tmp-") == NULL)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
            lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
            continue;
        if (strncmp(e->d_name, "." SYS_LINK_PREFIX, 9) != 0) {
            n = readlink(path, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strncmp(target, SYS_LINK_PREFIX, 8) != 0)
                continue;
        }
        unlink(path);
    }
    closedir(d);
}

/* Creates the state file's parent directory (and its parents) when missing. */
static int state_parent(const sys_out *o, const char *path)
{
    char parent[PATH_MAX], *slash;
    dbt_err err;

    snprintf(parent, sizeof(parent), "%s", path);
    if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
        *slash = '\0';
        if (dbt_fs_mkdir_p(parent, &err) != 0) {
            sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
            return -1;
        }
    }
    return 0;
}

/* Every writer of the system directory (enable, disable, refresh, and the follow of a commit). */
int sys_lock(const sys_out *o)
{
    char path[PATH_MAX];
    dbt_err err;
    int fd;

    snprintf(path, sizeof(path), "%s.lock", dbt_sys_state_path());
    if (state_parent(o, path) != 0)
        return -1;
    if ((fd = dbt_safe_open_lock(AT_FDCWD, path, 0600, path, &err)) < 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s%s", err.msg,
                geteuid() != 0 ? " (system wiring needs root)" : "");
        return -1;
    }
    if (flock(fd, LOCK_EX) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    sys_sweep_tmp_links(dbt_sys_cert_dir());
    return fd;
}

void sys_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Refuses the state file with what is wrong and what to do; always -1. */
static int state_bad(const sys_out *o, const char *path, const char *what)
{
    sys_say(o, DBT_SYS_ERROR, DBT_HINT_SYSTEM_RERUN,
            "the system wiring state file %s %s; dbtrust writes it itself as a regular file "
            "of a few lines: move it away (mv %s %s.bad), check %s for dbtrust-*.pem links",
            path, what, path, path, dbt_sys_cert_dir());
    return -1;
}

int dbt_sys_state_read(dbt_sys_state *s, dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out out = {fn, arg}, *o = &out;
    const char *path = dbt_sys_state_path();
    char *data = NULL, *line, *next, msg[96];
    struct stat st;
    size_t len = 0;
    dbt_err err;
    int fd, r, rc = -1;

    s->catalog[0] = s->target[0] = '\0';
    s->bundle_file = 0;
    if ((fd = sys_open_regular(path, 0, &st)) < 0) {
        if (fd == -1 && errno == ENOENT)
            return 0;
        if (fd == -1) {
            sys_say(o, DBT_SYS_ERROR, 0, "cannot read the system wiring state file %s: %s", path,
                    strerror(errno));
            return -1;
        }
        snprintf(msg, sizeof(msg), "is %s, not a regular file", dbt_fs_kind(st.st_mode));
        return state_bad(o, path, msg);
    }
    if (dbt_safe_entry(&st, path, &err) != 0) {
        close(fd);
        sys_say(o, DBT_SYS_ERROR, 0, "refusing the system wiring state file: %s", err.msg);
        return -1;
    }
    r = sys_read_capped(fd, DBT_SYS_STATE_MAX, &data, &len);
    close(fd);
    if (r < 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot read the system wiring state file %s: %s", path,
                strerror(errno));
        return -1;
    }
    if (r > 0) {
        snprintf(msg, sizeof(msg), "is larger than %u bytes", DBT_SYS_STATE_MAX);
        return state_bad(o, path, msg);
    }
    if (memchr(data, '\0', len) != NULL) {
        state_bad(o, path, "holds a NUL byte");
        goto end;
    }
    for (line = data; line < data + len; line = next) {
        char *v = NULL, *dst = NULL;
        size_t dn = 0;
        int is_bundle = 0;

        next = strchr(line, '\n');
        next = next != NULL ? next + 1 : data + len;
        if (next[-1] == '\n')
            next[-1] = '\0';
        if (strncmp(line, "catalog=", 8) == 0)
            v = line + 8, dst = s->catalog, dn = sizeof(s->catalog);
        else if (strncmp(line, "certdir=", 8) == 0)
            v = line + 8, dst = s->target, dn = sizeof(s->target);
        else if (strncmp(line, "bundlefile=", 11) == 0)
            v = line + 11, dst = s->target, dn = sizeof(s->target), is_bundle = 1;
        else
            continue; /* comments, and lines a later version may add */
        /* A cut or rewritten path would wire (or unwire) somewhere else. */
        if (v[0] != '/' || strlen(v) >= dn || dbt_escape_needed(v, strlen(v))) {
            snprintf(msg, sizeof(msg),
                     "has a line '%.*s...' whose path is not absolute, too long "
                     "or holds control characters",
                     (int)(v - line), line);
            state_bad(o, path, msg);
            goto end;
        }
        memcpy(dst, v, strlen(v) + 1);
        if (dst == s->target)
            s->bundle_file = is_bundle;
    }
    rc = s->catalog[0] != '\0' && s->target[0] != '\0' ? 1 : 0;
end:
    free(data);
    return rc;
}

int sys_state_write(const sys_out *o, const char *catalog, const char *target, int bundle)
{
    char buf[2 * PATH_MAX + 128];
    dbt_err err;
    int len;

    if (state_parent(o, dbt_sys_state_path()) != 0)
        return -1;
    len = snprintf(buf, sizeof(buf),
                   "# written by dbtrust system enable; removed by dbtrust system disable\n"
                   "catalog=%s\n%s=%s\n",
                   catalog, bundle ? "bundlefile" : "certdir", target);
    if (dbt_fs_write_atomic(dbt_sys_state_path(), buf, (size_t)len, DBT_FILE_MODE, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        return -1;
    }
    return 0;
}
