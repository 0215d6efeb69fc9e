#!/bin/bash
# dbtrust import, list, remove, export and check on a per-test catalog: leaf/expired filtering
# with messages naming file and certificate, duplicate merging, atomic re-import with the
# added/removed report, JSON checked against openssl, removal seen by OpenSSL's hashed-directory
# lookup at once, untouched catalog on every failure, unsafe permissions, exit codes 0/1/2
# (check: 0-3, tests/cli-check-format.sh);
# then the same on real bundles from DBTRUST_REALDATA when present.
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
dbt_cli_start openssl jq
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
# The catalog's generation: equal before and after means nothing was committed.
gen() { readlink "$1/current"; }
# SHA-256s listed for one bundle (or all), sorted.
listed() { "$DBTRUST" --catalog "$1" list --json ${2:+--bundle "$2"} | jq -r '.[].sha256' | sort; }
sorted_fps() { for f in "$@"; do clipki_sha256 "$f.pem"; done | sort; }

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
for c in root-a root-b inter leaf soon old; do eval "fp_${c//-/_}=$(clipki_sha256 $c.pem)"; done
cat root-a.pem inter.pem >chain.pem
cat root-a.pem leaf.pem soon.pem old.pem root-a.pem >mix.pem
C=$tmp/cat

# ---- usage errors: exit 2, nothing created ----
expect_rc 2 "$DBTRUST" --catalog "$C" import root-a.pem
has err "--bundle NAME" "import without --bundle"
expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle 'bad/name' root-a.pem
expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle x
expect_rc 2 "$DBTRUST" --catalog "$C" import --bundle x - -
expect_rc 2 "$DBTRUST" --catalog "$C" list extra
expect_rc 2 "$DBTRUST" --catalog "$C" list --expiring soon
expect_rc 3 "$DBTRUST" --catalog "$C" check --days -1 # UNKNOWN, as monitoring reads it
expect_rc 2 "$DBTRUST" --catalog "$C" remove --bundle a --fingerprint b
expect_rc 2 "$DBTRUST" --catalog "$C" remove
expect_rc 2 "$DBTRUST" --catalog "$C" export --format pem
expect_rc 2 "$DBTRUST" --catalog "$C" export --format zip out.zip
has err "pem, der, p7b" "unknown export format lists the formats"
expect_rc 2 "$DBTRUST" --catalog "$C" import --no-such-option --bundle x root-a.pem
[ -e "$C" ] && fail "a usage error created the catalog $C"

# ---- a missing catalog: exit 1 and how to create it ----
expect_rc 1 "$DBTRUST" --catalog "$C" list
has err "$C does not exist" "list of a missing catalog"
has err "import --bundle NAME FILE" "list of a missing catalog says how to create one"

# ---- import: leaf skipped, expired imported with a warning, duplicate merged ----
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle mix mix.pem
has err "certificate 2 (line" "leaf warning names its number"
has err "of mix.pem is not a CA (CN=db.example.com)" "leaf warning names file and subject"
has err "--allow-leaf" "leaf warning says what to do"
has err "certificate 4 (line" "expired warning names its number"
has err "expired on 2020-02-01 (CN=Test Long Expired): imported anyway" "expired warning"
has out "3 certificates (3 added, 0 removed, 1 duplicate merged, 1 skipped) [new bundle]" \
    "import summary"
has out "  + $fp_root_a CN=Test Root A,O=dbtrust test,C=US" "added line in RFC 2253 order"
[ "$(listed "$C" mix)" = "$(sorted_fps root-a soon old)" ] ||
    fail "bundle mix holds $(listed "$C" mix | tr '\n' ' '), expected root-a soon old"
ls -l "$C"/bundles/mix.pem >/dev/null 2>&1 || fail "no bundles/mix.pem in the catalog"
grep -q '^origin=mix.pem$' "$C"/bundles/mix.meta || fail "mix.meta: origin is not mix.pem"
grep -q "^sha256=$(sha256sum mix.pem | cut -c1-64)\$" "$C"/bundles/mix.meta ||
    fail "mix.meta: sha256 is not that of mix.pem"

# Several inputs: each message names its own file and the number in that file.
cat root-b.pem leaf.pem >second.pem
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle multi --no-expired chain.pem second.pem old.pem
has err "certificate 2 (line $(grep -n BEGIN second.pem | sed -n 2p | cut -d: -f1)) of second.pem is not a CA" \
    "multi-input leaf warning names second.pem and its number there"
