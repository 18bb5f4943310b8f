/* nn_gemm.c: Darknet's matrix multiply on OpenBLAS.
 *
 * Darknet (Debian 0.0.0+git20180914.61c9d02e) multiplies matrices with
 * its own single-threaded loops, about 5 GFLOP/s here, where OpenBLAS's
 * sgemm gives 175-180 on two threads.  libdarknet.so calls gemm, gemm_cpu
 * and every other function through its PLT (darknet-notes §0), so the
 * definitions below, linked into the program, replace the library's for
 * all its layers: convolutional and connected layers call gemm, the
 * deconvolutional layer gemm_cpu.
 *
 * Semantics kept (darknet src/gemm.c:65-169): row-major
 * C = ALPHA·op(A)·op(B) + BETA·C, lda/ldb/ldc the row strides as stored,
 * TA/TB nonzero for a transposed operand.  One difference: with BETA = 0
 * Darknet computes 0·C, so a NaN or Inf already in C stays; BLAS, and so
 * hwi, overwrites C.  Darknet's layers only pass BETA = 0 when C is about
 * to be overwritten anyway (the 1x1-convolution input gradient).
 *
 * hwi_nn_gemm_reference(1) routes the calls back to the library's own
 * code, looked up with dlsym(RTLD_NEXT), so that a test or a benchmark
 * can compare both in one process. */
#include <config.h>

#include "nn_gemm.h"

/* darknet.h has old-style declarations (f()) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <darknet.h>
#pragma GCC diagnostic pop

#include <cblas.h>
#include <dlfcn.h>
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

/* The library's gemm_cpu, found on first use in reference mode. */
static gemm_fn *darknet_gemm_cpu;

