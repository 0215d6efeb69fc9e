/* Prints the openssl.cnf that `dbtrust config` prints (provider/cnf.c), so that every provider
 * test runs OpenSSL through exactly that text. Usage: test_provider_cnf [CATALOG [MODULE]] */
#include "config.h"

#include <stdio.h>

#include "cnf.h"

int main(int argc, char **argv)
{
    const char *catalog = argc > 1 ? argv[1] : NULL;
    const char *module = argc > 2 ? argv[2] : NULL;

    if (dbt_provider_cnf(stdout, catalog, module) != 0) {
        fprintf(stderr, "test_provider_cnf: cannot write a configuration for catalog %s%s%s\n",
                catalog != NULL ? catalog : "(default)", module != NULL ? " module " : "",
                module != NULL ? module : "");
        return 1;
    }
    return 0;
}
