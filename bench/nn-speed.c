/* nn-speed.c: images per second of a Darknet network, stock and hwi.
 *
 * Driver of bench/nn-speed (run that script, not this).  Builds the
 * network of CFG with libdarknet's own parser, then times inference
 * (forward_network, train = 0) and training steps (train_network_datum:
 * forward, backward, update) on a random batch, first with Darknet's own
 * code (hwi_nn_gemm_reference(1)), then with hwi's (lib/nn_gemm.c, on
 * THREADS threads).  Prints one line per measurement on stdout:
 *     darknet-stock inference IMG_PER_S
 *     darknet-stock training IMG_PER_S
 *     hwi inference IMG_PER_S
 *     hwi training IMG_PER_S
 * Darknet's own chatter goes to stderr. */
#include <config.h>

#include "nn_gemm.h"

/* darknet.h has old-style declarations (f()) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <darknet.h>
#pragma GCC diagnostic pop
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Images per second of ITERS batches through NET, after WARMUP untimed
 * ones; TRAIN selects training steps over inference. */
static double measure(network *net, int train, int warmup, int iters)
{
    double t0 = 0;
    for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup)
            t0 = now();
        if (train) {
            train_network_datum(net);
        } else {
            net->train = 0;
            forward_network(net);
        }
    }
    return (double)iters * net->batch / (now() - t0);
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
        case 's':
            stock_iters = atoi(optarg);
            break;
        case 'i':
            iters = atoi(optarg);
            break;
        case 't':
            threads = atoi(optarg);
            break;
        case 'k':
            skip_stock = 1;
            break;
        case 'h':
            usage(0);
        default:
            usage(2);
        }
    }
    if (optind != argc - 1 || iters < 1 || stock_iters < 1 || threads < 0)
        usage(2);

    srand(1);
    network *net = parse_network_cfg(argv[optind]);
    size_t n = (size_t)net->batch * net->inputs;
    for (size_t i = 0; i < n; i++)
        net->input[i] = (float)rand() / RAND_MAX;
    memset(net->truth, 0, (size_t)net->batch * net->truths * sizeof(float));

    if (!skip_stock) {
        hwi_nn_gemm_reference(1);
        printf("darknet-stock inference %.3f\n", measure(net, 0, 0, stock_iters));
        fflush(stdout);
        printf("darknet-stock training %.3f\n", measure(net, 1, 0, stock_iters));
        fflush(stdout);
    }
    hwi_nn_gemm_reference(0);
    hwi_nn_gemm_threads(threads);
    printf("hwi inference %.3f\n", measure(net, 0, 1, iters));
    fflush(stdout);
    printf("hwi training %.3f\n", measure(net, 1, 1, iters));
    fflush(stdout);
    free_network(net);
    return 0;
}
