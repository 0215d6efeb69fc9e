/* Error messages for lib/: formatted once, carried up to the CLI or the provider's error queue. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "error.h"

static void vset(dbt_err *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

void dbt_err_set(dbt_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vset(err, fmt, ap);
    va_end(ap);
}

void dbt_err_ossl(dbt_err *err, const char *fmt, ...)
{
    va_list ap;
    unsigned long e, last = 0;
    size_t used;

    /* The last queued error is usually the most specific one (e.g. "bad object header"). */
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (err == NULL)
        return;
    va_start(ap, fmt);
    vset(err, fmt, ap);
    va_end(ap);
    if (last != 0) {
        const char *reason = ERR_reason_error_string(last);
        used = strlen(err->msg);
        if (reason != NULL)
            snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", reason);
        else
            snprintf(err->msg + used, sizeof(err->msg) - used, ": OpenSSL error %lx", last);
    }
}

void dbt_err_sys(dbt_err *err, const char *fmt, ...)
{
    va_list ap;
    int saved = errno;
    size_t used;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vset(err, fmt, ap);
    va_end(ap);
    used = strlen(err->msg);
    snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", strerror(saved));
    errno = saved;
}

void dbt_err_prefix(dbt_err *err, const char *fmt, ...)
{
    va_list ap;
    char prefix[512], old[sizeof(err->msg)];

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}
