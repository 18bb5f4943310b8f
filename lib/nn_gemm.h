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

#endif /* HWI_NN_GEMM_H */
