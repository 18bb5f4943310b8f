/* hwi-fuse: step 5 of the method: classifier probabilities from logits, and
 * one ranking from several scores lists, with multiplier and weights given
 * or fitted on a validation split.
 *
 *   hwi-fuse --softmax -c C logits.bin          softmax(C * logits) as scores TSV
 *   hwi-fuse -w W1,W2 -n V1,V2 a.tsv b.tsv      sum_i W_i * s_i (V_i for new_whale)
 *
 * Several scores inputs are merge-joined group by group, so sorted inputs
 * fuse in memory bounded by one query's lists; --fit and --unsorted read
 * everything into memory instead.  The formulas live in lib/fuse.h. */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "fuse.h"
#include "io.h"
#include "opt.h"
#include "stream.h"
#include "tsv.h"

#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_SOFTMAX,
    OPT_MULTIPLIER,
    OPT_NW_WEIGHTS,
    OPT_MISSING,
    OPT_FIT,
    OPT_VERSION,
    OPT_PHOTO,
    OPT_SEARCH,
    OPT_KEEP,
    OPT_MIN_GAIN
};

static const struct option longopts[] = {
    {"softmax", no_argument, NULL, OPT_SOFTMAX},
    {"multiplier", required_argument, NULL, OPT_MULTIPLIER},
    {"weights", required_argument, NULL, 'w'},
    {"nw-weights", required_argument, NULL, OPT_NW_WEIGHTS},
    {"missing", required_argument, NULL, OPT_MISSING},
    {"top", required_argument, NULL, 'k'},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"unsorted", no_argument, NULL, 'u'},
    {"fit", required_argument, NULL, OPT_FIT},
    {"grid", required_argument, NULL, 'g'},
    {"nw-grid", required_argument, NULL, 'G'},
    {"new-whale", required_argument, NULL, 'N'},
    {"threshold-grid", required_argument, NULL, 'T'},
    {"report", required_argument, NULL, 'r'},
    {"output", required_argument, NULL, 'o'},
    {"photo", no_argument, NULL, OPT_PHOTO},
    {"search", required_argument, NULL, OPT_SEARCH},
    {"min-gain", required_argument, NULL, OPT_MIN_GAIN},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* The softmax multipliers train_VGG16.py tries. */
