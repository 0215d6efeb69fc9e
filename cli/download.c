/* Downloads over verified HTTPS for fetch and refresh (cli/download.h): libcurl limited to
 * https://, a size cap enforced while the body arrives, and messages that say what to do. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "commands.h"
#include "download.h"
#include "import.h"

struct dl_buf {
    unsigned char *data;
    size_t len, cap;
    int too_big;
};

static size_t dl_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct dl_buf *b = arg;
    size_t n = size * nmemb;

    if (n > CLI_DL_MAX_BYTES - b->len) {
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

int cli_dl_timeout(const char *arg, long *out)
{
    char *endp;
    long t = strtol(arg, &endp, 10);

    if (*arg == '\0' || *endp != '\0' || t < 1 || t > 3600) {
        cli_error("--timeout needs whole seconds from 1 to 3600 (got '%s')", arg);
        return -1;
    }
    *out = t;
    return 0;
}

/* Downloads url into b. 0, or -1 with a message that says what to do. */
static int dl_url(const char *url, const char *ca_file, long timeout, struct dl_buf *b, char *why,
                  size_t whylen)
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
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_DL_MAX_BYTES);
    curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, dl_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    r = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
    switch (r) {
    case CURLE_OK:
        ret = 0;
        break;
    case CURLE_HTTP_RETURNED_ERROR:
        snprintf(why, whylen, "%s: the server answered HTTP %ld; check the URL", url, status);
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
    case CURLE_WRITE_ERROR: /* dl_write refuses more than the limit, or memory ran out */
        if (r == CURLE_WRITE_ERROR && !b->too_big)
            snprintf(why, whylen, "%s: out of memory", url);
        else
            snprintf(why, whylen, "%s: larger than the %u MiB limit, which no CA bundle is", url,
                     CLI_DL_MAX_BYTES >> 20);
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

int cli_dl_import(struct dbt_import *imp, const char *const *urls, size_t n, const char *ca_file,
                  long timeout, int quiet, const char *outcome)
{
    struct dl_buf buf = {0};
    char why[2048];
    dbt_err err;
    size_t i;
    int arc, rc = -1;

    for (i = 0; i < n; i++) {
        buf.len = 0;
        buf.too_big = 0;
        if (!quiet)
            fprintf(stderr, "downloading %s\n", cli_esc(urls[i]));
        if (dl_url(urls[i], ca_file, timeout, &buf, why, sizeof(why)) != 0) {
            cli_error("%s; %s", why, outcome);
            goto end;
        }
        arc = dbt_import_add(imp, urls[i], buf.data != NULL ? buf.data : (const unsigned char *)"",
                             buf.len, &err);
        if (arc == DBT_IMPORT_E_DECODE) {
            cli_pass_hint(&err, NULL);
            cli_error("%s (%zu bytes downloaded); %s", err.msg, buf.len, outcome);
            goto end;
        }
        if (arc == -1)
            cli_error("%s; %s", err.msg, outcome);
        if (arc != 0)
            goto end; /* DBT_IMPORT_REFUSED: the event said why */
    }
    rc = 0;
end:
    free(buf.data);
    return rc;
}
