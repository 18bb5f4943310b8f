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
#include "metric.h"
#include "nn.h"
#include "opt.h"
#include "stream.h"
#include "train.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CFG "pcb-small.cfg"

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_VERSION,
    OPT_HEAD_EPOCHS,
    OPT_LR,
    OPT_NO_AUGMENT,
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
    {"batch", required_argument, NULL, 'b'},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 't'},
    {"no-augment", no_argument, NULL, OPT_NO_AUGMENT},
    {"resume", required_argument, NULL, OPT_RESUME},
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
          "  -b, --batch=N          images per step (default: the cfg's batch)\n"
          "  -s, --seed=N           seed of initialisation, order and augmentation\n"
          "                         (default 1)\n"
          "  -t, --threads=N        threads for the matrix code (default 0: all cores)\n"
          "      --no-augment       train on the pixels as they are (no random affine\n"
          "                         warp and brightness/contrast; never flips anyway)\n"
          "      --resume=WEIGHTS   start from WEIGHTS (a MODEL.weights with the same\n"
          "                         classes) instead of random weights\n"
          "      --val=PIXELS       after each epoch report the classifier's top-1 and\n"
          "                         MAP@5 on this pixel stream (needs --val-labels)\n"
          "      --val-labels=CSV   the true labels of the --val images (Image,Id)\n"
          "      --help             display this help and exit\n"
          "      --version          output version information and exit\n"
          "\n"
          "Progress goes to standard error when it is a terminal; a summary line\n"
          "(epochs, images/s, final loss) ends the run.  The same seed gives the same\n"
          "weights with --threads=1.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-train(1), hwi-embed(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
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
        hwi_die(HWI_EXIT_FAIL, "%s: images are %ldx%ld pixels but %s takes %dx%dx%d",
                s->name, side, side, cfg, in->w, in->h, in->c);
    hwi_die(HWI_EXIT_FAIL, "%s: images have %u values but %s takes %dx%dx%d = %d", s->name,
            s->dim, cfg, in->w, in->h, in->c, in->w * in->h * in->c);
}

/* Top-1 and MAP@5 of the classifier on V (images of unknown whales count
 * as misses, as they would in a submission without new_whale). */
static void validate(struct hwi_nn *nn, const struct hwi_nn_info *in,
                     const struct hwi_trainset *t, const struct hwi_trainset *v,
                     float *logits, int epoch, double loss)
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
    hwi_warn("epoch %d: loss %.4f; val top-1 %.4f MAP@5 %.4f (%zu images); known whales "
             "top-1 %.4f MAP@5 %.4f (%zu images)",
             epoch, loss, hwi_eval_top1(&e), hwi_eval_map5(&e), e.n, hwi_eval_top1(&known),
             hwi_eval_map5(&known), known.n);
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

/* --resume: if a label list sits beside WEIGHTS it must be T's classes. */
static void check_resume_labels(const char *weights, const struct hwi_trainset *t)
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

