/* Wiring the catalog into OpenSSL's default trust (what sslrootcert=system uses): `env` for a
 * scoped SSL_CERT_DIR, `system enable|disable|status|refresh` for links in OpenSSL's default
 * certificate directory, `config` for the provider's openssl.cnf snippet. DESIGN.md facts 1-5:
 * the default verify paths are the only way in, and the bundle file is never grown by default. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catalog.h"
#include "catsafe.h"
#include "certinfo.h"
#include "commands.h"
#include "escape.h"
#include "fsutil.h"
#include "osslcnf.h"

#define LINK_PREFIX "dbtrust-"
#define DEFAULT_STATE "/var/lib/dbtrust/system-state"

static const char *env_or(const char *name, const char *dflt)
{
#ifdef HAVE_SECURE_GETENV
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif
    return v != NULL && *v != '\0' ? v : dflt;
}

/* OpenSSL's default certificate directory; DBTRUST_SYSTEM_CERT_DIR overrides it for tests and
 * for packaging into a staging root. */
static const char *sys_cert_dir(void)
{
    return env_or("DBTRUST_SYSTEM_CERT_DIR", X509_get_default_cert_dir());
}

static const char *sys_state_path(void)
{
    return env_or("DBTRUST_SYSTEM_STATE", DEFAULT_STATE);
}

/* Bounds of what the system commands read (dbtrust(1), FILES): the state file dbtrust writes is
 * under 9 KiB; one certificate file of the system directory is a few KiB; the bundle file is
 * read whole (--bundle-file, env --lazy) up to the limit of every other input. */
#define STATE_MAX (64u * 1024u)
#define SYS_CERT_MAX (1024u * 1024u)
#define BUNDLE_FILE_MAX DBT_MAX_INPUT

/*
 * Opens path for reading only when it is a regular file (through symlinks when follow).
 * Looked at with (l)stat first: a FIFO, socket or device is never opened (opening a FIFO blocks
 * until a writer comes, opening a device can act on it); then opened non-blocking, without a
 * controlling terminal, and checked again with fstat to be that same regular file. Returns the
 * descriptor; -1 with errno when it cannot be looked at or opened (ENOENT: missing); -2 when it
 * is not a regular file, with its type in st->st_mode.
 */
static int open_regular(const char *path, int follow, struct stat *st)
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

/* Reads fd (a regular file) whole, at most max bytes: 0, 1 when it is larger, -1 with errno.
 * *out is malloc'ed and NUL-terminated. A file that grows while read is cut at max + 1 bytes, so
 * the work is bounded whatever the file does. */
static int read_capped(int fd, size_t max, char **out, size_t *len)
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

/* ---------------------------------------------------------------- env */

/* The SSL_CERT_FILE of lazy mode: an empty, read-only file at the top of the catalog, outside
 * the generations, so its path never changes (see env_lazy). */
#define LAZY_EMPTY "empty.pem"

static int env_lazy(const char *shell);

/*
 * Writing a value for the shells env serves. sh: single quotes, in which only the quote itself
 * needs care ('\''). systemd (systemd.syntax(7), systemd.exec(5) Environment=): the assignment
 * is one word that systemd unquotes and C-unescapes and then expands '%' specifiers in; a word
 * holding a blank, quote, backslash or '%' would be split or rewritten (a tab split it and
 * dropped the catalog with it), so such a value is double-quoted with '\' and '"' escaped and
 * '%' doubled. Values never hold control characters or bytes that are not UTF-8:
 * env_entry_ok drops such entries before (systemd refuses values that are not UTF-8, and no
 * single line could carry a newline to every shell without a raw control character).
 */
static int env_systemd_plain(const char *v)
{
    for (; *v != '\0'; v++)
        if (!((unsigned char)*v >= 0x80 || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
              (*v >= '0' && *v <= '9') || strchr("/._:,+=@~-", *v) != NULL))
            return 0;
    return 1;
}

static void env_line(const char *shell, const char *name, const char *value)
{
    const char *v;

    if (strcmp(shell, "systemd") == 0) {
        if (env_systemd_plain(value)) {
            printf("Environment=%s=%s\n", name, value);
            return;
        }
        printf("Environment=\"%s=", name);
        for (v = value; *v != '\0'; v++) {
            if (*v == '\\' || *v == '"')
                putchar('\\');
            if (*v == '%')
                putchar('%');
            putchar(*v);
        }
        fputs("\"\n", stdout);
        return;
    }
    printf("export %s='", name);
    for (v = value; *v != '\0'; v++) {
        if (*v == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*v);
    }
    fputs("'\n", stdout);
}

/* Whether an inherited directory entry can be passed on; warns and says no otherwise. what
 * names the list it came from. */
static int env_entry_ok(const char *tok, const char *what)
{
    if (tok[0] != '/') {
        cli_warn("dropping '%s' from %s: not an absolute path (OpenSSL would look for it "
                 "relative to the working directory)",
                 tok, what);
        return 0;
    }
    if (dbt_escape_needed(tok, strlen(tok))) {
        cli_warn("dropping '%s' from %s: it holds a control character (a tab or newline, say) "
                 "or bytes that are not UTF-8, which cannot be written safely for a shell or for "
                 "systemd; rename the directory to keep it",
                 tok, what);
        return 0;
    }
    return 1;
}

/* The catalog's own entry must never be lost: a catalog path that cannot be passed on is an
 * error, not a dropped entry. */
static int env_catalog_ok(const char *catalog)
{
    if (strchr(catalog, ':') != NULL) {
        cli_error("the catalog path %s contains ':', which OpenSSL reads as a separator in "
                  "SSL_CERT_DIR (the rest would be taken as another, possibly relative, "
                  "directory); use a catalog path without ':' (--catalog DIR)",
                  catalog);
        return -1;
    }
    if (dbt_escape_needed(catalog, strlen(catalog))) {
        cli_error("the catalog path %s holds a control character or bytes that are not UTF-8, "
                  "which cannot be written safely for a shell or for systemd; use another "
                  "catalog path (--catalog DIR)",
                  catalog);
        return -1;
    }
    return 0;
}

static void env_usage(FILE *out)
{
    fprintf(
        out,
        "usage: dbtrust [--catalog DIR] env [--lazy] [--shell sh|systemd]\n\n"
        "Prints the SSL_CERT_DIR value that adds the catalog's hashed directory after the\n"
        "current ($SSL_CERT_DIR) or default directories, for one shell or service:\n"
        "  eval \"$(dbtrust env)\"; psql \"host=... sslmode=verify-full sslrootcert=system\"\n"
        "Only absolute directories are kept; relative or empty entries are dropped with a\n"
        "warning (OpenSSL would resolve them against the working directory), and so are\n"
        "entries with a control character (tab, newline) or bytes that are not UTF-8, which\n"
        "no shell line can carry safely. A catalog path with such a character or ':' is\n"
        "refused (exit 1): the catalog's own entry is never dropped.\n\n"
        "  -l, --lazy               lazy trust: SSL_CERT_FILE=<catalog>/" LAZY_EMPTY
        " (empty) and\n"
        "                           SSL_CERT_DIR=<system directory>:<catalog>/certs, so that\n"
        "                           no connection parses the whole bundle file. Printed only\n"
        "                           when every certificate of the bundle file is found through\n"
        "                           the system's hashed directory (same trust); otherwise the\n"
        "                           missing ones are listed and nothing is printed (also\n"
        "                           when the directory holds a FIFO, device or directory\n"
        "                           named like a hash link, which OpenSSL's lookup would open)\n"
        "  -s, --shell sh|systemd   output export lines (default, single-quoted) or\n"
        "                           Environment= lines (double-quoted with \\ \" escaped and\n"
        "                           %% doubled when the value needs it)\n"
        "  -h, --help               show this help\n");
}

