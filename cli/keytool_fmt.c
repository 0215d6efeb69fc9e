/* keytool -printcert layout: Java 17's printX509Cert, X500Name and sun.security.x509 extension
 * toString() output rebuilt from OpenSSL's parsed structures, byte for byte where we can. */
#include "config.h"

#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "escape.h"
#include "keytool_fmt.h"

/* OID -> name, as sun.security.util.KnownOIDs maps them (stdName). Sorted by OID string for
 * bsearch. keytool names signature algorithms, extended key usages and curves from it. */
static const struct known_oid {
    const char *oid;
    const char *name;
} known_oids[] = {
    {"0.9.2342.19200300.100.1.1", "UCL_UserID"},
    {"0.9.2342.19200300.100.1.25", "UCL_DomainComponent"},
    {"1.2.840.10040.4.1", "DSA"},
    {"1.2.840.10040.4.3", "SHA1withDSA"},
    {"1.2.840.10045.2.1", "EC"},
    {"1.2.840.10045.3.0.11", "X9.62 c2tnb239v1"},
    {"1.2.840.10045.3.0.12", "X9.62 c2tnb239v2"},
    {"1.2.840.10045.3.0.13", "X9.62 c2tnb239v3"},
    {"1.2.840.10045.3.0.18", "X9.62 c2tnb359v1"},
    {"1.2.840.10045.3.0.20", "X9.62 c2tnb431r1"},
    {"1.2.840.10045.3.0.5", "X9.62 c2tnb191v1"},
    {"1.2.840.10045.3.0.6", "X9.62 c2tnb191v2"},
    {"1.2.840.10045.3.0.7", "X9.62 c2tnb191v3"},
    {"1.2.840.10045.3.1.1", "secp192r1"},
    {"1.2.840.10045.3.1.2", "X9.62 prime192v2"},
    {"1.2.840.10045.3.1.3", "X9.62 prime192v3"},
    {"1.2.840.10045.3.1.4", "X9.62 prime239v1"},
    {"1.2.840.10045.3.1.5", "X9.62 prime239v2"},
    {"1.2.840.10045.3.1.6", "X9.62 prime239v3"},
    {"1.2.840.10045.3.1.7", "secp256r1"},
    {"1.2.840.10045.4.1", "SHA1withECDSA"},
    {"1.2.840.10045.4.3", "SpecifiedSHA2withECDSA"},
    {"1.2.840.10045.4.3.1", "SHA224withECDSA"},
    {"1.2.840.10045.4.3.2", "SHA256withECDSA"},
    {"1.2.840.10045.4.3.3", "SHA384withECDSA"},
    {"1.2.840.10045.4.3.4", "SHA512withECDSA"},
    {"1.2.840.10046.2.1", "DiffieHellman"},
    {"1.2.840.1113549.1.7.1", "JDK_OLD_Data"},
    {"1.2.840.1113549.1.7.2", "JDK_OLD_SignedData"},
    {"1.2.840.113549.1.1", "RSA"},
    {"1.2.840.113549.1.1.1", "RSA"},
    {"1.2.840.113549.1.1.10", "RSASSA-PSS"},
    {"1.2.840.113549.1.1.11", "SHA256withRSA"},
    {"1.2.840.113549.1.1.12", "SHA384withRSA"},
    {"1.2.840.113549.1.1.13", "SHA512withRSA"},
    {"1.2.840.113549.1.1.14", "SHA224withRSA"},
    {"1.2.840.113549.1.1.15", "SHA512/224withRSA"},
    {"1.2.840.113549.1.1.16", "SHA512/256withRSA"},
    {"1.2.840.113549.1.1.2", "MD2withRSA"},
    {"1.2.840.113549.1.1.4", "MD5withRSA"},
    {"1.2.840.113549.1.1.5", "SHA1withRSA"},
    {"1.2.840.113549.1.1.7", "OAEP"},
    {"1.2.840.113549.1.1.8", "MGF1"},
    {"1.2.840.113549.1.1.9", "PSpecified"},
    {"1.2.840.113549.1.12.1.1", "PBEWithSHA1AndRC4_128"},
    {"1.2.840.113549.1.12.1.2", "PBEWithSHA1AndRC4_40"},
    {"1.2.840.113549.1.12.1.3", "PBEWithSHA1AndDESede"},
    {"1.2.840.113549.1.12.1.5", "PBEWithSHA1AndRC2_128"},
    {"1.2.840.113549.1.12.1.6", "PBEWithSHA1AndRC2_40"},
    {"1.2.840.113549.1.12.10.1.2", "PKCS8ShroudedKeyBag"},
    {"1.2.840.113549.1.12.10.1.3", "CertBag"},
    {"1.2.840.113549.1.12.10.1.5", "SecretBag"},
    {"1.2.840.113549.1.3.1", "DiffieHellman"},
    {"1.2.840.113549.1.5.10", "PBEWithSHA1AndDES"},
    {"1.2.840.113549.1.5.11", "PBEWithSHA1AndRC2"},
    {"1.2.840.113549.1.5.12", "PBKDF2WithHmacSHA1"},
    {"1.2.840.113549.1.5.13", "PBES2"},
    {"1.2.840.113549.1.5.3", "PBEWithMD5AndDES"},
    {"1.2.840.113549.1.5.6", "PBEWithMD5AndRC2"},
    {"1.2.840.113549.1.7", "PKCS7"},
    {"1.2.840.113549.1.7.1", "Data"},
    {"1.2.840.113549.1.7.2", "SignedData"},
    {"1.2.840.113549.1.7.3", "EnvelopedData"},
    {"1.2.840.113549.1.7.4", "SignedAndEnvelopedData"},
    {"1.2.840.113549.1.7.5", "DigestedData"},
    {"1.2.840.113549.1.7.6", "EncryptedData"},
    {"1.2.840.113549.1.9.1", "EmailAddress"},
    {"1.2.840.113549.1.9.10", "IssuerAndSerialNumber"},
    {"1.2.840.113549.1.9.14", "ExtensionRequest"},
    {"1.2.840.113549.1.9.15", "SMIMECapability"},
    {"1.2.840.113549.1.9.16.1.4", "TimeStampTokenInfo"},
    {"1.2.840.113549.1.9.16.2.12", "SigningCertificate"},
    {"1.2.840.113549.1.9.16.2.14", "SignatureTimestampToken"},
    {"1.2.840.113549.1.9.16.3.18", "CHACHA20-POLY1305"},
    {"1.2.840.113549.1.9.2", "UnstructuredName"},
    {"1.2.840.113549.1.9.20", "FriendlyName"},
    {"1.2.840.113549.1.9.21", "LocalKeyID"},
    {"1.2.840.113549.1.9.22.1", "CertTypeX509"},
    {"1.2.840.113549.1.9.3", "ContentType"},
    {"1.2.840.113549.1.9.4", "MessageDigest"},
    {"1.2.840.113549.1.9.5", "SigningTime"},
    {"1.2.840.113549.1.9.52", "CMSAlgorithmProtection"},
    {"1.2.840.113549.1.9.6", "CounterSignature"},
    {"1.2.840.113549.1.9.7", "ChallengePassword"},
    {"1.2.840.113549.1.9.8", "UnstructuredAddress"},
    {"1.2.840.113549.1.9.9", "ExtendedCertificateAttributes"},
    {"1.2.840.113549.2.10", "HmacSHA384"},
    {"1.2.840.113549.2.11", "HmacSHA512"},
    {"1.2.840.113549.2.12", "HmacSHA512/224"},
    {"1.2.840.113549.2.13", "HmacSHA512/256"},
    {"1.2.840.113549.2.2", "MD2"},
    {"1.2.840.113549.2.5", "MD5"},
    {"1.2.840.113549.2.7", "HmacSHA1"},
    {"1.2.840.113549.2.8", "HmacSHA224"},
    {"1.2.840.113549.2.9", "HmacSHA256"},
    {"1.2.840.113549.3.2", "RC2/CBC/PKCS5Padding"},
    {"1.2.840.113549.3.4", "ARCFOUR"},
    {"1.2.840.113549.3.7", "DESede/CBC/NoPadding"},
    {"1.2.840.113549.3.9", "RC5/CBC/PKCS5Padding"},
    {"1.3.101.110", "X25519"},
    {"1.3.101.111", "X448"},
    {"1.3.101.112", "Ed25519"},
    {"1.3.101.113", "Ed448"},
    {"1.3.132.0.1", "sect163k1"},
    {"1.3.132.0.10", "secp256k1"},
    {"1.3.132.0.15", "sect163r2"},
    {"1.3.132.0.16", "sect283k1"},
    {"1.3.132.0.17", "sect283r1"},
    {"1.3.132.0.2", "sect163r1"},
    {"1.3.132.0.22", "sect131r1"},
    {"1.3.132.0.23", "sect131r2"},
    {"1.3.132.0.24", "sect193r1"},
    {"1.3.132.0.25", "sect193r2"},
    {"1.3.132.0.26", "sect233k1"},
    {"1.3.132.0.27", "sect233r1"},
    {"1.3.132.0.28", "secp128r1"},
    {"1.3.132.0.29", "secp128r2"},
    {"1.3.132.0.3", "sect239k1"},
    {"1.3.132.0.30", "secp160r2"},
    {"1.3.132.0.31", "secp192k1"},
    {"1.3.132.0.32", "secp224k1"},
    {"1.3.132.0.33", "secp224r1"},
    {"1.3.132.0.34", "secp384r1"},
    {"1.3.132.0.35", "secp521r1"},
    {"1.3.132.0.36", "sect409k1"},
    {"1.3.132.0.37", "sect409r1"},
    {"1.3.132.0.38", "sect571k1"},
    {"1.3.132.0.39", "sect571r1"},
    {"1.3.132.0.4", "sect113r1"},
    {"1.3.132.0.5", "sect113r2"},
    {"1.3.132.0.6", "secp112r1"},
    {"1.3.132.0.7", "secp112r2"},
    {"1.3.132.0.8", "secp160r1"},
    {"1.3.132.0.9", "secp160k1"},
    {"1.3.132.1.12", "ECDH"},
    {"1.3.14.3.2.12", "DSA"},
    {"1.3.14.3.2.13", "SHA1withDSA"},
    {"1.3.14.3.2.15", "SHA1withRSA"},
    {"1.3.14.3.2.17", "DESede"},
    {"1.3.14.3.2.26", "SHA-1"},
    {"1.3.14.3.2.27", "SHA1withDSA"},
    {"1.3.14.3.2.29", "SHA1withRSA"},
    {"1.3.14.3.2.7", "DES/CBC"},
    {"1.3.36.3.3.2.8.1.1.1", "brainpoolP160r1"},
    {"1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1"},
    {"1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1"},
    {"1.3.36.3.3.2.8.1.1.3", "brainpoolP192r1"},
    {"1.3.36.3.3.2.8.1.1.5", "brainpoolP224r1"},
    {"1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"},
    {"1.3.36.3.3.2.8.1.1.9", "brainpoolP320r1"},
    {"1.3.6.1.4.1.311.10.3.3", "MICROSOFT_ExportApproved"},
    {"1.3.6.1.4.1.42.2.11.2.1", "SkipIPAddress"},
    {"1.3.6.1.4.1.42.2.17.1.1", "JAVASOFT_JDKKeyProtector"},
    {"1.3.6.1.4.1.42.2.19.1", "JAVASOFT_JCEKeyProtector"},
    {"1.3.6.1.5.5.7.1.1", "AuthInfoAccess"},
    {"1.3.6.1.5.5.7.1.11", "SubjectInfoAccess"},
    {"1.3.6.1.5.5.7.3.1", "serverAuth"},
    {"1.3.6.1.5.5.7.3.2", "clientAuth"},
    {"1.3.6.1.5.5.7.3.3", "codeSigning"},
    {"1.3.6.1.5.5.7.3.4", "emailProtection"},
    {"1.3.6.1.5.5.7.3.5", "ipsecEndSystem"},
    {"1.3.6.1.5.5.7.3.6", "ipsecTunnel"},
    {"1.3.6.1.5.5.7.3.7", "ipsecUser"},
    {"1.3.6.1.5.5.7.3.8", "timeStamping"},
    {"1.3.6.1.5.5.7.3.9", "OCSPSigning"},
    {"1.3.6.1.5.5.7.48.1", "OCSP"},
    {"1.3.6.1.5.5.7.48.1.1", "OCSPBasicResponse"},
    {"1.3.6.1.5.5.7.48.1.2", "OCSPNonceExt"},
    {"1.3.6.1.5.5.7.48.1.5", "OCSPNoCheck"},
    {"1.3.6.1.5.5.7.48.2", "caIssuers"},
    {"1.3.6.1.5.5.7.48.3", "timeStamping"},
    {"1.3.6.1.5.5.7.48.5", "caRepository"},
    {"2.16.840.1.101.3.4.1", "AES"},
    {"2.16.840.1.101.3.4.1.1", "AES_128/ECB/NoPadding"},
    {"2.16.840.1.101.3.4.1.2", "AES_128/CBC/NoPadding"},
    {"2.16.840.1.101.3.4.1.21", "AES_192/ECB/NoPadding"},
    {"2.16.840.1.101.3.4.1.22", "AES_192/CBC/NoPadding"},
    {"2.16.840.1.101.3.4.1.23", "AES_192/OFB/NoPadding"},
    {"2.16.840.1.101.3.4.1.24", "AES_192/CFB/NoPadding"},
    {"2.16.840.1.101.3.4.1.25", "AES_192/KW/NoPadding"},
    {"2.16.840.1.101.3.4.1.26", "AES_192/GCM/NoPadding"},
    {"2.16.840.1.101.3.4.1.28", "AES_192/KWP/NoPadding"},
    {"2.16.840.1.101.3.4.1.3", "AES_128/OFB/NoPadding"},
    {"2.16.840.1.101.3.4.1.4", "AES_128/CFB/NoPadding"},
    {"2.16.840.1.101.3.4.1.41", "AES_256/ECB/NoPadding"},
    {"2.16.840.1.101.3.4.1.42", "AES_256/CBC/NoPadding"},
    {"2.16.840.1.101.3.4.1.43", "AES_256/OFB/NoPadding"},
    {"2.16.840.1.101.3.4.1.44", "AES_256/CFB/NoPadding"},
    {"2.16.840.1.101.3.4.1.45", "AES_256/KW/NoPadding"},
    {"2.16.840.1.101.3.4.1.46", "AES_256/GCM/NoPadding"},
    {"2.16.840.1.101.3.4.1.48", "AES_256/KWP/NoPadding"},
    {"2.16.840.1.101.3.4.1.5", "AES_128/KW/NoPadding"},
    {"2.16.840.1.101.3.4.1.6", "AES_128/GCM/NoPadding"},
    {"2.16.840.1.101.3.4.1.8", "AES_128/KWP/NoPadding"},
    {"2.16.840.1.101.3.4.2.1", "SHA-256"},
    {"2.16.840.1.101.3.4.2.10", "SHA3-512"},
    {"2.16.840.1.101.3.4.2.11", "SHAKE128-256"},
    {"2.16.840.1.101.3.4.2.12", "SHAKE256-512"},
    {"2.16.840.1.101.3.4.2.13", "HmacSHA3-224"},
    {"2.16.840.1.101.3.4.2.14", "HmacSHA3-256"},
    {"2.16.840.1.101.3.4.2.15", "HmacSHA3-384"},
    {"2.16.840.1.101.3.4.2.16", "HmacSHA3-512"},
    {"2.16.840.1.101.3.4.2.17", "SHAKE128-LEN"},
    {"2.16.840.1.101.3.4.2.18", "SHAKE256-LEN"},
    {"2.16.840.1.101.3.4.2.2", "SHA-384"},
    {"2.16.840.1.101.3.4.2.3", "SHA-512"},
    {"2.16.840.1.101.3.4.2.4", "SHA-224"},
    {"2.16.840.1.101.3.4.2.5", "SHA-512/224"},
    {"2.16.840.1.101.3.4.2.6", "SHA-512/256"},
    {"2.16.840.1.101.3.4.2.7", "SHA3-224"},
    {"2.16.840.1.101.3.4.2.8", "SHA3-256"},
    {"2.16.840.1.101.3.4.2.9", "SHA3-384"},
    {"2.16.840.1.101.3.4.3.1", "SHA224withDSA"},
    {"2.16.840.1.101.3.4.3.10", "SHA3-256withECDSA"},
    {"2.16.840.1.101.3.4.3.11", "SHA3-384withECDSA"},
    {"2.16.840.1.101.3.4.3.12", "SHA3-512withECDSA"},
    {"2.16.840.1.101.3.4.3.13", "SHA3-224withRSA"},
    {"2.16.840.1.101.3.4.3.14", "SHA3-256withRSA"},
    {"2.16.840.1.101.3.4.3.15", "SHA3-384withRSA"},
    {"2.16.840.1.101.3.4.3.16", "SHA3-512withRSA"},
    {"2.16.840.1.101.3.4.3.2", "SHA256withDSA"},
    {"2.16.840.1.101.3.4.3.3", "SHA384withDSA"},
    {"2.16.840.1.101.3.4.3.4", "SHA512withDSA"},
    {"2.16.840.1.101.3.4.3.5", "SHA3-224withDSA"},
    {"2.16.840.1.101.3.4.3.6", "SHA3-256withDSA"},
    {"2.16.840.1.101.3.4.3.7", "SHA3-384withDSA"},
    {"2.16.840.1.101.3.4.3.8", "SHA3-512withDSA"},
    {"2.16.840.1.101.3.4.3.9", "SHA3-224withECDSA"},
    {"2.16.840.1.113730.1.1", "NETSCAPE_CertType"},
    {"2.16.840.1.113730.2.5", "NETSCAPE_CertSequence"},
    {"2.16.840.1.113730.4.1", "NETSCAPE_ExportApproved"},
    {"2.16.840.1.113894.746875.1.1", "ORACLE_TrustedKeyUsage"},
    {"2.5.29.14", "SubjectKeyID"},
    {"2.5.29.15", "KeyUsage"},
    {"2.5.29.16", "PrivateKeyUsage"},
    {"2.5.29.17", "SubjectAlternativeName"},
    {"2.5.29.18", "IssuerAlternativeName"},
    {"2.5.29.19", "BasicConstraints"},
    {"2.5.29.20", "CRLNumber"},
    {"2.5.29.21", "ReasonCode"},
    {"2.5.29.23", "HoldInstructionCode"},
    {"2.5.29.24", "InvalidityDate"},
    {"2.5.29.27", "DeltaCRLIndicator"},
    {"2.5.29.28", "IssuingDistributionPoint"},
    {"2.5.29.29", "CertificateIssuer"},
    {"2.5.29.30", "NameConstraints"},
    {"2.5.29.31", "CRLDistributionPoints"},
    {"2.5.29.32", "CertificatePolicies"},
    {"2.5.29.32.0", "CE_CERT_POLICIES_ANY"},
    {"2.5.29.33", "PolicyMappings"},
    {"2.5.29.35", "AuthorityKeyID"},
    {"2.5.29.36", "PolicyConstraints"},
    {"2.5.29.37", "extendedKeyUsage"},
    {"2.5.29.37.0", "anyExtendedKeyUsage"},
    {"2.5.29.46", "FreshestCRL"},
    {"2.5.29.54", "InhibitAnyPolicy"},
    {"2.5.29.9", "SubjectDirectoryAttributes"},
    {"2.5.4.10", "OrgName"},
    {"2.5.4.11", "OrgUnitName"},
    {"2.5.4.12", "Title"},
    {"2.5.4.3", "CommonName"},
    {"2.5.4.4", "Surname"},
    {"2.5.4.42", "GivenName"},
    {"2.5.4.43", "Initials"},
    {"2.5.4.44", "GenerationQualifier"},
    {"2.5.4.46", "DNQualifier"},
    {"2.5.4.5", "SerialNumber"},
    {"2.5.4.6", "CountryName"},
    {"2.5.4.7", "LocalityName"},
    {"2.5.4.8", "StateName"},
    {"2.5.4.9", "StreetAddress"},
    {"2.5.8.1.1", "RSA"},
};

