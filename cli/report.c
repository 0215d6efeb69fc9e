/* What the catalog commands print about a change and about each certificate left out of an
 * import: the words of import, fetch, remove and keytool, over lib/import.h's reports. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "certinfo.h"
#include "commands.h"
#include "import.h"

static void iso_day(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, n, "%Y-%m-%d", &tm);
}

void cli_import_event(void *arg, const dbt_import_event *e)
{
    char where[64], d[32];

    (void)arg;
    if (e->line > 0)
        snprintf(where, sizeof(where), "certificate %zu (line %d)", e->index, e->line);
    else
        snprintf(where, sizeof(where), "certificate %zu", e->index);
    switch (e->kind) {
    case DBT_IMPORT_UNREADABLE:
        cli_error("%s of %s: %s; nothing was imported", where, e->source, e->why);
        break;
    case DBT_IMPORT_LEAF_SKIPPED:
        cli_warn("%s of %s is not a CA (%s): skipped; use --allow-leaf to import it", where,
                 e->source, e->subject);
        break;
    case DBT_IMPORT_LEAF_REFUSED: /* not a policy of import: said the way fetch says it */
        cli_error("%s of %s is not a CA (%s): refused", where, e->source, e->subject);
        break;
    case DBT_IMPORT_EXPIRED_SKIPPED:
        iso_day(e->not_after, d, sizeof(d));
        cli_warn("%s of %s expired on %s (%s): skipped (--no-expired)", where, e->source, d,
                 e->subject);
        break;
    case DBT_IMPORT_EXPIRED_KEPT:
        iso_day(e->not_after, d, sizeof(d));
        cli_warn("%s of %s expired on %s (%s): imported anyway; use --no-expired to skip "
                 "expired certificates",
                 where, e->source, d, e->subject);
        break;
    case DBT_IMPORT_EMPTY_INPUT:
        cli_warn("%s holds no certificate", e->source);
        break;
    }
}

void cli_fetch_event(void *arg, const dbt_import_event *e)
{
    (void)arg;
    switch (e->kind) {
    case DBT_IMPORT_UNREADABLE:
        cli_error("certificate %d of %s: %s; the catalog is unchanged", e->block, e->source,
                  e->why);
        break;
    case DBT_IMPORT_LEAF_REFUSED:
        /* A trust bundle that carries a server certificate is not what was asked for. */
        cli_error("certificate %d of %s is not a CA (%s): refusing the download; the catalog is "
                  "unchanged",
                  e->block, e->source, e->subject);
        break;
    case DBT_IMPORT_EXPIRED_KEPT:
        cli_warn("certificate %d of %s has expired (%s): imported as published", e->block,
                 e->source, e->subject);
        break;
    default: /* fetch neither skips nor warns about an empty download (the decoder refuses it) */
        break;
    }
}

void cli_report_change(const dbt_import_report *r)
{
    const char *unknown = "(subject unknown)";
    size_t i;

    printf("bundle '%s': %zu certificate%s (%zu added, %zu removed", cli_esc(r->bundle), r->count,
           r->count == 1 ? "" : "s", r->nadded, r->nremoved);
    if (r->duplicates > 0)
        printf(", %zu duplicate%s merged", r->duplicates, r->duplicates == 1 ? "" : "s");
    if (r->leaf + r->expired > 0)
        printf(", %zu skipped", r->leaf + r->expired);
    /* import and fetch alike say when a run changed nothing (a scheduled one mostly does) */
    int rescoped = r->existed && strcmp(r->scope, r->old_scope) != 0;

    printf(")%s\n", !r->existed                                 ? " [new bundle]"
                    : r->nadded + r->nremoved == 0 && !rescoped ? " [unchanged]"
                                                                : "");
    /* The scope is said whenever there is one, and its change whenever it changed. */
    if (rescoped)
        printf("  scope: %s -> %s\n", r->old_scope[0] ? r->old_scope : "(none: every name)",
               r->scope[0] ? r->scope : "(none: every name)");
    else if (r->scope[0] != '\0')
        printf("  scope: %s\n", r->scope);
    for (i = 0; i < r->nadded; i++)
        printf("  + %s %s\n", r->added[i].sha256,
               r->added[i].subject != NULL ? r->added[i].subject : unknown);
    for (i = 0; i < r->nremoved; i++)
        printf("  - %s %s\n", r->removed[i].sha256,
               r->removed[i].subject != NULL ? r->removed[i].subject : unknown);
}

void cli_report_removed(const dbt_import_report *r)
{
    size_t i;

    if (r->bundle[0] != '\0') {
        printf("removed bundle '%s' (%zu certificate%s)\n", cli_esc(r->bundle), r->count,
               r->count == 1 ? "" : "s");
        return;
    }
    printf("removed certificate %s from %zu bundle%s:", cli_esc(r->sha256), r->nbundles,
           r->nbundles == 1 ? "" : "s");
    for (i = 0; i < r->nbundles; i++)
        printf(" %s", cli_esc(r->bundles[i]));
    putchar('\n');
}

const char *cli_status_word(int status, long days, int style, char *buf, size_t n)
{
    switch (status) {
    case DBT_CERT_EXPIRED:
        return "expired";
    case DBT_CERT_NOT_YET_VALID:
        return "not-yet-valid";
    case DBT_CERT_EXPIRING:
        if (style == CLI_STATUS_PRINT)
            return "expiring";
        snprintf(buf, n, "expires in %ld day%s", days, days == 1 ? "" : "s");
        return buf;
    default:
        return "ok";
    }
}
