/* synth.c: the synthetic fluke data set (see synth.h).
 *
 * Coordinates.  A fluke lives in its own plane: x from -1 (left tip) to +1
 * (right tip), y up, the median notch near (0, 0.05), the root of the lobes
 * (where the tail stock joins) near (0, -0.3), the tail stock below it.  An
 * individual is rendered once into a template (TW x TH pixels over that
 * plane: coverage and skin brightness); a photo maps each of its pixels back
 * into the plane through a homography (roll, yaw, pitch, perspective, scale,
 * position) and samples the template over a procedural sea.
 *
 * Determinism.  Every random draw comes from an rng seeded by (seed, kind,
 * index): the plan from one stream, each individual's fluke from its own,
 * each photo from its own.  Threads share nothing but a work counter and
 * the output arrays, whose slots they fill by photo index. */
#include <config.h>

#include "synth.h"

#include "image.h"
#include "io.h"
#include "map.h"
#include "pool.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------------------
 * Random numbers: xoshiro256** of lib/rng.c, one stream per purpose. */

enum { RNG_PLAN = 1, RNG_WHALE = 2, RNG_PHOTO = 3, RNG_NAMES = 4 };

/* The stream of (SEED, KIND, INDEX): one per purpose and item, so that a
 * photo's draws do not depend on the order photos are rendered in. */
static void rng_seed(struct hwi_rng256 *r, uint64_t seed, uint64_t kind, uint64_t index)
{
    hwi_rng256_seed(r, hwi_rng_mix(seed + 0x9e3779b97f4a7c15ULL) ^
                           hwi_rng_mix(kind * 0x632be59bd9b4e019ULL) ^
                           hwi_rng_mix(index + 0x2545f4914f6cdd1dULL + kind));
}

/* uniform in [0,1) */
static double u01(struct hwi_rng256 *r)
{
    return hwi_rng256_u01(r);
}

static double unif(struct hwi_rng256 *r, double a, double b)
{
    return a + (b - a) * u01(r);
}

/* uniform integer in [0, n) */
static long irand(struct hwi_rng256 *r, long n)
{
    return (long)(u01(r) * (double)n);
}

static int chance(struct hwi_rng256 *r, double p)
{
    return u01(r) < p;
}

static double normal(struct hwi_rng256 *r)
{
    double u = u01(r), v = u01(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2 * M_PI * v);
}

/* ------------------------------------------------------------------------
 * Lattice value noise: a hash of (x, y, seed) at integer points, smoothly
 * interpolated; fbm sums octaves.  Values in about [-1, 1]. */

static inline uint32_t hash3(int32_t x, int32_t y, uint32_t seed)
{
    uint32_t h = seed * 0x9e3779b1u ^ (uint32_t)x * 0x85ebca77u ^ (uint32_t)y * 0xc2b2ae3du;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h;
}

static inline float hashf(int32_t x, int32_t y, uint32_t seed)
{
    return (float)(hash3(x, y, seed) >> 8) * (2.0f / 16777216.0f) - 1.0f;
}

static inline float vnoise(float x, float y, uint32_t seed)
{
    float fx = floorf(x), fy = floorf(y);
    int32_t ix = (int32_t)fx, iy = (int32_t)fy;
    float tx = x - fx, ty = y - fy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    float a = hashf(ix, iy, seed), b = hashf(ix + 1, iy, seed);
    float c = hashf(ix, iy + 1, seed), d = hashf(ix + 1, iy + 1, seed);
    float ab = a + (b - a) * tx, cd = c + (d - c) * tx;
    return ab + (cd - ab) * ty;
}

static float fbm(float x, float y, uint32_t seed, int octaves)
{
    float sum = 0, amp = 0.5f, norm = 0;
    for (int i = 0; i < octaves; i++) {
        sum += amp * vnoise(x, y, seed + (uint32_t)i * 101u);
        norm += amp;
        x = x * 2.03f + 17.1f;
        y = y * 2.03f - 9.7f;
        amp *= 0.5f;
    }
    return sum / norm;
}

static inline float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline float smoothstepf(float a, float b, float v)
{
    float t = clampf((v - a) / (b - a), 0, 1);
    return t * t * (3 - 2 * t);
}

/* ------------------------------------------------------------------------
 * Presets and the plan. */

int hwi_synth_config_preset(struct hwi_synth_config *c, const char *name, char *err)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->train_nw = 9664.0 / 25361.0; /* the competition's train.csv */
    c->test_nw = 0.28;
    c->scar_frac = 0.05;
    c->min_w = 320;
    c->max_w = 800;
    if (strcmp(name, "tiny") == 0) {
        c->named = 12;
        c->train = 60;
        c->test = 20;
        c->min_w = 160;
        c->max_w = 320;
        c->scar_frac = 0.2;
    } else if (strcmp(name, "small") == 0) {
        c->named = 250;
        c->train = 1268;
        c->test = 398;
    } else if (strcmp(name, "full") == 0) {
        c->named = 5004;
        c->train = 25361;
        c->test = 7960;
    } else {
        return hwi_seterr(err, "unknown scale '%s' (tiny, small or full)", name);
    }
    return 0;
}

/* Photos per named individual in the competition's train.csv: the counts
 * of individuals with 1..15 photos, then a power-law tail to 73 holding the
 * remaining 2% of individuals. */
#define MAXK 73
static const double head_counts[16] = {0,  2073, 1285, 568, 273, 172, 136, 86,
                                       76, 62,   46,   39,  26,  25,  17,  15};

static void count_cdf(double *cdf)
{
    double w[MAXK + 1] = {0}, total = 0;
    for (int k = 1; k <= 15; k++)
        w[k] = head_counts[k];
    double tail = 0;
    for (int k = 16; k <= MAXK; k++)
        tail += pow(k, -2.0);
    for (int k = 16; k <= MAXK; k++)
        w[k] = 105.0 * pow(k, -2.0) / tail;
    for (int k = 1; k <= MAXK; k++)
        total += w[k];
    double acc = 0;
    cdf[0] = 0;
    for (int k = 1; k <= MAXK; k++) {
        acc += w[k] / total;
        cdf[k] = acc;
    }
}

static int cmp_size_desc(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return *x < *y ? 1 : *x > *y ? -1 : 0;
}

/* Draw a unique name into OUT: PREFIX, DIGITS hex digits from R, SUFFIX;
 * not already in SEEN (which then holds it). */
static int unique_hex(struct hwi_rng256 *r, struct hwi_map *seen, const char *prefix,
                      int digits, char *out, size_t outlen, const char *suffix)
{
    for (;;) {
        uint64_t v = hwi_rng256_next(r) >> (64 - 4 * digits);
        snprintf(out, outlen, "%s%0*llx%s", prefix, digits, (unsigned long long)v, suffix);
        int rc = hwi_map_put(seen, out, 0, NULL);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return 0;
    }
}

void hwi_synth_plan_free(struct hwi_synth_plan *p)
{
    free(p->whale);
    free(p->photo);
    free(p->first);
    memset(p, 0, sizeof *p);
}

