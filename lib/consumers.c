/* The trust consumers of a host or root file system and whether the catalog reaches them
 * (lib/consumers.h): libpq's libcrypto, Python packages' bundled libcrypto, the JVM's system
 * truststore. Every path is resolved inside the root, one component at a time, so a link in a
 * container image never leads to the host's files. */
#include "config.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "certinfo.h"
#include "consumers.h"
#include "format.h"
#include "fsutil.h"
#include "rootfs.h"
#include "syswire.h"

/* The JVM's system truststore on Debian and Ubuntu, and where its password is configured. */
#define JVM_STORE "/etc/ssl/certs/java/cacerts"
#define JVM_DEFAULTS "/etc/default/cacerts"
/* Small text files (ld.so.conf and its includes, /etc/default/cacerts). */
#define TEXT_MAX (64u * 1024u)
/* Hash links of one subject looked at under another root (OpenSSL stops at the first gap). */
#define HASH_CHAIN_MAX 1000

struct ctx {
    int rootfd;
    int in_root; /* 1: another root than the host's */
    dbt_doctor *d;
    dbt_catalog *cat;
    char **dirs; /* the loader's library directories, as seen inside the root */
    size_t ndirs;
    size_t nconf;
    struct stat *seen; /* libpq files already reported (device and inode) */
    size_t nseen;
    X509 **view; /* the trust view's certificates (another root only) */
    dbt_catalog_trust *tv;
    size_t ntv;
};

static void note(struct ctx *c, const char *text)
{
    size_t i;

    for (i = 0; i < c->d->nnotes; i++)
        if (strcmp(c->d->notes[i], text) == 0)
            return;
    if (c->d->nnotes < sizeof(c->d->notes) / sizeof(c->d->notes[0]))
        snprintf(c->d->notes[c->d->nnotes++], sizeof(c->d->notes[0]), "%s", text);
}

/* ------------------------------------------------------------ library directories */

static void add_dir(struct ctx *c, const char *dir, size_t n)
{
    size_t i;
    char *s;

    if (n == 0 || dir[0] != '/' || n >= PATH_MAX)
        return;
    while (n > 1 && dir[n - 1] == '/')
        n--;
    for (i = 0; i < c->ndirs; i++)
        if (strlen(c->dirs[i]) == n && memcmp(c->dirs[i], dir, n) == 0)
            return;
    if (c->ndirs == DBT_DOC_MAX_DIRS) {
        note(c, "more library directories than are looked at; the rest were skipped");
        return;
    }
    if ((s = strndup(dir, n)) != NULL)
        c->dirs[c->ndirs++] = s;
}

/* The names of dir that match pattern (lib/rootfs.h), with a note when the listing was cut. */
static size_t list_match(struct ctx *c, const char *dir, const char *pattern, char ***out)
{
    int cut = 0;
    size_t n = dbt_root_list(c->rootfd, dir, pattern, out, &cut);

    if (cut)
        note(c, "a directory had more entries than are looked at; the rest were skipped");
    return n;
}

static void read_conf(struct ctx *c, const char *path, int depth);

