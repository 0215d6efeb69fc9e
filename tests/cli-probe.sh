#!/bin/bash
# dbtrust probe against real PostgreSQL 15 servers with TLS (tests/lib/pgserver.sh) and fake
# listeners: a chain the catalog verifies (bundle named), a missing AWS-like CA and a missing
# other CA (named, with what to run), host name mismatch, an expired server certificate, a CA
# about to expire (warning, still exit 0), the system store as the only trust, ssl=off ('N'),
# direct TLS on a server without it, direct TLS with ALPN and SNI (openssl s_server), a listener
# that is not PostgreSQL, a closed port and a listener that never answers (--timeout).
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
DBT_CLI_TIMEOUT=60
# The distribution's python3: version-manager shims are slow to start and may change directory.
PY=$(command -v /usr/bin/python3 || command -v python3)
# shellcheck source=tests/lib/pgserver.sh
. "$SRCDIR/tests/lib/pgserver.sh"
dbt_pg_check || exit $?
dbt_cli_start openssl jq "$PY"

# ---- PKI, catalogs and a trust store that trusts nothing ----
bash "$SRCDIR/certs/demo-pki.sh" pki db.demo.internal || { echo "FAIL: demo PKI"; exit 1; }
host=$(cat pki/hostname)
mkdir nodir && : >nofile.pem
export SSL_CERT_FILE=$tmp/nofile.pem SSL_CERT_DIR=$tmp/nodir
"$DBTRUST" --catalog "$tmp/cat" import --bundle demo-rds pki/demo-bundle.pem >/dev/null ||
    { echo "FAIL: import of the demo bundle"; exit 1; }
"$DBTRUST" --catalog "$tmp/othercat" import --bundle other pki/other-root.pem >/dev/null ||
    { echo "FAIL: import of the other root"; exit 1; }

dbt_pg_start --ssl pki/server-chain.pem pki/server.key || exit $?
good=$DBT_PG_PORT
dbt_pg_start --ssl pki/other-server-chain.pem pki/other-server.key || exit $?
other=$DBT_PG_PORT
dbt_pg_start --ssl pki/expired-server-chain.pem pki/expired-server.key || exit $?
expired=$DBT_PG_PORT
dbt_pg_start --nossl || exit $?
nossl=$DBT_PG_PORT

# ---- good chain: verified by the catalog's bundle, host name matches, exit 0 ----
expect_rc 0 "$DBTRUST" --catalog "$tmp/cat" probe --hostaddr 127.0.0.1 "$host:$good"
has out "bundle 'demo-rds'" "good chain"
has out "'$host' matches the server certificate (DNS:$host)" "good chain"
has out "once the catalog is wired in" "good chain verdict"
expect_rc 0 "$DBTRUST" --catalog "$tmp/cat" probe --json --hostaddr 127.0.0.1 "$host:$good"
leaf=$(openssl x509 -in pki/server.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
    tr A-F a-f)
inter=$(openssl x509 -in pki/intermediate.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
    tr A-F a-f)
root=$(openssl x509 -in pki/root-rsa2048.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
    tr A-F a-f)
[ "$(jq -r .ok out)" = true ] || fail "good chain JSON: ok is not true"
[ "$(jq -r '.chain | length' out)" = 2 ] || fail "good chain JSON: chain is not 2 certificates"
[ "$(jq -r '.chain[0].sha256' out)" = "$leaf" ] || fail "good chain JSON: leaf fingerprint"
[ "$(jq -r '.chain[1].sha256' out)" = "$inter" ] || fail "good chain JSON: intermediate fingerprint"
[ "$(jq -r '.catalog.bundles' out)" = demo-rds ] || fail "good chain JSON: bundle"
[ "$(jq -r '.catalog.anchor.sha256' out)" = "$root" ] || fail "good chain JSON: anchor is not the RSA2048 root"
[ "$(jq -r '.hostname.match' out)" = true ] || fail "good chain JSON: host name"
[ "$(jq -r '.system.verified' out)" = false ] || fail "good chain JSON: the empty system store verified"
jq -r .tls_version out | grep -q '^TLSv1\.[23]$' || fail "good chain JSON: TLS version $(jq -r .tls_version out)"
[ -n "$(jq -r '.cipher // empty' out)" ] || fail "good chain JSON: no cipher"

# ---- the system store alone trusts it (catalog without the CA): still exit 0 ----
SSL_CERT_FILE=$tmp/pki/demo-bundle.pem expect_rc 0 "$DBTRUST" --catalog "$tmp/othercat" probe \
    --hostaddr 127.0.0.1 "$host:$good"
