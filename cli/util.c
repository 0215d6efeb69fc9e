/* Messages to the user, in one place so that every command reports the same way. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
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
        struct stat st;

        /* Say how to create it in this program's own syntax. */
        if (!(flags & DBT_CAT_CREATE) && lstat(path, &st) != 0 && errno == ENOENT)
            cli_error("catalog %s does not exist: create it with '%s --catalog %s import "
                      "--bundle NAME FILE'",
                      path, cli_progname, path);
        else
            cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* Set once a failure to write standard output has been reported, so that it is said once. */
static int stdout_failed;

void cli_stdout_error(int e)
{
    if (stdout_failed)
        return;
    stdout_failed = 1;
    if (e != 0)
        cli_error("writing standard output: %s", strerror(e));
    else
        cli_error("writing standard output failed; the output is incomplete");
}

int cli_stdout_flush(void)
{
    int e;

    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return stdout_failed ? -1 : 0;
    /* A write that failed inside an earlier printf left ferror set and its errno long gone; the
     * flush above retries what is still buffered and usually says why again. */
    e = errno;
    cli_stdout_error(e);
    return -1;
}

int cli_stdout_close(int rc)
{
    int prev = ferror(stdout), e = 0, bad = 0;

    errno = 0;
    if (fflush(stdout) != 0) {
        bad = 1;
        e = errno;
    }
    errno = 0;
    /* EBADF with nothing written: standard output was closed and nothing was lost. */
    if (fclose(stdout) != 0 && !bad && (prev || errno != EBADF)) {
        bad = 1;
        e = errno;
    }
    if (prev && !bad)
        bad = 1;
    if (!bad && !stdout_failed)
        return rc;
    cli_stdout_error(e);
    return rc == CLI_OK ? CLI_FAIL : rc;
}

int cli_write_output(const char *path, const unsigned char *data, size_t len)
{
    dbt_err err;

    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len) {
            cli_stdout_error(errno);
            return -1;
        }
        return cli_stdout_flush();
    }
    /* path may be a link to standard output (/dev/stdout): what is buffered goes first. */
    if (cli_stdout_flush() != 0)
        return -1;
    if (dbt_fs_write_output(path, data, len, DBT_FILE_MODE, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* True when data is a PKCS#12 file (it parses as one); leaves the error queue empty. */
static int looks_pkcs12(const unsigned char *data, size_t len)
{
    const unsigned char *p = data;
    PKCS12 *p12 = len <= LONG_MAX ? d2i_PKCS12(NULL, &p, (long)len) : NULL;

    ERR_clear_error();
    PKCS12_free(p12);
    return p12 != NULL;
}

int cli_read_file(const char *path, const char *password, const char *pass_opt, dbt_bundle **out,
                  EVP_MD_CTX *md)
{
    const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
    unsigned char *data = NULL;
    size_t len = 0;
    char *hint;
    dbt_err err;
    int rc = -1;

    *out = NULL;
    if (dbt_read_all(path, &data, &len, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    if (dbt_bundle_decode(data, len, source, password, out, &err) != 0) {
        dbt_err again;

        /* Truststores this program (and Java) writes use "changeit" unless told otherwise, so
         * reading one back must not need the password spelled out. */
        if (password != NULL || !looks_pkcs12(data, len) ||
            dbt_bundle_decode(data, len, source, "changeit", out, &again) != 0) {
            /* lib's hint names import's option; other callers spell it differently. */
            hint = pass_opt != NULL ? strstr(err.msg, "use --password") : NULL;
            if (hint != NULL) {
                char rest[sizeof(err.msg)];

                snprintf(rest, sizeof(rest), "%s", hint + strlen("use --password"));
                snprintf(hint, sizeof(err.msg) - (size_t)(hint - err.msg), "give it with %s%s",
                         pass_opt, rest);
            }
            cli_error("%s", err.msg);
            goto end;
        }
    }
    if (md != NULL && EVP_DigestUpdate(md, data, len) != 1) {
        cli_error("%s: cannot compute its SHA-256", source);
        dbt_bundle_free(*out);
        *out = NULL;
        goto end;
    }
    rc = 0;
end:
    free(data);
    return rc;
}

long cli_days_left(long long t)
{
    long long d = t - (long long)time(NULL);

    return (long)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}
