# provider/: the OpenSSL 3 store provider for dbtrust:// URIs, in two modules installed side by
# side in OpenSSL's modules directory. dbtrust.so (front.c) is what openssl.cnf loads: it imports
# almost nothing, because OpenSSL binds every import of a module when it loads it, and it loads
# dbtrust-store.so (the store code, linked with libcrypto) on the first dbtrust:// open. Each
# exports nothing but OSSL_provider_init.
modules_LTLIBRARIES += dbtrust.la dbtrust-store.la
dbtrust_la_SOURCES = provider/front.c provider/prov.h
dbtrust_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fvisibility=hidden \
	-DDBT_MODULESDIR='"$(modulesdir)"'
# -nostartfiles: no C runtime start files, whose weak references (__gmon_start__, __cxa_finalize,
# _ITM_*) are each looked up through every loaded library, in vain, at every load (measured:
# 4,200 of openssl version's 6.9 million instructions). front.c needs no constructor.
dbtrust_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-export-symbols-regex '^OSSL_provider_init$$' -Wc,-nostartfiles
# No libraries: dlopen and pthread_mutex_* are in libc (glibc 2.34 and later).

dbtrust_store_la_SOURCES = \
	provider/provider.c provider/store.c provider/reader.c provider/certparts.c \
	provider/prov.h provider/reader.h provider/certparts.h \
	lib/error.c lib/error.h lib/catsafe.c lib/catsafe.h lib/catlayout.c lib/catlayout.h
dbtrust_store_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fvisibility=hidden
# -nostartfiles here too: without the C runtime start files the first dbtrust:// open is spared
# their _init page fault and weak-symbol lookups (the store code has no constructor either).
dbtrust_store_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-export-symbols-regex '^OSSL_provider_init$$' -Wc,-nostartfiles
dbtrust_store_la_LIBADD = $(CRYPTO_LIBS)
