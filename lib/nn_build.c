/* nn_build.c: the network builder: Darknet's layers through its
 * parse_* functions, hwi's own layers here, each section checked first. */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

void set_batch_network(network *net, int b);

/* ------------------------------------------------------------------------
 * Darknet's chatter: fd 1 and 2 to /dev/null while it builds layers (or
 * fd 1 to fd 2 with HWI_NN_VERBOSE set). */
struct quiet {
    int out, errfd;
};

static void quiet_begin(struct quiet *q)
{
    fflush(stdout);
    fflush(stderr);
    q->out = dup(1);
    q->errfd = dup(2);
    const char *v = getenv("HWI_NN_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0) {
        dup2(2, 1);
        return;
    }
    int nul = open("/dev/null", O_WRONLY);
    if (nul >= 0) {
        dup2(nul, 1);
        dup2(nul, 2);
        close(nul);
    }
}

static void quiet_end(struct quiet *q)
{
    fflush(stdout);
    fflush(stderr);
    if (q->out >= 0) {
        dup2(q->out, 1);
        close(q->out);
    }
    if (q->errfd >= 0) {
        dup2(q->errfd, 2);
        close(q->errfd);
    }
}

/* ------------------------------------------------------------------------
 * Building the network. */

void *hwi_nn_xcalloc(size_t n, size_t size, int *oom)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        *oom = 1;
    return p;
}

/* A weightless hwi layer of input (h, w, c) / INPUTS and output shape. */
layer hwi_nn_new_layer(const size_params *pp, LAYER_TYPE type, int oh, int ow, int oc,
                       int *oom)
{
    layer l = {0};
    l.type = type;
    l.batch = pp->batch;
    l.h = pp->h;
    l.w = pp->w;
    l.c = pp->c;
    l.inputs = pp->inputs;
    l.out_h = oh;
    l.out_w = ow;
    l.out_c = oc;
    l.outputs = oh * ow * oc;
    l.output = hwi_nn_xcalloc((size_t)l.batch * l.outputs, sizeof(float), oom);
    l.delta = hwi_nn_xcalloc((size_t)l.batch * l.outputs, sizeof(float), oom);
    l.learning_rate_scale = 1;
    return l;
}

int hwi_nn_is_image(const size_params *pp)
{
    return pp->h > 0 && pp->w > 0 && pp->c > 0;
}

/* Resolve a layer reference V (negative: relative to I) of section S. */
int hwi_nn_layer_ref(struct build *b, const struct cfg_sec *s, const char *key, long v, int i,
                     int *out)
{
    int line = s->line;
    hwi_nn_cfg_find(s, key, &line);
    long j = v < 0 ? i + v : v;
    if (j < 0 || j >= i)
        return hwi_seterr(b->err,
                          "%s:%d: %s: layer %ld is not an earlier layer (this is layer %d)",
                          b->cf->path, line, key, v, i);
    *out = (int)j;
    return 0;
}

/* The memory left for the next layer: the machine's memory less the
 * layers so far (B->bytes, check_mem's estimate); under an address-space
 * limit (ulimit -v), where Darknet's unchecked callocs would crash instead
 * of failing, the limit less what the process has mapped already
 * (/proc/self/statm), less some room for what the layer allocates beside
 * its arrays. */
static double memory_left(const struct build *b)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double ram = pages > 0 && psize > 0 ? (double)pages * psize : 64e9;
    double left = ram - b->bytes;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        unsigned long mapped = 0;
        FILE *fp = fopen("/proc/self/statm", "r");
        if (fp) {
            if (fscanf(fp, "%lu", &mapped) != 1)
                mapped = 0;
            fclose(fp);
        }
        double as = (double)rl.rlim_cur - (double)mapped * (psize > 0 ? psize : 4096) - 64e6;
        if (as < left)
            left = as;
    }
    return left;
}

/* Refuse a layer of section S whose arrays are beyond reason before any of
 * them is allocated: Darknet counts elements in int (an array of more than
 * INT_MAX floats overflows), and a layer needing more memory than is left
 * (memory_left) would only end in "out of memory", or under ulimit -v in a
 * crash inside Darknet.  OUT is the output floats of the whole batch
 * (output, delta and batch normalisation's two copies), WEIGHTS and WORK
 * the weight and workspace floats; KEY names the key blamed (its line is
 * given).  Doubles: the products themselves may overflow. */
