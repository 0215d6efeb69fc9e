/* Unit tests for lib/syswire.h: the system wiring on temporary directories
 * (DBTRUST_SYSTEM_CERT_DIR, _CERT_FILE and _STATE), never the machine's. */
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catalog.h"
#include "fsutil.h"
#include "syswire.h"
#include "testpki.h"

static EVP_PKEY *key;

struct fx {
    char tmp[PATH_MAX];
    char cat[PATH_MAX + 8];    /* <tmp>/cat */
    char sys[PATH_MAX + 8];    /* <tmp>/sys: the stand-in certificate directory */
    char state[PATH_MAX + 32]; /* <tmp>/state/system-state */
    char file[PATH_MAX + 16];  /* <tmp>/bundle.crt: the stand-in bundle file */
};

/* What the wiring said, one message per line: "E|W|D <hint> <text>". */
static char said[16384];

static void record(void *arg, const dbt_sys_msg *m)
{
    size_t used = strlen(said);

    (void)arg;
    snprintf(said + used, sizeof(said) - used, "%c %d %s\n",
             m->level == DBT_SYS_ERROR  ? 'E'
             : m->level == DBT_SYS_WARN ? 'W'
                                        : 'D',
             m->hint, m->text);
}

static X509 *make_cert(const char *cn, long serial)
{
    testpki_certspec s;

    memset(&s, 0, sizeof(s));
    s.cn = cn;
    s.key = key;
    s.serial = serial;
    s.not_before = testpki_utc(2021, 5, 25);
    s.not_after = testpki_utc(2121, 5, 25);
    s.ca = 1;
    s.pathlen = -1;
    s.md = EVP_sha256();
    return testpki_cert_new(&s);
}

/* Puts bundle name = xs into the catalog at path and commits; returns what the commit said. */
static int put_commit(const char *path, const char *name, X509 *const *xs, size_t n)
{
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *t = NULL;
    dbt_catalog_meta meta;
    dbt_bundle *b = dbt_bundle_new("test-input.pem");
    dbt_err err = {0};
    int rc;

    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        X509_up_ref(xs[i]);
        assert_int_equal(dbt_bundle_push(b, xs[i], (int)i + 1, 0, NULL, NULL), 0);
    }
    memset(&meta, 0, sizeof(meta));
    snprintf(meta.origin, sizeof(meta.origin), "/src/%s.pem", name);
    snprintf(meta.format, sizeof(meta.format), "pem");
    if (dbt_catalog_open(path, DBT_CAT_CREATE, &cat, &err) != 0 ||
        dbt_catalog_begin(cat, &t, &err) != 0 ||
        dbt_catalog_put(t, name, b, &meta, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    rc = dbt_catalog_commit(t, &err);
    dbt_catalog_txn_free(t);
    dbt_catalog_close(cat);
    dbt_bundle_free(b);
    return rc;
}

static int open_at(void *arg, dbt_catalog **cat)
{
    dbt_err err;

    return dbt_catalog_open(arg, DBT_CAT_READ, cat, &err);
}

/* sys/name as a symbolic link: its target, or "" when it is not one. */
static const char *link_of(const struct fx *f, const char *name)
{
    static char target[PATH_MAX];
    char path[PATH_MAX * 2];
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", f->sys, name);
    n = readlink(path, target, sizeof(target) - 1);
    target[n < 0 ? 0 : n] = '\0';
    return target;
}

static const char *our_name(X509 *x)
{
    static char name[128];
    char sha[65];

    testpki_sha256_hex(x, sha);
    snprintf(name, sizeof(name), "dbtrust-%s.pem", sha);
    return name;
}

static const char *hash_name(X509 *x, int n)
{
    static char name[32];

    snprintf(name, sizeof(name), "%08lx.%d", X509_subject_name_hash(x), n);
    return name;
}

static int missing(const char *path)
{
    struct stat st;

    return lstat(path, &st) != 0 && errno == ENOENT;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL || testpki_tmpdir(f->tmp, sizeof(f->tmp)) != 0)
        return -1;
    snprintf(f->cat, sizeof(f->cat), "%s/cat", f->tmp);
    snprintf(f->sys, sizeof(f->sys), "%s/sys", f->tmp);
    snprintf(f->state, sizeof(f->state), "%s/state/system-state", f->tmp);
    snprintf(f->file, sizeof(f->file), "%s/bundle.crt", f->tmp);
    if (mkdir(f->sys, 0755) != 0)
        return -1;
    setenv("DBTRUST_SYSTEM_CERT_DIR", f->sys, 1);
    setenv("DBTRUST_SYSTEM_CERT_FILE", f->file, 1);
    setenv("DBTRUST_SYSTEM_STATE", f->state, 1);
    said[0] = '\0';
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    testpki_rmtree(f->tmp);
    free(f);
    return 0;
}

