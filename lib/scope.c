/* Scoped trust (lib/scope.h): scope texts and the name-constrained cross-certificates that serve
 * a scoped bundle to OpenSSL's default trust. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "scope.h"

#define ANCHOR_CN "dbtrust scope anchor "
#define ANCHOR_O "dbtrust"

/* An item parsed: a DNS subtree (dns, lowercase, maybe with a leading '.') or an IP range. */
struct item {
    int ip; /* 0: DNS; 4 or 6 */
    char dns[DBT_SCOPE_ITEM_MAX + 2];
    unsigned char addr[16], mask[16];
    int prefix;
};

static int dns_ok(const char *s)
{
    size_t label = 0, total = strlen(s);

    if (total == 0 || total > DBT_SCOPE_ITEM_MAX)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* Parses one item as given by a user or as stored; canonical text into canon. */
static int parse_item(const char *in, struct item *it, char *canon, size_t clen, dbt_err *err)
{
    char buf[DBT_SCOPE_ITEM_MAX + 8], *slash;
    const char *host = in;
    int sub = 0;
    size_t n = strlen(in);

    memset(it, 0, sizeof(*it));
    if (n == 0 || n > DBT_SCOPE_ITEM_MAX + 2) {
        dbt_err_set(err,
                    "scope '%s' is %s: give a DNS name (example.com, .example.com) or an IP "
                    "range (10.0.0.0/8)",
                    in, n == 0 ? "empty" : "too long");
        return -1;
    }
    memcpy(buf, in, n + 1);
    if (strchr(buf, ':') != NULL || strspn(buf, "0123456789./") == n) {
        int af = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET, max = af == AF_INET6 ? 128 : 32;
        size_t alen = af == AF_INET6 ? 16 : 4;
        char *end = NULL;
        long prefix = max;

        if ((slash = strchr(buf, '/')) != NULL) {
            *slash = '\0';
            prefix = strtol(slash + 1, &end, 10);
            if (slash[1] == '\0' || *end != '\0' || !isdigit((unsigned char)slash[1]) ||
                prefix < 0 || prefix > max) {
                dbt_err_set(err, "scope '%s': the prefix length must be 0 to %d", in, max);
                return -1;
            }
        }
        if (inet_pton(af, buf, it->addr) != 1) {
            dbt_err_set(err, "scope '%s' is not an IP%s address or range in CIDR form", in,
                        af == AF_INET6 ? "v6" : "v4");
            return -1;
        }
        for (size_t i = 0; i < alen; i++) {
            long bits = prefix - (long)i * 8;
            it->mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
            if (it->addr[i] & ~it->mask[i]) {
                dbt_err_set(err,
                            "scope '%s' has bits set after its /%ld prefix: give the range's "
                            "first address",
                            in, prefix);
                return -1;
            }
        }
        it->ip = af == AF_INET6 ? 6 : 4;
        it->prefix = (int)prefix;
        if (inet_ntop(af, it->addr, buf, sizeof(buf)) == NULL)
            return -1;
        snprintf(canon, clen, "%s/%d", buf, it->prefix);
        return 0;
    }
    if (strncmp(host, "*.", 2) == 0) {
        host += 2;
        sub = 1;
    } else if (host[0] == '.') {
        host += 1;
        sub = 1;
    }
    n = strlen(host);
    if (n > 0 && host[n - 1] == '.')
        n--; /* a fully qualified name's root dot */
    if (n > DBT_SCOPE_ITEM_MAX) {
        dbt_err_set(err, "scope '%s' is too long for a DNS name", in);
        return -1;
    }
    memcpy(buf, host, n);
    buf[n] = '\0';
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!dns_ok(buf)) {
        dbt_err_set(err,
                    "scope '%s' is not a DNS name (labels of letters, digits, '-' and '_', 1-63 "
                    "bytes, separated by '.'), a '*.' or '.' name for subdomains only, or an IP "
                    "range in CIDR form",
                    in);
        return -1;
    }
    snprintf(it->dns, sizeof(it->dns), "%s%s", sub ? "." : "", buf);
    snprintf(canon, clen, "%s", it->dns);
    return 0;
}

