/* Unit tests for lib/fsutil.c's output writer: what a named output may be (a new path or regular
 * file replaced atomically, a device or FIFO written in place, a link to standard output) and what
 * is refused with nothing renamed over it (links elsewhere, directories, sockets, and devices or
 * FIFOs for the atomic writer). Device nodes are made in a temporary directory (root only). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"

static const char data[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
#define DATA_LEN (sizeof(data) - 1)

struct fx {
    char tmp[PATH_MAX];
    char path[PATH_MAX];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->tmp, sizeof(f->tmp), "%s/dbt-fsutil-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(f->tmp) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    dbt_fs_rmtree_at(AT_FDCWD, f->tmp, f->tmp, NULL);
    free(f);
    return 0;
}

static const char *at(struct fx *f, const char *name)
{
    snprintf(f->path, sizeof(f->path), "%s/%s", f->tmp, name);
    return f->path;
}

/* The whole content of a file ("" when it cannot be read). */
static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *fp = fopen(path, "rb");
    size_t n = 0;

    if (fp != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
    return buf;
}

/* How many entries the directory has beside ".", ".." (a left temporary file counts). */
static int entries(const char *dir)
{
    char cmd[PATH_MAX + 64];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    if ((p = popen(cmd, "r")) != NULL) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* Forks a reader of fifo that copies what it reads to out; returns its pid. */
static pid_t fifo_reader(const char *fifo, const char *out)
{
    pid_t pid = fork();
    char buf[4096];
    ssize_t r;
    int in, o;

    if (pid != 0)
        return pid;
    alarm(10); /* a writer that never comes (the FIFO renamed over) must not hang the test */
    in = open(fifo, O_RDONLY);
    o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || o < 0)
        _exit(2);
    while ((r = read(in, buf, sizeof(buf))) > 0)
        if (write(o, buf, (size_t)r) != r)
            _exit(3);
    _exit(r == 0 ? 0 : 4);
}

static void test_new_and_regular(void **state)
{
    struct fx *f = *state;
    dbt_err err = {0};
    struct stat st;

    assert_int_equal(dbt_fs_write_output(at(f, "new.pem"), data, DATA_LEN, 0644, &err), 0);
    assert_string_equal(slurp(f->path), data);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(dbt_fs_write_output(f->path, "two\n", 4, 0644, &err), 0);
    assert_string_equal(slurp(f->path), "two\n");
    assert_int_equal(entries(f->tmp), 1); /* no temporary file left */
}

/* Root only: character devices of its own, /dev/null's and /dev/full's numbers. */
static void test_char_devices(void **state)
{
    struct fx *f = *state;
    dbt_err err = {0};
    struct stat st;
    char null[PATH_MAX], full[PATH_MAX];

    if (geteuid() != 0 || mknod(at(f, "null"), S_IFCHR | 0666, makedev(1, 3)) != 0 ||
        mknod(at(f, "full"), S_IFCHR | 0666, makedev(1, 7)) != 0) {
        fprintf(stderr, "SKIP: making device nodes needs root\n");
        skip();
    }
    snprintf(null, sizeof(null), "%s", at(f, "null"));
    snprintf(full, sizeof(full), "%s", at(f, "full"));

    assert_int_equal(dbt_fs_write_output(null, data, DATA_LEN, 0644, &err), 0);
    assert_int_equal(lstat(null, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(1, 3));

    /* The write reaches the device: /dev/full's ENOSPC comes back, named. */
    assert_int_equal(dbt_fs_write_output(full, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, full));
    assert_non_null(strstr(err.msg, strerror(ENOSPC)));
    assert_int_equal(lstat(full, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(1, 7));

    /* The atomic writer never renames over a device, whoever calls it. */
    assert_int_equal(dbt_fs_write_atomic(null, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, "character device"));
    assert_int_equal(lstat(null, &st), 0);
    assert_true(S_ISCHR(st.st_mode));

    /* Through a link too (a link to a device is a stream, like /dev/stdout on a terminal). */
    assert_int_equal(symlink(full, at(f, "tofull")), 0);
    assert_int_equal(dbt_fs_write_output(f->path, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, strerror(ENOSPC)));
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(entries(f->tmp), 3);
}

static void test_fifo(void **state)
{
    struct fx *f = *state;
    dbt_err err = {0};
    char fifo[PATH_MAX], out[PATH_MAX];
    struct stat st;
    pid_t pid;
    int status;

    snprintf(fifo, sizeof(fifo), "%s", at(f, "fifo"));
    snprintf(out, sizeof(out), "%s", at(f, "fifo.out"));
    assert_int_equal(mkfifo(fifo, 0600), 0);

    pid = fifo_reader(fifo, out);
    assert_true(pid > 0);
    assert_int_equal(dbt_fs_write_output(fifo, data, DATA_LEN, 0644, &err), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_string_equal(slurp(out), data);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    /* Through a link, as bash's >(...) hands out /dev/fd/63. */
    assert_int_equal(symlink(fifo, at(f, "tofifo")), 0);
    pid = fifo_reader(fifo, out);
    assert_int_equal(dbt_fs_write_output(f->path, "via link\n", 9, 0644, &err), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_string_equal(slurp(out), "via link\n");
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));

    /* Refused by the atomic writer without opening it (no reader: opening would block). */
    assert_int_equal(dbt_fs_write_atomic(fifo, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, "FIFO"));
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
}

static void test_links_refused(void **state)
{
    struct fx *f = *state;
    dbt_err err = {0};
    char target[PATH_MAX], link[PATH_MAX];
    struct stat st;

    assert_int_equal(mkdir(at(f, "elsewhere"), 0755), 0);
    snprintf(target, sizeof(target), "%s", at(f, "elsewhere/target.pem"));
    assert_int_equal(dbt_fs_write_atomic(target, "old\n", 4, 0644, &err), 0);

    /* A link to a regular file: neither replaced nor written through. */
    snprintf(link, sizeof(link), "%s", at(f, "link.pem"));
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(dbt_fs_write_output(link, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, link));
    assert_non_null(strstr(err.msg, "symbolic link"));
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(slurp(target), "old\n");
    assert_int_equal(dbt_fs_write_atomic(link, data, DATA_LEN, 0644, &err), -1);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal(slurp(target), "old\n");

    /* A dangling link: the file it names is not created. */
    snprintf(target, sizeof(target), "%s", at(f, "elsewhere/new.pem"));
    assert_int_equal(symlink(target, at(f, "dangling.pem")), 0);
    assert_int_equal(dbt_fs_write_output(f->path, data, DATA_LEN, 0644, &err), -1);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(target, &st), -1);

    /* A link to a directory. */
    snprintf(target, sizeof(target), "%s", at(f, "elsewhere"));
    assert_int_equal(symlink(target, at(f, "dirlink")), 0);
    assert_int_equal(dbt_fs_write_output(f->path, data, DATA_LEN, 0644, &err), -1);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));

    /* Nothing left behind: elsewhere/, its file, and the three links. */
    assert_int_equal(entries(f->tmp), 4);
    assert_int_equal(entries(at(f, "elsewhere")), 1);
}