/* enable links each CA (certificate link to the catalog's file, hash link to that) and records
 * the state; refresh repairs a link removed by hand; disable removes exactly dbtrust's links and
 * the state file, leaving a foreign certificate and its hash link alone. */
static void test_round_trip(void **state)
{
    struct fx *f = *state;
    X509 *a = make_cert("Wired Root A", 1), *b = make_cert("Wired Root B", 2);
    X509 *xs[2] = {a, b};
    char target[PATH_MAX * 2], path[PATH_MAX * 2], sha[65];
    dbt_sys_result r;
    dbt_sys_state s;
    dbt_sys_links l;

    assert_int_equal(put_commit(f->cat, "rds", xs, 2), 0);
    snprintf(path, sizeof(path), "%s/foreign.pem", f->sys);
    assert_int_equal(testpki_write_file(path, "foreign\n", 8), 0);
    snprintf(path, sizeof(path), "%s/%s", f->sys, "0badcafe.0");
    assert_int_equal(symlink("foreign.pem", path), 0);

    assert_int_equal(dbt_sys_state_read(&s, record, NULL), 0);
    assert_int_equal(dbt_sys_disable(&r, record, NULL), DBT_SYS_NOT_ENABLED);
    assert_true(missing(f->state)); /* nothing enabled: nothing created */

    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.added, 2);
    assert_string_equal(r.state.target, f->sys);
    for (int i = 0; i < 2; i++) {
        testpki_sha256_hex(xs[i], sha);
        snprintf(target, sizeof(target), "%s/certs/%s.pem", f->cat, sha);
        assert_string_equal(link_of(f, our_name(xs[i])), target);
        assert_string_equal(link_of(f, hash_name(xs[i], 0)), our_name(xs[i]));
    }
    assert_int_equal(dbt_sys_state_read(&s, record, NULL), 1);
    assert_string_equal(s.catalog, f->cat);
    assert_string_equal(s.target, f->sys);
    assert_int_equal(s.bundle_file, 0);
    dbt_sys_count_links(f->sys, &l);
    assert_int_equal(l.certs, 2);
    assert_int_equal(l.hashes, 2);
    assert_int_equal(l.dangling, 0);

    /* enable again changes nothing; refresh puts back what was removed by hand */
    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), 0);
    assert_int_equal(r.added + r.removed, 0);
    snprintf(path, sizeof(path), "%s/%s", f->sys, hash_name(b, 0));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(dbt_sys_refresh(&r, record, NULL), 0);
    assert_string_equal(link_of(f, hash_name(b, 0)), our_name(b));

    assert_int_equal(dbt_sys_disable(&r, record, NULL), 0);
    assert_int_equal(r.removed, 2);
    dbt_sys_count_links(f->sys, &l);
    assert_int_equal(l.certs + l.hashes, 0);
    assert_true(missing(f->state));
    assert_string_equal(link_of(f, "0badcafe.0"), "foreign.pem");
    snprintf(path, sizeof(path), "%s/foreign.pem", f->sys);
    assert_false(missing(path));
    assert_string_equal(said, ""); /* nothing to warn about */
    X509_free(a);
    X509_free(b);
}

/* A foreign CA with the same subject keeps its <hash>.0; ours goes to .1, and after disable the
 * chain is the foreign one alone again. */
