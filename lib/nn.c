/* nn.c: hwi's networks on Darknet: the .cfg parser, the weights file, and
 * the API of nn.h.  With nn_layers.c, the only code that includes darknet.h.
 *
 * Parsing (darknet-notes §6.2, "route A"): hwi reads the .cfg itself, keeping
 * line numbers, checks every section and key against the table below
 * (unknown section or key, bad or missing value: an error naming FILE:LINE),
 * then builds each layer: Darknet's own sections through Darknet's exported
 * parse_* functions, hwi's ([gem], [ring], [center], [l2norm],
 * [batchnorm], [softmax] heads) by hwi.  Darknet's sections are checked
 * before Darknet sees them, so none of its error()/assert paths (abort) or
 * file_error (exit 0) is reachable from here.  Darknet prints while it
 * builds layers; that output goes to /dev/null (HWI_NN_VERBOSE=1 in the
 * environment sends it to stderr), and never to stdout.
 *
 * Darknet's bugs that a classifier meets (darknet-notes §8) and what hwi
 * does about each (tests/check_nn.c has a test for each):
 *   P1  1x1 conv backward overwrites the input delta: the wrapper saves and
 *       adds it back (nn_layers.c).  1x1 convs with stride > 1, which
 *       Darknet computes wrongly even forward, are refused.
 *   P2  standalone [batchnorm] crashes: hwi builds its own.
 *   P3, P4  BN inside conv/connected: NaN for one value per statistic,
 *       gradient inconsistent with the forward pass: hwi's BN replaces it.
 *   P5  adam=1 ignored: hwi's update runs Adam.
 *   P6  softmax delta lacks 1/T: hwi's softmax head.
 *   P8  stopbackward does not freeze: hwi_nn_freeze_backbone also removes
 *       the backbone's updates and fixes its BN statistics.
 *   P10 [l2norm] backward is the identity: hwi's [l2norm].
 *   P13 set_batch_network keeps the buffers: never called; a forward of
 *       fewer images than the batch pads the batch.
 *   P14 libdarknet sets flush-to-zero process-wide: hwi clears it again
 *       (at start-up and in hwi_nn_load).
 *   P15 weights are initialised from rand(): hwi_nn_load calls srand(seed)
 *       first; dropout draws from the same rand(), so training is
 *       reproducible with one thread.
 *   P23 (not in the notes) Darknet's ELU is (x >= 0) x + (x < 0) (exp(x) - 1),
 *       NaN for x > 709 (exp overflows): the wrappers compute ELU themselves.
 *   P17 image loading: hwi never uses Darknet's image code (pixels come in
 *       as float arrays).
 *   P19 error handling: Darknet's file reading is never used (hwi reads
 *       the cfg and writes and reads the weights file itself, checking
 *       sizes, layout and a checksum); nothing here exits.
 *
 * The weights file is Darknet's format (readable by load_weights) followed
 * by a trailer; man/hwi-nn.5 gives it byte by byte. */
#include <config.h>

#include "nn_gemm.h"
#include "nn.h"
#include "nn_int.h"
#include "opt.h"
#include "tsv.h" /* hwi_read_line */

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

void set_batch_network(network *net, int b);
layer parse_batchnorm(list *options, size_params params);

/* ------------------------------------------------------------------------
 * Flush-to-zero (P14). */
static void clear_ftz(void)
{
#ifdef HAVE_MXCSR
    if (hwi_nn_fixes & HWI_FIX_P14)
        _mm_setcsr(_mm_getcsr() & ~0x8040u); /* FTZ (bit 15), DAZ (bit 6) */
#endif
}

__attribute__((constructor)) static void hwi_nn_init(void)
{
    clear_ftz();
}

/* An ordinary call, so that nn_gemm.o, which replaces Darknet's hot loops
 * (gemm, im2col, convolutions, ...; see nn_gemm.h), is always linked. */
void hwi_nn_set_threads(int n)
{
    hwi_nn_gemm_threads(n);
}

/* ------------------------------------------------------------------------
 * Reading the .cfg: sections of key=value lines.  As in Darknet, blanks are
 * removed from every line and lines starting with '#' or ';' are comments. */
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

static void cfg_free(struct cfg *cf)
{
    for (int i = 0; i < cf->n; i++) {
        struct cfg_sec *s = &cf->secs[i];
        free(s->type);
        free(s->klines);
        if (!s->opts)
            continue;
        for (node *nd = s->opts->front, *next; nd; nd = next) {
            next = nd->next;
            kvp *p = nd->val;
            free(p->key);
            free(p);
            free(nd);
        }
        free(s->opts);
    }
    free(cf->secs);
    cf->secs = NULL;
    cf->n = 0;
}

