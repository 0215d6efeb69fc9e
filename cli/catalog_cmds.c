/* Catalog commands: import, list, remove, export, check. Every change is one catalog
 * transaction, so a failure anywhere leaves the catalog exactly as it was. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "encode.h"
#include "hashdir.h"

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

/* Looks up a fingerprint's subject in a bundle (for reporting removed certificates). */
static const char *subject_of(const dbt_bundle *b, const char *sha256, char *buf, size_t n)
{
    dbt_certinfo ci;
    size_t i;

    for (i = 0; b != NULL && i < b->n; i++) {
        if (dbt_certinfo_get(b->certs[i].x509, &ci, NULL) == 0 && strcmp(ci.sha256, sha256) == 0) {
            snprintf(buf, n, "%s", ci.subject);
            return buf;
        }
    }
    return "?";
}

/* The catalog records formats as [a-z0-9-] keys: "PKCS#7 (DER)" -> "pkcs-7-der". */
static void format_key(dbt_format f, char *out, size_t n)
{
    const char *s = dbt_format_name(f);
    size_t used = 0;

    for (; *s != '\0' && used + 1 < n; s++) {
        char c = *s;

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[used++] = c;
        else if (used > 0 && out[used - 1] != '-')
            out[used++] = '-';
    }
    while (used > 0 && out[used - 1] == '-')
        used--;
    out[used] = '\0';
}

static int sha256_hex(const unsigned char *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    if (EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) != 1)
        return -1;
    dbt_hex(md, sizeof(md), out);
    return 0;
}

/* ---------------------------------------------------------------- import */

static void import_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] import --bundle NAME [options] FILE...|-\n\n"
            "Imports every certificate of every input (PEM, DER, PKCS#7, PKCS#12, JKS) as the\n"
            "bundle NAME, replacing it atomically if it exists, and prints what was added and\n"
            "removed.\n\n"
            "  -b, --bundle NAME    bundle name ([A-Za-z0-9._-], up to 64 characters)\n"
            "      --allow-leaf     also import certificates that are not CAs\n"
            "      --no-expired     skip expired certificates instead of importing them\n"
            "  -p, --password PASS  password of PKCS#12 or JKS inputs\n"
            "      --origin TEXT    record TEXT as the origin instead of the file names\n"
            "  -q, --quiet          print nothing but errors and warnings\n"
            "  -h, --help           show this help\n");
}

