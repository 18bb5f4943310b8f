/* nn-speed-hwi.c: images per second of a network through hwi's API.
 *
 * Driver of bench/nn-speed (run that script, not this).  Where
 * nn-speed-darknet builds a cfg with Darknet's own parser and layers,
 * this takes hwi's real path, the public API of lib/nn.h: hwi_nn_set_threads,
 * hwi_nn_load (hwi's parser and sections; CLASSES classes, batch from the
 * cfg), then times hwi_nn_forward on a full batch (inference, features and
 * logits filled) and hwi_nn_train_step (forward, loss, backward, update)
 * on a random batch with random labels.  Prints on stdout, images per
 * second of wall-clock time and per second of process CPU time:
 *     hwi-nn inference IMG_PER_S IMG_PER_CPU_S
 *     hwi-nn training IMG_PER_S IMG_PER_CPU_S */
#include <config.h>

#include "err.h"
#include "nn.h"
#include "opt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static _Noreturn void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "Usage: nn-speed-hwi-nn [--iterations=N] [--threads=N] [--classes=N] CFG\n");
    exit(status);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"iterations", required_argument, NULL, 'i'},
        {"threads", required_argument, NULL, 't'},
        {"classes", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long iters = 5, threads = 0, classes = 1000;
    int c;
    hwi_set_program_name("nn-speed-hwi-nn");
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': iters = hwi_opt_long("iterations", optarg, 1, 1000000); break;
        case 't': threads = hwi_opt_long("threads", optarg, 0, 1024); break;
        case 'c': classes = hwi_opt_long("classes", optarg, 1, 1000000); break;
        case 'h': usage(0);
        default: usage(2);
        }
    }
    if (optind != argc - 1)
        usage(2);

    char err[HWI_ERRLEN];
    hwi_nn_set_threads((int)threads);
    struct hwi_nn *nn = hwi_nn_load(argv[optind], NULL, 0, (int)classes, 1, err);
    if (!nn) {
        fprintf(stderr, "nn-speed-hwi-nn: %s\n", err);
        return 1;
    }
    struct hwi_nn_info info;
    hwi_nn_get_info(nn, &info);
    size_t in = (size_t)info.w * info.h * info.c, b = (size_t)info.batch;
    float *x = malloc(b * in * sizeof *x);
    float *feat = malloc(b * (size_t)info.feature_dim * sizeof *feat);
    float *logits = malloc(b * (size_t)(info.classes > 0 ? info.classes : 1) * sizeof *logits);
    int *labels = malloc(b * sizeof *labels);
    if (!x || !feat || !logits || !labels) {
        fprintf(stderr, "nn-speed-hwi-nn: out of memory\n");
        return 1;
    }
    srand(1);
    for (size_t i = 0; i < b * in; i++)
        x[i] = (float)rand() / (float)RAND_MAX;
    for (size_t i = 0; i < b; i++)
        labels[i] = rand() % (int)classes;

    /* One untimed warm-up step, then ITERS timed ones, for each mode. */
    for (int train = 0; train <= 1; train++) {
        double t0 = 0, c0 = 0;
        float loss;
        for (long i = 0; i <= iters; i++) {
            if (i == 1) {
                t0 = now(CLOCK_MONOTONIC);
                c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            }
            int r = train ? hwi_nn_train_step(nn, x, labels, 0.001f, &loss, err)
                          : hwi_nn_forward(nn, x, info.batch, feat,
                                           info.classes > 0 ? logits : NULL, err);
            if (r) {
                fprintf(stderr, "nn-speed-hwi-nn: %s\n", err);
                return 1;
            }
        }
        double images = (double)iters * (double)b;
        printf("hwi-nn %s %.3f %.3f\n", train ? "training" : "inference",
               images / (now(CLOCK_MONOTONIC) - t0),
               images / (now(CLOCK_PROCESS_CPUTIME_ID) - c0));
        fflush(stdout);
    }
    free(labels);
    free(logits);
    free(feat);
    free(x);
    hwi_nn_free(nn);
    return 0;
}
