#!/bin/bash
# dbtrust refresh against local HTTPS mirrors only (openssl s_server -WWW with a test CA given by
# --ca-file): a changed mirror gives the rotation diff and a new catalog; an unchanged one only
# updates refreshed=; a truncated or empty download, or one that drops most CAs or all of them, is
# refused and the catalog stays byte for byte unless --force; an unreachable mirror fails that
# bundle only (exit 1) while the others refresh; bundles imported from files are skipped; hostile
# origins written by hand into a .meta (escapes, http://, file://, too many URLs) are refused and
# never downloaded; the scope is kept; --bundle, --dry-run, --quiet, the exit codes, and a host
# with nothing to refresh (exit 0, one line).
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
dbt_cli_start openssl jq "$PY"

. "$SRCDIR/tests/lib/https.sh"
mkca() { dbt_https_mkca "$@" || { echo "FAIL: making $1"; exit 1; }; }
mkca httpsca "/CN=Refresh Test HTTPS CA"
dbt_https_server_cert httpsca srv || { echo "FAIL: making the HTTPS server certificate"; exit 1; }
mkdir -p www roots
for i in 1 2 3 4 5 6 7; do mkca "roots/r$i" "/O=Refresh Test/CN=Refresh Test Root $i"; done
bundle() { for i in "$@"; do cat "roots/r$i.pem"; done; }
fp() { openssl x509 -in "roots/r$1.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
bundle 1 2 3 4 >www/rds.pem
bundle 6 >www/dsql-a.pem
bundle 7 >www/dsql-b.pem
bundle 1 2 >www/byorigin.pem

serve() { # DIR: serves DIR over HTTPS; sets port and spid
    dbt_https_serve "$1" srv.pem srv.key || { echo "FAIL: the HTTPS mirror did not start"; exit 1; }
    port=$dbt_https_port spid=$dbt_https_pid
}
serve www
base="https://localhost:$port"
# A second mirror, stopped after the first fetch: unreachable from then on.
mkdir gone
bundle 5 >gone/gone.pem
serve gone
gone_base="https://localhost:$port"
gone_pid=$spid

cat=$tmp/cat
R() { "$DBTRUST" --catalog "$cat" "$@"; }
R=("$DBTRUST" --catalog "$cat") # for expect_rc, which runs a program
# The catalog byte for byte: the generation, the index, every bundle file and the listing.
snapshot() {
    { readlink "$cat/current"; cat "$cat/certs/index"; head -n 1000 "$cat"/bundles/*;
        R list --json; } 2>&1
}
meta() { cat "$cat/bundles/$1.meta"; }
key_of() { sed -n "s/^$2=//p" "$cat/bundles/$1.meta"; }
count_of() { R list --bundle "$1" --json | jq length; }

# ---- nothing to refresh: no catalog, then a catalog of file imports only ----
expect_rc 0 "${R[@]}" refresh
has out "nothing to refresh: there is no catalog at $cat" "no catalog"
[ "$(wc -l <out)" = 1 ] || fail "no catalog: not one line: $(cat out)"
[ ! -e "$cat" ] || fail "refresh created a catalog"
expect_rc 0 "${R[@]}" refresh --quiet
[ ! -s out ] && [ ! -s err ] || fail "refresh --quiet with no catalog printed: $(cat out err)"
bundle 1 3 >local.pem
expect_rc 0 "${R[@]}" import --bundle local local.pem
expect_rc 0 "${R[@]}" refresh
has out "bundle 'local': skipped (imported from a file, not fetched)" "file import skipped"
has out "nothing to refresh: no bundle of $cat came from a known source or https:// URLs" \
    "file imports only"
[ ! -s err ] || fail "nothing to refresh wrote to stderr: $(cat err)"

# ---- the bundles: fetched from a source (default scope, a narrowed one, unscoped), several URLs,
# an https:// origin given to import, and one whose mirror goes away ----
F() { expect_rc 0 "${R[@]}" fetch --ca-file httpsca.pem "$@"; }
F aws-rds --url "$base/rds.pem"
F aws-rds --bundle narrow --url "$base/rds.pem" --only-for db.example.com --only-for 10.0.0.0/8
F aws-rds --bundle wide --url "$base/rds.pem" --unscoped
F aurora-dsql --bundle dsql --url "$base/dsql-a.pem" --url "$base/dsql-b.pem"
F aws-rds --bundle gone --url "$gone_base/gone.pem"
kill "$gone_pid"
wait "$gone_pid" 2>/dev/null
expect_rc 0 "${R[@]}" import --bundle byorigin --origin "$base/byorigin.pem" www/byorigin.pem
[ "$(key_of aws-rds source)" = aws-rds ] || fail "fetch recorded no source: $(meta aws-rds)"
[ -z "$(key_of byorigin source)" ] || fail "import recorded a source: $(meta byorigin)"
scopes=$(for b in aws-rds narrow wide dsql; do echo "$b=$(key_of $b scope)"; done)

# ---- an unchanged mirror: only refreshed= changes, everything else byte for byte ----
sleep 1 # refreshed= has whole seconds
for b in aws-rds narrow wide dsql byorigin; do meta $b >"$b.meta.before"; cp "$cat/bundles/$b.pem" "$b.pem.before"; done
R list --json >list.before
expect_rc 1 "${R[@]}" refresh --ca-file httpsca.pem
for b in aws-rds narrow wide dsql byorigin; do
    has out "bundle '$b': $(count_of $b) certificate" "unchanged $b reported"
    cmp -s "$b.pem.before" "$cat/bundles/$b.pem" || fail "unchanged $b: the bundle file changed"
    diff "$b.meta.before" "$cat/bundles/$b.meta" >d
    [ "$(grep -c '^[<>]' d)" -le 2 ] && ! grep -q '^[<>] [^r]' d && grep -q '^> refreshed=' d ||
        fail "unchanged $b: the .meta changed beyond refreshed=: $(cat d)"
    [ "$(key_of $b refreshed)" != "$(sed -n 's/^refreshed=//p' "$b.meta.before")" ] ||
        fail "unchanged $b: refreshed= was not updated"
done
grep -q "^bundle 'aws-rds': 4 certificates (0 added, 0 removed) \[unchanged\]" out ||
    fail "unchanged: no [unchanged] report: $(cat out)"
has out "bundle 'local': skipped (imported from a file, not fetched)" "skipped in a full run"
# The unreachable mirror fails that bundle only, named, and the run says so.
has err "$gone_base/gone.pem" "unreachable mirror named"
has err "bundle 'gone' is unchanged" "unreachable mirror: the bundle is unchanged"
has out "refreshed 5, changed 0, failed 1, skipped 1" "summary with an unreachable mirror"
[ "$(scopes=; for b in aws-rds narrow wide dsql; do echo "$b=$(key_of $b scope)"; done)" = "$scopes" ] ||
    fail "a refresh changed a scope"
[ "$(key_of byorigin refreshed)" != "" ] || fail "byorigin: no refreshed= after a refresh"
# Without the mirror's CA the downloads are refused (verified HTTPS) and nothing changes.
before=$(snapshot)
expect_rc 1 "${R[@]}" refresh --bundle aws-rds
has err "the server's TLS certificate is not trusted" "system trust store refuses the test CA"
[ "$(snapshot)" = "$before" ] || fail "an untrusted mirror changed the catalog"

# ---- --bundle limits the run; naming what cannot be refreshed is an error ----
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --bundle dsql --bundle byorigin
has out "refreshed 2, changed 0, failed 0, skipped 0" "--bundle: two bundles"
[ "$(grep -c '^downloading' err)" = 3 ] || fail "--bundle dsql --bundle byorigin: not 3 downloads: $(cat err)"
before=$(snapshot)
expect_rc 1 "${R[@]}" refresh --ca-file httpsca.pem --bundle local
has err "bundle 'local' cannot be refreshed: it was imported from a file" "--bundle of a file import"
expect_rc 1 "${R[@]}" refresh --ca-file httpsca.pem --bundle nosuch --bundle aws-rds
has err "there is no bundle 'nosuch'" "--bundle of a missing bundle"
hasnt err downloading "--bundle of a missing bundle downloads nothing"
[ "$(snapshot)" = "$before" ] || fail "a refused --bundle changed the catalog"
expect_rc 0 "${R[@]}" remove --bundle gone

# ---- a rotation: one CA added, one removed; --dry-run first, then for real ----
bundle 1 2 3 5 >www/rds.pem
before=$(snapshot)
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --bundle aws-rds --dry-run
has out "bundle 'aws-rds': 4 certificates (1 added, 1 removed)" "dry run: the diff"
has out "(dry run: not committed)" "dry run says so"
[ "$(snapshot)" = "$before" ] || fail "--dry-run changed the catalog"
imported=$(key_of aws-rds imported)
sleep 1
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --quiet
has out "bundle 'aws-rds': 4 certificates (1 added, 1 removed)" "rotation diff"
has out "  + $(fp 5) " "rotation: the added CA"
has out "  - $(fp 4) " "rotation: the removed CA"
has out "  scope: rds.amazonaws.com" "rotation: the scope is said"
hasnt out "[unchanged]" "--quiet prints no unchanged bundle"
hasnt out "refreshed " "--quiet prints no summary"
hasnt err downloading "--quiet prints no download lines"
[ "$(key_of aws-rds imported)" != "$imported" ] || fail "rotation: imported= not updated"
R list --bundle aws-rds --json | jq -r '.[].sha256' | sort >now.fps
for i in 1 2 3 5; do fp $i; done | sort >want.fps
cmp -s now.fps want.fps || fail "rotation: the bundle is not roots 1 2 3 5: $(cat now.fps)"
for b in narrow wide; do [ "$(count_of $b)" = 4 ] || fail "rotation: $b does not hold 4"; done
[ "$(scopes=; for b in aws-rds narrow wide dsql; do echo "$b=$(key_of $b scope)"; done)" = "$scopes" ] ||
    fail "a rotation changed a scope"
expect_rc 0 "${R[@]}" verify

# ---- refused downloads: the catalog stays byte for byte ----
refused() { # WHAT RC: refresh of aws-rds fails with RC and changes nothing
    local before
    before=$(snapshot)
    expect_rc "$2" "${R[@]}" refresh --ca-file httpsca.pem --bundle aws-rds
    [ "$(snapshot)" = "$before" ] || fail "$1: the catalog changed"
    has out "failed 1" "$1: the summary counts it"
}
# Removing exactly half is accepted; more than half is refused, naming the counts, unless forced.
bundle 1 7 >www/rds.pem
refused "three of four CAs dropped" 1
has err "bundle 'aws-rds': the download would remove more than half of it (3 of its 4 certificates removed, 1 added, 2 left)" \
    "drop most: the message"
has err "the catalog keeps the old bundle" "drop most: says the old bundle stays"
has out "  - $(fp 5) " "drop most: the refused diff is shown"
bundle 1 2 6 7 >www/rds.pem
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --bundle aws-rds
has out "(2 added, 2 removed)" "removing exactly half is accepted"
bundle 1 2 3 4 >www/rds.pem
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --bundle aws-rds
bundle 1 >www/rds.pem
refused "one CA left" 1
# Truncated (a PEM cut inside a block) and empty bodies do not parse: refused.
bundle 1 2 3 4 | head -c 1500 >www/rds.pem
refused "truncated body" 1
has err "$base/rds.pem" "truncated body: the URL is named"
: >www/rds.pem
refused "empty body" 1
printf '<html>Service Unavailable</html>\n' >www/rds.pem
refused "not a bundle" 1
# A body without any certificate (PEM of another kind): leaves the bundle empty.
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout 2>/dev/null >www/rds.pem
refused "no certificate at all" 1
# --force takes what the mirror serves.
bundle 1 >www/rds.pem
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --bundle aws-rds --force
has out "bundle 'aws-rds': 1 certificate (0 added, 3 removed)" "--force accepts the drop"
[ "$(count_of aws-rds)" = 1 ] || fail "--force: aws-rds does not hold 1 certificate"
expect_rc 0 "${R[@]}" verify

# ---- hostile origins, written by hand into a copy of the catalog: refused, never downloaded
# (each URL points at the running mirror, which would serve it) ----
hc=$tmp/hostile
cp -a "$cat" "$hc"
for b in local aws-rds narrow wide; do expect_rc 0 "$DBTRUST" --catalog "$hc" remove --bundle $b; done
setmeta() { # BUNDLE KEY VALUE
    local f=$hc/bundles/$1.meta
    "$PY" - "$f" "$2" "$3" <<'EOF'
import sys
path, key, val = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(path, "rb").read().split(b"\n")
out = [l for l in lines if l and not l.startswith(key.encode() + b"=")]
out.append(key.encode() + b"=" + val.encode("utf-8", "surrogateescape"))
open(path + ".new", "wb").write(b"\n".join(out) + b"\n")
EOF
    chmod 644 "$f.new" && mv "$f.new" "$(readlink -f "$f")"
    # dbtrust never edits a generation in place, and a commit may keep an unchanged bundle's
    # files from the generation before on the word of the writers' record (dbtrust-catalog(5)):
    # without the record, the next commit starts from this hand-made state.
    rm -f "$hc/.changes"
}
hostile() { # WHAT BUNDLE KEY VALUE [skip]: refresh refuses it (or skips it) and downloads nothing
    local keep=$hc
    cp -a "$hc" "$hc.try"
    hc=$hc.try
    setmeta "$2" "$3" "$4"
    # (another bundle's commit writes every .meta again, in dbtrust's own order)
    { cat "$hc/bundles/$2.pem"; grep '^origin=' "$hc/bundles/$2.meta"; } >hostile.before
    if [ "${5:-}" = skip ]; then
        expect_rc 0 "$DBTRUST" --catalog "$hc" refresh --ca-file httpsca.pem
        has out "bundle '$2': skipped" "$1: skipped"
    else
        expect_rc 1 "$DBTRUST" --catalog "$hc" refresh --ca-file httpsca.pem
        has err "bundle '$2' cannot be refreshed" "$1: refused, naming the bundle"
        has out "failed 1" "$1: counted as failed"
    fi
    grep -q "^downloading .*/$2" err && fail "$1: downloaded: $(grep downloading err)"
    "$PY" "$SRCDIR/tests/lib/hostile.py" scan out err >scan.log || fail "$1: $(cat scan.log)"
    { cat "$hc/bundles/$2.pem"; grep '^origin=' "$hc/bundles/$2.meta"; } | cmp -s - hostile.before ||
        fail "$1: the bundle changed"
    rm -rf "$hc"
    hc=$keep
}
esc='\x1b[2J'
hostile "an escape in a source's origin" dsql origin "$base/dsql-a.pem#$esc"
hostile "http:// with source=" dsql origin "http://localhost:$port/dsql-a.pem"
hostile "file:// with source=" dsql origin "file://$tmp/www/dsql-a.pem"
hostile "a file path with source=" dsql origin "$tmp/www/dsql-a.pem"
hostile "https then file:// with source=" dsql origin "$base/dsql-a.pem file:///etc/passwd"
hostile "two spaces" dsql origin "$base/dsql-a.pem  $base/dsql-b.pem"
hostile "nine URLs" dsql origin "$(for i in 1 2 3 4 5 6 7 8 9; do printf '%s ' "$base/dsql-a.pem"; done | sed 's/ $//')"
hostile "non-ASCII in the URL" dsql origin "$base/dsql-a.pem#é"
hostile "an escape in an https origin (no source)" byorigin origin "$base/byorigin.pem?\\x0a"
hostile "http:// (no source)" byorigin origin "http://localhost:$port/byorigin.pem" skip
hostile "file:// (no source)" byorigin origin "file://$tmp/www/byorigin.pem" skip
# A control character written raw (not by dbtrust): shown escaped, never downloaded.
hostile "a raw ESC in the origin" dsql origin $'https://localhost/\e[2J'

# ---- a plain import into a fetched bundle clears source= and refreshed=: skipped from then on
expect_rc 0 "${R[@]}" import --bundle dsql www/dsql-a.pem
[ -z "$(key_of dsql source)" ] && [ -z "$(key_of dsql refreshed)" ] ||
    fail "import kept source= or refreshed=: $(meta dsql)"
! grep -q '^source=\|^refreshed=' "$cat/bundles/dsql.meta" || fail "import wrote empty keys"
expect_rc 0 "${R[@]}" refresh --ca-file httpsca.pem --bundle byorigin
expect_rc 1 "${R[@]}" refresh --ca-file httpsca.pem --bundle dsql
has err "bundle 'dsql' cannot be refreshed: it was imported from a file" "re-imported bundle"

# ---- usage ----
expect_rc 2 "${R[@]}" refresh extra
expect_rc 2 "${R[@]}" refresh --timeout 0
expect_rc 2 "${R[@]}" refresh --bundle ../x
expect_rc 2 "${R[@]}" refresh --nosuch
expect_rc 0 "${R[@]}" refresh --help
for o in --bundle --force --dry-run --ca-file --timeout --quiet; do has out "$o" "--help lists $o"; done
has out "Exit status: 0" "--help gives the exit status"

exit $failed
