/* dbtrust doctor: each trust consumer of the host (or of another root file system), what its
 * default trust reads and whether the catalog reaches it, with the fix when not. lib/consumers.c
 * finds and checks; this file words and prints. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog.h"
#include "commands.h"
#include "consumers.h"
#include "syswire.h"

static void doctor_usage(FILE *out)
{
    fprintf(out, "usage: dbtrust [--catalog DIR] doctor [--root DIR] [--json]\n\n"
                 "Reports each trust consumer found and whether the catalog's CAs reach it:\n"
                 "every libcrypto that a libpq.so.5 loads (library directories of\n"
                 "/etc/ld.so.conf, /usr/lib/postgresql/*/lib, /usr/pgsql-*/lib,\n"
                 "/usr/local/pgsql/lib) or that a Python package bundles\n"
                 "(/usr/lib/python3*/ and /usr/local/lib/python3*/ dist-packages or\n"
                 "site-packages, PACKAGE.libs/libcrypto*.so*): its version and OPENSSLDIR, read\n"
                 "from the file without loading it, and whether every certificate of the\n"
                 "catalog's trust view is found through OPENSSLDIR/certs and OPENSSLDIR/cert.pem;\n"
                 "and the JVM's system truststore (/etc/ssl/certs/java/cacerts): how many of the\n"
                 "catalog's unscoped CAs it holds. Each one not reached gets its fix.\n\n"
                 "  -r, --root DIR  inspect the root file system DIR (a container image, a\n"
                 "                  chroot): every path is read inside DIR, links included\n"
                 "  -j, --json      print JSON\n"
                 "  -h, --help      show this help\n\n"
                 "Exit status: 0 when every consumer found reaches the catalog, 1 when one does\n"
                 "not or cannot be inspected, 2 for a usage error.\n");
}

static const char *kind_name(int kind)
{
    return kind == DBT_DOC_LIBPQ ? "libpq" : "bundled";
}

/* The fix, in this program's words. */
static const char *fix_text(const dbt_doc_crypto *e, char *buf, size_t n)
{
    const char *who = e->kind == DBT_DOC_LIBPQ ? "loaded by" : "bundled by";
    char by[PATH_MAX + 300];

    snprintf(by, sizeof(by), "%s", e->kind == DBT_DOC_LIBPQ ? cli_esc(e->by) : cli_esc(e->package));
    switch (e->fix) {
    case DBT_DOC_FIX_SYSTEM_ENABLE:
        snprintf(buf, n, "run 'dbtrust system enable' (links the catalog into %s)",
                 cli_esc(e->certdir));
        break;
    case DBT_DOC_FIX_SYSTEM_REFRESH:
        snprintf(buf, n, "run 'dbtrust system refresh' (the links in %s do not follow the catalog)",
                 cli_esc(e->certdir));
        break;
    case DBT_DOC_FIX_IN_ROOT:
        snprintf(buf, n,
                 "run 'dbtrust system enable' inside that root (its %s is what this libcrypto "
                 "reads), or use 'dbtrust env' (SSL_CERT_DIR) for its programs",
                 cli_esc(e->certdir));
        break;
    case DBT_DOC_FIX_ENV:
        snprintf(buf, n,
                 "this libcrypto (%s %s) reads %s, not the directory 'dbtrust system enable' "
                 "wires (%s): use 'dbtrust env' (SSL_CERT_DIR) for its programs",
                 who, by, cli_esc(e->certdir), cli_esc(dbt_sys_cert_dir()));
        break;
    default:
        buf[0] = '\0';
    }
    return buf;
}

static int crypto_ok(const dbt_doc_crypto *e)
{
    return e->error[0] == '\0' && e->found >= 0 && (size_t)e->found == e->total;
}

static int jvm_ok(const dbt_doc_jvm *j)
{
    return j->error[0] == '\0' && (!j->present || j->held == j->unscoped);
}

static const char jvm_fix[] =
    "run 'dbtrust system enable' (which keeps the JVM store in step where it supports it), or "
    "give the service its own truststore: 'dbtrust export --format jks OUT'";