/* "include" patterns: the directory part is taken as it is, the last part is a glob. */
static void conf_include(struct ctx *c, const char *from, const char *pat, int depth)
{
    char full[PATH_MAX], dir[PATH_MAX], file[PATH_MAX], **names;
    const char *slash;
    size_t n, i;

    if (pat[0] == '/')
        snprintf(full, sizeof(full), "%s", pat);
    else
        snprintf(full, sizeof(full), "%.*s/%s", (int)(strrchr(from, '/') - from), from, pat);
    slash = strrchr(full, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash == full ? 1 : (int)(slash - full), full);
    n = list_match(c, dir, slash + 1, &names);
    for (i = 0; i < n; i++) {
        snprintf(file, sizeof(file), "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, names[i]);
        read_conf(c, file, depth + 1);
    }
    dbt_root_list_free(names, n);
}

/* ld.so.conf syntax: directories separated by white space, ':' or ','; "include PATTERN...";
 * "hwcap" lines; '#' comments. */
static void read_conf(struct ctx *c, const char *path, int depth)
{
    unsigned char *data = NULL;
    char *line, *save = NULL, *tok, *s2;
    struct stat st;
    size_t len;
    dbt_err err;

    if (depth > 8 || c->nconf >= DBT_DOC_MAX_CONF) {
        note(c, "ld.so.conf includes more files, or nests deeper, than are read");
        return;
    }
    c->nconf++;
    if (dbt_root_read(c->rootfd, path, TEXT_MAX, &data, &len, &st, &err) != 0)
        return;
    for (line = strtok_r((char *)data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(line, '#');

        if (hash != NULL)
            *hash = '\0';
        tok = strtok_r(line, " \t\r:,", &s2);
        if (tok == NULL || strcmp(tok, "hwcap") == 0)
            continue;
        if (strcmp(tok, "include") == 0) {
            while ((tok = strtok_r(NULL, " \t\r", &s2)) != NULL)
                conf_include(c, path, tok, depth);
            continue;
        }
        for (; tok != NULL; tok = strtok_r(NULL, " \t\r:,", &s2))
            add_dir(c, tok, strcspn(tok, "=")); /* "dir=TYPE", an old form */
    }
    free(data);
}

/* ------------------------------------------------------------ finding libraries */

/* Whether fd is an ELF object of this class and machine (what the loader checks). */
static int elf_matches(int fd, int cls, int machine)
{
    unsigned char h[EI_NIDENT + 4];
    uint16_t m;

    if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, ELFMAG, SELFMAG) != 0 ||
        h[EI_CLASS] != cls)
        return 0;
    memcpy(&m, h + EI_NIDENT + 2, 2);
    return m == machine;
}

/* Tries each directory of a ':' list (DT_RUNPATH/DT_RPATH; $ORIGIN is origin) for name. */
static int try_path_list(struct ctx *c, const char *list, const char *origin, const char *name,
                         const dbt_elf_deps *by, char *out, size_t n)
{
    char *copy = strdup(list), *tok, *save = NULL, cand[PATH_MAX], dir[PATH_MAX];
    struct stat st;
    int fd, found = 0;

    if (copy == NULL)
        return 0;
    for (tok = strtok_r(copy, ":", &save); !found && tok != NULL;
         tok = strtok_r(NULL, ":", &save)) {
        if (strncmp(tok, "$ORIGIN", 7) == 0 || strncmp(tok, "${ORIGIN}", 9) == 0)
            snprintf(dir, sizeof(dir), "%s%s", origin, tok + (tok[1] == '{' ? 9 : 7));
        else if (strchr(tok, '$') != NULL || tok[0] != '/')
            continue; /* $LIB, $PLATFORM, relative: not followed */
        else
            snprintf(dir, sizeof(dir), "%s", tok);
        snprintf(cand, sizeof(cand), "%s/%s", dir, name);
        if ((fd = dbt_root_open(c->rootfd, cand, O_RDONLY | O_NONBLOCK, &st)) < 0)
            continue;
        if (elf_matches(fd, by->elfclass, by->machine)) {
            snprintf(out, n, "%s", cand);
            found = 1;
        }
        close(fd);
    }
    free(copy);
    return found;
}

/* Where the loader finds name for the object at path with deps by: DT_RPATH (only without
 * DT_RUNPATH), DT_RUNPATH, then the system's library directories. The environment of the
 * program (LD_LIBRARY_PATH) and its executable's own paths are not known here. */
static int locate(struct ctx *c, const char *path, const dbt_elf_deps *by, const char *name,
                  char *out, size_t n)
{
    char origin[PATH_MAX];
    size_t i;

    snprintf(origin, sizeof(origin), "%.*s", (int)(strrchr(path, '/') - path), path);
    if (strchr(name, '/') != NULL) {
        snprintf(out, n, "%s", name);
        return 1;
    }
    if (by->rpath != NULL && by->runpath == NULL &&
        try_path_list(c, by->rpath, origin, name, by, out, n))
        return 1;
    if (by->runpath != NULL && try_path_list(c, by->runpath, origin, name, by, out, n))
        return 1;
    for (i = 0; i < c->ndirs; i++)
        if (try_path_list(c, c->dirs[i], origin, name, by, out, n))
            return 1;
    return 0;
}

