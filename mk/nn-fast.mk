## mk/nn-fast.mk: Darknet's hot loops on OpenBLAS (issue 5, "Fast").
##
## lib/nn_gemm.c replaces Darknet's gemm, gemm_cpu, im2col_cpu, col2im_cpu,
## the convolutional layer's forward/backward and the element-wise loops
## (see its header); it is part of lib/libhwi_nn.la (mk/nn.mk), where
## hwi_nn_set_threads calls into it so that it is always linked.
lib_libhwi_nn_la_SOURCES += lib/nn_gemm.c lib/nn_gemm.h

## Unit test: hwi's functions against Darknet's own, in one process.  Its
## own program, because libdarknet sets flush-to-zero process-wide.
if HAVE_CHECK
check_PROGRAMS += tests/check_nn_gemm
TESTS += tests/check_nn_gemm
tests_check_nn_gemm_SOURCES = tests/check_nn_gemm.c
tests_check_nn_gemm_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(DARKNET_CFLAGS)
tests_check_nn_gemm_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS) $(CHECK_LIBS)
endif

## Benchmark: `make bench` builds the drivers and runs bench/nn-speed, which
## prints images/s of stock Darknet, hwi's kernels in Darknet's layers,
## hwi's real path (lib/nn.h on bench/nn-speed-hwi.cfg) and PyTorch, and
## their ratios.  The drivers are not built by `make` or `make check`.
EXTRA_PROGRAMS = bench/nn-speed-darknet bench/nn-speed-hwi-nn
bench_nn_speed_darknet_SOURCES = bench/nn-speed.c
bench_nn_speed_darknet_CFLAGS = $(AM_CFLAGS) $(DARKNET_CFLAGS)
bench_nn_speed_darknet_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS)
bench_nn_speed_hwi_nn_SOURCES = bench/nn-speed-hwi.c
bench_nn_speed_hwi_nn_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS)
CLEANFILES += bench/nn-speed-darknet$(EXEEXT) bench/nn-speed-hwi-nn$(EXEEXT)
EXTRA_DIST += bench/nn-speed bench/nn-speed.py bench/nn-speed.cfg bench/nn-speed-hwi.cfg

.PHONY: bench bench-nn-speed
bench: bench-nn-speed
bench-nn-speed: bench/nn-speed-darknet$(EXEEXT) bench/nn-speed-hwi-nn$(EXEEXT)
	NN_SPEED_DRIVER=bench/nn-speed-darknet$(EXEEXT) \
	NN_SPEED_HWI_DRIVER=bench/nn-speed-hwi-nn$(EXEEXT) $(SHELL) $(srcdir)/bench/nn-speed

## bench/nn-speed is a script beside bench/nn-speed.c: this empty rule keeps
## make's built-in `%: %.c' rule from compiling the C file over it (in
## `make dist') when the .c file is the newer.
bench/nn-speed: ; @:
