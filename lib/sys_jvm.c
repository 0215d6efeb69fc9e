/* The JVM's system truststore kept in step with the catalog (lib/syswire.h, dbt_sys_jvm_*):
 * Java (pgjdbc, any JSSE client) never reads OpenSSL's hashed directory, so enable, every refresh
 * and disable also write the catalog's unscoped CAs into the JVM truststore as trusted
 * certificate entries under aliases dbtrust owns, keeping every other entry byte for byte. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bundle.h"
#include "fsutil.h"
#include "jks.h"
#include "p12.h"
#include "sys_int.h"

static const char *jvm_env_or(const char *name, const char *dflt)
{
#ifdef HAVE_SECURE_GETENV
    const char *v = secure_getenv(name);
#else
    const char *v = getenv(name);
#endif
    return v != NULL && *v != '\0' ? v : dflt;
}

const char *dbt_sys_jvm_store(void)
{
    static const char *const standins[] = {"DBTRUST_SYSTEM_CERT_DIR", "DBTRUST_SYSTEM_CERT_FILE",
                                           "DBTRUST_SYSTEM_STATE"};
    const char *v = jvm_env_or("DBTRUST_SYSTEM_JVM_STORE", NULL);
    size_t i;

    if (v != NULL)
        return v;
    /* A stand-in system (tests, packaging) has no JVM unless it names one: the machine's own
     * store is never changed on behalf of a directory that is not the machine's. */
    for (i = 0; i < sizeof(standins) / sizeof(standins[0]); i++)
        if (jvm_env_or(standins[i], NULL) != NULL)
            return NULL;
    return DBT_SYS_JVM_STORE;
}

/* One entry dbtrust wants in the store. */
struct jvm_want {
    char sha256[65];
    char alias[sizeof(DBT_SYS_JVM_ALIAS_PREFIX) + DBT_CATALOG_NAME_MAX + 1 + DBT_SYS_JVM_SHA_LEN];
    int present; /* already in the store, same alias, same certificate */
};

/* What one look at the store found, and what a sync would change. */
struct jvm_plan {
    const sys_out *o;
    const char *path;
    char *data; /* the store as read */
    size_t len;
    struct stat st;
    char pass[256];
    dbt_bundle *b; /* its certificates, as decoded with pass */
    struct jvm_want *w;
    size_t nw;
    size_t drop; /* dbtrust entries to remove (stale) */
    size_t ours; /* dbtrust entries found */
    int refused; /* an alias dbtrust wants is taken by an entry that is not its own */
};

/* The SHA-256 of x as lowercase hex. */
static int jvm_sha256(X509 *x, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    int i;

    if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32)
        return -1;
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/*
 * Whether an entry is dbtrust's: its alias is DBT_SYS_JVM_ALIAS_PREFIX<name>-<16 hex> AND those
 * 16 hex digits begin the SHA-256 of its certificate. An entry someone else put under such a name
 * with another certificate is not dbtrust's, and is never removed or replaced.
 */
static int jvm_is_ours(const char *alias, X509 *x, char sha[65])
{
    size_t n = strlen(alias), pl = strlen(DBT_SYS_JVM_ALIAS_PREFIX);

    if (n < pl + 2 + DBT_SYS_JVM_SHA_LEN || strncmp(alias, DBT_SYS_JVM_ALIAS_PREFIX, pl) != 0 ||
        alias[n - DBT_SYS_JVM_SHA_LEN - 1] != '-' ||
        !sys_is_hex(alias + n - DBT_SYS_JVM_SHA_LEN, DBT_SYS_JVM_SHA_LEN))
        return 0;
    if (jvm_sha256(x, sha) != 0)
        return 0;
    return memcmp(sha, alias + n - DBT_SYS_JVM_SHA_LEN, DBT_SYS_JVM_SHA_LEN) == 0;
}

/* The store's password: storepass= of /etc/default/cacerts (read as ca-certificates-java's
 * maintainer scripts source it: a plain or quoted value), else Java's default, "changeit". */
