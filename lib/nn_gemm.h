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

#endif /* HWI_NN_GEMM_H */
