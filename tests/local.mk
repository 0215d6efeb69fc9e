# End-to-end harness (tests/lib/*.sh): real PostgreSQL with TLS, Debian 13's libpq 17 on the
# host's OpenSSL (tests/lib/ossl30-run) and on OpenSSL 3.5 in a Debian 13 root; e2e-infra.sh
# proves it. The demo PKI recipe is shared with demo.sh.
TESTS += tests/e2e-infra.sh
# The three slowest tests (test.sh prints each pass's slowest) start first: make -j runs TESTS in
# this order, and at the end of the list they would run alone while the other slot sits idle.
TESTS += tests/cli-kill.sh tests/unit-valgrind.sh tests/huge-inputs.sh
dist_noinst_SCRIPTS += tests/e2e-infra.sh certs/demo-pki.sh tests/lib/ossl30-run tests/lib/timed-driver
EXTRA_DIST += tests/lib/common.sh tests/lib/tap.sh tests/lib/pgserver.sh tests/lib/libpq17.sh tests/lib/trixie.sh

# Unit tests of lib/ bundles: decoding, certificate facts, encoding. tests/testpki.[ch] is the
# in-memory test PKI other tests link too (list it in their _SOURCES).
if ENABLE_TESTS
TESTPKI_SOURCES = tests/testpki.c tests/testpki.h
TESTS_LIB_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
TESTS_LIB_LDADD = lib/libdbtrust.la $(CRYPTO_LIBS) $(CMOCKA_LIBS)
check_PROGRAMS += tests/test_bundle tests/test_certinfo tests/test_encode tests/test_escape
UNIT_TESTS += tests/test_bundle tests/test_certinfo tests/test_encode tests/test_escape
tests_test_bundle_SOURCES = tests/test_bundle.c $(TESTPKI_SOURCES)
tests_test_bundle_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_bundle_LDADD = $(TESTS_LIB_LDADD)
tests_test_certinfo_SOURCES = tests/test_certinfo.c $(TESTPKI_SOURCES)
tests_test_certinfo_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_certinfo_LDADD = $(TESTS_LIB_LDADD)
tests_test_encode_SOURCES = tests/test_encode.c $(TESTPKI_SOURCES)
tests_test_encode_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_encode_LDADD = $(TESTS_LIB_LDADD)
# The format table (lib/format.c) against itself, doc/dbtrust.1, doc/dbtrust-catalog.5 and
# completion/dbtrust (read from the source tree).
if ENABLE_TESTS
check_PROGRAMS += tests/test_format
UNIT_TESTS += tests/test_format
tests_test_format_SOURCES = tests/test_format.c $(TESTPKI_SOURCES)
tests_test_format_CFLAGS = $(TESTS_LIB_CFLAGS) -DDBT_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_test_format_LDADD = $(TESTS_LIB_LDADD)
endif
tests_test_escape_SOURCES = tests/test_escape.c
# openssl.cnf paths read back by OpenSSL's own parser (lib/osslcnf.c).
check_PROGRAMS += tests/test_osslcnf
UNIT_TESTS += tests/test_osslcnf
tests_test_osslcnf_SOURCES = tests/test_osslcnf.c
tests_test_osslcnf_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_osslcnf_LDADD = $(TESTS_LIB_LDADD)
tests_test_escape_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_escape_LDADD = $(TESTS_LIB_LDADD)
# Trust settings (lib/trust.c) checked against X509_check_trust; tests/cli-trust.sh runs every
# command and output format on TRUSTED CERTIFICATE inputs and checks them with openssl verify.
check_PROGRAMS += tests/test_trust
UNIT_TESTS += tests/test_trust
TESTS += tests/cli-trust.sh
dist_noinst_SCRIPTS += tests/cli-trust.sh
EXTRA_DIST += tests/lib/trustaux.py
tests_test_trust_SOURCES = tests/test_trust.c $(TESTPKI_SOURCES)
tests_test_trust_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_trust_LDADD = $(TESTS_LIB_LDADD)
endif

# Java truststores (lib/p12.c, lib/jks.c): cmocka units, and a keytool cross-check driven through
# the test-only jks_tool (encode/decode files with lib/ directly, independent of the CLI).
if ENABLE_TESTS
check_PROGRAMS += tests/test_p12 tests/test_jks tests/jks_tool tests/p12craft
UNIT_TESTS += tests/test_p12 tests/test_jks
TESTS += tests/java-stores.sh tests/cli-kdf-limits.sh
dist_noinst_SCRIPTS += tests/java-stores.sh tests/cli-kdf-limits.sh
tests_test_p12_SOURCES = tests/test_p12.c tests/teststore.c tests/teststore.h \
	tests/p12craft.c tests/p12craft.h $(TESTPKI_SOURCES)
