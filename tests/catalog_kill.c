/* Kill test: a writer SIGKILLed at any point of a commit leaves the catalog readable and exactly
 * as before or exactly as after (the trust view's one PEM file, read through its fixed link,
 * included), with every hash link resolving; the next writer cleans up. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catalog.h"
#include "catalog_view.h"
#include "testpki.h"

#define TMPFS_MAGIC_NUM 0x01021994

static dbt_bundle *sets[2]; /* the two versions of bundle "global" a writer toggles between */
static dbt_bundle *small;
static char mounted_at[4096]; /* our tmpfs, unmounted at exit even when a check fails */

static void unmount_at_exit(void)
{
    if (mounted_at[0] != '\0') {
        umount2(mounted_at, MNT_DETACH);
        rmdir(mounted_at);
    }
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    printf("FAIL: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(1);
}

/* Writes bundle "global" = sets[which]; notify, when >= 0, gets a byte just before the commit. */
static int write_global(const char *path, int which, int notify, dbt_err *err)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    dbt_catalog_meta meta;
    int rc = -1;

    memset(&meta, 0, sizeof(meta));
    snprintf(meta.origin, sizeof(meta.origin), "set-%d", which);
    snprintf(meta.format, sizeof(meta.format), "pem");
    if (dbt_catalog_open(path, DBT_CAT_CREATE, &cat, err) != 0)
        return -1;
    if (dbt_catalog_begin(cat, &t, err) != 0 ||
        dbt_catalog_put(t, "global", sets[which], &meta, NULL, err) != 0)
        goto end;
    if (notify >= 0 && write(notify, "c", 1) != 1) {
        dbt_err_set(err, "cannot notify the parent");
        goto end;
    }
    rc = dbt_catalog_commit(t, err);
    if (rc == 0 && notify >= 0 && write(notify, "d", 1) != 1)
        rc = -1;
end:
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
    return rc;
}

static int write_small(const char *path, dbt_err *err)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    dbt_catalog_meta meta;
    int rc = -1;

    memset(&meta, 0, sizeof(meta));
    snprintf(meta.origin, sizeof(meta.origin), "small");
    if (dbt_catalog_open(path, DBT_CAT_CREATE, &cat, err) != 0)
        return -1;
    if (dbt_catalog_begin(cat, &t, err) == 0 &&
        dbt_catalog_put(t, "small", small, &meta, NULL, err) == 0)
        rc = dbt_catalog_commit(t, err);
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
    return rc;
}

/* "trust.pem <sha256>\n" of the file at path into out. */
static int file_sha256(const char *path, char *out, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    struct stat st;
    char *text;
    int n;

    /* catview_read_text stops at a NUL: the size says whether it read the whole file. */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (text = catview_read_text(path)) == NULL)
        return -1;
    if (strlen(text) != (size_t)st.st_size ||
        !EVP_Digest(text, (size_t)st.st_size, md, &mdlen, EVP_sha256(), NULL)) {
        free(text);
        return -1;
    }
    free(text);
    n = snprintf(out, len, "trust.pem ");
    for (unsigned i = 0; i < mdlen && (size_t)n + 3 < len; i++)
        n += snprintf(out + n, len - (size_t)n, "%02x", md[i]);
    snprintf(out + n, len - (size_t)n, "\n");
    return 0;
}

/* Bundle list (name, count, origin), the index and the SHA-256 of <catalog>/trust.pem (what a
 * client given that path reads): everything but import times. NULL if the catalog cannot be
 * read, with the reason in err. */
static char *state_of(const char *path, dbt_err *err)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_entry *e = NULL;
    size_t n = 0, used = 0, cap = 1 << 20;
    char p[4200], *idx, *s;

    if (dbt_catalog_open(path, DBT_CAT_READ, &cat, err) != 0)
        return NULL;
    if (dbt_catalog_list(cat, &e, &n, err) != 0) {
        dbt_catalog_close(cat);
        return NULL;
    }
    s = malloc(cap);
    if (s == NULL)
        die("out of memory");
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(s + used, cap - used, "%s %zu %s\n", e[i].name, e[i].meta.count,
                                 e[i].meta.origin);
    free(e);
    dbt_catalog_close(cat);
    snprintf(p, sizeof(p), "%s/certs/index", path);
    idx = catview_read_text(p);
    if (idx == NULL)
        die("cannot read %s", p);
    used += (size_t)snprintf(s + used, cap - used, "%s", idx);
    free(idx);
    snprintf(p, sizeof(p), "%s/trust.pem", path);
    if (file_sha256(p, s + used, cap - used) != 0)
        die("cannot read %s", p);
    return s;
}