static int cfg_read(struct cfg *cf, const char *path, char *err)
{
    memset(cf, 0, sizeof *cf);
    cf->path = path;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return hwi_seterr(err, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, len;
    long lineno = 0;
    int rc = 0, got;
    /* refuses a NUL byte (a cut line would read as a shorter valid one) */
    while ((got = hwi_read_line(fp, &buf, &cap, &len, path, &lineno, err)) == 1) {
        size_t k = 0;
        for (size_t i = 0; buf[i]; i++)
            if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
                buf[k++] = buf[i];
        buf[k] = 0;
        if (k == 0 || buf[0] == '#' || buf[0] == ';')
            continue;
        if (buf[0] == '[') {
            if (buf[k - 1] != ']') {
                rc = hwi_seterr(err, "%s:%ld: section name without ']'", path, lineno);
                break;
            }
            struct cfg_sec *ns = realloc(cf->secs, sizeof *ns * (cf->n + 1));
            if (!ns) {
                rc = hwi_seterr(err, "out of memory");
                break;
            }
            cf->secs = ns;
            struct cfg_sec *s = &cf->secs[cf->n++];
            memset(s, 0, sizeof *s);
            s->type = strdup(buf);
            s->line = (int)lineno;
            s->opts = make_list();
            continue;
        }
        char *eq = strchr(buf, '=');
        if (!cf->n) {
            rc = hwi_seterr(err, "%s:%ld: '%s' before the first [section]", path, lineno,
                            buf);
            break;
        }
        if (!eq || eq == buf || !eq[1]) {
            rc =
                hwi_seterr(err, "%s:%ld: expected key=value, got '%s'", path, lineno, buf);
            break;
        }
        struct cfg_sec *s = &cf->secs[cf->n - 1];
        *eq = 0;
        for (node *nd = s->opts->front; nd; nd = nd->next)
            if (strcmp(((kvp *)nd->val)->key, buf) == 0) {
                rc = hwi_seterr(err, "%s:%ld: key '%s' given twice in %s", path, lineno,
                                buf, s->type);
                break;
            }
        if (rc)
            break;
        char *key = strdup(buf);
        int *kl = realloc(s->klines, sizeof *kl * (s->nkeys + 1));
        if (!key || !kl) {
            free(key);
            rc = hwi_seterr(err, "out of memory");
            break;
        }
        s->klines = kl;
        s->klines[s->nkeys++] = (int)lineno;
        size_t klen = strlen(key);
        char *whole = realloc(key, klen + 1 + strlen(eq + 1) + 1);
        if (!whole) {
            free(key);
            rc = hwi_seterr(err, "out of memory");
            break;
        }
        strcpy(whole + klen + 1, eq + 1);
        option_insert(s->opts, whole, whole + klen + 1);
    }
    if (!rc && got < 0)
        rc = -1;
    free(buf);
    fclose(fp);
    if (!rc && cf->n == 0)
        rc = hwi_seterr(err, "%s: no sections", path);
    if (rc)
        cfg_free(cf);
    return rc;
}

/* ------------------------------------------------------------------------
 * What each section accepts: "key:type" words.  Types: i (integer), n
 * (integer >= 1), z (integer >= 0), b (0 or 1), f (number), F (number > 0),
 * Z (number >= 0), p (probability in [0, 1)), a (activation), l (list of
 * layer indices), s (word), c (integer >= 1 or "classes"). */
struct section_spec {
    const char *names; /* "[convolutional] [conv]" */
    const char *keys;
};

#define COMMON_KEYS " learning_rate:Z stopbackward:b"
static const struct section_spec specs[] = {
    {"[net] [network]",
     "batch:n subdivisions:n learning_rate:Z momentum:Z decay:Z adam:b B1:Z B2:Z eps:F "
     "height:n width:n channels:n max_batches:z policy:s burn_in:z power:f step:n "
     "scale:f "
     "steps:s scales:s gamma:f angle:f aspect:f saturation:f exposure:f hue:f"},
    {"[convolutional] [conv]",
     "filters:n size:n stride:n pad:b padding:z groups:n activation:a "
     "batch_normalize:b" COMMON_KEYS},
    {"[connected] [conn]", "output:c activation:a batch_normalize:b" COMMON_KEYS},
    {"[maxpool] [max]", "size:n stride:n padding:z" COMMON_KEYS},
    {"[avgpool] [avg]", COMMON_KEYS},
    {"[dropout]", "probability:p" COMMON_KEYS},
    {"[route]", "layers:l detach:b embedding:b" COMMON_KEYS},
    {"[shortcut]", "from:i activation:a alpha:f beta:f" COMMON_KEYS},
    {"[softmax] [soft]", "temperature:F groups:n" COMMON_KEYS},
    {"[batchnorm]", "eps:F momentum:p" COMMON_KEYS},
    {"[l2norm]", "eps:F embedding:b" COMMON_KEYS},
    {"[gem]", "p:F learnable:b strips:n strip:z from:i eps:F" COMMON_KEYS},
    {"[ring]", "lambda:Z radius:f learnable:b" COMMON_KEYS},
    {"[center]", "weight:Z rate:Z" COMMON_KEYS},
    {"[box]", "beta:F" COMMON_KEYS},
    {"[arcface] [cosface]", "s:F m:Z" COMMON_KEYS},
};

static const char *const activations[] = {
    "logistic", "loggy", "relu",   "elu",  "selu",  "relie", "plse",
    "hardtan",  "lhtan", "linear", "ramp", "leaky", "tanh",  "stair"};

static int word_in(const char *words, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = words; (p = strstr(p, w)); p += n)
        if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return 1;
    return 0;
}

static const struct section_spec *find_spec(const char *type)
{
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        if (word_in(specs[i].names, type))
            return &specs[i];
    return NULL;
}

/* The type letter of KEY in SPEC, 0 if it has none. */
static char key_type(const struct section_spec *spec, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = spec->keys; (p = strstr(p, key)); p += n)
        if ((p == spec->keys || p[-1] == ' ') && p[n] == ':')
            return p[n + 1];
    return 0;
}

static int check_value(char t, const char *v)
{
    long l;
    double d;
    switch (t) {
    case 'i':
        return hwi_parse_long(v, INT_MIN / 2, INT_MAX / 2, &l);
    case 'n':
        return hwi_parse_long(v, 1, INT_MAX / 2, &l);
    case 'z':
        return hwi_parse_long(v, 0, INT_MAX / 2, &l);
    case 'b':
        return hwi_parse_long(v, 0, 1, &l);
    case 'c':
        return strcmp(v, "classes") == 0 ? 0 : hwi_parse_long(v, 1, INT_MAX / 2, &l);
    case 'f':
        return hwi_parse_double(v, -1e30, 1e30, &d);
    case 'F':
        return hwi_parse_double(v, 1e-30, 1e30, &d);
    case 'Z':
        return hwi_parse_double(v, 0, 1e30, &d);
    case 'p':
        return hwi_parse_double(v, 0, 0.999999, &d);
    case 's':
        return 0;
    case 'a':
        for (size_t i = 0; i < sizeof activations / sizeof *activations; i++)
            if (strcmp(v, activations[i]) == 0)
                return 0;
        return -1;
    case 'l':
        for (const char *p = v;;) {
            char *end;
            errno = 0;
            long x = strtol(p, &end, 10);
            if (end == p || errno || x < INT_MIN / 2 || x > INT_MAX / 2)
                return -1;
            if (!*end)
                return 0;
            if (*end != ',')
                return -1;
            p = end + 1;
        }
    }
    return -1;
}

static const char *type_desc(char t)
{
    switch (t) {
    case 'i':
        return "an integer";
    case 'n':
        return "an integer >= 1";
    case 'z':
        return "an integer >= 0";
    case 'b':
        return "0 or 1";
    case 'c':
        return "an integer >= 1 or 'classes'";
    case 'f':
        return "a number";
    case 'F':
        return "a number > 0";
    case 'Z':
        return "a number >= 0";
    case 'p':
        return "a probability in [0, 1)";
    case 'a':
        return "an activation (logistic, relu, elu, leaky, linear, ...)";
    case 'l':
        return "a comma-separated list of layer indices";
    }
    return "a word";
}

/* Check every key of section S; fill *SPEC.  Returns 0 or -1 with ERR. */
static int check_section(const struct cfg *cf, const struct cfg_sec *s,
                         const struct section_spec **spec, char *err)
{
    *spec = find_spec(s->type);
    if (!*spec)
        return hwi_seterr(err, "%s:%d: unknown section %s", cf->path, s->line, s->type);
    int k = 0;
    for (node *nd = s->opts->front; nd; nd = nd->next, k++) {
        kvp *p = nd->val;
        char t = key_type(*spec, p->key);
        if (!t)
            return hwi_seterr(err, "%s:%d: unknown key '%s' in %s", cf->path,
                              s->klines[k], p->key, s->type);
        if (check_value(t, p->val) != 0)
            return hwi_seterr(err, "%s:%d: %s: '%s' is not %s", cf->path, s->klines[k],
                              p->key, p->val, type_desc(t));
    }
    return 0;
}

static kvp *find_kvp(const struct cfg_sec *s, const char *key, int *line)
{
    int k = 0;
    for (node *nd = s->opts->front; nd; nd = nd->next, k++) {
        kvp *p = nd->val;
        if (strcmp(p->key, key) == 0) {
            if (line)
                *line = s->klines[k];
            return p;
        }
    }
    return NULL;
}

