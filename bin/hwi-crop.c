/* hwi-crop: photos to training crops, the first step of the method.
 *
 * Each photo is cropped to its fluke box (enlarged by a margin on each
 * side and clamped to the photo), made 8-bit gray and squished to S x S
 * by hwi_image_crop (lib/image.c, libvips).  The crops go to a folder as
 * image files, and/or to stdout as a vector stream of S*S values in [0,1]
 * keyed by the photo's name, which hwi-train and hwi-embed read.
 *
 * Photos run on lib/pool.h's ordered pool; the main thread writes the
 * stream and reports errors in input order, so the output does not depend
 * on the number of threads.  A worker may run at most 4 * threads + 4
 * photos ahead of the writer, which bounds the memory held by finished
 * crops. */
#include <config.h>

#include "csv.h"
#include "err.h"
#include "image.h"
#include "io.h"
#include "map.h"
#include "opt.h"
#include "pool.h"
#include "progress.h"
#include "stream.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_STREAM,
    OPT_MARGIN,
    OPT_KEEP_GOING,
    OPT_VERSION,
    OPT_NO_AUTOROTATE,
    OPT_NO_SHRINK,
};

static const struct option longopts[] = {
    {"boxes", required_argument, NULL, 'b'},
    {"dir", required_argument, NULL, 'd'},
    {"images", required_argument, NULL, 'i'},
    {"output", required_argument, NULL, 'o'},
    {"stream", no_argument, NULL, OPT_STREAM},
    {"force", no_argument, NULL, 'f'},
    {"size", required_argument, NULL, 'S'},
    {"margin", required_argument, NULL, OPT_MARGIN},
    {"kernel", required_argument, NULL, 'K'},
    {"format", required_argument, NULL, 'F'},
    {"quality", required_argument, NULL, 'Q'},
    {"compression", required_argument, NULL, 'z'},
    {"no-autorotate", no_argument, NULL, OPT_NO_AUTOROTATE},
    {"no-shrink-on-load", no_argument, NULL, OPT_NO_SHRINK},
    {"threads", required_argument, NULL, 'j'},
    {"keep-going", no_argument, NULL, OPT_KEEP_GOING},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Output formats: lossless ones first. */
static const char *const formats[] = {"png", "tif", "pgm", "jpg"};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    printf("Usage: %s [OPTION]... [PHOTO]...\n", hwi_program_name);
    fputs("Crop photos to their fluke boxes, make them gray and square, and write\n"
          "them as image files and/or as a pixel stream on standard output.\n"
          "\n"
          "The photos are the PHOTO operands, or the names in --images, or else\n"
          "every photo of --boxes, in that order; names are paths under --dir\n"
          "(card1/IMG_0001.JPG), and the normalised path is the photo's key.\n"
          "A photo without a box is used whole, with a warning.  The crop is the\n"
          "box enlarged by --margin of its width and height on each side, clamped\n"
          "to the photo, in gray, resized to SIZE x SIZE without keeping its shape.\n"
          "\n"
          "  -b, --boxes=FILE      the boxes: bounding_boxes.csv (header\n"
          "                        Image,x0,y0,x1,y1) or lines\n"
          "                        'IMAGE<TAB>x0<TAB>y0<TAB>x1<TAB>y1' (# comments);\n"
          "                        pixels, x1 and y1 inclusive; - is stdin\n"
          "  -d, --dir=DIR         folder of the photos (default: .)\n"
          "  -i, --images=FILE     the photos to crop, one name per line, or a CSV\n"
          "                        whose first column is Image (train.csv)\n"
          "  -o, --output=DIR      write one crop per photo into DIR, named after\n"
          "                        the photo with the format's suffix\n"
          "      --stream          write the pixel stream to stdout also with --output\n"
          "  -f, --force           write the stream even to a terminal\n"
          "  -S, --size=N          crops are N x N pixels (default 384)\n"
          "      --margin=F        enlarge the box by F times its size on each\n"
          "                        side (default 0.1)\n"
          "  -K, --kernel=NAME     resize kernel: nearest, linear, cubic, mitchell,\n"
          "                        lanczos2, lanczos3 (default)\n"
          "  -F, --format=FMT      crop files: png (default), tif, pgm, or jpg\n"
          "  -Q, --quality=N       JPEG quality for --format=jpg (default 95)\n"
          "  -z, --compression=N   PNG zlib level, 0 (none) to 9 (smallest files,\n"
          "                        slowest); default 1\n"
          "      --no-autorotate   ignore the EXIF orientation: boxes refer to the\n"
          "                        stored pixels\n"
          "      --no-shrink-on-load  always decode JPEG at full size\n"
          "  -j, --threads=N       crop N photos at once (default 0: all CPUs)\n"
          "      --keep-going      after a bad photo or box, go on with the others\n"
          "                        and exit 1 at the end\n"
          "  -q, --quiet           no summary line\n"
          "      --help            display this help and exit\n"
          "      --version         output version information and exit\n"
          "\n"
          "Without --output the pixel stream goes to stdout: a keyed vector stream\n"
          "(hwi-formats(5)), key = the photo's name, SIZE*SIZE float32 values\n"
          "pixel/255 in [0,1], row by row, in input order.  Crop files are 8-bit gray\n"
          "and appear whole or not at all.  A summary line goes to stderr.\n"
          "\n"
          "Exit status: 0 on success, 1 on a bad photo, box or list (or any error\n"
          "with --keep-going), 2 on a usage error.\n"
          "See hwi-crop(1).\n",
          stdout);
    exit(status);
}

