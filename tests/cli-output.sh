#!/bin/bash
# Where dbtrust's outputs go. Every writer (convert, export, -exportcert -file, keystore files,
# hashed directories) against device nodes of the test's own (/dev/full's and /dev/null's numbers,
# made with mknod: the machine's /dev is never touched), a FIFO with a reader, links to elsewhere,
# dangling links, directories, and /dev/stdout on a pipe, a file and a file opened for appending:
# a device or FIFO is written in place and stays what it was, a link is never replaced nor written
# through, /dev/stdout reaches standard output. Then every command with standard output on a full
# device, and on a pipe nobody reads (SIGPIPE ignored): exit 1 and the real reason, never 0.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl "$PY"
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
cat root-a.pem root-b.pem >two.pem
C=$tmp/cat
"$DBTRUST" --catalog "$C" import --bundle b two.pem >/dev/null || {
    echo "FAIL: import into the test catalog"
    exit 1
}
# system status reads these, never the machine's own.
mkdir sysdir && : >sysfile.pem
export DBTRUST_SYSTEM_CERT_DIR=$tmp/sysdir DBTRUST_SYSTEM_CERT_FILE=$tmp/sysfile.pem \
    DBTRUST_SYSTEM_STATE=$tmp/state/system-state SSL_CERT_DIR=$tmp/sysdir \
    SSL_CERT_FILE=$tmp/sysfile.pem

root=0 sink=/dev/null
# full and null take outputs by name; stdfull is only ever standard output.
if [ "$(id -u)" = 0 ] && mknod full c 1 7 && mknod null c 1 3 && mknod stdfull c 1 7; then
    root=1 sink=$tmp/null
else
    echo "note: not root: device nodes cannot be made; the device cases are not run"
fi
# is_dev NODE MAJOR:MINOR WHAT: NODE is still that character device (stat prints hex numbers).
is_dev() {
    [ -c "$1" ] && [ "$(stat -c '%t:%T' "$1")" = "$2" ] ||
        fail "$3: $1 is no longer the character device $2: $(ls -l "$1")"
}