/* Reads an ELF file inside the root (at most DBT_ELF_MAX_FILE bytes). */
static int read_elf(struct ctx *c, const char *path, unsigned char **data, size_t *len,
                    dbt_err *err)
{
    struct stat st;
    int r = dbt_root_read(c->rootfd, path, DBT_ELF_MAX_FILE, data, len, &st, err);

    if (r == 1)
        dbt_err_set(err, "%s: missing", path);
    return r == 0 ? 0 : -1;
}

static const char *needed_like(const dbt_elf_deps *d, const char *prefix)
{
    size_t i;

    for (i = 0; i < d->nneeded; i++)
        if (strncmp(d->needed[i], prefix, strlen(prefix)) == 0)
            return d->needed[i];
    return NULL;
}

/* The libcrypto the libpq at path loads (directly, or through its libssl): e->path, or
 * e->error. */
static void libpq_crypto(struct ctx *c, const char *path, dbt_doc_crypto *e)
{
    unsigned char *data = NULL;
    dbt_elf_deps deps, sdeps;
    char ssl[PATH_MAX];
    const char *name;
    size_t len;
    dbt_err err;

    memset(&sdeps, 0, sizeof(sdeps));
    if (read_elf(c, path, &data, &len, &err) != 0 ||
        dbt_elf_deps_parse(path, data, len, &deps, &err) != 0) {
        snprintf(e->error, sizeof(e->error), "%s", err.msg);
        free(data);
        return;
    }
    free(data);
    data = NULL;
    if ((name = needed_like(&deps, "libcrypto.so")) != NULL) {
        if (!locate(c, path, &deps, name, e->path, sizeof(e->path)))
            snprintf(e->error, sizeof(e->error),
                     "%s needs %s, which is not in any library "
                     "directory",
                     path, name);
    } else if ((name = needed_like(&deps, "libssl.so")) != NULL) {
        if (!locate(c, path, &deps, name, ssl, sizeof(ssl)))
            snprintf(e->error, sizeof(e->error),
                     "%s needs %s, which is not in any library "
                     "directory",
                     path, name);
        else if (read_elf(c, ssl, &data, &len, &err) != 0 ||
                 dbt_elf_deps_parse(ssl, data, len, &sdeps, &err) != 0)
            snprintf(e->error, sizeof(e->error), "%s", err.msg);
        else if ((name = needed_like(&sdeps, "libcrypto.so")) == NULL ||
                 !locate(c, ssl, &sdeps, name, e->path, sizeof(e->path)))
            snprintf(e->error, sizeof(e->error),
                     "%s (loaded by %s) needs no libcrypto that is "
                     "in a library directory",
                     ssl, path);
        free(data);
    } else {
        snprintf(e->error, sizeof(e->error),
                 "%s loads no OpenSSL (no libssl or libcrypto among "
                 "its DT_NEEDED): its TLS is not OpenSSL's",
                 path);
    }
    dbt_elf_deps_clear(&deps);
    dbt_elf_deps_clear(&sdeps);
}

static dbt_doc_crypto *new_entry(struct ctx *c, int kind, const char *by)
{
    dbt_doc_crypto *e, *v;

    if (c->d->n == DBT_DOC_MAX_CONSUMERS) {
        note(c, "more consumers than are reported; the rest were skipped");
        return NULL;
    }
    if ((v = realloc(c->d->c, (c->d->n + 1) * sizeof(*v))) == NULL)
        return NULL;
    c->d->c = v;
    e = &v[c->d->n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->found = -1;
    snprintf(e->by, sizeof(e->by), "%s", by);
    return e;
}

/* Every libpq.so.5* in dir (one entry per distinct file). */
static void scan_libpq_dir(struct ctx *c, const char *dir)
{
    char **names, path[PATH_MAX];
    size_t n, i, k;
    struct stat st;
    int fd;

    n = list_match(c, dir, "libpq.so.5*", &names);
    for (i = 0; i < n; i++) {
        dbt_doc_crypto *e;
        struct stat *v;

        snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, names[i]);
        if ((fd = dbt_root_open(c->rootfd, path, O_RDONLY | O_NONBLOCK, &st)) < 0)
            continue;
        k = fstat(fd, &st) == 0 ? 0 : (size_t)-1;
        close(fd);
        if (k != 0)
            continue;
        for (k = 0; k < c->nseen; k++)
            if (c->seen[k].st_dev == st.st_dev && c->seen[k].st_ino == st.st_ino)
                break;
        if (k < c->nseen)
            continue;
        if ((v = realloc(c->seen, (c->nseen + 1) * sizeof(*v))) == NULL)
            break;
        c->seen = v;
        c->seen[c->nseen++] = st;
        c->d->nlibpq++;
        if ((e = new_entry(c, DBT_DOC_LIBPQ, path)) == NULL)
            break;
        libpq_crypto(c, path, e);
    }
    dbt_root_list_free(names, n);
}

