#!/bin/bash
# dbtrust fetch and sources against local HTTPS servers only (openssl s_server -WWW, and a python3
# server for a 404 and a body cut short), with a test CA given by --ca-file: PEM, PKCS#7 and
# multi-file downloads land as bundles with the right counts and origin, a changed bundle
# reports what was added and removed, and every failure (HTTP 404, truncated body, non-certificate
# body, a server certificate in the body, a TRUSTED CERTIFICATE whose trust settings restrict it
# (an empty trust list among them), a body over 16 MiB, untrusted TLS, http://) leaves the
# catalog unchanged. URLs holding control characters, C1 controls, bidi overrides and malformed
# UTF-8 are recorded as origin escaped, exactly as import records them. Scopes: each source's
# default scope (dbtrust sources, and the .meta of what fetch records), --only-for replacing it,
# --unscoped clearing it, a refresh keeping a scope the bundle has, and bad values refused
# (exit 2, named, nothing downloaded).
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
# The distribution's python3: version-manager shims are slow to start and may change directory.
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl jq "$PY"

# ---- test PKI: an HTTPS CA with a server certificate for localhost, an unrelated CA, and
# the CA certificates to serve (5 roots; a leaf) ----
. "$SRCDIR/tests/lib/https.sh"
mkca() { dbt_https_mkca "$@" || { echo "FAIL: making $1"; exit 1; }; }
mkca httpsca "/CN=Fetch Test HTTPS CA"
mkca wrongca "/CN=Fetch Test Unrelated CA"
dbt_https_server_cert httpsca srv || { echo "FAIL: making the HTTPS server certificate"; exit 1; }
mkdir www
for i in 1 2 3 4 5; do mkca "www/root$i" "/O=Fetch Test/CN=Fetch Test Root $i"; done
cat www/root1.pem www/root2.pem www/root3.pem >www/global-bundle.pem
cat www/root1.pem www/root2.pem www/root4.pem >www/global-bundle-v2.pem
openssl crl2pkcs7 -nocrl -certfile www/global-bundle.pem -outform DER -out www/global-bundle.p7b ||
    { echo "FAIL: making the .p7b"; exit 1; }
printf '<html><body>Service Unavailable</body></html>\n' >www/notcert.html
# PKCS#12 bodies whose MAC or certificate-encryption iteration count is 2^31-1: --timeout bounds
# the download, not the decoding, so the reader's own limit (lib/p12.h) must refuse them.
CRAFT=${DBTRUST_BUILDDIR:-.}/tests/p12craft
openssl pkcs12 -export -nokeys -in www/root1.pem -passout pass:changeit -iter 2048 \
    -out small.p12 2>/dev/null && "$CRAFT" mac-iter 2147483647 small.p12 www/slow-mac.p12 &&
    "$CRAFT" safe-iter 2147483647 small.p12 www/slow-pbkdf2.p12 ||
    { echo "FAIL: making the PKCS#12 bodies with hostile iteration counts"; exit 1; }
cat www/root1.pem srv.pem >www/with-leaf.pem
# A published bundle whose second CA is a TRUSTED CERTIFICATE rejected for serverAuth.
openssl x509 -in www/root5.pem -addreject serverAuth -trustout -out reject5.pem &&
    cat www/root1.pem reject5.pem >www/trusted-reject.pem || { echo "FAIL: openssl x509 -trustout"; exit 1; }
# And one whose trust list is present but empty: OpenSSL trusts it for nothing.
openssl x509 -in www/root5.pem -addtrust serverAuth -trustout -out trust5.pem &&
    "$PY" "$SRCDIR/tests/lib/trustaux.py" trust5.pem empty5.pem empty-trust &&
    cat www/root1.pem empty5.pem >www/trusted-empty.pem || { echo "FAIL: making trusted-empty.pem"; exit 1; }
