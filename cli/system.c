/* Wiring the catalog into OpenSSL's default trust (what sslrootcert=system uses): `env` for a
 * scoped SSL_CERT_DIR, `system enable|disable|status|refresh` for links in OpenSSL's default
 * certificate directory (lib/syswire.h does the work; this file parses, words and prints), and
 * `config` for the provider's openssl.cnf snippet. A client that calls
 * SSL_CTX_set_default_verify_paths() reads only the default directory and bundle file, so those
 * are the only way in; the bundle file is never grown unless asked, since every SSL_CTX parses
 * it whole. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "catalog.h"
#include "commands.h"
#include "escape.h"
#include "osslcnf.h"
#include "syswire.h"

/* What lib/syswire.h's hints tell the user to do, in this program's syntax. */
static const char *const sys_hints[] = {
    [DBT_HINT_SYSTEM_REPAIR] = "; run 'dbtrust system refresh' or 'dbtrust system disable' to "
                               "repair the directory",
    [DBT_HINT_SYSTEM_RERUN] = ", then run 'dbtrust system enable' (or disable) again",
    [DBT_HINT_SYSTEM_REFRESH_ROOT] = "; run 'dbtrust system refresh' as root",
    [DBT_HINT_SYSTEM_LAZY_CREATE] = ": run 'dbtrust env --lazy' once as the catalog's owner",
    [DBT_HINT_SYSTEM_LAZY_RERUN] = " and rerun 'dbtrust env --lazy'",
    [DBT_HINT_SYSTEM_USE_ENV] = ": use 'dbtrust env' for a scoped SSL_CERT_DIR instead",
    [DBT_HINT_SYSTEM_PATH_OPTS] = " (--catalog DIR, or the DBTRUST_SYSTEM_* variables)",
};

void cli_sys_report(void *arg, const dbt_sys_msg *m)
{
    const char *hint = "";

    (void)arg;
    if (m->level == DBT_SYS_DETAIL) {
        fprintf(stderr, "%s\n", m->text);
        return;
    }
    if (m->hint > 0 && (size_t)m->hint < sizeof(sys_hints) / sizeof(sys_hints[0]) &&
        sys_hints[m->hint] != NULL)
        hint = sys_hints[m->hint];
    if (m->level == DBT_SYS_WARN)
        cli_warn("%.*s%s%s", (int)m->hint_at, m->text, hint, m->text + m->hint_at);
    else
        cli_error("%.*s%s%s", (int)m->hint_at, m->text, hint, m->text + m->hint_at);
}

/* A listing line of lib/syswire.h to the stream arg. */
static void sys_line_to(void *arg, const char *line)
{
    fprintf(arg, "%s\n", line);
}

/* ---------------------------------------------------------------- env */

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
/* The directory of the catalog that OpenSSL's default trust should read: trust/, the trust view
 * (scoped bundles as name-constrained cross-certificates). A catalog last written by a dbtrust
 * without scopes has none until its next change; its certs/ is then the same trust. */
static const char *env_view(dbt_catalog *cat)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/" DBT_LAYOUT_TRUST, dbt_catalog_path(cat));
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return DBT_LAYOUT_TRUST;
    {
        /* No view: the same trust as certs/ only when nothing is scoped. */
        dbt_catalog_trust *v = NULL;
        size_t n = 0;
        dbt_err err;
        if (dbt_catalog_trust_view(cat, &v, &n, &err) != 0) {
            cli_error("%s", err.msg);
            return NULL;
        }
        free(v);
    }
    cli_warn("catalog %s was written by an older dbtrust and has no trust view yet: this "
             "prints its certs directory; run any import to add it, then run env again",
             dbt_catalog_path(cat));
    return DBT_LAYOUT_CERTS;
}

/* NODE_EXTRA_CA_CERTS: the trust view as one PEM file, for clients that take one file of extra
 * CAs (Node reads no SSL_CERT_DIR unless started with --use-openssl-ca). The fixed link follows
 * every commit, so the line stays right; a process reads the file of one generation, whole.
 * A catalog last written before the file existed gets a warning instead of a line naming
 * nothing (Node would warn at every start and load no CA). */
