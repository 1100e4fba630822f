//! Store tests: the shared suite (`store_suite.rs`) against SQLite (a file in a temporary
//! directory, and in memory) and PostgreSQL (a private cluster this test starts; see
//! `postgres.rs`), plus the errors `Store::open` reports.

use std::time::Instant;

use crate::postgres::PgCluster;
use crate::store_suite::{migration_versions, run_suite};
use steward::core::{MessageId, Platform};
use steward::store::{Backend, Store, StoreError};

// ---------------------------------------------------------------------------------------------
// Backends

#[tokio::test]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/steward.db");
    let url = format!("sqlite://{}", path.display());

    let started = Instant::now();
    let store = Store::open(&url).await.unwrap();
    eprintln!("sqlite: opened in {:?}", started.elapsed());
    assert_eq!(store.backend(), Backend::Sqlite);
    assert!(
        path.is_file(),
        "the database file and its directories are created"
    );
    assert_eq!(
        store.sqlite_journal_mode().await.unwrap().as_deref(),
        Some("wal")
    );

    run_suite(&store).await;
    store.close().await;

    // Reopening keeps the data and applies no migration twice.
    let store = Store::open(&url).await.unwrap();
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        migration_versions("sqlite")
    );
    let kept = store
        .message(Platform::Discord, &MessageId::new("read-1"))
        .await
        .unwrap();
    assert_eq!(kept.map(|m| m.text).as_deref(), Some("hello **world**"));
    store.close().await;
}

#[tokio::test]
async fn sqlite_in_memory() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    run_suite(&store).await;
}

#[tokio::test]
async fn postgres() {
    let cluster = PgCluster::start("steward_test");
    eprintln!("postgres: cluster started in {:?}", cluster.startup);
    let url = cluster.url("steward_test");

    let started = Instant::now();
    let store = Store::open(&url).await.unwrap();
    eprintln!("postgres: opened in {:?}", started.elapsed());
    assert_eq!(store.backend(), Backend::Postgres);
    assert_eq!(store.sqlite_journal_mode().await.unwrap(), None);

    run_suite(&store).await;
    store.close().await;

    let store = Store::open(&url).await.unwrap();
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        migration_versions("postgres")
    );
    store.close().await;

    // A database that does not exist: the error names the target, never the password.
    let missing = cluster.url("no_such_db");
    let error = Store::open(&missing).await.unwrap_err();
    let shown = error.to_string();
    eprintln!("expected error: {shown}");
    assert_eq!(error.label(), "store_connect", "{shown}");
    let target = format!("127.0.0.1:{}/no_such_db", cluster.port());
    assert!(shown.contains(&target), "{shown}");
    assert!(!shown.contains("not-a-secret"), "{shown}");
}

#[tokio::test]
async fn open_errors_name_what_failed() {
    let error = Store::open("mysql://root:hunter2@localhost/x")
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::UnsupportedUrl { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");

    // The parent "directory" is a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let url = format!("sqlite://{}/steward.db", file.display());
    let error = Store::open(&url).await.unwrap_err();
    assert_eq!(error.label(), "store_create_dir", "{error}");
    assert!(error.to_string().contains("plain-file"), "{error}");

    // Not a SQLite file.
    let bogus = dir.path().join("bogus.db");
    std::fs::write(&bogus, "this is not a database, just some text".repeat(100)).unwrap();
    let error = Store::open(&format!("sqlite://{}", bogus.display()))
        .await
        .unwrap_err();
    assert_eq!(error.label(), "store_open", "{error}");
    let expected = format!("cannot open SQLite database at {}", bogus.display());
    assert!(error.to_string().starts_with(&expected), "{error}");
}

/// Slow (the pool retries a refused connection for its 10 s timeout), so not run by default:
/// `cargo test --test store -- --ignored`.
#[tokio::test]
#[ignore = "waits for the 10 s PostgreSQL connect timeout"]
async fn postgres_refused_names_target_and_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let url = format!("postgres://steward:hunter2@127.0.0.1:{port}/steward");
    let error = Store::open(&url).await.unwrap_err();
    let shown = error.to_string();
    eprintln!("expected error: {shown}");
    assert_eq!(error.label(), "store_connect", "{shown}");
    let expected = format!("cannot connect to PostgreSQL at 127.0.0.1:{port}/steward: ");
    assert!(shown.starts_with(&expected), "{shown}");
    assert!(shown.to_lowercase().contains("refused"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}
