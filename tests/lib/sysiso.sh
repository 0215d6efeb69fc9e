# Isolation for tests that change the system trust store: a private mount namespace where
# /etc/ssl/certs (with the JVM's java/cacerts), /usr/local/share/ca-certificates,
# /etc/ca-certificates(.conf) and /var/lib/dbtrust are copies of the real ones (taken at entry),
# and /var/lib/dpkg, /var/lib/ca-certificates-java and /var/log/dpkg.log are isolated too, so
# `update-ca-certificates` (with its Java hook) and `dbtrust system enable` act on the copies
# and the machine's store never changes.
# Usage (bash, as root), first thing in a test:
#   . tests/lib/sysiso.sh
#   dbt_sysiso_enter "$0" "$@" || exit $?      # re-runs the script isolated; 77 = skip
#   dbt_sysiso_setup "$work/iso" || exit 1     # inside: copies made and mounted, or failure

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DBT_SYSISO_PATHS=(/etc/ssl/certs /usr/local/share/ca-certificates /etc/ca-certificates
    /etc/ca-certificates.conf)

# What update-ca-certificates' Java hook (ca-certificates-java's jks-keystore) writes besides
# /etc/ssl/certs/java: its pending list in /var/lib/ca-certificates-java, and dpkg's trigger
# state and status in /var/lib/dpkg (the hook runs dpkg-trigger, then dpkg --triggers-only
# --pending, which runs the package's postinst and rewrites the store), and dpkg's log. Each
# directory that exists gets an overlay, the log a copy, unless /var/lib is an overlay already.
DBT_SYSISO_DPKG_DIRS=(/var/lib/dpkg /var/lib/ca-certificates-java)
DBT_SYSISO_DPKG_FILES=(/var/log/dpkg.log)

# Re-executes SCRIPT ARGS... in a new private mount namespace unless already inside one made
# here; returns only on failure to do so (77 when unshare or root is missing).
dbt_sysiso_enter() {
    [ "${DBT_SYSISO_INSIDE:-}" = "$$" ] && return 0
    dbt_require_root "isolating the system trust store in a mount namespace" || return $?
    command -v unshare >/dev/null || {
        dbt_skip_reason "unshare(1) is missing (apt-get install util-linux)"
        return $DBT_SKIP
    }
    # $$ of the re-executed shell is unshare's pid (exec keeps it): the marker matches there only.
    export DBT_SYSISO_INSIDE=$$
    exec unshare --mount --propagation private -- "$BASH" "$@"
}

dbt_sysiso_is_mount() { awk -v p="$1" '$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# Inside the namespace: copies each path into DIR and mounts the copy over it. /var/lib/dbtrust
# is copied when it exists; otherwise /var/lib gets an overlay (so creating it changes nothing
# outside). Verifies every mount before returning, so nothing later can reach the real files.
dbt_sysiso_setup() {
    local dir=$1 p copy
    [ "${DBT_SYSISO_INSIDE:-}" = "$$" ] ||
        { dbt_error "dbt_sysiso_setup outside dbt_sysiso_enter's namespace"; return 1; }
    mkdir -p "$dir" || return 1
    for p in "${DBT_SYSISO_PATHS[@]}"; do
        [ -e "$p" ] || { dbt_error "$p does not exist; install ca-certificates"; return 1; }
        copy=$dir/copy$(echo "$p" | tr / _)
        cp -a "$p" "$copy" && mount --bind "$copy" "$p" ||
            { dbt_error "cannot mount a copy of $p from $copy"; return 1; }
        dbt_sysiso_is_mount "$p" || { dbt_error "$p is not a mount after binding"; return 1; }
    done
    if [ -d /var/lib/dbtrust ]; then
        cp -a /var/lib/dbtrust "$dir/copy_var_lib_dbtrust" &&
            mount --bind "$dir/copy_var_lib_dbtrust" /var/lib/dbtrust || return 1
        dbt_sysiso_is_mount /var/lib/dbtrust || return 1
    else
        mkdir -p "$dir/varlib-up" "$dir/varlib-work"
        mount -t overlay overlay \
            -o "lowerdir=/var/lib,upperdir=$dir/varlib-up,workdir=$dir/varlib-work" /var/lib ||
            { dbt_error "cannot mount an overlay on /var/lib"; return 1; }
        dbt_sysiso_is_mount /var/lib || return 1
    fi
    for p in "${DBT_SYSISO_DPKG_DIRS[@]}"; do
        [ -d "$p" ] || continue
        dbt_sysiso_is_mount /var/lib && [ "${p#/var/lib/}" != "$p" ] && continue
        copy=$dir/ovl$(echo "$p" | tr / _)
        mkdir -p "$copy-up" "$copy-work" &&
            mount -t overlay overlay -o "lowerdir=$p,upperdir=$copy-up,workdir=$copy-work" "$p" ||
            { dbt_error "cannot mount an overlay on $p"; return 1; }
        dbt_sysiso_is_mount "$p" || return 1
    done
    for p in "${DBT_SYSISO_DPKG_FILES[@]}"; do
        [ -f "$p" ] || continue
        copy=$dir/copy$(echo "$p" | tr / _)
        cp -a "$p" "$copy" && mount --bind "$copy" "$p" || { dbt_error "cannot copy $p"; return 1; }
        dbt_sysiso_is_mount "$p" || return 1
    done
}
