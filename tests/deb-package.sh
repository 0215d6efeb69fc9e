#!/usr/bin/env bash
# The Debian package end to end: dpkg-buildpackage builds it from a copy of the source tree,
# lintian finds no error, and it installs, works and purges without a trace. Install, use and
# purge happen on this machine's own Debian 12 inside a private mount namespace whose /etc, /usr
# and /var are overlays on throwaway upper directories (tests/lib/sysiso.sh makes the
# namespace), so dpkg, the package's maintainer scripts and `dbtrust system enable` change
# nothing outside it. "No trace" is checked both by name (links in /etc/ssl/certs, the bundle
# file, /etc/dbtrust, /var/lib/dbtrust, the module, dpkg -L) and by what the overlays recorded:
# after the purge no file under /etc or /usr differs from before the install. The systemd units
# of dbtrust refresh are installed, valid and run (as their unit runs them) against a local
# HTTPS mirror.
# Works with Debian 13's psql 17 run on the host OpenSSL (tests/lib/libpq17.sh) against a throwaway
# PostgreSQL 15 with TLS (tests/lib/pgserver.sh). Skips (77) when not root, when debian/ is not
# in the tree (a tarball made without it), or when the Debian mirror is needed and unreachable.
# Takes 5 to 9 minutes on the shared 2-core CI machine, most of it dpkg-buildpackage.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF DBTRUST_SYSTEM_CERT_DIR \
    DBTRUST_SYSTEM_CERT_FILE DBTRUST_SYSTEM_STATE
for v in $(compgen -e | grep '^PG'); do unset "$v"; done
export PGCONNECT_TIMEOUT=15 LC_ALL=C TZ=UTC

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/common.sh"
if [ ! -f "$src/debian/control" ]; then
    dbt_skip_reason "no debian/ in $src (a tree without the Debian packaging)"
    exit 77
fi
. "$src/tests/lib/sysiso.sh"
dbt_sysiso_enter "$0" "$@" || exit $?
. "$src/tests/lib/pgserver.sh"
. "$src/tests/lib/libpq17.sh"
. "$src/certs/demo-pki.sh"

. "$src/tests/lib/tap.sh"
bail() { echo "Bail out! $*"; exit 1; }

dbt_apt_ensure dpkg-dev debhelper lintian fakeroot || exit $?

work=$(mktemp -d /tmp/dbt-deb-package.XXXXXX) || exit 1
chmod 755 "$work"
dbt_cleanup_push "rm -rf '$work'"

# --- build ----------------------------------------------------------------------------------
# The tree as git sees it (tracked files and new ones not ignored), so nothing built in place
# leaks into the package; a tree without git (an unpacked tarball) is copied whole.
tree=$work/build/dbtrust-0
mkdir -p "$tree" || exit 1
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$tree") || bail "cannot copy the git tree of $src"
else
    cp -a "$src/." "$tree/" || bail "cannot copy $src"
fi
# Unit tests already ran in this make check; the package build skips them.
if ! (cd "$tree" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b \
    >"$work/build.log" 2>&1); then
    tail -n 40 "$work/build.log"
    bail "dpkg-buildpackage -us -uc -b failed (log above)"
fi
deb=$(ls "$work"/build/dbtrust_*_*.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] || bail "dpkg-buildpackage made no dbtrust_*.deb"
ok "dpkg-buildpackage -us -uc -b built $(basename "$deb")"

# lintian: no error (E:). Warnings are printed for the log.
lintian "$work"/build/dbtrust_*.changes >"$work/lintian.log" 2>&1
sed 's/^/# lintian: /' "$work/lintian.log"
if grep -q '^E:' "$work/lintian.log"; then
    not_ok "lintian reports errors: $(grep '^E:' "$work/lintian.log" | head -5)"
else
    ok "lintian reports no error"
fi

modulesdir=$(pkg-config --variable=modulesdir libcrypto)
contents=$(dpkg-deb -c "$deb" | awk '{print $1, $2, $6}')
for f in ./usr/bin/dbtrust "./${modulesdir#/}/dbtrust.so" ./usr/share/dbtrust/dbtrust.cnf \
    ./usr/share/man/man1/dbtrust.1.gz ./usr/share/man/man5/dbtrust-catalog.5.gz \
    ./usr/share/man/man7/dbtrust-provider.7.gz ./usr/share/bash-completion/completions/dbtrust \
    ./etc/ca-certificates/update.d/dbtrust ./etc/ca-certificates/update.d/zz-dbtrust-jvm; do
    grep -q " $f\$" <<<"$contents" && ok "the package has $f" || not_ok "the package lacks $f"
