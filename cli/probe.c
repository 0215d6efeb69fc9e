/* dbtrust probe: judges the chain a PostgreSQL or MySQL-family server sent (cli/probe_net.c
 * fetches it) as verify-full would, against the catalog and the default store, and says what to
 * fix. */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "escape.h"
#include "probe.h"

#define PROBE_DEFAULT_PORT "5432"
#define PROBE_DEFAULT_MYSQL_PORT "3306"
#define PROBE_WARN_DAYS 30

/* One verification: against the catalog's hashed view or the default paths. */
struct probe_verify {
    int ok; /* the chain verifies, validity dates included */
    int ok_ignoring_time;
    char error[256];    /* why it failed (dates checked) */
    int err;            /* its X509_V_ERR_* code */
    X509 *err_cert;     /* the certificate it failed on; owned */
    X509 *anchor;       /* trust anchor of the path built ignoring dates; owned */
    X509_NAME *missing; /* the CA that no store provided; owned */
    X509 *missing_for;  /* the certificate that needs it; owned */
};

/* ---------------------------------------------------------------- judging the chain */

static void verify_clear(struct probe_verify *v)
{
    X509_free(v->anchor);
    X509_free(v->err_cert);
    X509_NAME_free(v->missing);
    X509_free(v->missing_for);
    memset(v, 0, sizeof(*v));
}

/* One X509_verify_cert run with the ssl_server purpose, as the TLS client does. Returns the
 * verify error (X509_V_OK on success); ctxout receives the context for inspection. */
static int verify_once(X509_STORE *store, STACK_OF(X509) * chain, unsigned long flags,
                       X509_STORE_CTX **ctxout, X509 **errcert)
{
    STACK_OF(X509) *untrusted = sk_X509_dup(chain);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int err = X509_V_ERR_UNSPECIFIED;

    if (untrusted == NULL || ctx == NULL)
        goto end;
    (void)sk_X509_shift(untrusted); /* the leaf is the target, the rest may be used */
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted) != 1)
        goto end;
    X509_STORE_CTX_set_default(ctx, "ssl_server");
    if (flags != 0)
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), flags);
    err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    if (err == X509_V_OK && X509_STORE_CTX_get_error(ctx) != X509_V_OK)
        err = X509_STORE_CTX_get_error(ctx);
    if (errcert != NULL && err != X509_V_OK &&
        (*errcert = X509_STORE_CTX_get_current_cert(ctx)) != NULL)
        X509_up_ref(*errcert);
end:
    ERR_clear_error();
    /* The context keeps untrusted by pointer; free both together. */
    if (ctxout != NULL && ctx != NULL) {
        X509_STORE_CTX_set0_untrusted(ctx, NULL);
        *ctxout = ctx;
    } else {
        X509_STORE_CTX_free(ctx);
    }
    sk_X509_free(untrusted);
    return err;
}

static void verify_store(X509_STORE *store, STACK_OF(X509) * chain, struct probe_verify *v)
{
    X509_STORE_CTX *ctx = NULL;
    int err;

    /* Dates aside first: this finds the anchor (or the missing CA) even for an expired chain. */
    err = verify_once(store, chain, X509_V_FLAG_NO_CHECK_TIME, &ctx, NULL);
    v->ok_ignoring_time = err == X509_V_OK;
    if (err == X509_V_OK) {
        STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);

        if (built != NULL && sk_X509_num(built) > 0) {
            v->anchor = sk_X509_value(built, sk_X509_num(built) - 1);
            X509_up_ref(v->anchor);
        }
    } else if (ctx != NULL) {
        X509 *cur = X509_STORE_CTX_get_current_cert(ctx);

        if (cur != NULL && (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                            err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)) {
            v->missing = X509_NAME_dup(X509_get_issuer_name(cur));
        } else if (cur != NULL && (err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                                   err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)) {
            v->missing = X509_NAME_dup(X509_get_subject_name(cur));
        }
        if (v->missing != NULL) {
            v->missing_for = cur;
            X509_up_ref(cur);
        }
    }
    X509_STORE_CTX_free(ctx);
    err = verify_once(store, chain, 0, NULL, &v->err_cert);
    v->ok = err == X509_V_OK;
    v->err = err;
    if (!v->ok)
        snprintf(v->error, sizeof(v->error), "%s", X509_verify_cert_error_string(err));
}

static void name_oneline(const X509_NAME *nm, char *out, size_t n)
{
    dbt_name_line(nm, out, n);
}