static void print_text(const dbt_doctor *d)
{
    const char *envdir = getenv("SSL_CERT_DIR"), *envfile = getenv("SSL_CERT_FILE");
    char fix[PATH_MAX * 3];
    size_t i, k;

    if (d->root[0] != '\0')
        printf("root: %s (every path below is inside it)\n", cli_esc(d->root));
    if (d->nlibpq == 0)
        printf("no libpq.so.5 found\n");
    for (i = 0; i < d->n; i++) {
        const dbt_doc_crypto *e = &d->c[i];

        if (e->kind == DBT_DOC_LIBPQ)
            printf("libpq %s", cli_esc(e->by));
        else
            printf("Python package %s (%s)", cli_esc(e->package), cli_esc(e->by));
        if (e->path[0] != '\0')
            printf(" %s %s\n", e->kind == DBT_DOC_LIBPQ ? "loads" : "bundles", cli_esc(e->path));
        else
            printf("\n");
        if (e->error[0] != '\0' && e->found < 0 && e->s.openssldir[0] == '\0') {
            printf("  error: %s\n", cli_esc(e->error));
            continue;
        }
        printf("  %s, OPENSSLDIR %s\n",
               e->s.version[0] ? cli_esc(e->s.version) : "OpenSSL (version string not found)",
               cli_esc(e->s.openssldir));
        printf("  default trust: directory %s, file %s\n", cli_esc(e->certdir),
               cli_esc(e->certfile));
        if (d->root[0] == '\0' && (envdir != NULL || envfile != NULL))
            printf("  note: this environment sets%s%s%s%s, which replace%s these for programs "
                   "started from it (a service's environment may not)\n",
                   envdir ? " SSL_CERT_DIR=" : "", envdir ? cli_esc(envdir) : "",
                   envfile ? " SSL_CERT_FILE=" : "", envfile ? cli_esc(envfile) : "",
                   envdir && envfile ? "" : "s");
        if (e->error[0] != '\0') {
            printf("  error: %s\n", cli_esc(e->error));
            continue;
        }
        if (crypto_ok(e)) {
            printf("  reachable: all %zu catalog certificates are found there\n", e->total);
            continue;
        }
        printf("  UNREACHABLE: %ld of %zu catalog certificates are found there\n", e->found,
               e->total);
        for (k = 0; k < e->nmissing; k++)
            printf("    missing: %s\n", e->missing[k]);
        if ((size_t)e->found + e->nmissing < e->total)
            printf("    ... and %zu more\n", e->total - (size_t)e->found - e->nmissing);
        printf("  fix: %s\n", fix_text(e, fix, sizeof(fix)));
    }
    if (!d->jvm.present && d->jvm.error[0] == '\0') {
        printf("no JVM system truststore (%s)\n", cli_esc(d->jvm.path));
    } else {
        const dbt_doc_jvm *j = &d->jvm;

        printf("JVM system truststore %s", cli_esc(j->path));
        if (j->error[0] != '\0') {
            printf("\n  error: %s\n", cli_esc(j->error));
        } else {
            printf(" (%s, %zu trusted certificates%s)\n", j->type, j->entries,
                   j->password_default ? ", default password" : "");
            printf("  %s: holds %zu of the catalog's %zu unscoped CAs\n",
                   j->held == j->unscoped ? "reachable" : "UNREACHABLE", j->held, j->unscoped);
            if (j->scoped > 0)
                printf("  %zu CA%s of scoped bundles %s intentionally absent: Java ignores name "
                       "constraints on trust anchors\n",
                       j->scoped, j->scoped == 1 ? "" : "s", j->scoped == 1 ? "is" : "are");
            if (j->scoped_present > 0)
                printf("  warning: %zu of them %s in the store anyway, trusted there for every "
                       "host name\n",
                       j->scoped_present, j->scoped_present == 1 ? "is" : "are");
            if (j->fix == DBT_DOC_FIX_JVM)
                printf("  fix: %s\n", jvm_fix);
        }
    }
    for (i = 0; i < d->nnotes; i++)
        printf("note: %s\n", d->notes[i]);
}

static json_t *crypto_json(const dbt_doc_crypto *e)
{
    json_t *o = json_object(), *miss = json_array();
    char fix[PATH_MAX * 3];
    size_t k;

    json_object_set_new(o, "kind", json_string(kind_name(e->kind)));
    json_object_set_new(o, e->kind == DBT_DOC_LIBPQ ? "libpq" : "bundled_in", cli_json_str(e->by));
    if (e->kind == DBT_DOC_BUNDLED)
        json_object_set_new(o, "package", cli_json_str(e->package));
    json_object_set_new(o, "libcrypto", e->path[0] ? cli_json_str(e->path) : json_null());
    json_object_set_new(o, "version", e->s.version[0] ? cli_json_str(e->s.version) : json_null());
    json_object_set_new(o, "openssldir",
                        e->s.openssldir[0] ? cli_json_str(e->s.openssldir) : json_null());
    json_object_set_new(o, "cert_dir", e->certdir[0] ? cli_json_str(e->certdir) : json_null());
    json_object_set_new(o, "cert_file", e->certfile[0] ? cli_json_str(e->certfile) : json_null());
    json_object_set_new(o, "system_dir", json_boolean(e->wired_dir));
    json_object_set_new(o, "reachable", json_boolean(crypto_ok(e)));
    json_object_set_new(o, "found", e->found >= 0 ? json_integer(e->found) : json_null());
    json_object_set_new(o, "total", json_integer((json_int_t)e->total));
    for (k = 0; k < e->nmissing; k++)
        json_array_append_new(miss, json_string(e->missing[k]));
    json_object_set_new(o, "missing", miss);
    fix_text(e, fix, sizeof(fix));
    json_object_set_new(o, "fix", fix[0] ? cli_json_str(fix) : json_null());
    json_object_set_new(o, "error", e->error[0] ? cli_json_str(e->error) : json_null());
    return o;
}

