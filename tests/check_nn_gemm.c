/* check_nn_gemm.c: lib/nn_gemm.c against Darknet's own code.
 *
 * Each test runs the same computation twice in this process, once with
 * hwi_nn_gemm_reference(1) (libdarknet's gemm_cpu, im2col_cpu, col2im_cpu,
 * forward/backward_convolutional_layer) and once with hwi's, and compares.
 * Its own program (not tests/check_hwi): libdarknet sets flush-to-zero. */
#include <config.h>

#include "nn_gemm.h"

#include <check.h>
/* darknet.h has old-style declarations (f()) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <darknet.h>
#pragma GCC diagnostic pop
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Darknet's, not in darknet.h (src/gemm.h, src/im2col.h, src/col2im.h,
 * src/convolutional_layer.h at 61c9d02e). */
void gemm(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B,
          int ldb, float BETA, float *C, int ldc);
void gemm_cpu(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B,
              int ldb, float BETA, float *C, int ldc);
void im2col_cpu(float *data_im, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_col);
void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_im);
layer make_convolutional_layer(int batch, int h, int w, int c, int n, int groups, int size,
                               int stride, int padding, ACTIVATION activation,
                               int batch_normalize, int binary, int xnor, int adam);
void forward_convolutional_layer(layer l, network net);
void forward_maxpool_layer(layer l, network net);
void backward_maxpool_layer(layer l, network net);
layer make_maxpool_layer(int batch, int h, int w, int c, int size, int stride, int padding);
void activate_array(float *x, const int n, const ACTIVATION a);
void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta);
void add_bias(float *output, float *biases, int batch, int n, int size);
void backward_bias(float *bias_updates, float *delta, int batch, int n, int size);
void backward_convolutional_layer(layer l, network net);
void shortcut_cpu(int batch, int w1, int h1, int c1, float *add, int w2, int h2, int c2,
                  float s1, float s2, float *out);

/* Uniform values in [-1, 1) from a fixed generator (not rand(): Darknet's
 * weight initialisation uses it). */
static unsigned long long lcg = 1;
static float frand(void)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((lcg >> 40) / 8388608.0) - 1;
}

static float *random_array(size_t n)
{
    float *a = malloc(n * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < n; i++)
        a[i] = frand();
    return a;
}

static float *copy_array(const float *a, size_t n)
{
    float *b = malloc(n * sizeof *b);
    ck_assert_ptr_nonnull(b);
    memcpy(b, a, n * sizeof *b);
    return b;
}

/* Assert |A - B| <= TOL·(1 + |B|) elementwise (one Check assertion: each
 * costs a message to the parent process). */
static void assert_close(const float *a, const float *b, size_t n, float tol, const char *what)
{
    size_t i = 0;
    while (i < n && fabsf(a[i] - b[i]) <= tol * (1 + fabsf(b[i])))
        i++;
    ck_assert_msg(i == n, "%s[%zu]: hwi %.9g, darknet %.9g", what, i, i < n ? a[i] : 0,
                  i < n ? b[i] : 0);
}

/* Two threads even on one core, so that the parallel loops run. */
static void setup(void)
{
    hwi_nn_gemm_threads(2);
}

static void teardown(void)
{
    hwi_nn_gemm_reference(0);
}

/* ------------------------------------------------------------------ gemm */

/* Compare gemm (or gemm_cpu) with Darknet's for one shape, all four
 * TA/TB cases, padded leading dimensions. */
static void check_gemm_shape(int M, int N, int K, float alpha, float beta, int use_cpu)
{
    for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
            float *A = random_array((size_t)(ta ? K : M) * lda);
            float *B = random_array((size_t)(tb ? N : K) * ldb);
            float *C = random_array((size_t)M * ldc);
            float *C_ref = copy_array(C, (size_t)M * ldc);
            hwi_nn_gemm_reference(1);
            gemm_cpu(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C_ref, ldc);
            hwi_nn_gemm_reference(0);
            if (use_cpu)
                gemm_cpu(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            else
                gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            /* Darknet's loops sum K products in another order. */
            assert_close(C, C_ref, (size_t)M * ldc, 2e-6f * K + 1e-6f, "C");
            free(A);
            free(B);
            free(C);
            free(C_ref);
        }
    }
}

