/* Importing into the catalog: the one pipeline behind import, fetch and keytool -importcert
 * (decode each input, refuse restricted trust, filter by policy, then one transaction), and the
 * one removal behind remove and keytool -delete. Both return what changed, for the report. */
#ifndef DBT_IMPORT_H
#define DBT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "error.h"

/* What happens to a certificate that is not a CA. */
enum dbt_import_leaf {
    DBT_IMPORT_LEAF_SKIP,  /* left out, with an event */
    DBT_IMPORT_LEAF_ALLOW, /* imported */
    DBT_IMPORT_LEAF_REFUSE /* the whole import is refused (a download that is not a CA bundle) */
};

struct dbt_import_report;

typedef struct dbt_import_opts {
    const char *bundle;   /* the bundle to create or replace */
    const char *password; /* of PKCS#12 and JKS inputs, or NULL */
    const char *origin;   /* recorded as the origin instead of each input's source, or NULL */
    int leaf;             /* enum dbt_import_leaf */
    int skip_expired;     /* 1: expired certificates are left out; 0: imported, with an event */
    int keep_alias;       /* 1: the catalog gets each certificate's alias (friendly name) */
    int64_t now;          /* what "expired" is measured against; 0: the current time */
    /* Canonical scope text (lib/scope.h dbt_scope_add) recorded with the bundle: the host names
     * and IP ranges OpenSSL's default trust accepts its CAs for. NULL: the bundle keeps the scope
     * it has (none when new); "": explicitly unscoped. */
    const char *scope;
    /* Recorded as the .meta's source= and refreshed= (lib/catalog.h): the known source a
     * download came from and when it succeeded (UTC, 2026-11-22T18:19:20Z). NULL: not recorded,
     * so that an import from a file clears what a download recorded. A download whose bytes are
     * the ones recorded (same sha256) keeps the bundle's imported= time. */
    const char *source;
    const char *refreshed;
    /* Called by dbt_import_commit under the writer lock, after the new state is computed and
     * before anything is written, with the report filled (r must not be NULL): 0 commits, any
     * other value leaves the catalog unchanged and dbt_import_commit returns DBT_IMPORT_REFUSED
     * (err as the check set it, if it did). NULL: always commits. */
    int (*check)(void *arg, const struct dbt_import_report *r, dbt_err *err);
    void *check_arg;
} dbt_import_opts;

enum dbt_import_event_kind {
    DBT_IMPORT_UNREADABLE,      /* why: the certificate's facts could not be read; refused */
    DBT_IMPORT_LEAF_SKIPPED,    /* not a CA, left out (DBT_IMPORT_LEAF_SKIP) */
    DBT_IMPORT_LEAF_REFUSED,    /* not a CA, the import refused (DBT_IMPORT_LEAF_REFUSE) */
    DBT_IMPORT_EXPIRED_SKIPPED, /* expired, left out (skip_expired) */
    DBT_IMPORT_EXPIRED_KEPT,    /* expired, imported all the same */
    DBT_IMPORT_EMPTY_INPUT      /* an input that holds no certificate */
};

/* One thing the caller says to the user. Strings are valid during the call only; subject is
 * escaped by lib/escape.h's rule, source is the caller's own text. */
typedef struct dbt_import_event {
    int kind;           /* enum dbt_import_event_kind */
    const char *source; /* the input, as given to dbt_import_add */
    size_t index;       /* 1-based position of the certificate in that input */
    int block, line;    /* where the decoder found it (line 0: not a text input) */
    const char *subject;
    int64_t not_after;
    const char *why; /* DBT_IMPORT_UNREADABLE only */
} dbt_import_event;

typedef void dbt_import_event_fn(void *arg, const dbt_import_event *ev);

/* A certificate the change added or removed; subject is NULL when it could not be found (the
 * old bundle could not be read), else escaped as dbt_certinfo's. */
