#!/usr/bin/env python3
"""Rewrites the trust settings of a TRUSTED CERTIFICATE block (tests/cli-trust.sh), making what
`openssl x509 -trustout` cannot: a trust or reject list that is present but empty. OpenSSL's
X509_check_trust reads a present trust list, even an empty one, as "trusted for these purposes
only" (so an empty one rejects every purpose), while an absent one leaves the certificate to the
default trust of self-signed certificates; -clrtrust removes the list instead of emptying it.

  trustaux.py IN.pem OUT.pem OP...
      IN.pem holds one TRUSTED CERTIFICATE block (DER certificate, then X509_CERT_AUX:
      SEQUENCE { trust SEQUENCE OF OID OPTIONAL, reject [0] IMPLICIT SEQUENCE OF OID OPTIONAL,
      alias UTF8String OPTIONAL, keyid OCTET STRING OPTIONAL, other [1] ... OPTIONAL }).
      OP: empty-trust (the trust list present and empty, added when absent), empty-reject (the
      same for the reject list), drop-trust, drop-reject (removed).
"""
import base64
import re
import sys


def read_len(b, at):
    """(length, offset of the contents) of the TLV whose length octets start at at."""
    n = b[at]
    if n < 0x80:
        return n, at + 1
    k = n & 0x7F
    assert 1 <= k <= 4, "unsupported DER length"
    return int.from_bytes(b[at + 1:at + 1 + k], "big"), at + 1 + k


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + ln + content


def elements(b):
    """The TLVs of b, each as (tag, whole encoding)."""
    out, at = [], 0
    while at < len(b):
        n, c = read_len(b, at + 1)
        out.append((b[at], b[at:c + n]))
        at = c + n
    assert at == len(b), "trailing bytes"
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    text = open(argv[0]).read()
    m = re.search(r"-----BEGIN TRUSTED CERTIFICATE-----(.*?)-----END TRUSTED CERTIFICATE-----",
                  text, re.S)
    assert m, "no TRUSTED CERTIFICATE block"
    der = base64.b64decode("".join(m.group(1).split()))
    n, c = read_len(der, 1)
    cert, aux = der[:c + n], der[c + n:]
    if aux:
        assert aux[0] == 0x30, "the auxiliary data is not a SEQUENCE"
        an, ac = read_len(aux, 1)
        parts = elements(aux[ac:ac + an])
    else:
        parts = []
    for op in argv[2:]:
        what, tag = {"trust": ("trust", 0x30), "reject": ("reject", 0xA0)}[op.split("-", 1)[1]]
        parts = [p for p in parts if p[0] != tag]
        if op.startswith("empty-"):
            parts.append((tag, tlv(tag, b"")))
        else:
            assert op.startswith("drop-"), op
    # DER order of X509_CERT_AUX: trust, reject, alias, keyid, other.
    order = {0x30: 0, 0xA0: 1, 0x0C: 2, 0x04: 3, 0xA1: 4}
    parts.sort(key=lambda p: order[p[0]])
    out = cert + tlv(0x30, b"".join(p[1] for p in parts))
    b64 = base64.b64encode(out).decode()
    with open(argv[1], "w") as f:
        f.write("-----BEGIN TRUSTED CERTIFICATE-----\n")
        f.write("\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)))
        f.write("\n-----END TRUSTED CERTIFICATE-----\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