static void env_node_line(const char *shell, dbt_catalog *cat)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/" DBT_LAYOUT_TRUST_PEM, dbt_catalog_path(cat));
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        cli_warn("catalog %s was written by an older dbtrust and has no %s yet: "
                 "NODE_EXTRA_CA_CERTS is not printed; run any import to add it, then run env "
                 "again",
                 dbt_catalog_path(cat), DBT_LAYOUT_TRUST_PEM);
        return;
    }
    env_line(shell, "NODE_EXTRA_CA_CERTS", path);
}

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
        "and NODE_EXTRA_CA_CERTS=<catalog>/" DBT_LAYOUT_TRUST_PEM
        ", the same trust as one PEM file\n"
        "for Node.js (which reads no SSL_CERT_DIR unless told to use OpenSSL's CA store):\n"
        "scoped bundles are in it in their scoped form (carrying the name constraint, never\n"
        "the raw CA), which Node's OpenSSL verifier enforces. The path is a fixed link\n"
        "that follows every change of the catalog; Node reads it once, at start.\n"
        "Only absolute directories are kept; relative or empty entries are dropped with a\n"
        "warning (OpenSSL would resolve them against the working directory), and so are\n"
        "entries with a control character (tab, newline) or bytes that are not UTF-8, which\n"
        "no shell line can carry safely. A catalog path with such a character or ':' is\n"
        "refused (exit 1): the catalog's own entry is never dropped.\n\n"
        "  -l, --lazy               lazy trust: SSL_CERT_FILE=<catalog>/" DBT_SYS_LAZY_EMPTY
        " (empty) and\n"
        "                           SSL_CERT_DIR=<system directory>:<catalog>/trust (and\n"
        "                           NODE_EXTRA_CA_CERTS as above), so that\n"
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
    const char *shell = "sh", *cur, *view;
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
    if ((view = env_view(cat)) == NULL)
        goto end;
    snprintf(certs, sizeof(certs), "%s/%s", dbt_catalog_path(cat), view);
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
    env_node_line(shell, cat);
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

/* ---------------------------------------------------------------- lazy trust */

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