/* The first entry of nid in nm as UTF-8 (escaped: the server chose it), or "". */
static void name_entry(const X509_NAME *nm, int nid, char *out, size_t n)
{
    int i = X509_NAME_get_index_by_NID(nm, nid, -1);
    unsigned char *u = NULL;
    int len;

    out[0] = '\0';
    if (i < 0)
        return;
    len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
    if (len >= 0)
        dbt_escape((const char *)u, (size_t)len, out, n);
    ERR_clear_error();
    OPENSSL_free(u);
}

/* A word of cn spelled like an AWS region ("us-east-1"), or "". */
static void region_in(const char *cn, char *out, size_t n)
{
    char buf[256], *tok, *save = NULL;

    out[0] = '\0';
    snprintf(buf, sizeof(buf), "%s", cn);
    for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
        if (cli_aws_region_valid(tok)) {
            snprintf(out, n, "%s", tok);
            return;
        }
    }
}

/* What to run to get the missing CA: fetch for sources dbtrust knows, else import. */
static void missing_hint(const X509_NAME *missing, X509 *for_cert, char *out, size_t n)
{
    char cn[256], ou[256], o[256], region[40], dn[512], subj[512];

    name_entry(missing, NID_commonName, cn, sizeof(cn));
    name_entry(missing, NID_organizationalUnitName, ou, sizeof(ou));
    name_entry(missing, NID_organizationName, o, sizeof(o));
    name_oneline(missing, dn, sizeof(dn));
    name_oneline(X509_get_subject_name(for_cert), subj, sizeof(subj));
    if (strncmp(cn, "Amazon Root CA ", 15) == 0) {
        snprintf(out, n, "needs '%s': run dbtrust fetch aurora-dsql", cn);
        return;
    }
    if (strcmp(ou, "Amazon RDS") == 0 || strncmp(cn, "Amazon RDS ", 11) == 0) {
        region_in(cn, region, sizeof(region));
        if (strncmp(region, "us-gov-", 7) == 0 || strstr(cn, "GovCloud") != NULL)
            snprintf(out, n, "needs '%s': run dbtrust fetch aws-rds --govcloud", cn);
        else if (region[0] != '\0')
            snprintf(out, n,
                     "needs '%s': run dbtrust fetch aws-rds (all regions; --region %s for this "
                     "region only)",
                     cn, region);
        else
            snprintf(out, n, "needs '%s': run dbtrust fetch aws-rds", cn);
        return;
    }
    snprintf(out, n,
             "needs '%s': import the CA that issued '%s' (get it from the database provider; "
             "dbtrust import --bundle NAME FILE)",
             cn[0] != '\0' ? cn : dn, subj);
}

/* Bundles of the catalog that hold the certificate with this SHA-256, comma separated. */
static void bundles_holding(dbt_catalog *cat, const char *sha256, char *out, size_t n)
{
    dbt_catalog_cert *certs = NULL;
    size_t nc = 0, i, j, used = 0;
    dbt_err err;

    out[0] = '\0';
    if (dbt_catalog_certs(cat, &certs, &nc, &err) != 0)
        return;
    for (i = 0; i < nc; i++) {
        if (strcmp(certs[i].sha256, sha256) != 0)
            continue;
        for (j = 0; j < certs[i].nbundles && used + 1 < n; j++)
            used += (size_t)snprintf(out + used, n - used, "%s%s", j > 0 ? "," : "",
                                     certs[i].bundles[j]);
    }
    dbt_catalog_certs_free(certs, nc);
}

static void date_of(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d", &tm);
}

/* ---------------------------------------------------------------- report */

struct probe_report {
    json_t *root, *warnings, *problems, *causes;
    int json;
};

/*
 * The causes a user must tell apart, each with its own fix; JSON "causes" lists them by these
 * names (doc/dbtrust.1, probe): ca-missing, intermediate-not-sent, hostname-mismatch,
 * hostname-instance-name, hostname-cn-only, expired, not-yet-valid, expires-soon,
 * ca-expired, chain-invalid, catalog-unreadable.
 */
static void report_cause(struct probe_report *r, int problem, const char *cause, const char *msg)
{
    json_t *c = json_object();

    json_array_append_new(problem ? r->problems : r->warnings, cli_json_str(msg));
    json_object_set_new(c, "cause", json_string(cause));
    json_object_set_new(c, "severity", json_string(problem ? "problem" : "warning"));
    json_object_set_new(c, "message", cli_json_str(msg));
    json_array_append_new(r->causes, c);
    if (!r->json)
        printf("%s: %s\n", problem ? "problem" : "warning", cli_esc(msg));
}

