//! CPU repacking of GGUF weights whose block type candle multiplies without SIMD.
//!
//! mistral.rs runs GGUF models through candle's quantized kernels. On x86 candle 0.10 has
//! AVX2 dot products for Q4_0, Q8_0 and the K-quants, but Q4_1, Q5_0 and Q5_1 fall back to a
//! scalar loop (`vec_dot_unopt`): profiled on the default model (SmolLM2-135M, Q4_1), 43 % of
//! the CPU time went there and generation ran at 0.7x llama.cpp's rate (docs/perf.md). So
//! before loading on the CPU, such tensors are converted once to Q8_0 — eight bits per weight
//! represent the four-bit values almost exactly (the error is at most 1/254 of the block's
//! largest weight, a fraction of Q4_1's own step) — and the copy is kept in the cache,
//! named by the source file's SHA-256, so later starts load it directly. Other tensors are
//! copied as they are.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;
use sha2::{Digest, Sha256};

/// Why a GGUF file could not be repacked.
#[derive(Debug, thiserror::Error)]
pub enum RepackError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the repacked model to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot convert the tensors of {path}: {reason}")]
    Convert { path: String, reason: String },
}

/// Block types candle multiplies with a scalar loop on the CPU.
fn is_slow_on_cpu(dtype: GgmlDType) -> bool {
    matches!(dtype, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

/// The file to load on the CPU: `path` itself when every tensor has a fast kernel, else its
/// repacked copy in `cache_dir` (made now if it is not there yet).
pub fn for_cpu(path: &Path, cache_dir: &Path) -> Result<PathBuf, RepackError> {
    let shown = path.display().to_string();
    let convert = |error: candle_core::Error| RepackError::Convert {
        path: shown.clone(),
        reason: error.to_string(),
    };
    let read = |source| RepackError::Read {
        path: shown.clone(),
        source,
    };
    let content = {
        let mut reader = BufReader::new(File::open(path).map_err(read)?);
        gguf_file::Content::read(&mut reader).map_err(convert)?
    };
    if !content
        .tensor_infos
        .values()
        .any(|info| is_slow_on_cpu(info.ggml_dtype))
    {
        return Ok(path.to_path_buf());
    }
    let target = cache_dir.join(repacked_name(path, &sha256_of(path).map_err(read)?));
    if target.is_file() {
        return Ok(target);
    }
    let write = |source| RepackError::Write {
        path: target.display().to_string(),
        source,
    };
    std::fs::create_dir_all(cache_dir).map_err(write)?;
    let mut reader = BufReader::new(File::open(path).map_err(read)?);
    let mut tensors = Vec::with_capacity(content.tensor_infos.len());
    for (name, info) in &content.tensor_infos {
        let tensor = content
            .tensor(&mut reader, name, &Device::Cpu)
            .map_err(convert)?;
        let tensor = if is_slow_on_cpu(info.ggml_dtype) {
            requantize(&tensor).map_err(convert)?
        } else {
            tensor
        };
        tensors.push((name.clone(), tensor));
    }
    // Written beside the target under a name of its own and renamed: a crash never leaves half
    // a model to load, and processes (or tests) repacking the same file at once each write
    // their own copy; the last rename wins with a whole file.
    static WRITERS: AtomicU64 = AtomicU64::new(0);
    let partial = target.with_extension(format!(
        "{}-{}.partial",
        std::process::id(),
        WRITERS.fetch_add(1, Ordering::Relaxed)
    ));
    {
        let file = File::create(&partial).map_err(write)?;
        let mut writer = BufWriter::new(file);
        let metadata: Vec<(&str, &gguf_file::Value)> = content
            .metadata
            .iter()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        let tensors: Vec<(&str, &QTensor)> = tensors
            .iter()
            .map(|(name, tensor)| (name.as_str(), tensor))
            .collect();
        gguf_file::write(&mut writer, &metadata, &tensors).map_err(convert)?;
        std::io::Write::flush(&mut writer).map_err(write)?;
    }
    std::fs::rename(&partial, &target).map_err(|source| {
        let _ = std::fs::remove_file(&partial);
        write(source)
    })?;
    tracing::info!(source = %path.display(), repacked = %target.display(), "converted Q4_1/Q5 tensors to Q8_0 for the CPU's fast kernels");
    Ok(target)
}

/// A slow-kernel tensor as Q8_0 (through f32: the conversion is exact up to Q8_0's rounding).
fn requantize(tensor: &QTensor) -> candle_core::Result<QTensor> {
    let values = tensor.dequantize(&Device::Cpu)?;
    QTensor::quantize(&values, GgmlDType::Q8_0)
}

/// `<stem>.<first 16 hex of the sha256>.q8_0.gguf`: a changed source file gets a new copy.
fn repacked_name(path: &Path, sha256: &str) -> String {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".to_string());
    format!("{stem}.{}.q8_0.gguf", &sha256[..16])
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Tensor;

    #[test]
    fn q4_1_values_survive_the_conversion_to_q8_0() {
        let values: Vec<f32> = (0..256)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        let tensor = Tensor::from_vec(values, (2, 128), &Device::Cpu).unwrap();
        let q4_1 = QTensor::quantize(&tensor, GgmlDType::Q4_1).unwrap();
        let before: Vec<f32> = q4_1
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let q8_0 = requantize(&q4_1).unwrap();
        assert_eq!(q8_0.dtype(), GgmlDType::Q8_0);
        assert_eq!(q8_0.shape().dims(), &[2, 128]);
        let after: Vec<f32> = q8_0
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        // Per 32-weight block, Q8_0 rounds to a step of max|v| / 127.
        for (block_before, block_after) in before.chunks(32).zip(after.chunks(32)) {
            let largest = block_before.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (b, a) in block_before.iter().zip(block_after) {
                assert!((b - a).abs() <= largest / 254.0 + 1e-3, "{b} became {a}");
            }
        }
    }

    #[test]
    fn only_q4_1_and_q5_types_are_repacked() {
        assert!(is_slow_on_cpu(GgmlDType::Q4_1));
        assert!(is_slow_on_cpu(GgmlDType::Q5_0));
        assert!(!is_slow_on_cpu(GgmlDType::Q4_0));
        assert!(!is_slow_on_cpu(GgmlDType::Q8_0));
        assert!(!is_slow_on_cpu(GgmlDType::Q4K));
        assert!(!is_slow_on_cpu(GgmlDType::F32));
    }

    #[test]
    fn the_copy_is_named_by_the_sources_hash() {
        let name = repacked_name(Path::new("/m/SmolLM2.Q4_1.gguf"), "0123456789abcdef0123");
        assert_eq!(name, "SmolLM2.Q4_1.0123456789abcdef.q8_0.gguf");
    }
}
