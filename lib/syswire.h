/* Wiring a catalog into OpenSSL's default trust (what sslrootcert=system reads): links in the
 * default certificate directory or a block in the default bundle file, recorded in a state file,
 * changed under one lock, undone step by step on failure, and followed by every catalog commit. */
#ifndef DBT_SYSWIRE_H
#define DBT_SYSWIRE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "catalog.h"

/* Where the state file lives unless DBTRUST_SYSTEM_STATE says otherwise. */
#define DBT_SYS_DEFAULT_STATE "/var/lib/dbtrust/system-state"
/* The SSL_CERT_FILE of lazy mode: an empty, read-only file at the top of the catalog, outside the
 * generations, so that its path never changes. */
#define DBT_SYS_LAZY_EMPTY "empty.pem"

/* Bounds of what the wiring reads: the state file dbtrust writes is under 9 KiB; one certificate
 * file of the system directory is a few KiB; the bundle file is read whole up to the limit of
 * every other input (DBT_MAX_INPUT). */
#define DBT_SYS_STATE_MAX (64u * 1024u)
#define DBT_SYS_CERT_MAX (1024u * 1024u)

/* A message's level: an error, a warning, or a line that lists what the error before it names
 * (the caller prints it as it is, on the same stream). */
enum { DBT_SYS_ERROR = 1, DBT_SYS_WARN, DBT_SYS_DETAIL };

/* What a message tells the user to do next, in the caller's own syntax: the library says the
 * fact, the caller words the command (dbtrust(1) renders each one). */
enum dbt_sys_hint {
    DBT_HINT_SYSTEM_NONE = 0,
    DBT_HINT_SYSTEM_REPAIR,       /* refresh or disable repairs the directory */
    DBT_HINT_SYSTEM_RERUN,        /* enable (or disable) again */
    DBT_HINT_SYSTEM_REFRESH_ROOT, /* refresh, as root */
    DBT_HINT_SYSTEM_LAZY_CREATE,  /* run lazy env once as the catalog's owner */
    DBT_HINT_SYSTEM_LAZY_RERUN,   /* rerun lazy env */
    DBT_HINT_SYSTEM_USE_ENV,      /* use the scoped environment instead */
    DBT_HINT_SYSTEM_PATH_OPTS,    /* the catalog option or the DBTRUST_SYSTEM_* variables */
};

/* One message: text holds it whole but for the hint, whose words go at text[hint_at]. */
typedef struct dbt_sys_msg {
    int level;
    int hint;
    size_t hint_at;
    const char *text;
} dbt_sys_msg;
/* Receives each message when it happens, so that the caller's lines keep their order. */
typedef void dbt_sys_msg_fn(void *arg, const dbt_sys_msg *m);
/* Receives one line of a listing (no newline), already escaped for a terminal. */
typedef void dbt_sys_line_fn(void *arg, const char *line);

/* OpenSSL's default certificate directory and bundle file, and the state file; the
 * DBTRUST_SYSTEM_CERT_DIR, _CERT_FILE and _STATE variables override them for tests and packaging
 * (ignored in a setuid or setgid process). */
const char *dbt_sys_cert_dir(void);
const char *dbt_sys_cert_file(void);
const char *dbt_sys_state_path(void);

/* What the state file records: the catalog wired and where (a directory, or the bundle file). */
typedef struct dbt_sys_state {
    char catalog[PATH_MAX];
    char target[PATH_MAX];
    int bundle_file;
} dbt_sys_state;

/*
 * Reads the state file: 1 when wiring is enabled, 0 when not (no file; nothing is created), -1
 * (said why) when it cannot be trusted or read. It must be a regular file (never followed through
 * a symlink, never opened when it is a FIFO or device), owned by root or the effective user,
 * writable by nobody else, of at most DBT_SYS_STATE_MAX bytes, with absolute paths that fit
 * PATH_MAX and hold no control character.
 */
int dbt_sys_state_read(dbt_sys_state *s, dbt_sys_msg_fn *fn, void *arg);

/* Outcomes of enable, disable and refresh besides 0 (done) and -1 (failed, said why). */
enum {
    DBT_SYS_NOT_ENABLED = 1, /* disable or refresh: nothing is wired, nothing was done */
    DBT_SYS_OTHER_CATALOG,   /* enable: another catalog (or the other mode) is wired already */
    DBT_SYS_UNDONE,          /* enable or disable failed; every step was undone */
    DBT_SYS_PARTWAY,         /* refresh stopped part-way (nothing undone: see dbt_sys_refresh) */
};

