/* sheet.c: contact sheets and the review page (see sheet.h).
 *
 * The sheet is composed in memory, one gray byte per pixel: crops come
 * from hwi_image_crop, captions from hwi_image_text, and hwi_image_save
 * writes the PNG; libvips stays behind lib/image.c. */
#include <config.h>

#include "sheet.h"

#include "io.h"
#include "opt.h"
#include "tsv.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#define BACKGROUND 255 /* white page */
#define NO_PHOTO 214   /* a light gray square where a candidate has no photo */

/* ---------------------------------------------------------------------- */
/* The scores file. */

static void query_free(struct hwi_review_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->cand[i].label);
        free(q->cand[i].photo);
    }
    free(q->cand);
    free(q->query);
}

void hwi_review_free(struct hwi_review *r)
{
    for (size_t i = 0; i < r->n; i++)
        query_free(&r->q[i]);
    free(r->q);
    memset(r, 0, sizeof *r);
}

static int cand_cmp(const void *a, const void *b)
{
    const struct hwi_cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->label, y->label);
}

/* Sort Q's candidates and keep the TOP best. */
static void query_finish(struct hwi_review_query *q, size_t top)
{
    qsort(q->cand, q->n, sizeof *q->cand, cand_cmp);
    while (q->n > top) {
        q->n--;
        free(q->cand[q->n].label);
        free(q->cand[q->n].photo);
    }
}

/* Split LINE at tabs into F (room for 4); the number of fields. */
static int split_fields(char *line, char **f)
{
    int n = 0;
    for (char *tok, *p = line; (tok = strsep(&p, "\t"));)
        if (n++ < 4)
            f[n - 1] = tok;
    return n;
}

