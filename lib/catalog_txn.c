/* Catalog transactions: the state as bundles of DER certificates in memory, changes with their
 * reports, and the commit that writes a whole generation beside the current one, flushes it
 * and swaps it in with one rename. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "catalog_int.h"
#include "catsafe.h"
#include "escape.h"
#include "fsutil.h"
#include "scope.h"
#include "syswire.h"
#include "trust.h"

/*
 * A certificate as the catalog needs it: DER and the facts of its index line. Unchanged
 * certificates take their facts from the current index and are never parsed: X509 parsing
 * costs about 0.6 ms per certificate on OpenSSL 3.0 (public-key decoders), base64 and a
 * digest almost nothing.
 */
struct tcert {
    unsigned char *der;
    size_t len;
    char sha[65];
    char sha1[41];
    unsigned long sh, ih; /* subject and issuer X509_NAME_hash_ex */
    char serial[132];
    X509 *x; /* the parsed certificate when the transaction has it (put), else NULL */
};

struct tbundle {
    char name[DBT_CATALOG_NAME_MAX + 1];
    dbt_catalog_meta *meta; /* NULL while lazy (5 KiB each: not touched for unread bundles) */
    struct tcert *c;
    size_t n;
    /* Not read (a lazy transaction, see "lazy transactions" below): no meta, and c[] holds the
     * index's facts of its certificates, without their DER. */
    int lazy;
};

/* A bundle's scope: "" for one not read (lazy transactions hold unscoped bundles only). */
static const char *tb_scope(const struct tbundle *b)
{
    return b->meta != NULL ? b->meta->scope : "";
}

/* v as 8 lowercase hex digits (the subject and issuer hashes of an index line). */
static void hex08(char *out, unsigned long v)
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 7; i >= 0; i--, v >>= 4)
        out[i] = digits[v & 15];
}

/* The names of the bundles a commit changed (put, removed, or a certificate taken out), for
 * the record the next commit trusts (see "what each commit changed" below). */
struct changed {
    char (*name)[DBT_CATALOG_NAME_MAX + 1];
    size_t n, cap;
    int unknown; /* not kept (out of memory): the next commit compares every bundle */
};

/* The record of the last commit (see "what each commit changed" below). */
#define PEM_ID_MAX DBT_CAT_PEM_ID_MAX
struct record {
    unsigned long long gen, parent;
    int parent_known;
    char pem_id[PEM_ID_MAX]; /* the identity of the trust.pem gen holds (dbt_cat_pem_identity) */
    int scoped;              /* whether gen holds a scoped certificate (then trust/ holds files) */
    int parent_scoped;       /* the same of parent (1 when the commit did not know) */
    char (*name)[DBT_CATALOG_NAME_MAX + 1];
    size_t n;
};
static int read_record(dbt_catalog *cat, struct record *r);

struct dbt_catalog_txn {
    dbt_catalog *cat;
    struct tbundle *b; /* sorted by name */
    size_t nb;
    struct changed changed;
    /* A lazy transaction: the index of the generation it read (sorted by SHA-256). */
    int lazy;
    dbt_catalog_cert *idx;
    size_t nidx;
};

static int cmp_sha(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Lowercase hex, NUL-terminated (a table: snprintf per byte was 8% of a large commit). */
static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int digest_hex(const unsigned char *der, size_t len, const EVP_MD *md, char *out)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!EVP_Digest(der, len, buf, &n, md, NULL))
        return -1;
    hex(buf, n, out);
    return 0;
}

/* Fills every field of c from x (a parsed certificate). */
static int facts_from_x509(X509 *x, struct tcert *c, dbt_err *err)
{
    unsigned char *p;
    int len, ok1 = 0, ok2 = 0;
    BIGNUM *bn = NULL;
    char *s = NULL;

    memset(c, 0, sizeof(*c));
    len = i2d_X509(x, NULL);
    if (len <= 0 || (c->der = malloc((size_t)len)) == NULL)
        goto bad;
    p = c->der;
    c->len = (size_t)i2d_X509(x, &p);
    if (digest_hex(c->der, c->len, EVP_sha256(), c->sha) != 0 ||
        digest_hex(c->der, c->len, EVP_sha1(), c->sha1) != 0)
        goto bad;
    /* Exactly what X509_LOOKUP_hash_dir computes for its lookups (default library context). */
    c->sh = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok1);
    c->ih = X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL, &ok2);
    if (!ok1 || !ok2)
        goto bad;
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn == NULL || (s = BN_bn2hex(bn)) == NULL)
        goto bad;
    if (strlen(s) >= sizeof(c->serial)) {
        dbt_err_set(err, "serial number %s is longer than 64 octets: not accepted", s);
        goto fail;
    }
    memcpy(c->serial, s, strlen(s) + 1);
    OPENSSL_free(s);
    BN_free(bn);
    return 0;
bad:
    dbt_err_ossl(err, "cannot compute the facts of a certificate");
fail:
    OPENSSL_free(s);
    BN_free(bn);
    free(c->der);
    c->der = NULL;
    return -1;
}

static void tbundle_clear(struct tbundle *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->c[i].der);
        X509_free(b->c[i].x);
    }
    free(b->c);
    free(b->meta);
    b->c = NULL;
    b->meta = NULL;
    b->n = 0;
}

void dbt_catalog_txn_free(dbt_catalog_txn *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nb; i++)
        tbundle_clear(&t->b[i]);
    free(t->b);
    free(t->changed.name);
    dbt_catalog_certs_free(t->idx, t->nidx);
    t->cat->in_txn = 0;
    free(t);
}

/* Notes that the transaction changed bundle name. Never fails: without memory the record is
 * left out, which costs the next commit only speed. Duplicates are removed when it is written. */
static void txn_mark(dbt_catalog_txn *t, const char *name)
{
    struct changed *c = &t->changed;

    if (c->unknown)
        return;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        void *v = realloc(c->name, nc * sizeof(*c->name));
        if (v == NULL) {
            c->unknown = 1;
            return;
        }
        c->name = v;
        c->cap = nc;
    }
    snprintf(c->name[c->n++], sizeof(*c->name), "%s", name);
}

/* ---------- generations in the catalog directory ---------- */

typedef void gen_fn(dbt_catalog *cat, const char *name, unsigned long long n, void *arg);

static int scan_gens(dbt_catalog *cat, gen_fn *fn, void *arg, dbt_err *err)
{
    int fd = dup(cat->dirfd);
    DIR *d;
    struct dirent *de;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        dbt_err_sys(err, "cannot read catalog %s", cat->path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d); /* dup() shares the offset with cat->dirfd */
    while ((de = readdir(d)) != NULL) {
        unsigned long long n;
        if (dbt_safe_gen_name(de->d_name, &n) == 0)
            fn(cat, de->d_name, n, arg);
    }
    closedir(d);
    return 0;
}

static void gen_max(dbt_catalog *cat, const char *name, unsigned long long n, void *arg)
{
    unsigned long long *max = arg;

    (void)cat;
    (void)name;
    if (n > *max)
        *max = n;
}

/* Highest generation below the current one: the one a reader may still be using. */
static void gen_prev(dbt_catalog *cat, const char *name, unsigned long long n, void *arg)
{
    unsigned long long *prev = arg;

    (void)name;
    if (n < cat->gen && n > *prev)
        *prev = n;
}

struct keep2 {
    unsigned long long a, b;
};

/* A generation being removed is renamed out of the .gen-N names first, so that a reader that
 * opened it but has not locked it yet sees it gone (catsafe.h, dbt_safe_hold_gen). */
#define DEAD_PREFIX DBT_SAFE_DEAD_PREFIX

/* Removes generation name unless a reader holds it (catsafe.h): never waits for one. */
static void remove_gen(dbt_catalog *cat, const char *name, unsigned long long n)
{
    char dead[48];
    int fd = openat(cat->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return;
    /* Busy: a reader still reads it; a later commit removes it. Any other failure means a
     * filesystem without flock, where readers cannot hold it either: remove it as before. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 && (errno == EWOULDBLOCK || errno == EINTR)) {
        close(fd);
        return;
    }
    snprintf(dead, sizeof(dead), DEAD_PREFIX "%llu", n);
    if (renameat(cat->dirfd, name, cat->dirfd, dead) == 0)
        dbt_fs_rmtree_at(cat->dirfd, dead, dead, NULL);
    else
        dbt_fs_rmtree_at(cat->dirfd, name, name, NULL);
    close(fd);
}

static void gen_remove_others(dbt_catalog *cat, const char *name, unsigned long long n, void *arg)
{
    struct keep2 *k = arg;

    if (n != k->a && n != k->b)
        remove_gen(cat, name, n);
}

/* Removes what killed writers left: partial generations (above "current", or below the one
 * before it, unless a reader holds them), half-removed ones and a stray ".current.tmp". */
static void clean_leftovers(dbt_catalog *cat)
{
    struct keep2 k = {cat->gen, 0};
    int fd = dup(cat->dirfd);
    DIR *d;
    struct dirent *de;

    scan_gens(cat, gen_prev, &k.b, NULL);
    scan_gens(cat, gen_remove_others, &k, NULL);
    unlinkat(cat->dirfd, DBT_CAT_CURRENT_TMP, 0);
    unlinkat(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, 0);
    /* Renamed under the writer's exclusive flock, so no reader holds them. */
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, DEAD_PREFIX, strlen(DEAD_PREFIX)) == 0)
            dbt_fs_rmtree_at(cat->dirfd, de->d_name, de->d_name, NULL);
    closedir(d);
}

/* ---------- begin: the current generation as DER and index facts ---------- */

/*
 * The catalog writes its bundle files in one exact PEM form (dbt_cat_pem_cert): BEGIN line, lines
 * of 64 base64 characters (the last 4 to 64, padded with at most two '='), END line. A file in
 * exactly that form is decoded here line by line with EVP_DecodeBlock, which gives the DER
 * PEM_read_bio gives for it at a fraction of the cost (PEM_read_bio was a fifth of a large
 * commit's instructions); any other file goes through PEM_read_bio.
 */
static const char pem_begin[] = "-----BEGIN " PEM_STRING_X509 "-----\n";
static const char pem_end[] = "-----END " PEM_STRING_X509 "-----\n";

static int b64_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

/* 1 when text is nothing but blocks in the catalog's exact form. */
int dbt_cat_pem_canonical(const unsigned char *t, size_t n)
{
    const size_t lb = sizeof(pem_begin) - 1, le = sizeof(pem_end) - 1;
    size_t p = 0;

    while (p < n) {
        size_t lines = 0;
        if (n - p < lb || memcmp(t + p, pem_begin, lb) != 0)
            return 0;
        p += lb;
        for (;;) {
            size_t q = p, pad = 0;
            if (n - p >= le && memcmp(t + p, pem_end, le) == 0)
                break;
            while (q < n && t[q] != '\n' && b64_char(t[q]))
                q++;
            while (q < n && t[q] == '=' && pad < 2)
                q++, pad++;
            /* A full line, or the last one (a multiple of 4, then the END line). */
            if (q >= n || t[q] != '\n' || q == p || (q - p) % 4 != 0 || q - p > 64)
                return 0;
            if ((q - p < 64 || pad > 0) &&
                (n - (q + 1) < le || memcmp(t + q + 1, pem_end, le) != 0))
                return 0;
            p = q + 1;
            lines++;
        }
        if (lines == 0)
            return 0;
        p += le;
    }
    return 1;
}

/* The DER of the canonical block at *pos (OPENSSL_malloc'ed), *pos moved past it. */
unsigned char *dbt_cat_pem_next(const unsigned char *t, size_t *pos, long *len)
{
    const size_t lb = sizeof(pem_begin) - 1, le = sizeof(pem_end) - 1;
    size_t p = *pos + lb, q = p, b64 = 0;
    unsigned char *der;
    long got = 0;

    while (memcmp(t + q, pem_end, le) != 0) { /* pem_canonical checked the shape */
        const unsigned char *nl = memchr(t + q, '\n', 65);
        b64 += (size_t)(nl - (t + q));
        q = (size_t)(nl - t) + 1;
    }
    if ((der = OPENSSL_malloc(b64 / 4 * 3 + 1)) == NULL)
        return NULL;
    while (p < q) {
        const unsigned char *nl = memchr(t + p, '\n', 65);
        int k = (int)(nl - (t + p)), m = EVP_DecodeBlock(der + got, t + p, k);
        if (m < 0) {
            OPENSSL_free(der);
            return NULL;
        }
        got += m - (k > 0 && t[p + k - 1] == '=') - (k > 1 && t[p + k - 2] == '=');
        p += (size_t)k + 1;
    }
    *pos = q + le;
    *len = got;
    return der;
}

