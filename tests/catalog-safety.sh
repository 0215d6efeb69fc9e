#!/usr/bin/env bash
# One safety rule (lib/catsafe.c) for the commands and the provider: for each kind of unsafe
# entry (group- or world-writable file or directory, another owner, a FIFO, a device node, a
# symlink out of the catalog) in bundles/, certs/, the generation directory, the index and a
# .meta, `dbtrust list`, `dbtrust verify`, `openssl storeutl -certs dbtrust://` and
# `openssl verify -CAstore dbtrust://` all refuse the catalog (none serves a part of it).
# Then damage that is not a safety matter (garbage index, swapped, missing or extra certificate
# file, wrong or gapped hash links, broken .meta or bundle, index facts or bundle lists that
# disagree): dbtrust verify reports each with its path and exits 1, list fails where it reads it.
# The trust view's one PEM file (trust.pem, NODE_EXTRA_CA_CERTS of dbtrust env) is held to the
# same rule (kind, mode, owner; its fixed link leads nowhere else) and verify compares it with
# the view: a tampered, reordered, missing or foreign one is reported.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup catalog-safety
dbt_prov_pki
dbt=${DBTRUST:-$DBT_PROV_BUILD/dbtrust}
[ -x "$dbt" ] || { echo "Bail out! $dbt (the CLI) not built"; exit 1; }

root=$PKI/root-rsa2048.pem
sha_of() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-64; }
rsha=$(sha_of "$root")
osha=$(sha_of "$PKI/other-root.pem")
rhash=$(openssl x509 -in "$root" -noout -subject_hash)
chain=(-untrusted "$PKI/intermediate.pem" "$PKI/server.pem")
"$dbt" --catalog "$W/template" import -q --bundle rds "$PKI/demo-bundle.pem" &&
    "$dbt" --catalog "$W/template" import -q --bundle other "$PKI/other-root.pem" ||
    { echo "Bail out! dbtrust import failed"; exit 1; }
root_uid=$(id -u)

# fresh NAME: a good copy of the template in $C (its generation in $G) and $C.cnf naming it.
fresh() {
    C=$W/$1
    cp -a "$W/template" "$C"
    G=$C/$(readlink "$C/current")
    "$DBT_PROV_BUILD/tests/test_provider_cnf" "$C" >"$C.cnf"
}

fresh good
expect "good catalog: verify says sound" ok "sound" "$dbt" --catalog "$C" verify
expect "good catalog: list" ok "rds" "$dbt" --catalog "$C" list
expect "good catalog: the provider verifies the chain" ok "OK" env OPENSSL_CONF="$C.cnf" \
    openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
