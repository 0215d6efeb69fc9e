# A Debian 13 (trixie) root made with debootstrap, cached in $DBTRUST_CACHE/trixie-root, to run
# real OpenSSL 3.5 and libpq 17 clients and to build dbtrust from a `make dist` tarball.
# Usage (bash, as root):
#   . tests/lib/trixie.sh
#   dbt_trixie_ensure || exit $?          # builds once (~1-2 min), then instant; 77 = skip
#   dbt_trixie_session                    # fresh copy-on-write view for this test
#   dbt_trixie_copy_in dbtrust-1.0.tar.gz /dbt
#   dbt_trixie_run --env SSL_CERT_DIR=/dbt/roots -- psql "sslrootcert=system ..."
# Every run happens in a private mount namespace over an overlay of the cached root, so the cache
# is never modified by a test and no mount outlives the command, whatever way it ends.
# Only PATH, HOME, LANG, LC_ALL, TZ and the --env values reach the command: the machine's
# SSL_CERT_FILE/SSL_CERT_DIR never leak in.

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Real clients plus what building dbtrust from a release tarball needs (no autotools).
DBT_TRIXIE_PACKAGES="openssl ca-certificates postgresql-client-17 python3 gcc make pkg-config
libssl-dev libjansson-dev libcurl4-openssl-dev libcmocka-dev python3-psycopg"

# Returns 0 when ROOT is a finished trixie root with OpenSSL 3.5 and psql 17 and the package
# list it was made with is the current one.
dbt_trixie_ok() {
    local root=$1
    [ -f "$root/.dbtrust-ready" ] &&
        [ "$(cat "$root/.dbtrust-ready")" = "$(echo $DBT_TRIXIE_PACKAGES)" ] &&
        [ -x "$root/usr/bin/openssl" ] && [ -x "$root/usr/lib/postgresql/17/bin/psql" ] &&
        chroot "$root" /usr/bin/env -i /usr/bin/openssl version 2>/dev/null |
        grep -q '^OpenSSL 3\.5\.'
}

# Refuses to touch a path that still has something mounted below it: removing it would reach
# into the mounted file systems.
dbt_trixie_no_mounts() {
    local dir=$1
    if awk -v d="$dir/" '{ if (index($2 "/", d) == 1) found = 1 } END { exit !found }' \
        /proc/self/mounts; then
        dbt_error "something is still mounted under $dir (see: grep '$dir' /proc/mounts);" \
            "unmount it, then rerun"
        return 1
    fi
}

# dbt_trixie_ns_run ROOT UPPER|- NBINDS BIND... NENVS ENV... CWD CMD...: the engine behind
# dbt_trixie_run. With UPPER "-" the root itself is used (only while building the cache).
dbt_trixie_ns_run() {
    local inner
    # shellcheck disable=SC2016
    inner='
set -e
root=$1 upper=$2; shift 2
nb=$1; shift; binds=("${@:1:nb}"); shift "$nb"
ne=$1; shift; envs=("${@:1:ne}"); shift "$ne"
cwd=$1; shift
if [ "$upper" = - ]; then
    mnt=$root
else
    mnt=$upper/merged
    mkdir -p "$upper/upper" "$upper/work" "$mnt"
    mount -t overlay overlay -o "lowerdir=$root,upperdir=$upper/upper,workdir=$upper/work" "$mnt"
fi
mount -t proc proc "$mnt/proc"
mount --rbind /dev "$mnt/dev"
for b in "${binds[@]}"; do
    mkdir -p "$mnt${b#*:}"
    mount --bind "${b%%:*}" "$mnt${b#*:}"
done
set +e
exec chroot "$mnt" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC "${envs[@]}" \
    /bin/sh -c '\''cd "$1" || exit 1; shift; exec "$@"'\'' sh "$cwd" "$@"
'
    unshare --mount --propagation private -- /bin/bash -c "$inner" dbt-trixie "$@"
}

