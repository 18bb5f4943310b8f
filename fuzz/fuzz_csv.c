/* fuzz_csv.c: the Kaggle CSV readers (lib/csv.c) as the programs call
 * them: hwi_labels_load (train.csv), hwi_boxes_load (bounding_boxes.csv)
 * and hwi_preds_load (a submission), on a file.  The first byte picks the
 * reader; the rest is the file.  A table that loads is written back with
 * the matching writer and loaded again: the round trip must succeed and
 * give the same table.  The same file also goes through the photo-list
 * readers as hwi-crop and hwi-thresh call them: hwi_boxes_read (CSV or
 * TSV, bad rows kept, photo keys) beside the boxes, hwi_names_read beside
 * the labels. */
#include <config.h>

#include "fuzz.h"

#include "csv.h"
#include "photo.h"

#include <stdlib.h>
#include <string.h>

/* A table written to memory, then to a file in slot 1 for the loader. */
struct mem {
    char *buf;
    size_t len;
    FILE *fp;
};

static FILE *mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    if (!(m->fp = open_memstream(&m->buf, &m->len)))
        abort();
    return m->fp;
}

static const char *mem_file(struct mem *m)
{
    fclose(m->fp);
    const char *path = hwi_fuzz_file(1, (const uint8_t *)m->buf, m->len);
    free(m->buf);
    return path;
}

/* NAME is its own photo key. */
static int is_key(const char *name)
{
    char *key = strdup(name), err[HWI_ERRLEN];
    if (!key)
        abort();
    int ok = hwi_photo_key(name, key, err) == 0 && !strcmp(key, name);
    free(key);
    return ok;
}

/* The image-list reader, strict and as hwi-crop reads --images. */
static void names(const char *path)
{
    char err[HWI_ERRLEN];
    struct hwi_names a, b;
    int strict = hwi_names_read(&a, path, 0, err);
    if (strict)
        HWI_FUZZ_CHECK(a.n == 0 && err[0],
                       "a failed list leaves an empty table and a message");
    for (size_t i = 0; i < a.n; i++)
        HWI_FUZZ_CHECK(a.row[i].name[0] && !strchr(a.row[i].name, '\t') && !a.row[i].bad &&
                           *hwi_map_get(&a.index, a.row[i].name) == i,
                       "a strict list holds distinct good names");
    if (hwi_names_read(&b, path, HWI_LIST_ROWS | HWI_LIST_KEYS, err) == 0) {
        for (size_t i = 0; i < b.n; i++) {
            const size_t *k = hwi_map_get(&b.index, b.row[i].name);
            HWI_FUZZ_CHECK(b.row[i].bad || (is_key(b.row[i].name) && k && *k == i),
                           "a good row of a list is a photo key, first of its name");
        }
    } else {
        HWI_FUZZ_CHECK(b.n == 0 && err[0],
                       "a failed list leaves an empty table and a message");
    }
    hwi_names_free(&a);
    hwi_names_free(&b);
}

static void labels(const char *path)
{
    names(path);
    char err[HWI_ERRLEN];
    struct hwi_labels a, b;
    if (hwi_labels_load(&a, path, err)) {
        HWI_FUZZ_CHECK(a.n == 0 && err[0],
                       "a failed load leaves an empty table and a message");
        return;
    }
    struct mem mem;
    HWI_FUZZ_CHECK(hwi_labels_write(&a, mem_open(&mem)) == 0, "hwi_labels_write");
    const char *again = mem_file(&mem);
    HWI_FUZZ_CHECK(hwi_labels_load(&b, again, err) == 0, "written labels load again");
    HWI_FUZZ_CHECK(a.n == b.n, "same row count after the round trip");
    for (size_t i = 0; i < a.n; i++)
        HWI_FUZZ_CHECK(!strcmp(a.image[i], b.image[i]) && !strcmp(a.id[i], b.id[i]),
                       "same rows after the round trip");
    struct hwi_map m = {0};
    if (hwi_labels_index(&a, &m) == 0)
        hwi_map_free(&m);
    hwi_labels_free(&a);
    hwi_labels_free(&b);
}