int hwi_synth_plan_make(struct hwi_synth_plan *p, const struct hwi_synth_config *c, char *err)
{
    memset(p, 0, sizeof *p);
    p->config = *c;
    long train_nw = lround((double)c->train * c->train_nw);
    long train_named = c->train - train_nw;
    long test_nw = lround((double)c->test * c->test_nw);
    long test_known = c->test - test_nw;
    if (c->named < 1 || c->train < 1 || c->test < 0 || train_named < c->named ||
        c->train > 10000000 || c->test > 10000000 || c->min_w < 64 || c->max_w < c->min_w)
        return hwi_seterr(err,
                          "bad data set sizes: %ld named individuals, %ld train "
                          "photos (%ld of them named), %ld test photos",
                          c->named, c->train, train_named, c->test);
    struct hwi_rng256 r;
    rng_seed(&r, c->seed, RNG_PLAN, 0);

    /* Named individuals: counts at the quantiles of the competition's
     * distribution (so small sets keep its shape), then a few photos moved
     * to or from the biggest ones to hit the total. */
    uint32_t *count = malloc((size_t)c->named * sizeof *count);
    if (!count)
        return hwi_seterr(err, "out of memory");
    double cdf[MAXK + 1];
    count_cdf(cdf);
    long sum = 0;
    for (long i = 0; i < c->named; i++) {
        double q = ((double)i + 0.5) / (double)c->named;
        int k = 1;
        while (k < MAXK && cdf[k] < q)
            k++;
        count[i] = (uint32_t)k;
        sum += k;
    }
    qsort(count, (size_t)c->named, sizeof *count, cmp_size_desc);
    /* biggest first: add to or take from the individuals with most photos */
    while (sum < train_named)
        for (long i = 0; i < c->named && sum < train_named; i++, sum++)
            count[i]++;
    while (sum > train_named)
        for (long i = 0; i < c->named && sum > train_named; i++)
            if (count[i] > 1) {
                count[i]--;
                sum--;
            }
    /* shuffle so that the order of individuals says nothing */
    for (long i = c->named - 1; i > 0; i--) {
        long j = irand(&r, i + 1);
        uint32_t t = count[i];
        count[i] = count[j];
        count[j] = t;
    }

    /* Unnamed individuals: train new_whale photos, mostly one each; test
     * photos of individuals absent from the named set, one or two each. */
    size_t cap = (size_t)(c->named + train_nw + test_nw + 1);
    p->whale = calloc(cap, sizeof *p->whale);
    p->photo = calloc((size_t)(c->train + c->test), sizeof *p->photo);
    p->first = calloc(cap + 1, sizeof *p->first);
    if (!p->whale || !p->photo || !p->first) {
        free(count);
        hwi_synth_plan_free(p);
        return hwi_seterr(err, "out of memory");
    }
    for (long i = 0; i < c->named; i++)
        p->whale[i].ntrain = count[i];
    free(count);
    size_t nw = (size_t)c->named;
    for (long left = train_nw; left > 0;) {
        uint32_t k = (left >= 2 && chance(&r, 0.08)) ? 2 : 1;
        p->whale[nw++].ntrain = k;
        left -= k;
    }
    for (long left = test_nw; left > 0;) {
        uint32_t k = (left >= 2 && chance(&r, 0.15)) ? 2 : 1;
        p->whale[nw++].ntest = k;
        left -= k;
    }

    /* Test photos of named individuals: more photographed whales are met
     * more often (weight count^0.7). */
    if (test_known > 0) {
        double *cw = malloc((size_t)c->named * sizeof *cw);
        if (!cw) {
            hwi_synth_plan_free(p);
            return hwi_seterr(err, "out of memory");
        }
        double acc = 0;
        for (long i = 0; i < c->named; i++) {
            acc += pow(p->whale[i].ntrain, 0.7);
            cw[i] = acc;
        }
        for (long t = 0; t < test_known; t++) {
            double v = u01(&r) * acc;
            long lo = 0, hi = c->named - 1;
            while (lo < hi) {
                long mid = (lo + hi) / 2;
                if (cw[mid] > v)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            p->whale[lo].ntest++;
        }
        free(cw);
    }
    p->nwhale = nw;

    /* Ids, scars and photos. */
    struct hwi_map seen = {0};
    struct hwi_rng256 rn;
    rng_seed(&rn, c->seed, RNG_NAMES, 0);
    int oom = 0;
    size_t np = 0;
    for (size_t w = 0; w < nw; w++) {
        struct hwi_synth_whale *wh = &p->whale[w];
        if ((long)w < c->named)
            oom |= unique_hex(&rn, &seen, "w_", 7, wh->id, sizeof wh->id, "");
        else
            snprintf(wh->id, sizeof wh->id, "%s", "new_whale");
        wh->scar_time = 2.0f;
        if ((long)w < c->named && wh->ntrain + wh->ntest >= 2 && chance(&r, c->scar_frac))
            wh->scar_time = (float)unif(&r, 0.3, 0.8);
        p->first[w] = np;
        for (uint32_t k = 0; k < wh->ntrain + wh->ntest; k++) {
            struct hwi_synth_photo *ph = &p->photo[np++];
            ph->whale = (uint32_t)w;
            ph->split = k < wh->ntrain ? HWI_SYNTH_TRAIN : HWI_SYNTH_TEST;
            /* test photos were taken a little later, on the whole */
            ph->time = (float)(ph->split == HWI_SYNTH_TEST ? unif(&r, 0.25, 1.0)
                                                           : unif(&r, 0.0, 0.85));
        }
    }
    p->first[nw] = np;
    p->nphoto = np;
    /* photo names: drawn in a shuffled order so that names say nothing */
    size_t *order = malloc(np * sizeof *order);
    if (!order)
        oom = 1;
    else {
        for (size_t i = 0; i < np; i++)
            order[i] = i;
        for (size_t i = np; i > 1; i--) {
            size_t j = (size_t)irand(&r, (long)i);
            size_t t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        rng_seed(&rn, c->seed, RNG_NAMES, 1); /* not the ids' stream */
        for (size_t i = 0; i < np && !oom; i++) {
            struct hwi_synth_photo *ph = &p->photo[order[i]];
            oom |= unique_hex(&rn, &seen, "", 8, ph->name, sizeof ph->name, ".jpg");
        }
        free(order);
    }
    hwi_map_free(&seen);
    if (oom) {
        hwi_synth_plan_free(p);
        return hwi_seterr(err, "out of memory");
    }
    return 0;
}

void hwi_synth_stats(const struct hwi_synth_plan *p, struct hwi_synth_stats *s)
{
    memset(s, 0, sizeof *s);
    for (size_t w = 0; w < p->nwhale; w++) {
        const struct hwi_synth_whale *wh = &p->whale[w];
        int named = strcmp(wh->id, "new_whale") != 0;
        s->train += wh->ntrain;
        s->test += wh->ntest;
        if (!named) {
            s->unnamed++;
            s->train_nw += wh->ntrain;
            s->test_nw += wh->ntest;
            continue;
        }
        s->named++;
        uint32_t k = wh->ntrain;
        int b = k <= 5 ? (int)k - 1 : k <= 10 ? 5 : k <= 20 ? 6 : 7;
        s->hist[b]++;
        if (k > s->max_photos)
            s->max_photos = k;
        s->scarred += wh->scar_time <= 1.0f;
        s->val_queries += k >= 2;
    }
}

void hwi_synth_stats_print(const struct hwi_synth_stats *s, FILE *fp)
{
    static const char *const bins[8] = {"1", "2", "3", "4", "5", "6-10", "11-20", ">20"};
    fprintf(fp, "# hwi-synth label statistics\n");
    fprintf(fp, "train_photos\t%zu\n", s->train);
    fprintf(fp, "test_photos\t%zu\n", s->test);
    fprintf(fp, "named_individuals\t%zu\n", s->named);
    fprintf(fp, "train_new_whale\t%zu\n", s->train_nw);
    fprintf(fp, "train_new_whale_frac\t%.4f\n",
            s->train ? (double)s->train_nw / (double)s->train : 0.0);
    fprintf(fp, "test_new_whale\t%zu\n", s->test_nw);
    fprintf(fp, "test_new_whale_frac\t%.4f\n",
            s->test ? (double)s->test_nw / (double)s->test : 0.0);
    fprintf(fp, "unnamed_individuals\t%zu\n", s->unnamed);
    for (int b = 0; b < 8; b++)
        fprintf(fp, "named_with_%s_photos\t%zu\n", bins[b], s->hist[b]);
    fprintf(fp, "max_photos_per_individual\t%zu\n", s->max_photos);
    fprintf(fp, "mean_photos_per_named\t%.3f\n",
            s->named ? (double)(s->train - s->train_nw) / (double)s->named : 0.0);
    fprintf(fp, "named_with_2plus_photos\t%zu\n", s->val_queries);
    fprintf(fp, "individuals_gaining_a_scar\t%zu\n", s->scarred);
}

/* ------------------------------------------------------------------------
 * An individual's fluke: outline and pigmentation parameters. */

#define NSCALLOP 28
#define NNICK 6
#define NMARK 96

/* A mark painted on the skin: a capsule from (x0,y0) to (x1,y1) of radius
 * R, setting the brightness toward V with opacity A. */
struct mark {
    float x0, y0, x1, y1, r, v, a;
};

struct fluke {
    /* outline, per side (0 left, 1 right) */
    float span[2];   /* tip's |x| */
    float root_y;    /* leading edge at the centre */
    float t0[2];     /* trailing edge near the centre, before the notch */
    float tip_y[2];  /* tip height */
    float te_exp[2]; /* how late the trailing edge rises to the tip */
    float le_exp[2]; /* how the leading edge bulges forward */
    float notch_d, notch_w;
    float bulge;  /* convex trailing edge of the lobes */
    float le_lin; /* straight part of the leading edge */
    float ped_w;  /* half width of the tail stock */
    int nsc[2];   /* trailing-edge scallops */
    float sc_c[2][NSCALLOP], sc_w[2][NSCALLOP], sc_a[2][NSCALLOP];
    int nnick[2]; /* nicks and bites */
    float nk_c[2][NNICK], nk_w[2][NNICK], nk_d[2][NNICK];
    float rough;    /* amplitude of fine trailing-edge roughness */
    uint32_t nseed; /* noise seed of edges and pattern */
    /* pigmentation */
    float white;              /* target fraction of white skin */
    float sym;                /* 0 asymmetric .. 1 mirror-symmetric pattern */
    float freq;               /* marbling frequency */
    float crisp;              /* half width of the black/white transition */
    float margin_a, margin_w; /* dark trailing-edge margin */
    float lead_a;             /* dark leading edge */
    float streak_a, streak_n; /* radial streaks */
    float dark_v, white_v;    /* skin brightness of black and white parts */
    int nmark;
    struct mark mark[NMARK];
    int nnew; /* the last NNEW marks are the scar gained over time */
};

/* Template raster over the plane: x in [TX0, TX0 + TW/TS), y down from TY1. */
#define TW 384
#define TH 240
#define TS (TW / 2.2f)
#define TX0 (-1.1f)
#define TY1 (0.58f)
#define PED_BOTTOM (-0.74f)

struct tmpl {
    struct fluke f;
    uint8_t a[TW * TH]; /* coverage 0..255 */
    uint8_t v[TW * TH]; /* skin brightness 0..255 */
};

/* Trailing (*T) and leading (*L) edge heights of SIDE at u = |x| / span. */
static void fluke_edges(const struct fluke *f, int side, float u, float *T, float *L)
{
    float tip = f->tip_y[side];
    float le = f->root_y + (tip - f->root_y) *
                               (f->le_lin * u + (1 - f->le_lin) * powf(u, f->le_exp[side]));
    float te = f->t0[side] + (tip - f->t0[side]) * powf(u, f->te_exp[side]) +
               f->bulge * sinf((float)M_PI * u);
    if (u < f->notch_w) {
        float q = 1 - u / f->notch_w;
        te -= f->notch_d * q * q;
    }
    float x = u * f->span[side];
    for (int i = 0; i < f->nsc[side]; i++) {
        float t = (x - f->sc_c[side][i]) / f->sc_w[side][i];
        if (t > -1 && t < 1) {
            float q = 1 - t * t;
            te += f->sc_a[side][i] * q * q;
        }
    }
    for (int i = 0; i < f->nnick[side]; i++) {
        float t = fabsf(x - f->nk_c[side][i]) / f->nk_w[side][i];
        if (t < 1)
            te -= f->nk_d[side][i] * (1 - t) * sqrtf(1 - t);
    }
    /* fine roughness fades out toward the tip, where the edges meet */
    te += f->rough * vnoise(x * 90.0f, (float)side * 7.0f, f->nseed + 7) * (1 - u);
    *T = te;
    *L = le;
}

static void add_capsule(struct fluke *f, float x0, float y0, float x1, float y1, float rad,
                        float v, float a)
{
    if (f->nmark >= NMARK)
        return;
    f->mark[f->nmark++] = (struct mark){x0, y0, x1, y1, rad, v, a};
}

/* A rake: 2-4 parallel scratches from an orca's teeth, at (cx, cy). */
static void add_rake(struct fluke *f, struct hwi_rng256 *r, float cx, float cy, float len,
                     float v)
{
    int n = 2 + (int)irand(r, 3);
    float ang = (float)unif(r, -M_PI, M_PI);
    float gap = (float)unif(r, 0.012, 0.03);
    float dx = cosf(ang), dy = sinf(ang), bend = (float)unif(r, -0.3, 0.3);
    float w = (float)unif(r, 0.003, 0.007);
    for (int k = 0; k < n; k++) {
        float off = ((float)k - (float)(n - 1) / 2) * gap;
        float ox = cx - dy * off, oy = cy + dx * off;
        /* three segments along a gentle curve */
        float px = ox - dx * len / 2, py = oy - dy * len / 2;
        for (int s = 1; s <= 3; s++) {
            float t = (float)s / 3 - 0.5f;
            float qx = ox + dx * len * t - dy * bend * len * (0.25f - t * t);
            float qy = oy + dy * len * t + dx * bend * len * (0.25f - t * t);
            add_capsule(f, px, py, qx, qy, w, v, (float)unif(r, 0.6, 1.0));
            px = qx;
            py = qy;
        }
    }
}

/* A random point inside the lobes (by rejection). */
static void lobe_point(const struct fluke *f, struct hwi_rng256 *r, float *x, float *y)
{
    for (int tries = 0; tries < 200; tries++) {
        int side = chance(r, 0.5);
        float u = (float)unif(r, 0.05, 0.95), T, L;
        fluke_edges(f, side, u, &T, &L);
        if (T - L < 0.02f)
            continue;
        *x = (side ? 1 : -1) * u * f->span[side];
        *y = L + (T - L) * (float)unif(r, 0.1, 0.9);
        return;
    }
    *x = 0.5f;
    *y = 0;
}

static void fluke_make(struct fluke *f, uint64_t seed, size_t index)
{
    struct hwi_rng256 r;
    rng_seed(&r, seed, RNG_WHALE, index);
    memset(f, 0, sizeof *f);
    f->nseed = (uint32_t)hwi_rng256_next(&r);
    f->root_y = (float)unif(&r, -0.3, -0.22);
    float t0 = (float)unif(&r, 0.0, 0.06), tip = (float)unif(&r, 0.05, 0.22);
    float te = (float)unif(&r, 1.8, 3.5), le = (float)unif(&r, 2.0, 3.5);
    f->bulge = (float)unif(&r, 0.0, 0.06);
    f->le_lin = (float)unif(&r, 0.45, 0.8);
    for (int s = 0; s < 2; s++) {
        f->span[s] = (float)unif(&r, 0.94, 1.0);
        f->t0[s] = t0 + (float)unif(&r, -0.015, 0.015);
        f->tip_y[s] = tip + (float)unif(&r, -0.04, 0.04);
        f->te_exp[s] = te * (float)unif(&r, 0.9, 1.1);
        f->le_exp[s] = le * (float)unif(&r, 0.93, 1.07);
        f->nsc[s] = 8 + (int)irand(&r, NSCALLOP - 8);
        for (int i = 0; i < f->nsc[s]; i++) {
            f->sc_c[s][i] = (float)unif(&r, 0.05, 0.97);
            f->sc_w[s][i] = (float)unif(&r, 0.015, 0.06);
            f->sc_a[s][i] = (float)(unif(&r, 0.002, 0.009) * (chance(&r, 0.5) ? 1 : -1));
        }
        f->nnick[s] = (int)irand(&r, 4);
        for (int i = 0; i < f->nnick[s]; i++) {
            f->nk_c[s][i] = (float)unif(&r, 0.08, 0.92);
            f->nk_w[s][i] = (float)unif(&r, 0.006, 0.02);
            f->nk_d[s][i] = (float)unif(&r, 0.01, 0.04);
        }
        if (chance(&r, 0.08) && f->nnick[s] < NNICK) { /* a bite out of the edge */
            int i = f->nnick[s]++;
            f->nk_c[s][i] = (float)unif(&r, 0.2, 0.85);
            f->nk_w[s][i] = (float)unif(&r, 0.04, 0.09);
            f->nk_d[s][i] = (float)unif(&r, 0.05, 0.12);
        }
        if (chance(&r, 0.05)) /* a broken tip */
            f->span[s] *= (float)unif(&r, 0.85, 0.93);
    }
    f->notch_d = (float)unif(&r, 0.03, 0.11);
    f->notch_w = (float)unif(&r, 0.04, 0.12);
    f->ped_w = (float)unif(&r, 0.06, 0.09);
    f->rough = (float)unif(&r, 0.001, 0.004);

    /* Pigmentation type, from all white (1) to all black (5), as in the
     * photo-identification catalogues. */
    double type = u01(&r);
    f->white = (float)(type < 0.22   ? unif(&r, 0.75, 0.95)
                       : type < 0.62 ? unif(&r, 0.35, 0.75)
                       : type < 0.88 ? unif(&r, 0.08, 0.35)
                                     : unif(&r, 0.0, 0.06));
    f->sym = (float)unif(&r, 0.15, 0.7);
    f->freq = (float)unif(&r, 2.5, 6.0);
    f->crisp = (float)unif(&r, 0.01, 0.05);
    f->margin_a = (float)(chance(&r, 0.7) ? unif(&r, 0.2, 0.9) : 0.0);
    f->margin_w = (float)unif(&r, 0.02, 0.07);
    f->lead_a = (float)unif(&r, 0.0, 0.5);
    f->streak_a = (float)(chance(&r, 0.45) ? unif(&r, 0.1, 0.35) : 0.0);
    f->streak_n = (float)unif(&r, 6, 16);
    f->dark_v = (float)unif(&r, 0.03, 0.12);
    f->white_v = (float)unif(&r, 0.82, 0.97);

    /* Marks: dark spots, white spots, rakes, barnacle rings, scratches. */
    int nspot = (int)irand(&r, 22);
    for (int i = 0; i < nspot; i++) {
        float x, y;
        lobe_point(f, &r, &x, &y);
        float rad = (float)unif(&r, 0.004, 0.018);
        add_capsule(f, x, y, x + (float)unif(&r, -0.01, 0.01), y, rad, f->dark_v,
                    (float)unif(&r, 0.7, 1.0));
    }
    int nwhite = (int)irand(&r, 14);
    for (int i = 0; i < nwhite; i++) {
        float x, y;
        lobe_point(f, &r, &x, &y);
        add_capsule(f, x, y, x, y + (float)unif(&r, -0.01, 0.01),
                    (float)unif(&r, 0.004, 0.014), f->white_v, (float)unif(&r, 0.6, 1.0));
    }
    int nrake = (int)irand(&r, 4);
    for (int i = 0; i < nrake; i++) {
        float x, y;
        lobe_point(f, &r, &x, &y);
        add_rake(f, &r, x, y, (float)unif(&r, 0.08, 0.3), (float)unif(&r, 0.6, 0.9));
    }
    int nring = (int)irand(&r, 10);
    for (int i = 0; i < nring; i++) {
        float x, y;
        lobe_point(f, &r, &x, &y);
        float rad = (float)unif(&r, 0.006, 0.015);
        for (int k = 0; k < 6; k++) {
            float a0 = (float)(k * M_PI / 3), a1 = (float)((k + 1) * M_PI / 3);
            add_capsule(f, x + rad * cosf(a0), y + rad * sinf(a0), x + rad * cosf(a1),
                        y + rad * sinf(a1), 0.0025f, 0.8f, 0.8f);
        }
    }
    int nscratch = (int)irand(&r, 5);
    for (int i = 0; i < nscratch; i++) {
        float x, y;
        lobe_point(f, &r, &x, &y);
        float a = (float)unif(&r, -M_PI, M_PI), len = (float)unif(&r, 0.03, 0.15);
        add_capsule(f, x, y, x + len * cosf(a), y + len * sinf(a),
                    (float)unif(&r, 0.002, 0.005), (float)unif(&r, 0.5, 0.85), 0.8f);
    }
    /* the scar an individual may gain over time: a fresh, bright rake */
    int before = f->nmark;
    float x, y;
    lobe_point(f, &r, &x, &y);
    add_rake(f, &r, x, y, (float)unif(&r, 0.15, 0.35), 0.95f);
    f->nnew = f->nmark - before;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* The marbling field at plane point (x, y), before thresholding. */
static float pattern_field(const struct fluke *f, float x, float y, float T, float L, float u)
{
    /* domain-warped fbm: marbling rather than blobs; one copy in x, one
     * mirrored in |x| for the partial symmetry of real flukes */
    float s = f->freq, ax = fabsf(x);
    float wx = fbm(x * s * 0.6f, y * s * 0.6f, f->nseed + 61, 2);
    float wy = fbm(x * s * 0.6f + 7.7f, y * s * 0.6f, f->nseed + 67, 2);
    float mx = fbm(ax * s * 0.6f, y * s * 0.6f, f->nseed + 71, 2);
    float my = fbm(ax * s * 0.6f + 7.7f, y * s * 0.6f, f->nseed + 73, 2);
    float fa = fbm((x + 0.3f * wx) * s + 3.1f, (y + 0.3f * wy) * s - 1.7f, f->nseed + 11, 5);
    float fs = fbm((ax + 0.3f * mx) * s + 5.3f, (y + 0.3f * my) * s + 2.9f, f->nseed + 23, 5);
    float v = 2.2f * ((1 - f->sym) * fa + f->sym * fs);
    v -= f->margin_a * expf(-fmaxf(T - y, 0) / f->margin_w);
    v -= f->lead_a * expf(-fmaxf(y - L, 0) / 0.08f);
    v -= 0.4f * u * u * u * u;
    if (f->streak_a > 0) {
        float dy = y - f->root_y, rr = sqrtf(x * x + dy * dy);
        float ang = atan2f(dy, x);
        v += f->streak_a * sinf(ang * f->streak_n + 3 * fa) * smoothstepf(0.15f, 0.4f, rr);
    }
    return v;
}

/* Render the template of F; NEW_SCAR adds the scar gained over time. */
static void tmpl_render(struct tmpl *t, int new_scar)
{
    const struct fluke *f = &t->f;
    /* the marbling field at half resolution, upsampled below */
    enum { LW = TW / 2 + 1, LH = TH / 2 + 1 };
    static const float inv = 1.0f / TS;
    float *field = malloc(sizeof(float) * LW * LH);
    float *sample = malloc(sizeof(float) * LW * LH);
    if (!field || !sample) { /* fall back to a plain pattern */
        free(field);
        free(sample);
        field = sample = NULL;
    }
    /* the edges depend on the column only */
    float colT[TW + 2], colL[TW + 2], colU[TW + 2];
    for (int i = 0; i < TW + 2; i++) {
        float x = TX0 + (float)i * inv;
        int side = x >= 0;
        colU[i] = fminf(fabsf(x) / f->span[side], 1.0f);
        fluke_edges(f, side, colU[i], &colT[i], &colL[i]);
    }
    size_t ns = 0;
    for (int j = 0; field && j < LH; j++) {
        float y = TY1 - (float)(2 * j) * inv;
        for (int i = 0; i < LW; i++) {
            float x = TX0 + (float)(2 * i) * inv;
            int side = x >= 0;
            float T = colT[2 * i], L = colL[2 * i];
            /* the field matters on the fluke only (with a margin for the
             * upsampling and the tail stock's flare) */
            if (!(y < T + 3 * inv && (y > L - 3 * inv || fabsf(x) < 0.3f) &&
                  fabsf(x) < f->span[side] + 3 * inv && y > f->root_y - 0.2f)) {
                field[j * LW + i] = 0;
                continue;
            }
            float v = pattern_field(f, x, y, T, L, colU[2 * i]);
            field[j * LW + i] = v;
            if (y < T && y > L && fabsf(x) < f->span[side])
                sample[ns++] = v;
        }
    }
    /* threshold at the quantile that gives the wanted white fraction */
    float thr = 0;
    if (ns) {
        qsort(sample, ns, sizeof *sample, cmp_float);
        size_t k = (size_t)((1 - f->white) * (float)(ns - 1));
        thr = sample[k];
    }
    free(sample);
    for (int j = 0; j < TH; j++) {
        float y = TY1 - (float)j * inv;
        for (int i = 0; i < TW; i++) {
            float x = TX0 + (float)i * inv;
            int side = x >= 0;
            float ax = fabsf(x), T = colT[i], L = colL[i];
            /* coverage: soft edges one template pixel wide */
            float cov = 0;
            if (ax < f->span[side] + inv) {
                float ct = clampf((T - y) * TS + 0.5f, 0, 1);
                float cl = clampf((y - L) * TS + 0.5f, 0, 1);
                float cs = clampf((f->span[side] - ax) * TS + 0.5f, 0, 1);
                cov = ct * cl * cs;
            }
            /* the tail stock */
            /* the tail stock, flaring into the lobes at the root */
            float pw = f->ped_w + (f->root_y - y) * 0.12f +
                       0.12f * smoothstepf(f->root_y - 0.08f, f->root_y + 0.06f, y);
            float cp = 0;
            if (y < f->root_y + 0.06f && y > PED_BOTTOM)
                cp = clampf((pw - ax) * TS + 0.5f, 0, 1) *
                     clampf((f->root_y + 0.06f - y) * TS, 0, 1);
            float c = fmaxf(cov, cp);
            t->a[j * TW + i] = (uint8_t)(c * 255 + 0.5f);
            if (c <= 0) {
                t->v[j * TW + i] = 0;
                continue;
            }
            float fv;
            if (field) {
                float gx = (float)i * 0.5f, gy = (float)j * 0.5f;
                int ix = (int)gx, iy = (int)gy;
                if (ix > LW - 2)
                    ix = LW - 2;
                if (iy > LH - 2)
                    iy = LH - 2;
                float tx = gx - (float)ix, ty = gy - (float)iy;
                const float *p0 = field + iy * LW + ix;
                fv = (p0[0] * (1 - tx) + p0[1] * tx) * (1 - ty) +
                     (p0[LW] * (1 - tx) + p0[LW + 1] * tx) * ty;
            } else {
                fv = 0;
            }
            /* fine speckle at full resolution breaks up the boundaries */
            fv += 0.08f * vnoise(x * f->freq * 10, y * f->freq * 10, f->nseed + 41);
            float w = smoothstepf(thr - f->crisp, thr + f->crisp, fv);
            float v = f->dark_v + (f->white_v - f->dark_v) * w;
            /* mottling inside the white parts */
            v -= 0.05f * w * fmaxf(0, vnoise(x * 18, y * 18, f->nseed + 53));
            /* the tail stock is dorsal-dark above the water, paler below */
            if (cp > cov) {
                float d = smoothstepf(f->root_y, f->root_y - 0.12f, y);
                v += (0.08f + 0.04f * vnoise(x * 8, y * 8, f->nseed + 3) - v) * d;
            }
            t->v[j * TW + i] = (uint8_t)(clampf(v, 0, 1) * 255 + 0.5f);
        }
    }
    free(field);
    /* marks, each over its own bounding box */
    int nmark = f->nmark - (new_scar ? 0 : f->nnew);
    for (int m = 0; m < nmark; m++) {
        const struct mark *k = &f->mark[m];
        float x0 = fminf(k->x0, k->x1) - k->r - inv, x1 = fmaxf(k->x0, k->x1) + k->r + inv;
        float y0 = fminf(k->y0, k->y1) - k->r - inv, y1 = fmaxf(k->y0, k->y1) + k->r + inv;
        int i0 = (int)((x0 - TX0) * TS), i1 = (int)((x1 - TX0) * TS) + 1;
        int j0 = (int)((TY1 - y1) * TS), j1 = (int)((TY1 - y0) * TS) + 1;
        float dx = k->x1 - k->x0, dy = k->y1 - k->y0, dd = dx * dx + dy * dy;
        for (int j = j0 < 0 ? 0 : j0; j <= j1 && j < TH; j++)
            for (int i = i0 < 0 ? 0 : i0; i <= i1 && i < TW; i++) {
                float x = TX0 + (float)i * inv, y = TY1 - (float)j * inv;
                float s =
                    dd > 0 ? clampf(((x - k->x0) * dx + (y - k->y0) * dy) / dd, 0, 1) : 0;
                float ex = x - k->x0 - s * dx, ey = y - k->y0 - s * dy;
                float d = sqrtf(ex * ex + ey * ey);
                float a = k->a * clampf((k->r - d) * TS + 0.5f, 0, 1);
                if (a <= 0 || t->a[j * TW + i] == 0)
                    continue;
                float v = t->v[j * TW + i] / 255.0f;
                v += (k->v - v) * a;
                t->v[j * TW + i] = (uint8_t)(clampf(v, 0, 1) * 255 + 0.5f);
            }
    }
}

/* ------------------------------------------------------------------------
 * Photos. */

/* Photo aspect ratios (width / height) and how often they occur. */
static const double aspects[][2] = {
    {1.5, 0.50}, {4.0 / 3, 0.20}, {16.0 / 9, 0.12}, {2.0, 0.08}, {1.25, 0.06}, {1.0, 0.04},
};

struct view {
    double h[9];    /* plane -> image homography */
    double hinv[9]; /* image -> plane */
    float bend;     /* the lobes flex: y += bend x^2 + twist x */
    float twist;
    int clip;               /* outline_box: only what is above the sea */
    double wX, wY, tan_cam; /* a point of the sea line in the image, its slope */
};

static void mat3_inv(const double *m, double *o)
{
    double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7],
           i = m[8];
    double A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
    double det = a * A + b * B + c * C;
    o[0] = A / det;
    o[3] = B / det;
    o[6] = C / det;
    o[1] = -(b * i - c * h) / det;
    o[4] = (a * i - c * g) / det;
    o[7] = -(a * h - b * g) / det;
    o[2] = (b * f - c * e) / det;
    o[5] = -(a * f - c * d) / det;
    o[8] = (a * e - b * d) / det;
}

static void project(const double *h, double x, double y, double *X, double *Y)
{
    double w = h[6] * x + h[7] * y + h[8];
    *X = (h[0] * x + h[1] * y + h[2]) / w;
    *Y = (h[3] * x + h[4] * y + h[5]) / w;
}

/* The homography for roll, yaw, pitch (radians), distance D (plane units),
 * scale S (pixels per plane unit at the centre) and centre (CX, CY). */
static void view_make(struct view *v, double roll, double yaw, double pitch, double D,
                      double S, double cx, double cy)
{
    double cr = cos(roll), sr = sin(roll), cyw = cos(yaw), syw = sin(yaw), cp = cos(pitch),
           sp = sin(pitch);
    /* R = Rz(roll) Rx(pitch) Ry(yaw); only its first two columns matter */
    double Ry[9] = {cyw, 0, syw, 0, 1, 0, -syw, 0, cyw};
    double Rx[9] = {1, 0, 0, 0, cp, -sp, 0, sp, cp};
    double Rz[9] = {cr, -sr, 0, sr, cr, 0, 0, 0, 1};
    double T[9], R[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            T[i * 3 + j] = 0;
            for (int k = 0; k < 3; k++)
                T[i * 3 + j] += Rx[i * 3 + k] * Ry[k * 3 + j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            R[i * 3 + j] = 0;
            for (int k = 0; k < 3; k++)
                R[i * 3 + j] += Rz[i * 3 + k] * T[k * 3 + j];
        }
    double f = D * S;
    double *h = v->h;
    h[0] = f * R[0] + cx * R[6];
    h[1] = f * R[1] + cx * R[7];
    h[2] = cx * D;
    h[3] = -f * R[3] + cy * R[6];
    h[4] = -f * R[4] + cy * R[7];
    h[5] = cy * D;
    h[6] = R[6];
    h[7] = R[7];
    h[8] = D;
    mat3_inv(h, v->hinv);
}

/* Bounding box of the lobes' outline under V (when V->clip, of the part
 * above the sea line; if none is, of all of it). */
static void outline_box(const struct fluke *f, const struct view *v, double *bx)
{
    bx[0] = bx[1] = 1e30;
    bx[2] = bx[3] = -1e30;
    for (int pass = v->clip ? 0 : 1; pass < 2 && bx[0] > 1e29; pass++)
        for (int side = 0; side < 2; side++)
            for (int k = 0; k <= 64; k++) {
                float u = (float)k / 64, T, L;
                fluke_edges(f, side, u, &T, &L);
                double x = (side ? 1 : -1) * u * f->span[side];
                double flex = v->bend * x * x + v->twist * x;
                double ys[2] = {T + flex, L + flex};
                for (int e = 0; e < 2; e++) {
                    double X, Y;
                    project(v->h, x, ys[e], &X, &Y);
                    if (pass == 0 && Y > v->wY + (X - v->wX) * v->tan_cam)
                        continue;
                    bx[0] = fmin(bx[0], X);
                    bx[1] = fmin(bx[1], Y);
                    bx[2] = fmax(bx[2], X);
                    bx[3] = fmax(bx[3], Y);
                }
            }
}

/* Bilinear sample of the template at plane point (x, y): coverage and
 * brightness in [0,1].  Returns 0 outside. */
static inline int tmpl_sample(const struct tmpl *t, float x, float y, float *a, float *v)
{
    float gx = (x - TX0) * TS, gy = (TY1 - y) * TS;
    if (!(gx >= 0 && gy >= 0 && gx < TW - 1 && gy < TH - 1))
        return 0;
    int ix = (int)gx, iy = (int)gy;
    float tx = gx - (float)ix, ty = gy - (float)iy;
    int o = iy * TW + ix;
    float w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty;
    float a00 = t->a[o], a10 = t->a[o + 1], a01 = t->a[o + TW], a11 = t->a[o + TW + 1];
    float aa = w00 * a00 + w10 * a10 + w01 * a01 + w11 * a11;
    if (aa <= 0)
        return 0;
    /* brightness weighted by coverage, so the edge does not bleed black */
    float vv = w00 * a00 * t->v[o] + w10 * a10 * t->v[o + 1] + w01 * a01 * t->v[o + TW] +
               w11 * a11 * t->v[o + TW + 1];
    *a = aa / 255.0f;
    *v = vv / (aa * 255.0f);
    return 1;
}

/* A stream of water running down the fluke from its trailing edge. */
struct stream {
    float x, w, top, len, a;
};

/* O[0..N) += K * Q[0..N), four at a time so that the compiler's
 * basic-block vectorizer turns each step into one vector operation. */
static inline void axpy(float *restrict o, const float *restrict q, float k, size_t n)
{
    size_t x = 0;
    for (; x + 4 <= n; x += 4) {
        o[x] += k * q[x];
        o[x + 1] += k * q[x + 1];
        o[x + 2] += k * q[x + 2];
        o[x + 3] += k * q[x + 3];
    }
    for (; x < n; x++)
        o[x] += k * q[x];
}

/* Gaussian blur of the W x H RGB float image IMG (TMP: same size, ROW:
 * (W + 61) * 3 floats). */
static void gauss_blur(float *restrict img, float *restrict tmp, float *restrict row, int w,
                       int h, float sigma)
{
    if (sigma < 0.3f)
        return;
    int r = (int)ceilf(sigma * 2.5f);
    if (r > 30)
        r = 30;
    float k[61], sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = expf(-(float)(i * i) / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    size_t rw = (size_t)w * 3;
    /* rows: IMG -> TMP, through a copy padded with the end pixels */
    for (int y = 0; y < h; y++) {
        const float *src = img + (size_t)y * rw;
        for (int i = 0; i < r; i++)
            for (int b = 0; b < 3; b++) {
                row[i * 3 + b] = src[b];
                row[(size_t)(r + w + i) * 3 + b] = src[rw - 3 + (size_t)b];
            }
        memcpy(row + 3 * r, src, rw * sizeof *row);
        float *o = tmp + (size_t)y * rw;
        memset(o, 0, rw * sizeof *o);
        for (int i = 0; i <= 2 * r; i++)
            axpy(o, row + 3 * i, k[i], rw);
    }
    /* columns: TMP -> IMG, a whole row at a time */
    for (int y = 0; y < h; y++) {
        float *o = img + (size_t)y * rw;
        memset(o, 0, rw * sizeof *o);
        for (int i = -r; i <= r; i++) {
            int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
            axpy(o, tmp + (size_t)yy * rw, k[i + r], rw);
        }
    }
}

/* Motion blur of length LEN pixels along a direction ANGLE (radians): the
 * mean of taps at whole-pixel offsets along the line. */
static void motion_blur(float *restrict img, float *restrict tmp, int w, int h, float len,
                        float angle)
{
    enum { MAXTAP = 16 };
    int n = (int)ceilf(len) + 1;
    if (n > MAXTAP)
        n = MAXTAP;
    int ox[MAXTAP], oy[MAXTAP], m = 0;
    for (int i = 0; i < n; i++) {
        float t = ((float)i - (float)(n - 1) / 2) * len / (float)(n - 1);
        ox[i] = (int)lrintf(cosf(angle) * t);
        oy[i] = (int)lrintf(sinf(angle) * t);
        m = abs(ox[i]) > m ? abs(ox[i]) : m;
        m = abs(oy[i]) > m ? abs(oy[i]) : m;
    }
    float inv = 1.0f / (float)n;
    size_t rw = (size_t)w * 3;
    for (int y = 0; y < h; y++) {
        float *o = tmp + (size_t)y * rw;
        int inner = y >= m && y < h - m;
        for (int x = 0; x < w; x++) {
            float s0 = 0, s1 = 0, s2 = 0;
            if (inner && x >= m && x < w - m) {
                for (int i = 0; i < n; i++) {
                    const float *p = img + ((size_t)(y + oy[i]) * w + (size_t)(x + ox[i])) * 3;
                    s0 += p[0];
                    s1 += p[1];
                    s2 += p[2];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    int xx = x + ox[i], yy = y + oy[i];
                    xx = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
                    yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
                    const float *p = img + ((size_t)yy * w + xx) * 3;
                    s0 += p[0];
                    s1 += p[1];
                    s2 += p[2];
                }
            }
            o[3 * x] = s0 * inv;
            o[3 * x + 1] = s1 * inv;
            o[3 * x + 2] = s2 * inv;
        }
    }
    memcpy(img, tmp, sizeof(float) * rw * (size_t)h);
}

static void lerp3(float *o, const float *a, const float *b, float t)
{
    for (int i = 0; i < 3; i++)
        o[i] = a[i] + (b[i] - a[i]) * t;
}

/* Render photo I of P showing template T into IM. */
static int render_photo(const struct hwi_synth_plan *p, size_t idx, const struct tmpl *t,
                        struct hwi_synth_image *im, char *err)
{
    const struct hwi_synth_config *c = &p->config;
    const struct fluke *f = &t->f;
    /* a shifted test photo (config.shift): another camera, light, sea and
     * viewpoint range than any train photo; train photos never change */
    int sh = c->shift && p->photo[idx].split == HWI_SYNTH_TEST;
    struct hwi_rng256 r;
    rng_seed(&r, c->seed, RNG_PHOTO, idx);
    uint32_t ps = (uint32_t)hwi_rng256_next(&r); /* noise seed of the photo */

    /* size and shape */
    double a = u01(&r), asp = aspects[0][0];
    for (size_t i = 0; i < sizeof aspects / sizeof *aspects; i++) {
        if (a < aspects[i][1]) {
            asp = aspects[i][0];
            break;
        }
        a -= aspects[i][1];
    }
    /* widths: skewed toward the small end (mean about 40% up the range) */
    double wu = u01(&r);
    int W = c->min_w + (int)((c->max_w - c->min_w) * wu * sqrt(wu));
    int H = (int)lround(W / asp);
    if (H < 48)
        H = 48;

    /* viewpoint */
    double cam_roll = normal(&r) * 2.5 * M_PI / 180;
    double roll = cam_roll + fmax(-22, fmin(22, normal(&r) * 9)) * M_PI / 180;
    float bend = (float)fmax(-0.15, fmin(0.15, normal(&r) * 0.06));
    float twist = (float)fmax(-0.08, fmin(0.08, normal(&r) * 0.03));
    double yaw = unif(&r, -38, 38) * M_PI / 180;
    double pitch = unif(&r, -20, 30) * M_PI / 180;
    if (sh) { /* beyond train's ranges: |yaw| 38-52, pitch -32..-20 or 30..40 */
        yaw = (chance(&r, 0.5) ? 1 : -1) * unif(&r, 38, 52) * M_PI / 180;
        pitch = (chance(&r, 0.5) ? unif(&r, -32, -20) : unif(&r, 30, 40)) * M_PI / 180;
    }
    double D = unif(&r, 2.5, 12);
    double span_frac = unif(&r, 0.42, 0.9);
    double S = W * span_frac / 2;
    struct view v = {.bend = bend, .twist = twist};
    double bx[4];
    for (int tries = 0;; tries++) {
        view_make(&v, roll, yaw, pitch, D, S, 0, 0);
        outline_box(f, &v, bx);
        double bw = bx[2] - bx[0], bh = bx[3] - bx[1];
        if ((bw < W * 0.94 && bh < H * 0.8) || tries > 20)
            break;
        S *= 0.9;
    }
    double bw = bx[2] - bx[0], bh = bx[3] - bx[1];
    double mx = fmax(2, (W - bw) * 0.5), my = fmax(2, (H - bh) * 0.5);
    /* the fluke sits a little above the middle more often than not */
    double cx = W * 0.5 - (bx[0] + bx[2]) * 0.5 + unif(&r, -0.85, 0.85) * (mx - 2);
    double cy = H * 0.5 - (bx[1] + bx[3]) * 0.5 + unif(&r, -0.85, 0.6) * (my - 2);
    view_make(&v, roll, yaw, pitch, D, S, cx, cy);

    /* the sea surface at the tail stock (sometimes over the lower lobes, as
     * the fluke rises or sinks), and the horizon */
    double wl_y = chance(&r, 0.12) ? unif(&r, f->root_y + 0.03, 0.02) : unif(&r, -0.62, -0.4);
    double wX, wY;
    project(v.h, 0, wl_y, &wX, &wY);
    float tan_cam = (float)tan(cam_roll);
    v.clip = 1;
    v.wX = wX;
    v.wY = wY;
    v.tan_cam = tan_cam;
    outline_box(f, &v, bx);
    float horizon = chance(&r, 0.35) ? (float)(unif(&r, -0.05, 0.3) * H) : -1e9f;
    if (horizon > bx[1] - 4)
        horizon = (float)(bx[1] * unif(&r, 0.2, 0.9));
    int land = chance(&r, 0.35);
    float land_h = (float)unif(&r, 0.02, 0.12) * H;

    /* colours */
    static const float seas[][3] = {
        {0.10f, 0.20f, 0.32f}, {0.08f, 0.22f, 0.24f}, {0.24f, 0.27f, 0.30f},
        {0.07f, 0.12f, 0.19f}, {0.14f, 0.21f, 0.18f}, {0.16f, 0.26f, 0.38f},
    };
    const float *sea0 = seas[irand(&r, 6)];
    float sea[3], sea_far[3], sky[3], foam[3] = {0.9f, 0.92f, 0.93f};
    float sea_l = (float)unif(&r, 0.6, 1.5);
    for (int i = 0; i < 3; i++) {
        sea[i] = sea0[i] * sea_l * (float)unif(&r, 0.85, 1.15);
        sea_far[i] = sea[i] * 1.3f + 0.08f;
    }
    float sky_g = (float)unif(&r, 0.55, 0.9);
    sky[0] = sky_g * (float)unif(&r, 0.75, 1.0);
    sky[1] = sky_g * (float)unif(&r, 0.85, 1.0);
    sky[2] = sky_g;
    float land_c[3] = {(float)unif(&r, 0.1, 0.3), (float)unif(&r, 0.12, 0.3),
                       (float)unif(&r, 0.12, 0.32)};
    /* skin colour = brightness x a tint (black skin bluish, white warm) */
    float skin_dark[3], skin_white[3];
    float fl =
        (float)(chance(&r, sh ? 0.4 : 0.1) ? unif(&r, 0.15, 0.35)  /* backlit */
                                           : unif(&r, 0.55, 1.2)); /* light on the fluke */
    float tint = (float)unif(&r, -0.04, 0.04);
    skin_dark[0] = fl * 0.92f;
    skin_dark[1] = fl * 0.97f;
    skin_dark[2] = fl * 1.08f;
    skin_white[0] = fl * (1.0f + tint);
    skin_white[1] = fl * 0.98f;
    skin_white[2] = fl * (0.95f - tint);
    float shade_y = (float)unif(&r, -0.5, 0.3), shade_x = (float)unif(&r, -0.25, 0.25);
    if (sh) { /* low sun from one side: a strong gradient across the fluke */
        shade_x = (float)((chance(&r, 0.5) ? 1 : -1) * unif(&r, 0.35, 0.6));
        shade_y = (float)unif(&r, -0.8, -0.5);
    }
    float sheen = (float)(chance(&r, 0.5) ? unif(&r, 0.05, 0.25) : 0);

    /* waves and glare */
    float wave_f = (float)unif(&r, 0.03, 0.09) * 600.0f / (float)W;
    float wave_a = (float)(sh ? unif(&r, 0.55, 0.9) : unif(&r, 0.15, 0.5)); /* rough sea */
    float glare_y = (float)unif(&r, 0, H), glare_w = (float)unif(&r, 0.1, 0.4) * H;
    float glare_a = (float)(chance(&r, 0.4) ? unif(&r, 0.15, 0.7) : 0);
    float foam_w = (float)unif(&r, 0.01, 0.04) * (float)S;
    float foam_a = (float)unif(&r, 0.3, 1.0);

    /* water running off the fluke */
    struct stream st[12];
    int nst = chance(&r, sh ? 1.0 : 0.6) ? 1 + (int)irand(&r, sh ? 11 : 10) : 0;
    for (int i = 0; i < nst; i++) {
        float x = (float)unif(&r, -0.9, 0.9), T, L;
        int side = x >= 0;
        fluke_edges(f, side, fminf(fabsf(x) / f->span[side], 1), &T, &L);
        st[i] = (struct stream){x, (float)unif(&r, 0.008, 0.05), T, (float)unif(&r, 0.05, 0.6),
                                (float)unif(&r, 0.25, 0.8)};
    }
    int sheet = chance(&r, 0.1);
    float sheet_x = (float)unif(&r, -0.7, 0.7), sheet_y = (float)unif(&r, -0.1, 0.15),
          sheet_r = (float)unif(&r, 0.12, 0.3), sheet_a = (float)unif(&r, 0.5, 0.85);

    size_t npx = (size_t)W * H;
    float *img = malloc(npx * 3 * sizeof *img);
    float *tmp = malloc(npx * 3 * sizeof *tmp);
    /* the slow parts of the background on a grid every G pixels */
    enum { G = 4 };
    int gw = W / G + 2, gh = H / G + 2;
    size_t gridn = (size_t)gw * gh, rown = (size_t)(W + 61) * 3;
    float *grid = malloc((gridn > rown ? gridn : rown) * sizeof *grid);
    /* the fine ripples on a grid every 2 pixels */
    int fw = W / 2 + 2, fh = H / 2 + 2;
    float *fgrid = malloc((size_t)fw * fh * sizeof *fgrid);
    float *land_top = malloc((size_t)W * sizeof *land_top);
    im->pix = NULL;
    if (!img || !tmp || !grid || !land_top || !fgrid) {
        free(img);
        free(tmp);
        free(grid);
        free(fgrid);
        free(land_top);
        return hwi_seterr(err, "out of memory");
    }
    for (int j = 0; j < gh; j++)
        for (int i = 0; i < gw; i++) {
            float fx = (float)(i * G), fy = (float)(j * G);
            float hz = horizon + (fx - (float)W / 2) * tan_cam;
            float g;
            if (fy < hz) {
                g = fbm(fx * 0.01f, fy * 0.03f, ps + 5, 3);
            } else {
                float dist = clampf((fy - hz) / (float)H, 0.02f, 1.5f);
                float sy = wave_f * 3.0f / (0.3f + dist);
                /* long, wavy crests: stretched along x, bent by a warp */
                float warp = 1.5f * vnoise(fx * wave_f * 0.15f, fy * sy * 0.3f, ps + 7);
                g = fbm(fx * wave_f * 0.4f, fy * sy * 1.3f + warp, ps + 1, 3);
            }
            grid[j * gw + i] = g;
        }
    for (int j = 0; j < fh; j++) {
        float fy = (float)(2 * j);
        float dist = clampf((fy - horizon) / (float)H, 0.02f, 1.5f);
        float sy = wave_f * 3.0f / (0.3f + dist);
        for (int i = 0; i < fw; i++)
            fgrid[j * fw + i] = vnoise((float)(2 * i) * wave_f * 1.5f, fy * sy * 3, ps + 2);
    }
    for (int x = 0; x < W; x++)
        land_top[x] =
            -land_h * (0.4f + 0.6f * (0.5f + 0.5f * fbm((float)x * 0.006f, 0, ps + 9, 3)));

    /* the part of the image the fluke can cover */
    int fx0 = (int)fmax(0, bx[0] - 4), fx1 = (int)fmin(W - 1, bx[2] + 4);
    int fy0 = (int)fmax(0, bx[1] - 4), fy1 = (int)fmin(H - 1, fmax(bx[3], wY + 0.5 * S) + 4);
    float ped_x = (float)wX, ped_w = (float)(f->ped_w * S * 2.5);
    const double *hi = v.hinv;
    for (int y = 0; y < H; y++) {
        float fy = (float)y + 0.5f;
        int gj = y / G;
        float ty = (float)(y - gj * G) / G;
        /* what depends on the row (the horizon's tilt is ignored here) */
        float dist = clampf((fy - horizon) / (float)H, 0.02f, 1.5f);
        float far = clampf(1 - dist * 1.5f, 0, 1) * (horizon > -1e8f ? 1.0f : 0.3f);
        float sea_c[3];
        lerp3(sea_c, sea, sea_far, far);
        float gyr = (fy - glare_y) / glare_w;
        float band = glare_a > 0 ? glare_a * expf(-gyr * gyr) : 0;
        float spy = fy * 0.9f / (0.3f + dist);
        for (int x = 0; x < W; x++) {
            float fx = (float)x + 0.5f, col[3];
            int gi = x / G;
            float tx = (float)(x - gi * G) / G;
            const float *g0 = grid + gj * gw + gi;
            float gn = (g0[0] * (1 - tx) + g0[1] * tx) * (1 - ty) +
                       (g0[gw] * (1 - tx) + g0[gw + 1] * tx) * ty;
            float hz = horizon + (fx - (float)W / 2) * tan_cam;
            if (fy < hz) {
                /* sky, with clouds, and perhaps a coast */
                float gcl = 1 + 0.15f * gn;
                for (int i = 0; i < 3; i++)
                    col[i] = sky[i] * gcl;
                if (land && fy > hz + land_top[x])
                    for (int i = 0; i < 3; i++)
                        col[i] = land_c[i] * (0.85f + 0.15f * gn);
            } else {
                /* sea: ripples stretched along the horizon, finer far away */
                const float *f0 = fgrid + (y >> 1) * fw + (x >> 1);
                float ux = (float)(x & 1) * 0.5f, uy = (float)(y & 1) * 0.5f;
                float fine = (f0[0] * (1 - ux) + f0[1] * ux) * (1 - uy) +
                             (f0[fw] * (1 - ux) + f0[fw + 1] * ux) * uy;
                float sv = 1 + wave_a * (gn + 0.3f * fine);
                for (int i = 0; i < 3; i++)
                    col[i] = sea_c[i] * sv;
                if (band > 0.01f) {
                    /* sun glitter: small bright sparkles on wave crests */
                    float sp = vnoise(fx * 0.3f, spy, ps + 3);
                    float gl = band * (0.25f * (1 + gn) +
                                       1.5f * smoothstepf(0.7f, 1.0f, sp + 0.3f * gn));
                    for (int i = 0; i < 3; i++)
                        col[i] += gl;
                }
            }
            float wline = (float)wY + (fx - (float)wX) * tan_cam + foam_w * 0.5f * gn;
            /* the fluke, above the sea surface at the tail stock */
            if (x >= fx0 && x <= fx1 && y >= fy0 && y <= fy1 && fy < wline + 1) {
                double pw = hi[6] * fx + hi[7] * fy + hi[8];
                float px = (float)((hi[0] * fx + hi[1] * fy + hi[2]) / pw);
                float py = (float)((hi[3] * fx + hi[4] * fy + hi[5]) / pw);
                py -= bend * px * px + twist * px; /* undo the flex */
                float ca, cv;
                if (tmpl_sample(t, px, py, &ca, &cv)) {
                    ca *= clampf(wline + 0.5f - fy, 0, 1);
                    float shade = 1 + shade_y * py + shade_x * px;
                    shade += sheen * fmaxf(0, vnoise(px * 6, py * 6, ps + 17));
                    float wet = 0;
                    for (int i = 0; i < nst; i++) {
                        float dx = (px - st[i].x) / st[i].w;
                        float dy = st[i].top - py;
                        if (dx > -2 && dx < 2 && dy > 0 && dy < st[i].len) {
                            float fall = 1 - dy / st[i].len;
                            float tex =
                                0.6f + 0.4f * vnoise(px * 40, py * 8, ps + 19 + (uint32_t)i);
                            wet = fmaxf(wet, st[i].a * expf(-dx * dx) * fall * tex);
                        }
                    }
                    if (sheet) {
                        float dx = (px - sheet_x) / sheet_r,
                              dy = (py - sheet_y) / (sheet_r * 0.7f);
                        float d = dx * dx + dy * dy;
                        if (d < 1)
                            wet = fmaxf(wet,
                                        sheet_a * (1 - d) *
                                            (0.7f + 0.3f * vnoise(px * 30, py * 30, ps + 23)));
                    }
                    for (int i = 0; i < 3; i++) {
                        float sk =
                            cv * (skin_dark[i] + (skin_white[i] - skin_dark[i]) * cv) * shade;
                        sk += (foam[i] * 0.8f - sk) * wet;
                        col[i] += (sk - col[i]) * ca;
                    }
                }
            }
            /* foam where the tail stock meets the sea */
            if (fy > wline - foam_w && fabsf(fx - ped_x) < 3 * ped_w) {
                float d = fabsf(fy - wline) / foam_w, e = (fx - ped_x) / ped_w;
                float fo = expf(-d - e * e) * (0.6f + 0.8f * gn) * foam_a;
                fo = clampf(fo, 0, 1);
                for (int i = 0; i < 3; i++)
                    col[i] += (foam[i] - col[i]) * fo;
            }
            float *o = img + ((size_t)y * W + x) * 3;
            o[0] = col[0];
            o[1] = col[1];
            o[2] = col[2];
        }
    }
    free(land_top);
    free(fgrid);

    /* spray: drops falling from the trailing edge */
    int ndrop = sh ? 150 + (int)irand(&r, 250) : chance(&r, 0.5) ? (int)irand(&r, 250) : 0;
    for (int i = 0; i < ndrop; i++) {
        float x = (float)unif(&r, -0.95, 0.95), T, L;
        int side = x >= 0;
        fluke_edges(f, side, fminf(fabsf(x) / f->span[side], 1), &T, &L);
        double X, Y;
        project(v.h, x, T + bend * x * x + twist * x + unif(&r, -0.4, 0.1), &X, &Y);
        float rad = (float)unif(&r, 0.5, 2.2) * (float)W / 600;
        float al = (float)unif(&r, 0.3, 0.9);
        int x0 = (int)(X - rad - 1), x1 = (int)(X + rad + 1);
        int y0 = (int)(Y - rad * 2 - 1), y1 = (int)(Y + rad * 2 + 1);
        for (int yy = y0 < 0 ? 0 : y0; yy <= y1 && yy < H; yy++)
            for (int xx = x0 < 0 ? 0 : x0; xx <= x1 && xx < W; xx++) {
                float dx = ((float)xx + 0.5f - (float)X) / rad;
                float dy = ((float)yy + 0.5f - (float)Y) / (2 * rad);
                float d = dx * dx + dy * dy;
                if (d < 1) {
                    float *o = img + ((size_t)yy * W + xx) * 3;
                    for (int b = 0; b < 3; b++)
                        o[b] += (foam[b] - o[b]) * al * (1 - d);
                }
            }
    }

    /* optics: focus and motion blur */
    float sigma =
        (float)(chance(&r, 0.15) ? unif(&r, 1.2, 2.6) : unif(&r, 0.0, 1.0)) * (float)W / 600;
    gauss_blur(img, tmp, grid, W, H, sigma);
    if (chance(&r, 0.2))
        motion_blur(img, tmp, W, H, (float)unif(&r, 2, 7) * (float)W / 600,
                    (float)unif(&r, 0, M_PI));

    /* exposure, contrast, gamma, colour cast (one table per channel),
     * grayscale, sensor noise */
    float expo = (float)exp(unif(&r, -0.45, 0.35));
    float contrast = (float)unif(&r, 0.75, 1.3);
    float gamma = (float)exp(unif(&r, -0.3, 0.3));
    /* the shifted camera: flat, bright-gamma, warm, noisy, small JPEGs */
    static const float sh_cast[3][2] = {{1.1f, 1.25f}, {0.95f, 1.05f}, {0.7f, 0.85f}};
    if (sh) {
        contrast = (float)unif(&r, 0.5, 0.72);
        gamma = (float)exp(unif(&r, -0.7, -0.35));
    }
    enum { NLUT = 1024 };
    static const float lut_max = 2.0f;
    float lut[3][NLUT + 1];
    for (int b = 0; b < 3; b++) {
        float cast = (float)(sh ? unif(&r, sh_cast[b][0], sh_cast[b][1]) : unif(&r, 0.9, 1.1));
        for (int k = 0; k <= NLUT; k++) {
            float q = (float)k / NLUT * lut_max * expo * cast;
            q = q / (1 + 0.35f * q) * 1.35f; /* soft shoulder: highlights roll off */
            q = powf(clampf(q, 0, 1), gamma);
            lut[b][k] = 0.5f + (q - 0.5f) * contrast;
        }
    }
    int gray = chance(&r, 0.18);
    int bands = gray && chance(&r, 0.6) ? 1 : 3;
    float noise = (float)(sh ? unif(&r, 6.0, 14.0) : unif(&r, 0.5, 6.0)) / 255;
    uint8_t *pix = malloc(npx * (size_t)bands);
    free(grid);
    if (!pix) {
        free(img);
        free(tmp);
        return hwi_seterr(err, "out of memory");
    }
    struct hwi_rng256 rnz;
    rng_seed(&rnz, hwi_rng256_next(&r), RNG_PHOTO, idx);
    for (size_t i = 0; i < npx; i++) {
        float *o = img + i * 3, out[3];
        for (int b = 0; b < 3; b++) {
            float g = clampf(o[b], 0, lut_max) * (NLUT / lut_max);
            int k = (int)g;
            if (k >= NLUT)
                k = NLUT - 1;
            out[b] = lut[b][k] + (lut[b][k + 1] - lut[b][k]) * (g - (float)k);
        }
        if (gray)
            out[0] = out[1] = out[2] = 0.3f * out[0] + 0.59f * out[1] + 0.11f * out[2];
        /* noise: the sum of two uniforms is a triangle, close enough to
         * normal; 16 bits each from one draw */
        uint64_t z = hwi_rng256_next(&rnz);
        float nz = ((float)(z & 0xffff) + (float)((z >> 16) & 0xffff)) / 65536.0f - 1.0f;
        for (int b = 0; b < bands; b++) {
            float q = out[b] + nz * noise * 2.0f;
            if (!gray && b) /* a little chroma noise */
                q += ((float)((z >> (16 + 16 * b)) & 0xffff) / 65536.0f - 0.5f) * noise;
            pix[i * (size_t)bands + b] = (uint8_t)(clampf(q, 0, 1) * 255 + 0.5f);
        }
    }
    free(img);
    free(tmp);

    /* the box a detector would give: the outline's, give or take */
    double bwid = bx[2] - bx[0], bhei = bx[3] - bx[1];
    double jit = 0.015 + 0.015 * u01(&r);
    long b0 = lround(bx[0] + normal(&r) * jit * bwid);
    long b1 = lround(bx[1] + normal(&r) * jit * bhei);
    long b2 = lround(bx[2] + normal(&r) * jit * bwid);
    long b3 = lround(bx[3] + normal(&r) * jit * bhei);
    im->x0 = b0 < 0 ? 0 : b0 >= W ? W - 1 : b0;
    im->y0 = b1 < 0 ? 0 : b1 >= H ? H - 1 : b1;
    im->x1 = b2 < im->x0 ? im->x0 : b2 >= W ? W - 1 : b2;
    im->y1 = b3 < im->y0 ? im->y0 : b3 >= H ? H - 1 : b3;
    im->w = W;
    im->h = H;
    im->bands = bands;
    im->quality = (int)(sh ? unif(&r, 25, 45) : unif(&r, 55, 96));
    im->pix = pix;
    return 0;
}

static struct tmpl *tmpl_new(const struct hwi_synth_plan *p, size_t whale, int new_scar)
{
    struct tmpl *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    fluke_make(&t->f, p->config.seed, whale);
    tmpl_render(t, new_scar);
    return t;
}

static int shows_scar(const struct hwi_synth_plan *p, size_t i)
{
    const struct hwi_synth_photo *ph = &p->photo[i];
    if (p->config.shift && ph->split == HWI_SYNTH_TEST) /* every shifted photo */
        return 1;
    return ph->time >= p->whale[ph->whale].scar_time;
}

int hwi_synth_render(const struct hwi_synth_plan *p, size_t i, struct hwi_synth_image *im,
                     char *err)
{
    if (i >= p->nphoto)
        return hwi_seterr(err, "no photo %zu", i);
    struct tmpl *t = tmpl_new(p, p->photo[i].whale, shows_scar(p, i));
    if (!t)
        return hwi_seterr(err, "out of memory");
    int rc = render_photo(p, i, t, im, err);
    free(t);
    return rc;
}

/* ------------------------------------------------------------------------
 * Writing a data set: one hwi_pool_each item per whale, biggest first. */

struct job {
    const struct hwi_synth_plan *p;
    const char *outdir;
    long (*box)[4];       /* [nphoto] */
    uint32_t *order;      /* whales, biggest first */
    pthread_mutex_t lock; /* guards the two below */
    size_t done;          /* photos written */
    hwi_synth_progress progress;
    void *arg;
};

/* Render and write the photos of the K-th whale of J's order (a
 * hwi_pool_each item). */
static int write_whale(void *arg, size_t k, char *err)
{
    struct job *j = arg;
    const struct hwi_synth_plan *p = j->p;
    char path[4096];
    size_t w = j->order[k];
    struct tmpl *t[2] = {NULL, NULL};
    int rc = 0;
    for (size_t i = p->first[w]; i < p->first[w + 1] && rc == 0; i++) {
        int s = shows_scar(p, i);
        if (!t[s] && !(t[s] = tmpl_new(p, w, s))) {
            rc = hwi_seterr(err, "out of memory");
            break;
        }
        struct hwi_synth_image im;
        if ((rc = render_photo(p, i, t[s], &im, err)))
            break;
        snprintf(path, sizeof path, "%s/%s/%s", j->outdir,
                 p->photo[i].split == HWI_SYNTH_TRAIN ? "train" : "test", p->photo[i].name);
        rc = hwi_image_write(im.pix, im.w, im.h, im.bands, im.quality, path, err);
        free(im.pix);
        j->box[i][0] = im.x0;
        j->box[i][1] = im.y0;
        j->box[i][2] = im.x1;
        j->box[i][3] = im.y1;
        pthread_mutex_lock(&j->lock);
        j->done++;
        if (j->progress && rc == 0)
            j->progress(j->arg, j->done, p->nphoto);
        pthread_mutex_unlock(&j->lock);
    }
    free(t[0]);
    free(t[1]);
    return rc;
}

static int cmp_whale_size(const void *a, const void *b, void *arg)
{
    const struct hwi_synth_plan *p = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t nx = p->first[x + 1] - p->first[x], ny = p->first[y + 1] - p->first[y];
    return nx < ny ? 1 : nx > ny ? -1 : (x > y) - (x < y);
}

static int cmp_photo_name(const void *a, const void *b, void *arg)
{
    const struct hwi_synth_photo *ph = arg;
    return strcmp(ph[*(const size_t *)a].name, ph[*(const size_t *)b].name);
}

static int make_dir(const char *path, char *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return hwi_seterr(err, "%s: cannot create directory: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return hwi_seterr(err, "%s: not a directory", path);
    return 0;
}

/* Write the CSV files: photos sorted by name. */
static int write_csvs(const struct hwi_synth_plan *p, const char *outdir, long (*box)[4],
                      char *err)
{
    size_t *idx = malloc(p->nphoto * sizeof *idx);
    char *path = malloc(strlen(outdir) + 32);
    if (!idx || !path) {
        free(idx);
        free(path);
        return hwi_seterr(err, "out of memory");
    }
    for (size_t i = 0; i < p->nphoto; i++)
        idx[i] = i;
    qsort_r(idx, p->nphoto, sizeof *idx, cmp_photo_name, (void *)p->photo);
    static const char *const files[3] = {"train.csv", "solution.csv", "bounding_boxes.csv"};
    int rc = 0;
    for (int f = 0; f < 3 && rc == 0; f++) {
        sprintf(path, "%s/%s", outdir, files[f]);
        struct hwi_outfile out;
        if ((rc = hwi_outfile_open(&out, path, err)))
            break;
        fputs(f == 2 ? "Image,x0,y0,x1,y1\n" : "Image,Id\n", out.fp);
        for (size_t k = 0; k < p->nphoto; k++) {
            const struct hwi_synth_photo *ph = &p->photo[idx[k]];
            if (f == 2) {
                const long *b = box[idx[k]];
                fprintf(out.fp, "%s,%ld,%ld,%ld,%ld\n", ph->name, b[0], b[1], b[2], b[3]);
            } else if (ph->split == (f == 0 ? HWI_SYNTH_TRAIN : HWI_SYNTH_TEST)) {
                fprintf(out.fp, "%s,%s\n", ph->name, p->whale[ph->whale].id);
            }
        }
        rc = hwi_outfile_commit(&out, err);
    }
    free(idx);
    free(path);
    return rc;
}

int hwi_synth_write(const struct hwi_synth_plan *p, const char *outdir, int threads,
                    hwi_synth_progress progress, void *arg, char *err)
{
    size_t n = strlen(outdir) + 8;
    char *dir = malloc(n);
    if (!dir)
        return hwi_seterr(err, "out of memory");
    int rc = make_dir(outdir, err);
    snprintf(dir, n, "%s/train", outdir);
    if (rc == 0)
        rc = make_dir(dir, err);
    snprintf(dir, n, "%s/test", outdir);
    if (rc == 0)
        rc = make_dir(dir, err);
    free(dir);
    if (rc)
        return -1;

    struct job j = {.p = p, .outdir = outdir, .progress = progress, .arg = arg};
    j.box = calloc(p->nphoto ? p->nphoto : 1, sizeof *j.box);
    j.order = malloc((p->nwhale ? p->nwhale : 1) * sizeof *j.order);
    if (!j.box || !j.order) {
        free(j.box);
        free(j.order);
        return hwi_seterr(err, "out of memory");
    }
    for (size_t w = 0; w < p->nwhale; w++)
        j.order[w] = (uint32_t)w;
    qsort_r(j.order, p->nwhale, sizeof *j.order, cmp_whale_size, (void *)p);
    pthread_mutex_init(&j.lock, NULL);
    rc = hwi_pool_each(p->nwhale, threads > 0 ? threads : 1, write_whale, &j, err);
    pthread_mutex_destroy(&j.lock);
    if (rc == 0)
        rc = write_csvs(p, outdir, j.box, err);
    free(j.box);
    free(j.order);
    return rc;
}
