//! `setting`: moderators read and change per-community settings (stored in the store). The
//! settings themselves and their allowed values are listed in [`crate::core::settings`].
//!
//! Two settings are more than a word: `mod-log here` stores the channel the command was typed
//! in (so moderators can only choose a channel of their own community, and a case never leaves
//! it), and `mod-log off` removes it. `answer_mode help|mention` is per channel: it sets the
//! mode of the channel the command was typed in (a thread's parent channel: in a Discord forum
//! post it sets the forum's), stored as `answer_mode:<channel id>`; `mention`, the default,
//! removes the key. `solved_pointers on|off` is per channel the same way (`off`, the
//! default, removes the key). `digest here|off` chooses the channel of the weekly digest the way
//! `mod-log` does. `retain_messages_days <days>|default` may only shorten the configured
//! retention (`[privacy] retain_messages_days`; none configured: any number of days), never
//! lengthen it: members were told the configured time. This module also reads the settings it
//! owns out of a community's [`CommunitySettings`], so every feature parses them the same way.

use crate::config::MAX_RETAIN_DAYS;
use crate::core::settings::{
    channel_key, known, AnswerMode, ModerationMode, ANSWER_MODE, DIGEST, KNOWN, MODERATION,
    MOD_LOG, RETAIN_MESSAGES_DAYS, RULES, SOLVED_POINTERS,
};
use crate::core::ChannelId;
use crate::features::moderation::community_rules;
use crate::features::{CommunitySettings, Context};
use crate::store::{Store, StoreError};

