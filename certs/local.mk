# certs/: the Debian update-ca-certificates hook that keeps `dbtrust system enable` wired
# through `update-ca-certificates [--fresh]`; installed with the bindir of this build.
cahookdir = $(sysconfdir)/ca-certificates/update.d
EXTRA_DIST += certs/update-ca-certificates-hook
install-data-local: install-cahook
uninstall-local: uninstall-cahook
# (@''bindir@ is split so that config.status does not substitute it in this very rule, which
# left the installed hook with the placeholder unreplaced, so it exited without relinking.)
install-cahook:
	$(MKDIR_P) '$(DESTDIR)$(cahookdir)'
	sed 's|@''bindir@|$(bindir)|g' '$(top_srcdir)/certs/update-ca-certificates-hook' \
		>'$(DESTDIR)$(cahookdir)/dbtrust.tmp'
	chmod 755 '$(DESTDIR)$(cahookdir)/dbtrust.tmp'
	mv -f '$(DESTDIR)$(cahookdir)/dbtrust.tmp' '$(DESTDIR)$(cahookdir)/dbtrust'
uninstall-cahook:
	rm -f '$(DESTDIR)$(cahookdir)/dbtrust'
.PHONY: install-cahook uninstall-cahook
