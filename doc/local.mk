# doc/: the man pages dbtrust(1), dbtrust-provider(7) and dbtrust-catalog(5), installed by make
# install, and $(pkgdatadir)/dbtrust.cnf, the openssl.cnf snippet that loads the provider for the
# system catalog (what `dbtrust config` prints; packages ship it as /usr/share/dbtrust/dbtrust.cnf).
dist_man_MANS += doc/dbtrust.1 doc/dbtrust-provider.7 doc/dbtrust-catalog.5
pkgdata_DATA = doc/dbtrust.cnf
CLEANFILES += doc/dbtrust.cnf
# The catalog is named explicitly: `dbtrust config` run by a non-root builder would otherwise
# print that user's own catalog.
doc/dbtrust.cnf: dbtrust$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) doc && \
	./dbtrust$(EXEEXT) --catalog /etc/dbtrust config >$@.tmp && mv -f $@.tmp $@
# Packaging (RPM spec, Debian files, bash completion) and its tests have their own fragment.
include $(top_srcdir)/packaging/local.mk
