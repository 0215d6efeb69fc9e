/* Replays fuzz inputs without libFuzzer: calls LLVMFuzzerTestOneInput on every file named on the
 * command line (directories: every regular file in them), so make check runs the corpora with
 * any compiler. A crash names the input that caused it. */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "fuzz_common.h"

/* Present only when a sanitizer runtime is linked in. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
extern int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *current = "(none)";

static void say_current(void)
{
    static const char msg[] = "\nreplay: the failing input is ";

    /* write(2) only: this runs from a signal handler or a dying sanitizer. */
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
        write(STDERR_FILENO, current, strlen(current)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
        return;
}

static void on_signal(int sig)
{
    say_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path, size_t *count)
{
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;

    if (dbt_read_all(path, &data, &len, &err) != 0) {
        fprintf(stderr, "replay: %s\n", err.msg);
        return -1;
    }
    current = path;
    if (getenv("REPLAY_VERBOSE") != NULL)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* An exact-size copy: a read past the end is then caught by ASan as it is under libFuzzer
     * (dbt_read_all's buffer has a spare NUL byte). */
    unsigned char *copy = malloc(len != 0 ? len : 1);
    if (copy == NULL) {
        free(data);
        return -1;
    }
    memcpy(copy, data, len);
    free(data);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    (*count)++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
            if (nn == NULL) {
                ret = -1;
                break;
            }
            names = nn;
        }
        if ((names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)) == NULL) {
            ret = -1;
            break;
        }
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    /* Sorted: the same order on every machine, so a failure reproduces the same way. */
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (ret == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            ret = run_file(names[i], count);
        free(names[i]);
    }
    free(names);
    return ret;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int i;

    /* abort() (a target's broken invariant) is not a sanitizer death: catch it either way.
     * SEGV and friends are left to the sanitizer when there is one, so it can report them. */
    signal(SIGABRT, on_signal);
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(say_current);
    } else {
        signal(SIGSEGV, on_signal);
        signal(SIGBUS, on_signal);
        signal(SIGFPE, on_signal);
    }
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 2;
        }
        if ((S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count)) != 0)
            return 1;
    }
    printf("%s: %zu inputs replayed, no failure\n", argv[0], count);
    return 0;
}