static void jvm_password(char *pass, size_t n)
{
    char *text = NULL, *line, *save = NULL, *v;
    size_t len = 0;
    struct stat st;

    snprintf(pass, n, "%s", "changeit");
    if (sys_read_regular(DBT_SYS_JVM_DEFAULTS, DBT_SYS_STATE_MAX, &text, &len, &st) != 0)
        return;
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        size_t l;

        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, "storepass=", 10) != 0)
            continue;
        v = line + 10;
        l = strlen(v);
        while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t' || v[l - 1] == '\r'))
            v[--l] = '\0';
        if (l >= 2 && (v[0] == '\'' || v[0] == '"') && v[l - 1] == v[0]) {
            v[l - 1] = '\0';
            v++;
        }
        snprintf(pass, n, "%s", v); /* the last assignment wins, as in the shell */
    }
    OPENSSL_cleanse(text, len);
    free(text);
}

static void jvm_plan_free(struct jvm_plan *p)
{
    if (p->data != NULL)
        OPENSSL_clear_free(p->data, p->len);
    OPENSSL_cleanse(p->pass, sizeof(p->pass));
    dbt_bundle_free(p->b);
    free(p->w);
}

/*
 * Reads and checks the store. 1: read (p filled); 0: there is no store (no JVM here); -1: said
 * why (nothing may be changed).
 */
static int jvm_read(struct jvm_plan *p)
{
    const sys_out *o = p->o;
    dbt_err err;
    int fd, r;

    if (p->path[0] != '/') {
        sys_say(o, DBT_SYS_ERROR, 0,
                "the JVM truststore path '%s' is not absolute; nothing was "
                "changed",
                p->path);
        return -1;
    }
    if ((fd = sys_open_regular(p->path, 0, &p->st)) == -2) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "the JVM truststore %s is %s, not a regular file: dbtrust replaces it only as a "
                "regular file (never through a link to elsewhere, never a FIFO or device); "
                "nothing was changed; make it a regular file, or point DBTRUST_SYSTEM_JVM_STORE "
                "at the file the link names",
                p->path, dbt_fs_kind(p->st.st_mode));
        return -1;
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        sys_say(o, DBT_SYS_ERROR, 0, "cannot open the JVM truststore %s: %s; nothing was changed",
                p->path, strerror(errno));
        return -1;
    }
    r = sys_read_capped(fd, DBT_SYS_JVM_MAX, &p->data, &p->len);
    close(fd);
    if (r != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot read the JVM truststore %s: %s; nothing was changed",
                p->path, r > 0 ? "larger than 64 MiB" : strerror(errno));
        return -1;
    }
    jvm_password(p->pass, sizeof(p->pass));
    if ((p->b = dbt_bundle_new(p->path)) == NULL) {
        sys_say(o, DBT_SYS_ERROR, 0, "out of memory");
        return -1;
    }
    p->b->format = dbt_jks_sniff((unsigned char *)p->data, p->len) ? DBT_FMT_JKS : DBT_FMT_PKCS12;
    r = p->b->format == DBT_FMT_JKS
            ? dbt_jks_decode((unsigned char *)p->data, p->len, p->pass, p->b, &err)
            : dbt_p12_decode((unsigned char *)p->data, p->len, p->pass, p->b, &err);
    if (r != 0) {
        if (err.code == DBT_E_INTEGRITY)
            sys_say(o, DBT_SYS_ERROR, 0,
                    "the JVM truststore %s fails its integrity check with the password of %s "
                    "(storepass=, else changeit): the file was altered, or its password is another "
                    "one; set storepass= in %s to the store's password, or rebuild the store "
                    "(update-ca-certificates --fresh on Debian); nothing was changed",
                    p->path, DBT_SYS_JVM_DEFAULTS, DBT_SYS_JVM_DEFAULTS);
        else
            sys_say(o, DBT_SYS_ERROR, 0,
                    "the JVM truststore %s cannot be read as a JKS or PKCS#12 keystore (%s); "
                    "restore or rebuild it (update-ca-certificates --fresh on Debian); nothing "
                    "was changed",
                    p->path, err.msg);
        return -1;
    }
    return 1;
}

static int cmp_want_alias(const void *a, const void *b)
{
    return strcasecmp(((const struct jvm_want *)a)->alias, ((const struct jvm_want *)b)->alias);
}

