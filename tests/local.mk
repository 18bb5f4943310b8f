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

if HAVE_CHECK
check_PROGRAMS += tests/check_hwi
TESTS += tests/check_hwi
tests_check_hwi_SOURCES = tests/check_hwi.c tests/check_hwi.h \
	tests/check_opt.c tests/check_csv.c tests/check_tsv.c \
	tests/check_stream.c tests/check_db.c tests/check_metric.c \
	tests/check_rng.c tests/check_pool.c
tests_check_hwi_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(SQLITE_CFLAGS)
tests_check_hwi_LDADD = lib/libhwi.la $(CHECK_LIBS) $(SQLITE_LIBS)
endif

TESTS += \
	tests/hwi-vec.sh \
	tests/man.sh \
	tests/signals.sh \
	tests/kill9.sh \
	tests/bad-input.sh \
	tests/bad-input-formats.sh \
	tests/demo-make.sh \
	tests/options.sh
EXTRA_DIST += \
	tests/hwi-vec.sh \
	tests/man.sh \
	tests/signals.sh \
	tests/kill9.sh \
	tests/bad-input.sh \
	tests/bad-input-formats.sh \
	tests/demo-make.sh \
	tests/options.sh
