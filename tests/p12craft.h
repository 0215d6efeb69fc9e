/* Hostile PKCS#12 files for tests, made without the key derivations they ask for: a small-count
 * file made by OpenSSL, then its iteration counts rewritten through OpenSSL's ASN.1 types. */
#ifndef DBT_P12CRAFT_H
#define DBT_P12CRAFT_H

#include <openssl/pkcs12.h>

/* Sets the MAC's iteration count to the decimal number dec (any size, may be negative). The
 * file must have a MAC with an explicit count (made with a MAC count above 1). 0 or -1. */
int p12craft_set_mac_iter(PKCS12 *p12, const char *dec);

/* Sets the iteration count of every password-encrypted safe (PBES2/PBKDF2 or a PKCS#12 PBE) to
 * dec; the MAC, if any, no longer matches. 0, or -1 when there is no such safe. */
int p12craft_set_safe_iter(PKCS12 *p12, const char *dec);

/* Makes the MAC an RFC 9579 PBMAC1 whose PBKDF2 (HMAC-SHA-256) has count dec and derives a key
 * of keylen bytes, as a hostile writer could; the MAC no longer matches. */
int p12craft_set_mac_pbmac1(PKCS12 *p12, const char *dec, int keylen);

/* Sets the PBKDF2 PRF of every PBES2 safe (NID_hmacWithSHA512...). */
int p12craft_set_safe_prf(PKCS12 *p12, int prf_nid);

/* Makes every PBES2 safe derive its key with scrypt (N=2^14, r=8, p=1) instead of PBKDF2. */
int p12craft_set_safe_scrypt(PKCS12 *p12);

#endif
