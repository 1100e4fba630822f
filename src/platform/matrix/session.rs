//! Login and session persistence.
//!
//! matrix-sdk's crypto store is bound to one device: logging in again with a persisted store
//! creates a new device and fails ("the account in the store doesn't match"). So the first
//! login (password, or an access token) saves the session (user id, device id, access token) in
//! `store_dir/session.json`, and every later start restores it instead of logging in. The SDK's
//! SQLite state and crypto stores live in `store_dir/sdk`, encrypted with the passphrase named
//! by `[matrix] store_passphrase_env` when it is set; the sync token is part of the state store,
//! so a restart continues where the last sync ended (and sees what happened meanwhile).

use std::path::{Path, PathBuf};

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::encryption::{BackupDownloadStrategy, EncryptionSettings};
use matrix_sdk::{Client, SessionMeta, SessionTokens};

use super::{store_key, MatrixError};
use crate::config::{MatrixAuth, MatrixSettings};

const SESSION_FILE: &str = "session.json";
const SDK_DIR: &str = "sdk";

/// Builds a logged-in client: restores the saved session, or logs in once and saves it.
pub async fn connect(settings: &MatrixSettings) -> Result<Client, MatrixError> {
    let dir = &settings.store_dir;
    std::fs::create_dir_all(dir).map_err(|source| MatrixError::StoreDir {
        path: dir.clone(),
        source,
    })?;
    let session_path = dir.join(SESSION_FILE);
    let saved = load_session(&session_path)?;
    if let Some(session) = &saved {
        if session.meta.user_id.as_str() != settings.user_id {
            return Err(MatrixError::WrongAccount {
                path: session_path,
                saved: session.meta.user_id.to_string(),
                configured: settings.user_id.clone(),
            });
        }
    } else {
        // A crypto store without its session file belongs to a device we can no longer use
        // (the login that created it never saved its session): start clean rather than fail
        // on "the account in the store doesn't match".
        let sdk = dir.join(SDK_DIR);
        if sdk.exists() {
            tracing::warn!(path = %sdk.display(), "removing a matrix store without a saved session");
            std::fs::remove_dir_all(&sdk).map_err(|source| MatrixError::StoreDir {
                path: sdk.clone(),
                source,
            })?;
        }
    }

    // With `[matrix] store_passphrase_env`, the stores are encrypted with its passphrase; it
    // must fit the store that is there (see `store_key`).
    let sdk = dir.join(SDK_DIR);
    let existing = store_key::existing(&sdk).await;
    store_key::check(existing, settings, dir)?;
    let passphrase = settings
        .store_passphrase
        .as_ref()
        .map(|passphrase| passphrase.expose().as_str());
    let client = Client::builder()
        .homeserver_url(&settings.homeserver)
        .sqlite_store(&sdk, passphrase)
        .with_encryption_settings(EncryptionSettings {
            // Cross-signing lets the owner verify the bot once, by its user identity; it needs
            // the password (or MSC3967) and is skipped with a log line otherwise.
            auto_enable_cross_signing: true,
            backup_download_strategy: BackupDownloadStrategy::default(),
            auto_enable_backups: false,
        })
        .build()
        .await
        .map_err(|error| store_key::build_error(error, existing, settings, dir))?;

    match saved {
        Some(session) => {
            tracing::info!(user = %session.meta.user_id, device = %session.meta.device_id, "restoring the saved matrix session");
            client
                .restore_session(session)
                .await
                .map_err(|error| MatrixError::Login {
                    user: settings.user_id.clone(),
                    reason: error.to_string(),
                })?;
        }
        None => {
            first_login(&client, settings).await?;
            let session = client
                .matrix_auth()
                .session()
                .ok_or_else(|| MatrixError::Login {
                    user: settings.user_id.clone(),
                    reason: "no session after login".into(),
                })?;
            save_session(&session_path, &session)?;
            tracing::info!(user = %session.meta.user_id, device = %session.meta.device_id, "logged in to matrix; session saved");
        }
    }
    Ok(client)
}

