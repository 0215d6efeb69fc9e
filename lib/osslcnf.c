/* The openssl.cnf snippet for dbtrust.so. It keeps the default provider active: naming any
 * provider in a providers section turns off OpenSSL's implicit loading of "default". */
#include "config.h"

#include <string.h>

#include "escape.h"
#include "osslcnf.h"

int dbt_cnf_path_check(const char *path, const char *what, dbt_err *err)
{
    if (path[0] != '/') {
        dbt_err_set(err,
                    "the %s path %s is not absolute: programs that load the provider run in any "
                    "working directory; give an absolute path",
                    what, path);
        return -1;
    }
    if (dbt_escape_needed(path, strlen(path))) {
        dbt_err_set(err,
                    "the %s path %s holds a control character (a newline or tab, say) or bytes "
                    "that are not UTF-8, which no openssl.cnf line carries as they are; rename "
                    "it or use another path",
                    what, path);
        return -1;
    }
    return 0;
}

/* Characters that mean nothing to the parser outside quotes (not blank, quote, '\', '#', '$',
 * nor the '{' '(' of a ${var}); bytes >= 0x80 are checked UTF-8 text. */
static int cnf_plain(const char *v)
{
    const unsigned char *p = (const unsigned char *)v;

    for (; *p != '\0'; p++)
        if (!(*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr("/._+,:@%~=-", *p) != NULL))
            return 0;
    return 1;
}

int dbt_cnf_put_value(FILE *out, const char *v)
{
    int n = 0;

    if (cnf_plain(v))
        return fputs(v, out) < 0 ? -1 : (int)strlen(v);
    if (putc('\'', out) == EOF)
        return -1;
    for (; *v != '\0'; v++, n++)
        if (((*v == '\\' || *v == '\'') && putc('\\', out) == EOF) || putc(*v, out) == EOF)
            return -1;
    return putc('\'', out) == EOF ? -1 : n + 2;
}

int dbt_cnf_write(FILE *out, const char *catalog, const char *module, dbt_err *err)
{
    if (catalog == NULL)
        catalog = DBT_CNF_DEFAULT_CATALOG;
    if (dbt_cnf_path_check(catalog, "catalog", err) != 0 ||
        (module != NULL && dbt_cnf_path_check(module, "module", err) != 0))
        return -1;
    /* The comment shows the path as it is: a comment runs to the end of the line, and the
     * path holds no newline (checked above). */
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
    if (module != NULL) {
        fputs("module = ", out);
        dbt_cnf_put_value(out, module);
        fputs("\n", out);
    }
    fputs("# The catalog directory; it must be owned by root or the user running the program\n"
          "# and not writable by group or others, or the provider refuses it.\n"
          "catalog = ",
          out);
    dbt_cnf_put_value(out, catalog);
    fputs("\nactivate = 1\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -2;
}
