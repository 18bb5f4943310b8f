/* nn.c: hwi's networks on Darknet: the API of nn.h.  The code is in five
 * files, the only ones that include darknet.h (through nn_int.h, which
 * declares what they share):
 *   nn.c         load, forward, train steps, freezing, the training log
 *   nn_cfg.c     the .cfg parser and the table of what each section accepts
 *   nn_build.c   the network builder: one make function per section type,
 *                dispatched by a table; Darknet's layers through its parse_*
 *   nn_layers.c  hwi's layers: make, forward, backward and update of each,
 *                and the wrappers of Darknet's conv and connected layers
 *   nn_weights.c the weights file and the training state of checkpoints
 *   nn_gemm.c    Darknet's gemm and im2col replaced on OpenBLAS and the pool
 *
 * Parsing (docs/darknet.md §4, "route A"): hwi reads the .cfg itself, keeping
 * line numbers, checks every section and key against the table below
 * (unknown section or key, bad or missing value: an error naming FILE:LINE),
 * then builds each layer: Darknet's own sections through Darknet's exported
 * parse_* functions, hwi's ([gem], [ring], [center], [l2norm],
 * [batchnorm], [softmax] heads) by hwi.  Darknet's sections are checked
 * before Darknet sees them, so none of its error()/assert paths (abort) or
 * file_error (exit 0) is reachable from here.  Darknet prints while it
 * builds layers; that output goes to /dev/null (HWI_NN_VERBOSE=1 in the
 * environment sends it to stderr), and never to stdout.
 *
 * Darknet's bugs that a classifier meets (docs/darknet.md §5) and what hwi
 * does about each (tests/check_nn.c has a test for each):
 *   P1  1x1 conv backward overwrites the input delta: the wrapper saves and
 *       adds it back (nn_layers.c).  1x1 convs with stride > 1, which
 *       Darknet computes wrongly even forward, are refused.
 *   P2  standalone [batchnorm] crashes: hwi builds its own.
 *   P3, P4  BN inside conv/connected: NaN for one value per statistic,
 *       gradient inconsistent with the forward pass: hwi's BN replaces it.
 *   P5  adam=1 ignored: hwi's update runs Adam.
 *   P6  softmax delta lacks 1/T: hwi's softmax head.
 *   P8  stopbackward does not freeze: hwi_nn_freeze_backbone also removes
 *       the backbone's updates and fixes its BN statistics.
 *   P10 [l2norm] backward is the identity: hwi's [l2norm].
 *   P13 set_batch_network keeps the buffers: never called; a forward of
 *       fewer images than the batch pads the batch.
 *   P14 libdarknet sets flush-to-zero process-wide: hwi clears it again
 *       (at start-up and in hwi_nn_load).
 *   P15 weights are initialised from rand(): hwi_nn_load calls srand(seed)
 *       first; dropout draws from the same rand(), so training is
 *       reproducible with one thread.
 *   P23 Darknet's ELU is (x >= 0) x + (x < 0) (exp(x) - 1),
 *       NaN for x > 709 (exp overflows): the wrappers compute ELU themselves.
 *   P17 image loading: hwi never uses Darknet's image code (pixels come in
 *       as float arrays).
 *   P19 error handling: Darknet's file reading is never used (hwi reads
 *       the cfg and writes and reads the weights file itself, checking
 *       sizes, layout and a checksum); nothing here exits.
 *
 * The weights file is Darknet's format (readable by load_weights) followed
 * by a trailer; man/hwi-nn.5 gives it byte by byte. */
#include <config.h>

#include "io.h"
#include "nn_gemm.h"
#include "nn.h"
#include "nn_int.h"
#include "opt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

void set_batch_network(network *net, int b);

/* ------------------------------------------------------------------------
 * Flush-to-zero (P14). */
static void clear_ftz(void)
{
#ifdef HAVE_MXCSR
    if (hwi_nn_fixes & HWI_FIX_P14)
        _mm_setcsr(_mm_getcsr() & ~0x8040u); /* FTZ (bit 15), DAZ (bit 6) */
#endif
}

__attribute__((constructor)) static void hwi_nn_init(void)
{
    clear_ftz();
}

/* An ordinary call, so that nn_gemm.o, which replaces Darknet's hot loops
 * (gemm, im2col, convolutions, ...; see nn_gemm.h), is always linked. */
