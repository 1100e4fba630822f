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
    let Some(scheme_end) = url.find("://") else {
        return redact_query(url);
    };
    let authority_start = scheme_end + 3;
    let authority_len = url[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];

    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..authority_start]);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    out.push_str(&redact_query(&url[authority_start + authority_len..]));
    out
}

/// Replaces the value of every `password` query parameter in the part of a URL after the
/// authority (path, query and fragment).
fn redact_query(rest: &str) -> String {
    let Some(query_start) = rest.find('?') else {
        return rest.to_owned();
    };
    let (head, query_and_fragment) = rest.split_at(query_start + 1);
    let (query, fragment) = match query_and_fragment.find('#') {
        Some(hash) => query_and_fragment.split_at(hash),
        None => (query_and_fragment, ""),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}{fragment}", pairs.join("&"))
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