# The provider serves the catalog's certificates, each once: trust.pem beside them is not read.
[ -s "$G/trust.pem" ] && n=$(OPENSSL_CONF="$C.cnf" dbt_prov_count -certs dbtrust://) &&
    [ "$n" = "$(($(wc -l <"$G/certs/index") - 1))" ] &&
    ok "good catalog: storeutl serves each certificate once beside trust.pem" ||
    not_ok "good catalog: storeutl served ${n:-?} certificates for $(($(wc -l <"$G/certs/index") - 1)) in the index"

# unsafe NAME MESSAGE DAMAGE...: runs DAMAGE in a fresh copy; all four readers refuse it.
unsafe() {
    local name=$1 msg=$2 pmsg=${PMSG:-$2} n
    shift 2
    fresh "$name"
    (cd "$C" && G=$G "$@") || { not_ok "$name: cannot make the damage"; return; }
    expect "$name: list refuses" fail "$msg" "$dbt" --catalog "$C" list
    expect "$name: verify reports it" fail "$msg" "$dbt" --catalog "$C" verify
    expect "$name: storeutl refuses" any "$pmsg" env OPENSSL_CONF="$C.cnf" openssl storeutl -certs dbtrust://
    n=$(OPENSSL_CONF="$C.cnf" dbt_prov_count -certs dbtrust://)
    [ "$n" = - ] || [ "$n" = 0 ] && ok "$name: storeutl serves no certificate" ||
        not_ok "$name: storeutl served $n certificates of an unsafe catalog"
    expect "$name: verify -CAstore fails" fail "$pmsg" env OPENSSL_CONF="$C.cnf" \
        openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
}
# Run in the copy's directory with G set: "$G" is its generation.
unsafe gw-bundle "is writable by its group" sh -c 'chmod g+w "$G/bundles/rds.pem"'
unsafe ow-other-bundle "is writable by others" sh -c 'chmod o+w "$G/bundles/other.pem"'
unsafe ow-meta "is writable by others" sh -c 'chmod o+w "$G/bundles/rds.meta"'
unsafe ow-index "is writable by others" sh -c 'chmod o+w "$G/certs/index"'
unsafe gw-cert "is writable by its group" sh -c "chmod g+w \"\$G/certs/$osha.pem\""
unsafe ow-gen "is writable by others" sh -c 'chmod o+w "$G"'
unsafe gw-certs-dir "is writable by its group" sh -c 'chmod g+w "$G/certs"'
unsafe gw-bundles-dir "is writable by its group" sh -c 'chmod g+w "$G/bundles"'
unsafe fifo-certs "a FIFO" sh -c 'mkfifo "$G/certs/extra"'
unsafe fifo-bundles "a FIFO" sh -c 'mkfifo "$G/bundles/x.pem"'
unsafe fifo-gen "a FIFO" sh -c 'mkfifo "$G/fifo"'
unsafe fifo-top "a FIFO" sh -c 'mkfifo fifo'
unsafe link-out-certs "is not part of the catalog layout" sh -c 'ln -s /etc/hostname "$G/certs/x.pem"'
unsafe link-out-bundles "is not part of the catalog layout" sh -c 'ln -s /etc/hostname "$G/bundles/y.pem"'
unsafe link-out-gen "is not part of the catalog layout" sh -c 'ln -s /etc "$G/z"'
unsafe hash-link-out "points outside catalog" sh -c "ln -sfn /etc/hostname \"\$G/certs/$rhash.0\""
# The layout inside the generation is fixed, so the rule is strict about it: nothing may lead
# from the generation being read to a file the walk did not check as part of it.
PMSG="not a directory" unsafe certs-link-other-gen "(a symlink) is not part of the catalog layout" \
    sh -c 'o=$(cp -a "$G" .gen-1 && echo .gen-1) && rm -r "$G/certs" && ln -s "../$o/certs" "$G/certs" && chmod o+w "$o/certs/index"'
PMSG="not a directory" unsafe bundles-link-inside "(a symlink) is not part of the catalog layout" \
    sh -c 'mv "$G/bundles" b2 && ln -s ../b2 "$G/bundles"'
unsafe cert-file-link "(a symlink) is not part of the catalog layout" \
    sh -c "mkdir .dead-gen-1 && mv \"\$G/certs/$rsha.pem\" .dead-gen-1/x.pem && chmod o+w .dead-gen-1/x.pem && ln -s ../../.dead-gen-1/x.pem \"\$G/certs/$rsha.pem\""
unsafe index-link "(a symlink) is not part of the catalog layout" \
    sh -c 'mv "$G/certs/index" idx && ln -s ../../idx "$G/certs/index"'
unsafe hash-link-path "points outside catalog layout" \
    sh -c "ln -sfn ./$rsha.pem \"\$G/certs/$rhash.0\""
unsafe hash-link-dangling "does not lead to a regular certificate file" \
    sh -c "ln -sfn $(printf '%064d' 0).pem \"\$G/certs/$rhash.0\""
unsafe hash-link-to-link "(a symlink) is not part of the catalog layout" \
    sh -c "ln -s $osha.pem \"\$G/certs/$(printf '%064d' 1).pem\" && ln -sfn $(printf '%064d' 1).pem \"\$G/certs/$rhash.0\""
unsafe stray-file-certs "is not part of the catalog layout" sh -c 'echo x >"$G/certs/README"'
unsafe subdir-certs "(a directory) is not part of the catalog layout" sh -c 'mkdir "$G/certs/sub"'
unsafe subdir-bundles "(a directory) is not part of the catalog layout" sh -c 'mkdir "$G/bundles/sub"'
unsafe file-in-gen "(a file) is not part of the catalog layout" sh -c 'echo x >"$G/notes"'
# A directory at the top that is neither a generation nor one being removed is checked inside.
unsafe top-dir-fifo "a FIFO" sh -c 'mkdir junk && mkfifo junk/f'
unsafe top-dir-ww "is writable by others" sh -c 'mkdir -p junk/deep && touch junk/deep/ww && chmod 666 junk/deep/ww'
unsafe top-dir-link-out "points outside catalog" sh -c 'mkdir junk && ln -s /etc/hostname junk/l'
# empty.pem (lazy mode's SSL_CERT_FILE) and .lock have a fixed kind.
unsafe empty-pem-full "is not an empty file (it holds data)" sh -c "install -m 0444 \"$root\" empty.pem"
unsafe empty-pem-link "is not an empty file (a symlink)" sh -c 'touch e && ln -s e empty.pem'
unsafe empty-pem-dir "is not an empty file (a directory)" sh -c 'mkdir empty.pem'
unsafe lock-dir "is a directory, not a regular file" sh -c 'rm -f .lock && mkdir .lock'
unsafe lock-link "is a symlink, not a regular file" sh -c 'rm -f .lock && touch l && ln -s l .lock'
# trust.pem: the generation's is a regular file like any other, and the fixed link at the top
# is the catalog's own (current/trust.pem), never a path elsewhere or to another file inside.
unsafe ow-trust-pem "is writable by others" sh -c 'chmod o+w "$G/trust.pem"'
unsafe gw-trust-pem "is writable by its group" sh -c 'chmod g+w "$G/trust.pem"'
unsafe fifo-trust-pem "a FIFO" sh -c 'rm "$G/trust.pem" && mkfifo "$G/trust.pem"'
unsafe trust-pem-link-out "trust.pem -> /etc/ssl/certs/ca-certificates.crt points outside catalog" \
    sh -c 'ln -sfn /etc/ssl/certs/ca-certificates.crt trust.pem'
unsafe trust-pem-link-other "trust.pem -> current/certs/$osha.pem points outside catalog" \
    sh -c "ln -sfn current/certs/$osha.pem trust.pem"
unsafe trust-pem-not-link "trust.pem is not the catalog's symlink into its current generation" \
    sh -c 'rm trust.pem && cp "$G/trust.pem" trust.pem'
unsafe gen-trust-pem-link "trust.pem (a symlink) is not part of the catalog layout" \
    sh -c 'mv "$G/trust.pem" t.pem && ln -s ../t.pem "$G/trust.pem"'
unsafe gen-trust-pem-link-out "trust.pem (a symlink) is not part of the catalog layout" \
    sh -c 'rm "$G/trust.pem" && ln -s /etc/ssl/certs/ca-certificates.crt "$G/trust.pem"'
unsafe gen-trust-pem-dir "trust.pem (a directory) is not part of the catalog layout" \
    sh -c 'rm "$G/trust.pem" && mkdir "$G/trust.pem"'
fresh empty-pem-ok
install -m 0444 /dev/null "$C/empty.pem"
expect "an empty empty.pem is fine: verify" ok "sound" "$dbt" --catalog "$C" verify
expect "an empty empty.pem is fine: list" ok "rds" "$dbt" --catalog "$C" list

if [ "$root_uid" = 0 ] && id nobody >/dev/null 2>&1; then
    unsafe dev-certs "a device node" sh -c 'mknod "$G/certs/d" c 1 3'
    unsafe dev-bundles "a device node" sh -c 'mknod "$G/bundles/d" c 1 3'
    unsafe foreign-bundle "is owned by uid" sh -c 'chown nobody "$G/bundles/rds.pem"'
    unsafe foreign-meta "is owned by uid" sh -c 'chown nobody "$G/bundles/other.meta"'
    unsafe foreign-index "is owned by uid" sh -c 'chown nobody "$G/certs/index"'
    unsafe foreign-cert "is owned by uid" sh -c "chown nobody \"\$G/certs/$osha.pem\""
    unsafe foreign-gen "is owned by uid" sh -c 'chown nobody "$G"'
    unsafe foreign-trust-pem "is owned by uid" sh -c 'chown nobody "$G/trust.pem"'
    unsafe foreign-trust-pem-link "is owned by uid" sh -c 'chown -h nobody trust.pem'
else
    echo "# not root: device nodes and foreign owners need root, skipped"
fi

# fifo NAME FILE: FILE (relative to the copy) replaced by a FIFO. verify never blocks opening
# what the catalog holds: within 20 s it exits 1 naming the FIFO (it is opened non-blocking,
# never waited on). A hang here is exit status 124.
fifo() {
    local name=$1 f=$2 out rc
    fresh "$name"
    rm -rf "${C:?}/$f" && mkdir -p "$(dirname "$C/$f")" && mkfifo "$C/$f" ||
        { not_ok "$name: cannot make the FIFO"; return; }
    out=$(cd "$C" && timeout 20 "$dbt" --catalog "$C" verify 2>&1 </dev/null)
    rc=$?
    if [ $rc = 1 ] && grep -qF -- "$f is neither a file" <<<"$out" && grep -qF "(a FIFO)" <<<"$out"; then
        ok "$name: verify exits 1 at once naming the FIFO"
    else
        not_ok "$name: verify exit status $rc (124: it blocked); output: ${out:0:400}"
    fi
    out=$(timeout 20 "$dbt" --catalog "$C" verify --quiet 2>&1 </dev/null)
    rc=$?
    [ $rc = 1 ] && [ -z "$out" ] && ok "$name: verify --quiet exits 1 at once" ||
        not_ok "$name: verify --quiet exit status $rc (124: it blocked); output: ${out:0:300}"
}
gen=$(readlink "$W/template/current")
fifo fifo-cert-file "$gen/certs/$rsha.pem"
fifo fifo-other-cert-file "$gen/certs/$osha.pem"
fifo fifo-index "$gen/certs/index"
fifo fifo-bundle-pem "$gen/bundles/rds.pem"
fifo fifo-meta "$gen/bundles/other.meta"
fifo fifo-new-meta "$gen/bundles/new.meta"
fifo fifo-empty-pem "empty.pem"
fifo fifo-stray-dir "junk/deep/f.pem"
fifo fifo-old-gen-index ".gen-1/certs/index"
fifo fifo-hash-link-name "$gen/certs/$rhash.5"
fifo fifo-trust-pem "$gen/trust.pem"
# A hash link whose target is a FIFO named as a certificate file.
fresh fifo-link-target
mkfifo "$G/certs/$(printf '%064d' 7).pem" && ln -s "$(printf '%064d' 7).pem" "$G/certs/$rhash.1"
out=$(timeout 20 "$dbt" --catalog "$C" verify 2>&1 </dev/null)
rc=$?
[ $rc = 1 ] && grep -qF "$(printf '%064d' 7).pem is neither a file" <<<"$out" &&
    ok "fifo-link-target: verify exits 1 at once naming the FIFO" ||
    not_ok "fifo-link-target: verify exit status $rc (124: it blocked); output: ${out:0:400}"

# hostile NAME WHERE ENTRY KIND: an entry named ENTRY (a file, or a directory for KIND=dir)
# planted in WHERE (certs, bundles or the generation itself, "gen"). verify exits 1, prints no
# byte that can drive a terminal, shows the name escaped, keeps one problem a line; every
# command it suggests, run by sh, (1) with rm replaced by a function gets exactly that path as
# its one operand, and (2) run for real in the copy removes that entry and nothing else,
# expands nothing (no file appears in the empty directory it runs in), and leaves a catalog
# verify calls sound.
hostile() {
    local name=$1 where=$2 entry=$3 kind=$4 dir path rc cmd args n=0 sandbox before
    fresh "$name"
    case $where in gen) dir=$G ;; *) dir=$G/$where ;; esac
    path=$(realpath "$dir")/$entry
    before=$(cd "$C" && find . | sort)
    if [ "$kind" = dir ]; then mkdir -- "$path"; else : >"$path"; fi ||
        { not_ok "$name: cannot plant the entry"; return; }
    "$dbt" --catalog "$C" verify >"$W/$name.out" 2>"$W/$name.err"
    rc=$?
    [ $rc = 1 ] || not_ok "$name: verify exit status $rc, wanted 1"
    python3 "$src/tests/lib/verify_names.py" "$W/$name.out" "$W/$name.err" "$path" >"$W/$name.cmds" &&
        ok "$name: verify escapes the name in every line" ||
        { not_ok "$name: verify output is not safe"; return; }
    sandbox=$W/$name.sandbox
    mkdir "$sandbox"
    while IFS= read -r -d '' cmd; do
        n=$((n + 1))
        case $cmd in
        rm\ *)
            args=$(cd "$sandbox" && sh -c 'rm() { printf "%s\n" "$#"; for a; do printf "[%s]" "$a"; done; }; '"$cmd")
            case $args in
            "2"$'\n'"[--][$path]" | "3"$'\n'"[-r][--][$path]") ok "$name: suggestion $n names exactly the entry" ;;
            *) not_ok "$name: suggestion $n ($cmd) gives rm: $args" ;;
            esac
            ;;
        find\ *) ok "$name: suggestion $n finds the entry by inode" ;;
        *) not_ok "$name: suggestion $n is neither rm nor find: $cmd" ;;
        esac
        (cd "$sandbox" && sh -c "$cmd") >/dev/null 2>&1
    done <"$W/$name.cmds"
    [ $n -gt 0 ] || not_ok "$name: verify suggests no command (it should: the name or its inode)"
    if [ -e "$path" ] || [ -L "$path" ]; then
        not_ok "$name: the suggestions left the entry in place"
    elif [ "$before" != "$(cd "$C" && find . | sort)" ]; then
        not_ok "$name: the suggestions changed something else in the catalog"
    elif [ -n "$(ls -A "$sandbox")" ]; then
        not_ok "$name: running the suggestions expanded something: $(ls -A "$sandbox")"
    else
        ok "$name: the suggestions remove exactly the entry"
        expect "$name: verify says sound afterwards" ok "sound" "$dbt" --catalog "$C" verify
    fi
}
i=0
for entry in $'esc\033[31mred' $'bel\007' $'cr\rx' $'nl\nproblem: fake' 'sp ace' "q'uo'te" \
    '$(touch pwned)' '`touch pwned`' '-rf x' $'bad\xff\xfeutf8' $'bidi\xe2\x80\xaetxt.pem' \
    $'c1\xc2\x9bx' '; touch pwned #' 'x) (rm -r y' '*'; do
    i=$((i + 1))
    hostile "hostile-certs-$i" certs "$entry" file
    hostile "hostile-bundles-$i" bundles "$entry" file