/*
 * The JVM's system truststore (Debian: /etc/ssl/certs/java/cacerts, which the JDK's
 * lib/security/cacerts links to; DBTRUST_SYSTEM_JVM_STORE overrides it, ignored when setuid).
 * Java reads no hashed directory, so enable, refresh (every catalog commit) and disable also
 * keep this store in step: each distinct certificate of an unscoped bundle becomes one trusted
 * certificate entry under the alias DBT_SYS_JVM_ALIAS_PREFIX<bundle>-<first 16 hex digits of
 * its SHA-256> (lowercase; the first unscoped bundle holding it, by name). An entry is dbtrust's
 * when its alias has that form AND its certificate's SHA-256 begins with those digits; nothing
 * else is ever removed or replaced, and an alias dbtrust wants that another entry holds is
 * refused, naming it. Every other entry is kept byte for byte (JKS) or in its own safe (PKCS#12,
 * lib/p12.h); the format (detected by content) and the password (storepass= of
 * DBT_SYS_JVM_DEFAULTS, else "changeit") are kept, and the store is replaced atomically, keeping
 * its owner and mode, and only when it is a regular file (never through a symlink, never a FIFO
 * or device). No file at the path means no JVM here: nothing is done. Certificates only scoped
 * bundles hold are left out: Java ignores a truststore anchor's name constraints, so they would
 * be trusted for every name. The store is read up to DBT_SYS_JVM_MAX bytes; PKCS#12 key
 * derivation is bounded as lib/p12.h says.
 */
#define DBT_SYS_JVM_STORE "/etc/ssl/certs/java/cacerts"
#define DBT_SYS_JVM_DEFAULTS "/etc/default/cacerts"
#define DBT_SYS_JVM_ALIAS_PREFIX "dbtrust-"
#define DBT_SYS_JVM_SHA_LEN 16
#define DBT_SYS_JVM_MAX (64u * 1024u * 1024u)

/* The JVM store's path: DBTRUST_SYSTEM_JVM_STORE; else NULL (no store: nothing to do) when
 * DBTRUST_SYSTEM_CERT_DIR, _CERT_FILE or _STATE names a stand-in system; else
 * DBT_SYS_JVM_STORE. */
const char *dbt_sys_jvm_store(void);

typedef struct dbt_sys_jvm {
    int present;    /* 0: no store at the path (no JVM here); nothing was done */
    int pkcs12;     /* the store's format: 0 JKS, 1 PKCS#12 */
    size_t entries; /* entries of the store (after the change) */
    size_t ours;    /* dbtrust's entries (after the change) */
    size_t added, removed;
    size_t missing, stale; /* status: wanted but absent; dbtrust's but no longer wanted */
    size_t scoped;         /* catalog certificates left out: only scoped bundles hold them */
} dbt_sys_jvm;

/* What the JVM store holds of cat (read only): 0, or -1 (said why); r->present 0 when there is
 * no store. */
int dbt_sys_jvm_status(dbt_catalog *cat, dbt_sys_jvm *r, dbt_sys_msg_fn *fn, void *arg);

typedef struct dbt_sys_result {
    dbt_sys_state state; /* what is (or was) wired */
    dbt_sys_jvm jvm;     /* the JVM truststore: what enable, refresh or disable did to it */
    size_t n;            /* certificates of the catalog */
    size_t added;        /* links made (directory) or certificates written (bundle file) */
    size_t removed;      /* certificate links, or certificates of the block, removed */
} dbt_sys_result;

/* Opens the catalog enable is asked to wire (read-only), saying why not; 0 or -1. Called under
 * the system lock, after the state file was read. */
typedef int dbt_sys_open_fn(void *arg, dbt_catalog **cat);

/*
 * Each action does the links (or the bundle file) first, then the JVM truststore. A JVM store
 * that cannot be read or written (wrong password, garbage, not a regular file, an alias taken)
 * makes enable and disable fail with every step undone, the links included; refresh and follow
 * then stop part-way as for the links.
 *
 * enable: links every certificate of the catalog into the system directory (bundle_file: appends
 * them to the bundle file between marker lines instead) and records that in the state file;
 * idempotent. Only links dbtrust made are ever replaced or removed; an existing link to the same
 * certificate (the system trusts it too) is reused. On failure every step is undone.
 */
int dbt_sys_enable(dbt_sys_open_fn *open, void *open_arg, int bundle_file, dbt_sys_result *r,
                   dbt_sys_msg_fn *fn, void *arg);
/* disable: removes exactly what enable added (renumbering hash chains it leaves with a gap, since
 * OpenSSL's lookup stops at the first missing number) and the state file; undone on failure. */
int dbt_sys_disable(dbt_sys_result *r, dbt_sys_msg_fn *fn, void *arg);
/* refresh: brings the wiring in line with the recorded catalog. A failure is not undone: links
 * that follow the catalog part-way are closer to it than the old ones. */