static int check_mem(struct build *b, const struct cfg_sec *s, const char *key, double out,
                     double weights, double work)
{
    double most = out > weights ? out : weights;
    most = most > work ? most : work;
    double bytes = 4 * (4 * out + 4 * weights + work);
    double left = memory_left(b);
    b->bytes += 4 * (4 * out + 4 * weights);
    if (most <= INT_MAX && bytes <= left)
        return 0;
    int line = s->line;
    kvp *p = key ? hwi_nn_cfg_find(s, key, &line) : NULL;
    char beyond[64] = "Darknet's 2^31-element arrays";
    if (most <= INT_MAX)
        snprintf(beyond, sizeof beyond, "the %.3g GB of memory left",
                 left > 0 ? left / 1e9 : 0.0);
    return hwi_seterr(b->err,
                      "%s:%d: %s%s%s%s%s: the layer needs %.3g GB for a batch of %d%s "
                      "(output %.4g, weights %.4g floats), beyond %s",
                      b->cf->path, line, s->type, p ? " " : "", p ? p->key : "", p ? "=" : "",
                      p ? p->val : "", bytes / 1e9, b->params.batch,
                      p ? "" : " (input size or batch)", out, weights, beyond);
}

/* ------------------------------------------------------------------------
 * The layers: one make function per section type, dispatched by the table
 * below.  Each builds M->l from its section M->s and the input M->pp (M->flat
 * is the input seen as 1x1xD), fills its hwi_aux M->a, sets M->oom when an
 * allocation fails, and returns 0, or -1 with a message in M->b->err. */

/* [convolutional] [conv] */
static int make_conv(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    const struct cfg_sec *s = m->s;
    long size = hwi_nn_cfg_long(s, "size", 1), stride = hwi_nn_cfg_long(s, "stride", 1);
    long groups = hwi_nn_cfg_long(s, "groups", 1), filters = hwi_nn_cfg_long(s, "filters", 1);
    if (size == 1 && stride > 1)
        return hwi_seterr(b->err,
                          "%s:%d: a 1x1 convolution with stride > 1 is computed wrongly by "
                          "Darknet; use size=3 or a [maxpool]",
                          cf->path, s->line);
    if (pp->c % groups || filters % groups)
        return hwi_seterr(b->err,
                          "%s:%d: groups=%ld must divide the %d input channels and "
                          "the %ld filters",
                          cf->path, s->line, groups, pp->c, filters);
    long pad = hwi_nn_cfg_long(s, "pad", 0) ? size / 2 : hwi_nn_cfg_long(s, "padding", 0);
    if ((pp->w + 2 * pad - size) / stride + 1 <= 0 ||
        (pp->h + 2 * pad - size) / stride + 1 <= 0 || pp->w + 2 * pad < size ||
        pp->h + 2 * pad < size)
        return hwi_seterr(b->err, "%s:%d: the %dx%d input is too small for this layer",
                          cf->path, s->line, pp->w, pp->h);
    double ow = (pp->w + 2 * pad - size) / stride + 1;
    double oh = (pp->h + 2 * pad - size) / stride + 1;
    double kk = (double)size * size * pp->c / groups;
    if (check_mem(b, s, filters > size * size ? "filters" : "size",
                  (double)pp->batch * ow * oh * filters, kk * filters, ow * oh * kk))
        return -1;
    m->l = parse_convolutional(s->opts, *pp);
    a->kind = HWI_CONV;
    a->zeros = hwi_nn_xcalloc(m->l.n, sizeof(float), &m->oom);
    a->scratch = hwi_nn_xcalloc(m->l.n, sizeof(float), &m->oom);
    if (m->l.size == 1)
        a->dsave = hwi_nn_xcalloc((size_t)m->l.batch * m->l.inputs, sizeof(float), &m->oom);
    if (net->adam) {
        a->m = hwi_nn_xcalloc(m->l.nweights, sizeof(float), &m->oom);
        a->v = hwi_nn_xcalloc(m->l.nweights, sizeof(float), &m->oom);
    }
    m->l.forward = hwi_conv_forward;
    m->l.backward = hwi_conv_backward;
    m->l.update = hwi_wrapped_update;
    return 0;
}

