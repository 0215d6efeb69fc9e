# lib/: code shared by the CLI and the provider.
noinst_LTLIBRARIES += lib/libdbtrust.la
lib_libdbtrust_la_SOURCES = \
	lib/error.c lib/error.h lib/escape.c lib/escape.h \
	lib/bundle.h lib/encode.h lib/certinfo.h lib/catalog.h
# Codes and hints of lib/'s errors, rendered by the program in its own words (not in the provider).
lib_libdbtrust_la_SOURCES += lib/hint.c
lib_libdbtrust_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
lib_libdbtrust_la_LIBADD = $(CRYPTO_LIBS)
# Bundles: decoding by content (PEM, DER, PKCS#7), certificate facts, encoding.
lib_libdbtrust_la_SOURCES += \
	lib/bundle.c lib/pem.c lib/p7.c lib/certinfo.c lib/encode.c
# The format table: every format's names, sniffer, decoder and encoder (not in the provider).
lib_libdbtrust_la_SOURCES += lib/format.c lib/format.h
# Trust settings carried by TRUSTED CERTIFICATE and PKCS#12 inputs, never widened on output.
lib_libdbtrust_la_SOURCES += lib/trust.c lib/trust.h
# Java truststores: PKCS#12 and JKS/JCEKS, read and written.
lib_libdbtrust_la_SOURCES += lib/p12.c lib/p12.h lib/jks.c lib/jks.h
# Catalog: named bundles on disk, generated views, atomic changes; file helpers it writes with.
lib_libdbtrust_la_SOURCES += lib/catalog.c lib/catalog_txn.c lib/catalog_verify.c lib/catalog_int.h \
	lib/fsutil.c lib/fsutil.h lib/catsafe.c lib/catsafe.h
# Scoped trust: scope texts and name-constrained cross-certificates; the catalog's trust view.
lib_libdbtrust_la_SOURCES += lib/scope.c lib/scope.h lib/catalog_trust.c
# The catalog's names, constants and line formats, one parser for lib/, the provider and tests.
lib_libdbtrust_la_SOURCES += lib/catlayout.c lib/catlayout.h
# Standalone hashed directories (export/convert --to hashed-dir).
lib_libdbtrust_la_SOURCES += lib/hashdir.c lib/hashdir.h
# The openssl.cnf that loads the provider (dbtrust config, the provider tests' OPENSSL_CONF).
lib_libdbtrust_la_SOURCES += lib/osslcnf.c lib/osslcnf.h
# The system-wide provider: marked blocks added to and removed from the system's openssl.cnf.
lib_libdbtrust_la_SOURCES += lib/cnfedit.c lib/cnfedit.h
# System wiring (dbtrust system, env --lazy, and the follow of every catalog commit): state file
# and lock, links and their journal, the bundle-file block, OpenSSL default-lookup checks.
lib_libdbtrust_la_SOURCES += lib/syswire.c lib/syswire.h lib/sys_int.h lib/sys_state.c \
	lib/sys_links.c lib/sys_bundle.c lib/sys_lazy.c
lib_libdbtrust_la_SOURCES += lib/sys_jvm.c
# Which wired bundles are trusted for every host name beyond what the system trusts (status).
lib_libdbtrust_la_SOURCES += lib/sys_scope.c
# Import and removal: the pipeline behind import, fetch and keytool (decode, filter, one commit).
lib_libdbtrust_la_SOURCES += lib/import.c lib/import.h
# Trust consumers (dbtrust doctor): ELF dependencies and libcrypto strings read from files, a
# root file system read through openat2, the JVM store counted against the catalog.
lib_libdbtrust_la_SOURCES += lib/consumers.c lib/consumers.h lib/elfdeps.c lib/rootfs.c lib/rootfs.h
