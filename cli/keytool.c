/* keytool's spelling of the commands (-importcert, -list, -exportcert, -delete, -printcert).
 * Without -keystore they act on the catalog (the alias is the bundle name); with it, on a
 * PKCS#12 or JKS truststore file, which is rewritten atomically. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/pem.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "encode.h"
#include "import.h"
#include "keytool_fmt.h"

struct kt_opts {
    const char *cmd;
    const char *alias, *file, *keystore, *storetype, *storepass;
    int verbose, rfc;
};

/* keytool options that take a value, and flags accepted for compatibility. */
static const char *const kt_valued[] = {"-alias",     "-file",    "-keystore",     "-storetype",
                                        "-storepass", "-keypass", "-providername", NULL};
static const char *const kt_flags[] = {"-v", "-rfc", "-noprompt", "-trustcacerts", NULL};

static void kt_usage(FILE *out)
{
    char types[64];

    dbt_format_names(DBT_FMTF_KEYSTORE, DBT_FMT_FIELD_NAME, "|", "|", types, sizeof(types));
    fprintf(out,
            "keytool spelling:\n"
            "  dbtrust -printcert [-v] [-rfc] [-file F]\n"
            "  dbtrust -importcert -alias A -file F [-keystore K] [-storetype %s]\n"
            "                      [-storepass P] [-noprompt] [-trustcacerts]\n"
            "  dbtrust -list [-v|-rfc] [-alias A] [-keystore K] [-storepass P]\n"
            "  dbtrust -exportcert -alias A [-rfc] [-file F] [-keystore K] [-storepass P]\n"
            "  dbtrust -delete -alias A [-keystore K] [-storepass P]\n"
            "Without -keystore the catalog is used and the alias is a bundle name.\n"
            "A keystore is rewritten (-importcert, -delete) only once its integrity is\n"
            "verified with the password it is written with (-storepass, default changeit),\n"
            "and never when it holds a key entry (use keytool for those).\n",
            types);
}

static int kt_parse(int argc, char **argv, struct kt_opts *o)
{
    int i, k;

    memset(o, 0, sizeof(*o));
    o->cmd = argv[0];
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-v") == 0) {
            o->verbose = 1;
            continue;
        }
        if (strcmp(a, "-rfc") == 0) {
            o->rfc = 1;
            continue;
        }
        for (k = 0; kt_flags[k] != NULL && strcmp(a, kt_flags[k]) != 0; k++)
            ;
        if (kt_flags[k] != NULL)
            continue;
        for (k = 0; kt_valued[k] != NULL && strcmp(a, kt_valued[k]) != 0; k++)
            ;
        if (kt_valued[k] == NULL) {
            cli_error("%s: unknown option '%s'", o->cmd, a);
            kt_usage(stderr);
            return -1;
        }
        if (i + 1 >= argc) {
            cli_error("%s: option %s needs a value", o->cmd, a);
            return -1;
        }
        /* keytool compares store types without case; dbtrust's aliases are not keytool's. */
        if (strcmp(a, "-storetype") == 0 &&
            dbt_format_by_name(argv[i + 1], DBT_FMTF_KEYSTORE, DBT_FMT_MATCH_NOCASE) == NULL) {
            char types[64];

            dbt_format_names(DBT_FMTF_KEYSTORE, DBT_FMT_FIELD_NAME, ", ", " and ", types,
                             sizeof(types));
            cli_error("%s: -storetype %s: only %s truststores are supported", o->cmd, argv[i + 1],
                      types);
            return -1;
        }
        if (strcmp(a, "-alias") == 0)
            o->alias = argv[++i];
        else if (strcmp(a, "-file") == 0)
            o->file = argv[++i];
        else if (strcmp(a, "-keystore") == 0)
            o->keystore = argv[++i];
        else if (strcmp(a, "-storetype") == 0)
            o->storetype = argv[++i];
        else if (strcmp(a, "-storepass") == 0)
            o->storepass = argv[++i];
        else
            i++; /* -keypass, -providername: meaningless for truststores */
    }
    return 0;
}

