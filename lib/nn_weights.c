/* nn_weights.c: the weights file (Darknet's format plus hwi's
 * trailer; man/hwi-nn.5) and the training state of checkpoints. */
#include <config.h>

#include "io.h"
#include "nn_gemm.h"
#include "nn.h"
#include "nn_int.h"
#include "opt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

/* ------------------------------------------------------------------------
 * The weights file: Darknet's part, then hwi's trailer (man/hwi-nn.5):
 *   "HWIN" u32 version=1 u32 classes u32 layout u32 nblocks
 *   nblocks x (u32 layer, u32 kind, u32 count, count x f32)
 *   u64 offset of "HWIN" (= size of Darknet's part)
 *   u32 CRC-32 of every byte before it
 * All little-endian. */
#define HWI_WEIGHTS_VERSION 1
enum { BLOCK_RING = 1, BLOCK_GEM = 2, BLOCK_CENTER = 3, BLOCK_BN = 4, BLOCK_MARGIN = 5 };

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Darknet's arrays of layer L, in file order (parser.c:1030-1076). */
static int dk_arrays(const layer *l, float **arr, size_t *len)
{
    int k = 0;
    if (l->type == CONVOLUTIONAL) {
        arr[k] = l->biases, len[k++] = l->n;
        if (l->batch_normalize) {
            arr[k] = l->scales, len[k++] = l->n;
            arr[k] = l->rolling_mean, len[k++] = l->n;
            arr[k] = l->rolling_variance, len[k++] = l->n;
        }
        arr[k] = l->weights, len[k++] = l->nweights;
    } else if (l->type == CONNECTED) {
        arr[k] = l->biases, len[k++] = l->outputs;
        arr[k] = l->weights, len[k++] = (size_t)l->outputs * l->inputs;
        if (l->batch_normalize) {
            arr[k] = l->scales, len[k++] = l->outputs;
            arr[k] = l->rolling_mean, len[k++] = l->outputs;
            arr[k] = l->rolling_variance, len[k++] = l->outputs;
        }
    } else if (l->type == BATCHNORM) {
        arr[k] = l->scales, len[k++] = l->c;
        arr[k] = l->rolling_mean, len[k++] = l->c;
        arr[k] = l->rolling_variance, len[k++] = l->c;
    }
    return k;
}

/* hwi's block of layer I: returns its kind (0: none). */
static int hwi_block(const struct hwi_nn *nn, int i, float **arr, size_t *len)
{
    const layer *l = &nn->net->layers[i];
    switch (nn->aux[i].kind) {
    case HWI_RING: *arr = l->weights, *len = 1; return BLOCK_RING;
    case HWI_GEM: *arr = l->weights, *len = 1; return BLOCK_GEM;
    case HWI_CENTER:
        *arr = l->weights, *len = (size_t)nn->classes * l->inputs;
        return BLOCK_CENTER;
    case HWI_ARCFACE:
    case HWI_COSFACE:
        *arr = l->weights, *len = (size_t)l->inputs * l->outputs;
        return BLOCK_MARGIN;
    case HWI_BN: *arr = l->biases, *len = l->out_c; return l->biases ? BLOCK_BN : 0;
    default: return 0;
    }
}

static uint32_t layout_hash(const struct hwi_nn *nn)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < nn->net->n; i++) {
        const layer *l = &nn->net->layers[i];
        uint32_t v[5] = {(uint32_t)l->type, (uint32_t)nn->aux[i].kind, (uint32_t)l->inputs,
                         (uint32_t)l->outputs, (uint32_t)l->batch_normalize};
        for (int k = 0; k < 5; k++)
            for (int j = 0; j < 4; j++)
                h = (h ^ ((v[k] >> (8 * j)) & 0xff)) * 16777619u;
    }
    return h;
}

static size_t dk_bytes(const struct hwi_nn *nn)
{
    size_t n = 20;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[5];
        size_t len[5];
        int k = dk_arrays(&nn->net->layers[i], arr, len);
        for (int j = 0; j < k; j++)
            n += 4 * len[j];
    }
    return n;
}