/* The formatting state: where text goes and how Java would encode non-ASCII characters. */
typedef struct kt {
    cli_kt_buf *b;
    int utf8;
} kt;

void cli_kt_buf_free(cli_kt_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static void add(cli_kt_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;

        while (cap < b->n + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void adds(cli_kt_buf *b, const char *s)
{
    add(b, s, strlen(s));
}

void cli_kt_buf_add(cli_kt_buf *b, const char *s)
{
    adds(b, s);
}

static void addc(cli_kt_buf *b, char c)
{
    add(b, &c, 1);
}

static void addf(cli_kt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(cli_kt_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static const char *known_oid_name(const char *oid)
{
    size_t lo = 0, hi = sizeof(known_oids) / sizeof(known_oids[0]);

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(oid, known_oids[mid].oid);

        if (c == 0)
            return known_oids[mid].name;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void oid_text(const ASN1_OBJECT *o, char *buf, size_t len)
{
    if (OBJ_obj2txt(buf, (int)len, o, 1) <= 0)
        snprintf(buf, len, "?");
}

static void add_oid(cli_kt_buf *b, const ASN1_OBJECT *o)
{
    char buf[256];

    oid_text(o, buf, sizeof(buf));
    adds(b, buf);
}

/* One Java char sequence (as code points) written the way System.out encodes it, except that
 * what lib/escape.h escapes is escaped (keytool would write a certificate's ESC or CSI raw to
 * the terminal), and a surrogate or a value above U+10FFFF is '?' as Java's encoder writes it. */
static void add_cp(kt *k, uint32_t cp)
{
    char u[4];

    if (dbt_escape_cp_unsafe(cp)) {
        char esc[3 * 4 + 1];
        size_t n = 0;

        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            addc(k->b, '?');
            return;
        }
        if (cp >= 0x80 && !k->utf8) {
            addc(k->b, '?');
            return;
        }
        if (cp < 0x80) {
            u[n++] = (char)cp;
        } else if (cp < 0x800) {
            u[n++] = (char)(0xC0 | (cp >> 6));
            u[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            u[n++] = (char)(0xE0 | (cp >> 12));
            u[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[n++] = (char)(0x80 | (cp & 0x3F));
        }
        dbt_escape(u, n, esc, sizeof(esc));
        adds(k->b, esc);
        return;
    }
    if (cp < 0x80) {
        addc(k->b, (char)cp);
    } else if (!k->utf8) {
        addc(k->b, '?'); /* Java's replacement for characters the locale cannot encode */
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        add(k->b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        add(k->b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        add(k->b, u, 4);
    }
}

/* Decodes UTF-8 leniently: a malformed byte becomes U+FFFD, as Java's decoder does. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) ? 0xFFFD : c;
    return len;
}

/*
 * The code points of a directory string, decoded as DerValue.getAsString() does. Returns the
 * count, or -1 when the type is not a string type to Java (the value is then shown as #hex).
 */
static long string_cps(const ASN1_STRING *s, uint32_t **out)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    size_t n = (size_t)ASN1_STRING_length(s), i, m = 0;
    uint32_t *cp;

    *out = NULL;
    switch (ASN1_STRING_type(s)) {
    case V_ASN1_UTF8STRING:
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_T61STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_GENERALSTRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UNIVERSALSTRING:
        break;
    default:
        return -1;
    }
    cp = malloc((n + 1) * sizeof(*cp));
    if (cp == NULL)
        return -1;
    switch (ASN1_STRING_type(s)) {
    case V_ASN1_UTF8STRING:
        for (i = 0; i < n;)
            i += utf8_next(d + i, n - i, &cp[m++]);
        break;
    case V_ASN1_BMPSTRING:
        for (i = 0; i + 1 < n; i += 2) {
            uint32_t u = (uint32_t)d[i] << 8 | d[i + 1];

            if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
                uint32_t l = (uint32_t)d[i + 2] << 8 | d[i + 3];

                if (l >= 0xDC00 && l <= 0xDFFF) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                    i += 2;
                }
            }
            cp[m++] = u;
        }
        break;
    case V_ASN1_UNIVERSALSTRING:
        for (i = 0; i + 3 < n; i += 4)
            cp[m++] = (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 | (uint32_t)d[i + 2] << 8 |
                      d[i + 3];
        break;
    default: /* the 8-bit types are ISO-8859-1 to Java */
        for (i = 0; i < n; i++)
            cp[m++] = d[i];
        break;
    }
    *out = cp;
    return (long)m;
}

/* A plain string value (DNS name, URI, e-mail): Java's ISO-8859-1 / UTF-8 decoding. */
static void add_asn1_text(kt *k, const ASN1_STRING *s)
{
    uint32_t *cp;
    long n = string_cps(s, &cp);

    for (long i = 0; i < n; i++)
        add_cp(k, cp[i]);
    free(cp);
}

static void add_hexdump_bytes(cli_kt_buf *b, const unsigned char *d, size_t n);

/* Lowercase hex of the DER encoding, the "#..." form of a non-string attribute value. */
static void add_der_hex(cli_kt_buf *b, const ASN1_STRING *s)
{
    ASN1_TYPE *t = ASN1_TYPE_new();
    unsigned char *der = NULL;
    int len;

    if (t == NULL || !ASN1_TYPE_set1(t, ASN1_STRING_type(s), s)) {
        ASN1_TYPE_free(t);
        return;
    }
    len = i2d_ASN1_TYPE(t, &der);
    for (int i = 0; i < len; i++)
        addf(b, "%02x", der[i]);
    OPENSSL_free(der);
    ASN1_TYPE_free(t);
}

/* DerValue.isPrintableStringChar */
static int printable_char(uint32_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr(" '()+,-./:=?", (int)c) != NULL;
}

/* AVA.toKeywordValueString: RFC 1779 quoting, as keytool prints Owner and Issuer. */
static void add_ava_value(kt *k, const ASN1_STRING *v)
{
    static const char escapees[] = ",+=\n<>#;\\\"";
    uint32_t *cp, *o;
    long n = string_cps(v, &cp), m = 0;
    int quote = 0, prev_white = 0, already_quoted;

    if (n < 0) {
        free(cp);
        addc(k->b, '#');
        add_der_hex(k->b, v);
        return;
    }
    o = malloc((2 * (size_t)n + 1) * sizeof(*o));
    if (o == NULL) {
        free(cp);
        k->b->oom = 1;
        return;
    }
    already_quoted = n > 1 && cp[0] == '"' && cp[n - 1] == '"';
    for (long i = 0; i < n; i++) {
        uint32_t c = cp[i];
        int esc = c != 0 && c < 0x80 && strchr(escapees, (int)c) != NULL;

        if (already_quoted && (i == 0 || i == n - 1)) {
            o[m++] = c;
            continue;
        }
        if (printable_char(c) || esc) {
            if (!quote && ((i == 0 && (c == ' ' || c == '\n')) || esc))
                quote = 1;
            if (!(c == ' ' || c == '\n')) {
                if (c == '"' || c == '\\')
                    o[m++] = '\\';
                prev_white = 0;
            } else {
                if (!quote && prev_white)
                    quote = 1;
                prev_white = 1;
            }
            o[m++] = c;
        } else {
            prev_white = 0;
            o[m++] = c;
        }
    }
    if (m > 0 && (o[m - 1] == ' ' || o[m - 1] == '\n'))
        quote = 1;
    if (!already_quoted && quote)
        addc(k->b, '"');
    for (long i = 0; i < m; i++)
        add_cp(k, o[i]);
    if (!already_quoted && quote)
        addc(k->b, '"');
    free(o);
    free(cp);
}

/* AVAKeyword's DEFAULT keywords: the last keyword registered for an OID wins (ST, DNQ, ...). */
static void add_ava_keyword(cli_kt_buf *b, const ASN1_OBJECT *o)
{
    const char *kw = NULL;
    char buf[256];

    switch (OBJ_obj2nid(o)) {
    case NID_commonName:
        kw = "CN";
        break;
    case NID_countryName:
        kw = "C";
        break;
    case NID_localityName:
        kw = "L";
        break;
    case NID_stateOrProvinceName:
        kw = "ST";
        break;
    case NID_organizationName:
        kw = "O";
        break;
    case NID_organizationalUnitName:
        kw = "OU";
        break;
    case NID_title:
        kw = "T";
        break;
    case NID_streetAddress:
        kw = "STREET";
        break;
    case NID_domainComponent:
        kw = "DC";
        break;
    case NID_dnQualifier:
        kw = "DNQ";
        break;
    case NID_surname:
        kw = "SURNAME";
        break;
    case NID_givenName:
        kw = "GIVENNAME";
        break;
    case NID_initials:
        kw = "INITIALS";
        break;
    case NID_generationQualifier:
        kw = "GENERATION";
        break;
    case NID_pkcs9_emailAddress:
        kw = "EMAILADDRESS";
        break;
    case NID_userId:
        kw = "UID";
        break;
    case NID_serialNumber:
        kw = "SERIALNUMBER";
        break;
    default:
        break;
    }
    if (kw != NULL) {
        adds(b, kw);
        return;
    }
    oid_text(o, buf, sizeof(buf));
    if (strcmp(buf, "1.3.6.1.4.1.42.2.11.2.1") == 0) {
        adds(b, "IP");
        return;
    }
    adds(b, "OID.");
    adds(b, buf);
}

static void add_ava(kt *k, const X509_NAME_ENTRY *e)
{
    add_ava_keyword(k->b, X509_NAME_ENTRY_get_object(e));
    addc(k->b, '=');
    add_ava_value(k, X509_NAME_ENTRY_get_data(e));
}

/* X500Name.toString: RDNs last to first joined by ", ", the AVAs of one RDN by " + ". */
static void add_name(kt *k, const X509_NAME *nm)
{
    int n = X509_NAME_entry_count(nm), end = n;

    while (end > 0) {
        int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(nm, end - 1)), start = end - 1;

        while (start > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(nm, start - 1)) == set)
            start--;
        if (end != n)
            adds(k->b, ", ");
        for (int i = start; i < end; i++) {
            if (i != start)
                adds(k->b, " + ");
            add_ava(k, X509_NAME_get_entry(nm, i));
        }
        end = start;
    }
}

/* RDN.toString of a relative distinguished name given as a list of entries. */
static void add_rdn(kt *k, const STACK_OF(X509_NAME_ENTRY) * rdn)
{
    for (int i = 0; i < sk_X509_NAME_ENTRY_num(rdn); i++) {
        if (i > 0)
            adds(k->b, " + ");
        add_ava(k, sk_X509_NAME_ENTRY_value(rdn, i));
    }
}

int cli_kt_format_date(cli_kt_buf *b, const ASN1_TIME *t)
{
    struct tm tm, lt;
    time_t secs;
    char buf[64];

    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return -1;
    secs = timegm(&tm);
    if (localtime_r(&secs, &lt) == NULL)
        return -1;
    /* Java's Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy" in the default time zone. */
    if (strftime(buf, sizeof(buf), "%a %b %d %H:%M:%S %Z %Y", &lt) == 0)
        return -1;
    adds(b, buf);
    return 0;
}

/* sun.security.util.HexDumpEncoder.encodeBuffer: 16 bytes a line, ASCII column, "\n" ends. */
static void add_hexdump_bytes(cli_kt_buf *b, const unsigned char *d, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";

    for (size_t off = 0; off < n; off += 16) {
        size_t len = n - off < 16 ? n - off : 16;
        char line[96];
        size_t p = 0;

        line[p++] = hx[(off >> 12) & 15];
        line[p++] = hx[(off >> 8) & 15];
        line[p++] = hx[(off >> 4) & 15];
        line[p++] = hx[off & 15];
        line[p++] = ':';
        line[p++] = ' ';
        for (size_t i = 0; i < 16; i++) {
            if (i < len) {
                line[p++] = hx[d[off + i] >> 4];
                line[p++] = hx[d[off + i] & 15];
                line[p++] = ' ';
            } else {
                line[p++] = ' ';
                line[p++] = ' ';
                line[p++] = ' ';
            }
            if (i == 7) {
                line[p++] = ' ';
                line[p++] = ' ';
            }
        }
        line[p++] = ' ';
        for (size_t i = 0; i < len; i++) {
            unsigned char c = d[off + i];

            line[p++] = (c < ' ' || c > 'z') ? '.' : (char)c;
        }
        line[p++] = '\n';
        add(b, line, p);
    }
}

static void add_hexdump(cli_kt_buf *b, const ASN1_STRING *s)
{
    add_hexdump_bytes(b, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
}

/* KeyIdentifier.toString */
static void add_keyid(cli_kt_buf *b, const ASN1_OCTET_STRING *id)
{
    adds(b, "KeyIdentifier [\n");
    add_hexdump(b, id);
    adds(b, "]\n");
}

/* The minimal two's complement bytes of an INTEGER (BigInteger.toByteArray). */
static unsigned char *int_bytes(const ASN1_INTEGER *ai, size_t *n)
{
    unsigned char *der = NULL, *out = NULL;
    const unsigned char *p;
    long len;
    int tag, cls, dlen = i2d_ASN1_INTEGER(ai, &der);

    if (dlen <= 0)
        return NULL;
    p = der;
    if (!(ASN1_get_object(&p, &len, &tag, &cls, dlen) & 0x80) && len > 0) {
        out = malloc((size_t)len);
        if (out != NULL) {
            memcpy(out, p, (size_t)len);
            *n = (size_t)len;
        }
    }
    OPENSSL_free(der);
    return out;
}

/* BigInteger.toString(16): lowercase, no leading zeros, '-' when negative. */
static void add_bigint_hex(cli_kt_buf *b, const ASN1_INTEGER *ai)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *d = ASN1_STRING_get0_data(ai);
    int n = ASN1_STRING_length(ai), started = 0;

    if (ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER)
        addc(b, '-');
    for (int i = 0; i < n; i++) {
        if (started || d[i] >> 4) {
            addc(b, hx[d[i] >> 4]);
            started = 1;
        }
        if (started || d[i] & 15) {
            addc(b, hx[d[i] & 15]);
            started = 1;
        }
    }
    if (!started)
        addc(b, '0');
}

/* A small INTEGER as Java's int (BigInteger.intValue()). */
static long int_value(const ASN1_INTEGER *ai)
{
    int64_t v = 0;

    if (ai == NULL || !ASN1_INTEGER_get_int64(&v, ai))
        return 0;
    return (long)(int32_t)v;
}

/* InetAddress.getHostAddress for 4 or 16 bytes; an IPv4-mapped IPv6 address is IPv4 to Java. */
static void add_ip(cli_kt_buf *b, const unsigned char *a, int n)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (n == 16 && memcmp(a, mapped, 12) == 0) {
        a += 12;
        n = 4;
    }
    if (n == 4) {
        addf(b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        return;
    }
    for (int i = 0; i < 16; i += 2)
        addf(b, "%s%x", i ? ":" : "", (unsigned)(a[i] << 8 | a[i + 1]));
}

static void add_general_names(kt *k, const GENERAL_NAMES *gns);

/* GeneralName.toString for each CHOICE. */
static void add_general_name(kt *k, const GENERAL_NAME *gn)
{
    int type;
    void *v = GENERAL_NAME_get0_value(gn, &type);

    switch (type) {
    case GEN_OTHERNAME:
        adds(k->b, "Other-Name: Unrecognized ObjectIdentifier: ");
        add_oid(k->b, gn->d.otherName->type_id);
        break;
    case GEN_EMAIL:
        adds(k->b, "RFC822Name: ");
        add_asn1_text(k, v);
        break;
    case GEN_DNS:
        adds(k->b, "DNSName: ");
        add_asn1_text(k, v);
        break;
    case GEN_URI:
        adds(k->b, "URIName: ");
        add_asn1_text(k, v);
        break;
    case GEN_DIRNAME:
        add_name(k, v);
        break;
    case GEN_RID:
        adds(k->b, "OIDName: ");
        add_oid(k->b, v);
        break;
    case GEN_IPADD: {
        const unsigned char *a = ASN1_STRING_get0_data(v);
        int n = ASN1_STRING_length(v);

        adds(k->b, "IPAddress: ");
        if (n == 4 || n == 16) {
            add_ip(k->b, a, n);
        } else if (n == 8) {
            add_ip(k->b, a, 4);
            addc(k->b, '/');
            add_ip(k->b, a + 4, 4);
        } else if (n == 32) {
            int bits = 0;

            add_ip(k->b, a, 16);
            while (bits < 128 && (a[16 + bits / 8] & (0x80 >> (bits % 8))))
                bits++;
            addf(k->b, "/%d", bits);
        } else {
            add_hexdump(k->b, v);
        }
        break;
    }
    case GEN_EDIPARTY: {
        EDIPARTYNAME *e = v;

        adds(k->b, "EDIPartyName: ");
        if (e->nameAssigner != NULL) {
            adds(k->b, "  nameAssigner = ");
            add_asn1_text(k, e->nameAssigner);
            addc(k->b, ',');
        }
        adds(k->b, "  partyName = ");
        if (e->partyName != NULL)
            add_asn1_text(k, e->partyName);
        break;
    }
    default: /* x400Address */
        adds(k->b, "X400Address: <DER-encoded value>");
        break;
    }
}

/* GeneralNames.toString is a java.util.List's: "[a, b]". */
static void add_general_names(kt *k, const GENERAL_NAMES *gns)
{
    addc(k->b, '[');
    for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
        if (i > 0)
            adds(k->b, ", ");
        add_general_name(k, sk_GENERAL_NAME_value(gns, i));
    }
    addc(k->b, ']');
}

static int bit_set(const ASN1_BIT_STRING *bs, int n)
{
    return bs != NULL && ASN1_BIT_STRING_get_bit(bs, n);
}

/* ---- one function per extension class: the text after "ObjectId: ... Criticality=...\n" ---- */

static void ext_basic_constraints(kt *k, const BASIC_CONSTRAINTS *bc)
{
    long pathlen = -1;

    if (bc->ca)
        pathlen = bc->pathlen == NULL ? -2 : int_value(bc->pathlen);
    adds(k->b, "BasicConstraints:[\n  CA:");
    adds(k->b, bc->ca ? "true" : "false");
    adds(k->b, "\n  PathLen:");
    if (pathlen == -2)
        adds(k->b, " no limit");
    else if (pathlen < 0)
        adds(k->b, " undefined");
    else
        addf(k->b, "%ld", pathlen);
    adds(k->b, "\n]\n");
}

static void ext_key_usage(kt *k, const ASN1_BIT_STRING *ku)
{
    static const char *const names[] = {"DigitalSignature",  "Non_repudiation", "Key_Encipherment",
                                        "Data_Encipherment", "Key_Agreement",   "Key_CertSign",
                                        "Crl_Sign",          "Encipher_Only",   "Decipher_Only"};

    adds(k->b, "KeyUsage [\n");
    for (int i = 0; i < 9; i++) {
        if (bit_set(ku, i)) {
            adds(k->b, "  ");
            adds(k->b, names[i]);
            addc(k->b, '\n');
        }
    }
    adds(k->b, "]\n");
}

static void ext_netscape_cert_type(kt *k, const ASN1_BIT_STRING *ct)
{
    static const char *const names[] = {
        "   SSL client\n", "   SSL server\n", "   S/MIME\n",         "   Object Signing\n", NULL,
        "   SSL CA\n",     "   S/MIME CA\n",  "   Object Signing CA"};

    adds(k->b, "NetscapeCertType [\n");
    for (int i = 0; i < 8; i++)
        if (names[i] != NULL && bit_set(ct, i))
            adds(k->b, names[i]);
    adds(k->b, "]\n");
}

static void ext_aki(kt *k, const AUTHORITY_KEYID *aki)
{
    adds(k->b, "AuthorityKeyIdentifier [\n");
    if (aki->keyid != NULL)
        add_keyid(k->b, aki->keyid);
    if (aki->issuer != NULL) {
        add_general_names(k, aki->issuer);
        addc(k->b, '\n');
    }
    if (aki->serial != NULL) {
        size_t n = 0;
        unsigned char *d = int_bytes(aki->serial, &n);

        adds(k->b, "SerialNumber: ");
        for (size_t i = 0; d != NULL && i < n; i++)
            addf(k->b, "%s%02x", i ? ":" : "", d[i]);
        free(d);
        addc(k->b, '\n');
    }
    adds(k->b, "]\n");
}

static void ext_alt_names(kt *k, const char *title, const GENERAL_NAMES *gns)
{
    adds(k->b, title);
    adds(k->b, " [\n");
    for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
        adds(k->b, "  ");
        add_general_name(k, sk_GENERAL_NAME_value(gns, i));
        addc(k->b, '\n');
    }
    adds(k->b, "]\n");
}

static void ext_eku(kt *k, const EXTENDED_KEY_USAGE *eku)
{
    adds(k->b, "ExtendedKeyUsages [\n  ");
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        char buf[256];
        const char *name;

        if (i > 0)
            adds(k->b, "\n  ");
        oid_text(sk_ASN1_OBJECT_value(eku, i), buf, sizeof(buf));
        name = known_oid_name(buf);
        adds(k->b, name != NULL ? name : buf);
    }
    adds(k->b, "\n]\n");
}

static void ext_crldp(kt *k, const char *title, const CRL_DIST_POINTS *dps)
{
    static const char *const reasons[] = {
        NULL,           "key compromise",         "CA compromise",    "affiliation changed",
        "superseded",   "cessation of operation", "certificate hold", "privilege withdrawn",
        "AA compromise"};

    adds(k->b, title);
    adds(k->b, " [\n  [");
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

        if (i > 0)
            adds(k->b, ", ");
        adds(k->b, "DistributionPoint:\n     ");
        if (dp->distpoint != NULL && dp->distpoint->type == 0)
            add_general_names(k, dp->distpoint->name.fullname);
        else if (dp->distpoint != NULL)
            add_rdn(k, dp->distpoint->name.relativename);
        addc(k->b, '\n');
        if (dp->reasons != NULL) {
            int nbits = ASN1_STRING_length(dp->reasons) * 8;

            adds(k->b, "   ReasonFlags:\n");
            for (int r = 0; r < nbits; r++) {
                if (!bit_set(dp->reasons, r))
                    continue;
                if (r > 0 && r < 9)
                    addf(k->b, "    %s\n", reasons[r]);
                else
                    addf(k->b, "    Unknown reason %d\n", r);
            }
        }
        if (dp->CRLissuer != NULL) {
            adds(k->b, "   CRLIssuer:");
            add_general_names(k, dp->CRLissuer);
            addc(k->b, '\n');
        }
    }
    adds(k->b, "]]\n");
}

static void ext_info_access(kt *k, const char *title, const AUTHORITY_INFO_ACCESS *aia)
{
    adds(k->b, title);
    adds(k->b, " [\n  [");
    for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        const char *m;

        if (i > 0)
            adds(k->b, ", ");
        switch (OBJ_obj2nid(ad->method)) {
        case NID_ad_ca_issuers:
            m = "caIssuers";
            break;
        case NID_caRepository:
            m = "caRepository";
            break;
        case NID_ad_timeStamping:
            m = "timeStamping";
            break;
        case NID_ad_OCSP:
            m = "ocsp";
            break;
        default:
            m = NULL;
            break;
        }
        adds(k->b, "\n   accessMethod: ");
        if (m != NULL)
            adds(k->b, m);
        else
            add_oid(k->b, ad->method);
        adds(k->b, "\n   accessLocation: ");
        add_general_name(k, ad->location);
        addc(k->b, '\n');
    }
    adds(k->b, "]\n]\n");
}

