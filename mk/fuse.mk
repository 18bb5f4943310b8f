## mk/fuse.mk: steps 5-6 of the method: hwi-fuse (softmax, weighted fusion,
## fitted on validation) and hwi-thresh (new_whale threshold, submission).

lib_libhwi_la_SOURCES += lib/fuse.c lib/fuse.h lib/thresh.c lib/thresh.h

bin_PROGRAMS += bin/hwi-fuse bin/hwi-thresh
bin_hwi_fuse_SOURCES = bin/hwi-fuse.c
bin_hwi_fuse_LDADD = lib/libhwi.la
bin_hwi_thresh_SOURCES = bin/hwi-thresh.c
bin_hwi_thresh_LDADD = lib/libhwi.la

dist_man_MANS += man/hwi-fuse.1 man/hwi-thresh.1

TESTS += tests/hwi-fuse.sh tests/hwi-thresh.sh
EXTRA_DIST += tests/hwi-fuse.sh tests/hwi-thresh.sh \
	bench/fuse/README bench/fuse/gen.py bench/fuse/fuse_pandas.py \
	bench/fuse/run.sh bench/fuse/demo.py bench/fuse/demo.sh \
	bench/fuse/compare.py bench/fuse/map5.py

if HAVE_CHECK
tests_check_hwi_SOURCES += tests/check_fuse.c
endif