static const char *opt_str(const struct cfg_sec *s, const char *key)
{
    kvp *p = find_kvp(s, key, NULL);
    return p ? p->val : NULL;
}

static long opt_long(const struct cfg_sec *s, const char *key, long def)
{
    const char *v = opt_str(s, key);
    return v ? strtol(v, NULL, 10) : def;
}

static double opt_double(const struct cfg_sec *s, const char *key, double def)
{
    const char *v = opt_str(s, key);
    return v ? strtod(v, NULL) : def;
}

/* ------------------------------------------------------------------------
 * Darknet's chatter: fd 1 and 2 to /dev/null while it builds layers (or
 * fd 1 to fd 2 with HWI_NN_VERBOSE set). */
struct quiet {
    int out, errfd;
};

static void quiet_begin(struct quiet *q)
{
    fflush(stdout);
    fflush(stderr);
    q->out = dup(1);
    q->errfd = dup(2);
    const char *v = getenv("HWI_NN_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0) {
        dup2(2, 1);
        return;
    }
    int nul = open("/dev/null", O_WRONLY);
    if (nul >= 0) {
        dup2(nul, 1);
        dup2(nul, 2);
        close(nul);
    }
}

static void quiet_end(struct quiet *q)
{
    fflush(stdout);
    fflush(stderr);
    if (q->out >= 0) {
        dup2(q->out, 1);
        close(q->out);
    }
    if (q->errfd >= 0) {
        dup2(q->errfd, 2);
        close(q->errfd);
    }
}

/* ------------------------------------------------------------------------
 * Building the network. */
struct build {
    const struct cfg *cf;
    struct hwi_nn *nn;
    network *net;
    size_params params;
    size_t workspace;
    char classes_str[24];
    char *err;
};

static void *xcalloc(size_t n, size_t size, int *oom)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        *oom = 1;
    return p;
}

/* A weightless hwi layer of input (h, w, c) / INPUTS and output shape. */
static layer new_layer(const size_params *pp, LAYER_TYPE type, int oh, int ow, int oc,
                       int *oom)
{
    layer l = {0};
    l.type = type;
    l.batch = pp->batch;
    l.h = pp->h;
    l.w = pp->w;
    l.c = pp->c;
    l.inputs = pp->inputs;
    l.out_h = oh;
    l.out_w = ow;
    l.out_c = oc;
    l.outputs = oh * ow * oc;
    l.output = xcalloc((size_t)l.batch * l.outputs, sizeof(float), oom);
    l.delta = xcalloc((size_t)l.batch * l.outputs, sizeof(float), oom);
    l.learning_rate_scale = 1;
    return l;
}

static int is_image(const size_params *pp)
{
    return pp->h > 0 && pp->w > 0 && pp->c > 0;
}

/* Resolve a layer reference V (negative: relative to I) of section S. */
static int layer_ref(struct build *b, const struct cfg_sec *s, const char *key, long v,
                     int i, int *out)
{
    int line = s->line;
    find_kvp(s, key, &line);
    long j = v < 0 ? i + v : v;
    if (j < 0 || j >= i)
        return hwi_seterr(
            b->err, "%s:%d: %s: layer %ld is not an earlier layer (this is layer %d)",
            b->cf->path, line, key, v, i);
    *out = (int)j;
    return 0;
}

/* Refuse a layer of section S whose arrays are beyond reason before any of
 * them is allocated: Darknet counts elements in int (an array of more than
 * INT_MAX floats overflows), and a layer needing more than the machine's
 * memory would only end in "out of memory".  OUT is the output floats of
 * the whole batch (output and delta each), WEIGHTS and WORK the weight and
 * workspace floats; KEY names the key blamed (its line is given).  Doubles:
 * the products themselves may overflow. */
static int check_mem(struct build *b, const struct cfg_sec *s, const char *key, double out,
                     double weights, double work)
{
    double most = out > weights ? out : weights;
    most = most > work ? most : work;
    double bytes = 4 * (3 * out + 4 * weights + work);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double ram = pages > 0 && psize > 0 ? (double)pages * psize : 64e9;
    if (most <= INT_MAX && bytes <= ram)
        return 0;
    int line = s->line;
    kvp *p = key ? find_kvp(s, key, &line) : NULL;
    return hwi_seterr(b->err,
                      "%s:%d: %s%s%s%s%s: the layer needs %.3g GB for a batch of %d%s "
                      "(output %.4g, weights %.4g floats), beyond %s",
                      b->cf->path, line, s->type, p ? " " : "", p ? p->key : "",
                      p ? "=" : "", p ? p->val : "", bytes / 1e9, b->params.batch,
                      p ? "" : " (input size or batch)", out, weights,
                      most > INT_MAX ? "Darknet's 2^31-element arrays"
                                     : "this machine's memory");
}