/* The DER of one policy qualifier after its OID (PolicyQualifierInfo's mData). */
static int qualifier_der(const POLICYQUALINFO *q, unsigned char **der)
{
    switch (OBJ_obj2nid(q->pqualid)) {
    case NID_id_qt_cps:
        return i2d_ASN1_IA5STRING(q->d.cpsuri, der);
    case NID_id_qt_unotice:
        return i2d_USERNOTICE(q->d.usernotice, der);
    default:
        return i2d_ASN1_TYPE(q->d.other, der);
    }
}

static void ext_policies(kt *k, const CERTIFICATEPOLICIES *cp)
{
    adds(k->b, "CertificatePolicies [\n");
    for (int i = 0; i < sk_POLICYINFO_num(cp); i++) {
        const POLICYINFO *pi = sk_POLICYINFO_value(cp, i);

        adds(k->b, "  [CertificatePolicyId: [");
        add_oid(k->b, pi->policyid);
        adds(k->b, "]\n[");
        for (int j = 0; j < sk_POLICYQUALINFO_num(pi->qualifiers); j++) {
            const POLICYQUALINFO *q = sk_POLICYQUALINFO_value(pi->qualifiers, j);
            unsigned char *der = NULL;
            int n = qualifier_der(q, &der);

            if (j > 0)
                adds(k->b, ", ");
            adds(k->b, "PolicyQualifierInfo: [\n  qualifierID: ");
            add_oid(k->b, q->pqualid);
            adds(k->b, "\n  qualifier: ");
            if (n > 0)
                add_hexdump_bytes(k->b, der, (size_t)n);
            OPENSSL_free(der);
            adds(k->b, "\n]");
        }
        adds(k->b, "]  ]\n");
    }
    adds(k->b, "]\n");
}

