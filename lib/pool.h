/* pool.h: the one pool of threads of libhwi (lib/pool.c).
 *
 * Sleeping workers, started on first use and kept for the life of the
 * process, serve three shapes of job.  One job runs at a time: a call made
 * while another thread's job runs, or from inside a job, runs all its
 * items in the calling thread (so every call below works, and gives the
 * same results, with any number of threads).
 *
 *   hwi_pool_for      a parallel loop cut into contiguous ranges: the
 *                     network code (lib/nn_gemm.c), the 1-NN search
 *                     (lib/knn.c).
 *   hwi_pool_each     items claimed one by one (uneven work: the photos
 *                     of hwi-synth), stopping at the first error.
 *   hwi_pool_ordered  items claimed in order by workers that may run at
 *                     most a window ahead of a caller that consumes the
 *                     results in input order (hwi-crop's stream). */
#ifndef HWI_POOL_H
#define HWI_POOL_H

#include <stddef.h>

/* Number of online CPUs (at least 1). */
int hwi_ncpu(void);

/* Use N threads; 0 (and the default) means one per online core. */
void hwi_pool_set_size(int n);

/* The number of threads a job is cut for. */
int hwi_pool_size(void);

/* Run FN(ARG, lo, hi) over [0, N) cut into at most hwi_pool_size()
 * contiguous ranges of at least GRAIN items, the caller taking the first
 * range; return when all are done. */
void hwi_pool_for(size_t n, size_t grain, void (*fn)(void *arg, size_t lo, size_t hi),
                  void *arg);

/* Run FN(ARG, i, err) once for each i in [0, N) on THREADS threads (0:
 * hwi_pool_size()), the caller being one of them; items are claimed in
 * increasing order.  When FN returns nonzero (with a message in its ERR,
 * HWI_ERRLEN bytes), no further item is claimed, the items already claimed
 * finish, and hwi_pool_each returns -1 with the message of the lowest
 * failed item in ERR; else 0.  FN must be safe to run in parallel. */
int hwi_pool_each(size_t n, int threads, int (*fn)(void *arg, size_t i, char *err), void *arg,
                  char *err);

/* The ordered pool.  hwi_pool_ordered_start sets THREADS workers (0:
 * hwi_pool_size()) running FN(ARG, i) on the items of [0, N) in increasing
 * order, never on item i >= released + WINDOW (WINDOW >= 1 bounds the
 * results held at once); it returns NULL when out of memory.  The caller
 * then takes the items in order, i = 0, 1, ...: hwi_pool_ordered_wait
 * returns when item I is done (running it in the calling thread when no
 * worker has claimed it), and hwi_pool_ordered_release lets the workers go
 * past it.  hwi_pool_ordered_finish claims nothing more, waits for the
 * items claimed, and frees the pool (a NULL O is a no-op): items never
 * claimed are never run. */
struct hwi_pool_ordered;
struct hwi_pool_ordered *hwi_pool_ordered_start(size_t n, int threads, size_t window,
                                                void (*fn)(void *arg, size_t i), void *arg);
void hwi_pool_ordered_wait(struct hwi_pool_ordered *o, size_t i);
void hwi_pool_ordered_release(struct hwi_pool_ordered *o, size_t i);
void hwi_pool_ordered_finish(struct hwi_pool_ordered *o);

#endif /* HWI_POOL_H */
