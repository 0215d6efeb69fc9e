#!/bin/bash
# Untrusted text never reaches the terminal raw. Certificates whose names (UTF8String,
# T61String, BMPString), SAN DNS name and URI hold ESC, BEL, CR, LF, DEL, C1 controls (CSI
# U+009B, NEL) and a bidi override; a certificate whose UTF8String is malformed; JKS and PKCS#12
# aliases and file names with the same; all through print (text and JSON), -printcert (plain,
# -v, -rfc), -list of keystores and of the catalog (plain, -v, -rfc), import, list and check
# (text and JSON), export, convert, -exportcert, error messages, and probe against openssl
# s_server.
# Every stdout and stderr is scanned (tests/lib/hostile.py scan) for raw C0 controls other than
# newline and tab (CR only in -rfc's CRLF line ends), DEL, C1 controls, bidi controls and bytes
# that are not UTF-8, and the escaped form (\x1b...) is checked to be there.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl jq "$PY"
H=$SRCDIR/tests/lib/hostile.py

# clean WHAT [--crlf]: out and err hold nothing that could drive a terminal.
clean() {
    local what=$1 f
    shift
    for f in out err; do
        "$PY" "$H" scan "$@" "$f" >scan.log || fail "$what: $(cat scan.log)"
    done
}
# run RC WHAT [--crlf] CMD...: expect_rc, then clean.
run() {
    local rc=$1 what=$2 crlf=
    shift 2
    [ "$1" = --crlf ] && crlf=--crlf && shift
    expect_rc "$rc" "$@"
    clean "$what" $crlf
}

# ---- hostile inputs ----
q=$(printf 'Q%.0s' {1..24}) r=$(printf 'R%.0s' {1..24}) s=$(printf 'S%.0s' {1..24})
d=$(printf 'd%.0s' {1..24}) u=$(printf 'u%.0s' {1..24})
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
    -subj "/CN=$q/O=$r/OU=$s" -addext "subjectAltName=DNS:$d,URI:$u" \
    -addext "basicConstraints=critical,CA:TRUE" -days 30 -outform DER -out tpl.der \
    >gen.log 2>&1 &&
    "$PY" "$H" cert tpl.der utf8 hostile.der &&
    "$PY" "$H" cert tpl.der malformed malformed.der &&
    openssl x509 -inform DER -in hostile.der -out hostile.pem &&
    "$PY" "$H" jks hostile.jks "$(printf 'evil\e[31m\a\r\n\xc2\x9b\xe2\x80\xae' | od -An -tx1 |
        tr -d ' \n')" tpl.der changeit &&
    openssl pkcs12 -export -nokeys -in hostile.pem -caname "$(printf 'p12\e[31m\a\xc2\x9b\r')" \
        -passout pass:changeit -out hostile.p12 >>gen.log 2>&1 ||
    {
        cat gen.log
        echo "FAIL: could not make the hostile inputs"
        exit 1
    }
evil=$(printf 'evil\e[31m\a\r\xc2\x9b.pem')
cp hostile.pem "$evil"
esc_cn='CN=\x1b[31mRED\x07\x0d\x0a\x7f\xc2\x9b2J\xe2\x80\xae'

# ---- the checker itself: a raw ESC is caught, escaped text is not ----
printf 'a\e[31mb\n' >out && : >err
"$PY" "$H" scan out >/dev/null && fail "scan does not catch a raw ESC"
printf 'a\xc2\x9bb\n' >out
"$PY" "$H" scan out >/dev/null && fail "scan does not catch a raw U+009B"
printf 'a\xffb\n' >out
"$PY" "$H" scan out >/dev/null && fail "scan does not catch malformed UTF-8"
printf 'a\\x1bb\tc\n' >out
"$PY" "$H" scan out >/dev/null || fail "scan refuses escaped text"

# ---- print ----
run 0 "print" "$DBTRUST" print hostile.pem
has out "subject:   OU=\\x1b[4mBMP\\xc2\\x9b\\xe2\\x80\\xae" "print: BMPString OU escaped"
has out "O=T61\\xc2\\x9b[1m\\x1b\\xc2\\x85" "print: T61String O escaped"
has out "$esc_cn" "print: CN escaped"
has out "issuer:    OU=\\x1b[4m" "print: issuer escaped"
run 0 "print --json" "$DBTRUST" print --json hostile.pem
[ "$(jq -r '.[0].subject' out | grep -cF "$esc_cn")" = 1 ] ||
    fail "print --json: subject is not the escaped text"
run 0 "print FILE with control characters in its name" "$DBTRUST" print "$evil"
has out 'evil\x1b[31m\x07\x0d\xc2\x9b.pem: certificate 1 of 1' "print: file name escaped"
run 0 "print --json FILE" "$DBTRUST" print --json "$evil"
[ "$(jq -r '.[0].file' out)" = 'evil\x1b[31m\x07\x0d\xc2\x9b.pem' ] ||
    fail "print --json: file is $(jq -r '.[0].file' out | od -c | head -3)"
