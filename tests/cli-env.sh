#!/bin/bash
# dbtrust env (and env --lazy) quoting for sh and systemd. Inherited SSL_CERT_DIR entries and
# catalog paths holding a space, quotes, '$', a backtick, a backslash and systemd '%' specifiers
# come out as the same bytes: eval'd by dash and bash, and as systemd itself parses them
# (systemd --test dumps the environment of a unit it loaded, run as nobody; systemd-analyze
# verify must not warn). Entries holding a tab, a newline, ESC or bytes that are not UTF-8 are
# dropped with a warning while the catalog's entry stays; a catalog path that cannot be passed
# on (':' or a control character) is refused with exit 1.
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
lazy=1
DBTRUST_SYSTEM_CERT_DIR=/etc/x check "lazy catalog path" SSL_CERT_FILE "$cat2/empty.pem"
DBTRUST_SYSTEM_CERT_DIR=/etc/x check "lazy catalog path" SSL_CERT_DIR "/etc/x:$cat2/trust"
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

exit $failed
