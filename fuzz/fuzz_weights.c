/* fuzz_weights.c: the weights loader (lib/nn.c, hwi_nn_load with a
 * weights file) for one small fixed network holding every kind of
 * parameter block (convolution with batch norm, [batchnorm], learnable
 * GeM, [ring], [center], [l2norm], classifier heads).  The class count
 * comes from the file, as hwi-embed takes it.  The first input byte is a
 * flag: when odd, the file's last 4 bytes are replaced with the CRC-32 of
 * the rest before loading, so that mutations get past the checksum and
 * reach the trailer and the parameter arrays. */
#include <config.h>

#include "fuzz.h"

#include "nn.h"

#include <stdlib.h>
#include <string.h>

static const char cfg_text[] =
    "[net]\nbatch=1\nwidth=4\nheight=2\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=leaky\n"
    "[batchnorm]\n"
    "[gem]\nfrom=1\nstrips=2\nstrip=0\np=3\nlearnable=1\n"
    "[ring]\nlambda=0.5\nradius=1.5\n"
    "[connected]\noutput=classes\nactivation=linear\n"
    "[softmax]\n"
    "[gem]\nfrom=1\nstrips=2\nstrip=1\n"
    "[center]\nweight=0.5\n"
    "[connected]\nbatch_normalize=1\noutput=5\nactivation=elu\n"
    "[connected]\noutput=classes\nactivation=linear\n"
    "[softmax]\n"
    "[route]\nlayers=3,8\n"
    "[l2norm]\n"
    "[connected]\noutput=classes\nactivation=linear\n"
    "[softmax]\n";

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

HWI_FUZZ_ENTRY(weights)
{
    if (size < 1)
        return 0;
    static const char *cfg;
    if (!cfg)
        cfg = hwi_fuzz_file(2, (const uint8_t *)cfg_text, sizeof cfg_text - 1);
    size_t n = size - 1;
    uint8_t *w = malloc(n ? n : 1);
    if (!w)
        abort();
    memcpy(w, data + 1, n);
    if ((data[0] & 1) && n >= 4) {
        uint32_t c = crc32(w, n - 4);
        for (int i = 0; i < 4; i++)
            w[n - 4 + i] = (uint8_t)(c >> (8 * i));
    }
    const char *path = hwi_fuzz_file(1, w, n);
    free(w);
    char err[HWI_ERRLEN] = "";
    hwi_nn_set_threads(1);
    struct hwi_nn *nn = hwi_nn_load(cfg, path, 1, 0, 1, err);
    if (!nn) {
        /* the cfg is good: whatever is refused is the weights file's fault */
        HWI_FUZZ_CHECK(!strncmp(err, path, strlen(path)), "a refusal names the weights file");
        return 0;
    }
    struct hwi_nn_info info;
    hwi_nn_get_info(nn, &info);
    HWI_FUZZ_CHECK(info.classes >= 1, "loaded weights give a class count");
    float x[4 * 2 * 3] = {0};
    float *feat = calloc((size_t)info.feature_dim, sizeof *feat);
    float *logits = calloc((size_t)info.classes, sizeof *logits);
    if (!feat || !logits)
        abort();
    hwi_nn_forward(nn, x, 1, feat, logits, err);
    free(feat);
    free(logits);
    hwi_nn_free(nn);
    return 0;
}
