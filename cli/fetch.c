/* dbtrust fetch: downloads a managed database's CA bundle over verified HTTPS (libcurl) and
 * imports it as one catalog transaction; any failed or partial download changes nothing. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "download.h"
#include "escape.h"
#include "import.h"
#include "scope.h"

#include "../certs/sources.h"

static void fetch_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] fetch SOURCE [options]\n\n"
            "Downloads a managed database's CA bundle over HTTPS (server verified with the\n"
            "system trust store, or --ca-file), checks that it holds only CA certificates and\n"
            "imports it atomically as one bundle, printing what was added and removed. A failed\n"
            "or partial download changes nothing. SOURCE: aws-rds, aurora-dsql (see `dbtrust\n"
            "sources`).\n\n"
            "  -r, --region R     aws-rds: one region's bundle (e.g. us-east-1)\n"
            "  -g, --govcloud     aws-rds: the AWS GovCloud (US) bundles\n"
            "  -b, --bundle NAME  bundle name (default: the source, e.g. aws-rds or\n"
            "                     aws-rds-us-east-1)\n"
            "  -u, --url URL      download URL instead of the source's (a mirror); repeat it\n"
            "                     for sources made of several files; https:// only\n"
            "  -c, --ca-file F    trust only the CA certificates in F for the download\n"
            "  -t, --timeout S    give up after S seconds (default 60)\n"
            "      --only-for NAME\n"
            "                     trust the bundle's CAs only for NAME: a DNS name and the\n"
            "                     names below it (.NAME: below it only), an IP address or a\n"
            "                     CIDR range; repeat it for more (up to %d); replaces the\n"
            "                     source's default scope (`dbtrust sources` shows it)\n"
            "      --unscoped     record no scope: the CAs are trusted for every host name\n"
            "  -q, --quiet        print nothing but errors and warnings\n"
            "  -h, --help         show this help\n\n"
            "Without --only-for or --unscoped, a bundle that already has a scope keeps it (a\n"
            "refresh never widens trust); a new or unscoped bundle gets the source's default.\n"
            "The bundle records the URLs, the source and the time of the download: `dbtrust\n"
            "refresh` downloads it again from there (at most %d URLs, %u MiB each).\n",
            DBT_SCOPE_MAX_ITEMS, CLI_DL_MAX_URLS, CLI_DL_MAX_BYTES >> 20);
}

/*
 * The scope a fetch without --only-for or --unscoped records: the bundle's own when it has one
 * (NULL: the import keeps it), so that a scheduled refresh never widens what an operator
 * narrowed; else the source's default ("" when it has none). A catalog that cannot be read has
 * no bundle to keep a scope of: the commit then creates it, or refuses it saying why.
 */
static const char *fetch_default_scope(const char *bundle, const dbt_source *src)
{
    const char *path = cli_catalog_opt, *scope = src->scope != NULL ? src->scope : "";
    dbt_catalog_meta meta;
    dbt_catalog *cat = NULL;
    char buf[4096];
    dbt_err err;

    if (path == NULL && (path = dbt_catalog_default_path(buf, sizeof(buf))) == NULL)
        return scope;
    if (dbt_catalog_open(path, DBT_CAT_READ, &cat, &err) != 0)
        return scope;
    if (dbt_catalog_get_meta(cat, bundle, &meta, &err) == 0 && meta.scope[0] != '\0')
        scope = NULL;
    dbt_catalog_close(cat);
    return scope;
}

