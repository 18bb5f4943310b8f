/* csv.c: Kaggle CSV readers and writers, and the readers of the photo
 * lists the programs take (boxes, image lists; see csv.h).
 * The reader splits one physical line at a time; a quoted field may hold
 * commas but not a newline, which the competition's files never had.
 * The list readers read a stream once (stdin cannot be rewound): the form
 * of a box file shows in its first line, read before the rest. */
#include <config.h>

#include "csv.h"

#include "io.h"
#include "map.h"
#include "opt.h"
#include "photo.h"
#include "tsv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* Read one line into c->buf without its LF/CRLF (and without a UTF-8
 * byte-order mark on line 1), its length into *LEN.  1, 0 at EOF, -1. */
static int raw_line(struct hwi_csv *c, size_t *len)
{
    int rc = hwi_read_line(c->fp, &c->buf, &c->cap, len, c->name, &c->line, c->err);
    if (rc <= 0)
        return rc;
    c->bytes += *len + 1;
    if (c->max && c->bytes > c->max)
        return hwi_seterr(c->err, "%s: longer than %zu MiB: not a list of photos", c->name,
                          c->max >> 20);
    if (c->line == 1 && (unsigned char)c->buf[0] == 0xEF && (unsigned char)c->buf[1] == 0xBB &&
        (unsigned char)c->buf[2] == 0xBF) {
        memmove(c->buf, c->buf + 3, *len - 2);
        *len -= 3;
    }
    return 1;
}

/* raw_line, rejecting a CR inside the line.  1, 0 at EOF, -1. */
static int read_line(struct hwi_csv *c)
{
    size_t len;
    int rc = raw_line(c, &len);
    if (rc <= 0)
        return rc;
    if (memchr(c->buf, '\r', len))
        return hwi_seterr(c->err, "%s:%ld: carriage return inside the line", c->name, c->line);
    return 1;
}

static int push_field(struct hwi_csv *c, char *f)
{
    if (c->nfield == c->fieldcap) {
        int cap = c->fieldcap ? 2 * c->fieldcap : 8;
        char **p = realloc(c->field, (size_t)cap * sizeof *p);
        if (!p)
            return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
        c->field = p;
        c->fieldcap = cap;
    }
    c->field[c->nfield++] = f;
    return 0;
}

/* Split c->buf in place at commas, unquoting quoted fields. */
static int split(struct hwi_csv *c)
{
    c->nfield = 0;
    char *p = c->buf;
    for (;;) {
        char *start = p;
        if (*p == '"') {
            char *w = start;
            for (p++;; p++) {
                if (!*p)
                    return hwi_seterr(c->err, "%s:%ld: unterminated quoted field", c->name,
                                      c->line);
                if (*p == '"') {
                    if (p[1] != '"')
                        break;
                    p++;
                }
                *w++ = *p;
            }
            p++; /* closing quote */
            if (*p && *p != ',')
                return hwi_seterr(c->err, "%s:%ld: text after a closing quote", c->name,
                                  c->line);
            *w = 0;
        } else {
            while (*p && *p != ',')
                p++;
        }
        int last = !*p;
        *p++ = 0;
        if (push_field(c, start))
            return -1;
        if (last)
            return 0;
    }
}

/* Check that the line in c->buf is HEADER, field by field
 * (case-insensitively).  0 or -1. */
static int check_header(struct hwi_csv *c, const char *header)
{
    if (split(c))
        return -1;
    char *want = strdup(header);
    if (!want)
        return hwi_seterr(c->err, "out of memory");
    int i = 0, ok = 1;
    for (char *p = want, *tok; (tok = strsep(&p, ",")); i++)
        if (i >= c->nfield || strcasecmp(tok, c->field[i]) != 0)
            ok = 0;
    free(want);
    if (!ok || i != c->nfield)
        return hwi_seterr(c->err, "%s:1: bad header: expected '%s'", c->name, header);
    return 0;
}

