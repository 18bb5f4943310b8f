/* hwi-detect: the fluke's box for photos that come without one.
 *
 * A small network (data/detect-small.cfg) sees the whole photo, gray and
 * squished to S x S, and regresses the box's four edges as fractions of
 * the photo's width and height ([box] in hwi-nn(5)).  --train fits it to
 * a box file; otherwise -m MODEL predicts a box per photo and writes
 * bounding_boxes.csv, the file hwi-crop reads, in the photo's own pixels
 * (upright by its EXIF orientation, as hwi-crop reads boxes).  A model
 * trained here (HWI_DETECT_MARK in its .cfg) then refines each box with
 * --refine passes over views of it (detect.h); an older one predicts once.
 *
 * Photos load on the pool's threads (lib/pool.c; lib/image.c shrinks
 * JPEGs on load) into memory (2S x 2S bytes each, S x S for an older
 * model); the network then runs on them in batches in the main thread, its
 * matrix code on -j threads. */
#include <config.h>

#include "csv.h"
#include "detect.h"
#include "err.h"
#include "image.h"
#include "io.h"
#include "map.h"
#include "nn.h"
#include "opt.h"
#include "pool.h"
#include "progress.h"
#include "train.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_CFG "detect-small"

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_VERSION,
    OPT_TRAIN,
    OPT_CFG,
    OPT_EPOCHS,
    OPT_LR,
    OPT_BATCH,
    OPT_NO_AUGMENT,
    OPT_EVAL,
    OPT_SCORES,
    OPT_KEEP_GOING,
    OPT_NO_AUTOROTATE,
    OPT_REFINE,
};

static const struct option longopts[] = {
    {"model", required_argument, NULL, 'm'},
    {"dir", required_argument, NULL, 'd'},
    {"images", required_argument, NULL, 'i'},
    {"boxes", required_argument, NULL, 'b'},
    {"output", required_argument, NULL, 'o'},
    {"threads", required_argument, NULL, 'j'},
    {"seed", required_argument, NULL, 's'},
    {"quiet", no_argument, NULL, 'q'},
    {"train", no_argument, NULL, OPT_TRAIN},
    {"cfg", required_argument, NULL, OPT_CFG},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"lr", required_argument, NULL, OPT_LR},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"no-augment", no_argument, NULL, OPT_NO_AUGMENT},
    {"eval", required_argument, NULL, OPT_EVAL},
    {"scores", required_argument, NULL, OPT_SCORES},
    {"keep-going", no_argument, NULL, OPT_KEEP_GOING},
    {"no-autorotate", no_argument, NULL, OPT_NO_AUTOROTATE},
    {"refine", required_argument, NULL, OPT_REFINE},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s -m MODEL [OPTION]... [PHOTO]...\n"
           "  or:  %s --train -b BOXES -o MODEL [OPTION]... [PHOTO]...\n",
           hwi_program_name, hwi_program_name);
    fputs("Predict the fluke's box of each photo, or train the network that does.\n"
          "\n"
          "The photos are the PHOTO operands, or the names in --images, or (with\n"
          "--train) every photo of --boxes; names are paths under --dir and may\n"
          "contain '/'.  The network sees the whole photo, gray, squished to its\n"
          "input size (64 x 64 for detect-small) without keeping its shape.\n"
          "\n"
          "  -m, --model=MODEL     predict with MODEL.cfg and MODEL.weights\n"
          "  -d, --dir=DIR         folder of the photos (default: .)\n"
          "  -i, --images=FILE     the photos, one name per line, or a CSV whose\n"
          "                        first column is Image (train.csv); - is stdin\n"
          "  -o, --output=FILE     predicting: the box file (default: stdout);\n"
          "                        training: the model's prefix (MODEL.cfg,\n"
          "                        MODEL.weights)\n"
          "      --refine=N        after the first box, N more passes, each on the\n"
          "                        view of the previous box grown by 25% each way,\n"
          "                        at twice the scale (default 3; a model trained\n"
          "                        before refinement existed predicts with 0)\n"
          "      --eval=TRUTH      compare the predicted boxes with those of the box\n"
          "                        file TRUTH: IoU figures on stderr\n"
          "      --scores=FILE     also write a TSV '# image score': the IoU of the\n"
          "                        last two passes' boxes, or with --refine=0 of\n"
          "                        the box and the box predicted on a 10% zoomed\n"
          "                        view (0 to 1: low means doubtful)\n"
          "      --train           train a detector on the boxes of --boxes; half\n"
          "                        of its samples are refinement views of the true\n"
          "                        box, moved by up to 15% of its side each way\n"
          "  -b, --boxes=FILE      training boxes, bounding_boxes.csv (header\n"
          "                        Image,x0,y0,x1,y1)\n"
          "      --cfg=CFG         network to train (default " DEFAULT_CFG "; a name\n"
          "                        in the data folder or a path)\n"
          "      --epochs=N        training epochs (default 150)\n"
          "      --lr=R            peak one-cycle learning rate (default 0.01)\n"
          "      --batch=N         images per step (default: the cfg's batch)\n"
          "      --no-augment      train without the random zoom, shift, flip and\n"
          "                        brightness/contrast changes\n"
          "  -s, --seed=N          random seed of training (default 1)\n"
          "  -j, --threads=N       threads for loading photos and for the network\n"
          "                        (default 0: all CPUs)\n"
          "      --keep-going      after a bad photo, go on with the others and\n"
          "                        exit 1 at the end\n"
          "      --no-autorotate   ignore the EXIF orientation: boxes refer to the\n"
          "                        stored pixels\n"
          "  -q, --quiet           no progress and no summary line\n"
          "      --help            display this help and exit\n"
          "      --version         output version information and exit\n"
          "\n"
          "Output: bounding_boxes.csv, header Image,x0,y0,x1,y1, one row per photo in\n"
          "input order, pixels of the photo, x1 and y1 inclusive (hwi-formats(5));\n"
          "it appears whole or not at all.\n"
          "\n"
          "Exit status: 0 on success, 1 on a bad photo, list or model (or any error\n"
          "with --keep-going), 2 on a usage error.\n"
          "See hwi-detect(1).\n",
          stdout);
    exit(status);
}

