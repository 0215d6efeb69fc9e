#!/usr/bin/env bash
# convert/export --to hashed-dir OUT: the tree is built in a fresh directory of an unpredictable
# name beside OUT and renamed into place. Nothing that already exists is reused or removed: not
# OUT.tmp-<pid> directories of the very pid that writes (an earlier crash's, another user's),
# not a symlink of that name, and OUT itself is never replaced unless it is missing or an empty
# directory (a symlink, FIFO, file or non-empty directory is refused, untouched).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-${DBTRUST_BUILDDIR:-$PWD}/dbtrust}
. "$src/certs/demo-pki.sh"
. "$src/tests/lib/tap.sh"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-hashdir-out.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
dbt_demo_pki "$w/pki" db.demo.internal >/dev/null 2>&1 || { echo "Bail out! demo PKI failed"; exit 1; }
in=$w/pki/demo-bundle.pem
"$DBTRUST" --catalog "$w/cat" import -q --bundle demo "$in" >/dev/null ||
    { echo "Bail out! import failed"; exit 1; }
cd "$w" || exit 1

# with_pid_dirs OUT CMD...: starts CMD under a known pid (a subshell that execs it once told to),
# first filling OUT.tmp-<pid> and the pids around it with directories holding a file someone
# wants, and one symlink to a directory elsewhere; then checks every one of them survives.
with_pid_dirs() {
    local out=$1 pid p lost=0
    shift
    rm -f go
    (while [ ! -e go ]; do sleep 0.02; done; exec "$@") >"$w/cmd.out" 2>&1 &
    pid=$!
    for p in $(seq $((pid - 20)) $((pid + 20))); do
        mkdir -p "$out.tmp-$p" && echo "keep me" >"$out.tmp-$p/wanted"
    done
    mkdir -p elsewhere && echo "keep me" >elsewhere/wanted
    rm -rf "$out.tmp-$((pid + 21))"
    ln -sfn "$w/elsewhere" "$out.tmp-$((pid + 21))"
    touch go
    wait "$pid"
    cmd_rc=$?
    for p in $(seq $((pid - 20)) $((pid + 20))); do
        [ "$(cat "$out.tmp-$p/wanted" 2>/dev/null)" = "keep me" ] || lost=$((lost + 1))
    done
    expect_eq "$out: the writer's own OUT.tmp-<pid> and its neighbours survive" \
        "$(cat "$out.tmp-$pid/wanted" 2>/dev/null) lost=$lost" "keep me lost=0"
    [ -L "$out.tmp-$((pid + 21))" ] && [ "$(cat elsewhere/wanted 2>/dev/null)" = "keep me" ] &&
        ok "$out: a symlink named OUT.tmp-<pid> and what it points to survive" ||
        not_ok "$out: the symlink or its target was removed"
    rm -rf "$out".tmp-* elsewhere
}

with_pid_dirs hd "$DBTRUST" convert --to hashed-dir "$in" hd
expect_eq "convert: exit status" "$cmd_rc" 0
expect_eq "convert: the directory holds the 3 certificates" "$(ls hd | wc -l)" 3
expect "convert: openssl reads it" ok "" openssl verify -no-CAfile -no-CAstore -CApath hd \
    -untrusted pki/intermediate.pem pki/server.pem
expect_eq "convert: the directory's mode is 0755, the files' 0644" \
    "$(stat -c %a hd) $(stat -c %a hd/* | sort -u)" "755 644"
with_pid_dirs ex "$DBTRUST" --catalog "$w/cat" export --format hashed-dir ex
expect_eq "export: exit status" "$cmd_rc" 0
expect_eq "export: the directory holds the 3 certificates" "$(ls ex | wc -l)" 3
# A failing write (OUT not empty) leaves the pre-existing directories alone too.
mkdir full && echo mine >full/mine
with_pid_dirs full "$DBTRUST" convert --to hashed-dir "$in" full
expect_eq "a refused write: exit status 1" "$cmd_rc" 1
expect "... says why" ok "exists and is not empty" cat "$w/cmd.out"
expect_eq "... and leaves OUT as it was" "$(ls -A full)" "mine"
rm -rf full hd ex

# Nothing of the writer is left beside OUT, after success or failure.
before=$(ls -A)
expect "a successful write" ok "" "$DBTRUST" convert --to hashed-dir "$in" hd
expect_eq "... leaves nothing but OUT beside it" "$(ls -A | grep -v '^hd$')" "$before"
expect "a failed write (OUT exists)" fail "exists and is not empty" \
    "$DBTRUST" convert --to hashed-dir "$in" hd
expect_eq "... leaves nothing beside it" "$(ls -A | grep -v '^hd$')" "$before"
rm -rf hd

# OUT as what must never be replaced nor written through.
mkdir target && echo mine >target/mine
ln -s target outlink
mkfifo outfifo
echo mine >outfile
mkdir outfull && echo mine >outfull/mine
for o in outlink outlink/ outfifo outfile outfull; do
    snap=$(find . -path ./pki -prune -o -printf '%P %y %s %l\n' | sort)
    expect "OUT $o is refused" fail "" timeout 20 "$DBTRUST" convert --to hashed-dir "$in" "$o"
    expect_eq "... and nothing changed" "$(find . -path ./pki -prune -o -printf '%P %y %s %l\n' | sort)" "$snap"
done
expect "a refused symlink is named as a link" fail "outlink is a symbolic link" \
    "$DBTRUST" convert --to hashed-dir "$in" outlink/
expect "a FIFO is named as a FIFO" fail "outfifo exists and is a FIFO" \
    "$DBTRUST" convert --to hashed-dir "$in" outfifo
# An empty directory holds nothing to lose: it is replaced (documented in dbtrust(1)).
mkdir outempty
expect "OUT as an empty directory is filled" ok "" "$DBTRUST" convert --to hashed-dir "$in" outempty
expect_eq "... with the certificates" "$(ls outempty | wc -l)" 3

echo "cli-hashdir-out: $passed passed, $failed failed"
[ "$failed" = 0 ]
