# provider/: dbtrust.so, the OpenSSL 3 store provider for dbtrust:// URIs. It links libcrypto
# only and exports nothing but OSSL_provider_init.
modules_LTLIBRARIES += dbtrust.la
dbtrust_la_SOURCES = \
	provider/provider.c provider/store.c provider/reader.c provider/certparts.c \
	provider/prov.h provider/reader.h provider/certparts.h \
	lib/error.c lib/error.h
dbtrust_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fvisibility=hidden
dbtrust_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-export-symbols-regex '^OSSL_provider_init$$'
dbtrust_la_LIBADD = $(CRYPTO_LIBS)

# The openssl.cnf snippet (`dbtrust config` prints it; cli/ compiles provider/cnf.c).
EXTRA_DIST += provider/cnf.c provider/cnf.h
