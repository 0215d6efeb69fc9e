# cli/: the dbtrust command. One file per command family; main.c holds the command table.
bin_PROGRAMS += dbtrust
dbtrust_SOURCES = \
	cli/main.c cli/util.c cli/commands.h \
	cli/print.c cli/keytool_fmt.c cli/keytool_fmt.h \
	cli/convert.c cli/catalog_cmds.c cli/keytool.c cli/system.c
# The change report and the words of import events (lib/import.h), shared by the catalog commands.
dbtrust_SOURCES += cli/report.c
dbtrust_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS)
dbtrust_LDADD = lib/libdbtrust.la $(CRYPTO_LIBS) $(JANSSON_LIBS)
# probe, fetch, sources: libssl for the TLS handshake, libcurl for downloads; certs/sources.c is
# the compiled-in list of known sources.
dbtrust_SOURCES += cli/probe.c cli/probe_net.c cli/probe.h cli/probe_mysql.c cli/probe_mysql.h cli/fetch.c cli/sources.c \
	certs/sources.c certs/sources.h
dbtrust_CFLAGS += $(SSL_CFLAGS) $(CURL_CFLAGS)
dbtrust_LDADD += $(SSL_LIBS) $(CURL_LIBS)
TESTS += tests/cli-probe.sh tests/cli-fetch.sh
dist_noinst_SCRIPTS += tests/cli-probe.sh tests/cli-fetch.sh
# probe against servers that close early; every output of every command (files, devices, FIFOs,
# links, standard output on a full device or a closed pipe).
TESTS += tests/cli-probe-close.sh tests/cli-output.sh
dist_noinst_SCRIPTS += tests/cli-probe-close.sh tests/cli-output.sh
# probe mysql:// and the mariadb client against a real MariaDB server with the demo PKI.
TESTS += tests/cli-probe-mysql.sh
dist_noinst_SCRIPTS += tests/cli-probe-mysql.sh
# probe's causes, told apart (CN-only, instance CN, not yet valid, expiring, missing CA) and fake
# MySQL servers (no TLS, an error packet, an oversized greeting, silence).
TESTS += tests/cli-probe-causes.sh
dist_noinst_SCRIPTS += tests/cli-probe-causes.sh
# probe --direct against Debian 13's PostgreSQL 17 (a layer cached next to the Debian 13 root).
TESTS += tests/probe-direct-pg17.sh
dist_noinst_SCRIPTS += tests/probe-direct-pg17.sh
# doctor: each trust consumer of the host (libpq's libcrypto, bundled libcrypto, the JVM store).
dbtrust_SOURCES += cli/doctor.c
# check: expiry for monitoring as text, JSON or Prometheus metrics, with Nagios exit codes.
dbtrust_SOURCES += cli/check_fmt.c
# fetch and refresh share the HTTPS download code (cli/download.h).
dbtrust_SOURCES += cli/download.c cli/download.h
# refresh: every fetched bundle downloaded again (for a timer).
dbtrust_SOURCES += cli/refresh.c
TESTS += tests/cli-refresh.sh
dist_noinst_SCRIPTS += tests/cli-refresh.sh