static void add_subtrees(kt *k, const STACK_OF(GENERAL_SUBTREE) * st)
{
    adds(k->b, "   GeneralSubtrees:\n[");
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(st); i++) {
        const GENERAL_SUBTREE *t = sk_GENERAL_SUBTREE_value(st, i);

        if (i > 0)
            adds(k->b, ", ");
        adds(k->b, "\n   GeneralSubtree: [\n    GeneralName: ");
        if (t->base != NULL)
            add_general_name(k, t->base);
        addf(k->b, "\n    Minimum: %ld\n    Maximum: ", t->minimum ? int_value(t->minimum) : 0);
        if (t->maximum == NULL)
            adds(k->b, "undefined");
        else
            addf(k->b, "%ld", int_value(t->maximum));
        adds(k->b, "    ]\n");
    }
    adds(k->b, "]\n");
}

static void ext_name_constraints(kt *k, const NAME_CONSTRAINTS *nc)
{
    adds(k->b, "NameConstraints: [");
    if (nc->permittedSubtrees != NULL) {
        adds(k->b, "\n    Permitted:");
        add_subtrees(k, nc->permittedSubtrees);
    }
    if (nc->excludedSubtrees != NULL) {
        adds(k->b, "\n    Excluded:");
        add_subtrees(k, nc->excludedSubtrees);
    }
    adds(k->b, "   ]\n");
}

