/* check_hwi.h: the unit-test suites gathered by check_hwi.c, one per
 * lib module, and helpers they share. */
#ifndef HWI_CHECK_HWI_H
#define HWI_CHECK_HWI_H

#include <check.h>
#include <stdio.h>

/* Every suite of tests/check_hwi, one per module, in the order they run.
 * Each tests/check_NAME.c defines make_NAME_suite; a file left out of
 * tests_check_hwi_SOURCES fails the link instead of vanishing. */
/* clang-format off */
#define HWI_SUITES(X)                                                                  \
    X(opt) X(io) X(csv) X(tsv) X(stream) X(db) X(metric) X(rng) X(pool) X(photo)      \
    X(image) X(synth) X(split) X(train) X(knn) X(fuse) X(detect)
/* clang-format on */

#define HWI_DECLARE_SUITE(name) Suite *make_##name##_suite(void);
HWI_SUITES(HWI_DECLARE_SUITE)

/* A read-only in-memory FILE holding the LEN bytes at DATA (LEN -1: a
 * string). */
FILE *test_memfile(const void *data, long len);

/* A path in a fresh temporary directory, removed at exit. */
const char *test_tmppath(const char *name);

#endif
