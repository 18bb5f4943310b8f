## mk/nn.mk: the network backend on Darknet (lib/nn*.c), its cfg files,
## its man page and its unit tests.  nn-fast.mk adds the BLAS gemm.

noinst_LTLIBRARIES += lib/libhwi_nn.la
lib_libhwi_nn_la_SOURCES = lib/nn.c lib/nn.h lib/nn_int.h lib/nn_layers.c \
	lib/nn_cfg.c lib/nn_build.c lib/nn_weights.c
lib_libhwi_nn_la_CFLAGS = $(AM_CFLAGS) $(DARKNET_CFLAGS) $(BLAS_CFLAGS)
lib_libhwi_nn_la_LIBADD = $(DARKNET_LIBS) $(BLAS_LIBS)

dist_pkgdata_DATA += \
	data/pcb-tiny.cfg \
	data/pcb-small.cfg \
	data/pcb-vgg16bn.cfg \
	data/pcb-resnet50.cfg \
	data/pcb-densenet121.cfg
EXTRA_DIST += data/mkcfg.py
dist_man_MANS += man/hwi-nn.5

if HAVE_CHECK
check_PROGRAMS += tests/check_nn
TESTS += tests/check_nn
tests_check_nn_SOURCES = tests/check_nn.c
tests_check_nn_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_check_nn_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(DARKNET_CFLAGS)
tests_check_nn_LDADD = lib/libhwi_nn.la lib/libhwi.la $(CHECK_LIBS) $(DARKNET_LIBS) $(BLAS_LIBS)
endif
