//! Database URLs: which backend a URL names, where it points, and how to print it safely.
//!
//! Store errors and logs name the database they failed on, but a PostgreSQL URL may carry a
//! password (`postgres://user:secret@host/db` or `?password=secret`). Everything printed goes
//! through [`redact_url`] or [`postgres_target`], which never include it.

use std::path::PathBuf;

/// What `Store::open` was asked to open, decided from the URL alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A SQLite database file (created with its parent directories if missing).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (`sqlite::memory:`), for tests.
    SqliteMemory,
    /// A PostgreSQL server; the URL is passed on to the driver unchanged.
    Postgres,
}

/// Decides what a database URL points to. `None` for a scheme the store does not support or a
/// SQLite URL without a path.
pub(crate) fn parse_target(url: &str) -> Option<Target> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        return match path {
            "" => None,
            ":memory:" => Some(Target::SqliteMemory),
            path => Some(Target::SqliteFile(PathBuf::from(path))),
        };
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Some(Target::Postgres);
    }
    None
}

/// The URL with any password replaced by `***`: both the `user:password@` form and a
/// `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    match url.find("://") {
        Some(scheme_end) => {
            let (scheme, rest) = url.split_at(scheme_end + 3);
            out.push_str(scheme);
            // The user info ends at the LAST `@`: a password may hold `/`, `?`, `#` or `@`
            // unescaped (`postgres://u:se/cret@host/db`). If that `@` was in the query
            // instead, more than the password is hidden, never less.
            match rest.rfind('@') {
                Some(at) => {
                    let userinfo = &rest[..at];
                    match userinfo.split_once(':') {
                        Some((user, _)) if !user.contains(['/', '?', '#']) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        Some(_) => out.push_str("***"),
                        None => out.push_str(userinfo),
                    }
                    out.push_str(&rest[at..]);
                }
                None => out.push_str(rest),
            }
        }
        None => out.push_str(url),
    }
    redact_password_params(&out)
}

/// Replaces the value of every `password=` parameter (after `?`, `&` or `;`, any case).
fn redact_password_params(text: &str) -> String {
    const KEY: &str = "password=";
    // ASCII lowercasing keeps every byte offset.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in lower.match_indices(KEY) {
        let parameter = at > 0 && matches!(lower.as_bytes()[at - 1], b'?' | b'&' | b';');
        if !parameter || at < copied {
            continue;
        }
        let value_start = at + KEY.len();
        let value_end = text[value_start..]
            .find(['&', '#', ';'])
            .map_or(text.len(), |end| value_start + end);
        out.push_str(&text[copied..value_start]);
        out.push_str("***");
        copied = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A short description of a PostgreSQL URL for messages: `host:port/database`, without user or
/// password. Falls back to the redacted URL if the URL cannot be parsed.
pub fn postgres_target(url: &str) -> String {
    let parsed = url.parse::<sqlx::any::AnyConnectOptions>();
    let Ok(options) = parsed else {
        return redact_url(url);
    };
    let url = &options.database_url;
    let query = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .map(str::to_owned)
        .or_else(|| query("host"))
        .unwrap_or_else(|| "localhost".to_owned());
    let port = url
        .port()
        .or_else(|| query("port").and_then(|port| port.parse().ok()))
        .unwrap_or(5432);
    let database = url.path().trim_start_matches('/');
    if database.is_empty() {
        format!("{host}:{port}")
    } else {
        format!("{host}:{port}/{database}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        let cases = [
            // (input, expected)
            (
                "postgres://steward:hunter2@db.example:5432/steward",
                "postgres://steward:***@db.example:5432/steward",
            ),
            (
                "postgresql://steward:p%40ss@localhost/steward?sslmode=require",
                "postgresql://steward:***@localhost/steward?sslmode=require",
            ),
            (
                "postgres://steward@localhost/steward",
                "postgres://steward@localhost/steward",
            ),
            (
                "postgres://localhost/steward?user=steward&password=hunter2",
                "postgres://localhost/steward?user=steward&password=***",
            ),
            (
                "postgres://u:a:b@host/db?Password=x#frag",
                "postgres://u:***@host/db?Password=***#frag",
            ),
            // An `@` inside the password: the last `@` ends the user info.
            ("postgres://u:p@ss@host/db", "postgres://u:***@host/db"),
            ("postgres://u:@host", "postgres://u:***@host"),
            // Hole 10: a `/` inside the password printed the whole URL.
            (
                "postgres://u:se/cret@localhost/db",
                "postgres://u:***@localhost/db",
            ),
            (
                "postgres://u:a/b@c/d@host:5432/db",
                "postgres://u:***@host:5432/db",
            ),
            ("postgres://u:pw#x@host/db", "postgres://u:***@host/db"),
            ("postgres://u:p?w@host/db", "postgres://u:***@host/db"),
            ("postgres://host:5432/db?user=a@b", "postgres://host:***@b"),
            (
                "postgres://host/db?user=a@b&password=x",
                "postgres://host/db?user=a@b&password=***",
            ),
            ("postgres://u:pw@", "postgres://u:***@"),
            ("postgres://:pw@host", "postgres://:***@host"),
            ("postgres://@", "postgres://@"),
            ("://u:p@h", "://u:***@h"),
            ("sqlite://data/steward.db", "sqlite://data/steward.db"),
            ("sqlite::memory:", "sqlite::memory:"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected, "input: {input}");
        }
    }

    #[test]
    fn describes_postgres_targets_without_credentials() {
        let cases = [
            (
                "postgres://steward:hunter2@db.example:6543/steward",
                "db.example:6543/steward",
            ),
            (
                "postgres://steward@127.0.0.1/steward",
                "127.0.0.1:5432/steward",
            ),
            ("postgresql://db.example", "db.example:5432"),
            ("postgres://u:hunter2@[::1]:5433/x", "[::1]:5433/x"),
            (
                "postgres:///steward?host=/run/postgresql&password=hunter2",
                "/run/postgresql:5432/steward",
            ),
        ];
        for (input, expected) in cases {
            let described = postgres_target(input);
            assert_eq!(described, expected, "input: {input}");
            assert!(!described.contains("hunter2"));
        }
    }

    #[test]
    fn parses_targets() {
        let cases = [
            (
                "sqlite://data/steward.db",
                Some(Target::SqliteFile("data/steward.db".into())),
            ),
            (
                "sqlite:data/steward.db",
                Some(Target::SqliteFile("data/steward.db".into())),
            ),
            (
                "sqlite:///var/lib/steward/steward.db?mode=rwc",
                Some(Target::SqliteFile("/var/lib/steward/steward.db".into())),
            ),
            ("sqlite::memory:", Some(Target::SqliteMemory)),
            ("sqlite://:memory:", Some(Target::SqliteMemory)),
            ("sqlite://", None),
            ("postgres://localhost/steward", Some(Target::Postgres)),
            ("postgresql://localhost/steward", Some(Target::Postgres)),
            ("mysql://localhost/steward", None),
            ("data/steward.db", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_target(input), expected, "input: {input}");
        }
    }
}
