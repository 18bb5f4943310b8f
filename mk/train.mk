## mk/train.mk: hwi-train and hwi-embed (steps 2-3 of the method), their
## network-free support in lib/train.c, and the end-to-end demo.

lib_libhwi_la_SOURCES += lib/train.c lib/train.h

if HAVE_CHECK
check_PROGRAMS += tests/check_train
TESTS += tests/check_train
tests_check_train_SOURCES = tests/check_train.c
tests_check_train_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_train_LDADD = lib/libhwi.la $(CHECK_LIBS) -lm
endif
