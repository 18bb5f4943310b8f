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
    labels_reject("Image,Id\na.jpg,w_1\na.jpg,w_2\n",
                  "bad.csv:3: duplicate image 'a.jpg' (first on line 2)");
    labels_reject("Image,Id\na.jpg,\n", "bad.csv:2: empty Id");
    labels_reject("Image,Id\n,w_1\n", "bad.csv:2: empty image name");
    labels_reject("Image,Id\n\"a.jpg,w_1\n", "bad.csv:2: unterminated");
    labels_reject("Image,Id\n\"a\"x,w_1\n", "bad.csv:2: text after a closing quote");
    labels_reject("Image,Id\na.jpg,w_1\r\r\n", "bad.csv:2: carriage return inside the line");
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
    ck_assert_int_eq(hwi_boxes_load(&b,
                                    file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                        "a.jpg,10,20,300,200\n"
                                                        "b.jpg,0,0,0,0\n"),
                                    err),
                     0);
    ck_assert_uint_eq(b.n, 2);
    ck_assert_int_eq(b.box[0].x0, 10);
    ck_assert_int_eq(b.box[0].y1, 200);
    hwi_boxes_free(&b);
    ck_assert_int_eq(hwi_boxes_load(&b,
                                    file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                        "a.jpg,10,20,5,200\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "bb.csv:2: inverted box"));
    ck_assert_int_eq(hwi_boxes_load(&b,
                                    file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                        "a.jpg,10,-1,5,200\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "bb.csv:2: y0 is '-1'"));
    ck_assert_int_eq(hwi_boxes_load(&b,
                                    file_with("bb.csv", "Image,x0,y0,x1,y1\n"
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
    ck_assert_int_eq(hwi_preds_load(&p,
                                    file_with("sub.csv", "Image,Id\n"
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

    ck_assert_int_eq(hwi_preds_load(&p,
                                    file_with("sub.csv", "Image,Id\n"
                                                         "a.jpg,a b c d e f\n"),
                                    err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "sub.csv:2: more than 5 ids"));
    ck_assert_int_eq(hwi_preds_load(&p, file_with("sub.csv", "Image,Id\na.jpg,\n"), err), -1);
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

/* Write LEN bytes of DATA (NUL bytes and all) to a temporary file. */
static const char *file_bytes(const char *name, const char *data, size_t len)
{
    const char *path = test_tmppath(name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
    return path;
}

/* An image list: one name per line, or a CSV whose first column is Image;
 * quotes, CRLF, a BOM, blank lines and a last line without newline. */
START_TEST(test_names)
{
    char err[HWI_ERRLEN];
    struct hwi_names t;
    ck_assert_int_eq(hwi_names_read(&t, file_with("l.txt", "q1\nq 2\n\n\"q3,x\"\nq4"), 0, err),
                     0);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_str_eq(t.row[1].name, "q 2");
    ck_assert_str_eq(t.row[2].name, "q3,x");
    ck_assert_int_eq(t.row[2].line, 4);
    ck_assert_int_eq(t.row[3].line, 5);
    ck_assert_ptr_null(t.row[3].bad);
    ck_assert_uint_eq(*hwi_map_get(&t.index, "q4"), 3);
    ck_assert_ptr_null(hwi_map_get(&t.index, "q5"));
    hwi_names_free(&t);
    ck_assert_uint_eq(t.n, 0);

    /* train.csv: the header is skipped, the first column taken */
    ck_assert_int_eq(hwi_names_read(&t,
                                    file_with("train.csv", "\xEF\xBB\xBFImage,Id\r\n"
                                                           "a.jpg,w_1\r\n"
                                                           "b.jpg,new_whale\r\n"),
                                    0, err),
                     0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_str_eq(t.row[0].name, "a.jpg");
    ck_assert_int_eq(t.row[0].line, 2);
    ck_assert_str_eq(t.row[1].name, "b.jpg");
    hwi_names_free(&t);

    /* "Image" is a header on line 1 only; an empty file is an empty list */
    ck_assert_int_eq(hwi_names_read(&t, file_with("l.txt", "a\nImage\n"), 0, err), 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_str_eq(t.row[1].name, "Image");
    hwi_names_free(&t);
    ck_assert_int_eq(hwi_names_read(&t, file_with("e.txt", ""), 0, err), 0);
    ck_assert_uint_eq(t.n, 0);
    hwi_names_free(&t);
}
END_TEST

/* Loading TEXT as a list with FLAGS fails with a message containing WANT. */
static void names_reject(const char *text, int flags, const char *want)
{
    char err[HWI_ERRLEN] = "";
    struct hwi_names t;
    ck_assert_int_eq(hwi_names_read(&t, file_with("bad.txt", text), flags, err), -1);
    ck_assert_msg(strstr(err, want), "expected '%s' in '%s'", want, err);
    ck_assert_uint_eq(t.n, 0);
    ck_assert_ptr_null(t.row);
}

START_TEST(test_names_reject)
{
    names_reject("q1\nq2\nq1\n", 0, "bad.txt:3: image 'q1' is listed twice (first on line 1)");
    names_reject("q1\n\"\"\n", 0, "bad.txt:2: empty image name or one with a TAB");
    names_reject("q1\nq\t2\n", 0, "bad.txt:2: empty image name or one with a TAB");
    names_reject("q1\n\"q2\n", 0, "bad.txt:2: unterminated quoted field");
    names_reject("q1\nq\r2\n", HWI_LIST_ROWS, "bad.txt:2: carriage return inside the line");
    /* a bad name is an error of the row, but not a bad file */
    names_reject("a.jpg\n../b.jpg\n", HWI_LIST_KEYS,
                 "bad.txt:2: '..' in the photo name leaves the photo root");

    /* a NUL byte ends the read, with or without HWI_LIST_ROWS */
    char err[HWI_ERRLEN];
    struct hwi_names t;
    static const char text[] = "q1\nq2\nq\0003\nq4\n";
    const char *nul = file_bytes("nul.txt", text, sizeof text - 1);
    ck_assert_int_eq(hwi_names_read(&t, nul, 0, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nul.txt:3: NUL byte in line"));
    ck_assert_int_eq(hwi_names_read(&t, nul, HWI_LIST_ROWS, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nul.txt:3: NUL byte in line"));
    ck_assert_uint_eq(t.n, 0);
}
END_TEST

/* HWI_LIST_ROWS | HWI_LIST_KEYS: names normalised to photo keys, bad rows
 * kept with their reasons, duplicates of the normalised name found. */
START_TEST(test_names_rows)
{
    char err[HWI_ERRLEN];
    struct hwi_names t;
    const int fl = HWI_LIST_ROWS | HWI_LIST_KEYS;
    ck_assert_int_eq(hwi_names_read(&t,
                                    file_with("k.txt", "./card1//IMG_1.JPG\n"
                                                       "card2/x/../IMG_1.JPG\n"
                                                       "../out.jpg\n"
                                                       "card1/IMG_1.JPG\n"
                                                       "/abs.jpg\n"
                                                       "card1/./IMG_1.JPG\n"),
                                    fl, err),
                     0);
    ck_assert_uint_eq(t.n, 6);
    ck_assert_str_eq(t.row[0].name, "card1/IMG_1.JPG");
    ck_assert_str_eq(t.row[1].name, "card2/IMG_1.JPG");
    ck_assert_ptr_null(t.row[0].bad);
    ck_assert_ptr_null(t.row[1].bad);
    /* a bad name stays as given */
    ck_assert_str_eq(t.row[2].name, "../out.jpg");
    ck_assert_str_eq(t.row[2].bad, "'..' in the photo name leaves the photo root");
    ck_assert_str_eq(t.row[3].bad, "listed twice (first at line 1)");
    ck_assert_ptr_nonnull(strstr(t.row[4].bad, "absolute path"));
    ck_assert_str_eq(t.row[5].bad, "listed twice (first at line 1)");
    /* the first row knows its first repeat */
    ck_assert_int_eq(t.row[0].dup, 4);
    ck_assert_int_eq(t.row[1].dup, 0);
    ck_assert_uint_eq(*hwi_map_get(&t.index, "card1/IMG_1.JPG"), 0);
    ck_assert_ptr_null(hwi_map_get(&t.index, "../out.jpg"));

    /* names added without a line (program operands) */
    ck_assert_int_eq(hwi_names_add(&t, "card2/IMG_1.JPG", 0, fl, err), 0);
    ck_assert_str_eq(t.row[6].bad, "listed twice (first at line 2)");
    ck_assert_int_eq(t.row[1].dup, -1);
    hwi_names_free(&t);

    struct hwi_names u = {0};
    ck_assert_int_eq(hwi_names_add(&u, "a.jpg", 0, fl, err), 0);
    ck_assert_int_eq(hwi_names_add(&u, "./a.jpg", 0, fl, err), 0);
    ck_assert_str_eq(u.row[1].bad, "listed twice");
    ck_assert_str_eq(u.row[1].name, "a.jpg");
    ck_assert_int_eq(hwi_names_add(&u, "", 0, fl, err), 0);
    ck_assert_ptr_nonnull(u.row[2].bad);
    /* without HWI_LIST_ROWS a bad name is refused and not added */
    ck_assert_int_eq(hwi_names_add(&u, "b\tc", 0, 0, err), -1);
    ck_assert_str_eq(err, "empty image name or one with a TAB");
    ck_assert_int_eq(hwi_names_add(&u, "a.jpg", 0, 0, err), -1);
    ck_assert_uint_eq(u.n, 3);
    hwi_names_free(&u);
}
END_TEST

/* The boxes as hwi-crop takes them: CSV or TSV, bad rows kept. */
START_TEST(test_boxes_rows)
{
    char err[HWI_ERRLEN];
    struct hwi_boxes b;
    const int fl = HWI_LIST_ROWS | HWI_LIST_KEYS | HWI_LIST_TSV;
    ck_assert_int_eq(hwi_boxes_read(&b,
                                    file_with("bb.csv", "Image,x0,y0,x1,y1\n"
                                                        "a.jpg,1,2,3,4\n"
                                                        "./a.jpg,5,6,7,8\n"
                                                        "b.jpg,x,0,1,1\n"
                                                        "c.jpg,5,0,1,1\n"
                                                        "../d.jpg,0,0,1,1\n"
                                                        "e/f.jpg,0,0,2147483647,1\n"),
                                    fl, err),
                     0);
    ck_assert_uint_eq(b.n, 6);
    ck_assert_ptr_null(b.box[0].bad);
    ck_assert_int_eq(b.box[0].x0, 1);
    ck_assert_int_eq(b.box[0].y1, 4);
    ck_assert_int_eq(b.box[0].line, 2);
    ck_assert_int_eq(b.box[0].dup, 3);
    ck_assert_str_eq(b.box[1].image, "a.jpg");
    ck_assert_str_eq(b.box[1].bad, "listed twice (first at line 2)");
    ck_assert_str_eq(b.box[2].bad, "x0 is 'x', not a pixel coordinate");
    ck_assert_str_eq(b.box[3].bad, "inverted box (5,0)-(1,1)");
    ck_assert_str_eq(b.box[4].bad, "'..' in the photo name leaves the photo root");
    ck_assert_ptr_null(b.box[5].bad);
    ck_assert_int_eq(b.box[5].x1, 2147483647);
    /* find: the first row of a name, bad or not; never a bad name */
    ck_assert_ptr_eq(hwi_boxes_find(&b, "a.jpg"), &b.box[0]);
    ck_assert_ptr_eq(hwi_boxes_find(&b, "b.jpg"), &b.box[2]);
    ck_assert_ptr_null(hwi_boxes_find(&b, "../d.jpg"));
    ck_assert_ptr_null(hwi_boxes_find(&b, "z.jpg"));
    hwi_boxes_free(&b);

    /* the TSV form: comments, blank lines, a BOM, CRLF */
    ck_assert_int_eq(hwi_boxes_read(&b,
                                    file_with("bb.tsv", "\xEF\xBB\xBF# image x0 y0 x1 y1\r\n"
                                                        "a.jpg\t1\t2\t3\t4\r\n"
                                                        "\n"
                                                        "b.jpg\t0\t0\t9\t9"),
                                    fl, err),
                     0);
    ck_assert_uint_eq(b.n, 2);
    ck_assert_int_eq(b.box[0].line, 2);
    ck_assert_int_eq(b.box[1].line, 4);
    ck_assert_int_eq(b.box[1].x1, 9);
    hwi_boxes_free(&b);
    /* an empty file holds no boxes in the TSV form, and is no CSV */
    ck_assert_int_eq(hwi_boxes_read(&b, file_with("e.tsv", ""), fl, err), 0);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_int_eq(hwi_boxes_read(&b, file_with("e.csv", ""), 0, err), -1);
    ck_assert_ptr_nonnull(
        strstr(err, "/e.csv:1: empty file: expected the header 'Image,x0,y0,x1,y1'"));
}
END_TEST

/* Loading TEXT (LEN bytes) as boxes with FLAGS fails with exactly WANT
 * (whose file is bad.b) as its message. */
static void boxes_reject(const char *text, size_t len, int flags, const char *want)
{
    char err[HWI_ERRLEN] = "";
    struct hwi_boxes b;
    const char *path = file_bytes("bad.b", text, len);
    ck_assert_int_eq(hwi_boxes_read(&b, path, flags, err), -1);
    size_t dir = strlen(path) - strlen("bad.b");
    ck_assert_msg(!strncmp(err, path, dir) && !strcmp(err + dir, want),
                  "expected '%s', got '%s'", want, err);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_ptr_null(b.box);
}
#define BOXES_REJECT(text, flags, want) boxes_reject(text, sizeof text - 1, flags, want)

START_TEST(test_boxes_reject)
{
    const int fl = HWI_LIST_ROWS | HWI_LIST_KEYS | HWI_LIST_TSV;
    /* errors of the file fail even with HWI_LIST_ROWS */
    BOXES_REJECT("a.jpg\t1\t2\n", fl,
                 "bad.b:1: expected 5 tab-separated fields (image x0 y0 x1 y1) or the CSV "
                 "header Image,x0,y0,x1,y1");
    BOXES_REJECT("# c\na.jpg\t1\t2\t3\t4\t5\n", fl,
                 "bad.b:2: expected 5 tab-separated fields (image x0 y0 x1 y1)");
    BOXES_REJECT("Image,x0,y0\n", fl, "bad.b:1: bad header: expected 'Image,x0,y0,x1,y1'");
    BOXES_REJECT("Image,x0,y0,x1,y1\na.jpg,1,2,3\n", fl,
                 "bad.b:2: expected 5 fields (Image,x0,y0,x1,y1), got 4");
    BOXES_REJECT("Image,x0,y0,x1,y1\na.jpg,1,2,3,4\nb\0.jpg,1,2,3,4\n", fl,
                 "bad.b:3: NUL byte in line");
    BOXES_REJECT("a.jpg\t1\t2\t3\t4\n\0", fl, "bad.b:2: NUL byte in line");
    BOXES_REJECT("Image,x0,y0,x1,y1\r\r\n", fl, "bad.b:1: carriage return inside the line");
    /* without HWI_LIST_TSV a TSV file is a CSV with a bad header */
    BOXES_REJECT("a.jpg\t1\t2\t3\t4\n", HWI_LIST_ROWS,
                 "bad.b:1: bad header: expected 'Image,x0,y0,x1,y1'");
    /* without HWI_LIST_ROWS a bad row fails the file */
    BOXES_REJECT("Image,x0,y0,x1,y1\na.jpg,1,2,3,4\na.jpg,1,2,3,4\n", 0,
                 "bad.b:3: duplicate image 'a.jpg' (first on line 2)");
    BOXES_REJECT("a.jpg\t1\t2\t3\t4\n./a.jpg\t1\t2\t3\t4\n", HWI_LIST_KEYS | HWI_LIST_TSV,
                 "bad.b:2: duplicate image 'a.jpg' (first on line 1)");
    BOXES_REJECT("Image,x0,y0,x1,y1\n,1,2,3,4\n", 0, "bad.b:2: empty image name");
    BOXES_REJECT("a.jpg\t1\t2\t3\t-4\n", HWI_LIST_TSV,
                 "bad.b:1: y1 is '-4', not a pixel coordinate");
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
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_names_rows);
    tcase_add_test(tc, test_boxes_rows);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_labels_reject);
    tcase_add_test(lim, test_long_fields);
    tcase_add_test(lim, test_names_reject);
    tcase_add_test(lim, test_boxes_reject);
    suite_add_tcase(s, lim);
    return s;
}