static int build_layer(struct build *b, int i, const struct cfg_sec *s)
{
    const struct cfg *cf = b->cf;
    network *net = b->net;
    struct hwi_nn *nn = b->nn;
    struct hwi_aux *a = &nn->aux[i];
    size_params *pp = &b->params;
    const char *t = s->type;
    int oom = 0;
    layer l = {0};
    a->index = i;
    a->from = -1;
    a->kind = HWI_DARKNET;
    pp->index = i;
    int img = is_image(pp);
    /* 1x1xD for flat inputs */
    size_params flat = *pp;
    if (!img) {
        flat.h = flat.w = 1;
        flat.c = flat.inputs;
    }

    if (word_in("[convolutional] [conv]", t) || word_in("[maxpool] [max]", t) ||
        word_in("[avgpool] [avg]", t)) {
        if (!img)
            return hwi_seterr(b->err, "%s:%d: %s needs an image input; layer %d is flat",
                              cf->path, s->line, t, i - 1);
    }
    if (word_in("[convolutional] [conv]", t)) {
        long size = opt_long(s, "size", 1), stride = opt_long(s, "stride", 1);
        long groups = opt_long(s, "groups", 1), filters = opt_long(s, "filters", 1);
        if (size == 1 && stride > 1)
            return hwi_seterr(
                b->err,
                "%s:%d: a 1x1 convolution with stride > 1 is computed wrongly by "
                "Darknet; use size=3 or a [maxpool]",
                cf->path, s->line);
        if (pp->c % groups || filters % groups)
            return hwi_seterr(b->err,
                              "%s:%d: groups=%ld must divide the %d input channels and "
                              "the %ld filters",
                              cf->path, s->line, groups, pp->c, filters);
        long pad = opt_long(s, "pad", 0) ? size / 2 : opt_long(s, "padding", 0);
        if ((pp->w + 2 * pad - size) / stride + 1 <= 0 ||
            (pp->h + 2 * pad - size) / stride + 1 <= 0 || pp->w + 2 * pad < size ||
            pp->h + 2 * pad < size)
            return hwi_seterr(b->err,
                              "%s:%d: the %dx%d input is too small for this layer",
                              cf->path, s->line, pp->w, pp->h);
        double ow = (pp->w + 2 * pad - size) / stride + 1;
        double oh = (pp->h + 2 * pad - size) / stride + 1;
        double kk = (double)size * size * pp->c / groups;
        if (check_mem(b, s, filters > size * size ? "filters" : "size",
                      (double)pp->batch * ow * oh * filters, kk * filters, ow * oh * kk))
            return -1;
        l = parse_convolutional(s->opts, *pp);
        a->kind = HWI_CONV;
        a->zeros = xcalloc(l.n, sizeof(float), &oom);
        a->scratch = xcalloc(l.n, sizeof(float), &oom);
        if (l.size == 1)
            a->dsave = xcalloc((size_t)l.batch * l.inputs, sizeof(float), &oom);
        if (net->adam) {
            a->m = xcalloc(l.nweights, sizeof(float), &oom);
            a->v = xcalloc(l.nweights, sizeof(float), &oom);
        }
        l.forward = hwi_conv_forward;
        l.backward = hwi_conv_backward;
        l.update = hwi_wrapped_update;
    } else if (word_in("[connected] [conn]", t)) {
        kvp *o = find_kvp(s, "output", NULL);
        if (o && strcmp(o->val, "classes") == 0) {
            if (nn->classes <= 0)
                return hwi_seterr(b->err,
                                  "%s:%d: output=classes, but no class count was "
                                  "given (and no weights file holds one)",
                                  cf->path, s->line);
            o->val = b->classes_str;
        }
        long outputs = o ? strtol(o->val, NULL, 10) : 1;
        if (check_mem(b, s, "output", (double)pp->batch * outputs,
                      (double)flat.inputs * outputs, 0))
            return -1;
        l = parse_connected(s->opts, flat);
        a->kind = HWI_CONN;
        a->zeros = xcalloc(l.outputs, sizeof(float), &oom);
        a->scratch = xcalloc(l.outputs, sizeof(float), &oom);
        if (net->adam) {
            a->m = xcalloc((size_t)l.inputs * l.outputs, sizeof(float), &oom);
            a->v = xcalloc((size_t)l.inputs * l.outputs, sizeof(float), &oom);
        }
        l.forward = hwi_conn_forward;
        l.backward = hwi_conn_backward;
        l.update = hwi_wrapped_update;
    } else if (word_in("[maxpool] [max]", t)) {
        long stride = opt_long(s, "stride", 1), size = opt_long(s, "size", stride);
        long pad = opt_long(s, "padding", size - 1);
        if (pp->w + pad < size || pp->h + pad < size)
            return hwi_seterr(b->err,
                              "%s:%d: the %dx%d input is too small for this layer",
                              cf->path, s->line, pp->w, pp->h);
        l = parse_maxpool(s->opts, *pp);
    } else if (word_in("[avgpool] [avg]", t)) {
        l = parse_avgpool(s->opts, *pp);
    } else if (strcmp(t, "[dropout]") == 0) {
        if (i == 0)
            return hwi_seterr(b->err, "%s:%d: [dropout] cannot be the first layer",
                              cf->path, s->line);
        l = parse_dropout(s->opts, *pp);
        l.output = net->layers[i - 1].output;
        l.delta = net->layers[i - 1].delta;
        l.out_h = pp->h;
        l.out_w = pp->w;
        l.out_c = pp->c;
    } else if (strcmp(t, "[route]") == 0) {
        const char *v = opt_str(s, "layers");
        if (!v)
            return hwi_seterr(b->err, "%s:%d: [route] needs layers=", cf->path, s->line);
        for (const char *p = v;; p = strchr(p, ',') + 1) {
            int j;
            if (layer_ref(b, s, "layers", strtol(p, NULL, 10), i, &j))
                return -1;
            if (!strchr(p, ','))
                break;
        }
        l = parse_route(s->opts, *pp, net);
        if (opt_long(s, "detach", 0)) {
            a->kind = HWI_DROUTE;
            l.backward = hwi_nobackward;
        }
        if (opt_long(s, "embedding", 0))
            nn->embed = i;
    } else if (strcmp(t, "[shortcut]") == 0) {
        const char *v = opt_str(s, "from");
        int j;
        if (!v)
            return hwi_seterr(b->err, "%s:%d: [shortcut] needs from=", cf->path, s->line);
        if (layer_ref(b, s, "from", strtol(v, NULL, 10), i, &j))
            return -1;
        layer f = net->layers[j];
        if (!img || f.out_h <= 0 || f.out_w <= 0 || f.out_c <= 0)
            return hwi_seterr(b->err,
                              "%s:%d: [shortcut] joins two images; layer %d or %d is "
                              "flat",
                              cf->path, s->line, j, i - 1);
        if ((pp->w > f.out_w ? pp->w % f.out_w : f.out_w % pp->w) ||
            (long)pp->w * f.out_h != (long)pp->h * f.out_w) /* Darknet asserts */
            return hwi_seterr(b->err, "%s:%d: [shortcut] from a %dx%d map to a %dx%d one",
                              cf->path, s->line, f.out_w, f.out_h, pp->w, pp->h);
        l = parse_shortcut(s->opts, *pp, net);
    } else if (word_in("[softmax] [soft]", t)) {
        if (opt_long(s, "groups", 1) != 1)
            return hwi_seterr(b->err, "%s:%d: [softmax] groups= is not supported",
                              cf->path, s->line);
        l = parse_softmax(s->opts, flat);
        a->kind = HWI_SOFTMAX;
        l.forward = hwi_softmax_forward;
        l.backward = hwi_softmax_backward;
        l.out_h = l.out_w = 1;
        l.out_c = l.outputs;
        if (nn->classes > 0 && l.inputs != nn->classes)
            return hwi_seterr(b->err,
                              "%s:%d: [softmax] gets %d inputs, but the network has %d "
                              "classes",
                              cf->path, s->line, l.inputs, nn->classes);
        nn->heads++;
    } else if (strcmp(t, "[batchnorm]") == 0) {
        size_params q = img ? *pp : flat;
        a->kind = HWI_BN;
        a->eps = (float)opt_double(s, "eps", 1e-5);
        a->momentum = (float)opt_double(s, "momentum", 0.1);
        if (!(hwi_nn_fixes & HWI_FIX_P2)) {
            l = parse_batchnorm(s->opts, q);
        } else {
            l = new_layer(&q, BATCHNORM, q.h, q.w, q.c, &oom);
            int C = q.c;
            l.scales = xcalloc(C, sizeof(float), &oom);
            l.biases = xcalloc(C, sizeof(float), &oom);
            l.scale_updates = xcalloc(C, sizeof(float), &oom);
            l.bias_updates = xcalloc(C, sizeof(float), &oom);
            l.mean = xcalloc(C, sizeof(float), &oom);
            l.variance = xcalloc(C, sizeof(float), &oom);
            l.rolling_mean = xcalloc(C, sizeof(float), &oom);
            l.rolling_variance = xcalloc(C, sizeof(float), &oom);
            l.x_norm = xcalloc((size_t)l.batch * l.outputs, sizeof(float), &oom);
            if (net->adam) {
                a->bm = xcalloc(C, sizeof(float), &oom);
                a->bv = xcalloc(C, sizeof(float), &oom);
                a->sm = xcalloc(C, sizeof(float), &oom);
                a->sv = xcalloc(C, sizeof(float), &oom);
            }
            for (int c = 0; !oom && c < C; c++)
                l.scales[c] = l.rolling_variance[c] = 1;
            l.forward = hwi_bn_forward;
            l.backward = hwi_bn_backward;
            l.update = hwi_bn_update;
        }
    } else if (strcmp(t, "[l2norm]") == 0) {
        size_params q = img ? *pp : flat;
        l = new_layer(&q, BLANK, q.h, q.w, q.c, &oom);
        a->kind = HWI_L2NORM;
        a->eps = (float)opt_double(s, "eps", 1e-10);
        l.norms = xcalloc((size_t)l.batch * q.h * q.w, sizeof(float), &oom);
        l.forward = hwi_l2norm_forward;
        l.backward = hwi_l2norm_backward;
        if (opt_long(s, "embedding", 1))
            nn->embed = i;
    } else if (strcmp(t, "[gem]") == 0) {
        size_params q = *pp;
        if (opt_str(s, "from")) {
            if (layer_ref(b, s, "from", opt_long(s, "from", 0), i, &a->from))
                return -1;
            layer f = net->layers[a->from];
            q.h = f.out_h;
            q.w = f.out_w;
            q.c = f.out_c;
            q.inputs = f.outputs;
        }
        if (!is_image(&q))
            return hwi_seterr(b->err, "%s:%d: [gem] needs an image input", cf->path,
                              s->line);
        a->strips = (int)opt_long(s, "strips", 1);
        a->strip = (int)opt_long(s, "strip", 0);
        if (a->strip >= a->strips)
            return hwi_seterr(b->err, "%s:%d: strip=%d: strips are numbered 0 to %d",
                              cf->path, s->line, a->strip, a->strips - 1);
        if (q.w % a->strips)
            return hwi_seterr(b->err,
                              "%s:%d: the map is %d wide, which %d strips do not divide",
                              cf->path, s->line, q.w, a->strips);
        l = new_layer(&q, BLANK, 1, 1, q.c, &oom);
        a->kind = HWI_GEM;
        a->eps = (float)opt_double(s, "eps", 1e-6);
        a->learnable = (int)opt_long(s, "learnable", 0);
        l.weights = xcalloc(1, sizeof(float), &oom);
        l.weight_updates = xcalloc(1, sizeof(float), &oom);
        if (!oom)
            l.weights[0] = (float)opt_double(s, "p", 3.74);
        l.forward = hwi_gem_forward;
        l.backward = hwi_gem_backward;
        l.update = hwi_scalar_update;
        if (nn->head_start < 0)
            nn->head_start = i;
    } else if (strcmp(t, "[ring]") == 0 || strcmp(t, "[center]") == 0) {
        int ring = t[1] == 'r';
        size_params q = img ? *pp : flat;
        l = new_layer(&q, BLANK, q.h, q.w, q.c, &oom);
        l.cost = xcalloc(1, sizeof(float), &oom);
        if (ring) {
            a->kind = HWI_RING;
            a->weight = (float)opt_double(s, "lambda", 0.01);
            a->learnable = (int)opt_long(s, "learnable", 1);
            l.weights = xcalloc(1, sizeof(float), &oom);
            l.weight_updates = xcalloc(1, sizeof(float), &oom);
            l.norms = xcalloc(l.batch, sizeof(float), &oom);
            if (!oom)
                l.weights[0] = (float)opt_double(s, "radius", 1.5);
            l.forward = hwi_ring_forward;
            l.backward = hwi_ring_backward;
            l.update = hwi_scalar_update;
        } else {
            if (nn->classes <= 0)
                return hwi_seterr(b->err, "%s:%d: [center] needs a class count", cf->path,
                                  s->line);
            a->kind = HWI_CENTER;
            a->classes = nn->classes;
            a->weight = (float)opt_double(s, "weight", 0.5);
            a->rate = (float)opt_double(s, "rate", 0.5);
            l.weights = xcalloc((size_t)nn->classes * l.inputs, sizeof(float), &oom);
            l.weight_updates =
                xcalloc((size_t)nn->classes * l.inputs, sizeof(float), &oom);
            a->counts = xcalloc(nn->classes, sizeof(float), &oom);
            l.forward = hwi_center_forward;
            l.backward = hwi_center_backward;
            l.update = hwi_center_update;
        }
    } else if (strcmp(t, "[box]") == 0) {
        if (img ? pp->inputs != 4 : flat.inputs != 4)
            return hwi_seterr(b->err,
                              "%s:%d: [box] needs the four box edges; layer %d gives %d "
                              "values",
                              cf->path, s->line, i - 1, pp->inputs);
        if (i != b->cf->n - 2)
            return hwi_seterr(b->err, "%s:%d: [box] must be the last layer", cf->path,
                              s->line);
        l = new_layer(&flat, BLANK, 1, 1, 4, &oom);
        l.cost = xcalloc(1, sizeof(float), &oom);
        a->kind = HWI_BOX;
        a->eps = (float)opt_double(s, "beta", 0.05);
        l.forward = hwi_box_forward;
        l.backward = hwi_box_backward;
        nn->boxes = 1;
    } else if (word_in("[arcface] [cosface]", t)) {
        if (nn->classes <= 0)
            return hwi_seterr(b->err, "%s:%d: %s needs a class count", cf->path, s->line,
                              t);
        int arc = t[1] == 'a', D = flat.inputs, K = nn->classes;
        a->kind = arc ? HWI_ARCFACE : HWI_COSFACE;
        a->weight = (float)opt_double(s, "m", arc ? 0.5 : 0.35);
        if (arc && a->weight > 1.5)
            return hwi_seterr(b->err, "%s:%d: [arcface] m=%g: at most 1.5 (radians)",
                              cf->path, s->line, a->weight);
        l = new_layer(&flat, BLANK, 1, 1, K, &oom);
        l.scale = (float)opt_double(s, "s", arc ? 64 : 30);
        l.weights = xcalloc((size_t)K * D, sizeof(float), &oom);
        l.weight_updates = xcalloc((size_t)K * D, sizeof(float), &oom);
        l.x = xcalloc((size_t)l.batch * K, sizeof(float), &oom);
        l.norms = xcalloc(l.batch, sizeof(float), &oom);
        l.indexes = xcalloc(l.batch, sizeof(int), &oom);
        a->scratch = xcalloc(K, sizeof(float), &oom);
        if (net->adam) {
            a->m = xcalloc((size_t)K * D, sizeof(float), &oom);
            a->v = xcalloc((size_t)K * D, sizeof(float), &oom);
        }
        for (size_t k = 0; !oom && k < (size_t)K * D; k++) /* Xavier uniform */
            l.weights[k] = (float)((2.0 * rand() / RAND_MAX - 1) * sqrt(6.0 / (D + K)));
        l.forward = hwi_margin_forward;
        l.backward = hwi_margin_backward;
        l.update = hwi_margin_update;
        if (nn->head_start < 0)
            nn->head_start = i;
    } else {
        return hwi_seterr(b->err, "%s:%d: %s is not implemented", cf->path, s->line, t);
    }

    /* BN layers of Darknet's conv/connected: hwi's statistics (P3, P4) */
    if ((a->kind == HWI_CONV || a->kind == HWI_CONN) && l.batch_normalize) {
        int n = a->kind == HWI_CONV ? l.n : l.outputs;
        a->eps = 1e-5f;
        a->momentum = 0.1f;
        if (!l.x_norm)
            l.x_norm = xcalloc((size_t)l.batch * l.outputs, sizeof(float), &oom);
        if (!l.x)
            l.x = xcalloc((size_t)l.batch * l.outputs, sizeof(float), &oom);
        if (!l.rolling_variance)
            l.rolling_variance = xcalloc(n, sizeof(float), &oom);
        if ((hwi_nn_fixes & HWI_FIX_P4) && !oom)
            for (int c = 0; c < n; c++)
                l.rolling_variance[c] = 1;
        if (net->adam) {
            a->sm = xcalloc(n, sizeof(float), &oom);
            a->sv = xcalloc(n, sizeof(float), &oom);
        }
    }
    if ((a->kind == HWI_CONV || a->kind == HWI_CONN) && net->adam) {
        int n = a->kind == HWI_CONV ? l.n : l.outputs;
        a->bm = xcalloc(n, sizeof(float), &oom);
        a->bv = xcalloc(n, sizeof(float), &oom);
    }
    /* common keys (parser.c:840-849) */
    l.learning_rate_scale = (float)opt_double(s, "learning_rate", 1);
    l.stopbackward = (int)opt_long(s, "stopbackward", 0);
    l.input_layer = (struct layer *)a;
    net->layers[i] = l;
    if (oom)
        return hwi_seterr(b->err, "out of memory");
    if (l.workspace_size > b->workspace)
        b->workspace = l.workspace_size;
    pp->h = l.out_h;
    pp->w = l.out_w;
    pp->c = l.out_c;
    pp->inputs = l.outputs;
    return 0;
}

