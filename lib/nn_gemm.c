/* nn_gemm.c: Darknet's hot loops on OpenBLAS and on every core.
 *
 * Darknet (Debian 0.0.0+git20180914.61c9d02e) runs single-threaded, and
 * multiplies matrices with its own loops, about 5 GFLOP/s here, where
 * OpenBLAS's sgemm gives 175-180 on two threads.  libdarknet.so calls
 * every function through its PLT and takes layer function pointers from
 * its GOT (docs/darknet.md §1), so the definitions below, linked into the
 * program, replace the library's for all its layers.  Replaced, with the
 * library's names and arguments (source files of darknet 61c9d02e):
 *   gemm, gemm_cpu              cblas_sgemm (src/gemm.c); conv and connected
 *                               layers call gemm, deconvolution gemm_cpu
 *   im2col_cpu, col2im_cpu      row copies instead of per-pixel tests
 *   forward_/backward_convolutional_layer
 *                               several images per product (see below)
 *   activate_array, gradient_array (linear, ReLU, leaky), add_bias,
 *   backward_bias, and batch norm's mean_cpu, variance_cpu, normalize_cpu,
 *   scale_bias, backward_scale_cpu, mean_delta_cpu, variance_delta_cpu,
 *   normalize_delta_cpu         vectorised, split over threads
 *   fill_cpu, copy_cpu, axpy_cpu, scal_cpu, shortcut_cpu
 *                               split over threads
 *   forward_/backward_maxpool_layer  split over threads, branch-free
 * All of it runs on one pool of threads (hwi_nn_gemm_threads sets their
 * number), products included: OpenBLAS itself runs on one thread, and
 * each product is cut into one band per thread.
 *
 * gemm semantics kept (src/gemm.c:65-169): row-major
 * C = ALPHA·op(A)·op(B) + BETA·C, lda/ldb/ldc the row strides as stored,
 * TA/TB nonzero for a transposed operand.  One difference: with BETA = 0
 * Darknet computes 0·C, so a NaN or Inf already in C stays; BLAS, and so
 * hwi, overwrites C.  Darknet's layers only pass BETA = 0 when C is about
 * to be overwritten anyway (the 1x1-convolution input gradient).  Sums
 * run in another order than Darknet's, so results agree to rounding
 * (tests/check_nn_gemm.c), not bit for bit.
 *
 * hwi_nn_gemm_reference(1) routes every call back to the library's own
 * code, looked up with dlsym(RTLD_NEXT), so that a test or a benchmark
 * can compare both in one process. */
#include <config.h>

/* The element-wise loops below only vectorise at -O3 without FP traps
 * (which change no result). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif

#include "nn_gemm.h"
#include "pool.h"

/* darknet.h has old-style declarations (f()) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <darknet.h>
#pragma GCC diagnostic pop

#include <cblas.h>
#include <dlfcn.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void gemm_fn(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda,
                     float *B, int ldb, float BETA, float *C, int ldc);

/* Darknet's names (src/gemm.h at 61c9d02e); extern so the library binds
 * to them. */
gemm_fn gemm, gemm_cpu;

/* Nonzero: call Darknet's own functions (see hwi_nn_gemm_reference). */
static int use_reference;

/* OpenBLAS runs on one thread: hwi splits each product itself (sgemm
 * below).  OpenBLAS's own workers spin on sched_yield for a while after
 * every product they share, and took a fifth of a training step's CPU
 * time from hwi's loops when both ran. */
static void blas_single(void)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(1);
#endif
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

void hwi_nn_gemm_threads(int n)
{
    hwi_pool_set_size(n);
    pthread_once(&blas_once, blas_single);
}

/* The pool of threads is lib/pool.c's. */
#define parallel_for hwi_pool_for
#define thread_count hwi_pool_size

void hwi_nn_parallel_for(size_t n, size_t grain, void (*fn)(void *, size_t, size_t), void *arg)
{
    parallel_for(n, grain, fn, arg);
}

/* ------------------------------------------------------------------------
 * sgemm: C = ALPHA·op(A)·op(B) + BETA·C, row-major, on the pool.  C is
 * cut into bands of whole columns (or of whole rows, when it has more
 * rows than columns), one per thread, and each band is one OpenBLAS call
 * on one thread.  Products under a few MFLOP stay on one thread. */

/* Columns per band unit: a cache line of floats. */
enum { BAND_COLUMNS = 16 };

/* FLOPs a thread should at least get. */
#define SGEMM_GRAIN_FLOPS 4e6

struct sgemm {
    int ta, tb, m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int lda, ldb, ldc;
    int by_rows;
};

static void sgemm_band(void *arg, size_t lo, size_t hi)
{
    const struct sgemm *g = arg;
    const float *a = g->a, *b = g->b;
    float *c = g->c;
    int m = g->m, n = g->n;
    if (g->by_rows) { /* rows [lo, hi) of C and of op(A) */
        a += g->ta ? lo : lo * g->lda;
        c += lo * g->ldc;
        m = (int)(hi - lo);
    } else { /* columns [lo, hi) bands of C and of op(B) */
        size_t c0 = lo * BAND_COLUMNS, c1 = hi * BAND_COLUMNS;
        if (c1 > (size_t)n)
            c1 = n;
        if (c0 >= c1)
            return;
        b += g->tb ? c0 * g->ldb : c0;
        c += c0;
        n = (int)(c1 - c0);
    }
    cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                g->tb ? CblasTrans : CblasNoTrans, m, n, g->k, g->alpha, a, g->lda, b, g->ldb,
                g->beta, c, g->ldc);
}

static void sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc)
{
    pthread_once(&blas_once, blas_single);
    struct sgemm g = {ta, tb, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc, n < m};
    size_t items = g.by_rows ? (size_t)m : ((size_t)n + BAND_COLUMNS - 1) / BAND_COLUMNS;
    double flops_per_item = 2.0 * k * (g.by_rows ? n : m * BAND_COLUMNS);
    size_t grain = flops_per_item >= SGEMM_GRAIN_FLOPS
                       ? 1
                       : (size_t)(SGEMM_GRAIN_FLOPS / (flops_per_item + 1)) + 1;
    parallel_for(items, grain, sgemm_band, &g);
}

void hwi_nn_gemm_reference(int on)
{
    use_reference = on;
}

/* The next definition of NAME after this program's: libdarknet's. */
static void *darknet_symbol(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p)
        abort(); /* cannot happen while libdarknet is linked */
    return p;
}

/* Calls Darknet's function NAME with ARGS, and returns, in reference mode
 * or when COND holds (a case hwi leaves to Darknet). */