int hwi_csv_open(struct hwi_csv *c, FILE *fp, const char *name, const char *header)
{
    memset(c, 0, sizeof *c);
    c->fp = fp;
    c->name = name;
    if (!header)
        return 0;
    int rc = read_line(c);
    if (rc == 0)
        return hwi_seterr(c->err, "%s:1: empty file: expected the header '%s'", name, header);
    return rc < 0 ? -1 : check_header(c, header);
}

int hwi_csv_next(struct hwi_csv *c)
{
    for (;;) {
        int rc = read_line(c);
        if (rc <= 0)
            return rc;
        if (c->buf[0] == 0)
            continue; /* blank line */
        return split(c) ? -1 : 1;
    }
}

void hwi_csv_close(struct hwi_csv *c)
{
    free(c->buf);
    free(c->field);
    c->buf = NULL;
    c->field = NULL;
}

/* Open the photo list PATH for reading into C (no header check; at most
 * HWI_LIST_MAX bytes).  Returns the stream, or NULL with ERR set. */
static FILE *open_list(struct hwi_csv *c, const char *path, char *err)
{
    FILE *fp = hwi_fopen_in(path, err);
    if (fp) {
        hwi_csv_open(c, fp, hwi_file_name(path), NULL);
        c->max = HWI_LIST_MAX;
    }
    return fp;
}

/* Close what open_list opened; RC < 0 (the reader failed) copies C's
 * message to ERR.  Returns -1 for a failure, else 0. */
static int close_list(struct hwi_csv *c, FILE *fp, int rc, char *err)
{
    if (rc < 0 && err)
        memcpy(err, c->err, HWI_ERRLEN);
    hwi_csv_close(c);
    hwi_fclose_in(fp);
    return rc < 0 ? -1 : 0;
}

/* Common loop of the table loaders: open PATH, check HEADER, call ROW for
 * each row with exactly NF fields (NF < 0: at least -NF), reject duplicate
 * image names (field 0). */
typedef int (*row_fn)(void *table, struct hwi_csv *c);

static int load(const char *path, const char *header, int nf, row_fn row, void *table,
                char *err)
{
    const char *name = hwi_file_name(path);
    FILE *fp = hwi_fopen_in(path, err);
    if (!fp)
        return -1;
    struct hwi_csv c;
    struct hwi_map seen = {0};
    int rc = hwi_csv_open(&c, fp, name, header);
    while (rc == 0) {
        int got = hwi_csv_next(&c);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (nf >= 0 ? c.nfield != nf : c.nfield < -nf) {
            rc = hwi_seterr(c.err, "%s:%ld: expected %d fields (%s), got %d", name, c.line,
                            nf >= 0 ? nf : -nf, header, c.nfield);
            break;
        }
        if (!c.field[0][0]) {
            rc = hwi_seterr(c.err, "%s:%ld: empty image name", name, c.line);
            break;
        }
        size_t first;
        int put = hwi_map_put(&seen, c.field[0], (size_t)c.line, &first);
        if (put < 0) {
            rc = hwi_seterr(c.err, "%s:%ld: out of memory", name, c.line);
            break;
        }
        if (put == 0) {
            rc = hwi_seterr(c.err, "%s:%ld: duplicate image '%s' (first on line %zu)", name,
                            c.line, c.field[0], first);
            break;
        }
        rc = row(table, &c);
    }
    if (rc < 0 && err)
        memcpy(err, c.err, HWI_ERRLEN);
    hwi_map_free(&seen);
    hwi_csv_close(&c);
    hwi_fclose_in(fp);
    return rc < 0 ? -1 : 0;
}

/* Make room for item N in an array of SIZE-byte items whose capacity is
 * 16 while N <= 16 and the next power of two after that. */