/* ---------------------------------------------------------------------- */
/* The list of photos: rows of the image list or the box file, read by
 * lib/csv.h's readers, which normalise the names to photo keys and keep
 * bad rows for their messages here. */

struct job {
    const char *name; /* photo key: file name in the photo folder, the stream key */
    const char *from; /* list file naming it, or NULL */
    long line;        /* its line there */
    int has_box;
    struct hwi_rect box;
    char *bad; /* an error found in the lists, or NULL */
    /* set by the worker that crops it */
    char *err;    /* its error, or NULL */
    uint8_t *pix; /* [size*size] gray, for the stream */
};

/* Make the subfolders of OUTDIR that the crop of photo key NAME goes in
 * ("card1" for "card1/IMG_0001.JPG").  Returns NULL, or the error. */
static char *make_subdirs(const char *outdir, const char *name)
{
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        char *dir = hwi_xasprintf("%s/%.*s", outdir, (int)(p - name), name);
        char *why = NULL;
        struct stat st;
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            why = hwi_xasprintf("%s: %s", dir, strerror(errno));
        else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            why = hwi_xasprintf("%s: not a directory", dir);
        free(dir);
        if (why)
            return why;
    }
    return NULL;
}

/* The photos to crop: the rows of NAMES (the image list or the operands,
 * named LIST_NAME, NULL for operands) with their boxes in BOXES, or
 * without NAMES every row of BOXES (from BOXES_NAME). */
struct jobs {
    struct job *job;
    size_t n;
};

static struct jobs make_jobs(const struct hwi_names *names, const char *list_name,
                             const struct hwi_boxes *boxes, const char *boxes_name)
{
    struct jobs jobs;
    jobs.n = names ? names->n : boxes->n;
    jobs.job = hwi_xmalloc((jobs.n ? jobs.n : 1) * sizeof *jobs.job);
    for (size_t i = 0; i < jobs.n; i++) {
        struct job *j = &jobs.job[i];
        const struct hwi_box *b;
        if (names) {
            const struct hwi_name *r = &names->row[i];
            *j = (struct job){.name = r->name, .from = list_name, .line = r->line};
            if (r->bad) {
                j->bad = hwi_xstrdup(r->bad);
                continue;
            }
            if (!(b = hwi_boxes_find(boxes, r->name)))
                continue;
        } else {
            b = &boxes->box[i];
            *j = (struct job){.name = b->image};
        }
        /* messages name the box file's line */
        j->from = boxes_name;
        j->line = b->line;
        j->has_box = !b->bad;
        j->box = (struct hwi_rect){b->x0, b->y0, b->x1, b->y1};
        if (b->bad)
            j->bad = hwi_xstrdup(b->bad);
        else if (b->dup && names)
            j->bad = hwi_xasprintf("two boxes in %s (lines %ld and %ld)", boxes_name, b->line,
                                   b->dup);
    }
    return jobs;
}