# ---- every writer, by the kind of its output path ----
# Each writer is a command whose last argument is OUT; REF is what it writes to a new file.
writers=(
    "convert --to pem two.pem"
    "convert --to der root-a.pem"
    "convert --to p7b two.pem"
    "--catalog $C export --format pem"
    "--catalog $C export --format p7b-der"
    "--catalog $C -exportcert -alias b -rfc -file"
)
i=0
for w in "${writers[@]}"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    expect_rc 0 "$DBTRUST" $w ref$i
    [ -s ref$i ] || fail "$w: the reference output ref$i is empty"

    if [ $root = 1 ]; then
        # shellcheck disable=SC2086
        expect_rc 1 "$DBTRUST" $w full
        has err "full: No space left on device" "$w to a full device"
        is_dev full 1:7 "$w to a full device"
        # shellcheck disable=SC2086
        expect_rc 0 "$DBTRUST" $w null
        is_dev null 1:3 "$w to a null device"
    fi

    rm -f fifo got && mkfifo fifo
    timeout 30 cat fifo >got &
    reader=$!
    # shellcheck disable=SC2086
    expect_rc 0 "$DBTRUST" $w fifo
    wait $reader
    [ -p fifo ] || fail "$w: the FIFO was replaced: $(ls -l fifo)"
    cmp -s got ref$i || fail "$w: what the FIFO's reader got is not the output"

    before=$failed failed=0
    mkdir -p elsewhere && echo old >elsewhere/target && rm -f link && ln -s elsewhere/target link
    # shellcheck disable=SC2086
    expect_rc 1 "$DBTRUST" $w link
    has err "link is a symbolic link to elsewhere/target" "$w to a link"
    [ -L link ] || fail "$w: the link was replaced"
    [ "$(cat elsewhere/target)" = old ] || fail "$w: written through the link to its target"
    rm -f dangling && ln -s elsewhere/new dangling
    # shellcheck disable=SC2086
    expect_rc 1 "$DBTRUST" $w dangling
    has err "dangling is a symbolic link to elsewhere/new" "$w to a dangling link"
    [ -L dangling ] || fail "$w: the dangling link was replaced"
    [ -e elsewhere/new ] && fail "$w: created the dangling link's target"
    mkdir -p adir
    # shellcheck disable=SC2086
    expect_rc 1 "$DBTRUST" $w adir
    has err "adir is a directory" "$w to a directory"
    [ -n "$(ls -A adir)" ] && fail "$w: wrote into the directory"
    ls -A | grep -q '\.tmp' && fail "$w: a temporary file was left: $(ls -A | grep '\.tmp')"
    # /dev/stdout is a link too: a dbtrust that replaces links would replace the machine's own.
    if [ $failed = 1 ]; then
        echo "FAIL: $w replaces links or writes through them: /dev/stdout is not tried"
        continue
    fi
    failed=$before

    # /dev/stdout: to a file, a file opened for appending, a pipe. (-exportcert -file then
    # says where it stored the certificate, on standard output as well, after it.)
    note=$(printf 'Certificates stored in file </dev/stdout>\n.')
    [[ $w = *-exportcert* ]] || note=.
    # shellcheck disable=SC2086
    timeout 60 "$DBTRUST" $w /dev/stdout >sout 2>err || fail "$w /dev/stdout >file: $(cat err)"
    cmp -s sout <(cat ref$i; printf '%s' "${note%.}") || fail "$w /dev/stdout >file: not the output"
    echo before >sappend
    # shellcheck disable=SC2086
    timeout 60 "$DBTRUST" $w /dev/stdout >>sappend 2>err || fail "$w /dev/stdout >>file: $(cat err)"
    cmp -s sappend <(echo before; cat ref$i; printf '%s' "${note%.}") ||
        fail "$w /dev/stdout >>file: not appended"
    # shellcheck disable=SC2086
    timeout 60 "$DBTRUST" $w /dev/stdout 2>err | cat >spipe
    [ "${PIPESTATUS[0]}" = 0 ] || fail "$w /dev/stdout | cat: exit ${PIPESTATUS[0]}: $(cat err)"
    cmp -s spipe <(cat ref$i; printf '%s' "${note%.}") || fail "$w /dev/stdout | cat: not the output"
    # bash's >(...): /dev/fd/63, a link to a pipe.
    # shellcheck disable=SC2086
    timeout 60 "$DBTRUST" $w >(cat >sproc) >/dev/null 2>err || fail "$w >(cat): $(cat err)"
    for _ in $(seq 50); do cmp -s sproc ref$i && break; sleep 0.1; done
    cmp -s sproc ref$i || fail "$w >(cat): not the output"
done

# Truststores: the random salt makes each file different, so only the nodes are checked.
if [ $root = 1 ]; then
    for w in "convert --to pkcs12 two.pem" "convert --to jks two.pem" \
        "--catalog $C export --format pkcs12"; do
        # shellcheck disable=SC2086
        expect_rc 1 "$DBTRUST" $w full
        has err "No space left on device" "$w to a full device"
        is_dev full 1:7 "$w to a full device"
        # shellcheck disable=SC2086
        expect_rc 0 "$DBTRUST" $w null
        is_dev null 1:3 "$w to a null device"
    done
fi

# Keystore files (-importcert/-delete -keystore) through a link: refused, link and store kept.
expect_rc 0 "$DBTRUST" convert --to pkcs12 root-a.pem elsewhere/ks.p12
cp elsewhere/ks.p12 ks.orig
ln -s elsewhere/ks.p12 kslink
expect_rc 1 "$DBTRUST" -importcert -alias extra -file root-b.pem -keystore kslink
has err "kslink is a symbolic link to elsewhere/ks.p12" "-importcert -keystore LINK"
expect_rc 1 "$DBTRUST" -delete -alias 1 -keystore kslink
[ -L kslink ] || fail "-importcert/-delete -keystore replaced the link"
cmp -s elsewhere/ks.p12 ks.orig || fail "-importcert/-delete -keystore wrote through the link"
expect_rc 0 "$DBTRUST" -importcert -alias extra -file root-b.pem -keystore elsewhere/ks.p12
has out "1 certificate was added to keystore elsewhere/ks.p12" "-importcert -keystore FILE"

