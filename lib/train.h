/* train.h: everything hwi-train and hwi-embed need around the network:
 * the training set (pixels + class indices), the model's label list, data
 * augmentation, the one-cycle learning rate, and finding shipped files.
 *
 * Nothing here touches Darknet (that is lib/nn.c), so all of it is unit
 * tested without a network.  Randomness comes from lib/rng.h (splitmix64),
 * never from rand(): Darknet's dropout draws from rand(), and one stream per
 * purpose keeps a seed's result independent of the network's use of it.
 *
 * Functions returning int return 0 on success, -1 with a message in ERR
 * (HWI_ERRLEN bytes).  Nothing here prints or exits. */
#ifndef HWI_TRAIN_H
#define HWI_TRAIN_H

#include "csv.h"
#include "err.h"
#include "rng.h"
#include "stream.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------
 * A labelled image set held in memory.
 *
 * A training set (REF NULL in hwi_trainset_load) keeps the images of the
 * stream that have a label in the CSV other than new_whale; its classes are
 * the distinct labels of those images in strcmp order, which is the order
 * of the classifier's outputs and of MODEL.labels.  A validation set (REF
 * given) keeps every image with a label, and maps it to REF's classes: y is
 * -1 for new_whale and for whales REF does not know. */
struct hwi_trainset {
    int dim;           /* floats per image (w * h * c) */
    size_t n;          /* images kept */
    float *x;          /* [n][dim] pixels */
    int *y;            /* [n] class index, or -1 (validation only) */
    char **key;        /* [n] image names */
    char **truth;      /* [n] the label of each image */
    int classes;       /* distinct classes */
    char **label;      /* [classes] class names, strcmp order */
    size_t unlabelled; /* stream images with no row in the CSV */
    size_t new_whale;  /* stream images labelled new_whale (training only) */
};

/* Read every record of S (a keyed stream), look its key up in LABELS, and
 * fill T as described above.  A duplicate key, an unkeyed stream or a bad
 * record is an error.  REF, when not NULL, supplies the classes.  On error T
 * is left empty. */
int hwi_trainset_load(struct hwi_trainset *t, struct hwi_stream *s,
                      const struct hwi_labels *labels, const struct hwi_trainset *ref,
                      char *err);

void hwi_trainset_free(struct hwi_trainset *t);

/* Write LABEL[0..N) one per line to FP.  Returns 0, or -1 on a write error. */
int hwi_train_labels_write(char *const *label, int n, FILE *fp);

/* Read a label list (one label per line, no blank line, no TAB, no
 * duplicate) from PATH.  Stores a malloc'd array of N malloc'd strings in
 * *LABEL.  Returns 0, or -1 with "PATH:LINE: ..." in ERR. */
int hwi_train_labels_read(const char *path, char ***label, int *n, char *err);

void hwi_train_labels_free(char **label, int n);

/* ------------------------------------------------------------------------
 * Augmentation: a random affine warp and a brightness/contrast change of a
 * grayscale plane, the method's recipe.  Never a flip: the warp's
 * determinant is always positive (a mirrored fluke is another whale). */
struct hwi_aug {
    double rotate;     /* angle uniform in [-rotate, rotate] degrees (15) */
    double scale;      /* zoom uniform in [1-scale, 1+scale] (0.1) */
    double shift;      /* shift uniform in [-shift, shift] of the side (0.1) */
    double shear;      /* shear angle uniform in [-shear, shear] degrees (10) */
    double brightness; /* offset uniform in [-brightness, brightness] (0.1) */
    double contrast;   /* gain uniform in [1-contrast, 1+contrast] (0.2) */
    /* drawn only when nonzero, so that without them the draws are those
     * of the six above alone: */
    double aspect; /* width/height zoom ratio log-uniform in [1/(1+aspect), 1+aspect] (0) */
    double blur;   /* Gaussian blur of sigma uniform in [0, blur] pixels (0) */
    double noise;  /* Gaussian noise of sigma uniform in [0, noise] (0) */
};

/* The defaults above. */
void hwi_aug_default(struct hwi_aug *a);

/* Set the parameters named in SPEC, "KEY=VALUE[,KEY=VALUE]..." (keys as
 * the fields above, values finite and >= 0; scale, contrast below 1),
 * leaving the others as they are.  Returns 0, or -1 with a message naming
 * the bad part in ERR. */
