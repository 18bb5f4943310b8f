/* sheet.h: matches to look at (hwi-sheet(1)): per query a PNG contact
 * sheet, the query's crop beside its best candidates' matched photos, and
 * one offline HTML page where a reviewer records decisions.
 *
 * Input is a scores TSV with the fourth column "photo" (hwi-knn --photo):
 *
 *   # query label score photo
 *   season2/card1/IMG_0001.JPG<TAB>w_a<TAB>0.93<TAB>cat/card3/IMG_0042.JPG
 *   season2/card1/IMG_0001.JPG<TAB>new_whale<TAB>0.5<TAB>-
 *
 * Queries and photos are paths under one photo root; "-" is no photo.
 *
 * A sheet is one row of panels, query first, each SIZE x SIZE pixels of
 * gray crop (hwi_image_crop: the box enlarged by 10%, or the whole photo)
 * above three caption lines, GAP pixels apart and around:
 *
 *   width  = GAP + panels * (SIZE + GAP)
 *   height = GAP + SIZE + GAP / 2 + 3 * LINE + GAP
 *
 * The page's export writes the decisions CSV that hwi-store(1) imports:
 * header "photo,decision,id"; decision same (the photo is individual id),
 * new (a new individual named id), not_same (id is a rejected candidate)
 * or skip (empty id). */
#ifndef HWI_SHEET_H
#define HWI_SHEET_H

#include "csv.h"
#include "err.h"
#include "image.h"
#include "map.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One candidate of a query. */
struct hwi_cand {
    char *label;
    double score;
    char *photo; /* the catalogue photo that gave the score; NULL: none */
    long line;   /* its line in the scores file */
};

/* A query and its best candidates, best first. */
struct hwi_review_query {
    char *query;
    long line; /* line of its first candidate */
    size_t n, cap;
    struct hwi_cand *cand;
};

/* A whole batch, in input order. */
struct hwi_review {
    size_t n, cap;
    struct hwi_review_query *q;
    size_t top; /* candidates shown per query */
};

/* Read the scores TSV FP (named NAME in messages) into R, empty before,
 * keeping the TOP best candidates of each query (sorted by score, best
 * first; ties by label).  Every line must have the photo column; lines of
 * one query are together and name a label once.  Returns 0, or -1 with
 * "NAME:LINE: ..." in ERR (R is then freed). */
int hwi_review_load(struct hwi_review *r, FILE *fp, const char *name, size_t top, char *err);

void hwi_review_free(struct hwi_review *r);

/* How a sheet looks. */
struct hwi_sheet {
    int size;                      /* panel crop SIZE x SIZE, e.g. 256 */
    int gap;                       /* pixels between and around panels */
    int line;                      /* caption line height */
    char font[64];                 /* Pango description of the caption font */
    const char *root;              /* photo root, e.g. "." */
    const struct hwi_boxes *boxes; /* NULL: whole photos */
    struct hwi_map box_index;      /* photo -> boxes->box[i] */
    uint8_t *canvas;               /* work: the sheet */
    uint8_t *crop;                 /* work: one crop */
};

/* Set S up for SIZE x SIZE panels from photos under ROOT, cropped to
 * BOXES (NULL: whole photos; kept, not copied).  Returns 0, or -1 with ERR
 * set (out of memory). */
int hwi_sheet_init(struct hwi_sheet *s, int size, const char *root,
                   const struct hwi_boxes *boxes, char *err);

void hwi_sheet_free(struct hwi_sheet *s);

/* The size in pixels of a sheet of PANELS panels. */
int hwi_sheet_width(const struct hwi_sheet *s, size_t panels);
int hwi_sheet_height(const struct hwi_sheet *s);

/* Write Q's contact sheet (1 + Q->n panels) as the PNG file PATH, whole
 * or not at all.  Returns 0, or -1 with "FILE:LINE: PHOTO: ..." in ERR,
 * FILE being NAME (the scores file) and LINE the line naming the photo
 * that failed. */
int hwi_sheet_png(struct hwi_sheet *s, const struct hwi_review_query *q, const char *name,
                  const char *path, char *err);

/* The file name of query I's sheet (I from 0) in BUF: "q0001.png", ... */
void hwi_sheet_name(size_t i, char *buf, size_t len);

/* Write the review page of R to FP: each query's sheet (named by
 * hwi_sheet_name, beside the page) with buttons same / not same under
 * each candidate, new individual (with a name) and skip, and an export
 * button that saves decisions.csv.  One self-contained file: no network,
 * works from file://.  Returns 0, or -1 on a write error. */
int hwi_review_html(FILE *fp, const struct hwi_review *r, const struct hwi_sheet *s);

#endif /* HWI_SHEET_H */