START_TEST(test_gemm_cases)
{
    /* the last two are big enough to be cut in bands of columns and of
     * rows on two threads, with a band narrower than the others */
    static const int shapes[][3] = {{1, 1, 1},      {7, 13, 5},   {33, 65, 17},
                                    {64, 9, 300},   {5, 257, 31}, {150, 203, 300},
                                    {203, 150, 300}};
    static const float ab[][2] = {{1, 1}, {1, 0}, {1.5f, 0.7f}, {-0.5f, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (size_t i = 0; i < sizeof ab / sizeof *ab; i++)
            check_gemm_shape(shapes[s][0], shapes[s][1], shapes[s][2], ab[i][0], ab[i][1],
                             s % 2);
}
END_TEST

/* BETA = 0: Darknet computes 0·C, keeping a NaN already in C; hwi
 * overwrites C as BLAS does. */
START_TEST(test_gemm_beta0_nan)
{
    float A[2] = {1, 2}, B[2] = {3, 4}, C[1] = {NAN}, C_ref[1] = {NAN};
    hwi_nn_gemm_reference(1);
    gemm(0, 0, 1, 1, 2, 1, A, 2, B, 1, 0, C_ref, 1);
    hwi_nn_gemm_reference(0);
    gemm(0, 0, 1, 1, 2, 1, A, 2, B, 1, 0, C, 1);
    ck_assert(isnan(C_ref[0]));
    ck_assert_float_eq(C[0], 11);
}
END_TEST

/* K = 0 (which BLAS rejects with lda = 0): C = BETA·C. */
START_TEST(test_gemm_k0)
{
    float C[4] = {1, 2, 3, 4};
    gemm(0, 0, 2, 2, 0, 1, NULL, 0, NULL, 2, 0.5f, C, 2);
    ck_assert_float_eq(C[0], 0.5f);
    ck_assert_float_eq(C[3], 2);
}
END_TEST

START_TEST(test_gemm_threads)
{
    hwi_nn_gemm_threads(1);
    check_gemm_shape(40, 50, 60, 1, 1, 0);
    hwi_nn_gemm_threads(0);
    check_gemm_shape(40, 50, 60, 1, 1, 0);
}
END_TEST

/* ------------------------------------------------------- im2col, col2im */

START_TEST(test_im2col_col2im)
{
    static const int geom[][6] = {
        /* c, h, w, ksize, stride, pad */
        {1, 1, 1, 1, 1, 0}, {3, 7, 5, 3, 1, 1}, {2, 9, 8, 3, 2, 1},   {2, 8, 9, 7, 2, 3},
        {4, 6, 6, 1, 2, 0}, {1, 5, 7, 5, 1, 0}, {3, 10, 11, 3, 3, 2}, {2, 4, 4, 3, 1, 2},
    };
    for (size_t g = 0; g < sizeof geom / sizeof *geom; g++) {
        int c = geom[g][0], h = geom[g][1], w = geom[g][2], k = geom[g][3], s = geom[g][4],
            p = geom[g][5];
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        size_t ncol = (size_t)c * k * k * oh * ow, nim = (size_t)c * h * w;
        float *im = random_array(nim), *col = random_array(ncol),
              *col_ref = copy_array(col, ncol);
        hwi_nn_gemm_reference(1);
        im2col_cpu(im, c, h, w, k, s, p, col_ref);
        hwi_nn_gemm_reference(0);
        im2col_cpu(im, c, h, w, k, s, p, col);
        ck_assert_mem_eq(col, col_ref, ncol * sizeof *col);

        float *im_ref = copy_array(im, nim);
        hwi_nn_gemm_reference(1);
        col2im_cpu(col, c, h, w, k, s, p, im_ref);
        hwi_nn_gemm_reference(0);
        col2im_cpu(col, c, h, w, k, s, p, im);
        assert_close(im, im_ref, nim, 1e-6f, "im");
        free(im);
        free(im_ref);
        free(col);
        free(col_ref);
    }
}
END_TEST

/* ------------------------------------------------- convolutional layer */

/* A convolutional layer with its inputs: the layer, the network fields
 * forward/backward read, and copies to compare. */
struct conv_case {
    layer l;
    network net;
};

static struct conv_case conv_make_groups(int batch, int h, int w, int c, int n, int groups,
                                         int size, int stride, int pad, ACTIVATION act, int bn,
                                         unsigned seed)
{
    struct conv_case cc;
    srand(seed);
    cc.l = make_convolutional_layer(batch, h, w, c, n, groups, size, stride, pad, act, bn, 0,
                                    0, 0);
    cc.l.learning_rate_scale = 1;
    lcg = seed;
    for (int i = 0; i < cc.l.n; i++)
        cc.l.biases[i] = 0.1f * frand();
    memset(&cc.net, 0, sizeof cc.net);
    cc.net.batch = batch;
    cc.net.train = 1;
    cc.net.input = random_array((size_t)batch * cc.l.inputs);
    cc.net.delta = random_array((size_t)batch * cc.l.inputs);
    cc.net.workspace = calloc(1, cc.l.workspace_size + sizeof(float));
    ck_assert_ptr_nonnull(cc.net.workspace);
    return cc;
}

static struct conv_case conv_make(int batch, int h, int w, int c, int n, int size, int stride,
                                  int pad, ACTIVATION act, int bn, unsigned seed)
{
    return conv_make_groups(batch, h, w, c, n, 1, size, stride, pad, act, bn, seed);
}

static void conv_run(struct conv_case *cc, int reference)
{
    hwi_nn_gemm_reference(reference);
    forward_convolutional_layer(cc->l, cc->net);
    /* an output gradient from "later layers" */
    lcg = 99;
    for (int i = 0; i < cc->l.outputs * cc->l.batch; i++)
        cc->l.delta[i] = frand();
    backward_convolutional_layer(cc->l, cc->net);
    hwi_nn_gemm_reference(0);
}

static void conv_free(struct conv_case *cc)
{
    free(cc->net.input);
    free(cc->net.delta);
    free(cc->net.workspace);
    free_layer(cc->l);
}

/* Forward output, weight/bias/scale gradients and input gradient of hwi's
 * layer against Darknet's, same weights and inputs. */
static void check_conv(int batch, int h, int w, int c, int n, int size, int stride, int pad,
                       ACTIVATION act, int bn)
{
    struct conv_case ref = conv_make(batch, h, w, c, n, size, stride, pad, act, bn, 7);
    struct conv_case hwi = conv_make(batch, h, w, c, n, size, stride, pad, act, bn, 7);
    ck_assert_mem_eq(ref.l.weights, hwi.l.weights, ref.l.nweights * sizeof(float));
    conv_run(&ref, 1);
    conv_run(&hwi, 0);
    size_t nout = (size_t)batch * ref.l.outputs, nin = (size_t)batch * ref.l.inputs;
    float tol = 1e-5f * size * size * c;
    assert_close(hwi.l.output, ref.l.output, nout, tol, "output");
    assert_close(hwi.l.weight_updates, ref.l.weight_updates, ref.l.nweights,
                 tol * batch * ref.l.out_h * ref.l.out_w, "weight_updates");
    assert_close(hwi.l.bias_updates, ref.l.bias_updates, n, tol * batch, "bias_updates");
    if (bn) {
        assert_close(hwi.l.scale_updates, ref.l.scale_updates, n, tol * batch,
                     "scale_updates");
        assert_close(hwi.l.rolling_mean, ref.l.rolling_mean, n, tol, "rolling_mean");
    }
    assert_close(hwi.net.delta, ref.net.delta, nin, tol * n, "input delta");
    conv_free(&ref);
    conv_free(&hwi);
}

START_TEST(test_conv_3x3)
{
    check_conv(3, 9, 7, 5, 6, 3, 1, 1, LEAKY, 0);
    check_conv(2, 9, 7, 5, 6, 3, 1, 1, RELU, 1);
    check_conv(3, 11, 10, 2, 4, 3, 2, 1, LINEAR, 1);
    check_conv(2, 13, 13, 1, 8, 7, 2, 3, RELU, 1);
    check_conv(2, 6, 5, 3, 4, 5, 1, 0, LOGISTIC, 0);
}
END_TEST

/* 30x30 maps: 4 images per product, so batch 6 makes a chunk of 4 and a
 * chunk of 2. */
START_TEST(test_conv_chunks)
{
    check_conv(6, 30, 30, 3, 4, 3, 1, 1, RELU, 1);
    check_conv(5, 32, 32, 4, 3, 1, 1, 0, LINEAR, 0);
    /* big enough for the element-wise and batch-norm loops to split */
    check_conv(4, 32, 32, 8, 16, 3, 1, 1, LEAKY, 1);
    /* an image's im2col matrix (144 x 1156) over the cache budget (128 Ki
     * floats): bands of 26 and 8 output rows; 5 images, uneven parts */
    check_conv(5, 34, 34, 16, 8, 3, 1, 1, RELU, 0);
    /* the same in a 7x7 stride-2 layer: 784 x 1024, bands of 5 and 2 rows */
    check_conv(3, 64, 64, 16, 4, 7, 2, 3, LINEAR, 0);
}
END_TEST

/* 1x1, stride 1: Darknet writes the input gradient over net.delta instead
 * of adding (docs/darknet.md P1); hwi's layer does the same, which
 * check_conv's prefilled net.delta shows. */
START_TEST(test_conv_1x1)
{
    check_conv(3, 5, 6, 7, 4, 1, 1, 0, LINEAR, 1);
    check_conv(1, 5, 6, 7, 4, 1, 1, 0, RELU, 0);
}
END_TEST

/* 1x1, stride 2: Darknet reads the input as if it were its im2col matrix
 * (convolutional_layer.c:467), which is wrong.  hwi's layer must equal a
 * 1x1 stride-1 convolution of the subsampled input, and its input
 * gradient that convolution's at the sampled pixels and 0 elsewhere. */
START_TEST(test_conv_1x1_stride2)
{
    int batch = 2, h = 7, w = 6, c = 3, n = 4, sh = 4, sw = 3;
    struct conv_case hwi = conv_make(batch, h, w, c, n, 1, 2, 0, LINEAR, 0, 11);
    struct conv_case sub = conv_make(batch, sh, sw, c, n, 1, 1, 0, LINEAR, 0, 11);
    struct conv_case bad = conv_make(batch, h, w, c, n, 1, 2, 0, LINEAR, 0, 11);
    ck_assert_int_eq(hwi.l.out_h, sh);
    ck_assert_int_eq(hwi.l.out_w, sw);
    memcpy(bad.net.input, hwi.net.input, (size_t)batch * hwi.l.inputs * sizeof(float));
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < c; k++)
            for (int y = 0; y < sh; y++)
                for (int x = 0; x < sw; x++)
                    sub.net.input[((b * c + k) * sh + y) * sw + x] =
                        hwi.net.input[((b * c + k) * h + 2 * y) * w + 2 * x];
    conv_run(&hwi, 0);
    conv_run(&sub, 1);
    conv_run(&bad, 1);
    size_t nout = (size_t)batch * hwi.l.outputs;
    assert_close(hwi.l.output, sub.l.output, nout, 1e-5f, "output");
    assert_close(hwi.l.weight_updates, sub.l.weight_updates, hwi.l.nweights, 1e-4f,
                 "weight_updates");
    float maxdiff = 0;
    for (size_t i = 0; i < nout; i++)
        maxdiff = fmaxf(maxdiff, fabsf(bad.l.output[i] - sub.l.output[i]));
    ck_assert_msg(maxdiff > 0.1f, "Darknet's 1x1 stride-2 bug seems fixed: recheck");
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float got = hwi.net.delta[((b * c + k) * h + y) * w + x];
                    float want = (y % 2 || x % 2)
                                     ? 0
                                     : sub.net.delta[((b * c + k) * sh + y / 2) * sw + x / 2];
                    ck_assert_msg(fabsf(got - want) <= 1e-5f, "delta %d,%d,%d,%d: %g vs %g", b,
                                  k, y, x, got, want);
                }
    conv_free(&hwi);
    conv_free(&sub);
    conv_free(&bad);
}
END_TEST