/* Entries beyond a clean catalog's .lock, current, the fixed links bundles, certs, trust and
 * trust.pem, the writers' record .changes, and two generations (.changes.tmp is a leftover). */
static int leftovers(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int gens = 0, other = 0;

    if (d == NULL)
        die("cannot open %s", path);
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strncmp(n, ".gen-", 5) == 0)
            gens++;
        else if (strcmp(n, ".") && strcmp(n, "..") && strcmp(n, ".lock") && strcmp(n, "current") &&
                 strcmp(n, "bundles") && strcmp(n, "certs") && strcmp(n, "trust") &&
                 strcmp(n, "trust.pem") && strcmp(n, ".changes"))
            other++;
    }
    closedir(d);
    return other + (gens > 2 ? gens - 2 : 0);
}

static void check_view(const char *path)
{
    char why[1024];

    if (catview_check(path, why, sizeof(why)) < 0)
        die("hashed view: %s", why);
}

/* Every <hash>.<n> link under <path>/certs resolves to a regular file (what OpenSSL's lookup
 * opens). Cheaper than check_view, which also parses every certificate: used after each kill,
 * while the index itself is compared with a state check_view has validated. */
static void check_links(const char *path)
{
    char dir[4200], p[4400];
    DIR *d;
    struct dirent *de;
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/certs", path);
    if ((d = opendir(dir)) == NULL)
        die("cannot open %s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strchr(de->d_name, '.') == NULL ||
            strstr(de->d_name, ".pem") != NULL)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
            die("hash link %s does not resolve to a certificate file", p);
    }
    closedir(d);
}

/* Forks a writer of bundle "global" = sets[which]. It writes "c" to *rd's pipe just before
 * dbt_catalog_commit and "d" when it returned. */
