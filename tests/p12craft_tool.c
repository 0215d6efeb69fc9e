/* Test tool (not installed): rewrites the iteration counts of a PKCS#12 file without doing the
 * key derivations they ask for, for the CLI tests of the key-derivation limits.
 *   p12craft mac-iter N IN OUT     the MAC's count (N in decimal, any size)
 *   p12craft safe-iter N IN OUT    every encrypted safe's count (the MAC no longer matches)
 *   p12craft scrypt IN OUT         every PBES2 safe's key function becomes scrypt */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>

#include "p12craft.h"

int main(int argc, char **argv)
{
    const char *in, *out;
    BIO *b = NULL;
    PKCS12 *p12 = NULL;
    int rc = 1, ok;

    if (argc == 5 && (strcmp(argv[1], "mac-iter") == 0 || strcmp(argv[1], "safe-iter") == 0))
        in = argv[3], out = argv[4];
    else if (argc == 4 && strcmp(argv[1], "scrypt") == 0)
        in = argv[2], out = argv[3];
    else {
        fprintf(stderr, "usage: p12craft mac-iter|safe-iter N IN OUT\n"
                        "       p12craft scrypt IN OUT\n");
        return 2;
    }
    if ((b = BIO_new_file(in, "rb")) == NULL || (p12 = d2i_PKCS12_bio(b, NULL)) == NULL) {
        fprintf(stderr, "p12craft: %s: not a readable PKCS#12 file\n", in);
        goto end;
    }
    BIO_free(b);
    b = NULL;
    if (strcmp(argv[1], "mac-iter") == 0)
        ok = p12craft_set_mac_iter(p12, argv[2]) == 0;
    else if (strcmp(argv[1], "safe-iter") == 0)
        ok = p12craft_set_safe_iter(p12, argv[2]) == 0;
    else
        ok = p12craft_set_safe_scrypt(p12) == 0;
    if (!ok) {
        fprintf(stderr, "p12craft: %s: cannot rewrite it (no MAC count, or no encrypted safe?)\n",
                in);
        goto end;
    }
    if ((b = BIO_new_file(out, "wb")) == NULL || !i2d_PKCS12_bio(b, p12) || BIO_flush(b) != 1) {
        fprintf(stderr, "p12craft: %s: cannot write it\n", out);
        goto end;
    }
    rc = 0;
end:
    if (rc != 0)
        ERR_print_errors_fp(stderr);
    BIO_free(b);
    PKCS12_free(p12);
    return rc;
}