static int print_json(const dbt_doctor *d, int ok)
{
    const char *envdir = getenv("SSL_CERT_DIR"), *envfile = getenv("SSL_CERT_FILE");
    json_t *o = json_object(), *arr = json_array(), *j = json_object(), *notes = json_array();
    const dbt_doc_jvm *v = &d->jvm;
    size_t i;
    int rc;

    json_object_set_new(o, "root", cli_json_str(d->root[0] ? d->root : "/"));
    json_object_set_new(o, "reachable", json_boolean(ok));
    json_object_set_new(o, "libpq_found", json_integer((json_int_t)d->nlibpq));
    for (i = 0; i < d->n; i++)
        json_array_append_new(arr, crypto_json(&d->c[i]));
    json_object_set_new(o, "libcrypto", arr);
    if (d->root[0] == '\0') {
        json_object_set_new(o, "env_ssl_cert_dir", envdir ? cli_json_str(envdir) : json_null());
        json_object_set_new(o, "env_ssl_cert_file", envfile ? cli_json_str(envfile) : json_null());
    }
    json_object_set_new(j, "path", cli_json_str(v->path));
    json_object_set_new(j, "present", json_boolean(v->present));
    if (v->present && v->error[0] == '\0') {
        json_object_set_new(j, "type", json_string(v->type));
        json_object_set_new(j, "certificates", json_integer((json_int_t)v->entries));
        json_object_set_new(j, "default_password", json_boolean(v->password_default));
        json_object_set_new(j, "unscoped", json_integer((json_int_t)v->unscoped));
        json_object_set_new(j, "held", json_integer((json_int_t)v->held));
        json_object_set_new(j, "scoped_absent",
                            json_integer((json_int_t)(v->scoped - v->scoped_present)));
        json_object_set_new(j, "scoped_present", json_integer((json_int_t)v->scoped_present));
        json_object_set_new(j, "reachable", json_boolean(jvm_ok(v)));
        json_object_set_new(j, "fix", v->fix ? json_string(jvm_fix) : json_null());
    }
    json_object_set_new(j, "error", v->error[0] ? cli_json_str(v->error) : json_null());
    json_object_set_new(o, "jvm", j);
    for (i = 0; i < d->nnotes; i++)
        json_array_append_new(notes, json_string(d->notes[i]));
    json_object_set_new(o, "notes", notes);
    rc = cli_json_print(o);
    json_decref(o);
    return rc;
}

int cli_cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL;
    dbt_catalog *cat = NULL;
    dbt_doctor d;
    dbt_err err;
    int json = 0, c, ok = 1, rc = CLI_FAIL;
    size_t i;

    while ((c = cli_getopt_long(argc, argv, "r:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            root = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            doctor_usage(stdout);
            return CLI_OK;
        default:
            doctor_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("doctor takes no arguments (got '%s')", argv[optind]);
        return CLI_USAGE;
    }
    if (root != NULL && root[0] != '/') {
        cli_error("--root needs an absolute path (got '%s')", root);
        return CLI_USAGE;
    }
    if (cli_open_catalog(DBT_CAT_READ, &cat) != 0)
        return CLI_FAIL;
    if (dbt_doctor_run(root, cat, &d, &err) != 0) {
        cli_error("%s", err.msg);
        goto end;
    }
    for (i = 0; i < d.n; i++)
        ok &= crypto_ok(&d.c[i]);
    ok &= jvm_ok(&d.jvm);
    if (json ? print_json(&d, ok) != 0 : (print_text(&d), 0)) {
        dbt_doctor_clear(&d);
        goto end;
    }
    if (!json)
        printf("%s\n", ok ? "every consumer found reaches the catalog"
                          : "some consumers do not reach the catalog (see fix: lines)");
    dbt_doctor_clear(&d);
    rc = cli_stdout_flush() != 0 ? CLI_FAIL : ok ? CLI_OK : CLI_FAIL;
end:
    dbt_catalog_close(cat);
    return rc;
}
