#!/usr/bin/env bash
# packaging/dbtrust.spec agrees with the build: its Version is configure.ac's and
# debian/changelog's, and its %files match what `make install` installs with Fedora's paths
# (after the spec's own %install removals) one for one: nothing installed is left out of the
# package, and no %files entry names something the build does not install. rpm's own macro
# expansion is used when rpm is installed (rpm --eval), else the standard Fedora values; with
# rpmbuild installed the spec is also built into an RPM from the release file list.
set -u
unset SSL_CERT_FILE SSL_CERT_DIR OPENSSL_CONF DBTRUST_CATALOG
export LC_ALL=C

src=${DBTRUST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DBTRUST_BUILDDIR:-$PWD}
spec=$src/packaging/dbtrust.spec
[ -f "$spec" ] || { echo "not ok - $spec is missing"; exit 1; }
if [ ! -f "$build/Makefile" ]; then
    echo "SKIP: no configured build tree at $build" >&2
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# --- versions ---------------------------------------------------------------------------------
v_spec=$(awk '$1 == "Version:" {print $2}' "$spec")
v_ac=$(sed -n 's/^AC_INIT(\[dbtrust\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
[ -n "$v_ac" ] || not_ok "no version in configure.ac's AC_INIT"
if [ "$v_spec" = "$v_ac" ]; then ok "spec Version $v_spec is configure.ac's"; else
    not_ok "spec Version '$v_spec' is not configure.ac's '$v_ac'"; fi
if [ -f "$src/debian/changelog" ]; then
    v_deb=$(sed -n '1s/^dbtrust (\([^)-]*\).*/\1/p' "$src/debian/changelog")
    if [ "$v_deb" = "$v_spec" ]; then ok "debian/changelog's version is the spec's"; else
        not_ok "debian/changelog version '$v_deb' is not the spec's '$v_spec'"; fi
    grep -qx 'etc/dbtrust' "$src/debian/dbtrust.dirs" &&
        grep -q '^%dir %attr(0755,root,root) %{_sysconfdir}/dbtrust$' "$spec" &&
        ok "both packages own /etc/dbtrust (root, 0755)" ||
        not_ok "debian/dbtrust.dirs and the spec do not both own /etc/dbtrust 0755"
fi
grep -q "^Source0:.*%{name}-%{version}.tar.gz" "$spec" && ok "Source0 is make dist's tarball" ||
    not_ok "Source0 is not %{name}-%{version}.tar.gz (what make dist makes)"

# --- %files against make install ---------------------------------------------------------------
if command -v rpm >/dev/null 2>&1; then
    # The spec's own default for %{_unitdir} where rpm has no systemd macros (Debian's rpm).
    unitdir=$(rpm --eval '%{?_unitdir}%{!?_unitdir:%{_prefix}/lib/systemd/system}')
    ev() { rpm --define '_arch x86_64' --define "_unitdir $unitdir" --eval "$1"; }
    how="rpm --eval"
else
    ev() {
        sed -e 's|%{_bindir}|/usr/bin|g; s|%{_libdir}|/usr/lib64|g; s|%{_datadir}|/usr/share|g' \
            -e 's|%{_mandir}|/usr/share/man|g; s|%{_sysconfdir}|/etc|g' \
            -e 's|%{_unitdir}|/usr/lib/systemd/system|g' \
            -e 's|%{buildroot}||g' <<<"$1"
    }
    how="Fedora's standard paths (rpm not installed)"
fi
bindir=$(ev '%{_bindir}') libdir=$(ev '%{_libdir}') datadir=$(ev '%{_datadir}')
mandir=$(ev '%{_mandir}') sysconfdir=$(ev '%{_sysconfdir}')
# The spec's configure line decides the modules directory; follow it.
modulesdir=$(sed -n 's/^%configure.*--with-modulesdir=\([^ ]*\).*/\1/p' "$spec")
modulesdir=$(ev "$modulesdir")
[ -n "$modulesdir" ] || not_ok "the spec's %configure does not set --with-modulesdir"
dest=$tmp/root
if ! make -s -C "$build" install DESTDIR="$dest" prefix=/usr bindir="$bindir" libdir="$libdir" \
    datadir="$datadir" mandir="$mandir" sysconfdir="$sysconfdir" modulesdir="$modulesdir" \
    systemdsystemunitdir="$(ev '%{_unitdir}')" \
    >"$tmp/install.log" 2>&1; then
    not_ok "make install DESTDIR=... with the spec's paths failed: $(tail -5 "$tmp/install.log")"
fi
# The spec's %install removals, and the directory it creates.
awk '/^%install$/ { f = 1; next } /^%(pre|post|preun|postun|files|check|changelog)/ { f = 0 } f' \
    "$spec" | grep -E '^(rm|mkdir) ' >"$tmp/install-steps"
while read -r cmd opts path; do
    path=$(ev "${path//%\{buildroot\}/}")
    case $path in /?*) ;; *) not_ok "unexpected %install step: $cmd $opts $path"; continue ;; esac
    # shellcheck disable=SC2086
    "$cmd" $opts "$dest"$path