/* [connected] [conn] */
static int make_connected(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    size_params flat = m->flat;
    const struct cfg_sec *s = m->s;
    kvp *o = hwi_nn_cfg_find(s, "output", NULL);
    if (o && strcmp(o->val, "classes") == 0) {
        if (nn->classes <= 0)
            return hwi_seterr(b->err,
                              "%s:%d: output=classes, but no class count was "
                              "given (and no weights file holds one)",
                              cf->path, s->line);
        o->val = b->classes_str;
    }
    long outputs = o ? strtol(o->val, NULL, 10) : 1;
    if (check_mem(b, s, "output", (double)pp->batch * outputs, (double)flat.inputs * outputs,
                  0))
        return -1;
    m->l = parse_connected(s->opts, flat);
    a->kind = HWI_CONN;
    a->zeros = hwi_nn_xcalloc(m->l.outputs, sizeof(float), &m->oom);
    a->scratch = hwi_nn_xcalloc(m->l.outputs, sizeof(float), &m->oom);
    if (net->adam) {
        a->m = hwi_nn_xcalloc((size_t)m->l.inputs * m->l.outputs, sizeof(float), &m->oom);
        a->v = hwi_nn_xcalloc((size_t)m->l.inputs * m->l.outputs, sizeof(float), &m->oom);
    }
    m->l.forward = hwi_conn_forward;
    m->l.backward = hwi_conn_backward;
    m->l.update = hwi_wrapped_update;
    return 0;
}

/* [maxpool] [max] */
static int make_maxpool(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    size_params *pp = m->pp;
    const struct cfg_sec *s = m->s;
    long stride = hwi_nn_cfg_long(s, "stride", 1), size = hwi_nn_cfg_long(s, "size", stride);
    long pad = hwi_nn_cfg_long(s, "padding", size - 1);
    if (pp->w + pad < size || pp->h + pad < size)
        return hwi_seterr(b->err, "%s:%d: the %dx%d input is too small for this layer",
                          cf->path, s->line, pp->w, pp->h);
    m->l = parse_maxpool(s->opts, *pp);
    return 0;
}

/* [avgpool] [avg] */
static int make_avgpool(struct mk *m)
{
    size_params *pp = m->pp;
    const struct cfg_sec *s = m->s;
    m->l = parse_avgpool(s->opts, *pp);
    return 0;
}

/* [dropout] */
static int make_dropout(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    size_params *pp = m->pp;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    if (i == 0)
        return hwi_seterr(b->err, "%s:%d: [dropout] cannot be the first layer", cf->path,
                          s->line);
    m->l = parse_dropout(s->opts, *pp);
    m->l.output = net->layers[i - 1].output;
    m->l.delta = net->layers[i - 1].delta;
    m->l.out_h = pp->h;
    m->l.out_w = pp->w;
    m->l.out_c = pp->c;
    return 0;
}

/* [route] */
static int make_route(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    const char *v = hwi_nn_cfg_str(s, "layers");
    if (!v)
        return hwi_seterr(b->err, "%s:%d: [route] needs layers=", cf->path, s->line);
    for (const char *p = v;; p = strchr(p, ',') + 1) {
        int j;
        if (hwi_nn_layer_ref(b, s, "layers", strtol(p, NULL, 10), i, &j))
            return -1;
        if (!strchr(p, ','))
            break;
    }
    m->l = parse_route(s->opts, *pp, net);
    if (hwi_nn_cfg_long(s, "detach", 0)) {
        a->kind = HWI_DROUTE;
        m->l.backward = hwi_nobackward;
    }
    if (hwi_nn_cfg_long(s, "embedding", 0))
        nn->embed = i;
    return 0;
}

/* [shortcut] */
static int make_shortcut(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    size_params *pp = m->pp;
    int img = m->img;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    const char *v = hwi_nn_cfg_str(s, "from");
    int j;
    if (!v)
        return hwi_seterr(b->err, "%s:%d: [shortcut] needs from=", cf->path, s->line);
    if (hwi_nn_layer_ref(b, s, "from", strtol(v, NULL, 10), i, &j))
        return -1;
    layer f = net->layers[j];
    if (!img || f.out_h <= 0 || f.out_w <= 0 || f.out_c <= 0)
        return hwi_seterr(b->err,
                          "%s:%d: [shortcut] joins two images; layer %d or %d is "
                          "flat",
                          cf->path, s->line, j, i - 1);
    if ((pp->w > f.out_w ? pp->w % f.out_w : f.out_w % pp->w) ||
        (long)pp->w * f.out_h != (long)pp->h * f.out_w) /* Darknet asserts */
        return hwi_seterr(b->err, "%s:%d: [shortcut] from a %dx%d map to a %dx%d one",
                          cf->path, s->line, f.out_w, f.out_h, pp->w, pp->h);
    m->l = parse_shortcut(s->opts, *pp, net);
    return 0;
}

