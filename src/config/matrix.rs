//! The `[matrix]` section: where Steward logs in on Matrix and how it behaves in rooms.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, Secret};

/// `[matrix]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatrix {
    pub homeserver: Option<String>,
    pub user_id: Option<String>,
    pub device_name: Option<String>,
    pub store_dir: Option<String>,
    pub command_prefix: Option<String>,
    pub invite_allowlist: Option<Vec<String>>,
    pub ignore_users: Option<Vec<String>>,
    pub moderator_power_level: Option<i64>,
    pub moderators_room: Option<String>,
    pub communities: Option<Vec<RawCommunity>>,
    pub store_passphrase_env: Option<String>,
}

/// One `[[matrix.communities]]` entry as written: `{ space = "!id:server", rooms = [...] }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommunity {
    pub space: Option<String>,
    pub rooms: Option<Vec<String>>,
}

/// A community the owner mapped by hand: the space and the rooms that belong to it, whatever
/// the rooms themselves claim. Rooms the space lists (`m.space.child`) belong to it as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixCommunity {
    /// The space's room id (`!abc:example.org`): the community's id.
    pub space: String,
    /// Room ids.
    pub rooms: Vec<String>,
}

/// How Steward authenticates on first login (later starts restore the saved session).
#[derive(Debug, Clone)]
pub enum MatrixAuth {
    Password(Secret<String>),
    AccessToken(Secret<String>),
    /// Neither variable is set: only a saved session can be used.
    SavedSessionOnly,
}

/// Validated `[matrix]` settings.
#[derive(Debug, Clone)]
pub struct MatrixSettings {
    pub homeserver: String,
    pub user_id: String,
    pub device_name: String,
    /// matrix-sdk's SQLite state and crypto stores plus the saved session live here.
    pub store_dir: PathBuf,
    /// Commands look like `!steward ask ...`.
    pub command_prefix: String,
    /// Users (`@user:server`) or servers (`server`, `:server`) whose invites are accepted.
    pub invite_allowlist: Vec<String>,
    /// Other bots whose messages are ignored.
    pub ignore_users: Vec<String>,
    /// Power level at which a room member counts as a moderator (100 is the owner).
    pub moderator_power_level: i64,
    /// Room for moderator reports, if any: the default for a single-community deployment. It is
    /// used only for cases of the community it belongs to (a case never leaves its community);
    /// other communities choose their own with `setting mod-log here`.
    pub moderators_room: Option<String>,
    /// Communities mapped in the config, besides those the spaces themselves list.
    pub communities: Vec<MatrixCommunity>,
    pub auth: MatrixAuth,
    /// `[matrix] store_passphrase_env`: the environment variable that holds the passphrase
    /// encrypting matrix-sdk's stores (crypto keys, room state). `None`: unencrypted.
    pub store_passphrase_env: Option<String>,
    /// That variable's value, read at start; set exactly when `store_passphrase_env` is.
    pub store_passphrase: Option<Secret<String>>,
}

impl MatrixSettings {
    /// The space `[matrix] communities` maps `room` to (a mapped space is its own community).
    pub fn configured_space(&self, room: &str) -> Option<&str> {
        self.communities
            .iter()
            .find(|community| community.space == room || community.rooms.iter().any(|r| r == room))
            .map(|community| community.space.as_str())
    }
}

