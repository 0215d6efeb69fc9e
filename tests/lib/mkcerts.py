#!/usr/bin/env python3
"""Makes many distinct certificates fast for tests/huge-inputs.sh: copies of one DER template
whose 16-byte serial 7e7e..7e is rewritten with a counter. The signatures no longer match
(nothing that reads huge inputs checks them); subjects stay the same.
Usage: mkcerts.py TEMPLATE.der COUNT OUT.pem"""
import base64
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tpl = open(argv[0], "rb").read()
    at = tpl.find(bytes.fromhex("7e" * 16))
    if at < 0:
        print("mkcerts.py: %s has no serial 7e7e...7e" % argv[0], file=sys.stderr)
        return 1
    with open(argv[2], "w") as out:
        for i in range(int(argv[1])):
            der = tpl[:at] + b"\x7e" + i.to_bytes(15, "big") + tpl[at + 16:]
            b = base64.b64encode(der).decode()
            out.write("-----BEGIN CERTIFICATE-----\n")
            out.write("\n".join(b[j:j + 64] for j in range(0, len(b), 64)))
            out.write("\n-----END CERTIFICATE-----\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
