/* hwi-split: split train.csv into a train part and a validation part the
 * way the 7th-place solution did (see lib/split.h). */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "io.h"
#include "opt.h"
#include "split.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_TRAIN,
    OPT_VAL,
    OPT_NEW_WHALE,
    OPT_NEW_WHALE_FRACTION,
    OPT_VERSION
};

static const struct option longopts[] = {
    {"train", required_argument, NULL, OPT_TRAIN},
    {"val", required_argument, NULL, OPT_VAL},
    {"new-whale", required_argument, NULL, OPT_NEW_WHALE},
    {"new-whale-fraction", required_argument, NULL, OPT_NEW_WHALE_FRACTION},
    {"seed", required_argument, NULL, 's'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* The original: 1000 of the 9664 new_whale photos. */
#define DEFAULT_FRACTION (1000.0 / 9664.0)

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... [TRAIN_CSV]\n", hwi_program_name);
    fputs("Split a Kaggle train.csv (Image,Id) into a train part and a validation part:\n"
          "the validation part holds one photo of every individual with at least two\n"
          "photos, plus a sample of the new_whale photos; the train part holds the rest.\n"
          "Both keep the input's order.  With no TRAIN_CSV, or when it is -, read\n"
          "standard input.\n"
          "\n"
          "      --train=FILE       write the train part to FILE (Image,Id)\n"
          "      --val=FILE         write the validation part to FILE (Image,Id)\n"
          "      --new-whale=N      put N new_whale photos in the validation part\n"
          "      --new-whale-fraction=F  put this fraction of the new_whale photos in\n"
          "                         the validation part (default 0.1035, the original's\n"
          "                         1000 of 9664)\n"
          "  -s, --seed=N           random seed of the draw (default 1)\n"
          "      --help             display this help and exit\n"
          "      --version          output version information and exit\n"
          "\n"
          "At least one of --train and --val is needed; FILE - is standard output (for\n"
          "one of them only).  Each file appears whole or not at all.  A summary line\n"
          "goes to standard error.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-split(1).\n",
          stdout);
    exit(status);
}

/* Write the photos whose VAL is WANT to OUT (left uncommitted). */
static void write_part(struct hwi_outfile *out, const char *path, const struct hwi_labels *t,
                       const unsigned char *val, int want)
{
    char err[HWI_ERRLEN];
    if (hwi_outfile_open(out, path, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_labels part = {0};
    for (size_t i = 0; i < t->n; i++)
        if (val[i] == want && hwi_labels_add(&part, t->image[i], t->id[i]))
            hwi_die(HWI_EXIT_FAIL, "out of memory");
    if (hwi_labels_write(&part, out->fp))
        hwi_die(HWI_EXIT_FAIL, "%s: write error", path);
    hwi_labels_free(&part);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *train = NULL, *valpath = NULL;
    struct hwi_split_opts o = {.seed = 1, .nw_count = -1, .nw_frac = DEFAULT_FRACTION};
    int c;
    while ((c = getopt_long(argc, argv, "s:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TRAIN: train = optarg; break;
        case OPT_VAL: valpath = optarg; break;
        case OPT_NEW_WHALE: o.nw_count = hwi_opt_long("new-whale", optarg, 0, LONG_MAX); break;
        case OPT_NEW_WHALE_FRACTION:
            o.nw_frac = hwi_opt_double("new-whale-fraction", optarg, 0, 1);
            o.nw_count = -1;
            break;
        case 's': o.seed = (uint64_t)hwi_opt_long("seed", optarg, 0, LONG_MAX); break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        usage(HWI_EXIT_USAGE);
    }
    if (!train && !valpath) {
        hwi_warn("nothing to write: give --train, --val or both");
        usage(HWI_EXIT_USAGE);
    }
    if (train && valpath && !strcmp(train, "-") && !strcmp(valpath, "-")) {
        hwi_warn("--train and --val cannot both be standard output");
        usage(HWI_EXIT_USAGE);
    }
    const char *path = optind < argc ? argv[optind] : "-";
    char err[HWI_ERRLEN];
    struct hwi_labels t;
    if (hwi_labels_load(&t, path, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    unsigned char *val = malloc(t.n ? t.n : 1);
    if (!val)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    size_t nval;
    if (hwi_split_make(&t, &o, val, &nval, err))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", hwi_file_name(path), err);
    size_t nvnw = 0;
    for (size_t i = 0; i < t.n; i++)
        nvnw += val[i] && !strcmp(t.id[i], HWI_NEW_WHALE);
    /* both files or neither */
    struct hwi_outfile out[2] = {0};
    if (train)
        write_part(&out[0], train, &t, val, 0);
    if (valpath)
        write_part(&out[1], valpath, &t, val, 1);
    if (hwi_outfile_commit_all(out, 2, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    hwi_warn("%zu photos: %zu train, %zu validation (%zu of them new_whale)", t.n, t.n - nval,
             nval, nvnw);
    free(val);
    hwi_labels_free(&t);
    return HWI_EXIT_OK;
}
