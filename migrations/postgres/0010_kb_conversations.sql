-- Community conversations as knowledge sources (PostgreSQL). Keep in step with
-- migrations/sqlite/0010_kb_conversations.sql.
--
-- A conversation (a thread, or a channel message with the replies to it) the bot recorded is
-- stored as a knowledge document (kb_documents, scope 'platform:community', path
-- 'messages/<platform>/<channel>/<root>'); this row says where it came from, so citations link
-- to the conversation, and how it was vouched for, so ranking weighs it. root_id is the
-- conversation's root: the thread's id, or the first message of a reply chain (which may
-- predate the bot). message_id (and thread_id) is the message citations link to: the first
-- message of the conversation still there. solved: the asker reacted ✅; marked: a moderator
-- ran `kb mark`; both 0/1. The row is written and removed with its document, in one
-- transaction; it may exist alone while a vouched conversation waits to be indexed.
CREATE TABLE kb_conversations (
    scope        TEXT   NOT NULL,
    path         TEXT   NOT NULL,
    platform     TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL,
    root_id      TEXT   NOT NULL,
    thread_id    TEXT,
    message_id   TEXT   NOT NULL,
    solved       BIGINT NOT NULL DEFAULT 0 CHECK (solved IN (0, 1)),
    marked       BIGINT NOT NULL DEFAULT 0 CHECK (marked IN (0, 1)),
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, path)
);

-- Gathering a conversation: the replies to a message, and a thread's messages.
CREATE INDEX messages_by_reply ON messages (platform, reply_to);
CREATE INDEX messages_by_thread ON messages (platform, thread_id);
