/* keytool's -printcert text layout (Java 17 printX509Cert and the sun.security.x509 toString
 * methods), reproduced field for field so that scripts grepping keytool output keep working. */
#ifndef CLI_KEYTOOL_FMT_H
#define CLI_KEYTOOL_FMT_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/x509.h>

/* A growable text buffer: the formatter composes nested Java-style toString() results in it. */
typedef struct cli_kt_buf {
    char *p;
    size_t n, cap;
    int oom; /* set when an allocation failed; the content is then incomplete */
} cli_kt_buf;

void cli_kt_buf_free(cli_kt_buf *b);
/* Appends a NUL-terminated string (sets oom on failure). */
void cli_kt_buf_add(cli_kt_buf *b, const char *s);

/* Why keytool would flag a certificate: its signature algorithm or its key is legacy ("weak")
 * or disabled by the JDK 17 default security properties. */
typedef struct cli_kt_weak {
    char sig_alg[64];  /* keytool's name of the signature algorithm, e.g. "SHA1withRSA" */
    int sig_weak;      /* 1 legacy (weak), 2 disabled, 0 fine */
    char key_desc[96]; /* "1024-bit RSA key", without keytool's "(weak)" mark */
    int key_weak;
} cli_kt_weak;

/* What keytool would mark "(weak)"/"(disabled)" and warn about for x. */
void cli_kt_weakness(X509 *x, cli_kt_weak *w);

/*
 * Appends the printX509Cert text of x (Owner ... Extensions, ending with a newline) to out.
 * Non-ASCII characters are written as UTF-8 when utf8 is set and as '?' otherwise, as Java does
 * for a non-UTF-8 locale (see cli_kt_locale_utf8). weak (may be NULL) receives what keytool
 * would warn about. Returns 0, or -1 when memory ran out.
 */
int cli_kt_format_cert(cli_kt_buf *out, X509 *x, int utf8, cli_kt_weak *weak);

/* Sets LC_CTYPE from the environment and says whether it is UTF-8, which is how Java chooses
 * to write non-ASCII characters as UTF-8 or as '?'. */
int cli_kt_locale_utf8(void);

/* Appends x as keytool -rfc writes it: PEM whose base64 lines end in CRLF except the last. */
int cli_kt_format_rfc(cli_kt_buf *out, X509 *x);

/* Appends Java's Date.toString() of t ("Thu May 20 18:06:26 UTC 2021") in the local zone. */
int cli_kt_format_date(cli_kt_buf *out, const ASN1_TIME *t);

#endif
