//! Files and directory trees into documents. The owner names files or directories; every
//! Markdown (`.md`, `.markdown`) and plain text (`.txt`, `.text`) file becomes a document of
//! passages, and every file that cannot be one is skipped with the reason, so `kb add` can say
//! exactly what it left out and why.
//!
//! What is read is bounded whatever the owner points at: a file over [`MAX_FILE_BYTES`] is not
//! read at all (and no more than that is ever read from one), directories are walked to
//! [`MAX_DEPTH`] levels without following symbolic links to directories (no loops), and
//! hidden entries (`.git`) are passed over.

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::chunk::{markdown_sections, passages, plain_sections, TokenCounter, PASSAGE_TOKENS};
use super::{NewDocument, NewPassage};

/// Larger files are skipped: a knowledge document is prose, and 2 MiB is a book.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Directories nested deeper below a named directory are skipped.
pub const MAX_DEPTH: usize = 32;

/// A NUL byte this early means a binary file (text, UTF-8 included, has none).
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// A file or directory left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    /// A sentence for the owner, e.g. `not valid UTF-8 (the first bad byte is at offset 3)`.
    pub reason: String,
}

/// What [`ingest`] made of the paths it was given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ingested {
    /// In the order the paths were given, each directory's files by name.
    pub documents: Vec<NewDocument>,
    pub skipped: Vec<Skipped>,
}

/// Why a path gave no document.
#[derive(Debug, Error)]
enum SkipReason {
    #[error("does not exist")]
    Missing,
    #[error("cannot read it: {0}")]
    Unreadable(#[from] io::Error),
    #[error("not a regular file (a device, pipe or socket)")]
    NotAFile,
    #[error("a symbolic link to a directory, not followed (add the directory itself)")]
    LinkedDirectory,
    #[error("a broken symbolic link: {0}")]
    BrokenLink(io::Error),
    #[error(
        "not Markdown or plain text ({0}); only .md, .markdown, .txt and .text files are read"
    )]
    NotText(String),
    #[error("too large: {bytes} bytes ({}), over the {} limit", mebibytes(.bytes), mebibytes(&MAX_FILE_BYTES))]
    TooLarge { bytes: u64 },
    #[error("binary: it has a NUL byte in its first 8 KiB")]
    Binary,
    #[error("not valid UTF-8 (the first bad byte is at offset {offset}); save it as UTF-8")]
    NotUtf8 { offset: usize },
    #[error("empty: it has no text")]
    Empty,
    #[error("nothing to cite: only headings, front matter or characters that show nothing")]
    NothingToCite,
    #[error("no Markdown or text files (.md, .markdown, .txt, .text) in it")]
    NoTextFiles,
    #[error(
        "nested deeper than {} directories below the one added; add it directly",
        MAX_DEPTH
    )]
    TooDeep,
}

impl SkipReason {
    fn of_metadata_error(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::NotFound {
            SkipReason::Missing
        } else {
            SkipReason::Unreadable(error)
        }
    }
}

fn mebibytes(bytes: &u64) -> String {
    format!("{:.1} MiB", *bytes as f64 / (1024.0 * 1024.0))
}

/// How a file's text is cut into sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Markdown,
    PlainText,
}

/// Reads `paths` (files, or directories walked recursively) into documents visible to `scope`.
/// A file named twice (`kb add docs docs/install.md`) gives one document.
pub fn ingest(paths: &[PathBuf], scope: &str, counter: &TokenCounter) -> Ingested {
    let mut walk = Walk {
        scope,
        counter,
        ingested: Ingested::default(),
        seen: HashSet::new(),
    };
    for path in paths {
        // A path the owner names is followed even when it is a symbolic link.
        match fs::metadata(path) {
            Err(error) => walk.skip(path, SkipReason::of_metadata_error(error)),
            Ok(metadata) if metadata.is_dir() => {
                if !walk.directory(path, 0) {
                    walk.skip(path, SkipReason::NoTextFiles);
                }
            }
            Ok(metadata) if metadata.is_file() => {
                walk.file(path, &metadata);
            }
            Ok(_) => walk.skip(path, SkipReason::NotAFile),
        }
    }
    walk.ingested
}

/// A path as documents and citations show it: components joined with `/`, without `.`
/// components, so `./docs/install.md` is `docs/install.md`.
pub fn document_path(path: &Path) -> String {
    let mut shown = String::new();
    for component in path.components() {
        let part = match component {
            Component::CurDir => continue,
            Component::RootDir => {
                shown.push('/');
                continue;
            }
            Component::Prefix(prefix) => prefix.as_os_str().to_string_lossy(),
            Component::ParentDir => "..".into(),
            Component::Normal(name) => name.to_string_lossy(),
        };
        if !shown.is_empty() && !shown.ends_with('/') {
            shown.push('/');
        }
        shown.push_str(&part);
    }
    shown
}

