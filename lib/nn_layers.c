/* nn_layers.c: hwi's layers beside Darknet's, and the wrappers that fix
 * Darknet's convolutional and connected layers.
 *
 * Each layer is a forward/backward(/update) triple with Darknet's calling
 * convention (docs/darknet.md §3): arrays are batch-major, CHW inside a
 * sample; l.delta holds -dL/d(output) summed over the batch; backward ADDS
 * -dL/d(input) into the input's delta and -dL/d(param) into *_updates;
 * update moves parameters by lr/batch times the updates.  hwi's state for
 * a layer is in the struct hwi_aux at l.input_layer (nn_int.h).
 *
 * Shapes: x (B, C, H, W) in, y out; f (B, D) a feature vector.
 *
 * Layers:
 *   conv/connected wrappers  Darknet's layer with hwi's batch norm (P3, P4),
 *                            accumulating 1x1 input gradients (P1), Adam (P5)
 *   [batchnorm]              y = gamma (x - mu) / sqrt(var + eps) + beta,
 *                            statistics over batch and space (P2)
 *   [gem]                    y_c = (mean over a strip of max(x, eps)^p)^(1/p)
 *   [ring]                   y = f; L = lambda/2 sum_b (|f_b| - R)^2
 *   [center]                 y = f; L = w sum_b |f_b - c_(label b)|^2
 *   [l2norm]                 y = x / sqrt(sum_c x^2 + eps) (P10)
 *   [softmax]                p = softmax(x / T); L = -sum log p_label (P6)
 *   [route] detach=1         Darknet's route, no gradient back
 *   [arcface] [cosface]      z_k = s cos(f, w_k), the label's with a margin
 *   [box]                    y = x (four box edges); L = sum smooth-L1(x - t) */
#include <config.h>

/* The batch-norm loops only vectorise at -O3 without FP traps (which
 * change no result). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif

#include "nn_gemm.h"
#include "nn_int.h"

#include <math.h>
#include <string.h>

unsigned hwi_nn_fixes = ~0u;

/* ------------------------------------------------------------------------
 * Batch normalisation, shared by [batchnorm] and the wrappers.
 * x (B, C, S) is normalised in place per channel c; train: statistics of
 * this batch (biased variance, as PyTorch's forward), rolling statistics
 * move by MOMENTUM (unbiased variance); otherwise the rolling ones.  The
 * wrappers fold the layer's activation into the same pass (ACT; LINEAR
 * for none).  Channels are independent: each thread of the pool takes a
 * range of them (hwi_nn_parallel_for). */

/* Activations the BN loops apply themselves; others go to Darknet's
 * activate_array/gradient_array afterwards/before. */
static int bn_folds(ACTIVATION act)
{
    return act == LINEAR || act == RELU || act == LEAKY ||
           (act == ELU && (hwi_nn_fixes & HWI_FIX_P23));
}

/* Darknet's activations (src/activations.h), ELU without its NaN (P23). */
static inline float act_value(ACTIVATION act, float x)
{
    switch (act) {
    case RELU: return x * (float)(x > 0);
    case LEAKY: return hwi_nn_leaky(x);
    case ELU: return x >= 0 ? x : expf(x) - 1;
    default: return x;
    }
}

/* Derivative from the output Y, as Darknet's gradient_array. */
static inline float act_slope(ACTIVATION act, float y)
{
    switch (act) {
    case RELU: return (float)(y > 0);
    case LEAKY: return y > 0 ? 1.0f : (float).1;
    case ELU: return (float)(y >= 0) + (float)(y < 0) * (y + 1);
    default: return 1.0f;
    }
}

struct bn_job {
    const layer *l;
    const struct hwi_aux *a;
    float *x; /* forward: x in, y out; backward: -dL/dy in, -dL/dx out */
    int C, S, train, fixed;
    ACTIVATION act; /* folded in; LINEAR for none */
    int keep;       /* write x_norm (a backward pass follows) */
};

/* One row of S values: p = act(g (p - mean) inv + be), xn = (p - mean) inv
 * unless XN is NULL.  A loop per case, each vectorised. */
static void bn_row(float *restrict p, float *restrict xn, int S, float mean, float inv,
                   float g, float be, ACTIVATION act)
{
    if (xn && act == RELU) {
        for (int i = 0; i < S; i++) {
            float v = (p[i] - mean) * inv;
            xn[i] = v;
            p[i] = act_value(RELU, g * v + be);
        }
    } else if (xn && act == LINEAR) {
        for (int i = 0; i < S; i++) {
            float v = (p[i] - mean) * inv;
            xn[i] = v;
            p[i] = g * v + be;
        }
    } else if (xn && act == LEAKY) {
        for (int i = 0; i < S; i++) {
            float v = (p[i] - mean) * inv;
            xn[i] = v;
            p[i] = hwi_nn_leaky(g * v + be);
        }
    } else if (xn) {
        for (int i = 0; i < S; i++) {
            float v = (p[i] - mean) * inv;
            xn[i] = v;
            p[i] = act_value(act, g * v + be);
        }
    } else if (act == RELU) {
        for (int i = 0; i < S; i++)
            p[i] = act_value(RELU, g * ((p[i] - mean) * inv) + be);
    } else if (act == LINEAR) {
        for (int i = 0; i < S; i++)
            p[i] = g * ((p[i] - mean) * inv) + be;
    } else if (act == LEAKY) {
        for (int i = 0; i < S; i++)
            p[i] = hwi_nn_leaky(g * ((p[i] - mean) * inv) + be);
    } else {
        for (int i = 0; i < S; i++)
            p[i] = act_value(act, g * ((p[i] - mean) * inv) + be);
    }
}

