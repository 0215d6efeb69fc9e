#!/usr/bin/env bash
# Runs a oneshot systemd service's ExecStart= the way systemd would start it, on a host where
# systemd is not PID 1 (containers, CI): as root, with the unit's EnvironmentFile= files read
# ('-': optional), its $NAME words split and ${NAME} words kept whole, and in a private mount
# namespace with the sandbox the unit asks for: ProtectSystem=strict (every mount read-only
# but /proc, /sys, /dev and /run) with its ReadWritePaths= writable ('-': optional), PrivateTmp=
# (empty /tmp and /var/tmp), ProtectHome= (empty read-only /home, /root and /run/user),
# NoNewPrivileges= and CapabilityBoundingSet= (setpriv). Other directives are not emulated.
#
#   tests/lib/unit-run.sh UNITFILE        exits with the command's status
set -u
unit=${1:?usage: unit-run.sh UNITFILE}
[ -r "$unit" ] || { echo "unit-run: cannot read $unit" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "unit-run: needs root (a mount namespace)" >&2; exit 2; }

val() { sed -n "s/^$1=//p" "$unit"; } # every value of key $1, one a line
yes() { case $(val "$1" | tail -n 1) in yes | true | on | 1 | strict | full) return 0 ;; esac; return 1; }

# EnvironmentFile=: KEY=VALUE lines, '#' and ';' comments, values optionally quoted.
while read -r f; do
    [ -n "$f" ] || continue
    optional=0
    [ "${f#-}" != "$f" ] && optional=1 && f=${f#-}
    if [ ! -e "$f" ]; then
        [ $optional = 1 ] && continue
        echo "unit-run: EnvironmentFile $f does not exist" >&2
        exit 1
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in '' | '#'* | ';'*) continue ;; esac
        k=${line%%=*} v=${line#*=}
        [[ $k =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
        case $v in \"*\") v=${v:1:${#v}-2} ;; \'*\') v=${v:1:${#v}-2} ;; esac
        export "$k=$v"
    done <"$f"
done < <(val EnvironmentFile)

read -ra words <<<"$(val ExecStart | tail -n 1)"
cmd=()
for w in "${words[@]}"; do
    if [[ $w =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
        read -ra more <<<"${!BASH_REMATCH[1]:-}"
        cmd+=("${more[@]}")
    elif [[ $w =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ ]]; then
        cmd+=("${!BASH_REMATCH[1]:-}")
    else
        cmd+=("$w")
    fi
done
[ ${#cmd[@]} -gt 0 ] || { echo "unit-run: $unit has no ExecStart=" >&2; exit 1; }

rw=()
for p in $(val ReadWritePaths); do
    optional=0
    [ "${p#-}" != "$p" ] && optional=1 && p=${p#-}
    if [ -e "$p" ]; then
        rw+=("$(readlink -f "$p")")
    elif [ $optional = 0 ]; then
        echo "unit-run: ReadWritePaths $p does not exist (systemd would refuse to start)" >&2
        exit 1
    fi
done
setpriv=(setpriv)
yes NoNewPrivileges && setpriv+=(--no-new-privs)
caps=$(val CapabilityBoundingSet | tail -n 1)
if [ -n "$caps" ]; then
    b=-all
    for c in $caps; do
        c=${c#CAP_}
        b="$b,+${c,,}"
    done
    setpriv+=(--bounding-set "$b")
fi
strict=0 ptmp=0 phome=0
[ "$(val ProtectSystem | tail -n 1)" = strict ] && strict=1
yes PrivateTmp && ptmp=1
yes ProtectHome && phome=1

# shellcheck disable=SC2016 # expanded by the inner bash
exec unshare -m --propagation private bash -c '
    strict=$1 ptmp=$2 phome=$3 nrw=$4
    shift 4
    rw=("${@:1:nrw}")
    shift "$nrw"
    for p in "${rw[@]}"; do mount --bind "$p" "$p" || exit 1; done
    if [ "$strict" = 1 ]; then
        mapfile -t mounts < <(findmnt -rn -o TARGET)
        for t in "${mounts[@]}"; do
            t=$(printf "%b" "$t")
            case $t in /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /run/*) continue ;; esac
            skip=0
            for p in "${rw[@]}"; do
                case $t in "$p" | "$p"/*) skip=1 ;; esac
            done
            [ $skip = 1 ] && continue
            mount -o remount,bind,ro "$t" 2>/dev/null ||
                { echo "unit-run: cannot make $t read-only" >&2; exit 1; }
        done
    fi
    if [ "$ptmp" = 1 ]; then
        mount -t tmpfs -o mode=1777 tmpfs /tmp && mount -t tmpfs -o mode=1777 tmpfs /var/tmp || exit 1
    fi
    if [ "$phome" = 1 ]; then
        for h in /home /root /run/user; do
            [ -d "$h" ] && { mount -t tmpfs -o ro,mode=0755 tmpfs "$h" || exit 1; }
        done
    fi
    exec "$@"
' unit-run "$strict" "$ptmp" "$phome" "${#rw[@]}" "${rw[@]}" "${setpriv[@]}" -- "${cmd[@]}"
