/* hwi-thresh: step 6 of the method: put new_whale into each query's ranking
 * at a score threshold and write the Kaggle submission; with --fit, choose
 * the threshold of the best MAP@5 on a validation split.
 *
 * The scores TSV is read group by group (any query order, each query's lines
 * together); only each query's five best individuals and its own new_whale
 * score are kept, so memory grows with the number of queries only.  The
 * placement rules and the exact threshold search are in lib/fuse.h. */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "fuse.h"
#include "io.h"
#include "metric.h"
#include "opt.h"
#include "tsv.h"

#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_HELP = CHAR_MAX + 1, OPT_THRESHOLD, OPT_FIT, OPT_PAD, OPT_VERSION, OPT_MATCHES };

static const struct option longopts[] = {
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"new-whale", required_argument, NULL, 'N'},
    {"fit", required_argument, NULL, OPT_FIT},
    {"grid", required_argument, NULL, 'g'},
    {"images", required_argument, NULL, 'i'},
    {"pad", required_argument, NULL, OPT_PAD},
    {"report", required_argument, NULL, 'r'},
    {"output", required_argument, NULL, 'o'},
    {"matches", required_argument, NULL, OPT_MATCHES},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s --threshold=T [OPTION]... [FILE]\n"
           "  or:  %s --fit=TRUTH [OPTION]... [FILE]\n",
           hwi_program_name, hwi_program_name);
    fputs("Put new_whale into each query's ranking at score threshold T and write\n"
          "the Kaggle submission: Image,Id with 5 distinct ids, best first.\n"
          "With --fit, choose T for the best MAP@5 against TRUTH and report it.\n"
          "With no FILE, or when FILE is -, read standard input.\n"
          "\n"
          "      --threshold=T       new_whale's score (see --new-whale)\n"
          "  -N, --new-whale=MODE    max (default): new_whale scores max(T, its own\n"
          "                          score), so it enters where the scores fall\n"
          "                          below T and a new_whale line competes as a\n"
          "                          label; add: its own score + T (0 if none);\n"
          "                          none: only its own line places it\n"
          "      --fit=TRUTH         choose T for the best MAP@5 against TRUTH (CSV\n"
          "                          Image,Id holding every query); report it and\n"
          "                          write the submission at T\n"
          "  -g, --grid=GRID         with --fit: thresholds to try, V1,V2,... or\n"
          "                          START:STOP:STEP, e.g. 0:0.95:0.0079166667 as in\n"
          "                          the original (default: every distinct score, an\n"
          "                          exact search)\n"
          "  -i, --images=FILE       the images the submission must list, one per\n"
          "                          line, or a CSV whose first column is Image (e.g.\n"
          "                          sample_submission.csv): rows come in its order,\n"
          "                          images without scores get new_whale and padding,\n"
          "                          and a query not in FILE is an error\n"
          "      --pad=ID1,ID2...    ids that fill rows with fewer than 5 (default:\n"
          "                          the ids most often ranked first in the input,\n"
          "                          then most often among the five best)\n"
          "  -r, --report=FILE       write the fit report to FILE (default: stderr)\n"
          "  -o, --output=FILE       write to FILE (whole or not at all) instead of\n"
          "                          stdout\n"
          "      --matches=FILE      also write, for a reviewer (hwi-sheet), each row's\n"
          "                          ranked ids as scores TSV with the photo column:\n"
          "                          query, id, score (new_whale's as placed), the\n"
          "                          photo that gave the score or - (padding left out)\n"
          "      --help              display this help and exit\n"
          "      --version           output version information and exit\n"
          "\n"
          "Input is a scores TSV ('query<TAB>label<TAB>score', each query's lines\n"
          "together).  The fit report is TSV: stage, queries, MAP@5 as ranked,\n"
          "threshold, MAP@5 at the threshold, options.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-thresh(1), hwi-fuse(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

/* The rankings read, one row per submission line. */
struct rows {
    size_t n, cap;
    char **image;
    const char **src; /* where the row came from, for messages */
    long *line;
    struct hwi_top5 *t;
};

static void rows_add(struct rows *r, const char *image, const char *src, long line)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        r->image = realloc(r->image, cap * sizeof *r->image);
        r->src = realloc(r->src, cap * sizeof *r->src);
        r->line = realloc(r->line, cap * sizeof *r->line);
        r->t = realloc(r->t, cap * sizeof *r->t);
        if (!r->image || !r->src || !r->line || !r->t)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        r->cap = cap;
    }
    if (!(r->image[r->n] = strdup(image)))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    r->src[r->n] = src;
    r->line[r->n] = line;
    hwi_top5_init(&r->t[r->n]);
    r->n++;
}

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->image[i]);
    free(r->image);
    free(r->src);
    free(r->line);
    free(r->t);
}

