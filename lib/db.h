/* db.h: the hwi store, an SQLite database of images, models and embeddings
 * (schema in data/schema.sql, described in hwi-store(5)).
 *
 * The only module that includes sqlite3.h.  Every function returns 0 (or a
 * documented count/flag) on success and -1 on error, with the message in
 * hwi_db_errmsg(db).  Bulk writes belong between hwi_db_begin and
 * hwi_db_commit; a second writer waits (busy timeout) rather than failing. */
#ifndef HWI_DB_H
#define HWI_DB_H

#include "err.h"

#include <stdint.h>

#define HWI_DB_SCHEMA_VERSION 2 /* a version 1 store is upgraded when opened for writing */
#define HWI_DB_BUSY_MS 30000

enum {
    HWI_DB_READONLY = 0, /* open an existing store read-only */
    HWI_DB_WRITE = 1,    /* open an existing store for writing */
    HWI_DB_CREATE = 2,   /* open for writing, creating it if needed */
};

struct hwi_db;

/* Open the store at PATH.  Returns NULL with a message in ERR on failure
 * (missing file, not an hwi store, newer schema version). */
struct hwi_db *hwi_db_open(const char *path, int mode, char *err);
void hwi_db_close(struct hwi_db *db);
const char *hwi_db_errmsg(const struct hwi_db *db);

int hwi_db_begin(struct hwi_db *db);
int hwi_db_commit(struct hwi_db *db);
void hwi_db_rollback(struct hwi_db *db);

/* Check the store before a whole-store read (list, export, a gallery):
 * SQLite's page structure (PRAGMA quick_check) and that every vector
 * belongs to a stored image and model (PRAGMA foreign_key_check), so that
 * a store damaged or edited by another tool fails here, naming what is
 * wrong, instead of reading as fewer rows.  Costs about one pass over the
 * file.  Returns 0, or -1 with the message in hwi_db_errmsg(db). */
int hwi_db_verify(struct hwi_db *db);

/* Insert image NAME or update its label and split (LABEL NULL keeps the
 * stored label; SPLIT NULL keeps the stored split, 'train' for a new row).
 * Its id goes to *ID when ID is not NULL. */
int hwi_db_put_image(struct hwi_db *db, const char *name, const char *label, const char *split,
                     int64_t *id);

/* Add photo NAME (its key, photo.h) as hwi_db_put_image does, with its
 * content hash SHA256 (64 hex digits, or NULL when unknown), refusing to
 * replace a different photo: -1 when NAME is stored with another hash, or
 * with another label when LABEL is given (relabel with hwi_db_relabel).
 * The same photo again only fills what was unknown (hash, label). */
int hwi_db_put_photo(struct hwi_db *db, const char *name, const char *label, const char *split,
                     const char *sha256, int64_t *id);

/* Record the sha256 of model MODEL_ID's cfg and weights files (either may
 * be NULL: left as stored).  -1 when one is stored already and differs. */
int hwi_db_model_sums(struct hwi_db *db, int64_t model_id, const char *cfg_sha256,
                      const char *weights_sha256);

/* Set the label of photo NAME (NULL: unknown).  -1 when there is no such
 * photo ("no photo 'NAME' in the store"). */
int hwi_db_relabel(struct hwi_db *db, const char *name, const char *label);

/* The number of photos labelled LABEL, or -1. */
long hwi_db_label_count(struct hwi_db *db, const char *label);

/* 1 if photo NAME is stored, 0 if not, -1 on error. */
int hwi_db_has_image(struct hwi_db *db, const char *name);

/* Record a reviewer's DECISION (same, new, not_same, skip) on photo NAME
 * with individual ID (NULL for none).  -1 on an unknown photo. */
int hwi_db_put_decision(struct hwi_db *db, const char *name, const char *decision,
                        const char *id);

/* Two individuals are one: every photo labelled MERGED becomes KEEP.
 * Returns the number of photos relabelled, or -1 (also when either has no
 * photo, or they are the same). */
long hwi_db_merge_ids(struct hwi_db *db, const char *keep, const char *merged);

/* Delete photo NAME with its vectors and decisions.  -1 on an unknown
 * photo. */
int hwi_db_remove(struct hwi_db *db, const char *name);

/* Called for each individual (label) with its number of photos and its
 * first and last sighting date (NULL when no photo of it has a date). */
typedef int (*hwi_db_individual_fn)(void *ctx, const char *label, long photos,
                                    const char *first, const char *last);

/* Call FN for every label, in label order.  Returns 0, FN's non-zero
 * value, or -1. */
