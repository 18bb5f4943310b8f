/* nn-speed.c: images per second of a Darknet network, stock and hwi.
 *
 * Driver of bench/nn-speed (run that script, not this).  Builds the
 * network of CFG with libdarknet's own parser, then times inference
 * (forward_network, train = 0) and training steps (train_network_datum:
 * forward, backward, update) on a random batch, first with Darknet's own
 * code (hwi_nn_gemm_reference(1)), then with hwi's (lib/nn_gemm.c, on
 * THREADS threads).  Prints one line per measurement on stdout, images
 * per second of wall-clock time and per second of process CPU time (all
 * threads; less sensitive to other load on the machine):
 *     darknet-stock inference IMG_PER_S IMG_PER_CPU_S
 *     darknet-stock training IMG_PER_S IMG_PER_CPU_S
 *     hwi inference IMG_PER_S IMG_PER_CPU_S
 *     hwi training IMG_PER_S IMG_PER_CPU_S
 * Darknet's own chatter goes to stderr. */
#include <config.h>

#include "nn_gemm.h"

/* darknet.h has old-style declarations (f()) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <darknet.h>
#pragma GCC diagnostic pop
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Print WHAT, then images per second and per CPU second of ITERS batches
 * through NET, after WARMUP untimed ones; TRAIN selects training steps
 * over inference. */
static void measure(const char *what, network *net, int train, int warmup, int iters)
{
    double t0 = 0, c0 = 0;
    for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup) {
            t0 = now(CLOCK_MONOTONIC);
            c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        }
        if (train) {
            train_network_datum(net);
        } else {
            net->train = 0;
            forward_network(net);
        }
    }
    double images = (double)iters * net->batch;
    printf("%s %.3f %.3f\n", what, images / (now(CLOCK_MONOTONIC) - t0),
           images / (now(CLOCK_PROCESS_CPUTIME_ID) - c0));
    fflush(stdout);
}

/* The nonnegative integer S, or -1 if S is not one. */
static long count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end == s || *end || errno || v < 0 || v > 1000000 ? -1 : v;
}

static _Noreturn void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "Usage: nn-speed-darknet [--stock-iterations=N] [--iterations=N] "
            "[--threads=N] [--skip-stock] CFG\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stock-iterations", required_argument, NULL, 's'},
        {"iterations", required_argument, NULL, 'i'},
        {"threads", required_argument, NULL, 't'},
        {"skip-stock", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int stock_iters = 1, iters = 5, threads = 0, skip_stock = 0, c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': stock_iters = (int)count(optarg); break;
        case 'i': iters = (int)count(optarg); break;
        case 't': threads = (int)count(optarg); break;
        case 'k': skip_stock = 1; break;
        case 'h': usage(0);
        default: usage(2);
        }
    }
    if (optind != argc - 1 || iters < 1 || stock_iters < 1 || threads < 0)
        usage(2);

    FILE *fp = fopen(argv[optind], "r"); /* Darknet would exit 0 (P19) */
    if (!fp) {
        perror(argv[optind]);
        return 1;
    }
    fclose(fp);
    srand(1);
    network *net = parse_network_cfg(argv[optind]);
    size_t n = (size_t)net->batch * net->inputs;
    for (size_t i = 0; i < n; i++)
        net->input[i] = (float)rand() / RAND_MAX;
    memset(net->truth, 0, (size_t)net->batch * net->truths * sizeof(float));

    if (!skip_stock) {
        hwi_nn_gemm_reference(1);
        measure("darknet-stock inference", net, 0, 0, stock_iters);
        measure("darknet-stock training", net, 1, 0, stock_iters);
    }
    hwi_nn_gemm_reference(0);
    hwi_nn_gemm_threads(threads);
    measure("hwi inference", net, 0, 1, iters);
    measure("hwi training", net, 1, 1, iters);
    free_network(net);
    return 0;
}
