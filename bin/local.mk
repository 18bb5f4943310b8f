## bin/local.mk: the programs; each is a thin main over libhwi.

bin_PROGRAMS += bin/hwi-vec
bin_hwi_vec_SOURCES = bin/hwi-vec.c
bin_hwi_vec_LDADD = lib/libhwi.la
