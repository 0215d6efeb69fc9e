#!/bin/bash
# The command line is untrusted text too: option names and values, command names, file and
# catalog paths holding ESC, BEL, CR, LF, DEL, a C1 control (U+009B, bytes C2 9B), malformed UTF-8
# and a bidi override (U+202E) never reach the terminal raw. Every command that parses options
# (print, convert, import, list, remove, export, check, verify, env, config, probe, fetch,
# sources) is given an unknown long option, an invalid short option and a value for an option
# that takes none, each hostile; an option that needs an argument without one; an ambiguous
# abbreviation. Each must exit 2 (check: 3, the Nagios plugins' UNKNOWN, which monitoring reads
# as "the check could not run") with a message that names the option, escaped
# (lib/escape.h's rule), the command and the program. Also: bad option values, an unknown
# command, the keytool spelling's own parser, system's actions, and verify's report of a catalog
# whose path and stray file names are hostile. Every stdout and stderr is scanned
# (tests/lib/hostile.py scan) for raw controls and bytes that are not UTF-8.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl "$PY"
H=$SRCDIR/tests/lib/hostile.py
cat=$tmp/catalog
checks=0

# run RC WHAT CMD...: exit status RC, and nothing raw in stdout or stderr.
run() {
    local rc=$1 what=$2
    shift 2
    checks=$((checks + 1))
    expect_rc "$rc" "$@"
    "$PY" "$H" scan out err >scan.log || fail "$what: $(cat scan.log)"
}

# The hostile texts, raw and as lib/escape.c shows them.
names=(esc bel cr lf del c1 malformed bidi)
raw=($'\e[31m' $'\a' $'\r' $'\n' $'\x7f' $'\xc2\x9b' $'\xff\xc0\x80' $'\xe2\x80\xae')
shown=('\x1b[31m' '\x07' '\x0d' '\x0a' '\x7f' '\xc2\x9b' '\xff\xc0\x80' '\xe2\x80\xae')
# The first byte of each, as a short option character is shown.
first=('\x1b' '\x07' '\x0d' '\x0a' '\x7f' '\xc2' '\xff' '\xe2')

# ---- the checker catches what these tests feed (so that a clean scan means something) ----
# (A raw LF is a line end to the scan: the "has" checks below find the escaped \x0a instead.)
for i in "${!names[@]}"; do
    [ "${names[$i]}" = lf ] && continue
    printf 'x%sy\n' "${raw[$i]}" >out && : >err
    "$PY" "$H" scan out err >/dev/null && fail "scan does not catch raw ${names[$i]}"
done

# ---- getopt errors, every command that parses options ----
# COMMAND and one option of it that needs an argument (long, short); "-" when it has none.
cmds=(print convert import list remove export check verify env config probe fetch sources)
needs=(days/d to/t bundle/b bundle/b bundle/b format/f days/d - shell/s module/m hostaddr/a
    region/r -)
for k in "${!cmds[@]}"; do
    c=${cmds[$k]}
    u=2
    [ "$c" = check ] && u=3
    for i in "${!names[@]}"; do
        n=${names[$i]} r=${raw[$i]} s=${shown[$i]}
        run $u "$c --bogus<$n>" "$DBTRUST" --catalog "$cat" "$c" "--bogus${r}x"
        has err "dbtrust: error: $c: unrecognized option '--bogus${s}x'" "$c --bogus<$n>"
        run $u "$c -<$n>" "$DBTRUST" --catalog "$cat" "$c" "-${r}"
        has err "dbtrust: error: $c: invalid option -- '${first[$i]}'" "$c -<$n>"
        run $u "$c --help=<$n>" "$DBTRUST" --catalog "$cat" "$c" "--help=${r}"
        has err "dbtrust: error: $c: option '--help' doesn't allow an argument ('--help=${s}')" \
            "$c --help=<$n>"
        # After an operand (getopt permutes): the message still names the option.
        run $u "$c ARG --x<$n>" "$DBTRUST" --catalog "$cat" "$c" operand "--x${r}"
        has err "$c: unrecognized option '--x${s}'" "$c ARG --x<$n>"
    done
    [ "${needs[$k]}" = - ] && continue
    long=${needs[$k]%/*} short=${needs[$k]#*/}
    run $u "$c --$long (no argument)" "$DBTRUST" --catalog "$cat" "$c" "--$long"
    has err "dbtrust: error: $c: option '--$long' requires an argument" "$c --$long"
    run $u "$c -$short (no argument)" "$DBTRUST" --catalog "$cat" "$c" "-$short"
    has err "dbtrust: error: $c: option requires an argument -- '$short'" "$c -$short"
done
# An abbreviation of two options (--hostaddr, --help) is ambiguous; one of one is accepted.
run 2 "probe --h" "$DBTRUST" --catalog "$cat" probe --h
has err "dbtrust: error: probe: option '--h' is ambiguous: it could be --hostaddr, --help" \
    "probe --h"
