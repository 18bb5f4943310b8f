## mk/catalogue.mk: the field catalogue's identity pieces: photo keys
## (lib/photo.c) and content hashes (lib/sha256.c), used by hwi-crop and
## the store.

lib_libhwi_la_SOURCES += lib/photo.c lib/photo.h lib/sha256.c lib/sha256.h

if HAVE_CHECK
tests_check_hwi_SOURCES += tests/check_photo.c
endif