done
hostile hostile-gen-dir gen $'d\033]0;title\007ir' dir
hostile hostile-gen-dir-quote gen "it's \$(id)" dir
hostile hostile-gen-file gen "-n '; touch pwned" file

# The walk's "run chmod go-w PATH" and "run chown root PATH" suggestions too: a quoted operand
# that sh hands to the command as exactly that path.
# suggest NAME ENTRY DAMAGE CMD: plants the file ENTRY in bundles/, applies DAMAGE (a command
# taking its path), and checks the "run CMD ..." verify prints with CMD replaced by a function.
suggest() {
    local name=$1 entry=$2 damage=$3 cmd=$4 path line args
    fresh "$name"
    path=$(realpath "$G/bundles")/$entry
    : >"$path" && $damage "$path" || { not_ok "$name: cannot make the damage"; return; }
    line=$("$dbt" --catalog "$C" verify 2>&1 | grep -F "; run $cmd -- '")
    [ -n "$line" ] || { not_ok "$name: no quoted 'run $cmd' in verify's output"; return; }
    line=${line##*; run }
    line=${line% (or remove it)}
    args=$(cd "$W" && sh -c 'chmod() { printf "[%s]" "$@"; }; chown() { printf "[%s]" "$@"; }; '"$line")
    case $cmd in
    chmod*) [ "$args" = "[go-w][--][$path]" ] ;;
    chown*) [ "$args" = "[root][--][$path]" ] ;;
    esac && ok "$name: the suggested $cmd names exactly the file" ||
        not_ok "$name: '$line' gives $args"
}
ow() { chmod o+w "$1"; }
suggest suggest-chmod-quote "q'x \$(touch pwned) -r" ow "chmod go-w"
suggest suggest-chmod-space "a b;c" ow "chmod go-w"
if [ "$root_uid" = 0 ] && id nobody >/dev/null 2>&1; then
    to_nobody() { chown nobody "$1"; }
    suggest suggest-chown-quote "o'wn \`id\` *" to_nobody "chown root"
    suggest suggest-chown-dash "-rf x" to_nobody "chown root"
