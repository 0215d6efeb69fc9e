/* Writing a standalone hashed directory (openssl rehash layout) from a bundle, atomically. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "certinfo.h"
#include "fsutil.h"
#include "hashdir.h"
#include "trust.h"

/* What placing one certificate needs; kept small so that 200,000 certificates fit easily. */
struct hd_item {
    unsigned char sha256[32];
    unsigned long hash; /* subject hash: the <hash> of <hash>.<n> */
    size_t index;       /* position in the bundle: the first of duplicates wins */
};

static int hd_by_sha_then_index(const void *a, const void *b)
{
    const struct hd_item *x = a, *y = b;
    int c = memcmp(x->sha256, y->sha256, sizeof(x->sha256));

    if (c != 0)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

/* OpenSSL's hashed-directory lookup reads TRUSTED CERTIFICATE files with their trust and reject
 * lists and honours them (an input rejected for serverAuth stays rejected for -purpose sslserver),
 * so a certificate with trust settings keeps them; a plain one stays a plain CERTIFICATE block. */
static int write_pem(BIO *mem, X509 *x)
{
    return dbt_trust_kind_of(x) == DBT_TRUST_PLAIN ? PEM_write_bio_X509(mem, x)
                                                   : PEM_write_bio_X509_AUX(mem, x);
}

/* The catalog's rule: certificates sharing a <hash> get n = 0, 1, ... in sha256 order. */
static int hd_by_hash_then_sha(const void *a, const void *b)
{
    const struct hd_item *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return memcmp(x->sha256, y->sha256, sizeof(x->sha256));
}

/* dir may be replaced only by rename(2) of a directory, which takes the place of nothing or of
 * an empty directory and refuses the rest; this says what is there in plain words first.
 * 0 when dir is missing or a directory; -1 with err set. */
static int hd_target_ok(const char *dir, dbt_err *err)
{
    struct stat st;

    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        dbt_err_sys(err, "cannot check %s", dir);
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return 0;
    if (S_ISLNK(st.st_mode))
        dbt_err_set(err,
                    "%s is a symbolic link: links are never replaced nor written through; "
                    "name a new directory (or the link's target itself)",
                    dir);
    else
        dbt_err_set(err,
                    "%s exists and is %s, not a directory: it is never replaced; choose a "
                    "new directory name",
                    dir, dbt_fs_kind(st.st_mode));
    return -1;
}

/* Removes what this writer put in its own temporary directory tmp (open as dfd): the files it
 * created there, then the directory itself, and only while tmp still names that directory. */
static void hd_discard(int dfd, const char *tmp)
{
    struct dirent *de;
    struct stat dst, st;
    DIR *d;
    int fd;

    if (fstat(dfd, &dst) != 0 || (fd = dup(dfd)) < 0)
        return;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dfd, de->d_name, 0);
    closedir(d);
    if (lstat(tmp, &st) == 0 && st.st_dev == dst.st_dev && st.st_ino == dst.st_ino)
        rmdir(tmp);
}