/* ---------------------------------------------------------------------- */
/* The work of the pool's workers (lib/pool.h's ordered pool). */

static struct {
    struct job *job;
    size_t n;
    const char *dir;    /* photo folder */
    const char *outdir; /* crop folder, or NULL */
    const char *suffix; /* of crop files */
    int quality;
    int compression; /* PNG zlib level */
    int stream;      /* keep pixels for the stream */
    struct hwi_crop_params params;
} pool;

/* Crop job J; on failure set J->err. */
static void crop_one(struct job *j)
{
    char err[HWI_ERRLEN];
    size_t n = (size_t)pool.params.size * pool.params.size;
    uint8_t *pix = malloc(n);
    char *path = NULL, *out = NULL;
    if (!pix || asprintf(&path, "%s/%s", pool.dir, j->name) < 0) {
        path = NULL;
        j->err = hwi_xstrdup("out of memory");
        goto done;
    }
    if (hwi_image_crop(path, j->has_box ? &j->box : NULL, &pool.params, pix, err)) {
        j->err = hwi_xstrdup(err);
        goto done;
    }
    if (pool.outdir) {
        const char *dot = strrchr(j->name, '.');
        int base = dot && dot != j->name ? (int)(dot - j->name) : (int)strlen(j->name);
        if (asprintf(&out, "%s/%.*s.%s", pool.outdir, base, j->name, pool.suffix) < 0) {
            out = NULL;
            j->err = hwi_xstrdup("out of memory");
            goto done;
        }
        int s = pool.params.size;
        if (hwi_image_save(pix, s, s, 1, pool.quality, pool.compression, out, err)) {
            j->err = hwi_xstrdup(err);
            goto done;
        }
    }
    if (pool.stream) {
        j->pix = pix;
        pix = NULL;
    }
done:
    free(pix);
    free(path);
    free(out);
}

/* Crop job I unless the lists already found it bad (a pool item). */
static void crop_item(void *arg, size_t i)
{
    (void)arg;
    if (!pool.job[i].bad)
        crop_one(&pool.job[i]);
}

/* Say WHY about job J: "LIST:LINE: NAME: WHY" for errors in the lists,
 * "LIST:LINE: WHY" for errors of the photo (WHY names its path). */
static void report(const struct job *j, const char *why)
{
    int own = j->bad || !j->err; /* WHY does not name the photo */
    if (j->from && own)
        hwi_warn("%s:%ld: %s: %s", j->from, j->line, j->name, why);
    else if (j->from)
        hwi_warn("%s:%ld: %s", j->from, j->line, why);
    else if (own)
        hwi_warn("%s: %s", j->name, why);
    else
        hwi_warn("%s", why);
}

/* ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    const char *boxes_path = NULL, *images_path = NULL, *dir = ".", *outdir = NULL;
    const char *format = "png";
    int stream = 0, force = 0, keep_going = 0, quiet = 0, threads = 0, quality = 95,
        compression = 1;
    struct hwi_crop_params params = {
        .size = 384,
        .margin = 0.1,
        .kernel = HWI_KERNEL_LANCZOS3,
        .autorotate = 1,
        .shrink_on_load = 1,
    };
    int c;
    while ((c = getopt_long(argc, argv, "b:d:i:o:fS:K:F:Q:z:j:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': boxes_path = optarg; break;
        case 'd': dir = optarg; break;
        case 'i': images_path = optarg; break;
        case 'o': outdir = optarg; break;
        case OPT_STREAM: stream = 1; break;
        case 'f': force = 1; break;
        case 'S': params.size = (int)hwi_opt_long("size", optarg, 1, 8192); break;
        case OPT_MARGIN: params.margin = hwi_opt_double("margin", optarg, 0, 10); break;
        case 'K':
            if ((params.kernel = hwi_image_kernel(optarg)) < 0) {
                hwi_warn("invalid value '%s' for --kernel: expected nearest, linear, cubic, "
                         "mitchell, lanczos2 or lanczos3",
                         optarg);
                hwi_try_help();
            }
            break;
        case 'F': format = optarg; break;
        case 'Q': quality = (int)hwi_opt_long("quality", optarg, 1, 100); break;
        case 'z': compression = (int)hwi_opt_long("compression", optarg, 0, 9); break;
        case OPT_NO_AUTOROTATE: params.autorotate = 0; break;
        case OPT_NO_SHRINK: params.shrink_on_load = 0; break;
        case 'j': threads = (int)hwi_opt_long("threads", optarg, 0, 1024); break;
        case OPT_KEEP_GOING: keep_going = 1; break;
        case 'q': quiet = 1; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    size_t nf = sizeof formats / sizeof *formats, fi;
    for (fi = 0; fi < nf && strcmp(format, formats[fi]); fi++)
        ;
    if (fi == nf) {
        hwi_warn("invalid value '%s' for --format: expected png, tif, pgm or jpg", format);
        hwi_try_help();
    }
    if (images_path && optind < argc) {
        hwi_warn("--images and PHOTO operands cannot be used together");
        usage(HWI_EXIT_USAGE);
    }
    if (!boxes_path && !images_path && optind == argc) {
        hwi_warn("no photos: give --boxes, --images or PHOTO operands");
        usage(HWI_EXIT_USAGE);
    }
    if (boxes_path && images_path && !strcmp(boxes_path, "-") && !strcmp(images_path, "-")) {
        hwi_warn("--boxes and --images cannot both read stdin");
        usage(HWI_EXIT_USAGE);
    }
    if (!outdir)
        stream = 1;
    if (stream && !force && isatty(STDOUT_FILENO))
        hwi_die(HWI_EXIT_USAGE,
                "refusing to write a binary stream to a terminal (use --force)");
    if (threads == 0)
        threads = hwi_ncpu();

    /* the lists */
    const int lflags = HWI_LIST_ROWS | HWI_LIST_KEYS;
    char err[HWI_ERRLEN];
    struct hwi_boxes boxes = {0};
    const char *boxes_name = hwi_file_name(boxes_path);
    if (boxes_path && hwi_boxes_read(&boxes, boxes_path, lflags | HWI_LIST_TSV, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_names names = {0};
    const char *list_name = NULL;
    if (images_path) {
        list_name = hwi_file_name(images_path);
        if (hwi_names_read(&names, images_path, lflags, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
    }
    for (int i = optind; i < argc; i++)
        if (hwi_names_add(&names, argv[i], 0, lflags, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct jobs jobs =
        make_jobs(images_path || optind < argc ? &names : NULL, list_name, &boxes, boxes_name);
    size_t nwhole = 0;

    /* each crop file has its own name */
    struct hwi_map outnames = {0};
    if (outdir) {
        if (mkdir(outdir, 0777) != 0 && errno != EEXIST)
            hwi_die(HWI_EXIT_FAIL, "%s: %s", outdir, strerror(errno));
        struct stat st;
        if (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode))
            hwi_die(HWI_EXIT_FAIL, "%s: not a directory", outdir);
        for (size_t i = 0; i < jobs.n; i++) {
            struct job *j = &jobs.job[i];
            if (j->bad)
                continue;
            const char *dot = strrchr(j->name, '.');
            size_t base = dot && dot != j->name ? (size_t)(dot - j->name) : strlen(j->name);
            char *out = hwi_xasprintf("%.*s", (int)base, j->name);
            size_t first;
            int put = hwi_map_put(&outnames, out, i, &first);
            if (put < 0)
                hwi_die(HWI_EXIT_FAIL, "out of memory");
            if (put == 0)
                j->bad = hwi_xasprintf("its crop %s.%s would overwrite that of %s", out,
                                       formats[fi], jobs.job[first].name);
            free(out);
            if (!j->bad)
                j->bad = make_subdirs(outdir, j->name);
        }
        hwi_map_free(&outnames);
    }

    /* libvips' own threads only when ours are one */
    if (hwi_image_init(argv[0], threads > 1 ? 1 : 0, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);

    /* without --keep-going every photo is in the stream or the run fails:
     * the header announces them all, so that a reader of a stream cut by a
     * failure sees that records are missing */
    struct hwi_stream s = {0};
    if (stream &&
        hwi_stream_open_write(&s, stdout, "(stdout)", (uint32_t)(params.size * params.size),
                              HWI_STREAM_KEYED, NULL, keep_going ? 0 : jobs.n))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err); /* the count: "N of total" downstream */
    size_t dim = (size_t)params.size * params.size;
    float *vec = stream ? malloc(dim * sizeof *vec) : NULL;
    if (stream && !vec)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    float scale[256];
    for (int v = 0; v < 256; v++)
        scale[v] = (float)v / 255.0f;

    pool.job = jobs.job;
    pool.n = jobs.n;
    pool.dir = dir;
    pool.outdir = outdir;
    pool.suffix = formats[fi];
    pool.quality = quality;
    pool.compression = compression;
    pool.stream = stream;
    pool.params = params;
    struct hwi_pool_ordered *workers =
        hwi_pool_ordered_start(jobs.n, threads, 4 * (size_t)threads + 4, crop_item, NULL);
    if (!workers)
        hwi_die(HWI_EXIT_FAIL, "out of memory");

    struct hwi_progress pr;
    hwi_progress_start(&pr, "photos", jobs.n, quiet);
    size_t ncrop = 0, nfail = 0, i;
    int fatal = 0;
    for (i = 0; i < jobs.n; i++) {
        hwi_pool_ordered_wait(workers, i);
        struct job *j = &jobs.job[i];
        const char *why = j->bad ? j->bad : j->err;
        if (why) {
            nfail++;
            hwi_progress_clear(&pr);
            report(j, why);
            if (!keep_going) {
                fatal = 1;
                break;
            }
        } else {
            if (j->has_box) {
                ncrop++;
            } else {
                nwhole++;
                if (boxes_path) {
                    char *msg =
                        hwi_xasprintf("no box in %s: using the whole photo", boxes_name);
                    hwi_progress_clear(&pr);
                    report(j, msg);
                    free(msg);
                }
            }
            if (stream) {
                for (size_t k = 0; k < dim; k++)
                    vec[k] = scale[j->pix[k]];
                if (hwi_stream_write(&s, j->name, vec)) {
                    hwi_warn("%s", s.err);
                    fatal = 1;
                    break;
                }
            }
        }
        free(j->pix);
        j->pix = NULL;
        hwi_pool_ordered_release(workers, i);
        hwi_progress_show(&pr, i + 1, NULL);
    }
    hwi_pool_ordered_finish(workers);
    hwi_progress_end(&pr);
    if (stream && !fatal && hwi_stream_finish(&s)) {
        hwi_warn("%s", s.err);
        fatal = 1;
    }
    if (!quiet)
        hwi_warn("%zu photos: %zu cropped to their box, %zu used whole, %zu failed%s", jobs.n,
                 ncrop, nwhole, nfail, fatal && i < jobs.n ? ", the rest skipped" : "");

    /* tidy up, so that leak checkers see the real leaks */
    for (size_t k = 0; k < jobs.n; k++) {
        free(jobs.job[k].bad);
        free(jobs.job[k].err);
        free(jobs.job[k].pix);
    }
    free(jobs.job);
    hwi_names_free(&names);
    hwi_boxes_free(&boxes);
    free(vec);
    if (stream)
        hwi_stream_close(&s);
    hwi_image_shutdown();
    return fatal || nfail ? HWI_EXIT_FAIL : HWI_EXIT_OK;
}
