/* The dbtrust commands: one function per command, dispatched from the table in main.c. */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include <stddef.h>

/* Exit codes shared by every command. */
#define CLI_OK 0
#define CLI_FAIL 1  /* the operation failed (bad input, catalog error, check found problems) */
#define CLI_USAGE 2 /* the command line is wrong */

/* Each command gets argv with argv[0] = the command name and parses its own options. */
int cli_cmd_print(int argc, char **argv);   /* cli/print.c */
int cli_cmd_convert(int argc, char **argv); /* cli/convert.c */
int cli_cmd_import(int argc, char **argv);  /* cli/catalog_cmds.c */
int cli_cmd_list(int argc, char **argv);
int cli_cmd_remove(int argc, char **argv);
int cli_cmd_export(int argc, char **argv);
int cli_cmd_check(int argc, char **argv);
int cli_cmd_verify(int argc, char **argv);
int cli_cmd_env(int argc, char **argv); /* cli/system.c */
int cli_cmd_system(int argc, char **argv);
int cli_cmd_config(int argc, char **argv);
int cli_cmd_probe(int argc, char **argv);   /* cli/probe.c */
int cli_cmd_fetch(int argc, char **argv);   /* cli/fetch.c */
int cli_cmd_refresh(int argc, char **argv); /* cli/refresh.c */
int cli_cmd_sources(int argc, char **argv); /* cli/sources.c */
int cli_cmd_doctor(int argc, char **argv);  /* cli/doctor.c */

/* keytool spelling: argv[0] is the keytool command ("-printcert", ...). cli/keytool.c */
int cli_keytool_main(int argc, char **argv);
/* -printcert in keytool's exact layout; cli/print.c */
int cli_keytool_printcert(int argc, char **argv);
/* Appends "Trust settings: ..." to out when x has trust or reject settings (keytool has no such
 * line); -1 when out of memory. cli/print.c */
struct cli_kt_buf;
struct x509_st;
int cli_printcert_trust(struct cli_kt_buf *out, struct x509_st *x);
/* Appends x as keytool -rfc writes it, or as a TRUSTED CERTIFICATE block when it has trust or
 * reject settings (so that saved output is not wider); -1 when out of memory. cli/print.c */
int cli_printcert_rfc(struct cli_kt_buf *out, struct x509_st *x);

/* Global options parsed by main (before the command). */
extern const char *cli_catalog_opt; /* --catalog DIR, or NULL */
extern const char *cli_progname;

/* Shared helpers (cli/util.c). Messages are escaped as a whole by lib/escape.h's rule. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s escaped by lib/escape.h's rule, for any untrusted string the output shows (s itself when
 * nothing needs escaping). The result stays valid until 8 more calls; never NULL. */
const char *cli_esc(const char *s);
/* getopt_long for a command's options (argv[0] is the command name), with its error messages
 * said through cli_error, escaped, and naming the option as typed: "COMMAND: unrecognized
 * option '--x'". Returns what getopt_long returns, '?' for every error (a missing argument too);
 * the caller prints its usage and exits CLI_USAGE. */
struct option;
int cli_getopt_long(int argc, char **argv, const char *shortopts, const struct option *longopts,
                    int *longindex);
/* A JSON string of s escaped the same way (valid UTF-8 whatever s holds); NULL: out of memory. */
struct json_t;
struct json_t *cli_json_str(const char *s);
/* Writes j indented, then a newline, to standard output, with DEL and the C1 controls written
 * as \u escapes (jansson writes them raw). 0, or -1 when it could not be written. */
int cli_json_print(struct json_t *j);

struct dbt_catalog;
struct dbt_bundle;
/* Opens the catalog named by --catalog or the default location; prints the error. 0 or -1. */
int cli_open_catalog(int flags, struct dbt_catalog **out);
/* Writes data to stdout when path is "-", else as dbt_fs_write_output does (lib/fsutil.h): a
 * regular file or new path atomically (temporary file + rename), a device or FIFO in place,
 * /dev/stdout to standard output; never renames over anything else. Prints the error naming
 * path. 0 or -1. */
int cli_write_output(const char *path, const unsigned char *data, size_t len);
/* Flushes standard output; a failure (now or in an earlier printf) is reported once as
 * "writing standard output: REASON". 0, or -1 once any write to it has failed. */
int cli_stdout_flush(void);
/* Reports a failure to write standard output once, with e (errno taken right after the failing
 * call; 0 when unknown). */
void cli_stdout_error(int e);
/* At exit (main): flushes and closes standard output and turns any failure to write it into a
 * reported error and exit status CLI_FAIL (rc is kept when it is already a failure). */
int cli_stdout_close(int rc);
/* Reads and decodes one input ("-" is standard input). A PKCS#12 input that opens neither with
 * password nor without one is tried with "changeit" when password is NULL. pass_opt names the
 * option that gives the password in the error message ("-storepass", "--password"; NULL for a
 * command that takes none). md, when not NULL, is updated with the input's bytes. Prints the
 * error; 0 or -1. */