/* Groups go to Darknet's code unchanged. */
START_TEST(test_conv_groups_fallback)
{
    struct conv_case a = conv_make_groups(2, 6, 6, 4, 4, 2, 3, 1, 1, RELU, 0, 3);
    struct conv_case b = conv_make_groups(2, 6, 6, 4, 4, 2, 3, 1, 1, RELU, 0, 3);
    conv_run(&a, 1);
    conv_run(&b, 0);
    assert_close(b.l.output, a.l.output, 2 * a.l.outputs, 1e-5f, "output");
    assert_close(b.net.delta, a.net.delta, 2 * a.l.inputs, 1e-4f, "input delta");
    conv_free(&a);
    conv_free(&b);
}
END_TEST

/* ------------------------------------------------- element-wise, pooling */

START_TEST(test_activations)
{
    static const ACTIVATION acts[] = {LINEAR, RELU, LEAKY, LOGISTIC, ELU};
    size_t n = 100003; /* several threads' worth, odd */
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) {
        float *x = random_array(n), *x_ref = copy_array(x, n);
        float *d = random_array(n), *d_ref = copy_array(d, n);
        hwi_nn_gemm_reference(1);
        activate_array(x_ref, n, acts[i]);
        gradient_array(x_ref, n, acts[i], d_ref);
        hwi_nn_gemm_reference(0);
        activate_array(x, n, acts[i]);
        gradient_array(x, n, acts[i], d);
        assert_close(x, x_ref, n, 1e-6f, "activation");
        assert_close(d, d_ref, n, 1e-6f, "gradient");
        free(x);
        free(x_ref);
        free(d);
        free(d_ref);
    }
}
END_TEST

