#!/usr/bin/env bash
# dbtrust.so under 16 threads of trust lookups while another process keeps swapping the
# catalog's "current" generation: every verification succeeds (both generations hold the root),
# a forked child verifies, and once the root leaves the catalog the same process stops trusting
# the chain. With DBT_PROV_VALGRIND=memcheck|helgrind the program runs under that valgrind tool
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

# Two generations, both holding the demo root, kept side by side so "current" can flip fast.
cat "$PKI/root-rsa4096.pem" "$PKI/root-ecc384.pem" >"$W/two-roots.pem"
"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" other="$PKI/other-root.pem" &&
    "$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
[ -d "$CAT/.gen-1" ] && [ -d "$CAT/.gen-2" ] || { echo "Bail out! expected .gen-1 and .gen-2"; exit 1; }

# The rewriter: atomic swaps of "current" (rename over it), as the catalog writer commits.
swapper() {
    local n=0
    while [ ! -e "$W/stop" ]; do
        ln -sfn .gen-$((n % 2 + 1)) "$CAT/.current.tmp" && mv -T "$CAT/.current.tmp" "$CAT/current"
        n=$((n + 1))
    done
    echo "$n" >"$W/swaps"
}
swapper &
swapper_pid=$!
dbt_cleanup_push "touch '$W/stop'; wait $swapper_pid 2>/dev/null"

# After the threads: stop swapping, then a generation without the root (the removal).
after="touch '$W/stop'; while [ ! -e '$W/swaps' ]; do sleep 0.1; done; \
'$MKCATALOG' '$CAT' rds='$W/two-roots.pem'"
out=$("${runner[@]}" "$prog" "$PKI/server.pem" "$PKI/intermediate.pem" "$threads" "$iterations" "$after" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
wait "$swapper_pid"
swaps=$(cat "$W/swaps" 2>/dev/null || echo 0)
label="${DBT_PROV_VALGRIND:+$DBT_PROV_VALGRIND: }$threads threads x $iterations"
if [ "$rc" = 99 ]; then
    not_ok "$label: valgrind $DBT_PROV_VALGRIND reported errors"
elif [ "$rc" != 0 ]; then
    not_ok "$label: exit status $rc"
else
    ok "$label verifications, forked child and removal behave"
fi
grep -q ": 0 failed" <<<"$out" && ok "$label: no verification failed" ||
    not_ok "$label: some verifications failed"
[ "$swaps" -gt 0 ] && ok "the catalog generation was swapped $swaps times meanwhile" ||
    not_ok "no generation swap happened while the threads ran"
grep -q "after AFTER_CMD: unable to get local issuer certificate" <<<"$out" &&
    ok "the loaded provider sees the root's removal" || not_ok "removal not seen"
dbt_prov_done
