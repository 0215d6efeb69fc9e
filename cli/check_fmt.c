/* dbtrust check: the catalog's expiry as a monitoring check. One pass collects every (bundle,
 * certificate) pair and the catalog's facts; text, JSON and Prometheus are three views of the
 * same collection, and the exit status is the Nagios plugin's (0 OK .. 3 UNKNOWN). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "fsutil.h"

/* The exit status and each certificate's level: the Nagios plugin return codes. */
enum { CK_OK = 0, CK_WARNING = 1, CK_CRITICAL = 2, CK_UNKNOWN = 3 };
static const char *const level_words[] = {"ok", "warning", "critical", "unknown"};

struct ck_cert {
    size_t bundle; /* index into ck.bundles */
    char sha256[65];
    char subject[512]; /* escaped by dbt_certinfo */
    int64_t not_after;
    long days;
    int expired;
    int level;      /* CK_OK, CK_WARNING or CK_CRITICAL, before the ignore rules */
    int superseded; /* a later certificate of the bundle has its subject and key */
    int ignored;    /* level does not count: superseded, or expired with --ignore-expired */
};

struct ck {
    int64_t now;
    long warn, crit; /* days; crit -1 when not given (then only expiry is critical) */
    int ignore_expired;
    const char *only; /* --bundle */
    dbt_catalog_entry *bundles;
    size_t nb;
    struct ck_cert *certs;
    size_t n, cap;
    /* the catalog's facts (whole catalog, whatever --bundle says) */
    char path[4096];
    unsigned long long gen;
    int64_t gen_time;
    size_t nbundles, ncerts;
    int status;       /* CK_* */
    int read_ok;      /* the catalog was read in full */
    size_t count[3];  /* counted certificates per level */
    size_t ncritexp;  /* of count[CK_CRITICAL], the expired ones */
    size_t nignored;  /* certificates at warning or critical that do not count */
    char error[1024]; /* why the check could not run (unescaped) */
};

/* Says why the check could not run, on standard error and in ck->error for the output. */
static void ck_fail(struct ck *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ck_fail(struct ck *ck, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ck->error, sizeof(ck->error), fmt, ap);
    va_end(ap);
    cli_error("%s", ck->error);
}