void hwi_nn_set_threads(int n)
{
    hwi_nn_gemm_threads(n);
}

/* ------------------------------------------------------------------------
 * The API. */
struct hwi_nn *hwi_nn_load(const char *cfg, const char *weights, int batch, int classes,
                           unsigned seed, char *err)
{
    clear_ftz();
    unsigned char *wbuf = NULL;
    long wsize = 0;
    if (classes < 0)
        return hwi_seterr(err, "class count %d: must be >= 0", classes), NULL;
    if (weights) {
        size_t dk;
        int fclasses;
        if ((wsize = hwi_nn_read_file(weights, &wbuf, err)) < 0)
            return NULL;
        if (hwi_nn_check_frame(weights, wbuf, wsize, &dk, &fclasses, err)) {
            free(wbuf);
            return NULL;
        }
        /* every layer sized by the class count stores at least that many
         * floats: refuse a count the file cannot hold before building, or a
         * corrupt count would allocate gigabytes first */
        if (fclasses < 0 || (uint64_t)fclasses * 4 > (uint64_t)wsize) {
            free(wbuf);
            return hwi_seterr(
                       err, "%s: %u classes cannot fit in its %ld bytes: the file is corrupt",
                       weights, (unsigned)fclasses, wsize),
                   NULL;
        }
        if (classes > 0 && fclasses != classes) {
            free(wbuf);
            return hwi_seterr(err, "%s: made for %d classes, not %d", weights, fclasses,
                              classes),
                   NULL;
        }
        classes = fclasses;
    }
    struct cfg cf;
    if (hwi_nn_cfg_read(&cf, cfg, err)) {
        free(wbuf);
        return NULL;
    }
    /* a weights file without a class count, for a cfg that sizes a layer
     * by it: the weights file is at fault, not the cfg */
    for (int i = 0; weights && classes <= 0 && i < cf.n; i++) {
        int line;
        kvp *o = hwi_nn_cfg_find(&cf.secs[i], "output", &line);
        if (o && strcmp(o->val, "classes") == 0) {
            hwi_seterr(err, "%s: holds no class count, but %s:%d asks for output=classes",
                       weights, cfg, line);
            hwi_nn_cfg_free(&cf);
            free(wbuf);
            return NULL;
        }
    }
    if (hwi_nn_fixes & HWI_FIX_P15)
        srand(seed);
    struct hwi_nn *nn = hwi_nn_build(&cf, batch, classes, err);
    hwi_nn_cfg_free(&cf);
    if (nn && weights && hwi_nn_load_weights(nn, weights, wbuf, wsize, err)) {
        hwi_nn_free(nn);
        nn = NULL;
    }
    free(wbuf);
    clear_ftz();
    return nn;
}

void hwi_nn_get_info(const struct hwi_nn *nn, struct hwi_nn_info *info)
{
    const network *net = nn->net;
    info->w = net->w;
    info->h = net->h;
    info->c = net->c;
    info->batch = net->batch;
    info->feature_dim = nn->embed >= 0 ? net->layers[nn->embed].outputs : 0;
    info->classes = nn->heads ? nn->classes : 0;
    info->heads = nn->heads;
    info->outputs = net->outputs;
    info->boxes = nn->boxes;
    info->equalize = nn->equalize;
}

/* Darknet's forward_network (src/network.c) less what only training needs:
 * it clears every layer's delta before the layer runs, a pass over all
 * activations that no backward pass reads here, and sums the cost. */
static void forward_inference(network *netp)
{
    network net = *netp;
    for (int i = 0; i < net.n; i++) {
        layer l = net.layers[i];
        net.index = i;
        l.forward(l, net);
        net.input = l.output;
        if (l.truth)
            net.truth = l.output;
    }
}

/* The 8-bit level of a value in [0, 1] (clamped; NaN is 0). */
static int level(float v)
{
    return v > 0 ? v < 1 ? (int)(v * 255 + 0.5f) : 255 : 0;
}

void hwi_nn_equalize(float *x, size_t n)
{
    size_t cum[256] = {0};
    for (size_t i = 0; i < n; i++)
        cum[level(x[i])]++;
    int m = 0;
    while (m < 255 && !cum[m])
        m++;
    for (int q = 1; q < 256; q++)
        cum[q] += cum[q - 1];
    size_t c0 = cum[m];
    if (c0 == n) /* one level */
        return;
    float lut[256];
    for (int q = 0; q < 256; q++)
        lut[q] = q < m ? 0 : (float)floor(255.0 * (cum[q] - c0) / (n - c0) + 0.5) / 255;
    for (size_t i = 0; i < n; i++)
        x[i] = lut[level(x[i])];
}

