/* One error path for lib/: a message buffer that names the file, the block and what to do. */
#ifndef DBT_ERROR_H
#define DBT_ERROR_H

#include <stddef.h>

/* What went wrong, for a caller that acts on it rather than on the message's words. */
enum dbt_err_code {
    DBT_E_NONE = 0,
    /* A keystore's integrity MAC or digest did not match with the password tried: the file was
     * altered, or its password is another one. */
    DBT_E_INTEGRITY,
};

/*
 * What to do, where that is done with the program's own syntax (an option, a command line):
 * lib/ never spells it, the program renders it (lib/hint.c) in its own words.
 */
enum dbt_hint {
    DBT_HINT_NONE = 0,
    DBT_HINT_PASSWORD,       /* the input's password is the cure: how to give it */
    DBT_HINT_CATALOG_OPT,    /* another catalog directory: how to name one */
    DBT_HINT_CREATE_CATALOG, /* the catalog does not exist: how to create it */
    DBT_HINT_INIT_CATALOG,   /* the catalog directory has no generation yet: how to create it */
    DBT_HINT_COUNT
};

typedef struct dbt_err {
    char msg[1024]; /* first: the message as lib/ words it, without the hint's text */
    int code;       /* enum dbt_err_code */
    int hint;       /* enum dbt_hint */
    /* Where in msg the hint's text goes, and the part of msg (a path) that text quotes. */
    unsigned short hint_at, arg_at, arg_len;
} dbt_err;

/* Sets the message (printf style); no code, no hint. A NULL err is allowed and ignored. */
void dbt_err_set(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like dbt_err_set, then appends ": <reason>" taken from (and clearing) the OpenSSL error queue. */
void dbt_err_ossl(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like dbt_err_set, then appends ": <strerror(errno)>". */
void dbt_err_sys(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "prefix: " to an existing message (adds context while unwinding); a hint stays put. */
void dbt_err_prefix(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The rest is lib/hint.c, which the provider does not compile: it sets no code and no hint. */

/* Sets err's code (enum dbt_err_code). */
void dbt_err_code(dbt_err *err, int code);
/*
 * Gives err a hint (enum dbt_hint) whose text goes where the text formatted by the last
 * dbt_err_set, dbt_err_ossl or dbt_err_sys ended (before the reason those two append), so that
 * a message can go on after it with dbt_err_more. dbt_err_hint_arg also names msg[at, at+len)
 * (a path the message holds) as what a "%s" in the hint's text stands for.
 */
void dbt_err_hint(dbt_err *err, int hint);
void dbt_err_hint_arg(dbt_err *err, int hint, size_t at, size_t len);
/* Appends to the message (printf style). */
void dbt_err_more(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Writes e's message with texts[e->hint] at its place into out (n bytes, always terminated, cut
 * to sizeof(e->msg) - 1 characters as a message set in full would be), "%s" in that text
 * standing for the part of the message the hint quotes. A NULL table or entry adds nothing.
 * Returns the length written.
 */
size_t dbt_err_render(const dbt_err *e, const char *const texts[DBT_HINT_COUNT], char *out,
                      size_t n);

#endif
