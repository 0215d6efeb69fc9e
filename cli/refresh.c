/* dbtrust refresh: downloads again every bundle that came from a known source or from https://
 * URLs (the URLs its .meta records), each one committed on its own, refusing a download that
 * would empty a bundle or remove most of its CAs; made to run from a timer. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "catalog.h"
#include "commands.h"
#include "download.h"
#include "import.h"

static void refresh_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] refresh [options]\n\n"
            "Downloads again, over HTTPS, every bundle that `dbtrust fetch` made (its .meta has\n"
            "source=) or whose origin is https:// URLs, from the URLs its origin records, and\n"
            "commits each bundle on its own, printing what was added and removed. Bundles\n"
            "imported from files are skipped and listed. The bundle's scope is kept. A download\n"
            "that fails, does not parse, would leave the bundle empty or would remove more than\n"
            "half of its certificates changes nothing for that bundle; the others still refresh.\n"
            "Each successful download records refreshed= (UTC), also when nothing changed.\n\n"
            "  -b, --bundle NAME  refresh only NAME (repeat it for more); naming a bundle that\n"
            "                     cannot be refreshed is an error\n"
            "  -f, --force        accept a download that removes more than half of a bundle's\n"
            "                     certificates or leaves it empty\n"
            "  -n, --dry-run      download and print what would change; commit nothing\n"
            "  -c, --ca-file F    trust only the CA certificates in F for the downloads (a\n"
            "                     private mirror)\n"
            "  -t, --timeout S    give up on one download after S seconds (default %d)\n"
            "  -q, --quiet        print only changes and errors\n"
            "  -h, --help         show this help\n\n"
            "Exit status: 0 every refreshable bundle was refreshed, changed or not (also when\n"
            "there is nothing to refresh); 1 at least one bundle failed or was refused; 2 usage.\n"
            "At most %d URLs a bundle, %u MiB a download.\n",
            CLI_DL_DEFAULT_TIMEOUT, CLI_DL_MAX_URLS, CLI_DL_MAX_BYTES >> 20);
}

/* How a bundle's .meta says it can be refreshed. */
enum { RB_SKIP, RB_URLS, RB_BAD };

/*
 * Splits m->origin into its URLs (buf holds them, urls points into it) when the bundle can be
 * refreshed: source= set, or an origin of https:// URLs only. Such an origin must be what fetch
 * records for URLs it could download: 1 to CLI_DL_MAX_URLS URLs separated by one space, each
 * "https://" then printable ASCII, no backslash (lib/escape.h's rule writes every byte a URL
 * should not hold as \xNN, so an escape means the URL is not the one downloaded). RB_BAD with
 * *why set when it is not; RB_SKIP (imported from a file) when neither holds.
 */
static int classify(const dbt_catalog_meta *m, char *buf, size_t len, const char **urls, size_t *n,
                    const char **why)
{
    size_t k = 0;
    int all_https = 1, printable = 1;
    char *p, *tok;

    *n = 0;
    *why = NULL;
    snprintf(buf, len, "%s", m->origin);
    for (p = buf; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 && *p != ' ')
            printable = 0;
        else if ((unsigned char)*p >= 0x7f || *p == '\\')
            printable = 0;
    /* Tokens split on single spaces: an empty one (two spaces, a leading or trailing space) is
     * no URL. */
    for (tok = buf;; tok = p + 1) {
        p = strchr(tok, ' ');
        if (p != NULL)
            *p = '\0';
        if (strncmp(tok, "https://", 8) != 0 || tok[8] == '\0')
            all_https = 0;
        else if (k < CLI_DL_MAX_URLS)
            urls[k] = tok;
        k++;
        if (p == NULL)
            break;
    }
    if (m->source[0] == '\0' && (!all_https || buf[0] == '\0'))
        return RB_SKIP;
    if (!all_https || buf[0] == '\0')
        *why = "its origin is not a list of https:// URLs";
    else if (!printable)
        *why = "its origin holds a control character, a byte that is not printable ASCII or an "
               "escape (\\xNN), so it is not the URL a download used";
    else if (k > CLI_DL_MAX_URLS)
        *why = "its origin holds more URLs than a bundle may have";
    if (*why != NULL)
        return RB_BAD;
    *n = k;
    return RB_URLS;
}

struct refresh_ctx {
    const char *ca_file;
    long timeout;
    int quiet, force, dry_run;
    char now[32];
    size_t refreshed, changed, failed, skipped;
};

/* What the check of one bundle decided (dbt_import_opts.check). */
struct refresh_check {
    const struct refresh_ctx *c;
    int refused;
};

/* Refuses a download that would leave the bundle empty or take more than half of its
 * certificates away, unless forced; a dry run never commits. Runs under the writer lock, on
 * the numbers the commit would have. */
