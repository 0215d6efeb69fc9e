/* Shared pieces of the fuzz targets: small certificates made in memory, a private temporary
 * catalog per process, a cost bound for PKCS#12 inputs, and the abort used for broken invariants.
 */
#ifndef DBT_FUZZ_COMMON_H
#define DBT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "bundle.h"

/* libFuzzer's entry points; the replay driver (replay_main.c) calls the same ones. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Highest PKCS#12 MAC or PBE iteration count a target lets through: real truststores use 2048
 * (OpenSSL) or 10000 (Java); a fuzzed 2^31 would make one execution take minutes. */
#define FUZZ_P12_MAX_ITER 10000

/* Fixed self-signed CA 0 ("fuzz alpha CA", serial 1) or 1 ("fuzz beta CA", serial 0); the
 * caller frees it. */
X509 *fuzz_cert(int which);

/* 1 when data is a PKCS#12 file whose MAC or password-based encryption would cost more than
 * FUZZ_P12_MAX_ITER iterations: the target skips it. Files that the reader refuses before any
 * key derivation (a count above DBT_P12_MAX_ITER, negative, or scrypt) are not skipped, so that
 * the refusal itself is exercised. */
int fuzz_p12_too_slow(const uint8_t *data, size_t size);

/* A fresh directory under $TMPDIR (or /tmp) removed when the process exits normally. */
const char *fuzz_tmpdir(void);

/* Creates catalog DIR with bundles "alpha" (certs a, b) and "beta" (cert b); aborts on failure. */
void fuzz_make_catalog(const char *dir, X509 *a, X509 *b);

/* Writes len bytes to path (0644, truncated); aborts on failure. */
void fuzz_write_file(const char *path, const void *data, size_t len);

/* Prints the message and aborts: an invariant the target checks does not hold. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
