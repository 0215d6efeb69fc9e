#!/usr/bin/env python3
"""Hostile test inputs for tests/cli-escape.sh: text that would drive a terminal if printed raw.

  hostile.py cert TEMPLATE.der utf8|malformed OUT.der
      Rewrites a certificate made by `openssl req` with the placeholder names below: the CN
      (UTF8String) gets ESC/BEL/CR/LF/DEL/CSI(U+009B)/U+202E as well-formed UTF-8 ("utf8") or
      malformed UTF-8 ("malformed"), the O becomes a T61String with raw C1 bytes, the OU a
      BMPString with ESC and U+009B, the SAN DNS name and URI get ESC and BEL. Lengths stay
      the same, so only the signature stops matching (nothing under test checks it).
  hostile.py jks OUT.jks ALIAS_HEX CERT.der PASSWORD
      A JKS truststore with one trusted certificate entry under the given alias bytes.
  hostile.py scan [--crlf] FILE...
      Exit 1 (naming file and offset) when a file holds a raw C0 control other than newline and
      tab (CR also allowed before LF with --crlf), DEL, a C1 control (U+0080-U+009F), a bidi
      override/isolate or line separator, or bytes that are not UTF-8.
"""
import hashlib
import struct
import sys

CN, O, OU, DNS, URI = b"Q" * 24, b"R" * 24, b"S" * 24, b"d" * 24, b"u" * 24

HOSTILE_CN = {
    "utf8": b"\x1b[31mRED\x07\r\n\x7f\xc2\x9b2J\xe2\x80\xae",
    "malformed": b"bad\xff\xfe\xc0\x80\xed\xa0\x80\x9b[1m\xc2",
}
# T61String is Latin-1 to OpenSSL and Java: 0x9b is CSI, 0x85 NEL once converted.
HOSTILE_O = b"T61\x9b[1m\x1b\x85"
HOSTILE_OU = "\x1b[4mBMP\u009b\u202e".encode("utf-16-be")
HOSTILE_DNS = b"\x1b[32mdns\x07.example"
HOSTILE_URI = b"\x1b]0;title\x07\x9b"


def pad(b, n):
    assert len(b) <= n, b
    return b + b"x" * (n - len(b))


def patch(der, old, new, tag=None):
    """Replaces every TLV content equal to old (same length), optionally changing its tag."""
    out, count, at = bytearray(der), 0, 0
    while True:
        at = der.find(old, at)
        if at < 0:
            break
        assert der[at - 1] == len(old), "placeholder is not a short-form TLV"
        out[at:at + len(old)] = new
        if tag is not None:
            out[at - 2] = tag
        count += 1
        at += len(old)
    assert count > 0, old
    return bytes(out)


def cert(argv):
    tpl, mode, out = argv
    der = open(tpl, "rb").read()
    der = patch(der, CN, pad(HOSTILE_CN[mode], len(CN)))
    der = patch(der, O, pad(HOSTILE_O, len(O)), tag=0x14)
    der = patch(der, OU, pad(HOSTILE_OU, len(OU)), tag=0x1E)
    der = patch(der, DNS, pad(HOSTILE_DNS, len(DNS)))
    der = patch(der, URI, pad(HOSTILE_URI, len(URI)))
    open(out, "wb").write(der)
    return 0


def jks(argv):
    out, alias_hex, cert_file, password = argv
    alias = bytes.fromhex(alias_hex)
    der = open(cert_file, "rb").read()
    body = struct.pack(">III", 0xFEEDFEED, 2, 1)
    body += struct.pack(">I", 2) + struct.pack(">H", len(alias)) + alias
    body += struct.pack(">Q", 1700000000000)
    body += struct.pack(">H", 5) + b"X.509" + struct.pack(">I", len(der)) + der
    md = hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
    open(out, "wb").write(body + md)
    return 0


def bad_at(data, crlf):
    """Offset of the first byte that must not reach a terminal raw, or -1."""
    i = 0
    while i < len(data):
        c = data[i]
        if c < 0x80:
            if c == 0x0D and crlf and data[i + 1:i + 2] == b"\n":
                i += 1
                continue
            if (c < 0x20 and c not in (0x0A, 0x09)) or c == 0x7F:
                return i
            i += 1
            continue
        n = 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
        try:
            ch = data[i:i + n].decode("utf-8") if n else None
        except UnicodeDecodeError:
            ch = None
        if ch is None or len(ch) != 1:
            return i
        cp = ord(ch)
        if 0x80 <= cp <= 0x9F or cp in (0x2028, 0x2029) or 0x202A <= cp <= 0x202E or \
                0x2066 <= cp <= 0x2069:
            return i
        i += n
    return -1


def scan(argv):
    crlf = False
    if argv and argv[0] == "--crlf":
        crlf, argv = True, argv[1:]
    rc = 0
    for f in argv:
        data = open(f, "rb").read()
        at = bad_at(data, crlf)
        if at >= 0:
            print("%s: raw control or malformed byte 0x%02x at offset %d: %r" %
                  (f, data[at], at, data[max(0, at - 30):at + 10]))
            rc = 1
    return rc


def main(argv):
    cmds = {"cert": (cert, 3), "jks": (jks, 4), "scan": (scan, None)}
    if not argv or argv[0] not in cmds or (cmds[argv[0]][1] is not None and
                                           len(argv) - 1 != cmds[argv[0]][1]):
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[0]][0](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
