/* Auxiliary trust settings (TRUSTED CERTIFICATE trust/reject lists, PKCS#12 trusted key usage):
 * classifying them, describing them, and refusing an output that would drop a restriction. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "trust.h"

static int has_nid(const STACK_OF(ASN1_OBJECT) * s, int nid)
{
    for (int i = 0; i < sk_ASN1_OBJECT_num(s); i++)
        if (OBJ_obj2nid(sk_ASN1_OBJECT_value(s, i)) == nid)
            return 1;
    return 0;
}

static int has_obj(const STACK_OF(ASN1_OBJECT) * s, const ASN1_OBJECT *o)
{
    for (int i = 0; i < sk_ASN1_OBJECT_num(s); i++)
        if (OBJ_cmp(sk_ASN1_OBJECT_value(s, i), o) == 0)
            return 1;
    return 0;
}

dbt_trust_kind dbt_trust_kind_of(X509 *x)
{
    STACK_OF(ASN1_OBJECT) *trust = X509_get0_trust_objects(x);
    STACK_OF(ASN1_OBJECT) *reject = X509_get0_reject_objects(x);

    /* As OpenSSL's obj_trust (crypto/x509/x509_trust.c) reads them: a trust list that is
     * present, even empty, means "these purposes only" and rejects every other one, where a
     * certificate without one falls back to the trust every self-signed certificate gets. So
     * only an absent trust list is plain; an empty reject list rejects nothing. */
    if (trust == NULL && sk_ASN1_OBJECT_num(reject) <= 0)
        return DBT_TRUST_PLAIN;
    /* X509_check_trust answers "trusted" for every purpose that honours anyExtendedKeyUsage,
     * and the purposes that do not (OCSP) trust a plain certificate no more. */
    if (sk_ASN1_OBJECT_num(reject) <= 0 && has_nid(trust, NID_anyExtendedKeyUsage))
        return DBT_TRUST_ALL;
    return DBT_TRUST_RESTRICTED;
}

void dbt_trust_oid_name(const ASN1_OBJECT *o, char *buf, size_t n)
{
    int nid = OBJ_obj2nid(o);
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;

    if (n == 0)
        return;
    /* Short names are ASCII identifiers from OpenSSL's own table; anything else is dotted. */
    if (sn != NULL)
        snprintf(buf, n, "%s", sn);
    else if (OBJ_obj2txt(buf, (int)(n > 0x7fffffff ? 0x7fffffff : n), o, 1) <= 0)
        snprintf(buf, n, "?");
}

/* Appends "word a, b, c" to buf at *used, cutting with "..." when it does not fit. */
static void describe_list(char *buf, size_t n, size_t *used, const char *word,
                          const STACK_OF(ASN1_OBJECT) * s)
{
    char name[128];
    int k, count = sk_ASN1_OBJECT_num(s);

    if (*used + 4 >= n)
        return;
    *used += (size_t)snprintf(buf + *used, n - *used, "%s%s ", *used > 0 ? "; " : "", word);
    if (*used >= n) { /* cut: snprintf counted what did not fit */
        *used = n - 1;
        return;
    }
    if (count <= 0) {
        *used += (size_t)snprintf(buf + *used, n - *used, "nothing");
        if (*used >= n)
            *used = n - 1;
        return;
    }
    for (k = 0; k < count; k++) {
        size_t need;

        dbt_trust_oid_name(sk_ASN1_OBJECT_value(s, k), name, sizeof(name));
        need = strlen(name) + (k > 0 ? 2 : 0);
        /* Room for the name, and for "..." after it unless it is the last one. */
        if (*used + need + (k + 1 < count ? 5 : 0) >= n) {
            *used += (size_t)snprintf(buf + *used, n - *used, "%s...", k > 0 ? ", " : "");
            break;
        }
        *used += (size_t)snprintf(buf + *used, n - *used, "%s%s", k > 0 ? ", " : "", name);
    }
    if (*used >= n)
        *used = n - 1;
}

