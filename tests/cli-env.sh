#!/bin/bash
# dbtrust env (and env --lazy) quoting for sh and systemd. Inherited SSL_CERT_DIR entries and
# catalog paths holding a space, quotes, '$', a backtick, a backslash and systemd '%' specifiers
# come out as the same bytes: eval'd by dash and bash, and as systemd itself parses them
# (systemd --test dumps the environment of a unit it loaded, run as nobody; systemd-analyze
# verify must not warn). Entries holding a tab, a newline, ESC or bytes that are not UTF-8 are
# dropped with a warning while the catalog's entry stays; a catalog path that cannot be passed
# on (':' or a control character) is refused with exit 1.
# NODE_EXTRA_CA_CERTS (env and env --lazy) names <catalog>/trust.pem, quoted the same way; the
# file holds exactly the certificates of <catalog>/trust in link order (compared by
# fingerprint), follows every import and remove, carries a scoped bundle as its cross-
# certificate and anchor (never the raw root), is empty for an empty catalog, and an open copy
# stays whole across a change.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
SYSTEMD=/lib/systemd/systemd
if ! command -v systemd-analyze >/dev/null 2>&1 || [ ! -x "$SYSTEMD" ]; then
    dbt_apt_ensure systemd || {
        dbt_skip_reason "systemd (systemd-analyze and $SYSTEMD) is needed to parse the units"
        exit 77
    }
fi
dbt_cli_start openssl dash bash setpriv "$PY"
# systemd --test refuses to run as root: it runs as nobody, who must reach the units.
chmod 755 "$tmp"
mkdir units && chmod 755 units

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=Env Test CA" -addext "basicConstraints=critical,CA:TRUE" -days 30 \
    -out ca.pem >/dev/null 2>&1 || {
    echo "FAIL: could not make a CA"
    exit 1
}
# mkcat DIR: a catalog at DIR with one bundle.
mkcat() { "$DBTRUST" --catalog "$1" import --bundle env ca.pem >/dev/null; }

# sh_value SHELL VAR: VAR's value after SHELL evals the output in ./out, with a '|' after it so
# that trailing newlines survive the command substitution.
sh_value() { "$1" -c 'eval "$(cat out)" && printf "%s|" "$'"$2"'"'; }

