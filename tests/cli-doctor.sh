#!/usr/bin/env bash
# dbtrust doctor: the host's libpq and its libcrypto (OpenSSL 3.0, OPENSSLDIR /usr/lib/ssl) before
# and after `system enable` and after `disable`, in a private mount namespace (tests/lib/sysiso.sh);
# --root on the Debian 13 root (libpq 17 -> OpenSSL 3.5) and on made-up roots: a Python package's
# bundled libcrypto, links that point out of the root, hostile ELF files (an error naming the
# file, no crash: under valgrind here, under ASan+UBSan in the sanitizer pass), escaped names;
# the JVM store (a copy of the real cacerts, a catalog CA added with keytool, a scoped bundle);
# the JSON output (python3 -m json.tool and its fields).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF DBTRUST_SYSTEM_CERT_DIR \
    DBTRUST_SYSTEM_CERT_FILE DBTRUST_SYSTEM_STATE DBTRUST_SYSTEM_JVM_STORE
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}
case $DBTRUST in /*) ;; *) DBTRUST=$PWD/$DBTRUST ;; esac
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"
. "$src/tests/lib/trixie.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-doctor.XXXXXX") || exit 1
trap 'dbt_cleanup_run; rm -rf "$w"' EXIT
chmod 755 "$w"
pki=$w/pki
dbt_demo_pki "$pki" db.demo.internal >/dev/null 2>&1 || { echo "Bail out! demo PKI failed"; exit 1; }
export DBTRUST_CATALOG=$w/catalog
"$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem" || { echo "Bail out! import"; exit 1; }

# The host's libpq and the libcrypto it loads (what ldd says; doctor must find the same file).
hostpq=$(ldconfig -p | awk '$1 == "libpq.so.5" { print $NF; exit }')
hostcrypto=$(readlink -f /usr/lib/x86_64-linux-gnu/libcrypto.so.3 2>/dev/null)
[ -n "$hostpq" ] && [ -f "$hostcrypto" ] || {
    echo "Bail out! no libpq.so.5 or libcrypto.so.3 on this host (apt-get install libpq5)"
    exit 1
}
hostssldir=$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')

# doctor as built; with under_valgrind set, under valgrind in the normal pass (memory errors exit
# 99; the sanitizer pass has ASan and UBSan built in). A crash is never an exit status of 1.
run_doctor() {
    local t=()
    [ "${1:-}" = timeout ] && { t=(timeout "$2"); shift 2; }
    if [ -n "${under_valgrind:-}" ] && [ -z "${DBTRUST_SANITIZED:-}" ] &&
        command -v valgrind >/dev/null; then
        "${t[@]}" valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite "$DBTRUST" doctor "$@"
    elif [ -n "${DBTRUST_SANITIZED:-}" ]; then
        # A sanitizer report must not pass for doctor's own exit status 1.
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99 \
            UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=99 \
            "${t[@]}" "$DBTRUST" doctor "$@"
    else
        "${t[@]}" "$DBTRUST" doctor "$@"
    fi
}
# expect_rc NAME RC PATTERN ARGS...: doctor's exit status is RC and its output holds PATTERN.
expect_rc() {
    local name=$1 want=$2 pat=$3 rc
    shift 3
    out=$(run_doctor "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        not_ok "$name: exit status $rc, wanted $want; output: ${out:0:3000}"
    elif [ -n "$pat" ] && ! grep -qF -- "$pat" <<<"$out"; then
        not_ok "$name: output lacks '$pat'; output: ${out:0:3000}"
    else
        ok "$name"
    fi
}
# jq-like checks of doctor's JSON: json_check NAME PYTHON-EXPR ARGS... (d is the document).
json_check() {
    local name=$1 expr=$2 js
    shift 2
    js=$("$DBTRUST" doctor --json "$@" 2>/dev/null)
    if ! python3 -m json.tool <<<"$js" >/dev/null 2>&1; then
        not_ok "$name: not JSON: ${js:0:2000}"
    elif python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if ('"$expr"') else 1)' \
        <<<"$js"; then
        ok "$name"
    else
        not_ok "$name: $expr is false in: ${js:0:3000}"
    fi
}

# ---- hostile ELF files: an error naming the file, never a crash or an unbounded read
hostile=$w/hostile
mkdir -p "$hostile/etc" "$hostile/usr/lib/python3.11/site-packages/psycopg2_binary.libs"
i=0
for kind in truncated phnum phoff dynsize needed strsz notelf nneeded elf32 msb; do
    i=$((i + 1))
    mkdir -p "$hostile/usr/lib/postgresql/9$i/lib"
done
python3 - "$hostpq" "$hostile" <<'EOF' || { echo "Bail out! crafting hostile ELF files failed"; exit 1; }
import struct, sys
src, root = sys.argv[1], sys.argv[2]
data = bytearray(open(src, 'rb').read())
def put(n, b):
    open(f"{root}/usr/lib/postgresql/9{n}/lib/libpq.so.5", 'wb').write(b)
phoff, = struct.unpack_from('<Q', data, 32)
phnum, = struct.unpack_from('<H', data, 56)
dyn = None
for i in range(phnum):
    off = phoff + i * 56
    if struct.unpack_from('<I', data, off)[0] == 2:  # PT_DYNAMIC
        dyn = off
assert dyn is not None
def tagged(b, tag, val):
    p_off, = struct.unpack_from('<Q', b, dyn + 8)
    p_sz, = struct.unpack_from('<Q', b, dyn + 32)
    for k in range(p_off, p_off + p_sz, 16):
        if struct.unpack_from('<q', b, k)[0] == tag:
            struct.pack_into('<Q', b, k + 8, val)
            return b
    raise SystemExit("no tag %d" % tag)
put(1, data[:100])                                        # truncated inside the program headers
b = bytearray(data); struct.pack_into('<H', b, 56, 0xffff); put(2, b)   # huge count
b = bytearray(data); struct.pack_into('<Q', b, 32, 2**63); put(3, b)    # headers past the end
b = bytearray(data); struct.pack_into('<Q', b, dyn + 32, 2**62); put(4, b)  # huge dynamic size
put(5, tagged(bytearray(data), 1, 0x7fffffff))            # DT_NEEDED offset past the table
put(6, tagged(bytearray(data), 10, 2**63))                # DT_STRSZ past the end
put(7, b'#!/bin/sh\n')                                    # not ELF at all
b = bytearray(data) + struct.pack('<qQ', 1, 1) * 300 + struct.pack('<qQ', 0, 0)
struct.pack_into('<Q', b, dyn + 8, len(data)); struct.pack_into('<Q', b, dyn + 32, 301 * 16)
put(8, b)                                                 # 300 DT_NEEDED entries
put(9, b'\x7fELF\x01\x01\x01' + bytes(9) + bytes(20))      # a 32-bit header cut short
put(10, b'\x7fELF\x02\x02\x01' + bytes(100))               # the other byte order
open(f"{root}/usr/lib/python3.11/site-packages/psycopg2_binary.libs/libcrypto-0bad.so.3",
     'wb').write(data[:40])
EOF
# A FIFO where a library is expected is never opened (it would block), a link loop ends.
mkfifo "$hostile/usr/lib/python3.11/site-packages/psycopg2_binary.libs/libcrypto-fifo.so.3"
mkdir -p "$hostile/usr/lib/python3.11/site-packages/loop.libs"
ln -s libcrypto.so.3 "$hostile/usr/lib/python3.11/site-packages/loop.libs/libcrypto.so.3"
under_valgrind=1
expect_rc "hostile ELF files: doctor exits 1, no crash, no memory error" 1 "" \
    timeout 120 --root "$hostile"
under_valgrind=
for pat in "/usr/lib/postgresql/91/lib/libpq.so.5: truncated" \
    "/usr/lib/postgresql/92/lib/libpq.so.5: 65535 program headers" \
    "/usr/lib/postgresql/93/lib/libpq.so.5: truncated or damaged: " \
    "/usr/lib/postgresql/94/lib/libpq.so.5: truncated or damaged: the dynamic section" \
    "/usr/lib/postgresql/95/lib/libpq.so.5: damaged: a DT_NEEDED name at string table offset 2147483647" \
    "/usr/lib/postgresql/96/lib/libpq.so.5: damaged: the dynamic string table" \
    "/usr/lib/postgresql/97/lib/libpq.so.5: not an ELF file" \
    "/usr/lib/postgresql/98/lib/libpq.so.5: more than 256 DT_NEEDED entries" \
    "/usr/lib/postgresql/99/lib/libpq.so.5: truncated: 36 bytes, shorter than an ELF header" \
    "/usr/lib/postgresql/910/lib/libpq.so.5: an ELF file of the other byte order" \
    "psycopg2_binary.libs/libcrypto-0bad.so.3: truncated" \
    "psycopg2_binary.libs/libcrypto-fifo.so.3 is a FIFO, not a regular file: not read" \
    "loop.libs/libcrypto.so.3: Too many levels of symbolic links"; do
    grep -qF -- "$pat" <<<"$out" && ok "hostile ELF: error '$pat'" ||
        not_ok "hostile ELF: no error '$pat' in: ${out:0:3000}"
done
json_check "hostile ELF: every entry has an error in JSON" \
    'len(d["libcrypto"]) == 13 and all(e["error"] and e["reachable"] is False for e in d["libcrypto"])' \
    --root "$hostile"

# ---- a Python package's own libcrypto, and names that need escaping
fake=$w/fake
sp=$fake/usr/lib/python3.11/site-packages
mkdir -p "$sp/psycopg_binary.libs" "$sp/$(printf 'evil\033[31m').libs" "$fake/etc/ssl"
cp "$hostcrypto" "$sp/psycopg_binary.libs/libcrypto-ab12cd34.so.3"
cp "$hostcrypto" "$sp/$(printf 'evil\033[31m').libs/libcrypto.so.3"
hostver=$(openssl version | awk '{ print $1 " " $2 }')
expect_rc "bundled libcrypto: found and named with its package" 1 \
    "Python package psycopg_binary (/usr/lib/python3.11/site-packages/psycopg_binary.libs) bundles /usr/lib/python3.11/site-packages/psycopg_binary.libs/libcrypto-ab12cd34.so.3" \
    --root "$fake"
grep -qF "  $hostver" <<<"$out" && grep -qF "OPENSSLDIR $hostssldir" <<<"$out" &&
    ok "bundled libcrypto: its version and OPENSSLDIR, read from the file" ||
    not_ok "bundled libcrypto: no '$hostver' and OPENSSLDIR $hostssldir in: $out"
grep -qF "fix: run 'dbtrust system enable' inside that root" <<<"$out" &&
    ok "bundled libcrypto: the fix for a directory of another root" ||
    not_ok "bundled libcrypto: no fix in: $out"
grep -qF 'evil\x1b[31m' <<<"$out" && ! grep -q $'\033' <<<"$out" &&
    ok "a package name with an escape sequence is shown escaped" ||
    not_ok "the escape sequence of a package name reached the output: $(cat -v <<<"$out")"
json_check "bundled libcrypto in JSON" \
    'any(e["kind"] == "bundled" and e["package"] == "psycopg_binary" and e["version"].startswith("'"$hostver"'") and e["openssldir"] == "'"$hostssldir"'" and e["reachable"] is False and e["found"] == 0 and e["total"] == 3 and len(e["missing"]) == 3 for e in d["libcrypto"]) and d["libpq_found"] == 0 and d["reachable"] is False' \
    --root "$fake"

# The same root with the catalog in its OPENSSLDIR/certs: reachable, exit 0. OPENSSLDIR/certs is
# a link with the host's absolute path, which must be read inside the root.
mkdir -p "$fake/srv"
"$DBTRUST" export --format hashed-dir "$fake/srv/certs" >/dev/null 2>&1 ||
    { echo "Bail out! export hashed-dir"; exit 1; }
rm -rf "$sp/$(printf 'evil\033[31m').libs"
mkdir -p "$fake$hostssldir" && ln -s /srv/certs "$fake$hostssldir/certs"
expect_rc "bundled libcrypto whose directory holds the catalog: reachable, exit 0" 0 \
    "reachable: all 3 catalog certificates are found there" --root "$fake"
# A root whose links lead out of it: resolved inside, never to the host's files.
esc=$w/escape
mkdir -p "$esc/usr/lib/python3.11/site-packages/psycopg_binary.libs" "$esc$hostssldir"
cp "$hostcrypto" "$esc/usr/lib/python3.11/site-packages/psycopg_binary.libs/libcrypto.so.3"
ln -s "../../../../../../../../..$fake/srv/certs" "$esc$hostssldir/certs"
[ -e "$esc$hostssldir/certs/" ] || { echo "Bail out! the climbing link does not reach $fake/srv/certs"; exit 1; }
expect_rc "a link that climbs out of the root is not followed out of it" 1 \
    "UNREACHABLE: 0 of 3" --root "$esc"
ln -sfn "$fake/srv/certs" "$esc$hostssldir/certs"
expect_rc "an absolute link is read inside the root, not on the host" 1 "UNREACHABLE: 0 of 3" \
    --root "$esc"

# ---- the Debian 13 root: libpq 17 -> OpenSSL 3.5 (read only: doctor writes nothing)
if [ -n "${DBTRUST_SANITIZED:-}" ]; then
    echo "# the Debian 13 root, the host and the JVM store are checked in the normal pass"
    exit "$failed"
fi
if dbt_trixie_ensure; then
    expect_rc "Debian 13 root: libpq 17's libcrypto is OpenSSL 3.5 with its OPENSSLDIR" 1 \
        "OpenSSL 3.5." --root "$DBT_TRIXIE_ROOT"
    grep -qF "OPENSSLDIR /usr/lib/ssl" <<<"$out" && grep -q "^libpq .*libpq.so.5" <<<"$out" &&
        ok "Debian 13 root: OPENSSLDIR /usr/lib/ssl" || not_ok "Debian 13 root: $out"
    json_check "Debian 13 root in JSON: libpq 5.17 loads libcrypto 3.5" \
        'any(e["kind"] == "libpq" and e["version"].startswith("OpenSSL 3.5.") and e["openssldir"] == "/usr/lib/ssl" and e["libcrypto"].endswith("libcrypto.so.3") for e in d["libcrypto"]) and d["root"] == "'"$DBT_TRIXIE_ROOT"'"' \
        --root "$DBT_TRIXIE_ROOT"
else
    not_ok "the Debian 13 root is not available (configure --with-cache-dir, as root)"
fi

# ---- the host, in a private mount namespace: before enable, after enable, after disable
dbt_sysiso_setup "$w/iso" || { echo "Bail out! isolating /etc/ssl failed"; exit 1; }
export DBTRUST_SYSTEM_JVM_STORE=$w/none
hostjson() {
    json_check "$1" 'any(e["kind"] == "libpq" and e["libcrypto"] is not None and __import__("os").path.realpath(e["libcrypto"]) == "'"$hostcrypto"'" and '"$2"' for e in d["libcrypto"])'
}
hostjson "host before enable: libpq's libcrypto does not reach the catalog, fix: system enable" \
    'e["reachable"] is False and e["system_dir"] and "dbtrust system enable" in e["fix"] and e["version"].startswith("'"$hostver"'")'
expect_rc "host before enable: the text says unreachable and the fix" 1 \
    "fix: run 'dbtrust system enable' (links the catalog into $hostssldir/certs)"
"$DBTRUST" system enable >/dev/null || not_ok "system enable failed"
hostjson "host after enable: libpq's libcrypto reaches the catalog" \
    'e["reachable"] is True and e["found"] == 3 and e["fix"] is None'
out=$("$DBTRUST" doctor 2>&1)
grep -A4 -F "libpq $hostpq" <<<"$out" | grep -qF "reachable: all 3 catalog certificates are found there" &&
    ok "host after enable: the text says reachable" ||
    not_ok "host after enable: the text does not say reachable: $out"
"$DBTRUST" system disable >/dev/null || not_ok "system disable failed"
hostjson "host after disable: unreachable again" 'e["reachable"] is False and e["found"] == 0'
SSL_CERT_DIR=/nowhere expect_rc "SSL_CERT_DIR in the environment is reported" 1 \
    "note: this environment sets SSL_CERT_DIR=/nowhere"

# ---- the JVM store: a copy of the real cacerts
if [ -f /etc/ssl/certs/java/cacerts ] && command -v keytool >/dev/null; then
    cp /etc/ssl/certs/java/cacerts "$w/cacerts"
    export DBTRUST_SYSTEM_JVM_STORE=$w/cacerts
    json_check "JVM: the copy holds none of the catalog's CAs" \
        'd["jvm"]["present"] and d["jvm"]["unscoped"] == 3 and d["jvm"]["held"] == 0 and d["jvm"]["reachable"] is False and "export --format jks" in d["jvm"]["fix"]'
    keytool -importcert -noprompt -keystore "$w/cacerts" -storepass changeit -alias dbt-demo \
        -file "$pki/root-rsa2048.pem" >/dev/null 2>&1 || not_ok "keytool -importcert failed"
    expect_rc "JVM: a catalog CA added with keytool is counted" 1 \
        "UNREACHABLE: holds 1 of the catalog's 3 unscoped CAs"
    for f in root-rsa4096 root-ecc384; do
        keytool -importcert -noprompt -keystore "$w/cacerts" -storepass changeit -alias "dbt-$f" \
            -file "$pki/$f.pem" >/dev/null 2>&1 || not_ok "keytool -importcert $f failed"
    done
    json_check "JVM: all three added: reachable" \
        'd["jvm"]["held"] == 3 and d["jvm"]["reachable"] is True and d["jvm"]["fix"] is None'
    "$DBTRUST" import -q --bundle scoped --only-for other.internal "$pki/other-root.pem" ||
        not_ok "import --only-for failed"
    expect_rc "JVM: a scoped bundle's CA is intentionally absent" 1 \
        "1 CA of scoped bundles is intentionally absent: Java ignores name constraints"
    # Another root: its /etc/default/cacerts gives the store's password.
    jr=$w/jvmroot
    mkdir -p "$jr/etc/ssl/certs/java" "$jr/etc/default"
    cp "$w/cacerts" "$jr/etc/ssl/certs/java/cacerts"
    keytool -storepasswd -keystore "$jr/etc/ssl/certs/java/cacerts" -storepass changeit \
        -new s3cret-pw >/dev/null 2>&1 || not_ok "keytool -storepasswd failed"
    echo "storepass=s3cret-pw" >"$jr/etc/default/cacerts"
    unset DBTRUST_SYSTEM_JVM_STORE
    json_check "JVM in another root: read with storepass= of its /etc/default/cacerts" \
        'd["jvm"]["present"] and d["jvm"]["held"] == 3 and d["jvm"]["default_password"] is False and d["libpq_found"] == 0' \
        --root "$jr"
    echo "storepass=wrong" >"$jr/etc/default/cacerts"
    expect_rc "JVM: a wrong password is an error naming the store" 1 \
        "JVM system truststore /etc/ssl/certs/java/cacerts" --root "$jr"
    grep -q "error: .*cacerts" <<<"$out" && ok "JVM: the error names the store" ||
        not_ok "JVM: no error naming the store: $out"
    expect_rc "no libpq in a root is said once" 1 "no libpq.so.5 found" --root "$jr"
else
    not_ok "no /etc/ssl/certs/java/cacerts or keytool (apt-get install ca-certificates-java)"
fi
expect_rc "no JVM store is said once" 1 "no JVM system truststore (/etc/ssl/certs/java/cacerts)" \
    --root "$fake"

# ---- a failed write to standard output is an error with its reason
out=$("$DBTRUST" doctor --root "$fake" 2>&1 >/dev/full)
rc=$?
[ "$rc" -eq 1 ] && grep -qF "No space left on device" <<<"$out" &&
    ok "a full standard output is exit 1 with the reason" ||
    not_ok "a full standard output: exit status $rc, output: $out"
out=$("$DBTRUST" doctor --json --root "$fake" 2>&1 >/dev/full)
rc=$?
[ "$rc" -eq 1 ] && grep -qF "No space left on device" <<<"$out" &&
    ok "a full standard output is exit 1 with the reason (--json)" ||
    not_ok "a full standard output (--json): exit status $rc, output: $out"

# ---- usage: exit 2 with doctor's own words
usage_check() {
    local name=$1 pat=$2 rc
    shift 2
    out=$("$DBTRUST" doctor "$@" 2>&1)
    rc=$?
    [ "$rc" -eq 2 ] && grep -qF -- "$pat" <<<"$out" && ok "$name" ||
        not_ok "$name: exit status $rc, output: $out"
}
usage_check "an unknown option is a usage error" "usage: dbtrust [--catalog DIR] doctor" --bogus
usage_check "a relative --root is a usage error" "--root needs an absolute path" --root relative
usage_check "an argument is a usage error" "doctor takes no arguments (got 'extra')" extra
exit "$failed"
