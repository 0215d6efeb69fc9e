/* The system wiring's actions (lib/syswire.h): enable, disable, refresh, and the follow that every
 * catalog commit runs, each under the system lock with the state file read again under it. The
 * default verify paths are the only way into what sslrootcert=system trusts, and the bundle file
 * is never grown unless asked (every SSL_CTX parses it whole). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "sys_int.h"

/* What the system gets: the catalog's trust view (scoped bundles as their scoped forms). */
static int load_wants(const sys_out *o, dbt_catalog *cat, struct sys_want **out, size_t *n)
{
    dbt_catalog_trust *view = NULL;
    dbt_err err;
    size_t i;

    if (dbt_catalog_trust_view(cat, &view, n, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        return -1;
    }
    if ((*out = calloc(*n ? *n : 1, sizeof(**out))) == NULL) {
        free(view);
        sys_say(o, DBT_SYS_ERROR, 0, "out of memory");
        return -1;
    }
    for (i = 0; i < *n; i++) {
        memcpy((*out)[i].sha256, view[i].sha256, 65);
        (*out)[i].hash = view[i].hash;
        (*out)[i].scoped = view[i].scoped;
    }
    free(view);
    return 0;
}

/* The directory must exist and be a directory: OpenSSL would read nothing from a new one on a
 * system whose default directory is elsewhere, and creating system directories is packaging's
 * job. */
static int check_dir(const sys_out *o, const char *dir)
{
    struct stat st;

    if (dir[0] != '/') {
        sys_say(o, DBT_SYS_ERROR, 0, "the system certificate directory '%s' is not absolute", dir);
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sys_say(o, DBT_SYS_ERROR, DBT_HINT_SYSTEM_USE_ENV,
                "OpenSSL's default certificate directory %s %s; this system keeps its trust "
                "elsewhere",
                dir, errno == ENOENT ? "does not exist" : "is not a directory");
        return -1;
    }
    return 0;
}

/* Whether path can be recorded in the state file and the bundle file's markers; says why not.
 * Both are written as they are: a line break there would let the path add lines (a whole PEM
 * block, another state key) to files every TLS client or the next run reads. */
static int wired_path_ok(const sys_out *o, const char *what, const char *path)
{
    char head[2 * PATH_MAX + 256];

    if (path[0] != '/' || dbt_escape_needed(path, strlen(path))) {
        snprintf(head, sizeof(head),
                 "the %s path %s %s, which the system wiring's files cannot record safely; "
                 "use a path without control characters",
                 what, path,
                 path[0] != '/' ? "is not absolute"
                                : "holds a control character or bytes that are not UTF-8");
        sys_say_split(o, DBT_SYS_ERROR, DBT_HINT_SYSTEM_PATH_OPTS, head, "; nothing was changed");
        return -1;
    }
    return 0;
}

/* Reads the state file before and again under the lock (taken in *lock). 1, 0 (not enabled:
 * decided before taking the lock, which would create the state directory) or -1. */
static int read_locked(const sys_out *o, dbt_sys_state *s, int *lock)
{
    int st;

    if ((st = dbt_sys_state_read(s, o->fn, o->arg)) <= 0)
        return st;
    if ((*lock = sys_lock(o)) < 0)
        return -1;
    return dbt_sys_state_read(s, o->fn, o->arg);
}

/* enable and refresh once the catalog and the target are known: st is what the state file said
 * (1: recorded already). */
static int wire(const sys_out *o, int enable, int st, dbt_catalog *cat, dbt_sys_result *r)
{
    dbt_sys_state *s = &r->state;
    struct sys_journal j = {0};
    struct sys_want *w = NULL;
    size_t nw = 0;
    int rc = -1;

    j.out = o;
    if ((!s->bundle_file && check_dir(o, s->target) != 0) || load_wants(o, cat, &w, &nw) != 0)
        goto end;
    /* Record first: even a crash half-way is then repaired by refresh or undone by disable. */
    if (st != 1 && sys_state_write(o, s->catalog, s->target, s->bundle_file) != 0)
        goto end;
    /* The links first, then the JVM truststore: a store that cannot follow undoes enable's
     * links too, so that enable leaves everything as it was. */
    if (sys_wire_sync(&j, s->bundle_file, s->target, s->catalog, cat, w, nw, &r->added,
                      &r->removed) != 0 ||
        sys_jvm_sync(o, cat, &r->jvm, NULL) != 0) {
        if (enable) {
            sys_j_undo(&j);
            if (st != 1)
                unlink(dbt_sys_state_path());
            rc = DBT_SYS_UNDONE;
        } else {
            rc = DBT_SYS_PARTWAY;
        }
        goto end;
    }
    r->n = nw;
    rc = 0;
end:
    sys_j_free(&j);
    free(w);
    return rc;
}

int dbt_sys_enable(dbt_sys_open_fn *open, void *open_arg, int bundle_file, dbt_sys_result *r,
                   dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out out = {fn, arg}, *o = &out;
    dbt_sys_state *s = &r->state;
    dbt_catalog *cat = NULL;
    int st, lock = -1, rc = -1;

    memset(r, 0, sizeof(*r));
    if ((st = dbt_sys_state_read(s, fn, arg)) < 0)
        return -1; /* said why; nothing changed, not even the lock */
    if ((lock = sys_lock(o)) < 0)
        return -1;
    if ((st = dbt_sys_state_read(s, fn, arg)) < 0 || open(open_arg, &cat) != 0)
        goto end;
    if (st == 1 &&
        (strcmp(s->catalog, dbt_catalog_path(cat)) != 0 || s->bundle_file != bundle_file)) {
        rc = DBT_SYS_OTHER_CATALOG;
        goto end;
    }
    snprintf(s->catalog, sizeof(s->catalog), "%s", dbt_catalog_path(cat));
    if (st != 1) {
        s->bundle_file = bundle_file;
        snprintf(s->target, sizeof(s->target), "%s",
                 bundle_file ? dbt_sys_cert_file() : dbt_sys_cert_dir());
    }
    if (wired_path_ok(o, "catalog", s->catalog) != 0 ||
        wired_path_ok(o, s->bundle_file ? "bundle file" : "certificate directory", s->target) != 0)
        goto end;
    rc = wire(o, 1, st, cat, r);
end:
    dbt_catalog_close(cat);
    sys_unlock(lock);
    return rc;
}

int dbt_sys_refresh(dbt_sys_result *r, dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out out = {fn, arg}, *o = &out;
    dbt_catalog *cat = NULL;
    dbt_err err;
    int st, lock = -1, rc = -1;

    memset(r, 0, sizeof(*r));
    if ((st = read_locked(o, &r->state, &lock)) < 0)
        goto end;
    if (st == 0) {
        rc = DBT_SYS_NOT_ENABLED;
        goto end;
    }
    if (dbt_catalog_open(r->state.catalog, DBT_CAT_READ, &cat, &err) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s", err.msg);
        goto end;
    }
    rc = wire(o, 0, st, cat, r);
end:
    dbt_catalog_close(cat);
    sys_unlock(lock);
    return rc;
}

int dbt_sys_disable(dbt_sys_result *r, dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out out = {fn, arg}, *o = &out;
    dbt_sys_state *s = &r->state;
    struct sys_journal j = {0};
    struct sys_jvm_undo ju = {0};
    int st, lock = -1, rc = -1;

    memset(r, 0, sizeof(*r));
    j.out = o;
    if ((st = read_locked(o, s, &lock)) < 0)
        goto end;
    if (st == 0) {
        rc = DBT_SYS_NOT_ENABLED;
        goto end;
    }
    if (sys_wire_sync(&j, s->bundle_file, s->target, s->catalog, NULL, NULL, 0, &r->added,
                      &r->removed) != 0 ||
        sys_jvm_sync(o, NULL, &r->jvm, &ju) != 0) {
        sys_j_undo(&j);
        rc = DBT_SYS_UNDONE;
        goto end;
    }
    if (unlink(dbt_sys_state_path()) != 0 && errno != ENOENT) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot remove %s: %s; %s is as it was", dbt_sys_state_path(),
                strerror(errno), s->target);
        sys_jvm_undo(o, &ju);
        sys_j_undo(&j);
        goto end;
    }
    rc = 0;
