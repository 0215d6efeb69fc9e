# make bench-print: dbtrust -printcert -v vs keytool vs openssl pkcs7 on the 108-cert global bundle.
bench-print: dbtrust
	DBTRUST='$(abs_top_builddir)/dbtrust' DBTRUST_REALDATA='$(REALDATA_DIR)' \
		$(SHELL) $(top_srcdir)/bench/print-bench.sh
.PHONY: bench-print
EXTRA_DIST += bench/print-bench.sh

# make bench-provider: dbtrust.so's costs in callgrind instructions (bench/provider-bench.sh).
noinst_PROGRAMS += bench/provider-bench
bench_provider_bench_SOURCES = bench/provider-bench.c
bench_provider_bench_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS) $(CRYPTO_CFLAGS)
bench_provider_bench_LDADD = $(SSL_LIBS) $(CRYPTO_LIBS)
bench-provider: dbtrust.la dbtrust-store.la bench/provider-bench tests/test_provider_cnf
	DBTRUST_SRCDIR='$(abs_top_srcdir)' DBTRUST_BUILDDIR='$(abs_top_builddir)' \
		DBTRUST_REALDATA='$(REALDATA_DIR)' OPENSSL_MODULES='$(abs_top_builddir)/.libs' \
		DBTRUST_CACHE='$(DBTRUST_CACHE_DIR)' $(SHELL) $(top_srcdir)/bench/provider-bench.sh
.PHONY: bench-provider
EXTRA_DIST += bench/provider-bench.sh

# make bench-trust: per-connection trust setup with the catalog enabled vs nothing vs the bundle
# file grown vs lazy mode (env --lazy) (bench/trust-setup.sh; callgrind counts, interleaved wall
# times, psql hyperfine, psql stock vs lazy on OpenSSL 3.0 and 3.5).
noinst_PROGRAMS += bench/trust-setup
bench_trust_setup_SOURCES = bench/trust-setup.c
bench_trust_setup_CFLAGS = $(AM_CFLAGS) $(SSL_CFLAGS) $(CRYPTO_CFLAGS)
bench_trust_setup_LDADD = $(SSL_LIBS) $(CRYPTO_LIBS)
bench-trust: dbtrust bench/trust-setup
	DBTRUST_SRCDIR='$(abs_top_srcdir)' DBTRUST_BUILDDIR='$(abs_top_builddir)' \
		DBTRUST='$(abs_top_builddir)/dbtrust' DBTRUST_REALDATA='$(REALDATA_DIR)' \
		DBTRUST_CACHE='$(DBTRUST_CACHE_DIR)' $(SHELL) $(top_srcdir)/bench/trust-setup.sh
.PHONY: bench-trust
EXTRA_DIST += bench/trust-setup.sh

# make bench-catalog: what a commit, a listing and a provider lookup cost as the catalog grows
# (0, 100 and 1,000 bundles of 3 certificates; wall time, system calls, callgrind instructions;
# bench/catalog-bench.sh).
noinst_PROGRAMS += bench/catalog-bench
bench_catalog_bench_SOURCES = bench/catalog-bench.c
bench_catalog_bench_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
bench_catalog_bench_LDADD = lib/libdbtrust.la $(CRYPTO_LIBS)
bench-catalog: dbtrust dbtrust.la bench/catalog-bench bench/provider-bench tests/test_provider_cnf
	DBTRUST_SRCDIR='$(abs_top_srcdir)' DBTRUST_BUILDDIR='$(abs_top_builddir)' \
		DBTRUST='$(abs_top_builddir)/dbtrust' OPENSSL_MODULES='$(abs_top_builddir)/.libs' \
		$(SHELL) $(top_srcdir)/bench/catalog-bench.sh
.PHONY: bench-catalog
EXTRA_DIST += bench/catalog-bench.sh
