/* nn_cfg.c: hwi's .cfg parser: sections of key=value lines with
 * their line numbers, and the table of the keys each section accepts (see
 * nn.c's header for why hwi reads the .cfg itself). */
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
 * Reading the .cfg: sections of key=value lines.  As in Darknet, blanks are
 * removed from every line and lines starting with '#' or ';' are comments. */

void hwi_nn_cfg_free(struct cfg *cf)
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

int hwi_nn_cfg_read(struct cfg *cf, const char *path, char *err)
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
            rc = hwi_seterr(err, "%s:%ld: '%s' before the first [section]", path, lineno, buf);
            break;
        }
        if (!eq || eq == buf || !eq[1]) {
            rc = hwi_seterr(err, "%s:%ld: expected key=value, got '%s'", path, lineno, buf);
            break;
        }
        struct cfg_sec *s = &cf->secs[cf->n - 1];
        *eq = 0;
        for (node *nd = s->opts->front; nd; nd = nd->next)
            if (strcmp(((kvp *)nd->val)->key, buf) == 0) {
                rc = hwi_seterr(err, "%s:%ld: key '%s' given twice in %s", path, lineno, buf,
                                s->type);
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
        hwi_nn_cfg_free(cf);
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
     "height:n width:n channels:n equalize:b max_batches:z policy:s burn_in:z power:f step:n "
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

static const char *const activations[] = {"logistic", "loggy", "relu",    "elu",   "selu",
                                          "relie",    "plse",  "hardtan", "lhtan", "linear",
                                          "ramp",     "leaky", "tanh",    "stair"};

int hwi_nn_word_in(const char *words, const char *w)
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
        if (hwi_nn_word_in(specs[i].names, type))
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
    case 'i': return hwi_parse_long(v, INT_MIN / 2, INT_MAX / 2, &l);
    case 'n': return hwi_parse_long(v, 1, INT_MAX / 2, &l);
    case 'z': return hwi_parse_long(v, 0, INT_MAX / 2, &l);
    case 'b': return hwi_parse_long(v, 0, 1, &l);
    case 'c': return strcmp(v, "classes") == 0 ? 0 : hwi_parse_long(v, 1, INT_MAX / 2, &l);
    case 'f': return hwi_parse_double(v, -1e30, 1e30, &d);
    case 'F': return hwi_parse_double(v, 1e-30, 1e30, &d);
    case 'Z': return hwi_parse_double(v, 0, 1e30, &d);
    case 'p': return hwi_parse_double(v, 0, 0.999999, &d);
    case 's': return 0;
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
    case 'i': return "an integer";
    case 'n': return "an integer >= 1";
    case 'z': return "an integer >= 0";
    case 'b': return "0 or 1";
    case 'c': return "an integer >= 1 or 'classes'";
    case 'f': return "a number";
    case 'F': return "a number > 0";
    case 'Z': return "a number >= 0";
    case 'p': return "a probability in [0, 1)";
    case 'a': return "an activation (logistic, relu, elu, leaky, linear, ...)";
    case 'l': return "a comma-separated list of layer indices";
    }
    return "a word";
}

/* Check every key of section S; fill *SPEC.  Returns 0 or -1 with ERR. */
int hwi_nn_cfg_check(const struct cfg *cf, const struct cfg_sec *s,
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
            return hwi_seterr(err, "%s:%d: unknown key '%s' in %s", cf->path, s->klines[k],
                              p->key, s->type);
        if (check_value(t, p->val) != 0)
            return hwi_seterr(err, "%s:%d: %s: '%s' is not %s", cf->path, s->klines[k], p->key,
                              p->val, type_desc(t));
    }
    return 0;
}

kvp *hwi_nn_cfg_find(const struct cfg_sec *s, const char *key, int *line)
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

const char *hwi_nn_cfg_str(const struct cfg_sec *s, const char *key)
{
    kvp *p = hwi_nn_cfg_find(s, key, NULL);
    return p ? p->val : NULL;
}

long hwi_nn_cfg_long(const struct cfg_sec *s, const char *key, long def)
{
    const char *v = hwi_nn_cfg_str(s, key);
    return v ? strtol(v, NULL, 10) : def;
}

double hwi_nn_cfg_double(const struct cfg_sec *s, const char *key, double def)
{
    const char *v = hwi_nn_cfg_str(s, key);
    return v ? strtod(v, NULL) : def;
}
