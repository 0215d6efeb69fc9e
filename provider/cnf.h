/* The openssl.cnf text that loads dbtrust.so next to the default provider (printed by
 * `dbtrust config`, used by the provider tests as their OPENSSL_CONF). */
#ifndef DBT_PROVIDER_CNF_H
#define DBT_PROVIDER_CNF_H

#include <stdio.h>

/* Writes a complete openssl.cnf to out. catalog: the provider's catalog directory (NULL: the
 * provider's default, /etc/dbtrust). module: path of dbtrust.so, or NULL when it lives in
 * OpenSSL's modules directory (the default install) or $OPENSSL_MODULES. Returns 0, or -1 when
 * a path is unusable (relative, or containing characters openssl.cnf cannot carry) or the write
 * failed. */
int dbt_provider_cnf(FILE *out, const char *catalog, const char *module);

#endif
