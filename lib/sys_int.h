/* Internals of the system wiring shared by lib/sys_state.c, sys_links.c, sys_lazy.c and
 * syswire.c; the public contract is lib/syswire.h. */
#ifndef DBT_SYS_INT_H
#define DBT_SYS_INT_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "syswire.h"

/* dbtrust's certificate links in the system directory: LINK_PREFIX<sha256>.pem. */
#define SYS_LINK_PREFIX "dbtrust-"

/* The marker lines of dbtrust's block in a bundle file (bundle-file mode): everything between
 * them is the catalog's, everything outside the system's own. */
#define SYS_BLOCK_BEGIN "# BEGIN dbtrust catalog "
#define SYS_BLOCK_END "# END dbtrust catalog\n"

/* Where messages go (fn NULL: nowhere). */
typedef struct sys_out {
    dbt_sys_msg_fn *fn;
    void *arg;
} sys_out;

/* Says a message; with a hint, its words go at the end of the text. */
void sys_say(const sys_out *o, int level, int hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Says head and tail as one message whose hint goes between them. */
void sys_say_split(const sys_out *o, int level, int hint, const char *head, const char *tail);
/* A listing line to line (when not NULL), escaped arguments formatted by the caller. */
void sys_line(dbt_sys_line_fn *line, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s escaped for a message or listing (s itself when nothing needs it); *tofree is what to free. */
const char *sys_esc(const char *s, char **tofree);

/* Opens path for reading only when it is a regular file (through symlinks when follow): see
 * lib/sys_state.c. Returns the fd; -1 with errno; -2 when not a regular file (kind in st). */
int sys_open_regular(const char *path, int follow, struct stat *st);
/* Reads fd whole, at most max bytes: 0, 1 when larger, -1 with errno; *out NUL-terminated. */
int sys_read_capped(int fd, size_t max, char **out, size_t *len);
/* Both, through symlinks: 0; -1 with errno when it cannot be opened (ENOENT: missing); -2 when
 * not a regular file (kind in st); -3 with errno when a read fails; 1 when larger than max. */
int sys_read_regular(const char *path, size_t max, char **out, size_t *len, struct stat *st);

/* Reads OpenSSL's default bundle file whole, up to DBT_MAX_INPUT bytes, only when it is a
 * regular file: 0; 1 when it is missing (OpenSSL loads nothing from it either); -1 said why. */
int sys_read_bundle_file(const sys_out *o, const char *file, char **data, size_t *len);

/* Whether s[0..n) is lowercase hex. */
int sys_is_hex(const char *s, size_t n);
/* "<8 hex>.<n>" (n up to 100000) -> 1 with *hash and *n. */
int sys_hash_link_name(const char *name, unsigned long *hash, int *n);
/* "dbtrust-<64 hex>.pem" -> the sha256 in it, else NULL. */
const char *sys_our_link_sha(const char *name);
/* Whether dir/name is a link to one of dbtrust's certificate links; target receives it. */
int sys_link_points_to_us(const char *dir, const char *name, char *target, size_t tn);

/* One catalog certificate as the system directory should show it. */
struct sys_want {
    char sha256[65];
    unsigned long hash;
    int scoped; /* 1: <catalog>/trust/<sha256>.pem (a scoped form); 0: <catalog>/certs/... */
};

/* Every change made to the system directory or the bundle file, so that a failure half-way is
 * undone step by step in reverse (names are relative to dir). */
enum sys_jkind { J_CREATE, J_UNLINK, J_RENAME };

struct sys_jop {
    enum sys_jkind kind;
    char *name;  /* CREATE/UNLINK: the link; RENAME: the old name */
    char *other; /* CREATE: the target it replaced (NULL: none); UNLINK: its target; RENAME: new */
};

struct sys_journal {
    const sys_out *out;
    const char *dir;
    struct sys_jop *ops;
    size_t n, cap;
    /* the bundle file's path, mode and content before this run rewrote it */
    char *file_orig;
    size_t file_len;
    mode_t file_mode;
    char file[PATH_MAX];
};

void sys_j_free(struct sys_journal *j);
/* Reverts the journal, newest step first; says which steps cannot be reverted. 0 or -1. */
int sys_j_undo(struct sys_journal *j);

/* Makes j->dir show exactly the certificates w (links), or the bundle file target hold exactly
 * them in dbtrust's block (cat NULL and nw 0: removes everything dbtrust added). Journaled; on
 * failure the caller decides whether to undo. */
int sys_wire_sync(struct sys_journal *j, int bundle, const char *target, const char *catalog,
                  dbt_catalog *cat, const struct sys_want *w, size_t nw, size_t *nadded,
                  size_t *nremoved);
int sys_bundle_sync(struct sys_journal *j, const char *file, const char *catalog, dbt_catalog *cat,
                    const struct sys_want *w, size_t nw, size_t *nadded, size_t *nremoved);

/* One writer of the system directory at a time: an flock on "<state file>.lock" (the fd, or -1
 * said why); stale temporary links of a killed writer are swept under it. */
int sys_lock(const sys_out *o);
void sys_unlock(int fd);
void sys_sweep_tmp_links(const char *dir);
int sys_state_write(const sys_out *o, const char *catalog, const char *target, int bundle);

/* The JVM truststore as an action found it, to put it back when a later step fails. */
struct sys_jvm_undo {
    char *data;
    size_t len;
    struct stat st, st_new; /* the store before, and the file written */
    char path[PATH_MAX];
};
/* Brings the JVM truststore in step with cat (NULL: removes dbtrust's entries); see
 * lib/syswire.h. 0 (done, or no store), -1 said why (the store unchanged). u, when not NULL,
 * receives what an undo needs (free with sys_jvm_undo_free). */
int sys_jvm_sync(const sys_out *o, dbt_catalog *cat, dbt_sys_jvm *r, struct sys_jvm_undo *u);
int sys_jvm_undo(const sys_out *o, struct sys_jvm_undo *u);
void sys_jvm_undo_free(struct sys_jvm_undo *u);

#endif
