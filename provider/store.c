/* dbtrust-store.so's OSSL_STORE loader for dbtrust:// URIs: a small state machine (as OpenSSL's
 * winstore loader) that answers subject, issuer+serial, fingerprint and alias searches. */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#include "certparts.h"
#include "prov.h"
#include "reader.h"

/* OpenSSL 3.2+ calls open_ex (with the search parameters) when a loader has it; 3.0 headers do
 * not name it and 3.0 ignores dispatch ids it does not know, so one table serves both. */
#ifndef OSSL_FUNC_STORE_OPEN_EX
#define OSSL_FUNC_STORE_OPEN_EX 10
typedef void *(OSSL_FUNC_store_open_ex_fn)(void *provctx, const char *uri,
                                           const OSSL_PARAM params[],
                                           OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg);
#endif

static OSSL_FUNC_store_open_fn dbt_store_open;
static OSSL_FUNC_store_open_ex_fn dbt_store_open_ex;
static OSSL_FUNC_store_settable_ctx_params_fn dbt_store_settable_ctx_params;
static OSSL_FUNC_store_set_ctx_params_fn dbt_store_set_ctx_params;
static OSSL_FUNC_store_load_fn dbt_store_load;
static OSSL_FUNC_store_eof_fn dbt_store_eof;
static OSSL_FUNC_store_close_fn dbt_store_close;

#define DBT_URI_HELP                                                                               \
    "use dbtrust:// for the whole catalog or dbtrust://<bundle> for one bundle (bundle names: "    \
    "1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.' or '-')"

/* Iteration state. READY holds one object for the next load(); ERROR holds one failure to
 * report from the next load(); eof() is true exactly in EOF. */
enum { ST_IDLE, ST_READY, ST_ERROR, ST_EOF };

/* The kinds of search: indices of kinds[], where each is described. */
enum { S_ALL, S_SUBJECT, S_ISSUER_SERIAL, S_SHA1, S_SHA256, S_ALIAS, S_NOTHING };

typedef struct search_kind search_kind;

typedef struct dbt_store {
    const dbt_provctx *pc;
    char bundle[DBT_NAME_MAX + 1]; /* dbtrust://<bundle>: every search stays inside it */
    dbt_reader rd;

    const search_kind *kind; /* the row of kinds[] set_ctx_params selected */
    X509_NAME *name;         /* subject, or issuer for S_ISSUER_SERIAL */
    unsigned long name_hash;
    ASN1_INTEGER *serial;
    char *serial_hex;
    unsigned char fp[32];
    char fp_hex[DBT_SHA256_HEX + 1];
    char alias[DBT_NAME_MAX + 1];
    int expect_other; /* asked for keys, CRLs...: the catalog holds only certificates */

    int state;
    int fatal; /* the pending error ends the iteration */
    int link_n;
    size_t idx_pos;
    char *bundle_buf;
    BIO *bundle_bio;
    int bundle_block;
    unsigned char *der;
    long derlen;
    int err_reason;
    dbt_err err;
} dbt_store;

static int parse_uri(const char *uri, char *bundle)
{
    const char *rest;

    if (strncasecmp(uri, "dbtrust:", 8) != 0)
        return 0;
    rest = uri + 8;
    if (strncmp(rest, "//", 2) != 0)
        return 0;
    rest += 2;
    bundle[0] = '\0';
    if (*rest == '\0')
        return 1;
    if (!dbt_reader_name_ok(rest, strlen(rest)))
        return 0;
    strcpy(bundle, rest);
    return 1;
}

static void fail(dbt_store *ctx, int reason, int fatal)
{
    ctx->err_reason = reason;
    /* An unsafe file ends the session: the catalog is refused whole, never served in part. */
    ctx->fatal = fatal || reason == DBT_R_UNSAFE_CATALOG;
    ctx->state = ST_ERROR;
}

