/* pool.h: the one pool of threads of libhwi (lib/pool.c).
 *
 * hwi_pool_for(n, grain, fn, arg) runs fn(arg, lo, hi) over [0, n) cut
 * into at most hwi_pool_size() contiguous ranges of at least GRAIN items,
 * the caller taking the first range and sleeping workers (started on
 * first use, kept for the life of the process) the others, and returns
 * when all are done.  One job runs at a time: a call made while another
 * thread's job runs, or from inside a job, runs all its items in the
 * calling thread.  The network code (lib/nn_gemm.c) and the 1-NN search
 * (lib/knn.c) both run on it. */
#ifndef HWI_POOL_H
#define HWI_POOL_H

#include <stddef.h>

/* Use N threads; 0 (and the default) means one per online core. */
void hwi_pool_set_size(int n);

/* The number of threads a job is cut for. */
int hwi_pool_size(void);

/* Run FN(ARG, lo, hi) over [0, N), as above. */
void hwi_pool_for(size_t n, size_t grain, void (*fn)(void *arg, size_t lo, size_t hi),
                  void *arg);

#endif /* HWI_POOL_H */