typedef struct dbt_import_cert {
    char sha256[65];
    char *subject;
} dbt_import_cert;

/* What an import or a removal did. Clear it with dbt_import_report_clear. */
typedef struct dbt_import_report {
    char bundle[DBT_CATALOG_NAME_MAX + 1];
    size_t count; /* certificates the bundle holds now (the removed bundle: held) */
    int existed;  /* the bundle was there before */
    dbt_import_cert *added, *removed;
    size_t nadded, nremoved;
    size_t duplicates; /* certificates given twice, kept once */
    size_t seen;       /* certificates read from the inputs */
    size_t leaf;       /* left out: not a CA */
    size_t expired;    /* left out: expired */
    char sha256[65];   /* dbt_import_remove by fingerprint: the certificate, normalized */
    char (*bundles)[DBT_CATALOG_NAME_MAX + 1]; /* ... and the bundles that held it */
    size_t nbundles;
    char scope[4096];     /* the bundle's scope now ("" unscoped; lib/scope.h) */
    char old_scope[4096]; /* ... and before (a new bundle: "") */
} dbt_import_report;

void dbt_import_report_clear(dbt_import_report *r);

/* Returned by dbt_import_add besides 0 and -1 (err says why). */
#define DBT_IMPORT_E_DECODE                                                                        \
    (-2)                        /* the input could not be decoded: err is the decoder's, with      \
                                   its password hint (see lib/bundle.h) */
#define DBT_IMPORT_REFUSED (-3) /* a certificate refused the import; an event said why */

typedef struct dbt_import dbt_import;

/* An import into opts->bundle (checked here). ev (may be NULL) hears every event. The strings
 * of opts must outlive the import. NULL with err set. */
dbt_import *dbt_import_new(const dbt_import_opts *opts, dbt_import_event_fn *ev, void *arg,
                           dbt_err *err);
void dbt_import_free(dbt_import *imp);

/*
 * Decodes one input (len bytes, by content), refuses it when a certificate carries restricting
 * trust settings or comes from a keystore whose integrity was not verified, filters its
 * certificates by the policy and keeps the rest. The recorded SHA-256 covers the bytes of every
 * input in order; the recorded format is the inputs' one, or "mixed". Touches no catalog: every
 * input is checked before any catalog is opened or created. 0, -1, DBT_IMPORT_E_DECODE or
 * DBT_IMPORT_REFUSED; after a failure the import must only be freed.
 */
int dbt_import_add(dbt_import *imp, const char *source, const unsigned char *data, size_t len,
                   dbt_err *err);

/* Counts so far, to refuse an import that would keep nothing before opening the catalog. */
typedef struct dbt_import_counts {
    size_t inputs, seen, kept, leaf, expired;
} dbt_import_counts;
dbt_import_counts dbt_import_get_counts(const dbt_import *imp);

/*
 * Replaces (or creates) the bundle in one transaction: the meta records the digest, format and
 * origins. Returns what dbt_catalog_commit returns: 0 (r filled), -1 (the catalog is unchanged,
 * err says why) or DBT_CATALOG_COMMITTED_BEHIND (committed; the follower said why; r filled). r may
 * be NULL: no report is built (nor the old bundle read). With opts->check, also
 * DBT_IMPORT_REFUSED: the check refused it, nothing changed, r filled with what it would have
 * done (clear it with dbt_import_report_clear).
 */
int dbt_import_commit(dbt_import *imp, dbt_catalog *cat, dbt_import_report *r, dbt_err *err);

/* Removes a bundle (bundle not NULL) or one certificate (sha256, any form
 * dbt_catalog_parse_sha256 takes) from every bundle holding it, in one transaction. Returns as
 * dbt_import_commit; r gets count (bundle) or sha256 and bundles (certificate). */
int dbt_import_remove(dbt_catalog *cat, const char *bundle, const char *sha256,
                      dbt_import_report *r, dbt_err *err);

#endif
