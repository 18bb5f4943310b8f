## data/local.mk: files installed under $(pkgdatadir): the store's schema,
## the network cfgs, the demo's Makefiles; and `make demo`/`make ablation`.

dist_pkgdata_DATA += \
	data/ablation.mk \
	data/curves.gp \
	data/demo.mk \
	data/detect-small.cfg \
	data/pcb-densenet121.cfg \
	data/pcb-resnet50.cfg \
	data/pcb-small.cfg \
	data/pcb-small-1strip.cfg \
	data/pcb-small-eq.cfg \
	data/pcb-small-arcface.cfg \
	data/pcb-small-avg.cfg \
	data/pcb-small-center.cfg \
	data/pcb-tiny.cfg \
	data/pcb-vgg16bn.cfg \
	data/scale.mk \
	data/schema.sql
EXTRA_DIST += data/mkcfg.py

## The demo (data/demo.mk): the whole method on the synthetic data set, in
## demo/ under the build tree.  `make demo DEMO_FLAGS='EPOCHS=5'` passes
## variables to it; `make ablation` runs data/ablation.mk's table there.
DEMO_FLAGS =
DEMO_MAKE = $(MKDIR_P) demo && cd demo && $(MAKE) \
	HWI_BIN='$(abs_top_builddir)/bin' HWI_DATADIR='$(abs_top_srcdir)/data' $(DEMO_FLAGS)
demo: all
	$(DEMO_MAKE) -f '$(abs_top_srcdir)/data/demo.mk'
ablation: all
	$(DEMO_MAKE) -f '$(abs_top_srcdir)/data/ablation.mk'
clean-local: clean-demo
clean-demo:
	rm -rf demo
.PHONY: demo clean-demo ablation
