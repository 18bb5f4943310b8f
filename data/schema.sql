-- schema.sql: the hwi store, an SQLite database of images and their
-- embeddings under one or more models.  hwi-store(5) describes it; the
-- schema version is PRAGMA user_version (this file: 2; lib/db.c upgrades a
-- version 1 store by adding the columns marked v2).

-- One row per photo.  name is its key, the path under the photo root
-- ('card1/IMG_0001.JPG'; Kaggle's flat names as they are); label is the
-- individual ('w_1a2b3c4'), 'new_whale', or NULL when unknown (a test
-- photo, a new sighting); split says which part of the data the photo
-- belongs to; sha256 is the photo file's content hash when known; the
-- sighting columns are optional data the user loads (hwi-store sightings).
CREATE TABLE IF NOT EXISTS images (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    label TEXT,
    split TEXT NOT NULL DEFAULT 'train'
          CHECK (split IN ('train', 'val', 'test', 'gallery', 'query')),
    sha256       TEXT,  -- v2
    date         TEXT,  -- v2
    place        TEXT,  -- v2
    lat          REAL,  -- v2
    lon          REAL,  -- v2
    encounter    TEXT,  -- v2
    photographer TEXT,  -- v2
    note         TEXT   -- v2
);

-- One row per trained network whose outputs are stored.
CREATE TABLE IF NOT EXISTS models (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    cfg     TEXT,
    weights TEXT,
    cfg_sha256     TEXT,  -- v2
    weights_sha256 TEXT,  -- v2
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- One vector per (image, model, kind): kind 'features' is the L2-normalised
-- embedding, 'logits' the classifier outputs.  vec holds dim float32 values,
-- little-endian, so length(vec) = 4 * dim.
CREATE TABLE IF NOT EXISTS embeddings (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL DEFAULT 'features',
    dim      INTEGER NOT NULL CHECK (dim > 0),
    vec      BLOB NOT NULL CHECK (length(vec) = 4 * dim),
    PRIMARY KEY (image_id, model_id, kind)
) WITHOUT ROWID;

-- Column names of a model's vectors (for logits: the labels, in order).
CREATE TABLE IF NOT EXISTS columns (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    col      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (model_id, kind, col)
) WITHOUT ROWID;

-- v2: the reviewers' decisions (hwi-store decisions), in the order they
-- were imported: 'same' (the photo is individual id), 'new' (a new
-- individual id), 'not_same' (it is not candidate id), 'skip'.
CREATE TABLE IF NOT EXISTS decisions (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    decision TEXT NOT NULL CHECK (decision IN ('same', 'new', 'not_same', 'skip')),
    id       TEXT,
    at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE INDEX IF NOT EXISTS embeddings_model ON embeddings (model_id, kind);