/* Calls fn for each item of a stored text; stops at the first failure. */
static int each_item(const char *scope, int (*fn)(void *, const char *, dbt_err *), void *arg,
                     dbt_err *err)
{
    char item[DBT_SCOPE_ITEM_MAX + 8];
    const char *p = scope;
    size_t count = 0;

    while (*p) {
        size_t n = strcspn(p, " ");
        if (n == 0 || n >= sizeof(item)) {
            dbt_err_set(err, "scope '%s' is not in canonical form (one space between items)",
                        scope);
            return -1;
        }
        if (++count > DBT_SCOPE_MAX_ITEMS) {
            dbt_err_set(err, "scope has more than %d names and ranges", DBT_SCOPE_MAX_ITEMS);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (fn(arg, item, err) != 0)
            return -1;
        p += n;
        if (*p == ' ') {
            p++;
            if (*p == '\0') {
                dbt_err_set(err, "scope '%s' ends with a space", scope);
                return -1;
            }
        }
    }
    return 0;
}

struct find {
    const char *canon;
    int found;
    size_t count;
};

static int find_fn(void *arg, const char *item, dbt_err *err)
{
    struct find *f = arg;

    (void)err;
    f->count++;
    f->found |= strcmp(item, f->canon) == 0;
    return 0;
}

int dbt_scope_add(char *scope, size_t len, const char *item, dbt_err *err)
{
    char canon[DBT_SCOPE_ITEM_MAX + 8];
    struct item it;
    struct find f = {canon, 0, 0};
    size_t used = strlen(scope);

    if (parse_item(item, &it, canon, sizeof(canon), err) != 0)
        return -1;
    if (each_item(scope, find_fn, &f, err) != 0)
        return -1;
    if (f.found)
        return 0;
    if (f.count >= DBT_SCOPE_MAX_ITEMS) {
        dbt_err_set(err, "a scope holds at most %d names and ranges; '%s' is one too many",
                    DBT_SCOPE_MAX_ITEMS, item);
        return -1;
    }
    if (used + 1 + strlen(canon) + 1 > len || used + 1 + strlen(canon) + 1 > DBT_SCOPE_TEXT_MAX) {
        dbt_err_set(err, "the scope is too long at '%s' (at most %d bytes in all)", item,
                    DBT_SCOPE_TEXT_MAX - 1);
        return -1;
    }
    snprintf(scope + used, len - used, "%s%s", used ? " " : "", canon);
    return 0;
}

struct union_arg {
    char *out;
    size_t len;
};

static int union_fn(void *arg, const char *item, dbt_err *err)
{
    struct union_arg *u = arg;

    return dbt_scope_add(u->out, u->len, item, err);
}

int dbt_scope_union(char *out, size_t len, const char *scope, dbt_err *err)
{
    struct union_arg u = {out, len};

    return each_item(scope, union_fn, &u, err);
}

static int check_fn(void *arg, const char *item, dbt_err *err)
{
    char canon[DBT_SCOPE_ITEM_MAX + 8];
    struct item it;

    (void)arg;
    if (parse_item(item, &it, canon, sizeof(canon), err) != 0)
        return -1;
    if (strcmp(canon, item) != 0) {
        dbt_err_set(err, "scope item '%s' is not in canonical form ('%s')", item, canon);
        return -1;
    }
    return 0;
}

int dbt_scope_check(const char *scope, dbt_err *err)
{
    if (strlen(scope) >= DBT_SCOPE_TEXT_MAX) {
        dbt_err_set(err, "scope is longer than %d bytes", DBT_SCOPE_TEXT_MAX - 1);
        return -1;
    }
    return each_item(scope, check_fn, NULL, err);
}

int dbt_scope_can_scope(X509 *x, dbt_err *err)
{
    char subj[256] = "";
    BIO *b = BIO_new(BIO_s_mem());

    /* RFC 2253, as every subject dbtrust prints (messages are escaped where they are shown). */
    if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                                        XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        int n = BIO_read(b, subj, sizeof(subj) - 1);
        subj[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
    if (X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0) {
        dbt_err_set(err,
                    "certificate %s carries name constraints of its own, which a scope cannot be "
                    "combined with (one extension cannot hold both); import it without a scope: "
                    "its own constraints then apply",
                    subj);
        return -1;
    }
    if (X509_check_ca(x) == 0) {
        dbt_err_set(err,
                    "certificate %s is not a CA: a scope limits what a CA vouches for, and a "
                    "server certificate trusted as it is (--allow-leaf) cannot be scoped",
                    subj);
        return -1;
    }
    if (X509_get0_pubkey(x) == NULL) {
        ERR_clear_error();
        dbt_err_set(err, "certificate %s has a public key OpenSSL cannot read: it cannot be scoped",
                    subj);
        return -1;
    }
    return 0;
}

/* ---------- the constraint ---------- */

static int add_subtree(STACK_OF(GENERAL_SUBTREE) * *sk, GENERAL_NAME *gn)
{
    GENERAL_SUBTREE *st = GENERAL_SUBTREE_new();

    if (st == NULL || (*sk == NULL && (*sk = sk_GENERAL_SUBTREE_new_null()) == NULL)) {
        GENERAL_SUBTREE_free(st);
        GENERAL_NAME_free(gn);
        return -1;
    }
    GENERAL_NAME_free(st->base);
    st->base = gn;
    if (!sk_GENERAL_SUBTREE_push(*sk, st)) {
        GENERAL_SUBTREE_free(st);
        return -1;
    }
    return 0;
}

/* A name of an IA5String form: GEN_DNS, GEN_EMAIL or GEN_URI. */
static GENERAL_NAME *ia5_name(int type, const char *s)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *v = ASN1_IA5STRING_new();

    if (gn == NULL || v == NULL || !ASN1_STRING_set(v, s, (int)strlen(s))) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(v);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, type, v);
    return gn;
}

