# Shared helpers for the end-to-end test harness (tests/lib/*.sh): messages, root checks, the
# cache directory, the Debian mirror, retries and one EXIT trap that runs every registered cleanup.
# Sourceable from bash; defines functions and variables prefixed dbt_/DBT_ only.

[ -n "${DBT_COMMON_SH:-}" ] && return 0
DBT_COMMON_SH=1

# Exit status automake's test driver reads as "skipped".
DBT_SKIP=77

dbt_say() { printf '%s\n' "$*" >&2; }

# A failure message names what failed; callers add how to fix it.
dbt_error() { printf 'error: %s\n' "$*" >&2; }

# Prints why a test is skipped; the caller returns or exits $DBT_SKIP.
dbt_skip_reason() { printf 'SKIP: %s\n' "$*" >&2; }

# Returns 0 as root; otherwise prints why the caller must skip and returns 77.
dbt_require_root() {
    [ "$(id -u)" = 0 ] && return 0
    dbt_skip_reason "${1:-this step} needs root (CI runs as root; rerun with sudo)"
    return $DBT_SKIP
}

# Where slow-to-build components live across runs: $DBTRUST_CACHE (set by make check from
# configure --with-cache-dir), else ./test-cache of the build tree.
dbt_cache_dir() {
    local d=${DBTRUST_CACHE:-${DBTRUST_BUILDDIR:-$PWD}/test-cache}
    mkdir -p "$d" || { dbt_error "cannot create cache directory $d"; return 1; }
    (cd "$d" && pwd)
}

# Cleanups run in reverse order of registration when the shell exits, whatever the exit path,
# so a sourced library can add its own without clobbering the caller's trap.
DBT_CLEANUPS=()
dbt_cleanup_push() {
    DBT_CLEANUPS+=("$1")
    trap dbt_cleanup_run EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
dbt_cleanup_run() {
    local rc=$? i
    for ((i = ${#DBT_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${DBT_CLEANUPS[i]}" || true
    done
    DBT_CLEANUPS=()
    return $rc
}

# dbt_retry N DELAY CMD...: runs CMD up to N times, sleeping DELAY seconds between tries.
dbt_retry() {
    local n=$1 delay=$2 i
    shift 2
    for ((i = 1; i <= n; i++)); do
        "$@" && return 0
        [ "$i" -lt "$n" ] && sleep "$delay"
    done
    return 1
}

# The Debian archive URL this machine's own apt sources use (first non-security
# http(s) URI ending in /debian), else deb.debian.org. DBT_DEBIAN_MIRROR overrides.
dbt_debian_mirror() {
    if [ -n "${DBT_DEBIAN_MIRROR:-}" ]; then
        echo "${DBT_DEBIAN_MIRROR%/}"
        return 0
    fi
    local u
    u=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | grep -v '^[[:space:]]*#' | grep -oE 'https?://[^[:space:]]+/debian/?' |
        grep -v -- '-security' | head -n 1)
    u=${u:-http://deb.debian.org/debian}
    echo "${u%/}"
}

# Returns 0 when the mirror answers for the given suite's Release file. Used only to tell
# "mirror unreachable" (a skip) from any other failure (an error).
dbt_mirror_reachable() {
    local mirror=$1 suite=${2:-trixie} url
    url="$mirror/dists/$suite/Release"
    if command -v curl >/dev/null 2>&1; then
        # An HTTP error (22) means the mirror answers: that is a misconfiguration, not a skip.
        local rc=0
        curl -fsS -o /dev/null --max-time 30 --retry 2 "$url" 2>/dev/null || rc=$?
        [ "$rc" = 0 ] || [ "$rc" = 22 ]
    elif command -v wget >/dev/null 2>&1; then
        # wget exits 8 when the server answered with an error status.
        local rc=0
        wget -q -O /dev/null --timeout=30 --tries=2 "$url" || rc=$?
        [ "$rc" = 0 ] || [ "$rc" = 8 ]
    else
        # No HTTP client: a TCP connect to the host says enough about reachability.
        local hostport=${mirror#*://}
        hostport=${hostport%%/*}
        local host=${hostport%%:*} port=80
        [ "$hostport" != "$host" ] && port=${hostport#*:}
        case $mirror in https://*) [ "$port" = 80 ] && port=443 ;; esac
        timeout 30 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
    fi
}

# dbt_apt_unavailable [CMD...] -- PKG...: prints, on one line, the PKGs that the apt reached
# through CMD (nothing: the machine's own) has no installation candidate for, that is, packages
# its mirror does not serve as binary packages. Run after an `apt-get update` of that apt.
dbt_apt_unavailable() {
    local run=() p out gone=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        run+=("$1")
        shift
    done
    shift
    for p in "$@"; do
        out=$("${run[@]}" apt-cache policy "$p" 2>/dev/null)
        grep -Eq '^[[:space:]]+Candidate: [^(]' <<<"$out" || gone+=("$p")
    done
    echo "${gone[*]}"
}

# The machine's own release name (bookworm), to ask its mirror whether it answers.
dbt_host_suite() { . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-bookworm}"; }

# Installs missing Debian packages as root (quietly); returns 77 when not root, or when the
# Debian mirror cannot be reached; a package the mirror does not serve is an error naming it.
dbt_apt_ensure() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    dbt_require_root "installing ${missing[*]}" || return $?
    DEBIAN_FRONTEND=noninteractive dbt_retry 3 5 apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null 2>&1 && return 0
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null && return 0
    local mirror gone
    mirror=$(dbt_debian_mirror)
    if ! dbt_mirror_reachable "$mirror" "$(dbt_host_suite)"; then
        dbt_skip_reason "the Debian mirror $mirror is unreachable: cannot install ${missing[*]}"
        return $DBT_SKIP
    fi
    gone=$(dbt_apt_unavailable -- "${missing[@]}")
    if [ -n "$gone" ]; then
        dbt_error "the Debian mirror $mirror serves no binary package named: $gone" \
            "(apt-cache policy shows no candidate; needed: ${missing[*]})"
    else
        dbt_error "apt-get install ${missing[*]} failed; install them by hand and rerun"
    fi
    return 1
}

# dbt_with_lock FILE CMD...: serialises builds of one cached component across parallel tests.
dbt_with_lock() {
    local lock=$1
    shift
    (
        flock -w 1800 9 || { dbt_error "timed out waiting for lock $lock"; exit 1; }
        "$@"
    ) 9>"$lock"
}
