#!/usr/bin/env bash
# dbtrust system enable|disable|status --provider: the system-wide provider through the
# distribution's own openssl.cnf. In a private mount namespace with a copy of /etc/ssl (the real
# one is never touched) on OpenSSL 3.0, and in a throwaway overlay of the Debian 13 root on
# OpenSSL 3.5: enable then disable gives back each layout's file (tests/openssl-cnf/ and the
# real Debian 12 and 13 files) byte for byte, a second enable changes nothing, the default
# provider stays active (TLS with a hashed-directory CA verifies), `dbtrust://` works with no
# OPENSSL_CONF, and with the module deleted or replaced by garbage openssl, curl (python3's ssl
# on 3.5, where curl is not installed) and psql with sslmode=verify-full still work. Refusals:
# a missing or broken module, a hand-edited block (named by line), a FIFO. On 3.5, reinstalling
# the openssl package with --force-confold keeps the wiring and with --force-confnew drops it,
# which status reports.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF OPENSSL_MODULES
unset DBTRUST_SYSTEM_OPENSSL_CNF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}
MODULE=${DBTRUST_MODULE:-${DBTRUST_BUILDDIR:-$PWD}/.libs/dbtrust.so}

# Only the CLI runs here, and OpenSSL programs load the provider: the sanitizer pass leaves it
# out (the editor runs under ASan+UBSan in tests/test_cnfedit).
[ -z "${DBTRUST_SANITIZED:-}" ] || {
    echo "SKIP: runs in the normal pass (sanitizer build: the editor is in test_cnfedit)"
    exit 77
}
. "$src/tests/lib/common.sh"
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/tests/lib/pgserver.sh"
. "$src/tests/lib/trixie.sh"
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-sysprov.XXXXXX") || exit 1
chmod 755 "$w"
# Registered first, so it runs last: after the libraries' own cleanups (servers, the session).
cleanup() {
    [ -z "${srv_pid:-}" ] || kill "$srv_pid" 2>/dev/null
    umount /etc/ssl 2>/dev/null
    rm -rf "$w"
}
dbt_cleanup_push cleanup

# /etc/ssl: a copy of the real one, mounted over it in this namespace only.
cp -a /etc/ssl "$w/etc-ssl" && mount --bind "$w/etc-ssl" /etc/ssl &&
    dbt_sysiso_is_mount /etc/ssl || { echo "Bail out! cannot isolate /etc/ssl"; exit 1; }
