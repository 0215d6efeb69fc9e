/* Catalog commands: import, list, remove, export (check is cli/check_fmt.c). Every change is one
 * catalog transaction, so a failure anywhere leaves the catalog exactly as it was. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "escape.h"
#include "encode.h"
#include "hashdir.h"
#include "import.h"
#include "scope.h"

/* ---------------------------------------------------------------- helpers */

static void iso_date(int64_t t, char *out, size_t n, int with_time)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, n, with_time ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
}

static void key_desc(const dbt_certinfo *ci, char *out, size_t n)
{
    if (ci->key_curve[0] != '\0')
        snprintf(out, n, "%s %s", ci->key_type, ci->key_curve);
    else
        snprintf(out, n, "%s %d", ci->key_type, ci->key_bits);
}

/* ---------------------------------------------------------------- import */

static void import_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] import --bundle NAME [options] FILE...|-\n\n"
            "Imports every certificate of every input (PEM, DER, PKCS#7, PKCS#12, JKS) as the\n"
            "bundle NAME, replacing it atomically if it exists, and prints what was added and\n"
            "removed. A certificate whose trust settings restrict it (a TRUSTED CERTIFICATE\n"
            "rejected for or not trusted for some purpose) refuses the whole import.\n\n"
            "  -b, --bundle NAME    bundle name ([A-Za-z0-9._-], up to 64 characters)\n"
            "      --allow-leaf     also import certificates that are not CAs\n"
            "      --no-expired     skip expired certificates instead of importing them\n"
            "  -p, --password PASS  password of PKCS#12 or JKS inputs\n"
            "      --origin TEXT    record TEXT as the origin instead of the file names\n"
            "      --only-for NAME  scope: OpenSSL's default trust (env, system enable) accepts\n"
            "                       the bundle's CAs only for NAME: example.com (it and its\n"
            "                       subdomains), .example.com or *.example.com (subdomains\n"
            "                       only), 10.0.0.0/8 or 2001:db8::/32 (an IP range); repeat for\n"
            "                       more (at most %d); without it a bundle keeps its scope\n"
            "      --unscoped       record no scope: the CAs are trusted for every name\n"
            "  -q, --quiet          print nothing but errors and warnings\n"
            "  -h, --help           show this help\n",
            DBT_SCOPE_MAX_ITEMS);
}

int cli_scope_option(char *scope, size_t len, int unscoped, const char *value)
{
    dbt_err err;

    if (unscoped) {
        cli_error("--only-for and --unscoped exclude each other");
        return -1;
    }
    if (dbt_scope_add(scope, len, value, &err) != 0) {
        cli_error("--only-for: %s", err.msg);
        return -1;
    }
    return 0;
}

int cli_import_commit(dbt_import *imp, int quiet)
{
    dbt_import_report report = {0};
    dbt_catalog *cat = NULL;
    dbt_err err;
    int crc, rc = CLI_FAIL;

    if (cli_open_catalog(DBT_CAT_CREATE, &cat) != 0)
        return CLI_FAIL;
    if ((crc = dbt_import_commit(imp, cat, quiet ? NULL : &report, &err)) < 0) {
        cli_error("%s; the catalog is unchanged", err.msg);
        goto end;
    }
    if (crc == DBT_CATALOG_COMMITTED_BEHIND)
        goto end; /* the wiring said why */
    if (!quiet)
        cli_report_change(&report);
    rc = CLI_OK;
end:
    dbt_import_report_clear(&report);
    dbt_catalog_close(cat);
    return rc;
}

