/* Prints the openssl.cnf that `dbtrust config` prints (lib/osslcnf.c), so that every provider
 * test runs OpenSSL through exactly that text. Usage: test_provider_cnf [CATALOG [MODULE]] */
#include "config.h"

#include <stdio.h>

#include "osslcnf.h"

int main(int argc, char **argv)
{
    const char *catalog = argc > 1 ? argv[1] : NULL;
    const char *module = argc > 2 ? argv[2] : NULL;
    dbt_err err;
    int rc = dbt_cnf_write(stdout, catalog, module, &err);

    if (rc != 0) {
        fprintf(stderr, "test_provider_cnf: %s\n",
                rc == -1 ? err.msg : "cannot write the configuration");
        return 1;
    }
    return 0;
}