has err "certificate 1 (line 1) of old.pem expired on 2020-02-01" "multi-input expired warning"
has err "skipped (--no-expired)" "--no-expired skips"
[ "$(listed "$C" multi)" = "$(sorted_fps root-a inter root-b)" ] ||
    fail "bundle multi: $(listed "$C" multi | tr '\n' ' ')"
grep -q '^origin=chain.pem second.pem old.pem$' "$C"/bundles/multi.meta ||
    fail "multi.meta origin: $(grep origin "$C"/bundles/multi.meta)"
grep -q "^sha256=$(cat chain.pem second.pem old.pem | sha256sum | cut -c1-64)\$" \
    "$C"/bundles/multi.meta || fail "multi.meta: sha256 is not that of the inputs in order"

# --allow-leaf, standard input.
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle leafy --allow-leaf - <leaf.pem
[ "$(listed "$C" leafy)" = "$fp_leaf" ] || fail "--allow-leaf from stdin did not import the leaf"
grep -q '^origin=<stdin>$' "$C"/bundles/leafy.meta || fail "stdin origin not recorded as <stdin>"

# ---- re-import replaces atomically and reports the rotation ----
cat root-a.pem root-b.pem >rot1.pem
cat root-b.pem soon.pem >rot2.pem
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle rot rot1.pem
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle rot rot2.pem
has out "bundle 'rot': 2 certificates (1 added, 1 removed)" "rotation summary"
has out "  + $fp_soon CN=Test Expires Soon" "rotation: added CA shown"
has out "  - $fp_root_a CN=Test Root A,O=dbtrust test,C=US" "rotation: removed CA shown"
hasnt out "[new bundle]" "a replaced bundle is not new"
hasnt out "[unchanged]" "a rotation is a change"
[ "$(listed "$C" rot)" = "$(sorted_fps root-b soon)" ] || fail "rot after re-import"
# The same change report as fetch's: importing the same certificates again says so.
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle rot rot2.pem
has out "bundle 'rot': 2 certificates (0 added, 0 removed) [unchanged]" "a re-import that changes nothing"

# ---- failures leave the catalog untouched ----
g=$(gen "$C")
expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle rot leaf.pem
has err "nothing to import into bundle 'rot'" "zero usable certificates"
has err "1 is not a CA (add --allow-leaf" "zero usable: says why"
has err "the catalog is unchanged" "zero usable: says the catalog is unchanged"
expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle rot --no-expired old.pem
has err "1 expired (skipped because of --no-expired)" "zero usable (expired): says why"
{
    cat root-a.pem
    printf -- '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n'
} >broken.pem
expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle rot root-b.pem broken.pem
has err "block 2 of broken.pem" "malformed input: file and block named"
has err "catalog is unchanged" "malformed input: catalog unchanged"
expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle rot missing.pem
has err "missing.pem" "missing input named"
[ "$(gen "$C")" = "$g" ] || fail "a failed import changed the catalog generation"
[ "$(listed "$C" rot)" = "$(sorted_fps root-b soon)" ] || fail "rot changed by a failed import"

# ---- list ----
expect_rc 0 "$DBTRUST" --catalog "$C" list
has out "SHA-256" "list header"
for b in mix multi leafy rot; do has out "$b " "list shows bundle $b"; done
has out "$fp_root_b" "list shows root B's fingerprint"
has out "EC prime256v1" "list shows the key type"
expect_rc 0 "$DBTRUST" --catalog "$C" list --json
jq empty out || fail "list --json is not valid JSON"
[ "$(jq length out)" = 9 ] || fail "list --json: $(jq length out) rows, expected 9 (mix 3, multi 3, leafy 1, rot 2)"
[ "$(jq -c '[.[] | keys] | unique' out)" = \
    '[["bundle","curve","days_left","is_ca","issuer","key","key_bits","key_type","not_after","not_before","scope","serial","sha1","sha256","status","subject"]]' ] ||
    fail "list --json keys: $(jq -c '[.[] | keys] | unique' out)"
[ "$(jq -r '.[].bundle' out | uniq | tr '\n' ' ')" = "leafy mix multi rot " ] ||
    fail "list --json rows are not grouped by bundle: $(jq -r '.[].bundle' out | tr '\n' ' ')"