/* Every directory matching base/pattern (one level of glob). */
static void scan_glob_dirs(struct ctx *c, const char *base, const char *pattern, const char *under,
                           void (*fn)(struct ctx *, const char *))
{
    char **names, path[PATH_MAX];
    size_t n, i;

    n = list_match(c, base, pattern, &names);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s%s", base, names[i], under);
        fn(c, path);
    }
    dbt_root_list_free(names, n);
}

/* site-packages/X.libs/libcrypto*.so*: a wheel's own copy of OpenSSL (auditwheel's layout). */
static void scan_packages(struct ctx *c, const char *sp)
{
    char **libs, **files, dir[PATH_MAX], by[PATH_MAX];
    size_t nl, nf, i, k;

    nl = list_match(c, sp, "*.libs", &libs);
    for (i = 0; i < nl; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", sp, libs[i]);
        nf = list_match(c, dir, "libcrypto*.so*", &files);
        for (k = 0; k < nf; k++) {
            dbt_doc_crypto *e = new_entry(c, DBT_DOC_BUNDLED, dir);

            if (e == NULL)
                break;
            snprintf(e->package, sizeof(e->package), "%.*s", (int)(strlen(libs[i]) - 5), libs[i]);
            snprintf(by, sizeof(by), "%s/%s", dir, files[k]);
            snprintf(e->path, sizeof(e->path), "%s", by);
        }
        dbt_root_list_free(files, nf);
    }
    dbt_root_list_free(libs, nl);
}

static void scan_python(struct ctx *c, const char *pydir)
{
    char sp[PATH_MAX];

    snprintf(sp, sizeof(sp), "%s/dist-packages", pydir);
    scan_packages(c, sp);
    snprintf(sp, sizeof(sp), "%s/site-packages", pydir);
    scan_packages(c, sp);
}

/* ------------------------------------------------------------ reachability */

/* dbt_sys_resolve's listing: "  not found by OpenSSL's defaults: <sha256> <subject>" lines give
 * the missing certificates; any other line says why nothing was looked up. */
static void resolve_line(void *arg, const char *line)
{
    static const char tag[] = "not found by OpenSSL's defaults: ";
    dbt_doc_crypto *e = arg;
    const char *p = strstr(line, tag);
    size_t l = strlen(e->error);

    if (p != NULL) {
        if (e->nmissing < sizeof(e->missing) / sizeof(e->missing[0]))
            snprintf(e->missing[e->nmissing++], 65, "%.64s", p + sizeof(tag) - 1);
        return;
    }
    snprintf(e->error + l, sizeof(e->error) - l, "%s%s", l ? "; " : "", line);
}

static void resolve_msg(void *arg, const dbt_sys_msg *m)
{
    dbt_doc_crypto *e = arg;
    size_t l = strlen(e->error);

    if (m->level == DBT_SYS_ERROR || m->level == DBT_SYS_DETAIL)
        snprintf(e->error + l, sizeof(e->error) - l, "%s%s", l ? "; " : "", m->text);
}

/* The certificates of one file inside the root, appended to sk (a missing file adds none). */
static int load_certs(struct ctx *c, const char *path, size_t max, STACK_OF(X509) * sk,
                      dbt_doc_crypto *e)
{
    unsigned char *data = NULL;
    STACK_OF(X509_INFO) *infos = NULL;
    struct stat st;
    size_t len;
    dbt_err err;
    BIO *b;
    int r, i;

    if ((r = dbt_root_read(c->rootfd, path, max, &data, &len, &st, &err)) != 0) {
        if (r < 0)
            snprintf(e->error, sizeof(e->error), "%s", err.msg);
        return r < 0 ? -1 : 0;
    }
    /* The reader OpenSSL's file and hashed-directory lookups use. */
    if ((b = BIO_new_mem_buf(data, (int)len)) != NULL)
        infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
    for (i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *xi = sk_X509_INFO_value(infos, i);

        if (xi->x509 != NULL && sk_X509_push(sk, xi->x509) > 0)
            xi->x509 = NULL;
    }
    ERR_clear_error();
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(b);
    free(data);
    return 0;
}

