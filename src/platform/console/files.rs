//! Files the console receives privately (a member's data export): written to
//! `<temp dir>/steward-files/`, a directory only the console's user may read, under the
//! attachment's name made safe (no path separators, no leading dots), replacing an earlier file
//! of the same name.

use std::io;
use std::path::{Path, PathBuf};

use crate::core::Attachment;

/// The directory's name inside the system's temporary directory.
const DIRECTORY: &str = "steward-files";
/// Longest file name kept, in characters.
const NAME_LIMIT: usize = 120;

/// Writes `file` and returns where it is.
pub fn save(file: &Attachment) -> io::Result<PathBuf> {
    let directory = std::env::temp_dir().join(DIRECTORY);
    private_directory(&directory)?;
    let path = directory.join(safe_name(&file.name));
    // Never through a link someone placed there: the old file goes, and the new one must be new.
    if let Err(error) = std::fs::remove_file(&path) {
        if error.kind() != io::ErrorKind::NotFound {
            return Err(error);
        }
    }
    write_new_private(&path, &file.bytes)?;
    Ok(path)
}

/// Creates `directory` readable by this user only, or checks that the existing one is a real
/// directory nobody else can read (the temporary directory is shared with other users).
fn private_directory(directory: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(directory)?;
    let metadata = std::fs::symlink_metadata(directory)?;
    if !metadata.is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory",
            directory.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(io::Error::other(format!(
                "{} can be read by other users; remove it or make it private (chmod 700)",
                directory.display()
            )));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)
}

/// `name` as one plain file name: path separators, control characters and characters Windows
/// refuses become `_`, leading dots are dropped (no `..`, no hidden files), and an empty result
/// becomes `attachment`.
fn safe_name(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| if unsafe_in_names(c) { '_' } else { c })
        .collect();
    let trimmed: String = replaced
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(NAME_LIMIT)
        .collect();
    let trimmed = trimmed.trim();
    if trimmed.is_empty() {
        "attachment".to_string()
    } else {
        trimmed.to_string()
    }
}

fn unsafe_in_names(c: char) -> bool {
    c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_directory() {
        let cases = [
            ("steward-export-1.json", "steward-export-1.json"),
            ("../../etc/passwd", "_.._etc_passwd"),
            ("/etc/passwd", "_etc_passwd"),
            ("..", "attachment"),
            ("...hidden", "hidden"),
            ("a\\b\nc", "a_b_c"),
            ("C:evil", "C_evil"),
            ("   ", "attachment"),
            ("", "attachment"),
            ("导出 数据.json", "导出 数据.json"),
        ];
        for (name, expected) in cases {
            assert_eq!(safe_name(name), expected, "{name:?}");
        }
        assert_eq!(safe_name(&"x".repeat(500)).chars().count(), NAME_LIMIT);
    }

    #[test]
    fn a_saved_file_holds_the_bytes_and_replaces_an_older_one() {
        let file = |bytes: &[u8]| Attachment {
            name: format!("steward-test-{}.json", std::process::id()),
            mime: "application/json".into(),
            bytes: bytes.to_vec(),
        };
        let first = save(&file(b"{\"old\": true}")).unwrap();
        let second = save(&file(b"{\"new\": true}")).unwrap();
        assert_eq!(first, second);
        assert_eq!(std::fs::read(&second).unwrap(), b"{\"new\": true}");
        assert!(second.starts_with(std::env::temp_dir().join(DIRECTORY)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&second).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_file(second).unwrap();
    }
}
