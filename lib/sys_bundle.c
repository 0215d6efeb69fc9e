/* The system wiring's bundle-file mode (lib/syswire.h): one block of the catalog's certificates
 * at the end of OpenSSL's default bundle file, between marker lines, rewritten atomically and
 * only when it changes; everything outside the block is kept byte for byte. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "fsutil.h"
#include "sys_int.h"

/* The block dbtrust appends to a bundle file; BUNDLE_NL marks a newline it had to add first. */
#define BUNDLE_BEGIN SYS_BLOCK_BEGIN
#define BUNDLE_NL " (newline added before)"
#define BUNDLE_END SYS_BLOCK_END

/* Reads the bundle file whole: only a regular file (never a FIFO or device, see open_regular)
 * of at most DBT_MAX_INPUT bytes. */
static int read_all(const sys_out *o, const char *path, char **out, size_t *len, mode_t *mode)
{
    struct stat st;
    int r = sys_read_regular(path, DBT_MAX_INPUT, out, len, &st);

    if (r == -2)
        sys_say(o, DBT_SYS_ERROR, 0,
                "the bundle file %s is %s, not a regular file; dbtrust neither reads nor "
                "replaces it: point the system (or DBTRUST_SYSTEM_CERT_FILE) at a regular file",
                path, dbt_fs_kind(st.st_mode));
    else if (r > 0)
        sys_say(o, DBT_SYS_ERROR, 0,
                "the bundle file %s is larger than %u bytes; dbtrust does not rewrite it", path,
                DBT_MAX_INPUT);
    else if (r < 0)
        sys_say(o, DBT_SYS_ERROR, 0, "cannot read the bundle file %s: %s", path, strerror(errno));
    if (r != 0)
        return -1;
    *mode = st.st_mode & 07777;
    return 0;
}

/*
 * Makes the bundle file end with exactly one dbtrust block holding the catalog's certificates
 * (cat NULL: no block), rewriting it atomically only when that changes it; the old content goes
 * to the journal for undo. Everything outside the block is kept byte for byte.
 */
int sys_bundle_sync(struct sys_journal *j, const char *file, const char *catalog, dbt_catalog *cat,
                    const struct sys_want *w, size_t nw, size_t *nadded, size_t *nremoved)
{
    char *old = NULL, *begin, *endm, *nl;
    BIO *mem = BIO_new(BIO_s_mem());
    BUF_MEM *bm = NULL;
    size_t len, keep_head, i;
    mode_t mode;
    dbt_err err;
    int rc = -1;

    *nadded = *nremoved = 0;
    if (mem == NULL || realpath(file, j->file) == NULL) {
        sys_say(j->out, DBT_SYS_ERROR, 0, "cannot resolve the bundle file %s: %s", file,
                strerror(errno));
        goto end;
    }
    if (read_all(j->out, j->file, &old, &len, &mode) != 0)
        goto end;
    /* Where the old block starts (at a line start) and ends. */
    keep_head = len;
    for (begin = old; (begin = strstr(begin, BUNDLE_BEGIN)) != NULL; begin++)
        if (begin == old || begin[-1] == '\n')
            break;
    if (begin != NULL) {
        if ((endm = strstr(begin, BUNDLE_END)) == NULL) {
            sys_say(j->out, DBT_SYS_ERROR, 0,
                    "%s has dbtrust's start line but not its end line '%s'; remove the partial "
                    "block by hand, then rerun",
                    j->file, "# END dbtrust catalog");
            goto end;
        }
        if ((size_t)(endm + strlen(BUNDLE_END) - old) != len) {
            sys_say(j->out, DBT_SYS_ERROR, 0,
                    "%s has text after dbtrust's block (something appended to it since); "
                    "remove the block between the '# BEGIN dbtrust' and '# END dbtrust' lines "
                    "by hand, then rerun",
                    j->file);
            goto end;
        }
        for (char *p = begin; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
            (*nremoved)++;
        keep_head = (size_t)(begin - old);
        nl = memchr(begin, '\n', (size_t)(endm - begin));
        if (nl != NULL && (size_t)(nl - begin) >= strlen(BUNDLE_NL) &&
            memcmp(nl - strlen(BUNDLE_NL), BUNDLE_NL, strlen(BUNDLE_NL)) == 0 && keep_head > 0)
            keep_head--; /* the newline dbtrust added */
    }
    if (keep_head > 0 && BIO_write(mem, old, (int)keep_head) != (int)keep_head)
        goto oom;
    if (cat != NULL) {
        int addnl = keep_head > 0 && old[keep_head - 1] != '\n';

        if (BIO_printf(mem, "%s" BUNDLE_BEGIN "%s%s\n", addnl ? "\n" : "", catalog,
                       addnl ? BUNDLE_NL : "") <= 0)
            goto oom;
        for (i = 0; i < nw; i++) {
            X509 *x = NULL;
            dbt_catalog_trust t = {{0}, w[i].hash, w[i].scoped};

            memcpy(t.sha256, w[i].sha256, sizeof(t.sha256));
            if (dbt_catalog_load_trust_cert(cat, &t, &x, &err) != 0) {
                sys_say(j->out, DBT_SYS_ERROR, 0, "%s", err.msg);
                goto end;
            }
            if (PEM_write_bio_X509(mem, x) != 1) {
                X509_free(x);
                goto oom;
            }
            X509_free(x);
        }
        if (BIO_puts(mem, BUNDLE_END) <= 0)
            goto oom;
        *nadded = nw;
    }
    BIO_get_mem_ptr(mem, &bm);
    if (bm->length == len && memcmp(bm->data, old, len) == 0) {
        *nadded = *nremoved = 0; /* already as wanted: leave the file alone */
        rc = 0;
        goto end;
    }
    if (dbt_fs_write_atomic(j->file, bm->data, bm->length, mode, &err) != 0) {
        sys_say(j->out, DBT_SYS_ERROR, 0, "%s", err.msg);
        goto end;
    }
    j->file_orig = old;
    j->file_len = len;
    j->file_mode = mode;
    old = NULL;
    rc = 0;
    goto end;
oom:
    sys_say(j->out, DBT_SYS_ERROR, 0, "out of memory writing %s", file);
end:
    free(old);
    BIO_free(mem);
    return rc;
}
