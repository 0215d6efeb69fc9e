#!/bin/bash
# Trust settings never widen through dbtrust: TRUSTED CERTIFICATE inputs made by openssl x509
# -addtrust/-addreject/-setalias -trustout (rejected for serverAuth; trusted for clientAuth only;
# serverAuth only; an OID nothing knows only; anyExtendedKeyUsage; an alias only; rejected for
# everything) and by tests/lib/trustaux.py (a trust list present but empty, which OpenSSL reads
# as trusted for nothing: alone, with an alias, with a reject entry; an empty reject list, which
# rejects nothing) go through
# import, keytool -importcert and convert to every format, and `openssl verify -purpose` on what
# comes out (the catalog's hashed view, each output) never accepts a chain that the input
# rejects. Restricted certificates are refused naming the file and block, mixed files too, with
# nothing imported or written; print, --json and -printcert show the settings.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl jq "$PY"
. "$SRCDIR/tests/lib/clipki.sh" || exit 1

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
# The leaf (no extendedKeyUsage: fit for any purpose) chains to root-a through inter.
variants="rej-server trust-client trust-server trust-oid trust-any alias rej-any empty-trust
    empty-trust-alias empty-trust-rej empty-rej"
mk() { openssl x509 -in root-a.pem -trustout -out "$1.pem" "${@:2}" || fail "openssl x509 $*"; }
mk rej-server -addreject serverAuth
mk trust-client -addtrust clientAuth
mk trust-server -addtrust serverAuth
mk trust-oid -addtrust 1.2.3.4
mk trust-any -addtrust anyExtendedKeyUsage
mk alias -setalias "prod db CA"
mk rej-any -addreject anyExtendedKeyUsage
# Lists present but empty: openssl x509 cannot write them (-clrtrust removes the list).
aux() { # NAME FROM OP...
    "$PY" "$SRCDIR/tests/lib/trustaux.py" "$2.pem" "$1.pem" "${@:3}" || fail "trustaux.py $*"
}
aux empty-trust trust-server empty-trust
aux empty-trust-alias alias empty-trust
aux empty-trust-rej rej-server empty-trust
aux empty-rej alias empty-reject
restricted() {
    case $1 in
    rej-server | trust-client | trust-server | trust-oid | rej-any | empty-trust*) return 0 ;;
    esac
    return 1
}
settings() {
    case $1 in
    rej-server) echo "rejected for serverAuth" ;;
    trust-client) echo "trusted for clientAuth" ;;
    trust-server) echo "trusted for serverAuth" ;;
    trust-oid) echo "trusted for 1.2.3.4" ;;
    trust-any) echo "trusted for anyExtendedKeyUsage" ;;
    rej-any) echo "rejected for anyExtendedKeyUsage" ;;
    empty-trust | empty-trust-alias) echo "trusted for nothing" ;;
    empty-trust-rej) echo "trusted for nothing; rejected for serverAuth" ;;
    esac
}
# The crafted files really hold what they are named for: openssl shows an empty "Trusted Uses"
# (or "Rejected Uses") list, and the list is an empty SEQUENCE in the DER.
for v in empty-trust empty-trust-alias empty-trust-rej; do
    openssl x509 -in $v.pem -noout -text >text.txt 2>&1 || fail "openssl cannot read $v.pem"
    grep -A1 '^Trusted Uses:' text.txt | sed -n 2p | grep -q '^ *$' ||
        fail "$v.pem: openssl does not show an empty trust list: $(grep -A2 Trusted text.txt)"
    openssl asn1parse -in $v.pem | grep -q 'd=1 *hl=2 l= *0 cons: SEQUENCE' ||
        fail "$v.pem: no empty SEQUENCE in the auxiliary data"
done
openssl x509 -in empty-rej.pem -noout -text >text.txt
grep -q '^No Trusted Uses' text.txt && grep -A1 '^Rejected Uses:' text.txt | sed -n 2p |
    grep -q '^ *$' || fail "empty-rej.pem: openssl does not show an empty reject list"
grep -q '^Alias: prod db CA' text.txt || fail "empty-rej.pem: the alias is lost"

