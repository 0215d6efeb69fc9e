/* The import pipeline and the removal shared by import, fetch, remove and keytool (see
 * lib/import.h). Messages name the input and the certificate; the caller words the events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "certinfo.h"
#include "import.h"
#include "scope.h"

struct dbt_import {
    dbt_import_opts opts;
    dbt_import_event_fn *ev;
    void *arg;
    dbt_bundle *keep;
    EVP_MD_CTX *md;
    dbt_format format;
    int mixed;
    dbt_catalog_meta meta; /* origins gathered as the inputs come */
    dbt_import_counts counts;
};

void dbt_import_report_clear(dbt_import_report *r)
{
    size_t i;

    for (i = 0; i < r->nadded; i++)
        free(r->added[i].subject);
    for (i = 0; i < r->nremoved; i++)
        free(r->removed[i].subject);
    free(r->added);
    free(r->removed);
    free(r->bundles);
    memset(r, 0, sizeof(*r));
}

dbt_import *dbt_import_new(const dbt_import_opts *opts, dbt_import_event_fn *ev, void *arg,
                           dbt_err *err)
{
    dbt_import *imp;

    if (dbt_catalog_check_name(opts->bundle, err) != 0)
        return NULL;
    if ((imp = calloc(1, sizeof(*imp))) == NULL)
        goto oom;
    imp->opts = *opts;
    if (imp->opts.now == 0)
        imp->opts.now = (int64_t)time(NULL);
    imp->ev = ev;
    imp->arg = arg;
    imp->format = DBT_FMT_UNKNOWN;
    if ((imp->keep = dbt_bundle_new(opts->bundle)) == NULL ||
        (imp->md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestInit_ex(imp->md, EVP_sha256(), NULL) != 1) {
        dbt_import_free(imp);
        goto oom;
    }
    return imp;
oom:
    dbt_err_set(err, "out of memory");
    return NULL;
}

void dbt_import_free(dbt_import *imp)
{
    if (imp == NULL)
        return;
    dbt_bundle_free(imp->keep);
    EVP_MD_CTX_free(imp->md);
    free(imp);
}

dbt_import_counts dbt_import_get_counts(const dbt_import *imp)
{
    return imp->counts;
}

static void say(dbt_import *imp, int kind, const dbt_bundle *in, size_t i, const dbt_certinfo *ci,
                const char *why)
{
    dbt_import_event e = {0};

    if (imp->ev == NULL)
        return;
    e.kind = kind;
    e.source = in->source;
    e.index = i + 1;
    if (i < in->n) {
        e.block = in->certs[i].block;
        e.line = in->certs[i].line;
    }
    e.subject = ci != NULL ? ci->subject : "";
    e.not_after = ci != NULL ? ci->not_after : 0;
    e.why = why;
    imp->ev(imp->arg, &e);
}

/* Keeps the certificates of in that pass the policy; each one left out is an event. */
static int filter(dbt_import *imp, const dbt_bundle *in, dbt_err *err)
{
    dbt_certinfo ci;
    dbt_err why;
    size_t i;

    for (i = 0; i < in->n; i++) {
        const dbt_cert *ct = &in->certs[i];

        imp->counts.seen++;
        if (dbt_certinfo_get(ct->x509, &ci, &why) != 0) {
            say(imp, DBT_IMPORT_UNREADABLE, in, i, NULL, why.msg);
            return DBT_IMPORT_REFUSED;
        }
        if (!ci.is_ca && imp->opts.leaf != DBT_IMPORT_LEAF_ALLOW) {
            if (imp->opts.leaf == DBT_IMPORT_LEAF_REFUSE) {
                say(imp, DBT_IMPORT_LEAF_REFUSED, in, i, &ci, NULL);
                return DBT_IMPORT_REFUSED;
            }
            say(imp, DBT_IMPORT_LEAF_SKIPPED, in, i, &ci, NULL);
            imp->counts.leaf++;
            continue;
        }
        if (ci.not_after < imp->opts.now) {
            if (imp->opts.skip_expired) {
                say(imp, DBT_IMPORT_EXPIRED_SKIPPED, in, i, &ci, NULL);
                imp->counts.expired++;
                continue;
            }
            say(imp, DBT_IMPORT_EXPIRED_KEPT, in, i, &ci, NULL);
        }
        X509_up_ref(ct->x509);
        if (dbt_bundle_push(imp->keep, ct->x509, (int)imp->keep->n + 1, 0,
                            imp->opts.keep_alias ? ct->alias : NULL, err) != 0) {
            X509_free(ct->x509);
            return -1;
        }
        imp->counts.kept++;
    }
    return 0;
}

int dbt_import_add(dbt_import *imp, const char *source, const unsigned char *data, size_t len,
                   dbt_err *err)
{
    dbt_bundle *in = NULL;
    int rc;

    if (dbt_bundle_decode(data, len, source, imp->opts.password, &in, err) != 0)
        return DBT_IMPORT_E_DECODE;
    /* A restricted TRUSTED CERTIFICATE refuses the whole import, named by file and block: never
     * imported plain (wider), never skipped (a silent drop). */
    if (dbt_catalog_check_trust(in, err) != 0) {
        rc = -1;
        goto end;
    }
    /* A certificate that cannot carry the asked scope refuses the import, named here by file
     * and position (the catalog checks it again for a scope the bundle keeps). */
    if (imp->opts.scope != NULL && imp->opts.scope[0] != '\0')
        for (size_t i = 0; i < in->n; i++)
            if (dbt_scope_can_scope(in->certs[i].x509, err) != 0) {
                dbt_err_prefix(err, "%s: certificate %zu", source, i + 1);
                rc = -1;
                goto end;
            }
    if (EVP_DigestUpdate(imp->md, data, len) != 1) {
        dbt_err_set(err, "%s: cannot compute its SHA-256", source);
        rc = -1;
        goto end;
    }
    if ((rc = filter(imp, in, err)) != 0)
        goto end;
    if (in->n == 0)
        say(imp, DBT_IMPORT_EMPTY_INPUT, in, 0, NULL, NULL);
    if (imp->counts.inputs++ == 0)
        imp->format = in->format;
    else if (in->format != imp->format)
        imp->mixed = 1;
    /* A file name or URL may hold anything: recorded escaped, by the catalog's rule. */
    if (imp->opts.origin == NULL)
        dbt_catalog_meta_add_origin(&imp->meta, source);
end:
    dbt_bundle_free(in);
    return rc;
}

/* A fingerprint and where its certificate is in a bundle: sorted, so that reporting what an
 * import added and removed stays O(n log n) for bundles of 100,000 certificates. */
struct fp_index {
    char sha256[65];
    size_t pos;
};

static int fp_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fp_index *)a)->sha256, ((const struct fp_index *)b)->sha256);
}