has out "the default trust store verifies the chain" "system store"

# ---- missing CA that looks like AWS RDS's: named, and fetch aws-rds suggested ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/othercat" probe --hostaddr 127.0.0.1 "$host:$good"
has out "needs 'Demo RDS us-east-1 Root CA RSA2048 G1': run dbtrust fetch aws-rds" \
    "missing RDS-like CA"
has out "verify-full with sslrootcert=system would FAIL" "missing RDS-like CA verdict"
expect_rc 1 "$DBTRUST" --catalog "$tmp/othercat" probe --json --hostaddr 127.0.0.1 "$host:$good"
jq -r .missing_issuer out | grep -q "CN=Demo RDS us-east-1 Root CA RSA2048 G1" ||
    fail "missing issuer JSON: $(jq -r .missing_issuer out)"

# ---- missing CA from elsewhere: generic advice naming the issuer ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --hostaddr 127.0.0.1 "$host:$other"
has out "needs 'Demo Other Cloud Root CA': import the CA that issued 'CN=$host'" \
    "missing other CA"

# ---- host name mismatch (a name and an IP address), chain otherwise good ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --hostaddr 127.0.0.1 "wrong.example:$good"
has out "host name mismatch" "wrong name"
has out "DNS:$host" "wrong name lists the certificate's names"
has out "bundle 'demo-rds'" "wrong name still finds the bundle"
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --json "127.0.0.1:$good"
[ "$(jq -r .hostname.match out)" = false ] || fail "IP address matched a DNS-only certificate"
[ "$(jq -r .catalog.verified out)" = true ] || fail "IP address probe: chain not verified"

# ---- expired server certificate: warning, the bundle still found, exit 1 ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --hostaddr 127.0.0.1 "$host:$expired"
has out "warning: server certificate '$host' expired on 2021-01-01" "expired"
has out "leads to bundle 'demo-rds'" "expired: anchor found"
has out "the server certificate '$host' expired on 2021-01-01: the server must install a renewed" \
    "expired: cause and fix"

# ---- server with ssl = off ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --hostaddr 127.0.0.1 "$host:$nossl"
has err "does not accept TLS (it answered 'N' to the SSLRequest)" "ssl=off"

# ---- direct TLS on PostgreSQL 15, which has none ----
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --direct --timeout 10 --hostaddr 127.0.0.1 \
    "$host:$good"
has err "direct TLS needs PostgreSQL 17" "direct TLS on PostgreSQL 15"
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --direct --json --timeout 10 \
    --hostaddr 127.0.0.1 "$host:$good"
[ "$(jq -r .direct_accepted out)" = false ] || fail "direct TLS on PostgreSQL 15: direct_accepted is not false"

# ---- fake listeners: garbage, silence ----
cat >listener.py <<'EOF'
# A TCP listener on 127.0.0.1 (free port written to argv[2]): "garbage" answers with an HTTP
# error and closes; "silent" accepts and never answers.
import socket, sys, time
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)
held = []
while True:
    c, _ = s.accept()
    if mode == "garbage":
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        c.close()
    else:
        held.append(c)
EOF
# start_listener MODE: runs one in the background (killed at exit) and sets $port.
start_listener() {
    local mode=$1 i
    "$PY" listener.py "$mode" "$tmp/$mode.port" >"$tmp/$mode.log" 2>&1 &
    dbt_cleanup_push "kill $! 2>/dev/null"
    for ((i = 0; i < 100; i++)); do
        [ -s "$tmp/$mode.port" ] && { port=$(cat "$tmp/$mode.port"); return 0; }
        sleep 0.1
    done
    echo "FAIL: the $mode listener did not start: $(cat "$tmp/$mode.log")"
    exit 1
}
start_listener garbage
garbage=$port
start_listener silent
silent=$port

expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe "127.0.0.1:$garbage"
has err "is not a PostgreSQL server: it answered byte 0x48" "not PostgreSQL"

expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --timeout 1 "127.0.0.1:$silent"
has err "did not answer the SSLRequest within 1 s" "timeout"

# --timeout also bounds name resolution: in private mount and network namespaces, resolv.conf
# names a local DNS server that never answers (glibc alone would wait 5 s x 2 attempts).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
    cat >dns-silent.py <<'PYEOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open("dns.ready", "w").close()
while True:
    s.recvfrom(4096)
PYEOF
    echo "nameserver 127.0.0.1" >resolv.silent
    cat >dns-timeout.sh <<SHEOF