struct evp_md_ctx_st;
struct dbt_err;
/*
 * err's message with its hint (lib/error.h) in this program's words, for the command at hand:
 * the password hint names pass_opt ("give it with --password"), or, when pass_opt is NULL, says
 * which commands take a password. The text stays valid until the next call of either.
 */
const char *cli_err_text(const struct dbt_err *err, const char *pass_opt);
/* The same with the password hint worded as pass_phrase (NULL: "use --password"). */
const char *cli_err_phrased(const struct dbt_err *err, const char *pass_phrase);
/* cli_err_text written over err->msg (the hint is then spent), for a caller that prints
 * err->msg. */
void cli_pass_hint(struct dbt_err *err, const char *pass_opt);
int cli_read_file(const char *path, const char *password, const char *pass_opt,
                  struct dbt_bundle **out, struct evp_md_ctx_st *md);
/* dbt_bundle_check_source for an input about to be written: prints its error with the password
 * hint spelled as pass_hint ("give it with --in-password"; NULL: "use --password") and then
 * "; <outcome>" ("nothing was written to OUT"). 0 or -1. */
int cli_check_source(const struct dbt_bundle *b, int jks_out, const char *pass_hint,
                     const char *outcome);
/* Writes b to out in the named output format or "hashed-dir" (export and convert). */
int cli_write_bundle(const struct dbt_bundle *b, const char *format, const char *password,
                     const char *out);
/* The output format named name (a file format, alias, or hashed-dir); NULL after printing an
 * error that lists them. */
const struct dbt_format_info *cli_output_format(const char *name);
/* Prints a message of lib/syswire.h as an error or warning, its hint in this program's syntax
 * (a dbt_sys_msg_fn; arg unused). cli/system.c */
struct dbt_sys_msg;
void cli_sys_report(void *arg, const struct dbt_sys_msg *m);
/* Days from now until t (negative when past), rounded down. */
long cli_days_left(long long t);

/* The import pipeline and removal as commands run them (cli/catalog_cmds.c), for import,
 * remove and keytool -importcert/-delete: files ("-" is standard input, once) imported as
 * opts->bundle with import's messages, then the change report unless quiet; one bundle or one
 * certificate removed, then the report. Each returns the command's exit code. */
struct dbt_import_opts;
int cli_import_files(const struct dbt_import_opts *opts, int n, char *const files[], int quiet);
/* One --only-for value added to scope (len bytes, lib/scope.h's canonical text); an error
 * printed and -1 when it is not a name or range, or when --unscoped was given too. */
int cli_scope_option(char *scope, size_t len, int unscoped, const char *value);
/* A canonical scope text (lib/scope.h) as JSON: the array of its names and ranges, or null when
 * it is empty (or NULL); NULL when out of memory (cli/sources.c). */
struct json_t *cli_scope_json(const char *scope);
/* The end of every import (import, fetch): opens or creates the catalog, commits imp and
 * prints the change report unless quiet. CLI_OK, or CLI_FAIL with the reason printed (the
 * catalog unchanged, or committed with the system wiring behind). */
struct dbt_import;
int cli_import_commit(struct dbt_import *imp, int quiet);
int cli_remove(const char *bundle, const char *fp);
/* Reports of lib/import.h (cli/report.c). cli_import_event and cli_fetch_event word each
 * dbt_import_event as import and fetch do (arg unused); cli_report_change prints "bundle 'N': K
 * certificates (A added, R removed...) [new bundle]|[unchanged]" and the +/- lines, the same for
 * import and fetch. */
struct dbt_import_event;
struct dbt_import_report;
void cli_import_event(void *arg, const struct dbt_import_event *e);
void cli_fetch_event(void *arg, const struct dbt_import_event *e);
void cli_report_change(const struct dbt_import_report *r);
void cli_report_removed(const struct dbt_import_report *r);

/* A certificate status (lib/certinfo.h) in a command's words: CLI_STATUS_LIST as list and
 * check say it ("ok", "expires in N days", "expired"), CLI_STATUS_PRINT as print does ("ok",
 * "expiring", "expired", "not-yet-valid"). days: the days left; buf holds the words built. */
#define CLI_STATUS_LIST 0
#define CLI_STATUS_PRINT 1
const char *cli_status_word(int status, long days, int style, char *buf, size_t n);

/* Known CA sources (certs/sources.c, cli/sources.c): the entry named name, or NULL; whether a
 * region is in the known list; whether a string is spelled like an AWS region (us-east-1). */
struct dbt_source;
const struct dbt_source *cli_source_find(const char *name);
int cli_aws_region_known(const char *region);
int cli_aws_region_valid(const char *region);

#endif
