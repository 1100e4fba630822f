-- Members' data (PostgreSQL). Keep in step with migrations/sqlite/0011_privacy.sql: the same
-- tables and columns (the SQLite file also turns on its FTS5 index's secure delete, which has
-- no counterpart here).

-- Who asked an unanswered question, and in which message: forgetting a member or deleting the
-- message deletes the question too. Gaps recorded before this migration have neither.
ALTER TABLE kb_gaps ADD COLUMN user_id TEXT;
ALTER TABLE kb_gaps ADD COLUMN message_id TEXT;
CREATE INDEX kb_gaps_by_user ON kb_gaps (platform, community, user_id);

-- Members and channels whose messages Steward does not record. A member's subject is a hash
-- of platform, community and user id (Store's member_hash), never the id itself: the row must
-- not keep the identity of someone who asked to be forgotten. A channel's subject is its id.
-- reason: 'opt_out' (the member), 'forgotten' (after forget-me), 'moderator' (a moderator's
-- choice, e.g. `privacy channel off`). since: milliseconds since the Unix epoch.
CREATE TABLE privacy_exclusions (
    platform     TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    kind         TEXT   NOT NULL CHECK (kind IN ('member', 'channel')),
    subject      TEXT   NOT NULL,
    reason       TEXT   NOT NULL CHECK (reason IN ('opt_out', 'forgotten', 'moderator')),
    since        BIGINT NOT NULL,
    PRIMARY KEY (platform, community_id, kind, subject)
);

-- Forgetting and exporting a member's messages; retention purges by age.
CREATE INDEX messages_by_author ON messages (platform, community_id, author_id);
CREATE INDEX messages_by_created ON messages (platform, community_id, created_at);

-- Deletion is deletion: messages deleted before this version lose their text and edit
-- history now, as later deletions do (the rows stay, for counts).
DELETE FROM message_edits WHERE EXISTS (
    SELECT 1 FROM messages AS m
    WHERE m.platform = message_edits.platform AND m.id = message_edits.message_id
      AND m.deleted_at IS NOT NULL
);
UPDATE messages SET text = '' WHERE deleted_at IS NOT NULL AND text <> '';
