#!/usr/bin/env bash
# Crash consistency of the real CLI: `dbtrust import`, `dbtrust remove` and `dbtrust system
# enable` processes SIGKILLed at random points of their run (delays drawn uniformly in
# [0, measured duration]), DBT_KILLS times in all (default 1000). After every kill: the catalog
# is exactly the old or the new state, OpenSSL's hashed-directory lookup (openssl verify -CApath,
# and tests/catview_tool's full check) and the provider (openssl storeutl dbtrust://) read it
# with no error, the stand-in system directory is the before or the after state with no dangling
# link, and the next command succeeds and leaves no leftover. Then a few scoped imports (import
# --only-for, which signs the trust view's cross-certificates with a key held only in memory) are
# killed the same way (DBT_SCOPED_KILLS, default 8): after each, no private key is anywhere under
# the catalog or the command's TMPDIR and `dbtrust verify` passes. Prints the counts at the end.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
DBTRUST=${DBTRUST:-$build/dbtrust}
export OPENSSL_MODULES=${OPENSSL_MODULES:-$build/.libs}
catview=$build/tests/catview_tool
# The 1000 kills run in the normal build; the sanitizer pass (several times slower per process)
# repeats 200 of them for ASan/UBSan reports from interrupted runs' successors.
kills=${DBT_KILLS:-1000}
[ -n "${DBT_KILLS:-}" ] || [ -z "${DBTRUST_SANITIZED:-}" ] || kills=200

die() { echo "Bail out! $*"; exit 1; }
[ -x "$catview" ] || die "$catview not built; run make check"
[ -f "$OPENSSL_MODULES/dbtrust.so" ] || die "no dbtrust.so in $OPENSSL_MODULES; run make"

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-cli-kill.XXXXXX") || exit 1
trap 'rm -rf "$w"' EXIT
# Stopped by a signal, still unmount and remove (bash runs the EXIT trap on exit only).
trap 'exit 143' TERM
trap 'exit 130' INT
# As root, a tmpfs of our own: the writers' syncfs then waits for nothing else on the machine,
# so the kill points spread over the commands' logic instead of mostly over disk flushes (what
# a SIGKILL can interrupt is the order of system calls, the same on any filesystem).
# Opt-in, by hand: DBT_KILL_BUNDLES=N first fills the catalog with N more bundles of 3 CAs each
# (bench/catalog-bench, built by make), for the same checks at a large size (with DBT_KILLS=100).
fill=${DBT_KILL_BUNDLES:-0}
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=$((64 + fill / 2))m,mode=755 dbt-cli-kill "$w" 2>/dev/null; then
    trap 'exec 9>&-; umount "$w"; rm -rf "$w"' EXIT
    echo "# on a tmpfs at $w"
fi
chmod 755 "$w"
# Three self-signed EC roots (cheap to make; the certificates' kind does not matter here).
pki=$w/pki
mkdir "$pki"
for r in root-a root-b root-c; do
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$pki/$r.key" -subj "/O=dbtrust kill test/CN=$r" -days 30 \
        -addext basicConstraints=critical,CA:TRUE -out "$pki/$r.pem" 2>/dev/null ||
        die "cannot make $r"
done
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/sys.key" \
    -subj "/CN=unrelated system CA" -days 30 -out "$pki/other-root.pem" 2>/dev/null ||
    die "cannot make the system CA"
# A writer can land only in the old or the new generation; a fixed RANDOM seed per run is not
# wanted (every CI run explores other points), but the seed is printed to replay a failure.
seed=${DBT_KILL_SEED:-$$}
RANDOM=$seed

export DBTRUST_CATALOG=$w/cat
"$build/tests/test_provider_cnf" "$DBTRUST_CATALOG" >"$w/openssl.cnf" || die "test_provider_cnf"
export DBTRUST_SYSTEM_CERT_DIR=$w/sys DBTRUST_SYSTEM_STATE=$w/state/system-state
export DBTRUST_SYSTEM_CERT_FILE=$w/sys/ca-certificates.crt
mkdir -p "$w/sys" "$w/state"
cp "$pki/other-root.pem" "$w/sys/other.pem"
cp "$pki/other-root.pem" "$w/sys/ca-certificates.crt"
openssl rehash "$w/sys" 2>/dev/null || die "openssl rehash of the stand-in system directory"

