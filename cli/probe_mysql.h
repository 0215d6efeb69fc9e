/* dbtrust probe, MySQL side (cli/probe_mysql.c): the bytes of MySQL's TLS upgrade, parsed and
 * built without any I/O so that a unit test can feed them hostile input. */
#ifndef CLI_PROBE_MYSQL_H
#define CLI_PROBE_MYSQL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Largest greeting payload accepted, in bytes. Real greetings are under 200 bytes (MySQL 8,
 * MariaDB 11, Aurora MySQL 3); anything longer is refused before it is read, so a hostile
 * server costs at most this much memory and reading.
 */
#define PROBE_MYSQL_MAX_GREETING 4096

/* Capability bits of the protocol (include/mysql_com.h of MySQL and MariaDB). */
#define PROBE_MYSQL_CLIENT_LONG_PASSWORD 0x00000001u
#define PROBE_MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define PROBE_MYSQL_CLIENT_SSL 0x00000800u
#define PROBE_MYSQL_CLIENT_SECURE_CONNECTION 0x00008000u
#define PROBE_MYSQL_CLIENT_PLUGIN_AUTH 0x00080000u

/* The SSL request: a 4-byte packet header and the 32-byte start of HandshakeResponse41. */
#define PROBE_MYSQL_SSLREQ_LEN 36

struct probe_mysql_greeting {
    unsigned protocol; /* 10 for every server since MySQL 3.22 */
    char version[128]; /* server version, escaped (the server chose it), cut to fit */
    uint32_t caps;     /* capability flags (upper half 0 when the greeting is short) */
    unsigned charset;  /* the server's default collation id, 0 when absent */
    unsigned seq;      /* sequence id of the greeting packet */
};

/* What cli_probe_mysql_greeting found. */
enum probe_mysql_result {
    PROBE_MYSQL_OK = 0,
    PROBE_MYSQL_BAD = -1,   /* not a MySQL greeting: why says what is wrong with it */
    PROBE_MYSQL_ERROR = -2, /* the server sent an error packet: why holds its code and text */
};

/*
 * The 4-byte packet header: payload length (3 bytes little-endian) and sequence id. -1 with why
 * set when the length is 0 or above PROBE_MYSQL_MAX_GREETING (the caller reads no further).
 */
int cli_probe_mysql_header(const unsigned char hdr[4], size_t *len, unsigned *seq, char *why,
                           size_t whylen);

/*
 * Parses a greeting payload of len bytes (at most PROBE_MYSQL_MAX_GREETING are looked at). Every
 * field is bounds-checked; a truncated or malformed greeting is PROBE_MYSQL_BAD, an error packet
 * (first byte 0xff) PROBE_MYSQL_ERROR, with why saying which in words. Strings from the server
 * are escaped in g->version and in why.
 */
enum probe_mysql_result cli_probe_mysql_greeting(const unsigned char *p, size_t len,
                                                 struct probe_mysql_greeting *g, char *why,
                                                 size_t whylen);

/* The SSL request packet that answers greeting g, as the mysql and mariadb clients send it. */
void cli_probe_mysql_sslrequest(const struct probe_mysql_greeting *g,
                                unsigned char out[PROBE_MYSQL_SSLREQ_LEN]);

#endif
