/* Scoped trust: a CA trusted only for some host names, through name constraints.
 *
 * A scope is a list of DNS names and IP ranges. For each certificate C of a scoped bundle the
 * catalog's trust view (what OpenSSL's default lookups read: `dbtrust env`, the system links, the
 * bundle file) holds, instead of C, its scoped form, which carries a critical nameConstraints
 * extension: OpenSSL checks every name of a leaf against the constraints of every certificate
 * above it in the chain, the trust anchor's included.
 *
 * - A self-signed root R is served as R itself, its to-be-signed part gaining the constraint
 *   (and "CA:TRUE" when it had no basicConstraints, as a v1 root), its signature kept. That
 *   signature no longer matches; OpenSSL never checks a trust anchor's own signature ("it does
 *   not add any security", X509_V_FLAG_CHECK_SS_SIGNATURE is off unless a program asks, and then
 *   the scoped root fails: closed, never open). No key is made, nothing is signed, the form is
 *   the same bytes at every commit, and a chain costs what it cost with R.
 * - Any other CA C (an intermediate) is served as a cross-certificate X with C's subject, public
 *   key, validity and extensions (its subject key identifier, basic constraints and path length,
 *   key usage and extended key usage included), issued by a local self-signed anchor L: chain
 *   building then goes leaf -> ... -> X -> L. L's private key exists only in memory while the
 *   cross-certificates are signed and is freed (OpenSSL clears it) before dbt_scope_build
 *   returns: no private key of dbtrust's is ever written anywhere. A new L is made for every
 *   generation that needs one, with a subject of its own, so that OpenSSL's per-process cache of
 *   a hashed directory never mixes an old anchor with a new cross-certificate.
 *
 * The constraint never widens what C allowed: a certificate that carries its own nameConstraints
 * is refused (one extension cannot hold the intersection of two), and the scoped form keeps C's
 * validity period, path length, key usages and policies. Only CAs can be scoped. The constraint
 * names DNS names and IP ranges; mail addresses and URIs are closed (see DBT_SCOPE_NOWHERE).
 */
#ifndef DBT_SCOPE_H
#define DBT_SCOPE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "error.h"

/* Caps on what input drives (documented in dbtrust(1) under import --only-for). */
#define DBT_SCOPE_MAX_ITEMS 64     /* names and ranges of one scope */
#define DBT_SCOPE_ITEM_MAX 253     /* bytes of one DNS name (RFC 1035's limit) */
#define DBT_SCOPE_TEXT_MAX 4096    /* bytes of a scope's canonical text (its .meta line) */
#define DBT_SCOPE_MAX_CERTS 100000 /* certificates one generation serves scoped */
/* The only host a scope permits for mail addresses and URIs: reserved, never real (RFC 6761). */
#define DBT_SCOPE_NOWHERE "dbtrust.invalid"

/*
 * Adds one --only-for value to the canonical scope text (NUL-terminated, items separated by
 * one space, in the order given, each once). Accepted forms:
 *   example.com      the name and every name below it (RFC 5280 dNSName subtree)
 *   .example.com     names below it only; "*.example.com" is the same and is stored so
 *   10.0.0.0/8       an IPv4 range in CIDR form (host bits must be zero); 10.1.2.3 = /32
 *   2001:db8::/32    an IPv6 range; an address alone = /128
 * DNS names are stored in lowercase; labels of letters, digits, '-' and '_', 1-63 bytes each.
 * 0, or -1 with a message naming the value and what is allowed.
 */
int dbt_scope_add(char *scope, size_t len, const char *item, dbt_err *err);
/* Checks a stored scope text (a .meta "scope" value): every item is canonical, at most
 * DBT_SCOPE_MAX_ITEMS of them. "" is a valid (empty: unscoped) scope. 0 or -1. */
int dbt_scope_check(const char *scope, dbt_err *err);
/* Adds every item of the canonical scope text to out (len bytes): the union of two scopes, each
 * item once. 0, or -1 when the union passes the caps. */
int dbt_scope_union(char *out, size_t len, const char *scope, dbt_err *err);
/* 1 when x carries, critical, exactly the nameConstraints dbt_scope_build gives scope; else 0. */
int dbt_scope_matches(X509 *x, const char *scope);
/* Whether a certificate can be scoped: -1 with a message when it carries nameConstraints. */
int dbt_scope_can_scope(X509 *x, dbt_err *err);

/* One certificate to serve scoped. */
typedef struct dbt_scope_item {
    X509 *cert;
    const char *scope; /* canonical, non-empty */
} dbt_scope_item;

/*
 * The scoped form of each item into out[i] (caller's array of n): a self-signed root constrained
 * in place (dbt_scope_constrain_root), any other CA a cross-certificate. When there is any
 * cross-certificate, *anchor gets a fresh anchor L (EC P-256, subject "CN=dbtrust scope anchor
 * <random hex>, O=dbtrust", valid from the earliest notBefore to the latest notAfter of the
 * certificates it issues for), whose key is freed before this returns; else *anchor is NULL.
 * n <= DBT_SCOPE_MAX_CERTS. 0, or -1 with a message (nothing is returned then).
 */
int dbt_scope_build(const dbt_scope_item *items, size_t n, X509 **anchor, X509 **out, dbt_err *err);
/* The scoped form of a self-signed root c (see above): the same certificate with the constraint
 * of scope, its signature kept; the same bytes for the same c and scope. NULL with a message when
 * c is not self-signed in OpenSSL's sense or cannot be scoped. */
X509 *dbt_scope_constrain_root(X509 *c, const char *scope, dbt_err *err);
/* Whether x is an anchor dbt_scope_build made (self-signed, subject of the form above). */
int dbt_scope_is_anchor(X509 *x);

#endif
