#!/bin/bash
# dbtrust check for monitoring: every Prometheus output passes `promtool check metrics`; its
# values are the certificates' (notAfter as openssl prints it, seconds left around now, one
# series per bundle and certificate, the .meta's source and refreshed, the generation's time,
# the catalog's counts) and the JSON output carries the same; hostile subjects (quotes,
# backslashes, newline, CR, ESC, BEL, DEL, C1, bidi, UTF-8) stay one valid series each and
# read back as the text output shows them; each Nagios exit status 0/1/2/3 is produced (windows,
# --days as --warn, superseded certificates, --ignore-expired, missing or damaged catalogs,
# usage errors, outputs that cannot be written); --output replaces a regular file atomically and
# refuses a symbolic link, FIFO or device, keeping the old file when the write fails.
# It also runs in the sanitizer pass: check's label escaping, JSON, successor sort and atomic
# write are C code that only the CLI runs (about 15 s here, 35 s with ASan+UBSan).
set -u
. "${DBTRUST_SRCDIR:-$(dirname "$0")/..}/tests/lib/cli.sh" || exit 1
PY=$(command -v /usr/bin/python3 || command -v python3)
if ! command -v promtool >/dev/null 2>&1; then
    dbt_skip_reason "promtool is not installed (apt-get install --no-install-recommends prometheus)"
    exit 77
fi
dbt_cli_start openssl "$PY"
. "$SRCDIR/tests/lib/clipki.sh" || exit 1
H=$SRCDIR/tests/lib/hostile.py

clipki_make || {
    echo "FAIL: could not generate the test certificates"
    exit 1
}
# A renewal of old.pem (same subject and key, valid now), and a new CA with old's subject but
# another key (not a renewal).
openssl req -x509 -config clipki.cnf -extensions ca_ext -key old.key \
    -subj '/CN=Test Long Expired' -days 365 -out renewed.pem >gen.log 2>&1 &&
    openssl req -x509 -config clipki.cnf -extensions ca_ext -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
        -subj '/CN=Test Long Expired' -days 365 -out otherkey.pem >>gen.log 2>&1 || {
    cat gen.log
    echo "FAIL: could not make the renewed certificates"
    exit 1
}
# Hostile subjects: control characters, C1 and bidi controls (tests/lib/hostile.py),
# and one with quotes, backslashes, a literal "\n" and UTF-8 made by openssl itself.
q=$(printf 'Q%.0s' {1..24}) r=$(printf 'R%.0s' {1..24}) s=$(printf 'S%.0s' {1..24})
d=$(printf 'd%.0s' {1..24}) u=$(printf 'u%.0s' {1..24})
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout hkey.pem \
    -subj "/CN=$q/O=$r/OU=$s" -addext "subjectAltName=DNS:$d,URI:$u" \
    -addext "basicConstraints=critical,CA:TRUE" -days 30 -outform DER -out tpl.der \
    >>gen.log 2>&1 &&
    "$PY" "$H" cert tpl.der utf8 h1.der &&
    openssl x509 -inform DER -in h1.der -out h1.pem &&
    openssl req -x509 -utf8 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout h3.key \
        -subj '/CN=say "hi"\\ back\\slash a\\nb caf'$'\xc3\xa9'' '$'\xe6\x97\xa5' \
        -addext "basicConstraints=critical,CA:TRUE" -days 400 -out h3.pem >>gen.log 2>&1 || {
    cat gen.log
    echo "FAIL: could not make the hostile certificates"
    exit 1
}

C=$tmp/cat
imp() { "$DBTRUST" --catalog "$C" import --bundle "$@" >>imp.log 2>&1 || fail "import $*: $(tail -3 imp.log)"; }
imp good root-a.pem root-b.pem
imp mix root-a.pem soon.pem old.pem
imp ren old.pem renewed.pem
imp oldonly old.pem
imp otherkey old.pem otherkey.pem
imp hostile h1.pem h3.pem

# prom WHAT FILE: promtool accepts the exposition (its lint included).
prom() { promtool check metrics <"$2" >promtool.log 2>&1 || fail "$1: promtool: $(cat promtool.log)"; }