fi

# Bounded work: deep and wide damage is checked within the walk's caps (8 levels, 1,000,000
# entries, lib/catsafe.h), quickly, and each stray directory gets an rm -r that removes it.
fresh deep
mkdir -p "$C/junk/$(printf 'd/%.0s' $(seq 200))" "$G/certs/$(printf 'e/%.0s' $(seq 200))"
out=$(timeout 20 "$dbt" --catalog "$C" verify 2>&1)
rc=$?
[ $rc = 1 ] && grep -qF "junk/d/d/d/d/d/d/d/d: directories nested too deep" <<<"$out" &&
    grep -qF "remove it (rm -r -- '$(realpath "$G")/certs/e')" <<<"$out" &&
    ! grep -qF "remove it (rm -- '$(realpath "$G")/certs/e')" <<<"$out" &&
    ok "deep: verify stops at the depth cap and suggests rm -r for a directory" ||
    not_ok "deep: exit status $rc; output: ${out:0:600}"
fresh wide
(cd "$G/bundles" && seq -f 'stray%g' 20000 | xargs touch)
start=$(date +%s)
n=$(timeout 60 "$dbt" --catalog "$C" verify 2>&1 | grep -c 'is not a bundle')
[ "$n" = 20000 ] && [ $(($(date +%s) - start)) -lt 30 ] &&
    ok "wide: 20000 stray entries reported, in linear time" ||
    not_ok "wide: $n reported in $(($(date +%s) - start)) s"

