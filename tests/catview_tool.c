/* The shell tests' view of a catalog as OpenSSL alone sees it (tests/catalog_view.c): checks the
 * hashed view of CATALOG/certs and prints its certificate count, or the reason and exit 1.
 * Usage: catview_tool CATALOG */
#include "config.h"

#include <stdio.h>

#include "catalog_view.h"

int main(int argc, char **argv)
{
    char why[1024];
    long n;

    if (argc != 2) {
        fprintf(stderr, "usage: catview_tool CATALOG\n");
        return 2;
    }
    n = catview_check(argv[1], why, sizeof(why));
    if (n < 0) {
        fprintf(stderr, "catview_tool: %s: %s\n", argv[1], why);
        return 1;
    }
    printf("%ld\n", n);
    return 0;
}