/* [softmax] [soft] */
static int make_softmax(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params flat = m->flat;
    const struct cfg_sec *s = m->s;
    if (hwi_nn_cfg_long(s, "groups", 1) != 1)
        return hwi_seterr(b->err, "%s:%d: [softmax] groups= is not supported", cf->path,
                          s->line);
    m->l = parse_softmax(s->opts, flat);
    a->kind = HWI_SOFTMAX;
    m->l.forward = hwi_softmax_forward;
    m->l.backward = hwi_softmax_backward;
    m->l.out_h = m->l.out_w = 1;
    m->l.out_c = m->l.outputs;
    if (nn->classes > 0 && m->l.inputs != nn->classes)
        return hwi_seterr(b->err,
                          "%s:%d: [softmax] gets %d inputs, but the network has %d "
                          "classes",
                          cf->path, s->line, m->l.inputs, nn->classes);
    nn->heads++;
    return 0;
}

/* Section names (as in the spec table) -> make function; IMAGE: needs an
 * image input. */
static const struct maker {
    const char *names;
    int (*make)(struct mk *m);
    int image;
} makers[] = {
    {"[convolutional] [conv]", make_conv, 1},
    {"[connected] [conn]", make_connected, 0},
    {"[maxpool] [max]", make_maxpool, 1},
    {"[avgpool] [avg]", make_avgpool, 1},
    {"[dropout]", make_dropout, 0},
    {"[route]", make_route, 0},
    {"[shortcut]", make_shortcut, 0},
    {"[softmax] [soft]", make_softmax, 0},
    {"[batchnorm]", hwi_nn_make_batchnorm, 0},
    {"[l2norm]", hwi_nn_make_l2norm, 0},
    {"[gem]", hwi_nn_make_gem, 0},
    {"[ring] [center]", hwi_nn_make_ring_center, 0},
    {"[box]", hwi_nn_make_box, 0},
    {"[arcface] [cosface]", hwi_nn_make_margin, 0},
};

static int build_layer(struct build *b, int i, const struct cfg_sec *s)
{
    struct mk m = {.b = b, .i = i, .s = s, .a = &b->nn->aux[i], .pp = &b->params};
    const struct cfg *cf = b->cf;
    network *net = b->net;
    struct hwi_aux *a = m.a;
    size_params *pp = m.pp;
    const char *t = s->type;
    a->index = i;
    a->from = -1;
    a->kind = HWI_DARKNET;
    pp->index = i;
    m.img = hwi_nn_is_image(pp);
    /* 1x1xD for flat inputs */
    m.flat = *pp;
    if (!m.img) {
        m.flat.h = m.flat.w = 1;
        m.flat.c = m.flat.inputs;
    }

    const struct maker *mk = NULL;
    for (size_t k = 0; k < sizeof makers / sizeof *makers && !mk; k++)
        if (hwi_nn_word_in(makers[k].names, t))
            mk = &makers[k];
    if (!mk)
        return hwi_seterr(b->err, "%s:%d: %s is not implemented", cf->path, s->line, t);
    if (mk->image && !m.img)
        return hwi_seterr(b->err, "%s:%d: %s needs an image input; layer %d is flat", cf->path,
                          s->line, t, i - 1);
    if (mk->make(&m))
        return -1;
    layer l = m.l;
    int oom = m.oom;

    /* BN layers of Darknet's conv/connected: hwi's statistics (P3, P4) */
    if ((a->kind == HWI_CONV || a->kind == HWI_CONN) && l.batch_normalize) {
        int n = a->kind == HWI_CONV ? l.n : l.outputs;
        a->eps = 1e-5f;
        a->momentum = 0.1f;
        if (!l.x_norm)
            l.x_norm = hwi_nn_xcalloc((size_t)l.batch * l.outputs, sizeof(float), &oom);
        if (!l.x)
            l.x = hwi_nn_xcalloc((size_t)l.batch * l.outputs, sizeof(float), &oom);
        if (!l.rolling_variance)
            l.rolling_variance = hwi_nn_xcalloc(n, sizeof(float), &oom);
        if ((hwi_nn_fixes & HWI_FIX_P4) && !oom)
            for (int c = 0; c < n; c++)
                l.rolling_variance[c] = 1;
        if (net->adam) {
            a->sm = hwi_nn_xcalloc(n, sizeof(float), &oom);
            a->sv = hwi_nn_xcalloc(n, sizeof(float), &oom);
        }
    }
    if ((a->kind == HWI_CONV || a->kind == HWI_CONN) && net->adam) {
        int n = a->kind == HWI_CONV ? l.n : l.outputs;
        a->bm = hwi_nn_xcalloc(n, sizeof(float), &oom);
        a->bv = hwi_nn_xcalloc(n, sizeof(float), &oom);
    }
    /* common keys (parser.c:840-849) */
    l.learning_rate_scale = (float)hwi_nn_cfg_double(s, "learning_rate", 1);
    l.stopbackward = (int)hwi_nn_cfg_long(s, "stopbackward", 0);
    l.input_layer = (struct layer *)a;
    net->layers[i] = l;
    if (oom)
        return hwi_seterr(b->err, "%s:%d: %s: out of memory building this layer", cf->path,
                          s->line, s->type);
    if (l.workspace_size > b->workspace)
        b->workspace = l.workspace_size;
    pp->h = l.out_h;
    pp->w = l.out_w;
    pp->c = l.out_c;
    pp->inputs = l.outputs;
    return 0;
}