/*
 * A search is one row of kinds[]: where its candidates come from and what each must pass before
 * load() hands it out. set_ctx_params only records the values searched for and selects the row;
 * advance() runs every row the same way:
 *   next     the next candidate: its certs/<sha256>.pem name into sha, or, for FROM_BUNDLE_FILE,
 *            its DER into ctx->der; 0 when there is none left, with the state (EOF or ERROR) set.
 *            NULL: the search finds nothing (its parameters could not be used).
 *   narrow   for candidates drawn from the index, whether a line can hold a match (NULL: all)
 *   flags    CHECK_LINKS: the search follows no hash link, so it checks them all once before it
 *            serves anything and refuses a catalog with a bad one as a command would (the open
 *            left the links to their use: provider/reader.c, check_catalog); a subject search
 *            checks each link it follows instead.
 *            FILTER_BUNDLE: the candidates do not come from the index, which then says whether
 *            each belongs to the URI's bundle (the index rows filter while they scan).
 *            FROM_BUNDLE_FILE: the candidates are the blocks of bundles/<alias>.pem, already DER:
 *            no certificate file is read, and a damaged one is named by its block.
 *   missing  what a candidate's missing certificate file means (MISSING_*; 0 when none is read)
 *   match    whether a certificate satisfies the search, which the hash or the index only
 *            narrowed down (NULL: every candidate does)
 * Function pointers stay few: each costs the module a relocation and an unwind entry.
 */
enum { CHECK_LINKS = 1, FILTER_BUNDLE = 2, FROM_BUNDLE_FILE = 4 };
enum {
    MISSING_SKIPS = 1, /* the search itself named the file (a SHA-256): not in the catalog */
    MISSING_DANGLING,  /* a hash link led there: the walk's error, which ends the session */
    MISSING_INDEXED,   /* the index lists it: the catalog is damaged; later candidates still come */
};

struct search_kind {
    int (*next)(dbt_store *ctx, char *sha);
    int (*narrow)(const dbt_store *ctx, const dbt_index_entry *e);
    unsigned char flags, missing;
    int (*match)(const dbt_store *ctx, const dbt_certparts *c);
};

/* The next index line that is in the URI's bundle and that the row's narrow() accepts. */
static int next_from_index(dbt_store *ctx, char *sha)
{
    int reason;

    if ((reason = dbt_reader_index(&ctx->rd, &ctx->err)) != 0) {
        fail(ctx, reason, 1);
        return 0;
    }
    while (ctx->idx_pos < ctx->rd.index_n) {
        const dbt_index_entry *e = &ctx->rd.index[ctx->idx_pos++];

        if (ctx->bundle[0] != '\0' && !dbt_index_in_bundle(e, ctx->bundle))
            continue;
        if (ctx->kind->narrow != NULL && !ctx->kind->narrow(ctx, e))
            continue;
        strcpy(sha, e->sha256);
        return 1;
    }
    ctx->state = ST_EOF;
    return 0;
}

/* The target of the next certs/<hash>.<n> link for the subject's hash. */
static int next_hash_link(dbt_store *ctx, char *sha)
{
    int reason;

    if (ctx->link_n >= DBT_MAX_HASH_CHAIN) {
        dbt_err_set(&ctx->err,
                    "%s/%s/certs has more than %d links for hash %08lx; the "
                    "catalog is damaged",
                    ctx->rd.catalog, ctx->rd.gen, DBT_MAX_HASH_CHAIN, ctx->name_hash);
        fail(ctx, DBT_R_CORRUPT_CATALOG, 1);
        return 0;
    }
    reason = dbt_reader_hash_link(&ctx->rd, ctx->name_hash, ctx->link_n++, sha, &ctx->err);
    if (reason != 0) {
        /* A link the walk would have refused: the catalog is refused whole here too. */
        fail(ctx, reason, 1);
        return 0;
    }
    if (sha[0] == '\0') {
        ctx->state = ST_EOF;
        return 0;
    }
    return 1;
}

