#!/usr/bin/env bash
# dbtrust system enable|disable|status|refresh and env --lazy against a stand-in system
# directory and state file that hold what dbtrust did not make: FIFOs, sockets, devices and
# directories named like hash links or certificate links, symlinks to them, and a state file
# that is a FIFO, a device, a directory, a symlink, huge or writable by others. Every command
# must finish (each runs under timeout 20), never open a FIFO or device, never replace or
# delete such an entry, and leave the directory as it was when it refuses. Makes device nodes
# with mknod when run as root (skipped otherwise, saying so).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-syshostile.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
pki=$w/pki
dbt_demo_pki "$pki" db.demo.internal || { echo "Bail out! demo PKI failed"; exit 1; }
hash_of() { openssl x509 -in "$1" -noout -subject_hash; }
sha_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
h2048=$(hash_of "$pki/root-rsa2048.pem") h4096=$(hash_of "$pki/root-rsa4096.pem")
s4096=$(sha_of "$pki/root-rsa4096.pem")

sys=$w/sys
export DBTRUST_SYSTEM_CERT_DIR=$sys DBTRUST_SYSTEM_STATE=$w/state/system-state
export DBTRUST_CATALOG=$w/catalog DBTRUST_SYSTEM_CERT_FILE=$w/bundle.crt
"$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem" >/dev/null ||
    { echo "Bail out! import failed"; exit 1; }

# A fresh stand-in system directory: one system CA and its rehash link, and the bundle file.
fresh() {
    rm -rf "$sys" "$w/state" "$w/bundle.crt"
    mkdir "$sys"
    cp "$pki/other-root.pem" "$sys/other.pem"
    cp "$pki/other-root.pem" "$w/bundle.crt"
    openssl rehash "$sys" 2>/dev/null
}
snapshot() { (cd "$sys" && find . ! -name . -printf '%P %y %l\n' | sort); }
# run NAME CMD...: CMD must finish within 20 s; its output and status are kept in $out, $rc.
run() {
    out=$(timeout 20 "$@" 2>&1)
    rc=$?
    [ $rc -eq 124 ] && return 124
    return 0
}
finishes() {
    local name=$1
    shift
    if run "$@"; then ok "$name: finishes"; else not_ok "$name: still blocked after 20 s"; fi
}

# mkspecial KIND PATH: makes a FIFO, socket, character or block device, directory, or a symlink
# to a FIFO elsewhere, or /dev/zero. 1 when this kind cannot be made here.
mkspecial() {
    case $1 in
    fifo) mkfifo "$2" ;;
    sock) python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$2" ;;
    chr) [ "$(id -u)" = 0 ] && mknod "$2" c 1 5 ;; # a /dev/zero node
    blk) [ "$(id -u)" = 0 ] && mknod "$2" b 7 250 ;;
    dir) mkdir "$2" ;;
    linkfifo) mkfifo "$w/elsewhere.fifo.$$.$RANDOM" && ln -s "$(ls -t "$w"/elsewhere.fifo.* | head -n 1)" "$2" ;;
    zero) ln -s /dev/zero "$2" ;;
    esac
}
kinds="fifo sock chr blk dir linkfifo zero"

