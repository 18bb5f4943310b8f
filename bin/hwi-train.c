/* hwi-train: train a network on a pixel stream as a classifier over the
 * known whales (step 2 of the method, see hwi(7)).
 *
 * Reads the pixel stream (hwi-crop's output) and train.csv, drops
 * new_whale and unlabelled images, and trains the cfg's network with
 * augmentation and a one-cycle learning rate: first --head-epochs with the
 * backbone frozen, then --epochs on all layers.  Writes MODEL.cfg,
 * MODEL.weights and MODEL.labels, all three or none.
 *
 * Same --seed, same data, same options and one thread: the same weights,
 * byte for byte (data order and augmentation come from our own generator;
 * the network's initialisation and dropout from the seed given to nn). */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "io.h"
#include "metric.h"
#include "nn.h"
#include "opt.h"
#include "progress.h"
#include "stream.h"
#include "train.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CFG "pcb-small.cfg"

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_BATCH,
    OPT_VERSION,
    OPT_HEAD_EPOCHS,
    OPT_LR,
    OPT_NO_AUGMENT,
    OPT_AUGMENT,
    OPT_INIT,
    OPT_LOG,
    OPT_RESUME,
    OPT_VAL,
    OPT_VAL_LABELS,
};

static const struct option longopts[] = {
    {"labels", required_argument, NULL, 'l'},
    {"output", required_argument, NULL, 'o'},
    {"cfg", required_argument, NULL, 'c'},
    {"epochs", required_argument, NULL, 'e'},
    {"head-epochs", required_argument, NULL, OPT_HEAD_EPOCHS},
    {"lr", required_argument, NULL, OPT_LR},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 'j'},
    {"no-augment", no_argument, NULL, OPT_NO_AUGMENT},
    {"augment", required_argument, NULL, OPT_AUGMENT},
    {"init", required_argument, NULL, OPT_INIT},
    {"log", required_argument, NULL, OPT_LOG},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"val", required_argument, NULL, OPT_VAL},
    {"val-labels", required_argument, NULL, OPT_VAL_LABELS},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... -l LABELS.csv -o MODEL [PIXELS]\n", hwi_program_name);
    fputs("Train a network as a classifier over the whales of a pixel stream.\n"
          "With no PIXELS, or when PIXELS is -, read standard input.\n"
          "\n"
          "PIXELS is a keyed vector stream (hwi-crop): one record per photo, the key\n"
          "its file name, the values its grayscale pixels in [0, 1], row-major; the\n"
          "image size must be the cfg's input size.  LABELS is train.csv (Image,Id).\n"
          "Images labelled new_whale are never trained on; images without a row in\n"
          "LABELS are skipped.  The classes are the remaining labels, sorted.\n"
          "\n"
          "  -l, --labels=CSV       the labels, Kaggle's train.csv format (required)\n"
          "  -o, --output=MODEL     write MODEL.cfg, MODEL.weights and MODEL.labels\n"
          "                         (required; all three or none)\n"
          "  -c, --cfg=FILE         the network (default " DEFAULT_CFG "); a bare name is\n"
          "                         looked up in $HWI_DATADIR, then the data directory\n"
          "  -e, --epochs=N         epochs on all layers (default 10)\n"
          "      --head-epochs=N    epochs with the backbone frozen first (default 0)\n"
          "      --lr=RATE          peak learning rate of each one-cycle (default 0.01)\n"
          "      --batch=N          images per step (default: the cfg's batch)\n"
          "  -s, --seed=N           seed of initialisation, order and augmentation\n"
          "                         (default 1)\n"
          "  -j, --threads=N        threads for the matrix code (default 0: all cores)\n"
          "      --no-augment       train on the pixels as they are (no random affine\n"
          "                         warp and brightness/contrast; never flips anyway)\n"
          "      --augment=LIST     change the augmentation, KEY=VALUE[,...]: rotate\n"
          "                         (degrees, default 15), scale (0.1), aspect (0),\n"
          "                         shift (0.1), shear (degrees, 10), brightness\n"
          "                         (0.1), contrast (0.2), blur (sigma in pixels, 0),\n"
          "                         noise (sigma, 0); each a range drawn per image\n"
          "      --init=WEIGHTS     start from WEIGHTS (a MODEL.weights with the same\n"
          "                         classes) instead of random weights\n"
          "      --log=FILE         write one TSV row per epoch to FILE: loss per\n"
          "                         head, ring radii, learning rate, speed, time and\n"
          "                         the --val metrics (columns: hwi-train(1))\n"
          "      --resume           continue from MODEL.ckpt, the checkpoint written\n"
          "                         after every epoch, if there is one\n"
          "      --val=PIXELS       after each epoch report the classifier's top-1 and\n"
          "                         MAP@5 on this pixel stream (needs --val-labels)\n"
          "      --val-labels=CSV   the true labels of the --val images (Image,Id)\n"
          "      --help             display this help and exit\n"
          "      --version          output version information and exit\n"
          "\n"
          "After every epoch the whole training state goes to MODEL.ckpt (removed\n"
          "when the model is written); --resume continues an interrupted run to the\n"
          "weights the uninterrupted run gives.  Progress goes to standard error\n"
          "when it is a terminal; a summary line (epochs, images/s, final loss) ends\n"
          "the run.  The same seed gives the same weights on the same --threads.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-train(1), hwi-embed(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

/* Open PATH as a pixel stream; dies on error. */
static void open_pixels(struct hwi_stream *s, const char *path)
{
    if (hwi_stream_open_path(s, path, 0))
        hwi_die(HWI_EXIT_FAIL, "%s", s->err);
}

/* Die unless the stream's images are the network's input. */
static void check_size(const struct hwi_stream *s, const struct hwi_nn_info *in,
                       const char *cfg)
{
    if (s->dim == (uint32_t)in->w * in->h * in->c)
        return;
    long side = lround(sqrt((double)s->dim));
    if ((uint32_t)(side * side) == s->dim)
        hwi_die(HWI_EXIT_FAIL, "%s: images are %ldx%ld pixels but %s takes %dx%dx%d", s->name,
                side, side, cfg, in->w, in->h, in->c);
    hwi_die(HWI_EXIT_FAIL, "%s: images have %u values but %s takes %dx%dx%d = %d", s->name,
            s->dim, cfg, in->w, in->h, in->c, in->w * in->h * in->c);
}

/* The --val metrics of one epoch. */
struct val_metrics {
    double top1, map5;             /* every image with a label */
    double known_top1, known_map5; /* images of whales the classifier knows */
    size_t n, known_n;
};

/* Top-1 and MAP@5 of the classifier on V (images of unknown whales count
 * as misses, as they would in a submission without new_whale). */
static void validate(struct hwi_nn *nn, const struct hwi_nn_info *in,
                     const struct hwi_trainset *t, const struct hwi_trainset *v, float *logits,
                     struct val_metrics *m)
{
    char err[HWI_ERRLEN];
    struct hwi_eval e = {0}, known = {0};
    int k = t->classes < HWI_TOPK ? t->classes : HWI_TOPK;
    for (size_t i = 0; i < v->n; i += (size_t)in->batch) {
        int n = v->n - i < (size_t)in->batch ? (int)(v->n - i) : in->batch;
        if (hwi_nn_forward(nn, v->x + i * (size_t)v->dim, n, NULL, logits, err))
            hwi_die(HWI_EXIT_FAIL, "validation: %s", err);
        for (int j = 0; j < n; j++) {
            int top[HWI_TOPK];
            char *pred[HWI_TOPK];
            hwi_train_topk(logits + (size_t)j * in->classes, in->classes, k, top);
            for (int r = 0; r < k; r++)
                pred[r] = t->label[top[r]];
            hwi_eval_add(&e, v->truth[i + j], pred, k);
            if (v->y[i + j] >= 0)
                hwi_eval_add(&known, v->truth[i + j], pred, k);
        }
    }
    m->top1 = hwi_eval_top1(&e);
    m->map5 = hwi_eval_map5(&e);
    m->n = e.n;
    m->known_top1 = hwi_eval_top1(&known);
    m->known_map5 = hwi_eval_map5(&known);
    m->known_n = known.n;
}

/* PATH with its suffix OLD replaced by NEW (or NEW appended); malloc'd. */
static char *with_suffix(const char *path, const char *old, const char *new)
{
    size_t n = strlen(path), lo = strlen(old);
    if (n > lo && strcmp(path + n - lo, old) == 0)
        n -= lo;
    char *p = malloc(n + strlen(new) + 1);
    if (!p)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    memcpy(p, path, n);
    strcpy(p + n, new);
    return p;
}

/* --init: if a label list sits beside WEIGHTS it must be T's classes. */
static void check_init_labels(const char *weights, const struct hwi_trainset *t)
{
    char err[HWI_ERRLEN];
    char *path = with_suffix(weights, ".weights", ".labels");
    if (access(path, F_OK) == 0) {
        char **label;
        int n;
        if (hwi_train_labels_read(path, &label, &n, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        if (n != t->classes)
            hwi_die(HWI_EXIT_FAIL, "%s: %d classes, but the labels give %d", path, n,
                    t->classes);
        for (int i = 0; i < n; i++)
            if (strcmp(label[i], t->label[i]))
                hwi_die(HWI_EXIT_FAIL, "%s:%d: class '%s', but the labels give '%s'", path,
                        i + 1, label[i], t->label[i]);
        hwi_train_labels_free(label, n);
    }
    free(path);
}

/* Write MODEL.cfg, MODEL.weights and MODEL.labels: each to a temporary
 * file first, then all three renamed into place, or none. */
static void save_model(struct hwi_nn *nn, const char *prefix, const char *cfg,
                       const struct hwi_trainset *t)
{
    char err[HWI_ERRLEN];
    const char *suffix[3] = {".cfg", ".weights", ".labels"};
    struct hwi_outfile out[3];
    for (int i = 0; i < 3; i++) {
        char *path = with_suffix(prefix, "", suffix[i]);
        if (hwi_outfile_open(&out[i], path, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        free(path);
    }
    if (hwi_copy_file(cfg, out[0].fp, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    /* hwi_nn_save replaces the (empty) temporary file whole, so committing
     * out[1] renames the saved weights into place */
    if (hwi_nn_save(nn, out[1].tmp, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_train_labels_write(t->label, t->classes, out[2].fp))
        hwi_die(HWI_EXIT_FAIL, "%s: write error", out[2].path);
    if (hwi_outfile_commit_all(out, 3, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
}

/* --log: the columns are fixed by the network (its loss terms and rings)
 * and by --val; see hwi-train(1). */
#define MAX_TERMS 64
struct trainlog {
    FILE *fp;
    const char *path;
    int terms, rings;
    char name[MAX_TERMS][24];
    int ring_index[MAX_TERMS];
};

/* Open the log: a fresh one with its header, or, when resuming after
 * epoch EPOCH, the old one less any row of a later epoch (written after
 * the checkpoint by the run that was interrupted). */
static void log_open(struct trainlog *lg, const char *path, struct hwi_nn *nn, int val,
                     long epoch)
{
    lg->path = path;
    lg->terms = hwi_nn_loss_terms(nn, lg->name, NULL, MAX_TERMS);
    lg->rings = hwi_nn_ring_radii(nn, lg->ring_index, NULL, MAX_TERMS);
    if (lg->terms > MAX_TERMS || lg->rings > MAX_TERMS)
        hwi_die(HWI_EXIT_FAIL, "%s: more than %d loss terms or rings", path, MAX_TERMS);
    char *keep = NULL;
    size_t keep_n = 0;
    if (epoch > 0) {
        FILE *old = fopen(path, "r");
        if (old) {
            FILE *mem = open_memstream(&keep, &keep_n);
            char *line = NULL;
            size_t cap = 0;
            if (!mem)
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            while (getline(&line, &cap, old) > 0)
                if (line[0] == '#' || strtol(line, NULL, 10) <= epoch)
                    fputs(line, mem);
            free(line);
            fclose(old);
            fclose(mem);
        }
    }
    if (!(lg->fp = fopen(path, "w")))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, strerror(errno));
    if (keep_n) {
        fwrite(keep, 1, keep_n, lg->fp);
    } else {
        fputs("# epoch\tstep\tloss", lg->fp);
        for (int i = 0; i < lg->terms; i++)
            fprintf(lg->fp, "\tloss_%s", lg->name[i]);
        for (int i = 0; i < lg->rings; i++)
            fprintf(lg->fp, "\tradius%d", lg->ring_index[i]);
        fputs("\tlr\timages_per_s\telapsed", lg->fp);
        if (val)
            fputs("\tval_top1\tval_map5\tval_known_top1\tval_known_map5", lg->fp);
        fputc('\n', lg->fp);
    }
    free(keep);
    fflush(lg->fp);
}

static void log_row(struct trainlog *lg, struct hwi_nn *nn, long epoch, long step, double loss,
                    const double *term, double lr, double speed, double elapsed,
                    const struct val_metrics *m)
{
    float radius[MAX_TERMS];
    hwi_nn_ring_radii(nn, NULL, radius, MAX_TERMS);
    fprintf(lg->fp, "%ld\t%ld\t%.9g", epoch, step, loss);
    for (int i = 0; i < lg->terms; i++)
        fprintf(lg->fp, "\t%.9g", term[i]);
    for (int i = 0; i < lg->rings; i++)
        fprintf(lg->fp, "\t%.9g", radius[i]);
    fprintf(lg->fp, "\t%.9g\t%.1f\t%.1f", lr, speed, elapsed);
    if (m)
        fprintf(lg->fp, "\t%.9g\t%.9g\t%.9g\t%.9g", m->top1, m->map5, m->known_top1,
                m->known_map5);
    fputc('\n', lg->fp);
    if (fflush(lg->fp) || ferror(lg->fp))
        hwi_die(HWI_EXIT_FAIL, "%s: write error", lg->path);
}

/* For tests: HWI_TRAIN_TEST_KILL=E:S sends the process SIGKILL before
 * step S of epoch E (both from 1), as a crash or kill -9 would. */
static void test_kill(long epoch, long step)
{
    static int init;
    static long ke = -1, ks = -1;
    if (!init) {
        const char *v = getenv("HWI_TRAIN_TEST_KILL");
        if (v && sscanf(v, "%ld:%ld", &ke, &ks) != 2)
            ke = ks = -1;
        init = 1;
    }
    if (epoch == ke && step == ks)
        raise(SIGKILL);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *labels_path = NULL, *prefix = NULL, *cfg_name = DEFAULT_CFG;
    const char *init = NULL, *val_path = NULL, *val_labels = NULL, *log_path = NULL;
    long epochs = 10, head_epochs = 0, batch = 0, threads = 0;
    unsigned long seed = 1;
    double lr = 0.01;
    int augment = 1, resume = 0;
    struct hwi_aug aug;
    hwi_aug_default(&aug);
    char err[HWI_ERRLEN];
    int c;
    while ((c = getopt_long(argc, argv, "l:o:c:e:s:j:", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': labels_path = optarg; break;
        case 'o': prefix = optarg; break;
        case 'c': cfg_name = optarg; break;
        case 'e': epochs = hwi_opt_long("epochs", optarg, 0, 1000000); break;
        case OPT_HEAD_EPOCHS:
            head_epochs = hwi_opt_long("head-epochs", optarg, 0, 1000000);
            break;
        case OPT_LR: lr = hwi_opt_double("lr", optarg, 1e-12, 100); break;
        case OPT_BATCH: batch = hwi_opt_long("batch", optarg, 1, 1 << 16); break;
        case 's': seed = (unsigned long)hwi_opt_long("seed", optarg, 0, UINT_MAX); break;
        case 'j': threads = hwi_opt_long("threads", optarg, 0, 1024); break;
        case OPT_NO_AUGMENT: augment = 0; break;
        case OPT_AUGMENT:
            if (hwi_aug_parse(&aug, optarg, err)) {
                hwi_warn("--augment: %s", err);
                usage(HWI_EXIT_USAGE);
            }
            break;
        case OPT_INIT: init = optarg; break;
        case OPT_LOG: log_path = optarg; break;
        case OPT_RESUME: resume = 1; break;
        case OPT_VAL: val_path = optarg; break;
        case OPT_VAL_LABELS: val_labels = optarg; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        usage(HWI_EXIT_USAGE);
    }
    if (!labels_path) {
        hwi_warn("missing --labels (train.csv)");
        usage(HWI_EXIT_USAGE);
    }
    if (!prefix || !*prefix) {
        hwi_warn("missing --output (the model's file name prefix)");
        usage(HWI_EXIT_USAGE);
    }
    if (!val_path != !val_labels) {
        hwi_warn("--val and --val-labels go together");
        usage(HWI_EXIT_USAGE);
    }
    if (epochs + head_epochs == 0) {
        hwi_warn("nothing to do: --epochs and --head-epochs are both 0");
        usage(HWI_EXIT_USAGE);
    }
    const char *pix_path = optind < argc ? argv[optind] : "-";
    if (val_path && !strcmp(val_path, "-") && !strcmp(pix_path, "-"))
        hwi_die(HWI_EXIT_USAGE, "PIXELS and --val cannot both be standard input");

    /* Darknet prints on stdout: send it to stderr (this program writes
     * files only). */
    fflush(stdout);
    if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        hwi_die(HWI_EXIT_FAIL, "cannot redirect standard output");

    char *cfg = hwi_train_datafile(cfg_name, ".cfg");
    char *ckpt_path = with_suffix(prefix, "", ".ckpt");
    if (!cfg)
        hwi_die(HWI_EXIT_FAIL, "out of memory");

    struct hwi_labels labels = {0};
    if (hwi_labels_load(&labels, labels_path, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    /* the data */
    struct hwi_stream ps;
    open_pixels(&ps, pix_path);
    struct hwi_trainset t;
    if (hwi_trainset_load(&t, &ps, &labels, NULL, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (t.n == 0)
        hwi_die(HWI_EXIT_FAIL,
                "%s: no image to train on (%zu unlabelled, %zu new_whale in %s)", ps.name,
                t.unlabelled, t.new_whale, labels_path);
    if (init)
        check_init_labels(init, &t);

    /* the network */
    hwi_nn_set_threads((int)threads);
    srand((unsigned)seed);
    struct hwi_nn *nn = hwi_nn_load(cfg, init, (int)batch, t.classes, (unsigned)seed, err);
    if (!nn)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_nn_info in;
    hwi_nn_get_info(nn, &in);
    check_size(&ps, &in, cfg);
    if (in.classes != t.classes)
        hwi_die(HWI_EXIT_FAIL, "%s: the network has %d classes, the labels %d", cfg,
                in.classes, t.classes);
    hwi_stream_close(&ps);

    struct hwi_trainset v = {0};
    if (val_path) {
        struct hwi_labels vl = {0};
        if (hwi_labels_load(&vl, val_labels, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        open_pixels(&ps, val_path);
        check_size(&ps, &in, cfg);
        if (hwi_trainset_load(&v, &ps, &vl, &t, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        hwi_stream_close(&ps);
        hwi_labels_free(&vl);
        if (v.n == 0)
            hwi_die(HWI_EXIT_FAIL, "%s: no image has a label in %s", val_path, val_labels);
    }

    /* training */
    size_t dim = (size_t)t.dim, nb = (size_t)in.batch;
    float *xb = malloc(nb * dim * sizeof *xb);
    float *work = malloc(dim * sizeof *work); /* the augmentation's blur */
    int *yb = malloc(nb * sizeof *yb);
    float *logits = val_path ? malloc(nb * (size_t)in.classes * sizeof *logits) : NULL;
    if (!xb || !work || !yb || (val_path && !logits))
        hwi_die(HWI_EXIT_FAIL, "out of memory");

    /* what a checkpoint must agree on to be continued */
    char settings[1024], augs[256];
    hwi_aug_format(&aug, augs, sizeof augs);
    snprintf(settings, sizeof settings,
             "cfg=%s epochs=%ld head-epochs=%ld lr=%.17g batch=%d seed=%lu augment=%d "
             "%s init=%s images=%zu classes=%d",
             cfg, epochs, head_epochs, lr, in.batch, seed, augment, augment ? augs : "",
             init ? init : "", t.n, t.classes);
    struct hwi_ckpt ck = {0};
    ck.settings = settings;
    ck.n = t.n;
    if (!(ck.perm = malloc(t.n * sizeof *ck.perm)))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < t.n; i++)
        ck.perm[i] = i;
    hwi_rng_seed(&ck.rng, seed);
    double elapsed0 = 0; /* wall seconds of earlier (interrupted) runs */
    if (resume && access(ckpt_path, F_OK) == 0) {
        struct hwi_ckpt old;
        if (hwi_ckpt_read(ckpt_path, &old, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        if (strcmp(old.settings, settings))
            hwi_die(HWI_EXIT_FAIL, "%s: made by another run (%s), not this one (%s)",
                    ckpt_path, old.settings, settings);
        if (hwi_nn_state_set(nn, old.state, old.state_size, err))
            hwi_die(HWI_EXIT_FAIL, "%s: %s", ckpt_path, err);
        free(ck.perm);
        ck.perm = old.perm;
        old.perm = NULL;
        ck.epoch = old.epoch;
        ck.rng = old.rng;
        ck.busy = old.busy;
        ck.seen = old.seen;
        elapsed0 = old.elapsed;
        hwi_ckpt_free(&old);
        hwi_warn("%s: resuming after epoch %ld", ckpt_path, ck.epoch);
    } else if (resume) {
        hwi_warn("%s: no checkpoint; starting from the beginning", ckpt_path);
    }

    struct trainlog lg = {0};
    if (log_path)
        log_open(&lg, log_path, nn, val_path != NULL, ck.epoch);
    double term_sum[MAX_TERMS];
    float term[MAX_TERMS];

    long steps = (long)((t.n + nb - 1) / nb); /* per epoch; the last batch wraps */
    long total = epochs + head_epochs;
    double last_loss = 0, start = hwi_progress_now();
    struct hwi_progress pr;
    hwi_progress_start(&pr, "steps", (uint64_t)(total * steps), 0);
    for (long ep = ck.epoch; ep < total; ep++) {
        int head = ep < head_epochs;
        long phase_ep = head ? ep : ep - head_epochs;
        long phase_n = (head ? head_epochs : epochs) * steps;
        if (ep == ck.epoch || ep == head_epochs)
            hwi_nn_freeze_backbone(nn, head);
        hwi_rng_shuffle(&ck.rng, ck.perm, t.n);
        double sum = 0, t1 = hwi_progress_now();
        float rate = 0;
        size_t pos = 0;
        for (int i = 0; i < lg.terms; i++)
            term_sum[i] = 0;
        for (long st = 0; st < steps; st++) {
            test_kill(ep + 1, st + 1);
            for (size_t j = 0; j < nb; j++) {
                size_t i = ck.perm[pos++ % t.n];
                if (augment)
                    hwi_augment(&aug, &ck.rng, t.x + i * dim, xb + j * dim, in.w, in.h, in.c,
                                work);
                else
                    memcpy(xb + j * dim, t.x + i * dim, dim * sizeof *xb);
                yb[j] = t.y[i];
            }
            rate = (float)hwi_train_onecycle(lr, phase_ep * steps + st, phase_n);
            float loss;
            if (hwi_nn_train_step(nn, xb, yb, rate, &loss, err))
                hwi_die(HWI_EXIT_FAIL, "epoch %ld, step %ld: %s", ep + 1, st + 1, err);
            if (!isfinite(loss))
                hwi_die(HWI_EXIT_FAIL,
                        "epoch %ld, step %ld: the loss diverged (try a smaller --lr)", ep + 1,
                        st + 1);
            sum += loss;
            ck.seen += nb;
            if (lg.fp) {
                hwi_nn_loss_terms(nn, NULL, term, MAX_TERMS);
                for (int i = 0; i < lg.terms; i++)
                    term_sum[i] += term[i];
            }
            char extra[128];
            snprintf(extra, sizeof extra, "epoch %ld/%ld%s step %ld/%ld loss %.4f %.1f img/s",
                     ep + 1, total, head ? " (head)" : "", st + 1, steps, sum / (st + 1),
                     (double)(st + 1) * nb / (hwi_progress_now() - t1));
            hwi_progress_show(&pr, (uint64_t)(ep * steps + st + 1), extra);
        }
        double busy = hwi_progress_now() - t1;
        ck.busy += busy;
        last_loss = sum / steps;
        struct val_metrics m;
        if (val_path) {
            validate(nn, &in, &t, &v, logits, &m);
            hwi_progress_clear(&pr);
            hwi_warn("epoch %ld: loss %.4f; val top-1 %.4f MAP@5 %.4f (%zu images); known "
                     "whales top-1 %.4f MAP@5 %.4f (%zu images)",
                     ep + 1, last_loss, m.top1, m.map5, m.n, m.known_top1, m.known_map5,
                     m.known_n);
        }
        /* the checkpoint first: a log row is never ahead of it for long, and
         * a resumed run drops such a row */
        ck.epoch = ep + 1;
        ck.elapsed = elapsed0 + hwi_progress_now() - start;
        if (hwi_nn_state_get(nn, &ck.state, &ck.state_size, err))
            hwi_die(HWI_EXIT_FAIL, "%s: %s", ckpt_path, err);
        if (hwi_ckpt_write(ckpt_path, &ck, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        free(ck.state);
        ck.state = NULL;
        if (lg.fp) {
            for (int i = 0; i < lg.terms; i++)
                term_sum[i] /= steps;
            log_row(&lg, nn, ep + 1, (ep + 1) * steps, last_loss, term_sum, rate,
                    (double)steps * nb / busy, ck.elapsed, val_path ? &m : NULL);
        }
    }
    hwi_progress_end(&pr);

    save_model(nn, prefix, cfg, &t);
    if (remove(ckpt_path) && errno != ENOENT)
        hwi_warn("%s: %s", ckpt_path, strerror(errno));
    if (lg.fp && fclose(lg.fp))
        hwi_die(HWI_EXIT_FAIL, "%s: write error", log_path);
    hwi_warn("%ld epochs (%ld head-only) on %zu images of %d whales, %.1f images/s, "
             "final loss %.4f; skipped %zu new_whale and %zu unlabelled images",
             total, head_epochs, t.n, t.classes,
             (double)ck.seen / (ck.busy > 0 ? ck.busy : 1e-9), last_loss, t.new_whale,
             t.unlabelled);

    hwi_nn_free(nn);
    hwi_trainset_free(&t);
    hwi_trainset_free(&v);
    hwi_labels_free(&labels);
    free(xb);
    free(work);
    free(yb);
    free(ck.perm);
    free(logits);
    free(cfg);
    free(ckpt_path);
    return HWI_EXIT_OK;
}
