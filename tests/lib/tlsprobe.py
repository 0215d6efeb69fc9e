#!/usr/bin/env python3
"""TLS probe for tests/e2e-system.sh: connects with ssl.create_default_context() (OpenSSL's
default verify paths, what most Python clients use) and prints "verified" or why not.
Usage: tlsprobe.py [--postgres] HOSTNAME ADDRESS PORT
--postgres first sends PostgreSQL's SSLRequest, so the probe can reach a PostgreSQL server."""
import socket
import ssl
import struct
import sys


def main(argv):
    pg = len(argv) > 0 and argv[0] == "--postgres"
    if pg:
        argv = argv[1:]
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    host, addr, port = argv[0], argv[1], int(argv[2])
    ctx = ssl.create_default_context()
    with socket.create_connection((addr, port), timeout=15) as sock:
        if pg:
            sock.sendall(struct.pack("!ii", 8, 80877103))
            if sock.recv(1) != b"S":
                print("the PostgreSQL server at %s:%d refused TLS" % (addr, port))
                return 1
        try:
            with ctx.wrap_socket(sock, server_hostname=host) as tls:
                print("verified %s %s" % (host, tls.version()))
        except ssl.SSLCertVerificationError as e:
            print("certificate verify failed: %s" % e.verify_message)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
