//! `setting`: moderators read and change per-community settings (stored in the store).

use crate::config::Language;
use crate::core::{Action, Body, Location, MessageId, Reply};
use crate::store::{Store, StoreError};
use crate::strings::Strings;

/// A setting moderators may change, with its allowed values.
pub struct Known {
    pub key: &'static str,
    pub values: &'static [&'static str],
}

/// Every setting moderators may change.
pub const KNOWN: &[Known] = &[
    Known {
        key: "language",
        values: &["en", "zh"],
    },
    Known {
        key: crate::features::moderation::SETTING,
        values: &["on", "off"],
    },
];

/// The community's language: its `language` setting, else the configured default.
pub async fn community_language(store: &Store, location: &Location, default: Language) -> Language {
    match store
        .setting(location.platform, &location.community, "language")
        .await
    {
        Ok(Some(value)) => Language::from_code(&value).unwrap_or(default),
        Ok(None) => default,
        Err(error) => {
            tracing::warn!(label = error.label(), %error, "reading the language setting failed");
            default
        }
    }
}

/// Handles `setting [key [value]]`; the caller has checked the invoker is a moderator.
pub async fn setting(
    store: &Store,
    strings: Strings,
    location: &Location,
    in_reply_to: Option<MessageId>,
    key: Option<String>,
    value: Option<String>,
) -> Action {
    let text = match run(store, strings, location, key, value).await {
        Ok(text) => text,
        Err(error) => {
            tracing::error!(label = error.label(), %error, "setting command failed");
            strings.failed().to_string()
        }
    };
    Action::Reply(Reply {
        location: location.clone(),
        in_reply_to,
        body: Body::Text(text),
        only_invoker: true,
    })
}

async fn run(
    store: &Store,
    strings: Strings,
    location: &Location,
    key: Option<String>,
    value: Option<String>,
) -> Result<String, StoreError> {
    let (platform, community) = (location.platform, &location.community);
    let Some(key) = key else {
        let current = store.settings(platform, community).await?;
        return Ok(strings.settings_list(&current, KNOWN));
    };
    let Some(known) = KNOWN.iter().find(|k| k.key == key) else {
        return Ok(strings.unknown_setting(&key, KNOWN));
    };
    match value {
        None => {
            let current = store.setting(platform, community, &key).await?;
            Ok(strings.setting_value(&key, current.as_deref()))
        }
        Some(value) if known.values.contains(&value.as_str()) => {
            store.set_setting(platform, community, &key, &value).await?;
            Ok(strings.setting_changed(&key, &value))
        }
        Some(value) => Ok(strings.bad_setting_value(&key, &value, known.values)),
    }
}