#define DARKNET_WHEN(cond, name, type, args)                                                  \
    do {                                                                                      \
        static type *fn;                                                                      \
        if (use_reference || (cond)) {                                                        \
            if (!fn)                                                                          \
                fn = (type *)darknet_symbol(name);                                            \
            fn args;                                                                          \
            return;                                                                           \
        }                                                                                     \
    } while (0)

/* Calls Darknet's function NAME with ARGS in reference mode. */
#define REFERENCE(name, type, args) DARKNET_WHEN(0, name, type, args)

void gemm_cpu(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B,
              int ldb, float BETA, float *C, int ldc)
{
    REFERENCE("gemm_cpu", gemm_fn, (TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc));
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) { /* BLAS rejects lda = 0 */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[i * ldc + j] = BETA == 0 ? 0 : BETA * C[i * ldc + j];
        return;
    }
    sgemm(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
}

void gemm(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda, float *B,
          int ldb, float BETA, float *C, int ldc)
{
    gemm_cpu(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
}

/* ------------------------------------------------------------------------
 * im2col and col2im (darknet src/im2col.c, src/col2im.c; Caffe layout).
 *
 * COL is (channels·ksize²) rows of out_h·out_w values; row r starts at
 * COL + r·LDCOL.  Darknet tests every pixel against the border; these
 * loops work out the valid run of each output row once, and copy it
 * (stride 1) or gather it. */

/* The valid output columns [*X0, *X1) of kernel offset KX: those whose
 * input column x·stride − pad + kx lies in [0, width). */
static void valid_range(int out_w, int width, int stride, int pad, int kx, int *x0, int *x1)
{
    int lo = 0, hi = out_w;
    while (lo < hi && lo * stride - pad + kx < 0)
        lo++;
    while (hi > lo && (hi - 1) * stride - pad + kx >= width)
        hi--;
    *x0 = lo;
    *x1 = hi;
}

/* Output rows [Y0, Y1) only: COL's rows hold (Y1 − Y0)·out_w values. */
static void im2col_rows(const float *im, int channels, int height, int width, int ksize,
                        int stride, int pad, int y0, int y1, float *col, size_t ldcol)
{
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; c++) {
        for (int ky = 0; ky < ksize; ky++) {
            for (int kx = 0; kx < ksize; kx++) {
                float *row = col + ((size_t)(c * ksize + ky) * ksize + kx) * ldcol;
                int x0, x1;
                valid_range(out_w, width, stride, pad, kx, &x0, &x1);
                for (int y = y0; y < y1; y++) {
                    float *out = row + (size_t)(y - y0) * out_w;
                    int iy = y * stride - pad + ky;
                    if (iy < 0 || iy >= height || x0 >= x1) {
                        memset(out, 0, out_w * sizeof *out);
                        continue;
                    }
                    const float *in = im + ((size_t)c * height + iy) * width - pad + kx;
                    for (int x = 0; x < x0; x++)
                        out[x] = 0;
                    if (stride == 1) {
                        memcpy(out + x0, in + x0, (x1 - x0) * sizeof *out);
                    } else {
                        for (int x = x0; x < x1; x++)
                            out[x] = in[x * stride];
                    }
                    for (int x = x1; x < out_w; x++)
                        out[x] = 0;
                }
            }
        }
    }
}

/* im2col_rows for the common 3x3, stride 1, padding 1 case, one channel:
 * the three rows of a kernel row are the input row shifted by -1, 0 and
 * +1, so each output row is three straight copies, with no bounds work
 * per pixel and no call per row (short maps have rows of 4 to 32 floats,
 * where memcpy's call cost more than the copy). */
static void im2col_3x3s1(const float *restrict im, int h, int w, int y0, int y1,
                         float *restrict col, size_t ldcol)
{
    for (int ky = 0; ky < 3; ky++) {
        float *r0 = col + (size_t)(ky * 3) * ldcol, *r1 = r0 + ldcol, *r2 = r1 + ldcol;
        for (int y = y0; y < y1; y++) {
            size_t o = (size_t)(y - y0) * w;
            int iy = y + ky - 1;
            if (iy < 0 || iy >= h) {
                for (int x = 0; x < w; x++)
                    r0[o + x] = r1[o + x] = r2[o + x] = 0;
                continue;
            }
            const float *in = im + (size_t)iy * w;
            r0[o] = 0;
            for (int x = 1; x < w; x++)
                r0[o + x] = in[x - 1];
            for (int x = 0; x < w; x++)
                r1[o + x] = in[x];
            for (int x = 0; x < w - 1; x++)
                r2[o + x] = in[x + 1];
            r2[o + w - 1] = 0;
        }
    }
}

/* col2im_rows for 3x3, stride 1, padding 1, one channel: adds the three
 * shifted rows of each kernel row into the input row. */
static void col2im_3x3s1(const float *restrict col, size_t ldcol, int h, int w, int y0, int y1,
                         float *restrict im)
{
    for (int ky = 0; ky < 3; ky++) {
        const float *r0 = col + (size_t)(ky * 3) * ldcol, *r1 = r0 + ldcol, *r2 = r1 + ldcol;
        for (int y = y0; y < y1; y++) {
            int iy = y + ky - 1;
            if (iy < 0 || iy >= h)
                continue;
            size_t o = (size_t)(y - y0) * w;
            float *out = im + (size_t)iy * w;
            for (int x = 1; x < w; x++)
                out[x - 1] += r0[o + x];
            for (int x = 0; x < w; x++)
                out[x] += r1[o + x];
            for (int x = 0; x < w - 1; x++)
                out[x + 1] += r2[o + x];
        }
    }
}

/* Add COL (layout as above, output rows [Y0, Y1)) into the image IM. */
static void col2im_rows(const float *col, size_t ldcol, int channels, int height, int width,
                        int ksize, int stride, int pad, int y0, int y1, float *im)
{
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; c++) {
        for (int ky = 0; ky < ksize; ky++) {
            for (int kx = 0; kx < ksize; kx++) {
                const float *row = col + ((size_t)(c * ksize + ky) * ksize + kx) * ldcol;
                int x0, x1;
                valid_range(out_w, width, stride, pad, kx, &x0, &x1);
                for (int y = y0; y < y1; y++) {
                    int iy = y * stride - pad + ky;
                    if (iy < 0 || iy >= height)
                        continue;
                    const float *src = row + (size_t)(y - y0) * out_w;
                    float *dst = im + ((size_t)c * height + iy) * width - pad + kx;
                    if (stride == 1) {
                        for (int x = x0; x < x1; x++)
                            dst[x] += src[x];
                    } else {
                        for (int x = x0; x < x1; x++)
                            dst[x * stride] += src[x];
                    }
                }
            }
        }
    }
}