# damaged NAME MESSAGE LIST DAMAGE...: verify exits 1 naming it; LIST=fail: list fails with
# MESSAGE too, LIST=ok: list does not read that part, LIST=other text: list fails with that.
damaged() {
    local name=$1 msg=$2 list=$3 out rc
    shift 3
    fresh "$name"
    (cd "$C" && G=$G "$@") || { not_ok "$name: cannot make the damage"; return; }
    expect "$name: verify reports it" fail "$msg" "$dbt" --catalog "$C" verify
    out=$("$dbt" --catalog "$C" verify --quiet 2>&1)
    rc=$?
    [ $rc = 1 ] && [ -z "$out" ] && ok "$name: verify --quiet exits 1 and prints nothing" ||
        not_ok "$name: verify --quiet: exit status $rc, output: ${out:0:300}"
    case $list in
    ok) ;;
    fail) expect "$name: list fails" fail "$msg" "$dbt" --catalog "$C" list ;;
    *) expect "$name: list fails" fail "$list" "$dbt" --catalog "$C" list ;;
    esac
}
damaged garbage-index 'does not start with "dbtrust-index 1"' fail sh -c 'echo junk >"$G/certs/index"'
damaged bad-index-line "is damaged: run dbtrust import again" fail sh -c 'echo "not a line" >>"$G/certs/index"'
damaged swapped-cert "holds a certificate with SHA-256" fail \
    sh -c "cat \"$PKI/root-ecc384.pem\" >\"\$G/certs/$osha.pem\""