int dbt_hashdir_write(const char *out, const dbt_bundle *b, dbt_err *err)
{
    char dir[4096], tmp[4096], name[32], *slash;
    struct hd_item *items = NULL;
    size_t nitems = 0, nuniq = 0, i, dl;
    int dfd = -1, rc = -1, ok, n = 0;
    unsigned int mdlen;

    /* Without trailing slashes: "out/" would make lstat and rename follow a link named out. */
    dl = strlen(out);
    while (dl > 1 && out[dl - 1] == '/')
        dl--;
    if (dl == 0 || dl >= sizeof(dir)) {
        dbt_err_set(err, "%s: not a usable directory name", out);
        return -1;
    }
    memcpy(dir, out, dl);
    dir[dl] = '\0';
    /* lstat: a link named as the directory would only be replaced by the rename below (or
     * refused by it with a puzzling "Not a directory"), never written through. */
    if (hd_target_ok(dir, err) != 0)
        return -1;
    /* The new tree is built in a fresh directory of an unpredictable name beside dir (same
     * filesystem, so the rename is atomic), created 0700 by mkdtemp: nothing that already
     * exists, an earlier run's leftovers or another user's directory, is ever reused or
     * removed. */
    slash = strrchr(dir, '/');
    if ((slash == NULL ? snprintf(tmp, sizeof(tmp), ".%s.tmp-XXXXXX", dir)
                       : snprintf(tmp, sizeof(tmp), "%.*s/.%s.tmp-XXXXXX", (int)(slash - dir), dir,
                                  slash + 1)) >= (int)sizeof(tmp)) {
        dbt_err_set(err, "%s: path too long", dir);
        return -1;
    }
    if ((items = calloc(b->n ? b->n : 1, sizeof(*items))) == NULL) {
        dbt_err_set(err, "out of memory for %zu certificates", b->n);
        return -1;
    }
    for (i = 0; i < b->n; i++) {
        X509 *x = b->certs[i].x509;

        mdlen = 0;
        if (X509_digest(x, EVP_sha256(), items[i].sha256, &mdlen) != 1 || mdlen != 32) {
            dbt_err_ossl(err, "certificate %zu of %s: cannot compute its SHA-256", i + 1,
                         b->source ? b->source : "the input");
            goto end;
        }
        ok = 0;
        items[i].hash = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok);
        if (!ok) {
            dbt_err_ossl(err, "certificate %zu of %s: cannot hash its subject", i + 1,
                         b->source ? b->source : "the input");
            goto end;
        }
        items[i].index = i;
    }
    nitems = b->n;
    /* Duplicates: sort by fingerprint and keep the first of each run (O(n log n)). */
    qsort(items, nitems, sizeof(*items), hd_by_sha_then_index);
    for (i = 0; i < nitems; i++) {
        if (nuniq == 0 || memcmp(items[nuniq - 1].sha256, items[i].sha256, 32) != 0) {
            items[nuniq++] = items[i];
            continue;
        }
        /* One file per certificate: two copies that disagree on trust cannot both be kept,
         * and keeping either one would silently drop the other's settings. */
        if (!dbt_trust_equal(b->certs[items[nuniq - 1].index].x509,
                             b->certs[items[i].index].x509)) {
            char w1[600], w2[600];

            dbt_trust_where(b, items[nuniq - 1].index, w1, sizeof(w1));
            dbt_trust_where(b, items[i].index, w2, sizeof(w2));
            dbt_err_set(err,
                        "%s and %s are the same certificate with different trust settings: "
                        "remove one of them",
                        w1, w2);
            goto end;
        }
    }
    qsort(items, nuniq, sizeof(*items), hd_by_hash_then_sha);

    if (mkdtemp(tmp) == NULL) {
        dbt_err_sys(err, "cannot create a temporary directory beside %s", dir);
        goto end;
    }
    if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        dbt_err_sys(err, "cannot open %s", tmp);
        rmdir(tmp);
        goto end;
    }
    for (i = 0; i < nuniq; i++) {
        BIO *mem;
        char *pem;
        long len;

        n = (i > 0 && items[i - 1].hash == items[i].hash) ? n + 1 : 0;
        snprintf(name, sizeof(name), "%08lx.%d", items[i].hash, n);
        if ((mem = BIO_new(BIO_s_mem())) == NULL ||
            write_pem(mem, b->certs[items[i].index].x509) != 1) {
            BIO_free(mem);
            dbt_err_ossl(err, "cannot encode certificate %zu", items[i].index + 1);
            goto end;
        }
        len = BIO_get_mem_data(mem, &pem);
        /* One flush for the whole tree below, not one fsync per file. */
        if (dbt_fs_create_at(dfd, name, pem, (size_t)len, DBT_FILE_MODE, tmp, err) != 0) {
            BIO_free(mem);
            goto end;
        }
        BIO_free(mem);
    }
    /* The mode every directory dbtrust makes has, instead of mkdtemp's 0700. */
    if (fchmod(dfd, DBT_DIR_MODE) != 0) {
        dbt_err_sys(err, "cannot set the mode of %s", tmp);
        goto end;
    }
    if (dbt_fs_sync_tree(dfd, tmp, err) != 0 || dbt_fs_fsync_fd(dfd, tmp, err) != 0)
        goto end;
    /* Checked again: what dir is may have changed while the tree was written. rename(2) of a
     * directory then takes the place of nothing or of an empty directory only: a non-empty
     * directory, a file, a link, a FIFO or a device is refused by the kernel itself. */
    if (hd_target_ok(dir, err) != 0)
        goto end;
    if (rename(tmp, dir) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            dbt_err_set(err, "%s exists and is not empty: remove it or choose a new directory",
                        dir);
        else if (errno != ENOTDIR || hd_target_ok(dir, err) == 0)
            dbt_err_sys(err, "cannot rename %s to %s", tmp, dir);
        goto end;
    }
    rc = 0;
end:
    if (dfd >= 0) {
        if (rc != 0)
            hd_discard(dfd, tmp);
        close(dfd);
    }
    free(items);
    return rc;
}
