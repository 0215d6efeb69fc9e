#!/usr/bin/env bash
# A dbtrust:// store kept open across commits reads the generation it opened, whole: 300
# certificates, 10 read, then 2, 5 and 50 commits (the first removes them all from the
# catalog), then the rest read with no error, and subject searches set before and after the
# commits find their certificates (tests/test_provider_keepopen.c); afterwards the writer
# removes the generation the stores held.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-keepopen

prog=$DBT_PROV_BUILD/tests/test_provider_keepopen
dbt=${DBTRUST:-$DBT_PROV_BUILD/dbtrust}
[ -x "$prog" ] || { echo "Bail out! $prog not built"; exit 1; }
[ -x "$dbt" ] || { echo "Bail out! $dbt (the CLI) not built"; exit 1; }

out=$(timeout 300 "${DBT_PROV_WRAP[@]}" "$prog" "$dbt" "$CAT" "$W" 300 2 5 50 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
if [ $rc = 0 ] && grep -q "^all held" <<<"$out"; then
    ok "stores kept open across 2, 5 and 50 commits return their whole generation"
else
    not_ok "a store kept open across commits lost certificates or raised errors (exit status $rc)"
fi
if [ "$(grep -c '^# [12] generations after closing' <<<"$out")" = 3 ]; then
    ok "the held generations are removed by the first commit after the stores close"
else
    not_ok "held generations were not removed once the stores closed"
fi
dbt_prov_done