int hwi_review_load(struct hwi_review *r, FILE *fp, const char *name, size_t top, char *err)
{
    memset(r, 0, sizeof *r);
    r->top = top;
    struct hwi_map done = {0}, labels = {0};
    char *buf = NULL;
    size_t cap = 0, len;
    long line = 0;
    int rc;
    struct hwi_review_query *cur = NULL;
    while ((rc = hwi_read_line(fp, &buf, &cap, &len, name, &line, err)) > 0) {
        if (buf[0] == '#' || buf[0] == 0)
            continue;
        char *f[4];
        int n = split_fields(buf, f);
        if (n == 3) {
            rc = hwi_seterr(err,
                            "%s:%ld: no photo column: make the scores with "
                            "'hwi-knn --photo'",
                            name, line);
            break;
        }
        if (n != 4) {
            rc = hwi_seterr(err,
                            "%s:%ld: expected 4 tab-separated fields (query, label, "
                            "score, photo), got %d",
                            name, line, n);
            break;
        }
        const char *what = !f[0][0] ? "query" : !f[1][0] ? "label" : !f[3][0] ? "photo" : NULL;
        if (what || strchr(f[3], '\r')) {
            rc = hwi_seterr(err, "%s:%ld: %s", name, line,
                            what ? (what[0] == 'q'   ? "empty query"
                                    : what[0] == 'l' ? "empty label"
                                                     : "empty photo (write - for none)")
                                 : "carriage return inside the line");
            break;
        }
        double score;
        if (hwi_parse_double(f[2], -DBL_MAX, DBL_MAX, &score)) {
            rc =
                hwi_seterr(err, "%s:%ld: score '%s' is not a finite number", name, line, f[2]);
            break;
        }
        if (!cur || strcmp(cur->query, f[0])) {
            if (cur) {
                query_finish(cur, top);
                if (hwi_map_put(&done, cur->query, r->n - 1, NULL) < 0)
                    goto nomem;
            }
            size_t *first = hwi_map_get(&done, f[0]);
            if (first) {
                rc = hwi_seterr(err,
                                "%s:%ld: query '%s' again after other queries (first "
                                "at line %ld): its lines must be together",
                                name, line, f[0], r->q[*first].line);
                break;
            }
            if (r->n == r->cap) {
                size_t nc = r->cap ? 2 * r->cap : 64;
                struct hwi_review_query *q = realloc(r->q, nc * sizeof *q);
                if (!q)
                    goto nomem;
                r->q = q;
                r->cap = nc;
            }
            cur = &r->q[r->n++];
            memset(cur, 0, sizeof *cur);
            cur->line = line;
            if (!(cur->query = strdup(f[0])))
                goto nomem;
            hwi_map_clear(&labels);
        }
        size_t old;
        int put = hwi_map_put(&labels, f[1], (size_t)line, &old);
        if (put < 0)
            goto nomem;
        if (put == 0) {
            rc = hwi_seterr(err,
                            "%s:%ld: label '%s' twice for query '%s' (first at line "
                            "%zu)",
                            name, line, f[1], f[0], old);
            break;
        }
        if (cur->n == cur->cap) {
            size_t nc = cur->cap ? 2 * cur->cap : 16;
            struct hwi_cand *c = realloc(cur->cand, nc * sizeof *c);
            if (!c)
                goto nomem;
            cur->cand = c;
            cur->cap = nc;
        }
        struct hwi_cand *c = &cur->cand[cur->n++];
        c->score = score;
        c->line = line;
        c->label = strdup(f[1]);
        c->photo = strcmp(f[3], "-") ? strdup(f[3]) : NULL;
        if (!c->label || (strcmp(f[3], "-") && !c->photo))
            goto nomem;
    }
    if (rc == 0 && cur)
        query_finish(cur, top);
    goto out;
nomem:
    rc = hwi_seterr(err, "out of memory");
out:
    free(buf);
    hwi_map_free(&done);
    hwi_map_free(&labels);
    if (rc < 0) {
        hwi_review_free(r);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Contact sheets. */

int hwi_sheet_init(struct hwi_sheet *s, int size, const char *root,
                   const struct hwi_boxes *boxes, char *err)
{
    memset(s, 0, sizeof *s);
    s->size = size;
    s->gap = size / 24 > 4 ? size / 24 : 4;
    int px = size / 18 > 9 ? size / 18 : 9;
    s->line = px * 3 / 2;
    snprintf(s->font, sizeof s->font, "DejaVu Sans %dpx", px);
    s->root = root;
    s->boxes = boxes;
    for (size_t i = 0; boxes && i < boxes->n; i++)
        if (hwi_map_put(&s->box_index, boxes->box[i].image, i, NULL) < 0) {
            hwi_sheet_free(s);
            return hwi_seterr(err, "out of memory");
        }
    if (!(s->crop = malloc((size_t)size * size))) {
        hwi_sheet_free(s);
        return hwi_seterr(err, "out of memory");
    }
    return 0;
}

void hwi_sheet_free(struct hwi_sheet *s)
{
    hwi_map_free(&s->box_index);
    free(s->canvas);
    free(s->crop);
    memset(s, 0, sizeof *s);
}

int hwi_sheet_width(const struct hwi_sheet *s, size_t panels)
{
    return s->gap + (int)panels * (s->size + s->gap);
}

int hwi_sheet_height(const struct hwi_sheet *s)
{
    return s->gap + s->size + s->gap / 2 + 3 * s->line + s->gap;
}

void hwi_sheet_name(size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "q%04zu.png", i + 1);
}

/* Draw panel I of a sheet W pixels wide: the crop of PHOTO (NULL: a
 * blank square) and caption lines CAP[3]. */
static int panel(struct hwi_sheet *s, int w, size_t i, const char *photo,
                 const char *const cap[3], char *err)
{
    int x = s->gap + (int)i * (s->size + s->gap), y = s->gap;
    uint8_t *at = s->canvas + (size_t)y * w + x;
    if (photo) {
        size_t n = strlen(s->root) + strlen(photo) + 2;
        char *path = malloc(n);
        if (!path)
            return hwi_seterr(err, "out of memory");
        snprintf(path, n, "%s/%s", s->root, photo);
        const size_t *b = hwi_map_get(&s->box_index, photo);
        struct hwi_rect box;
        if (b) {
            const struct hwi_box *bx = &s->boxes->box[*b];
            box = (struct hwi_rect){bx->x0, bx->y0, bx->x1, bx->y1};
        }
        static const struct hwi_crop_params cp0 = {
            .margin = 0.1,
            .kernel = HWI_KERNEL_LANCZOS3,
            .autorotate = 1,
            .shrink_on_load = 1,
        };
        struct hwi_crop_params cp = cp0;
        cp.size = s->size;
        int rc = hwi_image_crop(path, b ? &box : NULL, &cp, s->crop, err);
        free(path);
        if (rc)
            return -1;
        for (int r = 0; r < s->size; r++)
            memcpy(at + (size_t)r * w, s->crop + (size_t)r * s->size, (size_t)s->size);
    } else {
        for (int r = 0; r < s->size; r++)
            memset(at + (size_t)r * w, NO_PHOTO, (size_t)s->size);
    }
    int ty = y + s->size + s->gap / 2;
    for (int l = 0; l < 3; l++)
        if (cap[l] &&
            hwi_image_text(cap[l], s->font, s->canvas + (size_t)(ty + l * s->line) * w + x,
                           s->size, s->line, (size_t)w, err))
            return -1;
    return 0;
}

int hwi_sheet_png(struct hwi_sheet *s, const struct hwi_review_query *q, const char *name,
                  const char *path, char *err)
{
    int w = hwi_sheet_width(s, 1 + q->n), h = hwi_sheet_height(s);
    uint8_t *c = realloc(s->canvas, (size_t)w * h);
    if (!c)
        return hwi_seterr(err, "out of memory");
    s->canvas = c;
    memset(c, BACKGROUND, (size_t)w * h);
    char msg[HWI_ERRLEN];
    const char *qcap[3] = {"query", q->query, NULL};
    if (panel(s, w, 0, q->query, qcap, msg))
        return hwi_seterr(err, "%s:%ld: %s", name, q->line, msg);
    for (size_t i = 0; i < q->n; i++) {
        const struct hwi_cand *k = &q->cand[i];
        char l1[HWI_ERRLEN], l2[64];
        snprintf(l1, sizeof l1, "#%zu  %s", i + 1, k->label);
        snprintf(l2, sizeof l2, "score %.3f", k->score);
        const char *cap[3] = {l1, l2, k->photo ? k->photo : "(no photo)"};
        if (panel(s, w, 1 + i, k->photo, cap, msg))
            return hwi_seterr(err, "%s:%ld: %s", name, k->line, msg);
    }
    return hwi_image_save(c, w, h, 1, 0, 6, path, err);
}

/* ---------------------------------------------------------------------- */
/* The review page. */

/* S with &, <, >, " and ' escaped, for text and attribute values. */
static void put_html(FILE *fp, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: putc(*s, fp);
        }
}

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"generator\" content=\"hwi-sheet\">\n"
    "<title>hwi: matches to review</title>\n"
    "<style>\n"
    "body { font-family: sans-serif; margin: 1em; color: #111; background: #fff; }\n"
    "header { position: sticky; top: 0; background: #fff; padding: .5em 0;\n"
    "  border-bottom: 1px solid #999; z-index: 1; }\n"
    "h1 { font-size: 1.3em; margin: 0 0 .3em 0; }\n"
    "h2 { font-size: 1.05em; margin: 0 0 .3em 0; word-break: break-all; }\n"
    "section.query { margin: 1em 0; padding: .5em; border: 2px solid #ccc; }\n"
    "section.query.decided { border-color: #2a7; }\n"
    ".scroll { overflow-x: auto; }\n"
    ".sheet { display: block; }\n"
    ".cands { display: grid; }\n"
    ".cands div { display: flex; gap: .3em; flex-wrap: wrap; }\n"
    "button { font-size: .9em; padding: .2em .6em; cursor: pointer; }\n"
    "button.on { background: #2a7; color: #fff; }\n"
    "button.no.on { background: #c33; color: #fff; }\n"
    ".state { margin-left: 1em; font-weight: bold; }\n"
    "#status { margin-left: 1em; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n";

