-- The community's knowledge (SQLite). Keep in step with migrations/postgres/0007_knowledge.sql:
-- the same tables and columns, except the full-text index over each passage's terms, which is
-- an FTS5 table here and a tsvector column (lexemes) there.
-- The terms are Steward's own index terms (lowercase letters and digits, CJK bigrams), stored
-- joined by single spaces; neither database stems or re-parses them, so both match the same
-- passages.

-- Owner documents. A scope of '' means every community of the process may cite the document;
-- otherwise it is one community's 'platform:community'. sha256 is of the file's bytes:
-- re-adding an unchanged file does nothing.
CREATE TABLE kb_documents (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    scope    TEXT   NOT NULL,
    path     TEXT   NOT NULL,
    sha256   TEXT   NOT NULL,
    added_at BIGINT NOT NULL,
    UNIQUE (scope, path)
);

-- The passages (chunks) of each document, in order. term_count counts the terms with repeats.
CREATE TABLE kb_passages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id BIGINT NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
    ordinal     BIGINT NOT NULL,
    heading     TEXT   NOT NULL,
    text        TEXT   NOT NULL,
    terms       TEXT   NOT NULL,
    term_count  BIGINT NOT NULL
);
CREATE INDEX kb_passages_by_document ON kb_passages (document_id, ordinal);

-- The full-text index: one row per passage, its rowid the passage's id (written and deleted
-- by the store together with the passage; ids are never reused). unicode61 splits only at
-- spaces and punctuation, which terms never contain, so each term is one token; without
-- diacritic removal it changes nothing in a (lowercase) term.
CREATE VIRTUAL TABLE kb_passages_fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');

-- Document frequency: in how many passages each term occurs, for ranking. Kept by the store
-- in the transactions that add and remove passages; a term in no passage has no row.
CREATE TABLE kb_terms (
    term     TEXT   PRIMARY KEY,
    passages BIGINT NOT NULL
);

-- Questions Steward could not answer from the knowledge base, with their query terms.
CREATE TABLE kb_gaps (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    platform  TEXT   NOT NULL,
    community TEXT   NOT NULL,
    question  TEXT   NOT NULL,
    terms     TEXT   NOT NULL,
    asked_at  BIGINT NOT NULL
);
CREATE INDEX kb_gaps_by_community ON kb_gaps (platform, community, asked_at);