# A certificate file holds exactly one CERTIFICATE block: OpenSSL's hashed lookup reads every
# block, so a second one would be trusted under the first one's name. Every reader refuses it.
damaged two-blocks "must hold exactly one CERTIFICATE block" fail \
    sh -c "cat \"$PKI/other-root.pem\" >>\"\$G/certs/$rsha.pem\""
damaged key-after-cert "must hold exactly one CERTIFICATE block" fail \
    sh -c "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 >>\"\$G/certs/$rsha.pem\" 2>/dev/null"
damaged nul-then-block "must hold exactly one CERTIFICATE block" fail \
    sh -c "printf 'x\\000\\n' >>\"\$G/certs/$rsha.pem\" && cat \"$PKI/other-root.pem\" >>\"\$G/certs/$rsha.pem\""
for f in two-blocks key-after-cert nul-then-block; do
    "$DBT_PROV_BUILD/tests/test_provider_cnf" "$W/$f" >"$W/$f.cnf"
    expect "$f: storeutl refuses" any "exactly one CERTIFICATE block" env OPENSSL_CONF="$W/$f.cnf" \
        openssl storeutl -certs dbtrust://
done
# The index is sorted by SHA-256 and names each certificate once (the provider refuses anything
# else); list and verify refuse it too, naming the line.
damaged index-repeated "is repeated" fail sh -c 'sed -i 2p "$G/certs/index"'
damaged index-unsorted "is out of order" fail \
    sh -c '{ head -1 "$G/certs/index"; tail -n +2 "$G/certs/index" | sort -r; } >i && cat i >"$G/certs/index" && rm i'
for f in index-repeated index-unsorted; do
    "$DBT_PROV_BUILD/tests/test_provider_cnf" "$W/$f" >"$W/$f.cnf"
    expect "$f: storeutl refuses" any "out of order or repeated" env OPENSSL_CONF="$W/$f.cnf" \
        openssl storeutl -certs dbtrust://
done
# A bundle holds certificates only, each once: verify reads the stored file, not only what the
# loader keeps.
damaged bundle-key-block "PEM block 2 is not a CERTIFICATE" ok \
    sh -c 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 >>"$G/bundles/other.pem" 2>/dev/null'
damaged bundle-duplicate "more than once" ok \
    sh -c 'cat "$G/bundles/other.pem" "$G/bundles/other.pem" >d && cat d >"$G/bundles/other.pem" && rm d &&
        sed -i s/^count=.*/count=2/ "$G/bundles/other.meta"'
