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
    /// Room for moderator reports, if any.
    pub moderators_room: Option<String>,
    pub auth: MatrixAuth,
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
    if !(user_id.starts_with('@') && user_id.contains(':')) {
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
    let auth = match (
        env("STEWARD_MATRIX_PASSWORD"),
        env("STEWARD_MATRIX_ACCESS_TOKEN"),
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
        invite_allowlist: raw.invite_allowlist.unwrap_or_default(),
        ignore_users: raw.ignore_users.unwrap_or_default(),
        moderator_power_level,
        moderators_room: raw.moderators_room,
        auth,
    })
}