static const char page_script[] =
    "<script>\n"
    "\"use strict\";\n"
    "(function () {\n"
    "  var queries = "
    "Array.prototype.slice.call(document.querySelectorAll(\"section.query\"));\n"
    "  var status = document.getElementById(\"status\");\n"
    "  function show(q) {\n"
    "    var d = q.hwi, text;\n"
    "    q.querySelectorAll(\"button.same\").forEach(function (b) {\n"
    "      b.classList.toggle(\"on\", d.decision === \"same\" && b.parentNode.dataset.id === "
    "d.id);\n"
    "    });\n"
    "    q.querySelectorAll(\"button.no\").forEach(function (b) {\n"
    "      b.classList.toggle(\"on\", d.not.indexOf(b.parentNode.dataset.id) >= 0);\n"
    "    });\n"
    "    q.querySelector(\"button.new\").classList.toggle(\"on\", d.decision === \"new\");\n"
    "    q.querySelector(\"button.skip\").classList.toggle(\"on\", d.decision === \"skip\");\n"
    "    if (d.decision === \"same\") text = \"same individual as \" + d.id;\n"
    "    else if (d.decision === \"new\") text = \"new individual \" + d.id;\n"
    "    else if (d.decision === \"skip\") text = \"skipped\";\n"
    "    else text = d.not.length ? \"not \" + d.not.join(\", not \") : \"undecided\";\n"
    "    q.querySelector(\".state\").textContent = text;\n"
    "    q.classList.toggle(\"decided\", d.decision !== \"\" || d.not.length > 0);\n"
    "    var n = queries.filter(function (x) { return x.classList.contains(\"decided\"); "
    "}).length;\n"
    "    status.textContent = n + \" of \" + queries.length + \" photos decided\";\n"
    "  }\n"
    "  queries.forEach(function (q) {\n"
    "    q.hwi = { decision: \"\", id: \"\", not: [] };\n"
    "    q.querySelectorAll(\".cands div[data-id]\").forEach(function (c) {\n"
    "      var id = c.dataset.id;\n"
    "      c.querySelector(\"button.same\").addEventListener(\"click\", function () {\n"
    "        var d = q.hwi;\n"
    "        if (d.decision === \"same\" && d.id === id) { d.decision = \"\"; d.id = \"\"; }\n"
    "        else { d.decision = \"same\"; d.id = id; }\n"
    "        d.not = d.not.filter(function (x) { return x !== id; });\n"
    "        show(q);\n"
    "      });\n"
    "      c.querySelector(\"button.no\").addEventListener(\"click\", function () {\n"
    "        var d = q.hwi, i = d.not.indexOf(id);\n"
    "        if (i >= 0) d.not.splice(i, 1);\n"
    "        else {\n"
    "          d.not.push(id);\n"
    "          if (d.decision === \"same\" && d.id === id) { d.decision = \"\"; d.id = \"\"; "
    "}\n"
    "        }\n"
    "        show(q);\n"
    "      });\n"
    "    });\n"
    "    var name = q.querySelector(\"input.newid\");\n"
    "    q.querySelector(\"button.new\").addEventListener(\"click\", function () {\n"
    "      var d = q.hwi, v = name.value.trim();\n"
    "      if (v === \"\") { name.focus(); status.textContent = \"type the new individual's "
    "name first\"; return; }\n"
    "      d.decision = \"new\"; d.id = v;\n"
    "      show(q);\n"
    "    });\n"
    "    q.querySelector(\"button.skip\").addEventListener(\"click\", function () {\n"
    "      var d = q.hwi;\n"
    "      d.decision = d.decision === \"skip\" ? \"\" : \"skip\"; d.id = \"\";\n"
    "      show(q);\n"
    "    });\n"
    "  });\n"
    "  function field(s) {\n"
    "    return /[\",\\r\\n]/.test(s) ? '\"' + s.replace(/\"/g, '\"\"') + '\"' : s;\n"
    "  }\n"
    "  /* photo,decision,id: one row per decided photo and per rejected\n"
    "     candidate; an undecided photo is skip */\n"
    "  function decisions() {\n"
    "    var rows = [\"photo,decision,id\"];\n"
    "    queries.forEach(function (q) {\n"
    "      var d = q.hwi, p = field(q.dataset.photo);\n"
    "      if (d.decision === \"same\" || d.decision === \"new\")\n"
    "        rows.push(p + \",\" + d.decision + \",\" + field(d.id));\n"
    "      d.not.forEach(function (id) { rows.push(p + \",not_same,\" + field(id)); });\n"
    "      if (d.decision === \"skip\" || (d.decision === \"\" && d.not.length === 0))\n"
    "        rows.push(p + \",skip,\");\n"
    "    });\n"
    "    return rows.join(\"\\n\") + \"\\n\";\n"
    "  }\n"
    "  function exportCsv() {\n"
    "    var blob = new Blob([decisions()], { type: \"text/csv\" });\n"
    "    var a = document.createElement(\"a\");\n"
    "    a.href = URL.createObjectURL(blob);\n"
    "    a.download = \"decisions.csv\";\n"
    "    document.body.appendChild(a);\n"
    "    a.click();\n"
    "    document.body.removeChild(a);\n"
    "    status.textContent = \"saved decisions.csv: import it with 'hwi-store decisions'\";\n"
    "  }\n"
    "  document.querySelectorAll(\"button.export\").forEach(function (b) {\n"
    "    b.addEventListener(\"click\", exportCsv);\n"
    "  });\n"
    "  if (queries.length) show(queries[0]);\n"
    "})();\n"
    "</script>\n";

