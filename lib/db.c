/* db.c: the hwi store on SQLite (see db.h and hwi-store(5)).
 * Statements follow prepare/bind/step/finalize with one exit path each;
 * vectors are stored as little-endian float32 BLOBs. */
#include <config.h>

#include "db.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h" /* HWI_SCHEMA_SQL, made from data/schema.sql */

struct hwi_db {
    sqlite3 *h;
    char err[HWI_ERRLEN];
    unsigned char *blob; /* scratch for little-endian vectors */
    size_t blobcap;
    float *vec; /* scratch for decoded vectors */
    size_t veccap;
    sqlite3_stmt *put_image; /* cached statements of the bulk-insert path, */
    sqlite3_stmt *put_emb;   /* prepared at first use, finalized at close */
    int version;             /* the schema version (a read-only store may be 1) */
};

static int fail(struct hwi_db *db, const char *what)
{
    return hwi_seterr(db->err, "%s: %s", what, sqlite3_errmsg(db->h));
}

const char *hwi_db_errmsg(const struct hwi_db *db)
{
    return db->err;
}

static int exec(struct hwi_db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hwi_seterr(db->err, "%s", msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The first column of the first row of SQL as an integer, or -1. */
static long long query_int(struct hwi_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fail(db, "reading the schema");
    sqlite3_finalize(st);
    return v;
}

struct hwi_db *hwi_db_open(const char *path, int mode, char *err)
{
    struct hwi_db *db = calloc(1, sizeof *db);
    if (!db) {
        hwi_seterr(err, "%s: out of memory", path);
        return NULL;
    }
    int flags = mode == HWI_DB_READONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (mode == HWI_DB_CREATE)
        flags |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
        hwi_seterr(err, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(db->h, HWI_DB_BUSY_MS);
    sqlite3_extended_result_codes(db->h, 1);
    if (exec(db, "PRAGMA foreign_keys = ON")) {
        hwi_seterr(err, "%s: %s", path, db->err);
        goto fail;
    }
    long long version = query_int(db, "PRAGMA user_version");
    long long tables = query_int(db, "SELECT count(*) FROM sqlite_schema");
    if (version < 0 || tables < 0) {
        hwi_seterr(err, "%s: %s", path, db->err);
        goto fail;
    }
    if (version > HWI_DB_SCHEMA_VERSION) {
        hwi_seterr(err, "%s: store schema version %lld is newer than this hwi's (%d)", path,
                   version, HWI_DB_SCHEMA_VERSION);
        goto fail;
    }
    if (version == 0 && tables > 0) {
        hwi_seterr(err, "%s: not an hwi store (user_version 0 and %lld tables)", path, tables);
        goto fail;
    }
    db->version = version ? (int)version : HWI_DB_SCHEMA_VERSION;
    if (version == 1 && mode != HWI_DB_READONLY)
        db->version = HWI_DB_SCHEMA_VERSION; /* upgraded below */
    if (version == 0) {
        if (mode != HWI_DB_CREATE) {
            hwi_seterr(err, "%s: empty store (create it first)", path);
            goto fail;
        }
        if (exec(db, "BEGIN IMMEDIATE") || exec(db, HWI_SCHEMA_SQL) ||
            exec(db, "PRAGMA user_version = 2") || exec(db, "COMMIT")) {
            hwi_seterr(err, "%s: creating the schema: %s", path, db->err);
            goto fail;
        }
    } else if (version == 1 && mode != HWI_DB_READONLY) {
        /* v1 -> v2: the content hash, the sighting data and the model
         * checksums, all nullable; every row and vector stays */
        if (exec(db, "BEGIN IMMEDIATE") ||
            exec(db, "ALTER TABLE images ADD COLUMN sha256 TEXT;"
                     "ALTER TABLE images ADD COLUMN date TEXT;"
                     "ALTER TABLE images ADD COLUMN place TEXT;"
                     "ALTER TABLE images ADD COLUMN lat REAL;"
                     "ALTER TABLE images ADD COLUMN lon REAL;"
                     "ALTER TABLE images ADD COLUMN encounter TEXT;"
                     "ALTER TABLE images ADD COLUMN photographer TEXT;"
                     "ALTER TABLE images ADD COLUMN note TEXT;"
                     "ALTER TABLE models ADD COLUMN cfg_sha256 TEXT;"
                     "ALTER TABLE models ADD COLUMN weights_sha256 TEXT;"
                     "PRAGMA user_version = 2") ||
            exec(db, HWI_SCHEMA_SQL) || /* the new tables */
            exec(db, "COMMIT")) {
            hwi_seterr(err, "%s: upgrading the schema from version 1: %s", path, db->err);
            hwi_db_rollback(db);
            goto fail;
        }
    }
    return db;
fail:
    hwi_db_close(db);
    return NULL;
}

void hwi_db_close(struct hwi_db *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->put_image);
    sqlite3_finalize(db->put_emb);
    sqlite3_close(db->h);
    free(db->blob);
    free(db->vec);
    free(db);
}

int hwi_db_begin(struct hwi_db *db)
{
    return exec(db, "BEGIN IMMEDIATE");
}

int hwi_db_commit(struct hwi_db *db)
{
    return exec(db, "COMMIT");
}

void hwi_db_rollback(struct hwi_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* Prepare SQL, or record the error.  The statement is cached by SQLite's
 * own prepare cost only; these calls are not on a per-value hot path. */
static sqlite3_stmt *prepare(struct hwi_db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        fail(db, "preparing a statement");
        return NULL;
    }
    return st;
}

/* The statement in *SLOT, prepared from SQL at the first call and reset
 * with its bindings cleared at later ones; NULL with the error recorded.
 * The caller does not finalize it (hwi_db_close does). */
static sqlite3_stmt *cached(struct hwi_db *db, sqlite3_stmt **slot, const char *sql)
{
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return *slot;
    }
    return *slot = prepare(db, sql);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int hwi_db_put_image(struct hwi_db *db, const char *name, const char *label, const char *split,
                     int64_t *id)
{
    int rc = -1;
    sqlite3_stmt *st = cached(db, &db->put_image,
                              "INSERT INTO images (name, label, split) "
                              "VALUES (?1, ?2, coalesce(?3, 'train')) "
                              "ON CONFLICT (name) DO UPDATE SET "
                              "label = coalesce(?2, label), "
                              "split = coalesce(?3, split) "
                              "RETURNING id");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, label);
    bind_text_or_null(st, 3, split);
    if (sqlite3_step(st) != SQLITE_ROW) {
        hwi_seterr(db->err, "image '%s': %s", name, sqlite3_errmsg(db->h));
        goto out;
    }
    if (id)
        *id = sqlite3_column_int64(st, 0);
    rc = 0;
out:
    sqlite3_reset(st);
    return rc;
}

int hwi_db_model(struct hwi_db *db, const char *name, const char *cfg, const char *weights,
                 int create, int64_t *id)
{
    int rc = -1;
    sqlite3_stmt *st = prepare(db, "SELECT id FROM models WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = 1;
        goto out;
    }
    if (step != SQLITE_DONE) {
        fail(db, "finding a model");
        goto out;
    }
    if (!create) {
        rc = 0;
        goto out;
    }
    sqlite3_finalize(st);
    if (!(st = prepare(db, "INSERT INTO models (name, cfg, weights) VALUES (?1, ?2, ?3)")))
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, cfg);
    bind_text_or_null(st, 3, weights);
    if (sqlite3_step(st) != SQLITE_DONE) {
        hwi_seterr(db->err, "model '%s': %s", name, sqlite3_errmsg(db->h));
        goto out;
    }
    *id = sqlite3_last_insert_rowid(db->h);
    rc = 1;
out:
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_put_embedding(struct hwi_db *db, int64_t image_id, int64_t model_id,
                         const char *kind, const float *vec, uint32_t dim)
{
    size_t n = (size_t)dim * 4;
    if (n > db->blobcap) {
        unsigned char *p = realloc(db->blob, n);
        if (!p)
            return hwi_seterr(db->err, "out of memory");
        db->blob = p;
        db->blobcap = n;
    }
    for (uint32_t i = 0; i < dim; i++) {
        uint32_t bits;
        memcpy(&bits, &vec[i], 4);
        for (int b = 0; b < 4; b++)
            db->blob[4 * (size_t)i + b] = (unsigned char)(bits >> 8 * b);
    }
    int rc = -1;
    sqlite3_stmt *st = cached(db, &db->put_emb,
                              "INSERT OR REPLACE INTO embeddings "
                              "(image_id, model_id, kind, dim, vec) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, image_id);
    sqlite3_bind_int64(st, 2, model_id);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, dim);
    sqlite3_bind_blob(st, 5, db->blob, (int)n, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        fail(db, "storing an embedding");
    else
        rc = 0;
    sqlite3_reset(st);
    return rc;
}

int hwi_db_put_columns(struct hwi_db *db, int64_t model_id, const char *kind,
                       char *const *names, uint32_t dim)
{
    int rc = -1;
    sqlite3_stmt *del = prepare(db, "DELETE FROM columns WHERE model_id = ?1 AND kind = ?2");
    sqlite3_stmt *ins = prepare(db, "INSERT INTO columns (model_id, kind, col, name) "
                                    "VALUES (?1, ?2, ?3, ?4)");
    if (!del || !ins)
        goto out;
    sqlite3_bind_int64(del, 1, model_id);
    sqlite3_bind_text(del, 2, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE) {
        fail(db, "replacing column names");
        goto out;
    }
    for (uint32_t i = 0; i < dim; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, model_id);
        sqlite3_bind_text(ins, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, i);
        sqlite3_bind_text(ins, 4, names[i], -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fail(db, "storing column names");
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    return rc;
}

long hwi_db_columns(struct hwi_db *db, int64_t model_id, const char *kind, char ***names)
{
    *names = NULL;
    long n = 0, cap = 0, rc = -1;
    char **v = NULL;
    sqlite3_stmt *st = prepare(db, "SELECT name FROM columns WHERE model_id = ?1 "
                                   "AND kind = ?2 ORDER BY col");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, model_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **p = realloc(v, (size_t)cap * sizeof *p);
            if (!p) {
                hwi_seterr(db->err, "out of memory");
                goto out;
            }
            v = p;
        }
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!name) { /* NOT NULL in the schema, but another tool may break it */
            hwi_seterr(db->err, "%s column %ld has no name (NULL in columns.name)", kind, n);
            goto out;
        }
        if (!(v[n] = strdup(name))) {
            hwi_seterr(db->err, "out of memory");
            goto out;
        }
        n++;
    }
    if (step != SQLITE_DONE) {
        fail(db, "reading column names");
        goto out;
    }
    *names = v;
    v = NULL;
    rc = n;
out:
    if (v)
        for (long i = 0; i < n; i++)
            free(v[i]);
    free(v);
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_each_embedding(struct hwi_db *db, int64_t model_id, const char *kind,
                          const char *split, hwi_db_embedding_fn fn, void *ctx)
{
    int rc = -1;
    sqlite3_stmt *st = prepare(db, "SELECT i.name, i.label, i.split, e.dim, e.vec "
                                   "FROM embeddings e JOIN images i ON i.id = e.image_id "
                                   "WHERE e.model_id = ?1 AND e.kind = ?2 "
                                   "AND (?3 IS NULL OR i.split = ?3) ORDER BY i.name");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, model_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, split);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *label = (const char *)sqlite3_column_text(st, 1);
        const char *sp = (const char *)sqlite3_column_text(st, 2);
        sqlite3_int64 dim = sqlite3_column_int64(st, 3);
        const unsigned char *b = sqlite3_column_blob(st, 4);
        int bytes = sqlite3_column_bytes(st, 4);
        if (!name || !sp) { /* NOT NULL in the schema; another tool may break it */
            hwi_seterr(db->err, "%s%s%s: NULL %s in the images table",
                       name ? "image '" : "an image", name ? name : "", name ? "'" : "",
                       name ? "split" : "name");
            goto out;
        }
        if (dim <= 0 || bytes != 4 * dim) {
            hwi_seterr(db->err, "image '%s': vector of %d bytes for dimension %lld", name,
                       bytes, (long long)dim);
            goto out;
        }
        if ((size_t)dim > db->veccap) {
            float *p = realloc(db->vec, (size_t)dim * sizeof *p);
            if (!p) {
                hwi_seterr(db->err, "out of memory");
                goto out;
            }
            db->vec = p;
            db->veccap = (size_t)dim;
        }
        for (sqlite3_int64 i = 0; i < dim; i++) {
            const unsigned char *q = b + 4 * i;
            uint32_t bits = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                            (uint32_t)q[3] << 24;
            memcpy(&db->vec[i], &bits, 4);
        }
        int stop = fn(ctx, name, label, sp, db->vec, (uint32_t)dim);
        if (stop) {
            rc = stop;
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        fail(db, "reading embeddings");
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

const char *const hwi_db_splits[] = {"train", "val", "test", "gallery", "query", NULL};

int hwi_db_parse_splits(const char *list, const char **out, char *err)
{
    int n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int i;
        for (i = 0; hwi_db_splits[i]; i++)
            if (strlen(hwi_db_splits[i]) == len && strncmp(p, hwi_db_splits[i], len) == 0)
                break;
        if (!hwi_db_splits[i])
            return hwi_seterr(err,
                              "unknown split '%.*s' (expected train, val, test, "
                              "gallery or query)",
                              (int)len, p);
        for (int j = 0; j < n; j++)
            if (out[j] == hwi_db_splits[i])
                return hwi_seterr(err, "split '%s' given twice", hwi_db_splits[i]);
        out[n++] = hwi_db_splits[i];
        if (!p[len])
            return n;
        p += len + 1;
    }
}

long hwi_db_dim(struct hwi_db *db, int64_t model_id, const char *kind)
{
    long rc = -1;
    sqlite3_stmt *st = prepare(db, "SELECT min(dim), max(dim) FROM embeddings "
                                   "WHERE model_id = ?1 AND kind = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, model_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        fail(db, "reading dimensions");
        goto out;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        rc = 0;
        goto out;
    }
    sqlite3_int64 lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1);
    if (lo != hi) {
        hwi_seterr(db->err, "%s vectors of dimensions %lld to %lld", kind, (long long)lo,
                   (long long)hi);
        goto out;
    }
    rc = (long)lo;
out:
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_each_count(struct hwi_db *db, hwi_db_count_fn fn, void *ctx)
{
    int rc = -1;
    sqlite3_stmt *st = prepare(db, "SELECT m.name, e.kind, i.split, e.dim, count(*) "
                                   "FROM embeddings e JOIN images i ON i.id = e.image_id "
                                   "JOIN models m ON m.id = e.model_id "
                                   "GROUP BY m.name, e.kind, i.split, e.dim "
                                   "ORDER BY m.name, e.kind, i.split, e.dim");
    if (!st)
        return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *model = (const char *)sqlite3_column_text(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *split = (const char *)sqlite3_column_text(st, 2);
        if (!model || !kind || !split) { /* NOT NULL in the schema */
            hwi_seterr(db->err, "NULL %s in the store",
                       !model  ? "model name"
                       : !kind ? "embedding kind"
                               : "image split");
            goto out;
        }
        int stop = fn(ctx, model, kind, split, (long)sqlite3_column_int64(st, 3),
                      (long)sqlite3_column_int64(st, 4));
        if (stop) {
            rc = stop;
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        fail(db, "counting vectors");
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_verify(struct hwi_db *db)
{
    int rc = -1;
    sqlite3_stmt *st = prepare(db, "PRAGMA quick_check(1)");
    if (!st)
        return -1;
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        fail(db, "checking the store");
        goto out;
    }
    const char *r = (const char *)sqlite3_column_text(st, 0);
    if (!r || strcmp(r, "ok")) {
        /* one line: "*** in database main ***\nPage 2: ..." -> "Page 2: ..." */
        static const char head[] = "*** in database main ***\n";
        if (r && !strncmp(r, head, sizeof head - 1))
            r += sizeof head - 1;
        hwi_seterr(db->err, "corrupt store (PRAGMA quick_check): %s", r ? r : "no answer");
        for (char *p = db->err; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        goto out;
    }
    sqlite3_finalize(st);
    if (!(st = prepare(db, "PRAGMA foreign_key_check")))
        return -1;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *table = (const char *)sqlite3_column_text(st, 0);
        const char *parent = (const char *)sqlite3_column_text(st, 2);
        hwi_seterr(db->err,
                   "corrupt store: a row of table %s refers to a missing row of "
                   "table %s",
                   table ? table : "?", parent ? parent : "?");
        goto out;
    }
    if (step != SQLITE_DONE) {
        fail(db, "checking the store");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_put_photo(struct hwi_db *db, const char *name, const char *label, const char *split,
                     const char *sha256, int64_t *id)
{
    int rc = -1;
    sqlite3_stmt *st = prepare(db, "SELECT label, sha256 FROM images WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *had = (const char *)sqlite3_column_text(st, 0);
        const char *hash = (const char *)sqlite3_column_text(st, 1);
        if (sha256 && hash && strcmp(sha256, hash)) {
            hwi_seterr(db->err,
                       "image '%s': a different photo is stored under this name "
                       "(sha256 %.12s..., this one %.12s...); remove it first, or name "
                       "photos by their path under the photo root",
                       name, hash, sha256);
            goto out;
        }
        if (label && had && strcmp(label, had)) {
            hwi_seterr(db->err,
                       "image '%s': stored as '%s', labelled '%s' here; change "
                       "a label with 'hwi-store relabel'",
                       name, had, label);
            goto out;
        }
    } else if (step != SQLITE_DONE) {
        fail(db, "finding an image");
        goto out;
    }
    sqlite3_finalize(st);
    st = prepare(db, "UPDATE images SET sha256 = coalesce(sha256, ?2) WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, sha256);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fail(db, "storing a hash");
        goto out;
    }
    if (hwi_db_put_image(db, name, label, split, id))
        goto out;
    if (sha256 && step == SQLITE_DONE) {
        sqlite3_reset(st);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fail(db, "storing a hash");
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_model_sums(struct hwi_db *db, int64_t model_id, const char *cfg_sha256,
                      const char *weights_sha256)
{
    int rc = -1;
    const char *what[2] = {cfg_sha256, weights_sha256};
    static const char *const col[2] = {"cfg_sha256", "weights_sha256"};
    for (int i = 0; i < 2; i++) {
        if (!what[i])
            continue;
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT %s, name FROM models WHERE id = ?1", col[i]);
        sqlite3_stmt *st = prepare(db, sql);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, model_id);
        if (sqlite3_step(st) != SQLITE_ROW) {
            fail(db, "finding a model");
            sqlite3_finalize(st);
            return -1;
        }
        const char *had = (const char *)sqlite3_column_text(st, 0);
        if (had && strcmp(had, what[i])) {
            hwi_seterr(db->err,
                       "model '%s': its %s file has changed (sha256 %.12s... in the "
                       "store, %.12s... now): add under another model name",
                       (const char *)sqlite3_column_text(st, 1), i ? "weights" : "cfg", had,
                       what[i]);
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_finalize(st);
        snprintf(sql, sizeof sql, "UPDATE models SET %s = ?2 WHERE id = ?1", col[i]);
        if (!(st = prepare(db, sql)))
            return -1;
        sqlite3_bind_int64(st, 1, model_id);
        sqlite3_bind_text(st, 2, what[i], -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        if (step != SQLITE_DONE)
            return fail(db, "storing a checksum");
    }
    rc = 0;
    return rc;
}

int hwi_db_relabel(struct hwi_db *db, const char *name, const char *label)
{
    sqlite3_stmt *st = prepare(db, "UPDATE images SET label = ?2 WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, label);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return fail(db, "relabelling");
    if (sqlite3_changes(db->h) == 0)
        return hwi_seterr(db->err, "no photo '%s' in the store", name);
    return 0;
}

long hwi_db_label_count(struct hwi_db *db, const char *label)
{
    sqlite3_stmt *st = prepare(db, "SELECT count(*) FROM images WHERE label = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, label, -1, SQLITE_TRANSIENT);
    long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    else
        fail(db, "counting photos");
    sqlite3_finalize(st);
    return n;
}

int hwi_db_has_image(struct hwi_db *db, const char *name)
{
    sqlite3_stmt *st = prepare(db, "SELECT 1 FROM images WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st), rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
    if (rc < 0)
        fail(db, "finding an image");
    sqlite3_finalize(st);
    return rc;
}

int hwi_db_put_decision(struct hwi_db *db, const char *name, const char *decision,
                        const char *id)
{
    sqlite3_stmt *st = prepare(db, "INSERT INTO decisions (image_id, decision, id) "
                                   "SELECT id, ?2, ?3 FROM images WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, decision, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 3, id);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return hwi_seterr(db->err, "decision '%s': %s", decision, sqlite3_errmsg(db->h));
    if (sqlite3_changes(db->h) == 0)
        return hwi_seterr(db->err, "no photo '%s' in the store", name);
    return 0;
}

long hwi_db_merge_ids(struct hwi_db *db, const char *keep, const char *merged)
{
    if (!strcmp(keep, merged))
        return hwi_seterr(db->err, "'%s' given twice", keep);
    long a = hwi_db_label_count(db, keep), b;
    if (a < 0 || (b = hwi_db_label_count(db, merged)) < 0)
        return -1;
    if (!a || !b)
        return hwi_seterr(db->err, "no individual '%s' in the store", a ? merged : keep);
    sqlite3_stmt *st = prepare(db, "UPDATE images SET label = ?1 WHERE label = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, keep, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, merged, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return fail(db, "merging individuals");
    return (long)sqlite3_changes(db->h);
}

int hwi_db_remove(struct hwi_db *db, const char *name)
{
    sqlite3_stmt *st = prepare(db, "DELETE FROM images WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return fail(db, "removing a photo");
    if (sqlite3_changes(db->h) == 0)
        return hwi_seterr(db->err, "no photo '%s' in the store", name);
    return 0;
}

int hwi_db_each_individual(struct hwi_db *db, hwi_db_individual_fn fn, void *ctx)
{
    int rc = -1;
    /* a version 1 store, opened read-only, has no dates */
    sqlite3_stmt *st =
        prepare(db, db->version >= 2 ? "SELECT label, count(*), min(date), max(date) "
                                       "FROM images WHERE label IS NOT NULL "
                                       "GROUP BY label ORDER BY label"
                                     : "SELECT label, count(*), NULL, NULL "
                                       "FROM images WHERE label IS NOT NULL "
                                       "GROUP BY label ORDER BY label");
    if (!st)
        return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int stop =
            fn(ctx, (const char *)sqlite3_column_text(st, 0),
               (long)sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2),
               (const char *)sqlite3_column_text(st, 3));
        if (stop) {
            rc = stop;
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        fail(db, "listing individuals");
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

const char *const hwi_db_catalogue_columns[] = {"photo",     "label",        "split", "sha256",
                                                "date",      "place",        "lat",   "lon",
                                                "encounter", "photographer", "note",  NULL};

int hwi_db_each_photo(struct hwi_db *db, hwi_db_photo_fn fn, void *ctx)
{
    int rc = -1;
    /* a version 1 store, opened read-only, has no v2 columns */
    sqlite3_stmt *st =
        prepare(db, db->version >= 2 ? "SELECT name, label, split, sha256, date, place, "
                                       "CAST(lat AS TEXT), CAST(lon AS TEXT), encounter, "
                                       "photographer, note FROM images ORDER BY name"
                                     : "SELECT name, label, split, NULL, NULL, NULL, "
                                       "NULL, NULL, NULL, NULL, NULL FROM images "
                                       "ORDER BY name");
    if (!st)
        return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *f[HWI_DB_CATALOGUE_NCOL];
        for (int i = 0; i < HWI_DB_CATALOGUE_NCOL; i++)
            f[i] = (const char *)sqlite3_column_text(st, i);
        int stop = fn(ctx, f);
        if (stop) {
            rc = stop;
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        fail(db, "reading the catalogue");
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* The first row of SQL (schema names written in as %s by the caller) as
 * up to 4 text columns into COL; returns 1 with a row, 0 without, -1. */
static int first_row(struct hwi_db *db, const char *sql, char col[][HWI_ERRLEN / 4])
{
    sqlite3_stmt *st = prepare(db, sql);
    if (!st)
        return -1;
    int step = sqlite3_step(st), rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
    if (rc < 0)
        fail(db, "merging");
    for (int i = 0; rc == 1 && i < 4 && i < sqlite3_column_count(st); i++) {
        const char *t = (const char *)sqlite3_column_text(st, i);
        snprintf(col[i], HWI_ERRLEN / 4, "%s", t ? t : "NULL");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Copy the attached store AS (schema version V, file PATH) into main:
 * refuse a photo key main has, a model of the same name with other
 * checksums or another vector dimension, other column names.  Inside the
 * caller's transaction.  Returns the number of photos copied, or -1. */
static long merge_one(struct hwi_db *db, const char *as, const char *path, int v)
{
    char sql[2048], col[4][HWI_ERRLEN / 4];
    int r;
    snprintf(sql, sizeof sql,
             "SELECT o.name FROM %s.images o JOIN main.images m ON m.name = o.name "
             "ORDER BY o.name LIMIT 1",
             as);
    if ((r = first_row(db, sql, col)) != 0)
        return r < 0 ? -1
                     : hwi_seterr(db->err,
                                  "%s: photo '%s' is in the store already "
                                  "(a photo key is one photo): nothing merged",
                                  path, col[0]);
    if (v >= 2) {
        snprintf(sql, sizeof sql,
                 "SELECT o.name, CASE WHEN o.cfg_sha256 <> m.cfg_sha256 THEN 'cfg' "
                 "ELSE 'weights' END FROM %s.models o JOIN main.models m ON m.name = o.name "
                 "WHERE o.cfg_sha256 <> m.cfg_sha256 OR o.weights_sha256 <> m.weights_sha256 "
                 "LIMIT 1",
                 as);
        if ((r = first_row(db, sql, col)) != 0)
            return r < 0 ? -1
                         : hwi_seterr(db->err,
                                      "%s: model '%s' was made from another "
                                      "%s file than the store's model of that name: "
                                      "nothing merged",
                                      path, col[0], col[1]);
    }
    snprintf(sql, sizeof sql,
             "SELECT om.name, oe.kind, oe.dim, me.dim FROM "
             "(SELECT DISTINCT model_id, kind, dim FROM %s.embeddings) oe "
             "JOIN %s.models om ON om.id = oe.model_id "
             "JOIN main.models mm ON mm.name = om.name "
             "JOIN (SELECT DISTINCT model_id, kind, dim FROM main.embeddings) me "
             "ON me.model_id = mm.id AND me.kind = oe.kind WHERE me.dim <> oe.dim LIMIT 1",
             as, as);
    if ((r = first_row(db, sql, col)) != 0)
        return r < 0 ? -1
                     : hwi_seterr(db->err,
                                  "%s: model '%s': %s vectors of dimension "
                                  "%s, the store's have %s: nothing merged",
                                  path, col[0], col[1], col[2], col[3]);
    snprintf(sql, sizeof sql,
             "SELECT om.name, oc.kind, oc.col + 1 FROM %s.columns oc "
             "JOIN %s.models om ON om.id = oc.model_id "
             "JOIN main.models mm ON mm.name = om.name "
             "JOIN main.columns mc ON mc.model_id = mm.id AND mc.kind = oc.kind "
             "AND mc.col = oc.col WHERE mc.name <> oc.name LIMIT 1",
             as, as);
    if ((r = first_row(db, sql, col)) != 0)
        return r < 0 ? -1
                     : hwi_seterr(db->err,
                                  "%s: model '%s': %s column %s has another "
                                  "name than in the store: nothing merged",
                                  path, col[0], col[1], col[2]);
    const char *v2 = v >= 2 ? "sha256, date, place, lat, lon, encounter, photographer, note"
                            : "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL";
    const char *msum = v >= 2 ? "cfg_sha256, weights_sha256" : "NULL, NULL";
    snprintf(sql, sizeof sql,
             "INSERT INTO main.models (name, cfg, weights, cfg_sha256, weights_sha256, "
             "created) SELECT name, cfg, weights, %s, created FROM %s.models "
             "WHERE name NOT IN (SELECT name FROM main.models) ORDER BY id",
             msum, as);
    if (exec(db, sql))
        return -1;
    if (v >= 2) {
        snprintf(sql, sizeof sql,
                 "UPDATE main.models SET "
                 "cfg_sha256 = coalesce(cfg_sha256, (SELECT o.cfg_sha256 FROM %s.models o "
                 "WHERE o.name = models.name)), "
                 "weights_sha256 = coalesce(weights_sha256, (SELECT o.weights_sha256 FROM "
                 "%s.models o WHERE o.name = models.name))",
                 as, as);
        if (exec(db, sql))
            return -1;
    }
    snprintf(sql, sizeof sql,
             "INSERT INTO main.images (name, label, split, sha256, date, place, lat, lon, "
             "encounter, photographer, note) SELECT name, label, split, %s FROM %s.images "
             "ORDER BY id",
             v2, as);
    if (exec(db, sql))
        return -1;
    long n = (long)sqlite3_changes(db->h);
    snprintf(
        sql, sizeof sql,
        "INSERT INTO main.embeddings (image_id, model_id, kind, dim, vec) "
        "SELECT mi.id, mm.id, e.kind, e.dim, e.vec FROM %s.embeddings e "
        "JOIN %s.images oi ON oi.id = e.image_id JOIN main.images mi ON mi.name = oi.name "
        "JOIN %s.models om ON om.id = e.model_id JOIN main.models mm ON mm.name = om.name",
        as, as, as);
    if (exec(db, sql))
        return -1;
    snprintf(
        sql, sizeof sql,
        "INSERT OR IGNORE INTO main.columns (model_id, kind, col, name) "
        "SELECT mm.id, c.kind, c.col, c.name FROM %s.columns c "
        "JOIN %s.models om ON om.id = c.model_id JOIN main.models mm ON mm.name = om.name",
        as, as);
    if (exec(db, sql))
        return -1;
    if (v >= 2) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO main.decisions (image_id, decision, id, at) "
                 "SELECT mi.id, d.decision, d.id, d.at FROM %s.decisions d "
                 "JOIN %s.images oi ON oi.id = d.image_id "
                 "JOIN main.images mi ON mi.name = oi.name ORDER BY d.rowid",
                 as, as);
        if (exec(db, sql))
            return -1;
    }
    return n;
}

long hwi_db_merge(struct hwi_db *db, const char *const *path, int n)
{
    if (n < 1 || n > HWI_DB_MERGE_MAX)
        return hwi_seterr(db->err, "%d stores to merge: 1 to %d at a time", n,
                          HWI_DB_MERGE_MAX);
    int version[HWI_DB_MERGE_MAX], attached = 0;
    long total = -1;
    char err[HWI_ERRLEN];
    for (int i = 0; i < n; i++) { /* each one an hwi store, sound */
        struct hwi_db *o = hwi_db_open(path[i], HWI_DB_READONLY, err);
        if (!o)
            return hwi_seterr(db->err, "%s", err);
        if (hwi_db_verify(o)) {
            hwi_seterr(db->err, "%s: %s", path[i], o->err);
            hwi_db_close(o);
            return -1;
        }
        version[i] = (int)query_int(o, "PRAGMA user_version");
        hwi_db_close(o);
    }
    for (; attached < n; attached++) {
        char sql[64];
        snprintf(sql, sizeof sql, "ATTACH DATABASE ?1 AS merge%d", attached);
        sqlite3_stmt *st = prepare(db, sql);
        if (!st)
            goto out;
        sqlite3_bind_text(st, 1, path[attached], -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        if (step != SQLITE_DONE) {
            hwi_seterr(db->err, "%s: %s", path[attached], sqlite3_errmsg(db->h));
            goto out;
        }
    }
    if (hwi_db_begin(db))
        goto out;
    total = 0;
    for (int i = 0; i < n; i++) {
        char as[16];
        snprintf(as, sizeof as, "merge%d", i);
        long got = merge_one(db, as, path[i], version[i]);
        if (got < 0) {
            total = -1;
            break;
        }
        total += got;
    }
    if (total >= 0 && hwi_db_commit(db))
        total = -1;
    if (total < 0)
        hwi_db_rollback(db);
out:
    for (int i = 0; i < attached; i++) {
        char sql[32];
        snprintf(sql, sizeof sql, "DETACH DATABASE merge%d", i);
        sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    }
    return total;
}

int hwi_db_each_hash(struct hwi_db *db, hwi_db_hash_fn fn, void *ctx)
{
    if (db->version < 2)
        return 0; /* no hashes before version 2 */
    int rc = -1;
    sqlite3_stmt *st = prepare(db, "SELECT name, sha256 FROM images "
                                   "WHERE sha256 IS NOT NULL AND name IS NOT NULL");
    if (!st)
        return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = fn(ctx, (const char *)sqlite3_column_text(st, 0),
                      (const char *)sqlite3_column_text(st, 1));
        if (stop) {
            rc = stop;
            goto out;
        }
    }
    if (step != SQLITE_DONE)
        fail(db, "reading the photos' hashes");
    else
        rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}
