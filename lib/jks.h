/* Java keystore helpers shared by the JKS and PKCS#12 truststore writers: choosing aliases that
 * Java keeps apart (it compares aliases case-insensitively, so "CA" and "ca" would collide). */
#ifndef DBT_JKS_H
#define DBT_JKS_H

#include <stddef.h>

#include "bundle.h"
#include "error.h"

/* Longest alias derived from a subject name (bytes, cut at a UTF-8 character boundary). */
#define DBT_JKS_ALIAS_MAX 128

/*
 * One alias per certificate of b, unique without regard to ASCII case. A certificate's own alias
 * (dbt_cert.alias) is kept, ASCII-lowercased when lower_given is set (JKS does this itself);
 * certificates without one get a lowercase alias derived from the subject CN (else O, OU,
 * else "certificate"). Clashes get "-2", "-3"... appended, given aliases winning over derived
 * ones. Returns an array of b->n OPENSSL_malloc'ed strings (free with dbt_jks_aliases_free),
 * or NULL with err set.
 */
char **dbt_jks_aliases(const dbt_bundle *b, int lower_given, dbt_err *err);
void dbt_jks_aliases_free(char **aliases, size_t n);

/* The alias derived from x's subject, before de-duplication (OPENSSL_malloc'ed, never NULL
 * unless out of memory). */
char *dbt_jks_subject_alias(X509 *x);

#endif
