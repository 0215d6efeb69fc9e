#!/bin/bash
# dbtrust probe tells apart the causes a user must fix differently, each named in JSON causes
# with its fix in the message: a name only in the CN (accepted, with a warning), a Cloud SQL
# style project:instance CN (no host name can match), a CN-only certificate for another name, a
# server certificate not valid yet, one that expires in a few days (days left), and a CA that is
# simply missing. Servers are openssl s_server speaking PostgreSQL 17's direct TLS. Then fake
# MySQL servers: a greeting without TLS support, an error packet with terminal escapes in it,
# a first packet far over the greeting cap, silence, and a PostgreSQL-style probe of a MySQL
# port.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
DBT_CLI_TIMEOUT=30
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl jq "$PY"
# shellcheck source=tests/lib/sserver.sh
. "$SRCDIR/tests/lib/sserver.sh"
mkdir nodir && : >nofile.pem
export SSL_CERT_FILE=$tmp/nofile.pem SSL_CERT_DIR=$tmp/nodir
host=db.causes.test

# ---- a root in the catalog, and leaves issued by it ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
    -out root.pem -days 365 -subj "/CN=Causes Test Root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    2>/dev/null || { echo "FAIL: root"; exit 1; }
"$DBTRUST" --catalog "$tmp/cat" import --bundle causes root.pem >/dev/null ||
    { echo "FAIL: import of the root"; exit 1; }
# leaf NAME SUBJECT DAYS [EXT]: NAME.pem and NAME.key, issued by the root; no SAN unless EXT.
leaf() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
        -out "$1.csr" -subj "$2" 2>/dev/null &&
        openssl x509 -req -in "$1.csr" -CA root.pem -CAkey root.key -set_serial "$RANDOM" \
            -days "$3" -extfile <(printf 'extendedKeyUsage=serverAuth\n%s\n' "${4:-}") \
            -out "$1.pem" 2>/dev/null || { echo "FAIL: leaf $1"; exit 1; }
}
leaf cnonly "/CN=$host" 100
leaf cloudsql "/CN=my-project:my-instance" 100
leaf soon "/CN=$host" 3 "subjectAltName=DNS:$host"
# Not valid before 2040: openssl x509 -req has no start date on OpenSSL 3.0, openssl ca does.
mkdir -p ca/new && : >ca/index.txt && echo 01 >ca/serial
cat >ca.cnf <<'EOF'
[ca]
default_ca = c
[c]
database = ca/index.txt
new_certs_dir = ca/new
serial = ca/serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
EOF
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout future.key -out future.csr \
    -subj "/CN=$host" -addext "subjectAltName=DNS:$host" 2>/dev/null &&
    openssl ca -config ca.cnf -batch -notext -cert root.pem -keyfile root.key -in future.csr \
        -out future.pem -startdate 20400101000000Z -enddate 20410101000000Z >/dev/null 2>&1 ||
    { echo "FAIL: future leaf"; exit 1; }

# causes: the JSON cause names of the last probe, "severity:cause" joined by commas.
causes() { jq -r '[.causes[] | .severity + ":" + .cause] | join(",")' out; }
probe=("$DBTRUST" --catalog "$tmp/cat" probe --direct) # expect_rc runs commands, not functions

# ---- the name only in the CN: libpq and the MySQL clients accept it; a warning says who not ----
dbt_start_sserver s.log -alpn postgresql -cert cnonly.pem -key cnonly.key
expect_rc 0 "${probe[@]}" --hostaddr 127.0.0.1 "$host:$port"
has out "warning: the server certificate carries '$host' only in its CN (no subjectAltName)" \
    "CN-only name"
has out "subjectAltName DNS:$host" "CN-only name: the fix"
expect_rc 0 "${probe[@]}" --json --hostaddr 127.0.0.1 "$host:$port"
[ "$(causes)" = "warning:hostname-cn-only" ] || fail "CN-only JSON causes: $(causes)"
[ "$(jq -r .hostname.match out)" = true ] || fail "CN-only: the name did not match"
# The same certificate for another name: a plain mismatch, naming the CN.
expect_rc 1 "${probe[@]}" --json --hostaddr 127.0.0.1 "other.causes.test:$port"
[ "$(causes)" = "problem:hostname-mismatch" ] || fail "CN-only, other name: causes $(causes)"
jq -r '.problems[0]' out | grep -qF "no subjectAltName; CN=$host" ||
    fail "CN-only, other name: the message does not show the CN: $(jq -r '.problems[0]' out)"

# ---- Cloud SQL style: CN project:instance, no host name can match ----
dbt_start_sserver s.log -alpn postgresql -cert cloudsql.pem -key cloudsql.key
expect_rc 1 "${probe[@]}" "127.0.0.1:$port"
has out "names the instance 'my-project:my-instance'" "Cloud SQL CN"
has out "sslmode=verify-ca" "Cloud SQL CN: the fix"
expect_rc 1 "${probe[@]}" --json --hostaddr 127.0.0.1 "$host:$port"
[ "$(causes)" = "problem:hostname-instance-name" ] || fail "Cloud SQL JSON causes: $(causes)"
[ "$(jq -r .catalog.verified out)" = true ] || fail "Cloud SQL: the chain itself should verify"

