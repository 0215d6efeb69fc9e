#!/usr/bin/env bash
# The writers' lock files are never followed, never block and must be safe regular files: a
# FIFO, a symlink to elsewhere, a directory, a device node, a lock writable by others or owned
# by another user, planted as the catalog's .lock or as the system wiring's lock, makes every
# writer command (import, remove, keytool -importcert/-delete, system enable/disable/refresh)
# refuse within 20 s with a message naming the lock and exit 1, the catalog untouched and the
# symlink's target never created. (fetch: tests/cli-fetch.sh, which has an HTTPS server.)
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-lock.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
pki=$w/pki
dbt_demo_pki "$pki" db.demo.internal >/dev/null || { echo "Bail out! demo PKI failed"; exit 1; }
export DBTRUST_SYSTEM_CERT_DIR=$w/sys DBTRUST_SYSTEM_STATE=$w/state/system-state
mkdir -p "$w/sys" "$w/state"
cat=$w/catalog
"$DBTRUST" --catalog "$cat" import -q --bundle rds "$pki/demo-bundle.pem" ||
    { echo "Bail out! first import failed"; exit 1; }
root=$(id -u)

# plant KIND PATH: puts a bad lock of that kind at PATH (returns 1 when it cannot here).
plant() {
    rm -rf "$2" "$w/elsewhere"
    case $1 in
    fifo) mkfifo "$2" ;;
    symlink) ln -s "$w/elsewhere" "$2" ;;
    directory) mkdir "$2" ;;
    device) [ "$root" = 0 ] && mknod "$2" c 1 3 ;;
    writable) touch "$2" && chmod 666 "$2" ;;
    foreign) [ "$root" = 0 ] && id nobody >/dev/null 2>&1 && touch "$2" && chmod 644 "$2" &&
        chown nobody "$2" ;;
    esac
}
declare -A why=([fifo]="a FIFO, not a regular file" [symlink]="a symlink, not a regular file"
    [directory]="a directory, not a regular file" [device]="a device node, not a regular file"
    [writable]="is writable by others" [foreign]="is owned by uid")

# refused NAME LOCK CMD...: CMD exits 1 within 20 s naming LOCK and why, changes nothing.
refused() {
    local name=$1 lock=$2 before out rc
    shift 2
    before=$(readlink "$cat/current")
    out=$(timeout 20 "$@" 2>&1 </dev/null)
    rc=$?
    if [ $rc = 124 ]; then
        not_ok "$name: hung (killed after 20 s)"
    elif [ $rc != 1 ]; then
        not_ok "$name: exit status $rc, wanted 1; output: ${out:0:600}"
    elif ! grep -qF -- "$lock" <<<"$out" || ! grep -qF -- "${why[$kind]}" <<<"$out"; then
        not_ok "$name: the message does not name $lock and '${why[$kind]}': ${out:0:600}"
    elif [ "$(readlink "$cat/current")" != "$before" ]; then
        not_ok "$name: the catalog changed"
    elif [ -e "$w/elsewhere" ]; then
        not_ok "$name: the lock's symlink target was created"
    else
        ok "$name"
    fi
}

for kind in fifo symlink directory device writable foreign; do
    if ! plant "$kind" "$cat/.lock" 2>/dev/null; then
        echo "# $kind lock: needs root (and a user 'nobody'), skipped"
        continue
    fi
    refused "$kind .lock: import" "$cat/.lock" \
        "$DBTRUST" --catalog "$cat" import -q --bundle other "$pki/other-root.pem"
    refused "$kind .lock: remove" "$cat/.lock" "$DBTRUST" --catalog "$cat" remove --bundle rds
    refused "$kind .lock: -importcert" "$cat/.lock" \
        "$DBTRUST" --catalog "$cat" -importcert -noprompt -alias other -file "$pki/other-root.pem"
    refused "$kind .lock: -delete" "$cat/.lock" "$DBTRUST" --catalog "$cat" -delete -alias rds
    rm -rf "$cat/.lock"
done
expect "a plain .lock again: import works" ok "" \
    "$DBTRUST" --catalog "$cat" import -q --bundle other "$pki/other-root.pem"

