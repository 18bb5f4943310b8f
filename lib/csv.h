/* csv.h: the competition's CSV files, read and written as Kaggle did.
 *
 *   train.csv, solution.csv   Image,Id
 *   bounding_boxes.csv        Image,x0,y0,x1,y1   (pixels, x1/y1 inclusive)
 *   submission                Image,Id   with 1..5 space-separated ids
 *
 * Readers check the header, accept CRLF line ends, a UTF-8 byte-order mark,
 * a last line without newline and double-quoted fields ("" inside quotes is
 * a quote); they skip blank lines.  Every error message starts with
 * "FILE:LINE: ".  Image names must be unique within one file.
 *
 * The photo lists the programs take (hwi-crop --boxes/--images,
 * hwi-thresh --images) have their readers here too, below: one name per
 * line or a CSV, boxes as CSV or TSV, bad rows kept on request. */
#ifndef HWI_CSV_H
#define HWI_CSV_H

#include "err.h"
#include "map.h"

#include <stdio.h>

#define HWI_TOPK 5 /* ids in one submission row */

/* A low-level reader: one row at a time. */
struct hwi_csv {
    FILE *fp;
    const char *name; /* file name for messages */
    long line;        /* line number of the current row */
    char *buf;        /* current line */
    size_t cap;
    char **field; /* fields of the current row, pointing into buf */
    int nfield;
    int fieldcap;
    size_t bytes; /* read so far */
    size_t max;   /* fail once more than this was read (0: no limit) */
    char err[HWI_ERRLEN];
};

/* Start reading FP.  When HEADER (e.g. "Image,Id") is not NULL the first line
 * must match it field by field (case-insensitively).  Returns 0 or -1. */
int hwi_csv_open(struct hwi_csv *c, FILE *fp, const char *name, const char *header);

/* Read the next row.  Returns 1 (fields in c->field), 0 at EOF, -1 on error. */
int hwi_csv_next(struct hwi_csv *c);

/* Free the reader's buffers (not FP). */
void hwi_csv_close(struct hwi_csv *c);

/* Image -> label, from train.csv or solution.csv. */
struct hwi_labels {
    size_t n;
    char **image;
    char **id;
};

/* Bounding boxes, from bounding_boxes.csv. */
struct hwi_box {
    char *image;
    long x0, y0, x1, y1;
    /* filled by the readers (zero in a table built by hand): */
    long line; /* its line in the file */
    char *bad; /* HWI_LIST_ROWS: why the row cannot be used, or NULL */
    long dup;  /* line of the next row with the same image, or 0 */
};
struct hwi_boxes {
    size_t n;
    struct hwi_box *box;
    struct hwi_map index; /* image -> its first row (readers only) */
};

/* Submission rows: up to HWI_TOPK predicted ids per image, best first. */
struct hwi_pred {
    char *image;
    int n;
    char *id[HWI_TOPK];
    long line; /* line of the row in its file, for messages */
};
struct hwi_preds {
    size_t n;
    struct hwi_pred *row;
};

/* Load PATH ("-" is stdin).  Return 0, or -1 with "FILE:LINE: ..." in ERR.
 * On error the table is left empty.  hwi_boxes_load is hwi_boxes_read
 * with no flags. */
int hwi_labels_load(struct hwi_labels *t, const char *path, char *err);
int hwi_boxes_load(struct hwi_boxes *t, const char *path, char *err);
int hwi_preds_load(struct hwi_preds *t, const char *path, char *err);

/* ------------------------------------------------------------------------
 * Lists of photos as the programs take them: the boxes (hwi-crop --boxes)
 * and image lists (hwi-crop, hwi-thresh --images): one name per line, or a
 * CSV whose first column is Image (train.csv, sample_submission.csv; a
 * first line whose first field is "Image" is a header and skipped).  The
 * readers stop at a file of more than HWI_LIST_MAX bytes.
 *
 * FLAGS of the readers:
 *   HWI_LIST_ROWS  keep a bad row (a bad name, a duplicate, a bad box) in
 *                  the table, its reason in the row's BAD (no file, line
 *                  or name: the caller words the message), rather than
 *                  fail; the errors of the file itself (its header, a
 *                  row's field count, a NUL byte, a read error, its size)
 *                  still fail.
 *   HWI_LIST_KEYS  names are photo keys (photo.h): stored normalised, and
 *                  a name that cannot be one is bad.  Without it a name
 *                  must not be empty (nor, in an image list, hold a TAB).
 *   HWI_LIST_TSV   boxes: a file whose first line is not the CSV header
 *                  (Image,...) holds lines IMAGE<TAB>x0<TAB>y0<TAB>x1<TAB>y1,
 *                  with '#' comments and blank lines; an empty file holds
 *                  no boxes.
 * Two rows with one name (normalised, with HWI_LIST_KEYS): the second is
 * bad, and the first's DUP holds the second's line. */
