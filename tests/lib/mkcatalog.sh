#!/usr/bin/env bash
# Writes a dbtrust catalog exactly as lib/catalog.h lays it out, with openssl(1) only, so the
# provider tests do not depend on the CLI's writer. Each call builds a complete new generation
# from the bundles given and swaps "current" atomically, like the real writer.
# Usage: mkcatalog.sh CATALOG [NAME=BUNDLE.pem ...]     (no bundle: an empty generation)
set -euo pipefail

die() { printf 'mkcatalog: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: mkcatalog.sh CATALOG [NAME=BUNDLE.pem ...]"
cat=$1
shift
umask 022
mkdir -p "$cat"
chmod 755 "$cat"

last=0
for g in "$cat"/.gen-*; do
    [ -d "$g" ] || continue
    n=${g##*/.gen-}
    [ "$n" -gt "$last" ] && last=$n
done
gen=.gen-$((last + 1))
work=$(mktemp -d "$cat/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/$gen/certs" "$work/$gen/bundles" "$work/split"
declare -A bundles_of=() written=()

for arg in "$@"; do
    name=${arg%%=*}
    file=${arg#*=}
    [ "$name" != "$arg" ] || die "argument '$arg' is not NAME=FILE"
    [[ $name =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$ ]] || die "bad bundle name '$name'"
    [ -r "$file" ] || die "cannot read $file"
    rm -f "$work/split"/*
    awk -v dir="$work/split" '
        /^-----BEGIN CERTIFICATE-----/ { n++; out = sprintf("%s/%06d.pem", dir, n) }
        out != "" { print > out }
        /^-----END CERTIFICATE-----/ { close(out); out = "" }
    ' "$file"
    # The same NAME given twice adds to one bundle.
    [ -n "${written[$name]:-}" ] || : >"$work/$gen/bundles/$name.pem"
    written[$name]=1
    for one in "$work/split"/*.pem; do
        [ -e "$one" ] || die "$file has no certificate"
        openssl x509 -in "$one" -out "$work/canon.pem"
        sha=$(openssl x509 -in "$work/canon.pem" -outform DER | sha256sum | cut -c1-64)
        cat "$work/canon.pem" >>"$work/$gen/bundles/$name.pem"
        cp "$work/canon.pem" "$work/$gen/certs/$sha.pem"
        case ",${bundles_of[$sha]:-}," in
        *",$name,"*) ;;
        *) bundles_of[$sha]=${bundles_of[$sha]:+${bundles_of[$sha]},}$name ;;
        esac
    done
    printf 'origin=%s\ncount=%s\n' "$file" "$(ls "$work/split" | wc -l)" \
        >"$work/$gen/bundles/$name.meta"
done

# The index and the openssl-rehash links, one pass over the distinct certificates.
{
    echo "dbtrust-index 1"
    for sha in $(printf '%s\n' "${!bundles_of[@]}" | sort); do
        f=$work/$gen/certs/$sha.pem
        out=$(openssl x509 -in "$f" -noout -serial -subject_hash -issuer_hash -sha1 -fingerprint)
        serial=$(sed -n 's/^serial=//p' <<<"$out")
        serial=$(sed -E 's/^(-?)0+([0-9A-F])/\1\2/' <<<"$serial")
        shash=$(sed -n 2p <<<"$out")
        ihash=$(sed -n 3p <<<"$out")
        sha1=$(sed -n 's/^.*Fingerprint=//p' <<<"$out" | tr -d : | tr 'A-F' 'a-f')
        # BN_bn2hex prints whole bytes: keep an even number of digits.
        digits=${serial#-}
        [ $((${#digits} % 2)) -eq 1 ] && [ "$digits" != 0 ] && serial=${serial%"$digits"}0$digits
        echo "$sha $sha1 $shash $ihash $serial ${bundles_of[$sha]}"
        n=0
        while [ -e "$work/$gen/certs/$shash.$n" ] || [ -L "$work/$gen/certs/$shash.$n" ]; do
            n=$((n + 1))
        done
        ln -s "$sha.pem" "$work/$gen/certs/$shash.$n"
    done
} >"$work/$gen/certs/index"

mv "$work/$gen" "$cat/$gen"
ln -s "$gen" "$work/current"
mv -T "$work/current" "$cat/current"
[ -L "$cat/certs" ] || ln -s current/certs "$cat/certs"
[ -L "$cat/bundles" ] || ln -s current/bundles "$cat/bundles"
# One older generation stays for readers that resolved "current" just before the swap.
for g in "$cat"/.gen-*; do
    n=${g##*/.gen-}
    [ "$n" -lt "$last" ] && rm -rf "$g"
done
exit 0
