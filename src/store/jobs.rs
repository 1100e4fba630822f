//! Durable background jobs: a queue table that survives restarts and can be shared by several
//! processes.
//!
//! A job is enqueued `pending`, claimed `running` for a lease, and ends `done` or `failed`; a
//! retry puts it back to `pending` with a later `run_after`. A `running` job whose lease expired
//! (its process crashed or was restarted) is claimable again, so delivery is at least once:
//! handlers must tolerate doing a job twice. Finished rows are kept (state `done` or `failed`)
//! until [`Store::prune_jobs`] deletes them, so counts and failure reasons can be inspected.
//!
//! Claiming is one `UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING ...` statement. On
//! PostgreSQL the subquery locks its row `FOR UPDATE SKIP LOCKED`, so concurrent claimers (in
//! this process or others) each get a different job without waiting on each other. SQLite has
//! one writer at a time, so the statement is atomic as it is.

use std::time::{Duration, SystemTime};

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_millis, to_millis, Backend, Store, StoreError};

/// Where a job is in its life. Stored as text ([`JobState::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting to be claimed (at or after its `run_after`).
    Pending,
    /// Claimed by a worker until its lease ends.
    Running,
    /// Finished successfully.
    Done,
    /// Given up: a fatal error, or too many attempts.
    Failed,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 4] = [
        JobState::Pending,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

    /// The stored text. (`migrations/*/0003_jobs.sql` names `pending` and `running` too.)
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// The state stored as `text`; `None` for text this version does not know.
    pub fn parse(text: &str) -> Option<JobState> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What the job is; a worker claims one kind (e.g. `moderation_review`).
    pub kind: String,
    /// The handler's input, usually JSON. The store does not look inside.
    pub payload: String,
    /// While a pending or running job of the same kind has this key, enqueueing again returns
    /// that job instead of adding one (e.g. one review per reported message).
    pub dedup_key: Option<String>,
    /// With a dedup key: a duplicate enqueued while the job is *running* makes it run once
    /// more when it completes (its input changed while it ran), instead of being dropped.
    pub rerun_if_running: bool,
}

impl NewJob {
    /// A job without a dedup key.
    pub fn new(kind: impl Into<String>, payload: impl Into<String>) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload: payload.into(),
            dedup_key: None,
            rerun_if_running: false,
        }
    }

    /// The same job, enqueued at most once while one with `key` is pending or running.
    pub fn with_dedup_key(mut self, key: impl Into<String>) -> NewJob {
        self.dedup_key = Some(key.into());
        self
    }

    /// The same job, run once more if a duplicate arrives while it runs (see
    /// [`NewJob::rerun_if_running`]).
    pub fn rerun_if_running(mut self) -> NewJob {
        self.rerun_if_running = true;
        self
    }
}

/// A claimed job, as a handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// How many times the job has been claimed, this claim included (1 on the first attempt).
    pub attempts: u32,
    pub created_at: SystemTime,
}

/// Everything stored about one job, for inspection and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub dedup_key: Option<String>,
    pub state: JobState,
    pub attempts: u32,
    pub run_after: SystemTime,
    /// The end of the lease while running; `None` otherwise.
    pub locked_until: Option<SystemTime>,
    /// Why the last attempt was retried, or why the job failed.
    pub last_error: Option<String>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// How many jobs are in each state (all kinds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub pending: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

impl JobCounts {
    /// Jobs not finished yet (pending or running).
    pub fn unfinished(&self) -> u64 {
        self.pending + self.running
    }
}

/// The claim: the oldest claimable job of a kind becomes running. Parameters: $1 running,
/// $2 lease end, $3 now, $4 kind, $5 pending.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = $1, locked_until = $2, attempts = attempts + 1, ",
            "updated_at = $3 WHERE id = (SELECT id FROM jobs WHERE kind = $4 AND ",
            "((state = $5 AND run_after <= $3) OR (state = $1 AND locked_until <= $3)) ",
            "ORDER BY id LIMIT 1",
            $lock,
            ") RETURNING id, kind, payload, attempts, created_at"
        )
    };
}

const CLAIM_SQLITE: &str = claim_sql!("");
const CLAIM_POSTGRES: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");

/// How often `enqueue_job` tries again when a duplicate it found finished in between.
const ENQUEUE_TRIES: usize = 3;

