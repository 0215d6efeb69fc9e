/* The openssl.cnf snippet for dbtrust.so. It keeps the default provider active: naming any
 * provider in a providers section turns off OpenSSL's implicit loading of "default". */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cnf.h"

#define DBT_CNF_DEFAULT_CATALOG "/etc/dbtrust"

/* openssl.cnf values end at '#' (comment) and expand '$'; quotes and backslashes are escapes.
 * An absolute path without those characters is carried verbatim. */
static int cnf_path_ok(const char *p)
{
    return p[0] == '/' && strpbrk(p, "#$\"'\\\n\r;") == NULL;
}

int dbt_provider_cnf(FILE *out, const char *catalog, const char *module)
{
    if (catalog == NULL)
        catalog = DBT_CNF_DEFAULT_CATALOG;
    if (!cnf_path_ok(catalog) || (module != NULL && !cnf_path_ok(module)))
        return -1;
    fprintf(out,
            "# dbtrust: serves the catalog %s as OpenSSL store URIs:\n"
            "#   dbtrust://          every certificate of the catalog\n"
            "#   dbtrust://<bundle>  the certificates of one bundle\n"
            "# e.g. openssl verify -CAstore dbtrust:// cert.pem, or\n"
            "#      openssl s_client -starttls postgres -CAstore dbtrust:// -verify_return_error\n"
            "#\n"
            "# Use this file through OPENSSL_CONF=<file>, or merge it into openssl.cnf: when\n"
            "# openssl.cnf already has an init section (openssl_conf = ...) with a providers\n"
            "# section, add the \"dbtrust = dbtrust_sect\" line to that providers section and\n"
            "# copy [dbtrust_sect]; keep \"default\" listed and activated, because naming any\n"
            "# provider turns off the implicit default provider. Loading dbtrust reads no file\n"
            "# until a dbtrust:// URI is opened.\n"
            "openssl_conf = openssl_init\n"
            "\n"
            "[openssl_init]\n"
            "providers = provider_sect\n"
            "\n"
            "[provider_sect]\n"
            "default = default_sect\n"
            "dbtrust = dbtrust_sect\n"
            "\n"
            "[default_sect]\n"
            "activate = 1\n"
            "\n"
            "[dbtrust_sect]\n",
            catalog);
    if (module != NULL)
        fprintf(out, "module = %s\n", module);
    fprintf(out,
            "# The catalog directory; it must be owned by root or the user running the program\n"
            "# and not writable by group or others, or the provider refuses it.\n"
            "catalog = %s\n"
            "activate = 1\n",
            catalog);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