/* Copy the file SRC into OUT. */
static void copy_file(const char *src, FILE *out)
{
    char err[HWI_ERRLEN], buf[8192];
    FILE *in = hwi_fopen_in(src, err);
    if (!in)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            break;
    if (ferror(in))
        hwi_die(HWI_EXIT_FAIL, "%s: read error", src);
    fclose(in);
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
    copy_file(cfg, out[0].fp);
    /* hwi_nn_save replaces the (empty) temporary file whole, so committing
     * out[1] renames the saved weights into place */
    if (hwi_nn_save(nn, out[1].tmp, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_train_labels_write(t->label, t->classes, out[2].fp))
        hwi_die(HWI_EXIT_FAIL, "%s: write error", out[2].path);
    if (hwi_outfile_commit_all(out, 3, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *labels_path = NULL, *prefix = NULL, *cfg_name = DEFAULT_CFG;
    const char *resume = NULL, *val_path = NULL, *val_labels = NULL;
    long epochs = 10, head_epochs = 0, batch = 0, threads = 0;
    unsigned long seed = 1;
    double lr = 0.01;
    int augment = 1;
    int c;
    while ((c = getopt_long(argc, argv, "l:o:c:e:b:s:t:", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': labels_path = optarg; break;
        case 'o': prefix = optarg; break;
        case 'c': cfg_name = optarg; break;
        case 'e': epochs = hwi_opt_long("epochs", optarg, 0, 1000000); break;
        case OPT_HEAD_EPOCHS:
            head_epochs = hwi_opt_long("head-epochs", optarg, 0, 1000000);
            break;
        case OPT_LR: lr = hwi_opt_double("lr", optarg, 1e-12, 100); break;
        case 'b': batch = hwi_opt_long("batch", optarg, 1, 1 << 16); break;
        case 's': seed = (unsigned long)hwi_opt_long("seed", optarg, 0, UINT_MAX); break;
        case 't': threads = hwi_opt_long("threads", optarg, 0, 1024); break;
        case OPT_NO_AUGMENT: augment = 0; break;
        case OPT_RESUME: resume = optarg; break;
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

    char err[HWI_ERRLEN];
    char *cfg = hwi_train_datafile(cfg_name, ".cfg");
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
                "%s: no image to train on (%zu unlabelled, %zu new_whale in %s)",
                ps.name, t.unlabelled, t.new_whale, labels_path);
    if (resume)
        check_resume_labels(resume, &t);

    /* the network */
    hwi_nn_set_threads((int)threads);
    srand((unsigned)seed);
    struct hwi_nn *nn = hwi_nn_load(cfg, resume, (int)batch, t.classes, (unsigned)seed, err);
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
    int *yb = malloc(nb * sizeof *yb);
    size_t *perm = malloc(t.n * sizeof *perm);
    float *logits = val_path ? malloc(nb * (size_t)in.classes * sizeof *logits) : NULL;
    if (!xb || !yb || !perm || (val_path && !logits))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < t.n; i++)
        perm[i] = i;
    struct hwi_train_rng rng;
    hwi_train_rng_seed(&rng, seed);
    struct hwi_aug aug;
    hwi_aug_default(&aug);

    int tty = isatty(STDERR_FILENO);
    long steps = (long)((t.n + nb - 1) / nb); /* per epoch; the last batch wraps */
    long total = epochs + head_epochs;
    double busy = 0, last_loss = 0; /* busy: seconds spent training */
    size_t seen = 0;
    for (long ep = 0; ep < total; ep++) {
        int head = ep < head_epochs;
        long phase_ep = head ? ep : ep - head_epochs;
        long phase_n = (head ? head_epochs : epochs) * steps;
        if (ep == 0 || ep == head_epochs)
            hwi_nn_freeze_backbone(nn, head);
        hwi_train_rng_shuffle(&rng, perm, t.n);
        double sum = 0, t1 = now();
        size_t pos = 0;
        for (long st = 0; st < steps; st++) {
            for (size_t j = 0; j < nb; j++) {
                size_t i = perm[pos++ % t.n];
                if (augment)
                    hwi_augment(&aug, &rng, t.x + i * dim, xb + j * dim, in.w, in.h, in.c);
                else
                    memcpy(xb + j * dim, t.x + i * dim, dim * sizeof *xb);
                yb[j] = t.y[i];
            }
            float rate = (float)hwi_train_onecycle(lr, phase_ep * steps + st, phase_n);
            float loss;
            if (hwi_nn_train_step(nn, xb, yb, rate, &loss, err))
                hwi_die(HWI_EXIT_FAIL, "epoch %ld, step %ld: %s", ep + 1, st + 1, err);
            if (!isfinite(loss))
                hwi_die(HWI_EXIT_FAIL,
                        "epoch %ld, step %ld: the loss diverged (try a smaller --lr)",
                        ep + 1, st + 1);
            sum += loss;
            seen += nb;
            if (tty)
                fprintf(stderr, "\repoch %ld/%ld%s step %ld/%ld loss %.4f lr %.3g %.1f img/s  ",
                        ep + 1, total, head ? " (head)" : "", st + 1, steps, sum / (st + 1),
                        rate, seen / (busy + now() - t1));
        }
        busy += now() - t1;
        last_loss = sum / steps;
        if (tty)
            fprintf(stderr, "\n");
        if (val_path)
            validate(nn, &in, &t, &v, logits, (int)ep + 1, last_loss);
    }

    save_model(nn, prefix, cfg, &t);
    hwi_warn("%ld epochs (%ld head-only) on %zu images of %d whales, %.1f images/s, "
             "final loss %.4f; skipped %zu new_whale and %zu unlabelled images",
             total, head_epochs, t.n, t.classes, seen / (busy > 0 ? busy : 1e-9), last_loss,
             t.new_whale, t.unlabelled);

    hwi_nn_free(nn);
    hwi_trainset_free(&t);
    hwi_trainset_free(&v);
    hwi_labels_free(&labels);
    free(xb);
    free(yb);
    free(perm);
    free(logits);
    free(cfg);
    return HWI_EXIT_OK;
}