static void bn_forward_part(void *arg, size_t lo, size_t hi)
{
    const struct bn_job *j = arg;
    const layer *l = j->l;
    const struct hwi_aux *a = j->a;
    int B = l->batch, C = j->C, S = j->S;
    int Bs = a->adapt ? a->nvalid : B; /* the images the statistics are of */
    int N = Bs * S;
    for (size_t c = lo; c < hi; c++) {
        float mean, var;
        if (j->train) { /* one pass: sums in double, 4 partial sums per row */
            double s = 0, ss = 0;
            for (int b = 0; b < Bs; b++) {
                const float *p = j->x + ((size_t)b * C + c) * S;
                double s4[4] = {0}, q4[4] = {0};
                int i = 0;
                for (; i + 4 <= S; i += 4)
                    for (int k = 0; k < 4; k++) {
                        s4[k] += p[i + k];
                        q4[k] += (double)p[i + k] * p[i + k];
                    }
                for (; i < S; i++) {
                    s4[0] += p[i];
                    q4[0] += (double)p[i] * p[i];
                }
                s += s4[0] + s4[1] + s4[2] + s4[3];
                ss += q4[0] + q4[1] + q4[2] + q4[3];
            }
            double mu = s / N, v = ss / N - mu * mu;
            if (a->adapt) { /* the statistics of every image so far, this batch's too */
                double *acc = a->adapt + 2 * c, n = a->adapt[2 * (size_t)j->C] + N;
                acc[0] += s;
                acc[1] += ss;
                mu = acc[0] / n;
                v = acc[1] / n - mu * mu;
            }
            v = v > 0 ? v : 0;
            mean = (float)mu;
            var = (float)v;
            l->mean[c] = mean;
            l->variance[c] = var;
            float unbiased = N > 1 ? (float)(v * N / (N - 1)) : var;
            if (!a->adapt) {
                l->rolling_mean[c] += a->momentum * (mean - l->rolling_mean[c]);
                l->rolling_variance[c] += a->momentum * (unbiased - l->rolling_variance[c]);
            }
        } else {
            mean = l->rolling_mean[c];
            var = l->rolling_variance[c];
        }
        float inv = 1.0f / sqrtf(var + a->eps), g = l->scales[c], be = l->biases[c];
        for (int b = 0; b < B; b++) {
            size_t o = ((size_t)b * C + c) * S;
            float *p = j->x + o;
            if (!j->keep) { /* inference: no backward pass reads x_norm */
                bn_row(p, NULL, S, mean, inv, g, be, j->act);
                continue;
            }
            bn_row(p, l->x_norm + o, S, mean, inv, g, be, j->act);
        }
    }
}

/* Floats a thread should at least get. */
enum { BN_GRAIN = 32768 };

static size_t bn_grain(const layer *l, int S)
{
    size_t per = (size_t)l->batch * S;
    return per >= BN_GRAIN ? 1 : BN_GRAIN / (per + 1) + 1;
}

static void bn_forward(layer l, float *x, int C, int S, int train, int keep, ACTIVATION act,
                       const struct hwi_aux *a)
{
    struct bn_job j = {&l, a, x, C, S, train, 0, act, keep};
    hwi_nn_parallel_for(C, bn_grain(&l, S), bn_forward_part, &j);
    if (a->adapt && train) /* the count, once all channels have used it */
        a->adapt[2 * (size_t)C] += (double)a->nvalid * S;
}

/* d (B, C, S): -dL/dy in, -dL/dx out (in place); with an activation
 * folded in, Y = l.output is the activation's output, and d is first
 * multiplied by its slope.  Accumulates the gamma/beta updates.  FIXED:
 * statistics were the rolling ones (constant). */
static void bn_backward_part(void *arg, size_t lo, size_t hi)
{
    const struct bn_job *j = arg;
    const layer *l = j->l;
    const struct hwi_aux *a = j->a;
    int B = l->batch, C = j->C, S = j->S, N = B * S;
    for (size_t c = lo; c < hi; c++) {
        double sd = 0, sdx = 0;
        float var = j->fixed ? l->rolling_variance[c] : l->variance[c];
        float inv = 1.0f / sqrtf(var + a->eps);
        for (int b = 0; b < B; b++) {
            size_t o = ((size_t)b * C + c) * S;
            float *p = j->x + o;
            const float *xn = l->x_norm + o, *y = l->output + o;
            float s1 = 0, s2 = 0; /* one row: float is enough */
            if (j->act != LINEAR)
                for (int i = 0; i < S; i++)
                    p[i] *= act_slope(j->act, y[i]);
            for (int i = 0; i < S; i++) {
                s1 += p[i];
                s2 += p[i] * xn[i];
            }
            sd += s1;
            sdx += s2;
        }
        l->bias_updates[c] += (float)sd;
        l->scale_updates[c] += (float)sdx;
        float g = l->scales[c] * inv, m1 = (float)(sd / N), m2 = (float)(sdx / N);
        for (int b = 0; b < B; b++) {
            size_t o = ((size_t)b * C + c) * S;
            float *p = j->x + o;
            const float *xn = l->x_norm + o;
            if (j->fixed)
                for (int i = 0; i < S; i++)
                    p[i] *= g;
            else
                for (int i = 0; i < S; i++)
                    p[i] = g * (p[i] - m1 - xn[i] * m2);
        }
    }
}

