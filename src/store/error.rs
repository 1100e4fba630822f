//! The store's error type: what failed (opening, migrating, a query) and on which database.
//!
//! Messages name the database (a SQLite path, or `host:port/db` for PostgreSQL) but never a
//! password; see [`super::url`]. Each error has a short stable [`StoreError::label`] for logs
//! and metrics.

use std::path::PathBuf;

use super::Backend;

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database. `url` is already redacted.
    #[error(
        "unsupported database URL {url:?}: expected sqlite://PATH, sqlite::memory: or postgres://..."
    )]
    UnsupportedUrl { url: String },

    /// The directory for a SQLite database file could not be created.
    #[error("cannot create directory {} for the SQLite database: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A SQLite database could not be opened or configured.
    #[error("cannot open SQLite database at {path}: {source}")]
    OpenSqlite {
        /// The file path, or `:memory:`.
        path: String,
        #[source]
        source: sqlx::Error,
    },

    /// A PostgreSQL server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    ConnectPostgres {
        /// `host:port/database`, without credentials.
        target: String,
        #[source]
        source: sqlx::Error,
    },

    /// The schema migrations could not be applied.
    #[error("cannot apply the {backend} schema migrations to {database}: {source}")]
    Migrate {
        backend: Backend,
        /// The SQLite path or the PostgreSQL `host:port/database`.
        database: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// A query failed. `operation` says what the store was doing, e.g. "record a message".
    #[error("cannot {operation}: {source}")]
    Query {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            StoreError::UnsupportedUrl { .. } => "store_unsupported_url",
            StoreError::CreateDir { .. } => "store_create_dir",
            StoreError::OpenSqlite { .. } => "store_open",
            StoreError::ConnectPostgres { .. } => "store_connect",
            StoreError::Migrate { .. } => "store_migrate",
            StoreError::Query { .. } => "store_query",
        }
    }

    /// A closure for `map_err` that wraps a query error with what the store was doing.
    pub(crate) fn query(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Query { operation, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_messages() {
        let cases: [(StoreError, &str, &str); 4] = [
            (
                StoreError::UnsupportedUrl {
                    url: "mysql://x".into(),
                },
                "store_unsupported_url",
                "unsupported database URL \"mysql://x\"",
            ),
            (
                StoreError::OpenSqlite {
                    path: "data/steward.db".into(),
                    source: sqlx::Error::PoolClosed,
                },
                "store_open",
                "cannot open SQLite database at data/steward.db: ",
            ),
            (
                StoreError::ConnectPostgres {
                    target: "db:5432/steward".into(),
                    source: sqlx::Error::PoolTimedOut,
                },
                "store_connect",
                "cannot connect to PostgreSQL at db:5432/steward: ",
            ),
            (
                StoreError::query("record a message")(sqlx::Error::RowNotFound),
                "store_query",
                "cannot record a message: ",
            ),
        ];
        for (error, label, message_start) in cases {
            assert_eq!(error.label(), label);
            let message = error.to_string();
            assert!(message.starts_with(message_start), "{message}");
        }
    }
}