void hwi_nn_gemm_threads(int n)
{
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(n);
#endif
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

void gemm_cpu(int TA, int TB, int M, int N, int K, float ALPHA, float *A, int lda,
              float *B, int ldb, float BETA, float *C, int ldc)
{
    if (use_reference) {
        if (!darknet_gemm_cpu)
            darknet_gemm_cpu = (gemm_fn *)darknet_symbol("gemm_cpu");
        darknet_gemm_cpu(TA, TB, M, N, K, ALPHA, A, lda, B, ldb, BETA, C, ldc);
        return;
    }
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) { /* BLAS rejects lda = 0 */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[i * ldc + j] = BETA == 0 ? 0 : BETA * C[i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, TA ? CblasTrans : CblasNoTrans,
                TB ? CblasTrans : CblasNoTrans, M, N, K, ALPHA, A, lda, B, ldb, BETA, C,
                ldc);
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
static void valid_range(int out_w, int width, int stride, int pad, int kx, int *x0,
                        int *x1)
{
    int lo = 0, hi = out_w;
    while (lo < hi && lo * stride - pad + kx < 0)
        lo++;
    while (hi > lo && (hi - 1) * stride - pad + kx >= width)
        hi--;
    *x0 = lo;
    *x1 = hi;
}

static void im2col_rows(const float *im, int channels, int height, int width, int ksize,
                        int stride, int pad, float *col, size_t ldcol)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; c++) {
        for (int ky = 0; ky < ksize; ky++) {
            for (int kx = 0; kx < ksize; kx++) {
                float *row = col + ((size_t)(c * ksize + ky) * ksize + kx) * ldcol;
                int x0, x1;
                valid_range(out_w, width, stride, pad, kx, &x0, &x1);
                for (int y = 0; y < out_h; y++) {
                    float *out = row + (size_t)y * out_w;
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

/* Add COL (layout as above) into the image IM. */
static void col2im_rows(const float *col, size_t ldcol, int channels, int height,
                        int width, int ksize, int stride, int pad, float *im)
{
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    for (int c = 0; c < channels; c++) {
        for (int ky = 0; ky < ksize; ky++) {
            for (int kx = 0; kx < ksize; kx++) {
                const float *row = col + ((size_t)(c * ksize + ky) * ksize + kx) * ldcol;
                int x0, x1;
                valid_range(out_w, width, stride, pad, kx, &x0, &x1);
                for (int y = 0; y < out_h; y++) {
                    int iy = y * stride - pad + ky;
                    if (iy < 0 || iy >= height)
                        continue;
                    const float *src = row + (size_t)y * out_w;
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
    static void (*darknet_im2col)(float *, int, int, int, int, int, int, float *);
    if (use_reference) {
        if (!darknet_im2col)
            darknet_im2col = darknet_symbol("im2col_cpu");
        darknet_im2col(data_im, channels, height, width, ksize, stride, pad, data_col);
        return;
    }
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    im2col_rows(data_im, channels, height, width, ksize, stride, pad, data_col,
                (size_t)out_h * out_w);
}

void col2im_cpu(float *data_col, int channels, int height, int width, int ksize, int stride,
                int pad, float *data_im)
{
    static void (*darknet_col2im)(float *, int, int, int, int, int, int, float *);
    if (use_reference) {
        if (!darknet_col2im)
            darknet_col2im = darknet_symbol("col2im_cpu");
        darknet_col2im(data_col, channels, height, width, ksize, stride, pad, data_im);
        return;
    }
    int out_h = (height + 2 * pad - ksize) / stride + 1;
    int out_w = (width + 2 * pad - ksize) / stride + 1;
    col2im_rows(data_col, (size_t)out_h * out_w, channels, height, width, ksize, stride,
                pad, data_im);
}

/* ------------------------------------------------------------------------
 * Convolutional layer, several images per matrix multiply.
 *
 * Darknet (src/convolutional_layer.c:445-536) multiplies once per image:
 * on a 4x4 map that is a 512x4608 by 4608x16 product, which reads all the
 * weights to make 16 columns.  Here im2col lays out a chunk of G images
 * side by side, [k][G·hw], and one product covers the chunk; the result,
 * [m][G·hw], is then scattered back to Darknet's [G][m][hw].  Batch
 * normalisation, bias and activation are Darknet's functions, called as
 * the library calls them.
 *
 * Semantics are Darknet's, with one exception: a 1x1 convolution with
 * stride > 1 (or padding) uses the input as if it were its im2col matrix
 * in Darknet, which is wrong (the forward output is garbage); here it is a
 * real strided convolution.  The input gradient of every 1x1 convolution
 * still overwrites net.delta as Darknet's does (darknet-notes P1), so a
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

/* Columns per chunk the products aim for. */
enum { CHUNK_COLUMNS = 4096 };

/* Scratch buffers, grown on demand and kept (Darknet is single-threaded
 * at the layer level). */
static float *scratch[2];
static size_t scratch_size[2];

static float *get_scratch(int i, size_t n)
{
    if (scratch_size[i] < n) {
        free(scratch[i]);
        scratch[i] = malloc(n * sizeof(float));
        if (!scratch[i])
            abort(); /* Darknet's own allocations abort the same way */
        scratch_size[i] = n;
    }
    return scratch[i];
}

/* Images per chunk for an output map of HW pixels. */
static int chunk_images(int hw, int batch)
{
    int g = CHUNK_COLUMNS / (hw > 0 ? hw : 1);
    return g < 1 ? 1 : g > batch ? batch : g;
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

void forward_convolutional_layer(layer l, network net)
{
    static void (*darknet_forward)(layer, network);
    if (!fast_conv(&l)) {
        if (!darknet_forward)
            darknet_forward = darknet_symbol("forward_convolutional_layer");
        darknet_forward(l, net);
        return;
    }
    int m = l.n, k = l.size * l.size * l.c, hw = l.out_h * l.out_w;
    size_t in_size = (size_t)l.c * l.h * l.w, out_size = (size_t)m * hw;
    int g = chunk_images(hw, l.batch);
    float *col = get_scratch(0, (size_t)k * g * hw);
    float *tmp = get_scratch(1, out_size * g);
    for (int b0 = 0; b0 < l.batch; b0 += g) {
        int gb = l.batch - b0 < g ? l.batch - b0 : g;
        size_t cols = (size_t)gb * hw;
        float *in = net.input + b0 * in_size, *out = l.output + b0 * out_size;
        if (gb == 1) {
            float *b = col;
            if (direct_conv(&l))
                b = in;
            else
                im2col_rows(in, l.c, l.h, l.w, l.size, l.stride, l.pad, col, hw);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, hw, k, 1, l.weights, k,
                        b, hw, 0, out, hw);
            continue;
        }
        for (int j = 0; j < gb; j++) {
            if (direct_conv(&l)) {
                for (int r = 0; r < k; r++)
                    memcpy(col + r * cols + (size_t)j * hw, in + j * in_size + (size_t)r * hw,
                           hw * sizeof *col);
            } else {
                im2col_rows(in + j * in_size, l.c, l.h, l.w, l.size, l.stride, l.pad,
                            col + (size_t)j * hw, cols);
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, cols, k, 1, l.weights, k,
                    col, cols, 0, tmp, cols);
        for (int j = 0; j < gb; j++)
            for (int r = 0; r < m; r++)
                memcpy(out + j * out_size + (size_t)r * hw, tmp + r * cols + (size_t)j * hw,
                       hw * sizeof *out);
    }
    if (l.batch_normalize)
        forward_batchnorm_layer(l, net);
    else
        add_bias(l.output, l.biases, l.batch, l.n, hw);
    activate_array(l.output, l.outputs * l.batch, l.activation);
}

void backward_convolutional_layer(layer l, network net)
{
    static void (*darknet_backward)(layer, network);
    if (!fast_conv(&l)) {
        if (!darknet_backward)
            darknet_backward = darknet_symbol("backward_convolutional_layer");
        darknet_backward(l, net);
        return;
    }
    int m = l.n, k = l.size * l.size * l.c, hw = l.out_h * l.out_w;
    size_t in_size = (size_t)l.c * l.h * l.w, out_size = (size_t)m * hw;

    gradient_array(l.output, l.outputs * l.batch, l.activation, l.delta);
    if (l.batch_normalize)
        backward_batchnorm_layer(l, net);
    else
        backward_bias(l.bias_updates, l.delta, l.batch, l.n, hw);

    int g = chunk_images(hw, l.batch);
    /* scratch 0: im2col of the input, then the column gradient;
     * scratch 1: the chunk's output gradient as [m][gb·hw]. */
    float *col = get_scratch(0, (size_t)k * g * hw);
    float *dout = get_scratch(1, out_size * g);
    for (int b0 = 0; b0 < l.batch; b0 += g) {
        int gb = l.batch - b0 < g ? l.batch - b0 : g;
        size_t cols = (size_t)gb * hw;
        float *in = net.input + b0 * in_size;
        float *d = l.delta + b0 * out_size, *b = col;
        if (gb == 1 && direct_conv(&l)) {
            b = in;
        } else {
            for (int j = 0; j < gb; j++) {
                if (direct_conv(&l)) {
                    for (int r = 0; r < k; r++)
                        memcpy(col + r * cols + (size_t)j * hw,
                               in + j * in_size + (size_t)r * hw, hw * sizeof *col);
                } else {
                    im2col_rows(in + j * in_size, l.c, l.h, l.w, l.size, l.stride, l.pad,
                                col + (size_t)j * hw, cols);
                }
            }
        }
        if (gb > 1) {
            for (int j = 0; j < gb; j++)
                for (int r = 0; r < m; r++)
                    memcpy(dout + r * cols + (size_t)j * hw, d + j * out_size + (size_t)r * hw,
                           hw * sizeof *dout);
            d = dout;
        }
        /* weight_updates (m x k) += delta (m x cols) · colᵀ */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, cols, 1, d, cols, b, cols,
                    1, l.weight_updates, k);
        if (!net.delta)
            continue;
        float *imd = net.delta + b0 * in_size;
        if (gb == 1 && direct_conv(&l)) {
            /* Darknet writes this product straight into net.delta (P1). */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, hw, m, 1, l.weights, k, d,
                        hw, 0, imd, hw);
            continue;
        }
        /* col (k x cols) = weightsᵀ · delta */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, cols, m, 1, l.weights, k, d,
                    cols, 0, col, cols);
        for (int j = 0; j < gb; j++) {
            float *dst = imd + j * in_size;
            if (direct_conv(&l)) {
                for (int r = 0; r < k; r++)
                    memcpy(dst + (size_t)r * hw, col + r * cols + (size_t)j * hw,
                           hw * sizeof *dst);
                continue;
            }
            if (l.size == 1) /* overwrite, as Darknet does for 1x1 (P1) */
                memset(dst, 0, in_size * sizeof *dst);
            col2im_rows(col + (size_t)j * hw, cols, l.c, l.h, l.w, l.size, l.stride, l.pad,
                        dst);
        }
    }
}
