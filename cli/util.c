/* Messages to the user, in one place so that every command reports the same way. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "catalog.h"
#include "certinfo.h"
#include "commands.h"
#include "escape.h"
#include "fsutil.h"

const char *cli_esc(const char *s)
{
    /* A few results live at once, so that one printf can take several escaped arguments. */
    static char *ring[8];
    static unsigned next;
    char *e;

    if (s == NULL)
        return "(null)";
    if (!dbt_escape_needed(s, strlen(s)))
        return s;
    if ((e = dbt_escape_dup(s, strlen(s))) == NULL)
        return "(unprintable: out of memory)";
    free(ring[next]);
    ring[next] = e;
    next = (next + 1) % (sizeof(ring) / sizeof(ring[0]));
    return e;
}

/* Every message goes out escaped as a whole: file names, aliases, bundle names and lib/'s
 * messages quoting the input can hold anything, and escaping already escaped text is a no-op. */
static void message(const char *kind, const char *fmt, va_list ap)
{
    char buf[4096], *text = buf;
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n >= (int)sizeof(buf) && (text = malloc((size_t)n + 1)) != NULL)
        vsnprintf(text, (size_t)n + 1, fmt, ap2);
    else if (n >= (int)sizeof(buf))
        text = buf; /* out of memory: the message is cut */
    va_end(ap2);
    if (n < 0)
        snprintf(buf, sizeof(buf), "%s", fmt);
    fprintf(stderr, "%s: %s: %s\n", cli_esc(cli_progname), kind, cli_esc(text));
    if (text != buf)
        free(text);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    message("error", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    message("warning", fmt, ap);
    va_end(ap);
}

/* The long option that name (what follows "--", up to any '=') selects: the exact match, else
 * the one option it abbreviates; NULL when none. *nmatch counts the options it abbreviates. */
static const struct option *long_match(const struct option *opts, const char *name, size_t *nmatch)
{
    const struct option *o, *found = NULL;
    size_t len = strcspn(name, "=");

    *nmatch = 0;
    for (o = opts; o != NULL && o->name != NULL; o++) {
        if (strncmp(o->name, name, len) != 0)
            continue;
        if (strlen(o->name) == len) {
            *nmatch = 1;
            return o;
        }
        (*nmatch)++;
        found = o;
    }
    return *nmatch == 1 ? found : NULL;
}

/*
 * getopt_long's own messages print the argument as typed, so a hostile option name would reach
 * the terminal raw: they are turned off (opterr = 0) and said here through cli_error, which
 * escapes. With ':' leading the option string, a missing argument comes back as ':' and every
 * other error as '?'. glibc leaves the failing word at argv[optind - 1] whenever a long option
 * failed (it steps over the word first); a short option is named by optopt alone, since in a
 * cluster (-xq) optind may still point at the word being read.
 */
int cli_getopt_long(int argc, char **argv, const char *shortopts, const struct option *longopts,
                    int *longindex)
{
    char spec[64];
    const char *cmd = argv[0], *word;
    const struct option *o;
    size_t nmatch, k;
    char ch[2];
    int c;

    if (strlen(shortopts) + 2 > sizeof(spec)) {
        cli_error("%s: internal error: option string too long", cmd);
        return '?';
    }
    /* A leading '+' or '-' must stay first; the ':' goes right after it. */
    k = shortopts[0] == '+' || shortopts[0] == '-';
    snprintf(spec, sizeof(spec), "%.*s:%s", (int)k, shortopts, shortopts + k);
    opterr = 0;
    c = getopt_long(argc, argv, spec, longopts, longindex);
    if (c != '?' && c != ':')
        return c;
    word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    ch[0] = (char)optopt;
    ch[1] = '\0';
    if (c == ':') {
        if (strncmp(word, "--", 2) == 0)
            cli_error("%s: option '%s' requires an argument", cmd, word);
        else
            cli_error("%s: option requires an argument -- '%s'", cmd, ch);
    } else if (optopt == 0) {
        /* Only a long option fails with optopt 0: unknown, or an abbreviation of several. */
        const char *name = strncmp(word, "--", 2) == 0 ? word + 2 : word;

        long_match(longopts, name, &nmatch);
        if (nmatch > 1) {
            /* The candidates come from the command's own table: plain ASCII names. */
            char cand[256] = "";
            size_t used = 0, len = strcspn(name, "=");

            for (o = longopts; o->name != NULL && used < sizeof(cand); o++)
                if (strncmp(o->name, name, len) == 0)
                    used += (size_t)snprintf(cand + used, sizeof(cand) - used, "%s--%s",
                                             used > 0 ? ", " : "", o->name);
            cli_error("%s: option '%s' is ambiguous: it could be %s; spell the option out", cmd,
                      word, cand);
        } else {
            cli_error("%s: unrecognized option '%s'", cmd, word);
        }
    } else if (strncmp(word, "--", 2) == 0 && strchr(word, '=') != NULL &&
               (o = long_match(longopts, word + 2, &nmatch)) != NULL && o->has_arg == no_argument &&
               o->flag == NULL && o->val == optopt) {
        cli_error("%s: option '--%s' doesn't allow an argument ('%s')", cmd, o->name, word);
    } else {
        cli_error("%s: invalid option -- '%s'", cmd, ch);
    }
    return '?';
}