static GENERAL_NAME *dns_name(const char *s)
{
    return ia5_name(GEN_DNS, s);
}

/* An iPAddress subtree: address then mask (RFC 5280 4.2.1.10). */
static GENERAL_NAME *ip_range(const unsigned char *addr, const unsigned char *mask, size_t alen)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
    unsigned char buf[32];

    memcpy(buf, addr, alen);
    memcpy(buf + alen, mask, alen);
    if (gn == NULL || v == NULL || !ASN1_OCTET_STRING_set(v, buf, (int)(2 * alen))) {
        GENERAL_NAME_free(gn);
        ASN1_OCTET_STRING_free(v);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, v);
    return gn;
}

struct nc_build {
    NAME_CONSTRAINTS *nc;
    int dns, ip;
};

static int nc_fn(void *arg, const char *text, dbt_err *err)
{
    struct nc_build *b = arg;
    char canon[DBT_SCOPE_ITEM_MAX + 8];
    struct item it;
    GENERAL_NAME *gn;

    if (parse_item(text, &it, canon, sizeof(canon), err) != 0)
        return -1;
    if (it.ip) {
        b->ip = 1;
        gn = ip_range(it.addr, it.mask, it.ip == 6 ? 16 : 4);
    } else {
        b->dns = 1;
        gn = dns_name(it.dns);
    }
    if (gn == NULL || add_subtree(&b->nc->permittedSubtrees, gn) != 0) {
        dbt_err_set(err, "out of memory");
        return -1;
    }
    return 0;
}

/*
 * The constraint of a scope: its names and ranges permitted. A scope of DNS names only also
 * excludes every IP address (else an IP SAN would be unconstrained: RFC 5280 constrains only
 * the name forms a permitted list names), and one of IP ranges only excludes every DNS name
 * (an empty dNSName matches them all, in OpenSSL and Go alike). Mail addresses (rfc822Name and
 * the subject's emailAddress) and URIs are permitted only at the reserved host
 * DBT_SCOPE_NOWHERE: a database CA's scope vouches for no mailbox or URI identity (an empty
 * excluded subtree of those forms matches nothing in OpenSSL, so a permitted one that no real
 * name can meet is the way to close them).
 */