# metric FILE NAME LABEL=VALUE...: the value of the one sample of NAME whose labels include
# those given (the label values unescaped as the exposition format says); "none" when there is
# no such sample, "many" when several match.
metric() {
    "$PY" - "$@" <<'PYEOF'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
def labels(s):
    out, i = {}, 0
    while i < len(s):
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', s[i:])
        if not m:
            raise SystemExit("bad labels: " + s)
        key, i, val = m.group(1), i + m.end(), ""
        while s[i] != '"':
            if s[i] == "\\":
                val += {"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]]
                i += 2
            else:
                val += s[i]
                i += 1
        out[key] = val
        i += 1
        if i < len(s) and s[i] == ",":
            i += 1
    return out
found = []
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("#") or not line:
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
    if not m:
        raise SystemExit("bad sample line: " + line)
    if m.group(1) != name:
        continue
    ls = labels(m.group(2) or "")
    if all(ls.get(k) == v for k, v in want.items()):
        found.append(m.group(3))
print(found[0] if len(found) == 1 else "none" if not found else "many")
PYEOF
}
# jval FILE EXPR: a value of the JSON output (python expression over j), printed.
jval() { "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# epoch of openssl's notAfter of a PEM file
not_after() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s; }
for c in root-a root-b soon old renewed h3; do eval "fp_${c//-/_}=$(clipki_sha256 $c.pem)"; done

# ---- exit statuses: 0 OK, 1 WARNING, 2 CRITICAL ----
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle good
has out "ok: no certificate expires within 30 days" "OK status line"
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired
has out "warning: 1 expires within 30 days (1 more ignored)" "WARNING status line"
has out "expired (ignored)  mix  2020-02-01T00:00:00Z  $fp_old" "an ignored expired CA is listed"
has err "1 certificate expired or expiring within 30 days" "summary on standard error"
expect_rc 2 "$DBTRUST" --catalog "$C" check --bundle mix
has out "critical: 1 certificate expired, 1 expires within 30 days" "CRITICAL status line"
expect_rc 2 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired --crit 10
has out "critical: 1 expires within 10 days" "--crit makes an expiring CA critical"
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired --crit 2
# --days is --warn: soon.pem has 4 whole days left
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired --days 3
has out "ok: no certificate expires within 3 days (1 expired or expiring certificate ignored" \
    "OK with an ignored certificate"
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired --days 10
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired -w 3
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired -w 10
# A renewal with the same subject and key supersedes the expired CA; another key does not.
expect_rc 2 "$DBTRUST" --catalog "$C" check --bundle oldonly
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle ren
has out "expired (superseded)  ren  2020-02-01T00:00:00Z  $fp_old" "superseded CA listed"
expect_rc 2 "$DBTRUST" --catalog "$C" check --bundle otherkey
hasnt out "superseded" "a CA with the same subject and another key supersedes nothing"
# The same statuses in every format.
for fmt in json prometheus; do
    expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle good --format $fmt
    expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle mix --ignore-expired --format $fmt
    expect_rc 2 "$DBTRUST" --catalog "$C" check --bundle mix --format $fmt
    expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle ren --format $fmt
done
expect_rc 2 "$DBTRUST" --catalog "$C" check --json
[ "$(jval out 'j["status"], j["exit_status"]')" = "('critical', 2)" ] || fail "--json status: $(head -c 300 out)"

# ---- 3 UNKNOWN: the check could not run or report ----
expect_rc 3 "$DBTRUST" --catalog "$tmp/none" check
has out "unknown: catalog $tmp/none does not exist" "missing catalog: the status line says why"
expect_rc 3 "$DBTRUST" --catalog "$C" check --bundle nosuch
has err "no bundle named 'nosuch'" "missing bundle"
for bad in "--bogus" "--days -1" "--warn x" "--crit" "--format xml" "extra"; do
    # shellcheck disable=SC2086
    expect_rc 3 "$DBTRUST" --catalog "$C" check $bad
done
has err "check takes no arguments ('extra')" "an argument is a usage error"
expect_rc 0 "$DBTRUST" --catalog "$C" check --help
has out "3  UNKNOWN" "--help documents the exit statuses"
expect_rc 3 "$DBTRUST" --catalog "$tmp/none" check --format prometheus
prom "missing catalog" out
[ "$(metric out dbtrust_check_success)" = 0 ] || fail "missing catalog: dbtrust_check_success is not 0"
[ "$(metric out dbtrust_check_status)" = 3 ] || fail "missing catalog: dbtrust_check_status is not 3"
[ "$(metric out dbtrust_catalog_bundles)" = none ] || fail "missing catalog: values written anyway"
expect_rc 3 "$DBTRUST" --catalog "$tmp/none" check --json
[ "$(jval out 'j["check_success"], j["status"], "does not exist" in j["error"]')" = \
    "(False, 'unknown', True)" ] || fail "missing catalog JSON: $(cat out)"
# A damaged certificate file (a copy of the catalog, one file rewritten with another's bytes).
cp -a "$C" "$tmp/damaged"
gd=$tmp/damaged/$(readlink "$tmp/damaged/current")
chmod u+w "$gd/certs" && cp "$gd/certs/$fp_root_b.pem" "$gd/certs/$fp_root_a.pem.new" &&
    mv "$gd/certs/$fp_root_a.pem.new" "$gd/certs/$fp_root_a.pem" && chmod 755 "$gd/certs"
expect_rc 3 "$DBTRUST" --catalog "$tmp/damaged" check --bundle good
has err "verify' checks the whole catalog" "damaged catalog: says what to run"
# Standard output that cannot be written.
if [ -w /dev/full ]; then
    "$DBTRUST" --catalog "$C" check --bundle good --format prometheus >/dev/full 2>err
    rc=$?
    [ $rc = 3 ] || fail "check >/dev/full exited $rc, expected 3"
    has err "writing standard output: No space left on device" "check >/dev/full"
fi

# ---- Prometheus values ----
expect_rc 2 "$DBTRUST" --catalog "$C" check --format prometheus
cp out all.prom
prom "whole catalog" all.prom
t0=$(date +%s)
expect_rc 2 "$DBTRUST" --catalog "$C" check --format prometheus
t1=$(date +%s)
cp out now.prom
na=$(not_after root-a.pem)
for b in good mix; do
    v=$(metric all.prom dbtrust_certificate_not_after_timestamp_seconds bundle=$b sha256="$fp_root_a" \
        subject="CN=Test Root A,O=dbtrust test,C=US")
    [ "$v" = "$na" ] || fail "root-a in $b: not after $v, openssl says $na"
done
left=$(metric now.prom dbtrust_certificate_expiry_seconds bundle=good sha256="$fp_root_a")
[ "$left" -ge $((na - t1)) ] && [ "$left" -le $((na - t0)) ] ||
    fail "root-a: $left seconds left, expected $((na - t1))..$((na - t0))"
left=$(metric now.prom dbtrust_certificate_expiry_seconds bundle=mix sha256="$fp_old")
[ "$left" -le $(($(not_after old.pem) - t0)) ] && [ "$left" -lt 0 ] ||
    fail "old: $left seconds left, expected negative and about $(($(not_after old.pem) - t0))"
[ "$(metric all.prom dbtrust_certificate_not_after_timestamp_seconds sha256="$fp_soon")" = \
    "$(not_after soon.pem)" ] || fail "soon: notAfter differs from openssl's"
# one series per (bundle, certificate): root-a is in good and mix, old in four bundles
[ "$(grep -c "^dbtrust_certificate_expiry_seconds{.*sha256=\"$fp_root_a\"" all.prom)" = 2 ] ||
    fail "root-a is not one series per bundle"
[ "$(grep -c "^dbtrust_certificate_not_after_timestamp_seconds{.*sha256=\"$fp_old\"" all.prom)" = 4 ] ||
    fail "old is not one series per bundle"
[ "$(metric all.prom dbtrust_certificate_superseded bundle=ren sha256="$fp_old")" = 1 ] ||
    fail "old in ren is not marked superseded"
[ "$(metric all.prom dbtrust_certificate_superseded bundle=otherkey sha256="$fp_old")" = 0 ] ||
    fail "old in otherkey is marked superseded"
[ "$(metric all.prom dbtrust_check_status)" = 2 ] || fail "dbtrust_check_status is not 2"
[ "$(metric all.prom dbtrust_check_success)" = 1 ] || fail "dbtrust_check_success is not 1"
[ "$(metric all.prom dbtrust_catalog_bundles)" = 6 ] || fail "dbtrust_catalog_bundles is not 6"
n=$("$DBTRUST" --catalog "$C" list --json | "$PY" -c 'import json, sys; print(len({c["sha256"] for c in json.load(sys.stdin)}))')
[ "$(metric all.prom dbtrust_catalog_certificates)" = "$n" ] || fail "dbtrust_catalog_certificates is not $n"
[ "$(metric all.prom dbtrust_bundle_certificates bundle=mix)" = 3 ] || fail "mix does not count 3 certificates"
gen=$(readlink "$C/current")
[ "$(metric all.prom dbtrust_catalog_generation_timestamp_seconds)" = "$(stat -c %Y "$C/$gen")" ] ||
    fail "generation time is not $C/$gen's modification time"
[ "$(metric all.prom dbtrust_catalog_generation)" = "${gen#.gen-}" ] || fail "generation number"
[ "$(metric all.prom dbtrust_bundle_info bundle=good source= scope=)" = 1 ] || fail "bundle_info of good"
imported=$(sed -n 's/^imported=//p' "$C/bundles/good.meta")
[ "$(metric all.prom dbtrust_bundle_imported_timestamp_seconds bundle=good)" = \
    "$(date -u -d "$imported" +%s)" ] || fail "good: imported time is not the .meta's $imported"
[ "$(metric all.prom dbtrust_bundle_refreshed_timestamp_seconds bundle=good)" = none ] ||
    fail "good was never refreshed, yet has a refreshed time"
# --bundle: only that bundle's series, the catalog's counts unchanged
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle good --format prometheus
prom "--bundle good" out
grep -q 'bundle="mix"' out && fail "--bundle good: mix's series written"
[ "$(metric out dbtrust_catalog_bundles)" = 6 ] || fail "--bundle good: catalog count changed"

# ---- source= and refreshed= of a .meta (a copy of the catalog, accepted by verify) ----
cp -a "$C" "$tmp/src"
m=$tmp/src/$(readlink "$tmp/src/current")/bundles/good.meta
printf 'source=aws-rds\nrefreshed=2026-01-02T03:04:05Z\n' >>"$m"
expect_rc 0 "$DBTRUST" --catalog "$tmp/src" verify
expect_rc 0 "$DBTRUST" --catalog "$tmp/src" check --bundle good --format prometheus
prom "source and refreshed" out
[ "$(metric out dbtrust_bundle_info bundle=good source=aws-rds scope=)" = 1 ] ||
    fail "bundle_info does not carry source=aws-rds: $(grep bundle_info out)"
[ "$(metric out dbtrust_bundle_refreshed_timestamp_seconds bundle=good)" = \
    "$(date -u -d 2026-01-02T03:04:05Z +%s)" ] || fail "refreshed time is not the .meta's"
expect_rc 0 "$DBTRUST" --catalog "$tmp/src" check --bundle good --format json
[ "$(jval out 'j["bundles"][0]["source"], j["bundles"][0]["refreshed"], j["bundles"][0]["refreshed_timestamp"]')" = \
    "('aws-rds', '2026-01-02T03:04:05Z', $(date -u -d 2026-01-02T03:04:05Z +%s))" ] ||
    fail "JSON source/refreshed: $(head -c 600 out)"
# A refreshed time not in dbtrust's form: the check cannot trust the catalog.
sed -i 's/^refreshed=.*/refreshed=yesterday/' "$m"
expect_rc 3 "$DBTRUST" --catalog "$tmp/src" check --bundle good --format prometheus
prom "bad refreshed" out

# ---- JSON: the same facts as the metrics ----
expect_rc 2 "$DBTRUST" --catalog "$C" check --format json
cp out all.json
"$PY" -m json.tool all.json >/dev/null || fail "check --format json is not JSON"
"$PY" - all.json all.prom <<'PYEOF' >cmp.log 2>&1 || fail "JSON and metrics differ: $(cat cmp.log)"
import json, re, sys
j = json.load(open(sys.argv[1]))
prom = {}
for line in open(sys.argv[2], encoding="utf-8"):
    m = re.match(r'(dbtrust_certificate_\w+)\{bundle="([^"]*)",sha256="([0-9a-f]{64})",subject=".*"\} (\S+)$', line)
    if m:
        prom[(m.group(1), m.group(2), m.group(3))] = int(m.group(4))
assert len(j["certificates"]) == len(prom) // 3, (len(j["certificates"]), len(prom))
# Each output counts seconds left from its own check's time: the same for all its certificates.
ptime = set()
for c in j["certificates"]:
    k = (c["bundle"], c["sha256"])
    na = prom[("dbtrust_certificate_not_after_timestamp_seconds",) + k]
    assert na == c["not_after_timestamp"], k
    assert c["not_after_timestamp"] - c["seconds_left"] == j["time"], k
    ptime.add(na - prom[("dbtrust_certificate_expiry_seconds",) + k])
    assert prom[("dbtrust_certificate_superseded",) + k] == int(c["superseded"]), k
assert len(ptime) == 1 and 0 <= j["time"] - ptime.pop() < 600, ptime
assert j["catalog"]["bundles"] == 6 and j["status"] == "critical" and j["check_success"] is True
PYEOF

# ---- hostile subjects: one valid series each, read back as the text output shows them ----
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle hostile --format prometheus
cp out hostile.prom
prom "hostile subjects" hostile.prom
"$PY" "$H" scan hostile.prom >scan.log || fail "hostile metrics: $(cat scan.log)"
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle hostile --format json
cp out hostile.json
"$PY" "$H" scan hostile.json >scan.log || fail "hostile JSON: $(cat scan.log)"
expect_rc 1 "$DBTRUST" --catalog "$C" check --bundle hostile --days 1000
"$PY" "$H" scan out >scan.log || fail "hostile text: $(cat scan.log)"
for f in h1 h3; do
    fp=$(clipki_sha256 $f.pem)
    for name in dbtrust_certificate_not_after_timestamp_seconds dbtrust_certificate_expiry_seconds \
        dbtrust_certificate_superseded; do
        [ "$(grep -c "^$name{bundle=\"hostile\",sha256=\"$fp\"" hostile.prom)" = 1 ] ||
            fail "$f: not one $name series"
    done
    subj=$(jval hostile.json "[c['subject'] for c in j['certificates'] if c['sha256'] == '$fp'][0]")
    grep -qF "  $fp  $subj" out || fail "$f: JSON subject '$subj' is not the text output's"
    [ "$(metric hostile.prom dbtrust_certificate_not_after_timestamp_seconds sha256="$fp" subject="$subj")" = \
        "$(not_after $f.pem)" ] || fail "$f: the subject label does not read back as '$subj'"
done
# OpenSSL's RFC 2253 form shows the subject as CN=say \"hi\"\\ back\\slash a\\nb (the text output's),
# and the label escapes each of those backslashes and quotes once more.
grep -qF 'subject="CN=say \\\"hi\\\"\\\\ back\\\\slash a\\\\nb caf'$'\xc3\xa9'' '$'\xe6\x97\xa5''"' hostile.prom ||
    fail "quotes, backslashes and UTF-8 not escaped as the exposition format says: $(grep "$fp_h3" hostile.prom | head -1)"
grep -qF 'CN=\\x1b[31mRED\\x07\\x0d\\x0a\\x7f\\xc2\\x9b2J\\xe2\\x80\\xae' hostile.prom ||
    fail "control characters not escaped for display, then for the label"

# ---- --output ----
expect_rc 2 "$DBTRUST" --catalog "$C" check --format prometheus --output o.prom
[ -s o.prom ] && [ ! -s out ] || fail "--output: not written to the file alone"
prom "--output" o.prom
[ "$(stat -c %a o.prom)" = 644 ] || fail "--output: mode $(stat -c %a o.prom), expected 644"
ino=$(stat -c %i o.prom)
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle good --format prometheus --output o.prom
[ "$(stat -c %i o.prom)" != "$ino" ] || fail "--output: the file was rewritten in place, not renamed over"
grep -q 'bundle="mix"' o.prom && fail "--output: the old content is still there"
ls -A | grep -q '^\.o\.prom\.tmp' && fail "--output: a temporary file was left"
expect_rc 0 "$DBTRUST" --catalog "$C" check --bundle good --output - --format json
"$PY" -m json.tool out >/dev/null || fail "--output -: standard output is not the JSON"
# refused: a symbolic link (to a file or nowhere), a FIFO, a device, a directory
echo keep >target
ln -s target link.prom
ln -s nowhere dangling.prom
mkfifo fifo.prom
expect_rc 3 "$DBTRUST" --catalog "$C" check --format prometheus --output link.prom
has err "link.prom" "symlink refusal names the path"
has err "symbolic link" "symlink refusal says what it is"
[ -L link.prom ] && [ "$(cat target)" = keep ] || fail "--output to a symlink changed it or its target"
expect_rc 3 "$DBTRUST" --catalog "$C" check --format prometheus --output dangling.prom
[ -L dangling.prom ] && [ ! -e nowhere ] || fail "--output to a dangling symlink wrote through it"
DBT_CLI_TIMEOUT=20 expect_rc 3 "$DBTRUST" --catalog "$C" check --format prometheus --output fifo.prom
has err "FIFO" "FIFO refusal says what it is"
[ -p fifo.prom ] || fail "--output replaced the FIFO"
if mknod dev.prom c 1 3 2>/dev/null; then
    expect_rc 3 "$DBTRUST" --catalog "$C" check --format prometheus --output dev.prom
    has err "character device" "device refusal says what it is"
    [ -c dev.prom ] || fail "--output replaced the device node"
fi
mkdir dir.prom
expect_rc 3 "$DBTRUST" --catalog "$C" check --format prometheus --output dir.prom
expect_rc 3 "$DBTRUST" --catalog "$C" check --format prometheus --output "$tmp/no/such/dir.prom"
# A missing catalog still writes its result: Prometheus sees the failure, not stale values.
expect_rc 3 "$DBTRUST" --catalog "$tmp/none" check --format prometheus --output o.prom
[ "$(metric o.prom dbtrust_check_success)" = 0 ] || fail "--output of a failed check: $(cat o.prom)"
# A write that fails (a full file system): exit 3, the old file kept, no temporary file left.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
    mkdir full
    cp all.prom full/keep.prom
    unshare -m sh -c '
        mount -t tmpfs -o size=64k tmpfs full || exit 77
        cp all.prom full/o.prom || exit 1
        dd if=/dev/zero of=full/fill bs=4k 2>/dev/null
        "$0" --catalog "$1" check --format prometheus --output full/o.prom >out 2>err
        echo $? >rc
        cmp -s all.prom full/o.prom || echo changed >>rc
        ls -A full | grep -c "^\.o\.prom\.tmp" >>rc
        exit 0
    ' "$DBTRUST" "$C"
    case $? in
    77) echo "# skipped the full file system case: cannot mount a tmpfs here" ;;
    0)
        [ "$(cat rc | tr '\n' ' ')" = "3 0 " ] ||
            fail "--output on a full file system: exit, changed, temporaries: $(cat rc | tr '\n' ' ') ($(cat err))"
        has err "nothing was written, the old file is kept" "full file system message"
        ;;
    *) fail "the full file system case did not run: $(cat err 2>/dev/null)" ;;
    esac
else
    echo "# skipped the full file system case: needs root and unshare"
fi

exit $failed