START_TEST(test_bias)
{
    int batch = 5, n = 37, size = 999;
    size_t len = (size_t)batch * n * size;
    float *x = random_array(len), *x_ref = copy_array(x, len), *bias = random_array(n);
    float *upd = random_array(n), *upd_ref = copy_array(upd, n);
    hwi_nn_gemm_reference(1);
    add_bias(x_ref, bias, batch, n, size);
    backward_bias(upd_ref, x_ref, batch, n, size);
    hwi_nn_gemm_reference(0);
    add_bias(x, bias, batch, n, size);
    backward_bias(upd, x, batch, n, size);
    ck_assert_mem_eq(x, x_ref, len * sizeof *x);
    assert_close(upd, upd_ref, n, 1e-5f, "bias_updates");
    free(x);
    free(x_ref);
    free(bias);
    free(upd);
    free(upd_ref);
}
END_TEST

/* fill, copy, axpy, scal and shortcut: bit for bit Darknet's, on arrays
 * long enough for several threads, with unit and other strides. */
START_TEST(test_vector_functions)
{
    size_t n = 100003;
    for (int inc = 1; inc <= 2; inc++) {
        int N = (int)(n / inc);
        float *x = random_array(n), *y = random_array(n), *y_ref = copy_array(y, n);
        for (int ref = 1; ref >= 0; ref--) {
            float *out = ref ? y_ref : y;
            hwi_nn_gemm_reference(ref);
            axpy_cpu(N, 0.3f, x, inc, out, inc);
            scal_cpu(N, -1.7f, out, inc);
            copy_cpu(N / 2, out, inc, out + n / 2, inc);
            fill_cpu(N / 3, 0.25f, out + 7, inc);
        }
        hwi_nn_gemm_reference(0);
        ck_assert_mem_eq(y, y_ref, n * sizeof *y);
        free(x);
        free(y);
        free(y_ref);
    }
    /* shortcut: same shape (hwi's loop) and a map twice the size */
    static const int shape[][6] = {{16, 16, 24, 16, 16, 24}, {16, 16, 24, 8, 8, 12}};
    for (int k = 0; k < 2; k++) {
        const int *q = shape[k];
        int batch = 10;
        size_t na = (size_t)batch * q[0] * q[1] * q[2],
               no = (size_t)batch * q[3] * q[4] * q[5];
        float *add = random_array(na), *out = random_array(no), *out_ref = copy_array(out, no);
        hwi_nn_gemm_reference(1);
        shortcut_cpu(batch, q[0], q[1], q[2], add, q[3], q[4], q[5], 0.5f, 1.5f, out_ref);
        hwi_nn_gemm_reference(0);
        shortcut_cpu(batch, q[0], q[1], q[2], add, q[3], q[4], q[5], 0.5f, 1.5f, out);
        ck_assert_mem_eq(out, out_ref, no * sizeof *out);
        free(add);
        free(out);
        free(out_ref);
    }
}
END_TEST