ip link set lo up || exit 3
mount --bind "$tmp/resolv.silent" /etc/resolv.conf || exit 3
"$PY" "$tmp/dns-silent.py" & pid=\$!
for i in \$(seq 50); do [ -f dns.ready ] && break; sleep 0.1; done
"$DBTRUST" --catalog "$tmp/cat" probe --timeout 1 db.nowhere.example:5432
rc=\$?
kill \$pid
exit \$rc
SHEOF
    expect_rc 1 unshare -m -n bash dns-timeout.sh
    has err "cannot resolve 'db.nowhere.example': no answer from the name servers within 1 s" \
        "--timeout bounds DNS resolution"
else
    echo "note: not root (or no unshare/ip): the DNS timeout case needs private namespaces; not run"
fi

# ---- direct TLS with ALPN "postgresql", and SNI, against openssl s_server (PostgreSQL 15 has
# no direct TLS): the handshake, the ALPN answer, and the certificate SNI selects ----
# shellcheck source=tests/lib/sserver.sh
. "$SRCDIR/tests/lib/sserver.sh"
dbt_start_sserver s_server.log -alpn postgresql -cert pki/server.pem -key pki/server.key \
    -cert_chain pki/intermediate.pem
direct=$port
expect_rc 0 "$DBTRUST" --catalog "$tmp/cat" probe --direct --json --hostaddr 127.0.0.1 \
    "$host:$direct"
[ "$(jq -r .mode out)" = direct ] || fail "direct TLS: mode is $(jq -r .mode out)"
[ "$(jq -r .alpn out)" = postgresql ] || fail "direct TLS: ALPN is $(jq -r .alpn out)"
[ "$(jq -r .catalog.bundles out)" = demo-rds ] || fail "direct TLS: bundle not found"

dbt_start_sserver s_server.log -cert pki/other-server.pem -key pki/other-server.key -servername "$host" \
    -cert2 pki/server.pem -key2 pki/server.key
sni=$port
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --direct --json --sni "$host" "127.0.0.1:$sni"
[ "$(jq -r '.chain[0].sha256' out)" = "$leaf" ] || fail "--sni $host did not select its certificate"
# That certificate comes without its intermediate: the missing CA is named, and the server's
# part in it too.
jq -r .missing_issuer out | grep -q "CN=Demo RDS us-east-1 Subordinate CA RSA2048 G1.A.1" ||
    fail "leaf alone: missing issuer is $(jq -r .missing_issuer out)"
jq -r '.warnings[]' out | grep -q "the server sent only its own certificate" ||
    fail "leaf alone: no warning about the intermediate the server did not send"
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --direct --json --sni "" "127.0.0.1:$sni"
[ "$(jq -r '.chain[0].sha256' out)" = "$(openssl x509 -in pki/other-server.pem -noout \
    -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)" ] ||
    fail "--sni '' still selected the SNI certificate"

# ---- a CA that expires in 5 days: a warning, yet verify-full passes today (exit 0) ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout soon.key \
    -out soon.pem -days 5 -subj "/CN=Soon Expiring Root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout soonleaf.key \
        -out soonleaf.csr -subj "/CN=$host" 2>/dev/null &&
    openssl x509 -req -in soonleaf.csr -CA soon.pem -CAkey soon.key -set_serial 9 -days 4 \
        -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$host") \
        -out soonleaf.pem 2>/dev/null || { echo "FAIL: making the short-lived PKI"; exit 1; }
"$DBTRUST" --catalog "$tmp/cat" import --bundle soon soon.pem >/dev/null ||
    { echo "FAIL: import of the short-lived root"; exit 1; }
dbt_start_sserver s_server.log -cert soonleaf.pem -key soonleaf.key
expect_rc 0 "$DBTRUST" --catalog "$tmp/cat" probe --direct --hostaddr 127.0.0.1 "$host:$port"
has out "bundle 'soon'" "expiring CA: bundle"
has out "warning: CA certificate 'Soon Expiring Root' expires on" "expiring CA warning"
has out "warning: server certificate '$host' expires on" "expiring leaf warning"

# ---- connection refused: a port that was just free ----
closed=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe "127.0.0.1:$closed"
has err "port $closed refused" "refused"
expect_rc 1 "$DBTRUST" --catalog "$tmp/cat" probe --json "127.0.0.1:$closed"
[ "$(jq -r .ok out)" = false ] || fail "refused JSON: ok is not false"
jq -r .error out | grep -q refused || fail "refused JSON: error is $(jq -r .error out)"

# ---- usage errors ----
expect_rc 2 "$DBTRUST" probe "127.0.0.1:70000"
expect_rc 2 "$DBTRUST" probe --timeout 0 "127.0.0.1:5432"
expect_rc 2 "$DBTRUST" probe

exit $failed
