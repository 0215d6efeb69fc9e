#!/usr/bin/env bash
# dbtrust.so on OpenSSL 3.5: builds the provider (dbtrust.so and dbtrust-store.so) inside the Debian 13 root with gcc and
# pkg-config libcrypto (as a distribution would), then runs storeutl and verify through it
# there against a catalog written on the host. Skips (77) only when not root or when the Debian
# mirror is unreachable for making the root.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR
src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$src/tests/lib/provider.sh"
. "$src/tests/lib/trixie.sh"
dbt_require_root "tests/provider-trixie.sh (a Debian 13 chroot)" || exit $?
dbt_prov_setup provider-trixie
dbt_trixie_ensure || exit $?
dbt_trixie_session || exit 1
dbt_prov_pki

# Guest view: /dbt is $DBT_TRIXIE_WORK. Sources, PKI and catalog go there.
gw=$DBT_TRIXIE_WORK
mkdir -p "$gw/src/provider" "$gw/src/lib" "$gw/mod"
cp "$src"/provider/*.c "$src"/provider/*.h "$gw/src/provider/"
# dbtrust-store.so's sources as provider/local.mk lists them (it compiles some of lib/ in), so
# that this build cannot drift from the real one.
store_srcs=$(printf 'dbt-print-srcs:\n\t@echo $(dbtrust_store_la_SOURCES)\n' |
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$DBT_PROV_BUILD" \
        -f Makefile -f - dbt-print-srcs 2>/dev/null | tail -n 1)
[ -n "$store_srcs" ] || { echo "Bail out! cannot list dbtrust-store.so's sources from $DBT_PROV_BUILD/Makefile"; exit 1; }
for f in $store_srcs; do
    mkdir -p "$gw/src/$(dirname "$f")" && cp "$src/$f" "$gw/src/$f" || exit 1
done
store_c=$(for f in $store_srcs; do case $f in *.c) printf '/dbt/src/%s ' "$f" ;; esac; done)
printf '#define PACKAGE_VERSION "test"\n#define PACKAGE_STRING "dbtrust test"\n' >"$gw/src/config.h"
cp -a "$PKI" "$gw/pki"
chmod 755 "$gw"
"$MKCATALOG" "$gw/catalog" rds="$PKI/demo-bundle.pem" other="$PKI/other-root.pem" ||
    { echo "Bail out! mkcatalog.sh failed"; exit 1; }
"$DBT_PROV_BUILD/tests/test_provider_cnf" /dbt/catalog >"$gw/openssl.cnf"

DBT_PROV_RUN=(dbt_trixie_run --env OPENSSL_CONF=/dbt/openssl.cnf --env OPENSSL_MODULES=/dbt/mod --)
expect "the Debian 13 root has OpenSSL 3.5" ok "OpenSSL 3.5." openssl version
# The two modules as provider/local.mk makes them: dbtrust.so (front.c, libc only) and the
# store code dbtrust-store.so next to it.
cflags="-std=gnu11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
cflags+=" -Wformat=2 -Wno-format-truncation -Werror -fPIC -fvisibility=hidden -shared"
cflags+=" -I/dbt/src -I/dbt/src/lib -I/dbt/src/provider"
expect "dbtrust.so builds there with -Wall -Wextra -Werror" ok "" sh -c \
    "gcc $cflags -nostartfiles -DDBT_MODULESDIR='\"/nonexistent\"' -o /dbt/mod/dbtrust.so \
        /dbt/src/provider/front.c"
expect "dbtrust-store.so builds there with -Wall -Wextra -Werror" ok "" sh -c \
    "gcc $cflags -o /dbt/mod/dbtrust-store.so $store_c \$(pkg-config --cflags --libs libcrypto)"
expect "both export only OSSL_provider_init" ok "" sh -c \
    'test "$(nm -D --defined-only /dbt/mod/dbtrust.so /dbt/mod/dbtrust-store.so |
        grep " [A-Z] " | grep -v " OSSL_provider_init$" | wc -l)" = 0'
expect "dbtrust.so does not link libcrypto" ok "" sh -c \
    '! readelf -d /dbt/mod/dbtrust.so | grep -q "NEEDED.*libcrypto"'
expect "openssl list -providers shows it active" ok "dbtrust" openssl list -providers

count() { "${DBT_PROV_RUN[@]}" openssl storeutl "$@" 2>/dev/null | grep -c 'BEGIN CERTIFICATE'; }
fp() { openssl x509 -in "$1" -noout -fingerprint "-${2:-sha256}" | sed 's/.*=//; s/://g'; }
subj() { openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'; }
r2048=$PKI/root-rsa2048.pem
expect_eq "3.5: storeutl -certs dbtrust:// lists 4" 4 "$(count -certs dbtrust://)"
expect_eq "3.5: dbtrust://rds lists 3" 3 "$(count -certs dbtrust://rds)"
expect_eq "3.5: -subject finds the root" 1 "$(count -certs -subject "$(subj "$r2048")" dbtrust://)"
expect_eq "3.5: -subject inside dbtrust://other finds nothing" 0 \
    "$(count -certs -subject "$(subj "$r2048")" dbtrust://other)"
expect_eq "3.5: -issuer -serial finds the root" 1 "$(count -certs -issuer "$(subj "$r2048")" \
    -serial "0x$(openssl x509 -in "$r2048" -noout -serial | sed 's/serial=//')" dbtrust://)"
expect_eq "3.5: -sha256 -fingerprint finds the root" 1 \
    "$(count -certs -sha256 -fingerprint "$(fp "$r2048")" dbtrust://)"
expect_eq "3.5: -sha1 -fingerprint finds the root" 1 \
    "$(count -certs -sha1 -fingerprint "$(fp "$r2048" sha1)" dbtrust://)"
expect_eq "3.5: -alias rds lists 3" 3 "$(count -certs -alias rds dbtrust://)"
expect "3.5: dbtrust:foo is refused with the right spelling" fail \
    "use dbtrust:// for the whole catalog" openssl storeutl -certs dbtrust:foo
expect "3.5: dbtrust:///x is refused with the right spelling" fail \
    "use dbtrust:// for the whole catalog" openssl storeutl -certs dbtrust:///x

chain=(-untrusted /dbt/pki/intermediate.pem /dbt/pki/server.pem)
expect "3.5: verify -CAstore dbtrust://" ok "server.pem: OK" \
    openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
expect "3.5: verify -CAstore dbtrust://other fails" fail "unable to get local issuer certificate" \
    openssl verify -no-CAfile -no-CApath -CAstore dbtrust://other "${chain[@]}"
cat "$PKI/root-rsa4096.pem" "$PKI/root-ecc384.pem" >"$W/two-roots.pem"
"$MKCATALOG" "$gw/catalog" rds="$W/two-roots.pem" || { echo "Bail out! mkcatalog.sh failed"; exit 1; }
expect "3.5: after the root is removed, verify fails" fail "unable to get local issuer certificate" \
    openssl verify -no-CAfile -no-CApath -CAstore dbtrust:// "${chain[@]}"
chmod g+w "$gw/catalog"
expect "3.5: a group-writable catalog is refused" fail "is writable by its group" \
    openssl storeutl -certs dbtrust://
dbt_prov_done