/* N images X into the network's input, each plane equalised when the cfg
 * asks for it. */
static void set_input(struct hwi_nn *nn, const float *x, int n)
{
    network *net = nn->net;
    memcpy(net->input, x, sizeof(float) * net->inputs * n);
    if (nn->equalize)
        for (long p = 0; p < (long)n * net->c; p++)
            hwi_nn_equalize(net->input + p * (size_t)net->w * net->h, (size_t)net->w * net->h);
}

int hwi_nn_forward(struct hwi_nn *nn, const float *x, int n, float *features, float *logits,
                   char *err)
{
    network *net = nn->net;
    if (n < 1 || n > net->batch)
        return hwi_seterr(err, "%d images: a forward pass takes 1 to %d", n, net->batch);
    size_t in = (size_t)net->inputs;
    set_input(nn, x, n);
    memset(net->input + in * n, 0, sizeof(float) * in * (net->batch - n));
    if (!(hwi_nn_fixes & HWI_FIX_P13)) /* what network_predict_image does */
        set_batch_network(net, n);
    float *truth = net->truth;
    net->truth = NULL;
    net->train = 0;
    forward_inference(net);
    net->truth = truth;
    if (features && nn->embed >= 0) {
        const layer *l = &net->layers[nn->embed];
        memcpy(features, l->output, sizeof(float) * l->outputs * n);
    }
    if (logits && nn->heads) {
        int K = nn->classes;
        memset(logits, 0, sizeof(float) * K * n);
        for (int i = 1; i < net->n; i++)
            if (nn->aux[i].kind == HWI_SOFTMAX)
                for (size_t k = 0; k < (size_t)K * n; k++)
                    logits[k] += net->layers[i - 1].output[k];
    }
    return 0;
}

/* One forward/backward/update of the batch in net->input against
 * net->truth at rate LR. */
static int train_run(struct hwi_nn *nn, float lr, float *loss, char *err)
{
    network *net = nn->net;
    int B = net->batch;
    net->learning_rate = lr;
    net->policy = CONSTANT;
    net->burn_in = 0;
    *net->seen += B;
    net->train = 1;
    forward_network(net);
    backward_network(net);
    update_network(net);
    net->train = 0;
    double sum = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].cost)
            sum += net->layers[i].cost[0];
    if (loss)
        *loss = (float)(sum / B);
    if (!isfinite(sum))
        return hwi_seterr(err, "the loss is not finite: lower the learning rate");
    return 0;
}

static int check_lr(float lr, char *err)
{
    if (!(lr >= 0) || !isfinite(lr))
        return hwi_seterr(err, "learning rate %g: must be a finite number >= 0", lr);
    return 0;
}

int hwi_nn_train_step(struct hwi_nn *nn, const float *x, const int *labels, float lr,
                      float *loss, char *err)
{
    network *net = nn->net;
    int B = net->batch, K = nn->classes;
    if (nn->heads && K <= 0)
        return hwi_seterr(err, "the network has no class count");
    if (nn->boxes)
        return hwi_seterr(err, "a [box] network trains on boxes, not labels");
    if (check_lr(lr, err))
        return -1;
    set_input(nn, x, B);
    memset(net->truth, 0, sizeof(float) * net->truths * B);
    for (int b = 0; b < B; b++) {
        if (K > 0 && (labels[b] < 0 || labels[b] >= K))
            return hwi_seterr(err, "image %d: label %d is not in 0..%d", b, labels[b], K - 1);
        if (K > 0)
            net->truth[(size_t)b * net->truths + labels[b]] = 1;
    }
    return train_run(nn, lr, loss, err);
}

int hwi_nn_train_boxes(struct hwi_nn *nn, const float *x, const float *boxes, float lr,
                       float *loss, char *err)
{
    network *net = nn->net;
    if (!nn->boxes)
        return hwi_seterr(err, "the network has no [box] layer");
    if (check_lr(lr, err))
        return -1;
    set_input(nn, x, net->batch);
    memcpy(net->truth, boxes, sizeof(float) * 4 * net->batch);
    return train_run(nn, lr, loss, err);
}