# The catalog always holds "base" (root-a); the killed import adds bundle "k" (root-b, root-c).
cat "$pki/root-b.pem" "$pki/root-c.pem" >"$w/k.pem"
"$DBTRUST" import -q --bundle base "$pki/root-a.pem" || die "first import failed"
[ "$fill" = 0 ] || "$build/bench/catalog-bench" build "$DBTRUST_CATALOG" "$fill" ||
    die "cannot add $fill bundles (bench/catalog-bench)"

# The state as readers see it, independent of lib/ and without a fork (this runs thousands of
# times): bundle names and the index of the current generation (it names every certificate's
# digest and bundles). .meta files carry the import time and are left out.
state() {
    local idx b
    idx=$(<"$DBTRUST_CATALOG/current/certs/index") 2>/dev/null
    b=("$DBTRUST_CATALOG"/current/bundles/*.pem)
    REPLY="${b[*]##*/}|$idx"
}
# The stand-in system directory: names and link targets, the bundle file and the state file.
# The state file is left out: enable records it before making links ("record first" in
# cli/system.c) so that disable can undo a half-done enable; a kill in between leaves the
# directory as before with the state file present, which system_ok accepts when the next
# disable restores the before state exactly.
sysraw() {
    (cd "$w/sys" && find . ! -name . -printf '%P %l\n' | sort && cat ca-certificates.crt)
}
sysstate() { sysraw | sha256sum | cut -c1-16; }

state; S_WITHOUT=$REPLY
"$DBTRUST" system enable >/dev/null || die "system enable failed"
Y_ON=$(sysstate)
sysraw >"$w/sys-on"
"$DBTRUST" system disable >/dev/null || die "system disable failed"
Y_OFF=$(sysstate)
sysraw >"$w/sys-off"
"$DBTRUST" import -q --bundle k "$w/k.pem" || die "import of k failed"
state; S_WITH=$REPLY
"$DBTRUST" remove --bundle k >/dev/null || die "remove of k failed"
[ "$S_WITH" != "$S_WITHOUT" ] && [ "$Y_ON" != "$Y_OFF" ] || die "states do not differ"

# Duration of each command in microseconds (the slowest of 3 runs), the range delays come from.
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
declare -A dur=()
measure() {
    local name=$1 best=0 i t0 t
    shift
    for i in 1 2 3; do
        t0=$(now_us)
        "$@" >/dev/null || die "$name failed while measuring"
        t=$(($(now_us) - t0))
        [ "$t" -gt "$best" ] && best=$t
        undo_"$name"
    done
    dur[$name]=$best
}
undo_import() { "$DBTRUST" remove --bundle k >/dev/null || die "remove (undo) failed"; }
undo_remove() { "$DBTRUST" import -q --bundle k "$w/k.pem" || die "import (undo) failed"; }
undo_enable() { "$DBTRUST" system disable >/dev/null || die "system disable (undo) failed"; }
measure import "$DBTRUST" import -q --bundle k "$w/k.pem"
"$DBTRUST" import -q --bundle k "$w/k.pem" || die "import of k failed"
measure remove "$DBTRUST" remove --bundle k
"$DBTRUST" remove --bundle k >/dev/null || die "remove of k failed"
measure enable "$DBTRUST" system enable
echo "# durations (us, slowest of 3): import ${dur[import]}, remove ${dur[remove]}, enable ${dur[enable]}; seed $seed"

# Sub-second sleeps without a fork: read with a timeout on a FIFO nobody writes to.
mkfifo "$w/fifo"
exec 9<>"$w/fifo"
usleep() { read -r -t "$(printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)))" -u 9 || true; }

failures=0
fail() {
    failures=$((failures + 1))
    echo "not ok - $*"
    [ "$failures" -lt 5 ] || die "too many failures (seed $seed)"
}

