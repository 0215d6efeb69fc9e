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
#include "catlayout.h"

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

/* The index through the layout's own parser (lib/catlayout.c); what each line says about its
 * certificate is then checked with OpenSSL alone. */
static long check_index(const char *path, char *why, size_t len)
{
    char p[4200], *text, *pos;
    dbt_layout_index_line e, prev;
    long lines = 0, body;
    int rc;

    snprintf(p, sizeof(p), "%s/certs/index", path);
    text = catview_read_text(p);
    if (text == NULL)
        return fail(why, len, "cannot read %s", p);
    if ((body = dbt_layout_index_header(text, strlen(text))) < 0) {
        free(text);
        return fail(why, len, "%s: bad header", p);
    }
    for (pos = text + body; (rc = dbt_layout_index_next(&pos, &e, lines ? &prev : NULL)) == 1;
         prev = e) {
        char want[130];
        X509 *x;
        BIGNUM *bn;
        char *hex;
        int ok;

        snprintf(p, sizeof(p), "%s/certs/%s.pem", path, e.sha256);
        x = read_pem(p);
        if (x == NULL) {
            free(text);
            return fail(why, len, "cannot read certificate %s of the index", p);
        }
        hexdigest(x, EVP_sha256(), want);
        ok = strcmp(e.sha256, want) == 0;
        hexdigest(x, EVP_sha1(), want);
        ok = ok && strcmp(e.sha1, want) == 0;
        ok = ok && e.subject_hash == X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
        ok = ok && e.issuer_hash == X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL, NULL);
        bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
        hex = bn != NULL ? BN_bn2hex(bn) : NULL;
        ok = ok && hex != NULL && strcmp(e.serial, hex) == 0;
        OPENSSL_free(hex);
        BN_free(bn);
        X509_free(x);
        if (!ok) {
            free(text);
            return fail(why, len, "index line %ld does not describe %s", lines + 2, p);
        }
        lines++;
    }
    free(text);
    if (rc != 0)
        return fail(why, len, "index line %ld malformed (%d)", lines + 2, rc);
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
        unsigned long h;
        int num;
        struct stat st;
        X509 *x;

        if (de->d_name[0] == '.' || strcmp(de->d_name, DBT_LAYOUT_INDEX) == 0)
            continue;
        snprintf(p, sizeof(p), "%s/certs/%s", path, de->d_name);
        if (dbt_layout_cert_file_name(de->d_name)) {
            pems++;
            continue;
        }
        if (!dbt_layout_hash_link_name(de->d_name, &h, &num) || lstat(p, &st) != 0 ||
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
        for (int k = 0; k < num; k++) {
            snprintf(p, sizeof(p), "%s/certs/%08lx.%d", path, h, k);
            if (lstat(p, &st) != 0) {
                closedir(d);
                return fail(why, len, "%s is missing below %s", p, de->d_name);
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
