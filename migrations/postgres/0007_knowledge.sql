-- The community's knowledge (PostgreSQL). Keep in step with migrations/sqlite/0007_knowledge.sql:
-- the same tables and columns, except the full-text index over each passage's terms, which is
-- a tsvector column (lexemes) here and an FTS5 table there.
-- The terms are Steward's own index terms (lowercase letters and digits, CJK bigrams), stored
-- joined by single spaces; neither database stems or re-parses them, so both match the same
-- passages.

-- Owner documents. A scope of '' means every community of the process may cite the document;
-- otherwise it is one community's 'platform:community'. sha256 is of the file's bytes:
-- re-adding an unchanged file does nothing.
CREATE TABLE kb_documents (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope    TEXT   NOT NULL,
    path     TEXT   NOT NULL,
    sha256   TEXT   NOT NULL,
    added_at BIGINT NOT NULL,
    UNIQUE (scope, path)
);

-- The passages (chunks) of each document, in order. term_count counts the terms with repeats.
-- lexemes is the full-text index: the passage's distinct terms taken as lexemes as they are
-- (array_to_tsvector: no parser, no dictionary, so nothing depends on the server's locale or
-- text search configuration).
CREATE TABLE kb_passages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ordinal     BIGINT NOT NULL,
    heading     TEXT   NOT NULL,
    text        TEXT   NOT NULL,
    terms       TEXT   NOT NULL,
    term_count  BIGINT NOT NULL,
    lexemes     tsvector NOT NULL
);
CREATE INDEX kb_passages_by_document ON kb_passages (document_id, ordinal);
CREATE INDEX kb_passages_lexemes ON kb_passages USING GIN (lexemes);

-- Document frequency: in how many passages each term occurs, for ranking. Kept by the store
-- in the transactions that add and remove passages; a term in no passage has no row.
CREATE TABLE kb_terms (
    term     TEXT   PRIMARY KEY,
    passages BIGINT NOT NULL
);

-- Questions Steward could not answer from the knowledge base, with their query terms.
CREATE TABLE kb_gaps (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform  TEXT   NOT NULL,
    community TEXT   NOT NULL,
    question  TEXT   NOT NULL,
    terms     TEXT   NOT NULL,
    asked_at  BIGINT NOT NULL
);
CREATE INDEX kb_gaps_by_community ON kb_gaps (platform, community, asked_at);
