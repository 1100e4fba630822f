-- Community insights (SQLite). Keep in step with migrations/postgres/0012_insights.sql:
-- the same tables and columns.

-- The tone of a recorded message (issue 11): its label, its score from -1 to 1 stored as
-- thousandths (score_milli, -1000..1000: sqlx's Any driver reads a REAL back as f64 on
-- SQLite and f32 on PostgreSQL, so an integer is the one portable number), and the stage that
-- decided it. The message's community, channel and creation time are copied so a window of a
-- community is read from this table's own index. Only messages with text are scored: deleting
-- the message, retention and forgetting its author delete the row (the foreign key cascades
-- too, should anything else delete a message). scored_at: milliseconds since the Unix epoch.
CREATE TABLE message_sentiment (
    platform     TEXT   NOT NULL,
    message_id   TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    label        TEXT   NOT NULL CHECK (label IN ('positive', 'neutral', 'negative')),
    score_milli  BIGINT NOT NULL CHECK (score_milli BETWEEN -1000 AND 1000),
    stage        TEXT   NOT NULL CHECK (stage IN ('lexical', 'model')),
    scored_at    BIGINT NOT NULL,
    PRIMARY KEY (platform, message_id),
    FOREIGN KEY (platform, message_id) REFERENCES messages (platform, id) ON DELETE CASCADE
);
CREATE INDEX message_sentiment_by_community
    ON message_sentiment (platform, community_id, created_at);

-- How many times each emoji was put on a recorded message: aggregate counts only, never who
-- reacted. Removing a reaction counts down (never below 0; a row at 0 is deleted). Deleting
-- the message, retention and forgetting its author delete its rows.
CREATE TABLE message_reactions (
    platform   TEXT   NOT NULL,
    message_id TEXT   NOT NULL,
    emoji      TEXT   NOT NULL,
    count      BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (platform, message_id, emoji),
    FOREIGN KEY (platform, message_id) REFERENCES messages (platform, id) ON DELETE CASCADE
);

-- Alerts posted to the mod-log: one per channel, kind and window, also across processes (the
-- row is claimed before posting). No member data. Times in milliseconds.
CREATE TABLE insight_alerts (
    platform     TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL,
    kind         TEXT   NOT NULL CHECK (kind IN ('negative_spike', 'unanswered_rise')),
    window_start BIGINT NOT NULL,
    posted_at    BIGINT NOT NULL,
    PRIMARY KEY (platform, community_id, channel_id, kind, window_start)
);

-- The weekly digest: the due time of the last digest claimed for each community, so a restart
-- or a second process never posts one twice, and a long downtime posts only the latest.
CREATE TABLE insight_digests (
    platform     TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    last_due_at  BIGINT NOT NULL,
    posted_at    BIGINT NOT NULL,
    PRIMARY KEY (platform, community_id)
);