# Checks after a kill. catalog_ok WANT...: the state is one of WANT, the hashed view passes
# catview_tool, openssl verify -CApath finds base (and k's roots when present), storeutl lists
# the catalog through the provider with nothing on stderr (the CLI's own reading is the next
# command's).
catalog_ok() {
    local s n want out err
    state
    s=$REPLY
    [ "$s" = "$1" ] || [ "$s" = "${2:-$1}" ] ||
        { fail "$op kill $i (delay ${delay}us): the catalog is neither the old nor the new state: $s"; return 1; }
    n=$("$catview" "$DBTRUST_CATALOG" 2>&1) || { fail "$op kill $i: $n"; return 1; }
    if [ "$s" = "$S_WITH" ]; then want=3; else want=1; fi
    want=$((want + 3 * fill))
    [ "$n" = "$want" ] || { fail "$op kill $i: catview counts $n certificates, wanted $want"; return 1; }
    local certs=("$pki/root-a.pem")
    [ "$s" = "$S_WITH" ] && certs+=("$pki/root-b.pem" "$pki/root-c.pem")
    out=$(openssl verify -CApath "$DBTRUST_CATALOG/certs" "${certs[@]}" 2>&1) ||
        { fail "$op kill $i: openssl verify -CApath: $out"; return 1; }
    out=$(OPENSSL_CONF=$w/openssl.cnf openssl storeutl -certs dbtrust:// 2>"$w/err")
    err=$(cat "$w/err")
    n=$(grep -c 'BEGIN CERTIFICATE' <<<"$out")
    [ -z "$err" ] && [ "$n" = "$want" ] ||
        { fail "$op kill $i: provider listed $n certificates (wanted $want): $err"; return 1; }
    return 0
}
# The system stand-in: before, after, or part of the way (a directory of links cannot change in
# one step: enable adds a CA's dbtrust-<sha256>.pem link, then its hash link), never anything
# else: nothing of the system's own removed, nothing that the finished command would not have
# made, no dangling link, and OpenSSL's lookup there still works.
partial=0
system_ok() {
    local s out dangling foreign lost
    s=$(sysstate)
    if [ "$s" != "$Y_ON" ] && [ "$s" != "$Y_OFF" ]; then
        # A temporary link (".<name>.tmp-<pid>", made before the rename into place) may stay
        # after a kill; the next enable or disable removes it (checked: exact states below).
        sysraw | grep -vE '^\.[^ ]+\.tmp-[0-9]+ ' | sort -u >"$w/sys-now"
        foreign=$(sort -u "$w/sys-on" "$w/sys-off" | comm -23 "$w/sys-now" -)
        lost=$(sort -u "$w/sys-off" | comm -13 "$w/sys-now" -)
        [ -z "$foreign" ] && [ -z "$lost" ] ||
            { fail "enable kill $i (delay ${delay}us): the system directory is not on the way from before to after: not in either: $foreign; of before, missing: $lost"; return 1; }
        partial=$((partial + 1))
    fi
    dangling=$(find "$w/sys" -xtype l)
    [ -z "$dangling" ] || { fail "enable kill $i: dangling links $dangling"; return 1; }
    out=$(openssl verify -CApath "$w/sys" "$pki/other-root.pem" 2>&1) ||
        { fail "enable kill $i: openssl verify in the system directory: $out"; return 1; }
    if [ "$s" = "$Y_ON" ]; then
        out=$(openssl verify -CApath "$w/sys" "$pki/root-a.pem" 2>&1) ||
            { fail "enable kill $i: enabled, but the catalog CAs do not verify: $out"; return 1; }
    fi
    return 0
}
# After the next command: one or two generations, no build, .current.tmp or .changes.tmp leftovers
# (trust and trust.pem are the fixed links to the current generation's trust view and its one PEM
# file; .changes is the writers' record of the last commit).
no_leftovers() {
    local extra
    extra=$(cd "$DBTRUST_CATALOG" && ls -A | grep -vxE '\.lock|current|bundles|certs|trust|trust\.pem|\.changes|\.gen-[0-9]+')
    [ -z "$extra" ] && [ "$(cd "$DBTRUST_CATALOG" && ls -d .gen-* | wc -l)" -le 2 ] ||
        fail "$op kill $i: leftovers after the next command: $(ls -A "$DBTRUST_CATALOG")"
}
run_ok() {
    local out
    out=$("$@" 2>&1) || { fail "$op kill $i: next command '${*#"$DBTRUST" }' failed: $out"; return 1; }
}

# kill_one CMD...: starts CMD, SIGKILLs it after a delay in [0, dur[op]] and sets $landed to
# "killed" or "finished" (the command exited before the signal).
kill_one() {
    delay=$(((RANDOM * 32768 + RANDOM) % (dur[$op] + 1)))
    "$@" >/dev/null 2>&1 &
    local pid=$!
    usleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ $? = 137 ]; then landed=killed; else landed=finished; fi
}