static void ext_policy_constraints(kt *k, const POLICY_CONSTRAINTS *pc)
{
    adds(k->b, "PolicyConstraints: [  Require: ");
    if (pc->requireExplicitPolicy == NULL)
        adds(k->b, "unspecified;");
    else
        addf(k->b, "%ld;", int_value(pc->requireExplicitPolicy));
    adds(k->b, "\tInhibit: ");
    if (pc->inhibitPolicyMapping == NULL)
        adds(k->b, "unspecified");
    else
        addf(k->b, "%ld", int_value(pc->inhibitPolicyMapping));
    adds(k->b, " ]\n");
}

static void ext_policy_mappings(kt *k, const POLICY_MAPPINGS *pm)
{
    adds(k->b, "PolicyMappings [\n[");
    for (int i = 0; i < sk_POLICY_MAPPING_num(pm); i++) {
        const POLICY_MAPPING *m = sk_POLICY_MAPPING_value(pm, i);

        if (i > 0)
            adds(k->b, ", ");
        adds(k->b, "CertificatePolicyMap: [\nIssuerDomain:CertificatePolicyId: [");
        add_oid(k->b, m->issuerDomainPolicy);
        adds(k->b, "]\nSubjectDomain:CertificatePolicyId: [");
        add_oid(k->b, m->subjectDomainPolicy);
        adds(k->b, "]\n]\n");
    }
    adds(k->b, "]]\n");
}