/*
 * The entries dbtrust wants: each distinct certificate that an unscoped bundle holds, once,
 * under DBT_SYS_JVM_ALIAS_PREFIX<first such bundle, lowercase>-<16 hex of its SHA-256>. A
 * certificate only scoped bundles hold is left out (Java ignores an anchor's name constraints:
 * it would be trusted for every name) and counted in *scoped. cat NULL: none.
 */
static int jvm_wants(struct jvm_plan *p, dbt_catalog *cat, size_t *scoped)
{
    dbt_catalog_entry *e = NULL;
    dbt_catalog_cert *c = NULL;
    size_t ne = 0, nc = 0, i, k;
    dbt_err err;
    int rc = -1;

    *scoped = 0;
    if (cat == NULL)
        return 0;
    if (dbt_catalog_list(cat, &e, &ne, &err) != 0 || dbt_catalog_certs(cat, &c, &nc, &err) != 0) {
        sys_say(p->o, DBT_SYS_ERROR, 0, "%s", err.msg);
        goto end;
    }
    if ((p->w = calloc(nc ? nc : 1, sizeof(*p->w))) == NULL) {
        sys_say(p->o, DBT_SYS_ERROR, 0, "out of memory");
        goto end;
    }
    for (i = 0; i < nc; i++) {
        const char *unscoped = NULL;
        char *a;

        for (k = 0; k < c[i].nbundles && unscoped == NULL; k++) {
            size_t j;

            /* Both lists are short and sorted; a linear search keeps this plain. */
            for (j = 0; j < ne; j++)
                if (strcmp(e[j].name, c[i].bundles[k]) == 0 && e[j].meta.scope[0] == '\0')
                    unscoped = e[j].name;
        }
        if (unscoped == NULL) {
            (*scoped)++;
            continue;
        }
        memcpy(p->w[p->nw].sha256, c[i].sha256, 65);
        a = p->w[p->nw].alias;
        snprintf(a, sizeof(p->w[p->nw].alias), "%s%s-%.*s", DBT_SYS_JVM_ALIAS_PREFIX, unscoped,
                 DBT_SYS_JVM_SHA_LEN, c[i].sha256);
        for (; *a; a++) /* Java keeps JKS aliases in lowercase */
            if (*a >= 'A' && *a <= 'Z')
                *a = (char)(*a - 'A' + 'a');
        p->nw++;
    }
    qsort(p->w, p->nw, sizeof(*p->w), cmp_want_alias);
    rc = 0;
end:
    dbt_catalog_certs_free(c, nc);
    free(e);
    return rc;
}

/* Matches the store's entries against the wants: present ones, stale ones (p->drop), and
 * aliases taken by others (said, p->refused). */
static void jvm_match(struct jvm_plan *p)
{
    size_t i;

    for (i = 0; i < p->b->n; i++) {
        const dbt_cert *c = &p->b->certs[i];
        struct jvm_want key, *w;
        char sha[65];
        int ours;

        if (c->alias == NULL || c->origin != DBT_ORIGIN_PLAIN)
            continue;
        ours = jvm_is_ours(c->alias, c->x509, sha);
        p->ours += ours;
        snprintf(key.alias, sizeof(key.alias), "%s", c->alias);
        w = p->nw > 0 ? bsearch(&key, p->w, p->nw, sizeof(*p->w), cmp_want_alias) : NULL;
        if (w != NULL && ours && strcmp(sha, w->sha256) == 0 && !w->present) {
            w->present = 1;
            continue;
        }
        if (ours) {
            p->drop++;
            continue;
        }
        if (w != NULL) {
            char *esc;

            sys_say(p->o, DBT_SYS_ERROR, 0,
                    "the JVM truststore %s already has an entry '%s' that dbtrust did not write "
                    "(its certificate is not the one the alias names); dbtrust never takes over "
                    "an alias: rename or delete that entry (keytool -changealias or -delete), "
                    "then run again; nothing was changed",
                    p->path, sys_esc(c->alias, &esc));
            free(esc);
            p->refused = 1;
        }
    }
}

