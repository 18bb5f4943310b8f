## fuzz/local.mk: fuzzing the readers (see fuzz/README).
## `make check` runs fuzz/fuzz-regress: every seed (fuzz/corpus/TARGET) and
## every input that once failed (fuzz/regress/TARGET) through the targets'
## entry points, built with the normal compiler.  `make fuzz` builds the
## libFuzzer binaries with clang (fuzz/fuzz.mk) and runs each for
## FUZZ_SECONDS; it is no part of all or check and needs clang only then.

check_PROGRAMS += fuzz/fuzz-regress
TESTS += fuzz/fuzz-regress
fuzz_fuzz_regress_SOURCES = fuzz/regress.c fuzz/util.c fuzz/fuzz.h \
	fuzz/fuzz_csv.c fuzz/fuzz_tsv.c fuzz/fuzz_stream.c fuzz/fuzz_db.c \
	fuzz/fuzz_cfg.c fuzz/fuzz_weights.c
fuzz_fuzz_regress_CPPFLAGS = $(AM_CPPFLAGS) -DHWI_FUZZ_REGRESS
fuzz_fuzz_regress_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS) \
	$(SQLITE_LIBS)
EXTRA_DIST += fuzz/README fuzz/fuzz.mk fuzz/corpus fuzz/regress

FUZZ_SECONDS = 60
FUZZ_TARGETS = csv tsv stream cfg weights db
fuzz: lib/schema.h
	$(MAKE) -f $(abs_top_srcdir)/fuzz/fuzz.mk \
	  top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_TARGETS='$(FUZZ_TARGETS)' \
	  LIB_SOURCES='$(filter %.c,$(lib_libhwi_la_SOURCES))' \
	  NN_SOURCES='$(filter %.c,$(lib_libhwi_nn_la_SOURCES))' \
	  DARKNET_CFLAGS='$(DARKNET_CFLAGS)' DARKNET_LIBS='$(DARKNET_LIBS)' \
	  BLAS_CFLAGS='$(BLAS_CFLAGS)' BLAS_LIBS='$(BLAS_LIBS)' \
	  SQLITE_CFLAGS='$(SQLITE_CFLAGS)' SQLITE_LIBS='$(SQLITE_LIBS)'
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/bin fuzz/obj
.PHONY: fuzz clean-fuzz
