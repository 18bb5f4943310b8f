/* synth.h: a synthetic humpback-fluke data set in Kaggle's format.
 *
 * The generator stands in for the competition's photos, which cannot ship
 * with hwi.  It works in two steps:
 *
 *   1. a plan (hwi_synth_plan_make): the individuals, the photos, their
 *      names and labels, drawn so that the label statistics follow the
 *      competition's (a long tail of photos per individual, ~38% of train
 *      photos labelled new_whale, ~28% of test photos of individuals absent
 *      from the labelled train set);
 *   2. rendering (hwi_synth_render, hwi_synth_write): each individual is a
 *      fixed fluke, an outline (span, lobes, tips, median notch, a trailing
 *      edge with its own scallops and nicks) and a ventral pigmentation
 *      (black/white marbling, spots, scars), and each photo shows it under
 *      a random viewpoint, light, sea, spray, blur, noise and JPEG quality.
 *
 * Everything is a function of the seed: an individual's fluke of (seed,
 * individual), a photo of (seed, photo), so the output does not depend on
 * the number of threads or the order of work.  Pure C raster code; the
 * only library call is hwi_image_write for the JPEG files.
 *
 *     struct hwi_synth_config c;
 *     hwi_synth_config_preset(&c, "small", err);
 *     c.seed = 42;
 *     struct hwi_synth_plan p;
 *     hwi_synth_plan_make(&p, &c, err);
 *     hwi_synth_write(&p, "data", 2, NULL, NULL, err);
 *     hwi_synth_plan_free(&p);
 */
#ifndef HWI_SYNTH_H
#define HWI_SYNTH_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Sizes and label statistics of a data set. */
struct hwi_synth_config {
    uint64_t seed;    /* everything follows from it, e.g. 1 */
    long named;       /* named individuals in train, e.g. 5004 */
    long train;       /* train photos, e.g. 25361 */
    double train_nw;  /* fraction of train photos labelled new_whale, 0.381 */
    long test;        /* test photos, e.g. 7960 */
    double test_nw;   /* fraction of test photos whose truth is new_whale, 0.28 */
    int min_w, max_w; /* photo widths in pixels, e.g. 320..800 */
    double scar_frac; /* named individuals that gain a scar over time, 0.05 */
    int shift;        /* 1: test photos from conditions absent from train (another
                           camera: flat, warm, noisy, JPEG quality 25-45; low side
                           light, 40% backlit; rough sea, spray, running water;
                           |yaw| 38-52 and pitch -32..-20 or 30..40 degrees where
                           train has |yaw| < 38, pitch -20..30; every individual
                           shows its new scar); train photos stay the same */
};

/* Fill C with the preset NAME: "tiny" (tests: ~80 small photos), "small"
 * (the demo: ~1700 photos), "full" (the competition's counts: 25361 train,
 * 7960 test, 5004 named individuals).  Seed 1.  Returns 0, or -1 with ERR
 * set for an unknown name. */
int hwi_synth_config_preset(struct hwi_synth_config *c, const char *name, char *err);

enum { HWI_SYNTH_TRAIN = 0, HWI_SYNTH_TEST = 1 };

/* One individual. */
struct hwi_synth_whale {
    char id[12];     /* "w_1a2b3c4", or "new_whale" when unnamed */
    uint32_t ntrain; /* its photos in train */
    uint32_t ntest;  /* its photos in test */
    float scar_time; /* in (0,1): photos taken later show a new scar; 2 = never */
};

/* One photo. */
struct hwi_synth_photo {
    char name[16];  /* "0a1b2c3d.jpg" */
    uint32_t whale; /* index into whales */
    uint8_t split;  /* HWI_SYNTH_TRAIN or HWI_SYNTH_TEST */
    float time;     /* in [0,1): when it was taken (for scars) */
};

/* What a data set holds.  Photos of one whale are contiguous; within a
 * split the CSV files list photos sorted by name, as Kaggle's did. */
struct hwi_synth_plan {
    struct hwi_synth_config config;
    size_t nwhale;
    struct hwi_synth_whale *whale;
    size_t nphoto;
    struct hwi_synth_photo *photo;
    size_t *first; /* [nwhale + 1]: photos of whale w are first[w] .. first[w+1]-1 */
};

/* Draw the plan for C.  Returns 0, or -1 with ERR set (bad sizes, out of
 * memory). */
int hwi_synth_plan_make(struct hwi_synth_plan *p, const struct hwi_synth_config *c, char *err);
void hwi_synth_plan_free(struct hwi_synth_plan *p);

/* Label statistics of a plan. */
struct hwi_synth_stats {
    size_t train, test; /* photos */
    size_t named;       /* named individuals (in train) */
    size_t train_nw;    /* train photos labelled new_whale */
    size_t test_nw;     /* test photos whose truth is new_whale */
    size_t unnamed;     /* distinct unnamed individuals (train + test) */
    size_t hist[8];     /* named individuals with 1,2,3,4,5,6-10,11-20,>20 train photos */
    size_t max_photos;  /* most train photos of one individual */
    size_t scarred;     /* individuals that gain a scar */
    size_t val_queries; /* named individuals with >= 2 train photos */
};
void hwi_synth_stats(const struct hwi_synth_plan *p, struct hwi_synth_stats *s);

/* Print S as "key<TAB>value" lines (with a '#' comment line first). */
void hwi_synth_stats_print(const struct hwi_synth_stats *s, FILE *fp);

/* A rendered photo: W x H pixels of BANDS (1 or 3) bytes, the fluke's
 * bounding box (inclusive, with detector-like jitter), and the JPEG quality
 * the photo is saved with. */
struct hwi_synth_image {
    int w, h, bands, quality;
    uint8_t *pix;
    long x0, y0, x1, y1;
};

/* Render photo I of P into IM (IM->pix malloc'd; free with free()).
 * Returns 0, or -1 with ERR set (out of memory). */
int hwi_synth_render(const struct hwi_synth_plan *p, size_t i, struct hwi_synth_image *im,
                     char *err);

/* Called after each written photo with the count done and the total;
 * hwi_synth_write calls it from one thread at a time. */
typedef void (*hwi_synth_progress)(void *arg, size_t done, size_t total);

/* Render every photo of P with THREADS threads (>= 1) and write
 * OUTDIR/train/NAME, OUTDIR/test/NAME, OUTDIR/train.csv, OUTDIR/solution.csv
 * and OUTDIR/bounding_boxes.csv (each file whole or not at all).  OUTDIR and
 * its subfolders are created if needed.  Returns 0, or -1 with ERR set; the
 * first error stops the work.  The caller has called hwi_image_init. */
int hwi_synth_write(const struct hwi_synth_plan *p, const char *outdir, int threads,
                    hwi_synth_progress progress, void *arg, char *err);

#endif /* HWI_SYNTH_H */
