/* pool.c: the one pool of threads of libhwi (see pool.h).
 *
 * Moved here from lib/nn_gemm.c so that code without Darknet (the 1-NN
 * search, lib/knn.c) runs on the same pool as the network code. */
#include <config.h>

#include "pool.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

/* Threads for every parallel loop and product; 0 until
 * hwi_pool_set_size is called, meaning one per core. */
enum { MAX_THREADS = 64 };
static int n_threads;

static int online_cores(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
}

int hwi_pool_size(void)
{
    return n_threads > 0 ? n_threads : online_cores();
}


/* ------------------------------------------------------------------------
 * The thread pool.  hwi_pool_for(n, grain, fn, arg) runs fn(arg, lo, hi)
 * over [0, n) cut into at most hwi_pool_size() contiguous ranges of at
 * least GRAIN items: the caller takes the first range, sleeping workers
 * (started on first use, kept for the life of the process) the others.
 * One job runs at a time: a call made while another thread's job runs,
 * or from inside a job, runs all its items in the calling thread.  When a
 * worker cannot be started, the job uses fewer ranges. */

static struct {
    pthread_mutex_t busy;  /* held by the thread whose job runs */
    pthread_mutex_t lock;  /* guards the fields below */
    pthread_cond_t wake;   /* a new job */
    pthread_cond_t done;   /* the last worker range of a job ended */
    unsigned long job;     /* number of the current job */
    int workers;           /* started */
    int parts;             /* ranges of the current job */
    int left;              /* worker ranges not yet done */
    void (*fn)(void *, size_t, size_t);
    void *arg;
    size_t n;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, NULL, 0};

/* Nonzero in a pool worker, and in a caller while its job runs. */
static _Thread_local int in_job;

static void *worker(void *p)
{
    size_t self = (size_t)(uintptr_t)p;
    unsigned long seen = 0;
    in_job = 1;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.job == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        seen = pool.job;
        if (self >= (size_t)pool.parts)
            continue;
        size_t n = pool.n, t = (size_t)pool.parts;
        void (*fn)(void *, size_t, size_t) = pool.fn;
        void *arg = pool.arg;
        pthread_mutex_unlock(&pool.lock);
        fn(arg, n * self / t, n * (self + 1) / t);
        pthread_mutex_lock(&pool.lock);
        if (--pool.left == 0)
            pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* Start workers until there are WANT; returns how many there are. */
static int start_workers(int want)
{
    while (pool.workers < want) {
        pthread_t id;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&id, &attr, worker,
                                (void *)(uintptr_t)(pool.workers + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        pool.workers++;
    }
    return pool.workers;
}

void hwi_pool_for(size_t n, size_t grain, void (*fn)(void *, size_t, size_t),
                  void *arg)
{
    size_t t = (size_t)hwi_pool_size();
    if (grain < 1)
        grain = 1;
    if (t > n / grain)
        t = n / grain;
    if (t <= 1 || in_job || pthread_mutex_trylock(&pool.busy) != 0) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    int have = start_workers((int)t - 1);
    if (t > (size_t)have + 1)
        t = (size_t)have + 1;
    pool.fn = fn;
    pool.arg = arg;
    pool.n = n;
    pool.parts = (int)t;
    pool.left = (int)t - 1;
    pool.job++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    in_job = 1;
    fn(arg, 0, n / t);
    in_job = 0;

    pthread_mutex_lock(&pool.lock);
    while (pool.left > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

void hwi_pool_set_size(int n)
{
    if (n <= 0)
        n = online_cores();
    n_threads = n > MAX_THREADS ? MAX_THREADS : n;
}
