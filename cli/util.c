/* Messages to the user, in one place so that every command reports the same way. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "catalog.h"
#include "commands.h"
#include "fsutil.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: error: ", cli_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: warning: ", cli_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_open_catalog(int flags, dbt_catalog **out)
{
    char buf[4096];
    const char *path = cli_catalog_opt;
    dbt_err err;

    if (path == NULL && (path = dbt_catalog_default_path(buf, sizeof(buf))) == NULL) {
        cli_error("cannot find a catalog location: set --catalog DIR or DBTRUST_CATALOG");
        return -1;
    }
    if (dbt_catalog_open(path, flags, out, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

int cli_write_output(const char *path, const unsigned char *data, size_t len)
{
    dbt_err err;

    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            cli_error("writing to standard output failed: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    if (dbt_fs_write_atomic(path, data, len, DBT_FILE_MODE, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

dbt_bundle *cli_read_inputs(char **paths, int n, const char *password)
{
    dbt_bundle *all = NULL, *one = NULL;
    dbt_err err;
    int i;
    size_t k;

    all = dbt_bundle_new(n == 1 ? paths[0] : "inputs");
    if (all == NULL) {
        cli_error("out of memory");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (dbt_bundle_read_file(paths[i], password, &one, &err) != 0) {
            cli_error("%s", err.msg);
            goto fail;
        }
        if (n == 1)
            all->format = one->format;
        for (k = 0; k < one->n; k++) {
            X509_up_ref(one->certs[k].x509);
            if (dbt_bundle_push(all, one->certs[k].x509, one->certs[k].block, one->certs[k].line,
                                one->certs[k].alias, &err) != 0) {
                X509_free(one->certs[k].x509);
                cli_error("%s", err.msg);
                goto fail;
            }
        }
        dbt_bundle_free(one);
        one = NULL;
    }
    return all;
fail:
    dbt_bundle_free(one);
    dbt_bundle_free(all);
    return NULL;
}

long cli_days_left(long long t)
{
    long long d = t - (long long)time(NULL);

    return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}