static int load_tbundle(dbt_catalog *cat, const char *name, const dbt_catalog_cert *idx,
                        size_t nidx, struct tbundle *tb, dbt_err *err)
{
    char rel[DBT_CATALOG_NAME_MAX + 16], *display;
    BIO *bio = NULL;
    unsigned char *text = NULL;
    size_t cap = 0, tlen = 0, pos = 0;
    int ret = -1, fast;

    snprintf(tb->name, sizeof(tb->name), "%s", name);
    if ((tb->meta = calloc(1, sizeof(*tb->meta))) == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    if (dbt_cat_read_meta(cat, name, tb->meta, err) != 0)
        return -1;
    snprintf(rel, sizeof(rel), "bundles/%s.pem", name);
    display = dbt_cat_asprintf("%s/bundles/%s.pem", cat->path, name);
    if (display == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    /* From memory: PEM_read_bio on a file BIO reads line by line, one byte per read(). */
    if (dbt_cat_read_file(cat, cat->genfd, rel, DBT_MAX_INPUT, &text, &tlen, display, err) != 0)
        goto end;
    if ((bio = BIO_new_mem_buf(text, (int)tlen)) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    fast = dbt_cat_pem_canonical(text, tlen);
    for (;;) {
        char *pname = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        struct tcert *c;
        const dbt_catalog_cert *known;

        if (fast) {
            if (pos == tlen)
                break;
            if ((data = dbt_cat_pem_next(text, &pos, &len)) == NULL) {
                dbt_err_ossl(err, "%s: cannot decode block %zu", display, tb->n + 1);
                goto end;
            }
            pname = OPENSSL_strdup(PEM_STRING_X509);
            if (pname == NULL) {
                OPENSSL_free(data);
                dbt_err_set(err, "out of memory");
                goto end;
            }
        } else if (!PEM_read_bio(bio, &pname, &header, &data, &len)) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            dbt_err_ossl(err, "%s: block %zu is damaged: run dbtrust import again for it", display,
                         tb->n + 1);
            goto end;
        }
        int is_cert = strcmp(pname, PEM_STRING_X509) == 0;
        OPENSSL_free(pname);
        OPENSSL_free(header);
        if (!is_cert) {
            OPENSSL_free(data);
            dbt_err_set(err, "%s: block %zu is not a CERTIFICATE block: the catalog is damaged",
                        display, tb->n + 1);
            goto end;
        }
        if (tb->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct tcert *v = realloc(tb->c, nc * sizeof(*v));
            if (v == NULL) {
                OPENSSL_free(data);
                dbt_err_set(err, "out of memory");
                goto end;
            }
            tb->c = v;
            cap = nc;
        }
        c = &tb->c[tb->n];
        memset(c, 0, sizeof(*c));
        if (digest_hex(data, (size_t)len, EVP_sha256(), c->sha) != 0) {
            OPENSSL_free(data);
            dbt_err_ossl(err, "%s: cannot compute a fingerprint", display);
            goto end;
        }
        known = nidx ? bsearch(c->sha, idx, nidx, sizeof(*idx), cmp_sha) : NULL;
        if (known != NULL) {
            c->der = malloc((size_t)len);
            if (c->der != NULL) {
                memcpy(c->der, data, (size_t)len);
                c->len = (size_t)len;
                memcpy(c->sha1, known->sha1, sizeof(c->sha1));
                c->sh = known->subject_hash;
                c->ih = known->issuer_hash;
                memcpy(c->serial, known->serial, sizeof(c->serial));
            }
        } else {
            /* Not in the index (damaged or older catalog): compute from the certificate. */
            const unsigned char *p = data;
            X509 *x = d2i_X509(NULL, &p, len);
            int rc = x != NULL ? facts_from_x509(x, c, err) : -1;
            if (x == NULL)
                dbt_err_ossl(err, "%s: block %zu is not a certificate", display, tb->n + 1);
            X509_free(x);
            if (rc != 0) {
                OPENSSL_free(data);
                goto end;
            }
        }
        OPENSSL_free(data);
        if (c->der == NULL) {
            dbt_err_set(err, "out of memory");
            goto end;
        }
        tb->n++;
    }
    if (tb->n != tb->meta->count) {
        dbt_err_set(err,
                    "%s holds %zu certificates but its .meta says %zu: the catalog is damaged; "
                    "run dbtrust import again for that bundle",
                    display, tb->n, tb->meta->count);
        goto end;
    }
    ret = 0;
end:
    BIO_free(bio);
    free(text);
    free(display);
    return ret;
}

/* ---------- lazy transactions ---------- */

/*
 * A transaction reads no bundle at begin when it can: it takes the bundle names (one directory
 * read) and the index (one file), which lists every certificate with its facts and the bundles
 * holding it. A bundle is read only when the transaction or its commit needs its files: a
 * certificate taken out of it (remove_cert), or a commit that must write the bundle's files
 * because the recycled generation does not hold them as they are (no usable record, or a bundle
 * the last commit changed), or a certificate file it must write. trust.pem's blocks of the
 * certificates not read are copied from the current trust.pem when the record vouches for that
 * file (its SHA-256); otherwise every bundle is read. So a change at 1,000 bundles reads about
 * ten files instead of 2,000.
 * Only where the record of the commit that made the snapshot names it and says that no certificate
 * is scoped (a scope would need every .meta), and the generation has a trust view; a bundle read
 * that does not hold what the index listed for it makes the transaction read every bundle (the
 * index is then not believed).
 */
static int lazy_on = 1;
static size_t lazy_unread; /* dbt_cat_lazy_unread */

void dbt_cat_set_lazy(int on)
{
    lazy_on = on;
}

size_t dbt_cat_lazy_unread(void)
{
    return lazy_unread;
}

static size_t pem_copied; /* dbt_cat_pem_copied */

size_t dbt_cat_pem_copied(void)
{
    return pem_copied;
}

int dbt_cat_txn_lazy(const dbt_catalog_txn *t)
{
    return t->lazy;
}

static int cmp_pname(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

/* Sets up t (t->b has room for cnt) with every bundle lazy, from the index. 0 done, 1 not
 * possible here (nothing done: the caller reads every bundle), -1 out of memory. */
static int begin_lazy(dbt_catalog_txn *t, char **names, size_t cnt, const dbt_catalog_cert *idx,
                      size_t nidx)
{
    dbt_catalog *cat = t->cat;
    struct record rec;
    size_t *count, *where, total = 0;
    char **p;
    int usable;

    if (!lazy_on || cat->genfd < 0 || (nidx == 0 && cnt > 0) || !dbt_cat_has_view(cat))
        return 1;
    /* The record of the commit that made the snapshot says whether it holds a scoped
     * certificate; without it a commit could not keep the unread bundles' files anyway. */
    usable = read_record(cat, &rec) == 0 && rec.gen == cat->gen && !rec.scoped;
    free(rec.name);
    if (!usable)
        return 1;
    for (size_t i = 0; i < nidx; i++)
        total += idx[i].nbundles;
    if ((count = calloc(cnt ? cnt : 1, sizeof(*count))) == NULL ||
        (where = malloc((total ? total : 1) * sizeof(*where))) == NULL) {
        free(count);
        return -1;
    }
    /* Each bundle name of the index looked up once: where[] keeps the answers in line order. */
    for (size_t i = 0, r = 0; i < nidx; i++)
        for (size_t j = 0; j < idx[i].nbundles; j++, r++) {
            p = cnt ? bsearch(idx[i].bundles[j], names, cnt, sizeof(*names), cmp_pname) : NULL;
            if (p == NULL) { /* the index names a bundle that is not there */
                free(count);
                free(where);
                return 1;
            }
            where[r] = (size_t)(p - names);
            count[where[r]]++;
        }
    for (size_t k = 0; k < cnt; k++) {
        struct tbundle *b = &t->b[k];
        snprintf(b->name, sizeof(b->name), "%s", names[k]);
        b->lazy = 1;
        t->nb++;
        if ((b->c = malloc((count[k] ? count[k] : 1) * sizeof(*b->c))) == NULL) {
            free(count);
            free(where);
            return -1;
        }
    }
    for (size_t i = 0, r = 0; i < nidx; i++)
        for (size_t j = 0; j < idx[i].nbundles; j++, r++) {
            struct tbundle *b = &t->b[where[r]];
            struct tcert *c;

            if (b->n == count[where[r]])
                continue; /* a bundle named twice on a line: held once */
            c = &b->c[b->n++];
            c->der = NULL;
            c->len = 0;
            c->x = NULL;
            memcpy(c->sha, idx[i].sha256, sizeof(c->sha));
            memcpy(c->sha1, idx[i].sha1, sizeof(c->sha1));
            c->sh = idx[i].subject_hash;
            c->ih = idx[i].issuer_hash;
            memcpy(c->serial, idx[i].serial, sizeof(c->serial));
        }
    free(count);
    free(where);
    return 0;
}

/* The blocks of the current trust.pem by certificate (pemmap_load), for the certificates a lazy
 * commit did not read. */
struct pemblk {
    const char *p;
    size_t len;
};

struct pemmap {
    unsigned char *text; /* mapped (dbt_cat_map_file), textlen bytes */
    size_t textlen;
    struct pemblk *b; /* in the order of idx (SHA-256): b[i] is idx[i]'s block */
    const dbt_catalog_cert *idx;
    size_t n;
    size_t cur; /* where the last search ended (pemmap_find) */
};

/* The block of certificate sha, or NULL. The callers ask in SHA-256 order, as idx is: the
 * next few entries after the last answer are looked at before a binary search. */
static const struct pemblk *pemmap_find(struct pemmap *pm, const char *sha)
{
    const dbt_catalog_cert *c;

    if (pm == NULL || pm->n == 0)
        return NULL;
    for (size_t i = pm->cur; i < pm->n && i < pm->cur + 4; i++) {
        int r = strcmp(pm->idx[i].sha256, sha);
        if (r == 0) {
            pm->cur = i;
            return &pm->b[i];
        }
        if (r > 0)
            break;
    }
    if ((c = bsearch(sha, pm->idx, pm->n, sizeof(*pm->idx), cmp_sha)) == NULL)
        return NULL;
    pm->cur = (size_t)(c - pm->idx);
    return &pm->b[pm->cur];
}

static void pemmap_free(struct pemmap *pm)
{
    if (pm->text != NULL)
        munmap(pm->text, pm->textlen);
    free(pm->b);
    memset(pm, 0, sizeof(*pm));
}

static int load_all(dbt_catalog_txn *t, dbt_err *err);
static char (*sorted_shas(const struct tcert *c, size_t n))[65];
static int sha_in(char (*sorted)[65], size_t n, const char *sha);

/* Reads lazy bundle k. 0, or -1 with err. */
static int load_lazy(dbt_catalog_txn *t, size_t k, dbt_err *err)
{
    struct tbundle nb = {0}, *b = &t->b[k];
    char(*shas)[65] = NULL;
    int same;

    if (!b->lazy)
        return 0;
    if (load_tbundle(t->cat, b->name, t->idx, t->nidx, &nb, err) != 0) {
        tbundle_clear(&nb);
        return -1;
    }
    same = nb.n == b->n;
    if (same && nb.n > 0) {
        if ((shas = sorted_shas(nb.c, nb.n)) == NULL) {
            tbundle_clear(&nb);
            dbt_err_set(err, "out of memory");
            return -1;
        }
        for (size_t i = 0; same && i < b->n; i++)
            same = sha_in(shas, nb.n, b->c[i].sha);
        free(shas);
    }
    tbundle_clear(b);
    *b = nb;
    /* Inside load_all (t->lazy already off) the rest is being read anyway. */
    return same || !t->lazy ? 0 : load_all(t, err);
}

/* Reads every bundle not read yet: the transaction is then as one that read all at begin. */
static int load_all(dbt_catalog_txn *t, dbt_err *err)
{
    t->lazy = 0; /* before load_lazy: a mismatch found inside does not come back here */
    for (size_t k = 0; k < t->nb; k++)
        if (t->b[k].lazy && load_lazy(t, k, err) != 0)
            return -1;
    return 0;
}

int dbt_catalog_begin(dbt_catalog *cat, dbt_catalog_txn **out, dbt_err *err)
{
    dbt_catalog_txn *t = NULL;
    dbt_catalog_cert *idx = NULL;
    char **names = NULL;
    size_t cnt = 0, nidx = 0;

    *out = NULL;
    if (cat->lockfd < 0) {
        dbt_err_set(err, "catalog %s was opened read-only: open it for writing to change it",
                    cat->path);
        return -1;
    }
    if (cat->in_txn) {
        dbt_err_set(err, "catalog %s already has a transaction in progress", cat->path);
        return -1;
    }
    if (dbt_cat_snapshot_ready(cat, err) != 0)
        return -1;
    clean_leftovers(cat);
    if (dbt_cat_list_names(cat, &names, &cnt, err) != 0)
        return -1;
    /* A damaged index only costs speed: its certificates are then parsed. An unsafe one is
     * refused, as any file a writer reads (dbt_cat_read_file). */
    if (dbt_catalog_certs(cat, &idx, &nidx, NULL) != 0) {
        idx = NULL;
        nidx = 0;
        if (cat->unsafe) {
            if (err != NULL)
                *err = cat->unsafe_err;
            dbt_cat_free_names(names, cnt);
            return -1;
        }
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL || (cnt > 0 && (t->b = calloc(cnt, sizeof(*t->b))) == NULL)) {
        free(t);
        t = NULL;
        dbt_err_set(err, "out of memory");
        goto end;
    }
    t->cat = cat;
    switch (begin_lazy(t, names, cnt, idx, nidx)) {
    case 0:
        t->lazy = 1;
        t->idx = idx; /* kept for the bundles read later */
        t->nidx = nidx;
        idx = NULL;
        nidx = 0;
        break;
    case 1:
        for (size_t i = 0; i < cnt; i++) {
            t->nb++;
            if (load_tbundle(cat, names[i], idx, nidx, &t->b[i], err) != 0) {
                dbt_catalog_txn_free(t);
                t = NULL;
                goto end;
            }
        }
        break;
    default:
        dbt_catalog_txn_free(t);
        t = NULL;
        dbt_err_set(err, "out of memory");
        goto end;
    }
    cat->in_txn = 1;
    *out = t;
end:
    dbt_catalog_certs_free(idx, nidx);
    dbt_cat_free_names(names, cnt);
    return t != NULL ? 0 : -1;
}

/* ---------- changes ---------- */

static struct tbundle *find_bundle(dbt_catalog_txn *t, const char *name, size_t *pos)
{
    size_t i;

    for (i = 0; i < t->nb; i++) {
        int c = strcmp(t->b[i].name, name);
        if (c == 0) {
            *pos = i;
            return &t->b[i];
        }
        if (c > 0)
            break;
    }
    *pos = i;
    return NULL;
}

static int check_meta(const dbt_catalog_meta *m, char sha[65], dbt_err *err)
{
    /* Raw, the origin would drive the terminal of whoever shows it, or start another .meta
     * line: every writer records it through dbt_catalog_meta_add_origin. */
    if (dbt_escape_needed(m->origin, strnlen(m->origin, sizeof(m->origin)))) {
        dbt_err_set(err,
                    "origin \"%s\" holds control characters or bytes that are not UTF-8: "
                    "record it escaped",
                    m->origin);
        return -1;
    }
    for (const char *p = m->imported; *p; p++)
        if (!isdigit((unsigned char)*p) && strchr("-:TZ", *p) == NULL) {
            dbt_err_set(err, "import time \"%s\" is not of the form 2026-11-22T18:19:20Z",
                        m->imported);
            return -1;
        }
    for (const char *p = m->refreshed; *p; p++)
        if (!isdigit((unsigned char)*p) && strchr("-:TZ", *p) == NULL) {
            dbt_err_set(err, "refresh time \"%s\" is not of the form 2026-11-22T18:19:20Z",
                        m->refreshed);
            return -1;
        }
    for (const char *p = m->format; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
            dbt_err_set(err, "format name \"%s\" must use a-z, 0-9 and '-'", m->format);
            return -1;
        }
    for (const char *p = m->source; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
            dbt_err_set(err, "source name \"%s\" must use a-z, 0-9 and '-'", m->source);
            return -1;
        }
    if (m->sha256[0] == '\0') {
        sha[0] = '\0';
        return 0;
    }
    return dbt_catalog_parse_sha256(m->sha256, sha, err);
}

struct shaidx {
    const char *sha;
    size_t idx;
};

static int cmp_shaidx(const void *a, const void *b)
{
    const struct shaidx *x = a, *y = b;
    int c = strcmp(x->sha, y->sha);

    return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sorted copy of the fingerprints of certs, for bsearch. */
static char (*sorted_shas(const struct tcert *c, size_t n))[65]
{
    char(*v)[65] = malloc((n ? n : 1) * sizeof(*v));

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(v[i], c[i].sha, 65);
    qsort(v, n, sizeof(*v), cmp_sha);
    return v;
}

static int sha_in(char (*sorted)[65], size_t n, const char *sha)
{
    return n > 0 && bsearch(sha, sorted, n, sizeof(*sorted), cmp_sha) != NULL;
}

int dbt_catalog_check_trust(const dbt_bundle *b, dbt_err *err)
{
    /* The catalog stores DER, and its hashed view, dbtrust:// and the system links hand out
     * plain certificates: trust settings dropped here would widen the certificate, as would a
     * key entry's chain or a keystore nothing vouches for. */
    if (dbt_bundle_check_source(b, 0, err) != 0)
        return -1;
    return dbt_trust_require_plain(b, "the catalog (it serves plain certificates)", 0, err);
}

int dbt_catalog_put(dbt_catalog_txn *t, const char *name, const dbt_bundle *b,
                    const dbt_catalog_meta *meta, dbt_catalog_change *change, dbt_err *err)
{
    struct tbundle nb = {0}, *old;
    struct tcert *in = NULL;
    struct shaidx *si = NULL;
    char(*olds)[65] = NULL, (*news)[65] = NULL, sha[65];
    unsigned char *keep = NULL;
    dbt_catalog_change ch = {0};
    size_t pos, n = b->n, nin = 0;
    int ret = -1;

    if (dbt_catalog_check_name(name, err) != 0 || check_meta(meta, sha, err) != 0)
        return -1;
    if (dbt_catalog_check_trust(b, err) != 0)
        return -1;
    if (meta->scope[0] != '\0') {
        if (dbt_scope_check(meta->scope, err) != 0)
            return -1;
        for (size_t i = 0; i < b->n; i++)
            if (dbt_scope_can_scope(b->certs[i].x509, err) != 0) {
                dbt_err_prefix(err, "%s: certificate %zu", b->source, i + 1);
                return -1;
            }
    }
    snprintf(nb.name, sizeof(nb.name), "%s", name);
    if ((nb.meta = malloc(sizeof(*nb.meta))) == NULL)
        goto oom;
    *nb.meta = *meta;
    memcpy(nb.meta->sha256, sha, sizeof(sha));
    if (nb.meta->imported[0] == '\0') {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(nb.meta->imported, sizeof(nb.meta->imported), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    in = calloc(n ? n : 1, sizeof(*in));
    nb.c = calloc(n ? n : 1, sizeof(*nb.c));
    si = calloc(n ? n : 1, sizeof(*si));
    keep = calloc(n ? n : 1, 1);
    if (in == NULL || nb.c == NULL || si == NULL || keep == NULL)
        goto oom;
    for (nin = 0; nin < n; nin++) {
        if (facts_from_x509(b->certs[nin].x509, &in[nin], err) != 0) {
            dbt_err_prefix(err, "%s: certificate %zu", b->source, nin + 1);
            goto end;
        }
        if (X509_up_ref(b->certs[nin].x509))
            in[nin].x = b->certs[nin].x509; /* a scoped view signs from it unparsed */
        si[nin] = (struct shaidx){in[nin].sha, nin};
    }
    /* A certificate given twice is kept at its first position and counted. */
    qsort(si, n, sizeof(*si), cmp_shaidx);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(si[i].sha, si[i - 1].sha) != 0)
            keep[si[i].idx] = 1;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i]) {
            ch.duplicates++;
            continue;
        }
        nb.c[nb.n++] = in[i];
        in[i].der = NULL; /* moved */
        in[i].x = NULL;
    }
    nb.meta->count = nb.n;

    old = find_bundle(t, name, &pos);
    ch.existed = old != NULL;
    olds = sorted_shas(old ? old->c : NULL, old ? old->n : 0);
    news = sorted_shas(nb.c, nb.n);
    ch.added = malloc((nb.n ? nb.n : 1) * sizeof(*ch.added));
    ch.removed = malloc((old && old->n ? old->n : 1) * sizeof(*ch.removed));
    if (olds == NULL || news == NULL || ch.added == NULL || ch.removed == NULL)
        goto oom;
    for (size_t i = 0; i < nb.n; i++)
        if (!sha_in(olds, old ? old->n : 0, nb.c[i].sha))
            memcpy(ch.added[ch.nadded++], nb.c[i].sha, 65);
    for (size_t i = 0; old != NULL && i < old->n; i++)
        if (!sha_in(news, nb.n, old->c[i].sha))
            memcpy(ch.removed[ch.nremoved++], old->c[i].sha, 65);

    if (old != NULL) {
        tbundle_clear(old);
        *old = nb;
    } else {
        struct tbundle *v = realloc(t->b, (t->nb + 1) * sizeof(*v));
        if (v == NULL)
            goto oom;
        t->b = v;
        memmove(&t->b[pos + 1], &t->b[pos], (t->nb - pos) * sizeof(*v));
        t->b[pos] = nb;
        t->nb++;
    }
    memset(&nb, 0, sizeof(nb));
    txn_mark(t, name);
    if (change != NULL) {
        dbt_catalog_change_clear(change);
        *change = ch;
        memset(&ch, 0, sizeof(ch));
    }
    ret = 0;
    goto end;
oom:
    dbt_err_set(err, "out of memory");
end:
    for (size_t i = 0; in != NULL && i < nin; i++) {
        free(in[i].der);
        X509_free(in[i].x);
    }
    free(in);
    tbundle_clear(&nb);
    dbt_catalog_change_clear(&ch);
    free(si);
    free(keep);
    free(olds);
    free(news);
    return ret;
}

int dbt_catalog_remove(dbt_catalog_txn *t, const char *name, dbt_catalog_change *change,
                       dbt_err *err)
{
    struct tbundle *old;
    size_t pos;
    dbt_catalog_change ch = {0};

    if (dbt_catalog_check_name(name, err) != 0)
        return -1;
    old = find_bundle(t, name, &pos);
    if (old == NULL)
        return dbt_cat_no_such_bundle(t->cat, name, err);
    if (change != NULL) {
        ch.existed = 1;
        ch.removed = malloc((old->n ? old->n : 1) * sizeof(*ch.removed));
        if (ch.removed == NULL) {
            dbt_err_set(err, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < old->n; i++)
            memcpy(ch.removed[i], old->c[i].sha, 65);
        ch.nremoved = old->n;
        dbt_catalog_change_clear(change);
        *change = ch;
    }
    txn_mark(t, name);
    tbundle_clear(old);
    memmove(&t->b[pos], &t->b[pos + 1], (t->nb - pos - 1) * sizeof(*t->b));
    t->nb--;
    return 0;
}

int dbt_catalog_remove_cert(dbt_catalog_txn *t, const char *sha256, dbt_catalog_change *change,
                            dbt_err *err)
{
    char sha[65];
    dbt_catalog_change ch = {0};

    if (dbt_catalog_parse_sha256(sha256, sha, err) != 0)
        return -1;
    ch.bundles = malloc((t->nb ? t->nb : 1) * sizeof(*ch.bundles));
    if (ch.bundles == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < t->nb; i++) {
        struct tbundle *b = &t->b[i];
        for (size_t j = 0; j < b->n; j++) {
            if (strcmp(b->c[j].sha, sha) != 0)
                continue;
            /* Its file is written anew: read it first (a lazy transaction). */
            if (b->lazy) {
                if (load_lazy(t, i, err) != 0) {
                    free(ch.bundles);
                    return -1;
                }
                j = (size_t)-1; /* its certificates in the file's order: look again */
                continue;
            }
            free(b->c[j].der);
            X509_free(b->c[j].x);
            memmove(&b->c[j], &b->c[j + 1], (b->n - j - 1) * sizeof(*b->c));
            b->n--;
            b->meta->count = b->n;
            memcpy(ch.bundles[ch.nbundles++], b->name, sizeof(b->name));
            txn_mark(t, b->name);
            break; /* a bundle holds a certificate once */
        }
    }
    if (ch.nbundles == 0) {
        free(ch.bundles);
        dbt_err_set(err,
                    "no bundle of catalog %s holds a certificate with SHA-256 %s: dbtrust list "
                    "shows the fingerprints",
                    t->cat->path, sha);
        return -1;
    }
    if (change != NULL) {
        dbt_catalog_change_clear(change);
        *change = ch;
    } else {
        free(ch.bundles);
    }
    return 0;
}

size_t dbt_catalog_txn_holders(const dbt_catalog_txn *t, const char *sha256)
{
    char sha[65];
    size_t cnt = 0;

    if (dbt_catalog_parse_sha256(sha256, sha, NULL) != 0)
        return 0;
    for (size_t i = 0; i < t->nb; i++)
        for (size_t j = 0; j < t->b[i].n; j++)
            if (strcmp(t->b[i].c[j].sha, sha) == 0) {
                cnt++;
                break;
            }
    return cnt;
}

/* ---------- commit: build a generation, swap "current" ---------- */

/* The sort keys ride along (dbt_cat_sha_key, the subject hash): a sort of thousands then
 * compares numbers in the array rather than follow each pointer to its strings. */
struct ref {
    const struct tcert *c;
    size_t bi; /* bundle index; bundles are sorted by name */
    uint64_t k;
};

struct dcert {
    const struct tcert *c;
    size_t first, last; /* its range in the sorted refs: the bundles holding it */
    uint64_t k;
    unsigned long sh;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = x->k != y->k ? (x->k < y->k ? -1 : 1) : strcmp(x->c->sha, y->c->sha);

    return c != 0 ? c : (x->bi > y->bi) - (x->bi < y->bi);
}

static int cmp_dcert_hash(const void *a, const void *b)
{
    const struct dcert *x = a, *y = b;

    if (x->sh != y->sh)
        return x->sh < y->sh ? -1 : 1;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return strcmp(x->c->sha, y->c->sha);
}

/* ---------- where a generation's files go: new directories, or a recycled generation ---------- */

/* One entry a recycled directory held before the commit. */
struct out_ent {
    char *name;
    unsigned char type; /* DT_REG, DT_LNK, DT_DIR, ... (never DT_UNKNOWN: looked up) */
    int used;           /* the new generation holds it as it is, or wrote it anew */
};

struct out_dir {
    int fd;
    struct out_ent *e; /* sorted by name */
    size_t n;
};

/* The generation directory, bundles/, certs/ and trust/ of a recycled generation, and what
 * the commit knows of it without reading it (set by out_hints):
 *   bundles: the recycled generation's bundle files equal the new state's except for the
 *            bundles in changed[] (the record of the last commit plus this one's changes);
 *   certs:   the <hash>.<n> links of certs/ equal the new state's except for the subject hashes
 *            in hashes[] (the certificates that came or went between the two, by its index);
 *   trust:   the same holds for the links of trust/ (no scoped bundle on either side).
 * A <sha256>.pem file is named by its content: one that exists is kept as it is. */
struct dbt_cat_out {
    struct out_dir d[4];
    size_t nd;
    uid_t euid;
    int bfd, cfd, tfd;
    int bundles, certs, trust;
    char (*changed)[DBT_CATALOG_NAME_MAX + 1]; /* sorted */
    size_t nchanged;
    unsigned long *hashes; /* sorted */
    size_t nhashes;
    /* The recycled generation's index (out_hints), for out_known_dirs. */
    struct out_rent {
        char sha[65];
        unsigned long sh;
        int in_new; /* the new state holds it too */
    } * rent;
    size_t nrent, rcur; /* rcur: where out_known_present's last search ended */
    /* Set by out_known_dirs: d[] then holds only what out_known does not cover, and a known
     * entry is there as the description says, without an out_ent (out_known_present). */
    int described;
};

static int cmp_out_ent(const void *a, const void *b)
{
    return strcmp(((const struct out_ent *)a)->name, ((const struct out_ent *)b)->name);
}

static struct out_ent *out_find(struct dbt_cat_out *o, int dirfd, const char *name);
static size_t known_kept; /* dbt_cat_known_kept */
static int out_listed;    /* dbt_cat_out_listed */
static size_t retries;    /* dbt_cat_commit_retries */

size_t dbt_cat_commit_retries(void)
{
    return retries;
}

int dbt_cat_out_listed(void)
{
    return out_listed;
}

size_t dbt_cat_known_kept(void)
{
    return known_kept;
}

static void out_free(struct dbt_cat_out *o)
{
    for (size_t i = 0; i < o->nd; i++) {
        for (size_t j = 0; j < o->d[i].n; j++)
            free(o->d[i].e[j].name);
        free(o->d[i].e);
    }
    o->nd = 0;
    free(o->changed);
    free(o->hashes);
    free(o->rent);
    o->changed = NULL;
    o->hashes = NULL;
    o->rent = NULL;
    o->nrent = 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

/* Whether the recycled generation's entry name in dirfd is, by what the commit knows, already
 * what the new state wants (struct dbt_cat_out): then it is kept without being read. */
static int out_known(const struct dbt_cat_out *o, int dirfd, const char *name)
{
    char bundle[DBT_CATALOG_NAME_MAX + 1];
    const char *dot;
    unsigned long h;

    if (o == NULL)
        return 0;
    if (dirfd == o->bfd) {
        dot = strrchr(name, '.');
        if (!o->bundles || dot == NULL || (size_t)(dot - name) >= sizeof(bundle) ||
            (strcmp(dot, ".pem") != 0 && strcmp(dot, ".meta") != 0))
            return 0;
        memcpy(bundle, name, (size_t)(dot - name));
        bundle[dot - name] = '\0';
        return o->nchanged == 0 ||
               bsearch(bundle, o->changed, o->nchanged, sizeof(*o->changed), cmp_name) == NULL;
    }
    if (dirfd != o->cfd && dirfd != o->tfd)
        return 0;
    if (dbt_layout_cert_file_name(name))
        return o->certs; /* named by its content, in a generation of this writer's form */
    if (!(dirfd == o->cfd ? o->certs : o->trust) || !dbt_layout_hash_link_name(name, &h, NULL))
        return 0;
    return o->nhashes == 0 || bsearch(&h, o->hashes, o->nhashes, sizeof(h), cmp_ulong) == NULL;
}

static int cmp_rent(const void *key, const void *elem)
{
    return memcmp(key, ((const struct out_rent *)elem)->sha, 64);
}

static int rent_has(struct dbt_cat_out *o, const char *name);

/* Whether a known entry (out_known) of a described generation (out_known_dirs) is there: a
 * bundle file or a link always (the same on both sides), a <sha256>.pem file when the recycled
 * index lists it. */
static int out_known_present(struct dbt_cat_out *o, int dirfd, const char *name)
{
    if (dirfd == o->bfd || !dbt_layout_cert_file_name(name))
        return 1;
    return dirfd == o->cfd && rent_has(o, name);
}

/* Whether the recycled index lists the certificate whose SHA-256 (64 digits) name starts
 * with. */
static int rent_has(struct dbt_cat_out *o, const char *name)
{
    const struct out_rent *r;

    /* Asked in SHA-256 order, as rent is: the entries after the last answer first. */
    for (size_t i = o->rcur; i < o->nrent && i < o->rcur + 4; i++) {
        int c = memcmp(o->rent[i].sha, name, 64);
        if (c == 0) {
            o->rcur = i;
            return 1;
        }
        if (c > 0)
            break;
    }
    if ((r = bsearch(name, o->rent, o->nrent, sizeof(*o->rent), cmp_rent)) == NULL)
        return 0;
    o->rcur = (size_t)(r - o->rent);
    return 1;
}

/* Whether the recycled generation holds name in dirfd, of type, as the new state wants it, by
 * what the commit knows (out_known); *ep is then its entry, or NULL in a described generation,
 * which needs none marked. */
static int out_known_kept(struct dbt_cat_out *o, int dirfd, const char *name, unsigned char type,
                          struct out_ent **ep)
{
    struct out_ent *e;

    *ep = NULL;
    if (!out_known(o, dirfd, name))
        return 0;
    if (o->described)
        return out_known_present(o, dirfd, name);
    if ((e = out_find(o, dirfd, name)) == NULL || e->type != type)
        return 0;
    *ep = e;
    return 1;
}

/* Whether certs/<sha>.pem of the recycled generation is known to be there as the new state
 * wants it (a described generation: the recycled index lists it), without building its name:
 * 1, 0 (it is not: write it), or -1 (not described: ask out_keep_known). */
static int out_cert_kept(struct dbt_cat_out *o, const char *sha)
{
    if (o == NULL || !o->described || !o->certs)
        return -1;
    return rent_has(o, sha);
}

int dbt_cat_out_hash_kept(struct dbt_cat_out *o, int dirfd, unsigned long sh)
{
    if (o == NULL || !o->described || (dirfd == o->cfd ? !o->certs : dirfd != o->tfd || !o->trust))
        return 0;
    if (o->nhashes > 0 && bsearch(&sh, o->hashes, o->nhashes, sizeof(sh), cmp_ulong) != NULL)
        return 0;
    known_kept++;
    return 1;
}

/* The recycled generation's entry name in dirfd when it is known to be right (out_known): it is
 * marked kept, and 1 is returned, so that the caller need not even encode it. */
static int out_keep_known(struct dbt_cat_out *o, int dirfd, const char *name, unsigned char type)
{
    struct out_ent *e;

    if (!out_known_kept(o, dirfd, name, type, &e))
        return 0;
    if (e != NULL)
        e->used = 1;
    known_kept++;
    return 1;
}

/* Lists what directory fd holds (bounded as a reader's directory: DBT_SAFE_MAX_ENTRIES). */
static int out_list(struct dbt_cat_out *o, int fd, const char *display, dbt_err *err)
{
    struct out_dir *od = &o->d[o->nd++];
    int dfd = dup(fd);
    size_t cap = 0;
    DIR *d;
    struct dirent *de;

    od->fd = fd;
    if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
        dbt_err_sys(err, "cannot read %s", display);
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        struct out_ent *e;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (od->n >= DBT_SAFE_MAX_ENTRIES) {
            dbt_err_set(err, "%s holds more than %u entries", display,
                        (unsigned)DBT_SAFE_MAX_ENTRIES);
            goto fail;
        }
        if (od->n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            struct out_ent *v = realloc(od->e, nc * sizeof(*v));
            if (v == NULL)
                goto oom;
            od->e = v;
            cap = nc;
        }
        e = &od->e[od->n];
        e->used = 0;
        e->type = de->d_type;
        if (e->type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                dbt_err_sys(err, "cannot look at %s/%s", display, de->d_name);
                goto fail;
            }
            e->type = S_ISREG(st.st_mode)   ? DT_REG
                      : S_ISLNK(st.st_mode) ? DT_LNK
                      : S_ISDIR(st.st_mode) ? DT_DIR
                                            : DT_UNKNOWN;
        }
        if ((e->name = strdup(de->d_name)) == NULL)
            goto oom;
        od->n++;
    }
    closedir(d);
    if (od->n > 1)
        qsort(od->e, od->n, sizeof(*od->e), cmp_out_ent);
    return 0;
oom:
    dbt_err_set(err, "out of memory");
fail:
    closedir(d);
    return -1;
}

/* One entry of a directory out_known_dirs describes. */
static int out_add(struct out_dir *od, size_t *cap, const char *name, unsigned char type)
{
    if (od->n >= DBT_SAFE_MAX_ENTRIES)
        return -1;
    if (od->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct out_ent *v = realloc(od->e, nc * sizeof(*v));
        if (v == NULL)
            return -1;
        od->e = v;
        *cap = nc;
    }
    if ((od->e[od->n].name = strdup(name)) == NULL)
        return -1;
    od->e[od->n].type = type;
    od->e[od->n++].used = 0;
    return 0;
}

static void out_sort(struct out_dir *od)
{
    if (od->n > 1)
        qsort(od->e, od->n, sizeof(*od->e), cmp_out_ent);
}

/*
 * What the recycled generation's bundles/, certs/ and trust/ hold, without reading them, when
 * the hints cover all three (out_hints) and no certificate is scoped on either side: its
 * bundle files are the new state's, except for the changed bundles, which are looked up one by
 * one; certs/ holds its index, a <sha256>.pem per line of it and the <hash>.<n> links those
 * make; trust/ the same links. Listing them cost about 1 us an entry (ext4's hashed
 * directories), 11,000 entries at 1,000 bundles, and even described one by one they were a
 * tenth of a commit; so d[] gets only what out_known does not cover (the changed bundles'
 * files, the index, the files of certificates that went and the links of the subject hashes
 * that changed), and o->described makes every known entry present as described
 * (out_known_present). An entry described wrongly costs nothing unsafe: one that is there but
 * not described makes the create fail, and the commit writes a generation from scratch.
 * 0, or -1 (out of memory: o's listings are then partial; the caller lists instead).
 */
static int out_known_dirs(struct dbt_cat_out *o)
{
    struct out_dir *bd = &o->d[o->nd], *cd = bd + 1, *td = bd + 2;
    size_t bcap = 0, ccap = 0, tcap = 0, nr = o->nrent, *cnt;
    char file[DBT_CATALOG_NAME_MAX + 8];
    struct stat st;

    if (o->nd + 3 > sizeof(o->d) / sizeof(o->d[0]))
        return -1;
    memset(bd, 0, 3 * sizeof(*bd));
    bd->fd = o->bfd;
    cd->fd = o->cfd;
    td->fd = o->tfd;
    o->nd += 3;
    for (size_t i = 0; i < o->nchanged; i++) {
        if (i > 0 && strcmp(o->changed[i], o->changed[i - 1]) == 0)
            continue;
        for (int k = 0; k < 2; k++) {
            dbt_cat_name3(file, sizeof(file), "", o->changed[i], k ? ".meta" : ".pem");
            if (fstatat(o->bfd, file, &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            if (out_add(bd, &bcap, file,
                        S_ISREG(st.st_mode)   ? DT_REG
                        : S_ISDIR(st.st_mode) ? DT_DIR
                        : S_ISLNK(st.st_mode) ? DT_LNK
                                              : DT_UNKNOWN) != 0)
                return -1;
        }
    }
    if (out_add(cd, &ccap, DBT_LAYOUT_INDEX, DT_REG) != 0)
        return -1;
    for (size_t i = 0; i < nr; i++)
        if (!o->rent[i].in_new) {
            dbt_cat_name3(file, sizeof(file), "", o->rent[i].sha, ".pem");
            if (out_add(cd, &ccap, file, DT_REG) != 0)
                return -1;
        }
    /* The links of a changed hash: <hash>.0, .1, ... one per certificate of that hash the
     * recycled index lists (counted into cnt[], by the hash's first place in hashes[], which
     * is sorted and may repeat a hash). */
    if (o->nhashes > 0) {
        if ((cnt = calloc(o->nhashes, sizeof(*cnt))) == NULL)
            return -1;
        for (size_t i = 0; i < nr; i++) {
            const unsigned long *p =
                bsearch(&o->rent[i].sh, o->hashes, o->nhashes, sizeof(*o->hashes), cmp_ulong);
            while (p != NULL && p > o->hashes && p[-1] == *p)
                p--;
            if (p != NULL)
                cnt[p - o->hashes]++;
        }
        for (size_t h = 0; h < o->nhashes; h++)
            for (size_t seq = 0; seq < cnt[h]; seq++) {
                dbt_cat_link_name(file, sizeof(file), o->hashes[h], seq);
                if (out_add(cd, &ccap, file, DT_LNK) != 0 ||
                    out_add(td, &tcap, file, DT_LNK) != 0) {
                    free(cnt);
                    return -1;
                }
            }
        free(cnt);
    }
    out_sort(bd);
    out_sort(cd);
    out_sort(td);
    o->described = 1;
    return 0;
}

static struct out_ent *out_find(struct dbt_cat_out *o, int dirfd, const char *name)
{
    struct out_ent key = {(char *)name, 0, 0};

    for (size_t i = 0; i < o->nd; i++)
        if (o->d[i].fd == dirfd)
            return o->d[i].n ? bsearch(&key, o->d[i].e, o->d[i].n, sizeof(key), cmp_out_ent) : NULL;
    return NULL;
}

/* Makes room for a new entry where a different one is: the recycled generation is ours alone. */
static int out_replace(int dirfd, struct out_ent *e, const char *display, dbt_err *err)
{
    /* ENOENT: an entry out_known_dirs described that is not there. */
    if (unlinkat(dirfd, e->name, e->type == DT_DIR ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
        dbt_err_sys(err, "cannot replace %s", display);
        return -1;
    }
    e->used = 1; /* what takes its place is the new generation's */
    return 0;
}

/* Whether file name in dirfd holds exactly the total bytes of iov[0..n): read in pieces, so
 * that a large file costs no buffer of its size. */
static int same_bytes(int dirfd, const char *name, const struct iovec *iov, size_t n, size_t total)
{
    unsigned char buf[65536];
    size_t off = 0, k = 0, in = 0; /* off: bytes matched; iov[k] from byte in */
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        size_t at = 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (size_t)r > total - off)
            break;
        if (r == 0) {
            close(fd);
            return off == total;
        }
        while (at < (size_t)r) {
            size_t m;
            while (k < n && in == iov[k].iov_len) {
                k++;
                in = 0;
            }
            m = iov[k].iov_len - in < (size_t)r - at ? iov[k].iov_len - in : (size_t)r - at;
            if (memcmp(buf + at, (const unsigned char *)iov[k].iov_base + in, m) != 0) {
                close(fd);
                return 0;
            }
            at += m;
            in += m;
        }
        off += (size_t)r;
    }
    close(fd);
    return 0;
}

int dbt_cat_out_file(struct dbt_cat_out *o, int dirfd, const char *name, const void *data,
                     size_t len, int by_content, const char *display, dbt_err *err)
{
    struct iovec one = {(void *)data, len};

    return dbt_cat_out_file_iov(o, dirfd, name, &one, 1, len, by_content, display, err);
}

int dbt_cat_out_file_iov(struct dbt_cat_out *o, int dirfd, const char *name,
                         const struct iovec *iov, size_t n, size_t total, int by_content,
                         const char *display, dbt_err *err)
{
    struct out_ent *e;

    if (out_keep_known(o, dirfd, name, DT_REG))
        return 0;
    e = o != NULL ? out_find(o, dirfd, name) : NULL;
    if (e != NULL && e->type == DT_REG) {
        struct stat st;
        /* Kept only when a write from scratch would make the same file: same bytes, mode,
         * owner and a single link. */
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & 07777) == DBT_FILE_MODE && st.st_uid == o->euid && st.st_nlink == 1 &&
            (size_t)st.st_size == total) {
            if (by_content || same_bytes(dirfd, name, iov, n, total)) {
                e->used = 1;
                return 0;
            }
        }
    }
    if (e != NULL && out_replace(dirfd, e, display, err) != 0)
        return -1;
    return dbt_fs_create_iov_at(dirfd, name, iov, n, DBT_FILE_MODE, 0, display, err);
}

int dbt_cat_out_link(struct dbt_cat_out *o, int dirfd, const char *target, const char *link,
                     const char *dirdisp, dbt_err *err)
{
    struct out_ent *e;

    if (out_keep_known(o, dirfd, link, DT_LNK))
        return 0;
    e = o != NULL ? out_find(o, dirfd, link) : NULL;
    if (e != NULL && e->type == DT_LNK) {
        char buf[128];
        ssize_t r = readlinkat(dirfd, link, buf, sizeof(buf));
        if (r >= 0 && (size_t)r == strlen(target) && memcmp(buf, target, (size_t)r) == 0) {
            e->used = 1;
            return 0;
        }
    }
    if (e != NULL && unlinkat(dirfd, link, e->type == DT_DIR ? AT_REMOVEDIR : 0) != 0 &&
        errno != ENOENT) {
        dbt_err_sys(err, "cannot replace %s/%s", dirdisp, link);
        return -1;
    }
    if (e != NULL)
        e->used = 1;
    if (symlinkat(target, dirfd, link) != 0) {
        dbt_err_sys(err, "cannot create %s/%s", dirdisp, link);
        return -1;
    }
    return 0;
}

/* Removes what the recycled generation held and the new one does not. */
static int out_prune(struct dbt_cat_out *o, const char *gdisp, dbt_err *err)
{
    for (size_t i = 0; i < o->nd; i++)
        for (size_t j = 0; j < o->d[i].n; j++) {
            struct out_ent *e = &o->d[i].e[j];
            if (e->used)
                continue;
            if (e->type == DT_DIR ? dbt_fs_rmtree_at(o->d[i].fd, e->name, e->name, err) != 0
                                  : unlinkat(o->d[i].fd, e->name, 0) != 0 && errno != ENOENT) {
                dbt_err_sys(err, "cannot remove %s from %s", e->name, gdisp);
                return -1;
            }
        }
    return 0;
}

int dbt_cat_pem_cert(BIO *mem, const unsigned char *der, size_t len)
{
    static const char begin[] = "-----BEGIN " PEM_STRING_X509 "-----\n";
    static const char end[] = "-----END " PEM_STRING_X509 "-----\n";
    unsigned char line[66];

    if (len > INT_MAX || BIO_write(mem, begin, (int)sizeof(begin) - 1) != (int)sizeof(begin) - 1)
        return 0;
    /* PEM's lines: 48 bytes of DER, 64 base64 characters and a newline each. */
    for (size_t off = 0; off < len; off += 48) {
        int n = EVP_EncodeBlock(line, der + off, (int)(len - off < 48 ? len - off : 48));
        line[n] = '\n';
        if (BIO_write(mem, line, n + 1) != n + 1)
            return 0;
    }
    return BIO_write(mem, end, (int)sizeof(end) - 1) == (int)sizeof(end) - 1;
}

/* Writes the certificates as PEM (the bytes PEM_write_bio_X509 would write) via mem. */
static int write_pem_at(struct dbt_cat_out *o, int dirfd, const char *name,
                        const struct tcert *const *cs, size_t n, int by_content, BIO *mem,
                        const char *display, dbt_err *err)
{
    char *p = NULL;
    long len;

    (void)BIO_reset(mem);
    for (size_t i = 0; i < n; i++)
        if (!dbt_cat_pem_cert(mem, cs[i]->der, cs[i]->len)) {
            dbt_err_ossl(err, "cannot encode %s", display);
            return -1;
        }
    len = BIO_get_mem_data(mem, &p);
    return dbt_cat_out_file(o, dirfd, name, len > 0 ? p : "", (size_t)(len > 0 ? len : 0),
                            by_content, display, err);
}

static int write_bio_at(struct dbt_cat_out *o, int dirfd, const char *name, BIO *mem,
                        const char *display, dbt_err *err)
{
    char *p = NULL;
    long len = BIO_get_mem_data(mem, &p);

    return dbt_cat_out_file(o, dirfd, name, len > 0 ? p : "", (size_t)(len > 0 ? len : 0), 0,
                            display, err);
}

/* bundles -> current/bundles, certs -> current/certs, trust -> current/trust and trust.pem ->
 * current/trust.pem: created once, never rewritten, so that a path handed to a client stays
 * valid and leads to one generation's file, whole. */
static int ensure_fixed_links(dbt_catalog *cat, dbt_err *err)
{
    static const char *const links[][2] = {
        {DBT_LAYOUT_BUNDLES, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_BUNDLES},
        {DBT_LAYOUT_CERTS, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_CERTS},
        {DBT_LAYOUT_TRUST, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_TRUST},
        {DBT_LAYOUT_TRUST_PEM, DBT_LAYOUT_CURRENT "/" DBT_LAYOUT_TRUST_PEM}};

    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        char buf[64];
        if (readlinkat(cat->dirfd, links[i][0], buf, sizeof(buf)) >= 0)
            continue; /* the safety walk at open checked its target */
        if (errno != ENOENT || symlinkat(links[i][1], cat->dirfd, links[i][0]) != 0) {
            dbt_err_sys(err, "cannot create %s/%s", cat->path, links[i][0]);
            return -1;
        }
    }
    return 0;
}

