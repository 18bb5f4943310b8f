## lib/local.mk: libhwi, all the logic the programs share.
## libhwi.la: formats, store, metrics, random numbers, the thread pool (links
## SQLite, pthreads and libm; no Darknet, no libvips).

noinst_LTLIBRARIES += lib/libhwi.la
lib_libhwi_la_SOURCES = \
	lib/err.c lib/err.h \
	lib/progress.c lib/progress.h \
	lib/opt.c lib/opt.h \
	lib/map.c lib/map.h \
	lib/csv.c lib/csv.h \
	lib/tsv.c lib/tsv.h \
	lib/stream.c lib/stream.h \
	lib/db.c lib/db.h \
	lib/metric.c lib/metric.h \
	lib/pool.c lib/pool.h \
	lib/rng.c lib/rng.h
nodist_lib_libhwi_la_SOURCES = lib/schema.h
lib_libhwi_la_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
lib_libhwi_la_LIBADD = $(SQLITE_LIBS) $(PTHREAD_LIBS) -lm

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

## libhwi_image.la: images on libvips (links vips only).
noinst_LTLIBRARIES += lib/libhwi_image.la
lib_libhwi_image_la_SOURCES = lib/image.c lib/image.h
lib_libhwi_image_la_CFLAGS = $(AM_CFLAGS) $(VIPS_CFLAGS)
lib_libhwi_image_la_LIBADD = $(VIPS_LIBS)

# Also for targets outside all/check/install (make bench), which do not
# make BUILT_SOURCES first.
$(lib_libhwi_la_OBJECTS): lib/schema.h
