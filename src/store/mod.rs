//! Persistent state: communities, channels, users, messages, per-community settings,
//! moderation cases and durable background jobs.
//!
//! One [`Store`] works on SQLite (the default, a single file) and PostgreSQL. It talks to both
//! through sqlx's `Any` driver, so every query is written once with `$1, $2` placeholders and
//! only portable types: text, `BIGINT` milliseconds since the Unix epoch for timestamps, and
//! `BIGINT` 0/1 for booleans. Each backend has its own migrations directory
//! (`migrations/sqlite`, `migrations/postgres`, embedded at build time), applied at open.
//!
//! Recording a message twice keeps the first copy. Deleting a message keeps its row (ids and
//! times, for counts) but not its words: its text becomes empty and its edit history, the
//! unanswered question it asked and finished jobs naming it are deleted. Members' own data
//! (forgetting, export, exclusions, retention) is in the `privacy` module.

mod appeals;
mod cases;
mod error;
mod feedback;
pub use feedback::{DayVotes, RatedAnswer, Vote};
mod insights;
pub use insights::{AlertKind, MessageSentiment, UnscoredMessage, WindowMessage};
mod jobs;
mod kb_conversations;
pub use kb_conversations::{ConversationMessage, MessageLink, MessageSource};
mod kb_search;
mod kb_vectors;
pub use kb_vectors::{PassageText, MAX_IDS as MAX_PASSAGE_IDS};
mod knowledge;
pub use knowledge::{
    Candidate, Gap, KbDocument, NewDocument, NewPassage, Stored, TermStats, ALL_COMMUNITIES,
};
mod members;
mod messages;
mod privacy;
pub use privacy::{
    member_hash, rfc3339_utc, ExclusionReason, ExportedAppeal, ExportedCase, ExportedEdit,
    ExportedGap, ExportedMessage, ExportedVote, Forgotten, MemberExport, Purged, Subject,
};
mod records;
mod settings;
mod url;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor, Row};

pub use appeals::{Appeal, AppealFiled, AppealOutcome};
pub use cases::{Case, CaseReview, NewCase};
pub use error::StoreError;
pub use jobs::{Job, JobCounts, JobRecord, JobState, NewJob};
pub use messages::{EditOutcome, StoredMessage};
pub use url::{postgres_target, redact_url};

use url::Target;

use crate::core::{ChannelId, CommunityId, Location, Platform, ThreadId};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `open` waits for a PostgreSQL connection.
const POSTGRES_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Stable lowercase label for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// Steward's database. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// What the store is connected to, for messages: a SQLite path or `host:port/db`.
    database: Arc<str>,
}

impl Store {
    /// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting for other writers up to the busy timeout. A deferred `BEGIN` that
    /// reads first and writes later fails at once with "database is locked" when another
    /// connection committed in between (its read snapshot cannot become a write), and the busy
    /// timeout does not apply to that: background indexing retried after its 5 s backoff while
    /// members' messages were being recorded.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Opens (and for SQLite, creates) the database at `url` and applies pending migrations.
    ///
    /// Accepted URLs: `sqlite://PATH` or `sqlite:PATH` (relative or absolute; parent
    /// directories and the file are created if missing), `sqlite::memory:` (a private in-memory
    /// database, for tests), and `postgres://` / `postgresql://` URLs.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let target = url::parse_target(url).ok_or_else(|| StoreError::UnsupportedUrl {
            url: redact_url(url),
        })?;
        let store = match target {
            Target::SqliteFile(path) => open_sqlite_file(&path).await?,
            Target::SqliteMemory => open_sqlite_memory().await?,
            Target::Postgres => open_postgres(url).await?,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; waits for connections in use to be returned. Operations on a
    /// closed store (or its clones) fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The SQLite journal mode (`"wal"` for a file database); `None` on PostgreSQL.
    pub async fn sqlite_journal_mode(&self) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query("read the SQLite journal mode"))?;
        let mode: String = row
            .try_get(0)
            .map_err(StoreError::query("read the SQLite journal mode"))?;
        Ok(Some(mode.to_ascii_lowercase()))
    }

    /// Versions of the migrations applied to this database, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query("list applied migrations"))?;
        rows.iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()
            .map_err(StoreError::query("list applied migrations"))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate {
                backend: self.backend,
                database: self.database.to_string(),
                source,
            })
    }
}