static void test_other_kinds_refused(void **state)
{
    struct fx *f = *state;
    dbt_err err = {0};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int s;

    assert_int_equal(mkdir(at(f, "dir"), 0755), 0);
    assert_int_equal(dbt_fs_write_output(f->path, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, "a directory"));
    assert_int_equal(entries(f->path), 0);

    s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at(f, "sock"));
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(dbt_fs_write_output(f->path, data, DATA_LEN, 0644, &err), -1);
    assert_non_null(strstr(err.msg, "a socket"));
    assert_int_equal(dbt_fs_write_atomic(f->path, data, DATA_LEN, 0644, &err), -1);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    close(s);
    assert_int_equal(entries(f->tmp), 2);
}

/* /dev/stdout (a link to this process's descriptor 1) goes to that descriptor, at its position:
 * a file opened for appending keeps what it had. */
static void test_link_to_stdout(void **state)
{
    struct fx *f = *state;
    dbt_err err = {0};
    char out[PATH_MAX], want[256];
    struct stat before, after;
    int saved, fd, rc;

    snprintf(out, sizeof(out), "%s", at(f, "stdout.txt"));
    fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "before\n", 7), 7);
    assert_int_equal(fstat(fd, &before), 0);
    fflush(stdout);
    saved = dup(1);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 1), 1);
    rc = dbt_fs_write_output("/proc/self/fd/1", data, DATA_LEN, 0644, &err);
    dup2(saved, 1); /* cmocka reports on standard output: restore it before any assert */
    close(saved);
    close(fd);
    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want), "before\n%s", data);
    assert_string_equal(slurp(out), want);
    assert_int_equal(stat(out, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino); /* written in place, not replaced */
    assert_int_equal(entries(f->tmp), 1);
}

/* A name of NAME_MAX bytes is written: the temporary name beside it must fit too. */
static void test_long_name(void **state)
{
    struct fx *f = *state;
    char name[NAME_MAX + 1];
    dbt_err err;
    size_t len;

    for (len = NAME_MAX - 13; len <= NAME_MAX; len++) {
        memset(name, 'n', len);
        name[len] = '\0';
        if (dbt_fs_write_atomic(at(f, name), data, DATA_LEN, 0644, &err) != 0)
            fail_msg("a name of %zu bytes: %s", len, err.msg);
        assert_string_equal(slurp(at(f, name)), data);
        /* twice: the second replaces the first */
        assert_int_equal(dbt_fs_write_atomic(at(f, name), data, DATA_LEN, 0644, &err), 0);
        assert_int_equal(unlink(at(f, name)), 0);
    }
}

/* dbt_fs_create_iov_at writes its pieces in order, in writev calls of at most 64 pieces:
 * 300 pieces of 0 to 4,999 bytes (empty ones among them) read back as their concatenation,
 * and a name that exists is refused (the create is exclusive), leaving it as it was. */
static void test_create_iov(void **state)
{
    struct fx *f = *state;
    enum { N = 300 };
    struct iovec iov[N];
    unsigned char *all = malloc(N * 5000), *back = NULL;
    size_t total = 0, len = 0;
    int dfd = open(f->tmp, O_RDONLY | O_DIRECTORY);

    assert_non_null(all);
    assert_true(dfd >= 0);
    for (size_t i = 0; i < N; i++) {
        size_t n = (i * 7919) % 5000;
        if (i % 17 == 0)
            n = 0;
        for (size_t k = 0; k < n; k++)
            all[total + k] = (unsigned char)(i + k);
        iov[i].iov_base = all + total;
        iov[i].iov_len = n;
        total += n;
    }
    assert_int_equal(dbt_fs_create_iov_at(dfd, "pieces", iov, N, 0644, 0, "pieces", NULL), 0);
    assert_int_equal(dbt_fs_read_at(dfd, "pieces", 1, 1u << 24, &back, &len, "pieces", NULL), 0);
    assert_int_equal(len, total);
    assert_memory_equal(back, all, total);
    free(back);
    assert_int_not_equal(dbt_fs_create_iov_at(dfd, "pieces", iov, 1, 0644, 0, "pieces", NULL), 0);
    assert_int_equal(dbt_fs_read_at(dfd, "pieces", 1, 1u << 24, &back, &len, "pieces", NULL), 0);
    assert_int_equal(len, total);
    free(back);
    close(dfd);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_and_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_iov, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_char_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_kinds_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_to_stdout, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