int hwi_db_each_individual(struct hwi_db *db, hwi_db_individual_fn fn, void *ctx);

/* The catalogue's columns, as hwi_db_each_photo gives them. */
#define HWI_DB_CATALOGUE_NCOL 11
extern const char *const hwi_db_catalogue_columns[]; /* "photo", ..., NULL */

/* Called for each photo with its HWI_DB_CATALOGUE_NCOL fields as text
 * (NULL when unknown). */
typedef int (*hwi_db_photo_fn)(void *ctx, const char *const *field);

/* Call FN for every photo in name order.  Returns 0, FN's value, or -1. */
int hwi_db_each_photo(struct hwi_db *db, hwi_db_photo_fn fn, void *ctx);

/* Find model NAME; with CREATE, add it if missing (CFG and WEIGHTS may be
 * NULL).  Returns 1 and sets *ID if found or created, 0 if missing, -1. */
int hwi_db_model(struct hwi_db *db, const char *name, const char *cfg, const char *weights,
                 int create, int64_t *id);

/* Store or replace the vector of (IMAGE_ID, MODEL_ID, KIND). */
int hwi_db_put_embedding(struct hwi_db *db, int64_t image_id, int64_t model_id,
                         const char *kind, const float *vec, uint32_t dim);

/* Store or replace the DIM column names of (MODEL_ID, KIND). */
int hwi_db_put_columns(struct hwi_db *db, int64_t model_id, const char *kind,
                       char *const *names, uint32_t dim);

/* Load the column names of (MODEL_ID, KIND) into a malloc'd array of
 * malloc'd strings.  Returns the count (0 if none stored), or -1. */
long hwi_db_columns(struct hwi_db *db, int64_t model_id, const char *kind, char ***names);

/* Called for each stored vector; a non-zero return stops the scan and is
 * returned by hwi_db_each_embedding. */
typedef int (*hwi_db_embedding_fn)(void *ctx, const char *image, const char *label,
                                   const char *split, const float *vec, uint32_t dim);

/* Call FN for each vector of (MODEL_ID, KIND), in image-name order, only
 * for images in SPLIT unless SPLIT is NULL.  LABEL is NULL when unknown.
 * Returns 0, FN's non-zero value, or -1 on a database error. */
int hwi_db_each_embedding(struct hwi_db *db, int64_t model_id, const char *kind,
                          const char *split, hwi_db_embedding_fn fn, void *ctx);

/* The splits an image may be in (data/schema.sql), NULL-terminated. */
extern const char *const hwi_db_splits[];

/* Parse LIST, comma-separated split names ("train,val"), into OUT (room for
 * 5) as pointers into hwi_db_splits.  Returns the count, or -1 with a
 * message in ERR (an unknown or repeated name). */
int hwi_db_parse_splits(const char *list, const char **out, char *err);

/* The dimension of the stored vectors of (MODEL_ID, KIND): the dimension,
 * 0 if none are stored, -1 on error (also when they differ). */
long hwi_db_dim(struct hwi_db *db, int64_t model_id, const char *kind);

/* Called for each (model, kind, split, dim) with its number of vectors. */
typedef int (*hwi_db_count_fn)(void *ctx, const char *model, const char *kind,
                               const char *split, long dim, long count);

/* Call FN for every group of stored vectors, ordered by model, kind, split
 * and dim.  Returns 0, FN's non-zero value, or -1 on a database error. */
int hwi_db_each_count(struct hwi_db *db, hwi_db_count_fn fn, void *ctx);

/* Called for each photo whose content hash is known. */
typedef int (*hwi_db_hash_fn)(void *ctx, const char *name, const char *sha256);

/* Call FN for every photo with a known sha256 (none in a version 1 store
 * opened read-only).  Returns 0, FN's non-zero value, or -1. */
int hwi_db_each_hash(struct hwi_db *db, hwi_db_hash_fn fn, void *ctx);

/* The most stores hwi_db_merge takes at a time (SQLite attaches 10). */
#define HWI_DB_MERGE_MAX 8

/* Merge the stores PATH[N] into DB in one transaction: every photo with
 * its label, split, hash, sighting data, vectors and decisions, and every
 * model DB lacks.  Refused, with nothing changed, when a photo key is in
 * DB already (or in an earlier PATH), when a model of the same name was
 * made from another cfg or weights file (both checksums known and
 * different), has vectors of another dimension or other column names, or
 * when a PATH is not a sound hwi store.  Returns the number of photos
 * merged, or -1 with the message in hwi_db_errmsg(db). */
long hwi_db_merge(struct hwi_db *db, const char *const *path, int n);

#endif /* HWI_DB_H */