tests_test_p12_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_p12_LDADD = $(TESTS_LIB_LDADD)
tests_test_jks_SOURCES = tests/test_jks.c tests/teststore.c tests/teststore.h \
	$(TESTPKI_SOURCES)
tests_test_jks_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_jks_LDADD = $(TESTS_LIB_LDADD)
# Rewriting a truststore in place, as the JVM truststore wiring does (lib/sys_jvm.c).
check_PROGRAMS += tests/test_store_rewrite
UNIT_TESTS += tests/test_store_rewrite
tests_test_store_rewrite_SOURCES = tests/test_store_rewrite.c $(TESTPKI_SOURCES)
tests_test_store_rewrite_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_store_rewrite_LDADD = $(TESTS_LIB_LDADD)
tests_jks_tool_SOURCES = tests/jks_tool.c
tests_jks_tool_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_jks_tool_LDADD = lib/libdbtrust.la $(CRYPTO_LIBS)
# PKCS#12 files with hostile iteration counts, made without the work (tests/cli-kdf-limits.sh).
tests_p12craft_SOURCES = tests/p12craft_tool.c tests/p12craft.c tests/p12craft.h
tests_p12craft_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_p12craft_LDADD = $(CRYPTO_LIBS)
endif

# Error codes and hints of lib/ (lib/error.c, lib/hint.c), rendered in the program's words.
if ENABLE_TESTS
check_PROGRAMS += tests/test_error
UNIT_TESTS += tests/test_error
tests_test_error_SOURCES = tests/test_error.c
tests_test_error_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_error_LDADD = $(TESTS_LIB_LDADD)
endif
# The CLI words hints from their codes, never by searching the message (file names hold anything).
TESTS += tests/cli-hint.sh
dist_noinst_SCRIPTS += tests/cli-hint.sh

# The OpenSSL 3 provider (dbtrust.so) through real OpenSSL: storeutl, verify, s_client, damaged
# catalogs, threads, OpenSSL 3.5. tests/test_provider_cnf prints the openssl.cnf they run with.
check_PROGRAMS += tests/test_provider_cnf
tests_test_provider_cnf_SOURCES = tests/test_provider_cnf.c
tests_test_provider_cnf_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -I$(top_srcdir)/lib
tests_test_provider_cnf_LDADD = lib/libdbtrust.la $(CRYPTO_LIBS)
TESTS += tests/provider-storeutl.sh
dist_noinst_SCRIPTS += tests/provider-storeutl.sh tests/lib/mkcatalog.sh
EXTRA_DIST += tests/lib/provider.sh tests/lib/verify_names.py

# Catalog (lib/catalog.c): cmocka units and the SIGKILL test; tests/catalog_view.[ch] checks a
# catalog's hashed view with OpenSSL alone.
if ENABLE_TESTS
CATVIEW_SOURCES = tests/catalog_view.c tests/catalog_view.h
check_PROGRAMS += tests/test_catalog tests/catalog_kill
UNIT_TESTS += tests/test_catalog
TESTS += tests/catalog_kill
tests_test_catalog_SOURCES = tests/test_catalog.c $(CATVIEW_SOURCES) $(TESTPKI_SOURCES)
tests_test_catalog_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_catalog_LDADD = $(TESTS_LIB_LDADD)
tests_catalog_kill_SOURCES = tests/catalog_kill.c $(CATVIEW_SOURCES) $(TESTPKI_SOURCES)
tests_catalog_kill_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_catalog_kill_LDADD = $(TESTS_LIB_LDADD)
endif
# Import pipeline and removal (lib/import.c): policies, format, origins, change reports.
if ENABLE_TESTS
check_PROGRAMS += tests/test_import
UNIT_TESTS += tests/test_import
tests_test_import_SOURCES = tests/test_import.c $(TESTPKI_SOURCES)
tests_test_import_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_import_LDADD = $(TESTS_LIB_LDADD)
endif
if ENABLE_TESTS
check_PROGRAMS += tests/test_provider_keepopen
tests_test_provider_keepopen_SOURCES = tests/test_provider_keepopen.c
tests_test_provider_keepopen_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_test_provider_keepopen_LDADD = $(CRYPTO_LIBS)
endif
# A store kept open across commits keeps its generation (tests/test_provider_keepopen.c).
TESTS += tests/provider-keepopen.sh
dist_noinst_SCRIPTS += tests/provider-keepopen.sh
# The commands and the provider refuse the same unsafe catalogs; dbtrust verify finds damage.
TESTS += tests/catalog-safety.sh
dist_noinst_SCRIPTS += tests/catalog-safety.sh
if ENABLE_TESTS
check_PROGRAMS += tests/test_provider_threads
tests_test_provider_threads_SOURCES = tests/test_provider_threads.c
tests_test_provider_threads_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -pthread
tests_test_provider_threads_LDADD = $(CRYPTO_LIBS) -lpthread
endif
TESTS += tests/provider-verify.sh tests/provider-badcatalog.sh tests/provider-threads.sh \
	tests/provider-memcheck.sh tests/provider-helgrind.sh
