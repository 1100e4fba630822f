-- Feedback on Steward's answers (SQLite). Keep in step with
-- migrations/postgres/0009_answer_feedback.sql.
--
-- One vote per member per answer: a later 👍/👎 replaces the earlier one, removing the reaction
-- deletes the row. The answer is the recorded message (messages.platform, messages.id) that
-- Steward posted: its text, which ends with its sources line, is read from there when
-- reporting. No foreign key (like kb_gaps): Steward records a vote only on a message it has
-- recorded as its own.
-- value is +1 (👍) or -1 (👎); voted_at is milliseconds since the Unix epoch.
CREATE TABLE answer_feedback (
    platform     TEXT   NOT NULL,
    message_id   TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL,
    value        BIGINT NOT NULL CHECK (value IN (-1, 1)),
    voted_at     BIGINT NOT NULL,
    PRIMARY KEY (platform, message_id, user_id)
);
CREATE INDEX answer_feedback_by_community ON answer_feedback (platform, community_id, voted_at);
