#!/usr/bin/env bash
# No lost update, no failed reader: 8 `dbtrust import`/`dbtrust remove` processes run at once
# on one catalog, each on its own bundles, for several rounds. At the end the catalog holds
# exactly every writer's last change (bundle list and index both equal the expected set, and
# OpenSSL's hashed-directory check agrees), and meanwhile readers in other processes (the
# provider through openssl storeutl -subject, and openssl verify -CApath on the hashed view)
# never failed to find a CA that was in the catalog for the whole run.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR DBTRUST_CATALOG OPENSSL_CONF
export LC_ALL=C
build=${DBTRUST_BUILDDIR:-$PWD}
DBTRUST=${DBTRUST:-$build/dbtrust}
export OPENSSL_MODULES=${OPENSSL_MODULES:-$build/.libs}
catview=$build/tests/catview_tool
writers=8 rounds=${DBT_ROUNDS:-4}
[ -x "$catview" ] || { echo "Bail out! $catview not built; run make check"; exit 1; }

w=$(mktemp -d "${TMPDIR:-/tmp}/dbt-concurrent.XXXXXX") || exit 1
trap 'touch "$w/stop"; wait; rm -rf "$w"' EXIT
chmod 755 "$w"
mkca() {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "/O=dbtrust concurrency test/CN=$1" -days 30 \
        -addext basicConstraints=critical,CA:TRUE -out "$w/$1.pem" 2>/dev/null ||
        { echo "Bail out! cannot make $1"; exit 1; }
}
mkca stable
for ((i = 0; i < writers; i++)); do mkca "keep$i"; mkca "flip$i"; done
export DBTRUST_CATALOG=$w/cat
"$DBTRUST" import -q --bundle stable "$w/stable.pem" || { echo "Bail out! first import"; exit 1; }
# Opt-in, by hand: DBT_CW_BUNDLES=N first fills the catalog with N more bundles of 3 CAs each
# (bench/catalog-bench, built by make), to run the same checks at a large size.
fill=${DBT_CW_BUNDLES:-0} filler=""
[ "$fill" = 0 ] || "$build/bench/catalog-bench" build "$DBTRUST_CATALOG" "$fill" ||
    { echo "Bail out! cannot add $fill bundles"; exit 1; }
for ((i = 0; i < fill; i++)); do filler="$filler $(printf 'b%05d' "$i")"; done
"$build/tests/test_provider_cnf" "$DBTRUST_CATALOG" >"$w/openssl.cnf"

# Readers: until told to stop, look up the stable CA by subject through the provider, and
# verify it through the hashed directory; count lookups and failures.
reader() {
    local n=0 bad=0 out
    while [ ! -e "$w/stop" ]; do
        out=$(OPENSSL_CONF=$w/openssl.cnf openssl storeutl -certs \
            -subject "/O=dbtrust concurrency test/CN=stable" dbtrust:// 2>&1)
        if [ "$(grep -c 'BEGIN CERTIFICATE' <<<"$out")" != 1 ] || grep -qi error <<<"$out"; then
            bad=$((bad + 1))
            echo "provider lookup $n failed: $out" >>"$w/reader.err"
        fi
        out=$(openssl verify -CApath "$DBTRUST_CATALOG/certs" "$w/stable.pem" 2>&1) || {
            bad=$((bad + 1))
            echo "hashed-directory lookup $n failed: $out" >>"$w/reader.err"
        }
        n=$((n + 1))
    done
    echo "$n $bad" >"$w/reader.count"
}
reader &
rpid=$!

# Writer i: each round imports keep<i> (again) and toggles flip<i>; even writers end with
# flip<i> present, odd ones with it removed. Every command must succeed.
writer() {
    local i=$1 r
    for ((r = 0; r < rounds; r++)); do
        "$DBTRUST" import -q --bundle "keep$i" "$w/keep$i.pem" || echo "writer $i round $r: import keep$i failed" >>"$w/writer.err"
        "$DBTRUST" import -q --bundle "flip$i" "$w/flip$i.pem" || echo "writer $i round $r: import flip$i failed" >>"$w/writer.err"
        if [ $((i % 2)) = 1 ] || [ $r -lt $((rounds - 1)) ]; then
            "$DBTRUST" remove --bundle "flip$i" >/dev/null || echo "writer $i round $r: remove flip$i failed" >>"$w/writer.err"
        fi
    done
}
pids=()
for ((i = 0; i < writers; i++)); do
    writer "$i" 2>>"$w/writer.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
touch "$w/stop"
wait "$rpid"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
if [ -s "$w/writer.err" ]; then not_ok "writers: $(cat "$w/writer.err")"
else ok "$writers writers x $rounds rounds: every import and remove succeeded ($((writers * rounds * 2 + writers * rounds - writers / 2)) commands)"; fi

expected="stable$filler"
for ((i = 0; i < writers; i++)); do
    expected="$expected keep$i"
    [ $((i % 2)) = 0 ] && expected="$expected flip$i"
done
expected=$(tr ' ' '\n' <<<"$expected" | sort | tr '\n' ' ')
got=$(cd "$DBTRUST_CATALOG/bundles" && ls *.pem | sed 's/\.pem$//' | sort | tr '\n' ' ')
[ "$got" = "$expected" ] && ok "bundles are exactly the expected set ($(wc -w <<<"$got"))" ||
    not_ok "bundles: got '$got', wanted '$expected'"
# The index names each certificate's bundle: the same set, each certificate once.
ncerts=$(($(wc -w <<<"$expected") + 2 * fill))
got=$(tail -n +2 "$DBTRUST_CATALOG/certs/index" | awk '{print $6}' | tr ',' '\n' | sort | tr '\n' ' ')
# (a filler bundle is named once per certificate: 3 times)
[ "$fill" = 0 ] || expected=$(tr ' ' '\n' <<<"$expected$filler$filler" | sed '/^$/d' | sort | tr '\n' ' ')
[ "$got" = "$expected" ] && ok "the index lists exactly the expected bundles" ||
    not_ok "index bundles: got '$got', wanted '$expected'"
n=$("$catview" "$DBTRUST_CATALOG" 2>&1)
[ "$n" = "$ncerts" ] && ok "OpenSSL's view of the hashed directory: $n certificates" ||
    not_ok "catview_tool: $n (wanted $ncerts)"
out=$("$DBTRUST" list 2>&1) && ok "dbtrust list reads the result" || not_ok "dbtrust list: $out"

read -r lookups bad <"$w/reader.count"
if [ "$bad" = 0 ] && [ "$lookups" -gt 0 ]; then
    ok "reader: $lookups provider and hashed-directory lookup pairs during the run, none failed"
else
    not_ok "reader: $bad of $lookups lookup pairs failed: $(head -5 "$w/reader.err" 2>/dev/null)"
fi
echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
