/* nn_int.h: what lib/nn*.c share about Darknet; only lib/nn*.c include it.
 *
 * Darknet's header declares only part of what libdarknet.so exports.  The
 * declarations below complete it; they match pjreddie/darknet commit
 * 61c9d02e (2018-09-14), the source of Debian's darknet 0.0.0+git20180914
 * (docs/darknet.md §2).  Never define GPU or CUDNN here: they change the
 * layout of struct layer and struct network.
 *
 * Conventions of Darknet kept by every hwi layer (docs/darknet.md §3):
 * l.delta holds -dL/d(output) summed over the batch; backward ADDS
 * -dL/d(input) into net.delta and -dL/d(param) into the *_updates arrays;
 * update adds lr/batch times the updates. */
#ifndef HWI_NN_INT_H
#define HWI_NN_INT_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <darknet.h>
#pragma GCC diagnostic pop

#include "err.h"

/* ---- Darknet internals (src/parser.c, src/option_list.h, ...) ---- */
typedef struct {
    int batch, inputs, h, w, c, index, time_steps;
    network *net;
} size_params;

typedef struct {
    char *key;
    char *val;
    int used;
} kvp;

list *make_list(void);
void option_insert(list *l, char *key, char *val);
char *option_find(list *l, char *key);
float option_find_float(list *l, char *key, float def);
float option_find_float_quiet(list *l, char *key, float def);
network *make_network(int n);
void parse_net_options(list *options, network *net);
layer parse_convolutional(list *options, size_params params);
layer parse_connected(list *options, size_params params);
layer parse_maxpool(list *options, size_params params);
layer parse_avgpool(list *options, size_params params);
layer parse_dropout(list *options, size_params params);
layer parse_softmax(list *options, size_params params);
layer parse_route(list *options, size_params params, network *net);
layer parse_shortcut(list *options, size_params params, network *net);
ACTIVATION get_activation(char *s);
void activate_array(float *x, const int n, const ACTIVATION a);
void gradient_array(const float *x, const int n, const ACTIVATION a, float *delta);
void forward_convolutional_layer(layer l, network net);
void backward_convolutional_layer(layer l, network net);
void update_convolutional_layer(layer l, update_args a);
void forward_connected_layer(layer l, network net);
void backward_connected_layer(layer l, network net);
void update_connected_layer(layer l, update_args a);
void forward_softmax_layer(layer l, network net);
void backward_softmax_layer(layer l, network net);
void forward_l2norm_layer(layer l, network net);
void backward_l2norm_layer(layer l, network net);

/* ---- hwi's side of a layer ----
 * Every layer hwi builds or wraps gets one of these; l.input_layer points
 * at it (Darknet never reads that field for these layer types, and
 * free_layer does not free it).  The struct hwi_nn owns them all. */
enum hwi_kind {
    HWI_DARKNET, /* a Darknet layer used as is */
    HWI_CONV,    /* [convolutional], wrapped (P1, P4, P5) */
    HWI_CONN,    /* [connected], wrapped (P3, P4, P5) */
    HWI_BN,      /* [batchnorm], hwi's own (P2) */
    HWI_GEM,
    HWI_RING,
    HWI_CENTER,
    HWI_L2NORM,
    HWI_SOFTMAX, /* a classifier head's softmax + cross-entropy (P6) */
    HWI_DROUTE,  /* [route] detach=1 */
    HWI_BOX,     /* [box]: box regression loss */
    HWI_ARCFACE, /* [arcface]: cosine logits, additive angular margin */
    HWI_COSFACE, /* [cosface]: cosine logits, additive cosine margin */
};