done
expect "the package's /etc/dbtrust is root:root 0755" ok "" \
    grep -qx 'drwxr-xr-x root/root ./etc/dbtrust/' <<<"$contents"
expect "no libtool .la file is packaged" fail "" grep -q '\.la$' <<<"$contents"

# --- an isolated system ---------------------------------------------------------------------
# One overlay per tree: lower = the real tree (read only), upper = a directory of ours, so
# whatever dpkg, the maintainer scripts and dbtrust write lands in the upper directory. The
# overlay on /etc covers /etc/ssl/certs and /etc/ca-certificates, and the one on /var covers
# /var/lib/dbtrust, so tests/lib/sysiso.sh's copies are not needed here.
# The JVM truststore, as it is before: enable and disable rewrite it (a new file renamed into
# place), so the overlay records it even when its bytes end as they began.
jvmstore=/etc/ssl/certs/java/cacerts
[ -f "$jvmstore" ] && cp -p "$jvmstore" "$work/cacerts.before"
for d in etc usr var; do
    mkdir -p "$work/ovl/$d-up" "$work/ovl/$d-work"
    mount -t overlay overlay \
        -o "lowerdir=/$d,upperdir=$work/ovl/$d-up,workdir=$work/ovl/$d-work" "/$d" ||
        bail "cannot mount an overlay on /$d"
    dbt_sysiso_is_mount "/$d" || bail "/$d is not a mount after the overlay"
done
ok "/etc, /usr and /var are throwaway overlays in a private mount namespace"

certdir=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')/certs
certfile=$(dirname "$certdir")/cert.pem
snapshot() {
    (cd "$certdir" && find . -maxdepth 1 ! -name . -printf '%P %l\n' | sort) &&
        sha256sum "$(readlink -f "$certfile")"
}
before=$(snapshot) || bail "cannot list $certdir"

pki=$work/pki
host=db.demo.internal
dbt_demo_pki "$pki" "$host" >/dev/null || bail "certs/demo-pki.sh $pki failed"
dbt_pg_start --ssl "$pki/server-chain.pem" "$pki/server.key" || exit $?
dbt_libpq17_ensure || exit $?
conn="host=$host hostaddr=127.0.0.1 port=$DBT_PG_PORT user=$DBT_PG_USER dbname=$DBT_PG_DB"
q="select ssl from pg_stat_ssl where pid = pg_backend_pid()"
psql_sys() {
    "$DBT_PSQL17" -X -A -t -c "$q" "$conn sslmode=verify-full sslrootcert=system"
}

# --- install, use --------------------------------------------------------------------------
expect "dpkg -i installs the package" ok "" dpkg -i "$deb"
expect "dpkg says it is installed" ok "install ok installed" dpkg-query -W -f='${Status}' dbtrust
expect "the CLI is /usr/bin/dbtrust" ok "=/usr/bin/dbtrust" command -v dbtrust
expect "/etc/dbtrust is root:root 0755" ok "=root:root 755" stat -c '%U:%G %a' /etc/dbtrust
expect "the module is in libcrypto's modulesdir" ok "" test -f "$modulesdir/dbtrust.so"
expect "sslrootcert=system fails before anything is imported" fail "certificate verify failed" \
    psql_sys

expect "dbtrust import (default catalog /etc/dbtrust)" ok "bundle 'demo': 3 certificates" \
    dbtrust import --bundle demo "$pki/demo-bundle.pem"
expect "dbtrust system enable" ok "3 catalog certificates linked" dbtrust system enable
expect "psql 17 sslrootcert=system sslmode=verify-full connects" ok "=t" psql_sys
# The packaged hook calls the installed binary. `update-ca-certificates --fresh` deletes every
# link in the directory; that is done by hand here, because running update-ca-certificates
# would also rewrite the system bundle and Java's keystore (tests/e2e-system.sh runs it).
find -H "$certdir" -maxdepth 1 -type l \( -name 'dbtrust-*' -o -lname '*dbtrust-*' \) -delete
expect "with the links gone (as after --fresh) sslrootcert=system fails" fail \
    "certificate verify failed" psql_sys
expect "the packaged update-ca-certificates hook relinks the catalog" ok \
    "refresh: 3 catalog certificates linked" sh -c 'echo | /etc/ca-certificates/update.d/dbtrust'
expect "the hook wired the catalog back: sslrootcert=system connects" ok "=t" psql_sys ||
    ls -l "$certdir/" | grep dbtrust | sed 's/^/# /'

# The provider through the packaged openssl.cnf snippet, included from a cnf of the test's own.
printf '.include /usr/share/dbtrust/dbtrust.cnf\n' >"$work/openssl.cnf"
root_cn=$(openssl x509 -in "$pki/root-rsa2048.pem" -noout -subject -nameopt multiline |
    sed -n 's/^ *commonName *= //p')
