## mk/train.mk: hwi-train and hwi-embed (steps 2-3 of the method), their
## network-free support in lib/train.c, and the end-to-end demo.

lib_libhwi_la_SOURCES += lib/train.c lib/train.h
lib_libhwi_nn_la_SOURCES += lib/tta.c lib/tta.h

bin_PROGRAMS += bin/hwi-train bin/hwi-embed
bin_hwi_train_SOURCES = bin/hwi-train.c
bin_hwi_train_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS) -lm
bin_hwi_embed_SOURCES = bin/hwi-embed.c
bin_hwi_embed_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS) -lm

dist_man_MANS += man/hwi-train.1 man/hwi-embed.1

TESTS += tests/hwi-train.sh tests/hwi-embed.sh
EXTRA_DIST += tests/hwi-train.sh tests/hwi-embed.sh tests/train-data.sh

if HAVE_CHECK
check_PROGRAMS += tests/check_train
TESTS += tests/check_train
tests_check_train_SOURCES = tests/check_train.c
tests_check_train_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_train_LDADD = lib/libhwi.la $(CHECK_LIBS) -lm
endif

## The demo (data/demo.mk): the whole method on the synthetic data set, in
## demo/ under the build tree.  `make demo DEMO_FLAGS='EPOCHS=5'` passes
## variables to it.
dist_pkgdata_DATA += data/demo.mk data/curves.gp data/ablation.mk
EXTRA_DIST += docs/curves.png
DEMO_FLAGS =
demo: all
	$(MKDIR_P) demo
	cd demo && $(MAKE) -f '$(abs_top_srcdir)/data/demo.mk' \
	    HWI_BIN='$(abs_top_builddir)/bin' HWI_DATADIR='$(abs_top_srcdir)/data' $(DEMO_FLAGS)
clean-local: clean-demo
clean-demo:
	rm -rf demo
## `make ablation`: data/ablation.mk's table in demo/ablation.
ablation: all
	$(MKDIR_P) demo
	cd demo && $(MAKE) -f '$(abs_top_srcdir)/data/ablation.mk' \
	    HWI_BIN='$(abs_top_builddir)/bin' HWI_DATADIR='$(abs_top_srcdir)/data' $(DEMO_FLAGS)
.PHONY: demo clean-demo ablation