void dbt_trust_describe(X509 *x, char *buf, size_t n)
{
    STACK_OF(ASN1_OBJECT) *trust = X509_get0_trust_objects(x);
    STACK_OF(ASN1_OBJECT) *reject = X509_get0_reject_objects(x);
    size_t used = 0;

    if (n == 0)
        return;
    buf[0] = '\0';
    if (trust != NULL)
        describe_list(buf, n, &used, "trusted for", trust);
    /* An empty reject list rejects nothing: not worth a word. */
    if (sk_ASN1_OBJECT_num(reject) > 0)
        describe_list(buf, n, &used, "rejected for", reject);
    if (used == 0)
        snprintf(buf, n, "no trust settings");
}

void dbt_trust_where(const dbt_bundle *b, size_t i, char *buf, size_t n)
{
    const dbt_cert *c = &b->certs[i];

    if (c->line > 0)
        snprintf(buf, n, "block %d of %s (line %d)", c->block, b->source, c->line);
    else if (b->format == DBT_FMT_PKCS12)
        snprintf(buf, n, "bag %d of %s", c->block, b->source);
    else if (b->format == DBT_FMT_JKS)
        snprintf(buf, n, "entry %d of %s", c->block, b->source);
    else
        snprintf(buf, n, "certificate %zu of %s", i + 1, b->source);
}

int dbt_trust_require_plain(const dbt_bundle *b, const char *target, int is_output, dbt_err *err)
{
    char where[600], how[400];

    for (size_t i = 0; i < b->n; i++) {
        if (dbt_trust_kind_of(b->certs[i].x509) != DBT_TRUST_RESTRICTED)
            continue;
        dbt_trust_where(b, i, where, sizeof(where));
        dbt_trust_describe(b->certs[i].x509, how, sizeof(how));
        dbt_err_set(err,
                    "%s: its trust settings (%s) limit what it may be trusted for, and %s "
                    "cannot keep them, so it would be trusted for every purpose. %sRemove it from "
                    "the input, or, if it may be trusted for every purpose, make it a plain "
                    "certificate first (openssl x509 -in FILE -out PLAIN.pem) and use that",
                    where, how, target,
                    is_output ? "Write PEM or a hashed directory, which keep the settings. " : "");
        return -1;
    }
    return 0;
}

int dbt_trust_set_usages(X509 *x, const ASN1_OBJECT *const *usages, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (OBJ_obj2nid(usages[k]) == NID_anyExtendedKeyUsage)
            return 0;
    if (n == 0)
        return X509_add1_reject_object(x, OBJ_nid2obj(NID_anyExtendedKeyUsage)) ? 0 : -1;
    for (size_t k = 0; k < n; k++)
        if (!X509_add1_trust_object(x, usages[k]))
            return -1;
    return 0;
}

/* Same members, in any order (lists are at most DBT_TRUST_MAX_USAGES long when decoded).
 * strict: an absent list differs from an empty one (a trust list: absent leaves the default
 * trust of a self-signed certificate, empty rejects every purpose). */
static int same_set(const STACK_OF(ASN1_OBJECT) * a, const STACK_OF(ASN1_OBJECT) * b, int strict)
{
    if (strict && (a == NULL) != (b == NULL))
        return 0;
    for (int i = 0; i < sk_ASN1_OBJECT_num(a); i++)
        if (!has_obj(b, sk_ASN1_OBJECT_value(a, i)))
            return 0;
    for (int i = 0; i < sk_ASN1_OBJECT_num(b); i++)
        if (!has_obj(a, sk_ASN1_OBJECT_value(b, i)))
            return 0;
    return 1;
}

int dbt_trust_equal(X509 *a, X509 *b)
{
    /* An absent reject list and an empty one read the same way in X509_check_trust. */
    return same_set(X509_get0_trust_objects(a), X509_get0_trust_objects(b), 1) &&
           same_set(X509_get0_reject_objects(a), X509_get0_reject_objects(b), 0);
}
