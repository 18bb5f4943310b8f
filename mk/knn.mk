## mk/knn.mk: 1-NN per individual (lib/knn.c on OpenBLAS), hwi-knn, and the
## store's command-line tool hwi-store.

lib_libhwi_la_SOURCES += lib/knn.c lib/knn.h lib/rerank.c lib/rerank.h
lib_libhwi_la_CFLAGS += $(BLAS_CFLAGS)
lib_libhwi_la_LIBADD += $(BLAS_LIBS)

bin_PROGRAMS += bin/hwi-knn bin/hwi-store
bin_hwi_knn_SOURCES = bin/hwi-knn.c
bin_hwi_knn_LDADD = lib/libhwi.la $(BLAS_LIBS)
bin_hwi_store_SOURCES = bin/hwi-store.c
bin_hwi_store_LDADD = lib/libhwi.la

dist_man_MANS += man/hwi-knn.1 man/hwi-store.1

TESTS += tests/hwi-knn.sh tests/hwi-store.sh tests/parallel.sh
EXTRA_DIST += tests/hwi-knn.sh tests/hwi-store.sh tests/store-v1.sql tests/parallel.sh

# --qe, --centroid, --rerank (lib/rerank.c) against a numpy brute force
TESTS += tests/hwi-knn-rerank.sh
EXTRA_DIST += tests/hwi-knn-rerank.sh tests/rerank/make-fixture.py tests/rerank/ref.py \
	tests/rerank/gallery.txt tests/rerank/queries.txt tests/rerank/labels.csv \
	tests/rerank/qe_3-3.tsv tests/rerank/qe_2-0.tsv tests/rerank/centroid.tsv \
	tests/rerank/rerank_20-6-0.3.tsv tests/rerank/rerank_4-1-0.tsv \
	tests/rerank/rerank_5-3-0.5.tsv tests/rerank/qe_2-1_rerank_6-2-0.2.tsv

if HAVE_CHECK
tests_check_hwi_SOURCES += tests/check_knn.c
tests_check_hwi_LDADD += $(BLAS_LIBS)
endif

EXTRA_DIST += bench/knn bench/knn.py