/* Read the scores into R (rows of the images list when INDEX is given). */
static void load_scores(struct rows *r, const struct hwi_map *index, int have_list,
                        const char *path, const char *name, const char *listname,
                        struct hwi_labelset *ls)
{
    char err[HWI_ERRLEN];
    FILE *fp = hwi_fopen_in(path, err);
    if (!fp)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_groups g;
    struct hwi_group grp = {0};
    hwi_groups_open(&g, fp, name);
    int rc;
    while ((rc = hwi_groups_next(&g, &grp)) == 1) {
        size_t row;
        if (have_list) {
            size_t *at = hwi_map_get(index, grp.query);
            if (!at)
                hwi_die(HWI_EXIT_FAIL, "%s:%ld: query '%s' is not in the image list %s", name,
                        grp.line, grp.query, listname);
            row = *at;
            r->src[row] = name;
            r->line[row] = grp.line;
        } else {
            rows_add(r, grp.query, name, grp.line);
            row = r->n - 1;
        }
        for (size_t k = 0; k < grp.n; k++) {
            size_t id;
            /* as hwi-fuse: a fitted threshold then stays a finite number */
            if (fabs(grp.score[k]) > FLT_MAX)
                hwi_die(HWI_EXIT_FAIL,
                        "%s:%ld: query '%s': score %g of '%s' is beyond "
                        "float range",
                        name, grp.line, grp.query, grp.score[k], grp.label[k]);
            if (hwi_labelset_id(ls, grp.label[k], &id))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            size_t pid = 0;
            if (grp.photo[k] && hwi_labelset_id(ls, grp.photo[k], &pid))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            hwi_top5_push_photo(&r->t[row], ls->name[id], grp.score[k],
                                grp.photo[k] ? ls->name[pid] : NULL);
        }
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", g.tsv.err);
    hwi_group_free(&grp);
    hwi_groups_close(&g);
    hwi_fclose_in(fp);
}

/* --matches: each row's ranked ids (new_whale included, padding not) with
 * their scores and photos, into the temporary file OUT for PATH. */
static void write_matches(const struct rows *r, enum hwi_nw_mode mode, double thr,
                          const char *const *pad, size_t npad, const char *path,
                          struct hwi_outfile *out)
{
    char err[HWI_ERRLEN];
    if (hwi_outfile_open(out, path, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    hwi_tsv_write_header_photo(out->fp);
    for (size_t i = 0; i < r->n; i++) {
        const struct hwi_top5 *t = &r->t[i];
        const char *ids[HWI_TOPK];
        int n = hwi_top5_predict(t, mode, thr, pad, npad, ids);
        for (int k = 0; k < n; k++) {
            const char *photo = NULL;
            double score;
            int found = 1;
            if (!strcmp(ids[k], HWI_NEW_WHALE)) {
                score = hwi_top5_nw_score(t, mode, thr, &photo);
            } else {
                int x = 0;
                while (x < t->k && strcmp(t->label[x], ids[k]))
                    x++;
                found = x < t->k;
                score = found ? t->score[x] : 0;
                photo = found ? t->photo[x] : NULL;
            }
            if (found && hwi_tsv_write_photo(out->fp, r->image[i], ids[k], score, photo))
                hwi_die(HWI_EXIT_FAIL, "query '%s', id '%s': cannot be written as TSV",
                        r->image[i], ids[k]);
        }
    }
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    double thr = 0;
    int have_thr = 0, have_mode = 0;
    enum hwi_nw_mode mode = HWI_NW_MAX;
    const char *fit = NULL, *images = NULL, *padarg = NULL, *report = NULL, *output = NULL,
               *matches = NULL;
    double *grid = NULL;
    size_t ngrid = 0;
    char err[HWI_ERRLEN];
    int c;
    while ((c = getopt_long(argc, argv, "N:g:i:r:o:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_THRESHOLD:
            /* any double: a fit may place T beyond the extreme scores */
            thr = hwi_opt_double("threshold", optarg, -DBL_MAX, DBL_MAX);
            have_thr = 1;
            break;
        case 'N':
            if (hwi_nw_mode_parse(optarg, &mode)) {
                hwi_warn("invalid value '%s' for --new-whale: expected max, add or none",
                         optarg);
                hwi_try_help();
            }
            have_mode = 1;
            break;
        case OPT_FIT: fit = optarg; break;
        case 'g':
            free(grid);
            if (hwi_parse_grid(optarg, -FLT_MAX, FLT_MAX, &grid, &ngrid, err)) {
                hwi_warn("invalid value for --grid: %s", err);
                hwi_try_help();
            }
            break;
        case 'i': images = optarg; break;
        case OPT_PAD: padarg = optarg; break;
        case 'r': report = optarg; break;
        case 'o': output = optarg; break;
        case OPT_MATCHES: matches = optarg; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    const char *bad = NULL;
    if (argc - optind > 1)
        hwi_warn("extra operand '%s'", argv[optind + 1]), bad = "";
    else if (fit && have_thr)
        bad = "--fit chooses the threshold: do not give --threshold too";
    else if (!fit && !have_thr && mode != HWI_NW_NONE)
        bad = "give --threshold=T, or --fit=TRUTH to choose it";
    else if (!fit && (grid || report))
        bad = "--grid and --report need --fit";
    else if (fit && mode == HWI_NW_NONE)
        bad = "--fit with --new-whale=none has no threshold to choose";
    if (bad) {
        if (*bad)
            hwi_warn("%s", bad);
        hwi_try_help();
    }
    (void)have_mode;

    /* padding from --pad */
    const char *pad[16];
    size_t npad = 0;
    char *padcopy = NULL;
    if (padarg) {
        if (!(padcopy = strdup(padarg)))
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        for (char *p = padcopy, *tok; (tok = strsep(&p, ","));) {
            if (!hwi_tsv_field_ok(tok) || strchr(tok, ' ')) {
                hwi_warn("invalid value '%s' for --pad: expected ids separated by commas",
                         padarg);
                hwi_try_help();
            }
            if (npad < 16)
                pad[npad++] = tok;
        }
    }

    const char *path = optind < argc ? argv[optind] : "-";
    const char *name = hwi_file_name(path);
    if ((images && !strcmp(images, "-")) + (fit && !strcmp(fit, "-")) + !strcmp(path, "-") > 1)
        hwi_die(HWI_EXIT_USAGE, "only one of the scores, --images and --fit can be "
                                "standard input");
    struct rows r = {0};
    struct hwi_names list = {0};
    struct hwi_labelset ls = {0};
    if (images) {
        if (hwi_names_read(&list, images, 0, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        for (size_t i = 0; i < list.n; i++)
            rows_add(&r, list.row[i].name, hwi_file_name(images), list.row[i].line);
    }
    load_scores(&r, &list.index, images != NULL, path, name,
                images ? hwi_file_name(images) : NULL, &ls);
    if (!padarg && hwi_thresh_default_pad(r.t, r.n, pad, 16, &npad, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    struct hwi_labels truth = {0};
    struct hwi_outfile out[3] = {0}; /* the submission, the fit report, the matches */
    if (fit) {
        if (hwi_labels_load(&truth, fit, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        const char **tr = malloc((r.n ? r.n : 1) * sizeof *tr);
        size_t *row = malloc((r.n ? r.n : 1) * sizeof *row), nolab;
        if (!tr || !row)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        if (hwi_labels_rows(&truth, (const char *const *)r.image, r.n, row, &nolab, err)) {
            if (nolab == r.n)
                hwi_die(HWI_EXIT_FAIL, "%s", err);
            hwi_die(HWI_EXIT_FAIL, "%s: no label for query '%s' (%s:%ld)", fit, r.image[nolab],
                    r.src[nolab], r.line[nolab]);
        }
        for (size_t i = 0; i < r.n; i++)
            tr[i] = truth.id[row[i]];
        free(row);
        double map5;
        if (hwi_thresh_search(r.t, tr, r.n, mode, pad, npad, grid, ngrid, &thr, &map5, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        double ranked = hwi_top5_map5(r.t, tr, r.n, HWI_NW_NONE, 0, pad, npad);
        FILE *fp = stderr;
        if (report) {
            if (hwi_outfile_open(&out[1], report, err))
                hwi_die(HWI_EXIT_FAIL, "%s", err);
            fp = out[1].fp;
        }
        char tbuf[64], opt[128];
        snprintf(opt, sizeof opt, "--threshold=%s%s",
                 hwi_thresh_format(tbuf, sizeof tbuf, thr),
                 mode == HWI_NW_ADD ? " --new-whale=add" : "");
        hwi_thresh_report_head(fp);
        hwi_thresh_report_line(fp, "thresh", r.n, ranked, mode, thr, map5, opt);
        free(tr);
    }

    /* the submission */
    struct hwi_preds sub = {r.n, calloc(r.n ? r.n : 1, sizeof *sub.row)};
    if (!sub.row)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < r.n; i++) {
        const char *ids[HWI_TOPK];
        struct hwi_pred *p = &sub.row[i];
        p->image = strdup(r.image[i]);
        p->n = hwi_top5_predict(&r.t[i], mode, thr, pad, npad, ids);
        for (int k = 0; k < p->n; k++)
            if (!(p->id[k] = strdup(ids[k])))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
        if (!p->image)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
    }
    if (hwi_outfile_open(&out[0], output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_preds_write(&sub, out[0].fp))
        hwi_die(HWI_EXIT_FAIL, "write error");
    if (matches)
        write_matches(&r, mode, thr, pad, npad, matches, &out[2]);
    if (hwi_outfile_commit_all(out, 3, err)) /* all or none */
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    hwi_preds_free(&sub);
    hwi_labels_free(&truth);
    rows_free(&r);
    hwi_names_free(&list);
    hwi_labelset_free(&ls);
    free(padcopy);
    free(grid);
    return HWI_EXIT_OK;
}
