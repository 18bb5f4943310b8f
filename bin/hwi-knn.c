/* hwi-knn: score queries against a gallery of known whales, 1-NN per
 * individual (step 4 of the method, hwi(7)).
 *
 * Reads the queries' vectors (a keyed vector stream), the gallery from an
 * hwi store or from a stream plus a Kaggle CSV of labels, and writes a
 * scores TSV: for each query its best labels, each scored by the nearest
 * gallery image of that label, s = (2 - d) / 2.  The work is in lib/knn.c. */
#include <config.h>

#include "csv.h"
#include "db.h"
#include "err.h"
#include "io.h"
#include "knn.h"
#include "map.h"
#include "opt.h"
#include "progress.h"
#include "rerank.h"
#include "sha256.h"
#include "stream.h"
#include "tsv.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TOP 100

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_SPLIT,
    OPT_GALLERY,
    OPT_VERSION,
    OPT_NO_NEW_WHALE,
    OPT_KEEP_SELF,
    OPT_PHOTO,
    OPT_QE,
    OPT_CENTROID,
    OPT_CENTER,
    OPT_RERANK,
    OPT_MERGE,
    OPT_ROOT,
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, 'D'},
    {"model", required_argument, NULL, 'm'},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"gallery", required_argument, NULL, OPT_GALLERY},
    {"labels", required_argument, NULL, 'l'},
    {"top", required_argument, NULL, 'k'},
    {"no-new-whale", no_argument, NULL, OPT_NO_NEW_WHALE},
    {"keep-self", no_argument, NULL, OPT_KEEP_SELF},
    {"photo", no_argument, NULL, OPT_PHOTO},
    {"qe", required_argument, NULL, OPT_QE},
    {"centroid", no_argument, NULL, OPT_CENTROID},
    {"center", no_argument, NULL, OPT_CENTER},
    {"rerank", optional_argument, NULL, OPT_RERANK},
    {"merge", no_argument, NULL, OPT_MERGE},
    {"root", required_argument, NULL, OPT_ROOT},
    {"threads", required_argument, NULL, 'j'},
    {"output", required_argument, NULL, 'o'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s --db=STORE --model=NAME [OPTION]... [FILE]\n"
           "  or:  %s --gallery=STREAM --labels=CSV [OPTION]... [FILE]\n"
           "  or:  %s --merge [--top=N] [--photo] [--output=FILE] SCORES...\n",
           hwi_program_name, hwi_program_name, hwi_program_name);
    fputs("Score query vectors against a gallery of known whales: for each query and\n"
          "each label, the distance d to the nearest gallery image of that label gives\n"
          "the score s = (2 - d) / 2.  Images labelled new_whale form the label\n"
          "new_whale.  FILE is a keyed vector stream of queries; with no FILE, or when\n"
          "FILE is -, read standard input.\n"
          "\n"
          "Gallery:\n"
          "  -D, --db=STORE       read the gallery from the hwi store STORE ...\n"
          "  -m, --model=NAME     ... the 'features' vectors of model NAME ...\n"
          "      --split=LIST     ... of images in the comma-separated splits LIST\n"
          "                       (e.g. train,val; default: all images)\n"
          "      --gallery=STREAM read the gallery from a keyed vector stream ...\n"
          "  -l, --labels=CSV     ... labelled by a Kaggle CSV (Image,Id)\n"
          "                       Images with no label are left out of the gallery.\n"
          "\n"
          "Scoring:\n"
          "  -k, --top=N          write the N best labels of each query (default 100;\n"
          "                       0 writes every label)\n"
          "      --no-new-whale   leave new_whale images out (no new_whale label)\n"
          "      --keep-self      let a query match the gallery image of the same name\n"
          "                       or the same content (by default it never does, for\n"
          "                       leave-one-out; the content is the sha256 the store\n"
          "                       keeps for a photo, see hwi-store add --root)\n"
          "      --root=DIR       with --db: hash each query photo DIR/KEY (sha256), so\n"
          "                       that it does not match its own copy in the store\n"
          "                       under another name either\n"
          "      --photo          add a 4th column: the gallery photo that gave each\n"
          "                       score (the nearest photo of that label)\n"
          "      --qe=N[,ALPHA]   alpha query expansion: each query becomes the\n"
          "                       normalised sum of itself and its N nearest gallery\n"
          "                       images weighted by max(0, q.g)^ALPHA (default 3;\n"
          "                       0: average query expansion)\n"
          "      --center         centre the gallery's vectors on their mean and the\n"
          "                       queries' on theirs (then L2-normalise each): for a\n"
          "                       batch of queries from other conditions than the\n"
          "                       gallery (needs two or more queries)\n"
          "      --centroid       score each label by the mean of its images (L2-\n"
          "                       normalised; a query that is a gallery image is left\n"
          "                       out of its label's mean); new_whale images one by one\n"
          "      --rerank[=K1,K2,LAMBDA]  k-reciprocal re-ranking (Zhong et al. 2017)\n"
          "                       over all the queries and the gallery; score 1 - the\n"
          "                       final distance (default 20,6,0.3)\n"
          "  -j, --threads=N      threads (default 0: OPENBLAS_NUM_THREADS or every\n"
          "                       core); the output does not depend on N\n"
          "\n"
          "Gallery shards:\n"
          "      --merge          merge SCORES..., the outputs of hwi-knn with the same\n"
          "                       --top (and --photo) for the same queries against\n"
          "                       disjoint parts of one gallery, into the output the\n"
          "                       whole gallery gives: each label with its best score,\n"
          "                       the --top best per query (an exact tie of a label in\n"
          "                       two files keeps the earlier file's photo)\n"
          "\n"
          "Output:\n"
          "  -o, --output=FILE    write to FILE (whole or not at all) instead of stdout\n"
          "  -v, --verbose        print a summary line on stderr (also when stderr is\n"
          "                       a terminal), and a second line: the CPU seconds\n"
          "                       (all threads) of the matrix products, the per-label\n"
          "                       minimum, reading the gallery, the exact rescoring,\n"
          "                       the top-N selection and writing the TSV\n"
          "      --help           display this help and exit\n"
          "      --version        output version information and exit\n"
          "\n"
          "The output is a scores TSV: a header '# query label score', then one line\n"
          "'QUERY<TAB>LABEL<TAB>SCORE' per candidate, each query's lines together and\n"
          "best first (ties by label), scores with %.9g; with --photo the header is\n"
          "'# query label score photo' and each line ends with '<TAB>PHOTO'.  Vectors should "
          "be\n"
          "L2-normalised (scores then lie in [0, 1]); others get true Euclidean\n"
          "distances.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage\n"
          "error.\n"
          "See hwi-knn(1), hwi-formats(5) and hwi-store(5).\n",
          stdout);
    exit(status);
}

