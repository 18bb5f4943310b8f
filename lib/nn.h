/* nn.h: convolutional networks on Darknet, for training and embedding.
 *
 * A model is a Darknet .cfg (Darknet's sections plus hwi's: [gem], [ring],
 * [center], detached routes, a correct [l2norm], several classifier heads;
 * see hwi-nn(5)) and a .weights file (Darknet's, followed by a trailer
 * holding hwi's own parameters and a checksum), with the label list beside
 * it.  Only lib/nn*.c include darknet.h.
 *
 * Pixels go in as float planes (CHW, batch-major) with values in [0, 1];
 * hwi-crop's pixel stream is one grayscale plane per image, row-major.
 *
 * Every function returning int returns 0 on success, -1 on error with a
 * message in ERR (HWI_ERRLEN bytes).  Nothing here prints or exits. */
#ifndef HWI_NN_H
#define HWI_NN_H

#include "err.h"

struct hwi_nn;

struct hwi_nn_info {
    int w, h, c;     /* input image size and channels */
    int batch;       /* images per hwi_nn_train_step / at most per forward */
    int feature_dim; /* size of the retrieval embedding (L2-normalised) */
    int classes;     /* logits per image (0: the model has no classifier) */
    int heads;       /* classifier heads trained at once */
    int outputs;     /* values per image of the last layer */
    int boxes;       /* 1: a box regressor (last layer [box], outputs 4) */
    int equalize;    /* 1: every input plane is histogram-equalised first */
};

/* Histogram equalisation of one plane X[0..N) of values in [0, 1], in
 * place: each value v (taken as the 8-bit level q = round(255 v)) becomes
 * round(255 (C(q) - C(m)) / (N - C(m))) / 255, C the cumulative histogram
 * of the levels and m the lowest level present.  Any increasing change of
 * the levels (brightness, contrast, gamma) gives the same output.  A plane
 * of one level is left as it is.  The networks whose [net] says
 * equalize=1 do this to every input plane, in training and inference. */
void hwi_nn_equalize(float *x, size_t n);

/* Threads for the matrix code (OpenBLAS); 0 means all cores.  Call before
 * hwi_nn_load. */
void hwi_nn_set_threads(int n);

/* Build the network of CFG, seeding weight initialisation with SEED (the
 * same seed gives the same weights).  BATCH > 0 overrides the cfg's batch.
 * CLASSES > 0 sets the class count of every classifier head; 0 takes it
 * from WEIGHTS.  WEIGHTS, when not NULL, is loaded and checked: a missing,
 * truncated or mismatched file is an error.  Returns NULL with ERR set on
 * failure, including an unknown [section] (named with its line). */
struct hwi_nn *hwi_nn_load(const char *cfg, const char *weights, int batch, int classes,
                           unsigned seed, char *err);

void hwi_nn_get_info(const struct hwi_nn *nn, struct hwi_nn_info *info);

/* Run N (1..batch) images X in inference mode.  FEATURES (N x feature_dim)
 * and LOGITS (N x classes; the sum over heads of the classifier inputs to
 * softmax) are filled when not NULL. */
int hwi_nn_forward(struct hwi_nn *nn, const float *x, int n, float *features, float *logits,
                   char *err);

/* One training step on exactly batch images X with class indices LABELS
 * (0..classes-1), at learning rate LR.  *LOSS gets the total loss (sum of
 * the heads' cross-entropies and the ring/center losses, per image). */
int hwi_nn_train_step(struct hwi_nn *nn, const float *x, const int *labels, float lr,
                      float *loss, char *err);

/* One training step of a box regressor on exactly batch images X with
 * target boxes BOXES (batch x 4: x0, y0, x1, y1 as fractions of the
 * image's width and height).  *LOSS gets the smooth-L1 loss per image. */
int hwi_nn_train_boxes(struct hwi_nn *nn, const float *x, const float *boxes, float lr,
                       float *loss, char *err);

/* Run N (1..batch) images X in inference mode and copy the last layer's
 * outputs (N x outputs; a box regressor's boxes) to OUT. */
int hwi_nn_predict(struct hwi_nn *nn, const float *x, int n, float *out, char *err);

/* Batch-norm adaptation (AdaBN, Li et al. 2016) to a set of images from
 * other conditions than the training photos: hwi_nn_adapt_begin, then
 * hwi_nn_adapt on every image of the set (N = 1..batch at a time), then
 * hwi_nn_adapt_end, which makes each batch-norm layer's statistics (used
 * by every later forward) those of its inputs over the whole set.  During
 * the pass each layer normalises with the statistics of the images seen so
 * far, this batch's included, so every layer sees its inputs normalised
 * as the adapted layers before it will; dropout stays off.  Returns 0, or
 * -1 with ERR set (out of memory, a bad N). */
int hwi_nn_adapt_begin(struct hwi_nn *nn, char *err);
int hwi_nn_adapt(struct hwi_nn *nn, const float *x, int n, char *err);
void hwi_nn_adapt_end(struct hwi_nn *nn);

/* Freeze (1) or unfreeze (0) every layer before the head, for the
 * head-only warm-up epochs of the method. */
void hwi_nn_freeze_backbone(struct hwi_nn *nn, int frozen);

/* Save all parameters to WEIGHTS (whole or not at all). */
int hwi_nn_save(struct hwi_nn *nn, const char *weights, char *err);

/* The whole training state of NN as a malloc'd byte string (*OUT, *SIZE
 * bytes): the weights file, the optimizer state (momentum buffers, Adam
 * moments and step count, [center] accumulators) and the position of
 * rand(), which Darknet's dropout draws from.  hwi_nn_state_set on a
 * network built from the same cfg, batch and classes restores it, so the
 * following training steps are those the saved network would have taken. */
int hwi_nn_state_get(struct hwi_nn *nn, unsigned char **out, size_t *size, char *err);
int hwi_nn_state_set(struct hwi_nn *nn, const unsigned char *buf, size_t size, char *err);

/* The loss terms of the last training step, per image, in layer order: one
 * per layer with a cost (each classifier head's cross-entropy, each [ring]
 * and [center] loss; they sum to hwi_nn_train_step's *LOSS), named
 * "softmaxI", "ringI", "centerI" with I the layer index.  Fills up to MAX
 * entries of NAME and VALUE (either may be NULL); returns how many terms
 * the network has. */
int hwi_nn_loss_terms(const struct hwi_nn *nn, char (*name)[24], float *value, int max);

/* The radii R of the [ring] layers, in layer order, with their layer
 * INDEX.  Fills up to MAX entries (either array may be NULL); returns how
 * many [ring] layers there are. */
int hwi_nn_ring_radii(const struct hwi_nn *nn, int *index, float *radius, int max);

void hwi_nn_free(struct hwi_nn *nn);

#endif /* HWI_NN_H */
