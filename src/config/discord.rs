//! The `[discord]` section: the bot's application, sharding, and optional API endpoints.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, Secret};

/// `[discord]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscord {
    pub application_id: Option<u64>,
    pub shard_first: Option<u32>,
    pub shard_last: Option<u32>,
    pub shard_total: Option<u32>,
    pub api_base_url: Option<String>,
    pub gateway_url: Option<String>,
    pub moderator_role: Option<u64>,
    pub mod_log_channel: Option<u64>,
    pub members_intent: Option<bool>,
    pub request_timeout_secs: Option<i64>,
}

/// Validated `[discord]` settings.
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    /// The application (client) id; needed for the invite URL.
    pub application_id: Option<u64>,
    /// Shards this process runs: `first..=last` of `total`.
    pub shard_first: u32,
    pub shard_last: u32,
    pub shard_total: u32,
    /// REST base URL (default Discord's own); for self-hosted compatible servers and tests.
    pub api_base_url: Option<String>,
    /// Gateway websocket URL (default: from Discord's gateway endpoint).
    pub gateway_url: Option<String>,
    /// Members with this role count as moderators (besides guild-level Manage Messages,
    /// Moderate Members, Kick or Ban Members) and may take every moderation decision; Discord's
    /// rank rule still applies (a moderator acts only on members ranked below them).
    pub moderator_role: Option<u64>,
    /// The default moderators' channel, for a single-server deployment. A community's own
    /// choice (`setting mod-log here`) takes precedence, and this channel is only ever used for
    /// cases of the server it belongs to: a case never leaves its community.
    pub mod_log_channel: Option<u64>,
    /// Request the privileged `GUILD_MEMBERS` intent (member-join events). Off by default: the
    /// owner must enable "Server Members Intent" in the Developer Portal first.
    pub members_intent: bool,
    /// Every REST call to Discord must be answered within this time (default 15 s); a call
    /// that is not fails with a logged timeout instead of waiting forever.
    pub request_timeout: Duration,
    /// From `STEWARD_DISCORD_TOKEN`; required to connect.
    pub token: Option<Secret<String>>,
}

/// Checks `[discord]`; `invalid(key, message)` builds the error naming file and key.
pub fn validate(
    raw: RawDiscord,
    env: &dyn Fn(&str) -> Option<String>,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<DiscordSettings, ConfigError> {
    let shard_total = raw.shard_total.unwrap_or(1);
    let shard_first = raw.shard_first.unwrap_or(0);
    let shard_last = raw.shard_last.unwrap_or(shard_total.saturating_sub(1));
    if shard_total == 0 {
        return Err(invalid("discord.shard_total", "must be at least 1".into()));
    }
    if shard_first > shard_last || shard_last >= shard_total {
        return Err(invalid(
            "discord.shard_last",
            format!("shards {shard_first}..={shard_last} do not fit in {shard_total} shards"),
        ));
    }
    for (key, url) in [
        ("discord.api_base_url", &raw.api_base_url),
        ("discord.gateway_url", &raw.gateway_url),
    ] {
        if let Some(url) = url {
            let scheme_ok = ["http://", "https://", "ws://", "wss://"]
                .iter()
                .any(|scheme| url.starts_with(scheme));
            if !scheme_ok || url.contains('?') {
                return Err(invalid(
                    key,
                    format!("{url:?} is not a URL without a query"),
                ));
            }
        }
    }
    let request_timeout = super::validate::in_range(
        invalid,
        "discord.request_timeout_secs",
        raw.request_timeout_secs,
        15,
        1,
        300,
    )?;
    Ok(DiscordSettings {
        application_id: raw.application_id,
        shard_first,
        shard_last,
        shard_total,
        api_base_url: raw
            .api_base_url
            .map(|u| u.trim_end_matches('/').to_string()),
        gateway_url: raw.gateway_url.map(|u| u.trim_end_matches('/').to_string()),
        moderator_role: raw.moderator_role,
        mod_log_channel: raw.mod_log_channel,
        members_intent: raw.members_intent.unwrap_or(false),
        request_timeout: Duration::from_secs(request_timeout as u64),
        token: env("STEWARD_DISCORD_TOKEN")
            .filter(|t| !t.trim().is_empty())
            .map(Secret::new),
    })
}