/* --qe=N[,ALPHA], or exit 2. */
static void parse_qe(const char *arg, long *n, double *alpha)
{
    char buf[64];
    const char *comma = strchr(arg, ',');
    size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
    if (len >= sizeof buf)
        hwi_die(HWI_EXIT_USAGE, "invalid value '%s' for --qe", arg);
    memcpy(buf, arg, len);
    buf[len] = 0;
    *n = hwi_opt_long("qe", buf, 1, 10000);
    if (comma && hwi_parse_double(comma + 1, 0, 100, alpha))
        hwi_die(HWI_EXIT_USAGE,
                "invalid value '%s' for --qe: ALPHA must be a number "
                "from 0 to 100",
                arg);
}

/* --rerank=K1,K2,LAMBDA, or exit 2. */
static void parse_rerank(const char *arg, struct hwi_rerank_opts *o)
{
    int k1, k2, used = 0;
    double lambda;
    if (sscanf(arg, "%d,%d,%lf%n", &k1, &k2, &lambda, &used) != 3 || arg[used] || k1 < 1 ||
        k1 > 1000 || k2 < 1 || k2 > 1000 || !(lambda >= 0 && lambda <= 1))
        hwi_die(HWI_EXIT_USAGE,
                "invalid value '%s' for --rerank: expected K1,K2,LAMBDA "
                "with K1 and K2 from 1 to 1000 and LAMBDA from 0 to 1",
                arg);
    o->k1 = k1;
    o->k2 = k2;
    o->lambda = lambda;
}

