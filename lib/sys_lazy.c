/* What OpenSSL's default lookup finds (lib/syswire.h): the entries of a hashed directory it would
 * open that are not certificate files, the catalog's certificates looked up through the defaults,
 * and lazy mode's same-trust check and empty bundle file. Lazy mode replaces the eagerly parsed
 * bundle file (which a client such as libpq parses whole on every connection) by an empty one and
 * keeps only hashed directories, which OpenSSL reads one subject at a time. The catalog's
 * directory is deliberately left out of its check: the system's trust must not depend on what is
 * imported into or removed from the catalog later. Certificates that are in the directory but not
 * in the file change nothing: stock mode reads the directory too. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catsafe.h"
#include "certinfo.h"
#include "fsutil.h"
#include "sys_int.h"

/* The names OpenSSL's hashed-directory lookup (X509_LOOKUP_hash_dir) opens: "<8 hex>.<n>" for
 * certificates and "<8 hex>.r<n>" for CRLs. */
static int lookup_name(const char *name)
{
    size_t i = 9;

    if (strlen(name) < 10 || !sys_is_hex(name, 8) || name[8] != '.')
        return 0;
    if (name[i] == 'r')
        i++;
    if (name[i] == '\0')
        return 0;
    for (; name[i] != '\0'; i++)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    return 1;
}

long dbt_sys_lookup_hazards(const char *dirs, dbt_sys_line_fn *line, void *line_arg)
{
    char *copy = strdup(dirs), *tok, *save = NULL, *f1, *f2;
    struct dirent *de;
    struct stat st;
    long n = 0;
    DIR *d;
    int fd;

    if (copy == NULL)
        return 0;
    for (tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
        if (tok[0] != '/')
            continue;
        fd = open(tok, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if ((d = fdopendir(fd)) == NULL) {
            close(fd);
            continue;
        }
        while ((de = readdir(d)) != NULL) {
            if (!lookup_name(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
                S_ISREG(st.st_mode))
                continue;
            n++;
            if (line != NULL) {
                sys_line(line, line_arg, "  %s/%s is %s", sys_esc(tok, &f1),
                         sys_esc(de->d_name, &f2), dbt_fs_kind(st.st_mode));
                free(f1);
                free(f2);
            }
        }
        closedir(d);
    }
    free(copy);
    return n;
}

/* Lists a hazard as a detail line of the error before it. */
static void hazard_detail(void *arg, const char *line)
{
    const sys_out *o = arg;
    dbt_sys_msg m = {DBT_SYS_DETAIL, 0, strlen(line), line};

    if (o->fn != NULL)
        o->fn(o->arg, &m);
}

long dbt_sys_lazy_check(const char *file, const char *dirs, size_t *ntotal, dbt_sys_line_fn *line,
                        void *line_arg, dbt_sys_msg_fn *fn, void *arg)
{
    sys_out out = {fn, arg}, *o = &out;
    BIO *in = NULL;
    STACK_OF(X509_INFO) *infos = NULL;
    X509_STORE *store = NULL;
    X509_LOOKUP *lu;
    X509_STORE_CTX *ctx = NULL;
    long rc = -1, missing = 0;
    char *data = NULL, *f1;
    size_t len = 0;
    int i, r;

    *ntotal = 0;
    /* OpenSSL's lookup would open these and block or fail: the check cannot be made. */
    if (dbt_sys_lookup_hazards(dirs, NULL, NULL) > 0) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "the hashed directory %s holds entries named like certificates that are not "
                "regular files, which OpenSSL's lookup would open (a FIFO blocks it forever); "
                "remove them, then rerun:",
                dirs);
        dbt_sys_lookup_hazards(dirs, hazard_detail, o);
        goto end;
    }
    if ((r = sys_read_bundle_file(o, file, &data, &len)) != 0) {
        if (r > 0)
            return 0; /* stock mode loads nothing from it either */
        goto end;
    }
    if ((in = BIO_new_mem_buf(data, (int)len)) == NULL) {
        sys_say(o, DBT_SYS_ERROR, 0, "out of memory reading %s", file);
        goto end;
    }
    /* The reader OpenSSL's default file lookup uses (X509_load_cert_crl_file). */
    if ((infos = PEM_X509_INFO_read_bio(in, NULL, NULL, NULL)) == NULL) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "OpenSSL cannot parse the bundle file %s; regenerate it "
                "(update-ca-certificates) before comparing it with the hashed directory",
                file);
        goto end;
    }
    if ((store = X509_STORE_new()) == NULL ||
        (lu = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) == NULL ||
        X509_LOOKUP_add_dir(lu, dirs, X509_FILETYPE_PEM) != 1 ||
        (ctx = X509_STORE_CTX_new()) == NULL || X509_STORE_CTX_init(ctx, store, NULL, NULL) != 1) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot set up OpenSSL's hashed-directory lookup for %s",
                dirs);
        goto end;
    }
    for (i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509 *x = sk_X509_INFO_value(infos, i)->x509;
        STACK_OF(X509) * sk;
        unsigned char md[32], md2[32];
        unsigned int mdlen = 0, mdlen2 = 0;
        char hex[65], subj[256];
        int k, found = 0;

        if (x == NULL)
            continue; /* a CRL: it adds no trust anchor */
        (*ntotal)++;
        if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1) {
            sys_say(o, DBT_SYS_ERROR, 0, "cannot compute the SHA-256 of certificate %zu of %s",
                    *ntotal, file);
            goto end;
        }
        sk = X509_STORE_CTX_get1_certs(ctx, X509_get_subject_name(x));
        for (k = 0; !found && sk != NULL && k < sk_X509_num(sk); k++)
            found = X509_digest(sk_X509_value(sk, k), EVP_sha256(), md2, &mdlen2) == 1 &&
                    mdlen2 == mdlen && memcmp(md, md2, mdlen) == 0;
        sk_X509_pop_free(sk, X509_free);
        if (found)
            continue;
        missing++;
        if (line != NULL) {
            dbt_hex(md, mdlen, hex);
            /* X509_NAME_oneline writes every byte outside ' '..'~' as \xNN */
            sys_line(line, line_arg, "  certificate %zu of %s: %s, SHA-256 %s", *ntotal,
                     sys_esc(file, &f1),
                     X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj)), hex);
            free(f1);
        }
    }
    rc = missing;