run 0 "print JKS" "$DBTRUST" print hostile.jks
has out 'alias evil\x1b[31m\x07\x0d\x0a\xc2\x9b\xe2\x80\xae' "print: JKS alias escaped"
run 0 "print --json JKS" "$DBTRUST" print --json hostile.jks
[ "$(jq -r '.[0].alias' out)" = 'evil\x1b[31m\x07\x0d\x0a\xc2\x9b\xe2\x80\xae' ] ||
    fail "print --json: JKS alias is $(jq -r '.[0].alias' out | od -c | head -3)"
run 0 "print PKCS#12" "$DBTRUST" print --password changeit hostile.p12
has out 'alias p12\x1b[31m\x07\xc2\x9b\x0d' "print: PKCS#12 friendlyName escaped"
run 0 "print --json PKCS#12" "$DBTRUST" print --json --password changeit hostile.p12
run 1 "print a malformed UTF8String" "$DBTRUST" print malformed.der
run 1 "print a missing file with control characters in its name" "$DBTRUST" print "x$evil"
has err 'xevil\x1b[31m' "print: missing file's name escaped in the error"

# ---- keytool spelling ----
# Outside a UTF-8 locale keytool writes '?' for what the locale cannot encode; the controls of
# ASCII are escaped all the same.
run 0 "-printcert" "$DBTRUST" -printcert -file hostile.pem
has out "Owner: OU=\\x1b[4mBMP" "-printcert: Owner escaped"
has out 'CN="\x1b[31mRED\x07\x0d\x0a\x7f?2J?' "-printcert: CN escaped"
has out "Issuer: OU=\\x1b[4mBMP" "-printcert: Issuer escaped"
has out 'DNSName: \x1b[32mdns\x07.example' "-printcert: SAN DNS name escaped"
has out 'URIName: \x1b]0;title\x07?' "-printcert: SAN URI escaped"
run 0 "-printcert -v" "$DBTRUST" -printcert -v -file hostile.pem
run 0 "-printcert -rfc" --crlf "$DBTRUST" -printcert -rfc -file hostile.pem
LC_ALL=C.UTF-8 run 0 "-printcert -v in a UTF-8 locale" "$DBTRUST" -printcert -v -file hostile.pem
has out 'CN="\x1b[31mRED\x07\x0d\x0a\x7f\xc2\x9b2J\xe2\x80\xae' \
    "-printcert in a UTF-8 locale: CN escaped"
has out 'O=T61\xc2\x9b[1m\x1b\xc2\x85' "-printcert in a UTF-8 locale: T61String escaped"
has out 'URIName: \x1b]0;title\x07\xc2\x9b' "-printcert in a UTF-8 locale: SAN URI escaped"
run 1 "-printcert of a malformed UTF8String" "$DBTRUST" -printcert -v -file malformed.der
for ks in hostile.jks hostile.p12; do
    run 0 "-list $ks" "$DBTRUST" -list -keystore "$ks" -storepass changeit
    run 0 "-list -v $ks" "$DBTRUST" -list -v -keystore "$ks" -storepass changeit
    # openssl -nokeys writes no Java trust attribute: like keytool, no entry; the bag is named.
    [ "$ks" = hostile.jks ] && has out 'Alias name: ' "-list -v $ks"
    run 1 "-list -alias with control characters" "$DBTRUST" -list -keystore "$ks" \
        -storepass changeit -alias "$(printf 'no\e[31m')"
    has err 'no\x1b[31m' "-list -alias: name escaped in the error"
    run 0 "-list -rfc $ks" --crlf "$DBTRUST" -list -rfc -keystore "$ks" -storepass changeit
done
has err '("p12\x1b[31m\x07\xc2\x9b\x0d")' "-list -rfc: PKCS#12 alias escaped"
run 0 "-list JKS" "$DBTRUST" -list -keystore hostile.jks -storepass changeit
has out 'evil\x1b[31m\x07\x0d\x0a\xc2\x9b\xe2\x80\xae, ' "-list: JKS alias escaped"

# ---- the catalog: import, list, check, export ----
cat=$tmp/catalog
run 0 "import" "$DBTRUST" --catalog "$cat" import --bundle hostile "$evil"
has out "$esc_cn" "import: added certificate's subject escaped"
grep -q '^origin=evil\\x1b\[31m\\x07\\x0d\\xc2\\x9b\.pem$' "$cat/bundles/hostile.meta" ||
    fail "import: the origin is not recorded escaped: $(od -c "$cat/bundles/hostile.meta" | head)"
run 0 "import --origin" "$DBTRUST" --catalog "$cat" import --bundle other \
    --origin "$(printf 'from\e[2J\xc2\x9bthere')" hostile.pem
run 1 "import of a missing file" "$DBTRUST" --catalog "$cat" import --bundle x "x$evil"
run 2 "import with a bundle name with control characters" "$DBTRUST" --catalog "$cat" \
    import --bundle "$(printf 'b\e[31m')" hostile.pem