static void ext_private_key_usage(kt *k, const PKEY_USAGE_PERIOD *p)
{
    adds(k->b, "PrivateKeyUsage: [\n");
    if (p->notBefore != NULL) {
        adds(k->b, "From: ");
        cli_kt_format_date(k->b, p->notBefore);
        if (p->notAfter != NULL)
            adds(k->b, ", ");
    }
    if (p->notAfter != NULL) {
        adds(k->b, "To: ");
        cli_kt_format_date(k->b, p->notAfter);
    }
    adds(k->b, "]\n");
}

/* ---- the extension list, ordered as keytool's TreeMap orders it ---- */

/* The extensions keytool parses (OIDMap), by NID, with the name its TreeMap sorts by. */
static const struct ext_class {
    int nid;
    const char *name;
} ext_classes[] = {
    {NID_subject_key_identifier, "SubjectKeyIdentifier"},
    {NID_key_usage, "KeyUsage"},
    {NID_private_key_usage_period, "PrivateKeyUsage"},
    {NID_subject_alt_name, "SubjectAlternativeName"},
    {NID_issuer_alt_name, "IssuerAlternativeName"},
    {NID_basic_constraints, "BasicConstraints"},
    {NID_name_constraints, "NameConstraints"},
    {NID_policy_mappings, "PolicyMappings"},
    {NID_authority_key_identifier, "AuthorityKeyIdentifier"},
    {NID_policy_constraints, "PolicyConstraints"},
    {NID_netscape_cert_type, "NetscapeCertType"},
    {NID_certificate_policies, "CertificatePolicies"},
    {NID_ext_key_usage, "ExtendedKeyUsage"},
    {NID_inhibit_any_policy, "InhibitAnyPolicy"},
    {NID_crl_distribution_points, "CRLDistributionPoints"},
    {NID_sinfo_access, "SubjectInfoAccess"},
    {NID_info_access, "AuthorityInfoAccess"},
    {NID_freshest_crl, "FreshestCRL"},
    {NID_id_pkix_OCSP_noCheck, "OCSPNoCheck"},
};