/* Keep callback of the rewriters: dbtrust's entries stay only when wanted as they are. */
static int jvm_keep(void *arg, const char *alias, X509 *x)
{
    struct jvm_plan *p = arg;
    struct jvm_want key, *w;
    char sha[65];

    if (!jvm_is_ours(alias, x, sha))
        return 1;
    snprintf(key.alias, sizeof(key.alias), "%s", alias);
    w = p->nw > 0 ? bsearch(&key, p->w, p->nw, sizeof(*p->w), cmp_want_alias) : NULL;
    return w != NULL && strcmp(w->sha256, sha) == 0;
}

/*
 * Replaces the store with data: a new file beside it (exclusive, never through a link), the
 * store's owner and mode, fsync, then renamed over it only if the path is still the regular file
 * that was read (same device and inode), and the directory fsynced.
 */
static int jvm_replace(const sys_out *o, const char *path, const struct stat *was,
                       const unsigned char *data, size_t len)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    struct stat now;
    size_t off = 0;
    int fd = -1, dfd = -1, rc = -1;

    snprintf(dir, sizeof(dir), "%s", path);
    if (snprintf(tmp, sizeof(tmp), "%s.dbtrust-tmp", path) >= (int)sizeof(tmp)) {
        sys_say(o, DBT_SYS_ERROR, 0, "the JVM truststore path %s is too long", path);
        return -1;
    }
    (void)unlink(tmp); /* a killed writer's leftover; O_EXCL below refuses anything else */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot create %s: %s; %s is as it was", tmp, strerror(errno),
                path);
        return -1;
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            sys_say(o, DBT_SYS_ERROR, 0, "cannot write %s: %s; %s is as it was", tmp,
                    w < 0 ? strerror(errno) : "short write", path);
            goto end;
        }
        off += (size_t)w;
    }
    if (fchown(fd, was->st_uid, was->st_gid) != 0 || fchmod(fd, was->st_mode & 07777) != 0 ||
        fsync(fd) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "cannot set the owner and mode of %s or flush it: %s; %s is "
                "as it was",
                tmp, strerror(errno), path);
        goto end;
    }
    if (lstat(path, &now) != 0 || !S_ISREG(now.st_mode) || now.st_dev != was->st_dev ||
        now.st_ino != was->st_ino) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "the JVM truststore %s changed while dbtrust was updating it; it is left as the "
                "other writer made it: run 'dbtrust system refresh' again",
                path);
        goto end;
    }
    if (rename(tmp, path) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot rename %s to %s: %s; %s is as it was", tmp, path,
                strerror(errno), path);
        goto end;
    }
    rc = 0;
    if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "cannot flush the directory of %s: %s", path, strerror(errno));
        rc = -1;
    }
end:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc != 0 && off <= len)
        (void)unlink(tmp);
    return rc;
}

/* Loads the certificates to add (wants not present) with their aliases. */
static int jvm_adds(struct jvm_plan *p, dbt_catalog *cat, X509 ***x, char ***a, size_t *n)
{
    size_t i;
    dbt_err err;

    *n = 0;
    if ((*x = calloc(p->nw ? p->nw : 1, sizeof(**x))) == NULL ||
        (*a = calloc(p->nw ? p->nw : 1, sizeof(**a))) == NULL) {
        sys_say(p->o, DBT_SYS_ERROR, 0, "out of memory");
        return -1;
    }
    for (i = 0; i < p->nw; i++) {
        if (p->w[i].present)
            continue;
        if (dbt_catalog_load_cert(cat, p->w[i].sha256, &(*x)[*n], &err) != 0) {
            sys_say(p->o, DBT_SYS_ERROR, 0, "%s", err.msg);
            return -1;
        }
        (*a)[(*n)++] = p->w[i].alias;
    }
    return 0;
}