struct hwi_aux {
    enum hwi_kind kind;
    int index;                        /* layer index */
    int frozen;                       /* backbone frozen: BN uses rolling statistics */
    int from;                         /* input layer ([gem]), -1 for the previous one */
    int strips, strip;                /* [gem]: strip STRIP of STRIPS vertical strips */
    int learnable;                    /* [gem] p / [ring] R learn */
    float eps;                        /* BN, GeM, l2norm epsilon; [box] beta */
    float momentum;                   /* BN rolling-statistics momentum */
    float weight;                     /* [ring] lambda, [center] weight, margin m */
    float rate;                       /* [center] update rate */
    int classes;                      /* [center] */
    float *zeros;                     /* n zero biases (wrapped BN layers) */
    float *scratch;                   /* n floats of bias-gradient scratch */
    float *dsave;                     /* batch*inputs floats: saved input delta (P1) */
    float *counts;                    /* [center] per-class sample counts in a batch */
    float *m, *v, *bm, *bv, *sm, *sv; /* Adam moments (P5) */
    double *adapt;                    /* BN adaptation: per channel, sum and sum of
                                         squares so far, then the count; NULL: off */
    int nvalid;                       /* images of the batch that are real (adaptation) */
};

/* Darknet bugs worked around (docs/darknet.md §5), one bit each.  All are on;
 * tests/check_nn clears one (HWI_NN_TEST_DISABLE=p1,...) to show that its
 * test then fails.  Nothing else may change it. */
enum {
    HWI_FIX_P1 = 1 << 0,   /* 1x1 convolution overwrites the input gradient */
    HWI_FIX_P2 = 1 << 1,   /* standalone [batchnorm] crashes */
    HWI_FIX_P4 = 1 << 3,   /* BN in conv/connected: NaN with one value per
                              statistic (P3), gradient inconsistent (P4) */
    HWI_FIX_P5 = 1 << 4,   /* adam=1 ignored */
    HWI_FIX_P6 = 1 << 5,   /* softmax gradient lacks 1/temperature */
    HWI_FIX_P8 = 1 << 6,   /* stopbackward does not freeze */
    HWI_FIX_P10 = 1 << 7,  /* [l2norm] backward is the identity */
    HWI_FIX_P13 = 1 << 8,  /* set_batch_network leaves buffers */
    HWI_FIX_P14 = 1 << 9,  /* flush-to-zero set process-wide */
    HWI_FIX_P15 = 1 << 10, /* weights initialised from an unseeded rand() */
    HWI_FIX_P23 = 1 << 11, /* ELU is NaN for inputs above 709 */
};
extern unsigned hwi_nn_fixes;

#define HWI_AUX(l) ((struct hwi_aux *)(l).input_layer)

/* Layer functions (lib/nn_layers.c). */
void hwi_conv_forward(layer l, network net);
void hwi_conv_backward(layer l, network net);
void hwi_conn_forward(layer l, network net);
void hwi_conn_backward(layer l, network net);
void hwi_wrapped_update(layer l, update_args a);
void hwi_bn_forward(layer l, network net);
void hwi_bn_backward(layer l, network net);
void hwi_bn_update(layer l, update_args a);
void hwi_gem_forward(layer l, network net);
void hwi_gem_backward(layer l, network net);
void hwi_scalar_update(layer l, update_args a);
void hwi_ring_forward(layer l, network net);
void hwi_ring_backward(layer l, network net);
void hwi_center_forward(layer l, network net);
void hwi_center_backward(layer l, network net);
void hwi_center_update(layer l, update_args a);
void hwi_l2norm_forward(layer l, network net);
void hwi_l2norm_backward(layer l, network net);
void hwi_softmax_forward(layer l, network net);
void hwi_softmax_backward(layer l, network net);
void hwi_box_forward(layer l, network net);
void hwi_box_backward(layer l, network net);
void hwi_nobackward(layer l, network net);
void hwi_margin_forward(layer l, network net);
void hwi_margin_backward(layer l, network net);
void hwi_margin_update(layer l, update_args a);

/* The network, as lib/nn.c builds it. */
struct hwi_nn {
    network *net;
    struct hwi_aux *aux; /* net->n entries */
    int classes;         /* 0: no classifier */
    int heads;           /* softmax heads */
    int boxes;           /* 1: the last layer is [box] */
    int embed;           /* layer of the retrieval embedding */
    int head_start;      /* first layer of the head (first [gem]) */
    int equalize;        /* [net] equalize=1: each input plane equalised */
    int frozen;
    void (**saved_update)(layer, update_args); /* while frozen */
    int *stopped;                              /* stopbackward before freezing */
    size_t workspace;                          /* bytes of net->workspace */
};

