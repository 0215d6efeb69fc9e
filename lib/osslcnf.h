/* The openssl.cnf text that loads dbtrust.so next to the default provider (printed by
 * `dbtrust config`, used by the provider tests as their OPENSSL_CONF), with every path written
 * so that OpenSSL's configuration parser reads back exactly its bytes. */
#ifndef DBT_OSSLCNF_H
#define DBT_OSSLCNF_H

#include <stdio.h>

#include "error.h"

/* The provider's catalog when the configuration names none. */
#define DBT_CNF_DEFAULT_CATALOG "/etc/dbtrust"

/*
 * 0 when path can be an openssl.cnf value: absolute, and free of control characters (C0, DEL,
 * C1), of the line and bidirectional controls lib/escape.h escapes, and of bytes that are not
 * well-formed UTF-8. A newline cannot be carried by any openssl.cnf line (a line ends there,
 * and the parser's escapes for it are not read inside quotes), NUL ends the value, and the
 * provider asks for its keys as UTF-8. -1 with err naming what (e.g. "catalog") and why.
 */
int dbt_cnf_path_check(const char *path, const char *what, dbt_err *err);

/*
 * Writes v as an openssl.cnf value (the text after "key = "). A value of letters, digits and
 * "/._+,:@%~=-" (and UTF-8 beyond ASCII) is written as it is. Any other is put in single
 * quotes, inside which OpenSSL's configuration parser (NCONF_load) neither ends the value at '#'
 * nor expands '$', keeps blanks at either end, and reads "\x" as x: so '\' and '\'' are written
 * as "\\" and "\'". Returns a count >= 0, or -1 on a write error.
 */
int dbt_cnf_put_value(FILE *out, const char *v);

/*
 * Writes a complete openssl.cnf to out. catalog: the provider's catalog directory (NULL: the
 * provider's default, DBT_CNF_DEFAULT_CATALOG). module: path of dbtrust.so, or NULL when it
 * lives in OpenSSL's modules directory (the default install) or $OPENSSL_MODULES. Returns 0;
 * -1 with err set when a path is refused (dbt_cnf_path_check), nothing written; -2 when out
 * could not be written (errno and ferror(out) tell why).
 */
int dbt_cnf_write(FILE *out, const char *catalog, const char *module, dbt_err *err);

#endif