static int in_stack(STACK_OF(X509) * sk, X509 *x)
{
    int i;

    for (i = 0; i < sk_X509_num(sk); i++)
        if (X509_cmp(sk_X509_value(sk, i), x) == 0)
            return 1;
    return 0;
}

/* Under another root: the lookup OpenSSL's defaults make, done here with every path opened
 * inside the root (its links are absolute paths of that root). */
static long root_reach(struct ctx *c, dbt_doc_crypto *e)
{
    STACK_OF(X509) *file = sk_X509_new_null(), *one = NULL;
    char path[PATH_MAX];
    long found = -1;
    size_t i;
    int n;

    if (file == NULL || load_certs(c, e->certfile, DBT_MAX_INPUT, file, e) != 0)
        goto end;
    found = 0;
    for (i = 0; i < c->ntv; i++) {
        int ok = in_stack(file, c->view[i]);

        for (n = 0; !ok && n < HASH_CHAIN_MAX; n++) {
            struct stat st;
            int fd;

            snprintf(path, sizeof(path), "%s/%08lx.%d", e->certdir, c->tv[i].hash, n);
            if ((fd = dbt_root_open(c->rootfd, path, O_PATH, NULL)) < 0)
                break; /* OpenSSL stops at the first missing number */
            if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
                snprintf(e->error, sizeof(e->error),
                         "%s is %s, which OpenSSL's lookup would open (a FIFO blocks it): "
                         "remove it",
                         path, dbt_fs_kind(st.st_mode));
                close(fd);
                found = -1;
                goto end;
            }
            close(fd);
            if ((one = sk_X509_new_null()) == NULL ||
                load_certs(c, path, DBT_SYS_CERT_MAX, one, e) != 0) {
                found = -1;
                goto end;
            }
            ok = in_stack(one, c->view[i]);
            sk_X509_pop_free(one, X509_free);
            one = NULL;
        }
        if (ok)
            found++;
        else if (e->nmissing < sizeof(e->missing) / sizeof(e->missing[0]))
            snprintf(e->missing[e->nmissing++], 65, "%s", c->tv[i].sha256);
    }
end:
    sk_X509_pop_free(one, X509_free);
    sk_X509_pop_free(file, X509_free);
    return found;
}

/* Version, OPENSSLDIR, default paths, and whether the trust view is found through them. */
static void check_crypto(struct ctx *c, dbt_doc_crypto *e, const struct stat *wired, int wired_ok,
                         int enabled)
{
    unsigned char *data = NULL;
    struct stat st;
    size_t len, total = 0;
    dbt_err err;
    int fd;

    if (read_elf(c, e->path, &data, &len, &err) != 0 ||
        dbt_crypto_scan(e->path, data, len, &e->s, &err) != 0) {
        snprintf(e->error, sizeof(e->error), "%s", err.msg);
        free(data);
        return;
    }
    free(data);
    snprintf(e->certdir, sizeof(e->certdir), "%s/certs", e->s.openssldir);
    snprintf(e->certfile, sizeof(e->certfile), "%s/cert.pem", e->s.openssldir);
    if ((fd = dbt_root_open(c->rootfd, e->certdir, O_PATH | O_DIRECTORY, NULL)) >= 0) {
        e->wired_dir = fstat(fd, &st) == 0 && wired_ok && st.st_dev == wired->st_dev &&
                       st.st_ino == wired->st_ino;
        close(fd);
    }
    if (c->in_root) {
        e->found = root_reach(c, e);
        e->total = c->ntv;
    } else {
        e->found = dbt_sys_resolve(c->cat, e->certdir, e->certfile, &total, resolve_line, e,
                                   resolve_msg, e);
        e->total = total;
    }
    if (e->found < 0 || (size_t)e->found == e->total)
        return;
    if (e->wired_dir)
        e->fix = enabled ? DBT_DOC_FIX_SYSTEM_REFRESH : DBT_DOC_FIX_SYSTEM_ENABLE;
    else if (c->in_root && strcmp(e->certdir, dbt_sys_cert_dir()) == 0)
        e->fix = DBT_DOC_FIX_IN_ROOT;
    else
        e->fix = DBT_DOC_FIX_ENV;
}

