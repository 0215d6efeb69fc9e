/* dbtrust fetch: downloads a managed database's CA bundle over verified HTTPS (libcurl) and
 * imports it as one catalog transaction; any failed or partial download changes nothing. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "escape.h"
#include "import.h"
#include "scope.h"

#include "../certs/sources.h"

/* A real global bundle is 165 KB; anything near this cap is not a CA bundle. */
#define FETCH_MAX_BYTES (16u * 1024u * 1024u)
#define FETCH_MAX_URLS 8

struct fetch_buf {
    unsigned char *data;
    size_t len, cap;
    int too_big;
};

static size_t fetch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct fetch_buf *b = arg;
    size_t n = size * nmemb;

    if (n > FETCH_MAX_BYTES - b->len) {
        b->too_big = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        unsigned char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if ((p = realloc(b->data, cap)) == NULL)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Downloads url into b. 0, or -1 with a message that says what to do. */
static int fetch_url(const char *url, const char *ca_file, long timeout, struct fetch_buf *b,
                     char *why, size_t whylen)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    CURLcode r;
    long status = 0;
    curl_off_t expected = -1;
    int ret = -1;

    if (h == NULL) {
        snprintf(why, whylen, "cannot start libcurl");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* Trust material travels over verified HTTPS only, redirects included. */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL) {
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL); /* only the given CA, not the system's too */
    }
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX_BYTES);
    curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    r = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
    switch (r) {
    case CURLE_OK:
        ret = 0;
        break;
    case CURLE_HTTP_RETURNED_ERROR:
        snprintf(why, whylen, "%s: the server answered HTTP %ld; check the URL (or --region)", url,
                 status);
        break;
    case CURLE_PARTIAL_FILE:
        snprintf(why, whylen,
                 "%s: the download was cut short (%zu of %" CURL_FORMAT_CURL_OFF_T
                 " bytes); try again",
                 url, b->len, expected);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(why, whylen,
                 "%s: the server's TLS certificate is not trusted (%s); for a private mirror "
                 "give its CA with --ca-file",
                 url, errbuf[0] ? errbuf : curl_easy_strerror(r));
        break;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR: /* fetch_write refuses more than the limit, or memory ran out */
        if (r == CURLE_WRITE_ERROR && !b->too_big)
            snprintf(why, whylen, "%s: out of memory", url);
        else
            snprintf(why, whylen, "%s: larger than the %u MiB limit, which no CA bundle is", url,
                     FETCH_MAX_BYTES >> 20);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(why, whylen, "%s: only https:// URLs are allowed (%s)", url,
                 errbuf[0] ? errbuf : curl_easy_strerror(r));
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(why, whylen, "%s: timed out (%s); raise --timeout for a slow link", url,
                 errbuf[0] ? errbuf : curl_easy_strerror(r));
        break;
    default:
        snprintf(why, whylen, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(r));
        break;
    }
    curl_easy_cleanup(h);
    return ret;
}

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
            "refresh never widens trust); a new or unscoped bundle gets the source's default.\n",
            DBT_SCOPE_MAX_ITEMS);
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
    const char *region = NULL, *bundle = NULL, *ca_file = NULL, *urls[FETCH_MAX_URLS + 1],
               *user[FETCH_MAX_URLS];
    char *owned_url = NULL, defname[DBT_CATALOG_NAME_MAX + 1], why[2048];
    char scope[DBT_SCOPE_TEXT_MAX] = "";
    const dbt_source *src;
    int govcloud = 0, quiet = 0, only_for = 0, unscoped = 0, c, arc, rc = CLI_FAIL;
    size_t nurls = 0, nuser = 0, i, k;
    long timeout = 60;
    struct fetch_buf buf = {0};
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
            if (nuser == FETCH_MAX_URLS) {
                cli_error("at most %d --url options", FETCH_MAX_URLS);
                return CLI_USAGE;
            }
            user[nuser++] = optarg;
            break;
        case 'c':
            ca_file = optarg;
            break;
        case 't': {
            char *endp;

            timeout = strtol(optarg, &endp, 10);
            if (*optarg == '\0' || *endp != '\0' || timeout < 1 || timeout > 3600) {
                cli_error("--timeout needs whole seconds from 1 to 3600 (got '%s')", optarg);
                return CLI_USAGE;
            }
            break;
        }
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
        for (k = 0; src->urls[k] != NULL && k < FETCH_MAX_URLS; k++)
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
    for (i = 0; i < nurls; i++) {
        buf.len = 0;
        buf.too_big = 0;
        if (!quiet)
            fprintf(stderr, "downloading %s\n", cli_esc(urls[i]));
        if (fetch_url(urls[i], ca_file, timeout, &buf, why, sizeof(why)) != 0) {
            cli_error("%s; the catalog is unchanged", why);
            goto end_curl;
        }
        arc = dbt_import_add(imp, urls[i], buf.data != NULL ? buf.data : (const unsigned char *)"",
                             buf.len, &err);
        if (arc == DBT_IMPORT_E_DECODE) {
            cli_pass_hint(&err, NULL);
            cli_error("%s (%zu bytes downloaded); the catalog is unchanged", err.msg, buf.len);
            goto end_curl;
        }
        if (arc == -1)
            cli_error("%s; the catalog is unchanged", err.msg);
        if (arc != 0)
            goto end_curl;
    }

    rc = cli_import_commit(imp, quiet);
end_curl:
    curl_global_cleanup();
end:
    dbt_import_free(imp);
    free(buf.data);
    free(owned_url);
    return rc;
usage_end:
    free(owned_url);
    return CLI_USAGE;
}