static void nn_free_aux(struct hwi_aux *a)
{
    free(a->zeros);
    free(a->scratch);
    free(a->dsave);
    free(a->counts);
    free(a->m);
    free(a->v);
    free(a->bm);
    free(a->bv);
    free(a->sm);
    free(a->sv);
}

void hwi_nn_free(struct hwi_nn *nn)
{
    if (!nn)
        return;
    network *net = nn->net;
    int n = net ? net->n : 0;
    if (net) {
        for (int i = 0; i < n; i++) {
            layer *l = &net->layers[i];
            if (l->type == DROPOUT)
                continue;
            /* Darknet's free_layer leaks these (P11) */
            free(l->loss);
            free(l->bias_m);
            free(l->bias_v);
            free(l->scale_m);
            free(l->scale_v);
            l->loss = l->bias_m = l->bias_v = l->scale_m = l->scale_v = NULL;
        }
        free(net->workspace);
        free(net->seen);
        free(net->t);
        free(net->cost);
        free(net->scales);
        free(net->steps);
        free_network(net);
    }
    if (nn->aux)
        for (int i = 0; i < n; i++)
            nn_free_aux(&nn->aux[i]);
    free(nn->aux);
    free(nn->saved_update);
    free(nn->stopped);
    free(nn);
}

/* Build the network of CF for BATCH (> 0: overrides) and CLASSES. */
static struct hwi_nn *nn_build(const struct cfg *cf, int batch, int classes, char *err)
{
    const struct section_spec *spec;
    for (int i = 0; i < cf->n; i++)
        if (check_section(cf, &cf->secs[i], &spec, err))
            return NULL;
    if (!word_in("[net] [network]", cf->secs[0].type))
        return hwi_seterr(err, "%s:%d: the first section must be [net]", cf->path,
                          cf->secs[0].line),
               NULL;
    for (int i = 1; i < cf->n; i++)
        if (word_in("[net] [network]", cf->secs[i].type))
            return hwi_seterr(err, "%s:%d: a second [net]", cf->path, cf->secs[i].line),
                   NULL;
    if (cf->n < 2)
        return hwi_seterr(err, "%s: no layers", cf->path), NULL;
    const struct cfg_sec *ns = &cf->secs[0];
    const char *need[] = {"height", "width", "channels"};
    for (int k = 0; k < 3; k++)
        if (!opt_str(ns, need[k]))
            return hwi_seterr(err, "%s:%d: [net] needs %s=", cf->path, ns->line, need[k]),
                   NULL;
    const char *pol = opt_str(ns, "policy");
    if (pol && !word_in("constant steps step exp poly sigmoid random", pol))
        return hwi_seterr(err, "%s:%d: unknown policy '%s'", cf->path, ns->line, pol),
               NULL;
    if (pol && strcmp(pol, "steps") == 0) {
        const char *st = opt_str(ns, "steps"), *sc = opt_str(ns, "scales");
        int n1 = 0, n2 = 0;
        for (const char *p = st; p && *p; p++)
            n1 += *p == ',';
        for (const char *p = sc; p && *p; p++)
            n2 += *p == ',';
        if (!st || !sc || n1 != n2) /* Darknet reads past the shorter list */
            return hwi_seterr(err,
                              "%s:%d: policy=steps needs steps= and scales= of the same "
                              "length",
                              cf->path, ns->line),
                   NULL;
    }