typedef struct ext_item {
    char key[256];   /* the TreeMap key: class name, or the OID for an unknown extension */
    int unparseable; /* keytool lists these after all others */
    X509_EXTENSION *ext;
    int nid;
    const char *cls; /* keytool's class name, NULL for an extension it does not know */
    void *v;         /* the decoded value of a known extension (owned), NULL if it did not decode */
    const char *why; /* why it did not decode */
} ext_item;

static int ext_item_cmp(const void *a, const void *b)
{
    const ext_item *x = a, *y = b;

    if (x->unparseable != y->unparseable)
        return x->unparseable - y->unparseable;
    return strcmp(x->key, y->key);
}

static const char *ext_class_name(int nid)
{
    for (size_t i = 0; i < sizeof(ext_classes) / sizeof(ext_classes[0]); i++)
        if (ext_classes[i].nid == nid)
            return ext_classes[i].name;
    return NULL;
}

/* Renders the body of a known extension from its decoded form. */
static void ext_body(kt *k, int nid, void *v)
{
    switch (nid) {
    case NID_basic_constraints:
        ext_basic_constraints(k, v);
        break;
    case NID_key_usage:
        ext_key_usage(k, v);
        break;
    case NID_netscape_cert_type:
        ext_netscape_cert_type(k, v);
        break;
    case NID_subject_key_identifier:
        adds(k->b, "SubjectKeyIdentifier [\n");
        add_keyid(k->b, v);
        adds(k->b, "]\n");
        break;
    case NID_authority_key_identifier:
        ext_aki(k, v);
        break;
    case NID_subject_alt_name:
        ext_alt_names(k, "SubjectAlternativeName", v);
        break;
    case NID_issuer_alt_name:
        ext_alt_names(k, "IssuerAlternativeName", v);
        break;
    case NID_ext_key_usage:
        ext_eku(k, v);
        break;
    case NID_crl_distribution_points:
        ext_crldp(k, "CRLDistributionPoints", v);
        break;
    case NID_freshest_crl:
        ext_crldp(k, "FreshestCRL", v);
        break;
    case NID_info_access:
        ext_info_access(k, "AuthorityInfoAccess", v);
        break;
    case NID_sinfo_access:
        ext_info_access(k, "SubjectInfoAccess", v);
        break;
    case NID_certificate_policies:
        ext_policies(k, v);
        break;
    case NID_name_constraints:
        ext_name_constraints(k, v);
        break;
    case NID_policy_constraints:
        ext_policy_constraints(k, v);
        break;
    case NID_policy_mappings:
        ext_policy_mappings(k, v);
        break;
    case NID_private_key_usage_period:
        ext_private_key_usage(k, v);
        break;
    case NID_inhibit_any_policy:
        addf(k->b, "InhibitAnyPolicy: %ld\n", int_value(v));
        break;
    default:
        break; /* OCSPNoCheck prints nothing after its header */
    }
}

static void ext_free(int nid, void *v)
{
    const X509V3_EXT_METHOD *m = X509V3_EXT_get_nid(nid);

    if (v == NULL || m == NULL)
        return;
    if (m->it != NULL)
        ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
    else if (m->ext_free != NULL)
        m->ext_free(v);
}

/* Decodes a known extension; *why is set to Java's complaint when keytool would not parse it. */
static void *ext_decode(X509_EXTENSION *ext, int nid, const char **why)
{
    void *v;

    *why = NULL;
    if (nid == NID_inhibit_any_policy && !X509_EXTENSION_get_critical(ext)) {
        *why = "java.io.IOException: Criticality cannot be false for InhibitAnyPolicy";
        return NULL;
    }
    v = X509V3_EXT_d2i(ext);
    if (v == NULL)
        *why = "java.io.IOException: the extension value does not decode";
    return v;
}