/* Parse --split's LIST into OUT (room for 5), or exit 2. */
static size_t parse_splits(const char *list, const char **out)
{
    char err[HWI_ERRLEN];
    int n = hwi_db_parse_splits(list, out, err);
    if (n < 0)
        hwi_die(HWI_EXIT_USAGE, "invalid value '%s' for --split: %s", list, err);
    return (size_t)n;
}

/* The content hashes of the store's photos, by name. */
struct hashes {
    struct hwi_map map; /* name -> index into sum */
    char **sum;
};

static int add_hash(void *ctx, const char *name, const char *sha256)
{
    struct hashes *h = ctx;
    char **v = realloc(h->sum, (h->map.n + 1) * sizeof *v);
    if (!v)
        return 1;
    h->sum = v;
    if (!(h->sum[h->map.n] = strdup(sha256)))
        return 1;
    return hwi_map_put(&h->map, name, h->map.n, NULL) < 0;
}

static const char *hash_of(const struct hashes *h, const char *name)
{
    size_t *i = hwi_map_get(&h->map, name);
    return i ? h->sum[*i] : NULL;
}

struct load_ctx {
    struct hwi_knn *k;
    const char *file;
    const struct hashes *h;
};

static int add_from_db(void *ctx, const char *image, const char *label, const char *split,
                       const float *vec, uint32_t dim)
{
    struct load_ctx *c = ctx;
    return hwi_knn_add_id(c->k, image, label, hash_of(c->h, image), vec, dim) < 0;
}

static void load_db(struct hwi_knn *k, const char *path, const char *model, const char *splits,
                    struct hashes *h)
{
    char err[HWI_ERRLEN];
    struct hwi_db *db = hwi_db_open(path, HWI_DB_READONLY, err);
    if (!db)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_db_verify(db))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    int64_t mid;
    int found = hwi_db_model(db, model, NULL, NULL, 0, &mid);
    if (found < 0)
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    if (!found)
        hwi_die(HWI_EXIT_FAIL, "%s: no model '%s' in the store", path, model);
    const char *split[5];
    size_t nsplit = splits ? parse_splits(splits, split) : 1;
    if (!splits)
        split[0] = NULL;
    if (hwi_db_each_hash(db, add_hash, h))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path,
                *hwi_db_errmsg(db) ? hwi_db_errmsg(db) : "out of memory");
    struct load_ctx c = {k, path, h};
    for (size_t i = 0; i < nsplit; i++) {
        int rc = hwi_db_each_embedding(db, mid, "features", split[i], add_from_db, &c);
        if (rc < 0)
            hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
        if (rc > 0)
            hwi_die(HWI_EXIT_FAIL, "%s: %s", path, k->err);
    }
    hwi_db_close(db);
}