json_t *cli_json_str(const char *s)
{
    return json_string(cli_esc(s != NULL ? s : ""));
}

int cli_json_print(json_t *j)
{
    /* jansson writes U+0000-U+001F as \uXXXX but DEL and the C1 controls raw; they can only
     * occur inside strings, where \u007f and \u0080-\u009f mean the same to a JSON reader. */
    char *s = json_dumps(j, JSON_INDENT(2));
    size_t i;
    int bad = 0;

    if (s == NULL) {
        cli_error("out of memory while writing JSON");
        return -1;
    }
    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == 0x7f) {
            bad |= fputs("\\u007f", stdout) == EOF;
        } else if (c == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9f) {
            bad |= printf("\\u%04x", (unsigned char)s[i + 1]) < 0;
            i++;
        } else {
            bad |= putchar(c) == EOF;
        }
    }
    bad |= putchar('\n') == EOF;
    free(s);
    if (!bad)
        return 0;
    /* The failed putchar's errno may be overwritten since: the flush says why again. */
    if (cli_stdout_flush() == 0)
        cli_stdout_error(0);
    return -1;
}

int cli_open_catalog(int flags, dbt_catalog **out)
{
    char buf[4096];
    const char *path = cli_catalog_opt;
    dbt_err err;

    /* A commit of this catalog has the system wiring follow it; its messages are said here. */
    dbt_catalog_set_report(cli_sys_report, NULL);
    if (path == NULL && (path = dbt_catalog_default_path(buf, sizeof(buf))) == NULL) {
        cli_error("cannot find a catalog location: set --catalog DIR or DBTRUST_CATALOG");
        return -1;
    }
    if (dbt_catalog_open(path, flags, out, &err) != 0) {
        struct stat st;

        /* Say how to create it in this program's own syntax. */
        if (err.hint == DBT_HINT_CREATE_CATALOG && !(flags & DBT_CAT_CREATE) &&
            lstat(path, &st) != 0 && errno == ENOENT)
            cli_error("catalog %s does not exist: create it with '%s --catalog %s import "
                      "--bundle NAME FILE'",
                      path, cli_progname, path);
        else
            cli_error("%s", cli_err_text(&err, NULL));
        return -1;
    }
    return 0;
}

/* Set once a failure to write standard output has been reported, so that it is said once. */
static int stdout_failed;

void cli_stdout_error(int e)
{
    if (stdout_failed)
        return;
    stdout_failed = 1;
    if (e != 0)
        cli_error("writing standard output: %s", strerror(e));
    else
        cli_error("writing standard output failed; the output is incomplete");
}

int cli_stdout_flush(void)
{
    int e;

    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return stdout_failed ? -1 : 0;
    /* A write that failed inside an earlier printf left ferror set and its errno long gone; the
     * flush above retries what is still buffered and usually says why again. */
    e = errno;
    cli_stdout_error(e);
    return -1;
}