# ---- not valid yet ----
dbt_start_sserver s.log -alpn postgresql -cert future.pem -key future.key
expect_rc 1 "${probe[@]}" --hostaddr 127.0.0.1 "$host:$port"
has out "problem: the server certificate '$host' is not valid before 2040-01-01: check this machine's clock" \
    "not yet valid"
expect_rc 1 "${probe[@]}" --json --hostaddr 127.0.0.1 "$host:$port"
[ "$(causes)" = "warning:not-yet-valid,problem:not-yet-valid" ] ||
    fail "not yet valid JSON causes: $(causes)"

# ---- about to expire: days left, still exit 0 ----
dbt_start_sserver s.log -alpn postgresql -cert soon.pem -key soon.key
expect_rc 0 "${probe[@]}" --json --hostaddr 127.0.0.1 "$host:$port"
[ "$(causes)" = "warning:expires-soon" ] || fail "expiring JSON causes: $(causes)"
jq -r '.warnings[0]' out | grep -qE "expires on [0-9-]+ \((2|3) days left\): the server needs a renewed certificate" ||
    fail "expiring: no days left or fix: $(jq -r '.warnings[0]' out)"

# ---- a CA no store holds: ca-missing alone (the server sent its chain's end) ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/nocat" probe --direct --json --hostaddr 127.0.0.1 \
    "$host:$port"
[ "$(causes)" = "warning:expires-soon,warning:catalog-unreadable,problem:ca-missing,warning:intermediate-not-sent" ] ||
    fail "missing CA JSON causes: $(causes)"
jq -r .hint out | grep -qF "needs 'Causes Test Root': import the CA" || fail "missing CA hint: $(jq -r .hint out)"

# ---- fake MySQL servers ----
cat >fakemysql.py <<'EOF'
# A TCP listener on 127.0.0.1 (its port written to argv[2]) that plays a MySQL server: "nossl"
# greets without CLIENT_SSL, "error" sends an error packet with an ESC sequence, "huge"
# announces a 16 MiB first packet, "silent" says nothing.
import os, socket, struct, sys
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
def packet(payload, seq=0):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload
greeting = (b"\x0a8.0.36-fake\x00" + b"\x01\x00\x00\x00" + b"abcdefgh" + b"\x00" +
            struct.pack("<H", 0xf7ff & ~0x0800) + b"\x21" + b"\x02\x00" + b"\x00\x00" +
            b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00" + b"mysql_native_password\x00")
held = []
while True:
    c, _ = s.accept()
    if mode == "nossl":
        c.sendall(packet(greeting))
    elif mode == "error":
        c.sendall(packet(b"\xff\x69\x04Host '127.0.0.1' is blocked\x1b[31m red"))
    elif mode == "huge":
        c.sendall(b"\xff\xff\xff\x00" + b"A" * 1000)
    held.append(c)
EOF
start_fake() {
    local mode=$1 i
    "$PY" fakemysql.py "$mode" "$tmp/$mode.port" >"$tmp/$mode.log" 2>&1 &
    dbt_cleanup_push "kill $! 2>/dev/null"
    for ((i = 0; i < 100; i++)); do
        [ -s "$tmp/$mode.port" ] && { port=$(cat "$tmp/$mode.port"); return 0; }
        sleep 0.1
    done
    echo "FAIL: the fake $mode server did not start: $(cat "$tmp/$mode.log")"
    exit 1
}
start_fake nossl
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe "mysql://127.0.0.1:$port"
has err "(server 8.0.36-fake) does not offer TLS (no CLIENT_SSL in its greeting)" "MySQL without TLS"
start_fake error
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --json "mysql://127.0.0.1:$port"
has err "refused the connection with error 1129: Host '127.0.0.1' is blocked\\x1b[31m red" \
    "MySQL error packet, escaped"
grep -q $'\x1b' err out && fail "the server's ESC reached the terminal"
[ "$(jq -r .ok out)" = false ] || fail "MySQL error packet JSON: ok is not false"
start_fake huge
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe "mysql://127.0.0.1:$port"
has err "its first packet announces 16777215 bytes; a MySQL greeting is under 4096 bytes" \
    "oversized greeting refused"
start_fake silent
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --timeout 1 "mysql://127.0.0.1:$port"
has err "sent no MySQL greeting within 1 s" "silent MySQL port"

# ---- usage ----
expect_rc 2 "$DBTRUST" probe --protocol postgresql "mysql://127.0.0.1:3306"
expect_rc 2 "$DBTRUST" probe --protocol oracle "127.0.0.1"
expect_rc 2 "$DBTRUST" probe --direct "mysql://127.0.0.1"
expect_rc 2 "$DBTRUST" probe "mysql://user@127.0.0.1/db"
expect_rc 2 "$DBTRUST" probe "http://127.0.0.1"

exit $failed
