/* Independent checks of a catalog's hashed view with OpenSSL alone: what X509_LOOKUP_hash_dir
 * will find must agree with the index and the certificate files. */
#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "catalog_view.h"

char *catview_read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = calloc(1, (size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static X509 *read_pem(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    if (f == NULL)
        return NULL;
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static void hexdigest(X509 *x, const EVP_MD *md, char *out)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (X509_digest(x, md, buf, &n))
        for (unsigned int i = 0; i < n; i++)
            snprintf(out + 2 * i, 3, "%02x", buf[i]);
}

static long fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static long fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

static long check_index(const char *path, char *why, size_t len)
{
    char p[4200], *text, *line, *save = NULL;
    long lines = 0;

    snprintf(p, sizeof(p), "%s/certs/index", path);
    text = catview_read_text(p);
    if (text == NULL)
        return fail(why, len, "cannot read %s", p);
    if (strncmp(text, "dbtrust-index 1\n", 16) != 0) {
        free(text);
        return fail(why, len, "%s: bad header", p);
    }
    for (line = strtok_r(text + 16, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char sha[65], sha1[41], sh[16], ih[16], serial[100], bundles[4096], want[130];
        X509 *x;
        BIGNUM *bn;
        char *hex;
        int ok;

        if (sscanf(line, "%64s %40s %15s %15s %99s %4095s", sha, sha1, sh, ih, serial, bundles) !=
            6) {
            free(text);
            return fail(why, len, "index line %ld malformed: %s", lines + 2, line);
        }
        snprintf(p, sizeof(p), "%s/certs/%s.pem", path, sha);
        x = read_pem(p);
        if (x == NULL) {
            free(text);
            return fail(why, len, "cannot read certificate %s of the index", p);
        }
        hexdigest(x, EVP_sha256(), want);
        ok = strcmp(sha, want) == 0;
        hexdigest(x, EVP_sha1(), want);
        ok = ok && strcmp(sha1, want) == 0;
        snprintf(want, sizeof(want), "%08lx",
                 X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL));
        ok = ok && strcmp(sh, want) == 0;
        snprintf(want, sizeof(want), "%08lx",
                 X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL, NULL));
        ok = ok && strcmp(ih, want) == 0;
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        hex = bn != NULL ? BN_bn2hex(bn) : NULL;
        ok = ok && hex != NULL && strcmp(serial, hex) == 0;
        OPENSSL_free(hex);
        BN_free(bn);
        X509_free(x);
        if (!ok) {
            free(text);
            return fail(why, len, "index line does not describe %s: %s", p, line);
        }
        lines++;
    }
    free(text);
    return lines;
}

long catview_check(const char *path, char *why, size_t len)
{
    char p[4200];
    long lines, pems = 0, links = 0;
    DIR *d;
    struct dirent *de;

    lines = check_index(path, why, len);
    if (lines < 0)
        return -1;
    snprintf(p, sizeof(p), "%s/certs", path);
    d = opendir(p);
    if (d == NULL)
        return fail(why, len, "cannot open %s", p);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        unsigned long h;
        unsigned num;
        char tail;
        struct stat st;
        X509 *x;

        if (de->d_name[0] == '.' || strcmp(de->d_name, "index") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/certs/%s", path, de->d_name);
        if (n == 68 && strcmp(de->d_name + 64, ".pem") == 0) {
            pems++;
            continue;
        }
        if (sscanf(de->d_name, "%8lx.%u%c", &h, &num, &tail) != 2 || lstat(p, &st) != 0 ||
            !S_ISLNK(st.st_mode)) {
            closedir(d);
            return fail(why, len, "%s is neither a certificate file nor a hash link", p);
        }
        x = read_pem(p); /* follows the link, as OpenSSL's lookup does */
        if (x == NULL) {
            closedir(d);
            return fail(why, len, "hash link %s does not resolve to a certificate", p);
        }
        if (X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL) != h) {
            X509_free(x);
            closedir(d);
            return fail(why, len, "hash link %s names a certificate of another subject", p);
        }
        X509_free(x);
        for (unsigned k = 0; k < num; k++) {
            snprintf(p, sizeof(p), "%s/certs/%08lx.%u", path, h, k);
            if (lstat(p, &st) != 0) {
                closedir(d);
                return fail(why, len, "%s is missing below %s.%u", p, de->d_name, num);
            }
        }
        links++;
    }
    closedir(d);
    if (pems != lines || links != lines)
        return fail(why, len, "%s: %ld index lines, %ld certificate files, %ld links", path, lines,
                    pems, links);
    return lines;
}
