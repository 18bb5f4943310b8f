/* check_io.c: the I/O layer (lib/io.c): the line reader, inputs, output
 * files written whole or not at all, registered temporary files. */
#include <config.h>

#include "check_hwi.h"
#include "err.h"
#include "io.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The whole content of PATH (at most 255 bytes), "" if it cannot be read. */
static const char *slurp(const char *path)
{
    static char buf[256];
    buf[0] = 0;
    FILE *fp = fopen(path, "rb");
    if (fp) {
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = 0;
        fclose(fp);
    }
    return buf;
}

static void put(const char *path, const char *s)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(s, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

/* The number of entries of the test directory whose name starts with
 * PREFIX (a temporary file of PREFIX's output is PREFIX.tmpXXXXXX). */
static int temporaries(const char *prefix)
{
    DIR *d = opendir(test_tmppath(""));
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

START_TEST(test_read_line)
{
    FILE *fp = test_memfile("a\r\nbc\n\nlast", -1);
    char *buf = NULL, err[HWI_ERRLEN];
    size_t cap = 0, len;
    long line = 0;
    const char *want[] = {"a", "bc", "", "last"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(hwi_read_line(fp, &buf, &cap, &len, "f", &line, err), 1);
        ck_assert_str_eq(buf, want[i]);
        ck_assert_uint_eq(len, strlen(want[i]));
        ck_assert_int_eq(line, i + 1);
    }
    ck_assert_int_eq(hwi_read_line(fp, &buf, &cap, &len, "f", &line, err), 0);
    ck_assert_int_eq(line, 4);
    fclose(fp);

    /* a NUL byte is an error on its own line, not a short line */
    fp = test_memfile("ok\nab\0cd\n", 9);
    line = 0;
    ck_assert_int_eq(hwi_read_line(fp, &buf, &cap, &len, "g.csv", &line, err), 1);
    ck_assert_int_eq(hwi_read_line(fp, &buf, &cap, &len, "g.csv", &line, err), -1);
    ck_assert_str_eq(err, "g.csv:2: NUL byte in line");
    fclose(fp);
    free(buf);
}
END_TEST

START_TEST(test_fopen_in)
{
    char err[HWI_ERRLEN];
    ck_assert_ptr_eq(hwi_fopen_in("-", err), stdin);
    ck_assert_ptr_eq(hwi_fopen_in(NULL, err), stdin);
    char missing[256]; /* test_tmppath's buffer is reused by the next call */
    snprintf(missing, sizeof missing, "%s", test_tmppath("missing.csv"));
    ck_assert_ptr_null(hwi_fopen_in(missing, err));
    char want[HWI_ERRLEN];
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    ck_assert_str_eq(err, want);

    char src[256];
    snprintf(src, sizeof src, "%s", test_tmppath("src.txt"));
    put(src, "one\ntwo\n");
    FILE *out = fopen(test_tmppath("copy.txt"), "wb");
    ck_assert_int_eq(hwi_copy_file(src, out, err), 0);
    fclose(out);
    ck_assert_str_eq(slurp(test_tmppath("copy.txt")), "one\ntwo\n");
    ck_assert_int_eq(hwi_copy_file(missing, stdout, err), -1);
}
END_TEST

START_TEST(test_outfile)
{
    const char *P = "out.tsv.tmp";
    char path[256], err[HWI_ERRLEN];
    snprintf(path, sizeof path, "%s", test_tmppath("out.tsv"));
    put(path, "old\n");

    /* aborted: the old file stays, no temporary is left */
    struct hwi_outfile o;
    ck_assert_int_eq(hwi_outfile_open(&o, path, err), 0);
    ck_assert_int_eq(temporaries(P), 1);
    fputs("half", o.fp);
    hwi_outfile_abort(&o);
    ck_assert_str_eq(slurp(path), "old\n");
    ck_assert_int_eq(temporaries(P), 0);

    /* committed: the new content, whole */
    ck_assert_int_eq(hwi_outfile_open(&o, path, err), 0);
    fputs("new\n", o.fp);
    ck_assert_str_eq(slurp(path), "old\n"); /* not before the commit */
    ck_assert_int_eq(hwi_outfile_commit(&o, err), 0);
    ck_assert_str_eq(slurp(path), "new\n");
    ck_assert_int_eq(temporaries(P), 0);

    /* a directory is refused */
    ck_assert_int_eq(hwi_outfile_open(&o, test_tmppath(""), err), -1);
    ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
}
END_TEST

START_TEST(test_outfile_all_or_nothing)
{
    const char *P = "a.csv.tmp";
    char a[256], err[HWI_ERRLEN];
    snprintf(a, sizeof a, "%s", test_tmppath("a.csv"));
    put(a, "old a\n");
    if (access("/dev/full", W_OK) != 0)
        return; /* no /dev/full here: nothing to fail on */
    /* the second file cannot be written (a full disk): the first is not
     * replaced either, and no temporary is left */
    struct hwi_outfile outs[2];
    ck_assert_int_eq(hwi_outfile_open(&outs[0], a, err), 0);
    ck_assert_int_eq(hwi_outfile_open(&outs[1], "/dev/full", err), 0);
    fputs("new a\n", outs[0].fp);
    fputs("new b\n", outs[1].fp);
    ck_assert_int_eq(hwi_outfile_commit_all(outs, 2, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/dev/full: write error"));
    ck_assert_str_eq(slurp(a), "old a\n");
    ck_assert_int_eq(temporaries(P), 0);
}
END_TEST

START_TEST(test_tmp_remove_all)
{
    const char *P = "x.tmp";
    static char name[256];
    char err[HWI_ERRLEN];
    snprintf(name, sizeof name, "%s", test_tmppath("x.tmp1"));
    ck_assert_int_eq(hwi_tmp_add(name, err), 0);
    put(name, "partial");
    ck_assert_int_eq(temporaries(P), 1);
    hwi_tmp_remove_all(); /* what hwi_die does before _exit */
    ck_assert_int_eq(temporaries(P), 0);
    ck_assert_int_eq(access(name, F_OK), -1);
}
END_TEST

Suite *make_io_suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_read_line);
    tcase_add_test(tc, test_fopen_in);
    tcase_add_test(tc, test_outfile);
    tcase_add_test(tc, test_outfile_all_or_nothing);
    tcase_add_test(tc, test_tmp_remove_all);
    suite_add_tcase(s, tc);
    return s;
}