    struct hwi_nn *nn = calloc(1, sizeof *nn);
    if (!nn)
        return hwi_seterr(err, "out of memory"), NULL;
    nn->classes = classes;
    nn->head_start = -1;
    nn->embed = -1;
    int n = cf->n - 1;
    nn->aux = calloc(n, sizeof *nn->aux);
    network *net = make_network(n);
    nn->net = net;
    if (!nn->aux || !net) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "out of memory"), NULL;
    }
    struct build b = {.cf = cf, .nn = nn, .net = net, .err = err};
    snprintf(b.classes_str, sizeof b.classes_str, "%d", classes);
    struct quiet q;
    quiet_begin(&q);
    long nb = batch > 0 ? batch : opt_long(ns, "batch", 1);
    double in = (double)opt_long(ns, "height", 1) * opt_long(ns, "width", 1) *
                opt_long(ns, "channels", 1);
    b.params.batch = (int)nb;
    if (check_mem(&b, ns, NULL, nb * in, 0, 0) || in > INT_MAX) {
        quiet_end(&q);
        if (in > INT_MAX)
            hwi_seterr(err, "%s:%d: [net] input of %.4g values, beyond Darknet's "
                       "2^31-element arrays", cf->path, ns->line, in);
        hwi_nn_free(nn);
        return NULL;
    }
    parse_net_options(ns->opts, net);
    net->batch = batch > 0 ? batch : (int)opt_long(ns, "batch", 1);
    net->subdivisions = 1;
    net->time_steps = 1;
    b.params.h = net->h;
    b.params.w = net->w;
    b.params.c = net->c;
    b.params.inputs = net->inputs = net->h * net->w * net->c;
    b.params.batch = net->batch;
    b.params.time_steps = 1;
    b.params.net = net;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = build_layer(&b, i, &cf->secs[i + 1]);
    quiet_end(&q);
    if (rc) { /* layers not built are all zero: free_layer skips them */
        hwi_nn_free(nn);
        return NULL;
    }
    layer last = net->layers[n - 1];
    net->outputs = last.outputs;
    net->truths = classes > 0 ? classes : last.outputs;
    net->output = last.output;
    net->input = calloc((size_t)net->inputs * net->batch, sizeof(float));
    net->truth = calloc((size_t)net->truths * net->batch, sizeof(float));
    nn->workspace = b.workspace;
    net->workspace = calloc(1, b.workspace ? b.workspace : 1);
    nn->saved_update = calloc(n, sizeof *nn->saved_update);
    nn->stopped = calloc(n, sizeof *nn->stopped);
    if (!net->input || !net->truth || !net->workspace || !nn->saved_update ||
        !nn->stopped) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "out of memory"), NULL;
    }
    if (nn->heads && classes <= 0) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "%s: the network has classifier heads but no class count",
                          cf->path),
               NULL;
    }
    if (nn->boxes && nn->heads) {
        hwi_nn_free(nn);
        return hwi_seterr(err, "%s: a network has classifier heads or a [box] layer, "
                          "not both", cf->path),
               NULL;
    }
    if (nn->embed < 0) /* the last [l2norm], else none */
        for (int i = 0; i < n; i++)
            if (nn->aux[i].kind == HWI_L2NORM)
                nn->embed = i;
    if (nn->head_start < 0)
        for (int i = 0; i < n && nn->head_start < 0; i++)
            if (net->layers[i].type == CONNECTED)
                nn->head_start = i;
    return nn;
}

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
    case HWI_RING:
        *arr = l->weights, *len = 1;
        return BLOCK_RING;
    case HWI_GEM:
        *arr = l->weights, *len = 1;
        return BLOCK_GEM;
    case HWI_CENTER:
        *arr = l->weights, *len = (size_t)nn->classes * l->inputs;
        return BLOCK_CENTER;
    case HWI_ARCFACE:
    case HWI_COSFACE:
        *arr = l->weights, *len = (size_t)l->inputs * l->outputs;
        return BLOCK_MARGIN;
    case HWI_BN:
        *arr = l->biases, *len = l->out_c;
        return l->biases ? BLOCK_BN : 0;
    default:
        return 0;
    }
}