static void report_warn(struct probe_report *r, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_warn(struct probe_report *r, const char *cause, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    report_cause(r, 0, cause, buf);
}

static void report_problem(struct probe_report *r, const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_problem(struct probe_report *r, const char *cause, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    report_cause(r, 1, cause, buf);
}

static void key_desc(const dbt_certinfo *ci, char *out, size_t n)
{
    if (ci->key_curve[0] != '\0')
        snprintf(out, n, "%s %s", ci->key_type, ci->key_curve);
    else
        snprintf(out, n, "%s %d", ci->key_type, ci->key_bits);
}

/* Prints and records one certificate; label says its role ("server", "CA"). */
static json_t *report_cert(struct probe_report *r, int idx, X509 *x, const char *label)
{
    dbt_certinfo ci;
    dbt_err err;
    char nb[16], na[16], key[64];
    long days;
    json_t *o;

    if (dbt_certinfo_get(x, &ci, &err) != 0) {
        report_problem(r, "chain-invalid", "certificate %d of the chain cannot be read: %s", idx,
                       err.msg);
        return json_null();
    }
    date_of(ci.not_before, nb, sizeof(nb));
    date_of(ci.not_after, na, sizeof(na));
    key_desc(&ci, key, sizeof(key));
    days = cli_days_left(ci.not_after);
    if (!r->json) {
        if (idx >= 0)
            printf("  [%d] subject: %s\n", idx, ci.subject);
        else
            printf("  anchor  subject: %s\n", ci.subject);
        printf("      issuer:  %s\n", ci.issuer);
        printf("      valid:   %s to %s (%ld days left)\n", nb, na, days);
        printf("      sha256:  %s\n", ci.sha256);
        printf("      key:     %s, %s\n", key, ci.sig_alg);
    }
    if (days < 0)
        report_warn(r, idx == 0 ? "expired" : "ca-expired", "%s certificate '%s' expired on %s",
                    label, ci.subject_cn, na);
    else if (days < PROBE_WARN_DAYS)
        report_warn(r, "expires-soon", "%s certificate '%s' expires on %s (%ld days left): %s",
                    label, ci.subject_cn, na, days,
                    idx == 0 ? "the server needs a renewed certificate before then"
                             : "the server needs a chain to a CA that outlives it");
    if (ci.not_before > (int64_t)time(NULL))
        report_warn(r, "not-yet-valid", "%s certificate '%s' is not valid before %s", label,
                    ci.subject_cn, nb);
    o = json_object();
    json_object_set_new(o, "subject", cli_json_str(ci.subject));
    json_object_set_new(o, "issuer", cli_json_str(ci.issuer));
    json_object_set_new(o, "not_before", json_string(nb));
    json_object_set_new(o, "not_after", json_string(na));
    json_object_set_new(o, "days_left", json_integer(days));
    json_object_set_new(o, "sha256", json_string(ci.sha256));
    json_object_set_new(o, "key", json_string(key));
    json_object_set_new(o, "signature", json_string(ci.sig_alg));
    json_object_set_new(o, "ca", json_boolean(ci.is_ca));
    return o;
}

/* 1 when the certificate has a subjectAltName DNS name: then OpenSSL's name check (used by
 * libpq, mysql and mariadb) ignores the CN; without one, it falls back to the CN. */
static int has_san_dns(X509 *leaf)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    int i, found = 0;

    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

        found = g->type == GEN_DNS;
    }
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    return found;
}

/* The host name check of libpq's verify-full (and mysql's VERIFY_IDENTITY, mariadb's
 * --ssl-verify-server-cert, which use the same OpenSSL call): SAN dNSName (else CN), or the IP
 * address. */
static int check_host(X509 *leaf, const char *host, char *matched, size_t n)
{
    char *peer = NULL;
    int r;

    matched[0] = '\0';
    if (cli_probe_is_ip(host))
        return X509_check_ip_asc(leaf, host, 0) == 1;
    r = X509_check_host(leaf, host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, &peer);
    if (r == 1 && peer != NULL)
        snprintf(matched, n, "%s", peer);
    OPENSSL_free(peer);
    ERR_clear_error();
    return r == 1;
}

