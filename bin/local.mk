## bin/local.mk: the programs; each is a thin main over the libraries of
## lib/local.mk.

NN_LDADD = lib/libhwi_nn.la lib/libhwi.la $(DARKNET_LIBS) $(BLAS_LIBS) -lm
IMAGE_LDADD = lib/libhwi_image.la lib/libhwi.la $(PTHREAD_LIBS)

bin_PROGRAMS += \
	bin/hwi-crop \
	bin/hwi-detect \
	bin/hwi-embed \
	bin/hwi-eval \
	bin/hwi-fuse \
	bin/hwi-knn \
	bin/hwi-sheet \
	bin/hwi-split \
	bin/hwi-store \
	bin/hwi-synth \
	bin/hwi-thresh \
	bin/hwi-train \
	bin/hwi-vec

bin_hwi_crop_SOURCES = bin/hwi-crop.c
bin_hwi_crop_LDADD = $(IMAGE_LDADD)
bin_hwi_detect_SOURCES = bin/hwi-detect.c
bin_hwi_detect_LDADD = lib/libhwi_image.la $(NN_LDADD) $(PTHREAD_LIBS)
bin_hwi_embed_SOURCES = bin/hwi-embed.c
bin_hwi_embed_LDADD = $(NN_LDADD)
bin_hwi_eval_SOURCES = bin/hwi-eval.c
bin_hwi_eval_LDADD = lib/libhwi.la
bin_hwi_fuse_SOURCES = bin/hwi-fuse.c
bin_hwi_fuse_LDADD = lib/libhwi.la
bin_hwi_knn_SOURCES = bin/hwi-knn.c
bin_hwi_knn_LDADD = lib/libhwi.la $(BLAS_LIBS)
bin_hwi_sheet_SOURCES = bin/hwi-sheet.c
bin_hwi_sheet_LDADD = $(IMAGE_LDADD)
bin_hwi_split_SOURCES = bin/hwi-split.c
bin_hwi_split_LDADD = lib/libhwi.la
bin_hwi_store_SOURCES = bin/hwi-store.c
bin_hwi_store_LDADD = lib/libhwi.la
bin_hwi_synth_SOURCES = bin/hwi-synth.c
bin_hwi_synth_LDADD = $(IMAGE_LDADD)
bin_hwi_thresh_SOURCES = bin/hwi-thresh.c
bin_hwi_thresh_LDADD = lib/libhwi.la
bin_hwi_train_SOURCES = bin/hwi-train.c
bin_hwi_train_LDADD = $(NN_LDADD)
bin_hwi_vec_SOURCES = bin/hwi-vec.c
bin_hwi_vec_LDADD = lib/libhwi.la

# hwi-identify is a shell script; configure's version goes in at build time.
bin_SCRIPTS = bin/hwi-identify
CLEANFILES += bin/hwi-identify
EXTRA_DIST += bin/hwi-identify.in
bin/hwi-identify: $(top_srcdir)/bin/hwi-identify.in Makefile
	$(AM_V_GEN)$(MKDIR_P) bin && \
	$(SED) -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' $(top_srcdir)/bin/hwi-identify.in > $@-t && \
	chmod +x $@-t && mv $@-t $@