void im2col_cpu(float *data_im, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_col);
void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_im);

void im2col_cpu(float *data_im, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_col)
{
    typedef void type(float *, int, int, int, int, int, int, float *);
    REFERENCE("im2col_cpu", type,
              (data_im, channels, height, width, ksize, stride, pad, data_col));
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    im2col_rows(data_im, channels, height, width, ksize, stride, pad, 0, out_h, data_col,
                (size_t)out_h * out_w);
}

void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_im)
{
    typedef void type(float *, int, int, int, int, int, int, float *);
    REFERENCE("col2im_cpu", type,
              (data_col, channels, height, width, ksize, stride, pad, data_im));
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    col2im_rows(data_col, (size_t)out_h * out_w, channels, height, width, ksize, stride, pad,
                0, out_h, data_im);
}

/* ------------------------------------------------------------------------
 * Convolutional layer: each thread convolves its own images.
 *
 * Darknet (src/convolutional_layer.c:445-536) multiplies once per image:
 * on a 4x4 map that is a 512x4608 by 4608x16 product, which reads all the
 * weights to make 16 columns.  Here the batch is cut into one range of
 * images per thread (a "part"); a part goes through its range a chunk of
 * G images at a time, G·hw >= MIN_COLUMNS: im2col lays the chunk's images
 * side by side, [k][G·hw], one product (OpenBLAS on this thread) covers
 * it, and the result, [m][G·hw], is scattered to Darknet's [G][m][hw]; a
 * chunk of one image is written in place.  The im2col matrix is still in
 * this core's cache when the product reads it, and a layer costs one
 * round trip to the pool instead of several per chunk.  The weight
 * gradient is a sum over the batch: part p > 0 sums its images into a
 * buffer of its own, and these are added to weight_updates in the order
 * of p, so a given thread count always gives the same bits.  Batch
 * normalisation, bias and activation are Darknet's functions, called as
 * the library calls them.
 *
 * Semantics are Darknet's, with one exception: a 1x1 convolution with
 * stride > 1 (or padding) uses the input as if it were its im2col matrix
 * in Darknet, which is wrong (the forward output is garbage); here it is a
 * real strided convolution.  The input gradient of every 1x1 convolution
 * still overwrites net.delta as Darknet's does (docs/darknet.md P1), so a
 * workaround for P1 stays valid.  Groups, binary and xnor layers go to
 * Darknet's own code. */

void forward_convolutional_layer(layer l, network net);
void backward_convolutional_layer(layer l, network net);
void forward_batchnorm_layer(layer l, network net);
void backward_batchnorm_layer(layer l, network net);
void activate_array(float *x, const int n, const ACTIVATION a);
void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta);
void add_bias(float *output, float *biases, int batch, int n, int size);
void backward_bias(float *bias_updates, float *delta, int batch, int n, int size);

/* Columns a chunk's product aims for. */
enum { MIN_COLUMNS = 512 };

/* Floats a thread should at least move in a parallel loop. */
enum { GRAIN_FLOATS = 32768 };

static size_t grain(size_t floats_per_item)
{
    return floats_per_item >= GRAIN_FLOATS ? 1 : GRAIN_FLOATS / (floats_per_item + 1);
}

/* Scratch, grown on demand and kept; a convolution holds scratch_lock
 * while it uses it (two networks may run in two threads). */
static float *scratch;
static size_t scratch_size;
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;

static float *get_scratch(size_t n)
{
    if (scratch_size < n) {
        free(scratch);
        scratch = malloc(n * sizeof(float));
        if (!scratch)
            abort(); /* Darknet's own allocations abort the same way */
        scratch_size = n;
    }
    return scratch;
}

static int fast_conv(const layer *l)
{
    return !use_reference && l->groups == 1 && !l->binary && !l->xnor;
}

/* Does the layer read its input directly as the im2col matrix? */
static int direct_conv(const layer *l)
{
    return l->size == 1 && l->stride == 1 && l->pad == 0;
}

/* 3x3, stride 1, padding 1 (so out_h = h, out_w = w)? */
static int is_3x3s1(const layer *l)
{
    return l->size == 3 && l->stride == 1 && l->pad == 1;
}

/* One call of a convolutional layer, cut in PARTS ranges of images. */
struct conv {
    const layer *l;
    network net;
    int m, k, hw, g; /* filters, im2col rows, output pixels, images per chunk */
    size_t in_size, out_size;
    int parts;
    float *buf; /* per part: col [k][g·hw], rows [m][g·hw], dw [m][k] (p > 0) */
    size_t col_size, rows_size, part_size;
};

static void conv_init(struct conv *c, const layer *l, network net, int backward)
{
    c->l = l;
    c->net = net;
    c->m = l->n;
    c->k = l->size * l->size * l->c;
    c->hw = l->out_h * l->out_w;
    c->in_size = (size_t)l->c * l->h * l->w;
    c->out_size = (size_t)c->m * c->hw;
    c->parts = thread_count() < l->batch ? thread_count() : l->batch;
    int per_part = (l->batch + c->parts - 1) / c->parts;
    c->g = (MIN_COLUMNS + c->hw - 1) / c->hw;
    if (c->g > per_part)
        c->g = per_part;
    c->col_size = (size_t)c->k * c->g * c->hw;
    c->rows_size = c->g > 1 ? (size_t)c->m * c->g * c->hw : 0;
    c->part_size = c->col_size + c->rows_size + (backward ? (size_t)c->m * c->k : 0);
    c->buf = get_scratch(c->part_size * c->parts);
}

/* im2col of output rows [Y0, Y1) of images IM (GB of them) into COL
 * [k][cols]; image j's columns start at j·(Y1 − Y0)·out_w. */
static void pack_images(const layer *l, const float *im, int gb, int y0, int y1, float *col,
                        size_t cols)
{
    size_t plane = (size_t)l->h * l->w, ks2 = (size_t)l->size * l->size;
    size_t per_image = (size_t)(y1 - y0) * l->out_w;
    for (int j = 0; j < gb; j++) {
        for (int ch = 0; ch < l->c; ch++) {
            const float *src = im + ((size_t)j * l->c + ch) * plane;
            float *dst = col + ch * ks2 * cols + j * per_image;
            if (direct_conv(l))
                memcpy(dst, src, plane * sizeof *dst);
            else if (is_3x3s1(l))
                im2col_3x3s1(src, l->h, l->w, y0, y1, dst, cols);
            else
                im2col_rows(src, 1, l->h, l->w, l->size, l->stride, l->pad, y0, y1, dst, cols);
        }
    }
}