/* The names the certificate offers, for the mismatch message. */
static void cert_names(X509 *leaf, char *out, size_t n)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    size_t used = 0;
    int i;

    out[0] = '\0';
    for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && used + 1 < n; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char ip[INET6_ADDRSTRLEN];

        if (g->type == GEN_DNS) {
            used += (size_t)snprintf(out + used, n - used, "%sDNS:", used ? ", " : "");
            if (used < n)
                used += dbt_escape((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                   (size_t)ASN1_STRING_length(g->d.dNSName), out + used, n - used);
        } else if (g->type == GEN_IPADD && (ASN1_STRING_length(g->d.iPAddress) == 4 ||
                                            ASN1_STRING_length(g->d.iPAddress) == 16)) {
            inet_ntop(ASN1_STRING_length(g->d.iPAddress) == 4 ? AF_INET : AF_INET6,
                      ASN1_STRING_get0_data(g->d.iPAddress), ip, sizeof(ip));
            used += (size_t)snprintf(out + used, n - used, "%sIP:%s", used ? ", " : "", ip);
        }
    }
    GENERAL_NAMES_free(gens);
    if (used == 0) {
        char cn[256];

        name_entry(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn));
        snprintf(out, n, "no subjectAltName; CN=%s", cn[0] != '\0' ? cn : "(none)");
    }
}

/* The chain leads to a trusted CA but a date check fails: which certificate, and who fixes it. */
static void date_problem(struct probe_report *r, const struct probe_verify *v, X509 *leaf)
{
    X509 *x = v->err_cert != NULL ? v->err_cert : leaf;
    const char *role = X509_cmp(x, leaf) == 0 ? "server" : "CA";
    dbt_certinfo ci;
    dbt_err err;
    char when[16] = "?", cn[256] = "?";

    if (dbt_certinfo_get(x, &ci, &err) == 0)
        snprintf(cn, sizeof(cn), "%s", ci.subject_cn);
    if (v->err == X509_V_ERR_CERT_HAS_EXPIRED) {
        if (dbt_certinfo_get(x, &ci, &err) == 0)
            date_of(ci.not_after, when, sizeof(when));
        if (*role == 's')
            report_problem(r, "expired",
                           "the server certificate '%s' expired on %s: the server must install "
                           "a renewed certificate (no client setting fixes this; for RDS and "
                           "Aurora, apply the pending certificate rotation)",
                           cn, when);
        else
            report_problem(r, "ca-expired",
                           "the CA certificate '%s' expired on %s: the server needs a "
                           "certificate from a current CA, and the catalog its bundle (dbtrust "
                           "refresh)",
                           cn, when);
    } else if (v->err == X509_V_ERR_CERT_NOT_YET_VALID) {
        if (dbt_certinfo_get(x, &ci, &err) == 0)
            date_of(ci.not_before, when, sizeof(when));
        report_problem(r, "not-yet-valid",
                       "the %s certificate '%s' is not valid before %s: check this machine's "
                       "clock (timedatectl), or the server installed a certificate dated in the "
                       "future",
                       role, cn, when);
    } else {
        report_problem(r, "chain-invalid",
                       "the chain leads to a trusted CA but fails verification: %s", v->error);
    }
}

/* ---------------------------------------------------------------- command */

static void probe_usage(FILE *out)
{
    fprintf(out,
            "usage: dbtrust [--catalog DIR] probe [SCHEME://]HOST[:PORT] [options]\n\n"
            "Connects to a PostgreSQL server as libpq does (SCHEME postgresql, port 5432), or\n"
            "to a MySQL, MariaDB or Aurora MySQL server as the mysql and mariadb clients do\n"
            "(SCHEME mysql, port 3306), takes the certificate chain it sends without trusting\n"
            "it, and reports the chain, the TLS version and cipher, whether the host name\n"
            "matches, which catalog bundle and CA verify the chain or which CA is missing,\n"
            "and expiry warnings, each cause with its fix. Exits 0 only when a client that\n"
            "checks the CA and the host name against the system store (libpq's\n"
            "sslmode=verify-full with sslrootcert=system; the mariadb client's option\n"
            "ssl-verify-server-cert) would succeed once the catalog is wired in (dbtrust\n"
            "system enable).\n\n"
            "  -P, --protocol PROTO postgresql or mysql (default: the SCHEME, else postgresql)\n"
            "  -a, --hostaddr ADDR  connect to ADDR but check the name HOST (libpq's hostaddr)\n"
            "  -s, --sni NAME       server name indication to send (default: HOST unless it is\n"
            "                       an IP address; \"\" sends none)\n"
            "  -d, --direct         PostgreSQL 17 direct TLS (sslnegotiation=direct, ALPN\n"
            "                       postgresql), no SSLRequest\n"
            "  -t, --timeout SECS   give up after SECS seconds (default 10)\n"
            "  -j, --json           print JSON\n"
            "  -h, --help           show this help\n");
}

