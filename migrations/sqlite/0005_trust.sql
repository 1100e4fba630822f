-- Trust and safety. Keep in step with migrations/postgres/0005_trust.sql.

-- Every applied edit keeps the text it replaced, so a case shows what a message said before
-- (only the author's own edits are applied).
CREATE TABLE message_edits (
    platform      TEXT   NOT NULL,
    message_id    TEXT   NOT NULL,
    previous_text TEXT   NOT NULL,
    edited_at     BIGINT NOT NULL
);
CREATE INDEX message_edits_by_message ON message_edits (platform, message_id, edited_at);

-- The role Steward last saw a member have in a community: reports about a moderator's
-- message are decided by people, never automatically.
CREATE TABLE member_roles (
    platform     TEXT   NOT NULL,
    community_id TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    role         TEXT   NOT NULL,
    seen_at      BIGINT NOT NULL,
    PRIMARY KEY (platform, community_id, user_id)
);

-- Case numbers count per community (#12 in one guild is not #12 in another); existing cases
-- are numbered in the order they were opened. The rule of the community's own list a review
-- named (1-based), if any.
ALTER TABLE moderation_cases ADD COLUMN number BIGINT;
UPDATE moderation_cases SET number = (
    SELECT COUNT(*) FROM moderation_cases AS earlier
    WHERE earlier.platform = moderation_cases.platform
      AND earlier.community_id = moderation_cases.community_id
      AND earlier.id <= moderation_cases.id
);
CREATE UNIQUE INDEX moderation_cases_number ON moderation_cases (platform, community_id, number);
ALTER TABLE moderation_cases ADD COLUMN rule_index BIGINT;

-- Appeals of a case by the member it concerns; a moderator upholds or reverses.
CREATE TABLE case_appeals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      BIGINT NOT NULL,
    user_id      TEXT   NOT NULL,
    text         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    -- 'upheld' or 'reversed' once decided.
    outcome      TEXT,
    decided_by   TEXT,
    decided_at   BIGINT
);
CREATE INDEX case_appeals_by_case ON case_appeals (case_id, id);

-- Questions addressed to Steward that it answered: catching up after downtime never answers
-- one twice.
CREATE TABLE answered_messages (
    platform    TEXT   NOT NULL,
    message_id  TEXT   NOT NULL,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (platform, message_id)
);