static size_t trailer_bytes(const struct hwi_nn *nn)
{
    size_t n = 20 + 12;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr;
        size_t len;
        if (hwi_block(nn, i, &arr, &len))
            n += 12 + 4 * len;
    }
    return n;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *putf(unsigned char *p, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &a[i], 4);
        p = put32(p, u);
    }
    return p;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static const unsigned char *getf(const unsigned char *p, float *a, size_t n)
{
    for (size_t i = 0; i < n; i++, p += 4) {
        uint32_t u = get32(p);
        memcpy(&a[i], &u, 4);
    }
    return p;
}

/* The weights file of NN as bytes: a malloc'd buffer of *SIZE bytes, or
 * NULL when out of memory. */
unsigned char *hwi_nn_pack_weights(struct hwi_nn *nn, size_t *size)
{
    size_t dk = dk_bytes(nn);
    *size = dk + trailer_bytes(nn);
    unsigned char *buf = malloc(*size), *p = buf;
    if (!buf)
        return NULL;
    p = put32(p, 0); /* major */
    p = put32(p, 2); /* minor */
    p = put32(p, 0); /* revision */
    p = put64(p, *nn->net->seen);
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[5];
        size_t len[5];
        int k = dk_arrays(&nn->net->layers[i], arr, len);
        for (int j = 0; j < k; j++)
            p = putf(p, arr[j], len[j]);
    }
    memcpy(p, "HWIN", 4);
    p += 4;
    p = put32(p, HWI_WEIGHTS_VERSION);
    p = put32(p, (uint32_t)nn->classes);
    p = put32(p, layout_hash(nn));
    int nblocks = 0;
    float *arr;
    size_t len;
    for (int i = 0; i < nn->net->n; i++)
        nblocks += hwi_block(nn, i, &arr, &len) != 0;
    p = put32(p, (uint32_t)nblocks);
    for (int i = 0; i < nn->net->n; i++) {
        int kind = hwi_block(nn, i, &arr, &len);
        if (!kind)
            continue;
        p = put32(p, (uint32_t)i);
        p = put32(p, (uint32_t)kind);
        p = put32(p, (uint32_t)len);
        p = putf(p, arr, len);
    }
    p = put64(p, dk);
    p = put32(p, crc32_update(0, buf, (size_t)(p - buf)));
    return buf;
}

int hwi_nn_save(struct hwi_nn *nn, const char *path, char *err)
{
    size_t size;
    unsigned char *buf = hwi_nn_pack_weights(nn, &size);
    if (!buf)
        return hwi_seterr(err, "%s: out of memory", path);
    struct hwi_outfile out;
    int rc = hwi_outfile_open(&out, path, err);
    if (!rc) {
        if (fwrite(buf, 1, size, out.fp) != size) {
            hwi_outfile_abort(&out);
            rc = hwi_seterr(err, "%s: %s", path, strerror(errno));
        } else {
            rc = hwi_outfile_commit(&out, err);
        }
    }
    free(buf);
    return rc;
}

/* Read all of PATH into *BUF.  Returns its size, or -1 with ERR. */
long hwi_nn_read_file(const char *path, unsigned char **buf, char *err)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;
    if (!fp)
        return hwi_seterr(err, "%s: %s", path, strerror(errno));
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return hwi_seterr(err, "%s: not a regular file", path);
    }
    *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!*buf) {
        fclose(fp);
        return hwi_seterr(err, "%s: out of memory", path);
    }
    size_t n = fread(*buf, 1, (size_t)st.st_size, fp);
    int e = ferror(fp);
    fclose(fp);
    if (e || n != (size_t)st.st_size) {
        free(*buf);
        return hwi_seterr(err, "%s: read error", path);
    }
    return (long)n;
}

/* Check the frame of a weights file of SIZE bytes; *DK and *CLASSES get
 * the size of Darknet's part and the class count. */