/* ---------------------------------------------------------------------- */
/* The photos. */

struct photo {
    char *name;       /* path under --dir, the box file's Image */
    const char *from; /* list naming it, or NULL */
    long line;
    char *err;    /* why it cannot be used, or NULL */
    int has_box;  /* a box from --boxes or --eval */
    float box[4]; /* that box, as fractions (once loaded) */
    struct hwi_rect rect;
    uint8_t *pix; /* S x S gray */
    long w, h;    /* the photo's size (upright) */
};

struct photos {
    struct photo *p;
    size_t n, cap;
    struct hwi_map index;
};

static void add_photo(struct photos *ps, const char *name, const char *from, long line)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 256;
        ps->p = realloc(ps->p, ps->cap * sizeof *ps->p);
        if (!ps->p)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
    }
    struct photo *p = &ps->p[ps->n];
    memset(p, 0, sizeof *p);
    p->name = hwi_xstrdup(name);
    p->from = from;
    p->line = line;
    size_t first;
    if (!*name)
        p->err = hwi_xstrdup("empty image name");
    else if (strstr(name, "..") &&
             (!strcmp(name, "..") || strstr(name, "../") == name || strstr(name, "/../") ||
              !strcmp(name + strlen(name) - 3, "/..")))
        p->err = hwi_xstrdup("image name leads out of --dir ('..')");
    else if (name[0] == '/')
        p->err = hwi_xstrdup("image name is an absolute path: names are paths under --dir");
    else {
        int put = hwi_map_put(&ps->index, name, ps->n, &first);
        if (put < 0)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        if (put == 0)
            p->err = hwi_xstrdup("listed twice");
    }
    ps->n++;
}

/* Add the photos named in PATH (one per line, or a CSV whose first column
 * is Image) to PS. */
