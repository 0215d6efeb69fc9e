/* dbtrust probe, network side: TCP with a deadline, PostgreSQL's SSLRequest (or direct TLS with
 * ALPN "postgresql") or MySQL's greeting and SSL request, and a TLS handshake that trusts nothing
 * but keeps the server's chain. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe.h"
#include "probe_mysql.h"

/* ---------------------------------------------------------------- sockets with a deadline */

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when fd is ready for events, 0 at the deadline, -1 on a poll error. */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        double left = deadline - now_mono();
        int r;

        if (left <= 0)
            return 0;
        r = poll(&p, 1, (int)(left * 1000.0) + 1);
        if (r > 0)
            return 1;
        if (r == 0)
            continue; /* the loop re-checks the deadline */
        if (errno != EINTR)
            return -1;
    }
}

int cli_probe_is_ip(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

#ifdef HAVE_PTHREAD_TIMEDJOIN_NP
/* A name lookup run by its own thread, so that the caller can stop waiting at the deadline. */
struct lookup {
    pthread_mutex_t mu;
    const char *name, *port;
    struct addrinfo hints, *res;
    int rc, done, abandoned;
};

static void *lookup_run(void *arg)
{
    struct lookup *l = arg;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(l->name, l->port, &l->hints, &res), abandoned;

    pthread_mutex_lock(&l->mu);
    l->res = res;
    l->rc = rc;
    l->done = 1;
    abandoned = l->abandoned;
    pthread_mutex_unlock(&l->mu);
    if (abandoned) { /* the caller gave up and detached this thread: the lookup is ours */
        if (res != NULL)
            freeaddrinfo(res);
        pthread_mutex_destroy(&l->mu);
        free(l);
    }
    return NULL;
}

/*
 * getaddrinfo() bounded by the deadline: a resolver that never answers would otherwise hold
 * probe for resolv.conf's timeout x attempts x servers, far beyond --timeout. Returns EAI_AGAIN
 * with *timed_out set when the deadline passed first; the abandoned lookup finishes (and frees
 * itself) in its detached thread.
 */
static int resolve(const char *name, const char *port, const struct addrinfo *hints,
                   double deadline, struct addrinfo **res, int *timed_out)
{
    struct lookup *l = calloc(1, sizeof(*l));
    struct timespec until;
    double left = deadline - now_mono();
    pthread_t t;
    int rc;

    *timed_out = 0;
    if (l == NULL)
        return EAI_MEMORY;
    pthread_mutex_init(&l->mu, NULL);
    l->name = name;
    l->port = port;
    l->hints = *hints;
    if (pthread_create(&t, NULL, lookup_run, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        free(l);
        return getaddrinfo(name, port, hints, res);
    }
    clock_gettime(CLOCK_REALTIME, &until); /* pthread_timedjoin_np takes real time */
    if (left > 0) {
        until.tv_sec += (time_t)left;
        until.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    if (pthread_timedjoin_np(t, NULL, &until) != 0) {
        pthread_mutex_lock(&l->mu);
        if (!l->done) {
            l->abandoned = 1;
            pthread_mutex_unlock(&l->mu);
            pthread_detach(t);
            *timed_out = 1;
            return EAI_AGAIN;
        }
        pthread_mutex_unlock(&l->mu);
        pthread_join(t, NULL); /* it finished just after the deadline: take its answer */
    }
    rc = l->rc;
    *res = l->res;
    pthread_mutex_destroy(&l->mu);
    free(l);
    return rc;
}
#else
static int resolve(const char *name, const char *port, const struct addrinfo *hints,
                   double deadline, struct addrinfo **res, int *timed_out)
{
    (void)deadline;
    *timed_out = 0;
    return getaddrinfo(name, port, hints, res);
}
#endif

/* Tries every address of host in turn, like libpq. -1 with why set; *timed_out says whether the
 * deadline was the reason. */
static int probe_connect(const struct probe_opts *o, double deadline, int *fdout, char *peer,
                         size_t peerlen, char *why, size_t whylen)
{
    const char *target = o->addr != NULL ? o->addr : o->host;
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, r, last_errno = 0, timed_out = 0;
    char addr[INET6_ADDRSTRLEN] = "";

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (cli_probe_is_ip(target))
        hints.ai_flags = AI_NUMERICHOST;
    r = resolve(target, o->port, &hints, deadline, &res, &timed_out);
    if (r != 0 && timed_out) {
        snprintf(why, whylen,
                 "cannot resolve '%s': no answer from the name servers within %g s; check "
                 "/etc/resolv.conf and the network, or raise --timeout",
                 target, o->timeout);
        return -1;
    }
    if (r != 0) {
        snprintf(why, whylen, "cannot resolve '%s': %s; check the host name", target,
                 gai_strerror(r));
        return -1;
    }
    for (ai = res; ai != NULL && !timed_out; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno != EINPROGRESS) {
            last_errno = errno;
        } else if ((r = wait_fd(fd, POLLOUT, deadline)) == 0) {
            timed_out = 1;
        } else if (r < 0) {
            last_errno = errno;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
            last_errno = errno;
        } else if (soerr != 0) {
            last_errno = soerr;
        } else {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        snprintf(peer, peerlen, "%s", addr);
        *fdout = fd;
        return 0;
    }
    if (timed_out)
        snprintf(why, whylen,
                 "connection to %s (%s) port %s timed out after %g s: a firewall may drop the "
                 "packets; check the address and port, or raise --timeout",
                 o->host, addr, o->port, o->timeout);
    else if (last_errno == ECONNREFUSED)
        snprintf(why, whylen,
                 "connection to %s (%s) port %s refused: is the server running and listening "
                 "on that address and port (listen_addresses, port)?",
                 o->host, addr, o->port);
    else
        snprintf(why, whylen, "cannot connect to %s (%s) port %s: %s", o->host, addr, o->port,
                 strerror(last_errno));
    return -1;
}

/* Sends all n bytes before the deadline: 0, -1 on an error (errno says which), 1 at the
 * deadline. */
static int send_all(int fd, const unsigned char *buf, size_t n, double deadline)
{
    size_t sent = 0;
    ssize_t r;

    while (sent < n) {
        r = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
        if (r > 0) {
            sent += (size_t)r;
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (wait_fd(fd, POLLOUT, deadline) <= 0)
            return 1;
    }
    return 0;
}

/* PostgreSQL's SSLRequest: length 8, code 1234.5679. 0 when the server answered 'S'. */
static int probe_sslrequest(const struct probe_opts *o, int fd, double deadline, char *why,
                            size_t whylen)
{
    static const unsigned char req[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    unsigned char ans;
    ssize_t n;
    int r;

    if ((r = send_all(fd, req, sizeof(req), deadline)) < 0) {
        snprintf(why, whylen, "sending the SSLRequest to %s port %s failed: %s", o->host, o->port,
                 strerror(errno));
        return -1;
    }
    if (r > 0)
        goto timeout;
    for (;;) {
        n = recv(fd, &ans, 1, 0);
        if (n == 1)
            break;
        /* A reset is a close too: the server closed without reading the request. */
        if (n == 0 || errno == ECONNRESET) {
            snprintf(why, whylen,
                     "%s port %s closed the connection without answering the SSLRequest: it is "
                     "not a PostgreSQL server, or a proxy in front of it refused the connection",
                     o->host, o->port);
            return -1;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(why, whylen, "reading the SSLRequest answer of %s port %s failed: %s", o->host,
                     o->port, strerror(errno));
            return -1;
        }
        if ((r = wait_fd(fd, POLLIN, deadline)) <= 0)
            goto timeout;
    }
    if (ans == 'S')
        return 0;
    if (ans == 'N')
        snprintf(why, whylen,
                 "%s port %s does not accept TLS (it answered 'N' to the SSLRequest): set ssl = on "
                 "with ssl_cert_file and ssl_key_file in postgresql.conf",
                 o->host, o->port);
    else if (ans == 'E')
        snprintf(why, whylen,
                 "%s port %s answered the SSLRequest with an error message: the server refuses "
                 "the connection (too many connections, or a very old PostgreSQL)",
                 o->host, o->port);
    else
        snprintf(why, whylen,
                 "%s port %s is not a PostgreSQL server: it answered byte 0x%02x to the "
                 "SSLRequest (PostgreSQL answers 'S' or 'N'); check the port, or probe "
                 "mysql://%s:%s if it is MySQL or MariaDB",
                 o->host, o->port, ans, o->host, o->port);
    return -1;
timeout:
    snprintf(why, whylen,
             "%s port %s did not answer the SSLRequest within %g s: is it a PostgreSQL server? "
             "(raise --timeout for a slow link)",
             o->host, o->port, o->timeout);
    return -1;
}

/* Reads exactly n bytes before the deadline. 0, or -1 with *closed set when the server closed
 * (or reset) first and errno meaningful otherwise; *timed_out when the deadline passed. */
static int recv_all(int fd, unsigned char *buf, size_t n, double deadline, int *closed,
                    int *timed_out)
{
    size_t got = 0;
    ssize_t r;

    *closed = *timed_out = 0;
    while (got < n) {
        r = recv(fd, buf + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0 || errno == ECONNRESET) {
            *closed = 1;
            return -1;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (wait_fd(fd, POLLIN, deadline) <= 0) {
            *timed_out = 1;
            return -1;
        }
    }
    return 0;
}

/*
 * MySQL's TLS upgrade, as the mysql and mariadb clients do it: the server speaks first with its
 * greeting; a client that wants TLS answers with the SSL request (the start of its handshake
 * response, CLIENT_SSL set) and starts TLS on the same connection. At most
 * PROBE_MYSQL_MAX_GREETING bytes are read.
 */
static int probe_mysql(const struct probe_opts *o, int fd, double deadline, struct probe_conn *c,
                       char *why, size_t whylen)
{
    unsigned char hdr[4], *payload = NULL, req[PROBE_MYSQL_SSLREQ_LEN];
    struct probe_mysql_greeting g;
    char reason[768];
    size_t len = 0;
    int closed, timed_out, r, ret = -1;

    if (recv_all(fd, hdr, sizeof(hdr), deadline, &closed, &timed_out) != 0)
        goto io_error;
    if (cli_probe_mysql_header(hdr, &len, &g.seq, reason, sizeof(reason)) != 0) {
        snprintf(why, whylen,
                 "%s port %s is not a MySQL or MariaDB server: %s; check the port (a "
                 "PostgreSQL server is probed as postgresql://)",
                 o->host, o->port, reason);
        return -1;
    }
    if ((payload = malloc(len)) == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (recv_all(fd, payload, len, deadline, &closed, &timed_out) != 0)
        goto io_error;
    switch (cli_probe_mysql_greeting(payload, len, &g, reason, sizeof(reason))) {
    case PROBE_MYSQL_OK:
        break;
    case PROBE_MYSQL_ERROR:
        snprintf(why, whylen,
                 "%s port %s: %s (before any TLS: a blocked host or too many connections is "
                 "fixed on the server)",
                 o->host, o->port, reason);
        goto end;
    default:
        snprintf(why, whylen, "%s port %s is not a MySQL or MariaDB server: %s", o->host, o->port,
                 reason);
        goto end;
    }
    snprintf(c->server, sizeof(c->server), "%s", g.version);
    if (!(g.caps & PROBE_MYSQL_CLIENT_SSL)) {
        snprintf(why, whylen,
                 "%s port %s (server %s) does not offer TLS (no CLIENT_SSL in its greeting): "
                 "set ssl_cert and ssl_key in the server's configuration (have_ssl must be YES)",
                 o->host, o->port, g.version);
        goto end;
    }
    cli_probe_mysql_sslrequest(&g, req);
    if ((r = send_all(fd, req, sizeof(req), deadline)) < 0) {
        snprintf(why, whylen, "sending the SSL request to %s port %s failed: %s", o->host, o->port,
                 strerror(errno));
        goto end;
    }
    if (r > 0) {
        snprintf(why, whylen, "sending the SSL request to %s port %s timed out after %g s", o->host,
                 o->port, o->timeout);
        goto end;
    }
    ret = 0;
    goto end;
io_error:
    if (timed_out)
        snprintf(why, whylen,
                 "%s port %s sent no MySQL greeting within %g s: is it a MySQL or MariaDB "
                 "server? (a PostgreSQL server waits for the client: probe it as "
                 "postgresql://; raise --timeout for a slow link)",
                 o->host, o->port, o->timeout);
    else if (closed)
        snprintf(why, whylen,
                 "%s port %s closed the connection %s: it is not a MySQL or MariaDB server, or a "
                 "proxy in front of it refused the connection",
                 o->host, o->port, len == 0 ? "before its greeting" : "inside its greeting");
    else
        snprintf(why, whylen, "reading the greeting of %s port %s failed: %s", o->host, o->port,
                 strerror(errno));
end:
    free(payload);
    return ret;
}

static void ossl_reason(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
        snprintf(buf, n, "no OpenSSL error recorded");
    else
        ERR_error_string_n(e, buf, n);
    ERR_clear_error();
}

/* The TLS handshake, trusting nothing but collecting the chain. */
static int probe_tls(const struct probe_opts *o, int fd, double deadline, struct probe_conn *c,
                     char *why, size_t whylen)
{
    static const unsigned char alpn[] = "\x0apostgresql";
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    STACK_OF(X509) * sk;
    const unsigned char *sel = NULL;
    unsigned int sellen = 0;
    const char *sni = o->sni != NULL ? o->sni : (cli_probe_is_ip(o->host) ? "" : o->host);
    int ret = -1, r, i;
    char reason[256];

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL || (ssl = SSL_new(ctx)) == NULL) {
        ossl_reason(reason, sizeof(reason));
        snprintf(why, whylen, "cannot set up TLS: %s", reason);
        goto end;
    }
    /* The chain is judged afterwards, against each store, so that every problem is named. */
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    /* libpq's default ssl_min_protocol_version. */
    SSL_set_min_proto_version(ssl, TLS1_2_VERSION);
    /* libpq 17 sends ALPN "postgresql" on both paths; direct TLS requires it. MySQL clients
     * send none. */
    if (o->proto == PROBE_POSTGRESQL)
        SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1);
    if (*sni != '\0')
        SSL_set_tlsext_host_name(ssl, sni);
    SSL_set_fd(ssl, fd);
    for (;;) {
        r = SSL_connect(ssl);
        if (r == 1)
            break;
        switch (SSL_get_error(ssl, r)) {
        case SSL_ERROR_WANT_READ:
            r = wait_fd(fd, POLLIN, deadline);
            break;
        case SSL_ERROR_WANT_WRITE:
            r = wait_fd(fd, POLLOUT, deadline);
            break;
        case SSL_ERROR_SSL:
            /* An end of stream is the server closing, not a TLS protocol problem. */
            if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
                goto closed;
            ossl_reason(reason, sizeof(reason));
            snprintf(why, whylen, "TLS handshake with %s port %s failed: %s%s", o->host, o->port,
                     reason,
                     o->direct ? " (direct TLS needs PostgreSQL 17 or later; try without --direct)"
                               : "");
            goto end;
        default:
        closed:
            snprintf(why, whylen, "%s port %s closed the connection during the TLS handshake%s",
                     o->host, o->port,
                     o->direct ? ": direct TLS needs PostgreSQL 17 or later; try without --direct"
                     : o->proto == PROBE_MYSQL
                         ? " (after offering TLS): check the server's log, its ssl_cert and "
                           "ssl_key, and its tls_version"
                         : " (after accepting TLS): check the server's log and its "
                           "ssl_cert_file and ssl_key_file, or a proxy in front of it");
            ERR_clear_error();
            goto end;
        }
        if (r == 0) {
            snprintf(why, whylen, "TLS handshake with %s port %s timed out after %g s", o->host,
                     o->port, o->timeout);
            goto end;
        }
        if (r < 0) {
            snprintf(why, whylen, "waiting for %s port %s failed: %s", o->host, o->port,
                     strerror(errno));
            goto end;
        }
    }
    sk = SSL_get_peer_cert_chain(ssl);
    if (sk == NULL || sk_X509_num(sk) == 0) {
        snprintf(why, whylen, "%s port %s sent no certificate", o->host, o->port);
        goto end;
    }
    if ((c->chain = sk_X509_new_null()) == NULL)
        goto end;
    for (i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);

        if (!sk_X509_push(c->chain, x)) {
            snprintf(why, whylen, "out of memory");
            goto end;
        }
        X509_up_ref(x);
    }
    snprintf(c->version, sizeof(c->version), "%s", SSL_get_version(ssl));
    snprintf(c->cipher, sizeof(c->cipher), "%s", SSL_get_cipher_name(ssl));
    SSL_get0_alpn_selected(ssl, &sel, &sellen);
    snprintf(c->alpn, sizeof(c->alpn), "%.*s", (int)sellen, sel != NULL ? (const char *)sel : "");
    SSL_shutdown(ssl); /* best effort; the socket is closed right after */
    ret = 0;
end:
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return ret;
}

/*
 * OpenSSL writes to the socket with write(2), which raises SIGPIPE when the server has closed
 * the connection (an 'S' answer and then a close kills the process with no word). The signal
 * is blocked in this thread for the socket's lifetime and one raised meanwhile is taken back,
 * as libpq does: the failed write then comes back as EPIPE and is reported like any other
 * failure. Standard output keeps its normal SIGPIPE behaviour outside this window.
 */
struct sigpipe_guard {
    sigset_t old;
    int was_pending, blocked;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    g->blocked = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    struct timespec zero = {0, 0};

    if (!g->blocked)
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    /* Consume only a SIGPIPE that this window raised, not one that was waiting already. */
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

int cli_probe_connect(const struct probe_opts *o, struct probe_conn *c, char *why, size_t whylen)
{
    double deadline = now_mono() + o->timeout;
    struct sigpipe_guard guard;
    int fd = -1, ret;

    if (probe_connect(o, deadline, &fd, c->peer, sizeof(c->peer), why, whylen) != 0)
        return -1;
    sigpipe_block(&guard);
    if (o->proto == PROBE_MYSQL)
        ret = probe_mysql(o, fd, deadline, c, why, whylen);
    else
        ret = o->direct ? 0 : probe_sslrequest(o, fd, deadline, why, whylen);
    if (ret == 0)
        ret = probe_tls(o, fd, deadline, c, why, whylen);
    close(fd);
    sigpipe_restore(&guard);
    return ret;
}
