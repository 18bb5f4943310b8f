/* csv.h: the competition's CSV files, read and written as Kaggle did.
 *
 *   train.csv, solution.csv   Image,Id
 *   bounding_boxes.csv        Image,x0,y0,x1,y1   (pixels, x1/y1 inclusive)
 *   submission                Image,Id   with 1..5 space-separated ids
 *
 * Readers check the header, accept CRLF line ends, a UTF-8 byte-order mark,
 * a last line without newline and double-quoted fields ("" inside quotes is
 * a quote); they skip blank lines.  Every error message starts with
 * "FILE:LINE: ".  Image names must be unique within one file. */
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
};
struct hwi_boxes {
    size_t n;
    struct hwi_box *box;
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
 * On error the table is left empty. */
int hwi_labels_load(struct hwi_labels *t, const char *path, char *err);
int hwi_boxes_load(struct hwi_boxes *t, const char *path, char *err);
int hwi_preds_load(struct hwi_preds *t, const char *path, char *err);

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
int hwi_labels_rows(const struct hwi_labels *t, const char *const *key, size_t n,
                    size_t *row, size_t *bad, char *err);

void hwi_labels_free(struct hwi_labels *t);
void hwi_boxes_free(struct hwi_boxes *t);
void hwi_preds_free(struct hwi_preds *t);

#endif /* HWI_CSV_H */
