-- Conversations endorsed by the community (SQLite). Keep in step with
-- migrations/postgres/0014_kb_endorsed.sql.
--
-- endorsed: an answer in the conversation (a message by someone other than the asker) has at
-- least two positive reactions (👍, ❤️, 🎉, ...). Unlike solved and marked, which vouching
-- only ever adds, indexing sets it from the reactions as they stand, so a reaction taken back
-- clears it. Ranking weighs an endorsed conversation as it weighs a vouched one.
ALTER TABLE kb_conversations ADD COLUMN endorsed BIGINT NOT NULL DEFAULT 0
    CHECK (endorsed IN (0, 1));