end:
    sys_jvm_undo_free(&ju);
    sys_j_free(&j);
    sys_unlock(lock);
    return rc;
}

int dbt_sys_follow(dbt_catalog *cat, dbt_sys_msg_fn *fn, void *arg, dbt_err *err)
{
    const sys_out out = {fn, arg}, *o = &out;
    dbt_sys_state s;
    dbt_sys_jvm jvm;
    struct sys_journal j = {0};
    struct sys_want *w = NULL;
    size_t nw = 0, added, removed;
    int lock = -1, st, rc = -1;

    j.out = o;
    /* Most catalogs are not wired: that is decided before taking the system lock (which would
     * create the state directory), and an absent state file creates nothing. */
    if ((st = dbt_sys_state_read(&s, fn, arg)) < 0)
        goto end;
    if (st != 1 || strcmp(s.catalog, dbt_catalog_path(cat)) != 0)
        return 0;
    if ((lock = sys_lock(o)) < 0)
        goto end;
    if ((st = dbt_sys_state_read(&s, fn, arg)) < 0)
        goto end;
    if (st != 1 || strcmp(s.catalog, dbt_catalog_path(cat)) != 0) {
        rc = 0; /* disabled meanwhile */
        goto end;
    }
    if (load_wants(o, cat, &w, &nw) != 0)
        goto end;
    /* No undo here: the catalog has changed already, and links that follow it part-way are
     * closer to it than the old ones (which may point at certificates that left). */
    rc = sys_wire_sync(&j, s.bundle_file, s.target, s.catalog, cat, w, nw, &added, &removed);
    if (rc == 0 && sys_jvm_sync(o, cat, &jvm, NULL) != 0) {
        rc = -1;
        snprintf(s.target, sizeof(s.target), "%s", dbt_sys_jvm_store());
    }
end:
    if (rc != 0) {
        const char *what = s.target[0] != '\0' ? s.target : "the system wiring";

        sys_say(o, DBT_SYS_ERROR, DBT_HINT_SYSTEM_REFRESH_ROOT,
                "the catalog changed but %s could not follow", what);
        dbt_err_set(err, "the catalog changed but %s could not follow", what);
    }
    sys_j_free(&j);
    free(w);
    sys_unlock(lock);
    return rc;
}

void dbt_sys_count_links(const char *dir, dbt_sys_links *out)
{
    char target[PATH_MAX], path[PATH_MAX];
    struct dirent *de;
    struct stat st;
    unsigned long hash;
    DIR *d;
    int n;

    out->certs = out->hashes = out->dangling = 0;
    if ((d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (sys_our_link_sha(de->d_name) != NULL) {
            out->certs++;
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            if (stat(path, &st) != 0)
                out->dangling++;
        } else if (sys_hash_link_name(de->d_name, &hash, &n) &&
                   sys_link_points_to_us(dir, de->d_name, target, sizeof(target))) {
            out->hashes++;
        }
    }
    closedir(d);
}