static void bn_backward(layer l, float *d, int C, int S, int fixed, ACTIVATION act,
                        const struct hwi_aux *a)
{
    struct bn_job j = {&l, a, d, C, S, 0, fixed, act, 1};
    hwi_nn_parallel_for(C, bn_grain(&l, S), bn_backward_part, &j);
}

static int bn_train(network net, const struct hwi_aux *a)
{
    return (net.train && !a->frozen) || a->adapt;
}

/* ------------------------------------------------------------------------
 * [convolutional] and [connected]: Darknet's matrix code, hwi's BN. */
static int wrapped_bn(layer l)
{
    return l.batch_normalize && (hwi_nn_fixes & HWI_FIX_P4);
}

/* Darknet's ELU computes (x >= 0) x + (x < 0) (exp(x) - 1), which is
 * 0 * inf = NaN for x > 709 (P23); other activations are Darknet's. */
static void activate(float *x, int n, ACTIVATION act)
{
    if (act != ELU || !(hwi_nn_fixes & HWI_FIX_P23)) {
        activate_array(x, n, act);
        return;
    }
    for (int i = 0; i < n; i++)
        x[i] = act_value(ELU, x[i]);
}

/* out = layer(x) through Darknet's FWD with a linear activation, no bias
 * if hwi does the BN, then hwi's BN and the activation. */
static void wrapped_forward(layer l, network net, void (*fwd)(layer, network), int C, int S)
{
    struct hwi_aux *a = HWI_AUX(l);
    layer c = l;
    c.activation = LINEAR;
    if (wrapped_bn(l)) {
        c.batch_normalize = 0;
        c.biases = a->zeros;
    }
    fwd(c, net);
    if (wrapped_bn(l) && bn_folds(l.activation)) {
        bn_forward(l, l.output, C, S, bn_train(net, a), net.train, l.activation, a);
        return;
    }
    if (wrapped_bn(l))
        bn_forward(l, l.output, C, S, bn_train(net, a), net.train, LINEAR, a);
    activate(l.output, l.outputs * l.batch, l.activation);
}

static void wrapped_backward(layer l, network net, void (*bwd)(layer, network), int C, int S)
{
    struct hwi_aux *a = HWI_AUX(l);
    size_t nin = (size_t)l.batch * l.inputs;
    int p1 = a->dsave && net.delta && (hwi_nn_fixes & HWI_FIX_P1);
    int folded = wrapped_bn(l) && bn_folds(l.activation);
    if (!folded)
        gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    layer c = l;
    c.activation = LINEAR;
    if (wrapped_bn(l)) {
        bn_backward(l, l.delta, C, S, !bn_train(net, a), folded ? l.activation : LINEAR, a);
        c.batch_normalize = 0;
        c.bias_updates = a->scratch;
        memset(a->scratch, 0, sizeof(float) * C);
    }
    if (p1) /* Darknet's 1x1 backward overwrites net.delta (P1) */
        memcpy(a->dsave, net.delta, sizeof(float) * nin);
    bwd(c, net);
    if (p1)
        for (size_t i = 0; i < nin; i++)
            net.delta[i] += a->dsave[i];
}

void hwi_conv_forward(layer l, network net)
{
    wrapped_forward(l, net, forward_convolutional_layer, l.out_c, l.out_h * l.out_w);
}

void hwi_conv_backward(layer l, network net)
{
    wrapped_backward(l, net, backward_convolutional_layer, l.out_c, l.out_h * l.out_w);
}

void hwi_conn_forward(layer l, network net)
{
    wrapped_forward(l, net, forward_connected_layer, l.outputs, 1);
}

void hwi_conn_backward(layer l, network net)
{
    wrapped_backward(l, net, backward_connected_layer, l.outputs, 1);
}

/* Adam on N parameters W with summed negative gradients UPD (cleared). */
static void adam_step(float *w, float *upd, float *m, float *v, int n, float lr, float decay,
                      update_args u)
{
    float c1 = 1.0f - powf(u.B1, (float)u.t), c2 = 1.0f - powf(u.B2, (float)u.t);
    for (int i = 0; i < n; i++) {
        float g = -upd[i] / u.batch + decay * w[i];
        m[i] = u.B1 * m[i] + (1 - u.B1) * g;
        v[i] = u.B2 * v[i] + (1 - u.B2) * g * g;
        w[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + u.eps);
        upd[i] = 0;
    }
}

/* Darknet's SGD with momentum, or Adam when [net] adam=1 (P5: Darknet's
 * CPU update ignores adam). */
void hwi_wrapped_update(layer l, update_args u)
{
    struct hwi_aux *a = HWI_AUX(l);
    int conv = a->kind == HWI_CONV;
    if (!u.adam || !(hwi_nn_fixes & HWI_FIX_P5)) {
        if (conv)
            update_convolutional_layer(l, u);
        else
            update_connected_layer(l, u);
        return;
    }
    int n = conv ? l.n : l.outputs;
    int nw = conv ? l.nweights : l.inputs * l.outputs;
    float lr = u.learning_rate * l.learning_rate_scale;
    adam_step(l.weights, l.weight_updates, a->m, a->v, nw, lr, u.decay, u);
    adam_step(l.biases, l.bias_updates, a->bm, a->bv, n, lr, 0, u);
    if (l.batch_normalize)
        adam_step(l.scales, l.scale_updates, a->sm, a->sv, n, lr, 0, u);
}

/* ------------------------------------------------------------------------
 * [batchnorm]: x (B, C, S) -> y (B, C, S). */