static NAME_CONSTRAINTS *make_nc(const char *scope, dbt_err *err)
{
    static const unsigned char zero[16];
    struct nc_build b = {NAME_CONSTRAINTS_new(), 0, 0};

    if (b.nc == NULL) {
        dbt_err_set(err, "out of memory");
        return NULL;
    }
    if (each_item(scope, nc_fn, &b, err) != 0)
        goto fail;
    if (!b.dns && !b.ip) {
        dbt_err_set(err, "an empty scope has no constraint");
        goto fail;
    }
    if (!b.ip && (add_subtree(&b.nc->excludedSubtrees, ip_range(zero, zero, 4)) != 0 ||
                  add_subtree(&b.nc->excludedSubtrees, ip_range(zero, zero, 16)) != 0))
        goto oom;
    if (!b.dns && add_subtree(&b.nc->excludedSubtrees, dns_name("")) != 0)
        goto oom;
    if (add_subtree(&b.nc->permittedSubtrees, ia5_name(GEN_EMAIL, DBT_SCOPE_NOWHERE)) != 0 ||
        add_subtree(&b.nc->permittedSubtrees, ia5_name(GEN_URI, DBT_SCOPE_NOWHERE)) != 0)
        goto oom;
    return b.nc;
oom:
    dbt_err_set(err, "out of memory");
fail:
    NAME_CONSTRAINTS_free(b.nc);
    return NULL;
}

int dbt_scope_matches(X509 *x, const char *scope)
{
    NAME_CONSTRAINTS *want = make_nc(scope, NULL);
    X509_EXTENSION *ext;
    unsigned char *der = NULL;
    const ASN1_OCTET_STRING *have;
    int i, len, ok = 0;

    if (want == NULL)
        return 0;
    i = X509_get_ext_by_NID(x, NID_name_constraints, -1);
    if (i >= 0 && X509_get_ext_by_NID(x, NID_name_constraints, i) < 0 &&
        (ext = X509_get_ext(x, i)) != NULL && X509_EXTENSION_get_critical(ext) &&
        (len = ASN1_item_i2d((ASN1_VALUE *)want, &der, ASN1_ITEM_rptr(NAME_CONSTRAINTS))) > 0) {
        have = X509_EXTENSION_get_data(ext);
        ok = ASN1_STRING_length(have) == len &&
             memcmp(ASN1_STRING_get0_data(have), der, (size_t)len) == 0;
    }
    OPENSSL_free(der);
    NAME_CONSTRAINTS_free(want);
    return ok;
}

/* ---------- the anchor and the cross-certificates ---------- */

static int random_serial(X509 *x)
{
    unsigned char r[16];
    BIGNUM *bn;
    int ok;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return 0;
    r[0] &= 0x7f; /* positive, 16 octets at most */
    r[0] |= 0x40; /* and never short */
    bn = BN_bin2bn(r, sizeof(r), NULL);
    ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static int add_conf_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *make_anchor(EVP_PKEY *key, const ASN1_TIME *from, const ASN1_TIME *until)
{
    unsigned char r[8];
    char cn[64];
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();

    if (x == NULL || name == NULL || RAND_bytes(r, sizeof(r)) != 1)
        goto fail;
    snprintf(cn, sizeof(cn), ANCHOR_CN "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
             r[4], r[5], r[6], r[7]);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)ANCHOR_O, -1,
                                    -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_version(x, 2) || !random_serial(x) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, name) || !X509_set1_notBefore(x, from) ||
        !X509_set1_notAfter(x, until) || !X509_set_pubkey(x, key) ||
        !add_conf_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_conf_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_conf_ext(x, x, NID_subject_key_identifier, "hash") ||
        X509_sign(x, key, EVP_sha256()) <= 0)
        goto fail;
    X509_NAME_free(name);
    return x;
fail:
    X509_NAME_free(name);
    X509_free(x);
    return NULL;
}

/* x gets c's subjectPublicKeyInfo as it is encoded: X509_set_pubkey would encode the key anew
 * from its decoded form, which costs OpenSSL 3.0's encoder framework more than the signature. */
