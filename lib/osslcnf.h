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

/* ---------------------------------------------------------------- the system's openssl.cnf */

#include <stddef.h>

#include "cnfedit.h"

/*
 * The openssl.cnf every OpenSSL program on the host reads: $DBTRUST_SYSTEM_OPENSSL_CNF (tests,
 * packaging; ignored in a setuid process), else OPENSSLDIR/openssl.cnf of the libcrypto this
 * program runs with (OPENSSL_CONF is one process's choice, not the system's).
 */
const char *dbt_cnf_system_path(char *buf, size_t n);

/* The module the system's file loads: module when not NULL, else dbtrust.so in the modules
 * directory of this libcrypto (where programs without OPENSSL_MODULES look). */
const char *dbt_cnf_module_path(const char *module, char *buf, size_t n);

/* 0 when path is a regular file OpenSSL loads as a provider; -1 with err saying why not. */
int dbt_cnf_module_check(const char *path, dbt_err *err);

/* What the system's file holds, for status. */
typedef struct dbt_cnf_sys {
    char file[4096];   /* the file named (dbt_cnf_system_path) */
    char target[4096]; /* the regular file edited: file, its symbolic links followed */
    dbt_cnf_info info;
    int changed; /* enable/disable: the file was rewritten */
} dbt_cnf_sys;

/*
 * Adds dbtrust's blocks to the system's openssl.cnf (dbt_cnf_edit_enable), refusing when the
 * module cannot be loaded. The file (at most DBT_CNF_MAX_BYTES) is read only when it is a
 * regular file; a symbolic link is followed to the regular file it names (Debian's
 * OPENSSLDIR/openssl.cnf is a link to the package's /etc/ssl/openssl.cnf), and that file is
 * replaced atomically (temporary file beside it, same owner and mode, fsync, rename, directory
 * fsync), the link left as it is; a FIFO, device or directory is refused. Nothing is written
 * when nothing changes. 0; -1 with err (the file untouched).
 */
int dbt_cnf_system_enable(const char *catalog, const char *module, dbt_cnf_sys *s, dbt_err *err);

/* Removes dbtrust's blocks: the file is as it was before enable, byte for byte. 0; 1 when it
 * holds none (nothing written); -1 with err (a block edited by hand is named, nothing written). */
int dbt_cnf_system_disable(dbt_cnf_sys *s, dbt_err *err);

/* Fills s from the file: 0; 1 when the file is missing; -1 with err. */
int dbt_cnf_system_status(dbt_cnf_sys *s, dbt_err *err);

#endif
