/* tsv.h: the scores TSV, hwi's text format between ranking steps.
 *
 *   # query label score            optional comment lines start with '#'
 *   img1.jpg<TAB>w_1a2b3c4<TAB>0.87
 *
 * An optional 4th field names the gallery photo that gave the score
 * (hwi-knn --photo; '-' for none); readers take 3 or 4 fields per line.
 *
 * One candidate per line, UTF-8, LF (a CR before the LF is tolerated), no
 * quoting; a field may not contain TAB, CR or LF.  Scores are finite numbers,
 * written with %.9g in the C locale.  Lines of one query are together (a
 * "group"), best first when a program writes them. */
#ifndef HWI_TSV_H
#define HWI_TSV_H

#include "err.h"
#include "map.h"

#include <stdio.h>

/* Line reader. */
struct hwi_tsv {
    FILE *fp;
    const char *name; /* for messages */
    long line;        /* number of the current line */
    char *buf;
    size_t cap;
    char *query; /* fields of the current line, pointing into buf */
    char *label;
    double score;
    char *photo; /* the optional 4th field (the gallery photo that gave the
                  * score, hwi-knn --photo), or NULL when absent or '-' */
    char err[HWI_ERRLEN];
};

/* Start reading FP, named NAME in messages. */
void hwi_tsv_open(struct hwi_tsv *r, FILE *fp, const char *name);

/* Next candidate line (comments and blank lines skipped).  Returns 1, 0 at
 * EOF, -1 on error ("FILE:LINE: ..." in r->err). */
int hwi_tsv_next(struct hwi_tsv *r);

/* Free the reader's buffers (not FP). */
void hwi_tsv_close(struct hwi_tsv *r);

/* All candidates of one query. */
struct hwi_group {
    char *query;
    long line; /* line of its first candidate */
    size_t n, cap;
    char **label;
    double *score;
    char **photo; /* [n] each candidate's 4th field, NULL when absent or '-' */
};

/* Reader of whole groups.  Checks that each query's lines are contiguous
 * (it remembers every finished query) and that no label repeats within a
 * query. */
struct hwi_groups {
    struct hwi_tsv tsv;
    int pending; /* tsv holds a line of the next group */
    int eof;
    struct hwi_map done;   /* finished queries */
    struct hwi_map labels; /* labels of the current group */
};

void hwi_groups_open(struct hwi_groups *g, FILE *fp, const char *name);

/* Read the next group into *OUT (reusing its buffers).  Returns 1, 0 at EOF,
 * -1 on error (message in g->tsv.err). */
int hwi_groups_next(struct hwi_groups *g, struct hwi_group *out);

void hwi_groups_close(struct hwi_groups *g);
void hwi_group_free(struct hwi_group *grp);

/* Append a candidate to GRP (no photo).  Returns 0, or -1 if out of memory. */
int hwi_group_add(struct hwi_group *grp, const char *label, double score);

/* Append a candidate with PHOTO (NULL: none).  Returns 0 or -1 as above. */
int hwi_group_add_photo(struct hwi_group *grp, const char *label, double score,
                        const char *photo);

/* Sort GRP's candidates by score, best first (ties by label, so the order
 * is deterministic).  Returns 0, or -1 if out of memory (GRP unchanged). */
int hwi_group_sort(struct hwi_group *grp);

/* Write "# query label score". */
void hwi_tsv_write_header(FILE *fp);

/* Write "# query label score photo", the header of scores with the
 * optional 4th column: the photo (key) that gave each score, '-' for none. */
void hwi_tsv_write_header_photo(FILE *fp);

/* Write one line with the 4th column PHOTO ('-' when PHOTO is NULL).
 * Returns 0, or -1 as hwi_tsv_write. */
int hwi_tsv_write_photo(FILE *fp, const char *query, const char *label, double score,
                        const char *photo);

/* Write one line.  Returns 0, or -1 if a field holds TAB or LF or the score
 * is not finite (nothing is written then). */
int hwi_tsv_write(FILE *fp, const char *query, const char *label, double score);

/* Room for a score as hwi_fmt_score writes it, with its NUL. */
#define HWI_SCORE_LEN 32

/* Write V into BUF (HWI_SCORE_LEN bytes) exactly as printf's "%.9g" does,
 * several times faster for the usual scores; returns its length. */
int hwi_fmt_score(char *buf, double v);

/* 1 if S can be a TSV field (non-empty, no TAB, CR or LF), else 0. */
int hwi_tsv_field_ok(const char *s);

#endif /* HWI_TSV_H */
