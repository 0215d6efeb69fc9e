# certs/: the Debian update-ca-certificates hook that keeps `dbtrust system enable` wired
# through `update-ca-certificates [--fresh]`; installed with the bindir of this build, as
# "dbtrust" and again as "zz-dbtrust-jvm", which runs after ca-certificates-java's
# "jks-keystore" has rebuilt the JVM truststore (see the hook's own comment).
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
	cp -p '$(DESTDIR)$(cahookdir)/dbtrust.tmp' '$(DESTDIR)$(cahookdir)/zz-dbtrust-jvm.tmp'
	mv -f '$(DESTDIR)$(cahookdir)/zz-dbtrust-jvm.tmp' '$(DESTDIR)$(cahookdir)/zz-dbtrust-jvm'
	mv -f '$(DESTDIR)$(cahookdir)/dbtrust.tmp' '$(DESTDIR)$(cahookdir)/dbtrust'
uninstall-cahook:
	rm -f '$(DESTDIR)$(cahookdir)/dbtrust' '$(DESTDIR)$(cahookdir)/zz-dbtrust-jvm'
.PHONY: install-cahook uninstall-cahook