void hwi_bn_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    memcpy(l.output, net.input, sizeof(float) * (size_t)l.batch * l.outputs);
    bn_forward(l, l.output, l.out_c, l.out_h * l.out_w, bn_train(net, a), net.train, LINEAR,
               a);
}

void hwi_bn_backward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    bn_backward(l, l.delta, l.out_c, l.out_h * l.out_w, !bn_train(net, a), LINEAR, a);
    if (net.delta)
        for (int i = 0; i < l.batch * l.outputs; i++)
            net.delta[i] += l.delta[i];
}

void hwi_bn_update(layer l, update_args u)
{
    struct hwi_aux *a = HWI_AUX(l);
    float lr = u.learning_rate * l.learning_rate_scale;
    if (u.adam && (hwi_nn_fixes & HWI_FIX_P5)) {
        adam_step(l.biases, l.bias_updates, a->bm, a->bv, l.out_c, lr, 0, u);
        adam_step(l.scales, l.scale_updates, a->sm, a->sv, l.out_c, lr, 0, u);
        return;
    }
    for (int c = 0; c < l.out_c; c++) {
        l.biases[c] += lr / u.batch * l.bias_updates[c];
        l.bias_updates[c] *= u.momentum;
        l.scales[c] += lr / u.batch * l.scale_updates[c];
        l.scale_updates[c] *= u.momentum;
    }
}

/* [batchnorm] */
int hwi_nn_make_batchnorm(struct mk *m)
{
    network *net = m->b->net;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    int img = m->img;
    size_params flat = m->flat;
    const struct cfg_sec *s = m->s;
    size_params q = img ? *pp : flat;
    a->kind = HWI_BN;
    a->eps = (float)hwi_nn_cfg_double(s, "eps", 1e-5);
    a->momentum = (float)hwi_nn_cfg_double(s, "momentum", 0.1);
    if (!(hwi_nn_fixes & HWI_FIX_P2)) {
        m->l = parse_batchnorm(s->opts, q);
    } else {
        m->l = hwi_nn_new_layer(&q, BATCHNORM, q.h, q.w, q.c, &m->oom);
        int C = q.c;
        m->l.scales = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.biases = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.scale_updates = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.bias_updates = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.mean = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.variance = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.rolling_mean = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.rolling_variance = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        m->l.x_norm =
            hwi_nn_xcalloc((size_t)m->l.batch * m->l.outputs, sizeof(float), &m->oom);
        if (net->adam) {
            a->bm = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
            a->bv = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
            a->sm = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
            a->sv = hwi_nn_xcalloc(C, sizeof(float), &m->oom);
        }
        for (int c = 0; !m->oom && c < C; c++)
            m->l.scales[c] = m->l.rolling_variance[c] = 1;
        m->l.forward = hwi_bn_forward;
        m->l.backward = hwi_bn_backward;
        m->l.update = hwi_bn_update;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * [gem]: x (B, C, H, W) of layer FROM -> y (B, C), pooled over columns
 * [k W/N, (k+1) W/N) of strip k of N (whole map: N = 1).  p in weights[0]. */
static float gem_p(layer l)
{
    float p = l.weights[0];
    return p < 0.1f ? 0.1f : p;
}

void hwi_gem_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    const float *in = a->from >= 0 ? net.layers[a->from].output : net.input;
    int C = l.c, H = l.h, W = l.w, sw = W / a->strips, x0 = a->strip * sw;
    double p = gem_p(l), M = (double)H * sw;
    for (int b = 0; b < l.batch; b++)
        for (int c = 0; c < C; c++) {
            const float *m = in + ((size_t)b * C + c) * H * W;
            double s = 0;
            for (int y = 0; y < H; y++)
                for (int x = x0; x < x0 + sw; x++) {
                    double v = m[y * W + x];
                    s += pow(v > a->eps ? v : a->eps, p);
                }
            l.output[b * C + c] = (float)pow(s / M, 1 / p);
        }
}

void hwi_gem_backward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    const float *in = a->from >= 0 ? net.layers[a->from].output : net.input;
    float *din = a->from >= 0 ? net.layers[a->from].delta : net.delta;
    int C = l.c, H = l.h, W = l.w, sw = W / a->strips, x0 = a->strip * sw;
    double p = gem_p(l), M = (double)H * sw;
    for (int b = 0; b < l.batch; b++)
        for (int c = 0; c < C; c++) {
            double d = l.delta[b * C + c];
            if (d == 0)
                continue;
            const float *m = in + ((size_t)b * C + c) * H * W;
            double s = 0, t = 0;
            for (int y = 0; y < H; y++)
                for (int x = x0; x < x0 + sw; x++) {
                    double v = m[y * W + x];
                    v = v > a->eps ? v : a->eps;
                    double vp = pow(v, p);
                    s += vp;
                    t += vp * log(v);
                }
            double out = pow(s / M, 1 / p);
            if (din) {
                /* dy/dx = y^(1-p) x^(p-1) / M where x > eps */
                double k = d * pow(out, 1 - p) / M;
                float *dm = din + ((size_t)b * C + c) * H * W;
                for (int y = 0; y < H; y++)
                    for (int x = x0; x < x0 + sw; x++) {
                        double v = m[y * W + x];
                        if (v > a->eps)
                            dm[y * W + x] += (float)(k * pow(v, p - 1));
                    }
            }
            if (a->learnable) /* dy/dp = y (t / (p s) - ln y / p) */
                l.weight_updates[0] += (float)(d * out * (t / (p * s) - log(out) / p));
        }
}