/* col2im: add COL (as pack_images lays it out) into the input gradients
 * IM of GB images; a 1x1 layer's whole map (Y0 = 0, Y1 = out_h)
 * overwrites them instead, as Darknet does (P1). */
static void unpack_images(const layer *l, const float *col, size_t cols, int gb, int y0,
                          int y1, float *im)
{
    size_t plane = (size_t)l->h * l->w, ks2 = (size_t)l->size * l->size;
    size_t per_image = (size_t)(y1 - y0) * l->out_w;
    for (int j = 0; j < gb; j++) {
        for (int ch = 0; ch < l->c; ch++) {
            float *dst = im + ((size_t)j * l->c + ch) * plane;
            const float *src = col + ch * ks2 * cols + j * per_image;
            if (direct_conv(l)) {
                memcpy(dst, src, plane * sizeof *dst);
                continue;
            }
            if (l->size == 1)
                memset(dst, 0, plane * sizeof *dst);
            if (is_3x3s1(l))
                col2im_3x3s1(src, cols, l->h, l->w, y0, y1, dst);
            else
                col2im_rows(src, cols, 1, l->h, l->w, l->size, l->stride, l->pad, y0, y1, dst);
        }
    }
}

/* Between maps [gb][m][hw] and rows [m][gb·hw]. */
static void maps_to_rows(const float *map, int gb, int m, int hw, float *rows)
{
    for (int j = 0; j < gb; j++)
        for (int r = 0; r < m; r++)
            memcpy(rows + ((size_t)r * gb + j) * hw, map + ((size_t)j * m + r) * hw,
                   hw * sizeof *rows);
}

static void rows_to_maps(const float *rows, int gb, int m, int hw, float *map)
{
    for (int j = 0; j < gb; j++)
        for (int r = 0; r < m; r++)
            memcpy(map + ((size_t)j * m + r) * hw, rows + ((size_t)r * gb + j) * hw,
                   hw * sizeof *map);
}

/* Images [*B0, *B1) of part P. */
static void part_images(const struct conv *c, size_t p, int *b0, int *b1)
{
    int batch = c->l->batch;
    *b0 = (int)((size_t)batch * p / c->parts);
    *b1 = (int)((size_t)batch * (p + 1) / c->parts);
}

/* Output rows per band of a chunk of GB images: all of them, unless one
 * image's im2col matrix would not fit in a core's cache (about
 * BAND_FLOATS), in which case the image goes in bands of rows, each
 * packed and multiplied while it is still there.  1x1 layers, whose
 * matrix is at most the input, take the whole map. */
enum { BAND_FLOATS = 128 * 1024 };

static int band_rows(const struct conv *c, int gb)
{
    const layer *l = c->l;
    size_t per_row = (size_t)c->k * l->out_w;
    if (gb > 1 || l->size == 1 || per_row * l->out_h <= BAND_FLOATS)
        return l->out_h;
    return per_row >= BAND_FLOATS ? 1 : (int)(BAND_FLOATS / per_row);
}

/* Are the N values all zero?  Adding zero biases is a pass over the
 * output that changes nothing but the sign of a zero: hwi's layers with
 * their own batch norm pass zeros here (lib/nn_layers.c). */
static int all_zero(const float *x, int n)
{
    for (int i = 0; i < n; i++)
        if (x[i] != 0)
            return 0;
    return 1;
}

static void conv_forward_part(void *arg, size_t lo, size_t hi)
{
    const struct conv *c = arg;
    const layer *l = c->l;
    for (size_t p = lo; p < hi; p++) {
        float *col = c->buf + p * c->part_size, *rows = col + c->col_size;
        int b0, b1;
        part_images(c, p, &b0, &b1);
        for (int b = b0; b < b1; b += c->g) {
            int gb = b1 - b < c->g ? b1 - b : c->g, band = band_rows(c, gb);
            const float *im = c->net.input + b * c->in_size;
            float *out = l->output + b * c->out_size;
            if (gb == 1 && direct_conv(l)) { /* the input is its own matrix */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->m, c->hw, c->k, 1,
                            l->weights, c->k, im, c->hw, 0, out, c->hw);
                continue;
            }
            for (int y0 = 0; y0 < l->out_h; y0 += band) {
                int y1 = y0 + band < l->out_h ? y0 + band : l->out_h;
                int cols = gb * (y1 - y0) * l->out_w;
                pack_images(l, im, gb, y0, y1, col, cols);
                /* [m][cols] = weights [m][k] · col [k][cols], in place for
                 * one image */
                if (gb == 1)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->m, cols, c->k, 1,
                                l->weights, c->k, col, cols, 0, out + y0 * l->out_w, c->hw);
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->m, cols, c->k, 1,
                                l->weights, c->k, col, cols, 0, rows, cols);
            }
            if (gb > 1)
                rows_to_maps(rows, gb, c->m, c->hw, out);
        }
    }
}

void forward_convolutional_layer(layer l, network net)
{
    typedef void type(layer, network);
    DARKNET_WHEN(!fast_conv(&l), "forward_convolutional_layer", type, (l, net));
    pthread_once(&blas_once, blas_single);
    struct conv c;
    pthread_mutex_lock(&scratch_lock);
    conv_init(&c, &l, net, 0);
    parallel_for(c.parts, 1, conv_forward_part, &c);
    pthread_mutex_unlock(&scratch_lock);
    if (l.batch_normalize)
        forward_batchnorm_layer(l, net);
    else if (!all_zero(l.biases, l.n))
        add_bias(l.output, l.biases, l.batch, l.n, c.hw);
    activate_array(l.output, l.outputs * l.batch, l.activation);
}

