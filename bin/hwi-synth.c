/* hwi-synth: write a synthetic humpback-fluke data set in Kaggle's format.
 *
 * The competition's photos cannot ship with hwi; this program makes a data
 * set that works like them (see lib/synth.h): OUTDIR/train/NAME.jpg,
 * OUTDIR/test/NAME.jpg, train.csv, bounding_boxes.csv and solution.csv.  The
 * same seed gives the same bytes, whatever the number of threads. */
#include <config.h>

#include "err.h"
#include "image.h"
#include "opt.h"
#include "pool.h"
#include "progress.h"
#include "synth.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_HELP = CHAR_MAX + 1, OPT_SCALE, OPT_STATS, OPT_VERSION, OPT_SHIFT };

static const struct option longopts[] = {
    {"scale", required_argument, NULL, OPT_SCALE},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 'j'},
    {"stats", no_argument, NULL, OPT_STATS},
    {"shift", no_argument, NULL, OPT_SHIFT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... OUTDIR\n"
           "  or:  %s --stats [OPTION]...\n",
           hwi_program_name, hwi_program_name);
    fputs("Write a synthetic humpback whale fluke data set in the Kaggle competition's\n"
          "format into OUTDIR (created if needed):\n"
          "  OUTDIR/train/NAME.jpg, OUTDIR/test/*.jpg  photos named like 0a1b2c3d.jpg\n"
          "  OUTDIR/train.csv           Image,Id (Id w_1a2b3c4 or new_whale)\n"
          "  OUTDIR/solution.csv        Image,Id: the truth of the test photos\n"
          "  OUTDIR/bounding_boxes.csv  Image,x0,y0,x1,y1 of every photo (inclusive)\n"
          "\n"
          "      --scale=SCALE   tiny (tests: 80 small photos), small (the demo: 1666\n"
          "                      photos, 250 named whales) or full (the competition's\n"
          "                      counts: 25361 train, 7960 test, 5004 named whales);\n"
          "                      default small\n"
          "  -s, --seed=N        random seed (default 1); the same seed gives the same\n"
          "                      bytes whatever the number of threads\n"
          "  -j, --threads=N     render with N threads (default 0: the number of CPUs)\n"
          "      --shift         render the test photos under conditions that no train\n"
          "                      photo has (another camera, light, sea state and\n"
          "                      viewpoint range, every whale with its new scar);\n"
          "                      train photos stay as without it\n"
          "      --stats         print the label statistics of the data set to stdout\n"
          "                      as KEY<TAB>VALUE lines; with no OUTDIR, write nothing\n"
          "  -q, --quiet         no progress and no summary line on stderr\n"
          "      --help          display this help and exit\n"
          "      --version       output version information and exit\n"
          "\n"
          "Each CSV file appears whole or not at all, and each photo too.\n"
          "\n"
          "Exit status: 0 on success, 1 on an I/O error, 2 on a usage error.\n"
          "See hwi-synth(1).\n",
          stdout);
    exit(status);
}

/* hwi_synth_write's callback (one thread at a time): the progress line. */
static void show_progress(void *arg, size_t done, size_t total)
{
    (void)total; /* given to hwi_progress_start */
    hwi_progress_show(arg, done, NULL);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *scale = "small";
    long seed = 1, threads = 0;
    int stats = 0, quiet = 0, shift = 0, c;
    while ((c = getopt_long(argc, argv, "s:j:q", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SCALE: scale = optarg; break;
        case 's': seed = hwi_opt_long("seed", optarg, 0, LONG_MAX); break;
        case 'j': threads = hwi_opt_long("threads", optarg, 0, 256); break;
        case OPT_STATS: stats = 1; break;
        case 'q': quiet = 1; break;
        case OPT_SHIFT: shift = 1; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (threads == 0)
        threads = hwi_ncpu();
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        usage(HWI_EXIT_USAGE);
    }
    if (argc == optind && !stats) {
        hwi_warn("missing OUTDIR");
        usage(HWI_EXIT_USAGE);
    }
    char err[HWI_ERRLEN];
    struct hwi_synth_config cfg;
    if (hwi_synth_config_preset(&cfg, scale, err)) {
        hwi_warn("invalid value '%s' for --scale: expected tiny, small or full", scale);
        usage(HWI_EXIT_USAGE);
    }
    cfg.seed = (uint64_t)seed;
    cfg.shift = shift;
    struct hwi_synth_plan plan;
    if (hwi_synth_plan_make(&plan, &cfg, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (stats) {
        struct hwi_synth_stats s;
        hwi_synth_stats(&plan, &s);
        hwi_synth_stats_print(&s, stdout);
    }
    if (argc > optind) {
        const char *outdir = argv[optind];
        if (hwi_image_init(argv[0], 1, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        double t0 = hwi_progress_now();
        struct hwi_progress pr;
        hwi_progress_start(&pr, "photos", plan.nphoto, quiet);
        if (hwi_synth_write(&plan, outdir, (int)threads, show_progress, &pr, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        hwi_progress_end(&pr);
        double wall = hwi_progress_now() - t0;
        if (!quiet) {
            struct hwi_synth_stats s;
            hwi_synth_stats(&plan, &s);
            hwi_warn("wrote %zu train and %zu test photos of %zu named whales to %s in "
                     "%.1f s",
                     s.train, s.test, s.named, outdir, wall);
        }
        hwi_image_shutdown();
    }
    hwi_synth_plan_free(&plan);
    return HWI_EXIT_OK;
}