static void test_foreign_same_subject(void **state)
{
    struct fx *f = *state;
    X509 *ours = make_cert("Shared Subject Root", 10),
         *theirs = make_cert("Shared Subject Root", 11);
    char path[PATH_MAX * 2];
    dbt_sys_result r;
    BIO *bio;

    snprintf(path, sizeof(path), "%s/theirs.pem", f->sys);
    assert_non_null(bio = BIO_new_file(path, "w"));
    assert_int_equal(PEM_write_bio_X509(bio, theirs), 1);
    BIO_free(bio);
    snprintf(path, sizeof(path), "%s/%s", f->sys, hash_name(theirs, 0));
    assert_int_equal(symlink("theirs.pem", path), 0);

    assert_int_equal(put_commit(f->cat, "rds", &ours, 1), 0);
    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), 0);
    assert_string_equal(link_of(f, hash_name(ours, 0)), "theirs.pem");
    assert_string_equal(link_of(f, hash_name(ours, 1)), our_name(ours));
    assert_int_equal(dbt_sys_disable(&r, record, NULL), 0);
    assert_string_equal(link_of(f, hash_name(ours, 0)), "theirs.pem");
    snprintf(path, sizeof(path), "%s/%s", f->sys, hash_name(ours, 1));
    assert_true(missing(path));
    X509_free(ours);
    X509_free(theirs);
}

/* A step that fails half-way (a foreign regular file where the second certificate link goes)
 * undoes the steps before it: no link, no state file, the foreign file as it was, and the
 * message names it. */
static void test_undo(void **state)
{
    struct fx *f = *state;
    X509 *xs[2] = {make_cert("Undo Root A", 20), make_cert("Undo Root B", 21)};
    char sha0[65], sha1[65], path[PATH_MAX * 2];
    dbt_sys_result r;
    dbt_sys_links l;
    struct stat st;
    int last;

    testpki_sha256_hex(xs[0], sha0);
    testpki_sha256_hex(xs[1], sha1);
    last = strcmp(sha0, sha1) > 0 ? 0 : 1; /* the catalog lists certificates by SHA-256 */
    assert_int_equal(put_commit(f->cat, "rds", xs, 2), 0);
    snprintf(path, sizeof(path), "%s/%s", f->sys, our_name(xs[last]));
    assert_int_equal(testpki_write_file(path, "not ours\n", 9), 0);

    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), DBT_SYS_UNDONE);
    assert_non_null(strstr(said, "exists and is not a symbolic link"));
    assert_non_null(strstr(said, path));
    dbt_sys_count_links(f->sys, &l);
    assert_int_equal(l.hashes, 0);
    snprintf(path, sizeof(path), "%s/%s", f->sys, our_name(xs[1 - last]));
    assert_true(missing(path)); /* made, then undone */
    snprintf(path, sizeof(path), "%s/%s", f->sys, hash_name(xs[1 - last], 0));
    assert_true(missing(path));
    assert_true(missing(f->state));
    snprintf(path, sizeof(path), "%s/%s", f->sys, our_name(xs[last]));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 9);
    X509_free(xs[0]);
    X509_free(xs[1]);
}

/* A state file writable by its group is refused by every action, which changes nothing; the
 * message names the file. */
static void test_state_group_writable(void **state)
{
    struct fx *f = *state;
    X509 *x = make_cert("State Root", 30);
    char dir[PATH_MAX + 16], text[PATH_MAX * 3];
    dbt_sys_result r;
    dbt_sys_state s;
    dbt_sys_links l;
    dbt_err err = {0};
    dbt_catalog *cat = NULL;

    assert_int_equal(put_commit(f->cat, "rds", &x, 1), 0);
    snprintf(dir, sizeof(dir), "%s/state", f->tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(text, sizeof(text), "catalog=%s\ncertdir=%s\n", f->cat, f->sys);
    assert_int_equal(testpki_write_file(f->state, text, strlen(text)), 0);
    assert_int_equal(chmod(f->state, 0664), 0);

    assert_int_equal(dbt_sys_state_read(&s, record, NULL), -1);
    assert_non_null(strstr(said, f->state));
    said[0] = '\0';
    assert_int_equal(dbt_sys_refresh(&r, record, NULL), -1);
    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), -1);
    assert_int_equal(dbt_sys_disable(&r, record, NULL), -1);
    assert_int_equal(dbt_catalog_open(f->cat, DBT_CAT_READ, &cat, &err), 0);
    assert_int_equal(dbt_sys_follow(cat, record, NULL, &err), -1);
    dbt_catalog_close(cat);
    /* the follow's last word says the wiring is behind, with the hint to refresh */
    assert_non_null(
        strstr(said, "E 3 the catalog changed but the system wiring could not follow\n"));
    assert_int_equal(DBT_HINT_SYSTEM_REFRESH_ROOT, 3);
    dbt_sys_count_links(f->sys, &l);
    assert_int_equal(l.certs + l.hashes, 0);

    assert_int_equal(chmod(f->state, 0644), 0); /* the control: the same file, safe */
    said[0] = '\0';
    assert_int_equal(dbt_sys_refresh(&r, record, NULL), 0);
    assert_string_equal(said, "");
    assert_string_equal(link_of(f, hash_name(x, 0)), our_name(x));
    X509_free(x);
}