dist_noinst_SCRIPTS += tests/provider-verify.sh tests/provider-badcatalog.sh \
	tests/provider-threads.sh tests/provider-memcheck.sh tests/provider-helgrind.sh
EXTRA_DIST += tests/provider.supp
TESTS += tests/provider-sclient.sh
dist_noinst_SCRIPTS += tests/provider-sclient.sh
# dbtrust.so loads its store code (dbtrust-store.so) on the first dbtrust:// open only.
TESTS += tests/provider-lazy.sh
dist_noinst_SCRIPTS += tests/provider-lazy.sh

# dbtrust print and -printcert: output compared with Java keytool field for field, and print's
# JSON/status checked against the openssl CLI (tests/cli-print.sh).
TESTS += tests/keytool-compare.sh tests/cli-print.sh
dist_noinst_SCRIPTS += tests/keytool-compare.sh tests/cli-print.sh
TESTS += tests/provider-trixie.sh
dist_noinst_SCRIPTS += tests/provider-trixie.sh
# The catalog and conversion commands and their keytool spelling (cli/catalog_cmds.c,
# cli/convert.c, cli/keytool.c): per-test catalogs, generated PKI (tests/lib/clipki.sh) and
# realdata; cli-crosscheck.sh reads every output with GnuTLS certtool and Java keytool.
TESTS += tests/cli-catalog.sh tests/cli-convert.sh tests/cli-hashdir-out.sh tests/cli-keytool.sh \
	tests/cli-crosscheck.sh tests/man-options.sh tests/cli-keystore-keys.sh
dist_noinst_SCRIPTS += tests/cli-catalog.sh tests/cli-convert.sh tests/cli-hashdir-out.sh \
	tests/cli-keytool.sh tests/cli-keystore-keys.sh \
	tests/cli-crosscheck.sh tests/man-options.sh
# Scoped trust through the commands (import --only-for, list, env, verify, exports).
TESTS += tests/cli-scope.sh
dist_noinst_SCRIPTS += tests/cli-scope.sh
EXTRA_DIST += tests/lib/clipki.sh tests/lib/cli.sh tests/lib/sserver.sh
# sslrootcert=system end to end (dbtrust system/env, the update-ca-certificates hook) with libpq 17
# on OpenSSL 3.0 and 3.5; the system store is changed only in an isolated mount namespace.
TESTS += tests/cli-system.sh tests/cli-system-hostile.sh tests/e2e-system.sh tests/cli-lock.sh
dist_noinst_SCRIPTS += tests/cli-system.sh tests/cli-system-hostile.sh tests/e2e-system.sh tests/cli-lock.sh
# The JVM truststore kept in step by system enable/refresh/disable, through update-ca-certificates
# and ca-certificates-java's rebuild, on an isolated copy of the machine's cacerts.
TESTS += tests/cli-system-jvm.sh
dist_noinst_SCRIPTS += tests/cli-system-jvm.sh
# Scoped trust (import --only-for) end to end: psql 17, s_client, Python and curl on OpenSSL 3.0
# and 3.5 reach names inside a CA's scope and refuse names outside it, through every route.
TESTS += tests/e2e-scope.sh
dist_noinst_SCRIPTS += tests/e2e-scope.sh
# The real-client matrix: psycopg 3, pgjdbc, Go lib/pq and node-postgres, each through every
# route dbtrust offers it (system enable, dbtrust env, truststore export), with a client x route
# table; clients are built or installed once into the test cache (tests/lib/clients.sh).
TESTS += tests/e2e-clients.sh
dist_noinst_SCRIPTS += tests/e2e-clients.sh
EXTRA_DIST += tests/lib/clients.sh tests/lib/clients-go.go tests/lib/clients-jdbc.java \
	tests/lib/clients-node.js