static void nn_free_aux(struct hwi_aux *a)
{
    free(a->zeros);
    free(a->scratch);
    free(a->dsave);
    free(a->counts);
    free(a->m);
    free(a->v);
    free(a->bm);
    free(a->bv);
    free(a->sm);
    free(a->sv);
    free(a->adapt);
}

void hwi_nn_free(struct hwi_nn *nn)
{
    if (!nn)
        return;
    network *net = nn->net;
    int n = net ? net->n : 0;
    if (net) {
        for (int i = 0; i < n; i++) {
            layer *l = &net->layers[i];
            if (l->type == DROPOUT)
                continue;
            /* Darknet's free_layer leaks these (P11) */
            free(l->loss);
            free(l->bias_m);
            free(l->bias_v);
            free(l->scale_m);
            free(l->scale_v);
            l->loss = l->bias_m = l->bias_v = l->scale_m = l->scale_v = NULL;
        }
        free(net->workspace);
        free(net->seen);
        free(net->t);
        free(net->cost);
        free(net->scales);
        free(net->steps);
        free_network(net);
    }
    if (nn->aux)
        for (int i = 0; i < n; i++)
            nn_free_aux(&nn->aux[i]);
    free(nn->aux);
    free(nn->saved_update);
    free(nn->stopped);
    free(nn);
}

/* Build the network of CF for BATCH (> 0: overrides) and CLASSES. */
struct hwi_nn *hwi_nn_build(const struct cfg *cf, int batch, int classes, char *err)
{
    const struct section_spec *spec;
    for (int i = 0; i < cf->n; i++)
        if (hwi_nn_cfg_check(cf, &cf->secs[i], &spec, err))
            return NULL;
    if (!hwi_nn_word_in("[net] [network]", cf->secs[0].type))
        return hwi_seterr(err, "%s:%d: the first section must be [net]", cf->path,
                          cf->secs[0].line),
               NULL;
    for (int i = 1; i < cf->n; i++)
        if (hwi_nn_word_in("[net] [network]", cf->secs[i].type))
            return hwi_seterr(err, "%s:%d: a second [net]", cf->path, cf->secs[i].line), NULL;
    if (cf->n < 2)
        return hwi_seterr(err, "%s: no layers", cf->path), NULL;
    const struct cfg_sec *ns = &cf->secs[0];
    const char *need[] = {"height", "width", "channels"};
    for (int k = 0; k < 3; k++)
        if (!hwi_nn_cfg_str(ns, need[k]))
            return hwi_seterr(err, "%s:%d: [net] needs %s=", cf->path, ns->line, need[k]),
                   NULL;
    const char *pol = hwi_nn_cfg_str(ns, "policy");
    if (pol && !hwi_nn_word_in("constant steps step exp poly sigmoid random", pol))
        return hwi_seterr(err, "%s:%d: unknown policy '%s'", cf->path, ns->line, pol), NULL;
    if (pol && strcmp(pol, "steps") == 0) {
        const char *st = hwi_nn_cfg_str(ns, "steps"), *sc = hwi_nn_cfg_str(ns, "scales");
        int n1 = 0, n2 = 0;
        for (const char *p = st; p && *p; p++)
            n1 += *p == ',';
        for (const char *p = sc; p && *p; p++)
            n2 += *p == ',';
        if (!st || !sc || n1 != n2) /* Darknet reads past the shorter list */
            return hwi_seterr(err,
                              "%s:%d: policy=steps needs steps= and scales= of the same "
                              "length",
                              cf->path, ns->line),
                   NULL;
    }