done <"$tmp/install-steps"
(cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort) >"$tmp/installed"
[ -s "$tmp/installed" ] || not_ok "make install installed nothing"

# %files entries (with %dir, %attr, %doc and %license lines handled) as shell globs.
sed -n '/^%files/,/^%changelog/p' "$spec" | sed '1d;$d' | grep -v '^%doc\|^%license\|^$' |
    sed -e 's/^%dir //' -e 's/^%attr([^)]*) //' -e 's/^%config(noreplace) //' >"$tmp/files-raw"
: >"$tmp/globs"
while read -r f; do ev "$f" >>"$tmp/globs"; done <"$tmp/files-raw"
unmatched=
while read -r g; do
    if [ -d "$dest$g" ]; then continue; fi
    # shellcheck disable=SC2086
    compgen -G "$dest$g" >/dev/null || unmatched="$unmatched $g"
done <"$tmp/globs"
[ -z "$unmatched" ] && ok "every %files entry is installed by make install ($how)" ||
    not_ok "%files entries make install does not install:$unmatched"
uncovered=
while read -r f; do
    hit=0
    while read -r g; do
        # shellcheck disable=SC2053
        [[ $f == $g ]] && { hit=1; break; }
    done <"$tmp/globs"
    [ $hit = 1 ] || uncovered="$uncovered $f"
done <"$tmp/installed"
[ -z "$uncovered" ] && ok "everything make install installs is in %files ($(wc -l <"$tmp/installed") files)" ||
    not_ok "installed but not in the spec's %files:$uncovered"
for m in "$src"/doc/*.[1-8]; do
    n=$(basename "$m")
    grep -qF "%{_mandir}/man${n##*.}/$n*" "$spec" && ok "the spec lists the man page $n" ||
        not_ok "the spec does not list doc/$n"
done
grep -qF '%{_libdir}/ossl-modules/dbtrust' "$spec" && ok "the spec lists the provider module" ||
    not_ok "the spec does not list the provider module"

# --- a real rpmbuild, when rpm is installed (Debian's rpm package builds with host libraries) ---
# From the release tarball's file list (make distdir), as `rpmbuild -ta` would; --nodeps because
# BuildRequires are Fedora package names; --nocheck because make check runs the unit tests.
if command -v rpmbuild >/dev/null 2>&1; then
    dist=$tmp/dist/dbtrust-$v_spec
    mkdir -p "$tmp/dist"
    if ! make -s -C "$build" distdir distdir="$dist" >"$tmp/distdir.log" 2>&1 ||
        ! tar -C "$tmp/dist" -czf "$tmp/dbtrust-$v_spec.tar.gz" "dbtrust-$v_spec"; then
        not_ok "make distdir failed: $(tail -5 "$tmp/distdir.log")"
    elif ! rpmbuild -tb --nodeps --nocheck --define "_topdir $tmp/rpm" \
        --define "_smp_mflags -j2" "$tmp/dbtrust-$v_spec.tar.gz" >"$tmp/rpmbuild.log" 2>&1; then
        not_ok "rpmbuild -tb failed: $(tail -15 "$tmp/rpmbuild.log")"
    else
        rpmfile=$(find "$tmp/rpm/RPMS" -name "dbtrust-$v_spec-*.rpm" ! -name '*debug*' | head -1)
        ok "rpmbuild -tb built $(basename "$rpmfile")"
        rpm -qlp "$rpmfile" 2>/dev/null | sort >"$tmp/rpm-files"
        missing=$(comm -23 "$tmp/installed" "$tmp/rpm-files" | xargs)
        [ -z "$missing" ] && ok "the built RPM holds every file make install installs" ||
            not_ok "the built RPM lacks: $missing"
        grep -qx "$modulesdir/dbtrust.so" "$tmp/rpm-files" &&
            ok "the RPM's provider is in $modulesdir" || not_ok "no $modulesdir/dbtrust.so in the RPM"
    fi
else
    echo "# rpmbuild is not installed (apt-get install rpm): spec checked without building it"
fi

echo "1..$((passed + failed))"
[ "$failed" -eq 0 ]