static int copy_pubkey(X509 *x, X509 *c)
{
    const ASN1_OBJECT *aobj;
    const unsigned char *pk;
    const void *pval;
    X509_ALGOR *alg;
    ASN1_OBJECT *obj = NULL;
    void *param = NULL;
    unsigned char *enc = NULL;
    int ptype, pklen;

    if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, &alg, X509_get_X509_PUBKEY(c)))
        return 0;
    X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
    if ((obj = OBJ_dup(aobj)) == NULL)
        return 0;
    if (ptype == V_ASN1_OBJECT)
        param = OBJ_dup(pval);
    else if (ptype == V_ASN1_SEQUENCE || ptype == V_ASN1_OCTET_STRING)
        param = ASN1_STRING_dup(pval);
    else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
        goto fail; /* no key type has other parameters */
    if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF && param == NULL)
        goto fail;
    if (pklen > 0 && (enc = OPENSSL_memdup(pk, (size_t)pklen)) == NULL)
        goto fail;
    if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), obj, ptype, param, enc, pklen))
        return 1;
fail:
    ASN1_OBJECT_free(obj);
    if (ptype == V_ASN1_OBJECT)
        ASN1_OBJECT_free(param);
    else
        ASN1_STRING_free(param);
    OPENSSL_free(enc);
    return 0;
}

/* x as a reader of its file gets it (x is freed): OpenSSL decodes a public key only when it
 * parses one (a copied one is not usable in memory), and caches extensions only then. */
static X509 *read_back(X509 *x)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_X509(x, &der);
    X509 *back = NULL;

    p = der;
    if (len > 0)
        back = d2i_X509(NULL, &p, len);
    OPENSSL_free(der);
    X509_free(x);
    return back;
}

static X509 *make_cross(X509 *anchor, EVP_PKEY *key, const dbt_scope_item *item, dbt_err *err)
{
    X509 *c = item->cert, *x = X509_new();
    NAME_CONSTRAINTS *nc = NULL;

    if (dbt_scope_can_scope(c, err) != 0)
        goto fail_quiet;
    if ((nc = make_nc(item->scope, err)) == NULL)
        goto fail_quiet;
    if (x == NULL || !X509_set_version(x, 2) || !random_serial(x) ||
        !X509_set_subject_name(x, X509_get_subject_name(c)) ||
        !X509_set_issuer_name(x, X509_get_subject_name(anchor)) ||
        !X509_set1_notBefore(x, X509_get0_notBefore(c)) ||
        !X509_set1_notAfter(x, X509_get0_notAfter(c)) || !copy_pubkey(x, c))
        goto fail;
    /* Everything C says of itself stays (key identifier, CA flag and path length, key usages,
     * policies): only who vouches for it and for which names changes. */
    for (int i = 0; i < X509_get_ext_count(c); i++) {
        X509_EXTENSION *ext = X509_get_ext(c, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_authority_key_identifier)
            continue;
        if (!X509_add_ext(x, ext, -1))
            goto fail;
    }
    /* A CA without basicConstraints (a v1 root, which OpenSSL takes for a CA as it is) would
     * not be one as a v3 cross-certificate: say what OpenSSL took it for. */
    if (X509_get_ext_by_NID(c, NID_basic_constraints, -1) < 0 &&
        !add_conf_ext(anchor, x, NID_basic_constraints, "critical,CA:TRUE"))
        goto fail;
    if (!add_conf_ext(anchor, x, NID_authority_key_identifier, "keyid:always") ||
        X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT) != 1 ||
        X509_sign(x, key, EVP_sha256()) <= 0)
        goto fail;
    NAME_CONSTRAINTS_free(nc);
    nc = NULL;
    if ((x = read_back(x)) == NULL)
        goto fail;
    return x;
fail:
    dbt_err_ossl(err, "cannot make the scoped form of a certificate");
fail_quiet:
    NAME_CONSTRAINTS_free(nc);
    X509_free(x);
    return NULL;
}