static int refresh_check(void *arg, const dbt_import_report *r, dbt_err *err)
{
    struct refresh_check *k = arg;
    size_t old = r->count + r->nremoved - r->nadded;

    if (!k->c->force && (r->count == 0 || r->nremoved * 2 > old)) {
        dbt_err_set(err,
                    "bundle '%s': the download would %s (%zu of its %zu certificates removed, "
                    "%zu added, %zu left); refused: the catalog keeps the old bundle. Check the "
                    "source; to accept it run dbtrust refresh --force --bundle %s",
                    r->bundle, r->count == 0 ? "leave it empty" : "remove more than half of it",
                    r->nremoved, old, r->nadded, r->count, r->bundle);
        k->refused = 1;
        return 1;
    }
    return k->c->dry_run;
}

/* Refreshes one bundle from the URLs listed (seen holds its .meta as listed); counts the outcome.
 */
static void refresh_one(struct refresh_ctx *c, const char *name, const dbt_catalog_meta *seen,
                        const char *const *urls, size_t n)
{
    struct refresh_check chk = {c, 0};
    dbt_import_opts io = {0};
    dbt_import_report report = {0};
    dbt_import *imp = NULL;
    dbt_catalog *cat = NULL;
    dbt_catalog_meta now;
    char outcome[DBT_CATALOG_NAME_MAX + 64];
    dbt_err err;
    int crc, ok = 0;

    snprintf(outcome, sizeof(outcome), "bundle '%s' is unchanged", name);
    io.bundle = name;
    io.leaf = DBT_IMPORT_LEAF_REFUSE; /* as fetch: a server certificate is not a CA bundle */
    io.scope = NULL;                  /* the bundle keeps its own scope, read under the lock */
    io.source = seen->source[0] != '\0' ? seen->source : NULL;
    io.refreshed = c->now;
    io.check = refresh_check;
    io.check_arg = &chk;
    if ((imp = dbt_import_new(&io, cli_fetch_event, NULL, &err)) == NULL) {
        cli_error("%s; %s", err.msg, outcome);
        goto end;
    }
    if (cli_dl_import(imp, urls, n, c->ca_file, c->timeout, c->quiet, outcome) != 0)
        goto end;
    if (cli_open_catalog(DBT_CAT_WRITE, &cat) != 0)
        goto end;
    /* Another writer may have changed the bundle while it was downloaded: what was downloaded
     * is then not what it records, and is not committed over it. */
    if (dbt_catalog_get_meta(cat, name, &now, &err) != 0 || strcmp(now.origin, seen->origin) != 0 ||
        strcmp(now.source, seen->source) != 0) {
        cli_error("bundle '%s' was removed or changed while it was being downloaded; it is left "
                  "as the other writer made it: run dbtrust refresh again",
                  name);
        goto end;
    }
    crc = dbt_import_commit(imp, cat, &report, &err);
    if (crc == DBT_IMPORT_REFUSED && !chk.refused) { /* a dry run */
        cli_report_change(&report);
        printf("  (dry run: not committed)\n");
        c->changed += report.nadded + report.nremoved > 0;
        ok = 1;
        goto end;
    }
    if (crc == DBT_IMPORT_REFUSED) {
        cli_error("%s", err.msg);
        cli_report_change(&report); /* what it would have done, to decide on */
        goto end;
    }
    if (crc < 0) {
        cli_error("%s; %s", err.msg, outcome);
        goto end;
    }
    int changed = report.nadded + report.nremoved > 0;
    if (!c->quiet || changed)
        cli_report_change(&report);
    if (crc == DBT_CATALOG_COMMITTED_BEHIND) {
        /* Committed, but the system wiring could not follow; it said why. */
        cli_error("bundle '%s' was refreshed but the system trust is behind it (see above)", name);
        goto end;
    }
    c->changed += changed;
    ok = 1;
end:
    if (ok)
        c->refreshed++;
    else
        c->failed++;
    dbt_import_report_clear(&report);
    dbt_catalog_close(cat);
    dbt_import_free(imp);
}

/* The catalog's location, for the message of a host with nothing to refresh. */
static const char *catalog_shown(char *buf, size_t len)
{
    const char *p = cli_catalog_opt;

    if (p == NULL)
        p = dbt_catalog_default_path(buf, len);
    return p != NULL ? p : "(none)";
}

