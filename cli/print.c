/* dbtrust print (compact text or JSON, with expiry status) and keytool's -printcert, for the
 * certificates of any input file (PEM, DER, PKCS#7, PKCS#12, JKS). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "certinfo.h"
#include "commands.h"
#include "keytool_fmt.h"
#include "trust.h"

/* ---- keytool -printcert ---- */

static void printcert_usage(FILE *out)
{
    char inputs[128];

    dbt_format_names(DBT_FMTF_IN, DBT_FMT_FIELD_FAMILY, ", ", " or ", inputs, sizeof(inputs));
    fprintf(out,
            "usage: %s -printcert [-v] [-rfc] [-file FILE]\n\n"
            "Prints the certificates of FILE (standard input when -file is not given) in\n"
            "keytool's layout. The input may be %s.\n\n"
            "  -v          verbose output (keytool prints the same text either way)\n"
            "  -rfc        print the certificates as PEM\n"
            "  -file FILE  input file\n",
            cli_progname, inputs);
}

/* keytool's "The certificate #2 of 3" label, or "The certificate" when there is one. */
static void weak_label(char *buf, size_t len, size_t i, size_t n)
{
    if (n == 1)
        snprintf(buf, len, "The certificate");
    else
        snprintf(buf, len, "The certificate #%zu of %zu", i + 1, n);
}

/* The warnings keytool prints on stderr after the certificates; one line per finding. */
static void add_weak_warnings(cli_kt_buf *w, const cli_kt_weak *k, size_t i, size_t n)
{
    char label[64], line[512];

    weak_label(label, sizeof(label), i, n);
    if (k->sig_weak == 2)
        snprintf(line, sizeof(line),
                 "%s uses the %s signature algorithm which is considered a security risk and is "
                 "disabled.\n",
                 label, k->sig_alg);
    else if (k->sig_weak == 1)
        snprintf(line, sizeof(line),
                 "%s uses the %s signature algorithm which is considered a security risk. This "
                 "algorithm will be disabled in a future update.\n",
                 label, k->sig_alg);
    if (k->sig_weak)
        cli_kt_buf_add(w, line);
    if (k->key_weak == 2)
        snprintf(line, sizeof(line),
                 "%s uses a %s which is considered a security risk and is disabled.\n", label,
                 k->key_desc);
    else if (k->key_weak == 1)
        snprintf(line, sizeof(line),
                 "%s uses a %s which is considered a security risk. This key size will be "
                 "disabled in a future update.\n",
                 label, k->key_desc);
    if (k->key_weak)
        cli_kt_buf_add(w, line);
}

/* keytool knows no trust settings; a certificate that has them gets one line more, so that
 * what it may be trusted for is never hidden. 0, or -1 when out of memory. */
int cli_printcert_trust(cli_kt_buf *out, X509 *x)
{
    char how[512], line[600];

    if (dbt_trust_kind_of(x) == DBT_TRUST_PLAIN)
        return 0;
    dbt_trust_describe(x, how, sizeof(how));
    snprintf(line, sizeof(line), "Trust settings: %s\n", how);
    cli_kt_buf_add(out, line);
    return out->oom ? -1 : 0;
}

/* -rfc: a certificate with trust settings stays a TRUSTED CERTIFICATE block, so that saving the
 * output does not make it a plain (wider) certificate. */
