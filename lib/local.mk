## lib/local.mk: the three libraries the programs share, one per external
## dependency (STYLE.md: one owner per library).
##
##   libhwi.la        formats, store, metrics, fitting, random numbers, the
##                    thread pool, the knn product (SQLite, OpenBLAS,
##                    pthreads, libm; no Darknet, no libvips)
##   libhwi_image.la  photos, crops, contact sheets, the synthetic data set
##                    (libvips)
##   libhwi_nn.la     the network backend (Darknet, with its hot loops on
##                    OpenBLAS in lib/nn_gemm.c) and test-time augmentation

noinst_LTLIBRARIES += lib/libhwi.la
lib_libhwi_la_SOURCES = \
	lib/csv.c lib/csv.h \
	lib/db.c lib/db.h \
	lib/detect.c lib/detect.h \
	lib/err.c lib/err.h \
	lib/fuse.c lib/fuse.h \
	lib/io.c lib/io.h \
	lib/knn.c lib/knn.h \
	lib/map.c lib/map.h \
	lib/metric.c lib/metric.h \
	lib/opt.c lib/opt.h \
	lib/photo.c lib/photo.h \
	lib/pool.c lib/pool.h \
	lib/progress.c lib/progress.h \
	lib/rerank.c lib/rerank.h \
	lib/rng.c lib/rng.h \
	lib/sha256.c lib/sha256.h \
	lib/split.c lib/split.h \
	lib/stream.c lib/stream.h \
	lib/thresh.c lib/thresh.h \
	lib/train.c lib/train.h \
	lib/tsv.c lib/tsv.h
nodist_lib_libhwi_la_SOURCES = lib/schema.h
lib_libhwi_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(BLAS_CFLAGS)
lib_libhwi_la_LIBADD = $(SQLITE_LIBS) $(BLAS_LIBS) $(PTHREAD_LIBS) -lm

# The store's schema is data/schema.sql, compiled in as a C string.
BUILT_SOURCES += lib/schema.h
CLEANFILES += lib/schema.h
lib/schema.h: $(top_srcdir)/data/schema.sql
	$(AM_V_GEN)$(MKDIR_P) lib && \
	{ echo '/* made from data/schema.sql by lib/local.mk; do not edit */'; \
	  echo '#define HWI_SCHEMA_SQL \'; \
	  $(SED) -e '/^--/d' -e '/^$$/d' -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
	         -e 's/^/    "/' -e 's/$$/\\n" \\/' $(top_srcdir)/data/schema.sql; \
	  echo '    ""'; } > $@-t && mv $@-t $@

# Also for targets outside all/check/install (make bench), which do not
# make BUILT_SOURCES first.
$(lib_libhwi_la_OBJECTS): lib/schema.h

noinst_LTLIBRARIES += lib/libhwi_image.la
lib_libhwi_image_la_SOURCES = \
	lib/image.c lib/image.h \
	lib/sheet.c lib/sheet.h \
	lib/synth.c lib/synth.h
lib_libhwi_image_la_CFLAGS = $(AM_CFLAGS) $(VIPS_CFLAGS) $(JPEG_CFLAGS)
lib_libhwi_image_la_LIBADD = $(VIPS_LIBS) $(JPEG_LIBS) $(PTHREAD_LIBS) -lm

# lib/nn.c's header says which file holds what; hwi_nn_set_threads calls
# into lib/nn_gemm.c, so its replacements of Darknet's loops are always
# linked.
noinst_LTLIBRARIES += lib/libhwi_nn.la
lib_libhwi_nn_la_SOURCES = \
	lib/nn.c lib/nn.h lib/nn_int.h \
	lib/nn_build.c \
	lib/nn_cfg.c \
	lib/nn_gemm.c lib/nn_gemm.h \
	lib/nn_layers.c \
	lib/nn_weights.c \
	lib/tta.c lib/tta.h
lib_libhwi_nn_la_CFLAGS = $(AM_CFLAGS) $(DARKNET_CFLAGS) $(BLAS_CFLAGS)
lib_libhwi_nn_la_LIBADD = $(DARKNET_LIBS) $(BLAS_LIBS)