declare -A quota=([import]=$((kills * 2 / 5)) [remove]=$((kills * 2 / 5)))
quota[enable]=$((kills - quota[import] - quota[remove]))
declare -A killed=() before=() after=() finished=()
for op in import remove enable; do killed[$op]=0 before[$op]=0 after[$op]=0 finished[$op]=0; done
i=0
provider_checks=0
# import and remove alternate (the catalog toggles between without and with k); system enable
# runs with k absent and is undone by disable after each kill.
while :; do
    if [ "${killed[import]}" -ge "${quota[import]}" ] && [ "${killed[remove]}" -ge "${quota[remove]}" ] &&
        [ "${killed[enable]}" -ge "${quota[enable]}" ]; then
        break
    fi
    i=$((i + 1))
    state
    if [ "$REPLY" = "$S_WITHOUT" ]; then
        if [ "${killed[enable]}" -lt "${quota[enable]}" ] && { [ $((i % 3)) = 0 ] || [ "${killed[import]}" -ge "${quota[import]}" ]; }; then
            op=enable
            kill_one "$DBTRUST" system enable
            system_ok
            catalog_ok "$S_WITHOUT"
            provider_checks=$((provider_checks + 1))
            if [ "$(sysstate)" = "$Y_ON" ]; then s=after; else s=before; fi
            # Every other time the next command is disable straight away (it must undo a
            # half-done enable), else enable again (it must complete it), then disable.
            if [ "$s" = before ] && [ $((i % 2)) = 0 ]; then
                run_ok "$DBTRUST" system enable
                [ "$(sysstate)" = "$Y_ON" ] || fail "enable kill $i: the next enable did not give the after state"
            fi
            run_ok "$DBTRUST" system disable
            [ ! -e "$DBTRUST_SYSTEM_STATE" ] || fail "enable kill $i: disable left $DBTRUST_SYSTEM_STATE"
            [ "$(sysstate)" = "$Y_OFF" ] || fail "enable kill $i: disable did not restore the system directory"
        else
            op=import
            kill_one "$DBTRUST" import -q --bundle k "$w/k.pem"
            catalog_ok "$S_WITHOUT" "$S_WITH"
            provider_checks=$((provider_checks + 1))
            state
            if [ "$REPLY" = "$S_WITH" ]; then s=after; else s=before; fi
            run_ok "$DBTRUST" import -q --bundle k "$w/k.pem"
            state
            [ "$REPLY" = "$S_WITH" ] || fail "import kill $i: the next import did not give the new state"
            no_leftovers
        fi
    else
        op=remove
        kill_one "$DBTRUST" remove --bundle k
        catalog_ok "$S_WITH" "$S_WITHOUT"
        provider_checks=$((provider_checks + 1))
        # Removed already: the next command is the next import (the loop's next kill), run whole
        # here so that it also cleans up what the killed writer left.
        state
        if [ "$REPLY" = "$S_WITHOUT" ]; then
            s=after
            run_ok "$DBTRUST" import -q --bundle k "$w/k.pem"
            run_ok "$DBTRUST" remove --bundle k
        else
            s=before
            run_ok "$DBTRUST" remove --bundle k
        fi
        state
        [ "$REPLY" = "$S_WITHOUT" ] || fail "remove kill $i: the next remove did not give the new state"
        no_leftovers
    fi
    if [ "$landed" = killed ]; then
        killed[$op]=$((killed[$op] + 1))
        if [ "$s" = after ]; then after[$op]=$((after[$op] + 1)); else before[$op]=$((before[$op] + 1)); fi
    else
        finished[$op]=$((finished[$op] + 1))
    fi