/* A SHA-256 fingerprint names the one file that can hold it. */
static int next_sha256(dbt_store *ctx, char *sha)
{
    if (ctx->link_n++ != 0) {
        ctx->state = ST_EOF;
        return 0;
    }
    memcpy(sha, ctx->fp_hex, DBT_SHA256_HEX + 1);
    return 1;
}

/* The next block of bundles/<alias>.pem as DER; 0 with state EOF/ERROR when there is none. */
static int next_from_bundle(dbt_store *ctx, char *sha)
{
    char *pem_name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    size_t size;
    int reason, missing = 0, ok = 0;

    (void)sha;
    if (ctx->bundle_bio == NULL) {
        if ((ctx->bundle[0] != '\0' && strcmp(ctx->bundle, ctx->alias) != 0)) {
            ctx->state = ST_EOF;
            return 0;
        }
        reason =
            dbt_reader_bundle(&ctx->rd, ctx->alias, &ctx->bundle_buf, &size, &missing, &ctx->err);
        if (reason != 0) {
            fail(ctx, reason, 1);
            return 0;
        }
        if (missing) {
            ctx->state = ST_EOF;
            return 0;
        }
        if ((ctx->bundle_bio = BIO_new_mem_buf(ctx->bundle_buf, (int)size)) == NULL) {
            dbt_err_set(&ctx->err, "out of memory reading bundle %s", ctx->alias);
            fail(ctx, DBT_R_OUT_OF_MEMORY, 1);
            return 0;
        }
    }
    ctx->bundle_block++;
    ERR_set_mark();
    if (!PEM_read_bio(ctx->bundle_bio, &pem_name, &header, &data, &len)) {
        unsigned long e = ERR_peek_last_error();

        ERR_pop_to_mark();
        /* "No start line" is the end of the file; anything else is a damaged block. */
        if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
            ctx->state = ST_EOF;
        } else {
            dbt_err_set(&ctx->err,
                        "%s/%s/bundles/%s.pem block %d is not valid PEM; the "
                        "catalog is damaged: import the bundle again",
                        ctx->rd.catalog, ctx->rd.gen, ctx->alias, ctx->bundle_block);
            fail(ctx, DBT_R_CORRUPT_CATALOG, 1);
        }
        goto end;
    }
    ERR_pop_to_mark();
    if (strcmp(pem_name, "CERTIFICATE") != 0) {
        dbt_err_set(&ctx->err,
                    "%s/%s/bundles/%s.pem block %d is a %s, not a CERTIFICATE; the "
                    "catalog is damaged: import the bundle again",
                    ctx->rd.catalog, ctx->rd.gen, ctx->alias, ctx->bundle_block, pem_name);
        fail(ctx, DBT_R_CORRUPT_CATALOG, 1);
        goto end;
    }
    ctx->der = data;
    ctx->derlen = len;
    data = NULL;
    ok = 1;
end:
    OPENSSL_free(pem_name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    return ok;
}

static int narrow_issuer_serial(const dbt_store *ctx, const dbt_index_entry *e)
{
    return e->issuer_hash == ctx->name_hash && strcasecmp(e->serial, ctx->serial_hex) == 0;
}

static int narrow_sha1(const dbt_store *ctx, const dbt_index_entry *e)
{
    return strcasecmp(e->sha1, ctx->fp_hex) == 0;
}

/* Whether a certificate file belongs to the URI's bundle (the index says). */
static int in_bundle(dbt_store *ctx, const char *sha, int *yes)
{
    const dbt_index_entry *e;
    int reason;

    *yes = 1;
    if (ctx->bundle[0] == '\0')
        return 1;
    if ((reason = dbt_reader_index(&ctx->rd, &ctx->err)) != 0) {
        fail(ctx, reason, 1);
        return 0;
    }
    e = dbt_reader_find(&ctx->rd, sha);
    *yes = e != NULL && dbt_index_in_bundle(e, ctx->bundle);
    return 1;
}

/* The candidate's certificate file does not exist: 1 to go on to the next candidate, 0 after
 * fail(). */
