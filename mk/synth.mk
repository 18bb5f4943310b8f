## mk/synth.mk: the synthetic data set (hwi-synth), validation splits
## (hwi-split) and the metric (hwi-eval).

lib_libhwi_image_la_SOURCES += lib/synth.c lib/synth.h
lib_libhwi_image_la_LIBADD += $(PTHREAD_LIBS) -lm

bin_PROGRAMS += bin/hwi-synth
bin_hwi_synth_SOURCES = bin/hwi-synth.c
bin_hwi_synth_LDADD = lib/libhwi_image.la lib/libhwi.la $(PTHREAD_LIBS)

lib_libhwi_la_SOURCES += lib/split.c lib/split.h

bin_PROGRAMS += bin/hwi-split bin/hwi-eval
bin_hwi_split_SOURCES = bin/hwi-split.c
bin_hwi_split_LDADD = lib/libhwi.la
bin_hwi_eval_SOURCES = bin/hwi-eval.c
bin_hwi_eval_LDADD = lib/libhwi.la

if HAVE_CHECK
tests_check_hwi_SOURCES += tests/check_synth.c tests/check_split.c
tests_check_hwi_LDADD += lib/libhwi_image.la $(PTHREAD_LIBS)
endif

dist_man_MANS += man/hwi-synth.1 man/hwi-split.1 man/hwi-eval.1

TESTS += tests/hwi-synth.sh tests/hwi-split.sh tests/hwi-eval.sh
EXTRA_DIST += tests/hwi-synth.sh tests/hwi-split.sh tests/hwi-eval.sh \
	bench/knn-raw docs/synth-samples.png docs/synth-samples.sh
