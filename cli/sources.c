/* dbtrust sources: the known managed-database CA sources (certs/sources.c), and the lookups
 * fetch and probe use to name them. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"

#include "../certs/sources.h"

const dbt_source *cli_source_find(const char *name)
{
    size_t i;

    for (i = 0; i < dbt_nsources; i++)
        if (strcmp(dbt_sources[i].name, name) == 0)
            return &dbt_sources[i];
    return NULL;
}

int cli_aws_region_known(const char *region)
{
    size_t i;

    for (i = 0; dbt_aws_regions[i] != NULL; i++)
        if (strcmp(dbt_aws_regions[i], region) == 0)
            return 1;
    return 0;
}

/* "xx-word-N" or "xx-gov-word-N": how every AWS region is spelled. */
int cli_aws_region_valid(const char *r)
{
    size_t i = 0, parts = 0, len = strlen(r);
    int digit_last = 0;

    if (len < 6 || len > 32)
        return 0;
    for (i = 0; i < len; i++) {
        char c = r[i];

        if (c == '-') {
            if (i == 0 || r[i - 1] == '-')
                return 0;
            parts++;
            digit_last = 0;
        } else if (c >= '0' && c <= '9') {
            digit_last = 1;
        } else if (c >= 'a' && c <= 'z') {
            if (digit_last)
                return 0;
        } else {
            return 0;
        }
    }
    return (parts == 2 || parts == 3) && digit_last && r[2] == '-';
}

static void sources_usage(FILE *out)
{
    fprintf(out, "usage: dbtrust sources [--json]\n\n"
                 "Lists the managed-database CA sources dbtrust knows: the URLs `dbtrust fetch`\n"
                 "downloads, what each holds, the host names its CAs are trusted for by default\n"
                 "(scope; for a source that cannot be fetched, the scope to give import), and how\n"
                 "to get CAs that have no public bundle.\n\n"
                 "  -j, --json   print JSON\n"
                 "  -h, --help   show this help\n");
}

json_t *cli_scope_json(const char *scope)
{
    json_t *a;
    const char *p, *sp;

    if (scope == NULL || scope[0] == '\0')
        return json_null();
    if ((a = json_array()) == NULL)
        return NULL;
    /* Items are separated by one space (the canonical form): no copy, no length limit. */
    for (p = scope; *p != '\0'; p = *sp != '\0' ? sp + 1 : sp) {
        sp = p + strcspn(p, " ");
        if (json_array_append_new(a, json_stringn(p, (size_t)(sp - p))) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *source_json(const dbt_source *s)
{
    json_t *o = json_object(), *urls = json_array();
    size_t k;

    for (k = 0; s->urls[k] != NULL; k++)
        json_array_append_new(urls, json_string(s->urls[k]));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "provider", json_string(s->provider));
    json_object_set_new(o, "fetch", json_boolean(s->urls[0] != NULL));
    json_object_set_new(o, "urls", urls);
    json_object_set_new(o, "regional_url", s->regional ? json_string(s->regional) : json_null());
    json_object_set_new(o, "contains", json_string(s->contains));
    json_object_set_new(o, "note", json_string(s->note));
    json_object_set_new(o, "scope", cli_scope_json(s->scope));
    if (s->regional != NULL) {
        json_t *regions = json_array();

        for (k = 0; dbt_aws_regions[k] != NULL; k++)
            if ((strncmp(dbt_aws_regions[k], "us-gov-", 7) == 0) ==
                (strcmp(s->name, "aws-rds-govcloud") == 0))
                json_array_append_new(regions, json_string(dbt_aws_regions[k]));
        json_object_set_new(o, "regions", regions);
    }
    return o;
}

int cli_cmd_sources(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    size_t i, k;

    while ((c = cli_getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'h':
            sources_usage(stdout);
            return CLI_OK;
        default:
            sources_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("sources takes no arguments (got '%s')", argv[optind]);
        return CLI_USAGE;
    }
    if (json) {
        json_t *arr = json_array();
        char *s;

        for (i = 0; i < dbt_nsources; i++)
            json_array_append_new(arr, source_json(&dbt_sources[i]));
        s = json_dumps(arr, JSON_INDENT(2));
        json_decref(arr);
        if (s == NULL) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        /* Longer than stdio's buffer: a failed write says why here, while errno holds it. */
        errno = 0;
        if (printf("%s\n", s) < 0) {
            cli_stdout_error(errno);
            free(s);
            return CLI_FAIL;
        }
        free(s);
        return CLI_OK;
    }
    for (i = 0; i < dbt_nsources; i++) {
        const dbt_source *s = &dbt_sources[i];

        printf("%s%s  (%s)\n", i > 0 ? "\n" : "", s->name, s->provider);
        printf("  fetch:    %s\n", s->urls[0] != NULL ? "yes" : "no (use dbtrust import)");
        for (k = 0; s->urls[k] != NULL; k++)
            printf("  url:      %s\n", s->urls[k]);
        if (s->regional != NULL)
            printf("  regional: %s\n", s->regional);
        printf("  contains: %s\n", s->contains);
        if (s->scope == NULL)
            printf("  scope:    none (the note says why)\n");
        else
            printf("  scope:    %s (%s)\n", s->scope,
                   s->urls[0] != NULL ? "what fetch records unless --only-for or --unscoped"
                                      : "to give import as --only-for");
        printf("  note:     %s\n", s->note);
    }
    return CLI_OK;
}