/* Every commit of the wired catalog is followed (a new CA linked, a removed one unlinked);
 * a commit of another catalog is not. */
static void test_follow_commit(void **state)
{
    struct fx *f = *state;
    X509 *a = make_cert("Follow Root A", 40), *b = make_cert("Follow Root B", 41);
    char other[PATH_MAX + 16], path[PATH_MAX * 2];
    dbt_sys_result r;

    assert_int_equal(put_commit(f->cat, "one", &a, 1), 0);
    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), 0);
    assert_int_equal(put_commit(f->cat, "two", &b, 1), 0);
    assert_string_equal(link_of(f, hash_name(b, 0)), our_name(b));
    assert_int_equal(put_commit(f->cat, "two", &a, 1), 0); /* b leaves the catalog */
    snprintf(path, sizeof(path), "%s/%s", f->sys, our_name(b));
    assert_true(missing(path));
    snprintf(path, sizeof(path), "%s/%s", f->sys, hash_name(b, 0));
    assert_true(missing(path));

    snprintf(other, sizeof(other), "%s/other", f->tmp);
    assert_int_equal(put_commit(other, "x", &b, 1), 0);
    snprintf(path, sizeof(path), "%s/%s", f->sys, our_name(b));
    assert_true(missing(path));
    assert_string_equal(said, "");
    X509_free(a);
    X509_free(b);
}

/* --bundle-file appends one block and disable gives back the file byte for byte. */
static void test_bundle_file(void **state)
{
    struct fx *f = *state;
    X509 *a = make_cert("Bundle Root", 50);
    const char orig[] = "# the system's bundle\n";
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_sys_result r;
    dbt_err err;

    assert_int_equal(testpki_write_file(f->file, orig, strlen(orig)), 0);
    assert_int_equal(put_commit(f->cat, "rds", &a, 1), 0);
    assert_int_equal(dbt_sys_enable(open_at, f->cat, 1, &r, record, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(dbt_sys_enable(open_at, f->cat, 0, &r, record, NULL), DBT_SYS_OTHER_CATALOG);
    assert_int_equal(dbt_fs_read_at(AT_FDCWD, f->file, 1, 1u << 20, &data, &len, f->file, &err), 0);
    assert_non_null(strstr((char *)data, "# BEGIN dbtrust catalog "));
    assert_non_null(strstr((char *)data, "-----BEGIN CERTIFICATE-----"));
    free(data);
    assert_int_equal(dbt_sys_disable(&r, record, NULL), 0);
    assert_int_equal(r.removed, 1);
    assert_int_equal(dbt_fs_read_at(AT_FDCWD, f->file, 1, 1u << 20, &data, &len, f->file, &err), 0);
    assert_int_equal(len, strlen(orig));
    assert_memory_equal(data, orig, len);
    free(data);
    X509_free(a);
}

/* A FIFO named like a hash link is counted and listed, never opened (the test would block). */
static void test_lookup_hazards(void **state)
{
    struct fx *f = *state;
    char path[PATH_MAX * 2], dirs[PATH_MAX * 2 + 8];
    size_t total = 0;

    snprintf(path, sizeof(path), "%s/0badcafe.0", f->sys);
    assert_int_equal(mkfifo(path, 0644), 0);
    snprintf(dirs, sizeof(dirs), "relative:%s", f->sys);
    assert_int_equal(dbt_sys_lookup_hazards(dirs, NULL, NULL), 1);
    assert_int_equal(dbt_sys_lazy_check(f->file, f->sys, &total, NULL, NULL, record, NULL), -1);
    snprintf(path, sizeof(path), "D 0   %s/0badcafe.0 is a FIFO\n", f->sys);
    assert_non_null(strstr(said, path));
}

static int group_setup(void **state)
{
    (void)state;
    key = testpki_key("ec-p256");
    return key != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_same_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_group_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_hazards, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