int cli_import_files(const dbt_import_opts *opts, int n, char *const files[], int quiet)
{
    dbt_import *imp = NULL;
    dbt_import_counts cnt;
    unsigned char *data = NULL;
    size_t len;
    dbt_err err;
    int k, c, arc, rc = CLI_FAIL;

    if (dbt_catalog_check_name(opts->bundle, &err) != 0) {
        cli_error("%s", err.msg);
        return CLI_USAGE;
    }
    for (k = 0, c = 0; k < n; k++)
        c += strcmp(files[k], "-") == 0;
    if (c > 1) {
        cli_error("standard input ('-') can be given only once");
        return CLI_USAGE;
    }
    if ((imp = dbt_import_new(opts, cli_import_event, NULL, &err)) == NULL) {
        cli_error("%s", err.msg);
        goto end;
    }
    /* Each input is read, checked and filtered on its own, so that every message names the
     * file and the certificate's number in that file; nothing is opened before all passed. */
    for (k = 0; k < n; k++) {
        if (dbt_read_all(files[k], &data, &len, &err) != 0) {
            cli_error("%s", err.msg);
            cli_error("nothing was imported; the catalog is unchanged");
            goto end;
        }
        arc =
            dbt_import_add(imp, strcmp(files[k], "-") == 0 ? "<stdin>" : files[k], data, len, &err);
        free(data);
        data = NULL;
        if (arc == -1 || arc == DBT_IMPORT_E_DECODE) {
            /* A keystore read without its password says so in the trust check too. */
            cli_pass_hint(&err, "--password");
            cli_error("%s", err.msg);
        }
        if (arc != 0) {
            cli_error("nothing was imported; the catalog is unchanged");
            goto end;
        }
    }
    cnt = dbt_import_get_counts(imp);
    if (cnt.kept == 0) {
        char why[160] = "";

        if (cnt.leaf > 0)
            snprintf(why, sizeof(why), "; %zu %s not a CA (add --allow-leaf to import %s)",
                     cnt.leaf, cnt.leaf == 1 ? "is" : "are", cnt.leaf == 1 ? "it" : "them");
        if (cnt.expired > 0)
            snprintf(why + strlen(why), sizeof(why) - strlen(why),
                     "; %zu expired (skipped because of --no-expired)", cnt.expired);
        cli_error("nothing to import into bundle '%s': the input%s held %zu certificate%s%s; the "
                  "catalog is unchanged",
                  opts->bundle, n == 1 ? "" : "s", cnt.seen, cnt.seen == 1 ? "" : "s", why);
        goto end;
    }
    rc = cli_import_commit(imp, quiet);
end:
    dbt_import_free(imp);
    return rc;
}

