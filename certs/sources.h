/* Known managed-database CA sources: where each provider publishes its CA certificates, what a
 * download holds, and what to do where no public bundle exists. Compiled into dbtrust (cli/). */
#ifndef DBT_CERTS_SOURCES_H
#define DBT_CERTS_SOURCES_H

#include <stddef.h>

/* URL templates may hold "{region}". A source with no URL cannot be fetched: its note says how
 * to get the CA (the certificate is per instance or per project, or a public root). */
typedef struct dbt_source {
    const char *name;     /* `dbtrust fetch NAME` and the default bundle name */
    const char *provider; /* who publishes it */
    const char *urls[5];  /* NULL-terminated; several URLs are combined into one bundle */
    const char *regional; /* per-region URL template, NULL when there is none */
    const char *contains; /* what a download holds (as of 2025) */
    const char *note;     /* how to use it, or how to get the CA when nothing can be fetched */
    /* The host names the source's CAs serve, as canonical scope text (lib/scope.h: items
     * separated by one space; a DNS name covers itself and every name below it): what `dbtrust
     * fetch` records with the bundle unless told otherwise, and for a source that cannot be
     * fetched the scope its note suggests for import. NULL: no default, and the note says why. */
    const char *scope;
} dbt_source;

/* The known sources, in the order `dbtrust sources` lists them (certs/sources.c). */
extern const dbt_source dbt_sources[];
extern const size_t dbt_nsources;

/* Regions with an RDS regional bundle, NULL-terminated (certs/sources.c). A region outside this
 * list is still accepted when it is spelled like one: AWS adds regions often. */
extern const char *const dbt_aws_regions[];

#endif