static void iso_time(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---------------------------------------------------------------- collecting */

/* One certificate of a bundle being read, for the successor rule. */
struct ck_key {
    size_t row;
    unsigned long subject_hash;
    unsigned char key[EVP_MAX_MD_SIZE]; /* SHA-256 of the public key (SubjectPublicKeyInfo) */
    int64_t not_before, not_after;
    X509 *x;
};

static int cmp_key(const void *a, const void *b)
{
    const struct ck_key *x = a, *y = b;
    int c;

    if (x->subject_hash != y->subject_hash)
        return x->subject_hash < y->subject_hash ? -1 : 1;
    if ((c = memcmp(x->key, y->key, 32)) != 0)
        return c;
    if (x->not_after != y->not_after)
        return x->not_after < y->not_after ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/*
 * A renewed CA (same subject, same key, later notAfter) keeps every chain of the old one
 * verifiable: OpenSSL picks the issuer that is valid now. So a certificate whose bundle also
 * holds the latest-expiring certificate of its subject and key, valid from before it expires
 * (or, once it has expired, valid now), is superseded: its expiry changes nothing and does not
 * count. Sorted by (subject hash, key
 * digest, notAfter), each group's last entry is that successor; names are compared as
 * X509_NAME_cmp does, only against it. Work: one sort of the bundle, one comparison a row.
 */
static void mark_superseded(struct ck *ck, struct ck_key *k, size_t n)
{
    size_t i, j;

    if (n < 2)
        return;
    qsort(k, n, sizeof(*k), cmp_key);
    for (i = 0; i < n; i = j) {
        for (j = i + 1;
             j < n && k[j].subject_hash == k[i].subject_hash && memcmp(k[j].key, k[i].key, 32) == 0;
             j++)
            ;
        const struct ck_key *last = &k[j - 1];
        for (size_t m = i; m + 1 < j; m++)
            if (last->not_after > k[m].not_after &&
                last->not_before <= (k[m].not_after > ck->now ? k[m].not_after : ck->now) &&
                X509_NAME_cmp(X509_get_subject_name(last->x), X509_get_subject_name(k[m].x)) == 0)
                ck->certs[k[m].row].superseded = 1;
    }
}

static int level_of(const struct ck *ck, const dbt_certinfo *ci, long days)
{
    if (ci->not_after < ck->now || (ck->crit >= 0 && days < ck->crit))
        return CK_CRITICAL;
    return days < ck->warn ? CK_WARNING : CK_OK;
}

static int add_bundle(struct ck *ck, size_t bi, dbt_catalog *cat)
{
    const char *name = ck->bundles[bi].name;
    struct ck_key *keys = NULL;
    dbt_bundle *b = NULL;
    dbt_certinfo ci;
    dbt_err err;
    int rc = -1;

    if (dbt_catalog_load(cat, name, &b, &err) != 0) {
        ck_fail(ck, "%s", err.msg);
        return -1;
    }
    if (b->n > 0 && (keys = calloc(b->n, sizeof(*keys))) == NULL)
        goto oom;
    if (ck->n + b->n > ck->cap) {
        size_t cap = ck->cap ? ck->cap : 64;
        while (cap < ck->n + b->n)
            cap *= 2;
        struct ck_cert *nc = realloc(ck->certs, cap * sizeof(*nc));
        if (nc == NULL)
            goto oom;
        ck->certs = nc;
        ck->cap = cap;
    }
    for (size_t j = 0; j < b->n; j++) {
        struct ck_cert *c = &ck->certs[ck->n];
        unsigned int len = 0;

        if (dbt_certinfo_get(b->certs[j].x509, &ci, &err) != 0) {
            ck_fail(ck, "certificate %zu of bundle '%s' in %s: %s", j + 1, name,
                    dbt_catalog_path(cat), err.msg);
            goto end;
        }
        if (X509_pubkey_digest(b->certs[j].x509, EVP_sha256(), keys[j].key, &len) != 1 ||
            len != 32) {
            ck_fail(ck, "certificate %zu of bundle '%s' in %s: cannot hash its public key", j + 1,
                    name, dbt_catalog_path(cat));
            goto end;
        }
        memset(c, 0, sizeof(*c));
        c->bundle = bi;
        memcpy(c->sha256, ci.sha256, sizeof(c->sha256));
        memcpy(c->subject, ci.subject, sizeof(c->subject));
        c->not_after = ci.not_after;
        c->days = dbt_days_left(ci.not_after, ck->now);
        c->expired = ci.not_after < ck->now;
        c->level = level_of(ck, &ci, c->days);
        keys[j].row = ck->n;
        keys[j].subject_hash = ci.subject_hash;
        keys[j].not_before = ci.not_before;
        keys[j].not_after = ci.not_after;
        keys[j].x = b->certs[j].x509;
        ck->n++;
    }
    mark_superseded(ck, keys, b->n);
    rc = 0;
    goto end;
oom:
    ck_fail(ck, "out of memory");
end:
    free(keys);
    dbt_bundle_free(b);
    return rc;
}

/* Reads the catalog: its facts, then every bundle (or the one asked for). 0, or -1 after
 * ck_fail. */
static int collect(struct ck *ck)
{
    char buf[4096];
    const char *path = cli_catalog_opt;
    dbt_catalog *cat = NULL;
    dbt_catalog_cert *idx = NULL;
    size_t nidx = 0, found = 0;
    dbt_err err;
    int rc = -1;

    if (path == NULL && (path = dbt_catalog_default_path(buf, sizeof(buf))) == NULL) {
        ck_fail(ck, "cannot find a catalog location: set --catalog DIR or DBTRUST_CATALOG");
        return -1;
    }
    if (dbt_catalog_open(path, DBT_CAT_READ, &cat, &err) != 0) {
        ck_fail(ck, "%s", cli_err_text(&err, NULL));
        return -1;
    }
    snprintf(ck->path, sizeof(ck->path), "%s", dbt_catalog_path(cat));
    ck->gen = dbt_catalog_generation(cat);
    if (dbt_catalog_generation_time(cat, &ck->gen_time, &err) != 0 ||
        dbt_catalog_list(cat, &ck->bundles, &ck->nb, &err) != 0 ||
        dbt_catalog_certs(cat, &idx, &nidx, &err) != 0) {
        ck_fail(ck, "%s", err.msg);
        goto end;
    }
    /* What the provider and the hashed view read must be sound too: a damaged certificate
     * file makes the check unknown, not OK ('verify' says all that is wrong). */
    for (size_t i = 0; i < nidx; i++)
        if (dbt_catalog_check_cert(cat, idx[i].sha256, &err) != 0) {
            ck_fail(ck, "%s ('%s verify' checks the whole catalog)", err.msg, cli_progname);
            goto end;
        }
    ck->nbundles = ck->nb;
    ck->ncerts = nidx;
    for (size_t i = 0; i < ck->nb; i++) {
        int64_t t;

        if (ck->only != NULL && strcmp(ck->only, ck->bundles[i].name) != 0)
            continue;
        found++;
        if ((ck->bundles[i].meta.imported[0] != '\0' &&
             dbt_catalog_meta_time(ck->bundles[i].meta.imported, &t) != 0) ||
            (ck->bundles[i].meta.refreshed[0] != '\0' &&
             dbt_catalog_meta_time(ck->bundles[i].meta.refreshed, &t) != 0)) {
            ck_fail(ck,
                    "%s/bundles/%s.meta: a time is not in the form dbtrust writes ('%s verify' "
                    "checks the whole catalog)",
                    ck->path, ck->bundles[i].name, cli_progname);
            goto end;
        }
        if (add_bundle(ck, i, cat) != 0)
            goto end;
    }
    if (ck->only != NULL && found == 0) {
        ck_fail(ck, "catalog %s has no bundle named '%s': '%s list' shows the bundles", ck->path,
                ck->only, cli_progname);
        goto end;
    }
    rc = 0;
end:
    dbt_catalog_certs_free(idx, nidx);
    dbt_catalog_close(cat);
    return rc;
}

static void judge(struct ck *ck)
{
    ck->status = CK_OK;
    for (size_t i = 0; i < ck->n; i++) {
        struct ck_cert *c = &ck->certs[i];

        if (c->level == CK_OK)
            continue;
        c->ignored = c->superseded || (ck->ignore_expired && c->expired);
        if (c->ignored) {
            ck->nignored++;
            continue;
        }
        ck->count[c->level]++;
        if (c->level == CK_CRITICAL && c->expired)
            ck->ncritexp++;
        if (c->level > ck->status)
            ck->status = c->level;
    }
}

/* ---------------------------------------------------------------- text */

static const char *cert_word(const struct ck_cert *c, char *buf, size_t n)
{
    char st[64];
    const char *w = cli_status_word(c->expired ? DBT_CERT_EXPIRED : DBT_CERT_EXPIRING, c->days,
                                    CLI_STATUS_LIST, st, sizeof(st));

    snprintf(buf, n, "%s%s", w, c->superseded ? " (superseded)" : c->ignored ? " (ignored)" : "");
    return buf;
}

static void out_text(const struct ck *ck, FILE *f)
{
    char w[96], na[32];
    size_t crit_soon = ck->count[CK_CRITICAL] - ck->ncritexp;

    if (!ck->read_ok) {
        fprintf(f, "unknown: %s\n", cli_esc(ck->error));
        return;
    }
    if (ck->status == CK_OK) {
        fprintf(f, "ok: no certificate expires within %ld days", ck->warn);
        if (ck->nignored > 0)
            fprintf(f, " (%zu expired or expiring certificate%s ignored, listed below)",
                    ck->nignored, ck->nignored == 1 ? "" : "s");
        fputc('\n', f);
    } else {
        const char *sep = "";

        fprintf(f, "%s: ", level_words[ck->status]);
        if (ck->ncritexp > 0) {
            fprintf(f, "%zu certificate%s expired", ck->ncritexp, ck->ncritexp == 1 ? "" : "s");
            sep = ", ";
        }
        if (crit_soon > 0) {
            fprintf(f, "%s%zu expire%s within %ld days", sep, crit_soon, crit_soon == 1 ? "s" : "",
                    ck->crit);
            sep = ", ";
        }
        if (ck->count[CK_WARNING] > 0)
            fprintf(f, "%s%zu expire%s within %ld days", sep, ck->count[CK_WARNING],
                    ck->count[CK_WARNING] == 1 ? "s" : "", ck->warn);
        if (ck->nignored > 0)
            fprintf(f, " (%zu more ignored)", ck->nignored);
        fputc('\n', f);
    }
    /* status, bundle, notAfter, SHA-256, subject (escaped by dbt_certinfo) */
    for (size_t i = 0; i < ck->n; i++) {
        const struct ck_cert *c = &ck->certs[i];

        if (c->level == CK_OK)
            continue;
        iso_time(c->not_after, na, sizeof(na));
        fprintf(f, "%s  %s  %s  %s  %s\n", cert_word(c, w, sizeof(w)),
                cli_esc(ck->bundles[c->bundle].name), na, c->sha256, c->subject);
    }
}

/* ---------------------------------------------------------------- JSON */

static json_t *json_time(const char *iso, int stamp)
{
    int64_t t;

    if (iso[0] == '\0' || dbt_catalog_meta_time(iso, &t) != 0)
        return json_null();
    return stamp ? json_integer((json_int_t)t) : cli_json_str(iso);
}

static json_t *build_json(const struct ck *ck)
{
    json_t *o = json_object(), *a, *cat;
    char t[32];
    int bad = o == NULL;

    bad |= json_object_set_new(o, "status", json_string(level_words[ck->status])) != 0;
    bad |= json_object_set_new(o, "exit_status", json_integer(ck->status)) != 0;
    bad |= json_object_set_new(o, "check_success", json_boolean(ck->read_ok)) != 0;
    bad |= json_object_set_new(o, "time", json_integer((json_int_t)ck->now)) != 0;
    bad |= json_object_set_new(o, "warn_days", json_integer(ck->warn)) != 0;
    bad |= json_object_set_new(o, "crit_days",
                               ck->crit >= 0 ? json_integer(ck->crit) : json_null()) != 0;
    bad |= json_object_set_new(o, "ignore_expired", json_boolean(ck->ignore_expired)) != 0;
    if (!ck->read_ok) {
        bad |= json_object_set_new(o, "error", cli_json_str(ck->error)) != 0;
        if (bad) {
            json_decref(o);
            return NULL;
        }
        return o;
    }
    cat = json_object();
    bad |= cat == NULL || json_object_set_new(o, "catalog", cat) != 0;
    if (bad) {
        json_decref(o);
        return NULL;
    }
    iso_time(ck->gen_time, t, sizeof(t));
    bad |= json_object_set_new(cat, "path", cli_json_str(ck->path)) != 0;
    bad |= json_object_set_new(cat, "generation", json_integer((json_int_t)ck->gen)) != 0;
    bad |= json_object_set_new(cat, "generation_time", json_string(t)) != 0;
    bad |= json_object_set_new(cat, "generation_timestamp", json_integer(ck->gen_time)) != 0;
    bad |= json_object_set_new(cat, "bundles", json_integer((json_int_t)ck->nbundles)) != 0;
    bad |= json_object_set_new(cat, "certificates", json_integer((json_int_t)ck->ncerts)) != 0;

    a = json_array();
    bad |= a == NULL || json_object_set_new(o, "bundles", a) != 0;
    for (size_t i = 0; !bad && i < ck->nb; i++) {
        const dbt_catalog_meta *m = &ck->bundles[i].meta;
        json_t *b = json_object();

        if (ck->only != NULL && strcmp(ck->only, ck->bundles[i].name) != 0) {
            json_decref(b);
            continue;
        }
        bad |= b == NULL || json_array_append_new(a, b) != 0;
        if (bad)
            break;
        bad |= json_object_set_new(b, "name", cli_json_str(ck->bundles[i].name)) != 0;
        bad |= json_object_set_new(b, "source", cli_json_str(m->source)) != 0;
        bad |= json_object_set_new(b, "scope", cli_scope_json(m->scope)) != 0;
        bad |= json_object_set_new(b, "certificates", json_integer((json_int_t)m->count)) != 0;
        bad |= json_object_set_new(b, "imported", json_time(m->imported, 0)) != 0;
        bad |= json_object_set_new(b, "imported_timestamp", json_time(m->imported, 1)) != 0;
        bad |= json_object_set_new(b, "refreshed", json_time(m->refreshed, 0)) != 0;
        bad |= json_object_set_new(b, "refreshed_timestamp", json_time(m->refreshed, 1)) != 0;
    }

    a = json_array();
    bad |= a == NULL || json_object_set_new(o, "certificates", a) != 0;
    for (size_t i = 0; !bad && i < ck->n; i++) {
        const struct ck_cert *c = &ck->certs[i];
        json_t *e = json_object();
        char w[96];

        bad |= e == NULL || json_array_append_new(a, e) != 0;
        if (bad)
            break;
        iso_time(c->not_after, t, sizeof(t));
        bad |= json_object_set_new(e, "bundle", cli_json_str(ck->bundles[c->bundle].name)) != 0;
        bad |= json_object_set_new(e, "subject", cli_json_str(c->subject)) != 0;
        bad |= json_object_set_new(e, "sha256", json_string(c->sha256)) != 0;
        bad |= json_object_set_new(e, "not_after", json_string(t)) != 0;
        bad |= json_object_set_new(e, "not_after_timestamp", json_integer(c->not_after)) != 0;
        bad |= json_object_set_new(e, "seconds_left", json_integer(c->not_after - ck->now)) != 0;
        bad |= json_object_set_new(e, "days_left", json_integer(c->days)) != 0;
        bad |= json_object_set_new(
                   e, "status",
                   json_string(c->level == CK_OK ? "ok" : cert_word(c, w, sizeof(w)))) != 0;
        bad |= json_object_set_new(e, "level", json_string(level_words[c->level])) != 0;
        bad |= json_object_set_new(e, "superseded", json_boolean(c->superseded)) != 0;
        bad |= json_object_set_new(e, "ignored", json_boolean(c->ignored)) != 0;
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int out_json(const struct ck *ck, FILE *f)
{
    json_t *o = build_json(ck);
    char *s;
    int rc = -1;

    if (o == NULL)
        return -1;
    /* As cli_json_print: DEL and the C1 controls (which jansson writes raw) never reach here,
     * since every string went through cli_json_str or is ASCII. */
    s = json_dumps(o, JSON_INDENT(2));
    if (s != NULL) {
        fputs(s, f);
        fputc('\n', f);
        rc = 0;
    }
    free(s);
    json_decref(o);
    return rc;
}

/* ---------------------------------------------------------------- Prometheus */

/* A label value of the text exposition format 0.0.4: s escaped for display first (one line of
 * valid UTF-8), then backslash, double quote and newline escaped as the format requires. */
static void prom_label(FILE *f, const char *name, const char *s, int last)
{
    fprintf(f, "%s=\"", name);
    for (const char *p = cli_esc(s); *p != '\0'; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '"')
            fputs("\\\"", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fputs(last ? "\"" : "\",", f);
}

static void prom_head(FILE *f, const char *name, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void prom_cert_labels(FILE *f, const struct ck *ck, const struct ck_cert *c)
{
    fputc('{', f);
    prom_label(f, "bundle", ck->bundles[c->bundle].name, 0);
    prom_label(f, "sha256", c->sha256, 0);
    prom_label(f, "subject", c->subject, 1);
    fputc('}', f);
}

static int wanted(const struct ck *ck, size_t i)
{
    return ck->only == NULL || strcmp(ck->only, ck->bundles[i].name) == 0;
}

static void out_prom(const struct ck *ck, FILE *f)
{
    size_t i;
    int64_t t;

    prom_head(f, "dbtrust_check_success",
              "1 when the check read the whole catalog, 0 when it could not (then no other "
              "dbtrust_ metric but dbtrust_check_status is written).");
    fprintf(f, "dbtrust_check_success %d\n", ck->read_ok);
    prom_head(f, "dbtrust_check_status",
              "The check's result as its exit status: 0 ok, 1 warning, 2 critical, 3 unknown.");
    fprintf(f, "dbtrust_check_status %d\n", ck->status);
    if (!ck->read_ok)
        return;

    prom_head(f, "dbtrust_catalog_generation_timestamp_seconds",
              "When the catalog's current generation was committed (its directory's "
              "modification time), as a Unix time.");
    fprintf(f, "dbtrust_catalog_generation_timestamp_seconds %lld\n", (long long)ck->gen_time);
    prom_head(f, "dbtrust_catalog_generation", "Number of the catalog's current generation.");
    fprintf(f, "dbtrust_catalog_generation %llu\n", ck->gen);
    prom_head(f, "dbtrust_catalog_bundles", "Bundles in the catalog.");
    fprintf(f, "dbtrust_catalog_bundles %zu\n", ck->nbundles);
    prom_head(f, "dbtrust_catalog_certificates",
              "Distinct certificates in the catalog (one held by several bundles counts once).");
    fprintf(f, "dbtrust_catalog_certificates %zu\n", ck->ncerts);

    prom_head(f, "dbtrust_bundle_info",
              "A bundle of the catalog; source is the known source it was fetched from (empty "
              "when imported from a file), scope the names it is trusted for (empty: all).");
    for (i = 0; i < ck->nb; i++)
        if (wanted(ck, i)) {
            fputs("dbtrust_bundle_info{", f);
            prom_label(f, "bundle", ck->bundles[i].name, 0);
            prom_label(f, "source", ck->bundles[i].meta.source, 0);
            prom_label(f, "scope", ck->bundles[i].meta.scope, 1);
            fputs("} 1\n", f);
        }
    prom_head(f, "dbtrust_bundle_certificates", "Certificates in the bundle.");
    for (i = 0; i < ck->nb; i++)
        if (wanted(ck, i)) {
            fputs("dbtrust_bundle_certificates{", f);
            prom_label(f, "bundle", ck->bundles[i].name, 1);
            fprintf(f, "} %zu\n", ck->bundles[i].meta.count);
        }
    prom_head(f, "dbtrust_bundle_imported_timestamp_seconds",
              "When the bundle was last imported, fetched or refreshed with a change, as a "
              "Unix time.");
    for (i = 0; i < ck->nb; i++)
        if (wanted(ck, i) && dbt_catalog_meta_time(ck->bundles[i].meta.imported, &t) == 0) {
            fputs("dbtrust_bundle_imported_timestamp_seconds{", f);
            prom_label(f, "bundle", ck->bundles[i].name, 1);
            fprintf(f, "} %lld\n", (long long)t);
        }
    prom_head(f, "dbtrust_bundle_refreshed_timestamp_seconds",
              "When the bundle was last refreshed successfully from its source, changed or not, "
              "as a Unix time; no sample for a bundle never refreshed (see "
              "dbtrust_bundle_imported_timestamp_seconds).");
    for (i = 0; i < ck->nb; i++)
        if (wanted(ck, i) && dbt_catalog_meta_time(ck->bundles[i].meta.refreshed, &t) == 0) {
            fputs("dbtrust_bundle_refreshed_timestamp_seconds{", f);
            prom_label(f, "bundle", ck->bundles[i].name, 1);
            fprintf(f, "} %lld\n", (long long)t);
        }

    prom_head(f, "dbtrust_certificate_not_after_timestamp_seconds",
              "The certificate's notAfter, as a Unix time; one series per bundle holding it.");
    for (i = 0; i < ck->n; i++) {
        fputs("dbtrust_certificate_not_after_timestamp_seconds", f);
        prom_cert_labels(f, ck, &ck->certs[i]);
        fprintf(f, " %lld\n", (long long)ck->certs[i].not_after);
    }
    prom_head(f, "dbtrust_certificate_expiry_seconds",
              "Seconds from the check until the certificate's notAfter, negative once expired.");
    for (i = 0; i < ck->n; i++) {
        fputs("dbtrust_certificate_expiry_seconds", f);
        prom_cert_labels(f, ck, &ck->certs[i]);
        fprintf(f, " %lld\n", (long long)(ck->certs[i].not_after - ck->now));
    }
    prom_head(f, "dbtrust_certificate_superseded",
              "1 when the same bundle holds a certificate with the same subject and key that "
              "expires later (this one's expiry then changes no chain), else 0.");
    for (i = 0; i < ck->n; i++) {
        fputs("dbtrust_certificate_superseded", f);
        prom_cert_labels(f, ck, &ck->certs[i]);
        fprintf(f, " %d\n", ck->certs[i].superseded);
    }
}

/* ---------------------------------------------------------------- the command */

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] check [--warn DAYS] [--crit DAYS] [--bundle NAME]\n"
            "                                     [--ignore-expired]\n"
            "                                     [--format text|json|prometheus] [--output FILE]\n"
            "\n"
            "Checks the expiry of every certificate of the catalog, for monitoring. The text\n"
            "format prints one status line ('ok: ...', 'warning: ...', 'critical: ...',\n"
            "'unknown: ...'), then each expired or expiring certificate: status, bundle,\n"
            "notAfter, SHA-256, subject. A certificate is superseded, and never counts, when its\n"
            "bundle holds a later-expiring certificate with the same subject and key.\n\n"
            "  -w, --warn DAYS        warning when a certificate expires within DAYS days\n"
            "  -d, --days DAYS        the same as --warn (default 30)\n"
            "  -c, --crit DAYS        critical when one expires within DAYS days (default:\n"
            "                         critical only once expired)\n"
            "  -b, --bundle NAME      only this bundle\n"
            "      --ignore-expired   expired certificates do not count (still listed)\n"
            "  -f, --format FORMAT    text (default), json (one object), or prometheus (text\n"
            "                         exposition format 0.0.4, for node_exporter's textfile\n"
            "                         collector)\n"
            "      --json             the same as --format json\n"
            "  -o, --output FILE      write to FILE atomically (a temporary file beside it,\n"
            "                         fsync, rename), over a regular file or nothing only;\n"
            "                         '-' is standard output (the default)\n"
            "  -h, --help             show this help\n\n"
            "Exit status (the Nagios plugin convention):\n"
            "  0  OK: no counted certificate expires within the warning window\n"
            "  1  WARNING: one expires within --warn DAYS\n"
            "  2  CRITICAL: one is expired, or expires within --crit DAYS\n"
            "  3  UNKNOWN: the check could not run: a wrong command line, a missing, unsafe\n"
            "     or damaged catalog, no such bundle, or the output not written\n");
}

static int parse_days(const char *s, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 1000000) {
        cli_error("'%s' is not a number of days (0 to 1000000)", s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The whole output to standard output or, atomically, to path. 0, or -1 after the error. */
static int emit(const char *path, const char *data, size_t len)
{
    dbt_err err;

    if (path == NULL || strcmp(path, "-") == 0) {
        if (len > 0 && fwrite(data, 1, len, stdout) != len) {
            cli_stdout_error(errno);
            return -1;
        }
        return cli_stdout_flush();
    }
    /* Only a regular file or nothing is replaced: node_exporter must never read half a file,
     * and a link, FIFO or device named by mistake is refused rather than written through. */
    if (dbt_fs_write_atomic(path, data, len, DBT_FILE_MODE, &err) != 0) {
        cli_error("%s; nothing was written, the old file is kept", err.msg);
        return -1;
    }
    return 0;
}

int cli_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"warn", required_argument, NULL, 'w'},     {"days", required_argument, NULL, 'd'},
        {"crit", required_argument, NULL, 'c'},     {"bundle", required_argument, NULL, 'b'},
        {"ignore-expired", no_argument, NULL, 'I'}, {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},           {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct ck ck;
    const char *format = "text", *output = NULL;
    char *data = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int c, rc = CK_UNKNOWN;

    memset(&ck, 0, sizeof(ck));
    ck.now = (int64_t)time(NULL);
    ck.warn = 30;
    ck.crit = -1;
    while ((c = cli_getopt_long(argc, argv, "w:d:c:b:f:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
        case 'd':
            if (parse_days(optarg, &ck.warn) != 0)
                return CK_UNKNOWN;
            break;
        case 'c':
            if (parse_days(optarg, &ck.crit) != 0)
                return CK_UNKNOWN;
            break;
        case 'b':
            ck.only = optarg;
            break;
        case 'I':
            ck.ignore_expired = 1;
            break;
        case 'f':
            format = optarg;
            break;
        case 'j':
            format = "json";
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            check_usage(stdout);
            return CLI_OK;
        default:
            check_usage(stderr);
            return CK_UNKNOWN;
        }
    }
    if (optind != argc) {
        cli_error("check takes no arguments ('%s')", argv[optind]);
        return CK_UNKNOWN;
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
        strcmp(format, "prometheus") != 0) {
        cli_error("unknown format '%s': check writes text, json or prometheus", format);
        return CK_UNKNOWN;
    }
    if (output != NULL && output[0] == '\0') {
        cli_error("--output needs a file name ('-' is standard output)");
        return CK_UNKNOWN;
    }

    ck.read_ok = collect(&ck) == 0;
    if (ck.read_ok)
        judge(&ck);
    else
        ck.status = CK_UNKNOWN;

    /* Built whole in memory first, so that a file is replaced by a complete output or not at
     * all; a check that could not read the catalog still writes its result (success 0). */
    if ((f = open_memstream(&data, &len)) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    if (strcmp(format, "prometheus") == 0)
        out_prom(&ck, f);
    else if (strcmp(format, "json") == 0 && out_json(&ck, f) != 0) {
        fclose(f);
        f = NULL;
        cli_error("out of memory while writing JSON");
        goto end;
    } else if (strcmp(format, "text") == 0)
        out_text(&ck, f);
    if (fclose(f) != 0) {
        f = NULL;
        cli_error("out of memory");
        goto end;
    }
    f = NULL;
    if (emit(output, data, len) != 0)
        goto end;
    /* For cron: the summary on standard error too, as check always said it. */
    if (ck.read_ok && ck.status != CK_OK)
        fprintf(stderr, "%s: %zu certificate%s expired or expiring within %ld days\n",
                cli_esc(cli_progname), ck.count[CK_WARNING] + ck.count[CK_CRITICAL],
                ck.count[CK_WARNING] + ck.count[CK_CRITICAL] == 1 ? "" : "s",
                ck.crit > ck.warn ? ck.crit : ck.warn);
    rc = ck.status;
end:
    free(data);
    free(ck.bundles);
    free(ck.certs);
    return rc;
}
