-- The model's review of a case arrives after the case opens (a durable background job), so a
-- case records when it was reviewed and with which severity. Keep in step with
-- migrations/sqlite/0004_case_reviews.sql.
ALTER TABLE moderation_cases ADD COLUMN reviewed_at BIGINT;
ALTER TABLE moderation_cases ADD COLUMN review_severity TEXT;