run 0 "list" "$DBTRUST" --catalog "$cat" list
has out "$esc_cn" "list: subject escaped"
run 0 "list --json" "$DBTRUST" --catalog "$cat" list --json
jq -r '.[].subject' out | grep -qF "$esc_cn" || fail "list --json: subject is not the escaped text"
run 1 "check" "$DBTRUST" --catalog "$cat" check --days 100
has out "$esc_cn" "check: subject escaped"
run 1 "check --json" "$DBTRUST" --catalog "$cat" check --json --days 100
run 0 "-list of the catalog" "$DBTRUST" --catalog "$cat" -list -v
run 0 "-list -rfc of the catalog" --crlf "$DBTRUST" --catalog "$cat" -list -rfc
run 0 "export to a file name with control characters" "$DBTRUST" --catalog "$cat" export \
    --bundle hostile "$evil.out"
has err 'to evil\x1b[31m\x07\x0d\xc2\x9b.pem.out' "export: file name escaped"
run 0 "convert to a file name with control characters" "$DBTRUST" convert --to der "$evil" \
    "$evil.2.der"
has err 'to evil\x1b[31m\x07\x0d\xc2\x9b.pem.2.der' "convert: file name escaped"
run 0 "-exportcert -file" "$DBTRUST" --catalog "$cat" -exportcert -alias hostile -file "$evil.der"
has out 'stored in file <evil\x1b[31m' "-exportcert: file name escaped"
run 1 "--catalog with control characters" "$DBTRUST" --catalog "$tmp/$(printf 'c\e[31m')" list
has err 'c\x1b[31m' "--catalog: path escaped in the error"

# ---- probe: a server whose certificate holds the hostile names ----
port=
for try in 1 2 3 4 5; do
    p=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    openssl s_server -quiet -accept "127.0.0.1:$p" -cert hostile.pem -key key.pem \
        </dev/null >>s_server.log 2>&1 &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            dbt_cleanup_push "kill $pid 2>/dev/null"
            port=$p
            break 2
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
done
if [ -z "$port" ]; then
    fail "openssl s_server did not start: $(head -c 600 s_server.log)"
else
    export SSL_CERT_FILE=$tmp/nofile.pem SSL_CERT_DIR=$tmp/nodir
    host=$(printf 'db\e[31m\a.example')
    run 1 "probe" "$DBTRUST" --catalog "$cat" probe --direct --hostaddr 127.0.0.1 "$host:$port"
    has out "[0] subject: OU=\\x1b[4mBMP" "probe: server subject escaped"
    has out 'DNS:\x1b[32mdns\x07.example' "probe: SAN DNS name escaped"
    has out "'db\\x1b[31m\\x07.example'" "probe: host name escaped"
    run 1 "probe --json" "$DBTRUST" --catalog "$cat" probe --json --direct --hostaddr 127.0.0.1 \
        "$host:$port"
    jq -r '.chain[0].subject' out | grep -qF "$esc_cn" ||
        fail "probe --json: subject is not the escaped text"
    closed=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    run 1 "probe of a closed port" "$DBTRUST" --catalog "$cat" probe --hostaddr 127.0.0.1 \
        "$host:$closed"
    has err 'db\x1b[31m\x07.example' "probe: host name escaped in the error"
    run 1 "probe --json of a closed port" "$DBTRUST" --catalog "$cat" probe --json \
        --hostaddr 127.0.0.1 "$host:$closed"
    unset SSL_CERT_FILE SSL_CERT_DIR
fi

# ---- keystores dbtrust writes: an alias read from a file or typed as -alias is written escaped,
# so that keytool (which prints aliases as they are) never prints a control character ----
cp hostile.pem ks-ca.pem
run 0 "convert --to jks" "$DBTRUST" convert --to jks hostile.jks w.jks
run 0 "convert --to pkcs12" "$DBTRUST" convert --to pkcs12 hostile.jks w.p12
run 0 "-importcert -alias, PKCS#12" "$DBTRUST" -importcert -noprompt -alias "$(printf 'x\e[2J\a')" \
    -file ks-ca.pem -keystore new.p12 -storepass changeit
run 0 "-importcert -alias, JKS" "$DBTRUST" -importcert -noprompt -alias "$(printf 'x\e[2J\a')" \
    -file ks-ca.pem -keystore new.jks -storetype jks -storepass changeit
for f in w.jks new.jks; do
    # (the certificate's own DER holds ESC in its names: only the aliases are looked for)
    "$PY" -c "import sys; d=open('$f','rb').read(); sys.exit(1 if b'x\x1b[2J' in d or b'evil\x1b' in d else 0)" ||
        fail "$f: an alias with a raw control character in the file (JKS stores aliases as they are)"
done
if command -v keytool >/dev/null 2>&1; then
    for f in w.jks w.p12 new.jks new.p12; do
        keytool -list -keystore "$f" -storepass changeit >out 2>err
        clean "keytool -list $f"
        grep -qF '\x1b' out || fail "keytool -list $f: the escaped alias is not there: $(cat out)"
    done
else
    echo "# keytool not found: the keystores written are checked by their bytes only"
fi

exit $failed
