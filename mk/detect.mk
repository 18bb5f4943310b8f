## mk/detect.mk: hwi-detect, the fluke box of a photo without one: the
## [box] layer is in lib/nn*.c, the box arithmetic in lib/detect.c.

lib_libhwi_la_SOURCES += lib/detect.c lib/detect.h

bin_PROGRAMS += bin/hwi-detect
bin_hwi_detect_SOURCES = bin/hwi-detect.c
bin_hwi_detect_LDADD = lib/libhwi_nn.la lib/libhwi_image.la lib/libhwi.la \
	$(DARKNET_LIBS) $(BLAS_LIBS) $(PTHREAD_LIBS) -lm
dist_man_MANS += man/hwi-detect.1
dist_pkgdata_DATA += data/detect-small.cfg
TESTS += tests/hwi-detect.sh
EXTRA_DIST += tests/hwi-detect.sh bench/detect