static uint32_t layout_hash(const struct hwi_nn *nn)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < nn->net->n; i++) {
        const layer *l = &nn->net->layers[i];
        uint32_t v[5] = {(uint32_t)l->type, (uint32_t)nn->aux[i].kind,
                         (uint32_t)l->inputs, (uint32_t)l->outputs,
                         (uint32_t)l->batch_normalize};
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
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
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
static unsigned char *pack_weights(struct hwi_nn *nn, size_t *size)
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
    unsigned char *buf = pack_weights(nn, &size);
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
static long read_all(const char *path, unsigned char **buf, char *err)
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
static int check_frame(const char *path, const unsigned char *buf, long size, size_t *dk,
                       int *classes, char *err)
{
    if (size < 20 + 20 + 12)
        return hwi_seterr(err,
                          "%s: %ld bytes: too short for an hwi weights file "
                          "(truncated, or not written by hwi)",
                          path, size);
    uint64_t off = get64(buf + size - 12);
    if (off < 20 || off > (uint64_t)size - 32 || memcmp(buf + off, "HWIN", 4) != 0)
        return hwi_seterr(err, "%s: no hwi trailer (truncated, or not written by hwi)",
                          path);
    if (crc32_update(0, buf, (size_t)size - 4) != get32(buf + size - 4))
        return hwi_seterr(err, "%s: checksum mismatch: the file is corrupt", path);
    uint32_t v = get32(buf + off + 4);
    if (v != HWI_WEIGHTS_VERSION)
        return hwi_seterr(err, "%s: trailer version %u; this hwi reads version %d", path,
                          v, HWI_WEIGHTS_VERSION);
    *dk = (size_t)off;
    *classes = (int)get32(buf + off + 8);
    return 0;
}

static int nn_load_weights(struct hwi_nn *nn, const char *path, const unsigned char *buf,
                           long size, char *err)
{
    size_t dk = dk_bytes(nn), want = dk + trailer_bytes(nn);
    size_t fdk;
    int fclasses;
    if (check_frame(path, buf, size, &fdk, &fclasses, err))
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
        if (get32(p) != (uint32_t)i || get32(p + 4) != (uint32_t)kind ||
            get32(p + 8) != len)
            return hwi_seterr(err, "%s: made for another network (block of layer %d)",
                              path, i);
        p += 12;
        if (kind == BLOCK_GEM && !nn->aux[i].learnable)
            p += 4; /* a constant p comes from the cfg */
        else
            p = getf(p, arr, len);
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * The API. */
struct hwi_nn *hwi_nn_load(const char *cfg, const char *weights, int batch, int classes,
                           unsigned seed, char *err)
{
    clear_ftz();
    unsigned char *wbuf = NULL;
    long wsize = 0;
    if (classes < 0)
        return hwi_seterr(err, "class count %d: must be >= 0", classes), NULL;
    if (weights) {
        size_t dk;
        int fclasses;
        if ((wsize = read_all(weights, &wbuf, err)) < 0)
            return NULL;
        if (check_frame(weights, wbuf, wsize, &dk, &fclasses, err)) {
            free(wbuf);
            return NULL;
        }
        /* every layer sized by the class count stores at least that many
         * floats: refuse a count the file cannot hold before building, or a
         * corrupt count would allocate gigabytes first */
        if (fclasses < 0 || (uint64_t)fclasses * 4 > (uint64_t)wsize) {
            free(wbuf);
            return hwi_seterr(err, "%s: %u classes cannot fit in its %ld bytes: the file is corrupt",
                              weights, (unsigned)fclasses, wsize),
                   NULL;
        }
        if (classes > 0 && fclasses != classes) {
            free(wbuf);
            return hwi_seterr(err, "%s: made for %d classes, not %d", weights, fclasses,
                              classes),
                   NULL;
        }
        classes = fclasses;
    }
    struct cfg cf;
    if (cfg_read(&cf, cfg, err)) {
        free(wbuf);
        return NULL;
    }
    if (hwi_nn_fixes & HWI_FIX_P15)
        srand(seed);
    struct hwi_nn *nn = nn_build(&cf, batch, classes, err);
    cfg_free(&cf);
    if (nn && weights && nn_load_weights(nn, weights, wbuf, wsize, err)) {
        hwi_nn_free(nn);
        nn = NULL;
    }
    free(wbuf);
    clear_ftz();
    return nn;
}

void hwi_nn_get_info(const struct hwi_nn *nn, struct hwi_nn_info *info)
{
    const network *net = nn->net;
    info->w = net->w;
    info->h = net->h;
    info->c = net->c;
    info->batch = net->batch;
    info->feature_dim = nn->embed >= 0 ? net->layers[nn->embed].outputs : 0;
    info->classes = nn->heads ? nn->classes : 0;
    info->heads = nn->heads;
    info->outputs = net->outputs;
    info->boxes = nn->boxes;
}

/* Darknet's forward_network (src/network.c) less what only training needs:
 * it clears every layer's delta before the layer runs, a pass over all
 * activations that no backward pass reads here, and sums the cost. */
static void forward_inference(network *netp)
{
    network net = *netp;
    for (int i = 0; i < net.n; i++) {
        layer l = net.layers[i];
        net.index = i;
        l.forward(l, net);
        net.input = l.output;
        if (l.truth)
            net.truth = l.output;
    }
}

int hwi_nn_forward(struct hwi_nn *nn, const float *x, int n, float *features,
                   float *logits, char *err)
{
    network *net = nn->net;
    if (n < 1 || n > net->batch)
        return hwi_seterr(err, "%d images: a forward pass takes 1 to %d", n, net->batch);
    size_t in = (size_t)net->inputs;
    memcpy(net->input, x, sizeof(float) * in * n);
    memset(net->input + in * n, 0, sizeof(float) * in * (net->batch - n));
    if (!(hwi_nn_fixes & HWI_FIX_P13)) /* what network_predict_image does */
        set_batch_network(net, n);
    float *truth = net->truth;
    net->truth = NULL;
    net->train = 0;
    forward_inference(net);
    net->truth = truth;
    if (features && nn->embed >= 0) {
        const layer *l = &net->layers[nn->embed];
        memcpy(features, l->output, sizeof(float) * l->outputs * n);
    }
    if (logits && nn->heads) {
        int K = nn->classes;
        memset(logits, 0, sizeof(float) * K * n);
        for (int i = 1; i < net->n; i++)
            if (nn->aux[i].kind == HWI_SOFTMAX)
                for (size_t k = 0; k < (size_t)K * n; k++)
                    logits[k] += net->layers[i - 1].output[k];
    }
    return 0;
}

/* One forward/backward/update of the batch in net->input against
 * net->truth at rate LR. */
static int train_run(struct hwi_nn *nn, float lr, float *loss, char *err)
{
    network *net = nn->net;
    int B = net->batch;
    net->learning_rate = lr;
    net->policy = CONSTANT;
    net->burn_in = 0;
    *net->seen += B;
    net->train = 1;
    forward_network(net);
    backward_network(net);
    update_network(net);
    net->train = 0;
    double sum = 0;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].cost)
            sum += net->layers[i].cost[0];
    if (loss)
        *loss = (float)(sum / B);
    if (!isfinite(sum))
        return hwi_seterr(err, "the loss is not finite: lower the learning rate");
    return 0;
}

