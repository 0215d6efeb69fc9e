# psql 17 (libpq 17, which has sslrootcert=system) on the HOST's OpenSSL 3.0, from binary packages
# only: Debian 13's own psql 17, in the cached Debian 13 root (tests/lib/trixie.sh), run by
# tests/lib/ossl30-run with the host's libssl.so.3/libcrypto.so.3 first on its library path and
# the host's trust store (/etc/ssl, OPENSSLDIR, the CA trees, /etc/dbtrust) bound over the root's.
# Usage (bash, as root): . tests/lib/libpq17.sh; dbt_libpq17_ensure || exit $?; "$DBT_PSQL17" ...
# Sets DBT_PSQL17 (an executable: psql's pid is the one it starts with). Returns 77 (with the
# reason) when not root or when the Debian mirror is unreachable for a first build of the root.
# dbt_libpq17_proof proves that a connected psql really is that route (tests use it).

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=tests/lib/trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/trixie.sh"

DBT_LIBPQ17_RUNNER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ossl30-run

# Writes the psql wrapper into the cache (replaced atomically, so parallel tests never see half a
# file) and sets DBT_PSQL17.
dbt_libpq17_ensure() {
    local cache wrapper tmp
    dbt_trixie_ensure || return $?
    cache=$(dbt_cache_dir) || return 1
    [ -x "$DBT_LIBPQ17_RUNNER" ] ||
        { dbt_error "$DBT_LIBPQ17_RUNNER is missing or not executable"; return 1; }
    wrapper=$cache/bin/psql17-ossl30
    mkdir -p "$cache/bin" || return 1
    tmp=$(mktemp "$wrapper.XXXXXX") || return 1
    printf '#!/bin/sh\n# psql 17 of %s on the host OpenSSL (%s)\nexec %q %q /usr/lib/postgresql/17/bin/psql "$@"\n' \
        "$DBT_TRIXIE_ROOT" "$DBT_LIBPQ17_RUNNER" "$DBT_LIBPQ17_RUNNER" "$DBT_TRIXIE_ROOT" >"$tmp" &&
        chmod 755 "$tmp" && mv -f "$tmp" "$wrapper" ||
        { rm -f "$tmp"; dbt_error "cannot write $wrapper"; return 1; }
    DBT_PSQL17=$wrapper
    export DBT_PSQL17
}

# dbt_libpq17_proof PSQL CONNINFO: connects with PSQL (run as it is, so through whatever wrapper
# or environment the caller set up) and, while connected, reads the maps of the psql process
# itself and what it sees of the trust store (psql's `\!` runs a shell whose parent is psql).
# Succeeds, printing what it found, only when:
# - the process maps libpq 17, and exactly one libcrypto.so.3 and one libssl.so.3, each the very
#   file (device and inode) that this host's own `openssl` program loads, and that says 3.0;
# - /etc/ssl/certs, OPENSSLDIR, /usr/share/ca-certificates and /usr/local/share/ca-certificates
#   as psql sees them are the host's own directories (device and inode; in a test's mount
#   namespace, the copies mounted there).
# A psql that ran on the root's OpenSSL 3.5, or read the root's trust store, fails this.
dbt_libpq17_proof() {
    local psql=$1 conn=$2 out lib host dev ino n mdev mino mpath ossldir d o want='' got
    ossldir=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')
    local dirs=(/etc/ssl/certs "$ossldir" /usr/share/ca-certificates /usr/local/share/ca-certificates)
    for d in "${dirs[@]}"; do want+="store $d $(stat -L -c '%d:%i' "$d")"$'\n'; done
    out=$("$psql" -X -A -t -c 'select 1' -c '\! cat /proc/$PPID/maps' \
        -c "\\! for d in ${dirs[*]}; do echo store \$d \$(stat -L -c %d:%i \$d); done" \
        "$conn" 2>&1) || {
        echo "psql could not connect: $(head -n 3 <<<"$out")"
        return 1
    }
    openssl version | grep -q '^OpenSSL 3\.0\.' ||
        { echo "the host's openssl is not 3.0: $(openssl version)"; return 1; }
    grep -q 'libpq\.so\.5\.17' <<<"$out" ||
        { echo "the psql process does not map libpq.so.5.17"; return 1; }
    for lib in libcrypto.so.3 libssl.so.3; do
        # The first openssl on PATH that is a dynamic executable: a sanitizer build's tests put
        # a wrapper script first.
        host=
        for o in $(type -ap openssl); do
            host=$(ldd "$o" 2>/dev/null | awk -v l="$lib" '$1 == l { print $3; exit }')
            [ -n "$host" ] && break
        done
        [ -n "$host" ] || { echo "no openssl on PATH loads $lib"; return 1; }
        host=$(readlink -f "$host")
        dev=$(stat -L -c '%Hd:%Ld' "$host") ino=$(stat -L -c '%i' "$host")
        # /proc/PID/maps: address perms offset dev(hex major:minor) inode path
        n=$(awk -v l="/$lib" '{ i = index($6, l) } i && i + length(l) - 1 == length($6) { print $4, $5, $6 }' \
            <<<"$out" | sort -u)
        if [ -z "$n" ] || [ "$(wc -l <<<"$n")" != 1 ]; then
            echo "the psql process maps $(grep -c . <<<"$n") different $lib files: $n"
            return 1
        fi
        read -r mdev mino mpath <<<"$n"
        if [ "$((16#${mdev%%:*})):$((16#${mdev#*:}))" != "$dev" ] || [ "$mino" != "$ino" ]; then
            echo "the psql process maps $mpath (dev $mdev, inode $mino), not the host's $host" \
                "(dev $dev, inode $ino)"
            return 1
        fi
        echo "psql maps the host's $host as $mpath (inode $ino)"
    done
    got=$(grep '^store ' <<<"$out")
    if [ "$got" != "${want%$'\n'}" ]; then
        echo "psql does not see the host's trust store: it sees"$'\n'"$got"$'\n'"the host has"$'\n'"$want"
        return 1
    fi
    echo "psql sees the host's trust store: ${dirs[*]}"
}
