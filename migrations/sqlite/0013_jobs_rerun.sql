-- A job asked to run again (SQLite). Keep in step with migrations/postgres/0013_jobs_rerun.sql.
-- Enqueueing a duplicate of a *running* job that asked for it (NewJob::rerun_if_running, e.g.
-- indexing a conversation that gained a message while it was being indexed) sets rerun = 1;
-- completing the job then puts it back to pending instead of done, so the change is not lost.
ALTER TABLE jobs ADD COLUMN rerun BIGINT NOT NULL DEFAULT 0;