int sys_jvm_sync(const sys_out *o, dbt_catalog *cat, dbt_sys_jvm *r, struct sys_jvm_undo *u)
{
    struct jvm_plan p;
    X509 **add = NULL;
    char **alias = NULL;
    unsigned char *out = NULL;
    size_t nadd = 0, outlen = 0, i;
    dbt_bundle *check = NULL;
    dbt_err err;
    int st, rc = -1;

    memset(&p, 0, sizeof(p));
    memset(r, 0, sizeof(*r));
    p.o = o;
    p.path = dbt_sys_jvm_store();
    if (p.path == NULL || (st = jvm_read(&p)) <= 0) {
        rc = p.path == NULL ? 0 : st; /* 0: no store, no JVM: nothing to do */
        goto end;
    }
    r->present = 1;
    r->pkcs12 = p.b->format != DBT_FMT_JKS;
    if (jvm_wants(&p, cat, &r->scoped) != 0)
        goto end;
    jvm_match(&p);
    if (p.refused)
        goto end;
    if (jvm_adds(&p, cat, &add, &alias, &nadd) != 0)
        goto end;
    r->added = nadd;
    r->removed = p.drop;
    r->ours = p.nw;
    r->entries = p.b->n - p.drop + nadd;
    if (nadd == 0 && p.drop == 0) {
        rc = 0; /* in step already: the file is not rewritten */
        goto end;
    }
    if ((p.b->format == DBT_FMT_JKS
             ? dbt_jks_rewrite((unsigned char *)p.data, p.len, p.path, p.pass, jvm_keep, &p, add,
                               alias, nadd, &out, &outlen, &err)
             : dbt_p12_rewrite((unsigned char *)p.data, p.len, p.path, p.pass, jvm_keep, &p, add,
                               alias, nadd, &out, &outlen, &err)) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0, "%s; nothing was changed", err.msg);
        goto end;
    }
    /* What Java will read is read back first with the same password: never replace a store
     * with one that does not open. */
    if ((check = dbt_bundle_new(p.path)) == NULL ||
        (p.b->format == DBT_FMT_JKS ? dbt_jks_decode(out, outlen, p.pass, check, &err)
                                    : dbt_p12_decode(out, outlen, p.pass, check, &err)) != 0) {
        sys_say(o, DBT_SYS_ERROR, 0,
                "the rewritten JVM truststore %s does not read back (%s); "
                "nothing was changed",
                p.path, check != NULL ? err.msg : "out of memory");
        goto end;
    }
    if (jvm_replace(o, p.path, &p.st, out, outlen) != 0)
        goto end;
    if (u != NULL) {
        /* The store as it was, for an undo if a later step of the same action fails. */
        u->data = p.data, u->len = p.len, u->st = p.st;
        snprintf(u->path, sizeof(u->path), "%s", p.path);
        p.data = NULL;
        if (stat(p.path, &u->st_new) != 0)
            memset(&u->st_new, 0, sizeof(u->st_new));
    }
    rc = 0;
end:
    if (add != NULL)
        for (i = 0; i < nadd; i++)
            X509_free(add[i]);
    free(add);
    free(alias);
    OPENSSL_free(out);
    dbt_bundle_free(check);
    jvm_plan_free(&p);
    return rc;
}

int sys_jvm_undo(const sys_out *o, struct sys_jvm_undo *u)
{
    int rc;

    if (u->data == NULL)
        return 0;
    rc = jvm_replace(o, u->path, &u->st_new, (unsigned char *)u->data, u->len);
    if (rc != 0)
        sys_say(o, DBT_SYS_ERROR, 0, "cannot put the JVM truststore %s back as it was", u->path);
    return rc;
}

void sys_jvm_undo_free(struct sys_jvm_undo *u)
{
    if (u->data != NULL)
        OPENSSL_clear_free(u->data, u->len);
    u->data = NULL;
}

int dbt_sys_jvm_status(dbt_catalog *cat, dbt_sys_jvm *r, dbt_sys_msg_fn *fn, void *arg)
{
    const sys_out so = {fn, arg};
    struct jvm_plan p;
    size_t i;
    int st, rc = -1;

    memset(&p, 0, sizeof(p));
    memset(r, 0, sizeof(*r));
    p.o = &so;
    p.path = dbt_sys_jvm_store();
    if (p.path == NULL || (st = jvm_read(&p)) <= 0) {
        rc = p.path == NULL ? 0 : st;
        goto end;
    }
    r->present = 1;
    r->pkcs12 = p.b->format != DBT_FMT_JKS;
    if (jvm_wants(&p, cat, &r->scoped) != 0)
        goto end;
    jvm_match(&p);
    r->entries = p.b->n;
    r->ours = p.ours;
    r->stale = p.drop;
    for (i = 0; i < p.nw; i++)
        r->missing += !p.w[i].present;
    rc = p.refused ? -1 : 0;
end:
    jvm_plan_free(&p);
    return rc;
}