async fn first_login(client: &Client, settings: &MatrixSettings) -> Result<(), MatrixError> {
    let login_error = |reason: String| MatrixError::Login {
        user: settings.user_id.clone(),
        reason,
    };
    match &settings.auth {
        MatrixAuth::Password(password) => {
            client
                .matrix_auth()
                .login_username(&settings.user_id, password.expose())
                .initial_device_display_name(&settings.device_name)
                .send()
                .await
                .map_err(|error| login_error(error.to_string()))?;
            Ok(())
        }
        MatrixAuth::AccessToken(token) => {
            let (user_id, device_id) = whoami(client, token.expose()).await.map_err(login_error)?;
            if user_id != settings.user_id {
                return Err(MatrixError::TokenUserMismatch {
                    actual: user_id,
                    configured: settings.user_id.clone(),
                });
            }
            let meta = SessionMeta {
                user_id: user_id
                    .as_str()
                    .try_into()
                    .map_err(|e| login_error(format!("{e}")))?,
                device_id: device_id.as_str().into(),
            };
            let session = MatrixSession {
                meta,
                tokens: SessionTokens {
                    access_token: token.expose().clone(),
                    refresh_token: None,
                },
            };
            client
                .restore_session(session)
                .await
                .map_err(|error| login_error(error.to_string()))
        }
        MatrixAuth::SavedSessionOnly => Err(MatrixError::NoCredentials {
            path: settings.store_dir.clone(),
        }),
    }
}

/// Asks the homeserver which user and device an access token belongs to. The client has no
/// session yet, so this goes through its HTTP client directly.
async fn whoami(client: &Client, token: &str) -> Result<(String, String), String> {
    let url = format!(
        "{}/_matrix/client/v3/account/whoami",
        client.homeserver().as_str().trim_end_matches('/')
    );
    let response = client
        .http_client()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|error| format!("whoami request failed: {error}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|error| format!("whoami response unreadable: {error}"))?;
    if !status.is_success() {
        return Err(format!("whoami answered {status}: {body}"));
    }
    let value: serde_json::Value = serde_json::from_str(&body)
        .map_err(|error| format!("whoami answer is not JSON: {error}"))?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_string);
    match (field("user_id"), field("device_id")) {
        (Some(user), Some(device)) => Ok((user, device)),
        (Some(_), None) => {
            Err("the access token has no device (create it with a normal /login)".into())
        }
        _ => Err(format!("whoami answer lacks user_id: {body}")),
    }
}

fn load_session(path: &Path) -> Result<Option<MatrixSession>, MatrixError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(MatrixError::SessionFile {
                path: path.to_path_buf(),
                reason: error.to_string(),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| MatrixError::SessionFile {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
}

/// Writes the session atomically (temp file + rename) and readable by the owner only: it
/// holds the access token.
fn save_session(path: &Path, session: &MatrixSession) -> Result<(), MatrixError> {
    let store_error = |source| MatrixError::StoreDir {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(session).map_err(|e| store_error(e.into()))?;
    let temp: PathBuf = path.with_extension("json.tmp");
    write_private(&temp, text.as_bytes()).map_err(store_error)?;
    std::fs::rename(&temp, path).map_err(store_error)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SESSION_FILE);
        assert!(load_session(&path).unwrap().is_none());
        let session = MatrixSession {
            meta: SessionMeta {
                user_id: "@steward:example.org".try_into().unwrap(),
                device_id: "ABCDEF".into(),
            },
            tokens: SessionTokens {
                access_token: "secret".into(),
                refresh_token: None,
            },
        };
        save_session(&path, &session).unwrap();
        let loaded = load_session(&path).unwrap().unwrap();
        assert_eq!(loaded.meta, session.meta);
        assert_eq!(loaded.tokens.access_token, "secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            load_session(&path),
            Err(MatrixError::SessionFile { .. })
        ));
    }
}