int cli_printcert_rfc(cli_kt_buf *out, X509 *x)
{
    BIO *bio;
    char *mem = NULL;
    int rc = -1;

    if (dbt_trust_kind_of(x) == DBT_TRUST_PLAIN)
        return cli_kt_format_rfc(out, x);
    /* The NUL written last makes the BIO's contents one string. */
    if ((bio = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_AUX(bio, x) ||
        BIO_write(bio, "", 1) != 1 || BIO_get_mem_data(bio, &mem) <= 0)
        goto end;
    cli_kt_buf_add(out, mem);
    rc = out->oom ? -1 : 0;
end:
    BIO_free(bio);
    return rc;
}

int cli_keytool_printcert(int argc, char **argv)
{
    const char *file = NULL;
    int rfc = 0, utf8, rc = CLI_FAIL;
    dbt_bundle *b = NULL;
    cli_kt_buf out = {0}, warn = {0};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            continue;
        } else if (strcmp(argv[i], "-rfc") == 0) {
            rfc = 1;
        } else if (strcmp(argv[i], "-file") == 0) {
            if (i + 1 >= argc) {
                cli_error("-printcert: -file needs a file name");
                return CLI_USAGE;
            }
            file = argv[++i];
        } else if (strcmp(argv[i], "-help") == 0 || strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            printcert_usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "-sslserver") == 0 || strcmp(argv[i], "-jarfile") == 0) {
            cli_error("-printcert %s is not supported by %s; save the certificates to a file "
                      "and use -file",
                      argv[i], cli_progname);
            return CLI_USAGE;
        } else {
            cli_error("-printcert: unknown option '%s'", argv[i]);
            printcert_usage(stderr);
            return CLI_USAGE;
        }
    }

    /* The PKCS#12 reader also opens truststores protected with Java's "changeit". */
    if (cli_read_file(file != NULL ? file : "-", NULL, NULL, &b, NULL) != 0)
        goto end;
    if (b->n == 0) {
        cli_error("%s: no certificate found; check that this is a certificate file", b->source);
        goto end;
    }
    /* Java writes what the locale cannot encode as '?'; do the same so output compares equal */
    utf8 = cli_kt_locale_utf8();

    for (size_t i = 0; i < b->n; i++) {
        cli_kt_weak weak;

        out.n = 0;
        if (b->n > 1) {
            char hdr[48];
            int len = snprintf(hdr, sizeof(hdr), "Certificate[%zu]:\n", i + 1);

            fwrite(hdr, 1, (size_t)len, stdout);
        }
        if (rfc ? cli_printcert_rfc(&out, b->certs[i].x509)
                : cli_kt_format_cert(&out, b->certs[i].x509, utf8, NULL) ||
                      cli_printcert_trust(&out, b->certs[i].x509)) {
            cli_error("out of memory while formatting certificate %zu of %s", i + 1, b->source);
            goto end;
        }
        /* keytool checks the algorithms whatever it prints */
        cli_kt_weakness(b->certs[i].x509, &weak);
        add_weak_warnings(&warn, &weak, i, b->n);
        /* keytool separates certificates with an empty line */
        if (i + 1 < b->n)
            cli_kt_buf_add(&out, "\n");
        fwrite(out.p, 1, out.n, stdout);
    }
    if (cli_stdout_flush() != 0)
        goto end;
    if (warn.n > 0)
        fprintf(stderr, "\nWarning:\n%s", warn.p);
    rc = CLI_OK;
end:
    cli_kt_buf_free(&out);
    cli_kt_buf_free(&warn);
    dbt_bundle_free(b);
    return rc;
}

/* ---- dbtrust print ---- */

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: %s print [--json] [--days N] [--password PASS] FILE...|-\n\n"
            "Prints every certificate of each FILE (\"-\" is standard input): PEM, DER,\n"
            "PKCS#7, PKCS#12 or JKS, detected by content.\n\n"
            "  --json      one JSON array with an object per certificate\n"
            "  --days N    call a certificate \"expiring\" when it expires within N days\n"
            "              (default 30)\n"
            "  -p, --password PASS  password of PKCS#12 or JKS inputs (default: none, \"\",\n"
            "              then \"changeit\")\n"
            "  -h, --help  show this help\n\n"
            "Exit status: 0 success, 1 a file could not be read or decoded, 2 usage error.\n",
            cli_progname);
}

