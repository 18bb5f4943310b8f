/* hwi-embed: run a trained model over a pixel stream (step 3 of the
 * method, see hwi(7)).
 *
 * Writes each image's retrieval embedding (the L2-normalised features) as
 * a keyed vector stream, and with --logits the classifier's logits, a
 * stream whose column names are the model's labels (for hwi-fuse).  Reads
 * and writes as it goes: memory holds one batch. */
#include <config.h>

#include "err.h"
#include "io.h"
#include "nn.h"
#include "opt.h"
#include "progress.h"
#include "stream.h"
#include "train.h"
#include "tta.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_BATCH,
    OPT_VERSION,
    OPT_CFG,
    OPT_WEIGHTS,
    OPT_LABELS,
    OPT_LOGITS,
    OPT_TTA,
    OPT_ADAPT,
};

static const struct option longopts[] = {
    {"model", required_argument, NULL, 'm'},
    {"cfg", required_argument, NULL, OPT_CFG},
    {"weights", required_argument, NULL, OPT_WEIGHTS},
    {"labels", required_argument, NULL, OPT_LABELS},
    {"output", required_argument, NULL, 'o'},
    {"logits", required_argument, NULL, OPT_LOGITS},
    {"tta", optional_argument, NULL, OPT_TTA},
    {"adapt", no_argument, NULL, OPT_ADAPT},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"threads", required_argument, NULL, 'j'},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... -m MODEL [PIXELS]\n", hwi_program_name);
    fputs("Write the embedding of every image of a pixel stream, and its logits.\n"
          "With no PIXELS, or when PIXELS is -, read standard input.\n"
          "\n"
          "PIXELS is a keyed vector stream (hwi-crop) of images of the model's input\n"
          "size.  The output is a keyed vector stream, one record per image in input\n"
          "order: the L2-normalised features (hwi-knn, hwi-store).  --logits writes a\n"
          "second stream of the classifier's logits whose column names are the\n"
          "model's labels (hwi-fuse).\n"
          "\n"
          "  -m, --model=MODEL      MODEL.cfg, MODEL.weights and MODEL.labels, as\n"
          "                         written by hwi-train\n"
          "      --cfg=FILE         the network (instead of MODEL.cfg)\n"
          "      --weights=FILE     its weights (instead of MODEL.weights)\n"
          "      --labels=FILE      its label list, one per line in class order\n"
          "                         (instead of MODEL.labels; needed by --logits)\n"
          "  -o, --output=FILE      write the features to FILE (whole or not at all)\n"
          "                         instead of standard output\n"
          "      --logits=FILE      also write the logits to FILE\n"
          "      --tta[=MODES]      test-time augmentation: average the features (then\n"
          "                         L2-normalise) and the logits over the image and\n"
          "                         one view per mode of the comma-separated MODES:\n"
          "                         flip (mirrored left to right; the default), zoom\n"
          "                         (a 10% centred zoom-in)\n"
          "      --adapt            first adapt the network's batch norms to PIXELS\n"
          "                         (AdaBN): their statistics become those of these\n"
          "                         images, a set from other conditions than the\n"
          "                         training photos; reads PIXELS twice (a file)\n"
          "      --batch=N          images per forward pass (default: the cfg's batch)\n"
          "  -j, --threads=N        threads for the matrix code (default 0: all cores)\n"
          "  -f, --force            write a binary stream even to a terminal\n"
          "      --help             display this help and exit\n"
          "      --version          output version information and exit\n"
          "\n"
          "A summary line (images, images/s) ends the run on standard error.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error.\n"
          "See hwi-embed(1), hwi-train(1) and hwi-formats(5).\n",
          stdout);
    exit(status);
}

/* Up to NB images of IN into X (and their keys into KEY, unless NULL);
 * returns how many, fewer than NB only at the end; or exits. */