purposes="default sslserver sslclient"
# verdict PURPOSE TRUST-ARGS...: OK when openssl verifies the leaf with those anchors, else NO.
verdict() {
    local p=()
    [ "$1" = default ] || p=(-purpose "$1")
    openssl verify "${p[@]}" "${@:2}" -untrusted inter.pem leaf.pem >/dev/null 2>&1 && echo OK || echo NO
}
# no_wider WHAT INPUT TRUST-ARGS...: for no purpose does TRUST-ARGS accept the leaf while the
# input file (as -CAfile) rejects it.
no_wider() {
    local what=$1 in=$2 p
    shift 2
    for p in $purposes; do
        if [ "$(verdict "$p" "$@")" = OK ] && [ "$(verdict "$p" -CAfile "$in")" = NO ]; then
            fail "$what: accepted for $p, which $in rejects"
        fi
    done
}

# The inputs themselves: openssl reads their settings (otherwise nothing below could fail).
[ "$(verdict sslserver -CAfile root-a.pem)" = OK ] || fail "setup: the plain root does not verify"
[ "$(verdict sslserver -CAfile rej-server.pem)" = NO ] || fail "setup: rej-server verifies for sslserver"
[ "$(verdict sslclient -CAfile rej-server.pem)" = OK ] || fail "setup: rej-server fails for sslclient"
[ "$(verdict sslserver -CAfile trust-client.pem)" = NO ] || fail "setup: trust-client verifies for sslserver"
[ "$(verdict sslclient -CAfile trust-server.pem)" = NO ] || fail "setup: trust-server verifies for sslclient"
[ "$(verdict default -CAfile rej-any.pem)" = NO ] || fail "setup: rej-any verifies"
for v in trust-oid empty-trust empty-trust-alias empty-trust-rej; do
    for p in $purposes; do
        [ "$(verdict $p -CAfile $v.pem)" = NO ] || fail "setup: $v verifies for $p"
    done
done
for p in $purposes; do
    [ "$(verdict $p -CAfile empty-rej.pem)" = OK ] || fail "setup: empty-rej fails for $p"
done

# ---- import: a restricted certificate is refused, naming file, block and settings ----
cat=$tmp/cat
expect_rc 0 "$DBTRUST" --catalog "$cat" import --bundle other root-b.pem
snapshot() { { readlink "$cat/current"; cat "$cat/certs/index"; ls "$cat/certs"; }; }
before=$(snapshot)
for v in $variants; do
    if restricted $v; then
        expect_rc 1 "$DBTRUST" --catalog "$cat" import --bundle "$v" "$v.pem"
        has err "block 1 of $v.pem (line 1): its trust settings ($(settings $v))" "import $v"
        has err "the catalog (it serves plain certificates) cannot keep them" "import $v"
        has err "nothing was imported; the catalog is unchanged" "import $v"
        [ "$(snapshot)" = "$before" ] || fail "import $v changed the catalog"
        # The point of it all: the catalog does not now accept what the input rejects.
        no_wider "catalog after import $v" "$v.pem" -CApath "$cat/certs"
        # keytool's spelling goes through the same import.
        expect_rc 1 "$DBTRUST" --catalog "$cat" -importcert -alias "$v" -file "$v.pem" -noprompt
        has err "block 1 of $v.pem (line 1)" "-importcert $v"
        [ "$(snapshot)" = "$before" ] || fail "-importcert $v changed the catalog"
    fi
done
# Trusted for anyExtendedKeyUsage, an alias only, an empty reject list: a plain CA is trusted
# for no more.
for v in trust-any alias empty-rej; do
    expect_rc 0 "$DBTRUST" --catalog "$cat" import --bundle "$v" "$v.pem"
    has out "1 added" "import $v"
    [ "$(verdict sslserver -CApath "$cat/certs")" = OK ] || fail "import $v: the catalog does not verify"
    no_wider "catalog after import $v" "$v.pem" -CApath "$cat/certs"
    expect_rc 0 "$DBTRUST" --catalog "$cat" remove --bundle "$v"
done

