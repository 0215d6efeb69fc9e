#!/usr/bin/env bash
# dbtrust installed setuid or setgid must not take its catalog or system paths from the
# environment of the user who runs it: DBTRUST_CATALOG, XDG_DATA_HOME, HOME and
# DBTRUST_SYSTEM_CERT_DIR/_CERT_FILE/_STATE are ignored (secure_getenv), so an unprivileged user
# cannot point a privileged dbtrust at a catalog of their own. A copy of the built binary is
# made setuid root (and setgid root) and run as nobody; a control run of the same copy without
# the bits shows the attacker's values would be used if they were honoured. Needs root.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
build=${DBTRUST_BUILDDIR:-$PWD}
DBTRUST=${DBTRUST:-$build/dbtrust}
[ "$(id -u)" = 0 ] ||
    { echo "SKIP: making a setuid-root copy of dbtrust needs root (CI runs as root)"; exit 77; }
command -v setpriv >/dev/null ||
    { echo "SKIP: setpriv(1) is missing (apt-get install util-linux)"; exit 77; }
nobody_uid=$(id -u nobody 2>/dev/null) && nobody_gid=$(id -g nobody) ||
    { echo "SKIP: no user 'nobody' to run the setuid copy as"; exit 77; }
nobody_home=$(getent passwd nobody | cut -d: -f6)

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# The copy must be the program itself: a libtool wrapper script cannot be setuid.
head -c 4 "$DBTRUST" | grep -q ELF || { echo "Bail out! $DBTRUST is not an ELF binary (a libtool wrapper?)"; exit 1; }
w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-setuid.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
findmnt -no OPTIONS -T "$w" | tr , '\n' | grep -qx nosuid &&
    { echo "SKIP: $w is on a nosuid mount; set TMPDIR to a directory that allows setuid"; exit 77; }

# The attacker's catalog, safe by the catalog's own rules (root-owned, not writable by others),
# so that only the environment rule can keep it out.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=attacker CA" -days 30 -addext basicConstraints=critical,CA:TRUE \
    -out "$w/attacker.pem" 2>/dev/null || { echo "Bail out! cannot make the attacker CA"; exit 1; }
"$DBTRUST" --catalog "$w/evil" import -q --bundle attacker-bundle "$w/attacker.pem" ||
    { echo "Bail out! cannot make the attacker catalog"; exit 1; }
chmod -R go-w "$w/evil"
mkdir -m 755 "$w/xdg" "$w/home" "$w/sysdir"

cp "$DBTRUST" "$w/dbtrust"
chown root:root "$w/dbtrust"
evil_env=(DBTRUST_CATALOG="$w/evil" XDG_DATA_HOME="$w/xdg" HOME="$w/home"
    DBTRUST_SYSTEM_CERT_DIR="$w/sysdir" DBTRUST_SYSTEM_CERT_FILE="$w/sysdir/bundle.crt"
    DBTRUST_SYSTEM_STATE="$w/sysdir/state")
# In a sanitizer build: a set-id process run by an ordinary user is not dumpable, so the
# sanitizer runtimes cannot read ASAN_OPTIONS/UBSAN_OPTIONS from /proc/self/environ (reports go
# to stderr, which every run below captures), and LeakSanitizer cannot work there (cli/main.c
# turns it off in such processes). Any report (AddressSanitizer, leaks, UBSan's "runtime
# error:") is kept in $w/san-reports (these run in command substitutions) and fails the test.
as_nobody() {
    local out
    out=$(env -i PATH=/usr/bin:/bin LC_ALL=C "$@" 2>&1)
    if [ "${DBTRUST_SANITIZED:-0}" = 1 ] &&
        grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|Sanitizer has encountered|runtime error: ' <<<"$out"; then
        printf '%s\n' "'$*': ${out:0:3000}" >>"$w/san-reports"
    fi
    printf '%s\n' "$out"
}
nobody_dbtrust() {
    as_nobody "${evil_env[@]}" setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups \
        "$w/dbtrust" "$@"
}

# Control: without the bits, nobody's dbtrust does use the environment (so the checks below
# would see it if the privileged runs did too).
chmod 755 "$w/dbtrust"
out=$(nobody_dbtrust list)
if grep -q attacker-bundle <<<"$out"; then ok "control: plain dbtrust honours DBTRUST_CATALOG"
else not_ok "control: plain dbtrust did not list the DBTRUST_CATALOG catalog: $out"; fi
out=$(nobody_dbtrust system status)
if grep -qF "$w/sysdir" <<<"$out"; then ok "control: plain dbtrust honours DBTRUST_SYSTEM_*"
else not_ok "control: plain dbtrust status does not name DBTRUST_SYSTEM_CERT_DIR: $out"; fi
out=$(as_nobody XDG_DATA_HOME="$w/xdg" \
    setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups "$w/dbtrust" env)
if grep -qF "$w/xdg/dbtrust" <<<"$out"; then ok "control: plain dbtrust honours XDG_DATA_HOME"
else not_ok "control: plain dbtrust env does not name XDG_DATA_HOME's catalog: $out"; fi

# check MODE DEFAULT_CATALOG: list, env and system status run by nobody through a copy with MODE.
check() {
    local mode=$1 dflt=$2 label
    chmod "$mode" "$w/dbtrust"
    label="chmod $mode, run by nobody"
    out=$(nobody_dbtrust list)
    if grep -q attacker-bundle <<<"$out" || grep -qF "$w/" <<<"$out"; then
        not_ok "$label: list used the environment: $out"
    elif ! grep -qF "$dflt" <<<"$out"; then
        not_ok "$label: list does not name the default catalog $dflt: $out"
    else
        ok "$label: list ignores DBTRUST_CATALOG/XDG_DATA_HOME/HOME (default $dflt)"
    fi
    out=$(nobody_dbtrust system status)
    if grep -qF "$w/" <<<"$out"; then
        not_ok "$label: system status used DBTRUST_SYSTEM_*: $out"
    elif ! grep -qF /var/lib/dbtrust/system-state <<<"$out" && ! grep -qF "$dflt" <<<"$out"; then
        not_ok "$label: system status names neither the default state file nor catalog: $out"
    else
        ok "$label: system status ignores DBTRUST_SYSTEM_*"
    fi
}
# setuid root: the effective user is root, whose default catalog is /etc/dbtrust.
check 4755 /etc/dbtrust
# setgid root: the effective user stays nobody, whose default is under its passwd home
# directory (HOME and XDG_DATA_HOME are the attacker's and must not count).
chown root:root "$w/dbtrust"
check 2755 "$nobody_home/.local/share/dbtrust"
if [ "${DBTRUST_SANITIZED:-0}" = 1 ]; then
    if [ -s "$w/san-reports" ]; then not_ok "sanitizer reports from runs as nobody: $(cat "$w/san-reports")"
    else ok "sanitizer build: no report from the runs as nobody"; fi
fi
echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