cp out list.json
for c in root-a root-b leaf soon old; do
    fp=$(clipki_sha256 $c.pem)
    field() { jq -r --arg fp "$fp" "[.[] | select(.sha256 == \$fp)][0].$1" list.json; }
    subj=$(openssl x509 -in $c.pem -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    [ "$(field subject)" = "$subj" ] || fail "$c: subject '$(field subject)' != openssl '$subj'"
    na=$(date -u -d "$(openssl x509 -in $c.pem -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)
    [ "$(field not_after)" = "$na" ] || fail "$c: not_after $(field not_after) != $na"
    sha1=$(openssl x509 -in $c.pem -noout -fingerprint -sha1 | sed 's/.*=//; s/://g' | tr A-F a-f)
    [ "$(field sha1)" = "$sha1" ] || fail "$c: sha1 differs from openssl's"
done
[ "$(jq -r --arg fp "$fp_root_b" '[.[] | select(.sha256 == $fp)][0] | "\(.key) \(.key_type) \(.key_bits) \(.curve)"' list.json)" = \
    "RSA 2048 RSA 2048 null" ] || fail "root-b key fields"
st() { jq -r --arg fp "$1" '[.[] | select(.sha256 == $fp) | .status] | unique | join(" ")' list.json; }
[ "$(st "$fp_old")" = expired ] || fail "old: status '$(st "$fp_old")'"
case $(st "$fp_soon") in "expires in 4 days" | "expires in 5 days") ;; *) fail "soon: status '$(st "$fp_soon")'" ;; esac
[ "$(st "$fp_root_a")" = ok ] || fail "root-a: status '$(st "$fp_root_a")'"
expect_rc 0 "$DBTRUST" --catalog "$C" list --expiring 10 --json
[ "$(jq -r '.[].sha256' out | sort -u)" = "$(sorted_fps soon old)" ] || fail "list --expiring 10: $(cat out)"
expect_rc 1 "$DBTRUST" --catalog "$C" list --bundle nosuch
has err "no bundle named 'nosuch'" "list --bundle of a missing bundle"

# ---- check ----
expect_rc 2 "$DBTRUST" --catalog "$C" check # CRITICAL: an expired CA
has out "expired  mix  2020-02-01T00:00:00Z  $fp_old" "check lists the expired CA"
has out "$fp_soon" "check lists the CA that expires in 5 days"
hasnt out "$fp_root_a" "check does not list a CA with 10 years left"
has err "expired or expiring within 30 days" "check summary"
expect_rc 2 "$DBTRUST" --catalog "$C" check --days 0 --json
[ "$(jq -r '.certificates[] | select(.level != "ok") | .sha256' out | sort -u)" = "$fp_old" ] ||
    fail "check --days 0 --json should list only the expired CA"
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle multi
has out "ok: no certificate expires within 30 days" "check of a healthy bundle"
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle rot --days 6
has out "$fp_soon" "check --days 6 lists the CA with 4 days left"
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle rot --days 2

# ---- remove: OpenSSL's lookup stops trusting at once ----
expect_rc 0 "$DBTRUST" --catalog "$C" import --bundle chain chain.pem
expect_rc 0 openssl verify -CApath "$C/certs" leaf.pem
colons=$(echo "$fp_root_a" | tr a-f A-F | sed 's/../&:/g; s/:$//')
expect_rc 0 "$DBTRUST" --catalog "$C" remove --fingerprint "$colons"
has out "removed certificate $fp_root_a from 3 bundles: chain mix multi" "remove --fingerprint report"
expect_rc 2 openssl verify -CApath "$C/certs" leaf.pem
[ -n "$(find -L "$C/certs" -type l)" ] && fail "dangling links left in $C/certs"
expect_rc 0 "$DBTRUST" --catalog "$C" remove --bundle chain
has out "removed bundle 'chain' (1 certificate)" "remove --bundle report"
expect_rc 1 "$DBTRUST" --catalog "$C" list --bundle chain
g=$(gen "$C")
expect_rc 1 "$DBTRUST" --catalog "$C" remove --bundle chain
has err "no bundle named" "remove of a missing bundle"
expect_rc 1 "$DBTRUST" --catalog "$C" remove --fingerprint "$fp_root_a"
expect_rc 1 "$DBTRUST" --catalog "$C" remove --fingerprint 12:34
has err "64 hex digits" "remove of a short fingerprint says what to give"
[ "$(gen "$C")" = "$g" ] || fail "a failed remove changed the catalog"