/* The sorted fingerprint index of b (an empty one for a NULL b). */
static int fp_index_build(const dbt_bundle *b, struct fp_index **out, dbt_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;
    size_t i;

    *out = NULL;
    if (b == NULL || b->n == 0)
        return 0;
    if ((*out = calloc(b->n, sizeof(**out))) == NULL) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    for (i = 0; i < b->n; i++) {
        if (X509_digest(b->certs[i].x509, EVP_sha256(), md, &mdlen) != 1) {
            dbt_err_set(err, "certificate %zu of %s: cannot compute its SHA-256", i + 1, b->source);
            free(*out);
            *out = NULL;
            return -1;
        }
        dbt_hex(md, mdlen, (*out)[i].sha256);
        (*out)[i].pos = i;
    }
    qsort(*out, b->n, sizeof(**out), fp_cmp);
    return 0;
}

/* Copies shas into certs with the subject each has in b (NULL when b does not hold it). */
static int report_certs(const dbt_bundle *b, char (*shas)[65], size_t n, dbt_import_cert **out,
                        dbt_err *err)
{
    struct fp_index *idx = NULL, key, *hit;
    char subj[512];
    size_t i;

    *out = NULL;
    if (n == 0)
        return 0;
    if (fp_index_build(b, &idx, err) != 0)
        return -1;
    if ((*out = calloc(n, sizeof(**out))) == NULL)
        goto oom;
    for (i = 0; i < n; i++) {
        memcpy((*out)[i].sha256, shas[i], sizeof(shas[i]));
        memcpy(key.sha256, shas[i], sizeof(key.sha256));
        hit = idx != NULL ? bsearch(&key, idx, b->n, sizeof(*idx), fp_cmp) : NULL;
        if (hit == NULL)
            continue;
        dbt_name_line(X509_get_subject_name(b->certs[hit->pos].x509), subj, sizeof(subj));
        if (((*out)[i].subject = strdup(subj)) == NULL)
            goto oom;
    }
    free(idx);
    return 0;
oom:
    free(idx);
    dbt_err_set(err, "out of memory");
    return -1;
}

static int fill_report(dbt_import_report *r, const char *bundle, const dbt_catalog_change *ch,
                       const dbt_bundle *now, const dbt_bundle *old, dbt_err *err)
{
    snprintf(r->bundle, sizeof(r->bundle), "%s", bundle);
    r->existed = ch->existed;
    r->duplicates = ch->duplicates;
    if (report_certs(now, ch->added, ch->nadded, &r->added, err) != 0)
        return -1;
    r->nadded = ch->nadded;
    if (report_certs(old, ch->removed, ch->nremoved, &r->removed, err) != 0)
        return -1;
    r->nremoved = ch->nremoved;
    return 0;
}

static void report_counts(dbt_import_report *r, const dbt_import *imp, const dbt_catalog_change *ch,
                          const dbt_catalog_meta *cur)
{
    r->seen = imp->counts.seen;
    r->leaf = imp->counts.leaf;
    r->expired = imp->counts.expired;
    r->count = imp->keep->n - ch->duplicates;
    memcpy(r->scope, imp->meta.scope, sizeof(r->scope));
    memcpy(r->old_scope, cur->scope, sizeof(r->old_scope));
}