int dbt_sys_refresh(dbt_sys_result *r, dbt_sys_msg_fn *fn, void *arg);
/* What every catalog commit runs (lib/catalog_txn.c): when cat is the catalog wired, a refresh
 * of its new snapshot. 0 when followed or not wired; -1 when the wiring could not follow, the last
 * message saying so (DBT_HINT_SYSTEM_REFRESH_ROOT), and also in err. */
int dbt_sys_follow(dbt_catalog *cat, dbt_sys_msg_fn *fn, void *arg, dbt_err *err);

/* dbtrust's own entries of dir: certificate links, hash links to them, and certificate links
 * whose target is gone. */
typedef struct dbt_sys_links {
    size_t certs, hashes, dangling;
} dbt_sys_links;
void dbt_sys_count_links(const char *dir, dbt_sys_links *out);

/*
 * Looks each certificate of cat up the way a TLS client does with OpenSSL's defaults: the hashed
 * directories dirs (a ':' list, "" for none) and the bundle file (a path, "" for none; one that is
 * not a regular file is not read, and a note says so), by subject. Each one not found is listed on
 * line ("  not found by OpenSSL's defaults: <sha256> <subject>"). Returns how many are found (*n:
 * how many there are), or -1 (said why). When dirs hold entries OpenSSL's lookup would open that
 * are not certificate files (see dbt_sys_lookup_hazards), nothing is looked up: they are listed on
 * line and -1 is returned.
 */
long dbt_sys_resolve(dbt_catalog *cat, const char *dirs, const char *file, size_t *n,
                     dbt_sys_line_fn *line, void *line_arg, dbt_sys_msg_fn *fn, void *arg);

/*
 * Counts the entries of the ':'-separated directory list dirs that OpenSSL's hashed lookup would
 * open ("<8 hex>.<n>", "<8 hex>.r<n>") but that are not regular files, through symlinks (stat
 * only: nothing is opened). OpenSSL opens them with fopen: a FIFO blocks the lookup forever, a
 * device is read as if it were a certificate file. Each one is listed on line when it is not
 * NULL ("  <dir>/<name> is <kind>"). Relative entries and unreadable directories are skipped
 * (OpenSSL reads nothing from them either); the work is one stat per entry of each directory.
 */
long dbt_sys_lookup_hazards(const char *dirs, dbt_sys_line_fn *line, void *line_arg);

/* A bundle whose CAs OpenSSL's default trust accepts for every host name, beyond what the
 * system trusted already. */
typedef struct dbt_sys_wide {
    char name[DBT_CATALOG_NAME_MAX + 1];
    size_t count;   /* certificates of the bundle */
    size_t outside; /* of them, not in the system's own bundle file */
} dbt_sys_wide;

/*
 * The bundles of cat that are unscoped (their meta records no scope, lib/scope.h) and hold a
 * certificate that the bundle file file ("" for none) does not: wired, such a bundle makes its
 * CAs trusted for every host name by every program on the host that loads OpenSSL's defaults,
 * where a scoped one is served as name-constrained cross-certificates. dbtrust's own block in
 * the file (bundle-file mode) is not the system's and is left out; a missing file holds nothing.
 * Returns how many (*out, malloc'ed, sorted by name), or -1 (said why). The file is read once,
 * up to DBT_MAX_INPUT bytes; the work is one lookup per catalog certificate.
 */
long dbt_sys_unscoped(dbt_catalog *cat, const char *file, dbt_sys_wide **out, dbt_sys_msg_fn *fn,
                      void *arg);

/*
 * Lazy mode (an empty SSL_CERT_FILE, hashed directories only) is the same trust only when every
 * certificate of the bundle file is found through the system's hashed directory; this checks it
 * with OpenSSL's own X509_LOOKUP_hash_dir, the code that will serve the lookups (same subject
 * hash, <hash>.<n> from 0 without gaps, a byte-identical certificate). Returns how many are not
 * found (each listed on line when not NULL: position, subject, SHA-256), or -1 when the check
 * cannot be made (said why; hazards of dirs are listed as DBT_SYS_DETAIL lines). *total is the
 * number of certificates in the file; a missing file holds none. The bundle file is read up to
 * DBT_MAX_INPUT bytes.
 */
long dbt_sys_lazy_check(const char *file, const char *dirs, size_t *total, dbt_sys_line_fn *line,
                        void *line_arg, dbt_sys_msg_fn *fn, void *arg);

/* Makes sure <catalog>/DBT_SYS_LAZY_EMPTY exists, is empty and is safe: created atomically,
 * read-only, on first use (the catalog's owner does this once; later callers only read it).
 * path receives its name; 0 or -1 (said why). */
int dbt_sys_lazy_empty_file(dbt_catalog *cat, char *path, size_t n, dbt_sys_msg_fn *fn, void *arg);

#endif