/* Update of a learnable scalar (GeM p, ring R): SGD with momentum. */
void hwi_scalar_update(layer l, update_args u)
{
    struct hwi_aux *a = HWI_AUX(l);
    if (!a->learnable)
        return;
    float lr = u.learning_rate * l.learning_rate_scale;
    l.weights[0] += lr / u.batch * l.weight_updates[0];
    l.weight_updates[0] *= u.momentum;
    if (a->kind == HWI_GEM && l.weights[0] < 0.1f)
        l.weights[0] = 0.1f;
}

/* [gem] */
int hwi_nn_make_gem(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    size_params q = *pp;
    if (hwi_nn_cfg_str(s, "from")) {
        if (hwi_nn_layer_ref(b, s, "from", hwi_nn_cfg_long(s, "from", 0), i, &a->from))
            return -1;
        layer f = net->layers[a->from];
        q.h = f.out_h;
        q.w = f.out_w;
        q.c = f.out_c;
        q.inputs = f.outputs;
    }
    if (!hwi_nn_is_image(&q))
        return hwi_seterr(b->err, "%s:%d: [gem] needs an image input", cf->path, s->line);
    a->strips = (int)hwi_nn_cfg_long(s, "strips", 1);
    a->strip = (int)hwi_nn_cfg_long(s, "strip", 0);
    if (a->strip >= a->strips)
        return hwi_seterr(b->err, "%s:%d: strip=%d: strips are numbered 0 to %d", cf->path,
                          s->line, a->strip, a->strips - 1);
    if (q.w % a->strips)
        return hwi_seterr(b->err, "%s:%d: the map is %d wide, which %d strips do not divide",
                          cf->path, s->line, q.w, a->strips);
    m->l = hwi_nn_new_layer(&q, BLANK, 1, 1, q.c, &m->oom);
    a->kind = HWI_GEM;
    a->eps = (float)hwi_nn_cfg_double(s, "eps", 1e-6);
    a->learnable = (int)hwi_nn_cfg_long(s, "learnable", 0);
    m->l.weights = hwi_nn_xcalloc(1, sizeof(float), &m->oom);
    m->l.weight_updates = hwi_nn_xcalloc(1, sizeof(float), &m->oom);
    if (!m->oom)
        m->l.weights[0] = (float)hwi_nn_cfg_double(s, "p", 3.74);
    m->l.forward = hwi_gem_forward;
    m->l.backward = hwi_gem_backward;
    m->l.update = hwi_scalar_update;
    if (nn->head_start < 0)
        nn->head_start = i;
    return 0;
}

/* ------------------------------------------------------------------------
 * [ring]: f (B, D) -> f, L = lambda/2 sum_b (|f_b| - R)^2, R in weights[0],
 * |f_b| in norms[b]. */
void hwi_ring_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs;
    memcpy(l.output, net.input, sizeof(float) * (size_t)l.batch * D);
    double cost = 0, R = l.weights[0];
    for (int b = 0; b < l.batch; b++) {
        double s = 0;
        for (int i = 0; i < D; i++)
            s += (double)net.input[b * D + i] * net.input[b * D + i];
        l.norms[b] = (float)sqrt(s);
        cost += (sqrt(s) - R) * (sqrt(s) - R);
    }
    l.cost[0] = net.train ? (float)(a->weight / 2 * cost) : 0;
}

void hwi_ring_backward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs;
    float R = l.weights[0];
    for (int b = 0; b < l.batch; b++) {
        float n = l.norms[b];
        float g = n > 0 ? a->weight * (n - R) / n : 0;
        if (net.delta)
            for (int i = 0; i < D; i++)
                net.delta[b * D + i] += l.delta[b * D + i] - g * net.input[b * D + i];
        if (a->learnable)
            l.weight_updates[0] += a->weight * (n - R);
    }
}

