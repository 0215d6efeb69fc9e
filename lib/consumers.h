/* The trust consumers of a host or of a root file system (dbtrust doctor): every libcrypto a
 * libpq loads or a Python package bundles, what its default trust reads and whether the catalog's
 * trust view is found there; the JVM's system truststore and how many of the catalog's CAs it
 * holds. Everything is read from files, bounded, inside the root: no library is loaded. */
#ifndef DBT_CONSUMERS_H
#define DBT_CONSUMERS_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "catalog.h"
#include "error.h"
#include "rootfs.h"

/* Bounds of what is read. An ELF file is read whole up to DBT_ELF_MAX_FILE bytes (a libcrypto is
 * 5-7 MiB); its header may name at most DBT_ELF_MAX_PHDRS program headers, its dynamic section
 * at most DBT_ELF_MAX_DYN entries, of which at most DBT_ELF_MAX_NEEDED are DT_NEEDED; each name or
 * search path is at most DBT_ELF_MAX_STR bytes. A version or OPENSSLDIR string is at most
 * DBT_ELF_MAX_STR bytes. Larger counts are an error naming the file, never a longer read. */
#define DBT_ELF_MAX_FILE (64u * 1024u * 1024u)
#define DBT_ELF_MAX_PHDRS 256u
#define DBT_ELF_MAX_DYN 4096u
#define DBT_ELF_MAX_NEEDED 256u
#define DBT_ELF_MAX_STR 4096u
/* ld.so.conf and its includes: at most DBT_DOC_MAX_CONF files of at most 64 KiB each, nested at
 * most 8 deep, giving at most DBT_DOC_MAX_DIRS library directories (the rest are ignored and a
 * note says so). At most DBT_ROOT_MAX_DIRENTS entries of one directory are looked at, at most
 * DBT_DOC_MAX_CONSUMERS consumers are reported, and at most 40 symbolic links are followed to
 * reach one path (the kernel's own limit). */
#define DBT_DOC_MAX_CONF 256u
#define DBT_DOC_MAX_DIRS 256u
#define DBT_DOC_MAX_CONSUMERS 256u

/* What the ELF dynamic section of a shared object says it loads. */
typedef struct dbt_elf_deps {
    int elfclass;  /* ELFCLASS32 or ELFCLASS64 */
    int machine;   /* e_machine */
    char **needed; /* DT_NEEDED names, in order */
    size_t nneeded;
    char *runpath; /* DT_RUNPATH, or NULL */
    char *rpath;   /* DT_RPATH, or NULL */
} dbt_elf_deps;

/*
 * Parses the ELF file data[0..len) (64- or 32-bit, this machine's byte order) that name names in
 * messages: its DT_NEEDED, DT_RUNPATH and DT_RPATH. Every offset, count and size read from the
 * file is checked against len and the bounds above before use; a truncated, oversized or hostile
 * file is an error naming it and what is wrong. 0, or -1 with err set.
 */
int dbt_elf_deps_parse(const char *name, const unsigned char *data, size_t len, dbt_elf_deps *out,
                       dbt_err *err);
void dbt_elf_deps_clear(dbt_elf_deps *d);

/* The strings a libcrypto carries in its read-only data ("" when absent). */
typedef struct dbt_crypto_strings {
    char version[128];                /* "OpenSSL 3.0.19 27 Jan 2026" */
    char openssldir[DBT_ELF_MAX_STR]; /* the compiled-in OPENSSLDIR */
} dbt_crypto_strings;
/* Finds them in the segments of data that are loaded without write permission. 0, or -1 with err
 * set (not an ELF file, or no OPENSSLDIR string: not a libcrypto). */
int dbt_crypto_scan(const char *name, const unsigned char *data, size_t len,
                    dbt_crypto_strings *out, dbt_err *err);

