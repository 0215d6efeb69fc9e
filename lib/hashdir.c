/* Writing a standalone hashed directory (openssl rehash layout) from a bundle, atomically. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "certinfo.h"
#include "fsutil.h"
#include "hashdir.h"

int dbt_hashdir_write(const char *dir, const dbt_bundle *b, dbt_err *err)
{
    char tmp[4096], name[32];
    char(*seen)[65] = NULL;
    unsigned long *hashes = NULL;
    size_t nseen = 0, i, j;
    int dfd = -1, rc = -1, n;
    struct stat st;
    dbt_certinfo ci;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            dbt_err_set(err, "%s exists and is not a directory: choose a new directory name", dir);
            return -1;
        }
    } else if (errno != ENOENT) {
        dbt_err_sys(err, "cannot check %s", dir);
        return -1;
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dir, (long)getpid()) >= sizeof(tmp)) {
        dbt_err_set(err, "%s: path too long", dir);
        return -1;
    }
    seen = calloc(b->n ? b->n : 1, sizeof(*seen));
    hashes = calloc(b->n ? b->n : 1, sizeof(*hashes));
    if (seen == NULL || hashes == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    dbt_fs_rmtree_at(AT_FDCWD, tmp, tmp, NULL);
    if (dbt_fs_mkdir_at(AT_FDCWD, tmp, DBT_DIR_MODE, tmp, err) != 0)
        goto end;
    if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        dbt_err_sys(err, "cannot open %s", tmp);
        goto end;
    }
    for (i = 0; i < b->n; i++) {
        BIO *mem;
        char *pem;
        long len;

        if (dbt_certinfo_get(b->certs[i].x509, &ci, err) != 0)
            goto end;
        for (j = 0; j < nseen && strcmp(seen[j], ci.sha256) != 0; j++)
            ;
        if (j < nseen)
            continue; /* the same certificate twice: one file */
        n = 0;
        for (j = 0; j < nseen; j++)
            n += hashes[j] == ci.subject_hash;
        memcpy(seen[nseen], ci.sha256, 65);
        hashes[nseen++] = ci.subject_hash;
        snprintf(name, sizeof(name), "%08lx.%d", ci.subject_hash, n);
        if ((mem = BIO_new(BIO_s_mem())) == NULL ||
            PEM_write_bio_X509(mem, b->certs[i].x509) != 1) {
            BIO_free(mem);
            dbt_err_ossl(err, "cannot encode certificate %zu", i + 1);
            goto end;
        }
        len = BIO_get_mem_data(mem, &pem);
        if (dbt_fs_write_new_at(dfd, name, pem, (size_t)len, DBT_FILE_MODE, tmp, err) != 0) {
            BIO_free(mem);
            goto end;
        }
        BIO_free(mem);
    }
    if (dbt_fs_fsync_fd(dfd, tmp, err) != 0)
        goto end;
    /* rename(2) replaces an empty directory and refuses a non-empty one. */
    if (rename(tmp, dir) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            dbt_err_set(err, "%s exists and is not empty: remove it or choose a new directory",
                        dir);
        else
            dbt_err_sys(err, "cannot rename %s to %s", tmp, dir);
        goto end;
    }
    rc = 0;
end:
    if (dfd >= 0)
        close(dfd);
    if (rc != 0)
        dbt_fs_rmtree_at(AT_FDCWD, tmp, tmp, NULL);
    free(seen);
    free(hashes);
    return rc;
}