# The system wiring itself (lib/syswire.h) on temporary directories: round trip, undo, foreign
# entries, the state file's safety rule, the follow of a commit.
if ENABLE_TESTS
check_PROGRAMS += tests/test_syswire
UNIT_TESTS += tests/test_syswire
tests_test_syswire_SOURCES = tests/test_syswire.c $(TESTPKI_SOURCES)
tests_test_syswire_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_syswire_LDADD = $(TESTS_LIB_LDADD)
endif
if ENABLE_TESTS
check_PROGRAMS += tests/test_scope
UNIT_TESTS += tests/test_scope
tests_test_scope_SOURCES = tests/test_scope.c $(TESTPKI_SOURCES)
tests_test_scope_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_scope_LDADD = $(TESTS_LIB_LDADD)
endif
EXTRA_DIST += tests/lib/sysiso.sh tests/lib/tlsprobe.py
if ENABLE_TESTS
check_PROGRAMS += tests/test_provider_reader
UNIT_TESTS += tests/test_provider_reader
tests_test_provider_reader_SOURCES = tests/test_provider_reader.c provider/reader.c \
	provider/reader.h provider/prov.h lib/error.c lib/error.h lib/catsafe.c lib/catsafe.h
tests_test_provider_reader_SOURCES += lib/catlayout.c lib/catlayout.h
tests_test_provider_reader_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/provider
tests_test_provider_reader_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_provider_reader_LDADD = $(CRYPTO_LIBS) $(CMOCKA_LIBS)
endif
# The layout's one parser and name rules (lib/catlayout.c); lib/ and provider/reader.c agree.
if ENABLE_TESTS
check_PROGRAMS += tests/test_catlayout
UNIT_TESTS += tests/test_catlayout
tests_test_catlayout_SOURCES = tests/test_catlayout.c provider/reader.c provider/reader.h \
	provider/prov.h
tests_test_catlayout_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/provider
tests_test_catlayout_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_catlayout_LDADD = $(TESTS_LIB_LDADD)
endif
# Fuzz corpus replay (fuzz/): every committed and realdata-derived seed through every fuzz target,
# with ASan+UBSan when clang is installed; make fuzz runs libFuzzer itself.
TESTS += tests/fuzz-replay.sh
dist_noinst_SCRIPTS += tests/fuzz-replay.sh
if ENABLE_TESTS
check_PROGRAMS += tests/test_provider_certparts
UNIT_TESTS += tests/test_provider_certparts
tests_test_provider_certparts_SOURCES = tests/test_provider_certparts.c provider/certparts.c \
	provider/certparts.h
tests_test_provider_certparts_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/provider
tests_test_provider_certparts_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_provider_certparts_LDADD = $(CRYPTO_LIBS) $(CMOCKA_LIBS)
endif
# Reliability: real CLI processes SIGKILLed mid-command, concurrent writers with a
# reader, huge inputs, setuid/setgid environments, a broken provider must not break host TLS,
# and the unit tests under valgrind. tests/catview_tool checks a catalog with OpenSSL alone.
check_PROGRAMS += tests/catview_tool
tests_catview_tool_SOURCES = tests/catview_tool.c tests/catalog_view.c tests/catalog_view.h
tests_catview_tool_SOURCES += lib/catlayout.c lib/catlayout.h
tests_catview_tool_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_catview_tool_LDADD = $(CRYPTO_LIBS)
TESTS += tests/concurrent-writers.sh tests/setuid-env.sh tests/provider-hostsafe.sh
dist_noinst_SCRIPTS += tests/cli-kill.sh tests/concurrent-writers.sh tests/huge-inputs.sh \
	tests/setuid-env.sh tests/provider-hostsafe.sh tests/unit-valgrind.sh
