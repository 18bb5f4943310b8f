## tests/local.mk: unit tests (Check) and program tests (shell).
##
## tests/check_hwi runs one Check suite per lib module; CK_RUN_SUITE=stream
## runs one, CK_FORK=no runs them in-process for gdb or valgrind.
## tests/*.sh drive the programs; each sources tests/init.sh.

TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	HWI_BIN='$(abs_top_builddir)/bin'; export HWI_BIN; \
	HWI_DATADIR='$(abs_top_srcdir)/data'; export HWI_DATADIR; \
	srcdir='$(abs_srcdir)'; export srcdir; \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	LSAN_OPTIONS='suppressions=$(abs_top_srcdir)/tests/lsan.supp print_suppressions=0'; \
	export LSAN_OPTIONS; \
	ASAN_OPTIONS='detect_leaks=1 abort_on_error=0'; export ASAN_OPTIONS; \
	UBSAN_OPTIONS='print_stacktrace=1 halt_on_error=1'; export UBSAN_OPTIONS; \
	TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$(abs_top_srcdir)/tests/tsan.supp'; \
	export TSAN_OPTIONS;
if ENABLE_TSAN
# TSan makes the threaded cases many times slower: longer Check
# timeouts for this build only.
AM_TESTS_ENVIRONMENT += CK_TIMEOUT_MULTIPLIER=10; export CK_TIMEOUT_MULTIPLIER;
endif
if ENABLE_VALGRIND
AM_TESTS_ENVIRONMENT += \
	HWI_VALGRIND='$(VALGRIND) -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$(abs_top_srcdir)/tests/valgrind.supp'; \
	export HWI_VALGRIND; CK_FORK=no; export CK_FORK;
LOG_COMPILER = $(VALGRIND) -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$(abs_top_srcdir)/tests/valgrind.supp
endif

EXTRA_DIST += tests/init.sh tests/lsan.supp tests/tsan.supp tests/valgrind.supp tests/check_hwi.h

## Unit tests.  check_hwi holds one Check suite per libhwi and
## libhwi_image module; tests/check_hwi.h lists them (HWI_SUITES), so a
## suite left out of the build fails the link.  The network's tests are
## their own programs because libdarknet sets flush-to-zero process-wide
## (darknet-notes P14): check_nn (lib/nn*.c) and check_nn_gemm (hwi's
## kernels against Darknet's own, in one process).
if HAVE_CHECK
check_PROGRAMS += tests/check_hwi tests/check_nn tests/check_nn_gemm
TESTS += tests/check_hwi tests/check_nn tests/check_nn_gemm
tests_check_hwi_SOURCES = tests/check_hwi.c tests/check_hwi.h \
	tests/check_csv.c \
	tests/check_db.c \
	tests/check_detect.c \
	tests/check_fuse.c \
	tests/check_image.c \
	tests/check_io.c \
	tests/check_knn.c \
	tests/check_metric.c \
	tests/check_opt.c \
	tests/check_photo.c \
	tests/check_pool.c \
	tests/check_rng.c \
	tests/check_split.c \
	tests/check_stream.c \
	tests/check_synth.c \
	tests/check_train.c \
	tests/check_tsv.c
tests_check_hwi_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_check_hwi_LDADD = lib/libhwi_image.la lib/libhwi.la $(VIPS_LIBS) $(JPEG_LIBS) $(CHECK_LIBS) \
	$(SQLITE_LIBS) $(BLAS_LIBS) $(PTHREAD_LIBS) -lm

tests_check_nn_SOURCES = tests/check_nn.c
tests_check_nn_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_check_nn_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(DARKNET_CFLAGS)
tests_check_nn_LDADD = $(NN_LDADD) $(CHECK_LIBS)
tests_check_nn_gemm_SOURCES = tests/check_nn_gemm.c
tests_check_nn_gemm_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(DARKNET_CFLAGS)
tests_check_nn_gemm_LDADD = $(NN_LDADD) $(CHECK_LIBS)
endif

## Program tests: each drives the programs through tests/init.sh.
PROGRAM_TESTS = \
	tests/bad-input-formats.sh \
	tests/bad-input.sh \
	tests/demo-make.sh \
	tests/hwi-crop.sh \
	tests/hwi-detect.sh \
	tests/hwi-embed.sh \
	tests/hwi-eval.sh \
	tests/hwi-fuse.sh \
	tests/hwi-identify.sh \
	tests/hwi-knn-rerank.sh \
	tests/hwi-knn.sh \
	tests/hwi-sheet-browser.sh \
	tests/hwi-sheet.sh \
	tests/hwi-split.sh \
	tests/hwi-store.sh \
	tests/hwi-synth.sh \
	tests/hwi-thresh.sh \
	tests/hwi-train.sh \
	tests/hwi-vec.sh \
	tests/kill9.sh \
	tests/man.sh \
	tests/options.sh \
	tests/parallel.sh \
	tests/signals.sh
TESTS += $(PROGRAM_TESTS)
EXTRA_DIST += $(PROGRAM_TESTS) tests/train-data.sh tests/store-v1.sql \
	tests/rerank/make-fixture.py tests/rerank/ref.py \
	tests/rerank/gallery.txt tests/rerank/queries.txt tests/rerank/labels.csv \
	tests/rerank/qe_3-3.tsv tests/rerank/qe_2-0.tsv tests/rerank/centroid.tsv \
	tests/rerank/rerank_20-6-0.3.tsv tests/rerank/rerank_4-1-0.tsv \
	tests/rerank/rerank_5-3-0.5.tsv tests/rerank/qe_2-1_rerank_6-2-0.2.tsv