impl Store {
    /// Adds a pending job, claimable from `now`; returns its id. With a dedup key, a pending or
    /// running job of the same kind and key is kept and its id returned instead.
    pub async fn enqueue_job(&self, job: &NewJob, now: SystemTime) -> Result<i64, StoreError> {
        const OPERATION: &str = "enqueue a job";
        let now = to_millis(now);
        for _ in 0..ENQUEUE_TRIES {
            // The partial unique index `jobs_dedup` turns a duplicate into "no row inserted".
            let inserted = sqlx::query(
                "INSERT INTO jobs (kind, payload, dedup_key, state, attempts, run_after, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5, $5) \
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(&job.kind)
            .bind(&job.payload)
            .bind(job.dedup_key.clone())
            .bind(JobState::Pending.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
            if let Some(row) = inserted {
                return row
                    .try_get::<i64, _>(0)
                    .map_err(StoreError::query(OPERATION));
            }
            let Some(key) = &job.dedup_key else {
                // Without a key nothing can conflict; an empty answer means the insert failed.
                return Err(StoreError::query(OPERATION)(sqlx::Error::RowNotFound));
            };
            let existing = sqlx::query(
                "SELECT id, state FROM jobs WHERE kind = $1 AND dedup_key = $2 \
                 AND state IN ($3, $4) ORDER BY id LIMIT 1",
            )
            .bind(&job.kind)
            .bind(key)
            .bind(JobState::Pending.as_str())
            .bind(JobState::Running.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
            if let Some(row) = existing {
                let id = row
                    .try_get::<i64, _>(0)
                    .map_err(StoreError::query(OPERATION))?;
                let state: String = row.try_get(1).map_err(StoreError::query(OPERATION))?;
                if !job.rerun_if_running || state != JobState::Running.as_str() {
                    return Ok(id);
                }
                // A pending job has not read its input yet; a running one may have: ask it to
                // run again. Zero rows: it finished in between, so insert again.
                let flagged = sqlx::query(
                    "UPDATE jobs SET rerun = 1, updated_at = $1 WHERE id = $2 AND state = $3",
                )
                .bind(now)
                .bind(id)
                .bind(JobState::Running.as_str())
                .execute(&self.pool)
                .await
                .map_err(StoreError::query(OPERATION))?;
                if flagged.rows_affected() > 0 {
                    return Ok(id);
                }
            }
            // The duplicate finished between the two statements: insert again.
        }
        Err(StoreError::query(OPERATION)(sqlx::Error::RowNotFound))
    }

    /// Claims the oldest job of `kind` that is pending with `run_after <= now`, or running with
    /// an expired lease (a crashed or restarted worker's). The job becomes running until
    /// `now + lease` and its attempts grow by one. `None` when there is nothing to do.
    pub async fn claim_job(
        &self,
        kind: &str,
        lease: Duration,
        now: SystemTime,
    ) -> Result<Option<Job>, StoreError> {
        const OPERATION: &str = "claim a job";
        let sql = match self.backend {
            Backend::Sqlite => CLAIM_SQLITE,
            Backend::Postgres => CLAIM_POSTGRES,
        };
        let now = to_millis(now);
        let row = sqlx::query(sql)
            .bind(JobState::Running.as_str())
            .bind(now.saturating_add(duration_millis(lease)))
            .bind(now)
            .bind(kind)
            .bind(JobState::Pending.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        row.map(|row| job_from_row(&row))
            .transpose()
            .map_err(StoreError::query(OPERATION))
    }

    /// Extends a running job's lease to `until` (a worker's heartbeat for long jobs). False if
    /// the job is no longer running.
    pub async fn extend_job_lease(
        &self,
        id: i64,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE jobs SET locked_until = $1, updated_at = $2 WHERE id = $3 AND state = $4",
        )
        .bind(to_millis(until))
        .bind(to_millis(now))
        .bind(id)
        .bind(JobState::Running.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("extend a job's lease"))?;
        Ok(result.rows_affected() > 0)
    }

    /// Marks a running job done; the row is kept until [`Store::prune_jobs`]. A job that a
    /// duplicate asked to run again ([`NewJob::rerun_if_running`]) goes back to pending instead,
    /// due now. False if the job was not running (already finished, or never claimed).
    pub async fn complete_job(&self, id: i64, now: SystemTime) -> Result<bool, StoreError> {
        // A job asked to run again (`rerun`) goes back to pending, due now, as if new.
        let result = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN $1 ELSE $2 END, \
             attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END, \
             run_after = CASE WHEN rerun = 1 THEN $3 ELSE run_after END, \
             rerun = 0, locked_until = NULL, updated_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(JobState::Pending.as_str())
        .bind(JobState::Done.as_str())
        .bind(to_millis(now))
        .bind(id)
        .bind(JobState::Running.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("complete a job"))?;
        Ok(result.rows_affected() > 0)
    }

    /// Puts a running job back to pending, claimable from `run_after`, noting `error`. False
    /// if the job was not running.
    pub async fn retry_job(
        &self,
        id: i64,
        error: &str,
        run_after: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE jobs SET state = $1, run_after = $2, locked_until = NULL, last_error = $3, \
             rerun = 0, updated_at = $4 WHERE id = $5 AND state = $6",
        )
        .bind(JobState::Pending.as_str())
        .bind(to_millis(run_after))
        .bind(error)
        .bind(to_millis(now))
        .bind(id)
        .bind(JobState::Running.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("retry a job"))?;
        Ok(result.rows_affected() > 0)
    }

    /// Gives a running job up as failed with `error`; the row is kept. A job that a duplicate
    /// asked to run again ([`NewJob::rerun_if_running`]) goes back to pending instead, due now,
    /// for one more run on its newer input. False if the job was not running.
    pub async fn fail_job(
        &self,
        id: i64,
        error: &str,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN $1 ELSE $2 END, \
             attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END, \
             run_after = CASE WHEN rerun = 1 THEN $4 ELSE run_after END, \
             rerun = 0, locked_until = NULL, last_error = $3, updated_at = $4 \
             WHERE id = $5 AND state = $6",
        )
        .bind(JobState::Pending.as_str())
        .bind(JobState::Failed.as_str())
        .bind(error)
        .bind(to_millis(now))
        .bind(id)
        .bind(JobState::Running.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("fail a job"))?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes done and failed jobs of `kind` that finished before `finished_before`; returns
    /// how many.
    pub async fn prune_jobs(
        &self,
        kind: &str,
        finished_before: SystemTime,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "DELETE FROM jobs WHERE kind = $1 AND state IN ($2, $3) AND updated_at < $4",
        )
        .bind(kind)
        .bind(JobState::Done.as_str())
        .bind(JobState::Failed.as_str())
        .bind(to_millis(finished_before))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("prune finished jobs"))?;
        Ok(result.rows_affected())
    }

