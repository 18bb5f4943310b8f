/* pool.c: the one pool of threads of libhwi (see pool.h).
 *
 * One set of sleeping workers, started on first use and kept for the life
 * of the process, runs one job at a time: a job is FN over [0, n) cut into
 * PARTS contiguous ranges, worker w (1-based) taking range w - 1 + BASE,
 * where BASE is 1 when the calling thread runs range 0 itself
 * (hwi_pool_for, hwi_pool_each) and 0 when it does not (the ordered pool,
 * whose caller consumes the results).  hwi_pool_each and the ordered pool
 * run a claim loop in each range: every range claims the next item under
 * a lock until there are none left. */
#include <config.h>

#include "pool.h"

#include "err.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Threads for every parallel loop and product; 0 until
 * hwi_pool_set_size is called, meaning one per core. */
enum { MAX_THREADS = 64 };
static int n_threads;

int hwi_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int online_cores(void)
{
    int cores = hwi_ncpu();
    return cores > MAX_THREADS ? MAX_THREADS : cores;
}

int hwi_pool_size(void)
{
    return n_threads > 0 ? n_threads : online_cores();
}

/* ------------------------------------------------------------------------
 * The workers.  One job runs at a time (BUSY): a call made while another
 * thread's job runs, or from inside a job, gets no workers.  When a worker
 * cannot be started, the job uses fewer ranges. */

static struct {
    pthread_mutex_t busy; /* held by the thread whose job runs */
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t wake;  /* a new job */
    pthread_cond_t done;  /* the last worker range of a job ended */
    unsigned long job;    /* number of the current job */
    int workers;          /* started */
    int parts;            /* ranges of the current job */
    int base;             /* range of worker 1: 1 if the caller runs range 0 */
    int left;             /* worker ranges not yet done */
    void (*fn)(void *, size_t, size_t);
    void *arg;
    size_t n;
} pool = {PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          0,
          0,
          0,
          0,
          0,
          NULL,
          NULL,
          0};

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
        size_t part = self - 1 + (size_t)pool.base;
        if (part >= (size_t)pool.parts)
            continue;
        size_t n = pool.n, t = (size_t)pool.parts;
        void (*fn)(void *, size_t, size_t) = pool.fn;
        void *arg = pool.arg;
        pthread_mutex_unlock(&pool.lock);
        fn(arg, n * part / t, n * (part + 1) / t);
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
        int rc = pthread_create(&id, &attr, worker, (void *)(uintptr_t)(pool.workers + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        pool.workers++;
    }
    return pool.workers;
}

/* Start a job of FN over [0, N) in at most PARTS ranges, the caller running
 * range 0 when CALLER_RUNS; return the number of ranges (0 when it got no
 * workers: then no job runs and the caller does all the work).  A job
 * started must be ended by job_end. */
static int job_begin(size_t n, int parts, int caller_runs, void (*fn)(void *, size_t, size_t),
                     void *arg)
{
    if (parts <= caller_runs || in_job || pthread_mutex_trylock(&pool.busy) != 0)
        return 0;
    pthread_mutex_lock(&pool.lock);
    int have = start_workers(parts - caller_runs);
    if (parts > have + caller_runs)
        parts = have + caller_runs;
    if (parts <= caller_runs) {
        pthread_mutex_unlock(&pool.lock);
        pthread_mutex_unlock(&pool.busy);
        return 0;
    }
    pool.fn = fn;
    pool.arg = arg;
    pool.n = n;
    pool.parts = parts;
    pool.base = caller_runs;
    pool.left = parts - caller_runs;
    pool.job++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    in_job = 1;
    return parts;
}

