-- Semantic retrieval (SQLite). Keep in step with migrations/postgres/0008_kb_vectors.sql.
-- One embedding per passage: `model` names the vector space (e.g. all-MiniLM-L6-v2), so a
-- change of embedding model is seen as passages without a vector for the new model and they
-- are embedded again. `vector` holds the float32 components, little-endian, unit length.
-- The store deletes a passage's vector together with the passage.
CREATE TABLE kb_vectors (
    passage_id BIGINT PRIMARY KEY REFERENCES kb_passages (id) ON DELETE CASCADE,
    model      TEXT   NOT NULL,
    vector     BLOB   NOT NULL
);
CREATE INDEX kb_vectors_by_model ON kb_vectors (model, passage_id);