static int point_current(dbt_catalog *cat, const char *gen_name, dbt_err *err)
{
    unlinkat(cat->dirfd, DBT_CAT_CURRENT_TMP, 0);
    if (symlinkat(gen_name, cat->dirfd, DBT_CAT_CURRENT_TMP) != 0) {
        dbt_err_sys(err, "cannot create %s/" DBT_CAT_CURRENT_TMP, cat->path);
        return -1;
    }
    if (renameat(cat->dirfd, DBT_CAT_CURRENT_TMP, cat->dirfd, DBT_CAT_CURRENT) != 0) {
        dbt_err_sys(err, "cannot rename %s/" DBT_CAT_CURRENT_TMP " to " DBT_CAT_CURRENT, cat->path);
        unlinkat(cat->dirfd, DBT_CAT_CURRENT_TMP, 0);
        return -1;
    }
    return 0;
}

/* The scope a certificate is served with: none when any bundle holding it is unscoped (that
 * bundle trusts it for every name), else the union of its bundles' scopes (each bundle's names
 * stay trusted through it). *owned is set when the text was allocated. */
static int view_scope(const struct tbundle *b, const struct ref *refs, const struct dcert *d,
                      const char **scope, char **owned, dbt_err *err)
{
    const char *first = tb_scope(&b[refs[d->first].bi]);
    int same = 1;

    *scope = NULL;
    *owned = NULL;
    for (size_t r = d->first; r <= d->last; r++) {
        const char *s = tb_scope(&b[refs[r].bi]);
        if (s[0] == '\0')
            return 0;
        same &= strcmp(s, first) == 0;
    }
    if (same) {
        *scope = first;
        return 0;
    }
    if ((*owned = calloc(1, DBT_SCOPE_TEXT_MAX)) == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    for (size_t r = d->first; r <= d->last; r++)
        if (dbt_scope_union(*owned, DBT_SCOPE_TEXT_MAX, tb_scope(&b[refs[r].bi]), err) != 0) {
            dbt_err_prefix(err, "certificate %s is in bundles whose scopes together are too large",
                           d->c->sha);
            free(*owned);
            *owned = NULL;
            return -1;
        }
    *scope = *owned;
    return 0;
}

/* The trust view (trust/ and trust.pem) of the distinct certificates dc (sorted by sha256). */
static int write_view(struct dbt_cat_out *o, struct tbundle *b, const struct ref *refs,
                      const struct dcert *dc, size_t nd, struct pemmap *pm, int gfd, int tfd,
                      const char *gdisp, BIO *mem, dbt_err *err)
{
    struct dbt_cat_view_cert *in = calloc(nd ? nd : 1, sizeof(*in));
    char **owned = calloc(nd ? nd : 1, sizeof(*owned)), *tdisp = NULL;
    int ret = -1;

    if (in == NULL || owned == NULL ||
        (tdisp = dbt_cat_asprintf("%s/" DBT_LAYOUT_TRUST, gdisp)) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    for (size_t i = 0; i < nd; i++) {
        in[i] = (struct dbt_cat_view_cert){dc[i].c->sha, dc[i].c->sh, dc[i].c->der, dc[i].c->len,
                                           dc[i].c->x,   NULL,        NULL,         0};
        if (view_scope(b, refs, &dc[i], &in[i].scope, &owned[i], err) != 0)
            goto end;
        if (in[i].der == NULL) {
            const struct pemblk *pb = pemmap_find(pm, dc[i].c->sha);
            if (pb == NULL) { /* lazy_prepare saw to it: never here */
                dbt_err_set(err, "certificate %s was not read", dc[i].c->sha);
                goto end;
            }
            in[i].pem = pb->p;
            in[i].pemlen = pb->len;
            pem_copied++;
        }
    }
    ret = dbt_cat_write_trust(o, gfd, gdisp, tfd, tdisp, in, nd, mem, err);
end:
    for (size_t i = 0; owned != NULL && i < nd; i++)
        free(owned[i]);
    free(owned);
    free(in);
    free(tdisp);
    return ret;
}

/* The files of one generation, in the open directories gfd (the generation), bfd, cfd and
 * tfd. */
static int write_generation(struct dbt_cat_out *o, struct tbundle *b, size_t nb,
                            const struct ref *refs, struct dcert *dc, size_t nd, struct pemmap *pm,
                            int gfd, int bfd, int cfd, int tfd, const char *gdisp, BIO *mem,
                            dbt_err *err)
{
    struct dbt_sbuf sb = {0};
    char *disp = NULL;
    int ret = -1;

    for (size_t i = 0; i < nb; i++) {
        char file[DBT_CATALOG_NAME_MAX + 8];
        const dbt_catalog_meta *m = b[i].meta; /* NULL only while lazy: never used then */

        /* A bundle the recycled generation holds as the new state has it costs nothing. */
        dbt_cat_name3(file, sizeof(file), "", b[i].name, ".pem");
        if (!out_keep_known(o, bfd, file, DT_REG)) {
            const struct tcert **cs;
            int rc;

            if (b[i].lazy) /* lazy_prepare read every bundle whose files are written */
                goto unread;
            if ((cs = calloc(b[i].n ? b[i].n : 1, sizeof(*cs))) == NULL)
                goto oom;
            for (size_t j = 0; j < b[i].n; j++)
                cs[j] = &b[i].c[j];
            free(disp);
            disp = dbt_cat_asprintf("%s/bundles/%s", gdisp, file);
            rc = disp != NULL ? write_pem_at(o, bfd, file, cs, b[i].n, 0, mem, disp, err) : -1;
            free(cs);
            if (disp == NULL)
                goto oom;
            if (rc != 0)
                goto end;
        }
        dbt_cat_name3(file, sizeof(file), "", b[i].name, ".meta");
        if (out_keep_known(o, bfd, file, DT_REG))
            continue;
        if (b[i].lazy)
            goto unread;
        free(disp);
        disp = dbt_cat_asprintf("%s/bundles/%s", gdisp, file);
        (void)BIO_reset(mem);
        if (disp == NULL ||
            BIO_printf(mem, DBT_LAYOUT_META_FMT, m->origin, m->sha256, m->format, m->imported,
                       b[i].n) <= 0 ||
            BIO_printf(mem, "scope=%s\n", m->scope) <= 0 ||
            (m->source[0] != '\0' && BIO_printf(mem, "source=%s\n", m->source) <= 0) ||
            (m->refreshed[0] != '\0' && BIO_printf(mem, "refreshed=%s\n", m->refreshed) <= 0))
            goto oom;
        if (write_bio_at(o, bfd, file, mem, disp, err) != 0)
            goto end;
    }

    for (size_t i = 0; i < nd; i++) {
        char file[80];
        int kept = out_cert_kept(o, dc[i].c->sha);

        if (kept > 0) {
            known_kept++;
            continue;
        }
        dbt_cat_name3(file, sizeof(file), "", dc[i].c->sha, ".pem");
        if (kept < 0 && out_keep_known(o, cfd, file, DT_REG))
            continue;
        if (dc[i].c->der == NULL)
            goto unread;
        free(disp);
        if ((disp = dbt_cat_asprintf("%s/certs/%s", gdisp, file)) == NULL)
            goto oom;
        if (write_pem_at(o, cfd, file, &dc[i].c, 1, 1, mem, disp, err) != 0)
            goto end;
    }

    /* DBT_LAYOUT_INDEX_LINE_FMT and the bundle names, built by hand into a buffer of the exact
     * size: BIO_printf's five calls a line were most of a commit's instructions at 1,000
     * bundles, and a buffer grown by doubling twice the pages it needed. */
    {
        size_t need = sizeof(DBT_CAT_INDEX_HEADER "\n") - 1;
        char *w;

        for (size_t i = 0; i < nd; i++) {
            need += 64 + 1 + 40 + 1 + 8 + 1 + 8 + 1 + strlen(dc[i].c->serial) + 1;
            for (size_t r = dc[i].first; r <= dc[i].last; r++)
                need += strlen(b[refs[r].bi].name) + 1;
        }
        dbt_sb_reserve(&sb, need);
        if (sb.oom)
            goto oom;
        w = sb.p;
        memcpy(w, DBT_CAT_INDEX_HEADER "\n", sizeof(DBT_CAT_INDEX_HEADER "\n") - 1);
        w += sizeof(DBT_CAT_INDEX_HEADER "\n") - 1;
        for (size_t i = 0; i < nd; i++) {
            const struct tcert *c = dc[i].c;
            size_t n;
            memcpy(w, c->sha, 64);
            w[64] = ' ';
            memcpy(w + 65, c->sha1, 40);
            w[105] = ' ';
            hex08(w + 106, c->sh);
            w[114] = ' ';
            hex08(w + 115, c->ih);
            w[123] = ' ';
            w += 124;
            n = strlen(c->serial);
            memcpy(w, c->serial, n);
            w += n;
            *w++ = ' ';
            for (size_t r = dc[i].first; r <= dc[i].last; r++) {
                const char *name = b[refs[r].bi].name;
                if (r != dc[i].first)
                    *w++ = ',';
                n = strlen(name);
                memcpy(w, name, n);
                w += n;
            }
            *w++ = '\n';
        }
        sb.len = (size_t)(w - sb.p);
    }
    if (sb.oom)
        goto oom;
    free(disp);
    if ((disp = dbt_cat_asprintf("%s/" DBT_LAYOUT_CERTS "/" DBT_LAYOUT_INDEX, gdisp)) == NULL)
        goto oom;
    if (dbt_cat_out_file(o, cfd, DBT_LAYOUT_INDEX, sb.p, sb.len, 0, disp, err) != 0)
        goto end;
    if (write_view(o, b, refs, dc, nd, pm, gfd, tfd, gdisp, mem, err) != 0)
        goto end;

    free(disp);
    if ((disp = dbt_cat_asprintf("%s/" DBT_LAYOUT_CERTS, gdisp)) == NULL)
        goto oom;
    /* openssl rehash numbering: equal subject hashes get .0, .1, ... in sha256 order. */
    qsort(dc, nd, sizeof(*dc), cmp_dcert_hash);
    for (size_t i = 0, seq = 0; i < nd; i++) {
        char link[32], target[80];
        seq = (i > 0 && dc[i].c->sh == dc[i - 1].c->sh) ? seq + 1 : 0;
        if (dbt_cat_out_hash_kept(o, cfd, dc[i].sh))
            continue;
        dbt_cat_link_name(link, sizeof(link), dc[i].c->sh, seq);
        dbt_cat_name3(target, sizeof(target), "", dc[i].c->sha, ".pem");
        if (dbt_cat_out_link(o, cfd, target, link, disp, err) != 0)
            goto end;
    }
    ret = 0;
    goto end;
unread:
    dbt_err_set(err, "internal error: a file to write is of a bundle not read");
    goto end;
oom:
    dbt_err_set(err, "out of memory");
end:
    free(sb.p);
    free(disp);
    return ret;
}

/*
 * Takes the generation below the current one (the one the last commit replaced), if no reader
 * holds it, and renames it to .gen-<n>, above every other: the commit then rewrites only what
 * differs (struct dbt_cat_out) instead of writing thousands of files and removing as many. While
 * it is being patched it is a leftover above "current" like any partial generation (never
 * read; removed by the next dbt_catalog_begin if the writer dies). Returns its directory, held
 * with an exclusive flock, or -1 when there is none to take (the commit writes from scratch).
 */
static int recycle_gen(dbt_catalog *cat, unsigned long long n, unsigned long long *from)
{
    unsigned long long prev = 0;
    char old[32], name[32];
    int fd;

    if (cat->genfd < 0 || scan_gens(cat, gen_prev, &prev, NULL) != 0 || prev == 0)
        return -1;
    snprintf(old, sizeof(old), DBT_CAT_GEN_PREFIX "%llu", prev);
    snprintf(name, sizeof(name), DBT_CAT_GEN_PREFIX "%llu", n);
    fd = openat(cat->dirfd, old, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* A reader holds it (or there is no flock here, and a reader could be reading it
     * unannounced): leave it alone. A reader that opens it after this lock either fails to
     * lock it or, once it is renamed, finds its name gone (dbt_safe_hold_gen) and re-reads
     * "current". */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    /* The writer lock keeps other writers out, so the name above every .gen-* is free. */
    if (fstatat(cat->dirfd, name, &(struct stat){0}, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT ||
        renameat(cat->dirfd, old, cat->dirfd, name) != 0) {
        close(fd);
        return -1;
    }
    *from = prev;
    return fd;
}

/* ---------- what each commit changed: the record the next recycling commit trusts ---------- */

/*
 * The record (DBT_LAYOUT_CHANGES at the top of the catalog), written by every commit whose
 * transaction knows what it changed:
 *     dbtrust-changes 3
 *     <gen> <parent> <parent-known> <trust.pem identity> <scoped> <parent-scoped>
 *     <bundle>                         one line per bundle put, removed or shortened
 * gen is the generation the commit made, parent the one its transaction read ("current" before
 * it), parent-known 1 when parent was itself the gen of a record, so made by a writer of this
 * form (a generation of an older dbtrust may hold files this one writes otherwise). The next
 * commit, recycling parent, trusts the record only when gen is its current generation, parent
 * the generation it recycles and parent-known is 1: parent's bundle files are then the current
 * ones except for the bundles listed, and what its index lists is what its certs/ holds. A
 * commit writes its record as .changes.tmp before the flush that precedes the switch of
 * "current" and renames it over the last one only once the new "current" is on disk: a record
 * naming a commit that never became current would name a generation number a later commit may
 * reuse, and a failed commit leaves the old record as it was. A record that is missing,
 * unreadable, of another form or naming another generation costs only a full comparison. Caps:
 * CHANGES_MAX bytes, names as in the catalog.
 */
#define CHANGES_HEADER "dbtrust-changes 3\n"
#define CHANGES_MAX (4u * 1024u * 1024u)

/*
 * What the record says of the trust.pem a commit left: the file's device, inode, size and
 * modification and change times (to the nanosecond), in hex. A lazy commit copies the blocks
 * of the certificates it did not read from that file only when it still has that identity: the
 * times change with every write to it (the change time cannot be set back), and a copy or a
 * restore is another inode. A content hash said the same at a cost that grew with the catalog
 * (a SHA-256 of the old and of the new trust.pem: 2 ms of an import at 1,000 bundles). What it
 * cannot see is a write within the same timestamp tick as the commit's own, which only the
 * catalog's owner could make while holding off nothing (the writer lock is advisory); such a
 * catalog is damaged by its owner, as by any write to a generation, and verify reports it.
 */
void dbt_cat_pem_identity(const struct stat *st, char out[DBT_CAT_PEM_ID_MAX])
{
    snprintf(out, DBT_CAT_PEM_ID_MAX, "%llx.%llx.%llx.%llx.%lx.%llx.%lx",
             (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
             (unsigned long long)st->st_size, (unsigned long long)st->st_mtim.tv_sec,
             (unsigned long)st->st_mtim.tv_nsec, (unsigned long long)st->st_ctim.tv_sec,
             (unsigned long)st->st_ctim.tv_nsec);
}

static int parse_ull(char **p, char end, unsigned long long *v)
{
    char *q;

    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    *v = strtoull(*p, &q, 10);
    if (errno != 0 || *q != end)
        return -1;
    *p = q + 1;
    return 0;
}

/* The record, when there is one of this form: 0, else -1 (r is then empty). */
static int read_record(dbt_catalog *cat, struct record *r)
{
    unsigned char *data = NULL;
    unsigned long long known;
    size_t len, cap;
    char *p, *nl;

    memset(r, 0, sizeof(*r));
    if (dbt_cat_read_file(cat, cat->dirfd, DBT_LAYOUT_CHANGES, CHANGES_MAX, &data, &len,
                          DBT_LAYOUT_CHANGES, NULL) != 0)
        return -1;
    p = (char *)data;
    if (strlen(p) != len || strncmp(p, CHANGES_HEADER, strlen(CHANGES_HEADER)) != 0)
        goto bad;
    p += strlen(CHANGES_HEADER);
    if (parse_ull(&p, ' ', &r->gen) != 0 || parse_ull(&p, ' ', &r->parent) != 0 ||
        parse_ull(&p, ' ', &known) != 0 || known > 1)
        goto bad;
    /* the trust.pem identity: digits and dots up to the next space */
    for (size_t i = 0;; i++) {
        if (i >= sizeof(r->pem_id) - 1)
            goto bad;
        if (p[i] == ' ') {
            if (i == 0)
                goto bad;
            memcpy(r->pem_id, p, i);
            r->pem_id[i] = '\0';
            p += i;
            break;
        }
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || p[i] == '.' ||
              p[i] == '-'))
            goto bad;
    }
    if (strlen(p) < 5 || p[0] != ' ' || (p[1] != '0' && p[1] != '1') || p[2] != ' ' ||
        (p[3] != '0' && p[3] != '1') || p[4] != '\n')
        goto bad;
    r->scoped = p[1] == '1';
    r->parent_scoped = p[3] == '1';
    p += 5;
    r->parent_known = (int)known;
    cap = len / 2 + 1; /* a name and its newline are at least 2 bytes */
    if ((r->name = calloc(cap, sizeof(*r->name))) == NULL)
        goto bad;
    for (; *p != '\0'; p = nl + 1) {
        if ((nl = strchr(p, '\n')) == NULL || !dbt_layout_name_ok(p, (size_t)(nl - p)) ||
            r->n >= cap)
            goto bad;
        memcpy(r->name[r->n], p, (size_t)(nl - p));
        r->name[r->n++][nl - p] = '\0';
    }
    free(data);
    return 0;
bad:
    free(data);
    free(r->name);
    memset(r, 0, sizeof(*r));
    return -1;
}

/* Writes the record of a commit that made gen from parent (best effort: without it the next
 * commit compares everything). */
static void write_record(dbt_catalog *cat, unsigned long long gen, unsigned long long parent,
                         int parent_known, const char *pem_id, int scoped, int parent_scoped,
                         const struct changed *ch)
{
    BIO *mem;
    char *p = NULL, (*names)[DBT_CATALOG_NAME_MAX + 1] = NULL;
    long len;
    int ok;

    if (ch == NULL || ch->unknown || (mem = BIO_new(BIO_s_mem())) == NULL)
        return;
    if (ch->n > 0 && (names = malloc(ch->n * sizeof(*names))) == NULL) {
        BIO_free(mem);
        return;
    }
    if (ch->n > 0) {
        memcpy(names, ch->name, ch->n * sizeof(*names));
        qsort(names, ch->n, sizeof(*names), cmp_name);
    }
    ok = BIO_printf(mem, CHANGES_HEADER "%llu %llu %d %s %d %d\n", gen, parent, parent_known,
                    pem_id, scoped, parent_scoped) > 0;
    for (size_t i = 0; ok && i < ch->n; i++)
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            ok = BIO_printf(mem, "%s\n", names[i]) > 0;
    len = BIO_get_mem_data(mem, &p);
    unlinkat(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, 0);
    if (ok && len > 0 &&
        dbt_fs_create_at(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, p, (size_t)len, 0600,
                         DBT_LAYOUT_CHANGES_TMP, NULL) != 0)
        unlinkat(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, 0);
    free(names);
    BIO_free(mem);
}

static int add_hash(struct dbt_cat_out *o, size_t *cap, unsigned long h)
{
    if (o->nhashes == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        unsigned long *v = realloc(o->hashes, nc * sizeof(*v));
        if (v == NULL)
            return -1;
        o->hashes = v;
        *cap = nc;
    }
    o->hashes[o->nhashes++] = h;
    return 0;
}

/* The offset of a mapped index's first line after its header, or -1. */
static long index_header_mapped(const unsigned char *data, size_t len)
{
    static const char header[] = DBT_CAT_INDEX_HEADER "\n";

    if (len < sizeof(header) - 1 || memcmp(data, header, sizeof(header) - 1) != 0)
        return -1;
    return (long)(sizeof(header) - 1);
}

/*
 * What the commit knows of the generation it recycles (prev) without reading it, from the
 * record and the generation's own index (struct dbt_cat_out). Anything it cannot establish is
 * left unknown, and then compared entry by entry.
 */
static void out_hints(struct dbt_cat_out *o, const dbt_catalog *cat, unsigned long long prev,
                      const struct record *rec, const struct changed *ch, const struct tbundle *b,
                      size_t nb, const struct dcert *dc, size_t nd)
{
    unsigned char *data = NULL;
    struct stat st;
    size_t len, n, cap = 0, i = 0;
    long body;
    const char *pos, *sha, *last = NULL;
    unsigned long sh;
    int rc;

    if (rec->gen != cat->gen || rec->parent != prev || !rec->parent_known || ch == NULL ||
        ch->unknown)
        return;
    n = rec->n + ch->n;
    if ((o->changed = malloc((n ? n : 1) * sizeof(*o->changed))) == NULL)
        return;
    if (rec->n > 0)
        memcpy(o->changed, rec->name, rec->n * sizeof(*o->changed));
    if (ch->n > 0)
        memcpy(o->changed + rec->n, ch->name, ch->n * sizeof(*o->changed));
    qsort(o->changed, n, sizeof(*o->changed), cmp_name);
    o->nchanged = n;
    o->bundles = 1;

    /* certs/: the links of a subject hash are the same when the same certificates of that hash
     * are on both sides; the hashes to look at are those of certificates on one side only. */
    /* The recycled generation is never walked: its index is believed only when it obeys the
     * rule (the commit rewrites it either way). */
    if (dbt_fs_map_at_st(o->cfd, DBT_LAYOUT_INDEX, DBT_MAX_INPUT, (void **)&data, &len, &st) != 0)
        return;
    if (dbt_safe_entry(&st, DBT_LAYOUT_INDEX, NULL) != 0 ||
        (body = index_header_mapped(data, len)) < 0)
        goto fail;
    /* A line is at least 64 + 40 + 2 * 8 + 5 bytes: room for every entry. */
    if ((o->rent = malloc((len / 125 + 1) * sizeof(*o->rent))) == NULL)
        goto fail;
    /* Only the keys of each line: what else the lines say is rewritten either way. */
    for (pos = (const char *)data + body;; last = sha) {
        rc = dbt_layout_index_keys(&pos, (const char *)data + len, &sha, &sh);
        if (rc == 0)
            break;
        /* sorted and unique, or out_known_present's search would be wrong */
        if (rc < 0 || o->nrent >= len / 125 + 1 || (last != NULL && memcmp(last, sha, 64) >= 0))
            goto fail;
        memcpy(o->rent[o->nrent].sha, sha, 64);
        o->rent[o->nrent].sha[64] = '\0';
        o->rent[o->nrent].in_new = 0;
        o->rent[o->nrent++].sh = sh;
        for (; i < nd && memcmp(dc[i].c->sha, sha, 64) < 0; i++)
            if (add_hash(o, &cap, dc[i].c->sh) != 0)
                goto fail;
        if (i < nd && memcmp(dc[i].c->sha, sha, 64) == 0) {
            o->rent[o->nrent - 1].in_new = 1;
            i++;
        } else if (add_hash(o, &cap, sh) != 0)
            goto fail;
    }
    for (; i < nd; i++)
        if (add_hash(o, &cap, dc[i].c->sh) != 0)
            goto fail;
    if (o->nhashes > 1)
        qsort(o->hashes, o->nhashes, sizeof(*o->hashes), cmp_ulong);
    o->certs = 1;
    /* trust/ holds the same links as certs/ (to ../certs/) unless a bundle is scoped: on the
     * new side by its scope, on the recycled side by a scoped form (a file) in trust/. */
    o->trust = 1;
    for (size_t k = 0; k < nb; k++)
        if (tb_scope(&b[k])[0] != '\0')
            o->trust = 0;
    for (size_t d = 0; d < o->nd; d++)
        if (o->d[d].fd == o->tfd)
            for (size_t k = 0; k < o->d[d].n; k++)
                if (o->d[d].e[k].type != DT_LNK)
                    o->trust = 0;
    munmap(data, len);
    return;
fail:
    munmap(data, len);
    free(o->hashes);
    free(o->rent);
    o->hashes = NULL;
    o->nhashes = 0;
    o->rent = NULL;
    o->nrent = 0;
}

/* The certificates of b[] by SHA-256 (refs, each with its bundle) and distinct (dc). */
static int build_refs(const struct tbundle *b, size_t nb, struct ref **refs, struct dcert **dc,
                      size_t *nd)
{
    size_t total = 0, k = 0;

    *nd = 0;
    for (size_t i = 0; i < nb; i++)
        total += b[i].n;
    *refs = calloc(total ? total : 1, sizeof(**refs));
    *dc = calloc(total ? total : 1, sizeof(**dc));
    if (*refs == NULL || *dc == NULL)
        return -1;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < b[i].n; j++)
            (*refs)[k++] = (struct ref){&b[i].c[j], i, dbt_cat_sha_key(b[i].c[j].sha)};
    qsort(*refs, total, sizeof(**refs), cmp_ref);
    for (size_t i = 0; i < total; i++) {
        struct ref *r = &(*refs)[i];
        if (i > 0 && r->k == r[-1].k && strcmp(r->c->sha, r[-1].c->sha) == 0) {
            struct dcert *d = &(*dc)[*nd - 1];
            d->last = i;
            if (d->c->der == NULL && r->c->der != NULL) /* one the transaction read */
                d->c = r->c;
        } else
            (*dc)[(*nd)++] = (struct dcert){r->c, i, i, r->k, r->c->sh};
    }
    return 0;
}

/* An index entry in link order: subject hash, then SHA-256. */
struct lord {
    unsigned long sh;
    uint64_t k;
    const dbt_catalog_cert *c;
};

static int cmp_link_order(const void *a, const void *b)
{
    const struct lord *x = a, *y = b;

    if (x->sh != y->sh)
        return x->sh < y->sh ? -1 : 1;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    return strcmp(x->c->sha256, y->c->sha256);
}

/* The current trust.pem's blocks by certificate, when the record vouches for the file: it is
 * then the one the commit that wrote the index made, which holds the index's certificates (all
 * unscoped: begin_lazy) in link order, one canonical block each. 0, or -1 (pm empty). */
static int pemmap_load(dbt_catalog_txn *t, const struct record *rec, struct pemmap *pm)
{
    dbt_catalog *cat = t->cat;
    struct lord *ord = NULL;
    char id[PEM_ID_MAX];
    struct stat st;
    size_t len = 0, pos = 0, lb = strlen(pem_begin), le = strlen(pem_end);

    memset(pm, 0, sizeof(*pm));
    /* Mapped, not read: read into fresh memory, a trust.pem of megabytes cost a page fault a
     * page (a tenth of a commit at 1,000 bundles). */
    if (rec->gen != cat->gen || strcmp(rec->pem_id, "-") == 0 ||
        dbt_cat_map_file(cat, cat->genfd, DBT_LAYOUT_TRUST_PEM, DBT_MAX_INPUT, (void **)&pm->text,
                         &pm->textlen, &st) != 0)
        goto fail;
    len = pm->textlen;
    dbt_cat_pem_identity(&st, id);
    if (strcmp(id, rec->pem_id) != 0)
        goto fail;
    ord = malloc((t->nidx ? t->nidx : 1) * sizeof(*ord));
    pm->b = malloc((t->nidx ? t->nidx : 1) * sizeof(*pm->b));
    if (ord == NULL || pm->b == NULL)
        goto fail;
    for (size_t i = 0; i < t->nidx; i++)
        ord[i] =
            (struct lord){t->idx[i].subject_hash, dbt_cat_sha_key(t->idx[i].sha256), &t->idx[i]};
    qsort(ord, t->nidx, sizeof(*ord), cmp_link_order);
    for (size_t i = 0; i < t->nidx; i++) {
        const unsigned char *end;
        /* The body is base64 and newlines: its first '-' starts the end line (memchr rather
         * than memmem, which was a tenth of this function). */
        if (len - pos < lb || memcmp(pm->text + pos, pem_begin, lb) != 0 ||
            (end = memchr(pm->text + pos + lb, '-', len - pos - lb)) == NULL ||
            (size_t)(pm->text + len - end) < le || memcmp(end, pem_end, le) != 0)
            goto fail;
        struct pemblk *pb = &pm->b[ord[i].c - t->idx];
        *pb = (struct pemblk){(const char *)pm->text + pos, (size_t)(end - (pm->text + pos)) + le};
        pos += pb->len;
    }
    if (pos != len)
        goto fail;
    pm->idx = t->idx;
    pm->n = t->nidx;
    free(ord);
    return 0;
fail:
    free(ord);
    pemmap_free(pm);
    return -1;
}

static int rebuild_refs(dbt_catalog_txn *t, struct ref **refs, struct dcert **dc, size_t *nd)
{
    free(*refs);
    free(*dc);
    *refs = NULL;
    *dc = NULL;
    return build_refs(t->b, t->nb, refs, dc, nd);
}

/* Whether write_generation will keep the recycled generation's entry name unread. */
static int out_would_keep(struct dbt_cat_out *o, int dirfd, const char *name, unsigned char type)
{
    struct out_ent *e;

    return o != NULL && out_known_kept(o, dirfd, name, type, &e);
}

/*
 * Before a lazy transaction's commit writes (lazy transactions, above): reads the bundles whose
 * files it writes and those holding a certificate whose file it writes, then finds the
 * trust.pem block of every certificate still not read; where one is missing, reads every
 * bundle. refs and dc are rebuilt when a bundle was read. 0, or -1 with err.
 */
static int lazy_prepare(dbt_catalog_txn *t, struct dbt_cat_out *o, const struct record *rec,
                        struct ref **refs, struct dcert **dc, size_t *nd, struct pemmap *pm,
                        dbt_err *err)
{
    char file[DBT_CATALOG_NAME_MAX + 8];
    unsigned char *mark = calloc(t->nb ? t->nb : 1, 1);
    int read = 0, missing = 0, kept;

    if (mark == NULL)
        goto oom;
    for (size_t k = 0; k < t->nb; k++) {
        if (!t->b[k].lazy)
            continue;
        dbt_cat_name3(file, sizeof(file), "", t->b[k].name, ".pem");
        if (out_would_keep(o, o ? o->bfd : -1, file, DT_REG)) {
            dbt_cat_name3(file, sizeof(file), "", t->b[k].name, ".meta");
            if (out_would_keep(o, o->bfd, file, DT_REG))
                continue;
        }
        mark[k] = 1;
    }
    for (size_t i = 0; i < *nd; i++) {
        const struct dcert *d = &(*dc)[i];
        if (d->c->der != NULL)
            continue;
        if ((kept = out_cert_kept(o, d->c->sha)) < 0) {
            dbt_cat_name3(file, sizeof(file), "", d->c->sha, ".pem");
            kept = out_would_keep(o, o ? o->cfd : -1, file, DT_REG);
        }
        if (kept)
            continue;
        for (size_t r = d->first; r <= d->last; r++)
            mark[(*refs)[r].bi] = 1;
    }
    /* After the loops: reading a bundle frees the certificates refs and dc point to. */
    for (size_t k = 0; k < t->nb; k++)
        if (mark[k] && t->b[k].lazy) {
            if (load_lazy(t, k, err) != 0)
                goto fail;
            read = 1;
        }
    free(mark);
    mark = NULL;
    if (read && rebuild_refs(t, refs, dc, nd) != 0)
        goto oom;
    for (size_t i = 0; i < *nd && !missing; i++)
        missing = (*dc)[i].c->der == NULL;
    if (!missing)
        return 0;
    missing = pemmap_load(t, rec, pm) != 0;
    for (size_t i = 0; i < *nd && !missing; i++)
        missing = (*dc)[i].c->der == NULL && pemmap_find(pm, (*dc)[i].c->sha) == NULL;
    if (!missing)
        return 0;
    pemmap_free(pm);
    if (load_all(t, err) != 0)
        goto fail;
    if (rebuild_refs(t, refs, dc, nd) != 0)
        goto oom;
    return 0;
oom:
    dbt_err_set(err, "out of memory");
fail:
    free(mark);
    return -1;
}

/* Whether a bundle with certificates is scoped. */
static int any_scoped(const struct tbundle *b, size_t nb)
{
    for (size_t i = 0; i < nb; i++)
        if (b[i].n > 0 && tb_scope(&b[i])[0] != '\0')
            return 1;
    return 0;
}

/* Starts o on a recycled generation (genfd, its directories bfd, cfd, tfd): lists the
 * generation directory itself, whose three directories are kept. */
static int out_start(struct dbt_cat_out *o, int genfd, int bfd, int cfd, int tfd, const char *gdisp,
                     dbt_err *err)
{
    static const char *const dirs[] = {DBT_LAYOUT_BUNDLES, DBT_LAYOUT_CERTS, DBT_LAYOUT_TRUST};

    if (out_list(o, genfd, gdisp, err) != 0)
        return -1;
    for (size_t i = 0; i < 3; i++) {
        struct out_ent *e = out_find(o, genfd, dirs[i]);
        if (e != NULL && e->type == DT_DIR)
            e->used = 1;
    }
    o->euid = geteuid();
    o->bfd = bfd;
    o->cfd = cfd;
    o->tfd = tfd;
    return 0;
}

static int commit_state(dbt_catalog *cat, struct tbundle *b, size_t nb, const struct changed *ch,
                        int may_recycle, dbt_catalog_txn *t, dbt_err *err)
{
    struct dbt_cat_out out = {0}, *o = NULL;
    struct record rec = {0};
    unsigned long long from = 0;
    int recycled = 0;
    struct ref *refs = NULL;
    struct dcert *dc = NULL;
    struct pemmap pm = {0};
    size_t nd = 0;
    unsigned long long n = 0;
    char name[32], *gdisp = NULL, *certs_dir = NULL, pem_id[PEM_ID_MAX] = "-";
    struct stat pst;
    int genfd = -1, bfd = -1, cfd = -1, tfd = -1, made = 0, ret = -1;
    BIO *mem = BIO_new(BIO_s_mem());

    if (mem == NULL || build_refs(b, nb, &refs, &dc, &nd) != 0)
        goto oom;

    known_kept = 0;
    pem_copied = 0;
    out_listed = 0;
    /* The last commit's record, then none until this commit writes its own (see read_record). */
    (void)read_record(cat, &rec);
    /* A fresh name above every existing one: never reuse a directory that exists. */
    if (scan_gens(cat, gen_max, &n, err) != 0)
        goto end;
    if (n < cat->gen)
        n = cat->gen;
    if (may_recycle && (genfd = recycle_gen(cat, n + 1, &from)) >= 0) {
        n++;
        snprintf(name, sizeof(name), DBT_CAT_GEN_PREFIX "%llu", n);
        if ((gdisp = dbt_cat_asprintf("%s/%s", cat->path, name)) == NULL)
            goto oom;
        made = recycled = 1;
    } else {
        for (int tries = 0;; tries++) {
            n++;
            snprintf(name, sizeof(name), DBT_CAT_GEN_PREFIX "%llu", n);
            free(gdisp);
            if ((gdisp = dbt_cat_asprintf("%s/%s", cat->path, name)) == NULL)
                goto oom;
            if (dbt_fs_mkdir_at(cat->dirfd, name, DBT_DIR_MODE, gdisp, err) == 0)
                break;
            if (errno != EEXIST || tries > 100)
                goto end;
        }
        made = 1;
        genfd = openat(cat->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (genfd < 0) {
            dbt_err_sys(err, "cannot open %s", gdisp);
            goto end;
        }
    }
    if ((certs_dir = dbt_cat_asprintf("%s/" DBT_LAYOUT_CERTS, gdisp)) == NULL)
        goto oom;
    /* A recycled generation has them (trust/ unless written before scopes existed). */
    if ((mkdirat(genfd, DBT_LAYOUT_BUNDLES, DBT_DIR_MODE) != 0 && (!recycled || errno != EEXIST)) ||
        (mkdirat(genfd, DBT_LAYOUT_CERTS, DBT_DIR_MODE) != 0 && (!recycled || errno != EEXIST)) ||
        (mkdirat(genfd, DBT_LAYOUT_TRUST, DBT_DIR_MODE) != 0 && (!recycled || errno != EEXIST))) {
        dbt_err_sys(err, "cannot create the directories of %s", gdisp);
        goto end;
    }
    bfd = openat(genfd, DBT_LAYOUT_BUNDLES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cfd = openat(genfd, DBT_LAYOUT_CERTS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    tfd = openat(genfd, DBT_LAYOUT_TRUST, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0 || cfd < 0 || tfd < 0 || fchmod(genfd, DBT_DIR_MODE) != 0 ||
        fchmod(bfd, DBT_DIR_MODE) != 0 || fchmod(cfd, DBT_DIR_MODE) != 0 ||
        fchmod(tfd, DBT_DIR_MODE) != 0) {
        dbt_err_sys(err, "cannot open the directories of %s", gdisp);
        goto end;
    }
    if (recycled) {
        o = &out;
        if (out_start(o, genfd, bfd, cfd, tfd, gdisp, err) != 0)
            goto end;
        /* Unscoped on both sides (the record knows the recycled one): trust/ holds links only,
         * and nothing in the three directories needs reading to be known. */
        out_listed = 1;
        if (!any_scoped(b, nb) && !rec.parent_scoped) {
            out_hints(o, cat, from, &rec, ch, b, nb, dc, nd);
            if (o->bundles && o->certs && o->trust && out_known_dirs(o) == 0)
                out_listed = 0;
            else {
                out_free(o);
                memset(o, 0, sizeof(*o));
                if (out_start(o, genfd, bfd, cfd, tfd, gdisp, err) != 0)
                    goto end;
            }
        }
        if (out_listed) {
            if (out_list(o, bfd, gdisp, err) != 0 || out_list(o, cfd, certs_dir, err) != 0 ||
                out_list(o, tfd, gdisp, err) != 0)
                goto end;
            out_hints(o, cat, from, &rec, ch, b, nb, dc, nd);
        }
    }
    if (t != NULL && t->lazy && lazy_prepare(t, o, &rec, &refs, &dc, &nd, &pm, err) != 0)
        goto end;
    if (write_generation(o, b, nb, refs, dc, nd, &pm, genfd, bfd, cfd, tfd, gdisp, mem, err) != 0)
        goto end;
    if (o != NULL && out_prune(o, gdisp, err) != 0)
        goto end;
    /* Written now, to be flushed with the generation; it replaces the last record only once the
     * new "current" is on disk (below), so a failed commit leaves the old record in place. */
    {
        int known = cat->genfd >= 0 && rec.gen == cat->gen;
        /* The generation this commit replaces is the one the last record made. */
        if (fstatat(genfd, DBT_LAYOUT_TRUST_PEM, &pst, AT_SYMLINK_NOFOLLOW) == 0)
            dbt_cat_pem_identity(&pst, pem_id);
        write_record(cat, n, cat->gen, known, pem_id, any_scoped(b, nb), known ? rec.scoped : 1,
                     ch);
    }
    /* One flush for the whole generation: an fsync per file cost 1.2-1.5 s for the 108 AWS
     * roots on a virtual disk (one journal commit each). Then the directories, innermost
     * first, for filesystems where syncfs alone would not order them. */
    if (dbt_fs_sync_tree(genfd, gdisp, err) != 0 || dbt_fs_fsync_fd(cfd, certs_dir, err) != 0 ||
        dbt_fs_fsync_fd(tfd, gdisp, err) != 0 || dbt_fs_fsync_fd(bfd, gdisp, err) != 0 ||
        dbt_fs_fsync_fd(genfd, gdisp, err) != 0)
        goto end;
    if (ensure_fixed_links(cat, err) != 0)
        goto end;
    /* The new generation becomes the snapshot, held like any reader's (catsafe.h), before
     * "current" names it: a recycled generation is still held exclusively here, and a reader
     * that followed "current" to it would find it locked, take it for one being removed and
     * re-read "current" until its retries ran out (for as long as the fsync below takes). No
     * reader reaches it before point_current, and the writer lock keeps writers out. */
    (void)flock(genfd, LOCK_SH | LOCK_NB); /* fails only where there is no flock */

    if (point_current(cat, name, err) != 0)
        goto end;
    if (dbt_fs_fsync_fd(cat->dirfd, cat->path, err) != 0) {
        /* Not durable: put the old generation back so that a failure changes nothing. */
        if (cat->genfd >= 0)
            point_current(cat, cat->gen_name, NULL);
        else
            unlinkat(cat->dirfd, DBT_CAT_CURRENT, 0);
        goto end;
    }
    /* The record names a generation only once it is the durable "current": one left by a commit
     * that never got there would name a number a later commit may reuse. Its own flush can wait
     * for the next one: a lost rename leaves the old record, which names the wrong generation
     * and so only costs the next commit a full comparison. */
    if (renameat(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, cat->dirfd, DBT_LAYOUT_CHANGES) != 0)
        unlinkat(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, 0);
    if (cat->genfd >= 0)
        close(cat->genfd);
    {
        struct keep2 keep = {n, cat->gen};
        scan_gens(cat, gen_remove_others, &keep, NULL);
    }
    cat->genfd = genfd;
    genfd = -1;
    cat->gen = n;
    snprintf(cat->gen_name, sizeof(cat->gen_name), "%s", name);
    free(cat->certs_dir);
    cat->certs_dir = certs_dir;
    certs_dir = NULL;
    lazy_unread = 0;
    for (size_t i = 0; t != NULL && i < t->nb; i++)
        lazy_unread += t->b[i].lazy;
    ret = 0;
    goto end;
oom:
    dbt_err_set(err, "out of memory while writing catalog %s", cat->path);
end:
    if (ret != 0) {
        int saved = errno;
        unlinkat(cat->dirfd, DBT_LAYOUT_CHANGES_TMP, 0);
        if (made)
            dbt_fs_rmtree_at(cat->dirfd, name, gdisp, NULL);
        dbt_err_prefix(err, "catalog %s left unchanged", cat->path);
        errno = saved;
    }
    if (tfd >= 0)
        close(tfd);
    if (cfd >= 0)
        close(cfd);
    if (bfd >= 0)
        close(bfd);
    if (genfd >= 0)
        close(genfd);
    free(dc);
    free(refs);
    free(gdisp);
    free(certs_dir);
    BIO_free(mem);
    out_free(&out);
    free(rec.name);
    pemmap_free(&pm);
    /* Whatever went wrong while patching, a generation written from scratch may still work
     * (the recycled one is gone, removed above: no reader held it). */
    if (ret != 0 && recycled) {
        retries++;
        return commit_state(cat, b, nb, ch, 0, t, err);
    }
    return ret;
}

/* Where the wiring's messages go: set once per process, before any commit. */
static dbt_catalog_report_fn *report_fn;
static void *report_arg;

void dbt_catalog_set_report(dbt_catalog_report_fn *fn, void *arg)
{
    report_fn = fn;
    report_arg = arg;
}

/* On: the commit recycles the generation before the current one when no reader holds it. */
static int recycle_on = 1;

void dbt_cat_set_recycle(int on)
{
    recycle_on = on;
}

int dbt_catalog_commit(dbt_catalog_txn *t, dbt_err *err)
{
    if (commit_state(t->cat, t->b, t->nb, &t->changed, recycle_on, t, err) != 0)
        return -1;
    /* Next to the commit rather than at its callers, and with nothing to register: a caller
     * that forgot would leave the system trust pointing at certificates that left the catalog.
     * It runs under the writer lock, on the new snapshot. */
    if (dbt_sys_follow(t->cat, report_fn, report_arg, err) != 0)
        return DBT_CATALOG_COMMITTED_BEHIND;
    return 0;
}

int dbt_cat_commit_empty(dbt_catalog *cat, dbt_err *err)
{
    return commit_state(cat, NULL, 0, NULL, 0, NULL, err);
}
