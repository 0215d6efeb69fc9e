/* Test tool (not installed): drives lib/p12.c and lib/jks.c from files, for the keytool
 * cross-check in tests/java-stores.sh.
 *   jks_tool encode jks|pkcs12 OUT [-p PASSWORD] CERTS.pem...  write a truststore
 *   jks_tool decode [-p PASSWORD] STORE    print "SHA-256 fingerprint<TAB>block<TAB>alias" */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "encode.h"

static int usage(void)
{
    fprintf(stderr, "usage: jks_tool encode jks|pkcs12 OUT [-p PASSWORD] CERTS.pem...\n"
                    "       jks_tool decode [-p PASSWORD] STORE\n");
    return 2;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *d = NULL, *nd;
    size_t cap = 0, n = 0, r;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    do {
        if (cap - n < 65536) {
            if ((nd = realloc(d, cap + 65536)) == NULL) {
                free(d);
                fclose(f);
                return -1;
            }
            d = nd, cap += 65536;
        }
        r = fread(d + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *data = d, *len = n;
    return 0;
}

static int cmd_decode(const char *path, const char *pw)
{
    unsigned char *data = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen, k;
    size_t len = 0, i;
    dbt_bundle *b = dbt_bundle_new(path);
    dbt_err err;
    int rc;

    if (b == NULL || read_file(path, &data, &len) < 0) {
        dbt_bundle_free(b);
        return 1;
    }
    rc = dbt_jks_sniff(data, len) ? dbt_jks_decode(data, len, pw, b, &err)
                                  : dbt_p12_decode(data, len, pw, b, &err);
    free(data);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err.msg);
        dbt_bundle_free(b);
        return 1;
    }
    for (i = 0; i < b->n; i++) {
        if (!X509_digest(b->certs[i].x509, EVP_sha256(), md, &mdlen)) {
            dbt_bundle_free(b);
            return 1;
        }
        for (k = 0; k < mdlen; k++)
            printf("%02X%s", md[k], k + 1 < mdlen ? ":" : "");
        printf("\t%d\t%s\n", b->certs[i].block, b->certs[i].alias ? b->certs[i].alias : "-");
    }
    dbt_bundle_free(b);
    return 0;
}

static int cmd_encode(const char *fmt, const char *out, const char *pw, char **files, int n)
{
    dbt_bundle *b = dbt_bundle_new("input");
    unsigned char *der = NULL;
    size_t len = 0;
    dbt_err err;
    FILE *f;
    X509 *x;
    int i, rc = 1;

    if (b == NULL)
        return 1;
    for (i = 0; i < n; i++) {
        if ((f = fopen(files[i], "r")) == NULL) {
            perror(files[i]);
            goto end;
        }
        while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
            if (dbt_bundle_push(b, x, (int)b->n + 1, 0, NULL, &err) < 0) {
                X509_free(x);
                fclose(f);
                fprintf(stderr, "%s\n", err.msg);
                goto end;
            }
        fclose(f);
    }
    if ((strcmp(fmt, "jks") == 0 ? dbt_jks_encode(b, pw, &der, &len, &err)
                                 : dbt_p12_encode(b, pw, &der, &len, &err)) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        goto end;
    }
    if ((f = fopen(out, "wb")) == NULL || fwrite(der, 1, len, f) != len || fclose(f) != 0) {
        perror(out);
        goto end;
    }
    rc = 0;
end:
    OPENSSL_free(der);
    dbt_bundle_free(b);
    return rc;
}

int main(int argc, char **argv)
{
    const char *pw = NULL;

    if (argc >= 4 && strcmp(argv[1], "encode") == 0) {
        int first = 4;
        if (strcmp(argv[2], "jks") != 0 && strcmp(argv[2], "pkcs12") != 0)
            return usage();
        if (argc >= 6 && strcmp(argv[4], "-p") == 0)
            pw = argv[5], first = 6;
        return cmd_encode(argv[2], argv[3], pw, argv + first, argc - first);
    }
    if (argc == 3 && strcmp(argv[1], "decode") == 0)
        return cmd_decode(argv[2], NULL);
    if (argc == 5 && strcmp(argv[1], "decode") == 0 && strcmp(argv[2], "-p") == 0)
        return cmd_decode(argv[4], argv[3]);
    return usage();
}
