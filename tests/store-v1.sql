-- a version 1 store made by hwi-store of main 66b65f3 (sqlite3 .dump)
PRAGMA user_version = 1;
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE images (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    label TEXT,
    split TEXT NOT NULL DEFAULT 'train'
          CHECK (split IN ('train', 'val', 'test', 'gallery', 'query'))
);
INSERT INTO images VALUES(1,'a.jpg','w_1','train');
INSERT INTO images VALUES(2,'b.jpg','new_whale','train');
INSERT INTO images VALUES(3,'c.jpg',NULL,'train');
CREATE TABLE models (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    cfg     TEXT,
    weights TEXT,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO models VALUES(1,'r50',NULL,NULL,'2026-12-05T10:17:46Z');
CREATE TABLE embeddings (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL DEFAULT 'features',
    dim      INTEGER NOT NULL CHECK (dim > 0),
    vec      BLOB NOT NULL CHECK (length(vec) = 4 * dim),
    PRIMARY KEY (image_id, model_id, kind)
) WITHOUT ROWID;
INSERT INTO embeddings VALUES(1,1,'features',2,X'0000803f00000000');
INSERT INTO embeddings VALUES(1,1,'logits',2,X'00000040000080bf');
INSERT INTO embeddings VALUES(2,1,'features',2,X'000000000000803f');
INSERT INTO embeddings VALUES(3,1,'features',2,X'9a99193fcdcc4c3f');
CREATE TABLE columns (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    col      INTEGER NOT NULL,
    name     TEXT NOT NULL,
    PRIMARY KEY (model_id, kind, col)
) WITHOUT ROWID;
INSERT INTO columns VALUES(1,'logits',0,'w_1');
INSERT INTO columns VALUES(1,'logits',1,'new_whale');
CREATE INDEX embeddings_model ON embeddings (model_id, kind);
COMMIT;