# sd_value VAR [--may-warn]: sets got to VAR as systemd parses ./out placed in a unit's
# [Service] section, with a '|' after it ("" when systemd dropped the assignment).
# systemd-analyze verify must have nothing to say about the unit unless --may-warn.
n=0
sd_value() {
    local unit
    n=$((n + 1))
    unit=units/dbtenv$n.service
    { printf '[Unit]\nDescription=dbtrust env %s\n[Service]\nType=oneshot\nExecStart=/bin/true\n' "$n"
        cat out; } >"$unit"
    chmod 644 "$unit"
    systemd-analyze verify "$unit" >verify.log 2>&1 || fail "systemd-analyze verify $unit failed"
    [ "${2:-}" = --may-warn ] || ! grep -F "$unit" verify.log ||
        fail "systemd-analyze verify warns about $unit: $(cat out)"
    SYSTEMD_UNIT_PATH=$tmp/units: HOME=/ setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$SYSTEMD" --test --system --unit="dbtenv$n.service" --log-target=console \
        >dump.log 2>&1
    got=$(awk -v u="-> Unit dbtenv$n.service:" -v v="$1" '
        index($0, u) { on = 1; next }
        /-> Unit / { on = 0 }
        on && index($0, "\tEnvironment: " v "=") { sub(/^\t*Environment: [^=]*=/, ""); printf "%s|", $0 }
    ' dump.log)
}

# check WHAT VAR WANT: VAR comes out as WANT for dash, bash and systemd.
check() {
    local what=$1 var=$2 want=$3 sh got
    for sh in dash bash; do
        expect_rc 0 "$DBTRUST" --catalog "$cat" env ${lazy:+--lazy}
        got=$(sh_value "$sh" "$var")
        [ "$got" = "$want|" ] || fail "$what: $sh gets $var=$(printf '%s' "$got" | od -c | head -5)"
    done
    expect_rc 0 "$DBTRUST" --catalog "$cat" env ${lazy:+--lazy} --shell systemd
    sd_value "$var"
    [ "$got" = "$want|" ] ||
        fail "$what: systemd gets $var=$(printf '%s' "$got" | od -c | head -5) from $(cat out)"
}

# ---- the harness: a tab splits an unquoted assignment, as systemd parses it (what came after
# the tab, the catalog's entry, was lost) ----
printf 'Environment=X=/a\tb:/c\n' >out
sd_value X --may-warn
[ "$got" = "/a|" ] || fail "harness: systemd did not cut X at the tab: $got"
grep -q "Invalid environment assignment" verify.log ||
    fail "harness: systemd-analyze verify did not warn about the split assignment"
printf 'Environment="X=/a b%%%%c"\n' >out
sd_value X
[ "$got" = "/a b%c|" ] || fail "harness: systemd --test dump not read: $got"

# ---- inherited entries with characters special to sh or systemd are passed on ----
cat=$tmp/catalog
mkcat "$cat" || fail "import into $cat"
odd="/srv/a b/'q'/\"d\"/\$HOME/\`id\`/b\\s/%h%%i/é"
for lazy in "" 1; do
    mode=${lazy:+env --lazy}
    mode=${mode:-env}
    if [ -n "$lazy" ]; then
        export DBTRUST_SYSTEM_CERT_FILE=$tmp/no-bundle.crt DBTRUST_SYSTEM_CERT_DIR="$odd:/etc/x"
        check "$mode" SSL_CERT_FILE "$cat/empty.pem"
    else
        export SSL_CERT_DIR="$odd:/etc/x"
    fi
    check "$mode: special characters" SSL_CERT_DIR "$odd:/etc/x:$cat/trust"
    check "$mode" NODE_EXTRA_CA_CERTS "$cat/trust.pem"
    unset SSL_CERT_DIR DBTRUST_SYSTEM_CERT_DIR
done

# ---- entries that cannot be written safely are dropped, the catalog's entry stays ----
for bad in $'/a\tb' $'/n\nl' $'/e\e[31m' $'/x\xff' $'/c\xc2\x9b'; do
    for lazy in "" 1; do
        if [ -n "$lazy" ]; then
            export DBTRUST_SYSTEM_CERT_DIR="/keep:$bad:/etc/x"
        else
            export SSL_CERT_DIR="/keep:$bad:/etc/x"
        fi
        what="${lazy:+lazy }entry $(printf '%q' "$bad")"
        check "$what" SSL_CERT_DIR "/keep:/etc/x:$cat/trust"
        has err "dropping '" "$what: warning"
        "$PY" "$SRCDIR/tests/lib/hostile.py" scan err >scan.log || fail "$what: $(cat scan.log)"
        unset SSL_CERT_DIR DBTRUST_SYSTEM_CERT_DIR
    done
done

# ---- a catalog path with special characters is the entry that is never lost ----
cat2="$tmp/c a't\"l\$x\`y\`\\z%h%%"
mkcat "$cat2" || fail "import into $cat2"
cat=$cat2
lazy=
SSL_CERT_DIR=/etc/x check "catalog path" SSL_CERT_DIR "/etc/x:$cat2/trust"
check "catalog path" NODE_EXTRA_CA_CERTS "$cat2/trust.pem"
lazy=1
DBTRUST_SYSTEM_CERT_DIR=/etc/x check "lazy catalog path" SSL_CERT_FILE "$cat2/empty.pem"
DBTRUST_SYSTEM_CERT_DIR=/etc/x check "lazy catalog path" SSL_CERT_DIR "/etc/x:$cat2/trust"
DBTRUST_SYSTEM_CERT_DIR=/etc/x check "lazy catalog path" NODE_EXTRA_CA_CERTS "$cat2/trust.pem"
unset DBTRUST_SYSTEM_CERT_FILE

# ---- catalog paths that cannot be passed on: refused, nothing printed ----
for bad in "$tmp/co:lon" "$tmp/"$'ta\tb' "$tmp/"$'new\nline' "$tmp/"$'esc\e[31m'; do
    mkcat "$bad" || fail "import into $(printf '%q' "$bad")"
    for shell in sh systemd; do
        expect_rc 1 "$DBTRUST" --catalog "$bad" env --shell "$shell"
        [ -s out ] && fail "env printed $(cat out) for catalog $(printf '%q' "$bad")"
        grep -qF -e "use another catalog path" -e "use a catalog path without ':'" err ||
            fail "catalog $(printf '%q' "$bad"): no refusal saying what to do: $(od -c err | head)"
        "$PY" "$SRCDIR/tests/lib/hostile.py" scan err >scan.log || fail "$(cat scan.log)"
    done
done

# SSL_CERT_DIR set but empty: OpenSSL then reads no directory (not its default one), so env
# must pass on the catalog alone rather than turn the system directory back on; and the empty
# entries of a list are dropped with a warning, as the help says.
mkcat "$PWD/ecat"
SSL_CERT_DIR= "$DBTRUST" --catalog "$PWD/ecat" env >out 2>err || fail "env with SSL_CERT_DIR='': $(cat err)"
got=$(SSL_CERT_DIR= sh_value dash SSL_CERT_DIR)
[ "$got" = "$PWD/ecat/trust|" ] || fail "env with SSL_CERT_DIR='' gives '$got', wanted the catalog alone"
if [ -n "${ISRG:=$(ls /usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt 2>/dev/null)}" ]; then
    # the fact the rule rests on, on this OpenSSL
    SSL_CERT_FILE=/nonexistent SSL_CERT_DIR= openssl verify "$ISRG" >/dev/null 2>&1 &&
        fail "OpenSSL read a directory with SSL_CERT_DIR=''"
fi
for v in "/a::/b" ":/a" "/a:"; do
    SSL_CERT_DIR=$v "$DBTRUST" --catalog "$PWD/ecat" env >out 2>err || fail "env with SSL_CERT_DIR=$v"
    grep -q "dropping an empty entry" err || fail "SSL_CERT_DIR=$v: no warning for the empty entry: $(cat err)"
    got=$(sh_value dash SSL_CERT_DIR)
    want=$(tr -s ':' <<<"${v#:}")
    want=${want%:}
    [ "$got" = "$want:$PWD/ecat/trust|" ] || fail "SSL_CERT_DIR=$v gives '$got'"
done


# ---- NODE_EXTRA_CA_CERTS: the trust view as one PEM file ----
# mkca NAME CN: a self-signed CA NAME.pem.
mkca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -days 30 -out "$1.pem" \
        >/dev/null 2>&1 || fail "could not make CA $1"
}
mkca two "Env Test CA Two"
mkca sc "Env Test Scoped CA"
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }
# pem_fps FILE: the SHA-256 of each block of FILE in order, one a line; a file that is not
# CERTIFICATE blocks and nothing else prints "not-only-blocks".
pem_fps() {
    "$PY" - "$1" <<'PY'
import base64, hashlib, re, sys
t = open(sys.argv[1], "rb").read().decode("ascii")
blk = r"-----BEGIN CERTIFICATE-----\n((?:[A-Za-z0-9+/=]{1,64}\n)+)-----END CERTIFICATE-----\n"
if not re.fullmatch("(?:%s)*" % blk, t):
    print("not-only-blocks")
for m in re.finditer(blk, t):
    print(hashlib.sha256(base64.b64decode(m.group(1))).hexdigest())
PY
}
# view_fps DIR: the SHA-256 of the certificate behind each <hash>.<n> link of DIR, in link
# order (hash, then n), as OpenSSL's hashed lookup would read them.
view_fps() {
    local l
    for l in $(cd "$1" && ls | grep -E '^[0-9a-f]{8}\.[0-9]+$' | sort -t. -k1,1 -k2,2n); do
        fp "$1/$l"
    done
}
# same_view WHAT: <catalog>/trust.pem holds exactly the certificates of <catalog>/trust.
same_view() {
    local got want
    got=$(pem_fps "$ncat/trust.pem")
    want=$(view_fps "$ncat/trust")
    [ -n "$want" ] || [ ! -s "$ncat/trust.pem" ] || fail "$1: an empty view but trust.pem is not empty"
    [ "$got" = "$want" ] || fail "$1: trust.pem holds
$got
but <catalog>/trust holds
$want"
}
# node_path WHAT: env's NODE_EXTRA_CA_CERTS (sh and lazy forms) is <catalog>/trust.pem.
node_path() {
    local got
    expect_rc 0 "$DBTRUST" --catalog "$ncat" env
    got=$(sh_value dash NODE_EXTRA_CA_CERTS)
    [ "$got" = "$ncat/trust.pem|" ] || fail "$1: env gives NODE_EXTRA_CA_CERTS=$got"
    DBTRUST_SYSTEM_CERT_FILE=$tmp/no-bundle.crt DBTRUST_SYSTEM_CERT_DIR=/etc/x \
        expect_rc 0 "$DBTRUST" --catalog "$ncat" env --lazy
    got=$(sh_value dash NODE_EXTRA_CA_CERTS)
    [ "$got" = "$ncat/trust.pem|" ] || fail "$1: env --lazy gives NODE_EXTRA_CA_CERTS=$got"
}
ncat=$tmp/ncat
ca=$(fp ca.pem) two=$(fp two.pem) sc=$(fp sc.pem)
mkcat "$ncat" || fail "import into $ncat"
node_path "one bundle"
same_view "one bundle"
[ "$(pem_fps "$ncat/trust.pem")" = "$ca" ] || fail "one bundle: trust.pem is not the one CA"
[ "$(readlink "$ncat/trust.pem")" = current/trust.pem ] ||
    fail "<catalog>/trust.pem is not the fixed link into the current generation"
