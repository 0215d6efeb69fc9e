/* The catalog's safety rule, written once: lib/catalog.c (every dbtrust command) and the
 * provider (dbtrust-store.so compiles lib/catsafe.c in; it needs libc only) check with it. */
#ifndef DBT_CATSAFE_H
#define DBT_CATSAFE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "catlayout.h"
#include "error.h"

/*
 * Trust-store safety of one entry (from lstat or fstat): owned by root or the effective user,
 * and, unless it is a symlink (whose own mode means nothing), not writable by group or others.
 * Only regular files, directories and symlinks are allowed. The message names path and the
 * command that fixes it ("chmod go-w /x/y"). Returns 0 when safe, else -1.
 */
int dbt_safe_entry(const struct stat *st, const char *path, dbt_err *err);
/* The same with the effective uid given: a reader checking many entries asks the kernel once. */
int dbt_safe_entry_as(const struct stat *st, const char *path, uid_t me, dbt_err *err);

/* ".gen-<N>" with N decimal without leading zero: 0 and *n, else -1 (dbt_layout_gen_name, the
 * one parser of generation names, for the writer, the readers and the provider). */
static inline int dbt_safe_gen_name(const char *s, unsigned long long *n)
{
    return dbt_layout_gen_name(s, n);
}

/* Results of dbt_safe_walk. */
enum {
    DBT_SAFE_OK = 0,
    DBT_SAFE_UNSAFE = 1, /* the catalog breaks the rule: refuse it */
    DBT_SAFE_ERROR = 2,  /* it could not be looked at (I/O error, out of memory) */
};

/* Bounds of one walk: a hostile catalog cannot make it run forever. A catalog of N
 * certificates has about 2N + 2 entries per bundle in its generation. */
#define DBT_SAFE_MAX_DEPTH 8
#define DBT_SAFE_MAX_ENTRIES 1000000

typedef void dbt_safe_report_fn(void *arg, const char *problem);

/*
 * Checks the catalog whose directory is catfd. catpath names it in messages (absolute; it may
 * contain symlinks: links are compared with its realpath). The rule:
 *   - the catalog directory and every entry checked obey dbt_safe_entry;
 *   - "current", "bundles", "certs", "trust" and "trust.pem" are symlinks; "current" and
 *     ".current.tmp" name a .gen-N, "bundles" -> current/bundles, "certs" -> current/certs,
 *     "trust" -> current/trust, "trust.pem" -> current/trust.pem;
 *   - ".lock" and "empty.pem" (when present) are regular files, and empty.pem is empty;
 *   - a generation holds the real directories bundles/, certs/ and trust/ and the regular
 *     file trust.pem (no symlink, no other entry); bundles/ holds only regular files; certs/
 *     holds only regular <sha256>.pem files, the regular file index, and <hash>.<n> symlinks
 *     whose target is the bare name (no '/') of an existing <sha256>.pem beside them; trust/
 *     the same without index, its links also naming ../certs/<sha256>.pem; nothing in a
 *     generation nests deeper;
 *   - any other symlink (outside generations) resolves inside the catalog.
 * gen (".gen-N") is the generation the caller reads: it is checked in full, and of the other
 * generations only their own entry: they are never read, and writers delete them. Any other
 * directory at the top is checked in full, except one being removed (DBT_SAFE_DEAD_PREFIX).
 * gen NULL checks every generation in full (dbtrust verify).
 * report NULL: stops at the first problem, which err holds. Otherwise every problem is passed
 * to report and the walk goes on; err holds the first.
 * Bounded by DBT_SAFE_MAX_DEPTH and DBT_SAFE_MAX_ENTRIES (more is refused as unsafe).
 */
int dbt_safe_walk(int catfd, const char *catpath, const char *gen, dbt_safe_report_fn *report,
                  void *arg, dbt_err *err);

/* Flags of dbt_safe_walk_ex. */
#define DBT_SAFE_LINKS_AT_USE 1u
#define DBT_SAFE_FILES_AT_USE 2u

/* Called by dbt_safe_walk_ex with every directory whose own entry passed the rule, as lstat saw
 * it before the walk read it: rel is its path inside the catalog ("" for the catalog itself). */