/// Handles `setting [key [value]]`; the router has checked the invoker is a moderator.
/// `retention` is the configured `[privacy] retain_messages_days`, which the community's own
/// may only shorten.
pub async fn setting(
    store: &Store,
    ctx: &Context,
    key: Option<String>,
    value: Option<String>,
    retention: Option<u32>,
) -> String {
    match run(store, ctx, key, value, retention).await {
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
    retention: Option<u32>,
) -> Result<String, StoreError> {
    let strings = ctx.strings;
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let channel = &ctx.location.channel;
    let Some(key) = key else {
        // `answer_mode` is listed as this channel's.
        let mut current = ctx.settings.all().to_vec();
        let mode = ctx.settings.answer_mode(channel);
        if mode != AnswerMode::default() {
            current.push((ANSWER_MODE.to_string(), mode.as_str().to_string()));
        }
        if ctx.settings.solved_pointers(channel) {
            current.push((SOLVED_POINTERS.to_string(), "on".to_string()));
        }
        return Ok(strings.settings_list(&current, KNOWN));
    };
    let Some(setting) = known(&key) else {
        return Ok(strings.unknown_setting(&key, KNOWN));
    };
    match value {
        None if key == ANSWER_MODE => {
            Ok(strings.answer_mode_value(ctx.settings.answer_mode(channel)))
        }
        None if key == SOLVED_POINTERS => {
            Ok(strings.solved_pointers_value(ctx.settings.solved_pointers(channel)))
        }
        None => Ok(strings.setting_value(&key, ctx.settings.get(&key))),
        Some(value) if key == RETAIN_MESSAGES_DAYS => {
            retain_messages_days(store, ctx, &value, retention).await
        }
        Some(value) if !setting.values.allows(&value) => {
            Ok(strings.bad_setting_value(&key, &value, &setting.values))
        }
        Some(value) if key == MOD_LOG && value == "here" => {
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
        // The digest's channel is chosen like the log's: typed in that channel.
        Some(value) if key == DIGEST && value == "here" => {
            store
                .set_setting(platform, community, DIGEST, channel.as_str())
                .await?;
            Ok(strings.digest_here(channel, ctx.prefix()))
        }
        Some(_) if key == DIGEST => {
            store.delete_setting(platform, community, DIGEST).await?;
            Ok(strings.digest_off().to_string())
        }
        Some(value) if key == ANSWER_MODE => {
            let mode = AnswerMode::parse(&value).unwrap_or_default();
            let help = (mode == AnswerMode::Help).then_some(mode.as_str());
            set_for_channel(store, ctx, ANSWER_MODE, help).await?;
            Ok(strings.answer_mode_changed(mode, channel, ctx.prefix()))
        }
        Some(value) if key == SOLVED_POINTERS => {
            let on = value == "on";
            set_for_channel(store, ctx, SOLVED_POINTERS, on.then_some("on")).await?;
            Ok(strings.solved_pointers_changed(on, channel))
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

/// What a community's `retain_messages_days` may be: a whole number of days from 1 to
/// [`MAX_RETAIN_DAYS`], no longer than the configured retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Back to the configured retention.
    Default,
    Days(u32),
    /// Not a whole number of days in range (0, negative, a word, too large).
    Invalid,
    /// Longer than the configured retention (the number of days configured).
    Longer(u32),
}

impl Retention {
    /// Reads `value` against the configured retention (`None`: message text is kept).
    pub fn parse(value: &str, configured: Option<u32>) -> Self {
        let value = value.trim();
        if value.eq_ignore_ascii_case("default") {
            return Retention::Default;
        }
        match value.parse::<i64>() {
            Ok(days) if (1..=i64::from(MAX_RETAIN_DAYS)).contains(&days) => {
                let days = days as u32;
                match configured {
                    Some(limit) if days > limit => Retention::Longer(limit),
                    _ => Retention::Days(days),
                }
            }
            _ => Retention::Invalid,
        }
    }
}

/// `setting retain_messages_days <days>|default`.
async fn retain_messages_days(
    store: &Store,
    ctx: &Context,
    value: &str,
    configured: Option<u32>,
) -> Result<String, StoreError> {
    let strings = ctx.strings;
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    Ok(match Retention::parse(value, configured) {
        Retention::Default => {
            store
                .delete_setting(platform, community, RETAIN_MESSAGES_DAYS)
                .await?;
            strings.retention_default(configured)
        }
        Retention::Days(days) => {
            store
                .set_setting(platform, community, RETAIN_MESSAGES_DAYS, &days.to_string())
                .await?;
            strings.retention_changed(days)
        }
        Retention::Invalid => strings.retention_invalid(value, MAX_RETAIN_DAYS),
        Retention::Longer(limit) => strings.retention_longer(value, limit),
    })
}

/// Stores a per-channel `setting` for the channel the command was typed in: `value`, or
/// `None` for the default, which removes the key.
async fn set_for_channel(
    store: &Store,
    ctx: &Context,
    setting: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let stored = channel_key(setting, &ctx.location.channel);
    match value {
        Some(value) => store.set_setting(platform, community, &stored, value).await,
        None => store
            .delete_setting(platform, community, &stored)
            .await
            .map(|_| ()),
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

    /// How Steward answers in `channel` (`setting answer_mode`, typed there); mention-only
    /// unless moderators made it a help channel.
    pub fn answer_mode(&self, channel: &ChannelId) -> AnswerMode {
        self.get(&channel_key(ANSWER_MODE, channel))
            .and_then(AnswerMode::parse)
            .unwrap_or_default()
    }

    /// Whether new questions in `channel` that closely match a solved conversation get a
    /// pointer to it (`setting solved_pointers on`, typed there); off unless moderators chose.
    pub fn solved_pointers(&self, channel: &ChannelId) -> bool {
        self.get(&channel_key(SOLVED_POINTERS, channel)) == Some("on")
    }

    /// The community's own message retention in days (`setting retain_messages_days`), if
    /// moderators chose one.
    pub fn retain_messages_days(&self) -> Option<u32> {
        self.number(RETAIN_MESSAGES_DAYS)
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

    #[test]
    fn retention_is_shorter_only() {
        let cases = [
            ("30", Some(365), Retention::Days(30)),
            ("365", Some(365), Retention::Days(365)),
            ("366", Some(365), Retention::Longer(365)),
            ("36500", None, Retention::Days(36_500)),
            ("default", Some(30), Retention::Default),
            ("DEFAULT", None, Retention::Default),
            ("0", None, Retention::Invalid),
            ("-5", Some(30), Retention::Invalid),
            ("36501", None, Retention::Invalid),
            ("ten", None, Retention::Invalid),
            ("1.5", None, Retention::Invalid),
            ("99999999999999999999", None, Retention::Invalid),
        ];
        for (value, configured, expected) in cases {
            assert_eq!(
                Retention::parse(value, configured),
                expected,
                "{value} {configured:?}"
            );
        }
        assert_eq!(
            with(&[(RETAIN_MESSAGES_DAYS, "30")]).retain_messages_days(),
            Some(30)
        );
        assert_eq!(
            with(&[(RETAIN_MESSAGES_DAYS, "0")]).retain_messages_days(),
            None
        );
    }

    #[test]
    fn answer_mode_is_per_channel() {
        let settings = with(&[("answer_mode:help", "help"), ("answer_mode:odd", "forum")]);
        let mode = |channel: &str| settings.answer_mode(&ChannelId::new(channel));
        assert_eq!(mode("help"), AnswerMode::Help);
        assert_eq!(mode("general"), AnswerMode::Mention);
        // A value this version does not know is the default.
        assert_eq!(mode("odd"), AnswerMode::Mention);
        // The bare key is no channel's.
        assert_eq!(
            with(&[(ANSWER_MODE, "help")]).answer_mode(&ChannelId::new("help")),
            AnswerMode::Mention
        );
    }
}