int cli_cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'}, {"allow-leaf", no_argument, NULL, 'L'},
        {"no-expired", no_argument, NULL, 'E'},   {"password", required_argument, NULL, 'p'},
        {"origin", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *name = NULL, *password = NULL, *origin = NULL;
    int allow_leaf = 0, no_expired = 0, quiet = 0, c, rc = CLI_FAIL;
    dbt_bundle *in = NULL, *keep = NULL, *old = NULL;
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *txn = NULL;
    dbt_catalog_meta meta;
    dbt_catalog_change change = {0};
    dbt_certinfo ci;
    dbt_err err;
    size_t i, skipped = 0;
    int64_t now = (int64_t)time(NULL);
    char subj[512];

    while ((c = getopt_long(argc, argv, "b:p:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            name = optarg;
            break;
        case 'L':
            allow_leaf = 1;
            break;
        case 'E':
            no_expired = 1;
            break;
        case 'p':
            password = optarg;
            break;
        case 'o':
            origin = optarg;
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
    if (name == NULL || optind >= argc) {
        cli_error("import needs --bundle NAME and at least one FILE (or - for standard input)");
        import_usage(stderr);
        return CLI_USAGE;
    }
    if (dbt_catalog_check_name(name, &err) != 0) {
        cli_error("%s", err.msg);
        return CLI_USAGE;
    }

    memset(&meta, 0, sizeof(meta));
    if (argc - optind == 1) {
        unsigned char *data = NULL;
        size_t len = 0;

        /* Read once: the bytes we hash for the record are the bytes we decode. */
        if (dbt_read_all(argv[optind], &data, &len, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
        if (dbt_bundle_decode(data, len, strcmp(argv[optind], "-") == 0 ? "<stdin>" : argv[optind],
                              password, &in, &err) != 0) {
            free(data);
            cli_error("%s", err.msg);
            goto end;
        }
        sha256_hex(data, len, meta.sha256);
        free(data);
        format_key(in->format, meta.format, sizeof(meta.format));
    } else {
        if ((in = cli_read_inputs(argv + optind, argc - optind, password)) == NULL)
            goto end;
        snprintf(meta.format, sizeof(meta.format), "mixed");
    }
    if (origin != NULL) {
        snprintf(meta.origin, sizeof(meta.origin), "%s", origin);
    } else {
        size_t used = 0;
        int k;

        for (k = optind; k < argc && used + 1 < sizeof(meta.origin); k++)
            used += (size_t)snprintf(meta.origin + used, sizeof(meta.origin) - used, "%s%s",
                                     k > optind ? " " : "",
                                     strcmp(argv[k], "-") == 0 ? "<stdin>" : argv[k]);
    }

    /* Filter: non-CA certificates and (optionally) expired ones are named, never dropped
     * silently. */
    if ((keep = dbt_bundle_new(in->source)) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    for (i = 0; i < in->n; i++) {
        dbt_cert *ct = &in->certs[i];

        if (dbt_certinfo_get(ct->x509, &ci, &err) != 0) {
            cli_error("certificate %d of %s: %s", ct->block, in->source, err.msg);
            goto end;
        }
        if (!ci.is_ca && !allow_leaf) {
            cli_warn("certificate %d of %s is not a CA (%s): skipped; use --allow-leaf to "
                     "import it",
                     ct->block, in->source, ci.subject);
            skipped++;
            continue;
        }
        if (ci.not_after < now) {
            char d[32];

            iso_date(ci.not_after, d, sizeof(d), 0);
            if (no_expired) {
                cli_warn("certificate %d of %s expired on %s (%s): skipped (--no-expired)",
                         ct->block, in->source, d, ci.subject);
                skipped++;
                continue;
            }
            cli_warn("certificate %d of %s expired on %s (%s): imported anyway; use "
                     "--no-expired to skip expired certificates",
                     ct->block, in->source, d, ci.subject);
        }
        X509_up_ref(ct->x509);
        if (dbt_bundle_push(keep, ct->x509, ct->block, ct->line, ct->alias, &err) != 0) {
            X509_free(ct->x509);
            cli_error("%s", err.msg);
            goto end;
        }
    }
    if (keep->n == 0) {
        cli_error("nothing to import into bundle '%s': all %zu certificates of %s were skipped; "
                  "the catalog is unchanged",
                  name, in->n, in->source);
        goto end;
    }

    if (cli_open_catalog(DBT_CAT_CREATE, &cat) != 0)
        goto end;
    if (dbt_catalog_load(cat, name, &old, &err) != 0)
        old = NULL; /* a new bundle */
    if (dbt_catalog_begin(cat, &txn, &err) != 0 ||
        dbt_catalog_put(txn, name, keep, &meta, &change, &err) != 0 ||
        dbt_catalog_commit(txn, &err) != 0) {
        cli_error("%s; the catalog is unchanged", err.msg);
        goto end;
    }
    if (cli_system_refresh_after_change(cat) != 0)
        goto end;
    if (!quiet) {
        printf("bundle '%s': %zu certificate%s (%zu added, %zu removed", name,
               keep->n - change.duplicates, keep->n - change.duplicates == 1 ? "" : "s",
               change.nadded, change.nremoved);
        if (change.duplicates > 0)
            printf(", %zu duplicate%s merged", change.duplicates,
                   change.duplicates == 1 ? "" : "s");
        if (skipped > 0)
            printf(", %zu skipped", skipped);
        printf(")%s\n", change.existed ? "" : " [new bundle]");
        for (i = 0; i < change.nadded; i++)
            printf("  + %s %s\n", change.added[i],
                   subject_of(keep, change.added[i], subj, sizeof(subj)));
        for (i = 0; i < change.nremoved; i++)
            printf("  - %s %s\n", change.removed[i],
                   subject_of(old, change.removed[i], subj, sizeof(subj)));
    }
    rc = CLI_OK;
end:
    dbt_catalog_change_clear(&change);
    dbt_catalog_txn_free(txn);
    dbt_catalog_close(cat);
    dbt_bundle_free(old);
    dbt_bundle_free(keep);
    dbt_bundle_free(in);
    return rc;
}

/* ---------------------------------------------------------------- list and check */

struct row_filter {
    const char *bundle; /* only this bundle, or NULL */
    long expiring;      /* only certificates with fewer days left, or -1 */
};

/* Calls fn for every (bundle, certificate) pair of the catalog that passes the filter. */
typedef int (*row_fn)(void *arg, const char *bundle, const dbt_certinfo *ci, long days);

static int for_each_row(dbt_catalog *cat, const struct row_filter *f, row_fn fn, void *arg)
{
    dbt_catalog_cert *certs = NULL;
    dbt_certinfo ci;
    dbt_err err;
    size_t n = 0, i, j;
    int rc = -1, found_bundle = f->bundle == NULL;
    X509 *x = NULL;

    if (f->bundle != NULL) {
        dbt_catalog_meta meta;

        if (dbt_catalog_get_meta(cat, f->bundle, &meta, &err) != 0) {
            cli_error("%s", err.msg);
            return -1;
        }
        found_bundle = 1;
    }
    if (dbt_catalog_certs(cat, &certs, &n, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    for (i = 0; i < n; i++) {
        long days;

        for (j = 0; j < certs[i].nbundles; j++)
            if (f->bundle == NULL || strcmp(certs[i].bundles[j], f->bundle) == 0)
                break;
        if (j == certs[i].nbundles)
            continue;
        if (dbt_catalog_load_cert(cat, certs[i].sha256, &x, &err) != 0 ||
            dbt_certinfo_get(x, &ci, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
        X509_free(x);
        x = NULL;
        days = cli_days_left(ci.not_after);
        if (f->expiring >= 0 && days >= f->expiring)
            continue;
        for (j = 0; j < certs[i].nbundles; j++) {
            if (f->bundle != NULL && strcmp(certs[i].bundles[j], f->bundle) != 0)
                continue;
            if (fn(arg, certs[i].bundles[j], &ci, days) != 0)
                goto end;
        }
    }
    rc = found_bundle ? 0 : -1;
end:
    X509_free(x);
    dbt_catalog_certs_free(certs, n);
    return rc;
}

struct list_ctx {
    json_t *json; /* array, or NULL for text */
    size_t rows;
    int check; /* check's wording */
};

static const char *status_of(long days, long warn_days, char *buf, size_t n)
{
    if (days < 0)
        return "expired";
    if (days < warn_days) {
        snprintf(buf, n, "expires in %ld day%s", days, days == 1 ? "" : "s");
        return buf;
    }
    return "ok";
}

static int list_row(void *arg, const char *bundle, const dbt_certinfo *ci, long days)
{
    struct list_ctx *ctx = arg;
    char nb[32], na[32], key[64], st[64];

    iso_date(ci->not_before, nb, sizeof(nb), 1);
    iso_date(ci->not_after, na, sizeof(na), 1);
    key_desc(ci, key, sizeof(key));
    ctx->rows++;
    if (ctx->json != NULL) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:b, s:s}",
                              "bundle", bundle, "subject", ci->subject, "issuer", ci->issuer,
                              "sha256", ci->sha256, "sha1", ci->sha1, "serial", ci->serial,
                              "not_before", nb, "not_after", na, "key_bits", ci->key_bits,
                              "key_type", ci->key_type, "days_left", (json_int_t)days, "is_ca",
                              ci->is_ca, "status", status_of(days, 30, st, sizeof(st)));
        if (o == NULL || json_array_append_new(ctx->json, o) != 0) {
            cli_error("out of memory");
            return -1;
        }
        return 0;
    }
    if (ctx->check)
        printf("%s  %s  %s  %s\n", status_of(days, LONG_MAX, st, sizeof(st)), bundle, na,
               ci->subject);
    else
        printf("%-16s %.10s  %-16s %s  %s\n", bundle, na, key, ci->sha256, ci->subject);
    return 0;
}

static void list_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] list [--bundle NAME] [--expiring DAYS] [--json]\n\n"
            "Lists the catalog's certificates: bundle, notAfter, key, SHA-256, subject.\n\n"
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
    struct row_filter f = {NULL, -1};
    struct list_ctx ctx = {NULL, 0, 0};
    dbt_catalog *cat = NULL;
    int c, json = 0, rc = CLI_FAIL;

    while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
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
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if (json && (ctx.json = json_array()) == NULL)
        goto end;
    if (!json)
        printf("%-16s %-10s  %-16s %-64s  %s\n", "BUNDLE", "NOT AFTER", "KEY", "SHA-256",
               "SUBJECT");
    if (for_each_row(cat, &f, list_row, &ctx) != 0)
        goto end;
    if (json) {
        if (json_dumpf(ctx.json, stdout, JSON_INDENT(2)) != 0)
            goto end;
        putchar('\n');
    }
    rc = CLI_OK;
end:
    json_decref(ctx.json);
    dbt_catalog_close(cat);
    return rc;
}

static void check_usage(FILE *out)
{
    fprintf(out, "usage: dbtrust [--catalog DIR] check [--days N] [--bundle NAME]\n\n"
                 "Exits 1 and lists the certificates that are expired or expire within N days\n"
                 "(default 30); exits 0 and prints nothing else when there are none.\n\n"
                 "  -d, --days N         warning window in days (default 30)\n"
                 "  -b, --bundle NAME    only this bundle\n"
                 "  -h, --help           show this help\n");
}

int cli_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"days", required_argument, NULL, 'd'},
        {"bundle", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct row_filter f = {NULL, 30};
    struct list_ctx ctx = {NULL, 0, 1};
    dbt_catalog *cat = NULL;
    int c, rc = CLI_FAIL;

    while ((c = getopt_long(argc, argv, "d:b:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (parse_days(optarg, &f.expiring) != 0)
                return CLI_USAGE;
            break;
        case 'b':
            f.bundle = optarg;
            break;
        case 'h':
            check_usage(stdout);
            return CLI_OK;
        default:
            check_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("check takes no arguments ('%s')", argv[optind]);
        return CLI_USAGE;
    }
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if (for_each_row(cat, &f, list_row, &ctx) != 0)
        goto end;
    if (ctx.rows > 0) {
        fprintf(stderr, "%s: %zu certificate%s expired or expiring within %ld days\n", cli_progname,
                ctx.rows, ctx.rows == 1 ? "" : "s", f.expiring);
        goto end;
    }
    printf("ok: no certificate expires within %ld days\n", f.expiring);
    rc = CLI_OK;
end:
    dbt_catalog_close(cat);
    return rc;
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

int cli_cmd_remove(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"fingerprint", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bundle = NULL, *fp = NULL;
    dbt_catalog *cat = NULL;
    dbt_catalog_txn *txn = NULL;
    dbt_catalog_change change = {0};
    dbt_err err;
    int c, rc = CLI_FAIL;
    size_t i;

    while ((c = getopt_long(argc, argv, "b:f:h", opts, NULL)) != -1) {
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
    if (cli_open_catalog(DBT_CAT_WRITE, &cat) != 0)
        return CLI_FAIL;
    if (dbt_catalog_begin(cat, &txn, &err) != 0 ||
        (bundle != NULL ? dbt_catalog_remove(txn, bundle, &change, &err)
                        : dbt_catalog_remove_cert(txn, fp, &change, &err)) != 0 ||
        dbt_catalog_commit(txn, &err) != 0) {
        cli_error("%s; the catalog is unchanged", err.msg);
        goto end;
    }
    if (cli_system_refresh_after_change(cat) != 0)
        goto end;
    if (bundle != NULL) {
        printf("removed bundle '%s' (%zu certificate%s)\n", bundle, change.nremoved,
               change.nremoved == 1 ? "" : "s");
    } else {
        printf("removed certificate %s from %zu bundle%s:", fp, change.nbundles,
               change.nbundles == 1 ? "" : "s");
        for (i = 0; i < change.nbundles; i++)
            printf(" %s", change.bundles[i]);
        putchar('\n');
    }
    rc = CLI_OK;
end:
    dbt_catalog_change_clear(&change);
    dbt_catalog_txn_free(txn);
    dbt_catalog_close(cat);
    return rc;
}

/* ---------------------------------------------------------------- export */

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] export --format FORMAT [--bundle NAME] OUT\n\n"
            "Writes the catalog's certificates (or one bundle's) to OUT ('-' for standard\n"
            "output), atomically: OUT is complete or untouched.\n\n"
            "  -f, --format FORMAT  pem, der, p7b, p7b-der, pkcs12, jks or hashed-dir\n"
            "  -b, --bundle NAME    only this bundle (default: every distinct certificate)\n"
            "  -p, --password PASS  truststore password for pkcs12 and jks (default changeit)\n"
            "  -h, --help           show this help\n");
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

/* Writes b to out in the named format (shared by export and convert). */
int cli_write_bundle(const dbt_bundle *b, const char *format, const char *password, const char *out)
{
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;
    int fmt, rc;

    if (strcmp(format, "hashed-dir") == 0) {
        if (strcmp(out, "-") == 0) {
            cli_error("hashed-dir output needs a directory, not standard output");
            return -1;
        }
        if (dbt_hashdir_write(out, b, &err) != 0) {
            cli_error("%s", err.msg);
            return -1;
        }
        return 0;
    }
    if ((fmt = dbt_outfmt_from_name(format)) < 0) {
        cli_error("unknown format '%s': use one of %s, hashed-dir", format, dbt_outfmt_names());
        return -1;
    }
    if (dbt_encode(b, (dbt_outfmt)fmt, password, &data, &len, &err) != 0) {
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

    while ((c = getopt_long(argc, argv, "f:b:p:h", opts, NULL)) != -1) {
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
    if (strcmp(format, "hashed-dir") != 0 && dbt_outfmt_from_name(format) < 0) {
        cli_error("unknown format '%s': use one of %s, hashed-dir", format, dbt_outfmt_names());
        return CLI_USAGE;
    }
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
        cli_error("nothing to export: %s is empty", bundle ? bundle : dbt_catalog_path(cat));
        goto end;
    }
    if (cli_write_bundle(b, format, password, argv[optind]) != 0)
        goto end;
    if (strcmp(argv[optind], "-") != 0)
        fprintf(stderr, "wrote %zu certificate%s to %s (%s)\n", b->n, b->n == 1 ? "" : "s",
                argv[optind], format);
    rc = CLI_OK;
end:
    dbt_bundle_free(b);
    dbt_catalog_close(cat);
    return rc;
}