# Hashed directories: a link to an empty directory is neither replaced nor filled.
mkdir emptydir && ln -s emptydir hdlink
expect_rc 1 "$DBTRUST" convert --to hashed-dir two.pem hdlink
has err "hdlink is a symbolic link" "hashed-dir to a link"
[ -L hdlink ] && [ -z "$(ls -A emptydir)" ] || fail "hashed-dir through a link changed something"
if [ $root = 1 ]; then
    expect_rc 1 "$DBTRUST" convert --to hashed-dir two.pem null
    is_dev null 1:3 "hashed-dir to a device"
fi

# ---- standard output on a full device, and on a pipe nobody reads ----
expect_rc 0 "$DBTRUST" --catalog "$C" check
expect_rc 0 "$DBTRUST" convert --to pkcs12 two.pem ks.p12
cmds=(
    "--help" "--version" "list --help" "-help"
    "print two.pem" "print --json two.pem"
    "--catalog $C list" "--catalog $C list --json"
    "--catalog $C check" "--catalog $C check --json"
    "--catalog $C env" "--catalog $C env --shell systemd" "--catalog $C config"
    "--catalog $C export -" "--catalog $C export --format p7b-der -"
    "convert --to pem two.pem -" "convert --to der root-a.pem -"
    "-printcert -file two.pem" "-printcert -rfc -file two.pem"
    "--catalog $C -list" "--catalog $C -list -v" "--catalog $C -list -rfc"
    "-list -keystore ks.p12" "--catalog $C -exportcert -alias b -rfc"
    "--catalog $C system status" "sources" "sources --json"
    "--catalog $C verify"
)
for c in "${cmds[@]}"; do
    # Exit 1, and 3 for check (the Nagios plugins' UNKNOWN: the check could not report).
    want=1
    case " $c " in *" check "*) want=3 ;; esac
    # The command works: exit 0 with its output going nowhere.
    # shellcheck disable=SC2086
    timeout 60 "$DBTRUST" $c >"$sink" 2>err ||
        fail "'$c' fails even with somewhere to write: $(cat err)"
    if [ $root = 1 ]; then
        # shellcheck disable=SC2086
        timeout 60 "$DBTRUST" $c >stdfull 2>err
        rc=$?
        [ $rc = "$want" ] || fail "'$c' >stdfull exited $rc, expected $want: $(cat err)"
        grep -q "writing standard output: No space left on device" err ||
            fail "'$c' >stdfull: no 'writing standard output: No space left on device' in: $(cat err)"
        [ "$(grep -c 'writing standard output' err)" -le 1 ] ||
            fail "'$c' >stdfull: the failure is reported more than once: $(cat err)"
        is_dev stdfull 1:7 "'$c' >stdfull"
    fi
    # A reader that is gone, with SIGPIPE ignored (as a parent may leave it): EPIPE.
    # shellcheck disable=SC2086
    "$PY" -c 'import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
sys.exit(subprocess.call(sys.argv[1:], stdout=w, restore_signals=False, timeout=60))' \
        "$DBTRUST" $c 2>err
    rc=$?
    [ $rc = "$want" ] || fail "'$c' to a closed pipe exited $rc, expected $want: $(cat err)"
    grep -q "writing standard output: $(
        "$PY" -c 'import errno, os; print(os.strerror(errno.EPIPE))'
    )" err || fail "'$c' to a closed pipe: the reason is not given: $(cat err)"
done