run 0 "list --he" "$DBTRUST" --catalog "$cat" list --he
has out "usage: dbtrust" "list --he is --help"
# getopt's own messages ("list: unrecognized option") are off: only dbtrust's are shown.
run 2 "list --bogus (one message)" "$DBTRUST" --catalog "$cat" list --bogus
[ "$(grep -c 'unrecognized option' err)" = 1 ] || fail "list --bogus: not one message: $(cat err)"
! grep -q '^list: ' err || fail "list --bogus: getopt's own message: $(cat err)"

# ---- option values, commands, keytool spelling, system ----
for i in "${!names[@]}"; do
    n=${names[$i]} r=${raw[$i]} s=${shown[$i]}
    v="v${r}v" e="v${s}v"
    run 2 "convert --to <$n>" "$DBTRUST" convert --to "$v" in out
    has err "unknown format '$e'" "convert --to <$n>"
    run 2 "export --format <$n>" "$DBTRUST" --catalog "$cat" export --format "$v" out
    has err "unknown format '$e'" "export --format <$n>"
    run 2 "list --expiring <$n>" "$DBTRUST" --catalog "$cat" list --expiring "$v"
    has err "'$e'" "list --expiring <$n>"
    run 3 "check --days <$n>" "$DBTRUST" --catalog "$cat" check --days "$v"
    has err "'$e'" "check --days <$n>"
    run 2 "print --days <$n>" "$DBTRUST" print --days "$v" in
    has err "'$e'" "print --days <$n>"
    run 2 "probe --timeout <$n>" "$DBTRUST" probe --timeout "$v" host
    has err "'$e'" "probe --timeout <$n>"
    run 2 "fetch --timeout <$n>" "$DBTRUST" --catalog "$cat" fetch --timeout "$v" aws-rds
    has err "'$e'" "fetch --timeout <$n>"
    run 2 "fetch --region <$n>" "$DBTRUST" --catalog "$cat" fetch --region "$v" aws-rds
    has err "'$e'" "fetch --region <$n>"
    run 2 "fetch <$n>" "$DBTRUST" --catalog "$cat" fetch "$v"
    has err "'$e'" "fetch SOURCE <$n>"
    run 2 "env --shell <$n>" "$DBTRUST" --catalog "$cat" env --shell "$v"
    run 2 "import --bundle <$n>" "$DBTRUST" --catalog "$cat" import --bundle "$v" in
    has err "\"$e\"" "import --bundle <$n>"
    run 2 "list ARG<$n>" "$DBTRUST" --catalog "$cat" list "$v"
    has err "'$e'" "list ARG<$n>"
    run 2 "sources ARG<$n>" "$DBTRUST" sources "$v"
    has err "'$e'" "sources ARG<$n>"
    run 2 "unknown command <$n>" "$DBTRUST" "$v"
    has err "unknown command '$e'" "unknown command <$n>"
    run 2 "system <$n>" "$DBTRUST" --catalog "$cat" system "$v"
    has err "unknown system action '$e'" "system <$n>"
    run 2 "keytool command -<$n>" "$DBTRUST" "-$v"
    has err "unknown keytool command '-$e'" "keytool command -<$n>"
    run 2 "-list -<$n>" "$DBTRUST" --catalog "$cat" -list "-$v"
    has err "unknown option '-$e'" "-list -<$n>"
    run 2 "-list -storetype <$n>" "$DBTRUST" --catalog "$cat" -list -storetype "$v"
    has err "-storetype $e" "-list -storetype <$n>"
    run 2 "-printcert -<$n>" "$DBTRUST" -printcert "-$v"
    has err "unknown option '-$e'" "-printcert -<$n>"
    run 1 "print FILE<$n>" "$DBTRUST" print "$v"
    has err "$e: cannot open" "print FILE<$n>"
    run 1 "--catalog <$n> list" "$DBTRUST" --catalog "$tmp/$v" list
    has err "catalog $tmp/$e does not exist" "--catalog <$n> list"
done

# ---- verify: a catalog whose path and a stray file hold hostile bytes ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -subj "/CN=Args Escape CA" -addext "basicConstraints=critical,CA:TRUE" -days 30 \
    >gen.log 2>&1 || {
    cat gen.log
    echo "FAIL: could not make a CA certificate"
    exit 1
}
hcat="$tmp/cat${raw[0]}${raw[1]}${raw[5]}${raw[6]}${raw[7]}"
hshown="$tmp/cat${shown[0]}${shown[1]}${shown[5]}${shown[6]}${shown[7]}"
run 0 "import into a catalog with a hostile path" "$DBTRUST" --catalog "$hcat" import \
    --bundle ca ca.pem
run 0 "verify, hostile catalog path" "$DBTRUST" --catalog "$hcat" verify
has out "catalog $hshown: sound" "verify: catalog path escaped"
: >"$hcat/bundles/stray${raw[0]}${raw[3]}${raw[5]}"
run 1 "verify, hostile stray file" "$DBTRUST" --catalog "$hcat" verify
has out "stray${shown[0]}${shown[3]}${shown[5]}" "verify: stray file name escaped"
has out "catalog $hshown: 1 problem" "verify: catalog path escaped in the summary"

echo "$checks commands checked"
exit $failed