/* What a certificate's validity means today. */
typedef struct cert_status {
    dbt_cert_status status;
    const char *word; /* "ok", "expiring", "expired", "not-yet-valid" */
    long days_left;   /* whole days until notAfter, negative once expired */
} cert_status;

static cert_status status_of(const dbt_certinfo *ci, long days)
{
    cert_status s;

    s.status = dbt_certinfo_status(ci, (int64_t)time(NULL), days, 1, &s.days_left);
    s.word = cli_status_word(s.status, s.days_left, CLI_STATUS_PRINT, NULL, 0);
    return s;
}

/* ISO 8601 UTC ("2061-05-19T19:06:26Z"). */
static void iso8601(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
}

static void print_text(const char *file, const dbt_cert *c, size_t index, size_t n,
                       const dbt_certinfo *ci, cert_status s)
{
    char nb[32], na[32], fp[3 * 32 + 1];
    unsigned char raw[32];

    iso8601(ci->not_before, nb, sizeof(nb));
    iso8601(ci->not_after, na, sizeof(na));
    for (size_t i = 0; i < 32; i++)
        sscanf(ci->sha256 + 2 * i, "%2hhx", &raw[i]);
    dbt_hex_colons(raw, 32, fp);
    /* subject and issuer come escaped from dbt_certinfo_get; the file name and alias do not */
    printf("%s: certificate %zu of %zu", cli_esc(file), index, n);
    if (c->line > 0)
        printf(" (block %d, line %d)", c->block, c->line);
    if (c->alias != NULL)
        printf(" alias %s", cli_esc(c->alias));
    printf("\n  subject:   %s\n  issuer:    %s\n  serial:    %s\n", ci->subject, ci->issuer,
           ci->serial);
    printf("  valid:     %s .. %s\n", nb, na);
    if (ci->key_curve[0] != '\0')
        printf("  key:       %s %d (%s)\n", ci->key_type, ci->key_bits, ci->key_curve);
    else
        printf("  key:       %s %d\n", ci->key_type, ci->key_bits);
    printf("  signature: %s\n  CA:        %s%s\n  SHA-256:   %s\n", ci->sig_alg,
           ci->is_ca ? "yes" : "no", ci->self_signed ? " (self-signed)" : "", fp);
    if (dbt_trust_kind_of(c->x509) != DBT_TRUST_PLAIN) {
        char how[512];

        dbt_trust_describe(c->x509, how, sizeof(how));
        printf("  trust:     %s\n", how);
    }
    if (s.status == DBT_CERT_EXPIRED)
        printf("  status:    expired %ld days ago\n", -s.days_left);
    else if (s.status == DBT_CERT_EXPIRING)
        printf("  status:    expires in %ld days\n", s.days_left);
    else if (s.status == DBT_CERT_NOT_YET_VALID)
        printf("  status:    not yet valid (from %s)\n", nb);
    else
        printf("  status:    ok (%ld days left)\n", s.days_left);
}

/* A trust or reject list as an array of names ("serverAuth", or a dotted OID), or null when the
 * certificate has no such list. */
