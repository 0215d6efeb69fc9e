#!/usr/bin/env bash
# dbtrust.so costs next to nothing in a process that never opens dbtrust://: it is a front that
# imports nothing from libcrypto, and the store code (dbtrust-store.so, next to it) is loaded on
# the first dbtrust:// open only. Checks the modules' imports and exports, that `openssl version`
# and crypto through other providers never load the store code (the dynamic loader's own log), that a
# store open does, that a missing store module is an error naming it, and that the reason
# strings the store code registers itself show up in its errors.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
dbt_prov_setup provider-lazy
dbt_prov_pki
for t in readelf nm; do
    command -v $t >/dev/null || { echo "SKIP: $t (binutils) is needed to read the modules"; exit 77; }
done
mods=$OPENSSL_MODULES
front=$mods/dbtrust.so
store=$mods/dbtrust-store.so
[ -f "$store" ] || { echo "Bail out! $store not built; run make"; exit 1; }

# Imports and exports: OpenSSL dlopens modules with RTLD_NOW, so each import costs a symbol
# lookup in every process that loads the provider. A sanitizer build (make check exports
# DBTRUST_SANITIZED) adds the sanitizer runtime's imports: these counts hold for normal builds.
if [ -n "${DBTRUST_SANITIZED:-}" ]; then
    echo "# sanitizer build: dbtrust.so's import counts are checked in the normal build's pass"
else
    expect_eq "dbtrust.so needs only libc" "libc.so.6" \
        "$(readelf -d "$front" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')"
    expect_eq "dbtrust.so imports no libcrypto function" 0 \
        "$(nm -D --undefined-only "$front" | grep -c '@OPENSSL_')"
    # (__stack_chk_fail comes with -fstack-protector builds, such as Debian's hardening flags.)
    expect_eq "dbtrust.so imports at most 5 functions (dlopen, dlsym, dlerror, mutex lock/unlock)" \
        ok "$(test "$(nm -D --undefined-only "$front" | grep ' U ' | grep -vc ' __stack_chk_fail@')" -le 5 &&
            echo ok)"
    expect_eq "dbtrust.so makes no weak references (built without C runtime start files)" 0 \
        "$(nm -D "$front" | grep -c ' w ')"
fi
for m in "$front" "$store"; do
    expect_eq "$(basename "$m") exports only OSSL_provider_init" "OSSL_provider_init" \
        "$(nm -D --defined-only "$m" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | tr '\n' ' ' | sed 's/ $//')"
done

"$MKCATALOG" "$CAT" rds="$PKI/demo-bundle.pem" || { echo "Bail out! mkcatalog.sh failed"; exit 1; }

# What the dynamic loader loaded (LD_DEBUG=files names every file it maps).
loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*dynamically loaded.*/\1/p'; }
l=$(loaded openssl version)
expect_eq "openssl version loads dbtrust.so" 1 "$(grep -c '/dbtrust\.so$' <<<"$l")"
expect_eq "openssl version does not load dbtrust-store.so" 0 "$(grep -c 'dbtrust-store\.so' <<<"$l")"
# Crypto through other providers fetches algorithms from every provider, dbtrust's included.
l=$(loaded openssl dgst -sha256 "$PKI/server.pem")
expect_eq "openssl dgst does not load dbtrust-store.so" 0 "$(grep -c 'dbtrust-store\.so' <<<"$l")"
l=$(loaded openssl s_server -help)
expect_eq "openssl s_server -help does not load dbtrust-store.so" 0 \
    "$(grep -c 'dbtrust-store\.so' <<<"$l")"
l=$(loaded openssl storeutl -certs dbtrust://)
expect_eq "a dbtrust:// open loads dbtrust-store.so" 1 "$(grep -c '/dbtrust-store\.so$' <<<"$l")"
expect_eq "the store code serves the catalog" 3 "$(dbt_prov_count -certs dbtrust://)"
expect "provider parameters come from the store code" ok "name: dbtrust catalog store" \
    openssl list -providers -verbose

# The store code's error library and reason strings, registered on its first load.
expect "errors carry the dbtrust library and reason strings" any \
    ":dbtrust:dbt_store_open:no such bundle in the dbtrust catalog:" \
    openssl storeutl -certs dbtrust://nosuch

# dbtrust.so alone (a broken installation): loading it still costs nothing and breaks nothing;
# a dbtrust:// open says which file is missing.
mkdir "$W/front-only"
cp "$front" "$W/front-only/"
export OPENSSL_MODULES=$W/front-only
expect "without dbtrust-store.so, openssl version works" ok "OpenSSL" openssl version
expect "without dbtrust-store.so, the provider still loads" ok "dbtrust" openssl list -providers
expect "without dbtrust-store.so, a dbtrust:// open names the missing file" fail \
    "cannot load the provider's store code $W/front-only/dbtrust-store.so" \
    openssl storeutl -certs dbtrust://
expect "... and says what to do" fail "reinstall dbtrust" openssl storeutl -certs dbtrust://
expect "without dbtrust-store.so, verify through dbtrust:// fails cleanly" fail "" \
    openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// -untrusted "$PKI/intermediate.pem" \
    "$PKI/server.pem"
export OPENSSL_MODULES=$mods

dbt_prov_done
