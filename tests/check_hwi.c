/* check_hwi.c: runs every unit-test suite.  CK_RUN_SUITE=NAME runs one;
 * CK_FORK=no runs in-process (for gdb and valgrind). */
#include <config.h>

#include "check_hwi.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

FILE *test_memfile(const void *data, long len)
{
    size_t n = len < 0 ? strlen(data) : (size_t)len;
    FILE *fp = tmpfile();
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
    rewind(fp);
    return fp;
}

static char tmpdir[64];
static pid_t tmpdir_owner; /* forked test processes leave it alone */

static void remove_tmpdir(void)
{
    if (tmpdir[0] && getpid() == tmpdir_owner) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *test_tmppath(const char *name)
{
    static char path[256];
    if (!tmpdir[0]) {
        /* mkdtemp, not the pid: a directory left by a dead process of the
         * same pid made mkdir fail */
        snprintf(tmpdir, sizeof tmpdir, "/tmp/check_hwi.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        tmpdir_owner = getpid();
        atexit(remove_tmpdir);
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* Suites of feature modules: each is linked in when its module's mk/*.mk
 * adds its file to the test program, and skipped when it is absent. */
#define OPTIONAL_SUITES(X) X(image) X(synth) X(split) X(eval) X(knn) X(fuse) X(thresh) X(photo) X(detect)
#define DECLARE_WEAK(name) Suite *make_##name##_suite(void) __attribute__((weak));
OPTIONAL_SUITES(DECLARE_WEAK)

int main(void)
{
    SRunner *sr = srunner_create(make_opt_suite());
#define ADD_IF_PRESENT(name)                                                           \
    if (make_##name##_suite)                                                           \
        srunner_add_suite(sr, make_##name##_suite());
    OPTIONAL_SUITES(ADD_IF_PRESENT)
    srunner_add_suite(sr, make_csv_suite());
    srunner_add_suite(sr, make_tsv_suite());
    srunner_add_suite(sr, make_stream_suite());
    srunner_add_suite(sr, make_db_suite());
    srunner_add_suite(sr, make_metric_suite());
    srunner_add_suite(sr, make_rng_suite());
    srunner_add_suite(sr, make_pool_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
