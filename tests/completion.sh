#!/usr/bin/env bash
# bash completion (completion/dbtrust): sourced into bash, it completes commands, per-command
# options in both spellings, bundle names and fingerprints from `dbtrust list`, formats and file
# names; and every command and long option `dbtrust --help` and `dbtrust COMMAND --help` show,
# and every keytool option of `dbtrust -help`, is in it, so that it cannot drift from the CLI.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export TZ=UTC LC_ALL=C

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
DBTRUST=${DBTRUST:-./dbtrust}
if [ ! -x "$DBTRUST" ]; then
    echo "SKIP: the dbtrust program is not built ($DBTRUST)" >&2
    exit 77
fi
comp=$src/completion/dbtrust
[ -f "$comp" ] || { echo "not ok - $comp is missing"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# The CLI under the name completion runs (COMP_WORDS[0]), as an installed one would be.
mkdir "$tmp/bin" && ln -s "$(cd "$(dirname "$DBTRUST")" && pwd)/$(basename "$DBTRUST")" \
    "$tmp/bin/dbtrust"
# complete WORD...: what completion offers for the last WORD (sorted, one line, space separated).
complete_words() {
    PATH="$tmp/bin:$PATH" bash --norc --noprofile -c '
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _dbtrust dbtrust "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" dbtrust "$@" 2>"$tmp/err" | sort | xargs
}
# expect NAME WANT WORD...: completion of WORD... is exactly WANT.
expect() {
    local name=$1 want=$2 got
    shift 2
    got=$(complete_words "$@")
    if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name: got '$got', wanted '$want'"; fi
}
# has NAME WORD WORDS...: WORD is among the completions.
has() {
    local name=$1 w=$2 got
    shift 2
    got=" $(complete_words "$@") "
    if [[ $got == *" $w "* ]]; then ok "$name"; else not_ok "$name: '$w' not in '$got'"; fi
}

bash -n "$comp" && ok "completion/dbtrust is valid bash" || not_ok "completion/dbtrust: syntax"
out=$(bash --norc --noprofile -c '. "$1" && complete -p dbtrust' _ "$comp" 2>&1)
[[ $out == "complete -F _dbtrust dbtrust" ]] && ok "it registers _dbtrust for dbtrust" ||
    not_ok "complete -p dbtrust says: $out"

# A catalog with two bundles for the dynamic cases.
cat=$tmp/catalog
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k1" \
    -subj /CN=Completion\ Test\ CA\ One -days 30 -out "$tmp/ca1.pem" 2>/dev/null &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k2" \
        -subj /CN=Completion\ Test\ CA\ Two -days 30 -out "$tmp/ca2.pem" 2>/dev/null ||
    { echo "Bail out! openssl req failed"; exit 1; }
"$DBTRUST" --catalog "$cat" import --quiet --bundle aiven-proj "$tmp/ca1.pem" >/dev/null &&
    "$DBTRUST" --catalog "$cat" import --quiet --bundle aws-rds "$tmp/ca2.pem" >/dev/null ||
    { echo "Bail out! dbtrust import failed"; exit 1; }
fp1=$(openssl x509 -in "$tmp/ca1.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
    tr A-F a-f)

# Commands and options.
commands=$("$DBTRUST" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" {print $1}' |
    sort | xargs)
expect "the first word completes to every command" "$commands" ""
expect "a prefix completes to the matching commands" "check config convert" c
expect "a keytool command completes from its prefix" "-exportcert" -exp
expect "import's long options" \
    "--allow-leaf --bundle --catalog --help --no-expired --only-for --origin --password --quiet --unscoped" \
    import --
expect "the keytool -importcert options" \
    "-alias -file -keystore -noprompt -storepass -storetype -trustcacerts" -importcert -
expect "system's subcommands" "disable enable refresh status" system ""
expect "system enable takes --bundle-file" "--bundle-file" system enable --bu
expect "convert --to completes the formats" "p7b p7b-der pem pkcs12" convert --to p
expect "export -f completes the formats" "der" export -f d
expect "env --shell completes sh and systemd" "sh systemd" env --shell ""
expect "fetch completes every source of dbtrust sources" \
    "$("$DBTRUST" sources | awk '/^[a-z]/ {print $1}' | sort | xargs)" fetch ""
expect "fetch completes a source from its prefix" "aurora-dsql" fetch au
expect "fetch completes --only-for" "--only-for" fetch aws-rds --on
expect "fetch completes --unscoped" "--unscoped" fetch aws-rds --un
expect "fetch --only-for takes a host name: nothing is offered" "" fetch aws-rds --only-for ""
expect "-storetype completes pkcs12 and jks" "jks pkcs12" -importcert -storetype ""
# The formats completed are exactly those the commands list in their --help (which the CLI
# renders from its format table), and -storetype's are those of `dbtrust -help`.
help_list() { sed 's/,/ /g; s/ or / /; s/|/ /g' | xargs -n1 | sort | xargs; }
expect "export --format completes the formats of export --help" \
    "$("$DBTRUST" export --help | sed -n 's/^ *-f, --format FORMAT *//p' | help_list)" export --format ""
expect "convert --to completes the formats of convert --help" \
    "$("$DBTRUST" convert --help | sed -n 's/^ *-t, --to FORMAT *//p' | help_list)" convert --to ""
expect "-storetype completes the store types of -help" \
    "$("$DBTRUST" -help 2>&1 | sed -n 's/.*\[-storetype \([^]]*\)\].*/\1/p' | help_list)" \
    -importcert -storetype ""

# The input formats that each reading command's --help names are the format table's input
# families (the decoder's "expected ..." list, which lib/format.c renders from the table).
printf 'not a bundle\n' >"$tmp/garbage"
families=$("$DBTRUST" print "$tmp/garbage" 2>&1 | sed -n 's/.*(expected \(.*\))$/\1/p' | help_list)
if [ -z "$families" ]; then
    not_ok "print of a file that is no bundle names the input formats"
else
    for what in "print --help" "import --help" "convert --help" "--help"; do
        text=$("$DBTRUST" $what 2>&1 | tr '\n' ' ')
        miss=
        for f in $families; do [[ $text == *"$f"* ]] || miss="$miss $f"; done
        if [ -z "$miss" ]; then
            ok "dbtrust $what names every input format ($families)"
        else
            not_ok "dbtrust $what does not name the input format(s):$miss"
        fi
    done
fi

# Bundle names and fingerprints from the catalog named on the command line.
expect "remove --bundle completes the catalog's bundles" "aiven-proj aws-rds" \
    --catalog "$cat" remove --bundle ""
expect "export -b completes a bundle by prefix" "aiven-proj" --catalog "$cat" export -b ai
expect "the keytool spelling completes -alias with bundles" "aiven-proj aws-rds" \
    --catalog "$cat" -exportcert -alias ""
expect "remove --fingerprint completes a certificate's SHA-256" "$fp1" \
    --catalog "$cat" remove --fingerprint "${fp1:0:6}"
expect "no bundles when the catalog does not exist" "" --catalog "$tmp/none" remove --bundle ""

# File names for inputs and outputs.
touch "$tmp/global-bundle.pem" "$tmp/global-truststore.p12"
expect "print completes file names" "$tmp/global-bundle.pem" print "$tmp/global-b"
expect "-printcert -file completes file names" "$tmp/global-truststore.p12" \
    -printcert -file "$tmp/global-t"
has "--catalog completes directories" "$tmp/bin" --catalog "$tmp/b"

# Nothing in --help is missing from the completion (the lists in it are static).
body=$(grep -v '^ *#' "$comp")
inword() { grep -qE -- "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|\$)" <<<"$body"; }
missing=
for c in $commands; do inword "$c" || missing="$missing $c"; done
for opt in $("$DBTRUST" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    inword "$opt" || missing="$missing $opt"
done
for c in $commands; do
    for opt in $("$DBTRUST" "$c" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        # the option must be offered for this command, not just appear somewhere
        got=" $(complete_words "$c" --) "
        [ "$c" = system ] && got=" $(complete_words system enable --) "
        [[ $got == *" $opt "* ]] || missing="$missing $c:$opt"
    done
done
kopts=$("$DBTRUST" -help 2>&1 | grep -oE -- '(^| |\[|\|)-[a-z]+' | sed 's/^[ [|]*//' | sort -u)
for opt in $kopts; do inword "\\$opt" || missing="$missing $opt"; done
if [ -z "$missing" ]; then
    ok "every command and option of --help (both spellings) is completed"
else
    not_ok "not in completion/dbtrust:$missing"
fi

echo "1..$((passed + failed))"
[ "$failed" -eq 0 ]