/// One `ingest` call's progress.
struct Walk<'a> {
    scope: &'a str,
    counter: &'a TokenCounter,
    ingested: Ingested,
    /// Document paths already read.
    seen: HashSet<String>,
}

impl Walk<'_> {
    fn skip(&mut self, path: &Path, reason: SkipReason) {
        tracing::debug!(path = %path.display(), %reason, "knowledge file skipped");
        self.ingested.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        });
    }

    /// Reads the tree under `dir`, `depth` levels below a named directory. Returns whether it
    /// holds a Markdown or text file (read or skipped with its own reason) or something that
    /// could not be looked into; a subdirectory that holds none is reported here, unless this
    /// directory holds none either (then only the outermost such directory is reported).
    fn directory(&mut self, dir: &Path, depth: usize) -> bool {
        if depth >= MAX_DEPTH {
            self.skip(dir, SkipReason::TooDeep);
            return true;
        }
        let entries = match sorted_entries(dir) {
            Ok(entries) => entries,
            Err(error) => {
                self.skip(dir, SkipReason::Unreadable(error));
                return true;
            }
        };
        let mut holds_text = false;
        let mut without_text = Vec::new();
        for entry in entries {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let file_type = match entry.file_type() {
                Ok(file_type) => file_type,
                Err(error) => {
                    self.skip(&path, SkipReason::Unreadable(error));
                    continue;
                }
            };
            if file_type.is_dir() {
                if self.directory(&path, depth + 1) {
                    holds_text = true;
                } else {
                    without_text.push(path);
                }
            } else if file_type.is_symlink() {
                holds_text |= self.link(&path);
            } else if file_type.is_file() {
                match entry.metadata() {
                    Ok(metadata) => holds_text |= self.file(&path, &metadata),
                    Err(error) => self.skip(&path, SkipReason::Unreadable(error)),
                }
            } else {
                self.skip(&path, SkipReason::NotAFile);
            }
        }
        if holds_text {
            for path in without_text {
                self.skip(&path, SkipReason::NoTextFiles);
            }
        }
        holds_text
    }

    /// A symbolic link met in a walk: a file behind it is read, a directory is not followed
    /// (a link to an ancestor would loop). Returns what [`Walk::directory`] counts.
    fn link(&mut self, path: &Path) -> bool {
        match fs::metadata(path) {
            Ok(target) if target.is_dir() => {
                self.skip(path, SkipReason::LinkedDirectory);
                true
            }
            Ok(target) if target.is_file() => self.file(path, &target),
            Ok(_) => {
                self.skip(path, SkipReason::NotAFile);
                false
            }
            Err(error) => {
                self.skip(path, SkipReason::BrokenLink(error));
                false
            }
        }
    }

    /// Reads one regular file. Returns whether it is Markdown or text by its name (whether or
    /// not it could be read).
    fn file(&mut self, path: &Path, metadata: &Metadata) -> bool {
        let format = match format_of(path) {
            Ok(format) => format,
            Err(reason) => {
                self.skip(path, reason);
                return false;
            }
        };
        let shown = document_path(path);
        if !self.seen.insert(shown.clone()) {
            return true;
        }
        match read_document(path, metadata.len(), format, self.counter) {
            Ok((sha256, passages)) => {
                tracing::debug!(path = %shown, passages = passages.len(), "knowledge file read");
                self.ingested.documents.push(NewDocument {
                    path: shown,
                    scope: self.scope.to_string(),
                    sha256,
                    passages,
                });
            }
            Err(reason) => self.skip(path, reason),
        }
        true
    }
}

/// The entries of `dir`, by name (a stable order whatever the file system's).
fn sorted_entries(dir: &Path) -> io::Result<Vec<fs::DirEntry>> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    Ok(entries)
}

/// The format a file's extension names (any case).
fn format_of(path: &Path) -> Result<Format, SkipReason> {
    let extension = path
        .extension()
        .map(|extension| extension.to_string_lossy().to_lowercase());
    match extension.as_deref() {
        Some("md" | "markdown") => Ok(Format::Markdown),
        Some("txt" | "text") => Ok(Format::PlainText),
        Some(other) => Err(SkipReason::NotText(format!("a .{other} file"))),
        None => Err(SkipReason::NotText("no extension".to_string())),
    }
}