#define DEFAULT_C_GRID "0.1,0.2,0.3,0.5,1,2,3"
/* Weights like find_mixing_proportions' 0..4 */
#define DEFAULT_W_GRID "0:4:1"
#define WMAX 1e6
/* The labels per query --softmax writes without --top (see --keep). */
#define DEFAULT_SOFTMAX_TOP 100

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... FILE...\n"
           "  or:  %s --softmax [OPTION]... [FILE]\n",
           hwi_program_name, hwi_program_name);
    fputs("Fuse scores TSV FILEs into one ranking: the score of a label is the\n"
          "weighted sum of its scores, sum_i W_i * s_i (V_i * s_i for new_whale).\n"
          "With --softmax, turn a logits stream into probabilities softmax(C * logits).\n"
          "With --fit, choose C or the weights that give the best validation MAP@5.\n"
          "FILE - is standard input (once); --softmax reads it when FILE is absent.\n"
          "\n"
          "      --softmax           FILE is a logits stream (keyed, with the class\n"
          "                          labels as column names); write its softmax\n"
          "      --multiplier=C      softmax multiplier (default 1)\n"
          "  -w, --weights=W1,W2...  weight of each FILE (default 1 each)\n"
          "      --nw-weights=V1,V2...  weight of each FILE's new_whale score\n"
          "                          (default: the FILE's weight)\n"
          "      --missing=VALUE|min|error  score of a label absent from one FILE's\n"
          "                          list for a query: a number (default 0), the\n"
          "                          lowest score of that list, or an error\n"
          "  -k, --top=K             write only the K best labels of each query (and\n"
          "                          its new_whale line); 0: all (the default, and\n"
          "                          with --softmax 100)\n"
          "      --keep=SCORES       with --softmax: also write the probability of\n"
          "                          every label the scores TSV SCORES lists for the\n"
          "                          query (the knn scores), so that fusing the two\n"
          "                          gives every label of SCORES its exact score\n"
          "  -u, --unsorted          FILEs are not sorted by query: read them whole\n"
          "                          (several FILEs are merge-joined otherwise, and\n"
          "                          must be sorted by query in byte order)\n"
          "      --fit=TRUTH         choose C (--softmax) or the weights by grid search\n"
          "                          for the best MAP@5 against TRUTH (CSV Image,Id);\n"
          "                          then write the scores with the chosen values\n"
          "  -g, --grid=GRID         with --fit: values of C (default " DEFAULT_C_GRID ")\n"
          "                          or of each FILE's weight (default " DEFAULT_W_GRID ");\n"
          "                          give it once for all FILEs or once per FILE\n"
          "  -G, --nw-grid=GRID      with --fit: values of each FILE's new_whale\n"
          "                          weight, once or once per FILE (default: tied to\n"
          "                          the FILE's weight)\n"
          "      --search=HOW        with --fit: how to search the weights: grid\n"
          "                          (default: every setting of the grids) or ascent\n"
          "                          (coordinate ascent from equal weights, for\n"
          "                          several models' FILEs)\n"
          "      --min-gain=G        with --fit: keep a fusion only if its MAP@5 beats\n"
          "                          the best FILE alone by G, else that FILE alone\n"
          "                          (default 1/N for N queries: one query's worth;\n"
          "                          0: the best setting, however small its lead)\n"
          "  -N, --new-whale=MODE    with --fit: score the rankings with new_whale at\n"
          "                          a fitted threshold: max (default: max(T, own\n"
          "                          new_whale score)), add (own score + T), or none\n"
          "                          (rankings as they are)\n"
          "  -T, --threshold-grid=GRID  with --fit: thresholds to try (default: every\n"
          "                          distinct score, an exact search)\n"
          "  -r, --report=FILE       write the fit report to FILE (default: stderr)\n"
          "  -o, --output=FILE       write to FILE (whole or not at all) instead of\n"
          "                          stdout\n"
          "      --photo             add a 4th column, the photo that gave each fused\n"
          "                          score: the first FILE of non-zero weight with a\n"
          "                          photo for the label (hwi-knn --photo); - when no\n"
          "                          FILE has one (e.g. only the softmax proposed it)\n"
          "      --help              display this help and exit\n"
          "      --version           output version information and exit\n"
          "\n"
          "GRID is V1,V2,... or START:STOP:STEP.  Input and output are scores TSV,\n"
          "'query<TAB>label<TAB>score' lines grouped by query, best first; output\n"
          "starts with '# query label score'.  The fit report is TSV: stage, queries,\n"
          "MAP@5 as ranked, fitted threshold, MAP@5 with new_whale at it, options.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-fuse(1), hwi-thresh(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

/* ------------------------------------------------------------------------
 * Options. */
struct opts {
    int softmax;
    double c;
    int have_c;
    double *w, *v;
    size_t nw, nv;
    struct hwi_missing miss;
    int have_miss;
    long top; /* -1: not given */
    const char *keep;
    int unsorted;
    const char *fit;
    const char *grid[64];
    size_t ngrid;
    const char *nwgrid[64];
    size_t nnwgrid;
    enum hwi_nw_mode mode;
    int have_mode;
    double *tgrid;
    size_t ntgrid;
    enum hwi_fit_search search;
    int have_search;
    double min_gain; /* < 0: 1/N */
    const char *report;
    const char *output;
};

static double *parse_grid_opt(const char *opt, const char *arg, double lo, double hi,
                              size_t *n)
{
    char err[HWI_ERRLEN];
    double *v;
    if (hwi_parse_grid(arg, lo, hi, &v, n, err)) {
        hwi_warn("invalid value for --%s: %s", opt, err);
        hwi_try_help();
    }
    return v;
}

/* Parse --weights or --nw-weights: a list (no START:STOP:STEP) of values
 * in 0 .. WMAX, or exit 2 saying FORM is expected. */
static double *parse_weights_opt(const char *opt, const char *form, const char *arg, size_t *n)
{
    if (strchr(arg, ':')) {
        hwi_warn("invalid value '%s' for --%s: expected %s", arg, opt, form);
        hwi_try_help();
    }
    return parse_grid_opt(opt, arg, 0, WMAX, n);
}

/* ------------------------------------------------------------------------
 * Output. */

/* --photo: write the 4th column, each fused candidate's photo. */
static int with_photo;

static void write_header(FILE *out)
{
    if (with_photo)
        hwi_tsv_write_header_photo(out);
    else
        hwi_tsv_write_header(out);
}

/* Write the candidates of QUERY (LABEL[i], SCORE[i]; NAN: not a candidate;
 * PHOTO[i] with --photo, NULL: none) best first, the TOP best (0: all)
 * and new_whale. */
static void write_query(FILE *out, const char *query, const char **label, double *score,
                        const char **photo, size_t n, long top, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(score[i])) {
            label[m] = label[i];
            if (photo)
                photo[m] = photo[i];
            score[m++] = score[i];
        }
    hwi_rank_order(score, label, m, idx);
    for (size_t r = 0; r < m; r++) {
        size_t i = idx[r];
        if (top && r >= (size_t)top && strcmp(label[i], HWI_NEW_WHALE))
            continue;
        if (with_photo
                ? hwi_tsv_write_photo(out, query, label[i], score[i], photo ? photo[i] : NULL)
                : hwi_tsv_write(out, query, label[i], score[i]))
            hwi_die(HWI_EXIT_FAIL, "query '%s', label '%s': cannot be written as TSV", query,
                    label[i]);
    }
}