cp "$ncat/trust.pem" before.pem
exec 3<"$ncat/trust.pem"
expect_rc 0 "$DBTRUST" --catalog "$ncat" import --bundle two two.pem
same_view "after an import"
grep -qx "$two" <<<"$(pem_fps "$ncat/trust.pem")" || fail "after an import: the new CA is not in trust.pem"
grep -qx "$ca" <<<"$(pem_fps "$ncat/trust.pem")" || fail "after an import: the old CA left trust.pem"
cmp -s before.pem - <&3 || fail "a trust.pem opened before an import changed under its reader"
exec 3<&-
node_path "after an import"
# A scoped bundle is in it as its name-constrained cross-certificate and the local anchor that
# signed it, as in <catalog>/trust, and never as the raw root.
expect_rc 0 "$DBTRUST" --catalog "$ncat" import --bundle sc --only-for db.scope.test sc.pem
same_view "after a scoped import"
fps=$(pem_fps "$ncat/trust.pem")
grep -qx "$sc" <<<"$fps" && fail "a scoped import put the raw root into trust.pem"
[ "$(wc -l <<<"$fps")" = 4 ] || fail "after a scoped import: $(wc -l <<<"$fps") certificates, wanted 2 + cross-certificate + anchor"
"$PY" - "$ncat/trust.pem" >blocks.txt <<'PY' || fail "cannot split trust.pem"
import re, sys
for i, b in enumerate(re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", open(sys.argv[1]).read(), re.S)):
    open("blk%d.pem" % i, "w").write(b)
PY
cross=0 anchor=0
for b in blk*.pem; do
    subj=$(openssl x509 -in "$b" -noout -subject -nameopt RFC2253)
    iss=$(openssl x509 -in "$b" -noout -issuer -nameopt RFC2253)
    if [ "${subj#subject=}" = "CN=Env Test Scoped CA" ]; then
        cross=$((cross + 1))
        [ "${iss#issuer=}" != "CN=Env Test Scoped CA" ] || fail "the scoped CA's entry is self-signed (the raw root)"
        openssl x509 -in "$b" -noout -text | grep -A2 "Name Constraints: critical" | grep -q "DNS:db.scope.test" ||
            fail "the cross-certificate in trust.pem carries no name constraint for db.scope.test"
        cross_issuer=${iss#issuer=}
    fi
done
for b in blk*.pem; do
    subj=$(openssl x509 -in "$b" -noout -subject -nameopt RFC2253)
    [ "${subj#subject=}" = "${cross_issuer:-none}" ] && anchor=$((anchor + 1)) &&
        { openssl verify -no-CAfile -no-CApath -CAfile "$b" -partial_chain "$b" >/dev/null 2>&1 ||
            fail "the anchor in trust.pem is not self-signed"; }
done
[ $cross = 1 ] && [ $anchor = 1 ] || fail "trust.pem holds $cross cross-certificates and $anchor anchors, wanted one of each"
rm -f blk*.pem
expect_rc 0 "$DBTRUST" --catalog "$ncat" import --bundle sc --unscoped sc.pem
same_view "after --unscoped"
grep -qx "$sc" <<<"$(pem_fps "$ncat/trust.pem")" || fail "after --unscoped: the raw root is not in trust.pem"
expect_rc 0 "$DBTRUST" --catalog "$ncat" remove --bundle env
same_view "after a remove"
grep -qx "$ca" <<<"$(pem_fps "$ncat/trust.pem")" && fail "after a remove: the removed CA is still in trust.pem"
for b in two sc; do expect_rc 0 "$DBTRUST" --catalog "$ncat" remove --bundle $b; done
[ -f "$ncat/trust.pem" ] && [ ! -s "$ncat/trust.pem" ] ||
    fail "an empty catalog's trust.pem is not an empty file: $(ls -lL "$ncat/trust.pem" 2>&1)"
node_path "an empty catalog"
expect_rc 0 "$DBTRUST" --catalog "$ncat" verify
# A catalog last written by a dbtrust without trust.pem: no line naming nothing, a warning.
mkcat "$PWD/old"
rm "$PWD/old/trust.pem" "$PWD/old/$(readlink "$PWD/old/current")/trust.pem"
expect_rc 0 "$DBTRUST" --catalog "$PWD/old" env
grep -q NODE_EXTRA_CA_CERTS out && fail "env names a trust.pem the catalog does not have: $(cat out)"
has err "has no trust.pem yet" "env without trust.pem warns"
has out "SSL_CERT_DIR=" "env without trust.pem still prints SSL_CERT_DIR"

exit $failed
