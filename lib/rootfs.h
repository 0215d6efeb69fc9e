/* Reading a root file system (a container image, a chroot, or "/" itself) as if it were "/",
 * without ever leaving it: the paths dbtrust doctor reads (lib/consumers.h). */
#ifndef DBT_ROOTFS_H
#define DBT_ROOTFS_H

#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

/* Links followed to reach one path at most (the kernel's own limit). */
#define DBT_ROOT_LINKS 40

/*
 * Opens path (absolute, as seen inside the root whose O_PATH directory descriptor is rootfd) as
 * if the root were "/": each component is opened with O_NOFOLLOW from its directory's
 * descriptor, a link is read and its target walked from the root (absolute) or from where it is
 * (relative), ".." never climbs above the root, and at most DBT_ROOT_LINKS links are followed.
 * This is what openat2(RESOLVE_IN_ROOT) does in the kernel, done here because seccomp profiles
 * of container runtimes and valgrind refuse that call. With reg, the last component must be a
 * regular file, checked before it is opened (a FIFO or device is never opened): its stat goes to
 * *reg, and -2 says it is something else. The descriptor, or -1 with errno.
 */
int dbt_root_open(int rootfd, const char *path, int flags, struct stat *reg);
/* The directory at path inside the root, or NULL with errno. */
DIR *dbt_root_opendir(int rootfd, const char *path);
/* Reads a regular file of at most max bytes whole (NUL-terminated; *data malloc'ed): 0; 1 when it
 * is missing; -1 with err naming it (not a regular file, too large, unreadable). */
int dbt_root_read(int rootfd, const char *path, size_t max, unsigned char **data, size_t *len,
                  struct stat *st, dbt_err *err);
/* The names in dir that match the fnmatch pattern, sorted, hidden ones left out (*out malloc'ed,
 * free with dbt_root_list_free). At most DBT_ROOT_MAX_DIRENTS entries are looked at; *cut says
 * that there were more. A missing directory has none. */
#define DBT_ROOT_MAX_DIRENTS 100000u
size_t dbt_root_list(int rootfd, const char *dir, const char *pattern, char ***out, int *cut);
void dbt_root_list_free(char **v, size_t n);

#endif