static int reserve(void *pp, size_t n, size_t size)
{
    if (n != 0 && (n < 16 || (n & (n - 1))))
        return 0; /* not full */
    void **p = pp;
    void *q = realloc(*p, (n ? 2 * n : 16) * size);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

int hwi_labels_add(struct hwi_labels *t, const char *image, const char *id)
{
    if (reserve(&t->image, t->n, sizeof(char *)) || reserve(&t->id, t->n, sizeof(char *)))
        return -1;
    char *a = strdup(image), *b = strdup(id);
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    t->image[t->n] = a;
    t->id[t->n] = b;
    t->n++;
    return 0;
}

static int labels_row(void *table, struct hwi_csv *c)
{
    if (!c->field[1][0])
        return hwi_seterr(c->err, "%s:%ld: empty Id", c->name, c->line);
    if (hwi_labels_add(table, c->field[0], c->field[1]))
        return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    return 0;
}

int hwi_labels_load(struct hwi_labels *t, const char *path, char *err)
{
    memset(t, 0, sizeof *t);
    if (load(path, "Image,Id", 2, labels_row, t, err)) {
        hwi_labels_free(t);
        return -1;
    }
    return 0;
}

static int preds_row(void *table, struct hwi_csv *c)
{
    struct hwi_preds *t = table;
    if (reserve(&t->row, t->n, sizeof *t->row))
        return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    struct hwi_pred *r = &t->row[t->n];
    memset(r, 0, sizeof *r);
    r->line = c->line;
    if (!(r->image = strdup(c->field[0])))
        return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    t->n++; /* counted now so that free() sees it */
    char *p = c->field[1], *tok;
    while ((tok = strsep(&p, " "))) {
        if (!*tok)
            continue; /* repeated blanks */
        if (r->n == HWI_TOPK)
            return hwi_seterr(c->err, "%s:%ld: more than %d ids for '%s'", c->name, c->line,
                              HWI_TOPK, r->image);
        if (!(r->id[r->n++] = strdup(tok)))
            return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    }
    if (r->n == 0)
        return hwi_seterr(c->err, "%s:%ld: no ids for '%s'", c->name, c->line, r->image);
    return 0;
}

int hwi_preds_load(struct hwi_preds *t, const char *path, char *err)
{
    memset(t, 0, sizeof *t);
    if (load(path, "Image,Id", 2, preds_row, t, err)) {
        hwi_preds_free(t);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Lists of photos: boxes and image lists. */

/* Split c->buf in place at tabs (a line of the TSV box form). */
static int split_tabs(struct hwi_csv *c)
{
    c->nfield = 0;
    for (char *p = c->buf, *tok; (tok = strsep(&p, "\t"));)
        if (push_field(c, tok))
            return -1;
    return 0;
}

/* Check NAME, the name of row N of a table whose names are in INDEX,
 * under FLAGS (TAB_OK: a name may hold a TAB without HWI_LIST_KEYS), and
 * with HWI_LIST_KEYS normalise it in place when it is good.  Returns 0 with
 * *WHY NULL for a new good name, now in INDEX at N; 0 with the reason in
 * *WHY (perhaps in BUF) for a bad one, *FIRST being the row it repeats or
 * N; -1 if out of memory. */
static int check_name(char *name, int flags, int tab_ok, struct hwi_map *index, size_t n,
                      size_t *first, char *buf, const char **why)
{
    *why = NULL;
    *first = n;
    if (flags & HWI_LIST_KEYS) {
        char *key = strdup(name); /* NAME stays as given when bad */
        if (!key)
            return -1;
        int bad = hwi_photo_key(name, key, buf);
        if (!bad)
            strcpy(name, key);
        free(key);
        if (bad) {
            *why = buf;
            return 0;
        }
    } else if (!*name || (!tab_ok && strchr(name, '\t'))) {
        *why = tab_ok ? "empty image name" : "empty image name or one with a TAB";
        return 0;
    }
    int put = hwi_map_put(index, name, n, first);
    if (put < 0)
        return -1;
    if (put == 0)
        *why = "listed twice";
    return 0;
}

/* The reason of a second row whose first is on line FIRST, in BUF. */
static const char *twice(char *buf, long first)
{
    if (first)
        snprintf(buf, HWI_ERRLEN, "listed twice (first at line %ld)", first);
    else
        snprintf(buf, HWI_ERRLEN, "listed twice");
    return buf;
}

/* Parse the four coordinates F[0..3] of a box row into B; the reason it
 * cannot be one in BUF, or NULL. */
static const char *parse_box(char **f, struct hwi_box *b, char *buf)
{
    static const char *const coord[4] = {"x0", "y0", "x1", "y1"};
    long v[4];
    for (int i = 0; i < 4; i++)
        if (hwi_parse_long(f[i], 0, INT_MAX, &v[i])) {
            snprintf(buf, HWI_ERRLEN, "%s is '%s', not a pixel coordinate", coord[i], f[i]);
            return buf;
        }
    if (v[2] < v[0] || v[3] < v[1]) {
        snprintf(buf, HWI_ERRLEN, "inverted box (%ld,%ld)-(%ld,%ld)", v[0], v[1], v[2], v[3]);
        return buf;
    }
    b->x0 = v[0];
    b->y0 = v[1];
    b->x1 = v[2];
    b->y1 = v[3];
    return NULL;
}

/* Add the row in c->field[0..5) to T under FLAGS.  0 or -1. */
static int box_row(struct hwi_boxes *t, struct hwi_csv *c, int flags)
{
    char buf[HWI_ERRLEN];
    const char *why;
    size_t first;
    char *name = c->field[0];
    if (check_name(name, flags, 1, &t->index, t->n, &first, buf, &why))
        return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    if (why && first < t->n) { /* a second row */
        if (!(flags & HWI_LIST_ROWS))
            return hwi_seterr(c->err, "%s:%ld: duplicate image '%s' (first on line %ld)",
                              c->name, c->line, name, t->box[first].line);
        if (!t->box[first].dup)
            t->box[first].dup = c->line;
        why = twice(buf, t->box[first].line);
    }
    struct hwi_box b = {.line = c->line};
    if (!why)
        why = parse_box(c->field + 1, &b, buf);
    if (why && !(flags & HWI_LIST_ROWS))
        return hwi_seterr(c->err, "%s:%ld: %s", c->name, c->line, why);
    if (reserve(&t->box, t->n, sizeof *t->box))
        return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    if (!(b.image = strdup(name)) || (why && !(b.bad = strdup(why)))) {
        free(b.image);
        return hwi_seterr(c->err, "%s:%ld: out of memory", c->name, c->line);
    }
    t->box[t->n++] = b;
    return 0;
}

int hwi_boxes_read(struct hwi_boxes *t, const char *path, int flags, char *err)
{
    static const char header[] = "Image,x0,y0,x1,y1";
    memset(t, 0, sizeof *t);
    struct hwi_csv c;
    FILE *fp = open_list(&c, path, err);
    if (!fp)
        return -1;
    const char *name = c.name;
    size_t len;
    /* the form shows in line 1: the CSV header, or else (HWI_LIST_TSV) a
     * TSV line, a comment or nothing */
    int rc = raw_line(&c, &len);
    int tsv =
        rc >= 0 && (flags & HWI_LIST_TSV) && (rc == 0 || strncasecmp(c.buf, "Image,", 6));
    int pending = tsv && rc == 1; /* line 1 is a row */
    if (!tsv && rc == 0)
        rc = hwi_seterr(c.err, "%s:1: empty file: expected the header '%s'", name, header);
    else if (!tsv && rc == 1)
        rc = memchr(c.buf, '\r', len)
                 ? hwi_seterr(c.err, "%s:1: carriage return inside the line", name)
                 : check_header(&c, header);
    else
        rc = rc < 0 ? -1 : 0;
    while (rc == 0) {
        if (tsv) {
            if (!pending && (rc = raw_line(&c, &len)) <= 0)
                break;
            pending = 0;
            rc = 0;
            if (!c.buf[0] || c.buf[0] == '#')
                continue;
            if ((rc = split_tabs(&c)))
                break;
            if (c.nfield != 5) {
                rc = hwi_seterr(
                    c.err, "%s:%ld: expected 5 tab-separated fields (image x0 y0 x1 y1)%s",
                    name, c.line, c.line == 1 ? " or the CSV header Image,x0,y0,x1,y1" : "");
                break;
            }
        } else {
            if ((rc = hwi_csv_next(&c)) <= 0)
                break;
            if (c.nfield != 5) {
                rc = hwi_seterr(c.err, "%s:%ld: expected 5 fields (%s), got %d", name, c.line,
                                header, c.nfield);
                break;
            }
        }
        rc = box_row(t, &c, flags);
    }
    if (close_list(&c, fp, rc, err)) {
        hwi_boxes_free(t);
        return -1;
    }
    return 0;
}

int hwi_boxes_load(struct hwi_boxes *t, const char *path, char *err)
{
    return hwi_boxes_read(t, path, 0, err);
}

const struct hwi_box *hwi_boxes_find(const struct hwi_boxes *t, const char *image)
{
    const size_t *k = hwi_map_get(&t->index, image);
    return k ? &t->box[*k] : NULL;
}

/* hwi_names_add with the reason of a bad name (without HWI_LIST_ROWS) in
 * WHY: 1 then, 0 when added, -1 if out of memory. */
static int names_add(struct hwi_names *t, const char *name, long line, int flags, char *buf,
                     const char **why)
{
    char *copy = strdup(name);
    if (!copy || reserve(&t->row, t->n, sizeof *t->row)) {
        free(copy);
        return -1;
    }
    size_t first;
    if (check_name(copy, flags, 0, &t->index, t->n, &first, buf, why)) {
        free(copy);
        return -1;
    }
    if (*why && first < t->n) { /* a second row */
        if (!(flags & HWI_LIST_ROWS)) {
            snprintf(buf, HWI_ERRLEN, "image '%s' is listed twice (first on line %ld)", copy,
                     t->row[first].line);
            *why = buf;
            free(copy);
            return 1;
        }
        if (!t->row[first].dup)
            t->row[first].dup = line ? line : -1;
        *why = twice(buf, t->row[first].line);
    }
    if (*why && !(flags & HWI_LIST_ROWS)) {
        free(copy);
        return 1;
    }
    struct hwi_name r = {.name = copy, .line = line};
    if (*why && !(r.bad = strdup(*why))) {
        free(copy);
        return -1;
    }
    t->row[t->n++] = r;
    return 0;
}

int hwi_names_add(struct hwi_names *t, const char *name, long line, int flags, char *err)
{
    char buf[HWI_ERRLEN];
    const char *why;
    int rc = names_add(t, name, line, flags, buf, &why);
    if (rc < 0)
        return hwi_seterr(err, "out of memory");
    if (rc > 0)
        return hwi_seterr(err, "%s", why);
    return 0;
}

int hwi_names_read(struct hwi_names *t, const char *path, int flags, char *err)
{
    memset(t, 0, sizeof *t);
    struct hwi_csv c;
    FILE *fp = open_list(&c, path, err);
    if (!fp)
        return -1;
    const char *name = c.name;
    int rc;
    while ((rc = hwi_csv_next(&c)) == 1) {
        if (c.line == 1 && !strcasecmp(c.field[0], "Image"))
            continue; /* a header */
        char buf[HWI_ERRLEN];
        const char *why;
        int got = names_add(t, c.field[0], c.line, flags, buf, &why);
        if (got) {
            rc = got < 0 ? hwi_seterr(c.err, "%s:%ld: out of memory", name, c.line)
                         : hwi_seterr(c.err, "%s:%ld: %s", name, c.line, why);
            break;
        }
    }
    if (close_list(&c, fp, rc, err)) {
        hwi_names_free(t);
        return -1;
    }
    return 0;
}

void hwi_names_free(struct hwi_names *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->row[i].name);
        free(t->row[i].bad);
    }
    free(t->row);
    hwi_map_free(&t->index);
    memset(t, 0, sizeof *t);
}

/* 1 if S must be quoted in a CSV field (as the reader unquotes it). */
static int needs_quotes(const char *s)
{
    return s[0] == '"' || strpbrk(s, ",\"\r\n") != NULL;
}

/* Write S, doubling its quotes when QUOTED (the caller writes the quotes
 * around the field). */
static void put_text(FILE *fp, const char *s, int quoted)
{
    if (!quoted) {
        fputs(s, fp);
        return;
    }
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
}

static void put_field(FILE *fp, const char *s)
{
    int q = needs_quotes(s);
    if (q)
        fputc('"', fp);
    put_text(fp, s, q);
    if (q)
        fputc('"', fp);
}

void hwi_csv_put_field(FILE *fp, const char *s)
{
    put_field(fp, s);
}

int hwi_labels_write(const struct hwi_labels *t, FILE *fp)
{
    fputs("Image,Id\n", fp);
    for (size_t i = 0; i < t->n; i++) {
        put_field(fp, t->image[i]);
        fputc(',', fp);
        put_field(fp, t->id[i]);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

int hwi_boxes_write(const struct hwi_boxes *t, FILE *fp)
{
    fputs("Image,x0,y0,x1,y1\n", fp);
    for (size_t i = 0; i < t->n; i++) {
        const struct hwi_box *b = &t->box[i];
        put_field(fp, b->image);
        fprintf(fp, ",%ld,%ld,%ld,%ld\n", b->x0, b->y0, b->x1, b->y1);
    }
    return ferror(fp) ? -1 : 0;
}

int hwi_preds_write(const struct hwi_preds *t, FILE *fp)
{
    fputs("Image,Id\n", fp);
    for (size_t i = 0; i < t->n; i++) {
        const struct hwi_pred *r = &t->row[i];
        put_field(fp, r->image);
        fputc(',', fp);
        int q = 0;
        for (int k = 0; k < r->n; k++)
            q |= needs_quotes(r->id[k]);
        if (q)
            fputc('"', fp);
        for (int k = 0; k < r->n; k++) {
            if (k)
                fputc(' ', fp);
            put_text(fp, r->id[k], q);
        }
        if (q)
            fputc('"', fp);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}

int hwi_labels_index(const struct hwi_labels *t, struct hwi_map *m)
{
    for (size_t i = 0; i < t->n; i++)
        if (hwi_map_put(m, t->image[i], i, NULL) < 0) {
            hwi_map_free(m);
            return -1;
        }
    return 0;
}

int hwi_labels_rows(const struct hwi_labels *t, const char *const *key, size_t n, size_t *row,
                    size_t *bad, char *err)
{
    struct hwi_map idx = {0};
    *bad = n;
    if (hwi_labels_index(t, &idx))
        return hwi_seterr(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const size_t *r = hwi_map_get(&idx, key[i]);
        if (r) {
            row[i] = *r;
        } else {
            *bad = i;
            rc = -1;
        }
    }
    hwi_map_free(&idx);
    return rc;
}

void hwi_labels_free(struct hwi_labels *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->image[i]);
        free(t->id[i]);
    }
    free(t->image);
    free(t->id);
    memset(t, 0, sizeof *t);
}

void hwi_boxes_free(struct hwi_boxes *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->box[i].image);
        free(t->box[i].bad);
    }
    free(t->box);
    hwi_map_free(&t->index);
    memset(t, 0, sizeof *t);
}

void hwi_preds_free(struct hwi_preds *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->row[i].image);
        for (int k = 0; k < t->row[i].n; k++)
            free(t->row[i].id[k]);
    }
    free(t->row);
    memset(t, 0, sizeof *t);
}