/* The box reader as hwi-crop calls it: CSV or TSV, bad rows kept. */
static void box_rows(const char *path)
{
    char err[HWI_ERRLEN];
    struct hwi_boxes a;
    if (hwi_boxes_read(&a, path, HWI_LIST_ROWS | HWI_LIST_KEYS | HWI_LIST_TSV, err)) {
        HWI_FUZZ_CHECK(a.n == 0 && err[0],
                       "a failed load leaves an empty table and a message");
        return;
    }
    for (size_t i = 0; i < a.n; i++) {
        const struct hwi_box *x = &a.box[i];
        if (x->bad)
            continue;
        HWI_FUZZ_CHECK(x->x0 >= 0 && x->y0 >= 0 && x->x1 >= x->x0 && x->y1 >= x->y0,
                       "a good box is not inverted or negative");
        HWI_FUZZ_CHECK(is_key(x->image) && hwi_boxes_find(&a, x->image) == x,
                       "a good box row is a photo key, first of its name");
    }
    hwi_boxes_free(&a);
}

static void boxes(const char *path)
{
    char err[HWI_ERRLEN];
    struct hwi_boxes a, b;
    box_rows(path);
    if (hwi_boxes_load(&a, path, err)) {
        HWI_FUZZ_CHECK(a.n == 0 && err[0],
                       "a failed load leaves an empty table and a message");
        return;
    }
    for (size_t i = 0; i < a.n; i++)
        HWI_FUZZ_CHECK(a.box[i].x0 >= 0 && a.box[i].y0 >= 0 && a.box[i].x1 >= a.box[i].x0 &&
                           a.box[i].y1 >= a.box[i].y0,
                       "a loaded box is not inverted or negative");
    struct mem mem;
    HWI_FUZZ_CHECK(hwi_boxes_write(&a, mem_open(&mem)) == 0, "hwi_boxes_write");
    const char *again = mem_file(&mem);
    HWI_FUZZ_CHECK(hwi_boxes_load(&b, again, err) == 0, "written boxes load again");
    HWI_FUZZ_CHECK(a.n == b.n, "same row count after the round trip");
    for (size_t i = 0; i < a.n; i++)
        HWI_FUZZ_CHECK(!strcmp(a.box[i].image, b.box[i].image) && a.box[i].x0 == b.box[i].x0 &&
                           a.box[i].y0 == b.box[i].y0 && a.box[i].x1 == b.box[i].x1 &&
                           a.box[i].y1 == b.box[i].y1,
                       "same boxes after the round trip");
    hwi_boxes_free(&a);
    hwi_boxes_free(&b);
}

static void preds(const char *path)
{
    char err[HWI_ERRLEN];
    struct hwi_preds a, b;
    if (hwi_preds_load(&a, path, err)) {
        HWI_FUZZ_CHECK(a.n == 0 && err[0],
                       "a failed load leaves an empty table and a message");
        return;
    }
    struct mem mem;
    HWI_FUZZ_CHECK(hwi_preds_write(&a, mem_open(&mem)) == 0, "hwi_preds_write");
    const char *again = mem_file(&mem);
    HWI_FUZZ_CHECK(hwi_preds_load(&b, again, err) == 0, "written predictions load again");
    HWI_FUZZ_CHECK(a.n == b.n, "same row count after the round trip");
    for (size_t i = 0; i < a.n; i++) {
        HWI_FUZZ_CHECK(!strcmp(a.row[i].image, b.row[i].image) && a.row[i].n == b.row[i].n,
                       "same rows after the round trip");
        HWI_FUZZ_CHECK(a.row[i].n >= 1 && a.row[i].n <= HWI_TOPK, "1..5 ids a row");
        for (int k = 0; k < a.row[i].n; k++)
            HWI_FUZZ_CHECK(!strcmp(a.row[i].id[k], b.row[i].id[k]),
                           "same ids after the round trip");
    }
    hwi_preds_free(&a);
    hwi_preds_free(&b);
}

HWI_FUZZ_ENTRY(csv)
{
    if (size < 1)
        return 0;
    const char *path = hwi_fuzz_file(0, data + 1, size - 1);
    switch (data[0] % 3) {
    case 0: labels(path); break;
    case 1: boxes(path); break;
    default: preds(path); break;
    }
    return 0;
}
