#!/bin/bash
# dbtrust probe against servers that end the conversation early: 'S' to the SSLRequest and then
# a close (with the request read, or unread so that the close is a reset), 'S' then bytes that
# are not TLS, 'N', 'E', a close before any answer, and a close in the middle of the handshake;
# each with and without --json, several times (whether the socket write meets the close is a
# race). Each must exit 1 with its reason on standard error (and in the JSON), never die of
# SIGPIPE (exit 141, no output). Standard output keeps its own rules: a closed pipe is still an
# error (exit 1 with the reason when SIGPIPE is ignored, the signal otherwise).
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
DBT_CLI_TIMEOUT=60
# The distribution's python3: version-manager shims are slow to start and may change directory.
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start "$PY"
export SSL_CERT_FILE=$tmp/none.pem SSL_CERT_DIR=$tmp/none

cat >pgfake.py <<'EOF'
# A fake PostgreSQL server on 127.0.0.1 (free port written to argv[2]) that ends each
# connection early, as argv[1] says.
import os, socket, struct, sys
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)

def recvn(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            break
        b += x
    return b

while True:
    c, _ = s.accept()
    try:
        if mode == "s-close":          # 'S', then an orderly close
            recvn(c, 8); c.sendall(b"S")
        elif mode == "s-reset":        # 'S' with the request unread: the close is a reset
            c.sendall(b"S")
        elif mode == "s-garbage":      # 'S', then bytes that are no TLS record
            recvn(c, 8); c.sendall(b"S" + b"\x00garbage\xff" * 20)
        elif mode == "n":
            recvn(c, 8); c.sendall(b"N")
        elif mode == "e":
            recvn(c, 8); c.sendall(b"E")
        elif mode == "close":          # no answer at all
            pass
        elif mode == "mid":            # a ServerHello cut short, after the whole ClientHello
            recvn(c, 8); c.sendall(b"S")
            hdr = recvn(c, 5)
            if len(hdr) == 5:
                recvn(c, struct.unpack("!H", hdr[3:5])[0])
            c.sendall(b"\x16\x03\x03\x00\x40\x02\x00\x00\x3c\x03\x03")
    except OSError:
        pass
    c.close()
EOF
# start_fake MODE: runs one in the background (killed at exit) and sets $port.
start_fake() {
    local mode=$1 i
    "$PY" pgfake.py "$mode" "$tmp/$mode.port" >"$tmp/$mode.log" 2>&1 &
    dbt_cleanup_push "kill $! 2>/dev/null"
    for ((i = 0; i < 100; i++)); do
        [ -s "$tmp/$mode.port" ] && { port=$(cat "$tmp/$mode.port"); return 0; }
        sleep 0.1
    done
    echo "FAIL: the $mode server did not start: $(cat "$tmp/$mode.log")"
    exit 1
}
# json_error: the .error of ./out when it is JSON with "ok": false, else a complaint.
json_error() {
    "$PY" -c 'import json
try:
    d = json.load(open("out"))
except ValueError:
    d = {"ok": None}
print(d.get("error", "") if d.get("ok") is False else "not JSON with ok false")' 2>&1
}

# mode|what standard error (and the JSON error) must say
cases=(
    "s-close|closed the connection during the TLS handshake"
    "s-reset|closed the connection during the TLS handshake"
    "s-garbage|TLS handshake with 127.0.0.1 port"
    "n|does not accept TLS (it answered 'N' to the SSLRequest)"
    "e|answered the SSLRequest with an error message"
    "close|closed the connection without answering the SSLRequest"
    "mid|closed the connection during the TLS handshake"
)
for c in "${cases[@]}"; do
    mode=${c%%|*} want=${c#*|}
    start_fake "$mode"
    for try in 1 2 3; do
        expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --timeout 10 "127.0.0.1:$port"
        has err "$want" "$mode (try $try)"
        expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --json --timeout 10 "127.0.0.1:$port"
        has err "$want" "$mode --json (try $try)"
        e=$(json_error)
        [[ $e == *"$want"* ]] || fail "$mode --json (try $try): JSON error is '$e'"
    done
done

# Standard output's EPIPE is still an error once the socket is closed: the JSON of a failed
# probe to a pipe nobody reads.
start_fake s-close
"$PY" -c 'import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
sys.exit(subprocess.call(sys.argv[1:], stdout=w, restore_signals=False, timeout=60))' \
    "$DBTRUST" --catalog "$tmp/cat" probe --json "127.0.0.1:$port" 2>err
rc=$?
[ $rc = 1 ] || fail "probe --json to a closed pipe, SIGPIPE ignored: exit $rc"
has err "writing standard output: Broken pipe" "probe --json to a closed pipe, SIGPIPE ignored"
"$PY" -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w, timeout=60))' \
    "$DBTRUST" --catalog "$tmp/cat" probe --json "127.0.0.1:$port" 2>err
rc=$?
[ $rc = 0 ] && fail "probe --json to a closed pipe exited 0"

exit $failed
