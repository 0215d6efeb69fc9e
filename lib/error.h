/* One error path for lib/: a message buffer that names the file, the block and what to do. */
#ifndef DBT_ERROR_H
#define DBT_ERROR_H

#include <stddef.h>

typedef struct dbt_err {
    char msg[1024];
} dbt_err;

/* Sets the message (printf style). A NULL err is allowed and ignored. */
void dbt_err_set(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like dbt_err_set, then appends ": <reason>" taken from (and clearing) the OpenSSL error queue. */
void dbt_err_ossl(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like dbt_err_set, then appends ": <strerror(errno)>". */
void dbt_err_sys(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "prefix: " to an existing message (adds context while unwinding). */
void dbt_err_prefix(dbt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