static int missing_file(dbt_store *ctx, const search_kind *k, const char *sha)
{
    if (k->missing == MISSING_SKIPS)
        return 1;
    if (k->missing == MISSING_DANGLING) {
        /* The walk's message for a dangling hash link, which it left to this point. */
        dbt_err_set(&ctx->err,
                    "%s/%s/certs/%08lx.%d -> %s.pem does not lead to a regular "
                    "certificate file beside it: remove it (rm %s/%s/certs/%08lx.%d) "
                    "and import again",
                    ctx->rd.catalog, ctx->rd.gen, ctx->name_hash & 0xffffffffUL, ctx->link_n - 1,
                    sha, ctx->rd.catalog, ctx->rd.gen, ctx->name_hash & 0xffffffffUL,
                    ctx->link_n - 1);
        fail(ctx, DBT_R_CORRUPT_CATALOG, 1);
        return 0;
    }
    dbt_err_set(&ctx->err,
                "%s/%s/certs/%s.pem is missing but the catalog indexes it; the "
                "catalog is damaged: run dbtrust import again",
                ctx->rd.catalog, ctx->rd.gen, sha);
    fail(ctx, DBT_R_CORRUPT_CATALOG, 0);
    return 0;
}

/* A candidate that is not a valid X.509 certificate. */
static void bad_candidate(dbt_store *ctx, const search_kind *k, const char *sha)
{
    if (k->flags & FROM_BUNDLE_FILE)
        dbt_err_set(&ctx->err,
                    "%s/%s/bundles/%s.pem certificate %d is not a valid X.509 "
                    "certificate; the catalog is damaged: import the bundle again",
                    ctx->rd.catalog, ctx->rd.gen, ctx->alias, ctx->bundle_block);
    else
        dbt_err_set(&ctx->err,
                    "%s/%s/certs/%s.pem is not a valid X.509 certificate; the catalog "
                    "is damaged: run dbtrust import again",
                    ctx->rd.catalog, ctx->rd.gen, sha);
    fail(ctx, DBT_R_CORRUPT_CATALOG, 0);
}

static int match_subject(const dbt_store *ctx, const dbt_certparts *c)
{
    return dbt_certparts_name_eq(c->subject, c->subject_len, ctx->name);
}

static int match_issuer_serial(const dbt_store *ctx, const dbt_certparts *c)
{
    return ASN1_INTEGER_cmp(c->serial, ctx->serial) == 0 &&
           dbt_certparts_name_eq(c->issuer, c->issuer_len, ctx->name);
}

static int match_sha1(const dbt_store *ctx, const dbt_certparts *c)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    (void)c;
    return EVP_Digest(ctx->der, (size_t)ctx->derlen, md, &mdlen, EVP_sha1(), NULL) && mdlen == 20 &&
           memcmp(md, ctx->fp, 20) == 0;
}

static const search_kind kinds[] = {
    /* next, narrow, flags, missing, match */
    [S_ALL] = {next_from_index, NULL, CHECK_LINKS, MISSING_INDEXED, NULL},
    [S_SUBJECT] = {next_hash_link, NULL, FILTER_BUNDLE, MISSING_DANGLING, match_subject},
    [S_ISSUER_SERIAL] = {next_from_index, narrow_issuer_serial, CHECK_LINKS, MISSING_INDEXED,
                         match_issuer_serial},
    [S_SHA1] = {next_from_index, narrow_sha1, CHECK_LINKS, MISSING_INDEXED, match_sha1},
    [S_SHA256] = {next_sha256, NULL, CHECK_LINKS | FILTER_BUNDLE, MISSING_SKIPS, NULL},
    [S_ALIAS] = {next_from_bundle, NULL, CHECK_LINKS | FROM_BUNDLE_FILE, 0, NULL},
    [S_NOTHING] = {NULL, NULL, 0, 0, NULL},
};

