/* check_db.c: the SQLite store: schema creation and version checks,
 * images, models, embeddings round trip, column names, transactions. */
#include <config.h>

#include "check_hwi.h"
#include "db.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct seen {
    int n;
    char names[8][32];
    char labels[8][32];
    float first[8];
    uint32_t dim;
};

static int collect(void *ctx, const char *image, const char *label, const char *split,
                   const float *vec, uint32_t dim)
{
    struct seen *s = ctx;
    snprintf(s->names[s->n], 32, "%s", image);
    snprintf(s->labels[s->n], 32, "%s", label ? label : "(null)");
    s->first[s->n] = vec[dim - 1];
    s->dim = dim;
    s->n++;
    return 0;
}

START_TEST(test_roundtrip)
{
    char err[HWI_ERRLEN];
    const char *path = test_tmppath("store.db");
    ck_assert_ptr_null(hwi_db_open(path, HWI_DB_WRITE, err)); /* not there yet */
    struct hwi_db *db = hwi_db_open(path, HWI_DB_CREATE, err);
    ck_assert_msg(db != NULL, "%s", err);
    int64_t a, b, c, m, m2;
    ck_assert_int_eq(hwi_db_begin(db), 0);
    ck_assert_int_eq(hwi_db_put_image(db, "b.jpg", "w_2", "train", &b), 0);
    ck_assert_int_eq(hwi_db_put_image(db, "a.jpg", "new_whale", "val", &a), 0);
    ck_assert_int_eq(hwi_db_put_image(db, "c.jpg", NULL, "test", &c), 0);
    ck_assert_int_eq(hwi_db_put_image(db, "a.jpg", NULL, NULL, &m2), 0); /* keeps all */
    ck_assert_int_eq(m2, a);
    ck_assert_int_eq(hwi_db_model(db, "r18", "r18.cfg", NULL, 0, &m), 0);
    ck_assert_int_eq(hwi_db_model(db, "r18", "r18.cfg", "r18.weights", 1, &m), 1);
    ck_assert_int_eq(hwi_db_model(db, "r18", NULL, NULL, 0, &m2), 1);
    ck_assert_int_eq(m, m2);
    float v[3] = {0.25f, -1.5f, 3e-7f};
    ck_assert_int_eq(hwi_db_put_embedding(db, a, m, "features", v, 3), 0);
    v[2] = 7;
    ck_assert_int_eq(hwi_db_put_embedding(db, b, m, "features", v, 3), 0);
    ck_assert_int_eq(hwi_db_put_embedding(db, c, m, "features", v, 3), 0);
    v[2] = 8; /* replace */
    ck_assert_int_eq(hwi_db_put_embedding(db, c, m, "features", v, 3), 0);
    char *cols[] = {"w_1", "w_2"};
    ck_assert_int_eq(hwi_db_put_columns(db, m, "logits", cols, 2), 0);
    ck_assert_int_eq(hwi_db_commit(db), 0);
    hwi_db_close(db);

    db = hwi_db_open(path, HWI_DB_READONLY, err);
    ck_assert_msg(db != NULL, "%s", err);
    struct seen s = {0};
    ck_assert_int_eq(hwi_db_each_embedding(db, m, "features", NULL, collect, &s), 0);
    ck_assert_int_eq(s.n, 3);
    ck_assert_str_eq(s.names[0], "a.jpg");
    ck_assert_str_eq(s.labels[0], "new_whale");
    ck_assert_str_eq(s.labels[2], "(null)");
    ck_assert_float_eq(s.first[0], 3e-7f);
    ck_assert_float_eq(s.first[2], 8);
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(hwi_db_each_embedding(db, m, "features", "train", collect, &s), 0);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.names[0], "b.jpg");
    char **names;
    ck_assert_int_eq(hwi_db_columns(db, m, "logits", &names), 2);
    ck_assert_str_eq(names[1], "w_2");
    free(names[0]);
    free(names[1]);
    free(names);
    ck_assert_int_eq(hwi_db_columns(db, m, "features", &names), 0);
    /* read-only: writes fail with a message */
    ck_assert_int_eq(hwi_db_put_image(db, "d.jpg", NULL, NULL, NULL), -1);
    ck_assert_ptr_nonnull(strstr(hwi_db_errmsg(db), "readonly"));
    hwi_db_close(db);
}
END_TEST