/* [ring] [center] */
int hwi_nn_make_ring_center(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    const char *t = m->s->type;
    int img = m->img;
    size_params flat = m->flat;
    const struct cfg_sec *s = m->s;
    int ring = t[1] == 'r';
    size_params q = img ? *pp : flat;
    m->l = hwi_nn_new_layer(&q, BLANK, q.h, q.w, q.c, &m->oom);
    m->l.cost = hwi_nn_xcalloc(1, sizeof(float), &m->oom);
    if (ring) {
        a->kind = HWI_RING;
        a->weight = (float)hwi_nn_cfg_double(s, "lambda", 0.01);
        a->learnable = (int)hwi_nn_cfg_long(s, "learnable", 1);
        m->l.weights = hwi_nn_xcalloc(1, sizeof(float), &m->oom);
        m->l.weight_updates = hwi_nn_xcalloc(1, sizeof(float), &m->oom);
        m->l.norms = hwi_nn_xcalloc(m->l.batch, sizeof(float), &m->oom);
        if (!m->oom)
            m->l.weights[0] = (float)hwi_nn_cfg_double(s, "radius", 1.5);
        m->l.forward = hwi_ring_forward;
        m->l.backward = hwi_ring_backward;
        m->l.update = hwi_scalar_update;
    } else {
        if (nn->classes <= 0)
            return hwi_seterr(b->err, "%s:%d: [center] needs a class count", cf->path,
                              s->line);
        a->kind = HWI_CENTER;
        a->classes = nn->classes;
        a->weight = (float)hwi_nn_cfg_double(s, "weight", 0.5);
        a->rate = (float)hwi_nn_cfg_double(s, "rate", 0.5);
        m->l.weights =
            hwi_nn_xcalloc((size_t)nn->classes * m->l.inputs, sizeof(float), &m->oom);
        m->l.weight_updates =
            hwi_nn_xcalloc((size_t)nn->classes * m->l.inputs, sizeof(float), &m->oom);
        a->counts = hwi_nn_xcalloc(nn->classes, sizeof(float), &m->oom);
        m->l.forward = hwi_center_forward;
        m->l.backward = hwi_center_backward;
        m->l.update = hwi_center_update;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * [center]: f (B, D) -> f, L = w sum_b |f_b - c_y|^2 with y the label of
 * sample b; centers (classes, D) in weights move toward their samples by
 * RATE each step (Wen et al. 2016: c -= rate sum(c - f) / (1 + n)). */
static int truth_label(network net, int b)
{
    const float *t = net.truth + (size_t)b * net.truths;
    int best = 0;
    for (int k = 1; k < net.truths; k++)
        if (t[k] > t[best])
            best = k;
    return best;
}

void hwi_center_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs;
    memcpy(l.output, net.input, sizeof(float) * (size_t)l.batch * D);
    l.cost[0] = 0;
    if (!net.truth || !net.train)
        return;
    double cost = 0;
    for (int b = 0; b < l.batch; b++) {
        const float *c = l.weights + (size_t)truth_label(net, b) * D;
        for (int i = 0; i < D; i++) {
            double d = net.input[b * D + i] - c[i];
            cost += d * d;
        }
    }
    l.cost[0] = (float)(a->weight * cost);
}

void hwi_center_backward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs;
    for (int b = 0; b < l.batch; b++) {
        int y = net.truth ? truth_label(net, b) : -1;
        const float *c = y >= 0 ? l.weights + (size_t)y * D : NULL;
        if (y >= 0)
            a->counts[y] += 1;
        for (int i = 0; i < D; i++) {
            float f = net.input[b * D + i];
            float g = c ? 2 * a->weight * (f - c[i]) : 0;
            if (net.delta)
                net.delta[b * D + i] += l.delta[b * D + i] - g;
            if (c)
                l.weight_updates[(size_t)y * D + i] += c[i] - f;
        }
    }
}

void hwi_center_update(layer l, update_args u)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs;
    for (int k = 0; k < a->classes; k++) {
        if (a->counts[k] == 0)
            continue;
        for (int i = 0; i < D; i++) {
            size_t j = (size_t)k * D + i;
            l.weights[j] -= a->rate * l.weight_updates[j] / (1 + a->counts[k]);
            l.weight_updates[j] = 0;
        }
        a->counts[k] = 0;
    }
}

/* ------------------------------------------------------------------------
 * [l2norm]: x (B, C, S) -> y = x / n, n = sqrt(sum_c x^2 + eps) at each of
 * the S positions; n in norms (B, S). */
void hwi_l2norm_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int C = l.out_c, S = l.out_h * l.out_w;
    for (int b = 0; b < l.batch; b++)
        for (int i = 0; i < S; i++) {
            const float *x = net.input + (size_t)b * C * S + i;
            float *y = l.output + (size_t)b * C * S + i;
            double s = a->eps;
            for (int c = 0; c < C; c++)
                s += (double)x[c * S] * x[c * S];
            float n = (float)sqrt(s);
            l.norms[b * S + i] = n;
            for (int c = 0; c < C; c++)
                y[c * S] = x[c * S] / n;
        }
}

/* dx = (d - y (y . d)) / n; Darknet's [l2norm] passes d through (P10). */
void hwi_l2norm_backward(layer l, network net)
{
    if (!net.delta)
        return;
    int C = l.out_c, S = l.out_h * l.out_w;
    if (!(hwi_nn_fixes & HWI_FIX_P10)) {
        for (int i = 0; i < l.batch * l.outputs; i++)
            net.delta[i] += l.delta[i];
        return;
    }
    for (int b = 0; b < l.batch; b++)
        for (int i = 0; i < S; i++) {
            const float *y = l.output + (size_t)b * C * S + i;
            const float *d = l.delta + (size_t)b * C * S + i;
            float *dx = net.delta + (size_t)b * C * S + i;
            double yd = 0;
            for (int c = 0; c < C; c++)
                yd += (double)y[c * S] * d[c * S];
            float n = l.norms[b * S + i];
            for (int c = 0; c < C; c++)
                dx[c * S] += (float)((d[c * S] - y[c * S] * yd) / n);
        }
}

/* [l2norm] */
int hwi_nn_make_l2norm(struct mk *m)
{
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    int img = m->img;
    size_params flat = m->flat;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    size_params q = img ? *pp : flat;
    m->l = hwi_nn_new_layer(&q, BLANK, q.h, q.w, q.c, &m->oom);
    a->kind = HWI_L2NORM;
    a->eps = (float)hwi_nn_cfg_double(s, "eps", 1e-10);
    m->l.norms = hwi_nn_xcalloc((size_t)m->l.batch * q.h * q.w, sizeof(float), &m->oom);
    m->l.forward = hwi_l2norm_forward;
    m->l.backward = hwi_l2norm_backward;
    if (hwi_nn_cfg_long(s, "embedding", 1))
        nn->embed = i;
    return 0;
}

/* ------------------------------------------------------------------------
 * [softmax]: x (B, K) -> p = softmax(x / T); with labels (net.truth, one-hot
 * (B, K)): L = -sum_b sum_k t log p, delta = (t - p) / T. */
