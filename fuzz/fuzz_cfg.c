/* fuzz_cfg.c: the network cfg parser and builder (lib/nn.c, hwi_nn_load
 * without weights) on a cfg file, then one inference pass on a zero image
 * when the network's input is small.  Inputs with a number above 48 are
 * skipped: a cfg may rightly ask for gigabytes (hwi_nn_load refuses only
 * what exceeds the machine), which is no finding, and the unit tests cover
 * that refusal. */
#include <config.h>

#include "fuzz.h"

#include "nn.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NUMBER 48

static int small_numbers(const uint8_t *data, size_t size)
{
    unsigned long v = 0;
    int in = 0, frac = 0; /* in a run of digits; after a '.' (a fraction) */
    for (size_t i = 0; i < size; i++) {
        if (isdigit(data[i])) {
            v = in ? v * 10 + (data[i] - '0') : (unsigned long)(data[i] - '0');
            in = 1;
            if (v > MAX_NUMBER && !frac)
                return 0;
        } else {
            frac = data[i] == '.';
            in = 0;
        }
    }
    return 1;
}

HWI_FUZZ_ENTRY(cfg)
{
    if (!small_numbers(data, size))
        return 0;
    const char *path = hwi_fuzz_file(0, data, size);
    char err[HWI_ERRLEN] = "";
    hwi_nn_set_threads(1);
    struct hwi_nn *nn = hwi_nn_load(path, NULL, 1, 3, 1, err);
    if (!nn) {
        HWI_FUZZ_CHECK(err[0], "a refused cfg has a message");
        return 0;
    }
    struct hwi_nn_info info;
    hwi_nn_get_info(nn, &info);
    HWI_FUZZ_CHECK(info.w >= 1 && info.h >= 1 && info.c >= 1 && info.batch == 1,
                   "a built network has an input");
    size_t nin = (size_t)info.w * info.h * info.c;
    if (nin <= 4096 && info.outputs <= 1 << 16) {
        float *x = calloc(nin, sizeof *x);
        float *feat =
            calloc(info.feature_dim > 0 ? (size_t)info.feature_dim : 1, sizeof *feat);
        float *logits = calloc(info.classes > 0 ? (size_t)info.classes : 1, sizeof *logits);
        float *out = calloc(info.outputs > 0 ? (size_t)info.outputs : 1, sizeof *out);
        if (!x || !feat || !logits || !out)
            abort();
        hwi_nn_forward(nn, x, 1, info.feature_dim > 0 ? feat : NULL,
                       info.classes > 0 ? logits : NULL, err);
        hwi_nn_predict(nn, x, 1, out, err);
        free(x);
        free(feat);
        free(logits);
        free(out);
    }
    hwi_nn_free(nn);
    return 0;
}