int cli_cmd_env(int argc, char **argv)
{
    static const struct option opts[] = {
        {"lazy", no_argument, NULL, 'l'},
        {"shell", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *shell = "sh", *cur;
    char *copy = NULL, *tok, *save = NULL, *out = NULL;
    char certs[PATH_MAX + 8];
    dbt_catalog *cat = NULL;
    size_t used = 0, cap;
    int c, lazy = 0, rc = CLI_FAIL;

    while ((c = cli_getopt_long(argc, argv, "ls:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            lazy = 1;
            break;
        case 's':
            shell = optarg;
            break;
        case 'h':
            env_usage(stdout);
            return CLI_OK;
        default:
            env_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc || (strcmp(shell, "sh") != 0 && strcmp(shell, "systemd") != 0)) {
        cli_error("env takes --lazy, --shell sh or --shell systemd and no arguments");
        return CLI_USAGE;
    }
    if (lazy)
        return env_lazy(shell);
    /* The catalog must exist and be safe before anyone is told to trust it. */
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if (env_catalog_ok(dbt_catalog_path(cat)) != 0)
        goto end;
    snprintf(certs, sizeof(certs), "%s/certs", dbt_catalog_path(cat));
    /* Set but empty, SSL_CERT_DIR makes OpenSSL read no directory at all (not its default
     * one): the catalog is then the only directory, and nothing the operator turned off is
     * turned back on. */
    cur = getenv("SSL_CERT_DIR");
    if (cur == NULL)
        cur = X509_get_default_cert_dir();
    cap = strlen(cur) + strlen(certs) + 2;
    if ((copy = strdup(cur)) == NULL || (out = malloc(cap)) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    out[0] = '\0';
    for (save = copy; (tok = strsep(&save, ":")) != NULL;) {
        if (tok[0] == '\0') {
            if (*cur != '\0')
                cli_warn("dropping an empty entry from SSL_CERT_DIR (OpenSSL skips it)");
            continue;
        }
        if (!env_entry_ok(tok, "SSL_CERT_DIR"))
            continue;
        if (strcmp(tok, certs) == 0)
            continue; /* already there: it goes last */
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ":" : "", tok);
    }
    snprintf(out + used, cap - used, "%s%s", used ? ":" : "", certs);
    env_line(shell, "SSL_CERT_DIR", out);
    rc = CLI_OK;
end:
    free(copy);
    free(out);
    dbt_catalog_close(cat);
    return rc;
}

/* ---------------------------------------------------------------- config */

static void config_usage(FILE *out)
{
    fprintf(out, "usage: dbtrust [--catalog DIR] config [--module PATH]\n\n"
                 "Prints an openssl.cnf that loads the dbtrust provider (catalog = the catalog\n"
                 "directory) and keeps the default provider active, so that any OpenSSL 3\n"
                 "program can use -CAstore dbtrust:// . Merge it into /etc/ssl/openssl.cnf or\n"
                 "point OPENSSL_CONF at it. Paths are written so that OpenSSL reads them back\n"
                 "exactly (single-quoted, with \\ and ' escaped, when they hold a blank, quote,\n"
                 "'#', '$' or '\\'); a path with a control character or bytes that are not\n"
                 "UTF-8 is refused (exit 1).\n\n"
                 "  -m, --module PATH   dbtrust.so path (default: OpenSSL's modules directory)\n"
                 "  -h, --help          show this help\n");
}

int cli_cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"module", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *module = NULL, *catalog = cli_catalog_opt;
    char buf[PATH_MAX], abs[PATH_MAX];
    dbt_err err;
    int c;

    while ((c = cli_getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            module = optarg;
            break;
        case 'h':
            config_usage(stdout);
            return CLI_OK;
        default:
            config_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("config takes no arguments");
        return CLI_USAGE;
    }
    if (catalog == NULL && (catalog = dbt_catalog_default_path(buf, sizeof(buf))) == NULL) {
        cli_error("cannot find a catalog location: set --catalog DIR");
        return CLI_FAIL;
    }
    /* The provider is loaded by processes with any working directory: absolute paths only. */
    if (catalog[0] != '/') {
        if (realpath(catalog, abs) == NULL) {
            cli_error("catalog %s: %s; give an absolute path", catalog, strerror(errno));
            return CLI_FAIL;
        }
        catalog = abs;
    }
    switch (dbt_cnf_write(stdout, catalog, module, &err)) {
    case 0:
        break;
    case -1:
        cli_error("%s", err.msg);
        return CLI_FAIL;
    default:
        cli_stdout_error(errno);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---------------------------------------------------------------- system wiring */

/* One catalog certificate as the system directory should show it. */
struct want {
    char sha256[65];
    unsigned long hash;
};

static int is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* "dbtrust-<64 hex>.pem" -> the sha256, else NULL. */
static const char *our_link_sha(const char *name)
{
    size_t pl = strlen(LINK_PREFIX);

    if (strncmp(name, LINK_PREFIX, pl) == 0 && strlen(name) == pl + 64 + 4 &&
        is_hex(name + pl, 64) && strcmp(name + pl + 64, ".pem") == 0)
        return name + pl;
    return NULL;
}

/* "<8 hex>.<n>" -> 1 with *hash and *n. */
static int hash_link_name(const char *name, unsigned long *hash, int *n)
{
    char *end;
    long v;

    if (strlen(name) < 10 || !is_hex(name, 8) || name[8] != '.')
        return 0;
    errno = 0;
    v = strtol(name + 9, &end, 10);
    if (*end != '\0' || errno != 0 || v < 0 || v > 100000 || name[9] == '\0')
        return 0;
    *hash = strtoul(name, NULL, 16) & 0xffffffffUL;
    *n = (int)v;
    return 1;
}

/* The names OpenSSL's hashed-directory lookup (X509_LOOKUP_hash_dir) opens: "<8 hex>.<n>" for
 * certificates and "<8 hex>.r<n>" for CRLs. */
static int lookup_name(const char *name)
{
    size_t i = 9;

    if (strlen(name) < 10 || !is_hex(name, 8) || name[8] != '.')
        return 0;
    if (name[i] == 'r')
        i++;
    if (name[i] == '\0')
        return 0;
    for (; name[i] != '\0'; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

/*
 * Counts the entries of the ':'-separated directory list dirs that OpenSSL's hashed lookup would
 * open but that are not regular files, through symlinks (stat only: nothing is opened). OpenSSL
 * opens them with fopen: a FIFO blocks the lookup (and this process) forever, a device is read
 * as if it were a certificate file. Each one is listed on report when it is not NULL. Relative
 * entries and directories that cannot be read are skipped (OpenSSL reads nothing from them
 * either); the work is one stat per entry of each directory.
 */
static long lookup_hazards(const char *dirs, FILE *report)
{
    char *copy = strdup(dirs), *tok, *save = NULL;
    struct dirent *de;
    struct stat st;
    long n = 0;
    DIR *d;
    int fd;

    if (copy == NULL)
        return 0;
    for (tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
        if (tok[0] != '/')
            continue;
        fd = open(tok, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if ((d = fdopendir(fd)) == NULL) {
            close(fd);
            continue;
        }
        while ((de = readdir(d)) != NULL) {
            if (!lookup_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
                S_ISREG(st.st_mode))
                continue;
            n++;
            if (report != NULL)
                fprintf(report, "  %s/%s is %s\n", cli_esc(tok), cli_esc(de->d_name),
                        dbt_fs_kind(st.st_mode));
        }
        closedir(d);
    }
    free(copy);
    return n;
}

static int wanted(const struct want *w, size_t nw, const char *sha)
{
    size_t i;

    for (i = 0; i < nw; i++)
        if (strncmp(w[i].sha256, sha, 64) == 0)
            return 1;
    return 0;
}

static int link_points_to_us(const char *dir, const char *name, char *target, size_t tn)
{
    char path[PATH_MAX];
    ssize_t len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    len = readlink(path, target, tn - 1);
    if (len < 0)
        return 0;
    target[len] = '\0';
    return our_link_sha(target) != NULL;
}

/* Warns once per run about an entry of the system directory that is not a certificate file
 * where OpenSSL's hashed lookup opens one: OpenSSL would block on a FIFO or fail on the rest,
 * and dbtrust neither opens nor replaces it (it is not dbtrust's). */
static void warn_special(const char *path, mode_t mode)
{
    cli_warn("%s is %s, not a certificate file: dbtrust leaves it alone (it is not dbtrust's), "
             "but OpenSSL's lookup of that subject may block or fail on it; remove it",
             path, dbt_fs_kind(mode));
}

/* SHA-256 of the certificate a hash link resolves to ("" when unreadable or not a regular file:
 * only a regular file of at most SYS_CERT_MAX bytes is opened, see open_regular). */
static void cert_sha_of(const char *dir, const char *name, char out[65])
{
    char path[PATH_MAX], *data = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    struct stat st;
    size_t len;
    BIO *mem = NULL;
    X509 *x = NULL;
    int fd;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open_regular(path, 1, &st)) < 0) {
        if (fd == -2)
            warn_special(path, st.st_mode);
        return;
    }
    if (read_capped(fd, SYS_CERT_MAX, &data, &len) == 0 &&
        (mem = BIO_new_mem_buf(data, (int)len)) != NULL)
        x = PEM_read_bio_X509_AUX(mem, NULL, NULL, NULL);
    close(fd);
    if (x != NULL && X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
        dbt_hex(md, mdlen, out);
    ERR_clear_error();
    X509_free(x);
    BIO_free(mem);
    free(data);
}

/*
 * Every change made to the system directory is journaled, so that a failure half-way is undone
 * step by step in reverse and the directory is left as it was (enable and disable never leave
 * the system half-changed). Names are relative to the directory.
 */
enum jkind { J_CREATE, J_UNLINK, J_RENAME };

struct jop {
    enum jkind kind;
    char *name;  /* CREATE/UNLINK: the link; RENAME: the old name */
    char *other; /* CREATE: the target it replaced (NULL: none); UNLINK: its target; RENAME: new */
};

struct journal {
    const char *dir;
    struct jop *ops;
    size_t n, cap;
    /* --bundle-file: the file's path, mode and content before this run rewrote it */
    char *file_orig;
    size_t file_len;
    mode_t file_mode;
    char file[PATH_MAX];
};

static int j_push(struct journal *j, enum jkind kind, const char *name, const char *other)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        struct jop *ops = realloc(j->ops, cap * sizeof(*ops));

        if (ops == NULL)
            goto oom;
        j->ops = ops;
        j->cap = cap;
    }
    j->ops[j->n].kind = kind;
    j->ops[j->n].name = strdup(name);
    j->ops[j->n].other = other != NULL ? strdup(other) : NULL;
    if (j->ops[j->n].name == NULL || (other != NULL && j->ops[j->n].other == NULL)) {
        free(j->ops[j->n].name);
        free(j->ops[j->n].other);
        goto oom;
    }
    j->n++;
    return 0;
oom:
    cli_error("out of memory");
    return -1;
}

static void j_free(struct journal *j)
{
    size_t i;

    for (i = 0; i < j->n; i++) {
        free(j->ops[i].name);
        free(j->ops[i].other);
    }
    free(j->ops);
    free(j->file_orig);
    j->ops = NULL;
    j->file_orig = NULL;
    j->n = j->cap = 0;
}

/* Points dir/name at target atomically (a temporary link renamed over it). */
static int put_link(const char *dir, const char *name, const char *target)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%ld", dir, name, (long)getpid());
    /* A link left by an earlier run of this pid is dbtrust's; anything else there is not. */
    if (lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode))
        unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
        int e = errno;

        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

/* Reverts the journal, newest step first; reports steps that cannot be reverted. */
static int j_undo(struct journal *j)
{
    char path[PATH_MAX], to[PATH_MAX];
    struct stat st;
    int rc = 0;
    size_t i;

    if (j->file_orig != NULL) {
        dbt_err err;

        if (dbt_fs_write_atomic(j->file, j->file_orig, j->file_len, j->file_mode, &err) != 0) {
            cli_error("could not restore %s: %s", j->file, err.msg);
            rc = -1;
        }
    }
    for (i = j->n; i-- > 0;) {
        const struct jop *op = &j->ops[i];
        int r;

        snprintf(path, sizeof(path), "%s/%s", j->dir, op->name);
        switch (op->kind) {
        case J_CREATE:
            r = op->other != NULL ? put_link(j->dir, op->name, op->other) : unlink(path);
            break;
        case J_UNLINK:
            r = symlink(op->other, path);
            break;
        default:
            /* Never renamed over whatever took the old name meanwhile (not dbtrust's). */
            snprintf(to, sizeof(to), "%s/%s", j->dir, op->other);
            if (lstat(path, &st) == 0) {
                errno = EEXIST;
                r = -1;
            } else {
                r = rename(to, path);
            }
            break;
        }
        if (r != 0) {
            cli_error("could not undo the change to %s: %s; run 'dbtrust system refresh' or "
                      "'dbtrust system disable' to repair the directory",
                      path, strerror(errno));
            rc = -1;
        }
    }
    j_free(j);
    return rc;
}

/* Renumbers <hash>.<n> links so that numbers run 0..k-1 again: OpenSSL's lookup stops at the
 * first missing number, so a gap would hide the system's own CAs behind it. */
static int compact_hash(struct journal *j, unsigned long hash)
{
    char from[PATH_MAX], to[PATH_MAX], fname[32], tname[32];
    int n, next = 0, missing = 0;
    struct stat st;

    for (n = 0; n < 1000 && missing < 32; n++) {
        snprintf(fname, sizeof(fname), "%08lx.%d", hash, n);
        snprintf(from, sizeof(from), "%s/%s", j->dir, fname);
        if (lstat(from, &st) != 0) {
            missing++;
            continue;
        }
        /* Only links and files (what openssl rehash and dbtrust make) are renumbered: anything
         * else is not a certificate and not dbtrust's, and stays where it is. */
        if (!S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode)) {
            warn_special(from, st.st_mode);
            next = n + 1;
            continue;
        }
        if (n != next) {
            snprintf(tname, sizeof(tname), "%08lx.%d", hash, next);
            snprintf(to, sizeof(to), "%s/%s", j->dir, tname);
            if (rename(from, to) != 0) {
                cli_error("cannot rename %s to %s: %s", from, to, strerror(errno));
                return -1;
            }
            if (j_push(j, J_RENAME, fname, tname) != 0)
                return -1;
        }
        next++;
    }
    return 0;
}

/* Creates (or retargets) dir/name -> target, journaled. Only symlinks are ever replaced: a
 * file or directory of that name belongs to someone else. */
static int make_link(struct journal *j, const char *target, const char *name)
{
    char path[PATH_MAX], old[PATH_MAX];
    struct stat st;
    ssize_t len = -1;

    snprintf(path, sizeof(path), "%s/%s", j->dir, name);
    if (lstat(path, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            cli_error("%s exists and is not a symbolic link; dbtrust will not replace it "
                      "(move it away, then rerun)",
                      path);
            return -1;
        }
        if ((len = readlink(path, old, sizeof(old) - 1)) < 0) {
            cli_error("cannot read link %s: %s", path, strerror(errno));
            return -1;
        }
        old[len] = '\0';
    }
    if (put_link(j->dir, name, target) != 0) {
        cli_error("cannot create link %s -> %s: %s", path, target, strerror(errno));
        return -1;
    }
    return j_push(j, J_CREATE, name, len >= 0 ? old : NULL);
}

/*
 * Makes j->dir show exactly the certificates in w (nw of them; 0 removes everything dbtrust
 * added): a dbtrust-<sha256>.pem link to the catalog's file and a <hash>.<n> link to it, unless
 * the same certificate is already there under that hash (the system store holds it too, or
 * `openssl rehash` from update-ca-certificates made the hash link itself). New links go in
 * first and stale ones leave last, so no lookup misses a CA that stays. Every step is in the
 * journal; on failure the caller decides whether to undo.
 */
static int sys_sync(struct journal *j, const char *catalog, const struct want *w, size_t nw,
                    size_t *nadded, size_t *nremoved)
{
    const char *dir = j->dir;
    DIR *d = NULL;
    struct dirent *de;
    char target[PATH_MAX], name[PATH_MAX], sha[65];
    unsigned long *touched = NULL, hash;
    size_t ntouched = 0, captouched = 0, i;
    int n, rc = -1;

    *nadded = *nremoved = 0;
    /* 1. add what is missing */
    for (i = 0; i < nw; i++) {
        char file[PATH_MAX], cur[PATH_MAX], hl[32];
        struct stat st;
        int have = 0, free_n = -1, miss = 0;
        ssize_t len;

        snprintf(name, sizeof(name), LINK_PREFIX "%s.pem", w[i].sha256);
        snprintf(file, sizeof(file), "%s/%s", dir, name);
        snprintf(target, sizeof(target), "%s/certs/%s.pem", catalog, w[i].sha256);
        len = readlink(file, cur, sizeof(cur) - 1);
        if (len < 0 || (size_t)len != strlen(target) || memcmp(cur, target, (size_t)len) != 0) {
            if (make_link(j, target, name) != 0)
                goto end;
            (*nadded)++;
        }
        /* Scan this subject's hash chain: ours already, the same certificate, or a free slot. */
        for (n = 0; n < 1000 && miss < 8; n++) {
            char lt[PATH_MAX];

            snprintf(hl, sizeof(hl), "%08lx.%d", w[i].hash, n);
            snprintf(file, sizeof(file), "%s/%s", dir, hl);
            if (lstat(file, &st) != 0) {
                if (free_n < 0)
                    free_n = n;
                miss++;
                continue;
            }
            miss = 0;
            if (link_points_to_us(dir, hl, lt, sizeof(lt))) {
                if (strncmp(our_link_sha(lt), w[i].sha256, 64) == 0) {
                    have = 1;
                    break;
                }
                continue;
            }
            cert_sha_of(dir, hl, sha);
            if (strcmp(sha, w[i].sha256) == 0) {
                have = 1; /* the system store already trusts this very certificate */
                break;
            }
        }
        if (!have) {
            snprintf(hl, sizeof(hl), "%08lx.%d", w[i].hash, free_n < 0 ? n : free_n);
            if (make_link(j, name, hl) != 0)
                goto end;
        }
    }
    /* 2. remove what is stale: hash links first, then the files they pointed to */
    if ((d = opendir(dir)) == NULL) {
        cli_error("cannot read %s: %s", dir, strerror(errno));
        goto end;
    }
    while ((de = readdir(d)) != NULL) {
        const char *s;
        int is_hash = hash_link_name(de->d_name, &hash, &n);

        if (is_hash) {
            if (!link_points_to_us(dir, de->d_name, target, sizeof(target)) ||
                wanted(w, nw, our_link_sha(target)))
                continue;
        } else if ((s = our_link_sha(de->d_name)) == NULL || wanted(w, nw, s)) {
            continue;
        } else {
            snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
            ssize_t len = readlink(name, target, sizeof(target) - 1);

            if (len < 0)
                continue; /* not a link: not ours */
            target[len] = '\0';
        }
        snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
        if (unlink(name) != 0) {
            cli_error("cannot remove %s: %s", name, strerror(errno));
            goto end;
        }
        if (j_push(j, J_UNLINK, de->d_name, target) != 0)
            goto end;
        if (!is_hash) {
            (*nremoved)++;
            continue;
        }
        if (ntouched == captouched) {
            size_t cap = captouched ? 2 * captouched : 64;
            unsigned long *t = realloc(touched, cap * sizeof(*t));

            if (t == NULL) {
                cli_error("out of memory");
                goto end;
            }
            touched = t;
            captouched = cap;
        }
        touched[ntouched++] = hash;
    }
    for (i = 0; i < ntouched; i++)
        if (compact_hash(j, touched[i]) != 0)
            goto end;
    rc = 0;
end:
    if (d != NULL)
        closedir(d);
    free(touched);
    return rc;
}

/*
 * A writer killed between creating a temporary link and renaming it into place (put_link) leaves
 * ".<name>.tmp-<pid>" in the cert directory: ".dbtrust-<sha256>.pem.tmp-N" for a certificate
 * link, or ".<hash>.<n>.tmp-N" pointing at a dbtrust-*.pem link. Only dbtrust makes these, only
 * under the system lock, so whoever holds the lock removes them (no name OpenSSL looks up).
 */
static void sweep_tmp_links(const char *dir)
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
        if (strncmp(e->d_name, ".dbtrust-", 9) != 0) {
            n = readlink(path, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strncmp(target, "dbtrust-", 8) != 0)
                continue;
        }
        unlink(path);
    }
    closedir(d);
}

/* One writer of the system directory at a time (enable, disable, refresh, and the refresh that
 * follows an import or a removal): an flock on "<state file>.lock". Returns the fd or -1. */
static int sys_lock(void)
{
    char path[PATH_MAX], parent[PATH_MAX], *slash;
    dbt_err err;
    int fd;

    snprintf(path, sizeof(path), "%s.lock", sys_state_path());
    snprintf(parent, sizeof(parent), "%s", path);
    if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
        *slash = '\0';
        if (dbt_fs_mkdir_p(parent, &err) != 0) {
            cli_error("%s", err.msg);
            return -1;
        }
    }
    if ((fd = dbt_safe_open_lock(AT_FDCWD, path, 0600, path, &err)) < 0) {
        cli_error("%s%s", err.msg, geteuid() != 0 ? " (system wiring needs root)" : "");
        return -1;
    }
    if (flock(fd, LOCK_EX) != 0) {
        cli_error("cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    sweep_tmp_links(sys_cert_dir());
    return fd;
}

static void sys_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Refuses the state file with what is wrong and what to do; always -1. */
static int state_bad(const char *path, const char *what)
{
    cli_error("the system wiring state file %s %s; dbtrust writes it itself as a regular file "
              "of a few lines: move it away (mv %s %s.bad), check %s for dbtrust-*.pem links, "
              "then run 'dbtrust system enable' (or disable) again",
              path, what, path, path, sys_cert_dir());
    return -1;
}

/*
 * The state file records which catalog is wired where: certdir=<dir> (links, the default) or
 * bundlefile=<file> (--bundle-file). *bundle says which. 1 when wiring is enabled, 0 when not
 * (no file), -1 with the message given when the file cannot be trusted or read: it must be a
 * regular file (never followed through a symlink, never opened when it is a FIFO or device),
 * owned by root or the effective user, writable by nobody else, of at most STATE_MAX bytes,
 * with absolute paths that fit PATH_MAX and hold no control character.
 */
static int state_read(char *catalog, size_t cn, char *target, size_t tn, int *bundle)
{
    const char *path = sys_state_path();
    char *data = NULL, *line, *next, msg[96];
    struct stat st;
    size_t len = 0;
    dbt_err err;
    int fd, r, rc = -1;

    catalog[0] = target[0] = '\0';
    *bundle = 0;
    if ((fd = open_regular(path, 0, &st)) < 0) {
        if (fd == -1 && errno == ENOENT)
            return 0;
        if (fd == -1) {
            cli_error("cannot read the system wiring state file %s: %s", path, strerror(errno));
            return -1;
        }
        snprintf(msg, sizeof(msg), "is %s, not a regular file", dbt_fs_kind(st.st_mode));
        return state_bad(path, msg);
    }
    if (dbt_safe_entry(&st, path, &err) != 0) {
        close(fd);
        cli_error("refusing the system wiring state file: %s", err.msg);
        return -1;
    }
    r = read_capped(fd, STATE_MAX, &data, &len);
    close(fd);
    if (r < 0) {
        cli_error("cannot read the system wiring state file %s: %s", path, strerror(errno));
        return -1;
    }
    if (r > 0) {
        snprintf(msg, sizeof(msg), "is larger than %u bytes", STATE_MAX);
        return state_bad(path, msg);
    }
    if (memchr(data, '\0', len) != NULL) {
        state_bad(path, "holds a NUL byte");
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
            v = line + 8, dst = catalog, dn = cn;
        else if (strncmp(line, "certdir=", 8) == 0)
            v = line + 8, dst = target, dn = tn;
        else if (strncmp(line, "bundlefile=", 11) == 0)
            v = line + 11, dst = target, dn = tn, is_bundle = 1;
        else
            continue; /* comments, and lines a later version may add */
        /* A cut or rewritten path would wire (or unwire) somewhere else. */
        if (v[0] != '/' || strlen(v) >= dn || dbt_escape_needed(v, strlen(v))) {
            snprintf(msg, sizeof(msg),
                     "has a line '%.*s...' whose path is not absolute, too long "
                     "or holds control characters",
                     (int)(v - line), line);
            state_bad(path, msg);
            goto end;
        }
        memcpy(dst, v, strlen(v) + 1);
        if (dst == target)
            *bundle = is_bundle;
    }
    rc = catalog[0] != '\0' && target[0] != '\0' ? 1 : 0;
end:
    free(data);
    return rc;
}

static int state_write(const char *catalog, const char *target, int bundle)
{
    char buf[2 * PATH_MAX + 128], parent[PATH_MAX], *slash;
    dbt_err err;
    int len;

    snprintf(parent, sizeof(parent), "%s", sys_state_path());
    if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
        *slash = '\0';
        if (dbt_fs_mkdir_p(parent, &err) != 0) {
            cli_error("%s", err.msg);
            return -1;
        }
    }
    len = snprintf(buf, sizeof(buf),
                   "# written by dbtrust system enable; removed by dbtrust system disable\n"
                   "catalog=%s\n%s=%s\n",
                   catalog, bundle ? "bundlefile" : "certdir", target);
    if (dbt_fs_write_atomic(sys_state_path(), buf, (size_t)len, DBT_FILE_MODE, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- --bundle-file */

/* The block dbtrust appends to a bundle file; BUNDLE_NL marks a newline it had to add first. */
#define BUNDLE_BEGIN "# BEGIN dbtrust catalog "
#define BUNDLE_NL " (newline added before)"
#define BUNDLE_END "# END dbtrust catalog\n"

static const char *sys_cert_file(void)
{
    return env_or("DBTRUST_SYSTEM_CERT_FILE", X509_get_default_cert_file());
}

/* Reads the bundle file whole: only a regular file (never a FIFO or device, see open_regular)
 * of at most BUNDLE_FILE_MAX bytes. */
static int read_all(const char *path, char **out, size_t *len, mode_t *mode)
{
    struct stat st;
    int fd, r;

    *out = NULL;
    if ((fd = open_regular(path, 1, &st)) < 0) {
        if (fd == -2)
            cli_error("the bundle file %s is %s, not a regular file; dbtrust neither reads nor "
                      "replaces it: point the system (or DBTRUST_SYSTEM_CERT_FILE) at a regular "
                      "file",
                      path, dbt_fs_kind(st.st_mode));
        else
            cli_error("cannot read the bundle file %s: %s", path, strerror(errno));
        return -1;
    }
    r = read_capped(fd, BUNDLE_FILE_MAX, out, len);
    close(fd);
    if (r != 0) {
        if (r > 0)
            cli_error("the bundle file %s is larger than %u bytes; dbtrust does not rewrite it",
                      path, BUNDLE_FILE_MAX);
        else
            cli_error("cannot read the bundle file %s: %s", path, strerror(errno));
        return -1;
    }
    *mode = st.st_mode & 07777;
    return 0;
}

/*
 * Makes the bundle file end with exactly one dbtrust block holding the catalog's certificates
 * (cat NULL: no block), rewriting it atomically only when that changes it; the old content goes
 * to the journal for undo. Everything outside the block is kept byte for byte.
 */
static int bundle_sync(struct journal *j, const char *file, const char *catalog, dbt_catalog *cat,
                       const struct want *w, size_t nw, size_t *nadded, size_t *nremoved)
{
    char *old = NULL, *begin, *endm, *nl;
    BIO *mem = BIO_new(BIO_s_mem());
    BUF_MEM *bm = NULL;
    size_t len, keep_head, i;
    mode_t mode;
    dbt_err err;
    int rc = -1;

    *nadded = *nremoved = 0;
    if (mem == NULL || realpath(file, j->file) == NULL) {
        cli_error("cannot resolve the bundle file %s: %s", file, strerror(errno));
        goto end;
    }
    if (read_all(j->file, &old, &len, &mode) != 0)
        goto end;
    /* Where the old block starts (at a line start) and ends. */
    keep_head = len;
    for (begin = old; (begin = strstr(begin, BUNDLE_BEGIN)) != NULL; begin++)
        if (begin == old || begin[-1] == '\n')
            break;
    if (begin != NULL) {
        if ((endm = strstr(begin, BUNDLE_END)) == NULL) {
            cli_error("%s has dbtrust's start line but not its end line '%s'; remove the partial "
                      "block by hand, then rerun",
                      j->file, "# END dbtrust catalog");
            goto end;
        }
        if ((size_t)(endm + strlen(BUNDLE_END) - old) != len) {
            cli_error("%s has text after dbtrust's block (something appended to it since); "
                      "remove the block between the '# BEGIN dbtrust' and '# END dbtrust' lines "
                      "by hand, then rerun",
                      j->file);
            goto end;
        }
        for (char *p = begin; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
            (*nremoved)++;
        keep_head = (size_t)(begin - old);
        nl = memchr(begin, '\n', (size_t)(endm - begin));
        if (nl != NULL && (size_t)(nl - begin) >= strlen(BUNDLE_NL) &&
            memcmp(nl - strlen(BUNDLE_NL), BUNDLE_NL, strlen(BUNDLE_NL)) == 0 && keep_head > 0)
            keep_head--; /* the newline dbtrust added */
    }
    if (keep_head > 0 && BIO_write(mem, old, (int)keep_head) != (int)keep_head)
        goto oom;
    if (cat != NULL) {
        int addnl = keep_head > 0 && old[keep_head - 1] != '\n';

        if (BIO_printf(mem, "%s" BUNDLE_BEGIN "%s%s\n", addnl ? "\n" : "", catalog,
                       addnl ? BUNDLE_NL : "") <= 0)
            goto oom;
        for (i = 0; i < nw; i++) {
            X509 *x = NULL;

            if (dbt_catalog_load_cert(cat, w[i].sha256, &x, &err) != 0) {
                cli_error("%s", err.msg);
                goto end;
            }
            if (PEM_write_bio_X509(mem, x) != 1) {
                X509_free(x);
                goto oom;
            }
            X509_free(x);
        }
        if (BIO_puts(mem, BUNDLE_END) <= 0)
            goto oom;
        *nadded = nw;
    }
    BIO_get_mem_ptr(mem, &bm);
    if (bm->length == len && memcmp(bm->data, old, len) == 0) {
        *nadded = *nremoved = 0; /* already as wanted: leave the file alone */
        rc = 0;
        goto end;
    }
    if (dbt_fs_write_atomic(j->file, bm->data, bm->length, mode, &err) != 0) {
        cli_error("%s", err.msg);
        goto end;
    }
    j->file_orig = old;
    j->file_len = len;
    j->file_mode = mode;
    old = NULL;
    rc = 0;
    goto end;
oom:
    cli_error("out of memory writing %s", file);
end:
    free(old);
    BIO_free(mem);
    return rc;
}

static int load_wants(dbt_catalog *cat, struct want **out, size_t *n)
{
    dbt_catalog_cert *certs = NULL;
    dbt_err err;
    size_t i;

    if (dbt_catalog_certs(cat, &certs, n, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    if ((*out = calloc(*n ? *n : 1, sizeof(**out))) == NULL) {
        dbt_catalog_certs_free(certs, *n);
        cli_error("out of memory");
        return -1;
    }
    for (i = 0; i < *n; i++) {
        memcpy((*out)[i].sha256, certs[i].sha256, 65);
        (*out)[i].hash = certs[i].subject_hash;
    }
    dbt_catalog_certs_free(certs, *n);
    return 0;
}

/* Brings target (a directory, or a bundle file) in line with the catalog's certificates w
 * (cat NULL and nw 0: removes everything dbtrust added). */
static int wire_sync(struct journal *j, int bundle, const char *target, const char *catalog,
                     dbt_catalog *cat, const struct want *w, size_t nw, size_t *nadded,
                     size_t *nremoved)
{
    j->dir = target;
    if (bundle)
        return bundle_sync(j, target, catalog, cat, w, nw, nadded, nremoved);
    return sys_sync(j, catalog, w, nw, nadded, nremoved);
}

int cli_system_refresh_after_change(dbt_catalog *cat)
{
    char catalog[PATH_MAX], target[PATH_MAX];
    struct journal j = {0};
    struct want *w = NULL;
    size_t nw = 0, added, removed;
    int lock = -1, bundle, st, rc = -1;

    /* Most catalogs are not wired: decide that before taking the system lock (which would
     * create the state directory). */
    if ((st = state_read(catalog, sizeof(catalog), target, sizeof(target), &bundle)) < 0)
        goto end;
    if (st != 1 || strcmp(catalog, dbt_catalog_path(cat)) != 0)
        return 0;
    if ((lock = sys_lock()) < 0)
        goto end;
    if ((st = state_read(catalog, sizeof(catalog), target, sizeof(target), &bundle)) < 0)
        goto end;
    if (st != 1 || strcmp(catalog, dbt_catalog_path(cat)) != 0) {
        rc = 0; /* disabled meanwhile */
        goto end;
    }
    if (load_wants(cat, &w, &nw) != 0)
        goto end;
    /* No undo here: the catalog has changed already, and links that follow it part-way are
     * closer to it than the old ones (which may point at certificates that left). */
    rc = wire_sync(&j, bundle, target, catalog, cat, w, nw, &added, &removed);
end:
    if (rc != 0)
        cli_error("the catalog changed but %s could not follow; run 'dbtrust system refresh' "
                  "as root",
                  target[0] != '\0' ? target : "the system wiring");
    j_free(&j);
    free(w);
    sys_unlock(lock);
    return rc;
}

/* ---------------------------------------------------------------- lazy trust */

/*
 * Lazy mode replaces the eagerly parsed bundle file by an empty one and keeps only hashed
 * directories, which OpenSSL reads one subject at a time (DESIGN.md facts 2 and 5: libpq pays
 * for the whole bundle file on every connection). It is the same trust only when every
 * certificate of the bundle file can be found through the system's hashed directory, so that is
 * checked with OpenSSL's own X509_LOOKUP_hash_dir, the code that will serve the lookups: same
 * subject hash, <hash>.<n> numbered from 0 without gaps, and a byte-identical certificate.
 * The catalog's directory is deliberately left out of the check: the system's trust must not
 * depend on what is imported into or removed from the catalog later. Certificates that are in
 * the directory but not in the file change nothing: stock mode reads the directory too.
 */

/* Keeps the entries of a ':'-separated list that env can pass on (env_entry_ok: absolute, and
 * writable for every shell), warning about each dropped one. NULL when out of memory. */
static char *absolute_entries(const char *list)
{
    char *copy = strdup(list), *out = malloc(strlen(list) + 1), *tok, *save = NULL;
    size_t used = 0;

    if (copy == NULL || out == NULL) {
        cli_error("out of memory");
        free(copy);
        free(out);
        return NULL;
    }
    out[0] = '\0';
    for (tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
        if (!env_entry_ok(tok, "the system certificate directory list"))
            continue;
        used += (size_t)sprintf(out + used, "%s%s", used ? ":" : "", tok);
    }
    free(copy);
    return out;
}

/*
 * Looks up every certificate of the bundle file through the hashed directories dirs (a ':' list).
 * Returns how many are not found (each listed on out when out is not NULL, with its position in
 * the file, subject and SHA-256), or -1 when the check cannot be made (message given).
 * *ntotal is the number of certificates in the file; a missing file holds none.
 */
static long lazy_check(const char *file, const char *dirs, size_t *ntotal, FILE *out)
{
    BIO *in = NULL;
    STACK_OF(X509_INFO) *infos = NULL;
    X509_STORE *store = NULL;
    X509_LOOKUP *lu;
    X509_STORE_CTX *ctx = NULL;
    long rc = -1, missing = 0;
    char *data = NULL;
    struct stat st;
    size_t len = 0;
    int i, fd, r;

    *ntotal = 0;
    /* OpenSSL's lookup would open these and block or fail: the check cannot be made. */
    if (lookup_hazards(dirs, NULL) > 0) {
        cli_error("the hashed directory %s holds entries named like certificates that are not "
                  "regular files, which OpenSSL's lookup would open (a FIFO blocks it forever); "
                  "remove them, then rerun:",
                  dirs);
        lookup_hazards(dirs, stderr);
        goto end;
    }
    if ((fd = open_regular(file, 1, &st)) < 0) {
        if (fd == -1 && errno == ENOENT)
            return 0; /* stock mode loads nothing from it either */
        if (fd == -2)
            cli_error("the bundle file %s is %s, not a regular file; it is not read (a FIFO "
                      "would block): point DBTRUST_SYSTEM_CERT_FILE or the system at a "
                      "regular file",
                      file, dbt_fs_kind(st.st_mode));
        else
            cli_error("cannot read the bundle file %s: %s; run as a user who can read it", file,
                      strerror(errno));
        goto end;
    }
    r = read_capped(fd, BUNDLE_FILE_MAX, &data, &len);
    close(fd);
    if (r != 0) {
        if (r > 0)
            cli_error("the bundle file %s is larger than %u bytes; it is not read", file,
                      BUNDLE_FILE_MAX);
        else
            cli_error("cannot read the bundle file %s: %s", file, strerror(errno));
        goto end;
    }
    if ((in = BIO_new_mem_buf(data, (int)len)) == NULL) {
        cli_error("out of memory reading %s", file);
        goto end;
    }
    /* The reader OpenSSL's default file lookup uses (X509_load_cert_crl_file). */
    if ((infos = PEM_X509_INFO_read_bio(in, NULL, NULL, NULL)) == NULL) {
        cli_error("OpenSSL cannot parse the bundle file %s; regenerate it "
                  "(update-ca-certificates) before comparing it with the hashed directory",
                  file);
        goto end;
    }
    if ((store = X509_STORE_new()) == NULL ||
        (lu = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) == NULL ||
        X509_LOOKUP_add_dir(lu, dirs, X509_FILETYPE_PEM) != 1 ||
        (ctx = X509_STORE_CTX_new()) == NULL || X509_STORE_CTX_init(ctx, store, NULL, NULL) != 1) {
        cli_error("cannot set up OpenSSL's hashed-directory lookup for %s", dirs);
        goto end;
    }
    for (i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509 *x = sk_X509_INFO_value(infos, i)->x509;
        STACK_OF(X509) * sk;
        unsigned char md[32], md2[32];
        unsigned int mdlen = 0, mdlen2 = 0;
        char hex[65], subj[256];
        int k, found = 0;

        if (x == NULL)
            continue; /* a CRL: it adds no trust anchor */
        (*ntotal)++;
        if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1) {
            cli_error("cannot compute the SHA-256 of certificate %zu of %s", *ntotal, file);
            goto end;
        }
        sk = X509_STORE_CTX_get1_certs(ctx, X509_get_subject_name(x));
        for (k = 0; !found && sk != NULL && k < sk_X509_num(sk); k++)
            found = X509_digest(sk_X509_value(sk, k), EVP_sha256(), md2, &mdlen2) == 1 &&
                    mdlen2 == mdlen && memcmp(md, md2, mdlen) == 0;
        sk_X509_pop_free(sk, X509_free);
        if (found)
            continue;
        missing++;
        if (out != NULL) {
            dbt_hex(md, mdlen, hex);
            /* X509_NAME_oneline writes every byte outside ' '..'~' as \xNN */
            fprintf(out, "  certificate %zu of %s: %s, SHA-256 %s\n", *ntotal, cli_esc(file),
                    X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj)), hex);
        }
    }
    rc = missing;
end:
    ERR_clear_error(); /* lookup misses leave errors behind */
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(in);
    free(data);
    return rc;
}

/* Makes sure <catalog>/empty.pem exists, is empty and is safe; created atomically, read-only,
 * on first use (the catalog's owner runs this once; later callers only read it). */
static int lazy_empty_file(dbt_catalog *cat, char *path, size_t n)
{
    struct stat st;
    dbt_err err;

    snprintf(path, n, "%s/%s", dbt_catalog_path(cat), LAZY_EMPTY);
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            cli_error("cannot look at %s: %s", path, strerror(errno));
            return -1;
        }
        if (dbt_fs_write_atomic(path, "", 0, 0444, &err) != 0) {
            cli_error("%s; lazy mode needs this empty file: run 'dbtrust env --lazy' once as "
                      "the catalog's owner",
                      err.msg);
            return -1;
        }
        if (lstat(path, &st) != 0) {
            cli_error("cannot look at %s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (dbt_safe_entry(&st, path, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    /* Anything in it would be trusted: it must stay empty. */
    if (!S_ISREG(st.st_mode) || st.st_size != 0) {
        cli_error("%s is not an empty file, and lazy mode would trust what it holds; remove it "
                  "(rm %s) and rerun 'dbtrust env --lazy'",
                  path, path);
        return -1;
    }
    return 0;
}

static int env_lazy(const char *shell)
{
    char empty[PATH_MAX], *dirs = NULL, *out = NULL;
    const char *file = sys_cert_file();
    dbt_catalog *cat = NULL;
    size_t total = 0, cap;
    long missing;
    int rc = CLI_FAIL;

    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if ((dirs = absolute_entries(sys_cert_dir())) == NULL)
        goto end;
    if (dirs[0] == '\0') {
        cli_error("the system certificate directory '%s' has no absolute entry; lazy mode "
                  "needs OpenSSL's hashed default directory: use 'dbtrust env'",
                  sys_cert_dir());
        goto end;
    }
    if ((missing = lazy_check(file, dirs, &total, NULL)) < 0)
        goto end;
    if (missing > 0) {
        cli_error("lazy mode would change trust: %ld of %zu certificates of the bundle file %s "
                  "are not found through the hashed directory %s:",
                  missing, total, cli_esc(file), cli_esc(dirs));
        lazy_check(file, dirs, &total, stderr);
        fprintf(stderr,
                "Rebuild the directory from the same sources (update-ca-certificates, or "
                "openssl rehash %s) so that it holds them, or keep the stock mode "
                "('dbtrust env', 'dbtrust system enable').\n",
                cli_esc(dirs));
        goto end;
    }
    if (env_catalog_ok(dbt_catalog_path(cat)) != 0 ||
        lazy_empty_file(cat, empty, sizeof(empty)) != 0)
        goto end;
    cap = strlen(dirs) + strlen(dbt_catalog_path(cat)) + 16;
    if ((out = malloc(cap)) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    /* The system's directory first, as stock mode reads it; the catalog's may already be
     * linked into it by 'system enable', and a second copy of a CA changes nothing. */
    snprintf(out, cap, "%s:%s/certs", dirs, dbt_catalog_path(cat));
    env_line(shell, "SSL_CERT_FILE", empty);
    env_line(shell, "SSL_CERT_DIR", out);
    rc = CLI_OK;
end:
    free(dirs);
    free(out);
    dbt_catalog_close(cat);
    return rc;
}

/* One line of `system status`: whether lazy mode is the same trust here. */
static void lazy_status(void)
{
    const char *file = sys_cert_file();
    char *dirs = absolute_entries(sys_cert_dir());
    size_t total = 0;
    long missing = -1;

    if (dirs != NULL && dirs[0] != '\0')
        missing = lazy_check(file, dirs, &total, NULL);
    if (missing == 0)
        printf("lazy mode (dbtrust env --lazy): safe here: all %zu certificates of %s are found "
               "through %s\n",
               total, cli_esc(file), cli_esc(dirs));
    else if (missing > 0)
        printf("lazy mode (dbtrust env --lazy): not safe here: %ld of %zu certificates of %s "
               "are not found through %s ('dbtrust env --lazy' lists them)\n",
               missing, total, cli_esc(file), cli_esc(dirs));
    else
        printf("lazy mode (dbtrust env --lazy): not safe here: the check could not be made\n");
    free(dirs);
}

static void system_usage(FILE *out)
{
    fprintf(
        out,
        "usage: dbtrust [--catalog DIR] system enable [--bundle-file]|disable|status|refresh\n\n"
        "Wires the catalog into OpenSSL's default certificate directory (%s), which\n"
        "libpq's sslrootcert=system, Python's ssl default context and every program that\n"
        "calls SSL_CTX_set_default_verify_paths() read lazily, by subject hash. The bundle\n"
        "file is never touched, so connections cost what they cost before.\n\n"
        "  enable    link every catalog CA into the directory (idempotent)\n"
        "  disable   remove exactly the links enable added\n"
        "  status    show what is wired and whether OpenSSL's defaults find each CA\n"
        "  refresh   bring the links up to date with the catalog (imports and removals do\n"
        "            this themselves; the update-ca-certificates hook calls it)\n\n"
        "enable and disable change nothing when they fail: every step is undone. Only\n"
        "links dbtrust made are replaced or removed; a FIFO, socket, device or directory in\n"
        "the directory (or a link to one) is never opened, replaced or removed, and status\n"
        "and lazy env refuse to let OpenSSL's lookup open one (it would block on a FIFO).\n"
        "The state file must be a regular file of at most 64 KiB, owned by root or you and\n"
        "writable by nobody else; otherwise every action exits 1 naming it, changing nothing.\n\n"
        "  enable --bundle-file   for systems whose OpenSSL does not read a hashed default\n"
        "            directory: append the catalog's CAs to the default bundle file (%s)\n"
        "            instead, between marker lines. Costly: every SSL_CTX parses the whole\n"
        "            file, which with the 108 AWS RDS roots measured +80%% trust setup per\n"
        "            connection on OpenSSL 3.0 (links: +0.1%%; bench/trust-setup.sh).\n\n"
        "Environment (for tests and packaging): DBTRUST_SYSTEM_CERT_DIR overrides the\n"
        "directory, DBTRUST_SYSTEM_CERT_FILE the bundle file, DBTRUST_SYSTEM_STATE the\n"
        "state file (%s).\n",
        X509_get_default_cert_dir(), X509_get_default_cert_file(), DEFAULT_STATE);
}

/* Counts dbtrust's own entries in dir: certificate links, and hash links to them. */
static void count_ours(const char *dir, size_t *ncert, size_t *nhash, size_t *ndangling)
{
    char target[PATH_MAX], path[PATH_MAX];
    struct dirent *de;
    struct stat st;
    unsigned long hash;
    DIR *d;
    int n;

    *ncert = *nhash = *ndangling = 0;
    if ((d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (our_link_sha(de->d_name) != NULL) {
            (*ncert)++;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            if (stat(path, &st) != 0)
                (*ndangling)++;
        } else if (hash_link_name(de->d_name, &hash, &n) &&
                   link_points_to_us(dir, de->d_name, target, sizeof(target))) {
            (*nhash)++;
        }
    }
    closedir(d);
}

static int system_status(void)
{
    char catalog[PATH_MAX], dir[PATH_MAX], subj[256];
    int bundle;
    dbt_catalog *cat = NULL;
    dbt_catalog_cert *certs = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    const char *envdir = getenv("SSL_CERT_DIR"), *envfile = getenv("SSL_CERT_FILE");
    const char *defdirs, *deffile;
    X509_LOOKUP *lu, *hd;
    struct stat fst;
    dbt_err err;
    size_t n = 0, i, found = 0, ncert = 0, nhash = 0, ndangling = 0;
    int st, rc = CLI_FAIL;

    if ((st = state_read(catalog, sizeof(catalog), dir, sizeof(dir), &bundle)) < 0)
        return CLI_FAIL; /* said why */
    printf("OpenSSL default certificate directory: %s\n", X509_get_default_cert_dir());
    printf("OpenSSL default certificate file:      %s\n", X509_get_default_cert_file());
    if (strcmp(sys_cert_dir(), X509_get_default_cert_dir()) != 0)
        printf("DBTRUST_SYSTEM_CERT_DIR directs wiring to %s\n", cli_esc(sys_cert_dir()));
    if (envdir != NULL || envfile != NULL)
        printf("note: this process has SSL_CERT_DIR=%s SSL_CERT_FILE=%s, which replace the "
               "defaults below\n",
               envdir ? cli_esc(envdir) : "(unset)", envfile ? cli_esc(envfile) : "(unset)");
    lazy_status();
    if (st != 1) {
        printf("system wiring: disabled (no %s)\n", cli_esc(sys_state_path()));
        return CLI_OK;
    }
    if (bundle) {
        printf("system wiring: enabled for catalog %s, appended to the bundle file %s\n",
               cli_esc(catalog), cli_esc(dir));
        printf("cost: every SSL_CTX parses the appended certificates too (bench/trust-setup.sh: "
               "+80%% per connection with 108 roots on OpenSSL 3.0); links in the directory "
               "cost next to nothing where the directory is read\n");
    } else {
        count_ours(dir, &ncert, &nhash, &ndangling);
        printf("system wiring: enabled for catalog %s in %s\n", cli_esc(catalog), cli_esc(dir));
        printf("links: %zu certificate link%s, %zu hash link%s to them", ncert,
               ncert == 1 ? "" : "s", nhash, nhash == 1 ? "" : "s");
        if (ndangling > 0)
            printf(", %zu dangling", ndangling);
        printf("\n");
    }
    if (dbt_catalog_open(catalog, DBT_CAT_READ, &cat, &err) != 0) {
        cli_error("%s", err.msg);
        return CLI_FAIL;
    }
    if (dbt_catalog_certs(cat, &certs, &n, &err) != 0) {
        cli_error("%s", err.msg);
        goto end;
    }
    /* Resolve each CA the way a TLS client would: the default file and directories
     * (X509_STORE_set_default_paths), lookup by subject; but never open what would block. */
    /* Set but empty, either variable makes OpenSSL read nothing of that kind. */
    defdirs = envdir != NULL ? envdir : X509_get_default_cert_dir();
    deffile = envfile != NULL ? envfile : X509_get_default_cert_file();
    if (lookup_hazards(defdirs, NULL) > 0) {
        printf("OpenSSL's default lookup would open entries that are not certificate files (a "
               "FIFO blocks every program that looks that subject up): remove them\n");
        fflush(stdout);
        lookup_hazards(defdirs, stdout);
        printf("the catalog certificates were not looked up through OpenSSL's defaults\n");
        goto end;
    }
    if ((store = X509_STORE_new()) == NULL ||
        (lu = X509_STORE_add_lookup(store, X509_LOOKUP_file())) == NULL ||
        (hd = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) == NULL ||
        (*defdirs != '\0' && X509_LOOKUP_add_dir(hd, defdirs, X509_FILETYPE_PEM) != 1) ||
        (ctx = X509_STORE_CTX_new()) == NULL || X509_STORE_CTX_init(ctx, store, NULL, NULL) != 1) {
        cli_error("cannot load OpenSSL's default verify paths");
        goto end;
    }
    if (*deffile == '\0') {
        /* SSL_CERT_FILE set but empty: OpenSSL loads no file */
    } else if (stat(deffile, &fst) == 0 && !S_ISREG(fst.st_mode))
        printf("note: the default certificate file %s is %s: not read\n", cli_esc(deffile),
               dbt_fs_kind(fst.st_mode));
    else
        X509_LOOKUP_load_file(lu, deffile, X509_FILETYPE_PEM); /* missing: nothing, as OpenSSL */
    for (i = 0; i < n; i++) {
        X509 *x = NULL;
        STACK_OF(X509) *sk = NULL;
        int k, ok = 0;

        if (dbt_catalog_load_cert(cat, certs[i].sha256, &x, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
        sk = X509_STORE_CTX_get1_certs(ctx, X509_get_subject_name(x));
        for (k = 0; sk != NULL && k < sk_X509_num(sk); k++)
            ok |= X509_cmp(sk_X509_value(sk, k), x) == 0;
        sk_X509_pop_free(sk, X509_free);
        if (ok)
            found++;
        else
            printf("  not found by OpenSSL's defaults: %s %s\n", certs[i].sha256,
                   X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj)));
        X509_free(x);
    }
    ERR_clear_error();
    printf("%zu of %zu catalog certificates resolve through OpenSSL's default paths\n", found, n);
    rc = found == n && ndangling == 0 ? CLI_OK : CLI_FAIL;
    if (rc != CLI_OK)
        printf("run 'dbtrust system refresh' to repair the links\n");
end:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    dbt_catalog_certs_free(certs, n);
    dbt_catalog_close(cat);
    return rc;
}

/* The directory must exist and be a directory: OpenSSL would read nothing from a new one on a
 * system whose default directory is elsewhere, and creating system directories is packaging's
 * job. */
static int check_dir(const char *dir)
{
    struct stat st;

    if (dir[0] != '/') {
        cli_error("the system certificate directory '%s' is not absolute", dir);
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("OpenSSL's default certificate directory %s %s; this system keeps its trust "
                  "elsewhere: use 'dbtrust env' for a scoped SSL_CERT_DIR instead",
                  dir, errno == ENOENT ? "does not exist" : "is not a directory");
        return -1;
    }
    return 0;
}

/* Whether path can be recorded in the state file and the bundle file's markers; says why not. */
static int wired_path_ok(const char *what, const char *path)
{
    if (path[0] != '/' || dbt_escape_needed(path, strlen(path))) {
        cli_error("the %s path %s %s, which the system wiring's files cannot record safely; "
                  "use a path without control characters (--catalog DIR, or the "
                  "DBTRUST_SYSTEM_* variables); nothing was changed",
                  what, path,
                  path[0] != '/' ? "is not absolute"
                                 : "holds a control character or bytes that are not UTF-8");
        return -1;
    }
    return 0;
}

int cli_cmd_system(int argc, char **argv)
{
    const char *action;
    char catalog[PATH_MAX], target[PATH_MAX];
    dbt_catalog *cat = NULL;
    struct journal j = {0};
    struct want *w = NULL;
    size_t nw = 0, added = 0, removed = 0;
    int st, lock = -1, enable, bundle = 0, want_bundle = 0, rc = CLI_FAIL;

    if (argc == 3 && strcmp(argv[1], "enable") == 0 && strcmp(argv[2], "--bundle-file") == 0)
        want_bundle = 1;
    else if (argc != 2) {
        system_usage(stderr);
        return CLI_USAGE;
    }
    action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
        system_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(action, "status") == 0)
        return system_status();
    if (strcmp(action, "enable") != 0 && strcmp(action, "disable") != 0 &&
        strcmp(action, "refresh") != 0) {
        cli_error("unknown system action '%s': use enable, disable, status or refresh", action);
        return CLI_USAGE;
    }
    enable = strcmp(action, "enable") == 0;
    /* Not enabled and nothing to enable: answer without creating the state directory. */
    st = state_read(catalog, sizeof(catalog), target, sizeof(target), &bundle);
    if (st < 0)
        return CLI_FAIL; /* said why; nothing changed, not even the lock */
    if (st == 0 && !enable) {
        printf("system wiring is not enabled; nothing to %s\n", action);
        return CLI_OK;
    }
    if ((lock = sys_lock()) < 0)
        return CLI_FAIL;
    if ((st = state_read(catalog, sizeof(catalog), target, sizeof(target), &bundle)) < 0)
        goto end;
    if (st == 0 && !enable) {
        printf("system wiring is not enabled; nothing to %s\n", action);
        rc = CLI_OK;
        goto end;
    }
    if (strcmp(action, "disable") == 0) {
        if (wire_sync(&j, bundle, target, catalog, NULL, NULL, 0, &added, &removed) != 0) {
            j_undo(&j);
            cli_error("disable failed; %s is as it was and the wiring stays enabled", target);
            goto end;
        }
        if (unlink(sys_state_path()) != 0 && errno != ENOENT) {
            cli_error("cannot remove %s: %s; %s is as it was", sys_state_path(), strerror(errno),
                      target);
            j_undo(&j);
            goto end;
        }
        if (bundle)
            printf("disabled: removed dbtrust's %zu certificate%s from %s\n", removed,
                   removed == 1 ? "" : "s", cli_esc(target));
        else
            printf("disabled: removed %zu certificate link%s from %s\n", removed,
                   removed == 1 ? "" : "s", cli_esc(target));
        rc = CLI_OK;
        goto end;
    }
    /* enable / refresh: the catalog named now (enable) or recorded (refresh). */
    if (!enable) {
        dbt_err err;

        if (dbt_catalog_open(catalog, DBT_CAT_READ, &cat, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
    } else {
        if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
            goto end;
        if (st == 1 && (strcmp(catalog, dbt_catalog_path(cat)) != 0 || bundle != want_bundle)) {
            cli_error("catalog %s is already wired into %s; run 'dbtrust system disable' first",
                      catalog, target);
            goto end;
        }
        snprintf(catalog, sizeof(catalog), "%s", dbt_catalog_path(cat));
        if (st != 1) {
            bundle = want_bundle;
            snprintf(target, sizeof(target), "%s", bundle ? sys_cert_file() : sys_cert_dir());
        }
    }
    /* Both paths are written as they are into the state file, and the catalog's into the
     * bundle file's marker lines: a line break there would let the path add lines (a whole
     * PEM block, another state key) to files every TLS client or the next run reads. */
    if (enable && (wired_path_ok("catalog", catalog) != 0 ||
                   wired_path_ok(bundle ? "bundle file" : "certificate directory", target) != 0))
        goto end;
    if ((!bundle && check_dir(target) != 0) || load_wants(cat, &w, &nw) != 0)
        goto end;
    /* Record first: even a crash half-way is then repaired by refresh or undone by disable. */
    if (st != 1 && state_write(catalog, target, bundle) != 0)
        goto end;
    if (wire_sync(&j, bundle, target, catalog, cat, w, nw, &added, &removed) != 0) {
        if (enable) {
            j_undo(&j);
            if (st != 1)
                unlink(sys_state_path());
            cli_error("enable failed; %s is as it was", target);
        } else {
            cli_error("refresh stopped part-way; rerun 'dbtrust system refresh' once the cause "
                      "is fixed");
        }
        goto end;
    }
    if (bundle) {
        printf("%s: %zu catalog certificate%s appended to %s\n", action, nw, nw == 1 ? "" : "s",
               cli_esc(target));
        if (enable)
            printf("cost: every program that loads OpenSSL's default paths now parses %zu more "
                   "certificate%s per SSL_CTX (libpq: per connection); with the 108 AWS RDS "
                   "roots this measured +80%% trust setup time on OpenSSL 3.0 "
                   "(bench/trust-setup.sh). Use plain 'dbtrust system enable' where the default "
                   "directory is read.\n",
                   nw, nw == 1 ? "" : "s");
    } else {
        printf("%s: %zu catalog certificate%s linked into %s (%zu new, %zu removed)\n", action, nw,
               nw == 1 ? "" : "s", cli_esc(target), added, removed);
    }
    rc = CLI_OK;
end:
    j_free(&j);
    free(w);
    dbt_catalog_close(cat);
    sys_unlock(lock);
    return rc;
}
