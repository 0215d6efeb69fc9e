/* File helpers for writers that must never leave a half-written file behind. The ownership and
 * permission rule that keeps a trust store from being writable by someone else is in
 * lib/catsafe.h. */
#ifndef DBT_FSUTIL_H
#define DBT_FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

/* Mode of every file and directory dbtrust creates, whatever the umask. */
#define DBT_FILE_MODE 0644
#define DBT_DIR_MODE 0755

/* What a file of mode m is called in messages: "a regular file", "a directory", "a symbolic
 * link", "a FIFO", "a socket", "a character device", "a block device" or "a special file". */
const char *dbt_fs_kind(mode_t m);

/*
 * Replaces path atomically: writes a temporary file in the same directory, sets mode exactly
 * (umask ignored), fsyncs it, renames it over path and fsyncs the directory. On failure path is
 * untouched and the temporary file is removed. Only a regular file or a missing path is ever
 * replaced: a device, FIFO, socket, directory or symbolic link at path (checked before writing
 * and again right before the rename) is refused. Returns 0, or -1 with err naming path.
 */
int dbt_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, dbt_err *err);

/*
 * Writes an output the user named (convert, export, keystore files), by what path is:
 *  - a new path or a regular file: replaced atomically with mode (dbt_fs_write_atomic);
 *  - a character device or a FIFO: written in place, never renamed over nor truncated (a FIFO
 *    blocks until a reader opens it);
 *  - a symbolic link to the file this process's standard output or error is (/dev/stdout,
 *    /dev/fd/1): written to that descriptor, at its position; the caller flushes its own stdio
 *    buffer first;
 *  - a symbolic link to a character device or a FIFO (/dev/fd/63 of bash's >(...)): written in
 *    place through the link;
 *  - any other symbolic link (to a regular file, a directory, nowhere), a directory, a block
 *    device or a socket: refused, nothing written. Replacing a link would drop it, and writing
 *    through it would put the output somewhere the caller did not name.
 * Returns 0, or -1 with err naming path and the reason.
 */
int dbt_fs_write_output(const char *path, const void *data, size_t len, mode_t mode, dbt_err *err);

/*
 * Creates name in dirfd exclusively (O_EXCL, never through a symlink), writes data, sets mode
 * exactly and fsyncs. display is the path shown in messages. On failure the file is removed.
 */
int dbt_fs_write_new_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        const char *display, dbt_err *err);

/* Like dbt_fs_write_new_at without the fsync: for a tree that is flushed as a whole with
 * dbt_fs_sync_tree before anything refers to it. */
int dbt_fs_create_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     const char *display, dbt_err *err);
/* name in dirfd (never through a symlink) mapped read-only (for munmap) instead of read, with
 * its fstat in *st: -1, without a message, when it cannot be, is not a regular file, is empty
 * or larger than max. Only for a file nothing rewrites in place while it is mapped: truncated
 * under the mapping, it would fault (SIGBUS). */
struct stat;
int dbt_fs_map_at_st(int dirfd, const char *name, size_t max, void **map, size_t *len,
                     struct stat *st);

/* dbt_fs_create_at (sync 0) or dbt_fs_write_new_at (sync 1) of the concatenation of the
 * pieces iov[0..n). */
struct iovec;
int dbt_fs_create_iov_at(int dirfd, const char *name, const struct iovec *iov, size_t n,
                         mode_t mode, int sync, const char *display, dbt_err *err);

/* Flushes everything written under fd's filesystem (syncfs on Linux, which reports writeback
 * errors since Linux 5.8; sync elsewhere). */
int dbt_fs_sync_tree(int fd, const char *display, dbt_err *err);

/* mkdirat with an exact mode (umask ignored). EEXIST is reported as -1 with errno EEXIST. */
int dbt_fs_mkdir_at(int dirfd, const char *name, mode_t mode, const char *display, dbt_err *err);

/* Creates path and its missing parents with DBT_DIR_MODE; existing directories are untouched. */
int dbt_fs_mkdir_p(const char *path, dbt_err *err);

/* fsync on a directory (or any) descriptor; display names it in the message. */
int dbt_fs_fsync_fd(int fd, const char *display, dbt_err *err);

/* Removes name in dirfd and everything below it, never following symlinks. A missing name is
 * success. Returns 0, or -1 with err set (what could be removed is removed). */
int dbt_fs_rmtree_at(int dirfd, const char *name, const char *display, dbt_err *err);

/* Asks the kernel for the pages of [p, p+n) at once (MADV_POPULATE_WRITE, Linux 5.14) instead of
 * one page fault each on first touch: on a virtual machine a fault costs 15-20 us, and a commit
 * at 1,000 bundles touched thousands of fresh pages. Only for n of 64 KiB or more; a kernel
 * without it changes nothing. */
void dbt_fs_prefault(void *p, size_t n);

/* Reads a whole regular file (not through a symlink when nofollow) of at most max bytes.
 * *data is malloc'ed and NUL-terminated (the NUL is not counted in *len). Never blocks in
 * open(2): a FIFO, device or socket at name is refused as "not a regular file" (its kind named). */
int dbt_fs_read_at(int dirfd, const char *name, int nofollow, size_t max, unsigned char **data,
                   size_t *len, const char *display, dbt_err *err);
/* The same, with what fstat(2) said of the file read in *st (for a caller that checks its
 * owner and mode: the descriptor read, not a second lookup of the name). */
int dbt_fs_read_at_st(int dirfd, const char *name, int nofollow, size_t max, unsigned char **data,
                      size_t *len, struct stat *st, const char *display, dbt_err *err);

#endif