int hwi_nn_predict(struct hwi_nn *nn, const float *x, int n, float *out, char *err)
{
    if (hwi_nn_forward(nn, x, n, NULL, NULL, err))
        return -1;
    memcpy(out, nn->net->output, sizeof(float) * (size_t)nn->net->outputs * n);
    return 0;
}

/* The channels of layer L's batch norm, 0 when it has none. */
static int bn_channels(const struct hwi_nn *nn, int i)
{
    const layer *l = &nn->net->layers[i];
    enum hwi_kind k = nn->aux[i].kind;
    if (k == HWI_BN || ((k == HWI_CONV || k == HWI_CONN) && l->batch_normalize &&
                        (hwi_nn_fixes & HWI_FIX_P4)))
        return l->out_c;
    return 0;
}

int hwi_nn_adapt_begin(struct hwi_nn *nn, char *err)
{
    for (int i = 0; i < nn->net->n; i++) {
        int C = bn_channels(nn, i);
        if (!C)
            continue;
        free(nn->aux[i].adapt);
        if (!(nn->aux[i].adapt = calloc(2 * (size_t)C + 1, sizeof(double)))) {
            hwi_nn_adapt_end(nn);
            return hwi_seterr(err, "out of memory");
        }
    }
    return 0;
}

int hwi_nn_adapt(struct hwi_nn *nn, const float *x, int n, char *err)
{
    for (int i = 0; i < nn->net->n; i++)
        nn->aux[i].nvalid = n;
    return hwi_nn_forward(nn, x, n, NULL, NULL, err);
}

void hwi_nn_adapt_end(struct hwi_nn *nn)
{
    for (int i = 0; i < nn->net->n; i++) {
        double *acc = nn->aux[i].adapt;
        if (!acc)
            continue;
        layer *l = &nn->net->layers[i];
        int C = bn_channels(nn, i);
        double cnt = acc[2 * C];
        for (int c = 0; cnt > 0 && c < C; c++) {
            double mu = acc[2 * c] / cnt, v = acc[2 * c + 1] / cnt - mu * mu;
            l->rolling_mean[c] = (float)mu;
            l->rolling_variance[c] = (float)(v > 0 ? v : 0);
        }
        free(acc);
        nn->aux[i].adapt = NULL;
    }
}

void hwi_nn_freeze_backbone(struct hwi_nn *nn, int frozen)
{
    network *net = nn->net;
    int h = nn->head_start;
    frozen = !!frozen;
    if (h <= 0 || frozen == nn->frozen)
        return;
    if (frozen) {
        nn->stopped[h - 1] = net->layers[h - 1].stopbackward;
        net->layers[h - 1].stopbackward = 1;
    } else {
        net->layers[h - 1].stopbackward = nn->stopped[h - 1];
    }
    if (hwi_nn_fixes & HWI_FIX_P8)
        for (int i = 0; i < h; i++) {
            layer *l = &net->layers[i];
            if (frozen) {
                nn->saved_update[i] = l->update;
                l->update = NULL;
            } else {
                l->update = nn->saved_update[i];
            }
            nn->aux[i].frozen = frozen;
        }
    nn->frozen = frozen;
}

/* ------------------------------------------------------------------------
 * What the training log shows. */
int hwi_nn_loss_terms(const struct hwi_nn *nn, char (*name)[24], float *value, int max)
{
    const network *net = nn->net;
    int k = 0;
    for (int i = 0; i < net->n; i++) {
        const layer *l = &net->layers[i];
        if (!l->cost)
            continue;
        if (k < max) {
            const char *kind = nn->aux[i].kind == HWI_SOFTMAX  ? "softmax"
                               : nn->aux[i].kind == HWI_RING   ? "ring"
                               : nn->aux[i].kind == HWI_CENTER ? "center"
                                                               : "cost";
            if (name)
                snprintf(name[k], sizeof name[k], "%s%d", kind, i);
            if (value)
                value[k] = l->cost[0] / net->batch;
        }
        k++;
    }
    return k;
}

int hwi_nn_ring_radii(const struct hwi_nn *nn, int *index, float *radius, int max)
{
    int k = 0;
    for (int i = 0; i < nn->net->n; i++) {
        if (nn->aux[i].kind != HWI_RING)
            continue;
        if (k < max) {
            if (index)
                index[k] = i;
            if (radius)
                radius[k] = nn->net->layers[i].weights[0];
        }
        k++;
    }
    return k;
}