# ---- export: every format, counted by openssl; nothing written on failure ----
# Distinct certificates now: mix (soon, old), multi (inter, root-b), leafy (leaf), rot (root-b, soon).
n_all=$(listed "$C" | sort -u | wc -l)
[ "$n_all" = 5 ] || fail "expected 5 distinct certificates, list shows $n_all"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format pem all.pem
[ "$(grep -c 'BEGIN CERTIFICATE' all.pem)" = 5 ] || fail "export pem: $(grep -c BEGIN all.pem) blocks"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format p7b all.p7b
[ "$(openssl pkcs7 -in all.p7b -print_certs | grep -c 'BEGIN CERT')" = 5 ] || fail "export p7b"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format p7b-der all.p7d
[ "$(openssl pkcs7 -inform DER -in all.p7d -print_certs | grep -c 'BEGIN CERT')" = 5 ] ||
    fail "export p7b-der"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format pkcs12 all.p12
[ "$(openssl pkcs12 -in all.p12 -nokeys -passin pass:changeit | grep -c 'BEGIN CERT')" = 5 ] ||
    fail "export pkcs12 (changeit)"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format pkcs12 --password s3cret sec.p12
[ "$(openssl pkcs12 -in sec.p12 -nokeys -passin pass:s3cret | grep -c 'BEGIN CERT')" = 5 ] ||
    fail "export pkcs12 --password"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format jks all.jks
expect_rc 0 "$DBTRUST" print --json all.jks
[ "$(jq length out)" = 5 ] || fail "export jks: $(jq length out) certificates"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format hashed-dir hd
[ "$(ls hd | wc -l)" = 5 ] || fail "export hashed-dir: $(ls hd | wc -l) files"
expect_rc 0 openssl verify -CApath hd -partial_chain inter.pem
expect_rc 0 "$DBTRUST" --catalog "$C" export --format der --bundle leafy leaf.der
cmp -s leaf.der <(openssl x509 -in leaf.pem -outform DER) || fail "export der differs from openssl's DER"
expect_rc 0 "$DBTRUST" --catalog "$C" export --format pem --bundle rot -
[ "$(grep -c 'BEGIN CERTIFICATE' out)" = 2 ] || fail "export to standard output"
expect_rc 1 "$DBTRUST" --catalog "$C" export --format der two.der
has err "DER holds exactly one certificate" "export der of several"
[ -e two.der ] && fail "export der of several wrote two.der"
expect_rc 1 "$DBTRUST" --catalog "$C" export --format hashed-dir hd
has err "hd exists and is not empty" "export over a non-empty directory"
expect_rc 1 "$DBTRUST" --catalog "$C" export --bundle nosuch --format pem x.pem
[ -e x.pem ] && fail "export of a missing bundle wrote x.pem"
echo keep >keep.pem
expect_rc 1 "$DBTRUST" --catalog "$C" export --format der keep.pem
[ "$(cat keep.pem)" = keep ] || fail "a failed export changed an existing output file"
# A bundle whose last certificate was removed, and an empty catalog.
expect_rc 0 "$DBTRUST" --catalog "$C" remove --fingerprint "$fp_leaf"
expect_rc 1 "$DBTRUST" --catalog "$C" export --bundle leafy --format pem e.pem
has err "bundle 'leafy'" "export of an emptied bundle names it"
E=$tmp/empty
expect_rc 0 "$DBTRUST" --catalog "$E" import --bundle one root-a.pem
expect_rc 0 "$DBTRUST" --catalog "$E" remove --bundle one
expect_rc 0 "$DBTRUST" --catalog "$E" list --json
[ "$(tr -d ' \n' <out)" = "[]" ] || fail "list --json of an empty catalog: $(cat out)"
expect_rc 0 "$DBTRUST" --catalog "$E" check
for f in pem pkcs12 jks hashed-dir; do
    expect_rc 1 "$DBTRUST" --catalog "$E" export --format $f empty.$f
    has err "holds no certificate" "export $f of an empty catalog"
    [ -e empty.$f ] && fail "export $f of an empty catalog wrote empty.$f"
