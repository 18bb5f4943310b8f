/* check_stream.c: the vector stream, byte by byte: the exact header, round
 * trips, and every corruption the reader must reject. */
#include <config.h>

#include "check_hwi.h"
#include "stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Write a keyed stream of N records of DIM values into a malloc'd buffer. */
static unsigned char *make_stream(uint32_t dim, int n, char *const *names, size_t *len)
{
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    struct hwi_stream s;
    ck_assert_int_eq(hwi_stream_open_write(&s, fp, "mem", dim, HWI_STREAM_KEYED, names, 0), 0);
    float *v = malloc(dim * sizeof *v);
    for (int r = 0; r < n; r++) {
        char key[32];
        snprintf(key, sizeof key, "img%d.jpg", r);
        for (uint32_t i = 0; i < dim; i++)
            v[i] = (float)(r * 1000 + i) / 7.0f - 3.0f;
        ck_assert_int_eq(hwi_stream_write(&s, key, v), 0);
    }
    ck_assert_int_eq(hwi_stream_finish(&s), 0);
    hwi_stream_close(&s);
    free(v);
    fclose(fp);
    return (unsigned char *)buf;
}

START_TEST(test_header_bytes)
{
    size_t len;
    unsigned char *b = make_stream(3, 1, NULL, &len);
    static const unsigned char want[32] = {'H', 'W', 'I', 'F', 1, 0, 32, 0, 3, 0, 0, 0,
                                           1,   0,   0,   0,   0, 0, 0,  0, 0, 0, 0, 0};
    ck_assert_mem_eq(b, want, 32);
    /* record: u32 len 8, "img0.jpg", 3 floats */
    ck_assert_uint_eq(len, 32 + 4 + 8 + 12);
    ck_assert_int_eq(b[32], 8);
    ck_assert_mem_eq(b + 36, "img0.jpg", 8);
    float v0 = -3.0f; /* 0/7 - 3 */
    unsigned char le[4];
    uint32_t bits;
    memcpy(&bits, &v0, 4);
    for (int i = 0; i < 4; i++)
        le[i] = (unsigned char)(bits >> 8 * i);
    ck_assert_mem_eq(b + 44, le, 4);
    free(b);
}
END_TEST

START_TEST(test_roundtrip)
{
    char *names[] = {"w_1", "w_2", "new_whale", "w_4"};
    size_t len;
    unsigned char *b = make_stream(4, 100, names, &len);
    FILE *fp = test_memfile(b, (long)len);
    struct hwi_stream s;
    ck_assert_int_eq(hwi_stream_open_read(&s, fp, "mem"), 0);
    ck_assert_uint_eq(s.dim, 4);
    ck_assert_ptr_nonnull(s.names);
    ck_assert_str_eq(s.names[2], "new_whale");
    int r = 0, rc;
    while ((rc = hwi_stream_read(&s)) == 1) {
        char key[32];
        snprintf(key, sizeof key, "img%d.jpg", r);
        ck_assert_str_eq(s.key, key);
        for (uint32_t i = 0; i < 4; i++)
            ck_assert_float_eq(s.vec[i], (float)(r * 1000 + i) / 7.0f - 3.0f);
        r++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(r, 100);
    hwi_stream_close(&s);
    fclose(fp);
    free(b);
}
END_TEST

START_TEST(test_empty_and_unkeyed)
{
    char *buf = NULL;
    size_t len;
    FILE *fp = open_memstream(&buf, &len);
    struct hwi_stream s;
    ck_assert_int_eq(hwi_stream_open_write(&s, fp, "mem", 2, 0, NULL, 2), 0);
    float v[2] = {1, 2};
    ck_assert_int_eq(hwi_stream_write(&s, NULL, v), 0);
    ck_assert_int_eq(hwi_stream_finish(&s), -1); /* 2 announced, 1 written */
    ck_assert_int_eq(hwi_stream_write(&s, NULL, v), 0);
    ck_assert_int_eq(hwi_stream_finish(&s), 0);
    ck_assert_int_eq(hwi_stream_write(&s, NULL, v), -1); /* a third */
    hwi_stream_close(&s);
    fclose(fp);
    ck_assert_uint_eq(len, 32 + 2 * 8);
    FILE *in = test_memfile(buf, (long)len);
    ck_assert_int_eq(hwi_stream_open_read(&s, in, "mem"), 0);
    ck_assert_int_eq(hwi_stream_read(&s), 1);
    ck_assert_str_eq(s.key, "");
    ck_assert_int_eq(hwi_stream_read(&s), 1);
    ck_assert_float_eq(s.vec[1], 2);
    ck_assert_int_eq(hwi_stream_read(&s), 0);
    hwi_stream_close(&s);
    fclose(in);
    free(buf);

    /* a header and no records is a valid, empty stream */
    size_t n;
    unsigned char *b = make_stream(5, 0, NULL, &n);
    in = test_memfile(b, (long)n);
    ck_assert_int_eq(hwi_stream_open_read(&s, in, "mem"), 0);
    ck_assert_int_eq(hwi_stream_read(&s), 0);
    hwi_stream_close(&s);
    fclose(in);
    free(b);
}
END_TEST

/* Read BUF[0..LEN) to the end; expect an error containing WANT. */
static void reject(const unsigned char *buf, size_t len, const char *want)
{
    FILE *fp = test_memfile(buf, (long)len);
    struct hwi_stream s;
    int rc = hwi_stream_open_read(&s, fp, "mem");
    while (rc == 0 && (rc = hwi_stream_read(&s)) == 1)
        rc = 0;
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(s.err, want), "expected '%s' in '%s'", want, s.err);
    hwi_stream_close(&s);
    fclose(fp);
}

START_TEST(test_corrupt)
{
    size_t len;
    unsigned char *good = make_stream(3, 3, NULL, &len);
    unsigned char *b = malloc(len);
    size_t rec = 4 + 8 + 12; /* one record */

#define MUTATE(stmt, n, want)                                                                 \
    do {                                                                                      \
        memcpy(b, good, len);                                                                 \
        stmt;                                                                                 \
        reject(b, n, want);                                                                   \
    } while (0)

    MUTATE(b[0] = 'X', len, "bad magic");
    MUTATE((void)0, 20, "truncated header");
    MUTATE((void)0, 0, "truncated header (0 of 32");
    MUTATE(b[4] = 2, len, "stream version 2");
    MUTATE(b[6] = 16, len, "bad header size");
    MUTATE(memset(b + 8, 0, 4), len, "bad dimension 0");
    MUTATE(b[11] = 0x7f, len, "bad dimension");
    MUTATE(b[12] |= 0x8, len, "unknown flags");
    MUTATE(b[24] = 1, len, "reserved");
    MUTATE(b[16] = 5, len, "announces 5 records, stream has 3");
    MUTATE(b[16] = 2, len, "record 3: more records than the 2 announced");
    MUTATE((void)0, len - 1, "record 3 (key 'img2.jpg'): truncated (11 of 12");
    MUTATE((void)0, 32 + rec + 2, "record 2: truncated length");
    MUTATE((void)0, 32 + rec + 4 + 3, "record 2: truncated (3 of 8 bytes)");
    MUTATE(b[32 + rec] = 0, len, "record 2: bad length 0");
    MUTATE(b[32 + rec + 3] = 0x10, len, "record 2: bad length");
    MUTATE(b[32 + rec + 4 + 2] = '\t', len, "record 2: contains NUL, TAB");
    /* value 2 of record 2 becomes NaN, then +Inf */
    MUTATE(memcpy(b + 32 + rec + 12 + 4, "\x00\x00\xc0\x7f", 4), len,
           "record 2 (key 'img1.jpg'): value 2 is NaN");
    MUTATE(memcpy(b + 32 + rec + 12 + 4, "\x00\x00\x80\x7f", 4), len, "value 2 is infinite");
#undef MUTATE
    free(b);
    free(good);

    /* a bad column name is named by its position */
    char *names[] = {"w_1", "w_2", "w_3"};
    good = make_stream(3, 1, names, &len);
    b = malloc(len);
    memcpy(b, good, len);
    b[32 + 7 + 4] = '\t'; /* the first byte of "w_2" */
    reject(b, len, "mem: column name 2: contains NUL, TAB");
    reject(b, 32 + 7 + 2, "mem: column name 2: truncated length");
    free(b);
    free(good);

    /* two streams of different dimension cannot be concatenated */
    size_t l1, l2;
    unsigned char *s1 = make_stream(3, 1, NULL, &l1);
    unsigned char *s2 = make_stream(5, 1, NULL, &l2);
    unsigned char *cat = malloc(l1 + l2);
    memcpy(cat, s1, l1);
    memcpy(cat + l1, s2, l2);
    reject(cat, l1 + l2, "record 2: bad length");
    free(cat);
    free(s1);
    free(s2);
}
END_TEST

START_TEST(test_write_rejects)
{
    char *buf = NULL;
    size_t len;
    FILE *fp = open_memstream(&buf, &len);
    struct hwi_stream s;
    char *bad_names[] = {"a", "b\tc"};
    ck_assert_int_eq(hwi_stream_open_write(&s, fp, "mem", 2, HWI_STREAM_KEYED, bad_names, 0),
                     -1);
    hwi_stream_close(&s);
    ck_assert_int_eq(hwi_stream_open_write(&s, fp, "mem", 0, 0, NULL, 0), -1);
    hwi_stream_close(&s);
    ck_assert_int_eq(hwi_stream_open_write(&s, fp, "mem", 2, HWI_STREAM_KEYED, NULL, 0), 0);
    float v[2] = {1, NAN};
    ck_assert_int_eq(hwi_stream_write(&s, "k", v), -1);
    ck_assert_ptr_nonnull(strstr(s.err, "value 2 is not finite"));
    v[1] = 0;
    ck_assert_int_eq(hwi_stream_write(&s, "", v), -1);
    ck_assert_int_eq(hwi_stream_write(&s, "a\nb", v), -1);
    char longkey[HWI_STREAM_MAXKEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;
    ck_assert_int_eq(hwi_stream_write(&s, longkey, v), -1);
    longkey[HWI_STREAM_MAXKEY] = 0; /* the longest allowed */
    ck_assert_int_eq(hwi_stream_write(&s, longkey, v), 0);
    ck_assert_int_eq(hwi_stream_finish(&s), 0);
    hwi_stream_close(&s);
    fclose(fp);
    ck_assert_uint_eq(len, 32 + 4 + HWI_STREAM_MAXKEY + 8); /* rejected writes left nothing */
    free(buf);
}
END_TEST

START_TEST(test_open_path)
{
    struct hwi_stream s;
    const char *missing = test_tmppath("missing.bin");
    ck_assert_int_eq(hwi_stream_open_path(&s, missing, 0), -1);
    ck_assert_ptr_nonnull(strstr(s.err, "No such file"));
    hwi_stream_close(&s);

    /* an unkeyed stream is refused when keys are needed, read otherwise */
    const char *path = test_tmppath("unkeyed.bin");
    FILE *fp = fopen(path, "wb");
    ck_assert_int_eq(hwi_stream_open_write(&s, fp, path, 2, 0, NULL, 0), 0);
    float v[2] = {1, 2};
    ck_assert_int_eq(hwi_stream_write(&s, NULL, v), 0);
    ck_assert_int_eq(hwi_stream_finish(&s), 0);
    hwi_stream_close(&s);
    fclose(fp);
    ck_assert_int_eq(hwi_stream_open_path(&s, path, 1), -1);
    ck_assert_ptr_nonnull(strstr(s.err, "unkeyed.bin: records have no keys"));
    hwi_stream_close(&s);
    ck_assert_int_eq(hwi_stream_open_path(&s, path, 0), 0);
    ck_assert_str_eq(s.name, path);
    ck_assert_int_eq(hwi_stream_read(&s), 1);
    ck_assert_float_eq(s.vec[1], 2);
    hwi_stream_close(&s);
    ck_assert_ptr_null(s.fp); /* closed by the stream */
}
END_TEST

Suite *make_stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_header_bytes);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_empty_and_unkeyed);
    tcase_add_test(tc, test_open_path);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_corrupt);
    tcase_add_test(lim, test_write_rejects);
    suite_add_tcase(s, lim);
    return s;
}