/// Opens a SQLite file: creates it in WAL mode with one plain connection (changing the journal
/// mode needs an exclusive lock, so no pool connection may race it), then opens the pool.
async fn open_sqlite_file(path: &Path) -> Result<Store, StoreError> {
    let shown = path.display().to_string();
    let open_error = |source| StoreError::OpenSqlite {
        path: shown.clone(),
        source,
    };

    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
    }

    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    let first = options.connect().await.map_err(open_error)?;
    first.close().await.map_err(open_error)?;

    // The pool goes through the `Any` driver, which only takes a URL; an absolute path keeps
    // the URL unambiguous (a relative `sqlite://data/x.db` parses `data` as a host).
    let absolute = tokio::fs::canonicalize(path)
        .await
        .map_err(|e| open_error(sqlx::Error::Io(e)))?;
    let url = SqliteConnectOptions::new()
        .filename(&absolute)
        .to_url_lossy();
    let any_options = AnyConnectOptions::from_url(&url).map_err(open_error)?;
    let pool = sqlite_pool_options(8)
        .connect_with(any_options)
        .await
        .map_err(open_error)?;
    Ok(Store {
        pool,
        backend: Backend::Sqlite,
        database: shown.into(),
    })
}

/// Opens a private in-memory SQLite database. Each `Any` connection to `sqlite::memory:` gets
/// a database of its own, so the pool holds exactly one connection, forever.
async fn open_sqlite_memory() -> Result<Store, StoreError> {
    let open_error = |source| StoreError::OpenSqlite {
        path: ":memory:".into(),
        source,
    };
    let any_options: AnyConnectOptions = "sqlite::memory:".parse().map_err(open_error)?;
    let pool = sqlite_pool_options(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(any_options)
        .await
        .map_err(open_error)?;
    Ok(Store {
        pool,
        backend: Backend::Sqlite,
        database: ":memory:".into(),
    })
}

/// Pool options for SQLite: every connection enforces foreign keys and waits for writers
/// (sqlx sets both by default; they are repeated here because the schema relies on them), and
/// overwrites deleted content with zeros, so a deleted or purged message's text does not stay
/// readable in the file's free pages.
fn sqlite_pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                conn.execute("PRAGMA secure_delete = ON").await?;
                Ok(())
            })
        })
}

async fn open_postgres(url: &str) -> Result<Store, StoreError> {
    let target = postgres_target(url);
    let any_options: AnyConnectOptions =
        url.parse().map_err(|source| StoreError::ConnectPostgres {
            target: target.clone(),
            source,
        })?;
    let connected = AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(POSTGRES_CONNECT_TIMEOUT)
        .connect_with(any_options.clone())
        .await;
    let pool = match connected {
        Ok(pool) => pool,
        // The pool retries refused connections until its timeout and then only says it timed
        // out; one direct attempt gives the reason (refused, unknown host, ...).
        Err(sqlx::Error::PoolTimedOut) => {
            let source = match any_options.connect().await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    sqlx::Error::PoolTimedOut
                }
                Err(reason) => reason,
            };
            return Err(StoreError::ConnectPostgres { target, source });
        }
        Err(source) => return Err(StoreError::ConnectPostgres { target, source }),
    };
    Ok(Store {
        pool,
        backend: Backend::Postgres,
        database: target.into(),
    })
}

/// The place a row's `community_id`, `channel_id` and `thread_id` columns name, on
/// `platform` (messages, cases, votes and conversation sources all store a place so).
pub(crate) fn location_from_row(platform: Platform, row: &AnyRow) -> Result<Location, sqlx::Error> {
    Ok(Location {
        platform,
        community: CommunityId::new(row.try_get::<String, _>("community_id")?),
        channel: ChannelId::new(row.try_get::<String, _>("channel_id")?),
        thread: row
            .try_get::<Option<String>, _>("thread_id")?
            .map(ThreadId::new),
    })
}

/// A time as stored: milliseconds since the Unix epoch (negative before it). Sub-millisecond
/// precision is dropped.
pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

/// The inverse of [`to_millis`].
pub(crate) fn from_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip() {
        let cases = [
            (UNIX_EPOCH, 0),
            (
                UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
                1_700_000_000_123,
            ),
            (UNIX_EPOCH + Duration::from_micros(1_500), 1),
            (UNIX_EPOCH - Duration::from_millis(2_000), -2_000),
        ];
        for (time, millis) in cases {
            assert_eq!(to_millis(time), millis, "{time:?}");
            let whole_millis = from_millis(millis);
            assert_eq!(to_millis(whole_millis), millis);
        }
    }

    #[test]
    fn backend_labels() {
        assert_eq!(Backend::Sqlite.as_str(), "sqlite");
        assert_eq!(Backend::Postgres.to_string(), "PostgreSQL");
    }
}
