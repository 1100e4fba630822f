//! `setting`: moderators read and change per-community settings (stored in the store). The
//! settings themselves and their allowed values are listed in [`crate::core::settings`].
//!
//! Two settings are more than a word: `mod-log here` stores the channel the command was typed
//! in (so moderators can only choose a channel of their own community, and a case never leaves
//! it), and `mod-log off` removes it. This module also reads the settings it owns out of a
//! community's [`CommunitySettings`], so every feature parses them the same way.

use crate::core::settings::{known, ModerationMode, KNOWN, MODERATION, MOD_LOG, RULES};
use crate::core::ChannelId;
use crate::features::moderation::community_rules;
use crate::features::{CommunitySettings, Context};
use crate::store::{Store, StoreError};

/// Handles `setting [key [value]]`; the router has checked the invoker is a moderator.
pub async fn setting(
    store: &Store,
    ctx: &Context,
    key: Option<String>,
    value: Option<String>,
) -> String {
    match run(store, ctx, key, value).await {
        Ok(text) => text,
        Err(error) => {
            tracing::error!(label = error.label(), %error, "setting command failed");
            ctx.strings.failed().to_string()
        }
    }
}

async fn run(
    store: &Store,
    ctx: &Context,
    key: Option<String>,
    value: Option<String>,
) -> Result<String, StoreError> {
    let strings = ctx.strings;
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let Some(key) = key else {
        return Ok(strings.settings_list(ctx.settings.all(), KNOWN));
    };
    let Some(setting) = known(&key) else {
        return Ok(strings.unknown_setting(&key, KNOWN));
    };
    match value {
        None => Ok(strings.setting_value(&key, ctx.settings.get(&key))),
        Some(value) if !setting.values.allows(&value) => {
            Ok(strings.bad_setting_value(&key, &value, &setting.values))
        }
        Some(value) if key == MOD_LOG && value == "here" => {
            let channel = &ctx.location.channel;
            store
                .set_setting(platform, community, MOD_LOG, channel.as_str())
                .await?;
            Ok(strings.mod_log_here(channel))
        }
        Some(value) if key == MOD_LOG => {
            debug_assert_eq!(value, "off");
            store.delete_setting(platform, community, MOD_LOG).await?;
            Ok(strings.mod_log_off().to_string())
        }
        Some(value) => {
            store.set_setting(platform, community, &key, &value).await?;
            match ModerationMode::parse(&value).filter(|_| key == MODERATION) {
                Some(mode) => Ok(strings.moderation_mode_changed(mode)),
                None => Ok(strings.setting_changed(&key, &value)),
            }
        }
    }
}

/// The settings this feature owns, parsed the one way every feature reads them.
impl CommunitySettings {
    /// How moderation runs in the community: its `moderation` setting, else `default` (the
    /// config's: `new_communities`, or off when moderation is disabled).
    pub fn moderation_mode(&self, default: ModerationMode) -> ModerationMode {
        self.get(MODERATION)
            .and_then(ModerationMode::parse)
            .unwrap_or(default)
    }

    /// The channel the community's moderators chose for their log (`setting mod-log here`);
    /// `None`: the adapter's configured channel, if it belongs to this community.
    pub fn mod_log(&self) -> Option<ChannelId> {
        self.get(MOD_LOG)
            .filter(|channel| !channel.trim().is_empty())
            .map(ChannelId::new)
    }

    /// The community's own rules, rule 1 first (empty if none were set).
    pub fn rules(&self) -> Vec<String> {
        self.get(RULES)
            .map(community_rules::stored)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[(&str, &str)]) -> CommunitySettings {
        CommunitySettings::new(
            values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn moderation_mode_table() {
        let cases = [
            (vec![], ModerationMode::DryRun, ModerationMode::DryRun),
            (vec![], ModerationMode::On, ModerationMode::On),
            (
                vec![(MODERATION, "on")],
                ModerationMode::DryRun,
                ModerationMode::On,
            ),
            (
                vec![(MODERATION, "dry-run")],
                ModerationMode::On,
                ModerationMode::DryRun,
            ),
            (
                vec![(MODERATION, "off")],
                ModerationMode::On,
                ModerationMode::Off,
            ),
            // A value this version does not know falls back to the default.
            (
                vec![(MODERATION, "maybe")],
                ModerationMode::DryRun,
                ModerationMode::DryRun,
            ),
        ];
        for (values, default, expected) in cases {
            assert_eq!(
                with(&values).moderation_mode(default),
                expected,
                "{values:?}"
            );
        }
    }

    #[test]
    fn mod_log_and_rules_read_back() {
        let settings = with(&[(MOD_LOG, "mods"), (RULES, "Be kind\nNo spam")]);
        assert_eq!(settings.mod_log(), Some(ChannelId::new("mods")));
        assert_eq!(settings.rules(), ["Be kind", "No spam"]);
        let empty = with(&[]);
        assert_eq!(empty.mod_log(), None);
        assert!(empty.rules().is_empty());
    }
}