static void reset_search(dbt_store *ctx)
{
    X509_NAME_free(ctx->name);
    ASN1_INTEGER_free(ctx->serial);
    OPENSSL_free(ctx->serial_hex);
    ctx->name = NULL;
    ctx->serial = NULL;
    ctx->serial_hex = NULL;
    ctx->kind = &kinds[S_ALL];
}

/* Back to the start of the result list (set_ctx_params restarts iteration). */
static void reset_iteration(dbt_store *ctx)
{
    OPENSSL_free(ctx->der);
    BIO_free(ctx->bundle_bio);
    OPENSSL_free(ctx->bundle_buf);
    ctx->der = NULL;
    ctx->derlen = 0;
    ctx->bundle_bio = NULL;
    ctx->bundle_buf = NULL;
    ctx->bundle_block = 0;
    ctx->link_n = 0;
    ctx->idx_pos = 0;
    ctx->fatal = 0;
    ctx->err_reason = 0;
    ctx->state = ST_IDLE;
}

static void *dbt_store_open(void *provctx, const char *uri)
{
    const dbt_provctx *pc = provctx;
    dbt_store *ctx = NULL;
    dbt_err err;
    int reason, found = 0;

    if ((ctx = OPENSSL_zalloc(sizeof(*ctx))) == NULL) {
        DBT_RAISE(pc, DBT_R_OUT_OF_MEMORY, "opening %s", uri);
        return NULL;
    }
    ctx->pc = pc;
    ctx->kind = &kinds[S_ALL];
    ctx->rd.gen_fd = ctx->rd.certs_fd = ctx->rd.bundles_fd = -1;
    if (!parse_uri(uri, ctx->bundle)) {
        DBT_RAISE(pc, DBT_R_BAD_URI, "\"%s\" is not a dbtrust store URI: " DBT_URI_HELP, uri);
        goto fail;
    }
    if ((reason = dbt_reader_open(&ctx->rd, pc->catalog, pc->checked, &err)) != 0) {
        DBT_RAISE(pc, reason, "%s: %s", uri, err.msg);
        goto fail;
    }
    if (ctx->bundle[0] != '\0') {
        if ((reason = dbt_reader_has_bundle(&ctx->rd, ctx->bundle, &found, &err)) != 0) {
            DBT_RAISE(pc, reason, "%s: %s", uri, err.msg);
            goto fail;
        }
        if (!found) {
            DBT_RAISE(pc, DBT_R_NO_SUCH_BUNDLE,
                      "%s: catalog %s has no bundle \"%s\"; dbtrust --catalog %s list shows the "
                      "bundles, dbtrust:// serves the whole catalog",
                      uri, pc->catalog, ctx->bundle, pc->catalog);
            goto fail;
        }
    }
    reset_iteration(ctx);
    return ctx;
fail:
    dbt_store_close(ctx);
    return NULL;
}

static void *dbt_store_open_ex(void *provctx, const char *uri, const OSSL_PARAM params[],
                               OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    void *ctx;

    /* Certificates need no passphrase. */
    (void)pw_cb;
    (void)pw_cbarg;
    if ((ctx = dbt_store_open(provctx, uri)) == NULL)
        return NULL;
    if (!dbt_store_set_ctx_params(ctx, params)) {
        dbt_store_close(ctx);
        return NULL;
    }
    return ctx;
}

static const OSSL_PARAM *dbt_store_settable_ctx_params(void *provctx)
{
    /* OpenSSL learns the supported searches from this list (OSSL_STORE_supports_search). */
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
        OSSL_PARAM_octet_string(OSSL_STORE_PARAM_SUBJECT, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_STORE_PARAM_ISSUER, NULL, 0),
        OSSL_PARAM_BN(OSSL_STORE_PARAM_SERIAL, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_STORE_PARAM_FINGERPRINT, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_ALIAS, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_PROPERTIES, NULL, 0),
        OSSL_PARAM_END,
    };
    (void)provctx;
    return settable;
}

