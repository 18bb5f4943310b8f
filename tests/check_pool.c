/* check_pool.c: the thread pool (lib/pool.c): every index run exactly once
 * by each job shape, the ordered pool's input order and window, the lowest
 * failed item's message from hwi_pool_each, and nested calls running in the
 * calling thread. */
#include <config.h>

#include "check_hwi.h"
#include "err.h"
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 2000 };

static atomic_int hits[N];

static void setup(void)
{
    for (int i = 0; i < N; i++)
        atomic_store(&hits[i], 0);
    hwi_pool_set_size(4);
}

static void count_range(void *arg, size_t lo, size_t hi)
{
    (void)arg;
    for (size_t i = lo; i < hi; i++)
        atomic_fetch_add(&hits[i], 1);
}

static void assert_once(size_t n)
{
    for (size_t i = 0; i < N; i++)
        ck_assert_int_eq(atomic_load(&hits[i]), i < n ? 1 : 0);
}

START_TEST(test_for)
{
    hwi_pool_for(N, 7, count_range, NULL);
    assert_once(N);
    setup();
    hwi_pool_for(3, 1, count_range, NULL); /* fewer items than threads */
    assert_once(3);
    hwi_pool_for(0, 1, count_range, NULL);
    assert_once(3);
}
END_TEST

/* Item I fails when I is a multiple of *ARG (0: never). */
static int count_item(void *arg, size_t i, char *err)
{
    size_t every = *(size_t *)arg;
    atomic_fetch_add(&hits[i], 1);
    if (every && i % every == every - 1)
        return hwi_seterr(err, "item %zu failed", i);
    return 0;
}

START_TEST(test_each)
{
    char err[HWI_ERRLEN];
    size_t every = 0;
    for (int t = 0; t <= 5; t++) {
        setup();
        ck_assert_int_eq(hwi_pool_each(N, t, count_item, &every, err), 0);
        assert_once(N);
    }
    setup();
    ck_assert_int_eq(hwi_pool_each(0, 3, count_item, &every, err), 0);
    assert_once(0);
}
END_TEST

/* Errors: the message of the lowest failed item, whatever finishes first;
 * no item past the failures is run twice, and the claim stops early. */
/* Every item from *ARG on fails; items take 1 ms so that the threads
 * overlap, the first failing item 20 ms and the later ones (claimed by the
 * other threads meanwhile) 40 ms, so the lowest failure is not the last
 * one to end. */
static int fail_from(void *arg, size_t i, char *err)
{
    size_t from = *(size_t *)arg;
    atomic_fetch_add(&hits[i], 1);
    usleep(i < from ? 1000 : i == from ? 20000 : 40000);
    if (i < from)
        return 0;
    return hwi_seterr(err, "item %zu failed", i);
}

START_TEST(test_each_error)
{
    char err[HWI_ERRLEN] = "";
    size_t every = 300;
    for (int t = 1; t <= 4; t++) {
        setup();
        ck_assert_int_eq(hwi_pool_each(N, t, count_item, &every, err), -1);
        ck_assert_str_eq(err, "item 299 failed");
        int run = 0;
        for (int i = 0; i < N; i++) {
            ck_assert_int_le(atomic_load(&hits[i]), 1);
            run += atomic_load(&hits[i]);
        }
        ck_assert_int_ge(run, 300);
        ck_assert_int_lt(run, N);
    }
    size_t from = 100;
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(hwi_pool_each(N, 4, fail_from, &from, err), -1);
        ck_assert_str_eq(err, "item 100 failed");
    }
}
END_TEST

/* A nested call from inside a job runs in the calling thread, and the
 * outer job still finishes. */
static void nested_range(void *arg, size_t lo, size_t hi)
{
    (void)arg;
    for (size_t i = lo; i < hi; i++) {
        size_t base = i * 10;
        for (size_t k = 0; k < 10; k++)
            atomic_fetch_add(&hits[base + k], 0); /* touch */
        hwi_pool_for(10, 1, count_range, NULL);   /* hits[0..10) once per i */
    }
}

START_TEST(test_nested)
{
    hwi_pool_for(50, 1, nested_range, NULL);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(atomic_load(&hits[i]), 50);
}
END_TEST

/* The ordered pool: the caller sees items in order, each run once, workers
 * never more than WINDOW ahead of the caller's releases. */
struct ord {
    pthread_mutex_t lock;
    size_t released; /* items released by the caller */
    size_t window;
    int too_far; /* an item ran at or past released + window */
    size_t value[N];
};

static void ord_item(void *arg, size_t i)
{
    struct ord *o = arg;
    pthread_mutex_lock(&o->lock);
    if (i >= o->released + o->window)
        o->too_far = 1;
    pthread_mutex_unlock(&o->lock);
    atomic_fetch_add(&hits[i], 1);
    o->value[i] = i * i + 1;
}

START_TEST(test_ordered)
{
    static struct ord o;
    for (int t = 0; t <= 4; t++) {
        setup();
        memset(&o, 0, sizeof o);
        pthread_mutex_init(&o.lock, NULL);
        o.window = 5;
        struct hwi_pool_ordered *p = hwi_pool_ordered_start(N, t, o.window, ord_item, &o);
        ck_assert_ptr_nonnull(p);
        for (size_t i = 0; i < N; i++) {
            hwi_pool_ordered_wait(p, i);
            ck_assert_int_eq(atomic_load(&hits[i]), 1);
            ck_assert_uint_eq(o.value[i], i * i + 1);
            pthread_mutex_lock(&o.lock);
            o.released = i + 1;
            pthread_mutex_unlock(&o.lock);
            hwi_pool_ordered_release(p, i);
        }
        hwi_pool_ordered_finish(p);
        assert_once(N);
        ck_assert_int_eq(o.too_far, 0);
        pthread_mutex_destroy(&o.lock);
    }
}
END_TEST

/* Stopping early: items never claimed are never run, and none runs after
 * hwi_pool_ordered_finish returns. */
START_TEST(test_ordered_stop)
{
    static struct ord o;
    memset(&o, 0, sizeof o);
    pthread_mutex_init(&o.lock, NULL);
    o.window = 8;
    struct hwi_pool_ordered *p = hwi_pool_ordered_start(N, 3, o.window, ord_item, &o);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < 10; i++) {
        hwi_pool_ordered_wait(p, i);
        pthread_mutex_lock(&o.lock);
        o.released = i + 1;
        pthread_mutex_unlock(&o.lock);
        hwi_pool_ordered_release(p, i);
    }
    hwi_pool_ordered_finish(p);
    int run = 0;
    for (int i = 0; i < N; i++)
        run += atomic_load(&hits[i]);
    ck_assert_int_ge(run, 10);
    ck_assert_int_le(run, 10 + 8);
    for (int i = 0; i < N; i++)
        ck_assert_int_le(atomic_load(&hits[i]), 1);
    for (int i = 10 + 8; i < N; i++)
        ck_assert_int_eq(atomic_load(&hits[i]), 0);
    ck_assert_int_eq(o.too_far, 0);
    pthread_mutex_destroy(&o.lock);
    hwi_pool_ordered_finish(NULL);
}
END_TEST

Suite *make_pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("Core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_for);
    tcase_add_test(tc, test_each);
    tcase_add_test(tc, test_each_error);
    tcase_add_test(tc, test_nested);
    tcase_add_test(tc, test_ordered);
    tcase_add_test(tc, test_ordered_stop);
    suite_add_tcase(s, tc);
    return s;
}
