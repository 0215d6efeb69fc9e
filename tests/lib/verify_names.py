#!/usr/bin/env python3
"""Checks dbtrust verify's output about a hostile name (tests/catalog-safety.sh).

usage: verify_names.py OUT ERR PATH
OUT, ERR: verify's standard output and error; PATH: the file the problems are about.
Fails (exit 1, saying why) when a byte that can drive a terminal is in OUT or ERR (C0 controls
but the line ends, DEL, C1 controls, bidi and line separators, malformed UTF-8), when a line of
OUT is not a problem or summary line (a raw newline in a name would start one), or when no
line names PATH escaped. Prints each suggested command (the text in "remove it (...)"),
NUL-terminated, for the caller to run.
"""
import re
import sys

UNSAFE = set(range(0x20)) - {0x0A} | {0x7F}


def escaped(raw):
    out = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        cp = ord(ch)
        bad = (cp < 0x20 or 0x7F <= cp <= 0x9F or cp in (0x2028, 0x2029)
               or 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069 or 0xD800 <= cp <= 0xDFFF)
        if bad:
            b = ch.encode("utf-8", "surrogateescape")
            out.append("".join("\\x%02x" % x for x in b))
        else:
            out.append(ch)
    return "".join(out)


def main():
    out = open(sys.argv[1], "rb").read()
    err = open(sys.argv[2], "rb").read()
    path = sys.argv[3].encode("utf-8", "surrogateescape")
    for name, data in (("stdout", out), ("stderr", err)):
        if any(b in UNSAFE for b in data):
            sys.exit("raw control byte on %s: %r" % (name, data[:600]))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            sys.exit("malformed UTF-8 on %s: %r" % (name, data[:600]))
        for ch in text:
            cp = ord(ch)
            if 0x80 <= cp <= 0x9F or cp in (0x2028, 0x2029) or 0x202A <= cp <= 0x202E \
                    or 0x2066 <= cp <= 0x2069:
                sys.exit("raw U+%04X on %s: %r" % (cp, name, text[:600]))
    lines = out.decode().splitlines()
    for line in lines:
        if not line.startswith(("problem: ", "catalog ")):
            sys.exit("a line that is neither a problem nor the summary: %r" % line)
    want = escaped(path)
    if not any(want in line for line in lines):
        sys.exit("no line names %r; output: %r" % (want, out[:600]))
    for line in lines:
        if want not in line:
            continue
        m = re.search(r"remove it \((.*)\)( and import again| or import again)?$", line)
        if m:
            sys.stdout.buffer.write(m.group(1).encode() + b"\0")


main()