static int get_name(dbt_store *ctx, const OSSL_PARAM *p, const char *what)
{
    const unsigned char *der = NULL, *q;
    size_t len = 0;
    int ok = 0;

    if (!OSSL_PARAM_get_octet_string_ptr(p, (const void **)&der, &len) || len > LONG_MAX) {
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH, "the %s search parameter is not an octet string",
                  what);
        return 0;
    }
    q = der;
    ERR_set_mark();
    ctx->name = d2i_X509_NAME(NULL, &q, (long)len);
    if (ctx->name == NULL || q != der + len) {
        ERR_pop_to_mark();
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH, "the %s to search for is not a DER X.509 name", what);
        return 0;
    }
    /* The hash names the certs/<hash>.<n> links; it needs SHA-1 from the default library
     * context, which a FIPS-only configuration may lack. */
    ctx->name_hash = X509_NAME_hash_ex(ctx->name, NULL, NULL, &ok);
    ERR_pop_to_mark();
    if (!ok) {
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH,
                  "cannot compute the %s hash (X509_NAME_hash_ex needs SHA-1 from a provider "
                  "of the default library context)",
                  what);
        return 0;
    }
    return 1;
}

/* storeutl passes EVP_MD_get0_name() ("SHA1", "SHA2-256"); people write the other spellings. */
static int digest_len(const char *name)
{
    static const char *const sha1[] = {"SHA1", "SHA-1"};
    static const char *const sha256[] = {"SHA2-256", "SHA-256", "SHA256"};
    size_t i;

    for (i = 0; i < sizeof(sha1) / sizeof(sha1[0]); i++)
        if (strcasecmp(name, sha1[i]) == 0)
            return 20;
    for (i = 0; i < sizeof(sha256) / sizeof(sha256[0]); i++)
        if (strcasecmp(name, sha256[i]) == 0)
            return 32;
    return 0;
}

static int set_fingerprint(dbt_store *ctx, const OSSL_PARAM *pfp, const OSSL_PARAM *pmd)
{
    static const char hex[] = "0123456789abcdef";
    const void *fp = NULL;
    const char *md = NULL;
    size_t len = 0, i;
    int want = 0;

    if (!OSSL_PARAM_get_octet_string_ptr(pfp, &fp, &len)) {
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH,
                  "the fingerprint search parameter is not an octet "
                  "string");
        return 0;
    }
    if (pmd != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(pmd, &md)) {
            DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH, "the digest search parameter is not a string");
            return 0;
        }
        if ((want = digest_len(md)) == 0) {
            DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH,
                      "fingerprints of digest %s are not indexed; use SHA-1 or SHA-256", md);
            return 0;
        }
    }
    /* Without a digest name the length tells SHA-1 from SHA-256. */
    if ((want != 0 && len != (size_t)want) || (len != 20 && len != 32)) {
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH,
                  "a %s fingerprint has %d bytes, this one has %zu; give the whole fingerprint",
                  want == 20   ? "SHA-1"
                  : want == 32 ? "SHA-256"
                               : "SHA-1 or SHA-256",
                  want != 0 ? want : 20, len);
        return 0;
    }
    memcpy(ctx->fp, fp, len);
    for (i = 0; i < len; i++) {
        ctx->fp_hex[2 * i] = hex[ctx->fp[i] >> 4];
        ctx->fp_hex[2 * i + 1] = hex[ctx->fp[i] & 15];
    }
    ctx->fp_hex[2 * len] = '\0';
    ctx->kind = &kinds[len == 20 ? S_SHA1 : S_SHA256];
    return 1;
}

static int set_issuer_serial(dbt_store *ctx, const OSSL_PARAM *piss, const OSSL_PARAM *pser)
{
    BIGNUM *bn = NULL;
    int ok = 0;

    if (piss == NULL || pser == NULL) {
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH,
                  "an issuer search needs both the issuer name and "
                  "the serial number");
        return 0;
    }
    if (!get_name(ctx, piss, "issuer"))
        return 0;
    if (!OSSL_PARAM_get_BN(pser, &bn) || (ctx->serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
        (ctx->serial_hex = BN_bn2hex(bn)) == NULL) {
        DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH, "the serial search parameter is not a number");
        goto end;
    }
    ctx->kind = &kinds[S_ISSUER_SERIAL];
    ok = 1;
