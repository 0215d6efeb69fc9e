/* The editor behind the system-wide provider: adds to (and removes from) a distribution's own
 * openssl.cnf the lines that load dbtrust.so next to the default provider, as marked blocks that
 * come out again byte for byte, and reads back what a file has. Text in, text out: reading and
 * writing the file is lib/osslcnf.h's dbt_cnf_system_*. */
#ifndef DBT_CNFEDIT_H
#define DBT_CNFEDIT_H

#include <stddef.h>

#include "error.h"

/* Caps on what the editor reads: the file and every file it includes, at most this many bytes
 * each and lines in all; .include followed this deep (a file including itself stops there). */
#define DBT_CNF_MAX_BYTES (1024u * 1024u)
#define DBT_CNF_MAX_LINES 65536u
#define DBT_CNF_MAX_INCLUDE_DEPTH 4
#define DBT_CNF_MAX_INCLUDE_FILES 32

/* Every block dbtrust adds starts and ends with these lines (a line end follows each). */
#define DBT_CNF_BEGIN "# BEGIN dbtrust provider (added by dbtrust; do not edit inside)"
/* The block at the end of a file whose last line had no line end: the one added is removed too. */
#define DBT_CNF_BEGIN_EOL                                                                          \
    "# BEGIN dbtrust provider (added by dbtrust with a line end before it; do not edit inside)"
#define DBT_CNF_END "# END dbtrust provider"

/* dbtrust's own section names in the file. */
#define DBT_CNF_SECT "dbtrust_sect"
#define DBT_CNF_INIT_SECT "dbtrust_init"
#define DBT_CNF_PROV_SECT "dbtrust_providers"
#define DBT_CNF_DEFAULT_SECT "dbtrust_default_sect"

/* What a file holds of dbtrust's. */
typedef struct dbt_cnf_info {
    int wired;          /* 1: dbtrust's blocks are there, well-formed */
    char module[4096];  /* the module = value of dbtrust_sect ("" when none: OpenSSL's dir) */
    char catalog[4096]; /* the catalog = value */
} dbt_cnf_info;

/*
 * Returns in *out (malloc'd, *outlen bytes) text with dbtrust's blocks added so that OpenSSL
 * loads dbtrust (catalog; module NULL for OpenSSL's modules directory) with `activate = 1` and
 * `soft_load = 1`, and keeps the default provider active: the providers section is found by
 * following openssl_conf to its init section and that section's providers; when the file
 * activates no provider, "default" is activated too (activating any provider turns off the
 * implicit default one). Blocks already there are replaced; *out equals text when nothing
 * changes. path names the file in messages and anchors nothing (relative .include paths are
 * skipped: OpenSSL reads them relative to each program's working directory).
 * 0; -1 with err naming the file, line and what to do (nothing produced).
 */
int dbt_cnf_edit_enable(const char *path, const char *text, size_t len, const char *catalog,
                        const char *module, char **out, size_t *outlen, dbt_err *err);

/* *out: text without dbtrust's blocks, exactly the bytes before enable. 0 (1 when there were
 * none: *out is a copy); -1 with err when a block is not as dbtrust wrote it (naming the line). */
int dbt_cnf_edit_disable(const char *path, const char *text, size_t len, char **out, size_t *outlen,
                         dbt_err *err);

/* Fills info from text. 0; -1 with err when a block is not as dbtrust wrote it. */
int dbt_cnf_edit_info(const char *path, const char *text, size_t len, dbt_cnf_info *info,
                      dbt_err *err);

#endif