end:
    ERR_clear_error(); /* lookup misses leave errors behind */
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(in);
    free(data);
    return rc;
}

int dbt_sys_lazy_empty_file(dbt_catalog *cat, char *path, size_t n, dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out out = {fn, arg}, *o = &out;
    struct stat st;
    dbt_err err;

    snprintf(path, n, "%s/%s", dbt_catalog_path(cat), DBT_SYS_LAZY_EMPTY);
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            sys_say(o, DBT_SYS_ERROR, 0, "cannot look at %s: %s", path, strerror(errno));
            return -1;
        }
        if (dbt_fs_write_atomic(path, "", 0, 0444, &err) != 0) {
            sys_say(o, DBT_SYS_ERROR, DBT_HINT_SYSTEM_LAZY_CREATE,
                    "%s; lazy mode needs this empty file", err.msg);
            return -1;
        }
        if (lstat(path, &st) != 0) {
            sys_say(o, DBT_SYS_ERROR, 0, "cannot look at %s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (dbt_safe_entry(&st, path, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        return -1;
    }
    /* Anything in it would be trusted: it must stay empty. */
    if (!S_ISREG(st.st_mode) || st.st_size != 0) {
        sys_say(o, DBT_SYS_ERROR, DBT_HINT_SYSTEM_LAZY_RERUN,
                "%s is not an empty file, and lazy mode would trust what it holds; remove it "
                "(rm %s)",
                path, path);
        return -1;
    }
    return 0;
}

long dbt_sys_resolve(dbt_catalog *cat, const char *dirs, const char *file, size_t *n,
                     dbt_sys_line_fn *line, void *line_arg, dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out out = {fn, arg}, *o = &out;
    dbt_catalog_trust *certs = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    X509_LOOKUP *lu, *hd;
    char subj[256], *f1;
    struct stat fst;
    dbt_err err;
    size_t i;
    long found = 0, rc = -1;

    *n = 0;
    /* What OpenSSL should find is the trust view: scoped bundles as their scoped forms. */
    if (dbt_catalog_trust_view(cat, &certs, n, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        return -1;
    }
    if (dbt_sys_lookup_hazards(dirs, NULL, NULL) > 0) {
        sys_line(line, line_arg,
                 "OpenSSL's default lookup would open entries that are not certificate files (a "
                 "FIFO blocks every program that looks that subject up): remove them");
        dbt_sys_lookup_hazards(dirs, line, line_arg);
        sys_line(line, line_arg,
                 "the catalog certificates were not looked up through OpenSSL's defaults");
        goto end;
    }
    if ((store = X509_STORE_new()) == NULL ||
        (lu = X509_STORE_add_lookup(store, X509_LOOKUP_file())) == NULL ||
        (hd = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) == NULL ||
        (*dirs != '\0' && X509_LOOKUP_add_dir(hd, dirs, X509_FILETYPE_PEM) != 1) ||
        (ctx = X509_STORE_CTX_new()) == NULL || X509_STORE_CTX_init(ctx, store, NULL, NULL) != 1) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot load OpenSSL's default verify paths");
        goto end;
    }
    if (*file == '\0') {
        /* SSL_CERT_FILE set but empty: OpenSSL loads no file */
    } else if (stat(file, &fst) == 0 && !S_ISREG(fst.st_mode)) {
        sys_line(line, line_arg, "note: the default certificate file %s is %s: not read",
                 sys_esc(file, &f1), dbt_fs_kind(fst.st_mode));
        free(f1);
    } else {
        X509_LOOKUP_load_file(lu, file, X509_FILETYPE_PEM); /* missing: nothing, as OpenSSL */
    }
    for (i = 0; i < *n; i++) {
        X509 *x = NULL;
        STACK_OF(X509) *sk = NULL;
        int k, ok = 0;

        if (dbt_catalog_load_trust_cert(cat, &certs[i], &x, &err) != 0) {
            sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
            goto end;
        }
        sk = X509_STORE_CTX_get1_certs(ctx, X509_get_subject_name(x));
        for (k = 0; sk != NULL && k < sk_X509_num(sk); k++)
            ok |= X509_cmp(sk_X509_value(sk, k), x) == 0;
        sk_X509_pop_free(sk, X509_free);
        if (ok)
            found++;
        else
            sys_line(line, line_arg, "  not found by OpenSSL's defaults: %s %s", certs[i].sha256,
                     X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj)));
        X509_free(x);
    }
    rc = found;
end:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    free(certs);
    return rc;
}