# 1. An entry named like the first hash link of a catalog subject, in the chain enable walks.
for k in $kinds; do
    fresh
    mkspecial "$k" "$sys/$h4096.0" 2>/dev/null || { ok "# SKIP $k: cannot make one here (not root)"; continue; }
    snap=$(snapshot)
    kind0=$(stat -c '%F %i' "$sys/$h4096.0")
    finishes "enable with a $k at $h4096.0" "$DBTRUST" system enable
    [ $rc -eq 0 ] && ok "enable with a $k at $h4096.0 succeeds" ||
        not_ok "enable with a $k at $h4096.0 failed: ${out:0:600}"
    grep -qF "$sys/$h4096.0 is" <<<"$out" && ok "... and names it" || not_ok "... does not name it: ${out:0:600}"
    expect_eq "... leaves it as it was" "$(stat -c '%F %i' "$sys/$h4096.0" 2>&1)" "$kind0"
    expect_eq "... and links the catalog's root at the next number" "$(readlink "$sys/$h4096.1")" \
        "dbtrust-$s4096.pem"
    finishes "status with a $k at $h4096.0" env SSL_CERT_DIR="$sys" SSL_CERT_FILE="$w/bundle.crt" \
        "$DBTRUST" system status
    [ $rc -ne 0 ] && grep -qF "$h4096.0 is" <<<"$out" && ok "... fails and names it" ||
        not_ok "... status: exit $rc: ${out:0:600}"
    finishes "env --lazy with a $k at $h4096.0" "$DBTRUST" env --lazy
    [ $rc -ne 0 ] && grep -qF "$h4096.0 is" <<<"$out" && ok "... refuses and names it" ||
        not_ok "... env --lazy: exit $rc: ${out:0:600}"
    finishes "disable with a $k at $h4096.0" "$DBTRUST" system disable
    expect_eq "... removes only dbtrust's links" "$(snapshot)" "$snap"
done

# 2. The same at the second number, behind a system CA of the same subject (the slot the
# catalog's link would take), and as a dbtrust-<sha256>.pem name.
fresh
mkfifo "$sys/$h2048.0"
mkfifo "$sys/dbtrust-$s4096.pem"
snap=$(snapshot)
finishes "enable with a FIFO named like a certificate link" "$DBTRUST" system enable
[ $rc -ne 0 ] && grep -qF "is not a symbolic link" <<<"$out" && ok "... refuses it" ||
    not_ok "... exit $rc: ${out:0:600}"
expect_eq "... and leaves the directory as it was" "$(snapshot)" "$snap"
[ -e "$DBTRUST_SYSTEM_STATE" ] && not_ok "... left a state file" || ok "... leaves no state file"
rm "$sys/dbtrust-$s4096.pem"
finishes "enable with a FIFO at $h2048.0" "$DBTRUST" system enable
expect_eq "... the FIFO is still a FIFO" "$(stat -c %F "$sys/$h2048.0")" "fifo"
finishes "disable after it" "$DBTRUST" system disable
expect_eq "... leaves the directory as before enable" "$(snapshot)" "$(grep -v "^dbtrust-$s4096" <<<"$snap")"

# 3. Renumbering on disable never moves what is not a link or a file: a FIFO behind dbtrust's
# link stays under its own name.
fresh
"$DBTRUST" system enable >/dev/null
mkfifo "$sys/$h4096.1"
finishes "disable with a FIFO after dbtrust's hash link" "$DBTRUST" system disable
expect_eq "... the FIFO keeps its name" "$(stat -c %F "$sys/$h4096.1" 2>&1)" "fifo"
[ -e "$sys/$h4096.0" ] && not_ok "... something was renamed onto $h4096.0" ||
    ok "... nothing is renamed onto the freed number"

# 4. The bundle file as a FIFO or device: env --lazy, status and enable --bundle-file.
for k in fifo chr zero; do
    fresh
    rm "$w/bundle.crt"
    mkspecial "$k" "$w/bundle.crt" 2>/dev/null || { ok "# SKIP bundle file $k: not root"; continue; }
    snap=$(snapshot)
    finishes "env --lazy with a $k as the bundle file" "$DBTRUST" env --lazy
    [ $rc -ne 0 ] && grep -qF "bundle.crt" <<<"$out" && ok "... refuses and names it" ||
        not_ok "... exit $rc: ${out:0:600}"
    finishes "enable --bundle-file with a $k as the bundle file" "$DBTRUST" system enable --bundle-file
    [ $rc -ne 0 ] && grep -qF "not a regular file" <<<"$out" && ok "... refuses it" ||
        not_ok "... exit $rc: ${out:0:600}"
    expect_eq "... and changes nothing" "$(snapshot)" "$snap"
    [ -e "$DBTRUST_SYSTEM_STATE" ] && not_ok "... left a state file" || ok "... leaves no state file"
    finishes "status with a $k as the bundle file" "$DBTRUST" system status