# Each .meta value has the form its writer gives it; verify names the file, the line and the
# key, with the value escaped. meta_set KEY VALUE sets KEY's line of other.meta (VALUE as bytes;
# an empty KEY deletes nothing, an unknown one is appended); meta_raw TEXT replaces the file.
meta_set() {
    python3 - "$G/bundles/other.meta" "$1" "$2" <<'PY'
import os, sys
path, key, val = sys.argv[1], os.fsencode(sys.argv[2]), os.fsencode(sys.argv[3])
lines = open(path, "rb").read().split(b"\n")
done = False
for i, l in enumerate(lines):
    if l.startswith(key + b"="):
        lines[i] = key + b"=" + val
        done = True
        break
if not done:
    lines.insert(len(lines) - 1, key + b"=" + val)
open(path, "wb").write(b"\n".join(lines))
PY
}
meta_raw() { printf '%s' "$1" >"$G/bundles/other.meta"; }
meta_bad() {
    local name=$1 msg=$2
    shift 2
    damaged "meta-$name" "$msg" ok "$@"
}
ometa=$(readlink "$W/template/current")/bundles/other.meta
meta_bad sha-short 'other.meta line 2: sha256 value "abc" is not 64 lowercase hex' meta_set sha256 abc
meta_bad sha-upper "other.meta line 2: sha256 value \"$(printf '%064d' 0 | tr 0 A)\"" meta_set sha256 "$(printf '%064d' 0 | tr 0 A)"
meta_bad sha-65 "other.meta line 2: sha256 value" meta_set sha256 "$(printf '%065d' 0)"
meta_bad sha-63 "other.meta line 2: sha256 value" meta_set sha256 "$(printf '%063d' 0)"
meta_bad sha-nonhex "other.meta line 2: sha256 value" meta_set sha256 "$(printf '%064d' 0 | tr 0 g)"
meta_bad sha-space "other.meta line 2: sha256 value \" $(printf '%063d' 0)\"" meta_set sha256 " $(printf '%063d' 0)"
meta_bad count-lead-zero 'other.meta line 5: count value "01" is not a decimal' meta_set count 01
meta_bad count-negative 'other.meta line 5: count value "-1"' meta_set count -1
meta_bad count-suffix 'other.meta line 5: count value "1x"' meta_set count 1x
meta_bad count-empty 'other.meta line 5: count value ""' meta_set count ""
meta_bad count-space 'other.meta line 5: count value " 1"' meta_set count " 1"
meta_bad count-huge 'other.meta line 5: count value "99999999999999999999999" is more' meta_set count 99999999999999999999999
meta_bad count-range 'other.meta line 5: count value "1000001" is more' meta_set count 1000001
meta_bad time-feb30 'other.meta line 4: imported value "2026-02-30T00:00:00Z" is not a UTC time' meta_set imported 2026-02-30T00:00:00Z
meta_bad time-month13 'other.meta line 4: imported value "2026-13-01T00:00:00Z"' meta_set imported 2026-13-01T00:00:00Z
meta_bad time-hour24 'other.meta line 4: imported value "2026-11-22T24:00:00Z"' meta_set imported 2026-11-22T24:00:00Z
meta_bad time-space 'other.meta line 4: imported value "2026-11-22 18:19:20Z"' meta_set imported "2026-11-22 18:19:20Z"
meta_bad time-no-z 'other.meta line 4: imported value "2026-11-22T18:19:20"' meta_set imported 2026-11-22T18:19:20
meta_bad time-cr 'other.meta line 4: imported value "2026-11-22T18:19:20Z\x0d"' meta_set imported $'2026-11-22T18:19:20Z\r'
meta_bad time-empty 'other.meta line 4: imported value ""' meta_set imported ""
meta_bad format-p7b 'other.meta line 3: format value "p7b" is not a format name' meta_set format p7b
meta_bad format-upper 'other.meta line 3: format value "PEM"' meta_set format PEM
meta_bad format-empty 'other.meta line 3: format value ""' meta_set format ""
meta_bad format-path 'other.meta line 3: format value "../pem"' meta_set format ../pem
meta_bad format-esc 'other.meta line 3: format value "pem\x1b[2J"' meta_set format $'pem\033[2J'
meta_bad origin-esc 'other.meta line 1: origin value "a\x1b[31mb" holds control' meta_set origin $'a\033[31mb'
meta_bad origin-bel 'other.meta line 1: origin value "x\x07"' meta_set origin $'x\007'
meta_bad origin-cr 'other.meta line 1: origin value "/x.pem\x0d"' meta_set origin $'/x.pem\r'
meta_bad origin-c1 'other.meta line 1: origin value "x\xc2\x9by"' meta_set origin $'x\xc2\x9by'
meta_bad origin-bidi 'other.meta line 1: origin value "x\xe2\x80\xaey"' meta_set origin $'x\xe2\x80\xaey'
meta_bad origin-utf8 'other.meta line 1: origin value "x\xff"' meta_set origin $'x\xff'
meta_bad origin-long "other.meta line 1: origin value \"$(printf '%064d' 0)...\" is longer than 1023" meta_set origin "$(printf '%01024d' 0)"
meta_bad key-unknown 'other.meta line 7: key "trust" is none that dbtrust writes' meta_set trust all
meta_bad key-unknown-esc 'other.meta line 7: key "k\x1bey" is none' meta_set $'k\033ey' 1
meta_bad key-repeated 'other.meta line 7: key count again (first on line 5)' \
    sh -c 'echo count=1 >>"$G/bundles/other.meta"'
meta_bad key-repeated-origin 'other.meta line 7: key origin again (first on line 1)' \
    sh -c 'echo origin=/elsewhere >>"$G/bundles/other.meta"'
meta_bad key-missing 'other.meta has no sha256 line' sh -c 'sed -i /^sha256=/d "$G/bundles/other.meta"'
meta_bad key-missing-imported 'other.meta has no imported line' sh -c 'sed -i /^imported=/d "$G/bundles/other.meta"'
# Every .meta of a generation with a trust view holds one canonical scope line.
meta_bad key-missing-scope 'other.meta has no scope line' sh -c 'sed -i /^scope=/d "$G/bundles/other.meta"'
meta_bad scope-not-canonical 'other.meta line 6: scope value "Scope.test" is not a scope' meta_set scope Scope.test
meta_bad line-no-equals 'other.meta line 7 ("junk") is not a key=value line' sh -c 'echo junk >>"$G/bundles/other.meta"'
meta_bad line-empty 'other.meta line 7 ("") is not a key=value line' sh -c 'echo >>"$G/bundles/other.meta"'
meta_bad line-no-newline 'other.meta line 6 does not end with a newline' \
    sh -c 'printf %s "$(cat "$G/bundles/other.meta")" >m && cat m >"$G/bundles/other.meta" && rm m'