int cli_stdout_close(int rc)
{
    int prev = ferror(stdout), e = 0, bad = 0;

    errno = 0;
    if (fflush(stdout) != 0) {
        bad = 1;
        e = errno;
    }
    errno = 0;
    /* EBADF with nothing written: standard output was closed and nothing was lost. */
    if (fclose(stdout) != 0 && !bad && (prev || errno != EBADF)) {
        bad = 1;
        e = errno;
    }
    if (prev && !bad)
        bad = 1;
    if (!bad && !stdout_failed)
        return rc;
    cli_stdout_error(e);
    return rc == CLI_OK ? CLI_FAIL : rc;
}

int cli_write_output(const char *path, const unsigned char *data, size_t len)
{
    dbt_err err;

    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len) {
            cli_stdout_error(errno);
            return -1;
        }
        return cli_stdout_flush();
    }
    /* path may be a link to standard output (/dev/stdout): what is buffered goes first. */
    if (cli_stdout_flush() != 0)
        return -1;
    if (dbt_fs_write_output(path, data, len, DBT_FILE_MODE, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

const char *cli_err_phrased(const dbt_err *err, const char *pass_phrase)
{
    /* The hints of lib/ in this program's syntax; "%s" is the path the message names. */
    const char *texts[DBT_HINT_COUNT] = {
        [DBT_HINT_PASSWORD] = pass_phrase != NULL ? pass_phrase : "use --password",
        [DBT_HINT_CATALOG_OPT] = " with --catalog",
        [DBT_HINT_CREATE_CATALOG] =
            ": run dbtrust --catalog %s import --bundle NAME FILE to create it",
        [DBT_HINT_INIT_CATALOG] =
            ": run dbtrust --catalog %s import --bundle NAME FILE to create it",
    };
    static char out[sizeof(err->msg)];

    dbt_err_render(err, texts, out, sizeof(out));
    return out;
}

const char *cli_err_text(const dbt_err *err, const char *pass_opt)
{
    char phrase[128];

    if (pass_opt == NULL)
        return cli_err_phrased(err, "this command takes no password: dbtrust print --password "
                                    "PASS reads the file, and import --password and convert "
                                    "--in-password take it too");
    snprintf(phrase, sizeof(phrase), "give it with %s", pass_opt);
    return cli_err_phrased(err, phrase);
}

void cli_pass_hint(dbt_err *err, const char *pass_opt)
{
    snprintf(err->msg, sizeof(err->msg), "%s", cli_err_text(err, pass_opt));
    err->hint = DBT_HINT_NONE;
}

int cli_read_file(const char *path, const char *password, const char *pass_opt, dbt_bundle **out,
                  EVP_MD_CTX *md)
{
    const char *source = strcmp(path, "-") == 0 ? "<stdin>" : path;
    unsigned char *data = NULL;
    size_t len = 0;
    dbt_err err;
    int rc = -1;

    *out = NULL;
    if (dbt_read_all(path, &data, &len, &err) != 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    /* Without a password the PKCS#12 reader tries "changeit" itself, so that truststores this
     * program (and Java) writes read back without it, inside one bound on key derivation. */
    if (dbt_bundle_decode(data, len, source, password, out, &err) != 0) {
        cli_error("%s", cli_err_text(&err, pass_opt));
        goto end;
    }
    if (md != NULL && EVP_DigestUpdate(md, data, len) != 1) {
        cli_error("%s: cannot compute its SHA-256", source);
        dbt_bundle_free(*out);
        *out = NULL;
        goto end;
    }
    rc = 0;
end:
    free(data);
    return rc;
}

long cli_days_left(long long t)
{
    return dbt_days_left((int64_t)t, (int64_t)time(NULL));
}

int cli_check_source(const dbt_bundle *b, int jks_out, const char *pass_hint, const char *outcome)
{
    dbt_err err;

    if (dbt_bundle_check_source(b, jks_out, &err) == 0)
        return 0;
    cli_error("%s; %s", cli_err_phrased(&err, pass_hint), outcome);
    return -1;
}