/* ---------------------------------------------------------------- truststore files */

/* The password a keystore is written with, as store_save does: -storepass, else Java's
 * default. */
#define KT_DEFAULT_STOREPASS "changeit"

/*
 * Reads a keystore that is about to be rewritten. Rewriting seals it with a fresh digest or MAC,
 * so a store whose own was not verified with that same password would come out trusted by Java
 * whatever was changed in it: keytool likewise needs the password to write, and only warns
 * when it lists without one. A failed check leaves the file as it is and says what to do.
 */
static int store_load_for_write(const struct kt_opts *o, dbt_bundle **out)
{
    const char *pass = o->storepass != NULL ? o->storepass : KT_DEFAULT_STOREPASS;
    const char *how = o->storepass != NULL ? "the -storepass password"
                                           : "the default password changeit (no -storepass)";
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;
    int rc = -1;

    *out = NULL;
    if (dbt_read_all(o->keystore, &data, &len, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    if (dbt_bundle_decode(data, len, o->keystore, pass, out, &err) != 0) {
        if (err.code == DBT_E_INTEGRITY)
            cli_error("%s: the keystore's integrity check failed with %s: it was altered, or its "
                      "password is another one; %s is unchanged (it is rewritten only once its "
                      "integrity is verified with the password it is written with): give its "
                      "password with -storepass",
                      o->keystore, how, o->keystore);
        else
            cli_error("%s; %s is unchanged", cli_err_phrased(&err, "use -storepass"), o->keystore);
        goto end;
    }
    /* A JKS read with a password is verified or refused by the reader; a PKCS#12 file may
     * carry no MAC at all. (Other formats are refused by the caller.) */
    if ((*out)->format == DBT_FMT_PKCS12 && (*out)->integrity != DBT_INTEGRITY_VERIFIED) {
        cli_error("%s: this PKCS#12 keystore has no integrity MAC, so nothing shows that its "
                  "certificates are the ones that were put there; %s is unchanged: check them "
                  "('%s -list -v -keystore %s') and write a new keystore from the ones you trust",
                  o->keystore, o->keystore, cli_progname, o->keystore);
        dbt_bundle_free(*out);
        *out = NULL;
        goto end;
    }
    /* Keys are never decrypted, so a rewrite could only drop them (and a key's chain must not
     * come back as trusted entries): a keystore that holds one is left to keytool. */
    if ((*out)->nkeys > 0) {
        cli_error("%s holds %zu key entr%s (the first is \"%s\"); dbtrust rewrites only "
                  "truststores and would lose %s: %s is unchanged; use keytool for keystores "
                  "that hold keys",
                  o->keystore, (*out)->nkeys, (*out)->nkeys == 1 ? "y" : "ies",
                  (*out)->key_alias != NULL ? (*out)->key_alias : "(no alias)",
                  (*out)->nkeys == 1 ? "it" : "them", o->keystore);
        dbt_bundle_free(*out);
        *out = NULL;
        goto end;
    }
    rc = 0;
end:
    free(data);
    return rc;
}

/*
 * Loads a truststore file; a missing file is an empty store when create is set. With write set,
 * the store's integrity must be verified (store_load_for_write); without it a JKS read with no
 * -storepass is not checked, and a warning says so, as keytool's does.
 */
static int store_load(const struct kt_opts *o, int create, int write, dbt_bundle **out,
                      dbt_outfmt *fmt)
{
    const dbt_format_info *type = NULL;
    struct stat st;

    /* keytool's default store type since Java 9; -storetype was checked by kt_parse. */
    if (o->storetype != NULL)
        type = dbt_format_by_name(o->storetype, DBT_FMTF_KEYSTORE, DBT_FMT_MATCH_NOCASE);
    *fmt = type != NULL ? type->id : DBT_FMT_PKCS12;
    if (stat(o->keystore, &st) != 0 && errno == ENOENT) {
        if (!create) {
            cli_error("keystore %s does not exist", o->keystore);
            return -1;
        }
        if ((*out = dbt_bundle_new(o->keystore)) == NULL) {
            cli_error("out of memory");
            return -1;
        }
        return 0;
    }
    if (write ? store_load_for_write(o, out) != 0
              : cli_read_file(o->keystore, o->storepass, "-storepass", out, NULL) != 0)
        return -1;
    if ((*out)->format != DBT_FMT_PKCS12 && (*out)->format != DBT_FMT_JKS) {
        cli_error("%s is a %s file, not a PKCS#12 or JKS keystore: convert it with '%s convert "
                  "--to pkcs12 %s NEW.p12'",
                  o->keystore, dbt_format_name((*out)->format), cli_progname, o->keystore);
        goto fail;
    }
    /* Rewriting a keystore in another type behind the user's back would break its readers. */
    if (o->storetype != NULL && ((*out)->format == DBT_FMT_JKS) != (*fmt == DBT_OUT_JKS)) {
        cli_error("%s is a %s keystore, not %s: drop -storetype or give -storetype %s", o->keystore,
                  dbt_format_name((*out)->format), o->storetype,
                  dbt_format_get((*out)->format)->name);
        goto fail;
    }
    *fmt = (*out)->format == DBT_FMT_JKS ? DBT_OUT_JKS : DBT_OUT_PKCS12;
    if (!write && (*out)->integrity == DBT_INTEGRITY_UNCHECKED)
        cli_warn("the integrity of %s has NOT been verified: give its password with -storepass "
                 "to verify it",
                 o->keystore);
    else if (!write && (*out)->integrity == DBT_INTEGRITY_NONE)
        cli_warn("%s has no integrity MAC: nothing shows that its certificates were not altered",
                 o->keystore);
    return 0;
fail:
    dbt_bundle_free(*out);
    *out = NULL;
    return -1;
}

static int store_save(const struct kt_opts *o, const dbt_bundle *b, dbt_outfmt fmt)
{
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;
    int rc;

    if (dbt_encode(b, fmt, o->storepass, &data, &len, &err) != 0) {
        cli_error("%s; %s is unchanged", err.msg, o->keystore);
        return -1;
    }
    rc = cli_write_output(o->keystore, data, len);
    OPENSSL_free(data);
    return rc;
}

static int alias_taken(const dbt_bundle *b, const char *alias)
{
    size_t i;

    for (i = 0; i < b->n; i++)
        if (b->certs[i].alias != NULL && strcasecmp(b->certs[i].alias, alias) == 0)
            return 1;
    return 0;
}

static int kt_import_store(const struct kt_opts *o, dbt_bundle *in)
{
    dbt_bundle *st = NULL;
    dbt_outfmt fmt;
    dbt_err err;
    char alias[256];
    size_t i;
    int rc = CLI_FAIL;

    if (store_load(o, 1, 1, &st, &fmt) != 0)
        return CLI_FAIL;
    /* Named by the input's own file and block, before it is merged into the store. */
    snprintf(alias, sizeof(alias), "%s is unchanged", o->keystore);
    if (cli_check_source(in, fmt == DBT_OUT_JKS,
                         "convert it first: dbtrust convert -i PASSWORD --to pem FILE OUT.pem",
                         alias) != 0)
        goto end;
    if (dbt_encode_check_trust(in, fmt, &err) != 0) {
        cli_error("%s; %s is unchanged", err.msg, o->keystore);
        goto end;
    }
    if (alias_taken(st, o->alias)) {
        cli_error("alias <%s> already exists in %s: choose another -alias or -delete it first",
                  o->alias, o->keystore);
        goto end;
    }
    /* Every certificate of the input, not just the first: A, A-2, A-3, ... */
    for (i = 0; i < in->n; i++) {
        if (i == 0)
            snprintf(alias, sizeof(alias), "%s", o->alias);
        else
            snprintf(alias, sizeof(alias), "%s-%zu", o->alias, i + 1);
        if (i > 0 && alias_taken(st, alias)) {
            cli_error("alias <%s> already exists in %s", alias, o->keystore);
            goto end;
        }
        X509_up_ref(in->certs[i].x509);
        if (dbt_bundle_push(st, in->certs[i].x509, (int)st->n + 1, 0, alias, &err) != 0) {
            X509_free(in->certs[i].x509);
            cli_error("%s", err.msg);
            goto end;
        }
        /* A bag Java did not trust in the input stays untrusted in the keystore. */
        st->certs[st->n - 1].origin = in->certs[i].origin;
    }
    if (store_save(o, st, fmt) != 0)
        goto end;
    printf("%zu certificate%s added to keystore %s\n", in->n, in->n == 1 ? " was" : "s were",
           cli_esc(o->keystore));
    rc = CLI_OK;
end:
    dbt_bundle_free(st);
    return rc;
}

/* ---------------------------------------------------------------- commands */

static int kt_importcert(const struct kt_opts *o)
{
    char *paths[1];
    dbt_bundle *in;
    int rc;

    if (o->alias == NULL) {
        cli_error("-importcert needs -alias (the bundle name, or the keystore alias)");
        return CLI_USAGE;
    }
    paths[0] = (char *)(o->file ? o->file : "-");
    if (o->keystore == NULL) { /* into the catalog: import's pipeline and words */
        dbt_import_opts io = {0};

        io.bundle = o->alias;
        io.password = o->storepass;
        io.leaf = DBT_IMPORT_LEAF_SKIP;
        io.keep_alias = 1;
        return cli_import_files(&io, 1, paths, 0);
    }
    if (cli_read_file(paths[0], NULL, NULL, &in, NULL) != 0)
        return CLI_FAIL;
    if (in->n == 0) {
        cli_error("%s holds no certificate; %s is unchanged", in->source, o->keystore);
        dbt_bundle_free(in);
        return CLI_FAIL;
    }
    rc = kt_import_store(o, in);
    dbt_bundle_free(in);
    return rc;
}

static void kt_date(const char *iso, char *out, size_t n)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, m, d;

    if (iso != NULL && sscanf(iso, "%d-%d-%d", &y, &m, &d) == 3 && m >= 1 && m <= 12) {
        snprintf(out, n, "%s %d, %d", mon[m - 1], d, y);
    } else {
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        snprintf(out, n, "%s %d, %d", mon[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
    }
}

/* One entry of -list in keytool's layout: a trusted certificate entry (chain NULL), or a
 * private key entry whose chain is chain[0..nchain-1] (its own certificate first). */
static int kt_list_entry(const struct kt_opts *o, const char *alias, const char *date, X509 *x,
                         X509 *const *chain, size_t nchain)
{
    dbt_certinfo ci;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[EVP_MAX_MD_SIZE * 3 + 1];
    cli_kt_buf buf = {0};
    size_t k;

    if (chain != NULL)
        x = chain[0];
    if (o->verbose || o->rfc) {
        if (chain == NULL)
            printf("Alias name: %s\nCreation date: %s\nEntry type: trustedCertEntry\n\n",
                   cli_esc(alias), date);
        else
            printf("Alias name: %s\nCreation date: %s\nEntry type: PrivateKeyEntry\n"
                   "Certificate chain length: %zu\n",
                   cli_esc(alias), date, nchain);
        for (k = 0; k < (chain != NULL ? nchain : 1); k++) {
            X509 *c = chain != NULL ? chain[k] : x;
            int bad;

            if (chain != NULL) {
                char head[48];

                snprintf(head, sizeof(head), "Certificate[%zu]:\n", k + 1);
                cli_kt_buf_add(&buf, head);
            }
            if (o->verbose)
                bad = cli_kt_format_cert(&buf, c, 1, NULL) != 0 ||
                      (chain == NULL && cli_printcert_trust(&buf, c) != 0);
            else
                bad = cli_printcert_rfc(&buf, c) != 0;
            if (bad) {
                cli_kt_buf_free(&buf);
                cli_error("out of memory");
                return -1;
            }
        }
        fwrite(buf.p, 1, buf.n, stdout);
        cli_kt_buf_free(&buf);
        /* keytool separates the entries of a whole listing, not a single -alias one. */
        if (o->alias == NULL)
            printf("\n\n*******************************************\n"
                   "*******************************************\n\n\n");
        return 0;
    }
    if (dbt_certinfo_get(x, &ci, NULL) != 0 || X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
        return -1;
    dbt_hex_colons(md, mdlen, hex);
    printf("%s, %s, %s, \nCertificate fingerprint (SHA-256): %s\n", cli_esc(alias), date,
           chain != NULL ? "PrivateKeyEntry" : "trustedCertEntry", hex);
    return 0;
}

/* The chain of the key entry whose certificate st->certs[i] is, in chain order, when i is the
 * first of them in st (NULL otherwise, or when out of memory: *n is then 0). */
static X509 **kt_key_chain(const dbt_bundle *st, size_t i, size_t *n)
{
    const dbt_cert *c = &st->certs[i];
    X509 **v;
    size_t j, k = 0;

    *n = 0;
    for (j = 0; j < i; j++)
        if (st->certs[j].origin == DBT_ORIGIN_KEY_CHAIN &&
            (st->certs[j].alias == c->alias ||
             (st->certs[j].alias && c->alias && strcmp(st->certs[j].alias, c->alias) == 0)))
            return NULL;
    if ((v = calloc(st->n - i, sizeof(*v))) == NULL)
        return NULL;
    /* Chain places are small and distinct within one entry; collect them in order. */
    for (int pos = 1; k < st->n - i && pos <= (int)(st->n - i) + 1; pos++)
        for (j = i; j < st->n; j++)
            if (st->certs[j].origin == DBT_ORIGIN_KEY_CHAIN && st->certs[j].chain_pos == pos &&
                (st->certs[j].alias == c->alias ||
                 (st->certs[j].alias && c->alias && strcmp(st->certs[j].alias, c->alias) == 0)))
                v[k++] = st->certs[j].x509;
    if (k == 0) {
        free(v);
        return NULL;
    }
    *n = k;
    return v;
}

static int kt_list(const struct kt_opts *o)
{
    dbt_bundle *st = NULL;
    dbt_catalog *cat = NULL;
    dbt_catalog_entry *bundles = NULL;
    dbt_outfmt fmt;
    dbt_err err;
    size_t nb = 0, i, j, total = 0, nentries = 0;
    char date[32], alias[256];
    int rc = CLI_FAIL;

    if (o->keystore != NULL) {
        if (store_load(o, 0, 0, &st, &fmt) != 0)
            return CLI_FAIL;
        kt_date(NULL, date, sizeof(date));
        if (o->alias == NULL) /* keytool prints no header for one -alias */
            printf("Keystore type: %s\nKeystore provider: SUN\n\n",
                   fmt == DBT_OUT_JKS ? "JKS" : "PKCS12");
        /* As keytool: a key entry is one entry, and a PKCS#12 certificate bag without Java's
         * trust attribute is none (Java skips it), said on standard error. */
        for (i = 0; i < st->n; i++) {
            const dbt_cert *c = &st->certs[i];

            if (c->origin == DBT_ORIGIN_P12_NOTRUST) {
                cli_warn("%s: PKCS#12 bag %d%s%s%s has no Java trusted key usage attribute: Java "
                         "does not trust it and does not list it",
                         o->keystore, c->block, c->alias ? " (\"" : "", c->alias ? c->alias : "",
                         c->alias ? "\")" : "");
                continue;
            }
            if (c->origin == DBT_ORIGIN_KEY_CHAIN) {
                size_t nch;
                X509 **ch = kt_key_chain(st, i, &nch);

                if (ch == NULL)
                    continue; /* not the first certificate of its key entry */
                free(ch);
            }
            nentries++;
            total += o->alias == NULL || (c->alias && strcasecmp(c->alias, o->alias) == 0);
        }
        if (o->alias == NULL)
            printf("Your keystore contains %zu entr%s\n\n", nentries, nentries == 1 ? "y" : "ies");
        else if (total == 0) {
            cli_error("alias <%s> does not exist in %s", o->alias, o->keystore);
            goto end;
        }
        for (i = 0; i < st->n; i++) {
            const char *a = st->certs[i].alias;

            if (a == NULL) {
                snprintf(alias, sizeof(alias), "%zu", i + 1);
                a = alias;
            }
            if (o->alias != NULL && strcasecmp(a, o->alias) != 0)
                continue;
            if (st->certs[i].origin == DBT_ORIGIN_P12_NOTRUST)
                continue;
            if (st->certs[i].origin == DBT_ORIGIN_KEY_CHAIN) {
                size_t nch;
                X509 **ch = kt_key_chain(st, i, &nch);
                int lrc;

                if (ch == NULL)
                    continue; /* listed with the entry's first certificate */
                lrc = kt_list_entry(o, a, date, NULL, ch, nch);
                free(ch);
                if (lrc != 0)
                    goto end;
                continue;
            }
            if (kt_list_entry(o, a, date, st->certs[i].x509, NULL, 0) != 0)
                goto end;
        }
        rc = CLI_OK;
        goto end;
    }

    /* The catalog as a keystore: each certificate of each bundle is an entry, aliased
     * <bundle>, <bundle>-2, ... in the bundle's order. */
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if (dbt_catalog_list(cat, &bundles, &nb, &err) != 0) {
        cli_error("%s", err.msg);
        goto end;
    }
    if (o->alias != NULL) {
        for (i = 0; i < nb && strcmp(bundles[i].name, o->alias) != 0; i++)
            ;
        if (i == nb) {
            cli_error("alias <%s> does not exist: no such bundle in %s", o->alias,
                      dbt_catalog_path(cat));
            goto end;
        }
    }
    for (i = 0; i < nb; i++)
        total += bundles[i].meta.count;
    printf("Keystore type: dbtrust catalog\nKeystore provider: dbtrust\n\n");
    if (o->alias == NULL)
        printf("Your keystore contains %zu entr%s\n\n", total, total == 1 ? "y" : "ies");
    for (i = 0; i < nb; i++) {
        if (o->alias != NULL && strcmp(bundles[i].name, o->alias) != 0)
            continue;
        if (dbt_catalog_load(cat, bundles[i].name, &st, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
        kt_date(bundles[i].meta.imported, date, sizeof(date));
        for (j = 0; j < st->n; j++) {
            if (j == 0)
                snprintf(alias, sizeof(alias), "%s", bundles[i].name);
            else
                snprintf(alias, sizeof(alias), "%s-%zu", bundles[i].name, j + 1);
            if (kt_list_entry(o, alias, date, st->certs[j].x509, NULL, 0) != 0)
                goto end;
        }
        dbt_bundle_free(st);
        st = NULL;
    }
    rc = CLI_OK;
end:
    free(bundles);
    dbt_bundle_free(st);
    dbt_catalog_close(cat);
    return rc;
}

static int kt_exportcert(const struct kt_opts *o)
{
    dbt_bundle *st = NULL, *sel = NULL;
    dbt_catalog *cat = NULL;
    dbt_outfmt fmt;
    dbt_err err;
    size_t i;
    int rc = CLI_FAIL;

    if (o->alias == NULL) {
        cli_error("-exportcert needs -alias");
        return CLI_USAGE;
    }
    if (o->keystore != NULL) {
        if (store_load(o, 0, 0, &st, &fmt) != 0)
            return CLI_FAIL;
        if ((sel = dbt_bundle_new(o->keystore)) == NULL)
            goto end;
        for (i = 0; i < st->n; i++) {
            if (st->certs[i].alias == NULL || strcasecmp(st->certs[i].alias, o->alias) != 0)
                continue;
            /* As keytool: a key entry exports its own certificate; a PKCS#12 bag without
             * Java's trust attribute is no entry. */
            if ((st->certs[i].origin == DBT_ORIGIN_KEY_CHAIN && st->certs[i].chain_pos != 1) ||
                st->certs[i].origin == DBT_ORIGIN_P12_NOTRUST)
                continue;
            X509_up_ref(st->certs[i].x509);
            if (dbt_bundle_push(sel, st->certs[i].x509, 1, 0, NULL, &err) != 0) {
                X509_free(st->certs[i].x509);
                goto end;
            }
        }
        if (sel->n == 0) {
            cli_error("alias <%s> does not exist in %s", o->alias, o->keystore);
            goto end;
        }
    } else {
        if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
            return CLI_FAIL;
        if (dbt_catalog_load(cat, o->alias, &sel, &err) != 0) {
            cli_error("%s", err.msg);
            goto end;
        }
    }
    if (!o->rfc && sel->n > 1) {
        cli_error("bundle '%s' holds %zu certificates and DER holds one: add -rfc for a PEM "
                  "bundle, or use 'dbtrust export --format %s'",
                  o->alias, sel->n, dbt_format_get(DBT_FMT_P7_DER)->name);
        goto end;
    }
    if (cli_write_bundle(sel, o->rfc ? "pem" : "der", NULL, o->file ? o->file : "-") != 0)
        goto end;
    if (o->file != NULL)
        printf("Certificate%s stored in file <%s>\n", sel->n == 1 ? "" : "s", cli_esc(o->file));
    rc = CLI_OK;
end:
    dbt_bundle_free(st);
    dbt_bundle_free(sel);
    dbt_catalog_close(cat);
    return rc;
}

static int kt_delete(const struct kt_opts *o)
{
    dbt_bundle *st = NULL, *keep = NULL;
    dbt_outfmt fmt;
    dbt_err err;
    size_t i, removed = 0;
    int rc = CLI_FAIL;

    if (o->alias == NULL) {
        cli_error("-delete needs -alias");
        return CLI_USAGE;
    }
    if (o->keystore == NULL)
        return cli_remove(o->alias, NULL);
    if (store_load(o, 0, 1, &st, &fmt) != 0 || (keep = dbt_bundle_new(o->keystore)) == NULL)
        goto end;
    for (i = 0; i < st->n; i++) {
        if (st->certs[i].alias != NULL && strcasecmp(st->certs[i].alias, o->alias) == 0) {
            removed++;
            continue;
        }
        X509_up_ref(st->certs[i].x509);
        if (dbt_bundle_push(keep, st->certs[i].x509, (int)keep->n + 1, 0, st->certs[i].alias,
                            &err) != 0) {
            X509_free(st->certs[i].x509);
            cli_error("%s", err.msg);
            goto end;
        }
        keep->certs[keep->n - 1].origin = st->certs[i].origin; /* untrusted bags stay so */
    }
    if (removed == 0) {
        cli_error("alias <%s> does not exist in %s", o->alias, o->keystore);
        goto end;
    }
    if (store_save(o, keep, fmt) != 0)
        goto end;
    rc = CLI_OK;
end:
    dbt_bundle_free(st);
    dbt_bundle_free(keep);
    return rc;
}

int cli_keytool_main(int argc, char **argv)
{
    struct kt_opts o;
    const char *c = argv[0];

    if (strcmp(c, "-printcert") == 0)
        return cli_keytool_printcert(argc, argv);
    if (strcmp(c, "-help") == 0) {
        kt_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(c, "-importcert") != 0 && strcmp(c, "-import") != 0 && strcmp(c, "-list") != 0 &&
        strcmp(c, "-exportcert") != 0 && strcmp(c, "-export") != 0 && strcmp(c, "-delete") != 0) {
        cli_error("unknown keytool command '%s'", c);
        kt_usage(stderr);
        return CLI_USAGE;
    }
    if (kt_parse(argc, argv, &o) != 0)
        return CLI_USAGE;
    if (strcmp(c, "-importcert") == 0 || strcmp(c, "-import") == 0)
        return kt_importcert(&o);
    if (strcmp(c, "-list") == 0)
        return kt_list(&o);
    if (strcmp(c, "-exportcert") == 0 || strcmp(c, "-export") == 0)
        return kt_exportcert(&o);
    return kt_delete(&o);
}
