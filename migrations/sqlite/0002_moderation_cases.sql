-- Moderation cases (SQLite). Keep in step with migrations/postgres/0002_moderation_cases.sql.
-- A case is opened by a rule, the model, or a member's report; a moderator closes it.
-- No foreign keys: a case must be recorded even when its message was never stored.

CREATE TABLE moderation_cases (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    platform     TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL,
    thread_id    TEXT,
    message_id   TEXT,
    user_id      TEXT   NOT NULL,
    -- The start of the message, so the log stays readable if the message is deleted.
    excerpt      TEXT   NOT NULL,
    -- 'rule', 'model' or 'report'.
    source       TEXT   NOT NULL,
    category     TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    -- What Steward did automatically ('none', 'deleted', 'timed_out', ...).
    automatic    TEXT   NOT NULL,
    -- 'open', or the moderator's decision ('dismissed', 'banned', ...).
    status       TEXT   NOT NULL DEFAULT 'open',
    created_at   BIGINT NOT NULL,
    decided_by   TEXT,
    decided_at   BIGINT
);

CREATE INDEX moderation_cases_by_community ON moderation_cases (platform, community_id, status, id);