static void load_stream(struct hwi_knn *k, const char *path, const char *labels_path)
{
    char err[HWI_ERRLEN];
    struct hwi_labels t = {0};
    if (hwi_labels_load(&t, labels_path, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_map lab = {0};
    if (hwi_labels_index(&t, &lab))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    struct hwi_stream s;
    if (hwi_stream_open_path(&s, path, 0))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    const char *name = s.name;
    if (!(s.flags & HWI_STREAM_KEYED))
        hwi_die(HWI_EXIT_FAIL, "%s: the gallery stream has no keys (image names)", name);
    int rc;
    while ((rc = hwi_stream_read(&s)) == 1) {
        size_t *i = hwi_map_get(&lab, s.key);
        if (hwi_knn_add(k, s.key, i ? t.id[*i] : NULL, s.vec, s.dim) < 0)
            hwi_die(HWI_EXIT_FAIL, "%s: record %llu: %s", name, (unsigned long long)s.nrec,
                    k->err);
    }
    if (rc < 0)
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    hwi_stream_close(&s);
    hwi_map_free(&lab);
    hwi_labels_free(&t);
}

/* The queries kept for --rerank. */
struct kept {
    float *q;
    char **keys;
    size_t n, cap;
};

static int keep_queries(struct kept *a, const float *q, const char *const *keys, size_t b,
                        uint32_t dim)
{
    if (a->n + b > a->cap) {
        size_t cap = 2 * (a->n + b);
        float *nq = realloc(a->q, cap * dim * sizeof *nq);
        if (!nq)
            return -1;
        a->q = nq;
        char **nk = realloc(a->keys, cap * sizeof *nk);
        if (!nk)
            return -1;
        a->keys = nk;
        a->cap = cap;
    }
    memcpy(a->q + a->n * dim, q, b * dim * sizeof *q);
    for (size_t i = 0; i < b; i++)
        if (!(a->keys[a->n + i] = strdup(keys[i])))
            return -1;
    a->n += b;
    return 0;
}

static void write_header(FILE *fp, int photo)
{
    if (photo)
        hwi_tsv_write_header_photo(fp);
    else
        hwi_tsv_write_header(fp);
}

/* How each block of queries is ranked and written. */
struct rank_opts {
    long qe;
    double qe_alpha;
    int centroid, photo;
};

/* B queries Q[b][dim] named KEYS, the first of them query number FIRST
 * (from 0) of the stream. */
struct block {
    float *q;
    char **keys;
    size_t b;
    unsigned long long first;
};

/* Expand (--qe), rank and write one block of queries to FP, or exit;
 * HITS and NHITS are work for QBLOCK queries of STRIDE labels. */
static void rank_block(struct hwi_knn *k, const struct block *bl, const struct rank_opts *o,
                       FILE *fp, const char *name, size_t stride, struct hwi_knn_hit *hits,
                       size_t *nhits, double *cpu_tsv)
{
    char err[HWI_ERRLEN];
    const char *const *keys = (const char *const *)bl->keys;
    if (o->qe && hwi_qe_expand(k, bl->q, bl->b, keys, (int)o->qe, o->qe_alpha, err))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", name, err);
    if (o->centroid ? hwi_centroid_rank(k, bl->q, bl->b, keys, stride, hits, nhits, err)
                    : hwi_knn_rank(k, bl->q, bl->b, keys, stride, hits, nhits))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", name, o->centroid ? err : k->err);
    double tw = hwi_progress_cpu(1);
    for (size_t i = 0; i < bl->b; i++)
        for (size_t j = 0; j < nhits[i]; j++) {
            const struct hwi_knn_hit *h = hits + i * stride + j;
            if (o->photo ? hwi_tsv_write_photo(fp, keys[i], k->label[h->label], h->score,
                                               k->name[h->image])
                         : hwi_tsv_write(fp, keys[i], k->label[h->label], h->score))
                hwi_die(HWI_EXIT_FAIL,
                        "%s: record %llu: query '%s' or label '%s' "
                        "cannot be written to a TSV",
                        name, bl->first + i + 1, keys[i], k->label[h->label]);
        }
    *cpu_tsv += hwi_progress_cpu(1) - tw;
}

/* --merge: FILE[N] into OUTPUT (NULL: stdout). */
static int merge_main(char **file, size_t n, size_t top, int photo, const char *output)
{
    char err[HWI_ERRLEN];
    if (n == 0) {
        hwi_warn("--merge needs at least one scores file");
        usage(HWI_EXIT_USAGE);
    }
    FILE **in = calloc(n, sizeof *in);
    const char **name = calloc(n, sizeof *name);
    if (!in || !name)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    size_t stdin_uses = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(file[i], "-") && stdin_uses++)
            hwi_die(HWI_EXIT_USAGE, "standard input given twice");
        name[i] = hwi_file_name(file[i]);
        if (!(in[i] = hwi_fopen_in(file[i], err)))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
    }
    struct hwi_outfile out;
    if (hwi_outfile_open(&out, output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_knn_merge(in, name, n, top, photo, out.fp, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    if (hwi_outfile_commit(&out, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    for (size_t i = 0; i < n; i++)
        hwi_fclose_in(in[i]);
    free(in);
    free(name);
    return HWI_EXIT_OK;
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *dbpath = NULL, *model = NULL, *splits = NULL, *gallery = NULL, *labels = NULL,
               *output = NULL, *root = NULL;
    long top = DEFAULT_TOP, threads = 0;
    unsigned flags = 0;
    long qe = 0;
    double qe_alpha = 3;
    int centroid = 0, rerank = 0, merge = 0, center = 0;
    struct hwi_rerank_opts ro = {20, 6, 0.3};
    int verbose = isatty(STDERR_FILENO), photo = 0;
    int c;
    while ((c = getopt_long(argc, argv, "D:m:l:k:j:o:v", longopts, NULL)) != -1) {
        switch (c) {
        case 'D': dbpath = optarg; break;
        case 'm': model = optarg; break;
        case OPT_SPLIT: splits = optarg; break;
        case OPT_GALLERY: gallery = optarg; break;
        case 'l': labels = optarg; break;
        case 'k': top = hwi_opt_long("top", optarg, 0, LONG_MAX / 2); break;
        case 'j': threads = hwi_opt_long("threads", optarg, 0, 1024); break;
        case 'o': output = optarg; break;
        case 'v': verbose = 1; break;
        case OPT_NO_NEW_WHALE: flags |= HWI_KNN_NO_NEW_WHALE; break;
        case OPT_KEEP_SELF: flags |= HWI_KNN_KEEP_SELF; break;
        case OPT_PHOTO: photo = 1; break;
        case OPT_QE: parse_qe(optarg, &qe, &qe_alpha); break;
        case OPT_CENTROID: centroid = 1; break;
        case OPT_CENTER: center = 1; break;
        case OPT_MERGE: merge = 1; break;
        case OPT_ROOT: root = optarg; break;
        case OPT_RERANK:
            rerank = 1;
            if (optarg)
                parse_rerank(optarg, &ro);
            break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (merge) {
        if (dbpath || model || splits || gallery || labels || root || qe || centroid ||
            rerank || center || (flags & (HWI_KNN_NO_NEW_WHALE | HWI_KNN_KEEP_SELF))) {
            hwi_warn("--merge takes only --top, --photo, --output and --verbose");
            usage(HWI_EXIT_USAGE);
        }
        return merge_main(argv + optind, (size_t)(argc - optind), (size_t)top, photo, output);
    }
    if (argc - optind > 1) {
        hwi_warn("extra operand '%s'", argv[optind + 1]);
        usage(HWI_EXIT_USAGE);
    }
    if (!dbpath == !gallery) {
        hwi_warn(dbpath ? "--db and --gallery cannot be used together"
                        : "no gallery: give --db and --model, or --gallery and --labels");
        usage(HWI_EXIT_USAGE);
    }
    if (dbpath && (!model || labels)) {
        hwi_warn(labels ? "--labels goes with --gallery; a store has its labels"
                        : "--db needs --model");
        usage(HWI_EXIT_USAGE);
    }
    if (root && !dbpath) {
        hwi_warn("--root goes with --db: a stream gallery has no photo hashes");
        usage(HWI_EXIT_USAGE);
    }
    if (gallery && (!labels || model || splits)) {
        hwi_warn(labels ? "--model and --split go with --db" : "--gallery needs --labels");
        usage(HWI_EXIT_USAGE);
    }
    if (splits)
        parse_splits(splits, (const char *[5]){0});
    if (photo && (centroid || rerank)) {
        hwi_warn("--photo cannot be used with --centroid or --rerank: their scores come "
                 "from no single gallery photo");
        usage(HWI_EXIT_USAGE);
    }
    if (centroid && rerank) {
        hwi_warn("--centroid and --rerank cannot be used together");
        usage(HWI_EXIT_USAGE);
    }
    const char *path = optind < argc ? argv[optind] : "-";
    const char *name = hwi_file_name(path);
    if ((gallery && !strcmp(gallery, "-")) + (labels && !strcmp(labels, "-")) +
            !strcmp(path, "-") >
        1)
        hwi_die(HWI_EXIT_USAGE, "only one of the queries, --gallery and --labels can be "
                                "standard input");
    if (threads)
        hwi_knn_threads((int)threads);

    double t0 = hwi_progress_now();
    double cpu_read = hwi_progress_cpu(0), cpu_tsv = 0; /* CPU s of the main's phases */
    struct hwi_knn k;
    hwi_knn_init(&k, flags);
    struct hashes hs = {0};
    if (dbpath)
        load_db(&k, dbpath, model, splits, &hs);
    else
        load_stream(&k, gallery, labels);
    if (k.n == 0)
        hwi_die(HWI_EXIT_FAIL,
                "%s: the gallery is empty: none of its %zu images has a known label%s",
                dbpath ? dbpath : gallery, k.skipped,
                flags & HWI_KNN_NO_NEW_WHALE ? " other than new_whale" : "");
    if (center && hwi_knn_center(&k))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", dbpath ? dbpath : gallery, k.err);
    /* a search of no queries prepares the gallery, so that its errors (an
     * image twice) name it, and later errors are the queries' */
    if (hwi_knn_search(&k, NULL, 0, NULL, NULL, NULL))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", dbpath ? dbpath : gallery, k.err);
    cpu_read = hwi_progress_cpu(0) - cpu_read;

    char err[HWI_ERRLEN];
    struct hwi_stream s;
    if (hwi_stream_open_path(&s, path, 0))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    if (!(s.flags & HWI_STREAM_KEYED))
        hwi_die(HWI_EXIT_FAIL, "%s: the query stream has no keys (image names)", name);
    struct hwi_progress pr; /* of the total when the stream's header gives it */
    hwi_progress_start(&pr, "queries", s.count, 0);

    struct hwi_outfile out;
    if (hwi_outfile_open(&out, output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    /* the header; after the queries when they are all read first, so that
     * their errors leave no output */
    int late_header = rerank || center;
    if (!late_header)
        write_header(out.fp, photo);

    /* the labels to write per query: TOP, or all when fewer (or TOP is 0) */
    size_t stride = top && (size_t)top < k.nlabel ? (size_t)top : k.nlabel;
    float *q = malloc((size_t)HWI_KNN_QBLOCK * k.dim * sizeof *q);
    char **keys = calloc(HWI_KNN_QBLOCK, sizeof *keys);
    struct hwi_knn_hit *hits = malloc((size_t)HWI_KNN_QBLOCK * stride * sizeof *hits);
    size_t *nhits = malloc(HWI_KNN_QBLOCK * sizeof *nhits);
    if (!q || !keys || !hits || !nhits)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    unsigned long long nq = 0;
    struct hwi_map seen = {0}; /* query keys */
    struct kept all = {0};     /* --rerank, --center: every query */
    const struct rank_opts ko = {qe, qe_alpha, centroid, photo};
    for (int eof = 0; !eof;) {
        size_t b = 0;
        while (b < HWI_KNN_QBLOCK) {
            int rc = hwi_stream_read(&s);
            if (rc < 0)
                hwi_die(HWI_EXIT_FAIL, "%s", s.err);
            if (rc == 0) {
                eof = 1;
                break;
            }
            if (s.dim != k.dim)
                hwi_die(HWI_EXIT_FAIL,
                        "%s: record %llu (key '%s'): dimension %u, the "
                        "gallery's is %u",
                        name, (unsigned long long)s.nrec, s.key, s.dim, k.dim);
            /* a query twice would write its lines twice, which no reader
             * of scores TSV takes */
            int put = hwi_map_put(&seen, s.key, 0, NULL);
            if (put < 0)
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            if (put == 0)
                hwi_die(HWI_EXIT_FAIL, "%s: record %llu: key '%s' appears twice", name,
                        (unsigned long long)s.nrec, s.key);
            free(keys[b]);
            if (!(keys[b] = strdup(s.key)))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            /* leave-one-out by content: the query's hash, from its photo
             * or from the store */
            const char *sum = NULL;
            char hex[HWI_SHA256_HEX];
            if (root && !(flags & HWI_KNN_KEEP_SELF)) {
                char *file = NULL;
                if (asprintf(&file, "%s/%s", root, s.key) < 0)
                    hwi_die(HWI_EXIT_FAIL, "out of memory");
                if (hwi_sha256_file(file, hex, err))
                    hwi_die(HWI_EXIT_FAIL, "%s: record %llu (key '%s'): %s", name,
                            (unsigned long long)s.nrec, s.key, err);
                free(file);
                sum = hex;
            } else if (dbpath) {
                sum = hash_of(&hs, s.key);
            }
            if (sum && hwi_knn_query_identity(&k, s.key, sum))
                hwi_die(HWI_EXIT_FAIL, "%s", k.err);
            memcpy(q + b * k.dim, s.vec, k.dim * sizeof *q);
            b++;
        }
        if (b == 0)
            break;
        if (rerank || center) { /* all queries at once, after the stream */
            if (keep_queries(&all, q, (const char *const *)keys, b, k.dim))
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            nq += b;
            continue;
        }
        struct block bl = {q, keys, b, nq};
        rank_block(&k, &bl, &ko, out.fp, name, stride, hits, nhits, &cpu_tsv);
        nq += b;
        hwi_progress_show(&pr, nq, NULL);
    }
    hwi_progress_end(&pr);
    if (center && all.n == 1)
        hwi_die(HWI_EXIT_FAIL,
                "%s: --center needs two or more queries (their mean is "
                "taken out), not %zu",
                name, all.n);
    if (center && hwi_knn_center_rows(all.q, all.n, k.dim))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    if (late_header)
        write_header(out.fp, photo);
    for (size_t i = 0; center && !rerank && i < all.n; i += HWI_KNN_QBLOCK) {
        size_t b = all.n - i < HWI_KNN_QBLOCK ? all.n - i : HWI_KNN_QBLOCK;
        struct block bl = {all.q + i * k.dim, all.keys + i, b, i};
        rank_block(&k, &bl, &ko, out.fp, name, stride, hits, nhits, &cpu_tsv);
    }
    if (rerank && all.n) {
        if (qe && hwi_qe_expand(&k, all.q, all.n, (const char *const *)all.keys, (int)qe,
                                qe_alpha, err))
            hwi_die(HWI_EXIT_FAIL, "%s: %s", name, err);
        struct hwi_knn_hit *h = malloc(all.n * stride * sizeof *h);
        size_t *nh = malloc(all.n * sizeof *nh);
        if (!h || !nh)
            hwi_die(HWI_EXIT_FAIL, "out of memory");
        if (hwi_rerank(&k, all.q, all.n, (const char *const *)all.keys, &ro, stride, h, nh,
                       err))
            hwi_die(HWI_EXIT_FAIL, "%s: %s", name, err);
        for (size_t i = 0; i < all.n; i++)
            for (size_t j = 0; j < nh[i]; j++)
                if (hwi_tsv_write(out.fp, all.keys[i], k.label[h[i * stride + j].label],
                                  h[i * stride + j].score))
                    hwi_die(HWI_EXIT_FAIL,
                            "%s: record %zu: query '%s' or label '%s' "
                            "cannot be written to a TSV",
                            name, i + 1, all.keys[i], k.label[h[i * stride + j].label]);
        free(h);
        free(nh);
    }
    if (hwi_outfile_commit(&out, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    double wall = hwi_progress_now() - t0;
    if (verbose)
        fprintf(stderr,
                "%s%s: %llu queries against %zu gallery images (%zu labels, %zu "
                "left out), %.3g s\n",
                isatty(STDERR_FILENO) ? "\r" : "", hwi_program_name, nq, k.n, k.nlabel,
                k.skipped, wall);
    if (verbose) /* where the CPU time went (all threads) */
        fprintf(stderr,
                "%s: CPU s: product %.2f, label minimum %.2f, gallery read %.2f, "
                "exact rescoring %.2f, top-N %.2f, TSV output %.2f\n",
                hwi_program_name, k.cpu[HWI_KNN_CPU_PRODUCT], k.cpu[HWI_KNN_CPU_MINIMUM],
                cpu_read, k.cpu[HWI_KNN_CPU_RESCORE], k.cpu[HWI_KNN_CPU_TOP], cpu_tsv);
    hwi_stream_close(&s);
    for (size_t i = 0; i < HWI_KNN_QBLOCK; i++)
        free(keys[i]);
    free(keys);
    free(q);
    free(hits);
    free(nhits);
    hwi_map_free(&seen);
    for (size_t i = 0; i < hs.map.n; i++)
        free(hs.sum[i]);
    free(hs.sum);
    hwi_map_free(&hs.map);
    for (size_t i = 0; i < all.n; i++)
        free(all.keys[i]);
    free(all.keys);
    free(all.q);
    hwi_knn_free(&k);
    return HWI_EXIT_OK;
}