int cli_cmd_refresh(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},  {"force", no_argument, NULL, 'f'},
        {"dry-run", no_argument, NULL, 'n'},       {"ca-file", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct refresh_ctx c = {0};
    const char **names = NULL, *urls[CLI_DL_MAX_URLS], *why;
    char *found = NULL, buf[sizeof(((dbt_catalog_meta *)0)->origin)], path[4096];
    size_t nnames = 0, nentries = 0, i, j, n, todo = 0;
    dbt_catalog_entry *entries = NULL;
    dbt_catalog *cat = NULL;
    dbt_err err;
    int ch, rc = CLI_FAIL, kind;
    time_t t;

    c.timeout = CLI_DL_DEFAULT_TIMEOUT;
    /* At most one name per argument. */
    if ((names = calloc((size_t)argc + 1, sizeof(*names))) == NULL) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    while ((ch = cli_getopt_long(argc, argv, "b:fnc:t:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            if (dbt_catalog_check_name(optarg, &err) != 0) {
                cli_error("%s", err.msg);
                rc = CLI_USAGE;
                goto end;
            }
            names[nnames++] = optarg;
            break;
        case 'f':
            c.force = 1;
            break;
        case 'n':
            c.dry_run = 1;
            break;
        case 'c':
            c.ca_file = optarg;
            break;
        case 't':
            if (cli_dl_timeout(optarg, &c.timeout) != 0) {
                rc = CLI_USAGE;
                goto end;
            }
            break;
        case 'q':
            c.quiet = 1;
            break;
        case 'h':
            refresh_usage(stdout);
            rc = CLI_OK;
            goto end;
        default:
            refresh_usage(stderr);
            rc = CLI_USAGE;
            goto end;
        }
    }
    if (optind != argc) {
        cli_error("refresh takes no arguments (got '%s'); name bundles with --bundle",
                  argv[optind]);
        refresh_usage(stderr);
        rc = CLI_USAGE;
        goto end;
    }
    t = time(NULL);
    if (strftime(c.now, sizeof(c.now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t)) == 0) {
        cli_error("cannot format the current time");
        goto end;
    }

    /* The bundles as one snapshot shows them; each is checked again under the writer lock
     * before its commit. A host with no catalog has nothing to refresh. */
    {
        const char *p = cli_catalog_opt;

        if (p == NULL)
            p = dbt_catalog_default_path(path, sizeof(path));
        if (p != NULL && dbt_catalog_open(p, DBT_CAT_READ, &cat, &err) != 0) {
            if (nnames == 0 &&
                (err.hint == DBT_HINT_CREATE_CATALOG || err.hint == DBT_HINT_INIT_CATALOG)) {
                if (!c.quiet)
                    printf("nothing to refresh: there is no catalog at %s\n", cli_esc(p));
                rc = CLI_OK;
                goto end;
            }
        }
        if (cat == NULL && cli_open_catalog(DBT_CAT_READ, &cat) != 0)
            goto end;
    }
    if (dbt_catalog_list(cat, &entries, &nentries, &err) != 0) {
        cli_error("%s", err.msg);
        goto end;
    }
    dbt_catalog_close(cat);
    cat = NULL;
    if (nentries > 0 && (found = calloc(nentries, 1)) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    /* Every bundle named must exist and be refreshable: checked before anything is downloaded. */
    for (j = 0; j < nnames; j++) {
        for (i = 0; i < nentries && strcmp(entries[i].name, names[j]) != 0; i++)
            ;
        if (i == nentries) {
            cli_error("there is no bundle '%s' in catalog %s; nothing was refreshed", names[j],
                      catalog_shown(path, sizeof(path)));
            goto end;
        }
        if (classify(&entries[i].meta, buf, sizeof(buf), urls, &n, &why) == RB_SKIP) {
            cli_error("bundle '%s' cannot be refreshed: it was imported from a file (origin %s), "
                      "not fetched from a source or https:// URLs; nothing was refreshed",
                      names[j], entries[i].meta.origin);
            goto end;
        }
        found[i] = 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_error("cannot initialize libcurl");
        goto end;
    }
    for (i = 0; i < nentries; i++) {
        const char *name = entries[i].name;

        if (nnames > 0 && !found[i])
            continue;
        kind = classify(&entries[i].meta, buf, sizeof(buf), urls, &n, &why);
        if (kind == RB_SKIP) {
            c.skipped++;
            if (!c.quiet)
                printf("bundle '%s': skipped (imported from a file, not fetched)\n", cli_esc(name));
            continue;
        }
        todo++;
        if (kind == RB_BAD) {
            /* Never downloaded: the origin is not what a fetch records. */
            cli_error("bundle '%s' cannot be refreshed: %s (origin %s%s%s); fetch it again or "
                      "remove it",
                      name, why, entries[i].meta.origin,
                      entries[i].meta.source[0] ? ", source " : "", entries[i].meta.source);
            c.failed++;
            continue;
        }
        refresh_one(&c, name, &entries[i].meta, urls, n);
    }
    curl_global_cleanup();
    if (todo == 0) {
        if (!c.quiet)
            printf("nothing to refresh: no bundle of %s came from a known source or https:// "
                   "URLs%s\n",
                   cli_esc(catalog_shown(path, sizeof(path))),
                   c.skipped > 0 ? " (the bundles above were imported from files)" : "");
        rc = CLI_OK;
        goto end;
    }
    if (!c.quiet)
        printf("%srefreshed %zu, changed %zu, failed %zu, skipped %zu\n",
               c.dry_run ? "dry run, nothing committed: " : "", c.refreshed, c.changed, c.failed,
               c.skipped);
    rc = c.failed > 0 ? CLI_FAIL : CLI_OK;
end:
    dbt_catalog_close(cat);
    free(entries);
    free(found);
    free(names);
    return rc;
}
