# Builds libpq 17 and psql from Debian 13's postgresql-17 source against the HOST's OpenSSL, so
# that sslrootcert=system (libpq 16+) can be tested on OpenSSL 3.0. Cached in $DBTRUST_CACHE.
# Usage (bash): . tests/lib/libpq17.sh; dbt_libpq17_ensure || exit $?; "$DBT_PSQL17" ...
# Sets DBT_LIBPQ17_PREFIX and DBT_PSQL17. Returns 77 (with the reason) when not root on a first
# build or when the Debian mirror is unreachable; 1 with the log's tail on any other failure.

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Private apt state: the machine's own sources and lists are never read or written.
dbt_apt_private() {
    local dir=$1
    shift
    apt-get -q -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/parts" \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" \
        -o Dir::Etc::Preferences="$dir/preferences" -o Dir::Etc::PreferencesParts="$dir/parts" \
        -o APT::Sandbox::User=root -o Acquire::Retries=3 "$@"
}

# apt-get update exits 0 when every index failed to download, so success is judged by the
# Sources indexes of both suites being there afterwards.
dbt_apt_private_update_once() {
    local dir=$1 s
    rm -rf "$dir/lists"/*_dists_*
    dbt_apt_private "$dir" update || return 1
    for s in trixie trixie-updates; do
        ls "$dir/lists/"*"_dists_${s}_main_source_Sources"* >/dev/null 2>&1 ||
            { echo "no $s Sources index after apt-get update"; return 1; }
    done
}

# Writes a private deb-src list for trixie + trixie-updates on the machine's mirror and updates
# it (with retries). Returns 77 only when the mirror cannot be reached.
dbt_apt_private_update() {
    local dir=$1 mirror=$2 log=$3 key=/usr/share/keyrings/debian-archive-keyring.gpg s
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
    : >"$dir/preferences"
    : >"$dir/sources.list"
    for s in trixie trixie-updates; do
        echo "deb-src [signed-by=$key] $mirror $s main" >>"$dir/sources.list"
    done
    dbt_retry 3 10 dbt_apt_private_update_once "$dir" >>"$log" 2>&1 && return 0
    if ! dbt_mirror_reachable "$mirror" trixie; then
        dbt_skip_reason "Debian mirror $mirror is unreachable" \
            "(needed once to fetch the postgresql-17 source)"
        return $DBT_SKIP
    fi
    dbt_error "apt-get update of the private trixie deb-src list failed (mirror $mirror answers);" \
        "see $log"
    return 1
}

# The build finished (stamp written last) and its psql runs and says 17.
dbt_libpq17_ok() {
    local prefix=$1
    [ -x "$prefix/bin/psql" ] && [ -f "$prefix/.dbtrust-ready" ] &&
        "$prefix/bin/psql" --version 2>/dev/null | grep -q '^psql (PostgreSQL) 17\.'
}

dbt_libpq17_build() {
    local cache=$1 prefix=$2 mirror work log dsc src jobs
    log=$cache/libpq17-build.log
    work=$cache/libpq17-work
    : >"$log"
    mirror=$(dbt_debian_mirror)
    rm -rf "$work"
    mkdir -p "$work/src"

    if ! command -v bison >/dev/null || ! command -v flex >/dev/null ||
        ! command -v dpkg-source >/dev/null || ! command -v make >/dev/null ||
        ! dpkg-query -W -f='${Status}' libssl-dev 2>/dev/null | grep -q 'ok installed'; then
        dbt_apt_ensure bison flex dpkg-dev make gcc libssl-dev || return $?
    fi

    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] ||
        dbt_apt_ensure debian-archive-keyring || return $?
    dbt_apt_private_update "$cache/apt" "$mirror" "$log" || return $?
    if ! (cd "$work/src" && dbt_retry 3 10 dbt_apt_private "$cache/apt" source --download-only \
        postgresql-17) >>"$log" 2>&1; then
        dbt_mirror_reachable "$mirror" trixie || {
            dbt_skip_reason "Debian mirror $mirror became unreachable while fetching postgresql-17"
            return $DBT_SKIP
        }
        dbt_error "apt-get source postgresql-17 failed; see $log"
        return 1
    fi
    dsc=$(ls "$work/src"/postgresql-17_*.dsc 2>/dev/null | head -n 1)
    [ -n "$dsc" ] || { dbt_error "no postgresql-17 .dsc downloaded; see $log"; return 1; }
    (cd "$work/src" && dpkg-source -x "$dsc" pg) >>"$log" 2>&1 ||
        { dbt_error "dpkg-source -x $dsc failed; see $log"; return 1; }
    src=$work/src/pg
    jobs=$(nproc 2>/dev/null || echo 2)

    # Only what a client needs: no ICU, readline or compression, OpenSSL from the host.
    # The rpath that PostgreSQL sets by default makes psql find this libpq, not the system's.
    # PostgreSQL generates headers such as utils/errcodes.h only when its make runs at
    # MAKELEVEL 0, and make check hands down MAKELEVEL and a jobserver this build cannot use:
    # start it as a top-level make.
    (
        set -e
        unset MAKELEVEL MAKEFLAGS MFLAGS
        cd "$src"
        ./configure --prefix="$prefix" --without-icu --without-readline --with-ssl=openssl \
            --without-zlib --without-zstd --without-lz4 --without-gssapi --without-ldap \
            --disable-nls
        # OBJS_SRV= skips the server-side copies of src/common and src/port that the client
        # build would otherwise compile for nothing (a third of the compile time).
        make -j"$jobs" -C src/interfaces/libpq OBJS_SRV=
        make -j"$jobs" -C src/bin/psql OBJS_SRV=
        make -C src/interfaces/libpq install
        make -C src/bin/psql install
    ) >>"$log" 2>&1 || {
        dbt_error "building libpq 17 in $src failed (tail of $log follows)"
        tail -n 25 "$log" >&2
        return 1
    }
    if ! ldd "$prefix/bin/psql" | grep -q "$prefix/lib/libpq.so"; then
        dbt_error "built psql does not load libpq from $prefix/lib; see ldd $prefix/bin/psql"
        return 1
    fi
    : >"$prefix/.dbtrust-ready"
    # The source and the private apt state are not needed once psql 17 is installed.
    rm -rf "$work" "$cache/apt"
}

dbt_libpq17_locked() {
    local cache=$1 prefix=$2
    dbt_libpq17_ok "$prefix" && return 0
    dbt_require_root "building libpq 17 into $prefix (first run only)" || return $?
    rm -rf "$prefix"
    dbt_libpq17_build "$cache" "$prefix" && return 0
    local rc=$?
    # Nothing half-built is left to be mistaken for a cache; the log stays for diagnosis.
    rm -rf "$prefix" "$cache/libpq17-work"
    return $rc
}

# Builds once (under a lock, so parallel tests wait for one build) and sets the paths.
dbt_libpq17_ensure() {
    local cache rc=0
    cache=$(dbt_cache_dir) || return 1
    DBT_LIBPQ17_PREFIX=$cache/libpq17-ossl30
    DBT_PSQL17=$DBT_LIBPQ17_PREFIX/bin/psql
    dbt_libpq17_ok "$DBT_LIBPQ17_PREFIX" ||
        dbt_with_lock "$cache/libpq17.lock" dbt_libpq17_locked "$cache" "$DBT_LIBPQ17_PREFIX" ||
        rc=$?
    [ "$rc" = 0 ] || return "$rc"
    # The point of this build: libpq 17 on the host's OpenSSL, not a bundled one.
    if ! ldd "$DBT_PSQL17" | grep -Eq 'libssl\.so\.3 => /(usr/)?lib/'; then
        dbt_error "$DBT_PSQL17 is not linked to the host libssl.so.3; remove $DBT_LIBPQ17_PREFIX" \
            "and rerun to rebuild"
        return 1
    fi
}
