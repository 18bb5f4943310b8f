/* nn_gemm.h: Darknet's hot loops on OpenBLAS (lib/nn_gemm.c).
 *
 * lib/nn_gemm.c defines functions with the names of Darknet's own (gemm,
 * gemm_cpu, im2col_cpu, forward_convolutional_layer, ...).  libdarknet.so
 * calls every function through its PLT, so once nn_gemm.o is linked into
 * a program, Darknet's layers call these instead.  From a static library
 * nn_gemm.o is linked in only when the program references
 * hwi_nn_gemm_threads or hwi_nn_gemm_reference with an ordinary (not
 * weak) reference: the linker does not pull an archive member for a weak
 * one. */
#ifndef HWI_NN_GEMM_H
#define HWI_NN_GEMM_H

/* Use N threads for the matrix code; 0 means one per online core. */
void hwi_nn_gemm_threads(int n);

/* Route every interposed function back to Darknet's own code (ON = 1) or
 * to hwi's (ON = 0, the default).  For tests and benchmarks, which compare
 * both in one process. */
void hwi_nn_gemm_reference(int on);

/* Run FN(ARG, lo, hi) over [0, N) on the pool of threads: at most one
 * contiguous range [lo, hi) per thread, each of at least GRAIN items
 * (fewer items: one range, in the calling thread).  Returns when all
 * ranges are done.  A call from inside FN, or while another thread's job
 * runs, runs every item in the calling thread. */
#include <stddef.h>
void hwi_nn_parallel_for(size_t n, size_t grain, void (*fn)(void *arg, size_t lo, size_t hi),
                         void *arg);

/* Darknet's leaky activation (leaky_activate): X, or .1 X (in double)
 * unless X > 0.  The two values are selected by a bit mask: a ?: on the
 * data compiles to a branch that a feature map's signs mispredict half
 * the time.  activate_array (nn_gemm.c) and the batch norm with its
 * activation folded in (nn_layers.c) both use it. */
#include <stdint.h>
#include <string.h>
static inline float hwi_nn_leaky(float x)
{
    float s = (float)(.1 * x);
    uint32_t m = -(uint32_t)(x > 0), xb, sb;
    memcpy(&xb, &x, sizeof xb);
    memcpy(&sb, &s, sizeof sb);
    xb = (xb & m) | (sb & ~m);
    memcpy(&x, &xb, sizeof x);
    return x;
}

#endif /* HWI_NN_GEMM_H */