/* Wait for the workers' ranges of the job begun, and end it. */
static void job_end(void)
{
    in_job = 0;
    pthread_mutex_lock(&pool.lock);
    while (pool.left > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

void hwi_pool_for(size_t n, size_t grain, void (*fn)(void *, size_t, size_t), void *arg)
{
    size_t t = (size_t)hwi_pool_size();
    if (grain < 1)
        grain = 1;
    if (t > n / grain)
        t = n / grain;
    int parts = job_begin(n, (int)t, 1, fn, arg);
    if (parts == 0) {
        fn(arg, 0, n);
        return;
    }
    fn(arg, 0, n / (size_t)parts);
    job_end();
}

void hwi_pool_set_size(int n)
{
    if (n <= 0)
        n = online_cores();
    n_threads = n > MAX_THREADS ? MAX_THREADS : n;
}

/* The number of threads for a job of N items asked to run on THREADS (0:
 * hwi_pool_size()). */
static int job_threads(int threads, size_t n)
{
    if (threads <= 0)
        threads = hwi_pool_size();
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = (int)n;
    return threads;
}

/* ------------------------------------------------------------------------
 * hwi_pool_each: items claimed one by one, stopping at the first error. */

struct each {
    int (*fn)(void *arg, size_t i, char *err);
    void *arg;
    size_t n;
    pthread_mutex_t lock; /* guards the fields below */
    size_t next;          /* next item to claim */
    size_t failed;        /* lowest failed item, or n */
    char err[HWI_ERRLEN]; /* its message */
};

static void each_range(void *p, size_t lo, size_t hi)
{
    struct each *e = p;
    char err[HWI_ERRLEN];
    (void)lo;
    (void)hi;
    for (;;) {
        pthread_mutex_lock(&e->lock);
        size_t i = e->failed < e->n ? e->n : e->next++;
        pthread_mutex_unlock(&e->lock);
        if (i >= e->n)
            break;
        err[0] = '\0';
        if (e->fn(e->arg, i, err)) {
            pthread_mutex_lock(&e->lock);
            if (i < e->failed) {
                e->failed = i;
                memcpy(e->err, err, HWI_ERRLEN);
            }
            pthread_mutex_unlock(&e->lock);
        }
    }
}

int hwi_pool_each(size_t n, int threads, int (*fn)(void *arg, size_t i, char *err), void *arg,
                  char *err)
{
    struct each e = {.fn = fn, .arg = arg, .n = n, .failed = n};
    pthread_mutex_init(&e.lock, NULL);
    int t = job_threads(threads, n);
    /* one claim loop per range: the ranges are [0, t) of t items */
    int parts = job_begin((size_t)t, t, 1, each_range, &e);
    each_range(&e, 0, 1);
    if (parts)
        job_end();
    pthread_mutex_destroy(&e.lock);
    if (e.failed < n) {
        memcpy(err, e.err, HWI_ERRLEN);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * The ordered pool: workers claim items in index order, at most WINDOW
 * ahead of the items the caller has released; the caller waits for the
 * items in order, running an item itself when no worker has claimed it. */

struct hwi_pool_ordered {
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t n;
    size_t window;
    int started;          /* a pool job runs */
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t more;  /* an item finished, or the caller moved on */
    size_t next;          /* next item to claim */
    size_t released;      /* items the caller is done with */
    int stop;             /* claim nothing more */
    unsigned char *done;  /* [n] item finished */
};

static void ordered_range(void *p, size_t lo, size_t hi)
{
    struct hwi_pool_ordered *o = p;
    (void)lo;
    (void)hi;
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (!o->stop && o->next < o->n && o->next >= o->released + o->window)
            pthread_cond_wait(&o->more, &o->lock);
        if (o->stop || o->next >= o->n)
            break;
        size_t i = o->next++;
        pthread_mutex_unlock(&o->lock);
        o->fn(o->arg, i);
        pthread_mutex_lock(&o->lock);
        o->done[i] = 1;
        pthread_cond_broadcast(&o->more);
    }
    pthread_mutex_unlock(&o->lock);
}

struct hwi_pool_ordered *hwi_pool_ordered_start(size_t n, int threads, size_t window,
                                                void (*fn)(void *arg, size_t i), void *arg)
{
    struct hwi_pool_ordered *o = calloc(1, sizeof *o);
    if (!o || !(o->done = calloc(n ? n : 1, 1))) {
        free(o);
        return NULL;
    }
    o->fn = fn;
    o->arg = arg;
    o->n = n;
    o->window = window < 1 ? 1 : window;
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->more, NULL);
    int t = job_threads(threads, n);
    o->started = job_begin((size_t)t, t, 0, ordered_range, o) > 0;
    return o;
}

void hwi_pool_ordered_wait(struct hwi_pool_ordered *o, size_t i)
{
    pthread_mutex_lock(&o->lock);
    if (o->next == i && !o->done[i]) {
        /* no worker has it: run it here */
        o->next++;
        pthread_mutex_unlock(&o->lock);
        o->fn(o->arg, i);
        pthread_mutex_lock(&o->lock);
        o->done[i] = 1;
    }
    while (!o->done[i])
        pthread_cond_wait(&o->more, &o->lock);
    pthread_mutex_unlock(&o->lock);
}

void hwi_pool_ordered_release(struct hwi_pool_ordered *o, size_t i)
{
    pthread_mutex_lock(&o->lock);
    o->released = i + 1;
    pthread_cond_broadcast(&o->more);
    pthread_mutex_unlock(&o->lock);
}

void hwi_pool_ordered_finish(struct hwi_pool_ordered *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stop = 1;
    pthread_cond_broadcast(&o->more);
    pthread_mutex_unlock(&o->lock);
    if (o->started)
        job_end();
    pthread_cond_destroy(&o->more);
    pthread_mutex_destroy(&o->lock);
    free(o->done);
    free(o);
}
