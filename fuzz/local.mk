# fuzz/: libFuzzer targets for every decoder (fuzz/fuzz_*.c), built by fuzz/fuzz.sh with clang
# outside automake (they need -fsanitize=fuzzer, which nothing else may get).
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="fuzz_pem ..."]   run each target, one at a time
#   make fuzz-replay                                            replay the seeds once (as make check)
# Found inputs go to fuzz-out/corpus/<target>, crashes to fuzz-out/artifacts/<target>.
FUZZ_SECONDS = 60
FUZZ_TARGETS =
FUZZ_ENV = FUZZ_SRCDIR='$(abs_top_srcdir)' FUZZ_BUILDDIR='$(abs_top_builddir)' \
	DBTRUST='$(abs_top_builddir)/dbtrust' DBTRUST_REALDATA='$(REALDATA_DIR)'
fuzz: dbtrust
	$(FUZZ_ENV) $(SHELL) $(top_srcdir)/fuzz/fuzz.sh run '$(abs_top_builddir)/fuzz-out' \
		$(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-replay: dbtrust
	$(FUZZ_ENV) $(SHELL) $(top_srcdir)/fuzz/fuzz.sh replay '$(abs_top_builddir)/fuzz-replay' \
		$(FUZZ_TARGETS)
.PHONY: fuzz fuzz-replay
clean-local: clean-fuzz
clean-fuzz:
	rm -rf fuzz-out fuzz-replay
.PHONY: clean-fuzz
EXTRA_DIST += fuzz/fuzz.sh fuzz/make-corpus.sh fuzz/fuzz_common.c fuzz/fuzz_common.h \
	fuzz/replay_main.c fuzz/fuzz_bundle.c fuzz/fuzz_pem.c fuzz/fuzz_jks.c fuzz/fuzz_p12.c \
	fuzz/fuzz_catalog_index.c fuzz/fuzz_provider.c fuzz/corpus
