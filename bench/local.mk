## bench/local.mk: benchmarks, run by hand (see bench/README); each runs
## its competitor side by side and prints the ratio.

EXTRA_DIST += \
	bench/README \
	bench/crop bench/crop-stress \
	bench/detect \
	bench/fuse/README bench/fuse/gen.py bench/fuse/fuse_pandas.py \
	bench/fuse/run.sh bench/fuse/demo.py bench/fuse/demo.sh \
	bench/fuse/compare.py bench/fuse/map5.py \
	bench/knn bench/knn.py \
	bench/knn-raw \
	bench/nn-speed bench/nn-speed.py bench/nn-speed.cfg bench/nn-speed-hwi.cfg

## `make bench` builds the drivers and runs bench/nn-speed, which prints
## images/s of stock Darknet, hwi's kernels in Darknet's layers, hwi's real
## path (lib/nn.h on bench/nn-speed-hwi.cfg) and PyTorch, and their ratios.
## The drivers are not built by `make` or `make check`.
EXTRA_PROGRAMS = bench/nn-speed-darknet bench/nn-speed-hwi-nn
bench_nn_speed_darknet_SOURCES = bench/nn-speed.c
bench_nn_speed_darknet_CFLAGS = $(AM_CFLAGS) $(DARKNET_CFLAGS)
bench_nn_speed_darknet_LDADD = $(NN_LDADD)
bench_nn_speed_hwi_nn_SOURCES = bench/nn-speed-hwi.c
bench_nn_speed_hwi_nn_LDADD = $(NN_LDADD)
CLEANFILES += bench/nn-speed-darknet$(EXEEXT) bench/nn-speed-hwi-nn$(EXEEXT)

.PHONY: bench bench-nn-speed
bench: bench-nn-speed
bench-nn-speed: bench/nn-speed-darknet$(EXEEXT) bench/nn-speed-hwi-nn$(EXEEXT)
	NN_SPEED_DRIVER=bench/nn-speed-darknet$(EXEEXT) \
	NN_SPEED_HWI_DRIVER=bench/nn-speed-hwi-nn$(EXEEXT) $(SHELL) $(srcdir)/bench/nn-speed

## bench/nn-speed is a script beside bench/nn-speed.c: this empty rule keeps
## make's built-in `%: %.c' rule from compiling the C file over it (in
## `make dist') when the .c file is the newer.
bench/nn-speed: ; @:
