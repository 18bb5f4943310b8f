/* check_csv.c: Kaggle CSV readers: round trips, CRLF, BOM, quotes, a last
 * line without newline, and every rejected input naming its line. */
#include <config.h>

#include "check_hwi.h"
#include "csv.h"

#include <string.h>

/* Write TEXT to a temporary file and return its path. */
static const char *file_with(const char *name, const char *text)
{
    const char *path = test_tmppath(name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

START_TEST(test_labels_roundtrip)
{
    char err[HWI_ERRLEN];
    struct hwi_labels t;
    const char *path = file_with("train.csv", "\xEF\xBB\xBFImage,Id\r\n"
                                              "0000e88ab.jpg,w_f48451c\r\n"
                                              "\r\n"
                                              "\"0001f9222.jpg\",\"new_whale\"\r\n"
                                              "00029d126.jpg,w_20df2c5");
    ck_assert_int_eq(hwi_labels_load(&t, path, err), 0);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_str_eq(t.image[1], "0001f9222.jpg");
    ck_assert_str_eq(t.id[1], "new_whale");
    ck_assert_str_eq(t.id[2], "w_20df2c5");

    const char *out = test_tmppath("out.csv");
    FILE *fp = fopen(out, "wb");
    ck_assert_int_eq(hwi_labels_write(&t, fp), 0);
    fclose(fp);
    struct hwi_labels u;
    ck_assert_int_eq(hwi_labels_load(&u, out, err), 0);
    ck_assert_uint_eq(u.n, t.n);
    for (size_t i = 0; i < t.n; i++) {
        ck_assert_str_eq(u.image[i], t.image[i]);
        ck_assert_str_eq(u.id[i], t.id[i]);
    }
    hwi_labels_free(&t);
    hwi_labels_free(&u);
}
END_TEST

/* Loading TEXT as labels fails with a message containing WANT. */
static void labels_reject(const char *text, const char *want)
{
    char err[HWI_ERRLEN] = "";
    struct hwi_labels t;
    ck_assert_int_eq(hwi_labels_load(&t, file_with("bad.csv", text), err), -1);
    ck_assert_msg(strstr(err, want), "expected '%s' in '%s'", want, err);
    ck_assert_uint_eq(t.n, 0);
}

START_TEST(test_labels_reject)
{
    labels_reject("", "bad.csv:1: empty file");
    labels_reject("Image,Label\na,b\n", "bad.csv:1: bad header");
    labels_reject("Image,Id\na.jpg,w_1\nb.jpg\n", "bad.csv:3: expected 2 fields");
    labels_reject("Image,Id\na.jpg,w_1,x\n", "bad.csv:2: expected 2 fields");
    labels_reject("Image,Id\na.jpg,w_1\na.jpg,w_2\n", "bad.csv:3: duplicate image 'a.jpg' (first on line 2)");
    labels_reject("Image,Id\na.jpg,\n", "bad.csv:2: empty Id");
    labels_reject("Image,Id\n,w_1\n", "bad.csv:2: empty image name");
    labels_reject("Image,Id\n\"a.jpg,w_1\n", "bad.csv:2: unterminated");
    labels_reject("Image,Id\n\"a\"x,w_1\n", "bad.csv:2: text after a closing quote");
    labels_reject("Image,Id\na.jpg,w_1\r\r\n",
                  "bad.csv:2: carriage return inside the line");
    char err[HWI_ERRLEN];
    struct hwi_labels t;
    ck_assert_int_eq(hwi_labels_load(&t, test_tmppath("missing.csv"), err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));

    const char *nul = test_tmppath("nul.csv");
    FILE *fp = fopen(nul, "wb");
    fwrite("Image,Id\na.jpg,w_1\nb\0.jpg,w_2\n", 1, 30, fp);
    fclose(fp);
    ck_assert_int_eq(hwi_labels_load(&t, nul, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "nul.csv:3: NUL byte in line"));
}
END_TEST

START_TEST(test_long_fields)
{
    static char text[40000];
    char name[20001];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = 0;
    snprintf(text, sizeof text, "Image,Id\n%s.jpg,w_1\n", name);
    char err[HWI_ERRLEN];
    struct hwi_labels t;
    ck_assert_int_eq(hwi_labels_load(&t, file_with("long.csv", text), err), 0);
    ck_assert_uint_eq(strlen(t.image[0]), 20004);
    hwi_labels_free(&t);
}
END_TEST

START_TEST(test_boxes)
{
    char err[HWI_ERRLEN];
    struct hwi_boxes b;
    ck_assert_int_eq(hwi_boxes_load(&b, file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                            "a.jpg,10,20,300,200\n"
                                                            "b.jpg,0,0,0,0\n"),
                                    err),
                     0);
    ck_assert_uint_eq(b.n, 2);
    ck_assert_int_eq(b.box[0].x0, 10);
    ck_assert_int_eq(b.box[0].y1, 200);
    hwi_boxes_free(&b);
    ck_assert_int_eq(hwi_boxes_load(&b, file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                            "a.jpg,10,20,5,200\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "bb.csv:2: inverted box"));
    ck_assert_int_eq(hwi_boxes_load(&b, file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                            "a.jpg,10,-1,5,200\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "bb.csv:2: y0 is '-1'"));
    ck_assert_int_eq(hwi_boxes_load(&b, file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                            "a.jpg,1.5,0,5,200\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "bb.csv:2: x0"));
}
END_TEST

START_TEST(test_preds)
{
    char err[HWI_ERRLEN];
    struct hwi_preds p;
    ck_assert_int_eq(hwi_preds_load(&p, file_with("sub.csv", "Image,Id\n"
                                                             "a.jpg,new_whale w_1 w_2 w_3 w_4\n"
                                                             "b.jpg,w_9\n"),
                                    err),
                     0);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_int_eq(p.row[0].n, 5);
    ck_assert_str_eq(p.row[0].id[0], "new_whale");
    ck_assert_str_eq(p.row[0].id[4], "w_4");
    ck_assert_int_eq(p.row[1].n, 1);

    const char *out = test_tmppath("sub2.csv");
    FILE *fp = fopen(out, "wb");
    ck_assert_int_eq(hwi_preds_write(&p, fp), 0);
    fclose(fp);
    struct hwi_preds q;
    ck_assert_int_eq(hwi_preds_load(&q, out, err), 0);
    ck_assert_str_eq(q.row[0].id[3], "w_3");
    hwi_preds_free(&q);
    hwi_preds_free(&p);

    ck_assert_int_eq(hwi_preds_load(&p, file_with("sub.csv", "Image,Id\n"
                                                             "a.jpg,a b c d e f\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "sub.csv:2: more than 5 ids"));
    ck_assert_int_eq(hwi_preds_load(&p, file_with("sub.csv", "Image,Id\na.jpg,\n"), err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "sub.csv:2: no ids"));
}
END_TEST

/* Fields holding a comma or a quote are written quoted and read back. */
START_TEST(test_write_quotes)
{
    char err[HWI_ERRLEN];
    struct hwi_labels t = {0};
    ck_assert_int_eq(hwi_labels_add(&t, "a,b.jpg", "w_\"1\""), 0);
    ck_assert_int_eq(hwi_labels_add(&t, "c.jpg", "w_2"), 0);
    const char *out = test_tmppath("quoted.csv");
    FILE *fp = fopen(out, "wb");
    ck_assert_int_eq(hwi_labels_write(&t, fp), 0);
    fclose(fp);
    struct hwi_labels u;
    ck_assert_int_eq(hwi_labels_load(&u, out, err), 0);
    ck_assert_uint_eq(u.n, 2);
    ck_assert_str_eq(u.image[0], "a,b.jpg");
    ck_assert_str_eq(u.id[0], "w_\"1\"");
    ck_assert_str_eq(u.image[1], "c.jpg");
    struct hwi_map idx = {0};
    ck_assert_int_eq(hwi_labels_index(&u, &idx), 0);
    ck_assert_uint_eq(*hwi_map_get(&idx, "c.jpg"), 1);
    ck_assert_uint_eq(*hwi_map_get(&idx, "a,b.jpg"), 0);
    ck_assert_ptr_null(hwi_map_get(&idx, "x.jpg"));
    hwi_map_free(&idx);
    hwi_labels_free(&u);
    hwi_labels_free(&t);

    struct hwi_preds p;
    ck_assert_int_eq(hwi_preds_load(&p,
                                    file_with("q.csv", "Image,Id\n"
                                                       "\"x,y.jpg\",\"w,1 new_whale\"\n"
                                                       "z.jpg,w_2 w_3\n"),
                                    err),
                     0);
    out = test_tmppath("q2.csv");
    fp = fopen(out, "wb");
    ck_assert_int_eq(hwi_preds_write(&p, fp), 0);
    fclose(fp);
    fp = fopen(out, "rb");
    char buf[256] = {0};
    fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    ck_assert_str_eq(buf, "Image,Id\n\"x,y.jpg\",\"w,1 new_whale\"\nz.jpg,w_2 w_3\n");
    hwi_preds_free(&p);
}
END_TEST

Suite *make_csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_labels_roundtrip);
    tcase_add_test(tc, test_boxes);
    tcase_add_test(tc, test_preds);
    tcase_add_test(tc, test_write_quotes);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_labels_reject);
    tcase_add_test(lim, test_long_fields);
    suite_add_tcase(s, lim);
    return s;
}
