## mk/synth.mk: the synthetic data set (hwi-synth), validation splits
## (hwi-split) and the metric (hwi-eval).

lib_libhwi_image_la_SOURCES += lib/synth.c lib/synth.h
lib_libhwi_image_la_LIBADD += $(PTHREAD_LIBS) -lm

bin_PROGRAMS += bin/hwi-synth
bin_hwi_synth_SOURCES = bin/hwi-synth.c
bin_hwi_synth_LDADD = lib/libhwi_image.la lib/libhwi.la $(PTHREAD_LIBS)