static json_t *trust_list_json(const STACK_OF(ASN1_OBJECT) * list)
{
    json_t *arr;
    char name[128];

    if (list == NULL)
        return json_null();
    if ((arr = json_array()) == NULL)
        return NULL;
    for (int i = 0; i < sk_ASN1_OBJECT_num(list); i++) {
        dbt_trust_oid_name(sk_ASN1_OBJECT_value(list, i), name, sizeof(name));
        if (json_array_append_new(arr, json_string(name)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *cert_json(const char *file, const dbt_cert *c, size_t index, const dbt_certinfo *ci,
                         cert_status s)
{
    char nb[32], na[32], hash[16];
    json_t *o;

    iso8601(ci->not_before, nb, sizeof(nb));
    iso8601(ci->not_after, na, sizeof(na));
    snprintf(hash, sizeof(hash), "%08lx", ci->subject_hash);
    o = json_pack("{s:s, s:I, s:I, s:I, s:s?, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
                  "s:s?, s:s, s:b, s:b, s:s, s:s, s:I}",
                  "file", cli_esc(file), "index", (json_int_t)index, "block", (json_int_t)c->block,
                  "line", (json_int_t)c->line, "alias", c->alias != NULL ? cli_esc(c->alias) : NULL,
                  "subject", ci->subject, "issuer", ci->issuer, "serial", ci->serial, "not_before",
                  nb, "not_after", na, "sha1", ci->sha1, "sha256", ci->sha256, "key_type",
                  ci->key_type, "key_bits", (json_int_t)ci->key_bits, "curve",
                  ci->key_curve[0] ? ci->key_curve : NULL, "sig_alg", ci->sig_alg, "is_ca",
                  ci->is_ca, "self_signed", ci->self_signed, "subject_hash", hash, "status", s.word,
                  "days_left", (json_int_t)s.days_left);
    /* What the input trusts it for (TRUSTED CERTIFICATE, PKCS#12 trusted key usage). */
    if (o != NULL &&
        (json_object_set_new(o, "trust", trust_list_json(X509_get0_trust_objects(c->x509))) != 0 ||
         json_object_set_new(o, "reject", trust_list_json(X509_get0_reject_objects(c->x509))) !=
             0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cli_cmd_print(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"days", required_argument, NULL, 'd'},
        {"password", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *password = NULL;
    int json = 0, c, rc = CLI_OK;
    long days = 30;
    json_t *arr = NULL;
    size_t index = 0;

    while ((c = cli_getopt_long(argc, argv, "hjd:p:", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'p':
            password = optarg;
            break;
        case 'd': {
            char *e;

            days = strtol(optarg, &e, 10);
            if (*optarg == '\0' || *e != '\0' || days < 0 || days > 1000000) {
                cli_error("print: --days needs a whole number of days (0 to 1000000), not '%s'",
                          optarg);
                return CLI_USAGE;
            }
            break;
        }
        case 'h':
            print_usage(stdout);
            return CLI_OK;
        default:
            print_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("print: name at least one file (\"-\" for standard input)");
        print_usage(stderr);
        return CLI_USAGE;
    }
    if (json && (arr = json_array()) == NULL) {
        cli_error("out of memory");
        return CLI_FAIL;
    }

    for (int f = optind; f < argc; f++) {
        dbt_bundle *b = NULL;
        dbt_err err;

        if (cli_read_file(argv[f], password, "--password", &b, NULL) != 0) {
            rc = CLI_FAIL;
            continue;
        }
        if (b->n == 0) {
            cli_error("%s: no certificate found; check that this is a certificate file", b->source);
            rc = CLI_FAIL;
        }
        for (size_t i = 0; i < b->n; i++) {
            dbt_certinfo ci;
            cert_status s;

            if (dbt_certinfo_get(b->certs[i].x509, &ci, &err) != 0) {
                cli_error("%s: certificate %zu (block %d): %s", b->source, i + 1, b->certs[i].block,
                          err.msg);
                rc = CLI_FAIL;
                continue;
            }
            s = status_of(&ci, days);
            index++;
            if (json) {
                json_t *o = cert_json(b->source, &b->certs[i], i + 1, &ci, s);

                if (o == NULL || json_array_append_new(arr, o) != 0) {
                    cli_error("out of memory");
                    rc = CLI_FAIL;
                }
            } else {
                if (index > 1)
                    putchar('\n');
                print_text(b->source, &b->certs[i], i + 1, b->n, &ci, s);
            }
        }
        dbt_bundle_free(b);
    }
    if (json) {
        if (cli_json_print(arr) != 0)
            rc = CLI_FAIL;
        json_decref(arr);
    }
    if (cli_stdout_flush() != 0)
        rc = CLI_FAIL;
    return rc;
}