/* Output, argmax indexes and input gradient of max pooling, with windows
 * crossing every border. */
START_TEST(test_maxpool)
{
    static const int geom[][7] = {
        /* batch, h, w, c, size, stride, padding */
        {3, 9, 8, 4, 3, 2, 2},    {2, 8, 8, 5, 2, 2, 1},   {2, 7, 9, 3, 3, 1, 2},
        {4, 64, 64, 16, 3, 2, 2}, {3, 16, 12, 7, 2, 2, 1}, {2, 9, 9, 3, 2, 2, 1},
    };
    for (size_t g = 0; g < sizeof geom / sizeof *geom; g++) {
        const int *q = geom[g];
        layer a = make_maxpool_layer(q[0], q[1], q[2], q[3], q[4], q[5], q[6]);
        layer b = make_maxpool_layer(q[0], q[1], q[2], q[3], q[4], q[5], q[6]);
        size_t nin = (size_t)q[0] * a.inputs, nout = (size_t)q[0] * a.outputs;
        network net = {0};
        net.input = random_array(nin);
        net.delta = random_array(nin);
        net.train = 1; /* backward reads the argmax indexes */
        network net_b = net;
        net_b.delta = copy_array(net.delta, nin);
        for (size_t i = 0; i < nout; i++)
            a.delta[i] = b.delta[i] = frand();
        hwi_nn_gemm_reference(1);
        forward_maxpool_layer(a, net);
        backward_maxpool_layer(a, net);
        hwi_nn_gemm_reference(0);
        forward_maxpool_layer(b, net_b);
        backward_maxpool_layer(b, net_b);
        ck_assert_mem_eq(b.output, a.output, nout * sizeof(float));
        ck_assert_mem_eq(b.indexes, a.indexes, nout * sizeof(int));
        ck_assert_mem_eq(net_b.delta, net.delta, nin * sizeof(float));
        /* inference, through the maxima-only path where 2 x 2 windows
         * tile the input: Darknet's maxima, and with ties of +0 and -0
         * (on which Darknet, built with -Ofast, picks either) the first
         * maximum, as the general path keeps it */
        net_b.train = 0;
        memset(b.output, 0, nout * sizeof(float));
        forward_maxpool_layer(b, net_b);
        ck_assert_mem_eq(b.output, a.output, nout * sizeof(float));
        for (size_t i = 0; i < nin; i += 7)
            net.input[i] = i % 2 ? 0.0f : -0.0f;
        net_b.train = 1;
        forward_maxpool_layer(a, net_b);
        net_b.train = 0;
        forward_maxpool_layer(b, net_b);
        ck_assert_mem_eq(b.output, a.output, nout * sizeof(float));
        free(net.input);
        free(net.delta);
        free(net_b.delta);
        free_layer(a);
        free_layer(b);
    }
}
END_TEST

static Suite *make_nn_gemm_suite(void)
{
    Suite *s = suite_create("nn_gemm");
    TCase *tc = tcase_create("Core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_gemm_cases);
    tcase_add_test(tc, test_gemm_beta0_nan);
    tcase_add_test(tc, test_gemm_threads);
    tcase_add_test(tc, test_im2col_col2im);
    tcase_add_test(tc, test_conv_3x3);
    tcase_add_test(tc, test_conv_1x1);
    tcase_add_test(tc, test_activations);
    tcase_add_test(tc, test_bias);
    tcase_add_test(tc, test_maxpool);
    tcase_add_test(tc, test_vector_functions);
    suite_add_tcase(s, tc);
    tc = tcase_create("Limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_gemm_k0);
    tcase_add_test(tc, test_conv_chunks);
    tcase_add_test(tc, test_conv_1x1_stride2);
    tcase_add_test(tc, test_conv_groups_fallback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_nn_gemm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