/// The SHA-256 and passages of the file at `path`, `size` bytes long by its metadata.
fn read_document(
    path: &Path,
    size: u64,
    format: Format,
    counter: &TokenCounter,
) -> Result<(String, Vec<NewPassage>), SkipReason> {
    if size > MAX_FILE_BYTES {
        return Err(SkipReason::TooLarge { bytes: size });
    }
    // Never more than the limit in memory, even from a file that grew since its metadata.
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > MAX_FILE_BYTES {
        return Err(SkipReason::TooLarge { bytes: read });
    }
    if bytes.iter().take(BINARY_SNIFF_BYTES).any(|&byte| byte == 0) {
        return Err(SkipReason::Binary);
    }
    let text = std::str::from_utf8(&bytes).map_err(|error| SkipReason::NotUtf8 {
        offset: error.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(SkipReason::Empty);
    }
    let sections = match format {
        Format::Markdown => markdown_sections(text),
        Format::PlainText => plain_sections(text),
    };
    let passages = passages(&sections, PASSAGE_TOKENS, counter);
    if passages.is_empty() {
        return Err(SkipReason::NothingToCite);
    }
    Ok((format!("{:x}", Sha256::digest(&bytes)), passages))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALL: &str =
        "# Install\n\nRun `cargo install steward`.\n\n## Linux\n\nUse the package.\n";

    fn write(path: &Path, bytes: impl AsRef<[u8]>) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, bytes).unwrap();
    }

    /// A `docs` tree with one file of every kind; the guard keeps it alive.
    fn docs_tree() -> (tempfile::TempDir, PathBuf) {
        let guard = tempfile::tempdir().unwrap();
        let root = guard.path().join("docs");
        write(&root.join("install.md"), INSTALL);
        write(
            &root.join("guide/usage.MARKDOWN"),
            "# Usage\n\nRun `steward`.\n",
        );
        write(
            &root.join("notes.txt"),
            "\u{feff}Plain notes about tokio.\n",
        );
        write(&root.join("logo.png"), [0x89, b'P', b'N', b'G', 0, 0, 0, 0]);
        write(&root.join("blob.md"), b"# Blob\n\0\0\0binary");
        write(&root.join("latin1.txt"), b"caf\xe9 au lait");
        write(
            &root.join("huge.txt"),
            vec![b'a'; MAX_FILE_BYTES as usize + 1],
        );
        write(&root.join("blank.md"), "  \n\n\t\n");
        write(&root.join("headings.md"), "# Only\n## Headings\n");
        write(&root.join("Makefile"), "all:\n");
        fs::create_dir_all(root.join("empty")).unwrap();
        fs::create_dir_all(root.join("images/icons")).unwrap();
        write(&root.join(".git/config.md"), "# hidden\n\ntext");
        write(&root.join(".hidden.md"), "hidden file");
        (guard, root)
    }

    fn reason_for<'a>(ingested: &'a Ingested, path: &Path) -> &'a str {
        let skips: Vec<&Skipped> = ingested
            .skipped
            .iter()
            .filter(|skipped| skipped.path == path)
            .collect();
        assert_eq!(skips.len(), 1, "{path:?} in {:#?}", ingested.skipped);
        &skips[0].reason
    }

    #[test]
    fn a_tree_gives_its_text_files_and_says_why_it_skipped_the_rest() {
        let (_guard, root) = docs_tree();
        let ingested = ingest(
            std::slice::from_ref(&root),
            "discord:1",
            &TokenCounter::new(),
        );

        let base = document_path(&root);
        let paths: Vec<&str> = ingested
            .documents
            .iter()
            .map(|doc| doc.path.as_str())
            .collect();
        assert_eq!(
            paths,
            vec![
                format!("{base}/guide/usage.MARKDOWN"),
                format!("{base}/install.md"),
                format!("{base}/notes.txt"),
            ]
        );
        assert!(ingested
            .documents
            .iter()
            .all(|doc| doc.scope == "discord:1"));
        assert!(ingested
            .documents
            .iter()
            .all(|doc| !doc.passages.is_empty()));

        let install = &ingested.documents[1];
        assert_eq!(install.passages[1].heading, "Install › Linux");
        assert_eq!(
            install.sha256,
            format!("{:x}", Sha256::digest(INSTALL.as_bytes()))
        );
        // The byte order mark is not text.
        assert_eq!(
            ingested.documents[2].passages[0].text,
            "Plain notes about tokio."
        );

        let reason = |name: &str| reason_for(&ingested, &root.join(name)).to_string();
        assert!(reason("logo.png").contains("not Markdown or plain text (a .png file)"));
        assert!(reason("Makefile").contains("(no extension)"));
        assert!(reason("blob.md").starts_with("binary"));
        assert!(reason("latin1.txt").contains("not valid UTF-8"));
        assert!(reason("latin1.txt").contains("offset 3"));
        assert!(reason("huge.txt").contains("too large"));
        assert!(reason("huge.txt").contains(&format!("{} bytes", MAX_FILE_BYTES + 1)));
        assert!(reason("blank.md").starts_with("empty"));
        assert!(reason("headings.md").starts_with("nothing to cite"));
        assert!(reason("empty").starts_with("no Markdown or text files"));
        // Only the outermost directory without text is reported.
        assert!(reason("images").starts_with("no Markdown or text files"));
        assert_eq!(ingested.skipped.len(), 9, "{:#?}", ingested.skipped);

        // Hidden entries are passed over without a word.
        let mentioned = ingested
            .skipped
            .iter()
            .map(|skipped| skipped.path.display().to_string())
            .chain(paths.iter().map(|path| path.to_string()));
        for path in mentioned {
            assert!(
                !path.contains(".git") && !path.contains(".hidden"),
                "{path}"
            );
        }
    }

    #[test]
    fn paths_are_shown_with_slashes_and_without_dot_components() {
        assert_eq!(
            document_path(&Path::new("./docs").join("install.md")),
            "docs/install.md"
        );
        assert_eq!(document_path(Path::new("./README.md")), "README.md");
        assert_eq!(
            document_path(Path::new("docs/guide/usage.md")),
            "docs/guide/usage.md"
        );
        assert_eq!(document_path(&Path::new(".").join("a.md")), "a.md");
        assert_eq!(document_path(Path::new("../kb/a.md")), "../kb/a.md");
        assert_eq!(document_path(Path::new("/srv/kb/a.md")), "/srv/kb/a.md");
    }

    #[test]
    fn a_file_named_directly_keeps_its_path_and_is_read_once() {
        let (_guard, root) = docs_tree();
        let install = root.join("install.md");
        let ingested = ingest(&[install.clone(), root.clone()], "", &TokenCounter::new());
        assert_eq!(ingested.documents[0].path, document_path(&install));
        let named = ingested
            .documents
            .iter()
            .filter(|doc| doc.path == document_path(&install))
            .count();
        assert_eq!(named, 1);
    }

    #[test]
    fn missing_paths_and_unsupported_files_named_directly_are_skipped() {
        let (_guard, root) = docs_tree();
        let missing = root.join("nope.md");
        let logo = root.join("logo.png");
        let ingested = ingest(&[missing.clone(), logo.clone()], "", &TokenCounter::new());
        assert!(ingested.documents.is_empty());
        assert_eq!(reason_for(&ingested, &missing), "does not exist");
        assert!(reason_for(&ingested, &logo).starts_with("not Markdown or plain text"));
    }

    #[test]
    fn a_directory_without_text_files_is_one_skip() {
        let guard = tempfile::tempdir().unwrap();
        let root = guard.path().join("a");
        fs::create_dir_all(root.join("b/c")).unwrap();
        let ingested = ingest(std::slice::from_ref(&root), "", &TokenCounter::new());
        assert!(ingested.documents.is_empty());
        assert_eq!(ingested.skipped.len(), 1, "{:#?}", ingested.skipped);
        assert!(reason_for(&ingested, &root).starts_with("no Markdown or text files"));
    }

    #[test]
    fn the_hash_is_the_files_sha256_in_lowercase_hex_and_stable() {
        let guard = tempfile::tempdir().unwrap();
        let file = guard.path().join("hello.txt");
        write(&file, "hello\n");
        let counter = TokenCounter::new();
        let first = ingest(std::slice::from_ref(&file), "", &counter);
        let second = ingest(std::slice::from_ref(&file), "", &counter);
        assert_eq!(
            first.documents[0].sha256,
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        );
        assert_eq!(first, second);
    }

    #[test]
    fn deep_trees_stop_at_the_depth_limit() {
        let guard = tempfile::tempdir().unwrap();
        let root = guard.path().join("deep");
        let mut bottom = root.clone();
        for _ in 0..MAX_DEPTH + 2 {
            bottom.push("d");
        }
        write(&bottom.join("lost.md"), "too deep to read");
        write(&root.join("top.md"), "read");
        let ingested = ingest(std::slice::from_ref(&root), "", &TokenCounter::new());
        assert_eq!(ingested.documents.len(), 1);
        assert_eq!(ingested.skipped.len(), 1, "{:#?}", ingested.skipped);
        assert!(ingested.skipped[0].reason.starts_with("nested deeper than"));
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_to_directories_are_not_followed() {
        let (_guard, root) = docs_tree();
        // A link back to the root would loop forever if followed.
        std::os::unix::fs::symlink(&root, root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root.join("install.md"), root.join("linked.md")).unwrap();
        let ingested = ingest(std::slice::from_ref(&root), "", &TokenCounter::new());
        assert!(reason_for(&ingested, &root.join("loop")).contains("not followed"));
        let linked = ingested
            .documents
            .iter()
            .find(|doc| doc.path.ends_with("/linked.md"))
            .expect("a link to a file is read");
        assert_eq!(
            linked.sha256,
            format!("{:x}", Sha256::digest(INSTALL.as_bytes()))
        );
    }
}