static void conv_backward_part(void *arg, size_t lo, size_t hi)
{
    const struct conv *c = arg;
    const layer *l = c->l;
    for (size_t p = lo; p < hi; p++) {
        float *col = c->buf + p * c->part_size, *rows = col + c->col_size,
              *dw = p == 0 ? l->weight_updates : rows + c->rows_size;
        if (p > 0)
            memset(dw, 0, (size_t)c->m * c->k * sizeof *dw);
        int b0, b1;
        part_images(c, p, &b0, &b1);
        for (int b = b0; b < b1; b += c->g) {
            int gb = b1 - b < c->g ? b1 - b : c->g, band = band_rows(c, gb);
            const float *im = c->net.input + b * c->in_size;
            const float *delta = l->delta + b * c->out_size;
            float *in_delta = c->net.delta ? c->net.delta + b * c->in_size : NULL;
            if (gb == 1 && direct_conv(l)) { /* the input is its own matrix */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->m, c->k, c->hw, 1,
                            delta, c->hw, im, c->hw, 1, dw, c->k);
                /* Darknet writes this product straight into net.delta (P1). */
                if (in_delta)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->k, c->hw, c->m, 1,
                                l->weights, c->k, delta, c->hw, 0, in_delta, c->hw);
                continue;
            }
            if (gb > 1)
                maps_to_rows(delta, gb, c->m, c->hw, rows);
            for (int y0 = 0; y0 < l->out_h; y0 += band) {
                int y1 = y0 + band < l->out_h ? y0 + band : l->out_h;
                int cols = gb * (y1 - y0) * l->out_w;
                /* this band's output gradient, [m][cols] with row stride ld */
                const float *d = gb > 1 ? rows : delta + y0 * l->out_w;
                int ld = gb > 1 ? cols : c->hw;
                pack_images(l, im, gb, y0, y1, col, cols);
                /* dw [m][k] += d · colᵀ */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->m, c->k, cols, 1, d,
                            ld, col, cols, 1, dw, c->k);
                if (!in_delta)
                    continue;
                /* col [k][cols] = weightsᵀ · d */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->k, cols, c->m, 1,
                            l->weights, c->k, d, ld, 0, col, cols);
                unpack_images(l, col, cols, gb, y0, y1, in_delta);
            }
        }
    }
}

/* Items i: weight_updates[i] += the parts' sums, in the order of parts. */
static void conv_reduce_part(void *arg, size_t lo, size_t hi)
{
    const struct conv *c = arg;
    for (int p = 1; p < c->parts; p++) {
        const float *dw = c->buf + p * c->part_size + c->col_size + c->rows_size;
        for (size_t i = lo; i < hi; i++)
            c->l->weight_updates[i] += dw[i];
    }
}

void backward_convolutional_layer(layer l, network net)
{
    typedef void type(layer, network);
    DARKNET_WHEN(!fast_conv(&l), "backward_convolutional_layer", type, (l, net));
    pthread_once(&blas_once, blas_single);
    int hw = l.out_h * l.out_w;
    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    if (l.batch_normalize)
        backward_batchnorm_layer(l, net);
    else
        backward_bias(l.bias_updates, l.delta, l.batch, l.n, hw);

    struct conv c;
    pthread_mutex_lock(&scratch_lock);
    conv_init(&c, &l, net, 1);
    parallel_for(c.parts, 1, conv_backward_part, &c);
    if (c.parts > 1)
        parallel_for((size_t)c.m * c.k, GRAIN_FLOATS, conv_reduce_part, &c);
    pthread_mutex_unlock(&scratch_lock);
}

/* ------------------------------------------------------------------------
 * Element-wise functions of Darknet's layers (src/activations.c, src/
 * convolutional_layer.c): the same arithmetic, in loops the compiler can
 * vectorise, on several threads.  Activations other than linear, ReLU and
 * leaky go to Darknet's code. */

struct elementwise {
    float *x;
    const float *y;
    const float *v;
    int n, size;
};

static void relu_part(void *arg, size_t lo, size_t hi)
{
    float *x = ((struct elementwise *)arg)->x;
    for (size_t i = lo; i < hi; i++)
        x[i] = x[i] * (float)(x[i] > 0);
}

static void leaky_part(void *arg, size_t lo, size_t hi)
{
    float *x = ((struct elementwise *)arg)->x;
    for (size_t i = lo; i < hi; i++)
        x[i] = hwi_nn_leaky(x[i]);
}

void activate_array(float *x, const int n, const ACTIVATION a)
{
    typedef void type(float *, int, ACTIVATION);
    DARKNET_WHEN(a != LINEAR && a != RELU && a != LEAKY, "activate_array", type, (x, n, a));
    if (a == LINEAR)
        return; /* linear_activate(x) = x */
    struct elementwise e = {x, NULL, NULL, n, 0};
    parallel_for(n, GRAIN_FLOATS, a == RELU ? relu_part : leaky_part, &e);
}

static void relu_grad_part(void *arg, size_t lo, size_t hi)
{
    struct elementwise *e = arg;
    for (size_t i = lo; i < hi; i++)
        e->x[i] *= (float)(e->y[i] > 0);
}

static void leaky_grad_part(void *arg, size_t lo, size_t hi)
{
    struct elementwise *e = arg;
    for (size_t i = lo; i < hi; i++)
        e->x[i] *= e->y[i] > 0 ? 1.0f : (float).1;
}

void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta)
{
    typedef void type(const float *, int, ACTIVATION, float *);
    DARKNET_WHEN(a != LINEAR && a != RELU && a != LEAKY, "gradient_array", type,
                 (x, n, a, delta));
    if (a == LINEAR)
        return; /* linear_gradient(x) = 1 */
    struct elementwise e = {delta, x, NULL, n, 0};
    parallel_for(n, GRAIN_FLOATS, a == RELU ? relu_grad_part : leaky_grad_part, &e);
}

/* Items b·n + i: output[b][i][·] += biases[i]. */
static void add_bias_part(void *arg, size_t lo, size_t hi)
{
    struct elementwise *e = arg;
    for (size_t it = lo; it < hi; it++) {
        float *o = e->x + it * e->size, bias = e->v[it % e->n];
        for (int j = 0; j < e->size; j++)
            o[j] += bias;
    }
}

void add_bias(float *output, float *biases, int batch, int n, int size)
{
    typedef void type(float *, float *, int, int, int);
    REFERENCE("add_bias", type, (output, biases, batch, n, size));
    struct elementwise e = {output, NULL, biases, n, size};
    parallel_for((size_t)batch * n, grain(size), add_bias_part, &e);
}

/* Items i (filters): bias_updates[i] += sum over b of delta[b][i][·]. */
struct bias_sum {
    float *bias_updates;
    const float *delta;
    int batch, n, size;
};

static void backward_bias_part(void *arg, size_t lo, size_t hi)
{
    struct bias_sum *e = arg;
    for (size_t i = lo; i < hi; i++) {
        for (int b = 0; b < e->batch; b++) {
            const float *d = e->delta + ((size_t)b * e->n + i) * e->size;
            float sum = 0;
            for (int j = 0; j < e->size; j++)
                sum += d[j];
            e->bias_updates[i] += sum;
        }
    }
}