static pid_t spawn_writer(const char *path, int which, int *rd)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0)
        die("pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dbt_err err = {0};
        close(fds[0]);
        if (write_global(path, which, fds[1], &err) != 0) {
            printf("writer: %s\n", err.msg);
            _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    *rd = fds[0];
    return pid;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs kills against the catalog in dir and checks the catalog after each. */
static void run_phase(const char *label, const char *dir, int kills, unsigned *seed)
{
    char path[4200];
    char *state[2];
    dbt_err err = {0};
    int cur, before = 0, inside[2] = {0, 0}, after = 0, dirty = 0, cleaned = 0;
    double t_c[5], t_d[5], span, t_start = now_ms();

    snprintf(path, sizeof(path), "%s/catalog", dir);
    if (write_small(path, &err) != 0 || write_global(path, 0, -1, &err) != 0)
        die("setting up: %s", err.msg);
    state[0] = state_of(path, &err);
    check_view(path);
    if (write_global(path, 1, -1, &err) != 0)
        die("setting up: %s", err.msg);
    state[1] = state_of(path, &err);
    check_view(path);
    if (state[0] == NULL || state[1] == NULL || strcmp(state[0], state[1]) == 0)
        die("setting up: states not distinct");
    cur = 1;

    /* Measure a writer's life (open, lock, begin, put, then the commit) so that kill delays
     * spread over all of it, the commit included. */
    for (int i = 0; i < 5; i++) {
        int rd, status;
        char c;
        double t0 = now_ms();
        pid_t pid = spawn_writer(path, 1 - cur, &rd);

        if (read(rd, &c, 1) != 1)
            die("writer child failed before its commit");
        t_c[i] = now_ms() - t0;
        if (read(rd, &c, 1) != 1)
            die("writer child failed in its commit");
        t_d[i] = now_ms() - t0;
        close(rd);
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("writer child failed");
        cur = 1 - cur;
    }
    qsort(t_c, 5, sizeof(double), cmp_double);
    qsort(t_d, 5, sizeof(double), cmp_double);
    span = t_d[2] * 1.15;
    printf("%s: a writer of %zu certificates starts its commit after %.1f ms and ends it after "
           "%.1f ms (medians); %d kills spread over 0-%.1f ms, mostly from %.1f ms\n",
           label, sets[0]->n, t_c[2], t_d[2], kills, span, t_c[2] * 0.9);

    for (int k = 1; k <= kills; k++) {
        int rd, status, got, phase;
        pid_t pid;
        char buf[4], *s;
        ssize_t n;
        /* Three kills in four aim at the commit, the rest at what comes before it. */
        double u = (double)rand_r(seed) / RAND_MAX;
        double at = rand_r(seed) % 4 != 0 ? t_c[2] * 0.9 + u * (span - t_c[2] * 0.9) : u * t_c[2];
        long delay_us = (long)(at * 1000.0);
        struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};

        pid = spawn_writer(path, 1 - cur, &rd);
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            die("writer child failed (not killed)");
        /* What the child said before dying: nothing, "c" or "cd". */
        n = read(rd, buf, sizeof(buf));
        close(rd);
        phase = n <= 0 ? 0 : n == 1 ? 1 : 2;

        s = state_of(path, &err);
        if (s == NULL)
            die("catalog unreadable after a kill: %s", err.msg);
        if (strcmp(s, state[cur]) == 0)
            got = cur;
        else if (strcmp(s, state[1 - cur]) == 0)
            got = 1 - cur;
        else
            die("catalog is neither the old nor the new state:\n%s", s);
        free(s);
        if (phase == 0 && got != cur)
            die("a writer killed before its commit changed the catalog");
        if (phase == 2 && got == cur)
            die("a commit that returned did not change the catalog");
        if (phase == 0)
            before++;
        else if (phase == 1)
            inside[got == cur ? 0 : 1]++;
        else
            after++;
        cur = got;
        check_links(path);
        if (leftovers(path) > 0)
            dirty++;

        /* The next writer succeeds and leaves nothing behind. */
        if (k % 10 == 0 || k == kills) {
            if (write_global(path, 1 - cur, -1, &err) != 0)
                die("writer after a kill: %s", err.msg);
            cur = 1 - cur;
            s = state_of(path, &err);
            if (s == NULL || strcmp(s, state[cur]) != 0)
                die("writer after a kill did not land its state");
            free(s);
            check_view(path);
            if (leftovers(path) != 0)
                die("the writer after a kill left leftovers in %s", path);
            cleaned++;
        }
    }
    printf("%s: %d kills in %.1f s: %d before the commit (open, lock, begin and its cleanup), "
           "%d inside it (%d left the old state, %d the new one), %d after it; %d left debris "
           "(partial generation or temporary link), all removed by the next writer (checked "
           "%d times)\n",
           label, kills, (now_ms() - t_start) / 1e3, before, inside[0] + inside[1], inside[0],
           inside[1], after, dirty, cleaned);
    /* Without a kill inside a commit this run did not test what it is named for. */
    if (inside[0] + inside[1] == 0)
        die("no kill landed inside a commit");
    free(state[0]);
    free(state[1]);
}

static dbt_bundle *generated(int first, int n, EVP_PKEY *key)
{
    dbt_bundle *b = dbt_bundle_new("generated");

    for (int i = first; i < first + n; i++) {
        testpki_certspec s;
        char cn[64];
        X509 *x;

        memset(&s, 0, sizeof(s));
        snprintf(cn, sizeof(cn), "Kill Test Root %d", i);
        s.cn = cn;
        s.key = key;
        s.serial = 1000 + i;
        s.not_before = testpki_utc(2021, 5, 25);
        s.not_after = testpki_utc(2121, 5, 25);
        s.ca = 1;
        s.pathlen = -1;
        s.md = EVP_sha256();
        x = testpki_cert_new(&s);
        if (x == NULL || dbt_bundle_push(b, x, i - first + 1, 0, NULL, NULL) != 0)
            die("cannot generate certificates");
    }
    return b;
}

int main(void)
{
    char rd[4096], disk[4096], fast[4096], nowire[4096];
    const char *env;
    dbt_err err = {0};
    unsigned seed;
    int kills = 200, disk_kills = 10, mounted = 0;
    EVP_PKEY *key = testpki_key("ec-p256");
    struct statfs sfs;

    setvbuf(stdout, NULL, _IOLBF, 0);
    env = getenv("DBTRUST_KILL_SEED");
    seed =
        env != NULL ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    if ((env = getenv("DBTRUST_KILLS")) != NULL)
        kills = atoi(env);
    printf("seed %u (DBTRUST_KILL_SEED reproduces the delays)\n", seed);

    /* Every commit reads the system wiring's state file: one that does not exist, in a
     * directory of this test, never the machine's (lib/syswire.h). */
    if (testpki_tmpdir(nowire, sizeof(nowire)) != 0)
        die("cannot create a temporary directory");
    snprintf(rd, sizeof(rd), "%s/no-system-state", nowire);
    setenv("DBTRUST_SYSTEM_STATE", rd, 1);
    small = generated(5000, 3, key);
    if (testpki_realdata("aws-rds-global-bundle.pem", rd, sizeof(rd)) == 0 &&
        dbt_bundle_read_file(rd, NULL, &sets[0], &err) == 0 &&
        testpki_realdata("aws-rds-global-bundle-2022.pem", rd, sizeof(rd)) == 0 &&
        dbt_bundle_read_file(rd, NULL, &sets[1], &err) == 0) {
        printf("toggling bundle \"global\" between the real AWS RDS global bundles (%zu and %zu "
               "certificates)\n",
               sets[0]->n, sets[1]->n);
    } else {
        dbt_bundle_free(sets[0]);
        sets[0] = generated(0, 200, key);
        sets[1] = generated(100, 200, key);
        printf("real data absent: toggling between two generated sets of 200 certificates\n");
    }

    /* On the build tree's own filesystem: the real fsync path, a few kills (each commit flushes
     * hundreds of files, so it is slow on most disks). */
    if (testpki_tmpdir(disk, sizeof(disk)) != 0)
        die("cannot create a temporary directory");
    run_phase("disk", disk, disk_kills, &seed);
    testpki_rmtree(disk);

    /* SIGKILL, unlike a power cut, loses no written data: what matters is the order of the
     * operations, the same on every filesystem. A tmpfs (no flush cost) fits 200 kills in the
     * time budget: our own mount as root, else /dev/shm. */
    if (testpki_tmpdir(fast, sizeof(fast)) != 0)
        die("cannot create a temporary directory");
    if (geteuid() == 0 && mount("tmpfs", fast, "tmpfs", 0, "size=64m,mode=0755") == 0) {
        mounted = 1;
        snprintf(mounted_at, sizeof(mounted_at), "%s", fast);
        atexit(unmount_at_exit);
        run_phase("tmpfs", fast, kills, &seed);
    } else if (statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC_NUM &&
               access("/dev/shm", W_OK) == 0) {
        char shm[4096];
        snprintf(shm, sizeof(shm), "/dev/shm/dbtrust-kill.XXXXXX");
        if (mkdtemp(shm) == NULL)
            die("cannot create a directory in /dev/shm");
        run_phase("tmpfs", shm, kills, &seed);
        testpki_rmtree(shm);
    } else {
        printf("no tmpfs available: all kills on disk (slow)\n");
        run_phase("disk", fast, kills, &seed);
    }
    if (mounted) {
        umount2(fast, MNT_DETACH);
        mounted_at[0] = '\0';
    }
    testpki_rmtree(fast);
    testpki_rmtree(nowire);
    dbt_bundle_free(sets[0]);
    dbt_bundle_free(sets[1]);
    dbt_bundle_free(small);
    EVP_PKEY_free(key);
    printf("PASS\n");
    return 0;
}