int dbt_import_commit(dbt_import *imp, dbt_catalog *cat, dbt_import_report *r, dbt_err *err)
{
    dbt_catalog_txn *txn = NULL;
    dbt_catalog_change change = {0};
    dbt_catalog_meta cur;
    dbt_bundle *old = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    int rc = -1, crc;

    if (r != NULL)
        memset(r, 0, sizeof(*r));
    if (EVP_DigestFinal_ex(imp->md, digest, &dlen) != 1) {
        dbt_err_set(err, "cannot compute the SHA-256 of the inputs");
        goto end;
    }
    dbt_hex(digest, dlen, imp->meta.sha256);
    if (imp->mixed || imp->format == DBT_FMT_UNKNOWN)
        snprintf(imp->meta.format, sizeof(imp->meta.format), "mixed");
    else
        dbt_format_key(imp->format, imp->meta.format, sizeof(imp->meta.format));
    if (imp->opts.origin != NULL)
        dbt_catalog_meta_add_origin(&imp->meta, imp->opts.origin);
    /* The scope: the one asked for, else the one the bundle has (never widened by a re-import
     * that does not mention it). */
    memset(&cur, 0, sizeof(cur));
    if (dbt_catalog_has_bundle(cat, imp->opts.bundle) &&
        dbt_catalog_get_meta(cat, imp->opts.bundle, &cur, err) != 0)
        return -1;
    snprintf(imp->meta.scope, sizeof(imp->meta.scope), "%s",
             imp->opts.scope != NULL ? imp->opts.scope : cur.scope);
    /* What a download records; an import from a file records neither, so clears both. The
     * same bytes downloaded again keep the time they were first imported: refreshed= says
     * when the download last succeeded. */
    snprintf(imp->meta.source, sizeof(imp->meta.source), "%s",
             imp->opts.source != NULL ? imp->opts.source : "");
    snprintf(imp->meta.refreshed, sizeof(imp->meta.refreshed), "%s",
             imp->opts.refreshed != NULL ? imp->opts.refreshed : "");
    if (imp->opts.refreshed != NULL && cur.sha256[0] != '\0' &&
        strcmp(cur.sha256, imp->meta.sha256) == 0)
        memcpy(imp->meta.imported, cur.imported, sizeof(imp->meta.imported));
    if (imp->opts.check != NULL && r == NULL) {
        dbt_err_set(err, "an import with a check needs a report");
        goto end;
    }
    /* The old bundle only names what was removed (a new bundle has none): not read for a
     * caller that wants no report, as a quiet import of 100,000 certificates. */
    if (r != NULL && dbt_catalog_load(cat, imp->opts.bundle, &old, err) != 0)
        old = NULL;
    if (dbt_catalog_begin(cat, &txn, err) != 0 ||
        dbt_catalog_put(txn, imp->opts.bundle, imp->keep, &imp->meta, &change, err) != 0)
        goto end;
    /* A check decides on the report of what the commit would do, so it is built first. */
    if (imp->opts.check != NULL) {
        if (fill_report(r, imp->opts.bundle, &change, imp->keep, old, err) != 0)
            goto end;
        report_counts(r, imp, &change, &cur);
        if (err != NULL)
            memset(err, 0, sizeof(*err));
        if (imp->opts.check(imp->opts.check_arg, r, err) != 0) {
            rc = DBT_IMPORT_REFUSED;
            goto end;
        }
    }
    if ((crc = dbt_catalog_commit(txn, err)) < 0)
        goto end;
    rc = crc;
    if (r == NULL || imp->opts.check != NULL)
        goto end;
    /* The report of a commit that happened is worth having even when it cannot be filled. */
    if (fill_report(r, imp->opts.bundle, &change, imp->keep, old, err) != 0)
        dbt_import_report_clear(r);
    report_counts(r, imp, &change, &cur);
end:
    dbt_catalog_change_clear(&change);
    dbt_catalog_txn_free(txn);
    dbt_bundle_free(old);
    return rc;
}

int dbt_import_remove(dbt_catalog *cat, const char *bundle, const char *sha256,
                      dbt_import_report *r, dbt_err *err)
{
    dbt_catalog_txn *txn = NULL;
    dbt_catalog_change change = {0};
    dbt_err perr;
    int rc = -1, crc;

    memset(r, 0, sizeof(*r));
    if (dbt_catalog_begin(cat, &txn, err) != 0 ||
        (bundle != NULL ? dbt_catalog_remove(txn, bundle, &change, err)
                        : dbt_catalog_remove_cert(txn, sha256, &change, err)) != 0 ||
        (crc = dbt_catalog_commit(txn, err)) < 0)
        goto end;
    if (bundle != NULL) {
        snprintf(r->bundle, sizeof(r->bundle), "%s", bundle);
        r->existed = 1;
        r->count = change.nremoved;
    } else {
        if (dbt_catalog_parse_sha256(sha256, r->sha256, &perr) != 0)
            snprintf(r->sha256, sizeof(r->sha256), "%s", sha256);
        r->bundles = change.bundles; /* moved */
        r->nbundles = change.nbundles;
        change.bundles = NULL;
        change.nbundles = 0;
    }
    rc = crc;
end:
    dbt_catalog_change_clear(&change);
    dbt_catalog_txn_free(txn);
    return rc;
}
