-- Steward's initial schema (PostgreSQL). Keep in step with migrations/sqlite/0001_init.sql:
-- both backends have the same tables and columns, and the store writes its SQL once.
-- Timestamps are BIGINT milliseconds since the Unix epoch; booleans are BIGINT 0/1.

CREATE TABLE communities (
    platform   TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    -- Empty until the platform tells us the name.
    name       TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (platform, id)
);

CREATE TABLE channels (
    platform     TEXT NOT NULL,
    id           TEXT NOT NULL,
    community_id TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, id),
    FOREIGN KEY (platform, community_id) REFERENCES communities (platform, id)
);

CREATE TABLE users (
    platform     TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    display_name TEXT   NOT NULL,
    is_bot       BIGINT NOT NULL DEFAULT 0 CHECK (is_bot IN (0, 1)),
    PRIMARY KEY (platform, id)
);

CREATE TABLE messages (
    platform     TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL,
    thread_id    TEXT,
    author_id    TEXT   NOT NULL,
    text         TEXT   NOT NULL,
    -- Not a foreign key: the message replied to may predate the bot.
    reply_to     TEXT,
    created_at   BIGINT NOT NULL,
    edited_at    BIGINT,
    -- Soft delete: the row and its text stay.
    deleted_at   BIGINT,
    PRIMARY KEY (platform, id),
    FOREIGN KEY (platform, community_id) REFERENCES communities (platform, id),
    FOREIGN KEY (platform, channel_id) REFERENCES channels (platform, id),
    FOREIGN KEY (platform, author_id) REFERENCES users (platform, id)
);

CREATE INDEX messages_by_channel ON messages (platform, channel_id, created_at);

-- Per-community settings. No foreign key: a setting may be stored before the community row.
CREATE TABLE settings (
    platform     TEXT NOT NULL,
    community_id TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (platform, community_id, key)
);