/* What would make a consumer's default trust reach the catalog (the program words it). */
enum dbt_doc_fix {
    DBT_DOC_FIX_NONE = 0,
    DBT_DOC_FIX_SYSTEM_ENABLE,  /* the directory is the one system wiring links into */
    DBT_DOC_FIX_SYSTEM_REFRESH, /* wired already, but the links do not follow the catalog */
    DBT_DOC_FIX_ENV,            /* another directory: give its programs the scoped environment */
    DBT_DOC_FIX_IN_ROOT,        /* the same kind of directory in another root: wire it there */
    DBT_DOC_FIX_JVM,            /* a JVM store: system wiring, or an exported service truststore */
};

enum dbt_doc_kind { DBT_DOC_LIBPQ = 1, DBT_DOC_BUNDLED };

/* One libcrypto and who loads it. Paths are as seen inside the root. */
typedef struct dbt_doc_crypto {
    int kind;            /* enum dbt_doc_kind */
    char by[PATH_MAX];   /* the libpq that loads it, or the directory that bundles it */
    char package[256];   /* DBT_DOC_BUNDLED: the package (the directory's name less .libs) */
    char path[PATH_MAX]; /* the libcrypto; "" when it was not found */
    dbt_crypto_strings s;
    char certdir[PATH_MAX]; /* OPENSSLDIR/certs */
    char certfile[PATH_MAX];
    int wired_dir;       /* certdir is the directory dbt_sys_cert_dir() names */
    long found;          /* trust-view certificates found through certdir and certfile */
    size_t total;        /* of how many; found is -1 when it could not be checked */
    int fix;             /* enum dbt_doc_fix */
    char missing[8][65]; /* the first SHA-256s not found */
    size_t nmissing;
    char error[1024]; /* "" or why this consumer could not be inspected (names the file) */
} dbt_doc_crypto;

/* The JVM's system truststore. */
typedef struct dbt_doc_jvm {
    int present; /* 0: no store at path */
    char path[PATH_MAX];
    char type[16];         /* "JKS", "PKCS#12" */
    size_t entries;        /* certificates in the store */
    size_t unscoped;       /* the catalog's unscoped CAs */
    size_t held;           /* of them, in the store (by SHA-256) */
    size_t scoped;         /* CAs only scoped bundles hold: intentionally absent */
    size_t scoped_present; /* of them, in the store anyway (trusted there for every name) */
    int password_default;  /* 1: no storepass= in /etc/default/cacerts, "changeit" was used */
    int fix;
    char error[1024];
} dbt_doc_jvm;

typedef struct dbt_doctor {
    char root[PATH_MAX]; /* "" for the host */
    dbt_doc_crypto *c;
    size_t n;
    size_t nlibpq; /* libpq files found (each is one entry of c, or more) */
    dbt_doc_jvm jvm;
    char notes[4][256]; /* bounds that were reached, said once each */
    size_t nnotes;
} dbt_doctor;

/*
 * Finds and checks every consumer under root (NULL or "/" for the host). Every path is resolved
 * inside the root one component at a time (O_NOFOLLOW from the directory's descriptor): a
 * symbolic link is followed as if root were "/", never out of it, at most 40 links a path. The
 * catalog's trust view is what must be reachable (lib/catalog.h dbt_catalog_trust_view); on the
 * host, OpenSSL's own lookup checks it (dbt_sys_resolve), under another root the same lookup is
 * made here (hash links from .0 up to the first missing number, the same certificate). The JVM
 * store is DBTRUST_SYSTEM_JVM_STORE (ignored when setuid) else /etc/ssl/certs/java/cacerts, read
 * with the password of /etc/default/cacerts (storepass=, else "changeit"). 0 (each consumer's own
 * problems are in its error), or -1 with err set (the root cannot be opened). Release with
 * dbt_doctor_clear.
 */
int dbt_doctor_run(const char *root, dbt_catalog *cat, dbt_doctor *d, dbt_err *err);
void dbt_doctor_clear(dbt_doctor *d);

#endif
