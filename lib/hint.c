/* Codes and hints of lib/'s errors, and the rendering of a hint in the program's own words. Not
 * compiled into the provider, whose messages carry neither. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

void dbt_err_code(dbt_err *err, int code)
{
    if (err != NULL)
        err->code = code;
}

void dbt_err_hint(dbt_err *err, int hint)
{
    if (err != NULL)
        err->hint = hint > DBT_HINT_NONE && hint < DBT_HINT_COUNT ? hint : DBT_HINT_NONE;
}

void dbt_err_hint_arg(dbt_err *err, int hint, size_t at, size_t len)
{
    size_t used;

    if (err == NULL)
        return;
    dbt_err_hint(err, hint);
    used = strlen(err->msg);
    at = at < used ? at : used;
    err->arg_at = (unsigned short)at;
    err->arg_len = (unsigned short)(len < used - at ? len : used - at);
}

void dbt_err_more(dbt_err *err, const char *fmt, ...)
{
    va_list ap;
    size_t used;

    if (err == NULL)
        return;
    used = strlen(err->msg);
    va_start(ap, fmt);
    vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
    va_end(ap);
}

/* Appends s[0, len) to out[*w, n - 1), never past limit characters in all. */
static void put(char *out, size_t n, size_t limit, size_t *w, const char *s, size_t len)
{
    size_t room = (limit < n - 1 ? limit : n - 1) - *w;

    if (len > room)
        len = room;
    memcpy(out + *w, s, len);
    *w += len;
}

size_t dbt_err_render(const dbt_err *e, const char *const texts[DBT_HINT_COUNT], char *out,
                      size_t n)
{
    const size_t limit = sizeof(e->msg) - 1;
    size_t used, at, arg_at, arg_len, w = 0;
    const char *t = NULL, *p;

    if (n == 0)
        return 0;
    used = strnlen(e->msg, sizeof(e->msg));
    at = e->hint_at < used ? e->hint_at : used;
    arg_at = e->arg_at < used ? e->arg_at : used;
    arg_len = e->arg_len < used - arg_at ? e->arg_len : used - arg_at;
    if (texts != NULL && e->hint > DBT_HINT_NONE && e->hint < DBT_HINT_COUNT)
        t = texts[e->hint];
    put(out, n, limit, &w, e->msg, at);
    /* The table is the program's own text; only "%s" in it is special (never in the quote). */
    for (p = t; p != NULL && *p != '\0'; p++) {
        if (p[0] == '%' && p[1] == 's') {
            put(out, n, limit, &w, e->msg + arg_at, arg_len);
            p++;
        } else {
            put(out, n, limit, &w, p, 1);
        }
    }
    put(out, n, limit, &w, e->msg + at, used - at);
    out[w] = '\0';
    return w;
}