/// Checks `[matrix]`; `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawMatrix,
    env: &dyn Fn(&str) -> Option<String>,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<MatrixSettings, ConfigError> {
    let homeserver = raw
        .homeserver
        .ok_or_else(|| invalid("matrix.homeserver", "is required in [matrix]".into()))?;
    if !(homeserver.starts_with("https://") || homeserver.starts_with("http://")) {
        return Err(invalid(
            "matrix.homeserver",
            format!("{homeserver:?} is not an http(s) URL"),
        ));
    }
    let user_id = raw
        .user_id
        .ok_or_else(|| invalid("matrix.user_id", "is required in [matrix]".into()))?;
    if !is_user_id(&user_id) {
        return Err(invalid(
            "matrix.user_id",
            format!("{user_id:?} is not a Matrix user id like \"@steward:example.org\""),
        ));
    }
    let moderator_power_level = raw.moderator_power_level.unwrap_or(50);
    if !(1..=100).contains(&moderator_power_level) {
        return Err(invalid(
            "matrix.moderator_power_level",
            format!("{moderator_power_level} is out of range; use 1 to 100"),
        ));
    }
    let command_prefix = raw.command_prefix.unwrap_or_else(|| "!steward".to_string());
    if command_prefix.trim().is_empty() || command_prefix.contains(char::is_whitespace) {
        return Err(invalid(
            "matrix.command_prefix",
            "must be one word, like \"!steward\"".into(),
        ));
    }
    let invite_allowlist = raw.invite_allowlist.unwrap_or_default();
    for entry in &invite_allowlist {
        let server = entry.strip_prefix(':').unwrap_or(entry);
        let valid = if entry.starts_with('@') {
            is_user_id(entry)
        } else {
            !server.is_empty() && !server.contains(|c: char| c.is_whitespace() || c == '@')
        };
        if !valid {
            return Err(invalid(
                "matrix.invite_allowlist",
                format!("{entry:?} is neither a user id (\"@ana:example.org\") nor a server name (\"example.org\")"),
            ));
        }
    }
    let ignore_users = raw.ignore_users.unwrap_or_default();
    if let Some(entry) = ignore_users.iter().find(|user| !is_user_id(user)) {
        return Err(invalid(
            "matrix.ignore_users",
            format!("{entry:?} is not a Matrix user id like \"@otherbot:example.org\""),
        ));
    }
    if let Some(room) = &raw.moderators_room {
        if !((room.starts_with('!') || room.starts_with('#')) && room.contains(':')) {
            return Err(invalid(
                "matrix.moderators_room",
                format!("{room:?} is not a room id (\"!abc:example.org\") or alias (\"#mods:example.org\")"),
            ));
        }
    }
    let communities = validate_communities(raw.communities.unwrap_or_default(), invalid)?;
    // An empty variable counts as unset (a common leftover of `VAR= steward run`).
    let secret = |name: &str| env(name).filter(|value| !value.is_empty());
    let (store_passphrase_env, store_passphrase) =
        store_passphrase(raw.store_passphrase_env, &secret, invalid)?;
    let auth = match (
        secret("STEWARD_MATRIX_PASSWORD"),
        secret("STEWARD_MATRIX_ACCESS_TOKEN"),
    ) {
        (_, Some(token)) => MatrixAuth::AccessToken(Secret::new(token)),
        (Some(password), None) => MatrixAuth::Password(Secret::new(password)),
        (None, None) => MatrixAuth::SavedSessionOnly,
    };
    Ok(MatrixSettings {
        homeserver,
        user_id,
        device_name: raw.device_name.unwrap_or_else(|| "Steward".to_string()),
        store_dir: PathBuf::from(raw.store_dir.unwrap_or_else(|| "data/matrix".to_string())),
        command_prefix,
        invite_allowlist,
        ignore_users,
        moderator_power_level,
        moderators_room: raw.moderators_room,
        communities,
        auth,
        store_passphrase_env,
        store_passphrase,
    })
}

