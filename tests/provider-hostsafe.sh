#!/usr/bin/env bash
# Enabled system-wide, dbtrust must never break unrelated TLS: with the provider listed in
# openssl.cnf (the text `dbtrust config` prints, default provider kept active) but its module
# missing, its catalog missing, corrupt in several ways, or unsafe, a TLS client verifying a
# local server against the system store (a test CA reached through SSL_CERT_FILE/SSL_CERT_DIR)
# still verifies: openssl s_client -verify_return_error, and Python's ssl module (libssl with
# the default context, as psql-like programs use it). openssl version still runs and exits 0.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
DBTRUST=${DBTRUST:-$build/dbtrust}
export OPENSSL_MODULES=${OPENSSL_MODULES:-$build/.libs}
cnfprog=$build/tests/test_provider_cnf
py=/usr/bin/python3
[ -x "$cnfprog" ] || { echo "Bail out! $cnfprog not built; run make check"; exit 1; }
[ -f "$OPENSSL_MODULES/dbtrust.so" ] || { echo "Bail out! no dbtrust.so in $OPENSSL_MODULES"; exit 1; }
[ -x "$py" ] || py=$(command -v python3) || { echo "SKIP: python3 is missing"; exit 77; }

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-hostsafe.XXXXXX") || exit 1
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$w"' EXIT
chmod 755 "$w"
# The system store: one test CA (nothing of the machine's), as a bundle file and a hashed dir.
mk() { openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
mk -keyout "$w/ca.key" -subj "/CN=hostsafe system CA" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -out "$w/ca.pem" || { echo "Bail out! CA"; exit 1; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$w/srv.key" \
    -subj "/CN=localhost" -out "$w/srv.csr" 2>/dev/null &&
    printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$w/ext" &&
    openssl x509 -req -in "$w/srv.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial \
        -days 30 -extfile "$w/ext" -out "$w/srv.pem" 2>/dev/null || { echo "Bail out! server cert"; exit 1; }
mkdir "$w/sys"
cp "$w/ca.pem" "$w/sys/ca.pem"
openssl rehash "$w/sys" 2>/dev/null
export SSL_CERT_FILE=$w/sys/ca.pem SSL_CERT_DIR=$w/sys

# A local TLS server (no provider in its configuration) on a port the kernel picks.
: >"$w/empty.cnf"
OPENSSL_CONF=$w/empty.cnf openssl s_server -accept 0 -naccept 1000 -cert "$w/srv.pem" \
    -key "$w/srv.key" -www >"$w/server.out" 2>&1 &
srv=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$w/server.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "Bail out! s_server did not start: $(cat "$w/server.out")"; exit 1; }

# In a sanitizer build the ASan-built module needs the sanitizer runtimes first in Python's
# process too (as tests/lib/sanbin/openssl does for openssl); LeakSanitizer stays off there,
# since it reports CPython's own allocations at exit (the openssl runs keep it on).
py_run=("$py")
[ "${DBTRUST_SANITIZED:-0}" = 1 ] && py_run=(env "LD_PRELOAD=${DBTRUST_SAN_PRELOAD:-}"
    "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0" "$py")

cat >"$w/probe.py" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context()
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20) as s:
        with ctx.wrap_socket(s, server_hostname="localhost"):
            print("verified")
except Exception as e:
    print("failed: %s" % e)
    sys.exit(1)
PY

# A good catalog first (bundle "db" with an unrelated CA), copied and damaged per case.
mk -keyout /dev/null -subj "/CN=hostsafe database CA" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -out "$w/db.pem" || { echo "Bail out! db CA"; exit 1; }
"$DBTRUST" --catalog "$w/good" import -q --bundle db "$w/db.pem" || { echo "Bail out! import"; exit 1; }