done

# 5. The state file: FIFO, devices, directory, symlinks, huge, writable by others, cut paths.
state_kinds="fifo sock chr zero dir link huge groupw longpath relpath"
for k in $state_kinds; do
    fresh
    mkdir -p "$w/state"
    st=$DBTRUST_SYSTEM_STATE
    case $k in
    link)
        printf 'catalog=%s\ncertdir=%s\n' "$w/catalog" "$sys" >"$w/real-state"
        ln -s "$w/real-state" "$st" ;;
    huge) { printf 'catalog=%s\ncertdir=%s\n' "$w/catalog" "$sys"; head -c 1048576 /dev/zero | tr '\0' '#'; } >"$st" ;;
    groupw) printf 'catalog=%s\ncertdir=%s\n' "$w/catalog" "$sys" >"$st"; chmod 666 "$st" ;;
    longpath) printf 'catalog=/%s\ncertdir=%s\n' "$(head -c 5000 /dev/zero | tr '\0' a)" "$sys" >"$st" ;;
    relpath) printf 'catalog=catalog\ncertdir=%s\n' "$sys" >"$st" ;;
    *) mkspecial "$k" "$st" 2>/dev/null || { ok "# SKIP state file $k: not root"; continue; } ;;
    esac
    snap=$(snapshot)
    before=$(ls -la "$w/state" | sort)
    for action in enable status disable refresh; do
        finishes "system $action with a $k state file" "$DBTRUST" system $action
        [ $rc -eq 1 ] && grep -qF "$st" <<<"$out" && ok "... exits 1 naming the state file" ||
            not_ok "... exit $rc: ${out:0:600}"
    done
    finishes "import with a $k state file" "$DBTRUST" import -q --bundle demo "$pki/demo-bundle.pem"
    grep -qF "$st" <<<"$out" && ok "... names the state file" || not_ok "... exit $rc: ${out:0:600}"
    expect_eq "... the system directory is untouched" "$(snapshot)" "$snap"
    expect_eq "... the state directory is untouched" "$(ls -la "$w/state" | sort)" "$before"
done

# A catalog path that would add lines to the wiring's files (the bundle file's marker and the
# state file record it): a line break followed by a whole PEM block, or by a state key and ESC,
# is refused by enable, in both modes, before anything is written.
for mode in links bundle; do
    for kind in pem key; do
        fresh
        if [ $kind = pem ]; then
            odd=$w/c$'\n'"$(sed -n 2p "$pki/other-root.pem" | tr / _)"$'\nx'
        else
            odd=$w/c$'\n'"certdir=$w/elsewhere"$'\e[31m'
        fi
        mkdir -p "$odd" && chmod 755 "$odd"
        "$DBTRUST" --catalog "$odd" import -q --bundle demo "$pki/demo-bundle.pem" >/dev/null 2>&1 ||
            { not_ok "$mode/$kind: cannot make the catalog"; continue; }
        bsum=$(sha256sum <"$w/bundle.crt") before=$(snapshot)
        opt=""
        [ $mode = bundle ] && opt=--bundle-file
        run "$DBTRUST" --catalog "$odd" system enable $opt
        [ $rc = 1 ] && grep -q "control character" <<<"$out" &&
            ok "$mode/$kind: enable refuses a catalog path with a line break" ||
            not_ok "$mode/$kind: enable: exit $rc: ${out:0:300}"
        [ ! -e "$w/state/system-state" ] && [ "$(sha256sum <"$w/bundle.crt")" = "$bsum" ] &&
            [ "$(snapshot)" = "$before" ] && ok "$mode/$kind: no state file, bundle file and directory unchanged" ||
            not_ok "$mode/$kind: something was written"
        grep -q $'\e' <<<"$out" && not_ok "$mode/$kind: raw ESC in the message"
        rm -rf "$w/c"$'\n'*
    done
done

echo "cli-system-hostile: $passed passed, $failed failed"
[ "$failed" = 0 ]