/// `[matrix] store_passphrase_env` and the passphrase it names (`secret` reads a non-empty
/// variable). Only the variable's name ever appears in an error, never its value.
fn store_passphrase(
    variable: Option<String>,
    secret: &dyn Fn(&str) -> Option<String>,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(Option<String>, Option<Secret<String>>), ConfigError> {
    const KEY: &str = "matrix.store_passphrase_env";
    let Some(variable) = variable else {
        return Ok((None, None));
    };
    let variable = variable.trim().to_string();
    if variable.is_empty() || variable.contains(|c: char| c.is_whitespace() || c == '=') {
        return Err(invalid(
            KEY,
            format!("{variable:?} is not an environment variable name, like \"STEWARD_MATRIX_STORE_PASSPHRASE\""),
        ));
    }
    match secret(&variable) {
        Some(passphrase) => Ok((Some(variable), Some(Secret::new(passphrase)))),
        None => Err(invalid(
            KEY,
            format!("the environment variable {variable} is not set (or empty); export it with the passphrase of the Matrix store, or remove this key to keep the store unencrypted"),
        )),
    }
}

/// Each entry names a space and its rooms by room id; a room belongs to one community only.
fn validate_communities(
    raw: Vec<RawCommunity>,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<MatrixCommunity>, ConfigError> {
    let mut seen = std::collections::HashSet::new();
    let mut communities = Vec::with_capacity(raw.len());
    for (index, entry) in raw.into_iter().enumerate() {
        let key = format!("matrix.communities[{index}]");
        let space = entry
            .space
            .ok_or_else(|| invalid(&key, "needs `space`, the space's room id".into()))?;
        let rooms = entry.rooms.unwrap_or_default();
        for id in std::iter::once(&space).chain(&rooms) {
            if !is_room_id(id) {
                return Err(invalid(
                    &key,
                    format!("{id:?} is not a room id like \"!abc:example.org\" (aliases can be moved; ids cannot)"),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(invalid(
                    &key,
                    format!("{id:?} is listed twice: a room belongs to one community"),
                ));
            }
        }
        communities.push(MatrixCommunity { space, rooms });
    }
    Ok(communities)
}

/// `!opaque:server`, loosely.
fn is_room_id(text: &str) -> bool {
    text.strip_prefix('!')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(local, server)| {
            !local.is_empty() && !server.is_empty() && !text.contains(char::is_whitespace)
        })
}

/// `@localpart:server`, loosely: the homeserver has the final word.
fn is_user_id(text: &str) -> bool {
    text.strip_prefix('@')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(local, server)| !local.is_empty() && !server.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawMatrix {
        RawMatrix {
            homeserver: Some("https://matrix.example.org".into()),
            user_id: Some("@steward:example.org".into()),
            ..RawMatrix::default()
        }
    }

    fn check(raw: RawMatrix, env: &[(&str, &str)]) -> Result<MatrixSettings, String> {
        let env = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: "steward.toml".into(),
            line: String::new(),
            key: key.into(),
            message,
        };
        validate(raw, &env, &invalid).map_err(|error| error.to_string())
    }

    #[test]
    fn defaults_and_auth_from_the_environment() {
        let settings = check(raw(), &[]).unwrap();
        assert_eq!(settings.command_prefix, "!steward");
        assert_eq!(settings.moderator_power_level, 50);
        assert_eq!(settings.store_dir, PathBuf::from("data/matrix"));
        assert_eq!(settings.device_name, "Steward");
        assert!(settings.invite_allowlist.is_empty());
        assert!(matches!(settings.auth, MatrixAuth::SavedSessionOnly));

        let empty = check(raw(), &[("STEWARD_MATRIX_ACCESS_TOKEN", "")]).unwrap();
        assert!(matches!(empty.auth, MatrixAuth::SavedSessionOnly));
        let password = check(raw(), &[("STEWARD_MATRIX_PASSWORD", "pw")]).unwrap();
        assert!(matches!(&password.auth, MatrixAuth::Password(p) if p.expose() == "pw"));
        let both = [
            ("STEWARD_MATRIX_PASSWORD", "pw"),
            ("STEWARD_MATRIX_ACCESS_TOKEN", "tok"),
        ];
        let token = check(raw(), &both).unwrap();
        assert!(matches!(&token.auth, MatrixAuth::AccessToken(t) if t.expose() == "tok"));
        assert!(
            !format!("{token:?}").contains("tok\""),
            "secrets stay out of Debug"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: Vec<(RawMatrix, &str)> = vec![
            (
                RawMatrix {
                    homeserver: None,
                    ..raw()
                },
                "matrix.homeserver",
            ),
            (
                RawMatrix {
                    homeserver: Some("matrix.example.org".into()),
                    ..raw()
                },
                "matrix.homeserver",
            ),
            (
                RawMatrix {
                    user_id: Some("steward".into()),
                    ..raw()
                },
                "matrix.user_id",
            ),
            (
                RawMatrix {
                    moderator_power_level: Some(0),
                    ..raw()
                },
                "matrix.moderator_power_level",
            ),
            (
                RawMatrix {
                    moderator_power_level: Some(101),
                    ..raw()
                },
                "matrix.moderator_power_level",
            ),
            (
                RawMatrix {
                    command_prefix: Some("! steward".into()),
                    ..raw()
                },
                "matrix.command_prefix",
            ),
        ];
        for (raw, key) in cases {
            let error = check(raw, &[]).expect_err(key);
            assert!(error.contains(key), "{error}");
        }
    }

    #[test]
    fn the_store_passphrase_comes_from_the_named_variable() {
        let plain = check(raw(), &[]).unwrap();
        assert!(plain.store_passphrase_env.is_none() && plain.store_passphrase.is_none());

        let named = |variable: &str| RawMatrix {
            store_passphrase_env: Some(variable.into()),
            ..raw()
        };
        let env = [("STEWARD_STORE_KEY", "correct horse battery staple")];
        let encrypted = check(named(" STEWARD_STORE_KEY "), &env).unwrap();
        assert_eq!(
            encrypted.store_passphrase_env.as_deref(),
            Some("STEWARD_STORE_KEY")
        );
        assert_eq!(
            encrypted
                .store_passphrase
                .as_ref()
                .map(|p| p.expose().as_str()),
            Some("correct horse battery staple")
        );
        assert!(
            !format!("{encrypted:?}").contains("horse"),
            "the passphrase stays out of Debug"
        );

        let missing = check(named("STEWARD_STORE_KEY"), &[]).unwrap_err();
        assert!(missing.contains("matrix.store_passphrase_env"), "{missing}");
        assert!(missing.contains("STEWARD_STORE_KEY"), "{missing}");
        let empty = check(named("STEWARD_STORE_KEY"), &[("STEWARD_STORE_KEY", "")]);
        assert!(empty.is_err(), "an empty passphrase counts as unset");
        for bad in ["", "  ", "A B", "A=B"] {
            let error = check(named(bad), &env).unwrap_err();
            assert!(error.contains("matrix.store_passphrase_env"), "{error}");
        }
    }

    fn community(space: &str, rooms: &[&str]) -> RawCommunity {
        RawCommunity {
            space: Some(space.into()),
            rooms: Some(rooms.iter().map(|room| room.to_string()).collect()),
        }
    }

    #[test]
    fn communities_map_rooms_to_a_space() {
        let settings = check(
            RawMatrix {
                communities: Some(vec![community("!space:x.org", &["!a:x.org", "!b:x.org"])]),
                ..raw()
            },
            &[],
        )
        .unwrap();
        assert_eq!(
            settings.communities,
            vec![MatrixCommunity {
                space: "!space:x.org".into(),
                rooms: vec!["!a:x.org".into(), "!b:x.org".into()],
            }]
        );
        for (room, space) in [
            ("!a:x.org", Some("!space:x.org")),
            ("!space:x.org", Some("!space:x.org")),
            ("!c:x.org", None),
        ] {
            assert_eq!(settings.configured_space(room), space, "{room}");
        }
        assert!(check(raw(), &[]).unwrap().communities.is_empty());

        let bad = [
            vec![community("#space:x.org", &[])],
            vec![community("!space:x.org", &["a:x.org"])],
            vec![community("!space:x.org", &["!a :x.org"])],
            vec![community("!space:x.org", &["!a:x.org", "!a:x.org"])],
            vec![
                community("!s1:x.org", &["!a:x.org"]),
                community("!s2:x.org", &["!a:x.org"]),
            ],
            vec![RawCommunity {
                space: None,
                rooms: Some(vec!["!a:x.org".into()]),
            }],
        ];
        for communities in bad {
            let error = check(
                RawMatrix {
                    communities: Some(communities),
                    ..raw()
                },
                &[],
            )
            .expect_err("an invalid community");
            assert!(error.contains("matrix.communities["), "{error}");
        }
    }
}