head -c $((17 * 1024 * 1024)) /dev/zero >www/huge.pem
# Two server certificates under root 1: one for an RDS endpoint name, one for a name outside
# rds.amazonaws.com (aws-rds's default scope).
for h in db.abc123.us-east-1.rds.amazonaws.com www.example.com; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -out "$h.csr" -subj "/CN=$h" 2>/dev/null &&
        openssl x509 -req -in "$h.csr" -CA www/root1.pem -CAkey www/root1.key -set_serial 9 \
            -days 30 -extfile <(printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$h") \
            -out "$h.pem" 2>/dev/null || { echo "FAIL: making the server certificate for $h"; exit 1; }
done
rm -f www/*.key
# The real AWS global bundle, PEM and PKCS#7 (108 roots, SOURCES.md), served as AWS serves it.
real=${DBTRUST_REALDATA:-}
if [ -n "$real" ] && [ -r "$real/aws-rds-global-bundle.pem" ] && [ -r "$real/aws-rds-global-bundle.p7b" ]; then
    ln -s "$real/aws-rds-global-bundle.pem" www/real-global-bundle.pem
    ln -s "$real/aws-rds-global-bundle.p7b" www/real-global-bundle.p7b
else
    real=
    echo "note: DBTRUST_REALDATA has no aws-rds-global-bundle.pem/.p7b; the real-bundle checks are skipped"
fi

# openssl s_server -WWW serves files from its working directory (one connection at a time).
dbt_https_serve www srv.pem srv.key || { echo "FAIL: the HTTPS mirror did not start"; exit 1; }
port=$dbt_https_port
base="https://localhost:$port"

# openssl s_server -WWW answers 200 even for a missing file, so the error answers come from a
# python3 HTTPS server: /missing.pem gets a 404, any other path a body that ends before its
# Content-Length (the connection is then closed cleanly, with a TLS close_notify).
cat >errors.py <<'EOF'
import os, socket, ssl, sys
body = open(sys.argv[1], "rb").read()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain("srv.pem", "srv.key")
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
with open("errors.port.tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename("errors.port.tmp", "errors.port")
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        req = t.recv(65536)
        if req.startswith(b"GET /missing.pem "):
            t.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n"
                      b"Connection: close\r\n\r\nnot found\n")
        else:
            t.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
            t.sendall(body[: len(body) // 2])
        t.unwrap()
        t.close()
    except (OSError, ssl.SSLError):
        c.close()
EOF
"$PY" errors.py www/global-bundle.pem >errors.log 2>&1 &
dbt_cleanup_push "kill $! 2>/dev/null"
for ((i = 0; i < 100; i++)); do [ -s errors.port ] && break; sleep 0.1; done
[ -s errors.port ] || { echo "FAIL: the python HTTPS server did not start: $(cat errors.log)"; exit 1; }
errsrv="https://localhost:$(cat errors.port)"

cat=$tmp/cat
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
# The catalog's state: its current generation, index and listing.
snapshot() {
    { readlink "$cat/current"; cat "$cat/certs/index"; "$DBTRUST" --catalog "$cat" list; } 2>&1
}
count_of() { # BUNDLE: its certificates as the catalog lists them
    "$DBTRUST" --catalog "$cat" list --bundle "$1" --json | jq 'length'
}

# ---- sources, with each default scope (doc/dbtrust.1 under fetch says why) ----
expect_rc 0 "$DBTRUST" sources
has out "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem" "sources"
has out "  scope:    rds.amazonaws.com (what fetch records" "sources: aws-rds's default scope"
has out "  scope:    aivencloud.com (to give import as --only-for)" "sources: aiven's scope hint"
[ "$(grep -c '^  scope:    none (the note says why)$' out)" = 3 ] ||
    fail "sources: aurora-dsql, azure and gcp-cloudsql do not each say they have no scope"
[ "$(grep -c '^  scope:' out)" = "$(grep -c '^  note:' out)" ] || fail "sources: a source shows no scope line"
expect_rc 0 "$DBTRUST" sources --json
[ "$(jq -r '.[] | select(.name=="aurora-dsql") | .urls | length' out)" = 4 ] ||
    fail "sources --json: aurora-dsql does not list 4 URLs"
[ "$(jq -r '.[] | select(.name=="gcp-cloudsql") | .fetch' out)" = false ] ||
    fail "sources --json: gcp-cloudsql is fetchable"
govscope="us-gov-west-1.rds.amazonaws.com us-gov-east-1.rds.amazonaws.com"
govscope="$govscope rds.us-gov-west-1.amazonaws.com rds.us-gov-east-1.amazonaws.com"
[ "$(jq -c '[.[] | .scope]' out)" = \
    "[[\"rds.amazonaws.com\"],$(jq -Rc 'split(" ")' <<<"$govscope"),null,null,null,[\"aivencloud.com\"]]" ] ||
    fail "sources --json: the scopes are $(jq -c '[.[] | {(.name): .scope}]' out)"

# ---- success: PEM as the default bundle name, with counts, origin and what was added ----
expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle.pem" \
    --ca-file httpsca.pem
has out "bundle 'aws-rds': 3 certificates (3 added, 0 removed) [new bundle]" "PEM fetch"
has out "+ $(fp www/root3.pem)" "PEM fetch lists the added root"
[ "$(count_of aws-rds)" = 3 ] || fail "aws-rds holds $(count_of aws-rds) certificates, not 3"
grep -qx "origin=$base/global-bundle.pem" "$cat/bundles/aws-rds.meta" ||
    fail "origin not recorded: $(cat "$cat/bundles/aws-rds.meta")"
grep -qx "sha256=$(sha256sum www/global-bundle.pem | cut -d' ' -f1)" "$cat/bundles/aws-rds.meta" ||
    fail "sha256 of the download not recorded"
# The scope a bundle's .meta records ("" when none).
scope_of() { sed -n 's/^scope=//p' "$cat/bundles/$1.meta"; }
[ "$(scope_of aws-rds)" = rds.amazonaws.com ] ||
    fail "aws-rds: the source's default scope is not recorded: $(cat "$cat/bundles/aws-rds.meta")"
# ... and OpenSSL's default trust through the catalog (what dbtrust env points at) holds it.
expect_rc 0 openssl verify -no-CAfile -no-CAstore -CApath "$cat/trust" \
    db.abc123.us-east-1.rds.amazonaws.com.pem
expect_rc 2 openssl verify -no-CAfile -no-CAstore -CApath "$cat/trust" www.example.com.pem
has err "permitted subtree violation" "a name outside the default scope is refused"

# ---- a changed upstream bundle: one root added, one removed ----
expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle-v2.pem" \
    --ca-file httpsca.pem
has out "bundle 'aws-rds': 3 certificates (1 added, 1 removed)" "updated bundle"
has out "+ $(fp www/root4.pem)" "updated bundle: added root"
has out "- $(fp www/root3.pem)" "updated bundle: removed root"

# ---- PKCS#7, a region's default name, and a source made of several files ----
expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --region us-east-1 \
    --url "$base/global-bundle.p7b" --ca-file httpsca.pem
[ "$(count_of aws-rds-us-east-1)" = 3 ] || fail "the .p7b bundle does not hold 3 certificates"
grep -qx "format=pkcs-7-der" "$cat/bundles/aws-rds-us-east-1.meta" || fail "p7b format not recorded"
[ "$(scope_of aws-rds-us-east-1)" = rds.amazonaws.com ] ||
    fail "a region's bundle does not get aws-rds's scope: '$(scope_of aws-rds-us-east-1)'"
# The source fetch records (what refresh reads): a region's bundle stays aws-rds's.
for b in aws-rds aws-rds-us-east-1; do
    grep -qx source=aws-rds "$cat/bundles/$b.meta" || fail "$b: source=aws-rds not recorded: $(cat "$cat/bundles/$b.meta")"
done
expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aurora-dsql --ca-file httpsca.pem \
    --url "$base/root1.pem" --url "$base/root2.pem" --url "$base/root3.pem" --url "$base/root5.pem"
[ "$(count_of aurora-dsql)" = 4 ] || fail "aurora-dsql does not hold 4 certificates"
[ -z "$(scope_of aurora-dsql)" ] || fail "aurora-dsql (public roots) got a scope: $(scope_of aurora-dsql)"
# What fetch records (origin of several URLs, format names) is what verify accepts.
expect_rc 0 "$DBTRUST" --catalog "$cat" verify
has out "sound" "verify after fetch"
[ "$(sed 1d "$cat/certs/index" | wc -l)" = 5 ] ||
    fail "the index does not hold the 5 distinct roots: $(cat "$cat/certs/index")"

expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --govcloud --url "$base/root5.pem" \
    --ca-file httpsca.pem
has out "bundle 'aws-rds-govcloud': 1 certificate (1 added, 0 removed) [new bundle]" \
    "GovCloud default bundle name"
[ "$(scope_of aws-rds-govcloud)" = "$govscope" ] ||
    fail "GovCloud: the scope is '$(scope_of aws-rds-govcloud)', not its endpoint domains"
grep -qx source=aws-rds-govcloud "$cat/bundles/aws-rds-govcloud.meta" ||
    fail "GovCloud: source=aws-rds-govcloud not recorded: $(cat "$cat/bundles/aws-rds-govcloud.meta")"
expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle aws-rds-govcloud

# ---- --only-for replaces the default, --unscoped records none, and a refresh without either
# keeps the scope a bundle has (never widened), while an unscoped bundle gets the default ----
fetch_scoped() { # BUNDLE OPTION...
    local b=$1
    shift
    expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --bundle "$b" --ca-file httpsca.pem \
        --url "$base/global-bundle.pem" "$@"
}
narrow="db.example.com .rds.amazonaws.com 10.0.0.0/8 2001:db8::/32"
fetch_scoped sc --only-for DB.Example.COM --only-for '*.rds.amazonaws.com' --only-for 10.0.0.0/8 \
    --only-for 2001:db8::/32
[ "$(scope_of sc)" = "$narrow" ] || fail "--only-for: the scope is '$(scope_of sc)', not '$narrow'"
fetch_scoped sc
[ "$(scope_of sc)" = "$narrow" ] || fail "a refresh without options changed the scope: '$(scope_of sc)'"
fetch_scoped sc --unscoped
[ -z "$(scope_of sc)" ] || fail "--unscoped left the scope '$(scope_of sc)'"
fetch_scoped sc
[ "$(scope_of sc)" = rds.amazonaws.com ] ||
    fail "a refresh of an unscoped bundle did not record the default: '$(scope_of sc)'"
fetch_scoped sc --only-for rds.amazonaws.com --only-for RDS.amazonaws.com
[ "$(scope_of sc)" = rds.amazonaws.com ] || fail "a name given twice is not kept once: '$(scope_of sc)'"
expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle sc

if [ -n "$real" ]; then
    expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --bundle real-pem --ca-file httpsca.pem \
        --url "$base/real-global-bundle.pem"
    has out "bundle 'real-pem': 108 certificates (108 added, 0 removed) [new bundle]" \
        "real global bundle (PEM)"
    expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aws-rds --bundle real-p7b --ca-file httpsca.pem \
        --url "$base/real-global-bundle.p7b"
    has out "bundle 'real-p7b': 108 certificates (108 added, 0 removed) [new bundle]" \
        "real global bundle (PKCS#7)"
    [ "$(sed 1d "$cat/certs/index" | grep -c ' real-p7b,real-pem$')" = 108 ] ||
        fail "the PEM and PKCS#7 real bundles do not hold the same 108 certificates"
    expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle real-pem
    expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle real-p7b
fi

# ---- failures: each names why and leaves the catalog exactly as it was ----
before=$(snapshot)
check_unchanged() {
    [ "$(snapshot)" = "$before" ] || fail "$1 changed the catalog"
    has err "the catalog is unchanged" "$1"
}
expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$errsrv/missing.pem" --ca-file httpsca.pem
has err "the server answered HTTP 404" "404"
check_unchanged "404"

expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$errsrv/global-bundle.pem" \
    --ca-file httpsca.pem
has err "the download was cut short" "truncated body"
check_unchanged "truncated body"

expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/notcert.html" \
    --ca-file httpsca.pem
has err "$base/notcert.html" "non-certificate body names the URL"
check_unchanged "non-certificate body"

for f in slow-mac slow-pbkdf2; do
    expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/$f.p12" --ca-file httpsca.pem
    has err "iteration count 2147483647, above the limit of 5000000" "$f.p12 refused by its count"
    has err "$base/$f.p12" "$f.p12: the message names the URL"
    check_unchanged "$f.p12"
done

expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/with-leaf.pem" \
    --ca-file httpsca.pem
has err "certificate 2 of $base/with-leaf.pem is not a CA (CN=localhost)" "leaf in body"
check_unchanged "leaf in body"

# A FIFO or a symlink planted as the catalog's lock: refused at once, never waited on.
for kind in fifo symlink; do
    if [ $kind = fifo ]; then mkfifo "$cat/.lock.bad"; else ln -s "$tmp/elsewhere" "$cat/.lock.bad"; fi
    mv "$cat/.lock" "$cat/.lock.good" && mv "$cat/.lock.bad" "$cat/.lock"
    DBT_CLI_TIMEOUT=20 expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds \
        --url "$base/global-bundle.pem" --ca-file httpsca.pem
    what=symlink; [ $kind = fifo ] && what=FIFO
    has err "lock file $cat/.lock is a $what, not a regular file" "$kind lock"
    [ ! -e "$tmp/elsewhere" ] || fail "the $kind lock's target was created"
    rm "$cat/.lock" && mv "$cat/.lock.good" "$cat/.lock"
    [ "$(snapshot)" = "$before" ] || fail "$kind lock: the catalog changed"
done
# Imported plain, it would be trusted for server authentication after all.
expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/trusted-reject.pem" \
    --ca-file httpsca.pem
has err "block 2 of $base/trusted-reject.pem (line $(($(wc -l <www/root1.pem) + 1))): its trust \
settings (rejected for serverAuth)" "restricted TRUSTED CERTIFICATE in body"
check_unchanged "restricted TRUSTED CERTIFICATE in body"
expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/trusted-empty.pem" \
    --ca-file httpsca.pem
has err "block 2 of $base/trusted-empty.pem (line $(($(wc -l <www/root1.pem) + 1))): its trust \
settings (trusted for nothing)" "TRUSTED CERTIFICATE with an empty trust list in body"
check_unchanged "TRUSTED CERTIFICATE with an empty trust list in body"

expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/huge.pem" --ca-file httpsca.pem
has err "larger than the 16 MiB limit" "oversized body"
check_unchanged "oversized body"

expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle-v2.pem" \
    --ca-file wrongca.pem
has err "the server's TLS certificate is not trusted" "wrong CA"
check_unchanged "wrong CA"

# Without --ca-file the system trust store decides, and it does not know the test CA.
expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle-v2.pem"
has err "the server's TLS certificate is not trusted" "system trust store"
check_unchanged "system trust store"

expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "http://localhost:$port/global-bundle.pem"
has err "only https:// URLs are allowed" "http URL"
check_unchanged "http URL"

# ---- usage errors ----
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch gcp-cloudsql
has err "gcloud sql instances describe" "gcp-cloudsql says how to get its CA"
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --region 'us east'
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aurora-dsql --region us-east-1
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --bundle ../x
# A bad --only-for value is refused before anything is downloaded, naming the value.
for bad in 'exa mple.com' 'bad_host!.example' 10.0.0.1/8 a..b.example .. '' \
    "$(printf 'x%.0s' {1..254}).example"; do
    expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle.pem" \
        --ca-file httpsca.pem --only-for ok.example --only-for "$bad"
    [ -n "$bad" ] && ! grep -qF -- "${bad:0:40}" err && fail "--only-for '$bad': the message does not name it: $(cat err)"
    grep -q downloading err && fail "--only-for '$bad': downloaded before refusing it"
done
# A control character in the value is shown escaped.
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle.pem" \
    --ca-file httpsca.pem --only-for $'evil\e[2J\nname.example'
"$PY" "$SRCDIR/tests/lib/hostile.py" scan err >scan.log || fail "--only-for: $(cat scan.log)"
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle.pem" \
    --ca-file httpsca.pem --only-for db.example --unscoped
has err "--only-for and --unscoped exclude each other" "--only-for with --unscoped"
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle.pem" \
    --ca-file httpsca.pem --unscoped --only-for db.example
has err "--only-for and --unscoped exclude each other" "--unscoped with --only-for"
many=()
for i in $(seq 65); do many+=(--only-for "h$i.example"); done
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --url "$base/global-bundle.pem" \
    --ca-file httpsca.pem "${many[@]}"
has err "a scope holds at most 64 names and ranges; 'h65.example' is one too many" \
    "65 --only-for values"
# URLs whose escaped list does not fit the origin whole: refresh would download a cut URL.
long=()
for i in 1 2 3 4 5 6; do long+=(--url "$base/global-bundle.pem?$(printf 'p%.0s' {1..180})$i"); done
expect_rc 2 "$DBTRUST" --catalog "$cat" fetch aws-rds --ca-file httpsca.pem "${long[@]}"
has err "the URLs are too long to be recorded as the bundle's origin (at most 1023 bytes" \
    "URLs too long for the origin"
grep -q downloading err && fail "URLs too long for the origin: downloaded before refusing them"
[ "$(snapshot)" = "$before" ] || fail "a usage error changed the catalog"

# ---- the origin is recorded escaped, by the rule import uses: URLs whose fragment (which curl
# does not send) holds a C1 control (CSI), a bidi override and malformed UTF-8 ----
frag=$'#\xc2\x9b[2J\xe2\x80\xae\xff\xc0'
shown='#\xc2\x9b[2J\xe2\x80\xae\xff\xc0'
scan() { "$PY" "$SRCDIR/tests/lib/hostile.py" scan "$@" >scan.log || fail "$(cat scan.log)"; }
expect_rc 0 "$DBTRUST" --catalog "$cat" fetch aurora-dsql --bundle hostile-origin \
    --url "$base/global-bundle.pem$frag" --url "$base/root5.pem$frag" --ca-file httpsca.pem
scan out err
meta=$cat/bundles/hostile-origin.meta
scan "$meta"
grep -qxF "origin=$base/global-bundle.pem$shown $base/root5.pem$shown" "$meta" ||
    fail "fetch: origin not recorded escaped: $(cat -v "$meta")"
[ "$(wc -l <"$meta")" = 8 ] && [ "$(grep -c "^scope=" "$meta")" = 1 ] && [ "$(grep -c '^count=' "$meta")" = 1 ] &&
    [ "$(sed -n 7p "$meta")" = source=aurora-dsql ] && grep -qE '^refreshed=20[0-9-]{8}T[0-9:]{8}Z$' "$meta" ||
    fail "fetch: the .meta file is not its 8 lines (scope=, source=, refreshed= the last): $(cat -v "$meta")"
expect_rc 0 "$DBTRUST" --catalog "$cat" import --bundle hostile-import \
    --origin "$base/global-bundle.pem$frag $base/root5.pem$frag" www/global-bundle.pem www/root5.pem
[ "$(grep '^origin=' "$meta")" = "$(grep '^origin=' "$cat/bundles/hostile-import.meta")" ] ||
    fail "fetch and import record the same URLs differently: $(grep -h '^origin=' "$cat"/bundles/hostile-*.meta | cat -v)"
expect_rc 0 "$DBTRUST" --catalog "$cat" verify
for v in list "list --json" "-list -v"; do
    # shellcheck disable=SC2086 # the command's words
    expect_rc 0 "$DBTRUST" --catalog "$cat" $v
    scan out err
done
# Controls curl refuses in a URL (ESC, newline, DEL): the error shows them escaped and no
# origin is recorded.
before=$(snapshot)
for bad in $'\e[31m' $'\ncount=99' $'\x7f'; do
    expect_rc 1 "$DBTRUST" --catalog "$cat" fetch aws-rds --bundle bad-url \
        --url "$base/global-bundle.pem#$bad" --ca-file httpsca.pem
    scan out err
    has err "$base/global-bundle.pem#" "a URL curl refuses is named"
    check_unchanged "a URL with control characters"
    [ ! -e "$cat/bundles/bad-url.meta" ] || fail "a refused URL left a .meta file"
done

exit $failed
