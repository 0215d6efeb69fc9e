/* The trust view of a generation (trust/, lib/catlayout.h): what OpenSSL's default trust gets
 * from the catalog. Unscoped certificates are links to their file in certs/; a scoped bundle's
 * certificates are served as name-constrained cross-certificates under a fresh local anchor
 * (lib/scope.h), whose key is gone before this returns. The same certificates also go into one
 * PEM file beside trust/ (trust.pem), for clients that take a single file of extra CAs. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/buffer.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "catalog_int.h"
#include "fsutil.h"
#include "scope.h"

struct tview {
    char sha[65];
    unsigned long sh;
    uint64_t k; /* dbt_cat_sha_key(sha), set before the sort */
    int scoped;
    const unsigned char *der; /* the certificate served: the catalog's, or owned below */
    size_t len;
    const char *pem; /* or its trust.pem block, copied (dbt_cat_view_cert) */
    size_t pemlen;
    unsigned char *owned; /* a scoped form's DER (OPENSSL_free) */
};

static int cmp_tview(const void *a, const void *b)
{
    const struct tview *x = a, *y = b;

    if (x->sh != y->sh)
        return x->sh < y->sh ? -1 : 1;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return strcmp(x->sha, y->sha);
}

/* Writes x as trust/<sha256>.pem and records it (v keeps its DER for trust.pem). */
static int write_scoped(struct dbt_cat_out *o, int tfd, const char *tdisp, X509 *x, BIO *mem,
                        struct tview *v, dbt_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char file[80], *disp = NULL, *p = NULL;
    unsigned char *der = NULL;
    int dlen, ok = 0, rc = -1;
    long len;

    if ((dlen = i2d_X509(x, &der)) <= 0 ||
        EVP_Digest(der, (size_t)dlen, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        goto oom;
    for (unsigned i = 0; i < 32; i++)
        snprintf(v->sha + 2 * i, 3, "%02x", md[i]);
    v->sh = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok);
    if (!ok)
        goto oom;
    v->scoped = 1;
    (void)BIO_reset(mem);
    if (!PEM_write_bio(mem, PEM_STRING_X509, "", der, dlen))
        goto oom;
    len = BIO_get_mem_data(mem, &p);
    dbt_cat_name3(file, sizeof(file), "", v->sha, ".pem");
    if ((disp = dbt_cat_asprintf("%s/%s", tdisp, file)) == NULL)
        goto oom;
    rc = dbt_cat_out_file(o, tfd, file, p, (size_t)len, 1, disp, err);
    v->owned = der;
    v->der = der;
    v->len = (size_t)dlen;
    der = NULL;
    goto end;
oom:
    dbt_err_ossl(err, "cannot write the scoped form of a certificate into %s", tdisp);
end:
    OPENSSL_free(der);
    free(disp);
    return rc;
}

/* trust.pem: the view's certificates in link order, the bytes each trust/ file holds. Written
 * from pieces: the copied blocks where they lie in the current trust.pem (mapped; neighbours
 * there are one piece), the rest encoded into one buffer. Built in a buffer of its own, a
 * trust.pem of megabytes cost a page fault a page and a copy of every block. */
static int write_pem(struct dbt_cat_out *o, int gfd, const char *gdisp, const struct tview *v,
                     size_t nv, dbt_err *err)
{
    char *disp = dbt_cat_asprintf("%s/" DBT_LAYOUT_TRUST_PEM, gdisp), *p = NULL;
    size_t total = 0, enc = 0, ni = 0;
    struct iovec *iov = calloc(nv ? nv : 1, sizeof(*iov));
    size_t *off = calloc(nv ? nv : 1, sizeof(*off));
    BUF_MEM *bm = NULL;
    BIO *pb = NULL;
    int rc = -1;

    if (disp == NULL || iov == NULL || off == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    for (size_t i = 0; i < nv; i++)
        if (v[i].pem == NULL)
            enc += 54 + (v[i].len / 48 + 1) * 65;
    if ((bm = BUF_MEM_new()) == NULL || (pb = BIO_new(BIO_s_mem())) == NULL ||
        (enc > 0 && !BUF_MEM_grow(bm, enc))) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    bm->length = 0;
    BIO_set_mem_buf(pb, bm, BIO_CLOSE);
    bm = NULL; /* pb's */
    for (size_t i = 0; i < nv; i++) {
        if (v[i].pem != NULL)
            continue;
        off[i] = (size_t)BIO_pending(pb);
        if (!dbt_cat_pem_cert(pb, v[i].der, v[i].len)) {
            dbt_err_ossl(err, "cannot encode %s", disp);
            goto end;
        }
    }
    (void)BIO_get_mem_data(pb, &p); /* complete: the buffer moves no more */
    for (size_t i = 0; i < nv; i++) {
        const char *b;
        size_t len;
        if (v[i].pem != NULL) {
            b = v[i].pem;
            len = v[i].pemlen;
        } else {
            /* up to the next encoded block, or to the end of the buffer */
            size_t j = i + 1;
            while (j < nv && v[j].pem != NULL)
                j++;
            b = p + off[i];
            len = (j < nv ? off[j] : (size_t)BIO_pending(pb)) - off[i];
        }
        if (ni > 0 && (const char *)iov[ni - 1].iov_base + iov[ni - 1].iov_len == b)
            iov[ni - 1].iov_len += len;
        else
            iov[ni++] = (struct iovec){(void *)b, len};
        total += len;
    }
    rc = dbt_cat_out_file_iov(o, gfd, DBT_LAYOUT_TRUST_PEM, iov, ni, total, 0, disp, err);
end:
    BIO_free(pb);
    BUF_MEM_free(bm);
    free(iov);
    free(off);
    free(disp);
    return rc;
}

int dbt_cat_write_trust(struct dbt_cat_out *o, int gfd, const char *gdisp, int tfd,
                        const char *tdisp, const struct dbt_cat_view_cert *in, size_t n, BIO *mem,
                        dbt_err *err)
{
    struct tview *v = calloc(n + 1, sizeof(*v));
    dbt_scope_item *items = calloc(n ? n : 1, sizeof(*items));
    X509 **cross = calloc(n ? n : 1, sizeof(*cross)), *anchor = NULL;
    size_t nv = 0, ns = 0;
    int ret = -1;

    if (v == NULL || items == NULL || cross == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = in[i].der;
        X509 *x;

        if (in[i].scope == NULL || in[i].scope[0] == '\0') {
            memcpy(v[nv].sha, in[i].sha, 65);
            v[nv].der = in[i].der;
            v[nv].len = in[i].len;
            v[nv].pem = in[i].der == NULL ? in[i].pem : NULL;
            v[nv].pemlen = in[i].pemlen;
            v[nv++].sh = in[i].sh;
            continue;
        }
        if (in[i].der == NULL) { /* a copied block is never scoped (lib/catalog_txn.c) */
            dbt_err_set(err, "certificate %s is scoped but was not read", in[i].sha);
            goto end;
        }
        if (in[i].x != NULL && X509_up_ref(in[i].x))
            x = in[i].x;
        else if ((x = d2i_X509(NULL, &p, (long)in[i].len)) == NULL) {
            dbt_err_ossl(err, "certificate %s cannot be read to scope it", in[i].sha);
            goto end;
        }
        items[ns].cert = x;
        items[ns++].scope = in[i].scope;
    }
    if (ns > 0) {
        if (dbt_scope_build(items, ns, &anchor, cross, err) != 0) {
            dbt_err_prefix(err, "cannot serve the scoped bundles");
            goto end;
        }
        for (size_t i = 0; i < ns; i++)
            if (write_scoped(o, tfd, tdisp, cross[i], mem, &v[nv++], err) != 0)
                goto end;
        if (anchor != NULL && write_scoped(o, tfd, tdisp, anchor, mem, &v[nv++], err) != 0)
            goto end;
    }
    /* openssl rehash numbering, as in certs/: equal hashes get .0, .1, ... in sha256 order. */
    for (size_t i = 0; i < nv; i++)
        v[i].k = dbt_cat_sha_key(v[i].sha);
    qsort(v, nv, sizeof(*v), cmp_tview);
    for (size_t i = 0, seq = 0; i < nv; i++) {
        char link[32], target[96];
        seq = (i > 0 && v[i].sh == v[i - 1].sh) ? seq + 1 : 0;
        if (!v[i].scoped && dbt_cat_out_hash_kept(o, tfd, v[i].sh))
            continue;
        dbt_cat_link_name(link, sizeof(link), v[i].sh, seq);
        dbt_cat_name3(target, sizeof(target), v[i].scoped ? "" : DBT_LAYOUT_TRUST_UP, v[i].sha,
                      ".pem");
        if (dbt_cat_out_link(o, tfd, target, link, tdisp, err) != 0)
            goto end;
    }
    if (write_pem(o, gfd, gdisp, v, nv, err) != 0)
        goto end;
    ret = 0;
end:
    for (size_t i = 0; i < ns; i++) {
        X509_free(items[i].cert);
        X509_free(cross[i]);
    }
    for (size_t i = 0; v != NULL && i < nv; i++)
        OPENSSL_free(v[i].owned);
    X509_free(anchor);
    free(items);
    free(cross);
    free(v);
    return ret;
}
