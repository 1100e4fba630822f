-- Durable background jobs (PostgreSQL). Keep in step with migrations/sqlite/0003_jobs.sql.
-- A job is enqueued 'pending', claimed 'running' for a lease, and ends 'done' or 'failed'; a
-- retry puts it back to 'pending' with a later run_after. A 'running' job whose lease has
-- expired (its process crashed or restarted) can be claimed again. Finished rows are kept for
-- a while (see Store::prune_jobs) so counts and failures can be inspected.

CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What the job is ('moderation_review', ...): each worker claims one kind.
    kind         TEXT   NOT NULL,
    -- The handler's input, usually JSON.
    payload      TEXT   NOT NULL,
    -- Jobs with the same (kind, dedup_key) are enqueued once while one is pending or running.
    dedup_key    TEXT,
    -- 'pending', 'running', 'done' or 'failed'.
    state        TEXT   NOT NULL,
    -- How many times the job has been claimed.
    attempts     BIGINT NOT NULL DEFAULT 0,
    -- A pending job is not claimed before this time.
    run_after    BIGINT NOT NULL,
    -- The end of a running job's lease.
    locked_until BIGINT,
    -- Why the last attempt was retried or why the job failed.
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX jobs_claimable ON jobs (kind, state, id);

-- The state names here must match JobState::as_str in src/store/jobs.rs.
CREATE UNIQUE INDEX jobs_dedup ON jobs (kind, dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('pending', 'running');
