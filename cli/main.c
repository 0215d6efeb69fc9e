/* dbtrust: entry point. Global options, then a command from the table (modern spelling) or a
 * keytool-style "-command" (keytool spelling). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#ifdef __SANITIZE_ADDRESS__
#include <sys/auxv.h>

/* Sanitizer builds only (configure --enable-sanitizers): LeakSanitizer cannot work in a set-id
 * process run by an ordinary user. The kernel makes such a process non-dumpable, so the leak
 * check cannot stop its threads and dies at exit ("LeakSanitizer has encountered a fatal error"),
 * losing buffered output; nor can the runtime read ASAN_OPTIONS from /proc/self/environ. ASan and
 * UBSan keep working there; only the leak check is off (tests/setuid-env.sh runs such copies). */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
    return getauxval(AT_SECURE) != 0;
}
#endif

const char *cli_catalog_opt = NULL;
const char *cli_progname = "dbtrust";

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"print", cli_cmd_print, "print the certificates of a file (PEM, DER, PKCS#7, PKCS#12, JKS)"},
    {"convert", cli_cmd_convert, "convert a bundle to another format"},
    {"import", cli_cmd_import, "import certificates into a catalog bundle"},
    {"list", cli_cmd_list, "list the catalog's certificates"},
    {"remove", cli_cmd_remove, "remove a bundle or a certificate from the catalog"},
    {"export", cli_cmd_export, "export catalog certificates in any format"},
    {"check", cli_cmd_check, "report certificates that expire soon (for monitoring)"},
    {"verify", cli_cmd_verify, "check the whole catalog for damage and unsafe files"},
    {"env", cli_cmd_env, "print SSL_CERT_DIR that adds the catalog, for one shell or service"},
    {"system", cli_cmd_system,
     "wire the catalog into OpenSSL's default trust (sslrootcert=system)"},
    {"config", cli_cmd_config, "print the openssl.cnf that loads the dbtrust provider"},
    {"probe", cli_cmd_probe, "diagnose a PostgreSQL or MySQL server's TLS chain"},
    {"fetch", cli_cmd_fetch, "download a managed database's CA bundle into the catalog"},
    {"refresh", cli_cmd_refresh, "download every fetched bundle again (for a timer)"},
    {"sources", cli_cmd_sources, "list the known managed-database CA sources"},
    {"doctor", cli_cmd_doctor,
     "report whether each trust consumer on the host reaches the catalog"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    const struct command *c;

    fprintf(out,
            "usage: %s [--catalog DIR] COMMAND [OPTIONS] [ARGS]\n"
            "       %s -printcert|-importcert|-list|-exportcert|-delete [keytool options]\n\n"
            "Commands:\n",
            cli_progname, cli_progname);
    for (c = commands; c->name != NULL; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\nGlobal options:\n"
                 "  --catalog DIR  catalog directory, before or after COMMAND (default:\n"
                 "                 $DBTRUST_CATALOG, else /etc/dbtrust for root, else\n"
                 "                 ${XDG_DATA_HOME:-~/.local/share}/dbtrust)\n"
                 "  -h, --help     show this help; COMMAND --help shows a command's options\n"
                 "  --version      show the version\n\n"
                 "See dbtrust(1).\n");
}

/*
 * Takes --catalog DIR / --catalog=DIR out of a command's arguments (up to a "--"), so that the
 * global option works after the command name too ("dbtrust list --catalog DIR"), as users write
 * it. Returns the new argument count, or -1 after an error message.
 */
static int take_catalog_opts(int argc, char **argv)
{
    int in, out = 1;

    for (in = 1; in < argc; in++) {
        if (strcmp(argv[in], "--") == 0) {
            while (in < argc)
                argv[out++] = argv[in++];
            break;
        }
        if (strcmp(argv[in], "--catalog") == 0) {
            if (in + 1 >= argc) {
                cli_error("--catalog needs a directory");
                return -1;
            }
            cli_catalog_opt = argv[++in];
        } else if (strncmp(argv[in], "--catalog=", 10) == 0) {
            cli_catalog_opt = argv[in] + 10;
        } else {
            argv[out++] = argv[in];
        }
    }
    argv[out] = NULL;
    return out;
}

static int run(int argc, char **argv)
{
    int n;
    const struct command *c;
    int i = 1;

    while (i < argc) {
        if (strcmp(argv[i], "--catalog") == 0) {
            if (i + 1 >= argc) {
                cli_error("--catalog needs a directory");
                return CLI_USAGE;
            }
            cli_catalog_opt = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "--catalog=", 10) == 0) {
            cli_catalog_opt = argv[i] + 10;
            i++;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return CLI_OK;
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    n = take_catalog_opts(argc - i, argv + i);
    if (n < 0)
        return CLI_USAGE;
    /* keytool spelling: a single-dash word such as -printcert. */
    if (argv[i][0] == '-' && argv[i][1] != '-' && argv[i][1] != '\0')
        return cli_keytool_main(n, argv + i);
    for (c = commands; c->name != NULL; c++) {
        if (strcmp(argv[i], c->name) == 0) {
            optind = 0; /* each command runs its own getopt_long from a fresh state */
            return c->fn(n, argv + i);
        }
    }
    cli_error("unknown command '%s'; run '%s --help' for the list", argv[i], cli_progname);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    /* Every command's output is checked here once more: a full disk or a closed pipe on
     * standard output is a failure with its reason, whichever printf met it. */
    return cli_stdout_close(run(argc, argv));
}
