/* PKCS#12 reading limits: how much password-based key derivation one input may cost. */
#ifndef DBT_P12_H
#define DBT_P12_H

/*
 * Every PKCS#12 MAC key and every password-encrypted safe's key is derived from the password by
 * a KDF (the PKCS#12 KDF, or PBKDF2 in PBES2/PBMAC1) that hashes the password as many times as
 * an iteration count written in the file says, and readers try several passwords (none, empty,
 * changeit). A 1 KB file with a count of 2^31-1 would keep a reader busy for minutes per try, so
 * the counts are read with OpenSSL's ASN.1 decoders and checked BEFORE any key is derived.
 *
 * What writers use: OpenSSL's pkcs12 -export 2048 (PKCS12_DEFAULT_ITER), Java 12+ keytool 10000
 * for the MAC and the certificate and key PBEs, Java's legacy layout 50000 (PBE) and 100000 (MAC),
 * GnuTLS certtool 600000. Java's own PKCS12KeyStore refuses a count above 5,000,000 ("iteration
 * count too large"), so no truststore Java reads is refused by the same cap here.
 */
#define DBT_P12_MAX_ITER 5000000L

/*
 * All the key derivations of one decode, added up over every password tried, the MAC and every
 * encrypted safe, in hash iterations: a derivation that needs two output blocks (3DES's key from
 * SHA-1, AES-256's from HMAC-SHA-1) counts twice, and a 128-byte-block hash (SHA-384, SHA-512)
 * twice again, as it costs about twice as much per iteration. Twice the per-count cap: enough for
 * a file whose MAC and one safe are both at the cap, read with its password, and for a store
 * written by any of the tools above with hundreds of encrypted safes, tried with several
 * passwords. Measured on this project's test machine, 5,000,000 iterations of PBKDF2-HMAC-SHA256
 * take 1.2 s of CPU (the PKCS#12 KDF with SHA-256 0.45 s), so one input costs at most about
 * 2.5 s of key derivation. A file whose least cost (one password, each derivation once) is above
 * this is refused before any work; otherwise trying passwords stops before the derivation that
 * would pass it.
 */
#define DBT_P12_MAX_WORK (2 * DBT_P12_MAX_ITER)

/*
 * Key derivations of one decode, however small their counts: each costs a fixed set-up (fetching
 * the KDF and cipher, keying the HMAC, decrypting and parsing the safe) that iteration counts do
 * not show, measured at about 50 microseconds with a count of 1. A file of 500,000 encrypted
 * safes of count 1 stayed within DBT_P12_MAX_WORK yet took 30 s; with this cap a file is read
 * with at most 4096 derivations (about 0.2 s). Writers put all the certificates of a store in
 * one encrypted safe, so a real store needs a handful (the MAC and one safe, times the
 * passwords tried); a file needing more is refused before any work.
 */
#define DBT_P12_MAX_DERIVE 4096

#include <stddef.h>

#include "jks.h"

/*
 * Rewrites a PKCS#12 truststore that dbt_p12_decode accepted with password (the caller checks
 * that first; the same bounds on key derivation apply): the certificate bags keep says go are
 * dropped, a safe that lost none keeps its own encoding (so key bags and other bags are never
 * decrypted or re-encoded), one that lost some is packed again (plain, or AES-256-CBC/PBKDF2 as
 * Java 17 writes), and add[0..nadd) go in one more safe as bags Java lists as trustedCertEntry
 * under add_alias; the MAC, when the file has one, is computed again (HMAC-SHA-256). *out is
 * OPENSSL_malloc'ed. 0, or -1 with err naming src.
 */
int dbt_p12_rewrite(const unsigned char *data, size_t len, const char *src, const char *password,
                    dbt_jks_keep_fn *keep, void *arg, X509 *const *add, char *const *add_alias,
                    size_t nadd, unsigned char **out, size_t *outlen, dbt_err *err);

#endif
