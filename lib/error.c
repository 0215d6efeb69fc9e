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
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);

    err->code = err->hint = 0;
    /* A hint given next goes here, before any reason appended (lib/hint.c). */
    if (n < 0)
        n = 0;
    else if ((size_t)n >= sizeof(err->msg))
        n = (int)sizeof(err->msg) - 1;
    err->hint_at = (unsigned short)n;
    err->arg_at = err->arg_len = 0;
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
    size_t used, shift;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    /* The hint's place and what it quotes move with the text (clamped where it was cut). */
    used = strlen(err->msg);
    shift = strlen(prefix) + 2;
    err->hint_at = (unsigned short)(err->hint_at + shift < used ? err->hint_at + shift : used);
    err->arg_at = (unsigned short)(err->arg_at + shift < used ? err->arg_at + shift : used);
}
