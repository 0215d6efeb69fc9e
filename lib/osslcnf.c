/* The openssl.cnf snippet for dbtrust.so. It keeps the default provider active: naming any
 * provider in a providers section turns off OpenSSL's implicit loading of "default". */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include "escape.h"
#include "fsutil.h"
#include "osslcnf.h"
#include "sys_int.h"

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

/* ---------------------------------------------------------------- the system's openssl.cnf */

/* The directory in OpenSSL_version()'s 'NAME: "<dir>"' (its text as is when unquoted). */
static int quoted_dir(const char *v, const char **dir)
{
    const char *q = strchr(v, '"');

    *dir = q != NULL ? q + 1 : v;
    return (int)strcspn(*dir, "\"");
}

const char *dbt_cnf_system_path(char *buf, size_t n)
{
    const char *v = sys_env_or("DBTRUST_SYSTEM_OPENSSL_CNF", NULL), *dir;
    int dn;

    if (v != NULL) {
        snprintf(buf, n, "%s", v);
        return buf;
    }
    dn = quoted_dir(OpenSSL_version(OPENSSL_DIR), &dir);
    snprintf(buf, n, "%.*s/openssl.cnf", dn, dir);
    return buf;
}

const char *dbt_cnf_module_path(const char *module, char *buf, size_t n)
{
    const char *dir;
    int dn;

    if (module != NULL) {
        snprintf(buf, n, "%s", module);
        return buf;
    }
    dn = quoted_dir(OpenSSL_version(OPENSSL_MODULES_DIR), &dir);
    snprintf(buf, n, "%.*s/dbtrust.so", dn, dir);
    return buf;
}

int dbt_cnf_module_check(const char *path, dbt_err *err)
{
    OSSL_LIB_CTX *ctx = NULL;
    OSSL_PROVIDER *prov = NULL;
    struct stat st;
    int rc = -1;

    if (stat(path, &st) != 0) {
        dbt_err_sys(err, "the provider module %s cannot be used", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        dbt_err_set(err, "the provider module %s is %s, not a regular file", path,
                    dbt_fs_kind(st.st_mode));
        return -1;
    }
    /* Loaded the way the system's file will load it, in a context of its own: a file that is
     * not a provider (a truncated copy, another library) is refused now rather than skipped by
     * every program later. */
    ERR_set_mark();
    if ((ctx = OSSL_LIB_CTX_new()) == NULL || (prov = OSSL_PROVIDER_load(ctx, path)) == NULL) {
        ERR_pop_to_mark();
        dbt_err_set(err,
                    "OpenSSL cannot load %s as a provider module (not dbtrust.so, or "
                    "damaged); reinstall dbtrust",
                    path);
        goto end;
    }
    ERR_pop_to_mark();
    rc = 0;
end:
    if (prov != NULL)
        OSSL_PROVIDER_unload(prov);
    OSSL_LIB_CTX_free(ctx);
    return rc;
}

/* Reads the system's file: s->file and s->target set; 0, 1 missing, -1 said why. */
static int sys_cnf_read(dbt_cnf_sys *s, char **data, size_t *len, struct stat *st, dbt_err *err)
{
    char real[PATH_MAX];
    int fd, r;

    memset(s, 0, sizeof(*s));
    dbt_cnf_system_path(s->file, sizeof(s->file));
    if (realpath(s->file, real) == NULL) {
        if (errno == ENOENT)
            return 1;
        dbt_err_sys(err, "cannot follow %s", s->file);
        return -1;
    }
    snprintf(s->target, sizeof(s->target), "%s", real);
    fd = sys_open_regular(s->target, 0, st);
    if (fd == -2) {
        dbt_err_set(err, "%s is %s, not a regular file: dbtrust edits only a regular openssl.cnf",
                    s->target, dbt_fs_kind(st->st_mode));
        return -1;
    }
    if (fd < 0) {
        dbt_err_sys(err, "cannot open %s", s->target);
        return -1;
    }
    r = sys_read_capped(fd, DBT_CNF_MAX_BYTES, data, len);
    close(fd);
    if (r < 0) {
        dbt_err_sys(err, "cannot read %s", s->target);
        return -1;
    }
    if (r > 0) {
        free(*data);
        *data = NULL;
        dbt_err_set(err, "%s is larger than %u bytes; dbtrust edits only files it can read whole",
                    s->target, DBT_CNF_MAX_BYTES);
        return -1;
    }
    return 0;
}

static int write_all_fd(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Replaces target with data: same owner and mode, and only while target is still the file that
 * was read (old): a concurrent change (a package upgrade) is not overwritten. */
static int sys_cnf_replace(const char *target, const struct stat *old, const char *data, size_t len,
                           dbt_err *err)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 32];
    const char *slash = strrchr(target, '/');
    struct stat now;
    int fd = -1, dfd = -1, rc = -1;

    if (slash == NULL || (size_t)(slash - target) >= sizeof(dir)) {
        dbt_err_set(err, "cannot replace %s: not an absolute path", target);
        return -1;
    }
    if (slash == target) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, target, (size_t)(slash - target));
        dir[slash - target] = '\0';
    }
    snprintf(tmp, sizeof(tmp), "%s/.%.200s.dbtrust-XXXXXX", dir, slash + 1);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        dbt_err_sys(err, "cannot create a temporary file beside %s", target);
        return -1;
    }
    if (fchown(fd, old->st_uid, old->st_gid) != 0 || fchmod(fd, old->st_mode & 07777) != 0) {
        dbt_err_sys(err, "cannot give %s the owner and mode of %s", tmp, target);
        goto end;
    }
    if (write_all_fd(fd, data, len) != 0) {
        dbt_err_sys(err, "cannot write %s", tmp);
        goto end;
    }
    if (dbt_fs_fsync_fd(fd, tmp, err) != 0)
        goto end;
    if (close(fd) != 0) {
        fd = -1;
        dbt_err_sys(err, "cannot write %s", tmp);
        goto end;
    }
    fd = -1;
    if (lstat(target, &now) != 0 || !S_ISREG(now.st_mode) || now.st_ino != old->st_ino ||
        now.st_dev != old->st_dev || now.st_size != old->st_size ||
        now.st_mtim.tv_sec != old->st_mtim.tv_sec || now.st_mtim.tv_nsec != old->st_mtim.tv_nsec) {
        dbt_err_set(err,
                    "%s changed while dbtrust was editing it; nothing was written: run the "
                    "command again",
                    target);
        goto end;
    }
    if (rename(tmp, target) != 0) {
        dbt_err_sys(err, "cannot rename %s to %s", tmp, target);
        goto end;
    }
    tmp[0] = '\0';
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        dbt_fs_fsync_fd(dfd, dir, err) != 0) {
        if (dfd < 0)
            dbt_err_sys(err, "cannot open directory %s", dir);
        goto end;
    }
    rc = 0;
end:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp[0] != '\0')
        unlink(tmp);
    return rc;
}

int dbt_cnf_system_enable(const char *catalog, const char *module, dbt_cnf_sys *s, dbt_err *err)
{
    char mod[PATH_MAX], *data = NULL, *out = NULL;
    size_t len = 0, olen = 0;
    struct stat st;
    int r, rc = -1;

    if ((r = sys_cnf_read(s, &data, &len, &st, err)) != 0) {
        if (r == 1)
            dbt_err_set(err,
                        "%s does not exist: this OpenSSL reads no system configuration to "
                        "add the provider to",
                        s->file);
        return -1;
    }
    if (dbt_cnf_module_check(dbt_cnf_module_path(module, mod, sizeof(mod)), err) != 0)
        goto end;
    if (dbt_cnf_edit_enable(s->target, data, len, catalog, module, &out, &olen, err) != 0)
        goto end;
    if (olen != len || memcmp(out, data, len) != 0) {
        if (sys_cnf_replace(s->target, &st, out, olen, err) != 0)
            goto end;
        s->changed = 1;
    }
    rc = dbt_cnf_edit_info(s->target, out, olen, &s->info, err);
end:
    free(data);
    free(out);
    return rc;
}

int dbt_cnf_system_disable(dbt_cnf_sys *s, dbt_err *err)
{
    char *data = NULL, *out = NULL;
    size_t len = 0, olen = 0;
    struct stat st;
    int r, rc = -1;

    if ((r = sys_cnf_read(s, &data, &len, &st, err)) != 0)
        return r;
    if ((r = dbt_cnf_edit_disable(s->target, data, len, &out, &olen, err)) < 0)
        goto end;
    if (r == 0) {
        if (sys_cnf_replace(s->target, &st, out, olen, err) != 0)
            goto end;
        s->changed = 1;
    }
    rc = r;
end:
    free(data);
    free(out);
    return rc;
}

int dbt_cnf_system_status(dbt_cnf_sys *s, dbt_err *err)
{
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    int r;

    if ((r = sys_cnf_read(s, &data, &len, &st, err)) != 0)
        return r;
    r = dbt_cnf_edit_info(s->target, data, len, &s->info, err);
    free(data);
    return r;
}