int cli_cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},   {"allow-leaf", no_argument, NULL, 'L'},
        {"no-expired", no_argument, NULL, 'E'},     {"password", required_argument, NULL, 'p'},
        {"origin", required_argument, NULL, 'o'},   {"quiet", no_argument, NULL, 'q'},
        {"only-for", required_argument, NULL, 'S'}, {"unscoped", no_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    static char scope[DBT_SCOPE_TEXT_MAX];
    dbt_import_opts o = {0};
    int quiet = 0, c, unscoped = 0;

    o.leaf = DBT_IMPORT_LEAF_SKIP;
    o.keep_alias = 1;
    while ((c = cli_getopt_long(argc, argv, "b:p:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o.bundle = optarg;
            break;
        case 'L':
            o.leaf = DBT_IMPORT_LEAF_ALLOW;
            break;
        case 'E':
            o.skip_expired = 1;
            break;
        case 'p':
            o.password = optarg;
            break;
        case 'o':
            o.origin = optarg;
            break;
        case 'S':
            if (cli_scope_option(scope, sizeof(scope), unscoped, optarg) != 0)
                return CLI_USAGE;
            o.scope = scope;
            break;
        case 'U':
            if (o.scope != NULL && o.scope[0] != '\0') {
                cli_error("--only-for and --unscoped exclude each other");
                return CLI_USAGE;
            }
            unscoped = 1;
            o.scope = "";
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            import_usage(stdout);
            return CLI_OK;
        default:
            import_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (o.bundle == NULL || optind >= argc) {
        cli_error("import needs --bundle NAME and at least one FILE (or - for standard input)");
        import_usage(stderr);
        return CLI_USAGE;
    }
    return cli_import_files(&o, argc - optind, argv + optind, quiet);
}

/* ---------------------------------------------------------------- list and check */

struct row_filter {
    const char *bundle; /* only this bundle, or NULL */
    long expiring;      /* only certificates with fewer days left, or -1 */
    int64_t now;        /* what days are counted from */
};

/* Calls fn for every (bundle, certificate) pair of the catalog that passes the filter: bundles
 * by name, each in its stored order (the order it was imported in). */
typedef int (*row_fn)(void *arg, const dbt_catalog_entry *e, const dbt_certinfo *ci, long days);

static int for_each_row(dbt_catalog *cat, const struct row_filter *f, row_fn fn, void *arg)
{
    dbt_catalog_entry *bundles = NULL;
    dbt_bundle *b = NULL;
    dbt_certinfo ci;
    dbt_err err;
    size_t nb = 0, i, j;
    int rc = -1, found = f->bundle == NULL;

    if (dbt_catalog_list(cat, &bundles, &nb, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    for (i = 0; i < nb; i++) {
        if (f->bundle != NULL && strcmp(bundles[i].name, f->bundle) != 0)
            continue;
        found = 1;
        if (dbt_catalog_load(cat, bundles[i].name, &b, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
        for (j = 0; j < b->n; j++) {
            long days;

            if (dbt_certinfo_get(b->certs[j].x509, &ci, &err) != 0) {
                cli_error("certificate %zu of bundle '%s' in %s: %s", j + 1, bundles[i].name,
                          dbt_catalog_path(cat), err.msg);
                goto end;
            }
            days = dbt_days_left(ci.not_after, f->now);
            if (f->expiring >= 0 && days >= f->expiring)
                continue;
            if (fn(arg, &bundles[i], &ci, days) != 0)
                goto end;
        }
        dbt_bundle_free(b);
        b = NULL;
    }
    if (!found) {
        cli_error("catalog %s has no bundle named '%s': '%s list' shows the bundles",
                  dbt_catalog_path(cat), f->bundle, cli_progname);
        goto end;
    }
    rc = 0;
end:
    dbt_bundle_free(b);
    free(bundles);
    return rc;
}

/* A JSON string of s, escaped as the text output is (valid UTF-8 whatever s holds). */
static json_t *json_str(const char *s)
{
    return cli_json_str(s);
}

struct list_ctx {
    json_t *json; /* array, or NULL for text */
    size_t rows;
    long warn_days; /* "expires in N days" below this many days */
    int64_t now;    /* the row filter's */
};

static int list_row(void *arg, const dbt_catalog_entry *e, const dbt_certinfo *ci, long days)
{
    const char *bundle = e->name;
    struct list_ctx *ctx = arg;
    char nb[32], na[32], key[64], st[64];
    dbt_cert_status status = dbt_certinfo_status(ci, ctx->now, ctx->warn_days, 0, NULL);

    iso_date(ci->not_before, nb, sizeof(nb), 1);
    iso_date(ci->not_after, na, sizeof(na), 1);
    key_desc(ci, key, sizeof(key));
    ctx->rows++;
    if (ctx->json != NULL) {
        json_t *o = json_object();
        int bad = o == NULL;

        bad |= json_object_set_new(o, "bundle", json_str(bundle)) != 0;
        bad |= json_object_set_new(o, "subject", json_str(ci->subject)) != 0;
        bad |= json_object_set_new(o, "issuer", json_str(ci->issuer)) != 0;
        bad |= json_object_set_new(o, "sha256", json_str(ci->sha256)) != 0;
        bad |= json_object_set_new(o, "sha1", json_str(ci->sha1)) != 0;
        bad |= json_object_set_new(o, "serial", json_str(ci->serial)) != 0;
        bad |= json_object_set_new(o, "not_before", json_str(nb)) != 0;
        bad |= json_object_set_new(o, "not_after", json_str(na)) != 0;
        bad |= json_object_set_new(o, "key", json_str(key)) != 0;
        bad |= json_object_set_new(o, "key_type", json_str(ci->key_type)) != 0;
        bad |= json_object_set_new(o, "key_bits", json_integer(ci->key_bits)) != 0;
        bad |=
            json_object_set_new(
                o, "curve", ci->key_curve[0] != '\0' ? json_str(ci->key_curve) : json_null()) != 0;
        bad |= json_object_set_new(o, "days_left", json_integer(days)) != 0;
        bad |= json_object_set_new(o, "is_ca", json_boolean(ci->is_ca)) != 0;
        bad |= json_object_set_new(o, "scope", cli_scope_json(e->meta.scope)) != 0;
        bad |= json_object_set_new(
                   o, "status",
                   json_str(cli_status_word(status, days, CLI_STATUS_LIST, st, sizeof(st)))) != 0;
        if (bad || json_array_append_new(ctx->json, o) != 0) {
            cli_error("out of memory");
            return -1;
        }
        return 0;
    }
    /* ci's subject comes escaped; bundle names are checked by the catalog, escaped all the same */
    printf("%-16s %.10s  %-16s %s  %s\n", cli_esc(bundle), na, key, ci->sha256, ci->subject);
    return 0;
}

/* The index parses and every certificate file it names holds the certificate its name says. */
static int check_view(dbt_catalog *cat)
{
    dbt_catalog_cert *idx = NULL;
    size_t n = 0;
    dbt_err err;
    int rc = -1;

    if (dbt_catalog_certs(cat, &idx, &n, &err) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (dbt_catalog_check_cert(cat, idx[i].sha256, &err) != 0)
            goto fail;
    rc = 0;
    goto end;
fail:
    cli_error("%s ('%s verify' checks the whole catalog)", err.msg, cli_progname);
end:
    dbt_catalog_certs_free(idx, n);
    return rc;
}

/* After the certificates, the scoped bundles: what OpenSSL's default trust accepts each for.
 * Unscoped bundles get no line (they are trusted for every name, as before scopes). */
static int list_scopes(dbt_catalog *cat, const char *only)
{
    dbt_catalog_entry *bundles = NULL;
    size_t nb = 0, shown = 0;
    dbt_err err;

    if (dbt_catalog_list(cat, &bundles, &nb, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    for (size_t i = 0; i < nb; i++) {
        if (bundles[i].meta.scope[0] == '\0' || (only != NULL && strcmp(only, bundles[i].name)))
            continue;
        if (shown++ == 0)
            printf("\n%-16s %s\n", "BUNDLE", "SCOPE (trusted by OpenSSL's defaults only for)");
        printf("%-16s %s\n", cli_esc(bundles[i].name), bundles[i].meta.scope);
    }
    free(bundles);
    return 0;
}

static void list_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] list [--bundle NAME] [--expiring DAYS] [--json]\n\n"
            "Lists the catalog's certificates: bundle, notAfter, key, SHA-256, subject; then\n"
            "each scoped bundle and the names it is trusted for.\n\n"
            "  -b, --bundle NAME     only this bundle\n"
            "      --expiring DAYS   only certificates that expire within DAYS days\n"
            "      --json            one JSON object per certificate and bundle\n"
            "  -h, --help            show this help\n");
}

static int parse_days(const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000) {
        cli_error("'%s' is not a number of days (0 to 1000000)", s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"expiring", required_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct row_filter f = {NULL, -1, (int64_t)time(NULL)};
    struct list_ctx ctx = {NULL, 0, 30, f.now};
    dbt_catalog *cat = NULL;
    int c, json = 0, rc = CLI_FAIL;

    while ((c = cli_getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            f.bundle = optarg;
            break;
        case 'e':
            if (parse_days(optarg, &f.expiring) != 0)
                return CLI_USAGE;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            list_usage(stdout);
            return CLI_OK;
        default:
            list_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("list takes no arguments ('%s')", argv[optind]);
        return CLI_USAGE;
    }
    if (f.expiring >= 0)
        ctx.warn_days = f.expiring;
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    /* What the provider and the hashed view read must be sound too, not only the bundles
     * listed: a damaged index or certificate file fails the listing (verify says it all). */
    if (check_view(cat) != 0)
        goto end;
    if (json && (ctx.json = json_array()) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    if (!json)
        printf("%-16s %-10s  %-16s %-64s  %s\n", "BUNDLE", "NOT AFTER", "KEY", "SHA-256",
               "SUBJECT");
    if (for_each_row(cat, &f, list_row, &ctx) != 0)
        goto end;
    if (json && cli_json_print(ctx.json) != 0)
        goto end;
    if (!json && list_scopes(cat, f.bundle) != 0)
        goto end;
    rc = CLI_OK;
end:
    json_decref(ctx.json);
    dbt_catalog_close(cat);
    return rc;
}

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] verify [--quiet]\n\n"
            "Checks the whole catalog: the safety rule (owners, modes, file types, links), the\n"
            "index, every certificate file against its name and the index, the hash links, the\n"
            "bundles and their .meta files (each value in the form dbtrust writes). Prints each\n"
            "problem with its path (names escaped as \\xNN) and what to do, never blocking on a\n"
            "FIFO. Exit status: 0 the catalog is sound; 1 problems found, no catalog, or\n"
            "standard output not written (then one 'writing standard output' line on standard\n"
            "error; problems never go there); 2 usage.\n\n"
            "  -q, --quiet           print nothing, only set the exit status\n"
            "  -h, --help            show this help\n");
}

struct verify_out {
    int quiet;
};

/* A write that fails here is reported once, by cli_stdout_flush below (and main's final check
 * says nothing more): the printf's errno would be gone by then anyway. */
static void verify_problem(void *arg, const char *problem)
{
    struct verify_out *o = arg;

    if (!o->quiet)
        printf("problem: %s\n", cli_esc(problem));
}

int cli_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct verify_out o = {0};
    char buf[4096];
    const char *path = cli_catalog_opt;
    dbt_err err;
    int c, n;

    while ((c = cli_getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            o.quiet = 1;
            break;
        case 'h':
            verify_usage(stdout);
            return CLI_OK;
        default:
            verify_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("verify takes no arguments ('%s')", argv[optind]);
        return CLI_USAGE;
    }
    if (path == NULL && (path = dbt_catalog_default_path(buf, sizeof(buf))) == NULL) {
        cli_error("cannot find a catalog location: set --catalog DIR or DBTRUST_CATALOG");
        return CLI_FAIL;
    }
    n = dbt_catalog_verify(path, verify_problem, &o, &err);
    if (n < 0) {
        cli_error("%s", err.msg);
        return CLI_FAIL;
    }
    if (!o.quiet) {
        if (n == 0)
            printf("catalog %s: sound\n", cli_esc(path));
        else
            printf("catalog %s: %d problem%s\n", cli_esc(path), n, n == 1 ? "" : "s");
    }
    /* Exit status 1 either way; a write failure is told apart by its one line on standard
     * error ("writing standard output: REASON"), which a damaged catalog never prints. */
    if (cli_stdout_flush() != 0)
        return CLI_FAIL;
    return n == 0 ? CLI_OK : CLI_FAIL;
}

/* ---------------------------------------------------------------- remove */

static void remove_usage(FILE *out)
{
    fprintf(out, "usage: dbtrust [--catalog DIR] remove --bundle NAME\n"
                 "       dbtrust [--catalog DIR] remove --fingerprint SHA256\n\n"
                 "Removes a bundle, or one certificate from every bundle that holds it. New\n"
                 "connections stop trusting what was removed at once.\n\n"
                 "  -b, --bundle NAME          the bundle to remove\n"
                 "  -f, --fingerprint SHA256   the certificate to remove (hex, colons allowed)\n"
                 "  -h, --help                 show this help\n");
}

int cli_remove(const char *bundle, const char *fp)
{
    dbt_catalog *cat = NULL;
    dbt_import_report report = {0};
    dbt_err err;
    int crc, rc = CLI_FAIL;

    if (cli_open_catalog(DBT_CAT_WRITE, &cat) != 0)
        return CLI_FAIL;
    if ((crc = dbt_import_remove(cat, bundle, fp, &report, &err)) < 0) {
        cli_error("%s; the catalog is unchanged", err.msg);
        goto end;
    }
    if (crc == DBT_CATALOG_COMMITTED_BEHIND)
        goto end; /* the wiring said why */
    cli_report_removed(&report);
    rc = CLI_OK;
end:
    dbt_import_report_clear(&report);
    dbt_catalog_close(cat);
    return rc;
}

int cli_cmd_remove(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"fingerprint", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bundle = NULL, *fp = NULL;
    int c;

    while ((c = cli_getopt_long(argc, argv, "b:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            bundle = optarg;
            break;
        case 'f':
            fp = optarg;
            break;
        case 'h':
            remove_usage(stdout);
            return CLI_OK;
        default:
            remove_usage(stderr);
            return CLI_USAGE;
        }
    }
    if ((bundle == NULL) == (fp == NULL) || optind != argc) {
        cli_error("remove needs exactly one of --bundle NAME or --fingerprint SHA256");
        remove_usage(stderr);
        return CLI_USAGE;
    }
    return cli_remove(bundle, fp);
}

/* ---------------------------------------------------------------- export */

static void export_usage(FILE *out)
{
    char formats[128];

    dbt_format_names(DBT_FMTF_OUT | DBT_FMTF_DIR, DBT_FMT_FIELD_NAME, ", ", " or ", formats,
                     sizeof(formats));
    fprintf(out,
            "usage: dbtrust [--catalog DIR] export --format FORMAT [--bundle NAME] OUT\n\n"
            "Writes the catalog's certificates (or one bundle's) to OUT ('-' for standard\n"
            "output), atomically: a regular OUT is complete or untouched. A device or FIFO\n"
            "is written in place; a symbolic link is refused (dbtrust(1), OUTPUT FILES).\n\n"
            "  -f, --format FORMAT  %s\n"
            "  -b, --bundle NAME    only this bundle (default: every distinct certificate)\n"
            "  -p, --password PASS  truststore password for pkcs12 and jks (default changeit)\n"
            "  -h, --help           show this help\n",
            formats);
}

/* The whole catalog as one bundle: each distinct certificate once, in fingerprint order. */
static int load_all(dbt_catalog *cat, dbt_bundle **out)
{
    dbt_catalog_cert *certs = NULL;
    dbt_bundle *b = NULL;
    dbt_err err;
    size_t n = 0, i;
    X509 *x = NULL;

    if (dbt_catalog_certs(cat, &certs, &n, &err) != 0)
        goto fail;
    if ((b = dbt_bundle_new(dbt_catalog_path(cat))) == NULL) {
        snprintf(err.msg, sizeof(err.msg), "out of memory");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        if (dbt_catalog_load_cert(cat, certs[i].sha256, &x, &err) != 0 ||
            dbt_bundle_push(b, x, (int)i + 1, 0, NULL, &err) != 0)
            goto fail;
        x = NULL;
    }
    dbt_catalog_certs_free(certs, n);
    *out = b;
    return 0;
fail:
    cli_error("%s", err.msg);
    X509_free(x);
    dbt_catalog_certs_free(certs, n);
    dbt_bundle_free(b);
    return -1;
}

const dbt_format_info *cli_output_format(const char *name)
{
    const dbt_format_info *f =
        dbt_format_by_name(name, DBT_FMTF_OUT | DBT_FMTF_DIR, DBT_FMT_MATCH_ALIASES);
    char formats[128];

    if (f == NULL) {
        dbt_format_names(DBT_FMTF_OUT | DBT_FMTF_DIR, DBT_FMT_FIELD_NAME, ", ", ", ", formats,
                         sizeof(formats));
        cli_error("unknown format '%s': use one of %s", name, formats);
    }
    return f;
}

/* Writes b to out in the named format (shared by export and convert). */
int cli_write_bundle(const dbt_bundle *b, const char *format, const char *password, const char *out)
{
    const dbt_format_info *f = cli_output_format(format);
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;
    int rc;

    if (f == NULL)
        return -1;
    if (f->write_dir != NULL) {
        /* dbt_encode checks the other formats the same way. */
        if (dbt_bundle_check_source(b, 0, &err) != 0) {
            cli_error("%s; nothing was written to %s", err.msg, out);
            return -1;
        }
        if (strcmp(out, "-") == 0) {
            cli_error("%s output needs a directory, not standard output", f->name);
            return -1;
        }
        if (f->write_dir(out, b, &err) != 0) {
            cli_error("%s", err.msg);
            return -1;
        }
        return 0;
    }
    if (dbt_encode(b, f->id, password, &data, &len, &err) != 0) {
        cli_error("%s; nothing was written to %s", err.msg, out);
        return -1;
    }
    rc = cli_write_output(out, data, len);
    OPENSSL_free(data);
    return rc;
}

int cli_cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"bundle", required_argument, NULL, 'b'},
        {"password", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "pem", *bundle = NULL, *password = NULL;
    dbt_catalog *cat = NULL;
    dbt_bundle *b = NULL;
    dbt_err err;
    int c, rc = CLI_FAIL;

    while ((c = cli_getopt_long(argc, argv, "f:b:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'b':
            bundle = optarg;
            break;
        case 'p':
            password = optarg;
            break;
        case 'h':
            export_usage(stdout);
            return CLI_OK;
        default:
            export_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_error("export needs one output path (or - for standard output)");
        export_usage(stderr);
        return CLI_USAGE;
    }
    if (cli_output_format(format) == NULL)
        return CLI_USAGE;
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if (bundle != NULL) {
        if (dbt_catalog_load(cat, bundle, &b, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
    } else if (load_all(cat, &b) != 0) {
        goto end;
    }
    if (b->n == 0) {
        /* An empty truststore is never what a client wants (Java refuses one: "the
         * trustAnchors parameter must be non-empty"), so nothing is written. */
        if (bundle != NULL)
            cli_error("nothing to export: bundle '%s' of %s holds no certificate (its last one "
                      "was removed): import into it or export another bundle; %s was not written",
                      bundle, dbt_catalog_path(cat), argv[optind]);
        else
            cli_error("nothing to export: catalog %s holds no certificate: add some with '%s "
                      "import --bundle NAME FILE'; %s was not written",
                      dbt_catalog_path(cat), cli_progname, argv[optind]);
        goto end;
    }
    if (cli_write_bundle(b, format, password, argv[optind]) != 0)
        goto end;
    if (strcmp(argv[optind], "-") != 0)
        fprintf(stderr, "wrote %zu certificate%s to %s (%s)\n", b->n, b->n == 1 ? "" : "s",
                cli_esc(argv[optind]), cli_esc(format));
    rc = CLI_OK;
end:
    dbt_bundle_free(b);
    dbt_catalog_close(cat);
    return rc;
}