int hwi_nn_check_frame(const char *path, const unsigned char *buf, long size, size_t *dk,
                       int *classes, char *err)
{
    if (size < 20 + 20 + 12)
        return hwi_seterr(err,
                          "%s: %ld bytes: too short for an hwi weights file "
                          "(truncated, or not written by hwi)",
                          path, size);
    uint64_t off = get64(buf + size - 12);
    if (off < 20 || off > (uint64_t)size - 32 || memcmp(buf + off, "HWIN", 4) != 0)
        return hwi_seterr(err, "%s: no hwi trailer (truncated, or not written by hwi)", path);
    if (crc32_update(0, buf, (size_t)size - 4) != get32(buf + size - 4))
        return hwi_seterr(err, "%s: checksum mismatch: the file is corrupt", path);
    uint32_t v = get32(buf + off + 4);
    if (v != HWI_WEIGHTS_VERSION)
        return hwi_seterr(err, "%s: trailer version %u; this hwi reads version %d", path, v,
                          HWI_WEIGHTS_VERSION);
    *dk = (size_t)off;
    *classes = (int)get32(buf + off + 8);
    return 0;
}

int hwi_nn_load_weights(struct hwi_nn *nn, const char *path, const unsigned char *buf,
                        long size, char *err)
{
    size_t dk = dk_bytes(nn), want = dk + trailer_bytes(nn);
    size_t fdk;
    int fclasses;
    if (hwi_nn_check_frame(path, buf, size, &fdk, &fclasses, err))
        return -1;
    if (fdk != dk || (size_t)size != want || get32(buf + dk + 12) != layout_hash(nn))
        return hwi_seterr(err,
                          "%s: made for another network (%ld bytes, this cfg needs %zu "
                          "with %d classes)",
                          path, size, want, nn->classes);
    const unsigned char *p = buf;
    if (get32(p) != 0 || get32(p + 4) != 2)
        return hwi_seterr(err, "%s: Darknet header version %u.%u; hwi writes 0.2", path,
                          get32(p), get32(p + 4));
    *nn->net->seen = (size_t)get64(p + 12);
    p += 20;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[5];
        size_t len[5];
        int k = dk_arrays(&nn->net->layers[i], arr, len);
        for (int j = 0; j < k; j++)
            p = getf(p, arr[j], len[j]);
    }
    p += 20;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr;
        size_t len;
        int kind = hwi_block(nn, i, &arr, &len);
        if (!kind)
            continue;
        if (get32(p) != (uint32_t)i || get32(p + 4) != (uint32_t)kind || get32(p + 8) != len)
            return hwi_seterr(err, "%s: made for another network (block of layer %d)", path,
                              i);
        p += 12;
        if (kind == BLOCK_GEM && !nn->aux[i].learnable)
            p += 4; /* a constant p comes from the cfg */
        else
            p = getf(p, arr, len);
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Training state (checkpoints).  Beyond the weights file, what the next
 * update step reads: the momentum buffers (*_updates; Darknet's SGD keeps
 * momentum times the last update there), hwi's Adam moments, Darknet's
 * update counter *net->t, hwi's [center] accumulators, and the position of
 * rand(), which Darknet's [dropout] draws from (P15). */

/* The optimizer arrays of layer I, in a fixed order; returns how many. */
static int state_arrays(const struct hwi_nn *nn, int i, float **arr, size_t *len)
{
    const layer *l = &nn->net->layers[i];
    const struct hwi_aux *a = &nn->aux[i];
    size_t n = 0, nw = 0;
    int k = 0;
    switch (a->kind) {
    case HWI_CONV: n = (size_t)l->n, nw = (size_t)l->nweights; break;
    case HWI_CONN: n = (size_t)l->outputs, nw = n * (size_t)l->inputs; break;
    case HWI_BN: n = (size_t)l->out_c; break;
    case HWI_GEM:
    case HWI_RING: nw = 1; break;
    case HWI_CENTER:
        nw = (size_t)a->classes * l->inputs;
        arr[k] = a->counts, len[k++] = (size_t)a->classes;
        break;
    default: return 0;
    }
    float *cand[9] = {l->weight_updates,
                      l->bias_updates,
                      l->scale_updates,
                      a->m,
                      a->v,
                      a->bm,
                      a->bv,
                      a->sm,
                      a->sv};
    size_t clen[9] = {nw, n, n, nw, nw, n, n, n, n};
    for (int j = 0; j < 9; j++)
        if (cand[j] && clen[j])
            arr[k] = cand[j], len[k++] = clen[j];
    return k;
}