# A mixed file: a plain CA then a restricted one. Neither is imported, the restricted block is
# named (block 2, at its BEGIN line), nothing is dropped silently.
cat root-b.pem rej-server.pem >mixed.pem
line=$(($(wc -l <root-b.pem) + 1))
before=$(snapshot)
expect_rc 1 "$DBTRUST" --catalog "$cat" import --bundle mixed mixed.pem
has err "block 2 of mixed.pem (line $line): its trust settings (rejected for serverAuth)" "mixed file"
[ "$(snapshot)" = "$before" ] || fail "the mixed file changed the catalog"
expect_rc 0 "$DBTRUST" --catalog "$cat" list
hasnt out "mixed" "the mixed bundle is not listed"
# Several inputs: the restricted one is named by its own file.
expect_rc 1 "$DBTRUST" --catalog "$cat" import --bundle two root-b.pem trust-client.pem
has err "block 1 of trust-client.pem (line 1)" "second input named"
[ "$(snapshot)" = "$before" ] || fail "two inputs changed the catalog"

# ---- convert: kept where the format carries it, refused where it cannot ----
# to_pem FORMAT FILE OUT: the certificates of an output as PEM, read back with openssl (not
# dbtrust) where openssl reads the format.
to_pem() {
    case $1 in
    pem) cp "$2" "$3" ;;
    der) openssl x509 -inform DER -in "$2" -out "$3" ;;
    p7b) openssl pkcs7 -in "$2" -print_certs -out "$3" ;;
    p7b-der) openssl pkcs7 -inform DER -in "$2" -print_certs -out "$3" ;;
    pkcs12) openssl pkcs12 -in "$2" -passin pass:changeit -nokeys -out "$3" ;;
    jks) "$DBTRUST" convert --to pem "$2" "$3" 2>/dev/null ;;
    esac
}
for v in root-a $variants; do
    for f in pem der p7b p7b-der pkcs12 jks hashed-dir; do
        out=$v.out.$f
        if restricted $v && [ $f != pem ] && [ $f != hashed-dir ]; then
            expect_rc 1 "$DBTRUST" convert --to $f "$v.pem" "$out"
            has err "block 1 of $v.pem (line 1): its trust settings ($(settings $v))" "convert $v to $f"
            has err "nothing was written to $out" "convert $v to $f"
            [ -e "$out" ] && fail "convert $v to $f: $out was written"
            continue
        fi
        expect_rc 0 "$DBTRUST" convert --to $f "$v.pem" "$out"
        if [ $f = hashed-dir ]; then
            no_wider "convert $v to hashed-dir" "$v.pem" -CApath "$out"
            [ "$(verdict default -CApath "$out")" = "$(verdict default -CAfile "$v.pem")" ] ||
                fail "convert $v to hashed-dir: not trusted as the input is"
        else
            to_pem $f "$out" "$out.pem" || fail "convert $v to $f: openssl cannot read $out"
            no_wider "convert $v to $f" "$v.pem" -CAfile "$out.pem"
        fi
    done
    # PEM keeps the settings exactly: a TRUSTED CERTIFICATE block when it has any.
    if [ $v = root-a ] || [ $v = alias ] || [ $v = empty-rej ]; then
        has $v.out.pem "BEGIN CERTIFICATE" "convert $v to pem: a plain block"
    else
        has $v.out.pem "BEGIN TRUSTED CERTIFICATE" "convert $v to pem keeps the settings"
        for p in $purposes; do
            [ "$(verdict $p -CAfile $v.out.pem)" = "$(verdict $p -CAfile $v.pem)" ] ||
                fail "convert $v to pem: $p differs from the input"
        done
    fi