    /// One job, whatever its state.
    pub async fn job(&self, id: i64) -> Result<Option<JobRecord>, StoreError> {
        const OPERATION: &str = "read a job";
        let row = sqlx::query(
            "SELECT id, kind, payload, dedup_key, state, attempts, run_after, locked_until, \
             last_error, created_at, updated_at FROM jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        row.map(|row| record_from_row(&row))
            .transpose()
            .map_err(StoreError::query(OPERATION))
    }

    /// How many jobs of all kinds are in each state. A state this version does not know is an
    /// error naming it.
    pub async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        const OPERATION: &str = "count jobs";
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut counts = JobCounts::default();
        for row in &rows {
            let state = state_from_row(row, 0usize).map_err(StoreError::query(OPERATION))?;
            let count = row
                .try_get::<i64, _>(1)
                .map_err(StoreError::query(OPERATION))?;
            let count = u64::try_from(count).unwrap_or(0);
            match state {
                JobState::Pending => counts.pending = count,
                JobState::Running => counts.running = count,
                JobState::Done => counts.done = count,
                JobState::Failed => counts.failed = count,
            }
        }
        Ok(counts)
    }
}

fn job_from_row(row: &AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        attempts: attempts(row.try_get("attempts")?),
        created_at: from_millis(row.try_get("created_at")?),
    })
}

fn record_from_row(row: &AnyRow) -> Result<JobRecord, sqlx::Error> {
    Ok(JobRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        dedup_key: row.try_get("dedup_key")?,
        state: state_from_row(row, "state")?,
        attempts: attempts(row.try_get("attempts")?),
        run_after: from_millis(row.try_get("run_after")?),
        locked_until: row
            .try_get::<Option<i64>, _>("locked_until")?
            .map(from_millis),
        last_error: row.try_get("last_error")?,
        created_at: from_millis(row.try_get("created_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
    })
}

/// The state column read back; text this version does not know is an error that names it.
fn state_from_row<I>(row: &AnyRow, column: I) -> Result<JobState, sqlx::Error>
where
    I: sqlx::ColumnIndex<AnyRow>,
{
    let text: String = row.try_get(column)?;
    parse_state(&text)
}

fn parse_state(text: &str) -> Result<JobState, sqlx::Error> {
    JobState::parse(text)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown value {text:?} in jobs.state").into()))
}

fn attempts(stored: i64) -> u32 {
    u32::try_from(stored.max(0)).unwrap_or(u32::MAX)
}

fn duration_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_unknown_text_is_named() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
            assert_eq!(parse_state(state.as_str()).ok(), Some(state));
        }
        for unknown in ["", "Pending", "cancelled"] {
            assert_eq!(JobState::parse(unknown), None);
            let error = parse_state(unknown).unwrap_err().to_string();
            assert!(error.contains(&format!("{unknown:?}")), "{error}");
        }
    }

    #[test]
    fn claim_sql_differs_only_in_the_lock() {
        assert!(CLAIM_POSTGRES.contains("LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING"));
        assert_eq!(
            CLAIM_POSTGRES.replace(" FOR UPDATE SKIP LOCKED", ""),
            CLAIM_SQLITE
        );
    }

    /// An unknown state written behind the store's back is an error naming it, not a panic.
    #[tokio::test]
    async fn unknown_state_in_the_database_is_an_error() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let now = SystemTime::now();
        let id = store
            .enqueue_job(&NewJob::new("unit-unknown", "{}"), now)
            .await
            .unwrap();
        sqlx::query("UPDATE jobs SET state = 'archived' WHERE id = $1")
            .bind(id)
            .execute(&store.pool)
            .await
            .unwrap();

        let error = store.job_counts().await.unwrap_err();
        assert_eq!(error.label(), "store_query");
        assert!(error.to_string().contains("\"archived\""), "{error}");
        let error = store.job(id).await.unwrap_err();
        assert!(error.to_string().contains("\"archived\""), "{error}");
        // Not claimable either: it is neither pending nor running.
        let claimed = store
            .claim_job("unit-unknown", Duration::from_secs(1), now)
            .await
            .unwrap();
        assert_eq!(claimed, None);
    }
}
