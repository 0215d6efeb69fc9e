/* dbtrust convert: any bundle format in, any format out, by content detection. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "commands.h"
#include "encode.h"
#include "format.h"

static void convert_usage(FILE *out)
{
    char formats[128];

    dbt_format_names(DBT_FMTF_OUT | DBT_FMTF_DIR, DBT_FMT_FIELD_NAME, ", ", " or ", formats,
                     sizeof(formats));
    fprintf(out,
            "usage: dbtrust convert --to FORMAT [options] IN OUT\n\n"
            "Reads IN (PEM, DER, PKCS#7 PEM or DER, PKCS#12, JKS; '-' for standard input) and\n"
            "writes every certificate to OUT ('-' for standard output) in FORMAT. A regular\n"
            "OUT is replaced atomically: complete, or untouched on any error. A device or\n"
            "FIFO is written in place; a symbolic link is refused (dbtrust(1), OUTPUT FILES).\n"
            "Trust settings of TRUSTED CERTIFICATE input are kept by pem and hashed-dir; the\n"
            "other formats refuse a certificate they would trust for more than its input does.\n\n"
            "  -t, --to FORMAT          %s\n"
            "  -p, --password PASS      password of a pkcs12 or jks OUT (default changeit)\n"
            "  -i, --in-password PASS   password of a PKCS#12 or JKS IN (default: \"\", none\n"
            "                           or changeit); a keystore IN whose digest or MAC is not\n"
            "                           verified with it, or that holds a key entry's chain,\n"
            "                           is refused: nothing is written (dbtrust(1), KEYSTORES)\n"
            "  -h, --help               show this help\n",
            formats);
}

int cli_cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"password", required_argument, NULL, 'p'},
        {"in-password", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *to = NULL, *password = NULL, *in_password = NULL;
    const dbt_format_info *fmt;
    dbt_bundle *b;
    int c, rc;

    while ((c = cli_getopt_long(argc, argv, "t:p:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            to = optarg;
            break;
        case 'p':
            password = optarg;
            break;
        case 'i':
            in_password = optarg;
            break;
        case 'h':
            convert_usage(stdout);
            return CLI_OK;
        default:
            convert_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (to == NULL || optind + 2 != argc) {
        cli_error("convert needs --to FORMAT, an input and an output");
        convert_usage(stderr);
        return CLI_USAGE;
    }
    if ((fmt = cli_output_format(to)) == NULL)
        return CLI_USAGE;
    if (cli_read_file(argv[optind], in_password, "--in-password", &b, NULL) != 0)
        return CLI_FAIL;
    if (b->n == 0) {
        cli_error("%s holds no certificate; %s was not written", b->source, argv[optind + 1]);
        dbt_bundle_free(b);
        return CLI_FAIL;
    }
    {
        char outcome[512];

        /* A keystore input is written out only once its password verified it, and never turns
         * a key entry's chain into trusted certificates. */
        snprintf(outcome, sizeof(outcome), "nothing was written to %s", argv[optind + 1]);
        if (cli_check_source(b, fmt->id == DBT_FMT_JKS, "give it with --in-password (-i)",
                             outcome) != 0) {
            dbt_bundle_free(b);
            return CLI_FAIL;
        }
    }
    rc = cli_write_bundle(b, to, password, argv[optind + 1]) == 0 ? CLI_OK : CLI_FAIL;
    if (rc == CLI_OK && strcmp(argv[optind + 1], "-") != 0)
        fprintf(stderr, "wrote %zu certificate%s to %s (%s)\n", b->n, b->n == 1 ? "" : "s",
                cli_esc(argv[optind + 1]), cli_esc(to));
    dbt_bundle_free(b);
    return rc;
}