static void format_extensions(kt *k, X509 *x)
{
    int n = X509_get_ext_count(x);
    ext_item *items;

    if (n <= 0)
        return;
    items = calloc((size_t)n, sizeof(*items));
    if (items == NULL) {
        k->b->oom = 1;
        return;
    }
    for (int i = 0; i < n; i++) {
        ext_item *it = &items[i];

        it->ext = X509_get_ext(x, i);
        it->nid = OBJ_obj2nid(X509_EXTENSION_get_object(it->ext));
        it->cls = ext_class_name(it->nid);
        if (it->cls != NULL)
            it->v = ext_decode(it->ext, it->nid, &it->why);
        if (it->cls != NULL && it->why == NULL) {
            snprintf(it->key, sizeof(it->key), "%s", it->cls);
        } else {
            oid_text(X509_EXTENSION_get_object(it->ext), it->key, sizeof(it->key));
            it->unparseable = it->cls != NULL;
        }
    }
    qsort(items, (size_t)n, sizeof(*items), ext_item_cmp);

    adds(k->b, "\nExtensions: \n\n");
    for (int i = 0; i < n; i++) {
        ext_item *it = &items[i];

        addf(k->b, "#%d: ObjectId: ", i + 1);
        add_oid(k->b, X509_EXTENSION_get_object(it->ext));
        adds(k->b,
             X509_EXTENSION_get_critical(it->ext) ? " Criticality=true\n" : " Criticality=false\n");
        if (it->cls == NULL) {
            /* an extension keytool does not know: hex dump of the value, then a blank line */
            const ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(it->ext);

            if (ASN1_STRING_length(d) == 0) {
                adds(k->b, "(Empty value)\n");
            } else {
                add_hexdump(k->b, d);
                addc(k->b, '\n');
            }
        } else if (it->v == NULL) {
            addf(k->b, "Unparseable %s extension due to\n%s\n\n", it->cls, it->why);
            add_hexdump(k->b, X509_EXTENSION_get_data(it->ext));
        } else {
            ext_body(k, it->nid, it->v);
        }
        addc(k->b, '\n');
    }
    for (int i = 0; i < n; i++)
        ext_free(items[i].nid, items[i].v);
    free(items);
}

/* ---- the header fields ---- */

static void add_fingerprint(cli_kt_buf *b, X509 *x, const EVP_MD *md)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!X509_digest(x, md, d, &n))
        return;
    for (unsigned int i = 0; i < n; i++)
        addf(b, "%s%02X", i ? ":" : "", d[i]);
}

/* AlgorithmId.getName() of the certificate's signature algorithm. */
static void sig_alg_name(X509 *x, char *out, size_t len)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *o = NULL;
    char buf[256];
    const char *name;

    X509_get0_signature(NULL, &alg, x);
    X509_ALGOR_get0(&o, NULL, NULL, alg);
    oid_text(o, buf, sizeof(buf));
    name = known_oid_name(buf);
    snprintf(out, len, "%s", name != NULL ? name : buf);
}

/*
 * The JDK 17 defaults: jdk.certpath.disabledAlgorithms disables MD2, MD5, RSA/DSA keys under
 * 1024 bits and EC keys under 224; jdk.security.legacyAlgorithms calls SHA1 and RSA/DSA keys
 * under 2048 bits weak.
 */
static int sig_weakness(const char *name)
{
    if (strstr(name, "MD2") != NULL || strstr(name, "MD5") != NULL)
        return 2;
    if (strncmp(name, "SHA1with", 8) == 0)
        return 1;
    return 0;
}

static void key_desc(X509 *x, char *out, size_t len, int *weak)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    int bits = pk ? EVP_PKEY_get_bits(pk) : -1;
    char curve[64] = "", buf[256];
    const char *alg = "unknown";
    const X509_ALGOR *palg = NULL;
    const ASN1_OBJECT *o = NULL;

    *weak = 0;
    X509_PUBKEY_get0_param(NULL, NULL, NULL, (X509_ALGOR **)&palg, X509_get_X509_PUBKEY(x));
    if (palg != NULL)
        X509_ALGOR_get0(&o, NULL, NULL, palg);
    switch (o ? OBJ_obj2nid(o) : NID_undef) {
    case NID_rsaEncryption:
        alg = "RSA";
        *weak = bits < 1024 ? 2 : bits < 2048 ? 1 : 0;
        break;
    case NID_rsassaPss:
        alg = "RSASSA-PSS";
        *weak = bits < 1024 ? 2 : bits < 2048 ? 1 : 0;
        break;
    case NID_dsa:
        alg = "DSA";
        *weak = bits < 1024 ? 2 : bits < 2048 ? 1 : 0;
        break;
    case NID_X9_62_id_ecPublicKey: {
        char gname[80];
        int nid;

        alg = "EC";
        *weak = bits < 224 ? 2 : 0;
        if (pk != NULL && EVP_PKEY_get_group_name(pk, gname, sizeof(gname), NULL)) {
            nid = OBJ_txt2nid(gname);
            if (nid != NID_undef) {
                const char *n;

                OBJ_obj2txt(buf, sizeof(buf), OBJ_nid2obj(nid), 1);
                n = known_oid_name(buf);
                snprintf(curve, sizeof(curve), " (%s)", n != NULL ? n : gname);
            }
        }
        break;
    }
    case NID_ED25519:
        alg = "Ed25519", bits = 255;
        break;
    case NID_ED448:
        alg = "Ed448", bits = 448;
        break;
    case NID_X25519:
        alg = "X25519", bits = 255;
        break;
    case NID_X448:
        alg = "X448", bits = 448;
        break;
    default:
        if (o != NULL) {
            oid_text(o, buf, sizeof(buf));
            alg = buf;
        }
        break;
    }
    if (bits < 0)
        snprintf(out, len, "Unknown key size %s", alg);
    else
        snprintf(out, len, "%d-bit %s%s key", bits, alg, curve);
}

void cli_kt_weakness(X509 *x, cli_kt_weak *w)
{
    memset(w, 0, sizeof(*w));
    sig_alg_name(x, w->sig_alg, sizeof(w->sig_alg));
    w->sig_weak = sig_weakness(w->sig_alg);
    key_desc(x, w->key_desc, sizeof(w->key_desc), &w->key_weak);
}

static const char *weak_mark(int weak)
{
    return weak == 2 ? " (disabled)" : weak == 1 ? " (weak)" : "";
}

int cli_kt_format_cert(cli_kt_buf *out, X509 *x, int utf8, cli_kt_weak *weak)
{
    kt k = {out, utf8};
    cli_kt_weak w;

    cli_kt_weakness(x, &w);
    adds(out, "Owner: ");
    add_name(&k, X509_get_subject_name(x));
    adds(out, "\nIssuer: ");
    add_name(&k, X509_get_issuer_name(x));
    adds(out, "\nSerial number: ");
    add_bigint_hex(out, X509_get0_serialNumber(x));
    adds(out, "\nValid from: ");
    cli_kt_format_date(out, X509_get0_notBefore(x));
    adds(out, " until: ");
    cli_kt_format_date(out, X509_get0_notAfter(x));
    adds(out, "\nCertificate fingerprints:\n\t SHA1: ");
    add_fingerprint(out, x, EVP_sha1());
    adds(out, "\n\t SHA256: ");
    add_fingerprint(out, x, EVP_sha256());
    addf(out, "\nSignature algorithm name: %s%s\n", w.sig_alg, weak_mark(w.sig_weak));
    addf(out, "Subject Public Key Algorithm: %s%s\n", w.key_desc, weak_mark(w.key_weak));
    addf(out, "Version: %ld\n", X509_get_version(x) + 1);
    format_extensions(&k, x);
    if (weak != NULL)
        *weak = w;
    return out->oom ? -1 : 0;
}

int cli_kt_locale_utf8(void)
{
    setlocale(LC_CTYPE, "");
    return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

int cli_kt_format_rfc(cli_kt_buf *out, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    char line[80];

    if (n <= 0)
        return -1;
    adds(out, "-----BEGIN CERTIFICATE-----\n");
    /* java.util.Base64 MIME encoder with CRLF separators, then println's "\n" */
    for (int off = 0; off < n; off += 48) {
        int len = n - off < 48 ? n - off : 48;
        int m = EVP_EncodeBlock((unsigned char *)line, der + off, len);

        add(out, line, (size_t)m);
        adds(out, off + 48 < n ? "\r\n" : "\n");
    }
    adds(out, "-----END CERTIFICATE-----\n");
    OPENSSL_free(der);
    return out->oom ? -1 : 0;
}