int hwi_aug_parse(struct hwi_aug *a, const char *spec, char *err);

/* A's parameters as SPEC text, all of them, into BUF of SIZE bytes. */
void hwi_aug_format(const struct hwi_aug *a, char *buf, size_t size);

/* Draw one warp from A: M = {a, b, c, d, e, f} maps an output pixel centre
 * (x, y) to the source point (a*x + b*y + c, d*x + e*y + f), in pixels of a
 * W x H image. */
void hwi_aug_draw(const struct hwi_aug *a, struct hwi_rng *r, int w, int h, double m[6]);

/* DST[y][x] = SRC sampled bilinearly at M(x, y), edges replicated.  Both
 * planes are W x H, row-major; they must not overlap. */
void hwi_aug_warp(const float *src, float *dst, int w, int h, const double m[6]);

/* X[i] = clamp((X[i] - 0.5) * GAIN + 0.5 + OFFSET, 0, 1) for N values. */
void hwi_aug_photometric(float *x, size_t n, double gain, double offset);

/* Blur the W x H plane X in place with a Gaussian of SIGMA pixels (a
 * separable kernel of radius ceil(3 SIGMA), edges replicated); WORK holds
 * W * H floats.  SIGMA < 0.1 leaves X as it is. */
void hwi_aug_blur(float *x, int w, int h, double sigma, float *work);

/* The whole augmentation of one image of C planes of W x H: one warp drawn
 * from A applied to every plane, then (when A has them) one blur and
 * Gaussian noise, then one brightness/contrast change.  WORK holds W * H
 * floats for the blur (NULL when A->blur is 0). */
void hwi_augment(const struct hwi_aug *a, struct hwi_rng *r, const float *src, float *dst,
                 int w, int h, int c, float *work);

/* ------------------------------------------------------------------------
 * Schedule. */

/* One-cycle learning rate at step T of N (0 <= T < N) peaking at LR: a
 * cosine rise from LR/25 to LR over the first 30% of the steps, then a
 * cosine fall to LR/25e4 (fastai's fit_one_cycle). */
double hwi_train_onecycle(double lr, long t, long n);

/* The indices of the K largest of V[0..N), largest first (ties: lower index
 * first).  K <= N. */
void hwi_train_topk(const float *v, int n, int k, int *out);

/* ------------------------------------------------------------------------
 * Files. */

/* The path of the shipped data file NAME: NAME itself when it names an
 * existing file or contains a '/'; otherwise NAME (or NAME.cfg when SUFFIX
 * is ".cfg" and NAME lacks it) in $HWI_DATADIR, else in PKGDATADIR.
 * Returns a malloc'd string, or NULL if out of memory. */
char *hwi_train_datafile(const char *name, const char *suffix);

/* ------------------------------------------------------------------------
 * Checkpoints: what hwi-train needs to continue a run after epoch EPOCH
 * as if it had never stopped.  The file (little-endian, hwi-nn(5)):
 *   "HWIC", u32 version = 1, u32 epoch, u32 settings length, the settings
 *   text (no NUL), u64 rng state, u64 n, n x u64 perm, f64 busy seconds,
 *   f64 elapsed seconds, u64 images seen, u64 state length, the network's state
 *   (hwi_nn_state_get), u32 total file size. */
struct hwi_ckpt {
    long epoch;     /* epochs done */
    char *settings; /* the options that must not change, as text */
    struct hwi_rng rng;
    size_t n;             /* images */
    size_t *perm;         /* [n] the image order after the last shuffle */
    double busy;          /* seconds spent in training steps so far */
    double elapsed;       /* wall seconds of the run so far */
    uint64_t seen;        /* images trained on so far */
    unsigned char *state; /* the network's training state */
    size_t state_size;
};

/* Write C to PATH whole or not at all (hwi_outfile).  Returns 0, or -1
 * with ERR set. */
int hwi_ckpt_write(const char *path, const struct hwi_ckpt *c, char *err);

/* Read PATH into C (malloc'd members; hwi_ckpt_free).  A truncated or
 * foreign file is an error.  Returns 0, or -1 with ERR set. */
int hwi_ckpt_read(const char *path, struct hwi_ckpt *c, char *err);

void hwi_ckpt_free(struct hwi_ckpt *c);

#endif /* HWI_TRAIN_H */