typedef void dbt_safe_dir_fn(void *arg, const char *rel, const struct stat *st);

/*
 * dbt_safe_walk stopping at the first problem, for a reader that checks what it reads
 * (the provider). With DBT_SAFE_LINKS_AT_USE, the <hash>.<n> symlinks in the certs/ of the
 * generation read cost no system call: getdents' d_type says they are symlinks and their names
 * have the hash-link form, and that is all the walk looks at. Their owner and target are left
 * to the point of use, which the caller must then cover: a reader that follows a hash link
 * reads it with readlinkat, passes the target to dbt_safe_hash_target, checks the link's owner,
 * and opens the bare target name with O_NOFOLLOW in the certs/ descriptor and checks what it
 * opened with fstat; a reader about to serve the catalog otherwise calls dbt_safe_check_links
 * first. Any other entry is checked as dbt_safe_walk does. seen (may be NULL) gets every
 * directory the verdict depends on, for a cache of it.
 * DBT_SAFE_FILES_AT_USE (a writer's walk, lib/catalog.c): the bundles/, certs/ and trust/
 * directories of the generation read are checked as entries (owner, mode, kind) and not read:
 * each file in them is checked when it is used (the caller opens it with O_NOFOLLOW and
 * O_NONBLOCK and checks the fstat of what it opened with dbt_safe_entry), and an entry that is
 * never used never reaches a new generation (a commit writes what it holds in memory, or keeps
 * the recycled generation's own file). With directories that pass the rule, nobody but their
 * owner or root can add, remove or replace an entry in them. The top of the catalog, the
 * generation directory and trust.pem are still checked in full. Readers (list, verify, the
 * provider) never pass it.
 */
int dbt_safe_walk_ex(int catfd, const char *catpath, const char *gen, unsigned flags,
                     dbt_safe_dir_fn *seen, void *seen_arg, dbt_err *err);

/* The part of the rule DBT_SAFE_LINKS_AT_USE leaves out, over a generation's certs/ directory
 * (display names it): every <hash>.<n> symlink is owned by root or the effective user and
 * names an existing <sha256>.pem beside it. Returns DBT_SAFE_OK, _UNSAFE or _ERROR. */
int dbt_safe_check_links(int certsfd, const char *display, dbt_err *err);

/* A hash link's target must be the bare name of a <sha256>.pem beside it: 0, else -1 with err
 * naming path (the link) and target. */
int dbt_safe_hash_target(const char *path, const char *target, dbt_err *err);

/*
 * Holding a generation while it is read. A reader opens the generation's directory and takes a
 * shared flock(2) on that descriptor, without waiting (LOCK_NB): a writer removes an old
 * generation only after taking an exclusive flock on it, also without waiting, and skips it
 * while any reader holds it (the next commit tries again). The writer first renames a doomed
 * generation out of the .gen-N names, so a reader that opened it before the rename but locked it
 * after sees that its name no longer leads to it and resolves "current" again. Neither side
 * ever blocks; the lock goes away with the reader's last descriptor of the directory (close,
 * exit, crash).
 * Opens gen in catfd into *fd with the shared lock: 0; 1 when the generation is gone or being
 * removed (resolve "current" again); -1 with errno on another failure. Where the filesystem
 * has no flock (some network filesystems) the generation is returned unlocked: writers there
 * cannot lock it either, and remove old generations as before (the one replaced last is kept).
 */
int dbt_safe_hold_gen(int catfd, const char *gen, int *fd);

/* What a writer renames a generation to before removing it. */
#define DBT_SAFE_DEAD_PREFIX DBT_LAYOUT_DEAD_PREFIX

/*
 * Opens the writers' lock file name in dirfd (created with mode when missing) for flock(2),
 * never following a symlink and never blocking in open(2) (a FIFO planted there would), and
 * checks it with dbt_safe_entry after the open: it must be a regular file, owned by root or the
 * effective user and writable by nobody else. display names it in messages. Returns the
 * descriptor, or -1 with err saying what is wrong and what to do.
 */
int dbt_safe_open_lock(int dirfd, const char *name, mode_t mode, const char *display, dbt_err *err);

#endif