EXTRA_DIST += tests/lib/sanbin/openssl
EXTRA_DIST += tests/lib/mkcerts.py
# Untrusted text (certificate names and extensions, aliases, file names, server strings) is
# escaped in every output (lib/escape.c): hostile certificates, keystores and file names
# through every command; tests/lib/hostile.py makes them and scans the outputs.
# cli-args-escape.sh does the same with the command line: option names and values, paths.
TESTS += tests/cli-escape.sh tests/cli-args-escape.sh
dist_noinst_SCRIPTS += tests/cli-escape.sh tests/cli-args-escape.sh
EXTRA_DIST += tests/lib/hostile.py
# dbtrust env quoting: values with quotes, '$', backticks, backslashes and '%' reach dash, bash
# and systemd (its own parser: systemd --test and systemd-analyze verify) byte for byte.
TESTS += tests/cli-env.sh tests/cli-config.sh
dist_noinst_SCRIPTS += tests/cli-env.sh tests/cli-config.sh
# NODE_EXTRA_CA_CERTS of dbtrust env with the host's real node: a scoped CA verifies inside its
# scope and fails outside (skipped without node).
TESTS += tests/cli-env-node.sh
dist_noinst_SCRIPTS += tests/cli-env-node.sh
# Outputs (lib/fsutil.c): what a named output may be, written how, and what is refused.
if ENABLE_TESTS
check_PROGRAMS += tests/test_fsutil
UNIT_TESTS += tests/test_fsutil
tests_test_fsutil_SOURCES = tests/test_fsutil.c
tests_test_fsutil_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_fsutil_LDADD = $(TESTS_LIB_LDADD)
endif
# dbtrust doctor: the host's libpq 15 (wired in a private mount namespace), the Debian 13 root's
# libpq 17 with --root, a bundled libcrypto, hostile ELF files, the JVM store.
TESTS += tests/cli-doctor.sh
dist_noinst_SCRIPTS += tests/cli-doctor.sh

# The system-wide provider's openssl.cnf editor (lib/cnfedit.c) on each distribution's layout.
if ENABLE_TESTS
check_PROGRAMS += tests/test_cnfedit
UNIT_TESTS += tests/test_cnfedit
tests_test_cnfedit_SOURCES = tests/test_cnfedit.c
tests_test_cnfedit_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_cnfedit_LDADD = $(TESTS_LIB_LDADD)
endif
EXTRA_DIST += tests/openssl-cnf/debian12.cnf tests/openssl-cnf/debian13.cnf \
	tests/openssl-cnf/fedora.cnf tests/openssl-cnf/custom-names.cnf \
	tests/openssl-cnf/crypto-policy.config
# The system-wide provider in the system's openssl.cnf, on OpenSSL 3.0 and in the Debian 13 root.
TESTS += tests/cli-system-provider.sh
dist_noinst_SCRIPTS += tests/cli-system-provider.sh
# dbtrust check for monitoring: Prometheus output checked by promtool, JSON, Nagios exit statuses,
# hostile subjects, --output's atomic replace and refusals.
TESTS += tests/cli-check-format.sh
dist_noinst_SCRIPTS += tests/cli-check-format.sh
# The optional .meta keys source= and refreshed= (catalog put/get, verify, the import pipeline
# that fetch and refresh record them through); tests/cli-refresh.sh runs dbtrust refresh.
if ENABLE_TESTS
check_PROGRAMS += tests/test_catalog_meta
UNIT_TESTS += tests/test_catalog_meta
tests_test_catalog_meta_SOURCES = tests/test_catalog_meta.c $(TESTPKI_SOURCES)
tests_test_catalog_meta_CFLAGS = $(TESTS_LIB_CFLAGS)
tests_test_catalog_meta_LDADD = $(TESTS_LIB_LDADD)
endif
# A oneshot unit's ExecStart run as systemd would run it, sandbox included, where systemd is not
# PID 1 (tests/deb-package.sh runs dbtrust-refresh.service with it).
EXTRA_DIST += tests/lib/unit-run.sh
# The local HTTPS mirror of the download tests (cli-fetch.sh, cli-refresh.sh, deb-package.sh).
EXTRA_DIST += tests/lib/https.sh
# probe's MySQL greeting parser and SSL request (cli/probe_mysql.c) fed real, truncated and
# hostile bytes; tests/cli-probe-mysql.sh runs probe mysql:// and the mariadb client against a
# real MariaDB server.
if ENABLE_TESTS
check_PROGRAMS += tests/test_probe_mysql
UNIT_TESTS += tests/test_probe_mysql
tests_test_probe_mysql_SOURCES = tests/test_probe_mysql.c cli/probe_mysql.c cli/probe_mysql.h
tests_test_probe_mysql_CFLAGS = $(TESTS_LIB_CFLAGS) -I$(top_srcdir)/cli
tests_test_probe_mysql_LDADD = $(TESTS_LIB_LDADD)
endif
