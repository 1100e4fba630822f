//! A bounds check of a GGUF file's header before mistral.rs reads it.
//!
//! candle's GGUF reader trusts the lengths written in the file: a corrupt or truncated file can
//! make it allocate exabytes and abort the whole process (an allocation failure is not a panic
//! and cannot be caught). Walking the header with every length checked against the file size
//! turns such files into a clear error instead.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Why a file is not a usable GGUF model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GgufProblem {
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("not a GGUF file (the first bytes are not \"GGUF\")")]
    NotGguf,
    #[error("unsupported GGUF version {0} (versions 2 and 3 are supported)")]
    UnsupportedVersion(u32),
    #[error("the file is truncated or corrupt: {0}")]
    Corrupt(String),
}

/// Checks the header, metadata and tensor table of `path` without loading tensors.
pub fn check_gguf(path: &Path) -> Result<(), GgufProblem> {
    let file = File::open(path).map_err(|e| GgufProblem::Unreadable(e.to_string()))?;
    let size = file
        .metadata()
        .map_err(|e| GgufProblem::Unreadable(e.to_string()))?
        .len();
    let mut reader = Reader {
        inner: BufReader::new(file),
        remaining: size,
    };
    let mut magic = [0u8; 4];
    reader.bytes(&mut magic)?;
    if &magic != b"GGUF" {
        return Err(GgufProblem::NotGguf);
    }
    let version = reader.u32()?;
    if !(2..=3).contains(&version) {
        return Err(GgufProblem::UnsupportedVersion(version));
    }
    let tensors = reader.count("tensor count", 8 + 4 + 8 + 4 + 8)?;
    let entries = reader.count("metadata count", 8 + 4)?;
    for _ in 0..entries {
        reader.string("metadata key")?;
        let kind = reader.u32()?;
        reader.value(kind, 0)?;
    }
    for _ in 0..tensors {
        reader.string("tensor name")?;
        let dims = reader.u32()?;
        if dims > 8 {
            return Err(GgufProblem::Corrupt(format!(
                "a tensor with {dims} dimensions"
            )));
        }
        for _ in 0..dims {
            reader.u64()?;
        }
        reader.u32()?; // type
        reader.u64()?; // offset
    }
    Ok(())
}

struct Reader {
    inner: BufReader<File>,
    remaining: u64,
}

impl Reader {
    fn bytes(&mut self, buffer: &mut [u8]) -> Result<(), GgufProblem> {
        self.inner.read_exact(buffer).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => GgufProblem::Corrupt("unexpected end of file".into()),
            _ => GgufProblem::Unreadable(e.to_string()),
        })?;
        self.remaining = self.remaining.saturating_sub(buffer.len() as u64);
        Ok(())
    }

    fn u32(&mut self) -> Result<u32, GgufProblem> {
        let mut raw = [0u8; 4];
        self.bytes(&mut raw)?;
        Ok(u32::from_le_bytes(raw))
    }

    fn u64(&mut self) -> Result<u64, GgufProblem> {
        let mut raw = [0u8; 8];
        self.bytes(&mut raw)?;
        Ok(u64::from_le_bytes(raw))
    }

    /// Reads a count of items that each take at least `min_size` bytes.
    fn count(&mut self, what: &str, min_size: u64) -> Result<u64, GgufProblem> {
        let count = self.u64()?;
        if count.saturating_mul(min_size) > self.remaining {
            return Err(GgufProblem::Corrupt(format!(
                "{what} {count} does not fit in the file"
            )));
        }
        Ok(count)
    }

    fn skip(&mut self, length: u64, what: &str) -> Result<(), GgufProblem> {
        if length > self.remaining {
            return Err(GgufProblem::Corrupt(format!(
                "{what} of {length} bytes does not fit in the file"
            )));
        }
        let copied = io::copy(&mut (&mut self.inner).take(length), &mut io::sink())
            .map_err(|e| GgufProblem::Unreadable(e.to_string()))?;
        if copied != length {
            return Err(GgufProblem::Corrupt("unexpected end of file".into()));
        }
        self.remaining -= length;
        Ok(())
    }

    fn string(&mut self, what: &str) -> Result<(), GgufProblem> {
        let length = self.u64()?;
        self.skip(length, what)
    }

    fn value(&mut self, kind: u32, depth: u32) -> Result<(), GgufProblem> {
        match kind {
            0 | 1 | 7 => self.skip(1, "value"),
            2 | 3 => self.skip(2, "value"),
            4..=6 => self.skip(4, "value"),
            10..=12 => self.skip(8, "value"),
            8 => self.string("string value"),
            9 if depth < 2 => {
                let item_kind = self.u32()?;
                let count = self.count("array length", 1)?;
                for _ in 0..count {
                    self.value(item_kind, depth + 1)?;
                }
                Ok(())
            }
            9 => Err(GgufProblem::Corrupt("arrays nested too deeply".into())),
            other => Err(GgufProblem::Corrupt(format!(
                "unknown metadata type {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: u32, tensors: u64, entries: u64) -> Vec<u8> {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend(version.to_le_bytes());
        bytes.extend(tensors.to_le_bytes());
        bytes.extend(entries.to_le_bytes());
        bytes
    }

    fn string(text: &str) -> Vec<u8> {
        let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
        bytes.extend(text.as_bytes());
        bytes
    }

    fn check(bytes: &[u8]) -> Result<(), GgufProblem> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        std::fs::write(&path, bytes).unwrap();
        check_gguf(&path)
    }

    #[test]
    fn table() {
        let mut valid = header(3, 0, 1);
        valid.extend(string("general.name"));
        valid.extend(8u32.to_le_bytes());
        valid.extend(string("tiny"));

        let mut huge_string = header(3, 0, 1);
        huge_string.extend(0x6c6c_6120_7369_6874u64.to_le_bytes());
        huge_string.extend([0u8; 16]);

        let mut unknown_type = header(3, 0, 1);
        unknown_type.extend(string("k"));
        unknown_type.extend(99u32.to_le_bytes());

        let cases: Vec<(&str, Vec<u8>, Result<(), GgufProblem>)> = vec![
            ("valid", valid, Ok(())),
            (
                "empty",
                vec![],
                Err(GgufProblem::Corrupt("unexpected end of file".into())),
            ),
            (
                "not gguf",
                b"PK\x03\x04rest".to_vec(),
                Err(GgufProblem::NotGguf),
            ),
            (
                "version 1",
                header(1, 0, 0),
                Err(GgufProblem::UnsupportedVersion(1)),
            ),
            (
                "huge string",
                huge_string,
                Err(GgufProblem::Corrupt(
                    "metadata key of 7812726245584103540 bytes does not fit in the file".into(),
                )),
            ),
            (
                "too many tensors",
                header(3, u64::MAX, 0),
                Err(GgufProblem::Corrupt(format!(
                    "tensor count {} does not fit in the file",
                    u64::MAX
                ))),
            ),
            (
                "unknown type",
                unknown_type,
                Err(GgufProblem::Corrupt("unknown metadata type 99".into())),
            ),
        ];
        for (name, bytes, expected) in cases {
            assert_eq!(check(&bytes), expected, "{name}");
        }
    }
}