done
# The hashed directory holds a TRUSTED CERTIFICATE, which openssl's -CApath honours.
grep -q "BEGIN TRUSTED CERTIFICATE" rej-server.out.hashed-dir/*.0 ||
    fail "hashed-dir: the restricted root is not a TRUSTED CERTIFICATE"
# A hashed directory holds one file per certificate: two copies that disagree are an error.
cat root-a.pem rej-server.pem >dup.pem
expect_rc 1 "$DBTRUST" convert --to hashed-dir dup.pem dup.dir
has err "block 1 of dup.pem (line 1) and block 2 of dup.pem (line $(($(wc -l <root-a.pem) + 1)))" \
    "conflicting duplicates named"
[ -e dup.dir ] && fail "conflicting duplicates: dup.dir was written"
# A mixed bundle to PKCS#7: the restricted block is named, not dropped.
expect_rc 1 "$DBTRUST" convert --to p7b mixed.pem mixed.p7b
has err "block 2 of mixed.pem (line $line)" "mixed file to p7b"
# keytool -importcert into a truststore cannot keep them either.
for v in trust-client empty-trust; do
    for t in pkcs12 jks; do
        expect_rc 1 "$DBTRUST" -importcert -alias x -file $v.pem -keystore ts.$t -storetype $t \
            -storepass changeit -noprompt
        has err "block 1 of $v.pem (line 1): its trust settings ($(settings $v))" \
            "-importcert $v -keystore ts.$t"
        [ -e ts.$t ] && fail "-importcert $v -keystore wrote ts.$t"
    done
done
# The hashed directory keeps an empty trust list as OpenSSL reads it: trusted for nothing.
grep -q "BEGIN TRUSTED CERTIFICATE" empty-trust.out.hashed-dir/*.0 ||
    fail "hashed-dir: the empty trust list is not a TRUSTED CERTIFICATE"
for p in $purposes; do
    [ "$(verdict $p -CApath empty-trust.out.hashed-dir)" = NO ] ||
        fail "hashed-dir of empty-trust verifies for $p"
done

# ---- print, --json, -printcert show the settings ----
expect_rc 0 "$DBTRUST" print rej-server.pem trust-client.pem root-a.pem
has out "  trust:     rejected for serverAuth" "print rej-server"
has out "  trust:     trusted for clientAuth" "print trust-client"
[ "$(grep -c "  trust:" out)" = 2 ] || fail "print: a trust line for the plain root"
expect_rc 0 "$DBTRUST" print --json rej-server.pem trust-client.pem alias.pem root-a.pem
[ "$(jq -c '[.[] | [.trust, .reject]]' out)" = \
    '[[null,["serverAuth"]],[["clientAuth"],null],[null,null],[null,null]]' ] ||
    fail "print --json: trust/reject are $(jq -c '[.[] | [.trust, .reject]]' out)"
[ "$(jq -r '.[2].alias' out)" = "prod db CA" ] || fail "print --json: the alias is not shown"
# A trust list that is present but empty is not an absent one.
expect_rc 0 "$DBTRUST" print empty-trust.pem empty-rej.pem
has out "  trust:     trusted for nothing" "print empty-trust"
[ "$(grep -c "  trust:" out)" = 1 ] || fail "print: a trust line for the empty reject list"
expect_rc 0 "$DBTRUST" print --json empty-trust.pem empty-rej.pem
[ "$(jq -c '[.[] | [.trust, .reject]]' out)" = '[[[],null],[null,[]]]' ] ||
    fail "print --json: empty lists are $(jq -c '[.[] | [.trust, .reject]]' out)"
expect_rc 0 "$DBTRUST" -printcert -v -file empty-trust.pem
has out "Trust settings: trusted for nothing" "-printcert -v empty-trust"
expect_rc 0 "$DBTRUST" -printcert -rfc -file empty-trust.pem
cp out rfc-empty.pem
[ "$(verdict default -CAfile rfc-empty.pem)" = NO ] || fail "-printcert -rfc of empty-trust is trusted"
expect_rc 0 "$DBTRUST" -printcert -v -file trust-server.pem
has out "Trust settings: trusted for serverAuth" "-printcert -v"
expect_rc 0 "$DBTRUST" -printcert -v -file root-a.pem
hasnt out "Trust settings" "-printcert -v of a plain certificate"
# -rfc keeps the block a TRUSTED CERTIFICATE, so that saving it does not widen it.
expect_rc 0 "$DBTRUST" -printcert -rfc -file rej-any.pem
has out "BEGIN TRUSTED CERTIFICATE" "-printcert -rfc"
cp out rfc.pem
[ "$(verdict default -CAfile rfc.pem)" = NO ] || fail "-printcert -rfc output is trusted"

exit $failed