    struct hwi_nn *nn = calloc(1, sizeof *nn);
    if (!nn)
        return hwi_seterr(err, "out of memory"), NULL;
    nn->classes = classes;
    nn->head_start = -1;
    nn->embed = -1;
    nn->equalize = (int)hwi_nn_cfg_long(ns, "equalize", 0);
    int n = cf->n - 1;
    nn->aux = calloc(n, sizeof *nn->aux);
    network *net = make_network(n);
    nn->net = net;
    if (!nn->aux || !net) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "out of memory"), NULL;
    }
    struct build b = {.cf = cf, .nn = nn, .net = net, .err = err};
    snprintf(b.classes_str, sizeof b.classes_str, "%d", classes);
    struct quiet q;
    quiet_begin(&q);
    long nb = batch > 0 ? batch : hwi_nn_cfg_long(ns, "batch", 1);
    double in = (double)hwi_nn_cfg_long(ns, "height", 1) * hwi_nn_cfg_long(ns, "width", 1) *
                hwi_nn_cfg_long(ns, "channels", 1);
    b.params.batch = (int)nb;
    if (check_mem(&b, ns, NULL, nb * in, 0, 0) || in > INT_MAX) {
        quiet_end(&q);
        if (in > INT_MAX)
            hwi_seterr(err,
                       "%s:%d: [net] input of %.4g values, beyond Darknet's "
                       "2^31-element arrays",
                       cf->path, ns->line, in);
        hwi_nn_free(nn);
        return NULL;
    }
    parse_net_options(ns->opts, net);
    net->batch = batch > 0 ? batch : (int)hwi_nn_cfg_long(ns, "batch", 1);
    net->subdivisions = 1;
    net->time_steps = 1;
    b.params.h = net->h;
    b.params.w = net->w;
    b.params.c = net->c;
    b.params.inputs = net->inputs = net->h * net->w * net->c;
    b.params.batch = net->batch;
    b.params.time_steps = 1;
    b.params.net = net;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = build_layer(&b, i, &cf->secs[i + 1]);
    quiet_end(&q);
    if (rc) { /* layers not built are all zero: free_layer skips them */
        hwi_nn_free(nn);
        return NULL;
    }
    layer last = net->layers[n - 1];
    net->outputs = last.outputs;
    net->truths = classes > 0 ? classes : last.outputs;
    net->output = last.output;
    net->input = calloc((size_t)net->inputs * net->batch, sizeof(float));
    net->truth = calloc((size_t)net->truths * net->batch, sizeof(float));
    nn->workspace = b.workspace;
    net->workspace = calloc(1, b.workspace ? b.workspace : 1);
    nn->saved_update = calloc(n, sizeof *nn->saved_update);
    nn->stopped = calloc(n, sizeof *nn->stopped);
    if (!net->input || !net->truth || !net->workspace || !nn->saved_update || !nn->stopped) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "out of memory"), NULL;
    }
    if (nn->heads && classes <= 0) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "%s: the network has classifier heads but no class count",
                          cf->path),
               NULL;
    }
    if (nn->boxes && nn->heads) {
        hwi_nn_free(nn);
        return hwi_seterr(err,
                          "%s: a network has classifier heads or a [box] layer, "
                          "not both",
                          cf->path),
               NULL;
    }
    if (nn->embed < 0) /* the last [l2norm], else none */
        for (int i = 0; i < n; i++)
            if (nn->aux[i].kind == HWI_L2NORM)
                nn->embed = i;
    if (nn->head_start < 0)
        for (int i = 0; i < n && nn->head_start < 0; i++)
            if (net->layers[i].type == CONNECTED)
                nn->head_start = i;
    return nn;
}