done

# ---- an unsafe catalog is refused with lib's message ----
chmod g+w "$C/bundles/" "$(readlink -f "$C/bundles")"
expect_rc 1 "$DBTRUST" --catalog "$C" list
has err "chmod go-w" "unsafe catalog: the message says how to fix it"
expect_rc 1 "$DBTRUST" --catalog "$C" import --bundle x root-a.pem
chmod g-w "$(readlink -f "$C/bundles")"
expect_rc 0 "$DBTRUST" --catalog "$C" list

# ---- real bundles ----
R=${DBTRUST_REALDATA:-}
if [ -n "$R" ] && [ -f "$R/aws-rds-global-bundle.pem" ]; then
    RC=$tmp/real
    expect_rc 0 "$DBTRUST" --catalog "$RC" import --bundle aiven "$R/aiven-service-leaf-plus-project-ca.pem"
    has err "certificate 1 (line 1) of $R/aiven-service-leaf-plus-project-ca.pem is not a CA (CN=pg-1" \
        "Aiven leaf named"
    [ "$(listed "$RC" aiven)" = "$(openssl crl2pkcs7 -nocrl -certfile "$R/aiven-service-leaf-plus-project-ca.pem" |
        openssl pkcs7 -print_certs | awk '/BEGIN/{n++} n==2' | clipki_sha256 /dev/stdin)" ] ||
        fail "Aiven: the project CA (second certificate) is not what was imported"
    expect_rc 0 "$DBTRUST" --catalog "$RC" import --bundle rds-global "$R/aws-rds-global-bundle.pem"
    has out "108 certificates (108 added, 0 removed) [new bundle]" "global bundle import"
    [ "$(listed "$RC" rds-global | wc -l)" = 108 ] || fail "global bundle: not 108 listed"
    expect_rc 0 "$DBTRUST" --catalog "$RC" import --bundle use1 "$R/aws-rds-us-east-1-bundle-2022.pem"
    expect_rc 0 "$DBTRUST" --catalog "$RC" import --bundle use1 "$R/aws-rds-us-east-1-bundle.pem"
    has out "3 certificates (0 added, 2 removed)" "us-east-1 rotation 2022 -> current"
    has out "  - " "rotation lists removed CAs"
    has out "Amazon RDS Root 2019 CA" "rotation names the retired 2019 root"
    expect_rc 0 "$DBTRUST" --catalog "$RC" import --bundle p7 "$R/aws-rds-global-bundle.p7b"
    has out "108 certificates" "p7b import"
    expect_rc 0 "$DBTRUST" --catalog "$RC" check
    g=$(gen "$RC")
    expect_rc 1 "$DBTRUST" --catalog "$RC" import --bundle bad "$R/malformed/placeholder-xxxx-global-bundle.pem"
    has err "block 1 of $R/malformed/placeholder-xxxx-global-bundle.pem (line 1)" "placeholder file"
    expect_rc 1 "$DBTRUST" --catalog "$RC" import --bundle bad "$R/malformed/corrupt-first-block-global-bundle.pem"
    has err "block 1 of" "corrupt first block"
    [ "$(gen "$RC")" = "$g" ] || fail "failed real imports changed the catalog"
    expect_rc 1 "$DBTRUST" --catalog "$RC" import --bundle old --no-expired "$R/aws-rds-combined-ca-bundle-2015-era.pem"
    has err "the input held 17 certificates; 17 expired" "all-expired real bundle"
else
    echo "note: DBTRUST_REALDATA not set or incomplete; real-bundle checks not run"
fi

# ---- --catalog after the command name (both forms); after "--" it is an argument again ----
expect_rc 0 "$DBTRUST" import --catalog "$tmp/after" --bundle after root-a.pem
has out "bundle 'after': 1 certificate" "import --catalog DIR after the command"
expect_rc 0 "$DBTRUST" list --catalog="$tmp/after"
has out "$(openssl x509 -in root-a.pem -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)" \
    "list --catalog=DIR after the command"
expect_rc 2 "$DBTRUST" list --catalog
has err "--catalog needs a directory" "--catalog without a directory after the command"
expect_rc 1 "$DBTRUST" --catalog "$tmp/after" print -- --catalog
has err "--catalog: cannot open" "--catalog after -- is a file name"

exit $failed