# host_ok LABEL CNF: openssl version, s_client and Python's ssl all work under CNF.
host_ok() {
    local label=$1 cnf=$2 out rc
    out=$(OPENSSL_CONF=$cnf timeout 30 openssl version 2>&1)
    rc=$?
    if [ $rc = 0 ] && grep -q '^OpenSSL 3' <<<"$out"; then ok "$label: openssl version exits 0"
    else not_ok "$label: openssl version exit status $rc: $out"; fi
    out=$(OPENSSL_CONF=$cnf timeout 30 openssl s_client -connect "127.0.0.1:$port" \
        -servername localhost -verify_hostname localhost -verify_return_error </dev/null 2>&1)
    rc=$?
    if [ $rc = 0 ] && grep -q 'Verify return code: 0 (ok)' <<<"$out"; then
        ok "$label: s_client verifies the server against the system store"
    else
        not_ok "$label: s_client exit status $rc: $(grep -E 'error|Verif' <<<"$out" | head -5)"
    fi
    out=$(OPENSSL_CONF=$cnf timeout 30 "${py_run[@]}" "$w/probe.py" "$port" 2>&1)
    rc=$?
    if [ $rc = 0 ] && [ "$out" = verified ]; then ok "$label: Python ssl (libssl default context) verifies"
    else not_ok "$label: Python ssl exit status $rc: $out"; fi
}

# case_cnf NAME CATALOG [MODULE]: the configuration dbtrust config prints for them.
cnf() { "$cnfprog" "$@" >"$w/$1.cnf.tmp" && mv "$w/$1.cnf.tmp" "$w/case.cnf"; }
fresh() { rm -rf "$w/c"; cp -a "$w/good" "$w/c"; G=$w/c/$(readlink "$w/c/current"); }

"$cnfprog" "$w/good" >"$w/case.cnf"
host_ok "control, provider loaded with a good catalog" "$w/case.cnf"
# The provider really is loaded in these runs: the catalog is readable through it.
n=$(OPENSSL_CONF=$w/case.cnf openssl storeutl -certs dbtrust:// 2>/dev/null | grep -c 'BEGIN CERT')
[ "$n" = 1 ] && ok "control: the provider serves the catalog (1 certificate)" ||
    not_ok "control: storeutl dbtrust:// listed $n certificates, wanted 1"

"$cnfprog" "$w/good" "$w/nowhere/dbtrust.so" >"$w/case.cnf"
host_ok "module file missing" "$w/case.cnf"
: >"$w/empty.so"
"$cnfprog" "$w/good" "$w/empty.so" >"$w/case.cnf"
host_ok "module file not a shared object" "$w/case.cnf"
"$cnfprog" "$w/missing" >"$w/case.cnf"
host_ok "catalog missing" "$w/case.cnf"

"$cnfprog" "$w/c" >"$w/case.cnf"
fresh; echo garbage >"$G/certs/index"
host_ok "corrupt: index garbage" "$w/case.cnf"
fresh; rm -rf "$G"
host_ok "corrupt: current names a missing generation" "$w/case.cnf"
fresh; f=$(ls "$G/certs/"*.pem | head -1); head -c 100 "$f" >"$f.t" && mv "$f.t" "$f"
host_ok "corrupt: truncated certificate file" "$w/case.cnf"
fresh; for l in "$G"/certs/*.0; do ln -sf nowhere.pem "$l"; done
host_ok "corrupt: dangling hash link" "$w/case.cnf"
fresh; head -c 4096 /dev/urandom >"$G/certs/index"
host_ok "corrupt: random bytes as index" "$w/case.cnf"
fresh; rm -rf "$w/c"/*; rm -rf "$w/c"/.gen-*
host_ok "corrupt: empty directory" "$w/case.cnf"
fresh; chmod 777 "$w/c"
host_ok "unsafe: catalog writable by others" "$w/case.cnf"
fresh; chmod 775 "$G/certs"
host_ok "unsafe: generation writable by group" "$w/case.cnf"
fresh; chown -R nobody "$w/c" 2>/dev/null && host_ok "unsafe: owned by another user" "$w/case.cnf"
echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