static void load_list(struct photos *ps, const char *path, const char *name)
{
    char err[HWI_ERRLEN];
    FILE *fp = hwi_fopen_in(path, err);
    if (!fp)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_csv c;
    hwi_csv_open(&c, fp, name, NULL);
    int rc;
    while ((rc = hwi_csv_next(&c)) == 1) {
        if (c.line == 1 && !strcasecmp(c.field[0], "Image"))
            continue; /* a header */
        add_photo(ps, c.field[0], name, c.line);
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", c.err);
    hwi_csv_close(&c);
    hwi_fclose_in(fp);
}

/* Attach the boxes of B to the photos of PS that have one. */
static void attach_boxes(struct photos *ps, const struct hwi_boxes *b)
{
    struct hwi_map m = {0};
    for (size_t i = 0; i < b->n; i++) {
        size_t first;
        if (hwi_map_put(&m, b->box[i].image, i, &first) < 0)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
    }
    for (size_t i = 0; i < ps->n; i++) {
        size_t *k = hwi_map_get(&m, ps->p[i].name);
        if (!k)
            continue;
        const struct hwi_box *x = &b->box[*k];
        ps->p[i].has_box = 1;
        ps->p[i].rect = (struct hwi_rect){x->x0, x->y0, x->x1, x->y1};
    }
    hwi_map_free(&m);
}

/* Report photo P's error WHY: "LIST:LINE: NAME: WHY" or "NAME: WHY". */
static void report(const struct photo *p, const char *why)
{
    if (p->from)
        hwi_warn("%s:%ld: %s: %s", p->from, p->line, p->name, why);
    else
        hwi_warn("%s: %s", p->name, why);
}

/* What every photo of a load_photos call shares. */
struct loader {
    struct photo *p;
    const char *dir;
    struct hwi_crop_params params;
};

/* An hwi_pool_ordered item: load photo I (one not already refused). */
static void load_one(void *arg, size_t i)
{
    const struct loader *l = arg;
    struct photo *p = &l->p[i];
    if (p->err)
        return;
    char err[HWI_ERRLEN];
    size_t n = (size_t)l->params.size * l->params.size;
    char *path = hwi_xasprintf("%s/%s", l->dir, p->name);
    p->pix = hwi_xmalloc(n);
    if (hwi_image_thumb(path, &l->params, p->pix, &p->w, &p->h, err)) {
        p->err = hwi_xstrdup(err);
        free(p->pix);
        p->pix = NULL;
    } else if (p->has_box && (p->rect.x0 >= p->w || p->rect.y0 >= p->h)) {
        char msg[HWI_ERRLEN];
        snprintf(msg, sizeof msg, "box (%ld,%ld)-(%ld,%ld) lies outside the %ldx%ld photo",
                 p->rect.x0, p->rect.y0, p->rect.x1, p->rect.y1, p->w, p->h);
        p->err = hwi_xstrdup(msg);
    }
    free(path);
}

/* Load every photo of PS at SIZE x SIZE on THREADS threads of the pool
 * (lib/pool.c), in input order; report the bad ones.  Returns the number
 * of bad photos. */
static size_t load_photos(struct photos *ps, const char *dir, int size, int autorotate,
                          int threads, int quiet)
{
    struct loader l = {.p = ps->p,
                       .dir = dir,
                       .params = {.size = size,
                                  .margin = 0,
                                  .kernel = HWI_KERNEL_LINEAR,
                                  .autorotate = autorotate,
                                  .shrink_on_load = 1}};
    /* every photo stays in memory anyway: the window bounds nothing */
    struct hwi_pool_ordered *workers =
        hwi_pool_ordered_start(ps->n, threads, ps->n ? ps->n : 1, load_one, &l);
    if (!workers)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    struct hwi_progress pr;
    hwi_progress_start(&pr, "photos loaded", ps->n, quiet);
    for (size_t i = 0; i < ps->n; i++) {
        hwi_pool_ordered_wait(workers, i);
        hwi_pool_ordered_release(workers, i);
        hwi_progress_show(&pr, i + 1, NULL);
    }
    hwi_pool_ordered_finish(workers);
    hwi_progress_end(&pr);
    size_t bad = 0;
    for (size_t i = 0; i < ps->n; i++) {
        struct photo *p = &ps->p[i];
        if (p->err) {
            report(p, p->err);
            bad++;
        } else if (p->has_box) {
            hwi_detect_to_frac(&p->rect, p->w, p->h, p->box);
        }
    }
    return bad;
}

/* ---------------------------------------------------------------------- */
/* Training. */

static void train(struct hwi_nn *nn, const struct hwi_nn_info *in, struct photo **set,
                  size_t n, long epochs, double lr, unsigned long seed, int augment,
                  int progress, int quiet)
{
    char err[HWI_ERRLEN];
    int S = in->w;
    size_t dim = (size_t)S * S, nb = (size_t)in->batch;
    float *xb = hwi_xmalloc(nb * dim * sizeof *xb), *tb = hwi_xmalloc(nb * 4 * sizeof *tb);
    float *work = hwi_xmalloc(dim * sizeof *work);
    size_t *perm = hwi_xmalloc(n * sizeof *perm);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    struct hwi_rng rng;
    hwi_rng_seed(&rng, seed);
    long steps = (long)((n + nb - 1) / nb);
    double t0 = hwi_progress_now(), first = 0, last = 0;
    for (long ep = 0; ep < epochs; ep++) {
        hwi_rng_shuffle(&rng, perm, n);
        double sum = 0;
        size_t pos = 0;
        for (long st = 0; st < steps; st++) {
            /* every other sample a refinement view */
            for (size_t j = 0; j < nb; j++) {
                const struct photo *p = set[perm[pos++ % n]];
                hwi_detect_sample(&rng, p->pix, S, p->box, (int)(j % 2), augment, xb + j * dim,
                                  tb + 4 * j, work);
            }
            float rate = (float)hwi_train_onecycle(lr, ep * steps + st, epochs * steps);
            float loss;
            if (hwi_nn_train_boxes(nn, xb, tb, rate, &loss, err))
                hwi_die(HWI_EXIT_FAIL, "epoch %ld, step %ld: %s", ep + 1, st + 1, err);
            sum += loss;
            if (progress)
                fprintf(stderr, "\repoch %ld/%ld step %ld/%ld loss %.4f lr %.3g  ", ep + 1,
                        epochs, st + 1, steps, sum / (st + 1), rate);
        }
        last = sum / steps;
        if (ep == 0)
            first = last;
    }
    if (progress)
        fputc('\n', stderr);
    if (!quiet)
        hwi_warn("%ld epochs on %zu photos, %.1f photos/s; loss %.4f after the first "
                 "epoch, %.4f after the last",
                 epochs, n, (double)epochs * steps * nb / (hwi_progress_now() - t0 + 1e-9),
                 first, last);
    free(xb);
    free(tb);
    free(work);
    free(perm);
}

static char *cat(const char *a, const char *b)
{
    char *s = hwi_xmalloc(strlen(a) + strlen(b) + 1);
    strcpy(s, a);
    strcat(s, b);
    return s;
}

/* Write PREFIX.cfg (HWI_DETECT_MARK, then CFG) and PREFIX.weights, both
 * renamed into place at the end. */
static void save_model(struct hwi_nn *nn, const char *prefix, const char *cfg)
{
    char err[HWI_ERRLEN];
    const char *suffix[2] = {".cfg", ".weights"};
    struct hwi_outfile out[2];
    for (int i = 0; i < 2; i++) {
        char *path = cat(prefix, suffix[i]);
        if (hwi_outfile_open(&out[i], path, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        free(path);
    }
    fputs(HWI_DETECT_MARK ": trained on refinement views (hwi-detect --refine)\n", out[0].fp);
    if (hwi_copy_file(cfg, out[0].fp, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_nn_save(nn, out[1].tmp, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    for (int i = 0; i < 2; i++)
        if (hwi_outfile_commit(&out[i], err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
}

/* ---------------------------------------------------------------------- */
/* Prediction. */

/* The zoom of the agreement score: the view of the middle 90%. */
#define ZOOM 0.9

/* Predict the boxes (fractions) of the N photos SET into OUT (n x 4); the
 * photos' planes are P x P (P = 2 S for a model trained on views, where
 * REFINE more passes each see the view of the previous box, else S).
 * With AGREE, also each box's score: the IoU of the last two passes' boxes
 * (REFINE > 0) or of the box with the one predicted on the zoomed view. */
/* The IoU of boxes A and B (fractions) in photo PH's pixels. */
static float pixel_iou(const float a[4], const float b[4], const struct photo *ph)
{
    struct hwi_rect ra, rb;
    hwi_detect_from_frac(a, ph->w, ph->h, &ra);
    hwi_detect_from_frac(b, ph->w, ph->h, &rb);
    return (float)hwi_detect_iou(&ra, &rb);
}

static void predict(struct hwi_nn *nn, const struct hwi_nn_info *in, struct photo **set,
                    size_t n, int p, int refine, float *out, float *agree, int progress)
{
    char err[HWI_ERRLEN];
    static const float whole[4] = {0, 0, 1, 1};
    const float zoom[4] = {(1 - ZOOM) / 2, (1 - ZOOM) / 2, (1 + ZOOM) / 2, (1 + ZOOM) / 2};
    int S = in->w;
    size_t dim = (size_t)S * S, nb = (size_t)in->batch;
    float *xb = hwi_xmalloc(nb * dim * sizeof *xb), *zb = hwi_xmalloc(nb * 4 * sizeof *zb);
    float *view = hwi_xmalloc(nb * 4 * sizeof *view);
    for (size_t i = 0; i < n; i += nb) {
        int k = (int)(n - i < nb ? n - i : nb);
        float *box = out + 4 * i;
        for (int j = 0; j < k; j++)
            hwi_detect_view_sample(set[i + j]->pix, p, whole, xb + j * dim, S);
        if (hwi_nn_predict(nn, xb, k, box, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        for (int r = 0; r < refine; r++) {
            for (int j = 0; j < k; j++) {
                hwi_detect_view_of(box + 4 * j, HWI_DETECT_MARGIN, view + 4 * j);
                hwi_detect_view_sample(set[i + j]->pix, p, view + 4 * j, xb + j * dim, S);
            }
            if (hwi_nn_predict(nn, xb, k, zb, err))
                hwi_die(HWI_EXIT_FAIL, "%s", err);
            for (int j = 0; j < k; j++) {
                float prev[4];
                memcpy(prev, box + 4 * j, sizeof prev);
                hwi_detect_from_view(view + 4 * j, zb + 4 * j, box + 4 * j);
                if (agree && r == refine - 1)
                    agree[i + j] = pixel_iou(prev, box + 4 * j, set[i + j]);
            }
        }
        if (agree && refine == 0) {
            for (int j = 0; j < k; j++)
                hwi_detect_view_sample(set[i + j]->pix, p, zoom, xb + j * dim, S);
            if (hwi_nn_predict(nn, xb, k, zb, err))
                hwi_die(HWI_EXIT_FAIL, "%s", err);
            for (int j = 0; j < k; j++) {
                float back[4]; /* the zoomed view's box in the photo */
                hwi_detect_from_view(zoom, zb + 4 * j, back);
                agree[i + j] = pixel_iou(box + 4 * j, back, set[i + j]);
            }
        }
        if (progress)
            fprintf(stderr, "\r%s: %zu/%zu", hwi_program_name, i + k, n);
    }
    if (progress)
        fputc('\n', stderr);
    free(xb);
    free(zb);
    free(view);
}

/* ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *model = NULL, *dir = ".", *images = NULL, *boxes_path = NULL;
    const char *output = NULL, *cfg_name = DEFAULT_CFG, *eval_path = NULL;
    const char *scores_path = NULL;
    int training = 0, quiet = 0, keep_going = 0, augment = 1, autorotate = 1;
    long refine = 3;
    int refine_given = 0;
    long threads = 0, epochs = 150, batch = 0;
    unsigned long seed = 1;
    double lr = 0.01;
    int c;
    while ((c = getopt_long(argc, argv, "m:d:i:b:o:j:s:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': dir = optarg; break;
        case 'i': images = optarg; break;
        case 'b': boxes_path = optarg; break;
        case 'o': output = optarg; break;
        case 'j': threads = hwi_opt_long("threads", optarg, 0, 1024); break;
        case 's': seed = (unsigned long)hwi_opt_long("seed", optarg, 0, UINT_MAX); break;
        case 'q': quiet = 1; break;
        case OPT_TRAIN: training = 1; break;
        case OPT_CFG: cfg_name = optarg; break;
        case OPT_EPOCHS: epochs = hwi_opt_long("epochs", optarg, 1, 1000000); break;
        case OPT_LR: lr = hwi_opt_double("lr", optarg, 1e-12, 100); break;
        case OPT_BATCH: batch = hwi_opt_long("batch", optarg, 1, 1 << 16); break;
        case OPT_NO_AUGMENT: augment = 0; break;
        case OPT_EVAL: eval_path = optarg; break;
        case OPT_SCORES: scores_path = optarg; break;
        case OPT_KEEP_GOING: keep_going = 1; break;
        case OPT_NO_AUTOROTATE: autorotate = 0; break;
        case OPT_REFINE:
            refine = hwi_opt_long("refine", optarg, 0, 100);
            refine_given = 1;
            break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (training) {
        if (model || eval_path || scores_path || refine_given) {
            hwi_warn("--train goes with neither --model, --eval, --scores nor --refine");
            usage(HWI_EXIT_USAGE);
        }
        if (!boxes_path) {
            hwi_warn("--train needs --boxes");
            usage(HWI_EXIT_USAGE);
        }
        if (!output || !*output || !strcmp(output, "-")) {
            hwi_warn("--train needs --output (the model's file name prefix)");
            usage(HWI_EXIT_USAGE);
        }
    } else {
        if (!model) {
            hwi_warn("missing --model (or --train)");
            usage(HWI_EXIT_USAGE);
        }
        if (boxes_path) {
            hwi_warn("--boxes is for --train; --eval compares with a box file");
            usage(HWI_EXIT_USAGE);
        }
        if (!images && optind == argc) {
            hwi_warn("no photos: give --images or PHOTO operands");
            usage(HWI_EXIT_USAGE);
        }
    }
    if (images && optind < argc) {
        hwi_warn("--images and PHOTO operands cannot be used together");
        usage(HWI_EXIT_USAGE);
    }
    if (threads == 0)
        threads = hwi_ncpu();
    int progress = !quiet && isatty(STDERR_FILENO);

    /* Darknet prints on stdout: keep the real standard output for the data
     * and point fd 1 at stderr. */
    fflush(stdout);
    int datafd = dup(STDOUT_FILENO);
    if (datafd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        hwi_die(HWI_EXIT_FAIL, "cannot redirect standard output");

    char err[HWI_ERRLEN];
    struct hwi_boxes boxes = {0};
    const char *truth = training ? boxes_path : eval_path;
    if (truth && hwi_boxes_load(&boxes, truth, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    struct photos ps = {0};
    if (images)
        load_list(&ps, images, hwi_file_name(images));
    else if (optind < argc)
        for (int i = optind; i < argc; i++)
            add_photo(&ps, argv[i], NULL, 0);
    else
        for (size_t i = 0; i < boxes.n; i++)
            add_photo(&ps, boxes.box[i].image, truth, (long)i + 2);
    attach_boxes(&ps, &boxes);
    if (training)
        for (size_t i = 0; i < ps.n; i++)
            if (!ps.p[i].err && !ps.p[i].has_box) {
                char msg[HWI_ERRLEN];
                snprintf(msg, sizeof msg, "no box in %s", boxes_path);
                ps.p[i].err = hwi_xstrdup(msg);
            }

    /* the network */
    hwi_nn_set_threads((int)threads);
    char *cfg = training ? hwi_train_datafile(cfg_name, ".cfg") : cat(model, ".cfg");
    char *weights = training ? NULL : cat(model, ".weights");
    if (!cfg)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    srand((unsigned)seed);
    struct hwi_nn *nn =
        hwi_nn_load(cfg, weights, training ? (int)batch : 32, 0, (unsigned)seed, err);
    if (!nn)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_nn_info in;
    hwi_nn_get_info(nn, &in);
    if (!in.boxes || in.c != 1 || in.w != in.h)
        hwi_die(HWI_EXIT_FAIL,
                "%s: not a box detector (it needs a square gray input and a last "
                "[box] layer)",
                cfg);

    /* a model trained on views sees planes at twice its input size */
    int views = 1;
    if (!training && (views = hwi_detect_cfg_views(cfg, err)) < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (!views) {
        if (refine_given && refine > 0 && !quiet)
            hwi_warn("%s: trained without refinement views: predicting with --refine=0", cfg);
        refine = 0;
    }
    int plane = views ? 2 * in.w : in.w;

    double t0 = hwi_progress_now();
    if (hwi_image_init(argv[0], threads > 1 ? 1 : 0, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    size_t bad = load_photos(&ps, dir, plane, autorotate, (int)threads, quiet);
    if (bad && !keep_going)
        hwi_die(HWI_EXIT_FAIL,
                "%zu of %zu photos failed (--keep-going goes on without "
                "them)",
                bad, ps.n);
    double t_load = hwi_progress_now() - t0;
    struct photo **set = hwi_xmalloc(ps.n * sizeof *set);
    size_t n = 0;
    for (size_t i = 0; i < ps.n; i++)
        if (!ps.p[i].err)
            set[n++] = &ps.p[i];
    if (n == 0)
        hwi_die(HWI_EXIT_FAIL, "no photo to %s", training ? "train on" : "detect");

    if (training) {
        train(nn, &in, set, n, epochs, lr, seed, augment, progress, quiet);
        save_model(nn, output, cfg);
    } else {
        float *pred = hwi_xmalloc(n * 4 * sizeof *pred);
        float *agree = scores_path ? hwi_xmalloc(n * sizeof *agree) : NULL;
        double t1 = hwi_progress_now();
        predict(nn, &in, set, n, plane, (int)refine, pred, agree, progress);
        double t_net = hwi_progress_now() - t1;
        struct hwi_boxes out = {.n = n, .box = hwi_xmalloc(n * sizeof *out.box)};
        struct hwi_detect_eval ev = {0}, whole = {0};
        for (size_t i = 0; i < n; i++) {
            struct hwi_rect r;
            hwi_detect_from_frac(pred + 4 * i, set[i]->w, set[i]->h, &r);
            out.box[i] = (struct hwi_box){
                .image = set[i]->name, .x0 = r.x0, .y0 = r.y0, .x1 = r.x1, .y1 = r.y1};
            if (eval_path && set[i]->has_box) {
                struct hwi_rect all = {0, 0, set[i]->w - 1, set[i]->h - 1};
                hwi_detect_eval_add(&ev, hwi_detect_iou(&r, &set[i]->rect));
                hwi_detect_eval_add(&whole, hwi_detect_iou(&all, &set[i]->rect));
            }
        }
        struct hwi_outfile of, sf;
        if (output && strcmp(output, "-")) {
            if (hwi_outfile_open(&of, output, err))
                hwi_die(HWI_EXIT_FAIL, "%s", err);
        } else {
            memset(&of, 0, sizeof of);
            if (!(of.fp = fdopen(datafd, "w")))
                hwi_die(HWI_EXIT_FAIL, "standard output: cannot open");
        }
        if (scores_path && hwi_outfile_open(&sf, scores_path, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        if (hwi_boxes_write(&out, of.fp))
            hwi_die(HWI_EXIT_FAIL, "%s: write error", output ? output : "standard output");
        if (scores_path) {
            fputs("# image\tscore\n", sf.fp);
            for (size_t i = 0; i < n; i++) {
                if (strpbrk(set[i]->name, "\t\n"))
                    hwi_die(HWI_EXIT_FAIL, "%s: a TAB or line break in an image name",
                            set[i]->name);
                fprintf(sf.fp, "%s\t%.4f\n", set[i]->name, agree[i]);
            }
            if (hwi_outfile_commit(&sf, err))
                hwi_die(HWI_EXIT_FAIL, "%s", err);
        }
        if (of.path) {
            if (hwi_outfile_commit(&of, err))
                hwi_die(HWI_EXIT_FAIL, "%s", err);
        } else if (fclose(of.fp) != 0) {
            hwi_die(HWI_EXIT_FAIL, "standard output: write error");
        }
        if (!quiet)
            hwi_warn("%zu photos: %zu boxes, %zu failed; %.1f photos/s (loading %.1f s, "
                     "network %.1f s)",
                     ps.n, n, bad, n / (t_load + t_net + 1e-9), t_load, t_net);
        if (eval_path) {
            if (ev.n == 0)
                hwi_die(HWI_EXIT_FAIL, "%s: no box for any of the photos", eval_path);
            /* the figures, whatever --quiet says: they are what was asked */
            hwi_warn("IoU with %s over %zu photos: mean %.4f; >= 0.5: %.4f, >= 0.75: "
                     "%.4f, >= 0.9: %.4f (whole photo: mean %.4f, >= 0.5: %.4f)",
                     eval_path, ev.n, ev.sum / ev.n, (double)ev.at50 / ev.n,
                     (double)ev.at75 / ev.n, (double)ev.at90 / ev.n, whole.sum / whole.n,
                     (double)whole.at50 / whole.n);
        }
        free(out.box);
        free(pred);
        free(agree);
    }

    for (size_t i = 0; i < ps.n; i++) {
        free(ps.p[i].name);
        free(ps.p[i].err);
        free(ps.p[i].pix);
    }
    free(ps.p);
    hwi_map_free(&ps.index);
    hwi_boxes_free(&boxes);
    free(set);
    free(cfg);
    free(weights);
    hwi_nn_free(nn);
    hwi_image_shutdown();
    return bad ? HWI_EXIT_FAIL : HWI_EXIT_OK;
}
