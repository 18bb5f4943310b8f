/* hwi-store: create an hwi store, add vectors to it, export them, list it.
 *
 * The store (hwi-store(5)) is the SQLite catalogue of photos and their
 * embeddings that hwi-knn searches.  A catalogue grows by piping new
 * sightings' vectors in:  hwi-embed ... | hwi-store add --model M STORE.
 * Each "add" is one transaction: all its vectors land, or none. */
#include <config.h>

#include "csv.h"
#include "db.h"
#include "err.h"
#include "io.h"
#include "map.h"
#include "opt.h"
#include "progress.h"
#include "sha256.h"
#include "stream.h"
#include "tsv.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_HELP = CHAR_MAX + 1,
    OPT_KIND,
    OPT_SPLIT,
    OPT_VERSION,
    OPT_ROOT,
    OPT_CFG,
    OPT_WEIGHTS
};

static const struct option longopts[] = {
    {"model", required_argument, NULL, 'm'},
    {"kind", required_argument, NULL, OPT_KIND},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"labels", required_argument, NULL, 'l'},
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    {"verbose", no_argument, NULL, 'v'},
    {"root", required_argument, NULL, OPT_ROOT},
    {"cfg", required_argument, NULL, OPT_CFG},
    {"weights", required_argument, NULL, OPT_WEIGHTS},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static _Noreturn void usage(int status)
{
    if (status)
        hwi_try_help();
    const char *p = hwi_program_name;
    printf("Usage: %s create STORE\n"
           "  or:  %s add --model=NAME [OPTION]... STORE [FILE]\n"
           "  or:  %s export --model=NAME [OPTION]... STORE\n"
           "  or:  %s list STORE\n"
           "  or:  %s relabel STORE PHOTO ID\n"
           "  or:  %s decisions STORE FILE.csv\n"
           "  or:  %s merge-ids STORE ID_A ID_B\n"
           "  or:  %s remove STORE PHOTO...\n"
           "  or:  %s individuals STORE\n"
           "  or:  %s export-catalogue [--output=FILE] STORE\n"
           "  or:  %s merge STORE OTHER...\n",
           p, p, p, p, p, p, p, p, p, p, p);
    fputs("Keep photos' vectors in an hwi store, an SQLite database (hwi-store(5)).\n"
          "\n"
          "  create   make an empty store STORE (nothing happens if it is one already)\n"
          "  add      add the vectors of FILE, a keyed vector stream (standard input\n"
          "           when FILE is absent or -), to STORE under model NAME, in one\n"
          "           transaction: all of them or, on an error, none; vectors already\n"
          "           stored for the same image, model and kind are replaced\n"
          "  export   write the vectors of model NAME as a keyed vector stream, in\n"
          "           image-name order, with the column names stored for them\n"
          "  list     print '# model kind split dim vectors' and one line per group\n"
          "  relabel  label photo PHOTO (its key) as individual ID\n"
          "  decisions  apply a reviewer's decisions CSV (header photo,decision,id;\n"
          "           decision same: PHOTO is ID; new: PHOTO is a new individual ID;\n"
          "           not_same, skip: recorded only), all or, on an error, none\n"
          "  merge-ids  two individuals are one: every photo of ID_B becomes ID_A\n"
          "  remove   delete the photos PHOTO... with their vectors (all or none)\n"
          "  individuals  print '# id photos first_seen last_seen' and one line per\n"
          "           individual (sighting dates; - when unknown)\n"
          "  export-catalogue  write every photo as CSV: photo,label,split,sha256,\n"
          "           date,place,lat,lon,encounter,photographer,note\n"
          "  merge    copy the stores OTHER... (up to 8; shards embedded on other\n"
          "           machines, say) into STORE in one transaction: their photos with\n"
          "           labels, sighting data, vectors and decisions, and their models;\n"
          "           a photo key already in STORE, or a model of the same name from\n"
          "           other cfg or weights files or of another dimension, is an error\n"
          "           and nothing changes\n"
          "\n"
          "  -m, --model=NAME   the model (add creates it when it is new)\n"
          "      --kind=KIND    features (the default) or logits\n"
          "      --split=SPLIT  add: put the images in SPLIT, one of train, val, test,\n"
          "                     gallery, query (default: keep an image's split, train\n"
          "                     for a new image); export: only images in the\n"
          "                     comma-separated splits SPLIT (default: all)\n"
          "  -l, --labels=CSV   add: label the images from a Kaggle CSV (Image,Id);\n"
          "                     images not in it keep their label (new ones: unknown)\n"
          "  -o, --output=FILE  export, export-catalogue: write to FILE (whole or not\n"
          "                     at all)\n"
          "  -f, --force        export: write the binary stream even to a terminal\n"
          "      --root=DIR     add: the photo root; hash each photo DIR/KEY (sha256)\n"
          "                     and refuse a different photo stored under KEY\n"
          "      --cfg=FILE     add: the model's cfg file; its sha256 is stored\n"
          "      --weights=FILE add: the model's weights file; its sha256 is stored\n"
          "  -v, --verbose      add: print a summary line on stderr (also when stderr\n"
          "                     is a terminal)\n"
          "      --help         display this help and exit\n"
          "      --version      output version information and exit\n"
          "\n"
          "A second writer waits for the first (up to 30 s) rather than failing.\n"
          "\n"
          "Exit status: 0 on success, 1 on bad input or a store error, 2 on a usage\n"
          "error.  See hwi-store(1) and hwi-store(5).\n",
          stdout);
    exit(status);
}