end:
    BN_free(bn);
    return ok;
}

static int set_params(dbt_store *ctx, const OSSL_PARAM params[]);

/*
 * A search value that cannot be used (bad alias, unreadable name, wrong fingerprint length)
 * raises its error and leaves a search that finds nothing, but reports success: OpenSSL 3.0's
 * OSSL_STORE_open_ex closes the loader when set_ctx_params fails yet still returns a context,
 * and the host's next OSSL_STORE_eof() then crashes (found by fuzz_provider, reproduced with
 * an alias of ".bad"). An empty result plus an error on the queue never harms the host.
 */
static int dbt_store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    dbt_store *ctx = loaderctx;

    if (!set_params(ctx, params)) {
        /* The reason is on the error queue already; the first load() fails once more so that
         * programs which only look at load() results (storeutl) show it too. */
        reset_search(ctx);
        ctx->kind = &kinds[S_NOTHING];
        dbt_err_set(&ctx->err, "the search parameters above cannot be used: nothing is found");
        fail(ctx, DBT_R_BAD_SEARCH, 1);
    }
    return 1;
}

static int set_params(dbt_store *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p, *piss, *pser, *pfp, *palias;
    int expect;

    if (params == NULL)
        return 1;
    reset_iteration(ctx);

    if ((p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT)) != NULL) {
        if (!OSSL_PARAM_get_int(p, &expect)) {
            DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH, "the expect parameter is not an integer");
            return 0;
        }
        ctx->expect_other = expect != 0 && expect != OSSL_STORE_INFO_CERT;
    }

    p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SUBJECT);
    piss = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_ISSUER);
    pser = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_SERIAL);
    pfp = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_FINGERPRINT);
    palias = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_ALIAS);
    if (p == NULL && piss == NULL && pser == NULL && pfp == NULL && palias == NULL)
        return 1;

    /* A new criterion replaces the previous one. A criterion that cannot be used leaves a
     * search that finds nothing rather than falling back to listing everything. */
    reset_search(ctx);
    ctx->kind = &kinds[S_NOTHING];
    if (p != NULL) {
        if (!get_name(ctx, p, "subject"))
            return 0;
        ctx->kind = &kinds[S_SUBJECT];
    } else if (piss != NULL || pser != NULL) {
        return set_issuer_serial(ctx, piss, pser);
    } else if (pfp != NULL) {
        return set_fingerprint(ctx, pfp, OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_DIGEST));
    } else {
        /* OSSL_STORE_find passes the alias with its length and no terminating NUL. */
        const char *s = palias->data;
        size_t len = palias->data_size;

        if (palias->data_type != OSSL_PARAM_UTF8_STRING || s == NULL) {
            DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH, "the alias search parameter is not a string");
            return 0;
        }
        len = strnlen(s, len);
        if (!dbt_reader_name_ok(s, len)) {
            DBT_RAISE(ctx->pc, DBT_R_BAD_SEARCH,
                      "alias \"%.*s\" is not a bundle name (1-64 characters of A-Z a-z 0-9 . _ "
                      "-, not starting with '.' or '-')",
                      (int)(len > 80 ? 80 : len), s);
            return 0;
        }
        memcpy(ctx->alias, s, len);
        ctx->alias[len] = '\0';
        ctx->kind = &kinds[S_ALIAS];
    }
    return 1;
}

