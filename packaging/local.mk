# packaging/ and debian/: the RPM spec, the Debian packaging and bash completion. The completion
# is installed where bash-completion loads it on demand (relative to the prefix, so that
# make distcheck can install it too); the packaging files travel in the release tarball, so that
# `rpmbuild -ta dbtrust-VERSION.tar.gz` and dpkg-buildpackage work from it.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = completion/dbtrust
EXTRA_DIST += packaging/dbtrust.spec \
	debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/dbtrust.dirs debian/prerm debian/postrm debian/.gitignore
# Their tests: the .deb builds, passes lintian, installs, works and purges without a trace
# (isolated in a mount namespace); the spec agrees with the build (and builds, with rpmbuild);
# the completion completes and knows every command and option of --help.
TESTS += tests/deb-package.sh tests/rpm-spec.sh tests/completion.sh
dist_noinst_SCRIPTS += tests/deb-package.sh tests/rpm-spec.sh tests/completion.sh
# The systemd units of dbtrust refresh (a daily timer). The service names the installed dbtrust,
# so it is made from its .in at build time; both travel in the release tarball.
EXTRA_DIST += packaging/systemd/dbtrust-refresh.service.in
if SYSTEMD_UNITS
dist_systemdsystemunit_DATA = packaging/systemd/dbtrust-refresh.timer
nodist_systemdsystemunit_DATA = packaging/systemd/dbtrust-refresh.service
endif
packaging/systemd/dbtrust-refresh.service: $(srcdir)/packaging/systemd/dbtrust-refresh.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) packaging/systemd && \
	sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/packaging/systemd/dbtrust-refresh.service.in >$@.tmp && \
	mv $@.tmp $@
CLEANFILES += packaging/systemd/dbtrust-refresh.service
