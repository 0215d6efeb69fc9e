/* dbtrust probe, network side (cli/probe_net.c): reach a PostgreSQL server as libpq does, or a
 * MySQL/MariaDB server as its clients do, and bring back the chain it sends; the judging is in
 * cli/probe.c. */
#ifndef CLI_PROBE_H
#define CLI_PROBE_H

#include <netinet/in.h>

#include <openssl/x509.h>

/* The database protocol whose TLS upgrade is spoken. */
enum probe_proto {
    PROBE_POSTGRESQL, /* SSLRequest, or direct TLS with ALPN "postgresql" */
    PROBE_MYSQL,      /* server greeting, SSL request (MySQL, MariaDB, Aurora MySQL) */
};

struct probe_opts {
    enum probe_proto proto;
    char host[256];   /* the name the client checks (libpq's host=, mysql's --host) */
    char port[8];     /* decimal */
    const char *addr; /* --hostaddr: where to connect instead of resolving host */
    const char *sni;  /* --sni; NULL: host unless it is an IP address */
    double timeout;   /* seconds for the whole probe */
    int direct, json;
};

/* What the server sent and how the TLS session went. */
struct probe_conn {
    STACK_OF(X509) * chain; /* as sent, leaf first; owned */
    char version[32], cipher[128], alpn[64], peer[INET6_ADDRSTRLEN + 8];
    char server[128]; /* MySQL: the server version of its greeting, escaped; else "" */
};

/* True when s is an IPv4 or IPv6 address literal (no SNI is sent; the name check is by IP). */
int cli_probe_is_ip(const char *s);

/* Connects (every address in turn, non-blocking, bounded by o->timeout for the whole exchange),
 * sends the SSLRequest unless o->direct (MySQL: reads the greeting and sends the SSL request),
 * completes the TLS handshake without verifying anything
 * and fills c (release c->chain with sk_X509_pop_free). 0, or -1 with why saying what failed
 * and what to check. */
int cli_probe_connect(const struct probe_opts *o, struct probe_conn *c, char *why, size_t whylen);

#endif
