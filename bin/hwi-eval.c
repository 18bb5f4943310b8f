/* hwi-eval: score a Kaggle submission against the truth: MAP@5, top-1
 * accuracy, new_whale precision and recall (lib/metric.h). */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "io.h"
#include "metric.h"
#include "split.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_HELP = CHAR_MAX + 1, OPT_PER_IMAGE, OPT_VERSION };

static const struct option longopts[] = {
    {"per-image", no_argument, NULL, OPT_PER_IMAGE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... TRUTH_CSV [SUBMISSION_CSV]\n", hwi_program_name);
    fputs("Score a submission (Image,Id with up to 5 space-separated ids, best first)\n"
          "against the truth (Image,Id: solution.csv, or a validation part of\n"
          "hwi-split).  With no SUBMISSION_CSV, or when it is -, read standard input.\n"
          "Every truth image needs exactly one row, and every row a truth image.\n"
          "\n"
          "      --per-image    first print one line per truth image:\n"
          "                     IMAGE<TAB>TRUTH<TAB>AP (its average precision at 5)\n"
          "      --help         display this help and exit\n"
          "      --version      output version information and exit\n"
          "\n"
          "Output: KEY<TAB>VALUE lines, values with 6 decimals:\n"
          "  map5          mean over queries of 1/rank of the truth in the first 5\n"
          "                ids (0 if absent; a repeated id counts once)\n"
          "  top1          fraction of queries whose first id is the truth\n"
          "  nw_precision  of the queries with new_whale first, the fraction whose\n"
          "                truth is new_whale (0 if none)\n"
          "  nw_recall     of the queries whose truth is new_whale, the fraction with\n"
          "                new_whale first (0 if none)\n"
          "  queries       the number of truth images\n"
          "\n"
          "Exit status: 0 on success, 1 on a malformed or incomplete submission or an\n"
          "I/O error, 2 on a usage error.\n"
          "See hwi-eval(1).\n",
          stdout);
    exit(status);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    int per_image = 0, c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PER_IMAGE: per_image = 1; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (argc - optind < 1) {
        hwi_warn("missing TRUTH_CSV");
        usage(HWI_EXIT_USAGE);
    }
    if (argc - optind > 2) {
        hwi_warn("extra operand '%s'", argv[optind + 2]);
        usage(HWI_EXIT_USAGE);
    }
    const char *tpath = argv[optind];
    const char *spath = argc - optind > 1 ? argv[optind + 1] : "-";
    if (!strcmp(tpath, "-") && !strcmp(spath, "-")) {
        hwi_warn("the truth and the submission cannot both be standard input");
        usage(HWI_EXIT_USAGE);
    }
    char err[HWI_ERRLEN];
    struct hwi_labels truth;
    struct hwi_preds sub;
    if (hwi_labels_load(&truth, tpath, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_preds_load(&sub, spath, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_eval e = {0};
    size_t *row = malloc((truth.n ? truth.n : 1) * sizeof *row);
    if (!row)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    if (hwi_eval_submission(&e, &truth, &sub, hwi_file_name(spath), row, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    for (size_t i = 0; per_image && i < truth.n; i++) {
        const struct hwi_pred *p = &sub.row[row[i]];
        printf("%s\t%s\t%.6f\n", truth.image[i], truth.id[i],
               hwi_map5_one(truth.id[i], p->id, p->n));
    }
    free(row);
    printf("map5\t%.6f\n", hwi_eval_map5(&e));
    printf("top1\t%.6f\n", hwi_eval_top1(&e));
    printf("nw_precision\t%.6f\n", hwi_eval_nw_precision(&e));
    printf("nw_recall\t%.6f\n", hwi_eval_nw_recall(&e));
    printf("queries\t%zu\n", e.n);
    hwi_labels_free(&truth);
    hwi_preds_free(&sub);
    return HWI_EXIT_OK;
}