START_TEST(test_bad_values)
{
    char err[HWI_ERRLEN];
    struct hwi_db *db = hwi_db_open(test_tmppath("bad.db"), HWI_DB_CREATE, err);
    ck_assert_ptr_nonnull(db);
    int64_t id;
    ck_assert_int_eq(hwi_db_put_image(db, "x.jpg", NULL, "nonsense", &id), -1);
    ck_assert_ptr_nonnull(strstr(hwi_db_errmsg(db), "CHECK"));
    float v[1] = {1};
    ck_assert_int_eq(hwi_db_put_embedding(db, 999, 999, "features", v, 1), -1);
    ck_assert_ptr_nonnull(strstr(hwi_db_errmsg(db), "FOREIGN KEY"));
    /* rollback discards a transaction */
    ck_assert_int_eq(hwi_db_begin(db), 0);
    ck_assert_int_eq(hwi_db_put_image(db, "y.jpg", NULL, NULL, &id), 0);
    hwi_db_rollback(db);
    int64_t m;
    ck_assert_int_eq(hwi_db_model(db, "m", NULL, NULL, 1, &m), 1);
    struct seen s = {0};
    ck_assert_int_eq(hwi_db_each_embedding(db, m, "features", NULL, collect, &s), 0);
    ck_assert_int_eq(s.n, 0);
    hwi_db_close(db);
}
END_TEST

START_TEST(test_versions)
{
    char err[HWI_ERRLEN];
    const char *path = test_tmppath("v.db");
    struct hwi_db *db = hwi_db_open(path, HWI_DB_CREATE, err);
    ck_assert_ptr_nonnull(db);
    hwi_db_close(db);
    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    int uv = -1;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    uv = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    ck_assert_int_eq(uv, HWI_DB_SCHEMA_VERSION);
    ck_assert_int_eq(sqlite3_exec(h, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ck_assert_ptr_null(hwi_db_open(path, HWI_DB_WRITE, err));
    ck_assert_ptr_nonnull(strstr(err, "version 7 is newer"));

    const char *other = test_tmppath("other.db");
    ck_assert_int_eq(sqlite3_open(other, &h), SQLITE_OK);
    sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(h);
    ck_assert_ptr_null(hwi_db_open(other, HWI_DB_CREATE, err));
    ck_assert_ptr_nonnull(strstr(err, "not an hwi store"));

    const char *junk = test_tmppath("junk.db");
    FILE *fp = fopen(junk, "wb");
    fputs("this is not a database, just text that is long enough to fail the header", fp);
    fclose(fp);
    ck_assert_ptr_null(hwi_db_open(junk, HWI_DB_READONLY, err));
    ck_assert_ptr_nonnull(strstr(err, "junk.db"));

    /* an empty SQLite file is a store only once created */
    const char *empty = test_tmppath("empty.db");
    fclose(fopen(empty, "wb"));
    ck_assert_ptr_null(hwi_db_open(empty, HWI_DB_WRITE, err));
    ck_assert_ptr_nonnull(strstr(err, "empty.db: empty store (create it first)"));
}
END_TEST

/* A store changed behind hwi's back (CHECK constraints off in the sqlite3
 * shell): a vector of the wrong length, dimensions that differ. */
START_TEST(test_corrupt)
{
    char err[HWI_ERRLEN];
    const char *path = test_tmppath("corrupt.db");
    struct hwi_db *db = hwi_db_open(path, HWI_DB_CREATE, err);
    ck_assert_ptr_nonnull(db);
    int64_t m, a, b;
    float v[3] = {1, 2, 3};
    ck_assert_int_eq(hwi_db_model(db, "m", NULL, NULL, 1, &m), 1);
    ck_assert_int_eq(hwi_db_put_image(db, "a.jpg", "w_1", NULL, &a), 0);
    ck_assert_int_eq(hwi_db_put_image(db, "b.jpg", "w_2", NULL, &b), 0);
    ck_assert_int_eq(hwi_db_put_embedding(db, a, m, "features", v, 3), 0);
    ck_assert_int_eq(hwi_db_put_embedding(db, b, m, "features", v, 2), 0);
    ck_assert_int_eq(hwi_db_dim(db, m, "features"), -1);
    ck_assert_ptr_nonnull(strstr(hwi_db_errmsg(db), "dimensions 2 to 3"));
    hwi_db_close(db);

    sqlite3 *h;
    ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(h,
                                  "PRAGMA ignore_check_constraints = ON; "
                                  "UPDATE embeddings SET dim = 5 WHERE dim = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    db = hwi_db_open(path, HWI_DB_READONLY, err);
    ck_assert_ptr_nonnull(db);
    struct seen s = {0};
    ck_assert_int_eq(hwi_db_each_embedding(db, m, "features", NULL, collect, &s), -1);
    ck_assert_ptr_nonnull(
        strstr(hwi_db_errmsg(db), "image 'a.jpg': vector of 12 bytes for dimension 5"));
    hwi_db_close(db);
}
END_TEST

Suite *make_db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, test_roundtrip);
    suite_add_tcase(s, tc);
    TCase *lim = tcase_create("Limits");
    tcase_add_test(lim, test_bad_values);
    tcase_add_test(lim, test_versions);
    tcase_add_test(lim, test_corrupt);
    suite_add_tcase(s, lim);
    return s;
}