/* ------------------------------------------------------------ the JVM store */

static int cmp_sha(const void *a, const void *b)
{
    return memcmp(a, b, 65);
}

/* storepass= of /etc/default/cacerts (Debian's ca-certificates-java), else "changeit". */
static void jvm_password(struct ctx *c, char *pw, size_t n, int *dflt)
{
    unsigned char *data = NULL;
    char *line, *save = NULL;
    struct stat st;
    size_t len;
    dbt_err err;

    snprintf(pw, n, "changeit");
    *dflt = 1;
    if (dbt_root_read(c->rootfd, JVM_DEFAULTS, TEXT_MAX, &data, &len, &st, &err) != 0)
        return;
    for (line = strtok_r((char *)data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        line += strspn(line, " \t");
        if (strncmp(line, "storepass=", 10) == 0) {
            snprintf(pw, n, "%.*s", (int)strcspn(line + 10, " \t\r"), line + 10);
            *dflt = 0;
        }
    }
    free(data);
}

static void check_jvm(struct ctx *c)
{
    dbt_doc_jvm *j = &c->d->jvm;
    const char *env = secure_getenv("DBTRUST_SYSTEM_JVM_STORE");
    dbt_catalog_entry *ents = NULL;
    dbt_catalog_cert *certs = NULL;
    size_t nents = 0, ncerts = 0, nstore = 0, len, i, k;
    unsigned char *data = NULL, md[32];
    unsigned int mdlen;
    char(*store)[65] = NULL, pw[1024];
    dbt_bundle *b = NULL;
    struct stat st;
    dbt_err err;
    int r;

    snprintf(j->path, sizeof(j->path), "%s", env != NULL && env[0] != '\0' ? env : JVM_STORE);
    if ((r = dbt_root_read(c->rootfd, j->path, DBT_MAX_INPUT, &data, &len, &st, &err)) != 0) {
        if (r < 0)
            snprintf(j->error, sizeof(j->error), "%s", err.msg);
        return;
    }
    j->present = 1;
    jvm_password(c, pw, sizeof(pw), &j->password_default);
    if (dbt_bundle_decode(data, len, j->path, pw, &b, &err) != 0) {
        snprintf(j->error, sizeof(j->error), "%s", err.msg);
        goto end;
    }
    snprintf(j->type, sizeof(j->type), "%s", dbt_format_name(b->format));
    if (b->n > 0 && (store = calloc(b->n, sizeof(*store))) == NULL)
        goto oom;
    /* Only trusted certificate entries are anchors to Java (lib/bundle.h dbt_origin). */
    for (i = 0; i < b->n; i++)
        if (b->certs[i].origin == DBT_ORIGIN_PLAIN &&
            X509_digest(b->certs[i].x509, EVP_sha256(), md, &mdlen) == 1)
            dbt_hex(md, mdlen, store[nstore++]);
    j->entries = nstore;
    if (nstore > 0)
        qsort(store, nstore, sizeof(*store), cmp_sha);
    if (dbt_catalog_list(c->cat, &ents, &nents, &err) != 0 ||
        dbt_catalog_certs(c->cat, &certs, &ncerts, &err) != 0) {
        snprintf(j->error, sizeof(j->error), "%s", err.msg);
        goto end;
    }
    for (i = 0; i < ncerts; i++) {
        int unscoped = 0, held;

        /* A certificate that any unscoped bundle holds is served unscoped (lib/catalog_txn.c). */
        for (k = 0; k < certs[i].nbundles && !unscoped; k++) {
            size_t e;

            for (e = 0; e < nents; e++)
                if (strcmp(ents[e].name, certs[i].bundles[k]) == 0)
                    break;
            unscoped = e < nents && ents[e].meta.scope[0] == '\0';
        }
        held = nstore > 0 && bsearch(certs[i].sha256, store, nstore, 65, cmp_sha) != NULL;
        if (unscoped) {
            j->unscoped++;
            j->held += (size_t)held;
        } else {
            j->scoped++;
            j->scoped_present += (size_t)held;
        }
    }
    if (j->held < j->unscoped)
        j->fix = DBT_DOC_FIX_JVM;
    goto end;
oom:
    snprintf(j->error, sizeof(j->error), "out of memory reading %s", j->path);
end:
    dbt_catalog_certs_free(certs, ncerts);
    free(ents);
    free(store);
    dbt_bundle_free(b);
    OPENSSL_cleanse(pw, sizeof(pw));
    free(data);
}

/* ------------------------------------------------------------ the run */

static int load_view(struct ctx *c, dbt_err *err)
{
    size_t i;

    if (dbt_catalog_trust_view(c->cat, &c->tv, &c->ntv, err) != 0)
        return -1;
    if (c->ntv > 0 && (c->view = calloc(c->ntv, sizeof(*c->view))) == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    for (i = 0; i < c->ntv; i++)
        if (dbt_catalog_load_trust_cert(c->cat, &c->tv[i], &c->view[i], err) != 0)
            return -1;
    return 0;
}

int dbt_doctor_run(const char *root, dbt_catalog *cat, dbt_doctor *d, dbt_err *err)
{
    static const char *const std_dirs[] = {"/lib64", "/usr/lib64", "/lib", "/usr/lib"};
    struct ctx c;
    struct stat wired;
    dbt_sys_state state;
    int wired_ok, enabled = 0, rc = -1, fd;
    size_t i;

    memset(d, 0, sizeof(*d));
    memset(&c, 0, sizeof(c));
    c.d = d;
    c.cat = cat;
    c.in_root = root != NULL && strcmp(root, "/") != 0;
    if (c.in_root)
        snprintf(d->root, sizeof(d->root), "%s", root);
    if ((c.rootfd = open(c.in_root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        dbt_err_sys(err, "cannot open the root directory %s", c.in_root ? root : "/");
        return -1;
    }
    if ((c.dirs = calloc(DBT_DOC_MAX_DIRS, sizeof(*c.dirs))) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    if ((fd = dbt_root_open(c.rootfd, "/", O_PATH | O_DIRECTORY, NULL)) < 0) {
        dbt_err_sys(err, "cannot open the root directory %s", c.in_root ? root : "/");
        goto end;
    }
    close(fd);
    if (c.in_root && load_view(&c, err) != 0)
        goto end;
    wired_ok = stat(dbt_sys_cert_dir(), &wired) == 0;
    if (!c.in_root && dbt_sys_state_read(&state, NULL, NULL) == 1 && !state.bundle_file)
        enabled = 1;
    read_conf(&c, "/etc/ld.so.conf", 0);
    for (i = 0; i < sizeof(std_dirs) / sizeof(std_dirs[0]); i++)
        add_dir(&c, std_dirs[i], strlen(std_dirs[i]));
    for (i = 0; i < c.ndirs; i++)
        scan_libpq_dir(&c, c.dirs[i]);
    scan_glob_dirs(&c, "/usr/lib/postgresql", "*", "/lib", scan_libpq_dir);
    scan_glob_dirs(&c, "/usr", "pgsql-*", "/lib", scan_libpq_dir);
    scan_libpq_dir(&c, "/usr/local/pgsql/lib");
    scan_glob_dirs(&c, "/usr/lib", "python3*", "", scan_python);
    scan_glob_dirs(&c, "/usr/local/lib", "python3*", "", scan_python);
    for (i = 0; i < d->n; i++)
        if (d->c[i].error[0] == '\0' && d->c[i].path[0] != '\0')
            check_crypto(&c, &d->c[i], &wired, wired_ok, enabled);
    check_jvm(&c);
    rc = 0;
end:
    for (i = 0; i < c.ndirs; i++)
        free(c.dirs[i]);
    free(c.dirs);
    free(c.seen);
    for (i = 0; c.view != NULL && i < c.ntv; i++)
        X509_free(c.view[i]);
    free(c.view);
    free(c.tv);
    close(c.rootfd);
    return rc;
}

void dbt_doctor_clear(dbt_doctor *d)
{
    free(d->c);
    memset(d, 0, sizeof(*d));
}
