//! Why the Matrix adapter stopped: typed, with a short stable label for logs and metrics.
//!
//! Failures of single actions (one reply that could not be sent) are logged and do not stop the
//! adapter; only what makes the whole adapter unusable becomes a [`MatrixError`].

use std::path::PathBuf;

/// A fatal Matrix adapter error.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("matrix store directory {path}: {source}")]
    StoreDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("saved matrix session {path} is unreadable ({reason}); delete the store directory and log in again")]
    SessionFile { path: PathBuf, reason: String },
    #[error("the saved matrix session in {path} belongs to {saved}, but [matrix] user_id is {configured}; use another store_dir")]
    WrongAccount {
        path: PathBuf,
        saved: String,
        configured: String,
    },
    #[error("no saved matrix session in {path}: set STEWARD_MATRIX_PASSWORD or STEWARD_MATRIX_ACCESS_TOKEN for the first login")]
    NoCredentials { path: PathBuf },
    #[error("cannot build the matrix client: {0}")]
    Build(Box<matrix_sdk::ClientBuildError>),
    #[error("matrix login as {user} failed: {reason}")]
    Login { user: String, reason: String },
    #[error("the access token belongs to {actual}, but [matrix] user_id is {configured}")]
    TokenUserMismatch { actual: String, configured: String },
    #[error("matrix sync failed: {0}")]
    Sync(Box<matrix_sdk::Error>),
    #[error("the matrix session is no longer valid (logged out or token revoked): {0}; delete the store directory and log in again")]
    SessionInvalid(String),
    #[error("the matrix store in {path} was created without a passphrase, but [matrix] store_passphrase_env names {variable}: remove store_passphrase_env to keep using this store, or stop Steward, delete {path} and start again with STEWARD_MATRIX_PASSWORD or STEWARD_MATRIX_ACCESS_TOKEN set, to log in as a new device (verify it again) with an encrypted store")]
    StoreNotEncrypted { path: PathBuf, variable: String },
    #[error("the matrix store in {path} is encrypted with a passphrase, but [matrix] store_passphrase_env is not set: set it to the name of the environment variable that holds the passphrase the store was created with")]
    StoreEncrypted { path: PathBuf },
    #[error("the passphrase in {variable} does not open the matrix store in {path} ({reason}): set {variable} to the passphrase the store was created with")]
    StorePassphrase {
        path: PathBuf,
        variable: String,
        reason: String,
    },
}

impl MatrixError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            MatrixError::StoreDir { .. } => "matrix_store_dir",
            MatrixError::SessionFile { .. } => "matrix_session_file",
            MatrixError::WrongAccount { .. } => "matrix_wrong_account",
            MatrixError::NoCredentials { .. } => "matrix_no_credentials",
            MatrixError::Build(_) => "matrix_client_build",
            MatrixError::Login { .. } => "matrix_login",
            MatrixError::TokenUserMismatch { .. } => "matrix_token_user_mismatch",
            MatrixError::Sync(_) => "matrix_sync",
            MatrixError::SessionInvalid(_) => "matrix_session_invalid",
            MatrixError::StoreNotEncrypted { .. } => "matrix_store_not_encrypted",
            MatrixError::StoreEncrypted { .. } => "matrix_store_encrypted",
            MatrixError::StorePassphrase { .. } => "matrix_store_passphrase",
        }
    }

    /// Classifies a sync failure: an unknown token is not going to heal by retrying.
    pub(crate) fn from_sync(error: matrix_sdk::Error) -> Self {
        if session_invalid(&error) {
            MatrixError::SessionInvalid(error.to_string())
        } else {
            MatrixError::Sync(Box::new(error))
        }
    }
}

impl From<matrix_sdk::ClientBuildError> for MatrixError {
    fn from(error: matrix_sdk::ClientBuildError) -> Self {
        // Boxed: the SDK's build error is large, and every `Result` carrying a `MatrixError`
        // would pay for it.
        MatrixError::Build(Box::new(error))
    }
}

/// True when the homeserver no longer accepts the access token.
pub(crate) fn session_invalid(error: &matrix_sdk::Error) -> bool {
    use matrix_sdk::ruma::api::error::ErrorKind;
    matches!(
        error.client_api_error_kind(),
        Some(ErrorKind::UnknownToken(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stable_and_messages_name_the_fix() {
        let error = MatrixError::NoCredentials {
            path: PathBuf::from("data/matrix"),
        };
        assert_eq!(error.label(), "matrix_no_credentials");
        let text = error.to_string();
        assert!(text.contains("STEWARD_MATRIX_PASSWORD"), "{text}");
        assert!(text.contains("data/matrix"), "{text}");
    }

    #[test]
    fn store_passphrase_errors_say_what_to_do() {
        let path = PathBuf::from("data/matrix");
        let not_encrypted = MatrixError::StoreNotEncrypted {
            path: path.clone(),
            variable: "STEWARD_STORE_KEY".into(),
        };
        let text = not_encrypted.to_string();
        assert!(text.contains("without a passphrase"), "{text}");
        assert!(text.contains("STEWARD_STORE_KEY"), "{text}");
        assert!(text.contains("remove store_passphrase_env"), "{text}");
        let encrypted = MatrixError::StoreEncrypted { path: path.clone() }.to_string();
        assert!(
            encrypted.contains("store_passphrase_env is not set"),
            "{encrypted}"
        );
        let wrong = MatrixError::StorePassphrase {
            path,
            variable: "STEWARD_STORE_KEY".into(),
            reason: "decryption failed".into(),
        };
        assert_eq!(wrong.label(), "matrix_store_passphrase");
        assert!(wrong.to_string().contains("STEWARD_STORE_KEY"));
    }
}
