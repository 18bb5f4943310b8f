## mk/crop.mk: hwi-crop, photos to gray square crops (lib/image.c, libvips).

bin_PROGRAMS += bin/hwi-crop
bin_hwi_crop_SOURCES = bin/hwi-crop.c
bin_hwi_crop_LDADD = lib/libhwi_image.la lib/libhwi.la $(PTHREAD_LIBS)
dist_man_MANS += man/hwi-crop.1
TESTS += tests/hwi-crop.sh
EXTRA_DIST += tests/hwi-crop.sh bench/crop bench/crop-stress

if HAVE_CHECK
tests_check_hwi_SOURCES += tests/check_image.c
tests_check_hwi_LDADD += lib/libhwi_image.la $(VIPS_LIBS)
endif