int hwi_review_html(FILE *fp, const struct hwi_review *r, const struct hwi_sheet *s)
{
    fputs(page_head, fp);
    fprintf(fp,
            "<header>\n<h1>Whale matches to review</h1>\n"
            "<p>%zu photos, each beside up to %zu best candidates from the catalogue "
            "(the photo of each candidate that matched best).  Under each candidate, "
            "<b>same</b> says the photo shows that individual and <b>not same</b> "
            "rejects it; <b>new individual</b> names a whale not in the catalogue.  "
            "Then <b>export</b> saves decisions.csv for "
            "<code>hwi-store decisions</code>.</p>\n"
            "<button class=\"export\">export decisions.csv</button>"
            "<span id=\"status\"></span>\n</header>\n",
            r->n, r->top);
    for (size_t i = 0; i < r->n; i++) {
        const struct hwi_review_query *q = &r->q[i];
        char png[32];
        hwi_sheet_name(i, png, sizeof png);
        fprintf(fp, "<section class=\"query\" id=\"q%zu\" data-photo=\"", i + 1);
        put_html(fp, q->query);
        fprintf(fp, "\">\n<h2>%zu. ", i + 1);
        put_html(fp, q->query);
        fprintf(fp,
                "</h2>\n<div class=\"scroll\">\n"
                "<img class=\"sheet\" src=\"%s\" width=\"%d\" height=\"%d\" alt=\"",
                png, hwi_sheet_width(s, 1 + q->n), hwi_sheet_height(s));
        put_html(fp, q->query);
        fprintf(fp,
                " and its candidates\">\n"
                "<div class=\"cands\" style=\"grid-template-columns: repeat(%zu, %dpx); "
                "column-gap: %dpx; padding: 0 %dpx; width: max-content\">\n<div></div>\n",
                1 + q->n, s->size, s->gap, s->gap);
        for (size_t j = 0; j < q->n; j++) {
            const char *label = q->cand[j].label;
            if (!strcmp(label, "new_whale")) {
                fputs("<div>(no known individual)</div>\n", fp);
                continue;
            }
            fputs("<div data-id=\"", fp);
            put_html(fp, label);
            fputs("\"><button class=\"same\" title=\"the photo shows ", fp);
            put_html(fp, label);
            fputs("\">same</button><button class=\"no\" title=\"the photo does not show ", fp);
            put_html(fp, label);
            fputs("\">not same</button></div>\n", fp);
        }
        fputs("</div>\n</div>\n<p><button class=\"new\">new individual</button>\n"
              "<input class=\"newid\" type=\"text\" size=\"20\" "
              "placeholder=\"name of the new individual\" aria-label=\"name of the new "
              "individual\">\n<button class=\"skip\">skip</button>\n"
              "<span class=\"state\">undecided</span></p>\n</section>\n",
              fp);
    }
    fputs("<p><button class=\"export\">export decisions.csv</button></p>\n", fp);
    fputs(page_script, fp);
    fputs("</body>\n</html>\n", fp);
    return ferror(fp) ? -1 : 0;
}
