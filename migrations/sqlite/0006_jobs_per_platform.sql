-- Review jobs per platform (SQLite). Keep in step with migrations/postgres/0006_jobs_per_platform.sql.
-- A review's verdict is delivered by the process that ran it, through its adapter for the
-- job's platform, so each process claims only the kinds of the platforms it serves:
-- 'moderation_review:discord', 'moderation_review:matrix', 'moderation_review:console'.
-- Jobs queued under the former shared kind move to their platform's kind.
UPDATE jobs
SET kind = 'moderation_review:' || json_extract(payload, '$.platform')
WHERE kind = 'moderation_review'
  AND json_valid(payload)
  AND json_extract(payload, '$.platform') IS NOT NULL;