# The catalog's lock is its owner's alone: a user who may read the catalog must not be able to
# hold the lock and stall root's writers. A lock an older dbtrust made 0644 is narrowed.
mode=$(stat -c %a "$cat/.lock")
[ "$mode" = 600 ] && ok "the catalog's .lock has mode 600" || not_ok "the catalog's .lock has mode $mode"
chmod 644 "$cat/.lock"
expect "a 0644 .lock: import works" ok "" \
    "$DBTRUST" --catalog "$cat" import -q --bundle other3 "$pki/other-root.pem"
mode=$(stat -c %a "$cat/.lock")
[ "$mode" = 600 ] && ok "a 0644 .lock is narrowed to 600 by the next writer" ||
    not_ok "a 0644 .lock is left at $mode"
# A lock hard-linked to a file elsewhere is refused (its mode would be narrowed there too).
rm -f "$cat/.lock" && echo keep >"$w/outside" && chmod 644 "$w/outside" && ln "$w/outside" "$cat/.lock"
expect "a .lock hard-linked to a file elsewhere: import refused" fail "has 2 hard links" \
    "$DBTRUST" --catalog "$cat" import -q --bundle other4 "$pki/other-root.pem"
mode=$(stat -c %a "$w/outside")
[ "$mode" = 644 ] && ok "the file the lock was linked to keeps its mode" || not_ok "the outside file is now $mode"
rm -f "$cat/.lock" "$w/outside"
if [ "$root" = 0 ] && id nobody >/dev/null 2>&1 && command -v flock >/dev/null &&
    command -v setpriv >/dev/null; then
    for lockmode in s x; do
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
            flock -"$lockmode" "$cat/.lock" sleep 30 >/dev/null 2>&1 &
        holder=$!
        sleep 0.5
        out=$(timeout 20 "$DBTRUST" --catalog "$cat" remove --bundle other3 2>&1)
        rc=$?
        kill "$holder" 2>/dev/null
        wait "$holder" 2>/dev/null
        [ $rc = 0 ] && ok "nobody cannot hold the catalog's lock (flock -$lockmode): remove is not stalled" ||
            not_ok "nobody holding the lock (flock -$lockmode): remove exit status $rc: ${out:0:300}"
        "$DBTRUST" --catalog "$cat" import -q --bundle other3 "$pki/other-root.pem" >/dev/null 2>&1
    done
    "$DBTRUST" --catalog "$cat" remove --bundle other3 >/dev/null 2>&1
else
    echo "# a lock held by nobody: needs root, a user 'nobody', flock and setpriv; skipped"
fi

# The system wiring's lock, with the catalog wired (disable and refresh take the lock only then).
slock=$DBTRUST_SYSTEM_STATE.lock
expect "system enable with a plain lock" ok "" "$DBTRUST" --catalog "$cat" system enable
links=$(ls "$w/sys")
for kind in fifo symlink directory device writable foreign; do
    if ! plant "$kind" "$slock" 2>/dev/null; then
        echo "# $kind system lock: needs root (and a user 'nobody'), skipped"
        continue
    fi
    for sub in enable disable refresh; do
        refused "$kind system lock: system $sub" "$slock" "$DBTRUST" --catalog "$cat" system "$sub"
    done
    [ "$(ls "$w/sys")" = "$links" ] && ok "$kind system lock: the links are untouched" ||
        not_ok "$kind system lock: the links changed: $(ls "$w/sys")"
    # An import refreshes the wired links under the same lock: bounded, and it says so.
    out=$(timeout 20 "$DBTRUST" --catalog "$cat" import -q --bundle other2 "$pki/root-ecc384.pem" 2>&1)
    rc=$?
    [ $rc != 124 ] && [ $rc != 0 ] && grep -qF -- "$slock" <<<"$out" &&
        ok "$kind system lock: import fails within 20 s naming the lock" ||
        not_ok "$kind system lock: import: exit status $rc; output: ${out:0:600}"
    rm -rf "$slock"
    "$DBTRUST" --catalog "$cat" remove --bundle other2 >/dev/null 2>&1
done
expect "a plain system lock again: system disable works" ok "" "$DBTRUST" --catalog "$cat" system disable
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