expect "openssl storeutl -certs dbtrust:// through /usr/share/dbtrust/dbtrust.cnf" ok \
    "Total found: 3" env OPENSSL_CONF="$work/openssl.cnf" openssl storeutl -certs dbtrust://
expect "... and dbtrust://demo serves the imported root" ok "$root_cn" \
    env OPENSSL_CONF="$work/openssl.cnf" openssl storeutl -noout -text -certs dbtrust://demo
expect "openssl verify -CAstore dbtrust:// through the package's provider" ok "OK" \
    env OPENSSL_CONF="$work/openssl.cnf" openssl verify -CAstore dbtrust:// \
    -untrusted "$pki/intermediate.pem" "$pki/server.pem"

# --- dbtrust refresh from the packaged units -------------------------------------------------
# The units are installed and valid and the timer is enabled; the service, run as its unit runs
# it (tests/lib/unit-run.sh: EnvironmentFile, ExecStart and the sandbox, ProtectSystem=strict with
# ReadWritePaths included, since systemd is not PID 1 here), refreshes a fetched, unscoped bundle
# from a local HTTPS mirror whose CA /etc/default/dbtrust gives with --ca-file: the catalog, the
# system links and the JVM truststore follow from inside the sandbox.
unitdir=
for d in /lib/systemd/system /usr/lib/systemd/system; do
    [ -f "$d/dbtrust-refresh.service" ] && { unitdir=$d; break; }
done
expect "the package installs dbtrust-refresh.service and .timer" ok "" \
    test -n "$unitdir" -a -f "$unitdir/dbtrust-refresh.timer"
expect "the package enabled the timer" ok "" \
    test -L /etc/systemd/system/timers.target.wants/dbtrust-refresh.timer
expect "systemd-analyze verify accepts both units without a word" ok "=" \
    systemd-analyze verify --man=no "$unitdir/dbtrust-refresh.service" \
    "$unitdir/dbtrust-refresh.timer"