/* glibc keeps rand()'s state in a table of 128 bytes (srand's TYPE_3) whose
 * first word records the position; initstate() stores the position of the
 * table it leaves and returns it, setstate() returns to it. */
#define RAND_STATE_BYTES 128
static void rand_snapshot(unsigned char *out, const unsigned char *in)
{
    char tmp[RAND_STATE_BYTES];
    char *cur = initstate(1, tmp, sizeof tmp);
    if (out)
        memcpy(out, cur, RAND_STATE_BYTES);
    if (in)
        memcpy(cur, in, RAND_STATE_BYTES);
    setstate(cur);
}

#define STATE_MAGIC "HWIS"
#define STATE_VERSION 1

int hwi_nn_state_get(struct hwi_nn *nn, unsigned char **out, size_t *size, char *err)
{
    size_t wsize;
    unsigned char *w = hwi_nn_pack_weights(nn, &wsize);
    if (!w)
        return hwi_seterr(err, "out of memory");
    size_t n = 4 + 4 + 4 + 8 + wsize + 4 + 4 + RAND_STATE_BYTES;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[9];
        size_t len[9];
        int k = state_arrays(nn, i, arr, len);
        for (int j = 0; j < k; j++)
            n += 4 * len[j];
    }
    unsigned char *buf = malloc(n), *p = buf;
    if (!buf) {
        free(w);
        return hwi_seterr(err, "out of memory");
    }
    memcpy(p, STATE_MAGIC, 4);
    p = put32(p + 4, STATE_VERSION);
    p = put32(p, layout_hash(nn));
    p = put64(p, wsize);
    memcpy(p, w, wsize);
    p += wsize;
    free(w);
    p = put32(p, (uint32_t)*nn->net->t);
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[9];
        size_t len[9];
        int k = state_arrays(nn, i, arr, len);
        for (int j = 0; j < k; j++)
            p = putf(p, arr[j], len[j]);
    }
    p = put32(p, RAND_STATE_BYTES);
    rand_snapshot(p, NULL);
    p += RAND_STATE_BYTES;
    *out = buf;
    *size = (size_t)(p - buf);
    return 0;
}

int hwi_nn_state_set(struct hwi_nn *nn, const unsigned char *buf, size_t size, char *err)
{
    if (size < 20 || memcmp(buf, STATE_MAGIC, 4) != 0)
        return hwi_seterr(err, "not an hwi training state");
    if (get32(buf + 4) != STATE_VERSION)
        return hwi_seterr(err, "training state version %u; this hwi reads version %d",
                          get32(buf + 4), STATE_VERSION);
    if (get32(buf + 8) != layout_hash(nn))
        return hwi_seterr(err, "the training state is for another network");
    uint64_t wsize = get64(buf + 12);
    size_t need = 20 + 4 + 4 + RAND_STATE_BYTES;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[9];
        size_t len[9];
        int k = state_arrays(nn, i, arr, len);
        for (int j = 0; j < k; j++)
            need += 4 * len[j];
    }
    if (wsize > size || size - wsize != need)
        return hwi_seterr(err, "the training state is for another network or truncated");
    if (hwi_nn_load_weights(nn, "training state", buf + 20, (long)wsize, err))
        return -1;
    const unsigned char *p = buf + 20 + wsize;
    *nn->net->t = (int)get32(p);
    p += 4;
    for (int i = 0; i < nn->net->n; i++) {
        float *arr[9];
        size_t len[9];
        int k = state_arrays(nn, i, arr, len);
        for (int j = 0; j < k; j++)
            p = getf(p, arr[j], len[j]);
    }
    if (get32(p) != RAND_STATE_BYTES)
        return hwi_seterr(err, "training state: bad rand() state");
    rand_snapshot(NULL, p + 4);
    return 0;
}