void backward_bias(float *bias_updates, float *delta, int batch, int n, int size)
{
    typedef void type(float *, float *, int, int, int);
    REFERENCE("backward_bias", type, (bias_updates, delta, batch, n, size));
    struct bias_sum e = {bias_updates, delta, batch, n, size};
    parallel_for(n, grain((size_t)batch * size), backward_bias_part, &e);
}

/* ------------------------------------------------------------------------
 * Batch normalisation's loops (darknet src/blas.c:94-158, src/
 * batchnorm_layer.c:72-131), used by Darknet's forward/backward_batchnorm
 * _layer: per-filter sums on one thread per filter range, per-row maps on
 * one thread per row range, square roots once per filter.  x, delta are
 * [batch][filters][spatial]. */

struct bn_args {
    float *x;          /* in/out array */
    const float *y;    /* second array (x_norm, x) */
    const float *mean; /* per filter */
    const float *var;  /* per filter */
    const float *md;   /* mean_delta */
    const float *vd;   /* variance_delta */
    float *out;        /* per filter result */
    int batch, filters, spatial;
    int what;
};

enum { BN_MEAN, BN_VARIANCE, BN_SCALE_UPDATES, BN_MEAN_DELTA, BN_VARIANCE_DELTA };

/* Items f: the per-filter sums. */
static void bn_sum_part(void *arg, size_t lo, size_t hi)
{
    const struct bn_args *e = arg;
    size_t sp = e->spatial;
    for (size_t f = lo; f < hi; f++) {
        double s = 0;
        for (int b = 0; b < e->batch; b++) {
            const float *x = e->x + ((size_t)b * e->filters + f) * sp;
            const float *y = e->y ? e->y + ((size_t)b * e->filters + f) * sp : NULL;
            switch (e->what) {
            case BN_MEAN:
            case BN_MEAN_DELTA:
                for (size_t i = 0; i < sp; i++)
                    s += x[i];
                break;
            case BN_VARIANCE:
                for (size_t i = 0; i < sp; i++) {
                    double d = x[i] - e->mean[f];
                    s += d * d;
                }
                break;
            case BN_SCALE_UPDATES:
                for (size_t i = 0; i < sp; i++)
                    s += x[i] * y[i];
                break;
            case BN_VARIANCE_DELTA: /* x = delta, y = x */
                for (size_t i = 0; i < sp; i++)
                    s += x[i] * (y[i] - e->mean[f]);
                break;
            }
        }
        switch (e->what) {
        case BN_MEAN: e->out[f] = (float)s * (float)(1. / ((double)e->batch * sp)); break;
        case BN_VARIANCE:
            e->out[f] = (float)s * (float)(1. / ((double)e->batch * sp - 1));
            break;
        case BN_SCALE_UPDATES: e->out[f] += (float)s; break;
        case BN_MEAN_DELTA: e->out[f] = (float)(s * (-1. / sqrt(e->var[f] + .00001f))); break;
        case BN_VARIANCE_DELTA:
            e->out[f] = (float)(s * (-.5 * pow(e->var[f] + .00001f, (float)(-3. / 2.))));
            break;
        }
    }
}

static void bn_sum(struct bn_args *e)
{
    parallel_for(e->filters, grain((size_t)e->batch * e->spatial), bn_sum_part, e);
}

void mean_cpu(float *x, int batch, int filters, int spatial, float *mean);
void variance_cpu(float *x, float *mean, int batch, int filters, int spatial, float *variance);
void normalize_cpu(float *x, float *mean, float *variance, int batch, int filters,
                   int spatial);
void scale_bias(float *output, float *scales, int batch, int n, int size);
void backward_scale_cpu(float *x_norm, float *delta, int batch, int n, int size,
                        float *scale_updates);
void mean_delta_cpu(float *delta, float *variance, int batch, int filters, int spatial,
                    float *mean_delta);
void variance_delta_cpu(float *x, float *delta, float *mean, float *variance, int batch,
                        int filters, int spatial, float *variance_delta);
void normalize_delta_cpu(float *x, float *mean, float *variance, float *mean_delta,
                         float *variance_delta, int batch, int filters, int spatial,
                         float *delta);

/* Calls Darknet's function NAME with ARGS in reference mode. */
void mean_cpu(float *x, int batch, int filters, int spatial, float *mean)
{
    typedef void type(float *, int, int, int, float *);
    REFERENCE("mean_cpu", type, (x, batch, filters, spatial, mean));
    struct bn_args e = {.x = x,
                        .out = mean,
                        .batch = batch,
                        .filters = filters,
                        .spatial = spatial,
                        .what = BN_MEAN};
    bn_sum(&e);
}

void variance_cpu(float *x, float *mean, int batch, int filters, int spatial, float *variance)
{
    typedef void type(float *, float *, int, int, int, float *);
    REFERENCE("variance_cpu", type, (x, mean, batch, filters, spatial, variance));
    struct bn_args e = {.x = x,
                        .mean = mean,
                        .out = variance,
                        .batch = batch,
                        .filters = filters,
                        .spatial = spatial,
                        .what = BN_VARIANCE};
    bn_sum(&e);
}

void backward_scale_cpu(float *x_norm, float *delta, int batch, int n, int size,
                        float *scale_updates)
{
    typedef void type(float *, float *, int, int, int, float *);
    REFERENCE("backward_scale_cpu", type, (x_norm, delta, batch, n, size, scale_updates));
    struct bn_args e = {.x = delta,
                        .y = x_norm,
                        .out = scale_updates,
                        .batch = batch,
                        .filters = n,
                        .spatial = size,
                        .what = BN_SCALE_UPDATES};
    bn_sum(&e);
}

void mean_delta_cpu(float *delta, float *variance, int batch, int filters, int spatial,
                    float *mean_delta)
{
    typedef void type(float *, float *, int, int, int, float *);
    REFERENCE("mean_delta_cpu", type, (delta, variance, batch, filters, spatial, mean_delta));
    struct bn_args e = {.x = delta,
                        .var = variance,
                        .out = mean_delta,
                        .batch = batch,
                        .filters = filters,
                        .spatial = spatial,
                        .what = BN_MEAN_DELTA};
    bn_sum(&e);
}

void variance_delta_cpu(float *x, float *delta, float *mean, float *variance, int batch,
                        int filters, int spatial, float *variance_delta)
{
    typedef void type(float *, float *, float *, float *, int, int, int, float *);
    REFERENCE("variance_delta_cpu", type,
              (x, delta, mean, variance, batch, filters, spatial, variance_delta));
    struct bn_args e = {.x = delta,
                        .y = x,
                        .mean = mean,
                        .var = variance,
                        .out = variance_delta,
                        .batch = batch,
                        .filters = filters,
                        .spatial = spatial,
                        .what = BN_VARIANCE_DELTA};
    bn_sum(&e);
}

