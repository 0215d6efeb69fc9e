/* dbtrust probe, MySQL side: the server greeting (HandshakeV10) parsed with every length
 * checked, and the SSL request that starts TLS; no I/O here (cli/probe_net.c does it). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "probe_mysql.h"

int cli_probe_mysql_header(const unsigned char hdr[4], size_t *len, unsigned *seq, char *why,
                           size_t whylen)
{
    *len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16;
    *seq = hdr[3];
    if (*len == 0) {
        snprintf(why, whylen, "it sent an empty packet where MySQL sends its greeting");
        return -1;
    }
    if (*len > PROBE_MYSQL_MAX_GREETING) {
        snprintf(why, whylen,
                 "its first packet announces %zu bytes; a MySQL greeting is under %d bytes", *len,
                 PROBE_MYSQL_MAX_GREETING);
        return -1;
    }
    return 0;
}

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* The error packet a server sends instead of a greeting (host blocked, too many connections):
 * 0xff, a 2-byte code, an optional '#' and 5-byte SQL state, then the message to the end. */
static enum probe_mysql_result error_packet(const unsigned char *p, size_t len, char *why,
                                            size_t whylen)
{
    char msg[512];
    size_t off = 3;

    if (len < 3) {
        snprintf(why, whylen, "it sent a truncated error packet (%zu bytes)", len);
        return PROBE_MYSQL_BAD;
    }
    if (len >= 9 && p[3] == '#')
        off = 9;
    dbt_escape((const char *)p + off, len - off, msg, sizeof(msg));
    snprintf(why, whylen, "the server refused the connection with error %u: %s", le16(p + 1), msg);
    return PROBE_MYSQL_ERROR;
}

enum probe_mysql_result cli_probe_mysql_greeting(const unsigned char *p, size_t len,
                                                 struct probe_mysql_greeting *g, char *why,
                                                 size_t whylen)
{
    const unsigned char *nul;
    size_t off, vlen;

    g->protocol = 0;
    g->version[0] = '\0';
    g->caps = 0;
    g->charset = 0;
    if (len > PROBE_MYSQL_MAX_GREETING)
        len = PROBE_MYSQL_MAX_GREETING;
    if (len == 0) {
        snprintf(why, whylen, "it sent an empty greeting");
        return PROBE_MYSQL_BAD;
    }
    if (p[0] == 0xff)
        return error_packet(p, len, why, whylen);
    g->protocol = p[0];
    if (p[0] != 10) {
        snprintf(why, whylen,
                 "its greeting has protocol version %u (MySQL and MariaDB send 10; 9 is MySQL "
                 "before 3.22, which has no TLS)",
                 p[0]);
        return PROBE_MYSQL_BAD;
    }
    /* Server version: NUL-terminated inside the packet. */
    nul = memchr(p + 1, '\0', len - 1);
    if (nul == NULL) {
        snprintf(why, whylen, "its greeting is truncated inside the server version");
        return PROBE_MYSQL_BAD;
    }
    vlen = (size_t)(nul - (p + 1));
    dbt_escape((const char *)p + 1, vlen, g->version, sizeof(g->version));
    off = 1 + vlen + 1;
    /* thread id (4), auth-plugin-data part 1 (8), filler (1), capability flags low (2) */
    if (len - off < 4 + 8 + 1 + 2) {
        snprintf(why, whylen,
                 "its greeting (server version '%s') is truncated before the capability flags",
                 g->version);
        return PROBE_MYSQL_BAD;
    }
    off += 4 + 8 + 1;
    g->caps = le16(p + off);
    off += 2;
    /* Optional since protocol 10's start: charset (1), status (2), capability flags high (2). */
    if (len - off >= 1 + 2 + 2) {
        g->charset = p[off];
        g->caps |= le16(p + off + 3) << 16;
    } else if (len - off >= 1) {
        g->charset = p[off];
    }
    return PROBE_MYSQL_OK;
}

void cli_probe_mysql_sslrequest(const struct probe_mysql_greeting *g,
                                unsigned char out[PROBE_MYSQL_SSLREQ_LEN])
{
    /* The capabilities every client since MySQL 4.1 asks for, plus SSL; the client stops after
     * the handshake, so nothing else it could claim matters. */
    uint32_t caps = PROBE_MYSQL_CLIENT_LONG_PASSWORD | PROBE_MYSQL_CLIENT_PROTOCOL_41 |
                    PROBE_MYSQL_CLIENT_SSL | PROBE_MYSQL_CLIENT_SECURE_CONNECTION |
                    PROBE_MYSQL_CLIENT_PLUGIN_AUTH;
    uint32_t maxpkt = 16u * 1024 * 1024;
    unsigned charset = g->charset != 0 ? g->charset : 33; /* utf8_general_ci */

    memset(out, 0, PROBE_MYSQL_SSLREQ_LEN);
    out[0] = 32; /* payload length, 3 bytes */
    out[3] = (unsigned char)((g->seq + 1) & 0xff);
    out[4] = (unsigned char)(caps & 0xff);
    out[5] = (unsigned char)(caps >> 8 & 0xff);
    out[6] = (unsigned char)(caps >> 16 & 0xff);
    out[7] = (unsigned char)(caps >> 24 & 0xff);
    out[8] = (unsigned char)(maxpkt & 0xff);
    out[9] = (unsigned char)(maxpkt >> 8 & 0xff);
    out[10] = (unsigned char)(maxpkt >> 16 & 0xff);
    out[11] = (unsigned char)(maxpkt >> 24 & 0xff);
    out[12] = (unsigned char)(charset & 0xff);
    /* 23 bytes of filler, already zero */
}
