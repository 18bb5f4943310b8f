## mk/nn-fast.mk: Darknet's hot loops on OpenBLAS (issue 5, "Fast").
##
## lib/nn_gemm.c replaces Darknet's gemm, gemm_cpu, im2col_cpu, col2im_cpu
## and the convolutional layer's forward/backward (see its header).  It
## belongs in lib/libhwi_nn.la; until that library is merged it is built as
## its own convenience library, lib/libhwi_gemm.la.  Once mk/nn.mk defines
## lib/libhwi_nn.la, replace the libhwi_gemm.la lines below by
##     lib_libhwi_nn_la_SOURCES += lib/nn_gemm.c lib/nn_gemm.h
## (libhwi_nn_la_CFLAGS must hold $(DARKNET_CFLAGS) $(BLAS_CFLAGS) and its
## LIBADD $(BLAS_LIBS)), and link the two programs below with
## lib/libhwi_nn.la instead.

noinst_LTLIBRARIES += lib/libhwi_gemm.la
lib_libhwi_gemm_la_SOURCES = lib/nn_gemm.c lib/nn_gemm.h
lib_libhwi_gemm_la_CFLAGS = $(AM_CFLAGS) $(DARKNET_CFLAGS) $(BLAS_CFLAGS)
lib_libhwi_gemm_la_LIBADD = $(BLAS_LIBS)

## Unit test: hwi's functions against Darknet's own, in one process.  Its
## own program, because libdarknet sets flush-to-zero process-wide.
if HAVE_CHECK
check_PROGRAMS += tests/check_nn_gemm
TESTS += tests/check_nn_gemm
tests_check_nn_gemm_SOURCES = tests/check_nn_gemm.c
tests_check_nn_gemm_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(DARKNET_CFLAGS)
tests_check_nn_gemm_LDADD = lib/libhwi_gemm.la $(DARKNET_LIBS) $(BLAS_LIBS) $(CHECK_LIBS)
endif

## Benchmark: `make bench` builds the driver and runs bench/nn-speed, which
## prints images/s of stock Darknet, hwi and PyTorch and their ratios.
## The driver is not built by `make` or `make check`.
EXTRA_PROGRAMS = bench/nn-speed-darknet
bench_nn_speed_darknet_SOURCES = bench/nn-speed.c
bench_nn_speed_darknet_CFLAGS = $(AM_CFLAGS) $(DARKNET_CFLAGS)
bench_nn_speed_darknet_LDADD = lib/libhwi_gemm.la $(DARKNET_LIBS) $(BLAS_LIBS)
CLEANFILES += bench/nn-speed-darknet$(EXEEXT)
EXTRA_DIST += bench/nn-speed bench/nn-speed.py bench/nn-speed.cfg

.PHONY: bench bench-nn-speed
bench: bench-nn-speed
bench-nn-speed: bench/nn-speed-darknet$(EXEEXT)
	NN_SPEED_DRIVER=bench/nn-speed-darknet$(EXEEXT) $(SHELL) $(srcdir)/bench/nn-speed