meta_bad line-long "other.meta line 7 is 2006 bytes long" meta_set "x$(printf '%01999d' 0)" 12345
# A .meta of bad lines only: a few are shown, then a count, so the output stays short.
fresh meta-many-lines
python3 -c 'import sys; sys.stdout.write("junk\n" * 10000)' >>"$G/bundles/other.meta"
n=$("$dbt" --catalog "$C" verify 2>&1 | grep -c 'other.meta')
out=$("$dbt" --catalog "$C" verify 2>&1)
[ "$n" -le 12 ] && grep -qF "other.meta: 9992 more problems in this file not shown" <<<"$out" &&
    ok "meta-many-lines: verify shows a few lines of a bad .meta and counts the rest" ||
    not_ok "meta-many-lines: $n lines about other.meta: ${out:0:600}"
# Every form the writers produce passes: import and fetch record these.
for f in pem der pkcs-7-pem pkcs-7-der pkcs-12 jks mixed unknown; do
    fresh "meta-format-$f"
    (G=$G meta_set format "$f")
    expect "meta-format-$f: verify accepts it" ok "sound" "$dbt" --catalog "$C" verify
done
fresh meta-empty-sha
(G=$G meta_set sha256 "")
expect "meta: an empty sha256 (unknown) is accepted" ok "sound" "$dbt" --catalog "$C" verify
fresh meta-leap
(G=$G meta_set imported 2028-02-29T23:59:59Z)
expect "meta: a leap day is a valid time" ok "sound" "$dbt" --catalog "$C" verify
damaged missing-cert "holds no certificate with SHA-256 $osha" "does not lead to a regular certificate file" sh -c "rm \"\$G/certs/$osha.pem\""
damaged extra-cert "is not in the index" ok \
    sh -c "cp \"\$G/certs/$osha.pem\" \"\$G/certs/$(printf '%064d' 0).pem\""
damaged wrong-hash-link "subject hash" ok sh -c "ln -sfn $osha.pem \"\$G/certs/$rhash.0\""
damaged hash-gap "without a gap" ok sh -c "mv \"\$G/certs/$rhash.0\" \"\$G/certs/$rhash.1\""
damaged garbage-meta "is damaged (not the key=value lines" fail sh -c 'echo junk >"$G/bundles/other.meta"'
damaged meta-count "its .meta says" fail sh -c 'sed -i s/^count=.*/count=7/ "$G/bundles/other.meta"'
damaged garbage-bundle "is not a certificate" fail \
    sh -c 'printf -- "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" >"$G/bundles/other.pem"'
damaged stray-meta "is not a bundle's .pem or .meta" ok sh -c 'cp "$G/bundles/other.meta" "$G/bundles/gone.meta"'
damaged index-bundle "listed under bundle nosuch" ok sh -c "sed -i '/^$osha /s/ other\$/ nosuch/' \"\$G/certs/index\""
damaged index-sha1 "the index gives SHA-1" ok sh -c "sed -i '/^$osha /s/^\\($osha\\) [0-9a-f]*/\\1 $(printf '%040d' 0)/' \"\$G/certs/index\""
damaged no-current "is not a symlink to a .gen-N generation" "is not initialized" sh -c 'rm current'
# trust.pem is byte for byte the view's certificates in link order; list does not read it.
nview=$(find "$W/template/trust/" -name '*.[0-9]' | wc -l)
tpm="trust.pem is not the trust view as one PEM file"
damaged trust-pem-extra "$tpm" ok sh -c "cat \"$PKI/root-ecc384.pem\" >>\"\$G/trust.pem\""
damaged trust-pem-raw-root "$tpm" ok sh -c "cat \"\$G/certs/$rsha.pem\" \"\$G/certs/$osha.pem\" >\"\$G/trust.pem\""
# The same certificates in another order: the order is the view's links', so that the file is
# a function of the view.
reverse_blocks() {
    python3 -c 'import re, sys
p = sys.argv[1]
b = re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", open(p).read(), re.S)
assert len(b) > 1
open(p, "w").write("".join(b[::-1]))' "$G/trust.pem"
}
tsize=$(wc -c <"$W/template/trust.pem")
damaged trust-pem-reordered \
    "$tpm ($tsize bytes; the view's $nview certificates are $tsize), it differs from its certificate 1 on" \
    ok reverse_blocks
damaged trust-pem-empty "$tpm" ok sh -c ': >"$G/trust.pem"'
damaged trust-pem-text "$tpm" ok sh -c 'echo "# comment" >>"$G/trust.pem"'
damaged trust-pem-missing "trust.pem is missing: a client given it" ok sh -c 'rm "$G/trust.pem"'
damaged trust-pem-no-link "trust.pem is missing (the link to current/trust.pem" ok sh -c 'rm trust.pem'
expect "no catalog at all: verify exits 1" fail "does not exist" "$dbt" --catalog "$W/nosuch" verify
expect "verify takes no arguments: exit 2" fail "takes no arguments" "$dbt" --catalog "$W/good" verify x
dbt_prov_done