/* Options given on the command line. */
struct opts {
    const char *model, *kind, *split, *labels, *output, *root, *cfg, *weights;
    int force, verbose;
};

static struct hwi_db *open_db(const char *path, int mode)
{
    char err[HWI_ERRLEN];
    struct hwi_db *db = hwi_db_open(path, mode, err);
    if (!db)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    return db;
}

/* Undo the transaction, close the store and exit 1 with MSG. */
static struct hwi_progress add_progress; /* hwi-store add's progress line */

static _Noreturn void abort_add(struct hwi_db *db, const char *msg)
{
    hwi_progress_clear(&add_progress);
    hwi_db_rollback(db);
    hwi_db_close(db);
    hwi_die(HWI_EXIT_FAIL, "%s", msg);
}

static int cmd_add(const struct opts *o, const char *path, const char *file)
{
    char err[HWI_ERRLEN], msg[2 * HWI_ERRLEN];
    struct hwi_labels t = {0};
    struct hwi_map lab = {0};
    if (o->labels) {
        if (hwi_labels_load(&t, o->labels, err))
            hwi_die(HWI_EXIT_FAIL, "%s", err);
        if (hwi_labels_index(&t, &lab))
            hwi_die(HWI_EXIT_FAIL, "out of memory");
    }
    struct hwi_stream s;
    if (hwi_stream_open_path(&s, file, 0))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    const char *name = s.name;
    if (!(s.flags & HWI_STREAM_KEYED))
        hwi_die(HWI_EXIT_FAIL, "%s: the stream has no keys (image names)", name);

    char cfg_sum[HWI_SHA256_HEX], weights_sum[HWI_SHA256_HEX];
    if ((o->cfg && hwi_sha256_file(o->cfg, cfg_sum, err)) ||
        (o->weights && hwi_sha256_file(o->weights, weights_sum, err)))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_db *db = open_db(path, HWI_DB_WRITE);
    int64_t mid;
    if (hwi_db_begin(db) || hwi_db_model(db, o->model, o->cfg, o->weights, 1, &mid) < 0 ||
        hwi_db_model_sums(db, mid, o->cfg ? cfg_sum : NULL, o->weights ? weights_sum : NULL)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    long dim = hwi_db_dim(db, mid, o->kind);
    if (dim < 0) {
        snprintf(msg, sizeof msg, "%s: model '%s': %s", path, o->model, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    if (dim && dim != (long)s.dim) {
        snprintf(msg, sizeof msg,
                 "%s: dimension %u, but the store's %s vectors of model "
                 "'%s' have %ld",
                 name, s.dim, o->kind, o->model, dim);
        abort_add(db, msg);
    }
    if (s.names && hwi_db_put_columns(db, mid, o->kind, s.names, s.dim)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    struct hwi_map seen = {0}; /* a key twice in one stream is a mistake */
    int rc;
    hwi_progress_start(&add_progress, "vectors", s.count, 0);
    while ((rc = hwi_stream_read(&s)) == 1) {
        hwi_progress_show(&add_progress, s.nrec, NULL);
        size_t first;
        int put = hwi_map_put(&seen, s.key, (size_t)s.nrec, &first);
        if (put <= 0) {
            if (put < 0)
                snprintf(msg, sizeof msg, "out of memory");
            else
                snprintf(msg, sizeof msg,
                         "%s: record %llu (key '%s'): image repeated "
                         "(first at record %zu)",
                         name, (unsigned long long)s.nrec, s.key, first);
            abort_add(db, msg);
        }
        size_t *i = hwi_map_get(&lab, s.key);
        int64_t id;
        char hash[HWI_SHA256_HEX];
        if (o->root) {
            char *photo = NULL;
            if (asprintf(&photo, "%s/%s", o->root, s.key) < 0)
                abort_add(db, "out of memory");
            int bad = hwi_sha256_file(photo, hash, err);
            free(photo);
            if (bad) {
                snprintf(msg, sizeof msg, "%s: record %llu (key '%s'): %s", name,
                         (unsigned long long)s.nrec, s.key, err);
                abort_add(db, msg);
            }
        }
        if (hwi_db_put_photo(db, s.key, i ? t.id[*i] : NULL, o->split, o->root ? hash : NULL,
                             &id) ||
            hwi_db_put_embedding(db, id, mid, o->kind, s.vec, s.dim)) {
            snprintf(msg, sizeof msg, "%s: record %llu (key '%s'): %s", name,
                     (unsigned long long)s.nrec, s.key, hwi_db_errmsg(db));
            abort_add(db, msg);
        }
    }
    hwi_progress_end(&add_progress);
    if (rc < 0)
        abort_add(db, s.err);
    if (hwi_db_commit(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    if (o->verbose)
        fprintf(stderr, "%s: %s: added %llu %s vectors of model '%s' (dimension %u)\n",
                hwi_program_name, path, (unsigned long long)s.nrec, o->kind, o->model, s.dim);
    hwi_db_close(db);
    hwi_stream_close(&s);
    hwi_map_free(&seen);
    hwi_map_free(&lab);
    hwi_labels_free(&t);
    return HWI_EXIT_OK;
}

struct export_ctx {
    struct hwi_stream *s;
    const char *path;
};

/* The number of vectors an export will write. */
struct export_count {
    const char *model, *kind;
    const char *const *split; /* [nsplit], NULL: every split */
    int nsplit;
    uint64_t n;
};

static int count_one(void *ctx, const char *model, const char *kind, const char *split,
                     long dim, long count)
{
    struct export_count *c = ctx;
    (void)dim;
    if (strcmp(model, c->model) || strcmp(kind, c->kind))
        return 0;
    for (int i = 0; i < c->nsplit; i++)
        if (!c->split[i] || !strcmp(split, c->split[i])) {
            c->n += (uint64_t)count;
            break;
        }
    return 0;
}

static int export_one(void *ctx, const char *image, const char *label, const char *split,
                      const float *vec, uint32_t dim)
{
    struct export_ctx *c = ctx;
    if (dim != c->s->dim) {
        hwi_seterr(c->s->err, "%s: image '%s': dimension %u, other vectors have %u", c->path,
                   image, dim, c->s->dim);
        return 1;
    }
    return hwi_stream_write(c->s, image, vec) ? 1 : 0;
}

static int cmd_export(const struct opts *o, const char *path)
{
    char err[HWI_ERRLEN];
    const char *split[5] = {NULL};
    int nsplit = 1;
    if (o->split && (nsplit = hwi_db_parse_splits(o->split, split, err)) < 0)
        hwi_die(HWI_EXIT_USAGE, "invalid value '%s' for --split: %s", o->split, err);
    struct hwi_db *db = open_db(path, HWI_DB_READONLY);
    if (hwi_db_verify(db))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    int64_t mid;
    int found = hwi_db_model(db, o->model, NULL, NULL, 0, &mid);
    if (found < 0)
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    if (!found)
        hwi_die(HWI_EXIT_FAIL, "%s: no model '%s' in the store", path, o->model);
    long dim = hwi_db_dim(db, mid, o->kind);
    if (dim < 0)
        hwi_die(HWI_EXIT_FAIL, "%s: model '%s': %s", path, o->model, hwi_db_errmsg(db));
    if (dim == 0)
        hwi_die(HWI_EXIT_FAIL, "%s: model '%s' has no %s vectors", path, o->model, o->kind);
    char **names = NULL;
    long nnames = hwi_db_columns(db, mid, o->kind, &names);
    if (nnames < 0)
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    if (nnames && nnames != dim)
        hwi_die(HWI_EXIT_FAIL,
                "%s: model '%s': %ld column names for %s vectors of "
                "dimension %ld",
                path, o->model, nnames, o->kind, dim);

    if (!o->force && (!o->output || !strcmp(o->output, "-")) && isatty(STDOUT_FILENO))
        hwi_die(HWI_EXIT_USAGE,
                "refusing to write a binary stream to a terminal (use --force)");
    /* the header announces every vector, so that a reader of a stream cut
     * by a failure (standard output cannot be taken back) sees it is cut */
    struct export_count cnt = {o->model, o->kind, split, nsplit, 0};
    if (hwi_db_each_count(db, count_one, &cnt))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    struct hwi_outfile out;
    if (hwi_outfile_open(&out, o->output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    struct hwi_stream s;
    if (hwi_stream_open_write(&s, out.fp, o->output ? o->output : "(stdout)", (uint32_t)dim,
                              HWI_STREAM_KEYED, nnames ? names : NULL, cnt.n))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    struct export_ctx c = {&s, path};
    for (int i = 0; i < nsplit; i++) {
        int rc = hwi_db_each_embedding(db, mid, o->kind, split[i], export_one, &c);
        if (rc < 0)
            hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
        if (rc > 0)
            hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    }
    if (hwi_stream_finish(&s))
        hwi_die(HWI_EXIT_FAIL, "%s", s.err);
    hwi_stream_close(&s);
    if (hwi_outfile_commit(&out, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    for (long i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static int list_one(void *ctx, const char *model, const char *kind, const char *split,
                    long dim, long count)
{
    fprintf(ctx, "%s\t%s\t%s\t%ld\t%ld\n", model, kind, split, dim, count);
    return 0;
}

static int cmd_list(const char *path)
{
    struct hwi_db *db = open_db(path, HWI_DB_READONLY);
    if (hwi_db_verify(db))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    /* the lines go out only once every group has been read */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    fputs("# model\tkind\tsplit\tdim\tvectors\n", mem);
    if (hwi_db_each_count(db, list_one, mem))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    if (fclose(mem))
        hwi_die(HWI_EXIT_FAIL, "out of memory");
    fwrite(buf, 1, len, stdout);
    free(buf);
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static int cmd_relabel(const char *path, const char *photo, const char *id)
{
    char msg[2 * HWI_ERRLEN];
    if (!hwi_tsv_field_ok(id))
        hwi_die(HWI_EXIT_USAGE, "invalid individual '%s'", id);
    struct hwi_db *db = open_db(path, HWI_DB_WRITE);
    if (hwi_db_begin(db) || hwi_db_relabel(db, photo, id) || hwi_db_commit(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

/* Apply the decisions CSV FILE (photo,decision,id) in one transaction. */
static int cmd_decisions(const char *path, const char *file)
{
    char msg[3 * HWI_ERRLEN], err[HWI_ERRLEN];
    FILE *fp = hwi_fopen_in(file, err);
    if (!fp)
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    const char *name = hwi_file_name(file);
    struct hwi_csv c;
    if (hwi_csv_open(&c, fp, name, "photo,decision,id"))
        hwi_die(HWI_EXIT_FAIL, "%s", c.err);
    struct hwi_db *db = open_db(path, HWI_DB_WRITE);
    if (hwi_db_begin(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    int rc;
    long n = 0;
    while ((rc = hwi_csv_next(&c)) == 1) {
        if (c.nfield != 3) {
            snprintf(msg, sizeof msg, "%s:%ld: expected 3 fields (photo,decision,id), got %d",
                     name, c.line, c.nfield);
            abort_add(db, msg);
        }
        const char *photo = c.field[0], *d = c.field[1], *id = c.field[2];
        int same = !strcmp(d, "same"), isnew = !strcmp(d, "new");
        if (!same && !isnew && strcmp(d, "not_same") && strcmp(d, "skip")) {
            snprintf(msg, sizeof msg,
                     "%s:%ld: unknown decision '%s' (expected same, new, "
                     "not_same or skip)",
                     name, c.line, d);
            abort_add(db, msg);
        }
        if ((same || isnew || !strcmp(d, "not_same")) && !hwi_tsv_field_ok(id)) {
            snprintf(msg, sizeof msg, "%s:%ld: decision '%s' needs an individual id", name,
                     c.line, d);
            abort_add(db, msg);
        }
        int has = hwi_db_has_image(db, photo);
        long count = same || isnew ? hwi_db_label_count(db, id) : 0;
        if (has < 0 || count < 0) {
            snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
            abort_add(db, msg);
        }
        if (!has) {
            snprintf(msg, sizeof msg,
                     "%s:%ld: no photo '%s' in the store %s (add it first: "
                     "hwi-store add --split query)",
                     name, c.line, photo, path);
            abort_add(db, msg);
        }
        if (same && count == 0) {
            snprintf(msg, sizeof msg,
                     "%s:%ld: no individual '%s' in the store %s (for a "
                     "new one the decision is 'new')",
                     name, c.line, id, path);
            abort_add(db, msg);
        }
        if (isnew && count > 0) {
            snprintf(msg, sizeof msg,
                     "%s:%ld: individual '%s' exists already (%ld photos); "
                     "'new' needs a new id",
                     name, c.line, id, count);
            abort_add(db, msg);
        }
        if (((same || isnew) && hwi_db_relabel(db, photo, id)) ||
            hwi_db_put_decision(db, photo, d, *id ? id : NULL)) {
            snprintf(msg, sizeof msg, "%s:%ld: %s", name, c.line, hwi_db_errmsg(db));
            abort_add(db, msg);
        }
        n++;
    }
    if (rc < 0)
        abort_add(db, c.err);
    if (hwi_db_commit(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    hwi_db_close(db);
    hwi_csv_close(&c);
    hwi_fclose_in(fp);
    return HWI_EXIT_OK;
}

static int cmd_merge_ids(const char *path, const char *keep, const char *merged)
{
    char msg[2 * HWI_ERRLEN];
    struct hwi_db *db = open_db(path, HWI_DB_WRITE);
    if (hwi_db_begin(db) || hwi_db_merge_ids(db, keep, merged) < 0 || hwi_db_commit(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static int cmd_remove(const char *path, char **photo, int n)
{
    char msg[2 * HWI_ERRLEN];
    struct hwi_db *db = open_db(path, HWI_DB_WRITE);
    if (hwi_db_begin(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    for (int i = 0; i < n; i++)
        if (hwi_db_remove(db, photo[i])) {
            snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
            abort_add(db, msg);
        }
    if (hwi_db_commit(db)) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static int individual_one(void *ctx, const char *label, long photos, const char *first,
                          const char *last)
{
    (void)ctx;
    printf("%s\t%ld\t%s\t%s\n", label, photos, first ? first : "-", last ? last : "-");
    return 0;
}

static int cmd_individuals(const char *path)
{
    struct hwi_db *db = open_db(path, HWI_DB_READONLY); /* a v1 store: no dates */
    puts("# id\tphotos\tfirst_seen\tlast_seen");
    if (hwi_db_each_individual(db, individual_one, NULL))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static int catalogue_one(void *ctx, const char *const *f)
{
    FILE *fp = ctx;
    for (int i = 0; i < HWI_DB_CATALOGUE_NCOL; i++) {
        if (i)
            fputc(',', fp);
        if (f[i])
            hwi_csv_put_field(fp, f[i]);
    }
    fputc('\n', fp);
    return 0;
}

static int cmd_export_catalogue(const struct opts *o, const char *path)
{
    char err[HWI_ERRLEN];
    struct hwi_db *db = open_db(path, HWI_DB_READONLY); /* v1: no sighting data */
    struct hwi_outfile out;
    if (hwi_outfile_open(&out, o->output, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    for (int i = 0; hwi_db_catalogue_columns[i]; i++)
        fprintf(out.fp, "%s%s", i ? "," : "", hwi_db_catalogue_columns[i]);
    fputc('\n', out.fp);
    if (hwi_db_each_photo(db, catalogue_one, out.fp))
        hwi_die(HWI_EXIT_FAIL, "%s: %s", path, hwi_db_errmsg(db));
    if (hwi_outfile_commit(&out, err))
        hwi_die(HWI_EXIT_FAIL, "%s", err);
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static int cmd_merge(const char *path, char **other, int n)
{
    char msg[2 * HWI_ERRLEN];
    struct hwi_db *db = open_db(path, HWI_DB_WRITE);
    long got = hwi_db_merge(db, (const char *const *)other, n);
    if (got < 0) {
        snprintf(msg, sizeof msg, "%s: %s", path, hwi_db_errmsg(db));
        abort_add(db, msg);
    }
    hwi_db_close(db);
    return HWI_EXIT_OK;
}

static _Noreturn __attribute__((format(printf, 1, 0))) void bad_usage(const char *fmt,
                                                                      const char *arg)
{
    hwi_warn(fmt, arg);
    usage(HWI_EXIT_USAGE);
}

int main(int argc, char **argv)
{
    hwi_program_init(argv[0]);

    /* The command comes first; options follow it. */
    const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (cmd) {
        argc--;
        argv++;
    }
    struct opts o = {.kind = "features", .verbose = isatty(STDERR_FILENO)};
    int c;
    while ((c = getopt_long(argc, argv, "m:l:o:fv", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o.model = optarg; break;
        case OPT_KIND:
            if (strcmp(optarg, "features") && strcmp(optarg, "logits"))
                hwi_die(HWI_EXIT_USAGE,
                        "invalid value '%s' for --kind: expected features or logits", optarg);
            o.kind = optarg;
            break;
        case OPT_SPLIT: o.split = optarg; break;
        case 'l': o.labels = optarg; break;
        case 'o': o.output = optarg; break;
        case 'f': o.force = 1; break;
        case 'v': o.verbose = 1; break;
        case OPT_ROOT: o.root = optarg; break;
        case OPT_CFG: o.cfg = optarg; break;
        case OPT_WEIGHTS: o.weights = optarg; break;
        case OPT_HELP: usage(HWI_EXIT_OK);
        case OPT_VERSION: hwi_print_version(); return HWI_EXIT_OK;
        default: usage(HWI_EXIT_USAGE);
        }
    }
    if (!cmd)
        bad_usage("missing command: create, add, export, list, relabel or decisions%s", "");
    int args = argc - optind;
    const char *store = args > 0 ? argv[optind] : NULL;
    int is_add = !strcmp(cmd, "add"), is_export = !strcmp(cmd, "export");
    int is_relabel = !strcmp(cmd, "relabel"), is_decisions = !strcmp(cmd, "decisions");
    int is_merge_ids = !strcmp(cmd, "merge-ids"), is_remove = !strcmp(cmd, "remove");
    int is_individuals = !strcmp(cmd, "individuals");
    int is_catalogue = !strcmp(cmd, "export-catalogue"), is_merge = !strcmp(cmd, "merge");
    if (!is_add && !is_export && !is_relabel && !is_decisions && !is_merge_ids && !is_remove &&
        !is_individuals && !is_catalogue && !is_merge && strcmp(cmd, "create") &&
        strcmp(cmd, "list"))
        bad_usage("unknown command '%s': expected create, add, export, list, relabel, "
                  "decisions, merge-ids, remove, individuals, export-catalogue or merge",
                  cmd);
    if (!store)
        bad_usage("%s: missing STORE operand", cmd);
    int maxargs = is_relabel || is_merge_ids ? 3 : is_add || is_decisions ? 2 : 1;
    if (is_remove)
        maxargs = INT_MAX;
    if (is_merge)
        maxargs = 1 + HWI_DB_MERGE_MAX;
    if (args > maxargs)
        bad_usage("extra operand '%s'", argv[optind + maxargs]);
    if (((is_relabel || is_merge_ids) && args < 3) ||
        ((is_decisions || is_remove || is_merge) && args < 2))
        bad_usage("%s: missing operand", cmd);
    if (!is_add && (o.root || o.cfg || o.weights))
        bad_usage("--root, --cfg and --weights go with add, not %s", cmd);
    if ((is_add || is_export) && !o.model)
        bad_usage("%s needs --model", cmd);
    if (o.model && (!*o.model || strpbrk(o.model, "\t\n\r")))
        hwi_die(HWI_EXIT_USAGE, "invalid value '%s' for --model: %s", o.model,
                *o.model ? "a tab or line break in the name" : "an empty name");
    if (!is_add && !is_export && (o.model || o.split || strcmp(o.kind, "features")))
        bad_usage("%s takes no --model, --kind or --split", cmd);
    if (!is_add && o.labels)
        bad_usage("--labels goes with add, not %s", cmd);
    if ((!is_export && o.force) || (!is_export && !is_catalogue && o.output))
        bad_usage("--output and --force go with export, not %s", cmd);
    if (is_add && o.split) {
        const char *one[5];
        char err[HWI_ERRLEN];
        if (hwi_db_parse_splits(o.split, one, err) != 1)
            hwi_die(HWI_EXIT_USAGE,
                    "invalid value '%s' for --split: add takes one of "
                    "train, val, test, gallery, query",
                    o.split);
    }

    if (!strcmp(cmd, "create")) {
        hwi_db_close(open_db(store, HWI_DB_CREATE));
        return HWI_EXIT_OK;
    }
    if (is_add) {
        const char *file = args > 1 ? argv[optind + 1] : "-";
        if (o.labels && !strcmp(o.labels, "-") && !strcmp(file, "-"))
            hwi_die(HWI_EXIT_USAGE, "--labels and the vectors cannot both be standard input");
        return cmd_add(&o, store, file);
    }
    if (is_export)
        return cmd_export(&o, store);
    if (is_relabel)
        return cmd_relabel(store, argv[optind + 1], argv[optind + 2]);
    if (is_decisions)
        return cmd_decisions(store, argv[optind + 1]);
    if (is_merge_ids)
        return cmd_merge_ids(store, argv[optind + 1], argv[optind + 2]);
    if (is_remove)
        return cmd_remove(store, argv + optind + 1, args - 1);
    if (is_individuals)
        return cmd_individuals(store);
    if (is_catalogue)
        return cmd_export_catalogue(&o, store);
    if (is_merge)
        return cmd_merge(store, argv + optind + 1, args - 1);
    return cmd_list(store);
}