void hwi_softmax_forward(layer l, network net)
{
    if (!(hwi_nn_fixes & HWI_FIX_P6)) {
        forward_softmax_layer(l, net);
        return;
    }
    int K = l.inputs;
    float T = l.temperature;
    double cost = 0;
    for (int b = 0; b < l.batch; b++) {
        const float *x = net.input + (size_t)b * K;
        float *p = l.output + (size_t)b * K;
        float mx = x[0];
        for (int k = 1; k < K; k++)
            mx = x[k] > mx ? x[k] : mx;
        double s = 0;
        for (int k = 0; k < K; k++)
            s += p[k] = expf((x[k] - mx) / T);
        for (int k = 0; k < K; k++)
            p[k] = (float)(p[k] / s);
        if (!net.truth)
            continue;
        const float *t = net.truth + (size_t)b * K;
        for (int k = 0; k < K; k++) {
            l.delta[b * K + k] = (t[k] - p[k]) / T;
            if (t[k] != 0) /* -log p, from the logits for accuracy */
                cost -= t[k] * ((x[k] - mx) / T - log(s));
        }
    }
    l.cost[0] = net.truth ? (float)cost : 0;
}

void hwi_softmax_backward(layer l, network net)
{
    if (net.delta)
        for (int i = 0; i < l.batch * l.inputs; i++)
            net.delta[i] += l.delta[i];
}

/* ------------------------------------------------------------------------
 * [box]: x (B, 4) -> y = x, the box edges (x0, y0, x1, y1) as fractions of
 * the photo's width and height; with targets t (net.truth, (B, 4)):
 * L = sum_b sum_k s(x - t), the smooth-L1 (Huber) loss with knee BETA:
 *   s(d) = d^2 / (2 beta)   for |d| < beta,   dL/dx = d / beta
 *   s(d) = |d| - beta / 2   otherwise,        dL/dx = sign(d)
 * delta = -dL/dx is set here; backward passes it on. */
void hwi_box_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int n = l.batch * l.inputs;
    float beta = a->eps;
    memcpy(l.output, net.input, sizeof(float) * (size_t)n);
    l.cost[0] = 0;
    if (!net.truth)
        return;
    double cost = 0;
    for (int i = 0; i < n; i++) {
        float d = net.input[i] - net.truth[i];
        if (fabsf(d) < beta) {
            cost += (double)d * d / (2 * beta);
            l.delta[i] = -d / beta;
        } else {
            cost += fabsf(d) - beta / 2;
            l.delta[i] = d > 0 ? -1.0f : 1.0f;
        }
    }
    l.cost[0] = (float)cost;
}

void hwi_box_backward(layer l, network net)
{
    if (net.delta)
        for (int i = 0; i < l.batch * l.inputs; i++)
            net.delta[i] += l.delta[i];
}

void hwi_nobackward(layer l, network net)
{
    (void)l;
    (void)net;
}

/* [box] */
int hwi_nn_make_box(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    size_params *pp = m->pp;
    int img = m->img;
    size_params flat = m->flat;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    if (img ? pp->inputs != 4 : flat.inputs != 4)
        return hwi_seterr(b->err,
                          "%s:%d: [box] needs the four box edges; layer %d gives %d "
                          "values",
                          cf->path, s->line, i - 1, pp->inputs);
    if (i != b->cf->n - 2)
        return hwi_seterr(b->err, "%s:%d: [box] must be the last layer", cf->path, s->line);
    m->l = hwi_nn_new_layer(&flat, BLANK, 1, 1, 4, &m->oom);
    m->l.cost = hwi_nn_xcalloc(1, sizeof(float), &m->oom);
    a->kind = HWI_BOX;
    a->eps = (float)hwi_nn_cfg_double(s, "beta", 0.05);
    m->l.forward = hwi_box_forward;
    m->l.backward = hwi_box_backward;
    nn->boxes = 1;
    return 0;
}

/* ------------------------------------------------------------------------
 * [arcface] / [cosface] (Deng et al. 2019; Wang et al. 2018): f (B, D),
 * class weights W (K, D) in l.weights -> z (B, K), z_k = s c_k with
 * c_k = f.w_k / (|f| |w_k|), and for the label y (when net.truth is set)
 * z_y = s phi(c_y):
 *   cosface  phi(c) = c - m
 *   arcface  phi(c) = cos(acos(c) + m) while acos(c) + m <= pi, beyond it
 *            c - m sin(m) (continuous there, as insightface's).
 * A [softmax] follows and gives the cross-entropy.  Backward, with
 * g_k = s -dL/dz_k (times phi'(c_y) for the label):
 *   -dL/df   = sum_k g_k (w^_k - c_k f^) / |f|
 *   -dL/dw_k = sum_b g_k (f^ - c_k w^_k) / |w_k|
 * |f_b| in l.norms, |w_k| in aux scratch, c in l.x, the label in l.indexes
 * (-1: none). */
static inline double margin_phi(int arc, double m, double c, double *dphi)
{
    if (!arc) {
        *dphi = 1;
        return c - m;
    }
    if (c > cos(M_PI - m)) {
        double sn = sqrt(fmax(1 - c * c, 1e-12));
        *dphi = cos(m) + sin(m) * c / sn;
        return c * cos(m) - sn * sin(m);
    }
    *dphi = 1;
    return c - m * sin(m);
}

