# make bench-print: dbtrust -printcert -v vs keytool vs openssl pkcs7 on the 108-cert global bundle.
bench-print: dbtrust
	DBTRUST='$(abs_top_builddir)/dbtrust' DBTRUST_REALDATA='$(REALDATA_DIR)' \
		$(SHELL) $(top_srcdir)/bench/print-bench.sh
.PHONY: bench-print
EXTRA_DIST += bench/print-bench.sh
