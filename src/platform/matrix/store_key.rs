//! The passphrase of matrix-sdk's stores (`[matrix] store_passphrase_env`), checked before the
//! client opens them.
//!
//! matrix-sdk's SQLite stores keep their encryption key (a "cipher", itself encrypted with the
//! passphrase) in a `kv` row named `cipher`. Opening a store with the wrong choice does not fail
//! cleanly: a store created without a passphrase silently gets a cipher when opened with one
//! (and its earlier, plain values no longer read), and an encrypted store opened without one
//! hands back encrypted bytes as if they were plain. So the row is looked up first, and a
//! mismatch stops Steward with an error that says what to do. A wrong passphrase is caught by
//! the SDK itself (the cipher does not decrypt) and reported as such.

use std::path::Path;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::MatrixError;
use crate::config::MatrixSettings;

/// The stores that hold a cipher when encrypted (the SDK names its state store; the crypto
/// store's file name is the one matrix-sdk-sqlite 0.18 uses).
const STORES: [&str; 2] = [
    matrix_sdk::STATE_STORE_DATABASE_NAME,
    "matrix-sdk-crypto.sqlite3",
];

/// What the SDK's directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// No store yet (or none Steward could read): the SDK creates it as configured.
    Nothing,
    Plain,
    Encrypted,
}

/// Looks at the stores in `sdk_dir` without changing them.
pub(crate) async fn existing(sdk_dir: &Path) -> Existing {
    let mut found = Existing::Nothing;
    for name in STORES {
        let path = sdk_dir.join(name);
        if !path.is_file() {
            continue;
        }
        match has_cipher(&path).await {
            Ok(true) => return Existing::Encrypted,
            Ok(false) => found = Existing::Plain,
            Err(error) => {
                // The SDK will say more when it opens the file itself.
                tracing::warn!(path = %path.display(), %error, "cannot check whether the matrix store is encrypted");
            }
        }
    }
    found
}

async fn has_cipher(path: &Path) -> Result<bool, sqlx::Error> {
    // Opened as it is: not created, no journal mode changed.
    let mut connection = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await?;
    let ciphers =
        sqlx::query_scalar::<sqlx::Sqlite, i64>("SELECT COUNT(*) FROM kv WHERE key = 'cipher'")
            .fetch_one(&mut connection)
            .await;
    connection.close().await?;
    Ok(ciphers? > 0)
}

/// Whether the configured passphrase fits the store that exists (`store_dir` is what the
/// owner deletes to start over).
pub(crate) fn check(
    existing: Existing,
    settings: &MatrixSettings,
    store_dir: &Path,
) -> Result<(), MatrixError> {
    match (existing, &settings.store_passphrase_env) {
        (Existing::Plain, Some(variable)) => Err(MatrixError::StoreNotEncrypted {
            path: store_dir.to_path_buf(),
            variable: variable.clone(),
        }),
        (Existing::Encrypted, None) => Err(MatrixError::StoreEncrypted {
            path: store_dir.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// A failure to build the client: with a passphrase and an encrypted store, the store failing
/// to open means the passphrase does not decrypt its cipher.
pub(crate) fn build_error(
    error: matrix_sdk::ClientBuildError,
    existing: Existing,
    settings: &MatrixSettings,
    store_dir: &Path,
) -> MatrixError {
    let store_failed = matches!(error, matrix_sdk::ClientBuildError::SqliteStore(_));
    match &settings.store_passphrase_env {
        Some(variable) if store_failed && existing == Existing::Encrypted => {
            MatrixError::StorePassphrase {
                path: store_dir.to_path_buf(),
                variable: variable.clone(),
                reason: error.to_string(),
            }
        }
        _ => MatrixError::from(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &Path, name: &str, cipher: bool) {
        let mut connection = SqliteConnectOptions::new()
            .filename(dir.join(name))
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL)")
            .execute(&mut connection)
            .await
            .unwrap();
        let key = if cipher { "cipher" } else { "version" };
        sqlx::query("INSERT INTO kv (key, value) VALUES (?, x'01')")
            .bind(key)
            .execute(&mut connection)
            .await
            .unwrap();
        connection.close().await.unwrap();
    }

    #[tokio::test]
    async fn the_cipher_row_tells_an_encrypted_store() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(existing(dir.path()).await, Existing::Nothing);
        store(dir.path(), STORES[0], false).await;
        assert_eq!(existing(dir.path()).await, Existing::Plain);
        store(dir.path(), STORES[1], true).await;
        assert_eq!(existing(dir.path()).await, Existing::Encrypted);
        // Unreadable as a store: left to the SDK.
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join(STORES[0]), b"not a database").unwrap();
        assert_eq!(existing(other.path()).await, Existing::Nothing);
    }
}
