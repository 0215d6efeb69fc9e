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

/* Decides, for each trusted certificate entry of a keystore being rewritten, whether it stays
 * (1) or goes (0); alias is the entry's, as UTF-8. Key entries always stay. */
typedef int dbt_jks_keep_fn(void *arg, const char *alias, X509 *x);

/*
 * Rewrites a JKS or JCEKS keystore that dbt_jks_decode accepted with password (the caller checks
 * that first): every entry kept is copied byte for byte (key entries always are), then the
 * certificates add[0..nadd) are appended as trusted certificate entries under add_alias (lowercase,
 * as Java keeps them; the caller keeps them apart from the aliases kept), in the file's own
 * version, and the integrity digest is recomputed with password. The work is one pass over the
 * file. *out is OPENSSL_malloc'ed. 0, or -1 with err naming src.
 */
int dbt_jks_rewrite(const unsigned char *data, size_t len, const char *src, const char *password,
                    dbt_jks_keep_fn *keep, void *arg, X509 *const *add, char *const *add_alias,
                    size_t nadd, unsigned char **out, size_t *outlen, dbt_err *err);

#endif