void hwi_margin_forward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs, K = l.outputs, arc = a->kind == HWI_ARCFACE;
    float *wn = a->scratch;
    for (int k = 0; k < K; k++) {
        double q = 0;
        for (int i = 0; i < D; i++)
            q += (double)l.weights[(size_t)k * D + i] * l.weights[(size_t)k * D + i];
        wn[k] = (float)fmax(sqrt(q), 1e-12);
    }
    for (int b = 0; b < l.batch; b++) {
        const float *f = net.input + (size_t)b * D;
        double q = 0;
        for (int i = 0; i < D; i++)
            q += (double)f[i] * f[i];
        float fn = l.norms[b] = (float)fmax(sqrt(q), 1e-12);
        int y = net.truth ? truth_label(net, b) : -1;
        l.indexes[b] = y;
        for (int k = 0; k < K; k++) {
            const float *w = l.weights + (size_t)k * D;
            float dot = 0;
            for (int i = 0; i < D; i++)
                dot += f[i] * w[i];
            float c = dot / (fn * wn[k]);
            c = c > 1 ? 1 : c < -1 ? -1 : c;
            l.x[(size_t)b * K + k] = c;
            double dphi;
            l.output[(size_t)b * K + k] =
                l.scale * (float)(k == y ? margin_phi(arc, a->weight, c, &dphi) : c);
        }
    }
}

void hwi_margin_backward(layer l, network net)
{
    struct hwi_aux *a = HWI_AUX(l);
    int D = l.inputs, K = l.outputs, arc = a->kind == HWI_ARCFACE;
    const float *wn = a->scratch;
    for (int b = 0; b < l.batch; b++) {
        const float *f = net.input + (size_t)b * D;
        float fn = l.norms[b];
        float *dx = net.delta ? net.delta + (size_t)b * D : NULL;
        for (int k = 0; k < K; k++) {
            float c = l.x[(size_t)b * K + k];
            double dphi = 1;
            if (k == l.indexes[b])
                margin_phi(arc, a->weight, c, &dphi);
            float g = l.scale * l.delta[(size_t)b * K + k] * (float)dphi;
            if (g == 0)
                continue;
            const float *w = l.weights + (size_t)k * D;
            float *dw = l.weight_updates + (size_t)k * D;
            float gx = g / (fn * wn[k]), cx = g * c / (fn * fn);
            float gw = g / (fn * wn[k]), cw = g * c / (wn[k] * wn[k]);
            if (dx)
                for (int i = 0; i < D; i++)
                    dx[i] += gx * w[i] - cx * f[i];
            for (int i = 0; i < D; i++)
                dw[i] += gw * f[i] - cw * w[i];
        }
    }
}

/* SGD with momentum and weight decay as Darknet's connected layer, or Adam
 * when [net] adam=1. */
void hwi_margin_update(layer l, update_args u)
{
    struct hwi_aux *a = HWI_AUX(l);
    size_t n = (size_t)l.inputs * l.outputs;
    float lr = u.learning_rate * l.learning_rate_scale;
    if (u.adam) {
        adam_step(l.weights, l.weight_updates, a->m, a->v, (int)n, lr, u.decay, u);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        l.weight_updates[i] -= u.decay * u.batch * l.weights[i];
        l.weights[i] += lr / u.batch * l.weight_updates[i];
        l.weight_updates[i] *= u.momentum;
    }
}
/* [arcface] [cosface] */
int hwi_nn_make_margin(struct mk *m)
{
    struct build *b = m->b;
    const struct cfg *cf = m->b->cf;
    network *net = m->b->net;
    struct hwi_nn *nn = m->b->nn;
    struct hwi_aux *a = m->a;
    const char *t = m->s->type;
    size_params flat = m->flat;
    int i = m->i;
    const struct cfg_sec *s = m->s;
    if (nn->classes <= 0)
        return hwi_seterr(b->err, "%s:%d: %s needs a class count", cf->path, s->line, t);
    int arc = t[1] == 'a', D = flat.inputs, K = nn->classes;
    a->kind = arc ? HWI_ARCFACE : HWI_COSFACE;
    a->weight = (float)hwi_nn_cfg_double(s, "m", arc ? 0.5 : 0.35);
    if (arc && a->weight > 1.5)
        return hwi_seterr(b->err, "%s:%d: [arcface] m=%g: at most 1.5 (radians)", cf->path,
                          s->line, a->weight);
    m->l = hwi_nn_new_layer(&flat, BLANK, 1, 1, K, &m->oom);
    m->l.scale = (float)hwi_nn_cfg_double(s, "s", arc ? 64 : 30);
    m->l.weights = hwi_nn_xcalloc((size_t)K * D, sizeof(float), &m->oom);
    m->l.weight_updates = hwi_nn_xcalloc((size_t)K * D, sizeof(float), &m->oom);
    m->l.x = hwi_nn_xcalloc((size_t)m->l.batch * K, sizeof(float), &m->oom);
    m->l.norms = hwi_nn_xcalloc(m->l.batch, sizeof(float), &m->oom);
    m->l.indexes = hwi_nn_xcalloc(m->l.batch, sizeof(int), &m->oom);
    a->scratch = hwi_nn_xcalloc(K, sizeof(float), &m->oom);
    if (net->adam) {
        a->m = hwi_nn_xcalloc((size_t)K * D, sizeof(float), &m->oom);
        a->v = hwi_nn_xcalloc((size_t)K * D, sizeof(float), &m->oom);
    }
    for (size_t k = 0; !m->oom && k < (size_t)K * D; k++) /* Xavier uniform */
        m->l.weights[k] = (float)((2.0 * rand() / RAND_MAX - 1) * sqrt(6.0 / (D + K)));
    m->l.forward = hwi_margin_forward;
    m->l.backward = hwi_margin_backward;
    m->l.update = hwi_margin_update;
    if (nn->head_start < 0)
        nn->head_start = i;
    return 0;
}