static int check_lr(float lr, char *err)
{
    if (!(lr >= 0) || !isfinite(lr))
        return hwi_seterr(err, "learning rate %g: must be a finite number >= 0", lr);
    return 0;
}

int hwi_nn_train_step(struct hwi_nn *nn, const float *x, const int *labels, float lr,
                      float *loss, char *err)
{
    network *net = nn->net;
    int B = net->batch, K = nn->classes;
    if (nn->heads && K <= 0)
        return hwi_seterr(err, "the network has no class count");
    if (nn->boxes)
        return hwi_seterr(err, "a [box] network trains on boxes, not labels");
    if (check_lr(lr, err))
        return -1;
    memcpy(net->input, x, sizeof(float) * net->inputs * B);
    memset(net->truth, 0, sizeof(float) * net->truths * B);
    for (int b = 0; b < B; b++) {
        if (K > 0 && (labels[b] < 0 || labels[b] >= K))
            return hwi_seterr(err, "image %d: label %d is not in 0..%d", b, labels[b],
                              K - 1);
        if (K > 0)
            net->truth[(size_t)b * net->truths + labels[b]] = 1;
    }
    return train_run(nn, lr, loss, err);
}

int hwi_nn_train_boxes(struct hwi_nn *nn, const float *x, const float *boxes, float lr,
                       float *loss, char *err)
{
    network *net = nn->net;
    if (!nn->boxes)
        return hwi_seterr(err, "the network has no [box] layer");
    if (check_lr(lr, err))
        return -1;
    memcpy(net->input, x, sizeof(float) * net->inputs * net->batch);
    memcpy(net->truth, boxes, sizeof(float) * 4 * net->batch);
    return train_run(nn, lr, loss, err);
}

int hwi_nn_predict(struct hwi_nn *nn, const float *x, int n, float *out, char *err)
{
    if (hwi_nn_forward(nn, x, n, NULL, NULL, err))
        return -1;
    memcpy(out, nn->net->output, sizeof(float) * (size_t)nn->net->outputs * n);
    return 0;
}

void hwi_nn_freeze_backbone(struct hwi_nn *nn, int frozen)
{
    network *net = nn->net;
    int h = nn->head_start;
    frozen = !!frozen;
    if (h <= 0 || frozen == nn->frozen)
        return;
    if (frozen) {
        nn->stopped[h - 1] = net->layers[h - 1].stopbackward;
        net->layers[h - 1].stopbackward = 1;
    } else {
        net->layers[h - 1].stopbackward = nn->stopped[h - 1];
    }
    if (hwi_nn_fixes & HWI_FIX_P8)
        for (int i = 0; i < h; i++) {
            layer *l = &net->layers[i];
            if (frozen) {
                nn->saved_update[i] = l->update;
                l->update = NULL;
            } else {
                l->update = nn->saved_update[i];
            }
            nn->aux[i].frozen = frozen;
        }
    nn->frozen = frozen;
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
    float *cand[9] = {l->weight_updates, l->bias_updates, l->scale_updates, a->m, a->v,
                      a->bm, a->bv, a->sm, a->sv};
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
    unsigned char *w = pack_weights(nn, &wsize);
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
    if (nn_load_weights(nn, "training state", buf + 20, (long)wsize, err))
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

/* ------------------------------------------------------------------------
 * What the training log shows. */
int hwi_nn_loss_terms(const struct hwi_nn *nn, char (*name)[24], float *value, int max)
{
    const network *net = nn->net;
    int k = 0;
    for (int i = 0; i < net->n; i++) {
        const layer *l = &net->layers[i];
        if (!l->cost)
            continue;
        if (k < max) {
            const char *kind = nn->aux[i].kind == HWI_SOFTMAX ? "softmax"
                               : nn->aux[i].kind == HWI_RING  ? "ring"
                               : nn->aux[i].kind == HWI_CENTER ? "center"
                                                               : "cost";
            if (name)
                snprintf(name[k], sizeof name[k], "%s%d", kind, i);
            if (value)
                value[k] = l->cost[0] / net->batch;
        }
        k++;
    }
    return k;
}

int hwi_nn_ring_radii(const struct hwi_nn *nn, int *index, float *radius, int max)
{
    int k = 0;
    for (int i = 0; i < nn->net->n; i++) {
        if (nn->aux[i].kind != HWI_RING)
            continue;
        if (k < max) {
            if (index)
                index[k] = i;
            if (radius)
                radius[k] = nn->net->layers[i].weights[0];
        }
        k++;
    }
    return k;
}