/* The URL schemes probe takes, and the protocol each one names. */
static const struct {
    const char *scheme;
    enum probe_proto proto;
} probe_schemes[] = {
    {"postgresql://", PROBE_POSTGRESQL},
    {"postgres://", PROBE_POSTGRESQL},
    {"mysql://", PROBE_MYSQL},
    {"mariadb://", PROBE_MYSQL},
};

/* [SCHEME://]HOST[:PORT][/...]: *proto is set from SCHEME (else left as it is). -1 on a bad
 * target. A path, user or query after the host is refused, not ignored. */
static int parse_target(const char *arg, struct probe_opts *o, int *proto)
{
    const char *colon, *port = NULL;
    size_t hl, i;

    for (i = 0; i < sizeof(probe_schemes) / sizeof(probe_schemes[0]); i++) {
        size_t sl = strlen(probe_schemes[i].scheme);

        if (strncmp(arg, probe_schemes[i].scheme, sl) == 0) {
            *proto = (int)probe_schemes[i].proto;
            arg += sl;
            break;
        }
    }
    if (strstr(arg, "://") != NULL || strpbrk(arg, "/@?") != NULL)
        return -1;

    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');

        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return -1;
        hl = (size_t)(close - arg - 1);
        memcpy(o->host, arg + 1, hl < sizeof(o->host) ? hl : 0);
        if (hl >= sizeof(o->host))
            return -1;
        o->host[hl] = '\0';
        if (close[1] == ':')
            port = close + 2;
    } else if ((colon = strchr(arg, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
        hl = (size_t)(colon - arg);
        if (hl >= sizeof(o->host))
            return -1;
        memcpy(o->host, arg, hl);
        o->host[hl] = '\0';
        port = colon + 1;
    } else {
        if (strlen(arg) >= sizeof(o->host))
            return -1;
        snprintf(o->host, sizeof(o->host), "%s", arg); /* a name, or a bare IPv6 address */
    }
    if (o->host[0] == '\0')
        return -1;
    if (port != NULL) {
        char *endp;
        long p = strtol(port, &endp, 10);

        if (*port == '\0' || *endp != '\0' || p < 1 || p > 65535)
            return -1;
        snprintf(o->port, sizeof(o->port), "%ld", p);
    } else {
        snprintf(o->port, sizeof(o->port), "%s",
                 *proto == PROBE_MYSQL ? PROBE_DEFAULT_MYSQL_PORT : PROBE_DEFAULT_PORT);
    }
    return 0;
}

static int print_json(json_t *root)
{
    return cli_json_print(root);
}

int cli_cmd_probe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"protocol", required_argument, NULL, 'P'}, {"hostaddr", required_argument, NULL, 'a'},
        {"sni", required_argument, NULL, 's'},      {"direct", no_argument, NULL, 'd'},
        {"timeout", required_argument, NULL, 't'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct probe_opts o;
    struct probe_conn conn;
    struct probe_verify vcat, vsys;
    struct probe_report rep = {0};
    dbt_catalog *cat = NULL;
    X509_STORE *catstore = NULL, *sysstore = NULL;
    X509_LOOKUP *lk;
    json_t *chain_json, *j;
    dbt_err err;
    char why[1024], matched[256], names[512], catpath[4096], bundles[512] = "", hint[1024] = "";
    char cn[256];
    const char *catdir = NULL;
    int c, rc = CLI_FAIL, host_ok, i, n, ok, proto_opt = -1, proto_url = -1;
    X509 *leaf;

    memset(&o, 0, sizeof(o));
    memset(&conn, 0, sizeof(conn));
    memset(&vcat, 0, sizeof(vcat));
    memset(&vsys, 0, sizeof(vsys));
    o.timeout = 10;
    while ((c = cli_getopt_long(argc, argv, "P:a:s:dt:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'P':
            if (strcmp(optarg, "postgresql") == 0 || strcmp(optarg, "postgres") == 0) {
                proto_opt = PROBE_POSTGRESQL;
            } else if (strcmp(optarg, "mysql") == 0 || strcmp(optarg, "mariadb") == 0) {
                proto_opt = PROBE_MYSQL;
            } else {
                cli_error("--protocol takes postgresql or mysql (got '%s')", optarg);
                return CLI_USAGE;
            }
            break;
        case 'a':
            o.addr = optarg;
            break;
        case 's':
            o.sni = optarg;
            break;
        case 'd':
            o.direct = 1;
            break;
        case 't': {
            char *endp;

            o.timeout = strtod(optarg, &endp);
            if (*optarg == '\0' || *endp != '\0' || !(o.timeout > 0) || o.timeout > 86400) {
                cli_error("--timeout needs a number of seconds above 0 (got '%s')", optarg);
                return CLI_USAGE;
            }
            break;
        }
        case 'j':
            o.json = 1;
            break;
        case 'h':
            probe_usage(stdout);
            return CLI_OK;
        default:
            probe_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_error("probe needs exactly one [SCHEME://]HOST[:PORT] (e.g. mydb.example.com:5432 "
                  "or mysql://mydb.example.com)");
        probe_usage(stderr);
        return CLI_USAGE;
    }
    /* The scheme decides the default port, so it is read first; --protocol must agree. */
    {
        const char *arg = argv[optind];
        size_t k;

        for (k = 0; k < sizeof(probe_schemes) / sizeof(probe_schemes[0]); k++)
            if (strncmp(arg, probe_schemes[k].scheme, strlen(probe_schemes[k].scheme)) == 0)
                proto_url = (int)probe_schemes[k].proto;
    }
    if (proto_opt >= 0 && proto_url >= 0 && proto_opt != proto_url) {
        cli_error("--protocol %s contradicts the target '%s'",
                  proto_opt == PROBE_MYSQL ? "mysql" : "postgresql", argv[optind]);
        return CLI_USAGE;
    }
    proto_url = proto_opt >= 0 ? proto_opt : proto_url >= 0 ? proto_url : PROBE_POSTGRESQL;
    if (parse_target(argv[optind], &o, &proto_url) != 0) {
        cli_error("'%s' is not [SCHEME://]HOST[:PORT] with SCHEME postgresql or mysql and a "
                  "port from 1 to 65535 ([ADDR]:PORT for IPv6)",
                  argv[optind]);
        return CLI_USAGE;
    }
    o.proto = (enum probe_proto)proto_url;
    if (o.proto == PROBE_MYSQL && o.direct) {
        cli_error("--direct is PostgreSQL's direct TLS; MySQL has no such mode");
        return CLI_USAGE;
    }

    rep.json = o.json;
    rep.root = json_object();
    rep.warnings = json_array();
    rep.problems = json_array();
    rep.causes = json_array();
    json_object_set_new(rep.root, "host", cli_json_str(o.host));
    json_object_set_new(rep.root, "port", json_integer(atoi(o.port)));
    json_object_set_new(rep.root, "protocol",
                        json_string(o.proto == PROBE_MYSQL ? "mysql" : "postgresql"));
    json_object_set_new(rep.root, "mode",
                        json_string(o.proto == PROBE_MYSQL ? "mysql-ssl-request"
                                    : o.direct             ? "direct"
                                                           : "sslrequest"));

    if (cli_probe_connect(&o, &conn, why, sizeof(why)) != 0) {
        cli_error("%s", why);
        if (o.json) {
            json_object_set_new(rep.root, "ok", json_false());
            if (o.direct)
                json_object_set_new(rep.root, "direct_accepted", json_false());
            json_object_set_new(rep.root, "error", cli_json_str(why));
            print_json(rep.root);
        }
        goto end;
    }
    json_object_set_new(rep.root, "address", cli_json_str(conn.peer));
    json_object_set_new(rep.root, "tls_version", cli_json_str(conn.version));
    json_object_set_new(rep.root, "cipher", cli_json_str(conn.cipher));
    json_object_set_new(rep.root, "alpn", conn.alpn[0] ? cli_json_str(conn.alpn) : json_null());
    if (o.proto == PROBE_MYSQL)
        json_object_set_new(rep.root, "server_version", cli_json_str(conn.server));
    if (o.direct)
        json_object_set_new(rep.root, "direct_accepted", json_true());
    if (!o.json) {
        printf("server:    %s (%s) port %s, %s%s%s, %s %s%s%s\n", cli_esc(o.host),
               cli_esc(conn.peer), o.port,
               o.proto == PROBE_MYSQL ? "MySQL SSL request"
               : o.direct             ? "direct TLS accepted"
                                      : "SSLRequest",
               conn.server[0] ? ", server " : "", cli_esc(conn.server), cli_esc(conn.version),
               cli_esc(conn.cipher), conn.alpn[0] ? ", ALPN " : "", cli_esc(conn.alpn));
        printf("chain sent by the server (%d certificate%s):\n", sk_X509_num(conn.chain),
               sk_X509_num(conn.chain) == 1 ? "" : "s");
    }
    chain_json = json_array();
    n = sk_X509_num(conn.chain);
    for (i = 0; i < n; i++)
        json_array_append_new(chain_json, report_cert(&rep, i, sk_X509_value(conn.chain, i),
                                                      i == 0 ? "server" : "CA"));
    json_object_set_new(rep.root, "chain", chain_json);
    leaf = sk_X509_value(conn.chain, 0);

    /* Host name, as verify-full checks it. */
    host_ok = check_host(leaf, o.host, matched, sizeof(matched));
    cert_names(leaf, names, sizeof(names));
    j = json_object();
    json_object_set_new(j, "name", cli_json_str(o.host));
    json_object_set_new(j, "match", json_boolean(host_ok));
    json_object_set_new(j, "certificate_names", cli_json_str(names));
    json_object_set_new(j, "matched", matched[0] ? cli_json_str(matched) : json_null());
    json_object_set_new(rep.root, "hostname", j);
    if (!o.json && host_ok)
        printf("host name: '%s' matches the server certificate (%s)\n", cli_esc(o.host), names);
    name_entry(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn));
    if (host_ok && !has_san_dns(leaf) && !cli_probe_is_ip(o.host)) {
        report_warn(&rep, "hostname-cn-only",
                    "the server certificate carries '%s' only in its CN (no subjectAltName): "
                    "libpq, mysql and mariadb accept it, but clients that ignore the CN (Go since "
                    "1.15, browsers, some JDBC drivers) reject it; the server needs a "
                    "certificate with subjectAltName DNS:%s",
                    o.host, o.host);
    } else if (!host_ok && !has_san_dns(leaf) && strchr(cn, ':') != NULL &&
               strchr(cn, '.') == NULL) {
        /* Cloud SQL's per-instance certificates name "project:instance", no host. */
        report_problem(&rep, "hostname-instance-name",
                       "host name mismatch: the server certificate names the instance '%s' "
                       "(a Cloud SQL style project:instance CN), not a host, so no host name "
                       "can match it: verify the CA only (sslmode=verify-ca, mysql "
                       "--ssl-mode=VERIFY_CA) or connect through the provider's connector, "
                       "which checks the instance name",
                       cn);
    } else if (!host_ok) {
        report_problem(&rep, "hostname-mismatch",
                       "host name mismatch: the server certificate is not valid for '%s' (it "
                       "names %s); connect with a name it holds or get a certificate for '%s'",
                       o.host, names, o.host);
    }

    /* The catalog's hashed view, as OpenSSL reads it once it is wired into the defaults. */
    j = json_object();
    if (cli_catalog_opt == NULL && dbt_catalog_default_path(catpath, sizeof(catpath)) == NULL)
        snprintf(catpath, sizeof(catpath), "(none)");
    else if (cli_catalog_opt != NULL)
        snprintf(catpath, sizeof(catpath), "%s", cli_catalog_opt);
    json_object_set_new(j, "path", cli_json_str(catpath));
    if (dbt_catalog_open(catpath, DBT_CAT_READ, &cat, &err) != 0) {
        report_warn(&rep, "catalog-unreadable", "catalog not used: %s", cli_err_text(&err, NULL));
        json_object_set_new(j, "error", cli_json_str(cli_err_text(&err, NULL)));
        cat = NULL;
    } else {
        catdir = dbt_catalog_certs_dir(cat);
        if ((catstore = X509_STORE_new()) == NULL ||
            (lk = X509_STORE_add_lookup(catstore, X509_LOOKUP_hash_dir())) == NULL ||
            X509_LOOKUP_add_dir(lk, catdir, X509_FILETYPE_PEM) != 1) {
            cli_error("cannot read the catalog's hashed directory %s", catdir);
            goto end;
        }
        verify_store(catstore, conn.chain, &vcat);
    }
    json_object_set_new(j, "verified", json_boolean(vcat.ok));
    if (vcat.anchor != NULL) {
        dbt_certinfo ci;

        if (dbt_certinfo_get(vcat.anchor, &ci, &err) == 0) {
            bundles_holding(cat, ci.sha256, bundles, sizeof(bundles));
            json_object_set_new(j, "bundles", cli_json_str(bundles));
            if (!o.json)
                printf("catalog:   %s: the chain %s bundle '%s', anchor:\n", cli_esc(catpath),
                       vcat.ok ? "is verified by" : "leads to", cli_esc(bundles));
            json_object_set_new(j, "anchor", report_cert(&rep, -1, vcat.anchor, "CA"));
        }
    } else if (cat != NULL && !o.json) {
        printf("catalog:   %s: no bundle verifies the chain (%s)\n", cli_esc(catpath), vcat.error);
    }
    if (cat != NULL && !vcat.ok)
        json_object_set_new(j, "error", json_string(vcat.error));
    json_object_set_new(rep.root, "catalog", j);

    /* The system's default paths ($SSL_CERT_FILE/$SSL_CERT_DIR or OpenSSL's defaults). */
    if ((sysstore = X509_STORE_new()) == NULL) {
        cli_error("out of memory");
        goto end;
    }
    X509_STORE_set_default_paths(sysstore);
    ERR_clear_error();
    verify_store(sysstore, conn.chain, &vsys);
    j = json_object();
    json_object_set_new(j, "verified", json_boolean(vsys.ok));
    if (!vsys.ok)
        json_object_set_new(j, "error", json_string(vsys.error));
    json_object_set_new(rep.root, "system", j);
    if (!o.json)
        printf("system:    the default trust store %s\n",
               vsys.ok ? "verifies the chain"
                       : (vsys.ok_ignoring_time ? "leads to a CA, but a date check fails"
                                                : "does not verify the chain"));

    /* Verdict: the same chain would pass once the catalog is in the default lookups. */
    if (!vcat.ok && !vsys.ok) {
        if (vcat.ok_ignoring_time || vsys.ok_ignoring_time) {
            date_problem(&rep, vcat.ok_ignoring_time ? &vcat : &vsys, leaf);
        } else {
            struct probe_verify *v = vcat.missing != NULL ? &vcat : &vsys;

            if (v->missing != NULL) {
                char dn[512];

                missing_hint(v->missing, v->missing_for, hint, sizeof(hint));
                name_oneline(v->missing, dn, sizeof(dn));
                json_object_set_new(rep.root, "missing_issuer", cli_json_str(dn));
                json_object_set_new(rep.root, "hint", cli_json_str(hint));
                report_problem(&rep, "ca-missing", "no trusted CA for this chain: %s", hint);
                /* A server that sends only its own certificate may have left out an
                 * intermediate that no trust store is expected to hold. */
                if (n == 1 && X509_check_issued(v->missing_for, v->missing_for) != X509_V_OK)
                    report_warn(&rep, "intermediate-not-sent",
                                "the server sent only its own certificate: if '%s' is an "
                                "intermediate CA, the server must send it too (append it to "
                                "%s after the server certificate)",
                                dn, o.proto == PROBE_MYSQL ? "ssl_cert" : "ssl_cert_file");
            } else {
                report_problem(&rep, "chain-invalid", "the chain does not verify: %s",
                               cat != NULL ? vcat.error : vsys.error);
            }
        }
    }
    ok = (vcat.ok || vsys.ok) && host_ok;
    json_object_set_new(rep.root, "ok", json_boolean(ok));
    json_object_set_new(rep.root, "warnings", rep.warnings);
    json_object_set_new(rep.root, "problems", rep.problems);
    json_object_set_new(rep.root, "causes", rep.causes);
    rep.warnings = rep.problems = rep.causes = NULL;
    if (o.json) {
        if (print_json(rep.root) != 0)
            goto end;
    } else {
        printf("verdict:   %s %s\n",
               o.proto == PROBE_MYSQL
                   ? "mariadb --ssl-verify-server-cert without --ssl-ca (the system CA store)"
                   : "sslmode=verify-full with sslrootcert=system",
               ok ? (vsys.ok ? "succeeds"
                             : "succeeds once the catalog is wired in (dbtrust "
                               "system enable)")
                  : "would FAIL (see the problems above)");
    }
    rc = ok ? CLI_OK : CLI_FAIL;
end:
    verify_clear(&vcat);
    verify_clear(&vsys);
    X509_STORE_free(catstore);
    X509_STORE_free(sysstore);
    dbt_catalog_close(cat);
    sk_X509_pop_free(conn.chain, X509_free);
    json_decref(rep.warnings);
    json_decref(rep.problems);
    json_decref(rep.causes);
    json_decref(rep.root);
    return rc;
}