done

# Scoped imports of bundle "s" (root-b, root-c), new or replacing a scoped one, killed mid-way.
# keys_in DIR...: files holding PEM key text or parsing as a key (`openssl pkey` with no -inform
# tries every encoding), one a line.
keys_in() {
    local f
    grep -rl "PRIVATE KEY" "$@" 2>/dev/null
    while IFS= read -r f; do
        openssl pkey -in "$f" -passin pass: -noout </dev/null >/dev/null 2>&1 && echo "$f (key)"
    done < <(find "$@" -type f)
}
# Control: the detector finds a key planted as PEM and as DER (with no PEM text).
mkdir "$w/ctl"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/ctl/k.pem" 2>/dev/null &&
    openssl pkey -in "$w/ctl/k.pem" -outform DER -out "$w/ctl/k.der" 2>/dev/null ||
    die "cannot make the control keys"
[ "$(keys_in "$w/ctl" | sort)" = "$(printf '%s\n' "$w/ctl/k.der (key)" "$w/ctl/k.pem" \
    "$w/ctl/k.pem (key)" | sort)" ] || die "keys_in misses planted keys: $(keys_in "$w/ctl")"
rm -rf "$w/ctl"
scoped=(env "TMPDIR=$w/tmpd" "$DBTRUST" import -q --bundle s --only-for scope.test
    --only-for 10.0.0.0/8 "$w/k.pem")
mkdir "$w/tmpd"
undo_scoped() { "$DBTRUST" remove --bundle s >/dev/null || die "remove of s (undo) failed"; }
measure scoped "${scoped[@]}"
skills=${DBT_SCOPED_KILLS:-8}
op=scoped killed[scoped]=0 finished[scoped]=0
for ((i = 1; i <= skills; i++)); do
    kill_one "${scoped[@]}"
    if [ "$landed" = killed ]; then killed[scoped]=$((killed[scoped] + 1)); else finished[scoped]=$((finished[scoped] + 1)); fi
    out=$(keys_in "$DBTRUST_CATALOG" "$w/tmpd")
    [ -z "$out" ] || fail "scoped kill $i (delay ${delay}us): key material left: $out"
    run_ok "$DBTRUST" verify
    run_ok "${scoped[@]}"
    out=$("$DBTRUST" list --bundle s 2>&1)
    grep -q '^s  *scope.test 10.0.0.0/8$' <<<"$out" ||
        fail "scoped kill $i: the next scoped import did not record the scope: $out"
    no_leftovers
    # Every other kill hits the import of a new bundle, the others the replacement of one.
    [ $((i % 2)) = 0 ] && run_ok "$DBTRUST" remove --bundle s
done
out=$(keys_in "$DBTRUST_CATALOG" "$w/tmpd")
[ -z "$out" ] || fail "scoped imports: key material left at the end: $out"
echo "# scoped import: ${killed[scoped]} SIGKILLs, ${finished[scoped]} runs exited before the signal (durations up to ${dur[scoped]} us)"

total=${killed[scoped]}
for op in import remove enable; do
    total=$((total + killed[$op]))
    echo "# $op: ${killed[$op]} SIGKILLs (${before[$op]} before the commit: old state; ${after[$op]} after it: new state, process not yet exited), ${finished[$op]} runs exited before the signal"
done
echo "# enable kills that left part of the links (completed by the next enable, undone by disable): $partial"
echo "# $total SIGKILLs in all, $provider_checks provider and hashed-directory checks (one after every run), $failures failures; seed $seed"
if [ "$failures" = 0 ]; then echo "ok - $total SIGKILLs left old-or-new states"; exit 0; fi
exit 1