static size_t read_batch(struct hwi_stream *in, float *x, size_t nb, char **key)
{
    size_t n = 0;
    int rc = 0;
    while (n < nb && (rc = hwi_stream_read(in)) == 1) {
        if (key) {
            free(key[n]);
            if (!(key[n] = strdup(in->key)))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
        }
        memcpy(x + n * in->dim, in->vec, in->dim * sizeof *x);
        n++;
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", in->err);
    return n;
}

/* --adapt: the batch norms of NN adapted to every image of IN (batches of
 * NB in X), then IN reopened at its first image; or exit. */
static void adapt_pass(struct hwi_nn *nn, struct hwi_stream *in, float *x, size_t nb,
                       char *err)
{
    char *path = strdup(in->name);
    if (!path || hwi_nn_adapt_begin(nn, err))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    for (size_t n = nb; n == nb;) {
        n = read_batch(in, x, nb, NULL);
        if (n && hwi_nn_adapt(nn, x, (int)n, err))
            hwi_die(HWI_EXIT_FAIL, "%s: %s", path, err);
    }
    if (in->nrec == 0)
        hwi_die(HWI_EXIT_FAIL, "%s: no image to adapt to", path);
    hwi_nn_adapt_end(nn);
    hwi_stream_close(in);
    if (hwi_stream_open_path(in, path, 1))
        hwi_die(HWI_EXIT_FAIL, "%s", in->err);
    free(path);
}

/* MODEL + SUFFIX unless EXPLICIT is given; malloc'd, or NULL if neither. */
static char *model_file(const char *model, const char *suffix, const char *explicit_)
{
    char *p = NULL;
    if (explicit_)
        p = strdup(explicit_);
    else if (model && asprintf(&p, "%s%s", model, suffix) < 0)
        p = NULL;
    else if (!model)
        return NULL;
    if (!p)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    return p;
}

/* Open an output stream: FILE, or the saved standard output DATAFD. */
static void open_out(struct hwi_outfile *out, const char *path, int datafd)
{
    char err[HWI_ERRLEN];
    if (path && strcmp(path, "-")) {
        if (hwi_outfile_open(out, path, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        return;
    }
    memset(out, 0, sizeof *out);
    if (!(out->fp = fdopen(datafd, "wb")))
        hwi_die(HWI_EXIT_FAIL, "standard output: cannot open");
}

/* Write N records (keys KEY, vectors V of S->dim) to S. */
static void put(struct hwi_stream *s, char **key, const float *v, int n)
{
    for (int i = 0; i < n; i++)
        if (hwi_stream_write(s, key[i], v + (size_t)i * s->dim))
            hwi_die(HWI_EXIT_FAIL, "%s", s->err);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *model = NULL, *cfg_opt = NULL, *weights_opt = NULL, *labels_opt = NULL;
    const char *output = NULL, *logits_path = NULL;
    long batch = 0, threads = 0;
    int force = 0, adapt = 0;
    unsigned tta = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:o:j:f", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case OPT_CFG: cfg_opt = optarg; break;
        case OPT_WEIGHTS: weights_opt = optarg; break;
        case OPT_LABELS: labels_opt = optarg; break;
        case 'o': output = optarg; break;
        case OPT_LOGITS: logits_path = optarg; break;
        case OPT_TTA: {
            char perr[HWI_ERRLEN];
            if (hwi_tta_parse(optarg ? optarg : "flip", &tta, perr)) {
                hwi_warn("--tta: %s", perr);
                usage(HWI_EXIT_USAGE);
            }
            break;
        }
        case OPT_BATCH: batch = hwi_opt_long("batch", optarg, 1, 1 << 16); break;
        case 'j': threads = hwi_opt_long("threads", optarg, 0, 1024); break;
        case 'f': force = 1; break;
        case OPT_ADAPT: adapt = 1; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        usage(HWI_EXIT_USAGE);
    }
    char *cfg = model_file(model, ".cfg", cfg_opt);
    char *weights = model_file(model, ".weights", weights_opt);
    char *labels = logits_path ? model_file(model, ".labels", labels_opt) : NULL;
    if (!cfg || !weights) {
        hwi_warn("missing --model (or --cfg and --weights)");
        usage(HWI_EXIT_USAGE);
    }
    if (logits_path && !labels) {
        hwi_warn("--logits needs the label list: --model or --labels");
        usage(HWI_EXIT_USAGE);
    }
    if (adapt && (optind == argc || !strcmp(argv[optind], "-")))
        hwi_die(HWI_EXIT_USAGE, "--adapt reads the pixels twice: give them as a file, "
                                "not standard input");
    if (logits_path && !strcmp(logits_path, "-") && (!output || !strcmp(output, "-")))
        hwi_die(HWI_EXIT_USAGE, "features and --logits cannot both go to standard output");
    if (!force && isatty(STDOUT_FILENO) &&
        ((!output || !strcmp(output, "-")) || (logits_path && !strcmp(logits_path, "-"))))
        hwi_die(HWI_EXIT_USAGE,
                "refusing to write a binary stream to a terminal (use --force)");

    /* Darknet prints on stdout: keep the real standard output for the data
     * and point fd 1 at stderr. */
    fflush(stdout);
    int datafd = dup(STDOUT_FILENO);
    if (datafd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        hwi_die(HWI_EXIT_FAIL, "cannot redirect standard output");

    char err[HWI_ERRLEN];
    char **label = NULL;
    int nlabel = 0;
    if (labels && hwi_train_labels_read(labels, &label, &nlabel, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    const char *pix_path = optind < argc ? argv[optind] : "-";
    struct hwi_stream in;
    if (hwi_stream_open_path(&in, pix_path, 1))
        hwi_die(HWI_EXIT_FAIL, "%s", in.err);
    const char *pix_name = in.name;

    hwi_nn_set_threads((int)threads);
    struct hwi_nn *nn = hwi_nn_load(cfg, weights, (int)batch, 0, 0, err);
    if (!nn)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_nn_info info;
    hwi_nn_get_info(nn, &info);
    if (in.dim != (uint32_t)info.w * info.h * info.c) {
        long side = lround(sqrt((double)in.dim));
        if ((uint32_t)(side * side) == in.dim)
            hwi_die(HWI_EXIT_FAIL, "%s: images are %ldx%ld pixels but %s takes %dx%dx%d",
                    pix_name, side, side, cfg, info.w, info.h, info.c);
        hwi_die(HWI_EXIT_FAIL, "%s: images have %u values but %s takes %dx%dx%d = %d",
                pix_name, in.dim, cfg, info.w, info.h, info.c, info.w * info.h * info.c);
    }
    if (logits_path && info.classes == 0)
        hwi_die(HWI_EXIT_FAIL, "%s: the model has no classifier: no logits", cfg);
    if (logits_path && nlabel != info.classes)
        hwi_die(HWI_EXIT_FAIL, "%s: %d labels, but the model has %d classes", labels, nlabel,
                info.classes);

    struct hwi_outfile out[2] = {0}, *fout = &out[0], *lout = &out[1];
    struct hwi_stream fs, ls;
    open_out(fout, output, datafd);
    if (hwi_stream_open_write(&fs, fout->fp, output ? output : "(stdout)",
                              (uint32_t)info.feature_dim, HWI_STREAM_KEYED, NULL, in.count))
        hwi_die(HWI_EXIT_FAIL, "%s", fs.err);
    if (logits_path) {
        open_out(lout, logits_path, datafd);
        if (hwi_stream_open_write(&ls, lout->fp, logits_path, (uint32_t)info.classes,
                                  HWI_STREAM_KEYED, label, in.count))
            hwi_die(HWI_EXIT_FAIL, "%s", ls.err);
    }

    size_t nb = (size_t)info.batch, dim = in.dim;
    float *x = malloc(nb * dim * sizeof *x);
    float *feat = malloc(nb * (size_t)info.feature_dim * sizeof *feat);
    float *logit = logits_path ? malloc(nb * (size_t)info.classes * sizeof *logit) : NULL;
    char **key = calloc(nb, sizeof *key);
    if (!x || !feat || !key || (logits_path && !logit))
        hwi_die(HWI_EXIT_FAIL, "out of memory");

    if (adapt) /* a first pass over the pixels, then read them again */
        adapt_pass(nn, &in, x, nb, err);
    struct hwi_progress pr; /* "N of total" when the input's header has its count */
    hwi_progress_start(&pr, "images", in.count, 0);
    double t0 = hwi_progress_now();
    size_t total = 0;
    for (int done = 0; !done;) {
        int n = (int)read_batch(&in, x, nb, key);
        done = (size_t)n < nb;
        if (n == 0)
            break;
        if (hwi_tta_forward(nn, tta, x, n, feat, logit, err))
            hwi_die(HWI_EXIT_FAIL, "%s: %s", pix_name, err);
        put(&fs, key, feat, n);
        if (logits_path)
            put(&ls, key, logit, n);
        total += (size_t)n;
        hwi_progress_show(&pr, total, NULL);
    }
    hwi_progress_end(&pr);
    double secs = hwi_progress_now() - t0;

    if (hwi_stream_finish(&fs))
        hwi_die(HWI_EXIT_FAIL, "%s", fs.err);
    if (logits_path && hwi_stream_finish(&ls))
        hwi_die(HWI_EXIT_FAIL, "%s", ls.err);
    if (hwi_outfile_commit_all(out, 2, err)) /* both or neither */
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    /* commit only flushes the saved standard output: close it here */
    if ((!output || !strcmp(output, "-")) && fclose(fout->fp) != 0)
        hwi_die(HWI_EXIT_FAIL, "write error: standard output");
    if (logits_path && !strcmp(logits_path, "-") && fclose(lout->fp) != 0)
        hwi_die(HWI_EXIT_FAIL, "write error: standard output");
    hwi_warn("%zu images, %.1f images/s", total, total / (secs > 0 ? secs : 1e-9));

    hwi_stream_close(&fs);
    if (logits_path)
        hwi_stream_close(&ls);
    hwi_stream_close(&in);
    hwi_nn_free(nn);
    for (size_t i = 0; i < nb; i++)
        free(key[i]);
    free(key);
    free(x);
    free(feat);
    free(logit);
    hwi_train_labels_free(label, nlabel);
    free(cfg);
    free(weights);
    free(labels);
    if (datafd >= 0 && (output && strcmp(output, "-")) &&
        !(logits_path && !strcmp(logits_path, "-")))
        close(datafd);
    return HWI_EXIT_OK;
}