int cli_cmd_fetch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"region", required_argument, NULL, 'r'},
        {"govcloud", no_argument, NULL, 'g'},
        {"bundle", required_argument, NULL, 'b'},
        {"url", required_argument, NULL, 'u'},
        {"ca-file", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"only-for", required_argument, NULL, 'O'},
        {"unscoped", no_argument, NULL, 'U'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *region = NULL, *bundle = NULL, *ca_file = NULL, *urls[CLI_DL_MAX_URLS + 1],
               *user[CLI_DL_MAX_URLS];
    char *owned_url = NULL, defname[DBT_CATALOG_NAME_MAX + 1], now[32];
    char scope[DBT_SCOPE_TEXT_MAX] = "";
    const dbt_source *src;
    int govcloud = 0, quiet = 0, only_for = 0, unscoped = 0, c, rc = CLI_FAIL;
    size_t nurls = 0, nuser = 0, k;
    long timeout = CLI_DL_DEFAULT_TIMEOUT;
    dbt_catalog_meta probe;
    time_t tnow;
    dbt_import_opts io = {0};
    dbt_import *imp = NULL;
    dbt_err err;

    while ((c = cli_getopt_long(argc, argv, "r:gb:u:c:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            region = optarg;
            break;
        case 'g':
            govcloud = 1;
            break;
        case 'b':
            bundle = optarg;
            break;
        case 'u':
            if (nuser == CLI_DL_MAX_URLS) {
                cli_error("at most %d --url options", CLI_DL_MAX_URLS);
                return CLI_USAGE;
            }
            user[nuser++] = optarg;
            break;
        case 'c':
            ca_file = optarg;
            break;
        case 't':
            if (cli_dl_timeout(optarg, &timeout) != 0)
                return CLI_USAGE;
            break;
        case 'O':
            /* Checked here, before anything is downloaded, as import checks it. */
            if (cli_scope_option(scope, sizeof(scope), unscoped, optarg) != 0)
                return CLI_USAGE;
            only_for = 1;
            break;
        case 'U':
            if (only_for) {
                cli_error("--only-for and --unscoped exclude each other");
                return CLI_USAGE;
            }
            unscoped = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fetch_usage(stdout);
            return CLI_OK;
        default:
            fetch_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_error("fetch needs one SOURCE: aws-rds or aurora-dsql (`dbtrust sources` lists "
                  "them)");
        fetch_usage(stderr);
        return CLI_USAGE;
    }
    src = cli_source_find(argv[optind]);
    if (src != NULL && strcmp(src->name, "aws-rds-govcloud") == 0) {
        govcloud = 1;
        src = cli_source_find("aws-rds");
    }
    if (src == NULL || src->urls[0] == NULL) {
        cli_error("'%s' cannot be fetched%s%s; fetchable sources are aws-rds and aurora-dsql",
                  argv[optind], src != NULL ? ": " : "", src != NULL ? src->note : "");
        return CLI_USAGE;
    }
    if ((region != NULL || govcloud) && strcmp(src->name, "aws-rds") != 0) {
        cli_error("--region and --govcloud apply to aws-rds only");
        return CLI_USAGE;
    }
    if (region != NULL) {
        if (!cli_aws_region_valid(region)) {
            cli_error("'%s' is not an AWS region name (like us-east-1)", region);
            return CLI_USAGE;
        }
        if (strncmp(region, "us-gov-", 7) == 0)
            govcloud = 1; /* GovCloud regions are served from the GovCloud host only */
        else if (govcloud) {
            cli_error("--govcloud regions are us-gov-west-1 and us-gov-east-1 (got '%s')", region);
            return CLI_USAGE;
        }
        if (!cli_aws_region_known(region))
            cli_warn("region '%s' is not in dbtrust's list (`dbtrust sources`); trying it "
                     "anyway",
                     region);
    }
    if (govcloud)
        src = cli_source_find("aws-rds-govcloud");

    /* The URL list and the default bundle name. */
    if (region != NULL) {
        const char *t = src->regional;
        size_t need = strlen(t) + 2 * strlen(region) + 1, used = 0;

        if ((owned_url = malloc(need)) == NULL) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        while (*t != '\0') {
            if (strncmp(t, "{region}", 8) == 0) {
                used += (size_t)snprintf(owned_url + used, need - used, "%s", region);
                t += 8;
            } else {
                owned_url[used++] = *t++;
            }
        }
        owned_url[used] = '\0';
        urls[0] = owned_url;
        nurls = 1;
        snprintf(defname, sizeof(defname), "aws-rds-%s", region);
    } else {
        for (k = 0; src->urls[k] != NULL && k < CLI_DL_MAX_URLS; k++)
            urls[k] = src->urls[k];
        nurls = k;
        snprintf(defname, sizeof(defname), "%s", src->name);
    }
    if (nuser > 0) { /* a mirror replaces the published URLs */
        for (k = 0; k < nuser; k++)
            urls[k] = user[k];
        nurls = nuser;
    }
    urls[nurls] = NULL;
    if (bundle == NULL)
        bundle = defname;
    if (dbt_catalog_check_name(bundle, &err) != 0) {
        cli_error("%s", err.msg);
        goto usage_end;
    }
    if (only_for)
        io.scope = scope;
    else if (unscoped)
        io.scope = "";
    else
        io.scope = fetch_default_scope(bundle, src);

    /* refresh downloads the URLs the origin records again, so they must fit it whole. */
    memset(&probe, 0, sizeof(probe));
    for (k = 0; k < nurls; k++)
        if (dbt_catalog_meta_add_origin(&probe, urls[k]) != 0) {
            cli_error("the URLs are too long to be recorded as the bundle's origin (at most %zu "
                      "bytes together, escaped)",
                      sizeof(probe.origin) - 1);
            goto usage_end;
        }
    /* What refresh needs: the source, and when the download succeeded (now, since nothing is
     * recorded unless it does). */
    tnow = time(NULL);
    if (strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow)) == 0) {
        cli_error("cannot format the current time");
        goto end;
    }
    io.source = src->name;
    io.refreshed = now;

    /* Everything is downloaded and checked before the catalog is touched. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_error("cannot initialize libcurl");
        goto end;
    }
    /* Not a CA: a trust bundle that carries a server certificate is not what was asked for.
     * Expired: kept, the bundle is imported as published. */
    io.bundle = bundle;
    io.leaf = DBT_IMPORT_LEAF_REFUSE;
    if ((imp = dbt_import_new(&io, cli_fetch_event, NULL, &err)) == NULL) {
        cli_error("%s", err.msg);
        goto end_curl;
    }
    if (cli_dl_import(imp, urls, nurls, ca_file, timeout, quiet, "the catalog is unchanged") != 0)
        goto end_curl;
    rc = cli_import_commit(imp, quiet);
end_curl:
    curl_global_cleanup();
end:
    dbt_import_free(imp);
    free(owned_url);
    return rc;
usage_end:
    free(owned_url);
    return CLI_USAGE;
}