/* ---- The modules of lib/nn*.c ----
 * nn_cfg.c: the .cfg as read, one section per [type] line, keys in order
 * with their line numbers.  hwi_nn_cfg_read returns 0 or -1 with a
 * message naming FILE:LINE; hwi_nn_cfg_check checks a section against the
 * table of what it accepts and returns its entry in SPEC;
 * hwi_nn_cfg_find/str/long/double look a key up (default DEF when absent). */
/* As in Darknet, blanks are removed from every line and lines starting
 * with '#' or ';' are comments. */
struct cfg_sec {
    char *type; /* "[gem]" */
    int line;
    list *opts;  /* of kvp: key and val in one malloc'd buffer */
    int *klines; /* line of each key, in list order */
    int nkeys;
};

struct cfg {
    const char *path;
    struct cfg_sec *secs;
    int n;
};
struct section_spec;

void hwi_nn_cfg_free(struct cfg *cf);
int hwi_nn_cfg_read(struct cfg *cf, const char *path, char *err);
/* Nonzero when W is one of the blank-separated WORDS. */
int hwi_nn_word_in(const char *words, const char *w);
int hwi_nn_cfg_check(const struct cfg *cf, const struct cfg_sec *s,
                     const struct section_spec **spec, char *err);
kvp *hwi_nn_cfg_find(const struct cfg_sec *s, const char *key, int *line);
const char *hwi_nn_cfg_str(const struct cfg_sec *s, const char *key);
long hwi_nn_cfg_long(const struct cfg_sec *s, const char *key, long def);
double hwi_nn_cfg_double(const struct cfg_sec *s, const char *key, double def);

/* nn_build.c: build the network of CF for BATCH (> 0: overrides the
 * cfg's) and CLASSES; NULL with a message in ERR. */
struct hwi_nn *hwi_nn_build(const struct cfg *cf, int batch, int classes, char *err);

/* nn_weights.c: the weights file (man/hwi-nn.5).  hwi_nn_read_file reads
 * PATH whole into *BUF (returns its size, or -1); hwi_nn_check_frame checks
 * its frame (sizes, trailer, checksum), giving the Darknet part's size DK
 * and the CLASSES it was saved with; hwi_nn_load_weights loads it into NN
 * (layout checked); hwi_nn_pack_weights packs NN's weights (NULL when out
 * of memory). */
long hwi_nn_read_file(const char *path, unsigned char **buf, char *err);
int hwi_nn_check_frame(const char *path, const unsigned char *buf, long size, size_t *dk,
                       int *classes, char *err);
int hwi_nn_load_weights(struct hwi_nn *nn, const char *path, const unsigned char *buf,
                        long size, char *err);
unsigned char *hwi_nn_pack_weights(struct hwi_nn *nn, size_t *size);

/* nn_build.c: the network being built, and the make functions' view of one
 * layer (see nn_build.c); the make functions of hwi's own layers are in
 * nn_layers.c, beside their forward and backward. */
struct build {
    const struct cfg *cf;
    struct hwi_nn *nn;
    network *net;
    size_params params;
    size_t workspace;
    double bytes; /* check_mem's estimate of the layers so far */
    char classes_str[24];
    char *err;
};

struct mk {
    struct build *b;
    int i;                   /* the layer's index */
    const struct cfg_sec *s; /* its section */
    struct hwi_aux *a;
    size_params *pp;  /* its input */
    size_params flat; /* the input as 1x1xD */
    int img;          /* the input is an image */
    int oom;
    layer l; /* the layer made */
};

void *hwi_nn_xcalloc(size_t n, size_t size, int *oom);
layer hwi_nn_new_layer(const size_params *pp, LAYER_TYPE type, int oh, int ow, int oc,
                       int *oom);
int hwi_nn_is_image(const size_params *pp);
int hwi_nn_layer_ref(struct build *b, const struct cfg_sec *s, const char *key, long v, int i,
                     int *j);
int hwi_nn_make_batchnorm(struct mk *m);
int hwi_nn_make_l2norm(struct mk *m);
int hwi_nn_make_gem(struct mk *m);
int hwi_nn_make_ring_center(struct mk *m);
int hwi_nn_make_box(struct mk *m);
int hwi_nn_make_margin(struct mk *m);
layer parse_batchnorm(list *options, size_params params);

#endif /* HWI_NN_INT_H */