dbt_trixie_build() {
    local cache=$1 root=$2 mirror log tmp key=/usr/share/keyrings/debian-archive-keyring.gpg
    log=$cache/trixie-build.log
    tmp=$root.tmp
    mirror=$(dbt_debian_mirror)
    : >"$log"
    command -v debootstrap >/dev/null || dbt_apt_ensure debootstrap || return $?
    [ -f "$key" ] || dbt_apt_ensure debian-archive-keyring || return $?
    dbt_trixie_no_mounts "$tmp" || return 1
    rm -rf "$tmp"

    local try ok=
    for try in 1 2 3; do
        # In its own mount namespace, so the /proc and /sys it mounts in the target vanish
        # with it even if it is killed.
        if unshare --mount --propagation private -- debootstrap --variant=minbase \
            --keyring="$key" trixie "$tmp" "$mirror" >>"$log" 2>&1; then
            ok=1
            break
        fi
        dbt_mirror_reachable "$mirror" trixie || {
            dbt_skip_reason "Debian mirror $mirror is unreachable" \
                "(needed once to make the trixie root)"
            rm -rf "$tmp"
            return $DBT_SKIP
        }
        echo "debootstrap try $try failed; retrying" >>"$log"
        dbt_trixie_no_mounts "$tmp" || return 1
        rm -rf "$tmp"
        sleep 10
    done
    [ -n "$ok" ] || {
        dbt_error "debootstrap trixie into $tmp failed 3 times (tail of $log follows)"
        tail -n 15 "$log" >&2
        return 1
    }

    # Same mirror, updates suite too, no recommends, and apt's own retries.
    printf 'deb %s trixie main\ndeb %s trixie-updates main\n' "$mirror" "$mirror" \
        >"$tmp/etc/apt/sources.list"
    printf 'APT::Install-Recommends "false";\nAcquire::Retries "3";\n' \
        >"$tmp/etc/apt/apt.conf.d/90dbtrust"
    cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
    # Documentation and translations are a sixth of the root and no test reads them.
    printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' \
        'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' \
        'path-exclude=/usr/share/locale/*' >"$tmp/etc/dpkg/dpkg.cfg.d/90dbtrust-nodoc"
    # shellcheck disable=SC2086
    if ! dbt_retry 3 10 dbt_trixie_ns_run "$tmp" - 0 1 DEBIAN_FRONTEND=noninteractive / \
        sh -c "apt-get update -q && apt-get install -y -q $(echo $DBT_TRIXIE_PACKAGES) &&
            apt-get clean" \
        >>"$log" 2>&1; then
        dbt_mirror_reachable "$mirror" trixie || {
            dbt_skip_reason "Debian mirror $mirror became unreachable" \
                "while installing packages into the trixie root"
            return $DBT_SKIP
        }
        local gone
        # shellcheck disable=SC2086
        gone=$(dbt_apt_unavailable dbt_trixie_ns_run "$tmp" - 0 0 / -- $DBT_TRIXIE_PACKAGES)
        [ -z "$gone" ] || dbt_error "the Debian mirror $mirror serves no trixie binary package" \
            "named: $gone (apt-cache policy in the root shows no candidate)"
        dbt_error "apt-get install in the trixie root $tmp failed (tail of $log follows)"
        tail -n 15 "$log" >&2
        return 1
    fi
    rm -rf "$tmp"/var/lib/apt/lists/*_dists_* 2>/dev/null
    echo $DBT_TRIXIE_PACKAGES >"$tmp/.dbtrust-ready"
    dbt_trixie_ok "$tmp" || {
        dbt_error "the new trixie root $tmp has no working OpenSSL 3.5 or psql 17; see $log"
        return 1
    }
    dbt_trixie_no_mounts "$root" || return 1
    rm -rf "$root"
    mv "$tmp" "$root"
}

dbt_trixie_locked() {
    local cache=$1 root=$2
    dbt_trixie_ok "$root" && return 0
    dbt_trixie_build "$cache" "$root"
}

# Makes sure the cached root exists (building or rebuilding it under a lock); sets
# DBT_TRIXIE_ROOT. Root only: returns 77 with the reason otherwise.
dbt_trixie_ensure() {
    local cache
    dbt_require_root "a Debian 13 chroot (debootstrap, mounts)" || return $?
    cache=$(dbt_cache_dir) || return 1
    DBT_TRIXIE_ROOT=$cache/trixie-root
    dbt_trixie_ok "$DBT_TRIXIE_ROOT" && return 0
    dbt_with_lock "$cache/trixie.lock" dbt_trixie_locked "$cache" "$DBT_TRIXIE_ROOT"
}

# Starts a fresh copy-on-write view of the root for this test (changes persist across
# dbt_trixie_run calls of the session and are removed at exit). /dbt inside is the host
# directory $DBT_TRIXIE_WORK.
dbt_trixie_session() {
    [ -n "${DBT_TRIXIE_ROOT:-}" ] ||
        { dbt_error "call dbt_trixie_ensure before dbt_trixie_session"; return 1; }
    DBT_TRIXIE_SESSION=$(mktemp -d "${TMPDIR:-/tmp}/dbt-trixie.XXXXXX") || return 1
    DBT_TRIXIE_WORK=$DBT_TRIXIE_SESSION/dbt
    mkdir -p "$DBT_TRIXIE_WORK"
    dbt_cleanup_push "dbt_trixie_session_end '$DBT_TRIXIE_SESSION'"
}

dbt_trixie_session_end() {
    local s=$1
    [ -d "$s" ] || return 0
    dbt_trixie_no_mounts "$s" && rm -rf "$s"
}

# dbt_trixie_run [--bind HOST:GUEST]... [--env VAR=VALUE]... [--cwd DIR] [--] CMD...
# Runs CMD inside the session's view; stdin/stdout/stderr and the exit status pass through.
dbt_trixie_run() {
    local binds=() envs=() cwd=/dbt
    [ -n "${DBT_TRIXIE_SESSION:-}" ] ||
        { dbt_error "call dbt_trixie_session before dbt_trixie_run"; return 1; }
    while [ $# -gt 0 ]; do
        case $1 in
        --bind) binds+=("$2"); shift 2 ;;
        --env) envs+=("$2"); shift 2 ;;
        --cwd) cwd=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    [ $# -gt 0 ] || { dbt_error "dbt_trixie_run: no command given"; return 1; }
    binds=("$DBT_TRIXIE_WORK:/dbt" "${binds[@]}")
    dbt_trixie_ns_run "$DBT_TRIXIE_ROOT" "$DBT_TRIXIE_SESSION" "${#binds[@]}" "${binds[@]}" \
        "${#envs[@]}" "${envs[@]}" "$cwd" "$@"
}

# dbt_trixie_copy_in HOSTPATH... GUESTDIR: copies files or directories into the session's view.
dbt_trixie_copy_in() {
    local dest=${!#} n=$(($# - 1)) p
    [ "$n" -ge 1 ] || { dbt_error "usage: dbt_trixie_copy_in HOSTPATH... GUESTDIR"; return 1; }
    for p in "${@:1:n}"; do
        [ -e "$p" ] || { dbt_error "dbt_trixie_copy_in: $p does not exist"; return 1; }
        tar -C "$(dirname "$p")" -cf - "$(basename "$p")" |
            dbt_trixie_run -- sh -c 'mkdir -p "$1" && tar -C "$1" -xf -' sh "$dest" ||
            { dbt_error "copying $p into the trixie root at $dest failed"; return 1; }
    done
}