# verify: "catalog damaged" and "could not write" both exit 1; the write failure is the one line
# "writing standard output: REASON" on standard error, which problems found never print.
cp -a "$C" damaged && : >"damaged/$(readlink damaged/current)/bundles/stray"
"$DBTRUST" --catalog damaged verify >out 2>err
rc=$?
[ $rc = 1 ] && grep -q '^problem: .*/bundles/stray is not a bundle' out && [ ! -s err ] ||
    fail "verify of a damaged catalog: exit $rc, stdout $(cat out), stderr $(cat err)"
"$DBTRUST" --catalog damaged verify --quiet >out 2>err
rc=$?
[ $rc = 1 ] && [ ! -s out ] && [ ! -s err ] ||
    fail "verify --quiet of a damaged catalog: exit $rc, stdout $(cat out), stderr $(cat err)"
# verify_closed_pipe ARGS...: standard output a pipe nobody reads, SIGPIPE ignored.
verify_closed_pipe() {
    "$PY" -c 'import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
sys.exit(subprocess.call(sys.argv[1:], stdout=w, restore_signals=False, timeout=60))' \
        "$DBTRUST" "$@" 2>err
}
epipe=$("$PY" -c 'import errno, os; print(os.strerror(errno.EPIPE))')
for cat in "$C" damaged; do
    if [ $root = 1 ]; then
        "$DBTRUST" --catalog "$cat" verify >stdfull 2>err
        rc=$?
        [ $rc = 1 ] && [ "$(grep -c . err)" = 1 ] &&
            grep -qx "dbtrust: error: writing standard output: No space left on device" err ||
            fail "verify of $cat >stdfull: exit $rc, wanted 1 and one line; stderr: $(cat err)"
        # --quiet writes nothing: nothing can fail to be written; the status is the catalog's.
        "$DBTRUST" --catalog "$cat" verify --quiet >stdfull 2>err
        rc=$?
        want=1 && [ "$cat" = "$C" ] && want=0
        [ $rc = $want ] && [ ! -s err ] ||
            fail "verify --quiet of $cat >stdfull: exit $rc, wanted $want; stderr: $(cat err)"
    fi
    verify_closed_pipe --catalog "$cat" verify
    rc=$?
    [ $rc = 1 ] && [ "$(grep -c . err)" = 1 ] &&
        grep -qx "dbtrust: error: writing standard output: $epipe" err ||
        fail "verify of $cat to a closed pipe: exit $rc, wanted 1 and one line; stderr: $(cat err)"
    verify_closed_pipe --catalog "$cat" verify --quiet
    rc=$?
    want=1 && [ "$cat" = "$C" ] && want=0
    [ $rc = $want ] && [ ! -s err ] ||
        fail "verify --quiet of $cat to a closed pipe: exit $rc, wanted $want; stderr: $(cat err)"
done

# import and remove change the catalog and then print: the change stands, the exit is 1.
if [ $root = 1 ]; then
    expect_rc 0 "$DBTRUST" --catalog "$tmp/cat2" import --bundle x root-a.pem
    "$DBTRUST" --catalog "$tmp/cat2" import --bundle y root-b.pem >stdfull 2>err
    rc=$?
    [ $rc = 1 ] && grep -q "writing standard output: No space left on device" err ||
        fail "import >stdfull exited $rc: $(cat err)"
    "$DBTRUST" --catalog "$tmp/cat2" remove --bundle y >stdfull 2>err
    rc=$?
    [ $rc = 1 ] && grep -q "writing standard output: No space left on device" err ||
        fail "remove >stdfull exited $rc: $(cat err)"
fi

# Closed standard output with nothing to print is not an error; with something to print it is.
"$DBTRUST" convert --to pem two.pem out.pem >&- 2>err || fail "convert with stdout closed: $(cat err)"
"$DBTRUST" --version >&- 2>err && fail "--version with stdout closed exited 0"
has err "writing standard output: Bad file descriptor" "--version with stdout closed"

exit $failed