/* Items b·filters + f: the per-row maps. */
enum { BN_NORMALIZE, BN_SCALE, BN_NORMALIZE_DELTA };

static void bn_map_part(void *arg, size_t lo, size_t hi)
{
    const struct bn_args *e = arg;
    size_t sp = e->spatial;
    for (size_t it = lo; it < hi; it++) {
        size_t f = it % e->filters;
        float *x = e->x + it * sp;
        if (e->what == BN_NORMALIZE) {
            double den = sqrt(e->var[f]) + .000001f;
            float mean = e->mean[f];
            for (size_t i = 0; i < sp; i++)
                x[i] = (float)((x[i] - mean) / den);
        } else if (e->what == BN_SCALE) {
            float scale = e->out[f];
            for (size_t i = 0; i < sp; i++)
                x[i] *= scale;
        } else { /* x = delta, y = x */
            const float *y = e->y + it * sp;
            double n = (double)sp * e->batch;
            double a = 1. / sqrt(e->var[f] + .00001f), b = e->vd[f] * 2. / n, c = e->md[f] / n;
            float mean = e->mean[f];
            for (size_t i = 0; i < sp; i++)
                x[i] = (float)(x[i] * a + b * (y[i] - mean) + c);
        }
    }
}

static void bn_map(struct bn_args *e)
{
    parallel_for((size_t)e->batch * e->filters, grain(e->spatial), bn_map_part, e);
}

void normalize_cpu(float *x, float *mean, float *variance, int batch, int filters, int spatial)
{
    typedef void type(float *, float *, float *, int, int, int);
    REFERENCE("normalize_cpu", type, (x, mean, variance, batch, filters, spatial));
    struct bn_args e = {.x = x,
                        .mean = mean,
                        .var = variance,
                        .batch = batch,
                        .filters = filters,
                        .spatial = spatial,
                        .what = BN_NORMALIZE};
    bn_map(&e);
}

void scale_bias(float *output, float *scales, int batch, int n, int size)
{
    typedef void type(float *, float *, int, int, int);
    REFERENCE("scale_bias", type, (output, scales, batch, n, size));
    struct bn_args e = {.x = output,
                        .out = scales,
                        .batch = batch,
                        .filters = n,
                        .spatial = size,
                        .what = BN_SCALE};
    bn_map(&e);
}

void normalize_delta_cpu(float *x, float *mean, float *variance, float *mean_delta,
                         float *variance_delta, int batch, int filters, int spatial,
                         float *delta)
{
    typedef void type(float *, float *, float *, float *, float *, int, int, int, float *);
    REFERENCE("normalize_delta_cpu", type,
              (x, mean, variance, mean_delta, variance_delta, batch, filters, spatial, delta));
    struct bn_args e = {.x = delta,
                        .y = x,
                        .mean = mean,
                        .var = variance,
                        .md = mean_delta,
                        .vd = variance_delta,
                        .batch = batch,
                        .filters = filters,
                        .spatial = spatial,
                        .what = BN_NORMALIZE_DELTA};
    bn_map(&e);
}

/* ------------------------------------------------------------------------
 * Darknet's vector functions (src/blas.c) on contiguous arrays, split
 * over threads: the same arithmetic, element by element.  Strided calls,
 * and shortcuts between maps of different shapes, go to Darknet's. */
void fill_cpu(int N, float ALPHA, float *X, int INCX);
void copy_cpu(int N, float *X, int INCX, float *Y, int INCY);
void axpy_cpu(int N, float ALPHA, float *X, int INCX, float *Y, int INCY);
void scal_cpu(int N, float ALPHA, float *X, int INCX);
void shortcut_cpu(int batch, int w1, int h1, int c1, float *add, int w2, int h2, int c2,
                  float s1, float s2, float *out);

enum { VEC_FILL, VEC_COPY, VEC_AXPY, VEC_SCAL, VEC_SHORTCUT };

struct vec {
    int op;
    float a, b;
    const float *x;
    float *y;
};

static void vec_part(void *arg, size_t lo, size_t hi)
{
    const struct vec *v = arg;
    const float *x = v->x;
    float *y = v->y;
    float a = v->a, b = v->b;
    switch (v->op) {
    case VEC_FILL:
        for (size_t i = lo; i < hi; i++)
            y[i] = a;
        break;
    case VEC_COPY: memcpy(y + lo, x + lo, (hi - lo) * sizeof *y); break;
    case VEC_AXPY:
        for (size_t i = lo; i < hi; i++)
            y[i] += a * x[i];
        break;
    case VEC_SCAL:
        for (size_t i = lo; i < hi; i++)
            y[i] *= a;
        break;
    case VEC_SHORTCUT:
        for (size_t i = lo; i < hi; i++)
            y[i] = a * y[i] + b * x[i];
        break;
    }
}

static void vec_run(int op, size_t n, float a, float b, const float *x, float *y)
{
    struct vec v = {op, a, b, x, y};
    parallel_for(n, GRAIN_FLOATS, vec_part, &v);
}

void fill_cpu(int N, float ALPHA, float *X, int INCX)
{
    typedef void type(int, float, float *, int);
    DARKNET_WHEN(INCX != 1, "fill_cpu", type, (N, ALPHA, X, INCX));
    if (N > 0)
        vec_run(VEC_FILL, N, ALPHA, 0, NULL, X);
}

void copy_cpu(int N, float *X, int INCX, float *Y, int INCY)
{
    typedef void type(int, float *, int, float *, int);
    DARKNET_WHEN(INCX != 1 || INCY != 1, "copy_cpu", type, (N, X, INCX, Y, INCY));
    if (N > 0)
        vec_run(VEC_COPY, N, 0, 0, X, Y);
}

void axpy_cpu(int N, float ALPHA, float *X, int INCX, float *Y, int INCY)
{
    typedef void type(int, float, float *, int, float *, int);
    DARKNET_WHEN(INCX != 1 || INCY != 1, "axpy_cpu", type, (N, ALPHA, X, INCX, Y, INCY));
    if (N > 0)
        vec_run(VEC_AXPY, N, ALPHA, 0, X, Y);
}

void scal_cpu(int N, float ALPHA, float *X, int INCX)
{
    typedef void type(int, float, float *, int);
    DARKNET_WHEN(INCX != 1, "scal_cpu", type, (N, ALPHA, X, INCX));
    if (N > 0)
        vec_run(VEC_SCAL, N, ALPHA, 0, NULL, X);
}

