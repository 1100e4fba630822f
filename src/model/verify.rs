//! Checking a model file against its manifest: that it exists, its size, then its SHA-256.
//!
//! The file is hashed in fixed-size chunks, so a multi-gigabyte model never sits in memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::manifest::ModelManifest;

/// Read and write buffer size for hashing and extraction.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Why a model file does not match its manifest.
#[derive(Debug, Error)]
pub enum VerifyError {
    #[error("model file {} does not exist; run `steward model fetch` to download it", .path.display())]
    Missing { path: PathBuf },
    #[error("model path {} is not a regular file; remove it and run `steward model fetch`", .path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot read model file {} (check its permissions)", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("model file {} is {found} bytes but the manifest expects {expected}; it is incomplete or another model: delete it and run `steward model fetch`", .path.display())]
    WrongSize {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("model file {} has SHA-256 {found} but the manifest expects {expected}; it is corrupt or another model: delete it and run `steward model fetch`", .path.display())]
    WrongChecksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
}

impl VerifyError {
    /// Short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            VerifyError::Missing { .. } => "model_missing",
            VerifyError::NotAFile { .. } => "model_not_a_file",
            VerifyError::Unreadable { .. } => "model_unreadable",
            VerifyError::WrongSize { .. } => "model_wrong_size",
            VerifyError::WrongChecksum { .. } => "model_wrong_checksum",
        }
    }
}

/// Checks that `path` exists, has the manifest's size, and then the manifest's SHA-256.
///
/// The size is checked first, so a truncated download fails without being hashed.
pub fn verify(manifest: &ModelManifest, path: &Path) -> Result<(), VerifyError> {
    check_size(manifest, path)?;
    let unreadable = |source| VerifyError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(unreadable)?;
    let (found_size, found) = hash_reader(file).map_err(unreadable)?;
    // The file changed size while it was being read.
    if found_size != manifest.size {
        return Err(VerifyError::WrongSize {
            path: path.to_path_buf(),
            expected: manifest.size,
            found: found_size,
        });
    }
    let expected = manifest.sha256_lowercase();
    if found != expected {
        return Err(VerifyError::WrongChecksum {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    Ok(())
}

/// The cheap part of [`verify`]: that `path` is a regular file of the manifest's size. Enough
/// before loading a file (a truncated download is caught); the checksum is `steward doctor`'s.
pub fn check_size(manifest: &ModelManifest, path: &Path) -> Result<(), VerifyError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(VerifyError::Missing {
                path: path.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(VerifyError::Unreadable {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if !meta.is_file() {
        return Err(VerifyError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() != manifest.size {
        return Err(VerifyError::WrongSize {
            path: path.to_path_buf(),
            expected: manifest.size,
            found: meta.len(),
        });
    }
    Ok(())
}

/// Hashes everything `reader` yields; returns the byte count and the lowercase hex SHA-256.
pub(crate) fn hash_reader(mut reader: impl Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex(hasher)))
}

/// Finishes `hasher` as lowercase hex.
pub(crate) fn hex(hasher: Sha256) -> String {
    format!("{:x}", hasher.finalize())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::manifest::{ChatTemplate, ModelSource};

    /// A manifest for a tiny file holding `content`.
    pub(crate) fn tiny_manifest(content: &[u8]) -> ModelManifest {
        let mut hasher = Sha256::new();
        hasher.update(content);
        ModelManifest {
            name: "tiny".to_string(),
            file: "tiny.gguf".to_string(),
            quantization: "none".to_string(),
            size: content.len() as u64,
            sha256: hex(hasher),
            chat_template: ChatTemplate::Embedded,
            origin: "a unit test".to_string(),
            license: "MIT".to_string(),
            source: ModelSource {
                pypi: "tiny-model==1.0".to_string(),
                wheel_member: "tiny_model/tiny.gguf".to_string(),
            },
        }
    }

    #[test]
    fn hash_matches_a_known_digest() {
        let (n, digest) = hash_reader(&b"abc"[..]).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verify_tells_each_problem_apart() {
        let content = b"GGUF tiny test model";
        let manifest = tiny_manifest(content);
        let dir = tempfile::tempdir().unwrap();
        let mut upper = manifest.clone();
        upper.sha256 = upper.sha256.to_ascii_uppercase();

        /// (case, file content or None for absent, manifest, expected label or None for ok)
        type Case<'a> = (
            &'a str,
            Option<&'a [u8]>,
            &'a ModelManifest,
            Option<&'a str>,
        );
        let cases: [Case; 6] = [
            ("good", Some(content), &manifest, None),
            ("uppercase digest", Some(content), &upper, None),
            ("missing", None, &manifest, Some("model_missing")),
            (
                "truncated",
                Some(&content[..5]),
                &manifest,
                Some("model_wrong_size"),
            ),
            ("empty", Some(b""), &manifest, Some("model_wrong_size")),
            (
                "same size, other bytes",
                Some(b"GGUF tiny test MODEL"),
                &manifest,
                Some("model_wrong_checksum"),
            ),
        ];
        for (i, (name, file, manifest, want)) in cases.into_iter().enumerate() {
            let path = dir.path().join(format!("{i}.gguf"));
            if let Some(bytes) = file {
                std::fs::write(&path, bytes).unwrap();
            }
            let got = verify(manifest, &path).err().map(|e| e.label());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn verify_reports_expected_and_found() {
        let manifest = tiny_manifest(b"0123456789");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gguf");
        std::fs::write(&path, b"012").unwrap();
        match verify(&manifest, &path) {
            Err(VerifyError::WrongSize {
                expected, found, ..
            }) => assert_eq!((expected, found), (10, 3)),
            other => panic!("expected WrongSize, got {other:?}"),
        }
        std::fs::write(&path, b"9876543210").unwrap();
        match verify(&manifest, &path) {
            Err(e @ VerifyError::WrongChecksum { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&manifest.sha256), "{text}");
            }
            other => panic!("expected WrongChecksum, got {other:?}"),
        }
    }

    #[test]
    fn check_size_reads_no_content() {
        let manifest = tiny_manifest(b"0123456789");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.gguf");
        let err = check_size(&manifest, &path).unwrap_err();
        assert_eq!(err.label(), "model_missing");
        // Same size, other bytes: only the full check sees it.
        std::fs::write(&path, b"9876543210").unwrap();
        check_size(&manifest, &path).unwrap();
        assert_eq!(
            verify(&manifest, &path).unwrap_err().label(),
            "model_wrong_checksum"
        );
        std::fs::write(&path, b"012").unwrap();
        assert_eq!(
            check_size(&manifest, &path).unwrap_err().label(),
            "model_wrong_size"
        );
    }

    #[test]
    fn verify_rejects_a_directory() {
        let manifest = tiny_manifest(b"x");
        let dir = tempfile::tempdir().unwrap();
        let err = verify(&manifest, dir.path()).unwrap_err();
        assert_eq!(err.label(), "model_not_a_file");
    }
}