mirror=$work/mirror
mkdir -p "$mirror/www"
. "$src/tests/lib/https.sh"
mirror_fp() { openssl x509 -in "$mirror/r$1.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
for i in 1 2 3; do
    dbt_https_mkca "$mirror/r$i" "/CN=dbtrust refresh test root $i" || bail "cannot make the mirror's CAs"
done
dbt_https_mkca "$mirror/ca" "/CN=dbtrust refresh test mirror CA" &&
    dbt_https_server_cert "$mirror/ca" "$mirror/srv" || bail "cannot make the mirror's PKI"
cat "$mirror/r1.pem" "$mirror/r2.pem" >"$mirror/www/bundle.pem"
dbt_https_serve "$mirror/www" "$mirror/srv.pem" "$mirror/srv.key" || bail "the HTTPS mirror did not start"
mport=$dbt_https_port spid=$dbt_https_pid
install -m 644 "$mirror/ca.pem" /etc/dbtrust-test-mirror-ca.pem
expect "dbtrust fetch from the mirror" ok "bundle 'mirror': 2 certificates" \
    dbtrust fetch aws-rds --bundle mirror --unscoped --url "https://localhost:$mport/bundle.pem" \
    --ca-file /etc/dbtrust-test-mirror-ca.pem
cat "$mirror/r1.pem" "$mirror/r3.pem" >"$mirror/www/bundle.pem"
expect "the service without its options cannot verify the mirror, and fails" fail \
    "the server's TLS certificate is not trusted" "$src/tests/lib/unit-run.sh" \
    "$unitdir/dbtrust-refresh.service"
printf '# dbtrust refresh test\nDBTRUST_REFRESH_OPTS="--ca-file /etc/dbtrust-test-mirror-ca.pem"\n' \
    >/etc/default/dbtrust
expect "the service, run as its unit runs it, refreshes the rotated bundle" ok \
    "bundle 'mirror': 2 certificates (1 added, 1 removed)" \
    "$src/tests/lib/unit-run.sh" "$unitdir/dbtrust-refresh.service"
expect "... and the catalog holds the new CA" ok "$(mirror_fp 3)" dbtrust list --bundle mirror
expect "... the system link of the new CA is there" ok "" test -L "$certdir/dbtrust-$(mirror_fp 3).pem"
expect "... the removed CA's link is gone" fail "" test -e "$certdir/dbtrust-$(mirror_fp 2).pem"
if [ -f "$jvmstore" ]; then
    expect "... the JVM truststore holds the new CA" ok "dbtrust-mirror-$(mirror_fp 3 | cut -c1-16)" \
        dbtrust -list -keystore "$jvmstore" -storepass changeit
fi
expect "the service again: unchanged, the file import skipped" ok \
    "refreshed 1, changed 0, failed 0, skipped 1" "$src/tests/lib/unit-run.sh" \
    "$unitdir/dbtrust-refresh.service"
: >"$mirror/www/bundle.pem"
expect "an empty download fails the service and changes nothing" fail \
    "bundle 'mirror' is unchanged" "$src/tests/lib/unit-run.sh" "$unitdir/dbtrust-refresh.service"
expect "... the bundle still holds its 2 CAs" ok "=2" \
    sh -c 'dbtrust list --bundle mirror --json | grep -c "\"sha256\""'
expect "dbtrust remove --bundle mirror" ok "" dbtrust remove --bundle mirror
rm -f /etc/default/dbtrust /etc/dbtrust-test-mirror-ca.pem
kill "$spid" 2>/dev/null

# --- the system-wide provider in the distribution's openssl.cnf -----------------------------
# enable --provider edits the system's own file (OPENSSLDIR/openssl.cnf, in the /etc overlay);
# removing the package must take its lines out again, byte for byte.
syscnf=$(readlink -f "$(dirname "$certdir")/openssl.cnf")
cp -p "$syscnf" "$work/openssl.cnf.before" || bail "cannot copy $syscnf"
expect "dbtrust system enable --provider wires the packaged module into $syscnf" ok "" \
    dbtrust system enable --provider
expect "openssl storeutl -certs dbtrust:// works without OPENSSL_CONF" ok "Total found: 3" \
    env -u OPENSSL_CONF openssl storeutl -certs dbtrust://
expect "dbtrust system status --provider says it is wired" ok "" dbtrust system status --provider

# --- purge ---------------------------------------------------------------------------------
expect "dpkg --purge removes the package" ok "" dpkg --purge dbtrust
if cmp -s "$work/openssl.cnf.before" "$syscnf"; then
    ok "the removal gave $syscnf back byte for byte"
else
    not_ok "the removal left $syscnf different: $(diff "$work/openssl.cnf.before" "$syscnf" | head)"
fi
expect "openssl still runs with the system openssl.cnf after the removal" ok "OpenSSL" \
    env -u OPENSSL_CONF openssl version
expect "dpkg no longer knows the package" fail "" dpkg -L dbtrust
expect "sslrootcert=system fails again after the purge" fail "certificate verify failed" psql_sys
after=$(snapshot)
if [ "$after" = "$before" ]; then
    ok "the certificate directory and bundle file are as before the install"
else
    not_ok "the purge left $certdir different: $(diff <(echo "$before") <(echo "$after") | head)"
fi
expect "no dbtrust link is left in $certdir" ok "=0" \
    sh -c "find -H '$certdir' -maxdepth 1 -lname '*dbtrust*' | wc -l"
for p in /etc/dbtrust /var/lib/dbtrust "$modulesdir/dbtrust.so" /usr/bin/dbtrust \
    /etc/ca-certificates/update.d/dbtrust /etc/ca-certificates/update.d/zz-dbtrust-jvm \
    /usr/share/dbtrust; do
    expect "the purge removed $p" fail "" test -e "$p"
done
# What the overlays recorded: a file created and deleted again leaves nothing in the upper
# directory; a file changed or deleted in the real tree would.
for d in etc usr; do
    left=$(cd "$work/ovl/$d-up" && find . ! -type d | sort)
    if [ "$d" = etc ] && grep -qx "./${jvmstore#/etc/}" <<<"$left"; then
        if [ -f "$work/cacerts.before" ] && cmp -s "$work/cacerts.before" "$jvmstore"; then
            ok "the JVM truststore is byte for byte as before the install"
            left=$(grep -vx "./${jvmstore#/etc/}" <<<"$left" || true)
        else
            not_ok "the purge left the JVM truststore $jvmstore different from before the install"
        fi
    fi
    # openssl.cnf was rewritten twice (enable and disable --provider): the overlay records the
    # rewrite even when the bytes end as they began, which the cmp above checked.
    if [ "$d" = etc ]; then
        left=$(grep -vx "./${syscnf#/etc/}" <<<"$left" || true)
    fi
    if [ -z "$left" ]; then
        ok "no file under /$d differs from before the install"
    else
        not_ok "the purge left changes under /$d: $(head -10 <<<"$left")"
    fi
done
left=$(cd "$work/ovl/var-up" && find . ! -type d | grep -vE '^\./(lib/dpkg|log|cache)/' | sort)
if [ -z "$left" ]; then
    ok "nothing under /var but dpkg's own records and logs is left"
else
    not_ok "the purge left files under /var: $(head -10 <<<"$left")"
fi

echo "1..$((passed + failed))"
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