/* Moves to the next object the search yields: READY, ERROR or EOF. */
static void advance(dbt_store *ctx)
{
    const search_kind *k = ctx->kind;
    char sha[DBT_SHA256_HEX + 1];
    dbt_certparts parts = {NULL, NULL, 0, 0, NULL};
    int reason, missing, yes;

    OPENSSL_free(ctx->der);
    ctx->der = NULL;
    ctx->derlen = 0;
    if (ctx->state == ST_EOF)
        return;
    if (ctx->expect_other || k->next == NULL) {
        ctx->state = ST_EOF;
        return;
    }
    if ((k->flags & CHECK_LINKS) && (reason = dbt_reader_check_links(&ctx->rd, &ctx->err)) != 0) {
        fail(ctx, reason, 1);
        return;
    }
    for (;;) {
        dbt_certparts_free(&parts);
        OPENSSL_free(ctx->der);
        ctx->der = NULL;
        sha[0] = '\0';
        if (!k->next(ctx, sha))
            return;
        if (!(k->flags & FROM_BUNDLE_FILE)) {
            if (k->flags & FILTER_BUNDLE) {
                if (!in_bundle(ctx, sha, &yes))
                    return;
                if (!yes)
                    continue;
            }
            reason = dbt_reader_cert(&ctx->rd, sha, &ctx->der, &ctx->derlen, &missing, &ctx->err);
            if (reason != 0) {
                fail(ctx, reason, 0);
                return;
            }
            if (missing) {
                if (missing_file(ctx, k, sha))
                    continue;
                return;
            }
        }
        if (!dbt_certparts_get(ctx->der, ctx->derlen, &parts)) {
            bad_candidate(ctx, k, sha);
            return;
        }
        if (k->match == NULL || k->match(ctx, &parts)) {
            dbt_certparts_free(&parts);
            ctx->state = ST_READY;
            return;
        }
    }
}

static int dbt_store_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                          OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    dbt_store *ctx = loaderctx;
    OSSL_PARAM params[4];
    int type = OSSL_OBJECT_CERT, ret;

    (void)pw_cb;
    (void)pw_cbarg;
    if (ctx->state == ST_IDLE)
        advance(ctx);
    if (ctx->state == ST_ERROR) {
        DBT_RAISE(ctx->pc, ctx->err_reason, "%s", ctx->err.msg);
        if (ctx->fatal) {
            ctx->state = ST_EOF;
        } else {
            ctx->state = ST_IDLE;
            advance(ctx);
        }
        return 0;
    }
    if (ctx->state != ST_READY)
        return 0;

    /* One object per call: OpenSSL keeps only the first callback's object. */
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, "CERTIFICATE", 0);
    params[2] =
        OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, ctx->der, (size_t)ctx->derlen);
    params[3] = OSSL_PARAM_construct_end();
    ret = object_cb(params, object_cbarg);
    advance(ctx);
    return ret;
}

static int dbt_store_eof(void *loaderctx)
{
    dbt_store *ctx = loaderctx;

    /* Looking ahead here is what makes eof() exact: OpenSSL asks before every load(). */
    if (ctx->state == ST_IDLE)
        advance(ctx);
    return ctx->state == ST_EOF;
}

static int dbt_store_close(void *loaderctx)
{
    dbt_store *ctx = loaderctx;

    if (ctx == NULL)
        return 1;
    reset_iteration(ctx);
    reset_search(ctx);
    dbt_reader_close(&ctx->rd);
    OPENSSL_free(ctx);
    return 1;
}

const OSSL_DISPATCH dbt_store_functions[] = {
    {OSSL_FUNC_STORE_OPEN, (void (*)(void))dbt_store_open},
    {OSSL_FUNC_STORE_OPEN_EX, (void (*)(void))dbt_store_open_ex},
    {OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))dbt_store_settable_ctx_params},
    {OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))dbt_store_set_ctx_params},
    {OSSL_FUNC_STORE_LOAD, (void (*)(void))dbt_store_load},
    {OSSL_FUNC_STORE_EOF, (void (*)(void))dbt_store_eof},
    {OSSL_FUNC_STORE_CLOSE, (void (*)(void))dbt_store_close},
    {0, NULL},
};