X509 *dbt_scope_constrain_root(X509 *c, const char *scope, dbt_err *err)
{
    NAME_CONSTRAINTS *nc = NULL;
    X509 *x = NULL;

    if (X509_self_signed(c, 0) != 1) {
        dbt_err_set(err, "not a self-signed root: its scoped form is a cross-certificate");
        return NULL;
    }
    if (dbt_scope_can_scope(c, err) != 0 || (nc = make_nc(scope, err)) == NULL)
        return NULL;
    if ((x = X509_dup(c)) == NULL ||
        (X509_get_version(x) != X509_VERSION_3 && !X509_set_version(x, X509_VERSION_3)))
        goto fail;
    /* A v1 root, which OpenSSL takes for a CA as it is, would not be one as a v3 certificate:
     * say what OpenSSL took it for. */
    if (X509_get_ext_by_NID(c, NID_basic_constraints, -1) < 0 &&
        !add_conf_ext(x, x, NID_basic_constraints, "critical,CA:TRUE"))
        goto fail;
    if (X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT) != 1)
        goto fail;
    /* The certificate's own encoding is cached from parsing: encode the changed part anew,
     * then keep the signature as it is. */
    if (i2d_re_X509_tbs(x, NULL) <= 0 || (x = read_back(x)) == NULL)
        goto fail;
    NAME_CONSTRAINTS_free(nc);
    /* Still self-signed in OpenSSL's eyes (same names, key identifiers and algorithms), or it
     * would be no anchor. */
    if (X509_self_signed(x, 0) != 1) {
        X509_free(x);
        dbt_err_set(err, "the root's scoped form is not self-signed any more");
        return NULL;
    }
    return x;
fail:
    dbt_err_ossl(err, "cannot make the scoped form of a root");
    NAME_CONSTRAINTS_free(nc);
    X509_free(x);
    return NULL;
}

int dbt_scope_build(const dbt_scope_item *items, size_t n, X509 **anchor, X509 **out, dbt_err *err)
{
    const ASN1_TIME *from = NULL, *until = NULL;
    EVP_PKEY *key = NULL;
    X509 *a = NULL;
    size_t i, ncross = 0;
    int ret = -1;

    *anchor = NULL;
    if (n == 0 || n > DBT_SCOPE_MAX_CERTS) {
        dbt_err_set(err, "%zu certificates to scope (1 to %d)", n, DBT_SCOPE_MAX_CERTS);
        return -1;
    }
    for (i = 0; i < n; i++)
        out[i] = NULL;
    /* Roots first: each is its own anchor, constrained; what else remains needs the local anchor.
     */
    for (i = 0; i < n; i++) {
        const ASN1_TIME *nb, *na;
        if (X509_self_signed(items[i].cert, 0) == 1) {
            if ((out[i] = dbt_scope_constrain_root(items[i].cert, items[i].scope, err)) == NULL)
                goto end;
            continue;
        }
        ERR_clear_error();
        nb = X509_get0_notBefore(items[i].cert);
        na = X509_get0_notAfter(items[i].cert);
        if (from == NULL || ASN1_TIME_compare(nb, from) < 0)
            from = nb;
        if (until == NULL || ASN1_TIME_compare(na, until) > 0)
            until = na;
        ncross++;
    }
    if (ncross > 0) {
        /* The anchor's key lives only here: made, used to sign, freed (OpenSSL clears an EC
         * private key when it frees it). */
        if ((key = EVP_EC_gen("P-256")) == NULL || (a = make_anchor(key, from, until)) == NULL) {
            dbt_err_ossl(err, "cannot make the local anchor of the scoped certificates");
            goto end;
        }
        for (i = 0; i < n; i++)
            if (out[i] == NULL && (out[i] = make_cross(a, key, &items[i], err)) == NULL)
                goto end;
    }
    *anchor = a;
    a = NULL;
    ret = 0;
end:
    EVP_PKEY_free(key);
    if (ret != 0)
        for (size_t k = 0; k < n; k++) {
            X509_free(out[k]);
            out[k] = NULL;
        }
    X509_free(a);
    return ret;
}

int dbt_scope_is_anchor(X509 *x)
{
    X509_NAME *s = X509_get_subject_name(x);
    char o[16], cn[64];

    if (X509_NAME_cmp(s, X509_get_issuer_name(x)) != 0 || X509_NAME_entry_count(s) != 2)
        return 0;
    if (X509_NAME_get_text_by_NID(s, NID_organizationName, o, sizeof(o)) < 0 ||
        X509_NAME_get_text_by_NID(s, NID_commonName, cn, sizeof(cn)) < 0)
        return 0;
    return strcmp(o, ANCHOR_O) == 0 && strncmp(cn, ANCHOR_CN, strlen(ANCHOR_CN)) == 0;
}