/* Work buffers sized for N labels. */
struct work {
    size_t cap;
    double *d;
    const char **label;
    const char **photo;
    size_t *idx;
};

static void work_reserve(struct work *w, size_t n)
{
    if (n <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < n)
        cap *= 2;
    w->d = realloc(w->d, cap * sizeof *w->d);
    w->label = realloc(w->label, cap * sizeof *w->label);
    w->photo = realloc(w->photo, cap * sizeof *w->photo);
    w->idx = realloc(w->idx, cap * sizeof *w->idx);
    if (!w->d || !w->label || !w->photo || !w->idx)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    w->cap = cap;
}

static void work_free(struct work *w)
{
    free(w->d);
    free(w->label);
    free(w->photo);
    free(w->idx);
}

/* ------------------------------------------------------------------------
 * The fit report (lib/thresh.h). */
struct report {
    struct hwi_outfile out;
    FILE *fp;
};

static void report_open(struct report *r, const char *path)
{
    char err[HWI_ERRLEN];
    if (!path) {
        r->fp = stderr;
        memset(&r->out, 0, sizeof r->out);
    } else {
        if (hwi_outfile_open(&r->out, path, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        r->fp = r->out.fp;
    }
    hwi_thresh_report_head(r->fp);
}

/* The finished report file, committed by main with the output. */
static struct hwi_outfile fit_report;

static void report_close(struct report *r)
{
    if (r->fp == stderr)
        fflush(stderr);
    else
        fit_report = r->out;
}

static struct hwi_labels load_truth(const char *path)
{
    struct hwi_labels t;
    char err[HWI_ERRLEN];
    if (hwi_labels_load(&t, path, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    return t;
}

/* ------------------------------------------------------------------------
 * --softmax. */

/* Cut the softmax W->d of QUERY to what --top and --keep write. */
static void limit(struct work *w, size_t n, const char *query, const struct hwi_keep *kp,
                  const struct opts *o, unsigned char *mark)
{
    size_t nkeep = 0;
    const size_t *keep = kp ? hwi_keep_get(kp, query, &nkeep) : NULL;
    hwi_softmax_limit(w->d, w->label, n, (size_t)o->top, keep, nkeep, w->idx, mark);
}

static void softmax_stream(struct hwi_stream *s, struct hwi_labelset *ls, const size_t *lid,
                           const struct hwi_keep *kp, const struct opts *o, FILE *out)
{
    struct work w = {0};
    struct hwi_map keys = {0};
    work_reserve(&w, s->dim);
    unsigned char *mark = malloc(s->dim);
    if (!mark)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    int rc;
    while ((rc = hwi_stream_read(s)) == 1) {
        int put = hwi_map_put(&keys, s->key, 0, NULL);
        if (put < 0)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        if (put == 0)
            hwi_die(HWI_EXIT_FAIL, "%s: record %llu: key '%s' appears twice", s->name,
                    (unsigned long long)s->nrec, s->key);
        hwi_softmax(w.d, s->vec, s->dim, o->c);
        for (uint32_t i = 0; i < s->dim; i++)
            w.label[i] = ls->name[lid[i]];
        limit(&w, s->dim, s->key, kp, o, mark);
        write_query(out, s->key, w.label, w.d, NULL, s->dim, 0, w.idx);
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", s->err);
    free(mark);
    hwi_map_free(&keys);
    work_free(&w);
}

static void softmax_fit(struct hwi_stream *s, struct hwi_labelset *ls, size_t *lid,
                        const struct hwi_keep *kp, struct opts *o, FILE *out)
{
    char err[HWI_ERRLEN];
    struct hwi_logits lg = {0};
    lg.lid = lid;
    if (hwi_logits_load(&lg, s, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_labels truth = load_truth(o->fit);
    if (hwi_logits_truth(&lg, &truth, o->fit, s->name, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    size_t ng;
    double *grid =
        parse_grid_opt("grid", o->ngrid ? o->grid[0] : DEFAULT_C_GRID, 0, WMAX, &ng);
    struct hwi_mult_fit f;
    if (hwi_logits_fit(&lg, ls, grid, ng, o->mode, o->tgrid, o->ntgrid, &f, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct report r;
    char opt[64];
    report_open(&r, o->report);
    hwi_thresh_report_line(r.fp, "softmax", lg.nq, f.ranked, o->mode, f.thr1, f.map5_1,
                           "--multiplier=1");
    snprintf(opt, sizeof opt, "--multiplier=%.9g", f.c);
    hwi_thresh_report_line(r.fp, "softmax-fitted", lg.nq, f.ranked, o->mode, f.thr, f.map5,
                           opt);
    report_close(&r);

    struct work w = {0};
    work_reserve(&w, lg.dim);
    unsigned char *mark = malloc(lg.dim);
    if (!mark)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    hwi_tsv_write_header(out);
    for (size_t q = 0; q < lg.nq; q++) {
        hwi_softmax(w.d, lg.z + q * lg.dim, lg.dim, f.c);
        for (size_t i = 0; i < lg.dim; i++)
            w.label[i] = ls->name[lid[i]];
        limit(&w, lg.dim, lg.key[q], kp, o, mark);
        write_query(out, lg.key[q], w.label, w.d, NULL, lg.dim, 0, w.idx);
    }
    free(mark);
    free(grid);
    work_free(&w);
    hwi_labels_free(&truth);
    lg.lid = NULL;
    hwi_logits_free(&lg);
}

static void run_softmax(struct opts *o, char **files, int nfiles, FILE *out)
{
    char err[HWI_ERRLEN];
    struct hwi_stream s;
    if (hwi_stream_open_path(&s, nfiles ? files[0] : "-", 0))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    struct hwi_labelset ls = {0};
    size_t *lid = malloc(s.dim * sizeof *lid);
    if (!lid)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    if (hwi_logits_columns(&s, &ls, lid, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_keep kp = {0};
    if (o->keep) {
        FILE *fp = hwi_fopen_in(o->keep, err);
        if (!fp)
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        if (hwi_keep_load(&kp, fp, hwi_file_name(o->keep), &ls, lid, s.dim, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        hwi_fclose_in(fp);
    }
    if (o->fit) {
        softmax_fit(&s, &ls, lid, o->keep ? &kp : NULL, o, out);
    } else {
        hwi_tsv_write_header(out);
        softmax_stream(&s, &ls, lid, o->keep ? &kp : NULL, o, out);
    }
    hwi_keep_free(&kp);
    free(lid);
    hwi_labelset_free(&ls);
    hwi_stream_close(&s);
}

/* ------------------------------------------------------------------------
 * Fusion. */

/* Say when some queries were missing from an input (they were fused with
 * all its labels missing). */
static void warn_absent(const size_t *absent, size_t nin, char *const *names)
{
    for (size_t i = 0; i < nin; i++)
        if (absent[i])
            hwi_warn("warning: %zu quer%s not in %s (its scores counted as missing)",
                     absent[i], absent[i] == 1 ? "y is" : "ies are", names[i]);
}

static void fuse_stream(struct hwi_fuse_input *in, size_t nin, char *const *names,
                        const struct opts *o, const struct hwi_weights *wt, FILE *out)
{
    char err[HWI_ERRLEN];
    struct hwi_labelset ls = {0};
    struct hwi_fuse_merge m;
    struct hwi_join j;
    struct work w = {0};
    hwi_join_init(&j, nin);
    if (hwi_fuse_merge_open(&m, in, nin, (const char *const *)names, &ls, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    write_header(out);
    int rc;
    while ((rc = hwi_fuse_merge_next(&m, err)) == 1) {
        if (hwi_join_query(&j, m.c, &o->miss, &ls, m.nw_id, m.query,
                           (const char *const *)names, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        work_reserve(&w, j.nu);
        hwi_fuse_scores(wt, m.nw_id, j.uid, j.val, j.miss, j.nu, w.d);
        for (size_t u = 0; u < j.nu; u++) {
            size_t p = hwi_fuse_photo(wt, j.uid[u] == m.nw_id, j.pid + u * nin);
            w.label[u] = ls.name[j.uid[u]];
            w.photo[u] = p == HWI_NO_PHOTO ? NULL : ls.name[p];
        }
        write_query(out, m.query, w.label, w.d, w.photo, j.nu, o->top, w.idx);
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    warn_absent(m.absent, nin, names);
    hwi_fuse_merge_close(&m);
    work_free(&w);
    hwi_join_free(&j);
    hwi_labelset_free(&ls);
}

static void fitset_write(const struct hwi_fitset *fs, const struct hwi_labelset *ls,
                         size_t nw_id, const struct hwi_weights *wt, long top, FILE *out)
{
    struct work w = {0};
    write_header(out);
    for (size_t q = 0; q < fs->nq; q++) {
        size_t a = fs->off[q], nu = fs->off[q + 1] - a;
        work_reserve(&w, nu);
        hwi_fuse_scores(wt, nw_id, fs->uid + a, fs->val + a * fs->nin, fs->miss + q * fs->nin,
                        nu, w.d);
        for (size_t u = 0; u < nu; u++) {
            size_t p =
                hwi_fuse_photo(wt, fs->uid[a + u] == nw_id, fs->pid + (a + u) * fs->nin);
            w.label[u] = ls->name[fs->uid[a + u]];
            w.photo[u] = p == HWI_NO_PHOTO ? NULL : ls->name[p];
        }
        write_query(out, fs->query[q], w.label, w.d, w.photo, nu, top, w.idx);
    }
    work_free(&w);
}

/* Progress of the weight search, for people at a terminal. */
static void show_progress(size_t k, double total, void *arg)
{
    (void)arg;
    if (total > 0)
        fprintf(stderr, "\r%s: fit: weights %zu of %.0f", hwi_program_name, k, total);
    else
        fprintf(stderr, "\r%s: fit: weights %zu", hwi_program_name, k);
}

static void fuse_fit(struct hwi_fitset *fs, struct hwi_labelset *ls, size_t nw_id,
                     char *const *names, struct opts *o, struct hwi_weights *best, FILE *out)
{
    char err[HWI_ERRLEN];
    size_t nin = fs->nin;
    struct hwi_labels truth = load_truth(o->fit);
    if (hwi_fitset_truth(fs, &truth, o->fit, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    /* each input's grids; an input without new_whale needs no V grid */
    double **gw = calloc(nin, sizeof *gw), **gv = calloc(nin, sizeof *gv);
    size_t *nw = calloc(nin, sizeof *nw), *nv = calloc(nin, sizeof *nv);
    struct hwi_fit_score *alone = calloc(nin, sizeof *alone), fused;
    if (!gw || !gv || !nw || !nv || !alone)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < nin; i++) {
        const char *g = o->ngrid ? o->grid[o->ngrid == 1 ? 0 : i] : DEFAULT_W_GRID;
        gw[i] = parse_grid_opt("grid", g, 0, WMAX, &nw[i]);
        if (o->nnwgrid && fs->has_nw[i])
            gv[i] =
                parse_grid_opt("nw-grid", o->nwgrid[o->nnwgrid == 1 ? 0 : i], 0, WMAX, &nv[i]);
    }
    int tty = isatty(STDERR_FILENO);
    struct hwi_fit_opts fo = {o->mode, o->tgrid,  o->ntgrid,  gw,
                              nw,      gv,        nv,         tty ? show_progress : NULL,
                              NULL,    o->search, o->min_gain};
    double combos;
    /* hwi_die exits at once: nothing to free first */
    if (hwi_fit_grid_check(&fo, nin, &combos, err))
        hwi_die(HWI_EXIT_USAGE, "%s", err);
    if (hwi_fitset_fit(fs, ls, nw_id, &fo, best, alone, &fused, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (tty)
        fputc('\n', stderr);

    struct report r;
    struct hwi_weights one = {nin, calloc(nin, sizeof(double)), calloc(nin, sizeof(double))};
    if (!one.w || !one.v)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    report_open(&r, o->report);
    for (size_t i = 0; i < nin; i++) {
        char stage[HWI_ERRLEN], *opt;
        for (size_t x = 0; x < nin; x++)
            one.w[x] = one.v[x] = x == i;
        if (!(opt = hwi_weights_options(&one)))
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        snprintf(stage, sizeof stage, "alone:%s", names[i]);
        hwi_thresh_report_line(r.fp, stage, fs->nq, alone[i].ranked, o->mode, alone[i].thr,
                               alone[i].map5, opt);
        free(opt);
    }
    char *opt = hwi_weights_options(best);
    if (!opt)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    hwi_thresh_report_line(r.fp, "fused", fs->nq, fused.ranked, o->mode, fused.thr, fused.map5,
                           opt);
    free(opt);
    report_close(&r);

    fitset_write(fs, ls, nw_id, best, o->top, out);
    for (size_t i = 0; i < nin; i++) {
        free(gw[i]);
        free(gv[i]);
    }
    free(gw);
    free(gv);
    free(nw);
    free(nv);
    free(alone);
    free(one.w);
    free(one.v);
    hwi_labels_free(&truth);
}

static void run_fuse(struct opts *o, char **files, int nfiles, FILE *out)
{
    size_t nin = (size_t)nfiles;
    char err[HWI_ERRLEN];
    struct hwi_fuse_input *in = calloc(nin, sizeof *in);
    FILE **fp = calloc(nin, sizeof *fp);
    char **names = calloc(nin, sizeof *names);
    struct hwi_weights wt = {nin, calloc(nin, sizeof(double)), calloc(nin, sizeof(double))};
    if (!in || !fp || !names || !wt.w || !wt.v)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < nin; i++) {
        int is_stdin = !strcmp(files[i], "-");
        names[i] = is_stdin ? "(stdin)" : files[i];
        wt.w[i] = o->nw ? o->w[i] : 1;
        wt.v[i] = o->nv ? o->v[i] : wt.w[i];
    }
    for (size_t i = 0; i < nin; i++) {
        if (!(fp[i] = hwi_fopen_in(files[i], err)))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        hwi_fuse_input_open(&in[i], fp[i], names[i], nin > 1 && !o->unsorted && !o->fit);
    }
    if (o->fit || o->unsorted) {
        struct hwi_labelset ls = {0};
        struct hwi_fitset fs;
        if (hwi_fitset_load(&fs, in, nin, (const char *const *)names, &ls, &o->miss, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        size_t nw_id;
        if (hwi_labelset_id(&ls, HWI_NEW_WHALE, &nw_id))
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        if (hwi_fitset_overlap(&fs, ls.n, nw_id, (const char *const *)names, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        warn_absent(fs.absent, nin, names);
        if (o->fit)
            fuse_fit(&fs, &ls, nw_id, names, o, &wt, out);
        else
            fitset_write(&fs, &ls, nw_id, &wt, o->top, out);
        hwi_fitset_free(&fs);
        hwi_labelset_free(&ls);
    } else {
        fuse_stream(in, nin, names, o, &wt, out);
    }
    for (size_t i = 0; i < nin; i++) {
        hwi_fuse_input_close(&in[i]);
        hwi_fclose_in(fp[i]);
    }
    free(in);
    free(fp);
    free(names);
    free(wt.w);
    free(wt.v);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    struct opts o = {0};
    o.c = 1;
    o.top = -1;
    o.mode = HWI_NW_MAX;
    o.min_gain = -1;
    int c;
    while ((c = getopt_long(argc, argv, "w:k:ug:G:N:T:r:o:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SOFTMAX: o.softmax = 1; break;
        case OPT_MULTIPLIER:
            o.c = hwi_opt_double("multiplier", optarg, 0, WMAX);
            o.have_c = 1;
            break;
        case 'w':
            free(o.w);
            o.w = parse_weights_opt("weights", "W1,W2,...", optarg, &o.nw);
            break;
        case OPT_NW_WEIGHTS:
            free(o.v);
            o.v = parse_weights_opt("nw-weights", "V1,V2,...", optarg, &o.nv);
            break;
        case OPT_MISSING:
            if (hwi_missing_parse(optarg, &o.miss)) {
                hwi_warn("invalid value '%s' for --missing: expected a number, min or error",
                         optarg);
                hwi_try_help();
            }
            o.have_miss = 1;
            break;
        case 'k': o.top = hwi_opt_long("top", optarg, 0, LONG_MAX); break;
        case OPT_KEEP: o.keep = optarg; break;
        case 'u': o.unsorted = 1; break;
        case OPT_FIT: o.fit = optarg; break;
        case 'g':
        case 'G': {
            size_t n;
            double lo = 0, hi = WMAX;
            free(parse_grid_opt(c == 'g' ? "grid" : "nw-grid", optarg, lo, hi, &n));
            const char **list = c == 'g' ? o.grid : o.nwgrid;
            size_t *count = c == 'g' ? &o.ngrid : &o.nnwgrid;
            if (*count == 64) {
                hwi_warn("too many --%s options", c == 'g' ? "grid" : "nw-grid");
                hwi_try_help();
            }
            list[(*count)++] = optarg;
            break;
        }
        case 'N':
            if (hwi_nw_mode_parse(optarg, &o.mode)) {
                hwi_warn("invalid value '%s' for --new-whale: expected max, add or none",
                         optarg);
                hwi_try_help();
            }
            o.have_mode = 1;
            break;
        case 'T':
            free(o.tgrid);
            o.tgrid = parse_grid_opt("threshold-grid", optarg, -FLT_MAX, FLT_MAX, &o.ntgrid);
            break;
        case 'r': o.report = optarg; break;
        case 'o': o.output = optarg; break;
        case OPT_PHOTO: with_photo = 1; break;
        case OPT_SEARCH:
            if (!strcmp(optarg, "grid") || !strcmp(optarg, "ascent")) {
                o.search = optarg[0] == 'a' ? HWI_FIT_ASCENT : HWI_FIT_GRID;
                o.have_search = 1;
                break;
            }
            hwi_warn("invalid value '%s' for --search: expected grid or ascent", optarg);
            hwi_try_help();
        case OPT_MIN_GAIN: o.min_gain = hwi_opt_double("min-gain", optarg, 0, 1); break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    const char *bad = NULL;
    if (o.softmax && (o.nw || o.nv || o.have_miss || o.unsorted || o.nnwgrid || with_photo))
        bad = "--weights, --nw-weights, --missing, --unsorted, --nw-grid and --photo fuse "
              "scores files; they do not apply to --softmax";
    else if (!o.softmax && o.have_c)
        bad = "--multiplier applies to --softmax";
    else if (o.fit && (o.have_c || o.nw || o.nv))
        bad = "--fit chooses the multiplier or weights: do not give them too";
    else if (!o.fit && (o.ngrid || o.nnwgrid || o.have_mode || o.tgrid || o.report ||
                        o.have_search || o.min_gain >= 0))
        bad = "--grid, --nw-grid, --new-whale, --threshold-grid, --search, --min-gain and "
              "--report need --fit";
    else if (o.softmax && (o.have_search || o.min_gain >= 0))
        bad = "--search and --min-gain fit fusion weights; --softmax fits its multiplier on "
              "--grid";
    else if (o.softmax && o.ngrid > 1)
        bad = "--softmax takes one --grid";
    else if (!o.softmax && o.keep)
        bad = "--keep applies to --softmax";
    if (o.top < 0)
        o.top = o.softmax ? DEFAULT_SOFTMAX_TOP : 0;
    size_t nin = (size_t)(argc - optind), nstdin = 0;
    for (int i = optind; i < argc; i++)
        nstdin += !strcmp(argv[i], "-");
    nstdin += o.fit && !strcmp(o.fit, "-");
    nstdin += o.keep && !strcmp(o.keep, "-");
    nstdin += o.softmax && nin == 0; /* the logits stream */
    if (bad) {
        hwi_warn("%s", bad);
    } else if (o.softmax && nin > 1) {
        hwi_warn("--softmax reads one logits stream, not %zu (fuse their outputs)", nin);
        bad = "";
    } else if (!o.softmax && !nin) {
        hwi_warn("missing operand: the scores TSV files to fuse");
        bad = "";
    } else if (nstdin > 1) {
        hwi_warn("standard input (-) given twice");
        bad = "";
    } else if (!o.softmax && ((o.nw && o.nw != nin) || (o.nv && o.nv != nin))) {
        hwi_warn("%zu weights for %zu files", o.nw != nin && o.nw ? o.nw : o.nv, nin);
        bad = "";
    } else if (!o.softmax &&
               ((o.ngrid > 1 && o.ngrid != nin) || (o.nnwgrid > 1 && o.nnwgrid != nin))) {
        hwi_warn("give --grid and --nw-grid once, or once per file (%zu files)", nin);
        bad = "";
    }
    if (bad)
        hwi_try_help();

    char err[HWI_ERRLEN];
    struct hwi_outfile out;
    if (hwi_outfile_open(&out, o.output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (o.softmax)
        run_softmax(&o, argv + optind, argc - optind, out.fp);
    else
        run_fuse(&o, argv + optind, argc - optind, out.fp);
    struct hwi_outfile all[2] = {out, fit_report}; /* both or neither */
    if (hwi_outfile_commit_all(all, 2, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    free(o.w);
    free(o.v);
    free(o.tgrid);
    return HWI_EXIT_OK;
}