/* out = s1·out + s2·add where both maps have one shape. */
void shortcut_cpu(int batch, int w1, int h1, int c1, float *add, int w2, int h2, int c2,
                  float s1, float s2, float *out)
{
    typedef void type(int, int, int, int, float *, int, int, int, float, float, float *);
    DARKNET_WHEN(w1 != w2 || h1 != h2 || c1 != c2, "shortcut_cpu", type,
                 (batch, w1, h1, c1, add, w2, h2, c2, s1, s2, out));
    size_t n = (size_t)batch * w1 * h1 * c1;
    if (n > 0)
        vec_run(VEC_SHORTCUT, n, s1, s2, add, out);
}

/* ------------------------------------------------------------------------
 * Max pooling (darknet src/maxpool_layer.c:84-130): one thread per range
 * of [batch][c] planes; taps outside the image are skipped instead of
 * tested (Darknet counts one as -FLT_MAX, which never wins, so the result
 * and the argmax are the same). */

void forward_maxpool_layer(layer l, network net);
void backward_maxpool_layer(layer l, network net);

struct pool_args {
    const layer *l;
    const float *in;
    float *d;
};

/* Planes [lo, hi).  A run of up to POOL_RUN outputs of a row at a time,
 * in local arrays: their maxima and indexes start at -FLT_MAX and -1, and
 * each tap of the window, in Darknet's order (kernel rows, then columns),
 * updates the whole run where it is inside the image, keeping the first
 * maximum (strict >).  The outputs of a run are independent, and the
 * local arrays alias nothing; the update selects with bit masks instead
 * of branching on the data.  A loop over one window's taps was a chain of
 * dependent, mispredicted compares, slower than Darknet's own loop. */
enum { POOL_RUN = 64 };

static void maxpool_part(void *arg, size_t lo, size_t hi)
{
    const struct pool_args *e = arg;
    const layer *l = e->l;
    int off = -l->pad / 2, oh = l->out_h, ow = l->out_w, k = l->size, st = l->stride;
    int h = l->h, w = l->w;
    for (size_t p = lo; p < hi; p++) {
        size_t base = p * h * w;
        for (int i = 0; i < oh; i++) {
            for (int r0 = 0; r0 < ow; r0 += POOL_RUN) {
                int r1 = r0 + POOL_RUN < ow ? r0 + POOL_RUN : ow;
                float max[POOL_RUN];
                int max_i[POOL_RUN];
                for (int j = 0; j < r1 - r0; j++) {
                    max[j] = -FLT_MAX;
                    max_i[j] = -1;
                }
                for (int n = 0; n < k; n++) {
                    int y = off + i * st + n;
                    if (y < 0 || y >= h)
                        continue;
                    size_t row = base + (size_t)y * w;
                    const float *in = e->in + row;
                    for (int m = 0; m < k; m++) {
                        int j0 = r0, j1 = r1; /* outputs whose tap is inside */
                        while (j0 < j1 && off + j0 * st + m < 0)
                            j0++;
                        while (j1 > j0 && off + (j1 - 1) * st + m >= w)
                            j1--;
                        for (int j = j0; j < j1; j++) {
                            int x = off + j * st + m;
                            float v = in[x];
                            /* select by masks: the compiler turns a ?:
                             * here into a branch on the data */
                            uint32_t mask = -(uint32_t)(v > max[j - r0]), vb, mb;
                            memcpy(&vb, &v, sizeof vb);
                            memcpy(&mb, &max[j - r0], sizeof mb);
                            mb = (vb & mask) | (mb & ~mask);
                            memcpy(&max[j - r0], &mb, sizeof mb);
                            max_i[j - r0] = (int)(((uint32_t)((int)row + x) & mask) |
                                                  ((uint32_t)max_i[j - r0] & ~mask));
                        }
                    }
                }
                size_t o = (p * oh + i) * ow + r0;
                memcpy(l->output + o, max, (r1 - r0) * sizeof *max);
                memcpy(l->indexes + o, max_i, (r1 - r0) * sizeof *max_i);
            }
        }
    }
}

/* Inference's 2 x 2, stride 2 pooling of planes [lo, hi) whose windows
 * tile the input exactly: the maxima alone, the argmax indexes being only
 * backward's.  The same compares in the same order as maxpool_part, so
 * the same output. */
static void maxpool2_part(void *arg, size_t lo, size_t hi)
{
    const struct pool_args *e = arg;
    const layer *l = e->l;
    int oh = l->out_h, ow = l->out_w, w = l->w;
    for (size_t p = lo; p < hi; p++) {
        const float *in = e->in + p * l->h * w;
        float *out = l->output + p * oh * ow;
        for (int i = 0; i < oh; i++) {
            const float *r0 = in + (size_t)2 * i * w, *r1 = r0 + w;
            float *o = out + (size_t)i * ow;
            for (int j = 0; j < ow; j++) {
                float m = -FLT_MAX;
                m = r0[2 * j] > m ? r0[2 * j] : m;
                m = r0[2 * j + 1] > m ? r0[2 * j + 1] : m;
                m = r1[2 * j] > m ? r1[2 * j] : m;
                m = r1[2 * j + 1] > m ? r1[2 * j + 1] : m;
                o[j] = m;
            }
        }
    }
}

void forward_maxpool_layer(layer l, network net)
{
    typedef void type(layer, network);
    REFERENCE("forward_maxpool_layer", type, (l, net));
    struct pool_args e = {&l, net.input, NULL};
    size_t work = (size_t)l.out_h * l.out_w * l.size * l.size;
    if (!net.train && l.size == 2 && l.stride == 2 && l.pad / 2 == 0 && l.h == 2 * l.out_h &&
        l.w == 2 * l.out_w)
        parallel_for((size_t)l.batch * l.c, grain(work), maxpool2_part, &e);
    else
        parallel_for((size_t)l.batch * l.c, grain(work), maxpool_part, &e);
}

/* Planes are independent: each index points into its own input plane. */
static void maxpool_back_part(void *arg, size_t lo, size_t hi)
{
    const struct pool_args *e = arg;
    size_t n = (size_t)e->l->out_h * e->l->out_w;
    for (size_t i = lo * n; i < hi * n; i++)
        e->d[e->l->indexes[i]] += e->l->delta[i];
}

void backward_maxpool_layer(layer l, network net)
{
    typedef void type(layer, network);
    REFERENCE("backward_maxpool_layer", type, (l, net));
    struct pool_args e = {&l, NULL, net.delta};
    parallel_for((size_t)l.batch * l.c, grain((size_t)l.out_h * l.out_w), maxpool_back_part,
                 &e);
}
