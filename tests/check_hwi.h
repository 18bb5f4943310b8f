/* check_hwi.h: the unit-test suites gathered by check_hwi.c, one per
 * lib module, and helpers they share. */
#ifndef HWI_CHECK_HWI_H
#define HWI_CHECK_HWI_H

#include <check.h>
#include <stdio.h>

Suite *make_opt_suite(void);
Suite *make_csv_suite(void);
Suite *make_tsv_suite(void);
Suite *make_stream_suite(void);
Suite *make_db_suite(void);
Suite *make_metric_suite(void);
Suite *make_rng_suite(void);
Suite *make_pool_suite(void);

/* A read-only in-memory FILE holding the LEN bytes at DATA (LEN -1: a
 * string). */
FILE *test_memfile(const void *data, long len);

/* A path in a fresh temporary directory, removed at exit. */
const char *test_tmppath(const char *name);

#endif
