//! `setting`: moderators read and change per-community settings (stored in the store). The
//! settings themselves and their allowed values are listed in [`crate::core::settings`].

use crate::core::settings::{known, KNOWN};
use crate::features::Context;
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
        Some(value) if setting.values.allows(&value) => {
            store.set_setting(platform, community, &key, &value).await?;
            Ok(strings.setting_changed(&key, &value))
        }
        Some(value) => Ok(strings.bad_setting_value(&key, &value, &setting.values)),
    }
}