ossldir=$(openssl version -d | sed 's/^OPENSSLDIR: "//; s/"$//')
modulesdir=$(openssl version -m | sed 's/^MODULESDIR: "//; s/"$//')
syscnf=$ossldir/openssl.cnf
[ -f "$syscnf" ] || { echo "Bail out! $syscnf is not there"; exit 1; }
real=$(realpath "$syscnf")
case $real in
/etc/ssl/*) ;;
*) echo "Bail out! $syscnf is $real, outside the isolated /etc/ssl"; exit 1 ;;
esac

pki=$w/pki
dbt_demo_pki "$pki" localhost >/dev/null 2>&1 || { echo "Bail out! demo PKI failed"; exit 1; }
mkdir "$w/hdir" && cp "$pki/root-rsa2048.pem" "$w/hdir/" && openssl rehash "$w/hdir" 2>/dev/null
export DBTRUST_CATALOG=$w/catalog
"$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem" || { echo "Bail out! import"; exit 1; }
mkdir "$w/mod"
cp "$MODULE" "$(dirname "$MODULE")/dbtrust-store.so" "$w/mod/" || { echo "Bail out! module"; exit 1; }
mod=$w/mod/dbtrust.so

# --------------------------------------------------------------- the editor on every layout
fixture() {
    sed "s#@POLICY@#$src/tests/openssl-cnf/crypto-policy.config#" "$src/tests/openssl-cnf/$1"
}
roundtrip() { # NAME FILE
    local name=$1 f=$2
    cp -p "$f" "$w/orig"
    expect "$name: enable" ok "enabled: provider" env DBTRUST_SYSTEM_OPENSSL_CNF="$f" \
        "$DBTRUST" system enable --provider --module "$mod" || return
    cp -p "$f" "$w/once"
    expect "$name: enable again changes nothing" ok "already enabled, nothing changed" \
        env DBTRUST_SYSTEM_OPENSSL_CNF="$f" "$DBTRUST" system enable --provider --module "$mod"
    cmp -s "$f" "$w/once" && ok "$name: the second enable left the same bytes" ||
        not_ok "$name: the second enable changed the file"
    expect "$name: openssl reads dbtrust and default as active" ok "dbtrust catalog store" \
        env OPENSSL_CONF="$f" openssl list -providers
    expect "$name: disable" ok "disabled:" env DBTRUST_SYSTEM_OPENSSL_CNF="$f" \
        "$DBTRUST" system disable --provider
    cmp -s "$f" "$w/orig" && ok "$name: disable gives back the file byte for byte" ||
        not_ok "$name: after disable the file differs: $(diff "$w/orig" "$f" | head -5)"
}
for l in debian12.cnf debian13.cnf fedora.cnf custom-names.cnf; do
    fixture "$l" >"$w/$l"
    roundtrip "$l" "$w/$l"
done

# --------------------------------------------------------------- refusals
cp "$w/debian13.cnf" "$w/r.cnf"
cp "$w/r.cnf" "$w/r.orig"
export DBTRUST_SYSTEM_OPENSSL_CNF=$w/r.cnf
expect "enable refuses a missing module" fail "$w/nonexistent.so" \
    "$DBTRUST" system enable --provider --module "$w/nonexistent.so"
head -c 4096 /dev/urandom >"$w/garbage.so"
expect "enable refuses a module OpenSSL cannot load" fail "cannot load $w/garbage.so" \
    "$DBTRUST" system enable --provider --module "$w/garbage.so"
if [ ! -e "$modulesdir/dbtrust.so" ]; then
    expect "enable without --module refuses when $modulesdir/dbtrust.so is missing" fail \
        "$modulesdir/dbtrust.so" "$DBTRUST" system enable --provider
fi
cmp -s "$w/r.cnf" "$w/r.orig" && ok "refused enables left the file as it was" ||
    not_ok "a refused enable changed the file"
"$DBTRUST" system enable --provider --module "$mod" >/dev/null
sed -i 's/^soft_load = 1$/soft_load = 0/' "$w/r.cnf"
cp "$w/r.cnf" "$w/r.edited"
line=$(grep -n '^soft_load = 0$' "$w/r.cnf" | cut -d: -f1)
expect "disable refuses a hand-edited block, naming the line" fail \
    "line $line: 'soft_load = 0' is inside dbtrust's marked block" \
    "$DBTRUST" system disable --provider
expect "enable refuses it too" fail "line $line:" "$DBTRUST" system enable --provider --module "$mod"
cmp -s "$w/r.cnf" "$w/r.edited" && ok "the hand-edited file was left as it was" ||
    not_ok "a refused disable changed the file"
mkfifo "$w/fifo"
expect "a FIFO is refused, not opened" fail "not a regular file" env \
    DBTRUST_SYSTEM_OPENSSL_CNF="$w/fifo" timeout 10 "$DBTRUST" system enable --provider \
    --module "$mod"
unset DBTRUST_SYSTEM_OPENSSL_CNF

# --------------------------------------------------------------- the real file, OpenSSL 3.0
port=$(dbt_pg_free_port) || exit 1
openssl s_server -accept "127.0.0.1:$port" -cert "$pki/server.pem" -cert_chain "$pki/intermediate.pem" -key "$pki/server.key" \
    -www -quiet >/dev/null 2>&1 &
srv_pid=$!
pg=
if dbt_pg_start --ssl "$pki/server-chain.pem" "$pki/server.key" >"$w/pg.log" 2>&1; then
    pg=$DBT_PG_PORT
else
    echo "# no PostgreSQL server here ($(tail -n 1 "$w/pg.log")): psql checks left out"
fi
sleep 1
sclient() {
    echo | openssl s_client -connect "127.0.0.1:$port" -servername localhost -CApath "$w/hdir" \
        -no-CAfile -verify_hostname localhost -verify_return_error 2>&1
}
clients30() { # LABEL
    expect "$1: openssl version" ok "OpenSSL 3.0" openssl version
    expect "$1: s_client verifies through a hashed-dir CA" ok "Verify return code: 0 (ok)" sclient
    expect "$1: curl verifies" ok "" curl -sS -o /dev/null --capath "$w/hdir" \
        --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/"
    [ -z "$pg" ] || expect "$1: psql sslmode=verify-full" ok "=1" psql -XAt -c 'select 1' \
        "host=localhost hostaddr=127.0.0.1 port=$pg user=$DBT_PG_USER dbname=$DBT_PG_DB sslmode=verify-full sslrootcert=$pki/root-rsa2048.pem"
}
stat -c '%u %g %a' "$real" >"$w/owner"
cp -p "$real" "$w/real.orig"
expect "3.0: enable on $syscnf" ok "in $real" "$DBTRUST" system enable --provider --module "$mod"
[ -L "$syscnf" ] || [ "$syscnf" = "$real" ] && ok "3.0: $syscnf is still what it was (a link stays a link)" ||
    not_ok "3.0: $syscnf was replaced"
[ "$(stat -c '%u %g %a' "$real")" = "$(cat "$w/owner")" ] && ok "3.0: owner and mode kept" ||
    not_ok "3.0: owner or mode changed"
expect "3.0: status --provider" ok "module $mod loads" "$DBTRUST" system status --provider
expect "3.0: openssl list -providers: dbtrust active" ok "status: active" sh -c \
    'openssl list -providers | grep -A3 "^  dbtrust"'
expect "3.0: openssl list -providers: default active too" ok "status: active" sh -c \
    'openssl list -providers | grep -A3 "^  default"'
expect "3.0: storeutl dbtrust:// through the system file" ok "Total found: 3" \
    openssl storeutl -noout -certs 'dbtrust://'
clients30 "3.0 wired"
rm "$w/mod/dbtrust.so"
clients30 "3.0 module deleted"
expect "3.0: status --provider says the module is missing" fail "No such file" \
    "$DBTRUST" system status --provider
cp "$w/garbage.so" "$w/mod/dbtrust.so"
clients30 "3.0 module is garbage"
expect "3.0: status --provider says it cannot be loaded" fail "cannot load" \
    "$DBTRUST" system status --provider
expect "3.0: disable" ok "disabled:" "$DBTRUST" system disable --provider
cmp -s "$real" "$w/real.orig" && ok "3.0: the real file is back byte for byte" ||
    not_ok "3.0: the real file differs after disable"
expect "3.0: status after disable" ok "not wired" "$DBTRUST" system status --provider
cp "$MODULE" "$w/mod/dbtrust.so"

# --------------------------------------------------------------- Debian 13, OpenSSL 3.5
dbt_trixie_ensure
trixie=$?
if [ "$trixie" -eq 0 ] && dbt_trixie_session; then
    tw=$DBT_TRIXIE_WORK
    mkdir -p "$tw/mod"
    cp "$DBTRUST" "$tw/dbtrust" && cp "$w/mod/dbtrust.so" "$w/mod/dbtrust-store.so" "$tw/mod/" &&
        cp -a "$pki" "$w/hdir" "$w/garbage.so" "$tw/" && cp -a "$w/catalog" "$tw/catalog" ||
        { echo "Bail out! cannot fill $tw"; exit 1; }
    chmod 755 "$tw"
    T() { dbt_trixie_run -- "$@"; }
    en35() { T /dbt/dbtrust --catalog /dbt/catalog system enable --provider --module /dbt/mod/dbtrust.so; }
    T cp -p /etc/ssl/openssl.cnf /dbt/orig13.cnf
    expect "3.5: the Debian 13 root has OpenSSL 3.5" ok "OpenSSL 3.5." T openssl version
    expect "3.5: enable on the real Debian 13 file" ok "in /etc/ssl/openssl.cnf" en35
    T cp -p /etc/ssl/openssl.cnf /dbt/once13.cnf
    expect "3.5: enable again changes nothing" ok "already enabled, nothing changed" en35
    expect "3.5: disable" ok "disabled:" T /dbt/dbtrust system disable --provider
    expect "3.5: the Debian 13 file is back byte for byte" ok "" T cmp /etc/ssl/openssl.cnf \
        /dbt/orig13.cnf
    expect "3.5: enable" ok "enabled:" en35
    expect "3.5: openssl list -providers: dbtrust and default active" ok "" \
        T sh -c 'openssl list -providers | grep -A3 "^  dbtrust" | grep -q "status: active" &&
            openssl list -providers | grep -A3 "^  default" | grep -q "status: active"'
    expect "3.5: storeutl dbtrust:// through the system file" ok "Total found: 3" \
        T openssl storeutl -noout -certs 'dbtrust://'
    clients35() { # LABEL
        expect "$1: openssl version" ok "OpenSSL 3.5" T openssl version
        expect "$1: s_client verifies through a hashed-dir CA" ok "Verify return code: 0 (ok)" \
            T sh -c "echo | openssl s_client -connect 127.0.0.1:$port -servername localhost \
                -CApath /dbt/hdir -no-CAfile -verify_hostname localhost -verify_return_error 2>&1"
        expect "$1: python3 ssl verifies" ok "verified" T python3 -c "
import socket, ssl
c = ssl.create_default_context(capath='/dbt/hdir')
s = c.wrap_socket(socket.create_connection(('127.0.0.1', $port)), server_hostname='localhost')
print('verified', s.version())"
        [ -z "$pg" ] || expect "$1: psql 17 sslmode=verify-full" ok "=1" T \
            /usr/lib/postgresql/17/bin/psql -XAt -c 'select 1' \
            "host=localhost hostaddr=127.0.0.1 port=$pg user=$DBT_PG_USER dbname=$DBT_PG_DB sslmode=verify-full sslrootcert=/dbt/pki/root-rsa2048.pem"
    }
    clients35 "3.5 wired"
    T rm /dbt/mod/dbtrust.so
    clients35 "3.5 module deleted"
    T cp /dbt/garbage.so /dbt/mod/dbtrust.so
    clients35 "3.5 module is garbage"
    expect "3.5: status --provider says it cannot be loaded" fail "cannot load" \
        T /dbt/dbtrust system status --provider
    cp "$w/mod/dbtrust.so" "$tw/mod/dbtrust.so"

    # The openssl package's conffile: a reinstall keeps or drops the wiring as told.
    deb_get() {
        local cache d
        cache=$(dbt_cache_dir) || return 1
        d=$cache/debs
        mkdir -p "$d"
        ls "$d"/openssl_*.deb >/dev/null 2>&1 && return 0
        # The root's own sources; the lists live only in this throwaway session.
        T sh -c 'apt-get update -q >/dev/null 2>&1 && cd /tmp && apt-get download -q openssl \
            >/dev/null 2>&1 && cp /tmp/openssl_*.deb /dbt/' || return 1
        cp "$tw"/openssl_*.deb "$d/"
    }
    if dbt_with_lock "$(dbt_cache_dir)/debs.lock" deb_get; then
        cp "$(dbt_cache_dir)"/debs/openssl_*.deb "$tw/openssl.deb"
        expect "3.5: reinstall openssl with --force-confold" ok "" T env \
            DEBIAN_FRONTEND=noninteractive dpkg --force-confask --force-confold -i /dbt/openssl.deb
        expect "3.5: confold keeps the wiring" ok "system-wide provider: wired" \
            T /dbt/dbtrust system status --provider
        expect "3.5: reinstall openssl with --force-confnew" ok "" T env \
            DEBIAN_FRONTEND=noninteractive dpkg --force-confask --force-confnew -i /dbt/openssl.deb
        expect "3.5: after confnew status says not wired and how to re-enable" ok \
            "not wired in /etc/ssl/openssl.cnf; 'dbtrust system enable --provider' wires it" \
            T /dbt/dbtrust system status --provider
        expect "3.5: and enable wires it again" ok "enabled:" en35
    else
        echo "# the openssl package could not be downloaded: the conffile checks are left out"
    fi
elif [ "$trixie" -eq 77 ]; then
    echo "# no Debian 13 root here: the OpenSSL 3.5 checks are left out"
else
    not_ok "the Debian 13 root could not be made or entered (see above)"
fi

echo "1..$((passed + failed))"
exit "$failed"
