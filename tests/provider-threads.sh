#!/usr/bin/env bash
# dbtrust.so under 16 threads of trust lookups while another process runs the real CLI in a
# loop, `dbtrust import` then `dbtrust remove` of a bundle holding a second CA: every verification
# of the demo chain succeeds (its root is in every state of the catalog), every verification of
# a leaf of the churning CA either succeeds or fails for want of its issuer (never an error, a
# crash or another failure), a forked child verifies, and once the demo root leaves the catalog
# (`dbtrust import` of its bundle without it) the same process stops trusting the chain. First,
# a store session kept open across two commits still finds the root in the generation it holds.
# With DBT_PROV_VALGRIND=memcheck|helgrind the program runs under that valgrind tool
# (fewer threads and iterations; tests/provider-helgrind.sh and provider-memcheck.sh do this).
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-threads
dbt_prov_pki

prog=$DBT_PROV_BUILD/tests/test_provider_threads
[ -x "$prog" ] || { echo "Bail out! $prog not built"; exit 1; }
threads=16 iterations=1000 runner=()
case ${DBT_PROV_VALGRIND:-} in
"") ;;
memcheck | helgrind)
    command -v valgrind >/dev/null ||
        { dbt_skip_reason "valgrind is not installed (apt-get install valgrind)"; exit 77; }
    threads=4 iterations=5
    runner=(valgrind -q --tool="$DBT_PROV_VALGRIND" --error-exitcode=99 --child-silent-after-fork=yes
        --suppressions="$src/tests/provider.supp")
    [ "$DBT_PROV_VALGRIND" = memcheck ] && runner+=(--leak-check=full --errors-for-leak-kinds=definite,indirect)
    ;;
*) echo "Bail out! DBT_PROV_VALGRIND must be memcheck or helgrind"; exit 1 ;;
esac

dbt=${DBTRUST:-$DBT_PROV_BUILD/dbtrust}
[ -x "$dbt" ] || { echo "Bail out! $dbt (the CLI) not built"; exit 1; }
cli() { "$dbt" --catalog "$CAT" "$@"; }
cli import -q --bundle rds "$PKI/demo-bundle.pem" || { echo "Bail out! dbtrust import failed"; exit 1; }

# The other process: imports and removes the bundle "churn" (the other demo root) until told to
# stop; counts full cycles, records the first CLI failure.
churner() {
    local n=0
    while [ ! -e "$W/stop" ]; do
        if ! cli import -q --bundle churn "$PKI/other-root.pem" >>"$W/churn.log" 2>&1 ||
            ! cli remove --bundle churn >>"$W/churn.log" 2>&1; then
            touch "$W/churn.failed"
            break
        fi
        n=$((n + 1))
    done
    echo "$n" >"$W/cycles"
}
churner &
churner_pid=$!
dbt_cleanup_push "touch '$W/stop'; wait $churner_pid 2>/dev/null"

# After the threads: stop the churn, then the demo root leaves the catalog (its bundle is
# imported again without it).
cat "$PKI/root-rsa4096.pem" "$PKI/root-ecc384.pem" >"$W/two-roots.pem"
after="touch '$W/stop'; while [ ! -e '$W/cycles' ]; do sleep 0.1; done; \
'$dbt' --catalog '$CAT' import -q --bundle rds '$W/two-roots.pem'"
# Two commits while a session is open: its generation must stay (the session holds it).
stale="'$dbt' --catalog '$CAT' import -q --bundle stale '$PKI/other-root.pem' && \
'$dbt' --catalog '$CAT' remove --bundle stale >/dev/null"
out=$("${runner[@]}" "$prog" -c "$PKI/other-server.pem" -s "$stale" "$PKI/server.pem" "$PKI/intermediate.pem" "$threads" "$iterations" "$after" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
touch "$W/stop" # AFTER_CMD stops the churn, but the program may have failed before running it
wait "$churner_pid"
cycles=$(cat "$W/cycles" 2>/dev/null || echo 0)
label="${DBT_PROV_VALGRIND:+$DBT_PROV_VALGRIND: }$threads threads x $iterations"
if [ "$rc" = 99 ]; then
    not_ok "$label: valgrind $DBT_PROV_VALGRIND reported errors"
elif [ "$rc" != 0 ]; then
    not_ok "$label: exit status $rc"
else
    ok "$label verifications, forked child and removal behave"
fi
grep -q ": 0 failed" <<<"$out" && ok "$label: no verification of the stable CA's chain failed" ||
    not_ok "$label: some verifications of the stable CA's chain failed"
grep -q "^churning CA: [0-9]* trusted, [0-9]* not trusted, 0 errors" <<<"$out" &&
    ok "$label: the churning CA's leaf always verified or lacked its issuer" ||
    not_ok "$label: the churning CA's leaf gave errors"
[ ! -e "$W/churn.failed" ] && ok "dbtrust import/remove never failed meanwhile" ||
    not_ok "dbtrust import/remove failed: $(tail -5 "$W/churn.log")"
[ "$cycles" -gt 0 ] && ok "dbtrust import + remove cycles meanwhile: $cycles" ||
    not_ok "no import/remove cycle completed while the threads ran"
grep -q "^stale session: [1-9][0-9]* certificate(s) found after two commits" <<<"$out" &&
    ok "a session kept open across two commits still finds the issuer" ||
    not_ok "a session lost its generation to two commits and found nothing"
grep -q "after AFTER_CMD: unable to get local issuer certificate" <<<"$out" &&
    ok "the loaded provider sees the root's removal" || not_ok "removal not seen"
dbt_prov_done
