/* The dbtrust commands: one function per command, dispatched from the table in main.c. */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

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

/* keytool spelling: argv[0] is the keytool command ("-printcert", ...). cli/keytool.c */
int cli_keytool_main(int argc, char **argv);
/* -printcert in keytool's exact layout; cli/print.c */
int cli_keytool_printcert(int argc, char **argv);

/* Global options parsed by main (before the command). */
extern const char *cli_catalog_opt; /* --catalog DIR, or NULL */
extern const char *cli_progname;

/* Shared helpers (cli/util.c). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