static int env_lazy(const char *shell)
{
    char empty[PATH_MAX], *dirs = NULL, *out = NULL;
    const char *file = dbt_sys_cert_file();
    dbt_catalog *cat = NULL;
    const char *view;
    size_t total = 0, cap;
    long missing;
    int rc = CLI_FAIL;

    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if ((dirs = absolute_entries(dbt_sys_cert_dir())) == NULL)
        goto end;
    if (dirs[0] == '\0') {
        cli_error("the system certificate directory '%s' has no absolute entry; lazy mode "
                  "needs OpenSSL's hashed default directory: use 'dbtrust env'",
                  dbt_sys_cert_dir());
        goto end;
    }
    if ((missing = dbt_sys_lazy_check(file, dirs, &total, NULL, NULL, cli_sys_report, NULL)) < 0)
        goto end;
    if (missing > 0) {
        cli_error("lazy mode would change trust: %ld of %zu certificates of the bundle file %s "
                  "are not found through the hashed directory %s:",
                  missing, total, cli_esc(file), cli_esc(dirs));
        dbt_sys_lazy_check(file, dirs, &total, sys_line_to, stderr, cli_sys_report, NULL);
        fprintf(stderr,
                "Rebuild the directory from the same sources (update-ca-certificates, or "
                "openssl rehash %s) so that it holds them, or keep the stock mode "
                "('dbtrust env', 'dbtrust system enable').\n",
                cli_esc(dirs));
        goto end;
    }
    if (env_catalog_ok(dbt_catalog_path(cat)) != 0 || (view = env_view(cat)) == NULL ||
        dbt_sys_lazy_empty_file(cat, empty, sizeof(empty), cli_sys_report, NULL) != 0)
        goto end;
    cap = strlen(dirs) + strlen(dbt_catalog_path(cat)) + 16;
    if ((out = malloc(cap)) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    /* The system's directory first, as stock mode reads it; the catalog's may already be
     * linked into it by 'system enable', and a second copy of a CA changes nothing. */
    snprintf(out, cap, "%s:%s/%s", dirs, dbt_catalog_path(cat), view);
    env_line(shell, "SSL_CERT_FILE", empty);
    env_line(shell, "SSL_CERT_DIR", out);
    env_node_line(shell, cat);
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
    const char *file = dbt_sys_cert_file();
    char *dirs = absolute_entries(dbt_sys_cert_dir());
    size_t total = 0;
    long missing = -1;

    if (dirs != NULL && dirs[0] != '\0')
        missing = dbt_sys_lazy_check(file, dirs, &total, NULL, NULL, cli_sys_report, NULL);
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

/* A message of the unscoped check said as a warning: the check informs, status's verdict is
 * about whether the wiring works. */
static void report_as_warning(void *arg, const dbt_sys_msg *m)
{
    dbt_sys_msg w = *m;

    if (w.level == DBT_SYS_ERROR)
        w.level = DBT_SYS_WARN;
    cli_sys_report(arg, &w);
}

/* Each bundle's scope, as list shows it: what OpenSSL's default trust accepts its CAs for. */
static void scoped_status(dbt_catalog *cat)
{
    dbt_catalog_entry *e = NULL;
    size_t n = 0;
    dbt_err err;

    if (dbt_catalog_list(cat, &e, &n, &err) != 0) {
        cli_warn("%s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        printf("bundle %s: %s%s\n", cli_esc(e[i].name),
               e[i].meta.scope[0] ? "trusted only for " : "unscoped (trusted for every name)",
               e[i].meta.scope);
    free(e);
}

/* One warning for each wired bundle whose CAs every OpenSSL program now trusts for every host
 * name, beyond what the system trusted already, with the cure. The exit status is unchanged. */
static void unscoped_status(dbt_catalog *cat)
{
    const char *file = dbt_sys_cert_file();
    dbt_sys_wide *w = NULL;
    long n = dbt_sys_unscoped(cat, file, &w, report_as_warning, NULL), i;

    if (n < 0)
        cli_warn("whether a wired bundle is trusted for every host name could not be checked");
    for (i = 0; i < n; i++)
        cli_warn("bundle '%s' is unscoped: every OpenSSL program on this host trusts its CAs for "
                 "every host name (%zu of its %zu certificates are not in the system's bundle "
                 "file %s); scope it by importing it again with 'dbtrust import --bundle %s "
                 "--only-for HOST... FILE', or by fetching it again with 'dbtrust fetch SOURCE' "
                 "(the source's default scope, see 'dbtrust sources')",
                 w[i].name, w[i].outside, w[i].count, cli_esc(file), w[i].name);
    free(w);
}

/* ---------------------------------------------------------------- system wiring */

static const char *jvm_format(const dbt_sys_jvm *j)
{
    return j->pkcs12 ? "PKCS#12" : "JKS";
}

/* The line that says there is no JVM truststore to keep. */
static void jvm_none(const char *path)
{
    if (path == NULL)
        printf("JVM truststore: none (DBTRUST_SYSTEM_* names a stand-in system and "
               "DBTRUST_SYSTEM_JVM_STORE is unset): nothing to do\n");
    else
        printf("JVM truststore: none at %s (no Java here): nothing to do\n", cli_esc(path));
}

/* The JVM truststore's lines of status (cat NULL: nothing wired). 0 when it is in step (or
 * absent), 1 when entries are missing or stale, -1 when it cannot be read (said why). */
static int jvm_status(dbt_catalog *cat)
{
    const char *path = dbt_sys_jvm_store();
    dbt_catalog_entry *e = NULL;
    size_t n = 0, i;
    dbt_sys_jvm j;
    dbt_err err;

    if (dbt_sys_jvm_status(cat, &j, cli_sys_report, NULL) != 0) {
        printf("JVM truststore: %s: cannot be checked (see above)\n", cli_esc(path));
        return -1;
    }
    if (!j.present) {
        jvm_none(path);
        return 0;
    }
    printf("JVM truststore: %s (%s): %zu entr%s, %zu of them dbtrust's; %zu missing, %zu "
           "stale\n",
           cli_esc(path), jvm_format(&j), j.entries, j.entries == 1 ? "y" : "ies", j.ours,
           j.missing, j.stale);
    if (cat != NULL && dbt_catalog_list(cat, &e, &n, &err) == 0) {
        for (i = 0; i < n; i++)
            if (e[i].meta.scope[0] != '\0')
                printf("JVM truststore: bundle '%s' is scoped, so it is left out (Java ignores a "
                       "truststore CA's name constraints and would trust it for every name); "
                       "give a Java service its own truststore: dbtrust export --format jks "
                       "--bundle %s FILE\n",
                       cli_esc(e[i].name), cli_esc(e[i].name));
        free(e);
    }
    return j.missing > 0 || j.stale > 0 ? 1 : 0;
}

/* What enable, refresh or disable did to the JVM truststore. */
static void jvm_report(const char *action, const dbt_sys_result *r)
{
    const char *path = dbt_sys_jvm_store();
    const dbt_sys_jvm *j = &r->jvm;

    if (!j->present) {
        /* Said once, by enable: refresh runs after every commit and from the hook. */
        if (strcmp(action, "enable") == 0)
            jvm_none(path);
        return;
    }
    if (strcmp(action, "disable") == 0) {
        printf("JVM truststore: removed dbtrust's %zu entr%s from %s (%s)\n", j->removed,
               j->removed == 1 ? "y" : "ies", cli_esc(path), jvm_format(j));
        return;
    }
    printf("JVM truststore: %zu catalog certificate%s in %s (%s) (%zu new, %zu removed)\n", j->ours,
           j->ours == 1 ? "" : "s", cli_esc(path), jvm_format(j), j->added, j->removed);
    if (j->scoped > 0)
        printf("JVM truststore: %zu certificate%s of scoped bundles left out (Java ignores a "
               "truststore CA's name constraints); 'dbtrust system status' names the bundles\n",
               j->scoped, j->scoped == 1 ? "" : "s");
}

static void system_usage(FILE *out)
{
    fprintf(
        out,
        "usage: dbtrust [--catalog DIR] system enable [--bundle-file]|disable|status|refresh\n"
        "       dbtrust [--catalog DIR] system enable --provider [--module PATH]\n"
        "       dbtrust system disable --provider | status [--provider]\n\n"
        "Wires the catalog into OpenSSL's default certificate directory (%s), which\n"
        "libpq's sslrootcert=system, Python's ssl default context and every program that\n"
        "calls SSL_CTX_set_default_verify_paths() read lazily, by subject hash. The bundle\n"
        "file is never touched, so connections cost what they cost before.\n\n"
        "  enable    link every catalog CA into the directory (idempotent)\n"
        "  disable   remove exactly the links enable added\n"
        "  status    show what is wired and whether OpenSSL's defaults find each CA; warn\n"
        "            about each wired bundle without a scope whose CAs the system's bundle\n"
        "            file lacks: those are trusted for every host name; and the JVM\n"
        "            truststore: format, entries, dbtrust's, missing and stale ones\n"
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
        "Java: enable, refresh and disable also keep the JVM truststore\n"
        "(%s) in step: each CA of an unscoped bundle is a trusted\n"
        "entry under the alias "
        "dbtrust-<bundle>-<first 16 hex digits of its SHA-256>; every\n"
        "other entry, the format (JKS or PKCS#12) and the password (storepass= of\n"
        "%s, else changeit) are kept. Scoped bundles are left out (Java\n"
        "ignores name constraints): export such a bundle as a JKS truststore of its own\n"
        "for a service (see export). No store there: nothing to do (none either when a\n"
        "DBTRUST_SYSTEM_* variable below names a stand-in system). A store that cannot be\n"
        "read (wrong password, not a keystore, a symlink, FIFO or device) or an alias\n"
        "another entry holds makes enable and disable fail, every step undone.\n\n"

        "System-wide provider: enable --provider adds to the system's openssl.cnf\n"
        "(OPENSSLDIR/openssl.cnf, symbolic links followed to the file they name) the lines\n"
        "that load dbtrust.so for the catalog, so that every OpenSSL program takes\n"
        "dbtrust:// URIs without OPENSSL_CONF. They are marked blocks (# BEGIN dbtrust\n"
        "provider ... # END dbtrust provider) in the providers section the file already\n"
        "uses (openssl_conf -> its init section -> providers), and the default provider is\n"
        "activated too when the file activates none. Running it again changes nothing;\n"
        "disable --provider removes the blocks, giving back the file byte for byte, and\n"
        "refuses (naming the line) when a block was edited. enable refuses when OpenSSL\n"
        "cannot load the module. The provider is loaded with soft_load = 1: a module\n"
        "removed or damaged later is skipped and programs go on without it. The file and\n"
        "each file it includes: at most 1 MiB, 65536 lines in all, .include 4 deep, 32\n"
        "files; the file is replaced atomically with its owner and mode.\n"
        "  --module PATH   dbtrust.so path written into the file (default: OpenSSL's\n"
        "                  modules directory)\n"
        "  status --provider   only the provider's lines (exit 1 when it is wired and its\n"
        "                  module is missing or cannot be loaded)\n\n"
        "Environment (for tests and packaging): DBTRUST_SYSTEM_CERT_DIR overrides the\n"
        "directory, DBTRUST_SYSTEM_CERT_FILE the bundle file, DBTRUST_SYSTEM_STATE the\n"
        "state file (%s), DBTRUST_SYSTEM_JVM_STORE the JVM truststore,\n"
        "DBTRUST_SYSTEM_OPENSSL_CNF the openssl.cnf.\n",
        X509_get_default_cert_dir(), X509_get_default_cert_file(), DBT_SYS_JVM_STORE,
        DBT_SYS_JVM_DEFAULTS, DBT_SYS_DEFAULT_STATE);
}

static int provider_status(void);

static int system_status(void)
{
    const char *envdir = getenv("SSL_CERT_DIR"), *envfile = getenv("SSL_CERT_FILE");
    dbt_sys_links links = {0, 0, 0};
    dbt_catalog *cat = NULL;
    dbt_sys_state s;
    dbt_err err;
    size_t n = 0;
    long found;
    int st, jvm = 0;

    if ((st = dbt_sys_state_read(&s, cli_sys_report, NULL)) < 0)
        return CLI_FAIL; /* said why */
    printf("OpenSSL default certificate directory: %s\n", X509_get_default_cert_dir());
    printf("OpenSSL default certificate file:      %s\n", X509_get_default_cert_file());
    if (strcmp(dbt_sys_cert_dir(), X509_get_default_cert_dir()) != 0)
        printf("DBTRUST_SYSTEM_CERT_DIR directs wiring to %s\n", cli_esc(dbt_sys_cert_dir()));
    if (envdir != NULL || envfile != NULL)
        printf("note: this process has SSL_CERT_DIR=%s SSL_CERT_FILE=%s, which replace the "
               "defaults below\n",
               envdir ? cli_esc(envdir) : "(unset)", envfile ? cli_esc(envfile) : "(unset)");
    lazy_status();
    if (provider_status() < 0)
        return CLI_FAIL;
    if (st != 1) {
        printf("system wiring: disabled (no %s)\n", cli_esc(dbt_sys_state_path()));
        return jvm_status(NULL) < 0 ? CLI_FAIL : CLI_OK;
    }
    if (s.bundle_file) {
        printf("system wiring: enabled for catalog %s, appended to the bundle file %s\n",
               cli_esc(s.catalog), cli_esc(s.target));
        printf("cost: every SSL_CTX parses the appended certificates too (bench/trust-setup.sh: "
               "+80%% per connection with 108 roots on OpenSSL 3.0); links in the directory "
               "cost next to nothing where the directory is read\n");
    } else {
        dbt_sys_count_links(s.target, &links);
        printf("system wiring: enabled for catalog %s in %s\n", cli_esc(s.catalog),
               cli_esc(s.target));
        printf("links: %zu certificate link%s, %zu hash link%s to them", links.certs,
               links.certs == 1 ? "" : "s", links.hashes, links.hashes == 1 ? "" : "s");
        if (links.dangling > 0)
            printf(", %zu dangling", links.dangling);
        printf("\n");
    }
    if (dbt_catalog_open(s.catalog, DBT_CAT_READ, &cat, &err) != 0) {
        cli_error("%s", cli_err_text(&err, NULL));
        return CLI_FAIL;
    }
    /* Resolve each CA the way a TLS client would: the default file and directories
     * (X509_STORE_set_default_paths), lookup by subject; but never open what would block.
     * Set but empty, either variable makes OpenSSL read nothing of that kind. */
    found = dbt_sys_resolve(cat, envdir != NULL ? envdir : X509_get_default_cert_dir(),
                            envfile != NULL ? envfile : X509_get_default_cert_file(), &n,
                            sys_line_to, stdout, cli_sys_report, NULL);
    if (found >= 0) {
        scoped_status(cat);
        unscoped_status(cat);
        jvm = jvm_status(cat);
    }
    dbt_catalog_close(cat);
    if (found < 0 || jvm < 0)
        return CLI_FAIL;
    printf("%zu of %zu catalog certificates resolve through OpenSSL's default paths\n",
           (size_t)found, n);
    if ((size_t)found == n && links.dangling == 0 && jvm == 0)
        return CLI_OK;
    printf("run 'dbtrust system refresh' to repair the links%s\n",
           jvm > 0 ? " and the JVM truststore" : "");
    return CLI_FAIL;
}

/* Opens the catalog the command line names, for enable. */
static int open_named(void *arg, dbt_catalog **cat)
{
    (void)arg;
    return cli_open_catalog(DBT_CAT_READ, cat);
}

/* ---------------------------------------------------------------- system-wide provider */

/* The catalog the provider is to serve: --catalog, else the default location, absolute. */
static const char *provider_catalog(char *buf, size_t n)
{
    const char *catalog = cli_catalog_opt;
    char tmp[PATH_MAX];

    if (catalog == NULL && (catalog = dbt_catalog_default_path(tmp, sizeof(tmp))) == NULL) {
        cli_error("cannot find a catalog location: set --catalog DIR");
        return NULL;
    }
    if (catalog[0] != '/') {
        if (realpath(catalog, buf) == NULL) {
            cli_error("catalog %s: %s; give an absolute path", catalog, strerror(errno));
            return NULL;
        }
        return buf;
    }
    snprintf(buf, n, "%s", catalog);
    return buf;
}

/* The provider's lines of status; 0 when not wired or wired with a module OpenSSL loads, 1
 * when wired with a module that is missing or broken, -1 when the file cannot be read. */
static int provider_status(void)
{
    char mod[PATH_MAX];
    dbt_cnf_sys s;
    dbt_err err;
    int r = dbt_cnf_system_status(&s, &err);

    if (r < 0) {
        cli_error("%s", err.msg);
        printf("system-wide provider: cannot be checked (see above)\n");
        return -1;
    }
    if (r == 1) {
        printf("system-wide provider: not wired (%s does not exist)\n", cli_esc(s.file));
        return 0;
    }
    if (!s.info.wired) {
        printf("system-wide provider: not wired in %s; 'dbtrust system enable --provider' "
               "wires it (after a package upgrade replaced the file, run it again)\n",
               cli_esc(s.target));
        return 0;
    }
    printf("system-wide provider: wired in %s for catalog %s\n", cli_esc(s.target),
           cli_esc(s.info.catalog));
    dbt_cnf_module_path(s.info.module[0] ? s.info.module : NULL, mod, sizeof(mod));
    if (dbt_cnf_module_check(mod, &err) != 0) {
        printf("system-wide provider: module %s: %s; OpenSSL programs skip the provider "
               "(soft_load) and dbtrust:// URIs fail until it is reinstalled, or run 'dbtrust "
               "system disable --provider'\n",
               cli_esc(mod), cli_esc(err.msg));
        return 1;
    }
    printf("system-wide provider: module %s loads\n", cli_esc(mod));
    return 0;
}

static int provider_action(const char *action, const char *module)
{
    char cat[PATH_MAX];
    const char *catalog;
    dbt_cnf_sys s;
    dbt_err err;
    int r;

    if (strcmp(action, "enable") == 0) {
        if ((catalog = provider_catalog(cat, sizeof(cat))) == NULL)
            return CLI_FAIL;
        if (dbt_cnf_system_enable(catalog, module, &s, &err) != 0) {
            cli_error("%s", err.msg);
            cli_error("the system-wide provider is not enabled; %s is as it was",
                      s.target[0] ? s.target : s.file);
            return CLI_FAIL;
        }
        printf("%s: provider %s in %s for catalog %s; 'dbtrust system disable --provider' "
               "restores the file\n",
               s.changed ? "enabled" : "already enabled, nothing changed",
               s.info.module[0] ? cli_esc(s.info.module)
                                : "dbtrust.so (OpenSSL's modules "
                                  "directory)",
               cli_esc(s.target), cli_esc(s.info.catalog));
        return CLI_OK;
    }
    r = dbt_cnf_system_disable(&s, &err);
    if (r < 0) {
        cli_error("%s", err.msg);
        cli_error("the system-wide provider is still enabled; the file is as it was");
        return CLI_FAIL;
    }
    if (r == 1)
        printf("system-wide provider is not wired in %s; nothing to disable\n",
               cli_esc(s.target[0] ? s.target : s.file));
    else
        printf("disabled: removed the provider's lines from %s (the file is as it was before "
               "enable)\n",
               cli_esc(s.target));
    return CLI_OK;
}

int cli_cmd_system(int argc, char **argv)
{
    const char *action, *module = NULL;
    dbt_sys_result r;
    int want_bundle = 0, provider = 0, rc, i;

    if (argc < 2) {
        system_usage(stderr);
        return CLI_USAGE;
    }
    action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
        system_usage(stdout);
        return CLI_OK;
    }
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--bundle-file") == 0 && strcmp(action, "enable") == 0)
            want_bundle = 1;
        else if (strcmp(argv[i], "--provider") == 0 &&
                 (strcmp(action, "enable") == 0 || strcmp(action, "disable") == 0 ||
                  strcmp(action, "status") == 0))
            provider = 1;
        else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc && strcmp(action, "enable") == 0)
            module = argv[++i];
        else {
            system_usage(stderr);
            return CLI_USAGE;
        }
    }
    if ((module != NULL && !provider) || (want_bundle && provider)) {
        cli_error("--module goes with enable --provider, and --bundle-file not with --provider");
        return CLI_USAGE;
    }
    if (provider && strcmp(action, "status") == 0)
        return provider_status() == 0 ? CLI_OK : CLI_FAIL;
    if (provider)
        return provider_action(action, module);
    if (strcmp(action, "status") == 0)
        return system_status();
    if (strcmp(action, "enable") == 0)
        rc = dbt_sys_enable(open_named, NULL, want_bundle, &r, cli_sys_report, NULL);
    else if (strcmp(action, "disable") == 0)
        rc = dbt_sys_disable(&r, cli_sys_report, NULL);
    else if (strcmp(action, "refresh") == 0)
        rc = dbt_sys_refresh(&r, cli_sys_report, NULL);
    else {
        cli_error("unknown system action '%s': use enable, disable, status or refresh", action);
        return CLI_USAGE;
    }
    switch (rc) {
    case 0:
        break;
    case DBT_SYS_NOT_ENABLED:
        printf("system wiring is not enabled; nothing to %s\n", action);
        return CLI_OK;
    case DBT_SYS_OTHER_CATALOG:
        cli_error("catalog %s is already wired into %s; run 'dbtrust system disable' first",
                  r.state.catalog, r.state.target);
        return CLI_FAIL;
    case DBT_SYS_UNDONE:
        if (strcmp(action, "enable") == 0)
            cli_error("enable failed; %s is as it was", r.state.target);
        else
            cli_error("disable failed; %s is as it was and the wiring stays enabled",
                      r.state.target);
        return CLI_FAIL;
    case DBT_SYS_PARTWAY:
        cli_error("refresh stopped part-way; rerun 'dbtrust system refresh' once the cause is "
                  "fixed");
        return CLI_FAIL;
    default:
        return CLI_FAIL; /* said why */
    }
    if (strcmp(action, "disable") == 0) {
        if (r.state.bundle_file)
            printf("disabled: removed dbtrust's %zu certificate%s from %s\n", r.removed,
                   r.removed == 1 ? "" : "s", cli_esc(r.state.target));
        else
            printf("disabled: removed %zu certificate link%s from %s\n", r.removed,
                   r.removed == 1 ? "" : "s", cli_esc(r.state.target));
    } else if (r.state.bundle_file) {
        printf("%s: %zu catalog certificate%s appended to %s\n", action, r.n, r.n == 1 ? "" : "s",
               cli_esc(r.state.target));
        if (strcmp(action, "enable") == 0)
            printf("cost: every program that loads OpenSSL's default paths now parses %zu more "
                   "certificate%s per SSL_CTX (libpq: per connection); with the 108 AWS RDS "
                   "roots this measured +80%% trust setup time on OpenSSL 3.0 "
                   "(bench/trust-setup.sh). Use plain 'dbtrust system enable' where the default "
                   "directory is read.\n",
                   r.n, r.n == 1 ? "" : "s");
    } else {
        printf("%s: %zu catalog certificate%s linked into %s (%zu new, %zu removed)\n", action, r.n,
               r.n == 1 ? "" : "s", cli_esc(r.state.target), r.added, r.removed);
    }
    jvm_report(action, &r);
    return CLI_OK;
}