enum { HWI_LIST_ROWS = 1, HWI_LIST_KEYS = 2, HWI_LIST_TSV = 4 };

#define HWI_LIST_MAX (256 << 20) /* bytes of a list or box file */

/* Read the boxes of PATH ("-" is stdin) into T under FLAGS.  Returns 0, or
 * -1 with "FILE:LINE: ..." in ERR and T empty. */
int hwi_boxes_read(struct hwi_boxes *t, const char *path, int flags, char *err);

/* The first row of T for IMAGE (which may be bad with HWI_LIST_ROWS), or
 * NULL. */
const struct hwi_box *hwi_boxes_find(const struct hwi_boxes *t, const char *image);

/* An image list. */
struct hwi_name {
    char *name; /* normalised with HWI_LIST_KEYS, unless bad */
    long line;  /* its line in the file (0: added without one) */
    char *bad;  /* HWI_LIST_ROWS: why it cannot be used, or NULL */
    long dup;   /* line of the next row with the same name (-1: one
                 * added without a line), or 0 */
};
struct hwi_names {
    size_t n;
    struct hwi_name *row;
    struct hwi_map index; /* name -> its first row (good names only) */
};

/* Read the image list PATH ("-" is stdin) into T under FLAGS (not
 * HWI_LIST_TSV).  Returns 0, or -1 with "FILE:LINE: ..." in ERR and T
 * empty. */
int hwi_names_read(struct hwi_names *t, const char *path, int flags, char *err);

/* Append NAME with line LINE to T (empty before, or from hwi_names_read)
 * as hwi_names_read does, e.g. for the names given as operands.  Returns
 * 0, or -1 with ERR set when out of memory or, without HWI_LIST_ROWS, when
 * the name is bad (the reason only: no file, line or name; T stays as it
 * was). */
int hwi_names_add(struct hwi_names *t, const char *name, long line, int flags, char *err);

void hwi_names_free(struct hwi_names *t);

/* Write a table with its header, quoting a field that holds a comma, a
 * quote or a line break as the readers expect.  Return 0, or -1 on a write
 * error. */
int hwi_labels_write(const struct hwi_labels *t, FILE *fp);

/* Write one field S as the writers above do (quoted when it holds a comma,
 * a quote or a line break); the caller writes the commas and line ends. */
void hwi_csv_put_field(FILE *fp, const char *s);
int hwi_preds_write(const struct hwi_preds *t, FILE *fp);
int hwi_boxes_write(const struct hwi_boxes *t, FILE *fp);

/* Append a row (copies the strings).  Return 0, or -1 if out of memory. */
int hwi_labels_add(struct hwi_labels *t, const char *image, const char *id);

/* Map each image of T to its row (index into t->image and t->id) in M,
 * empty before.  Returns 0, or -1 if out of memory (M is then freed). */
int hwi_labels_index(const struct hwi_labels *t, struct hwi_map *m);

/* The truth join: ROW[i] = the row of T (index into t->image and t->id)
 * labelling image KEY[i], for i in 0..n.  Returns 0; or -1 with *BAD the
 * index of the first key T does not label (the caller words the message),
 * or with *BAD = N and ERR set if out of memory. */
int hwi_labels_rows(const struct hwi_labels *t, const char *const *key, size_t n, size_t *row,
                    size_t *bad, char *err);

void hwi_labels_free(struct hwi_labels *t);
void hwi_boxes_free(struct hwi_boxes *t);
void hwi_preds_free(struct hwi_preds *t);

#endif /* HWI_CSV_H */
