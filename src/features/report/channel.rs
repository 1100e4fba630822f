//! Which channel a `report` names (`here`, a mention, a link, an id), and how a channel is
//! named in a report or an alert.

use crate::core::{ChannelId, Platform};
use crate::features::conversations::percent_decoded;
use crate::store::{Store, StoreError};

/// The channel a `report` argument names: `here` (the channel typed in), a Discord mention
/// (`<#123>`) or channel link, a matrix.to room link, or an id as typed (`123`,
/// `!room:server`). A room alias stays as typed and is then unknown: Steward records rooms
/// by id.
pub fn channel_id_of(typed: &str, here: &ChannelId) -> Option<ChannelId> {
    let typed = typed.trim();
    if typed.eq_ignore_ascii_case("here") {
        return Some(here.clone());
    }
    if let Some(inner) = typed.strip_prefix("<#").and_then(|t| t.strip_suffix('>')) {
        return (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
            .then(|| ChannelId::new(inner));
    }
    let id = if let Some((_, after)) = typed.split_once("matrix.to/#/") {
        // `https://matrix.to/#/<room>[/<event>][?via=...]`, escaped or not.
        let room = after.split(['?', '/']).next().unwrap_or_default();
        percent_decoded(room)?
    } else if let Some((_, after)) = typed.split_once("/channels/") {
        // `https://discord.com/channels/<guild>/<channel>[/<message>]`.
        after.split('/').nth(1).unwrap_or_default().to_string()
    } else if typed.contains("://") {
        return None;
    } else {
        typed.to_string()
    };
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| ChannelId::new(id))
}

/// How a channel is named in a report or alert: `#name` when the store knows its name,
/// else its id.
pub async fn channel_label(
    store: &Store,
    platform: Platform,
    channel: &ChannelId,
) -> Result<String, StoreError> {
    Ok(match store.channel_name(platform, channel).await? {
        Some(name) if !name.trim().is_empty() => format!("#{}", name.trim()),
        _ => channel.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_named_by_here_mention_link_or_id() {
        let here = ChannelId::new("general");
        let cases = [
            ("here", Some("general")),
            ("HERE", Some("general")),
            ("<#123456>", Some("123456")),
            ("<#abc>", None),
            ("123456789", Some("123456789")),
            ("!room:example.org", Some("!room:example.org")),
            (
                "https://matrix.to/#/!room:example.org?via=example.org",
                Some("!room:example.org"),
            ),
            (
                "https://matrix.to/#/%21room%3Aexample.org/%24event",
                Some("!room:example.org"),
            ),
            ("https://discord.com/channels/1/22/333", Some("22")),
            ("https://discord.com/channels/1/22", Some("22")),
            ("https://example.org/elsewhere", None),
            ("#rust:example.org", Some("#rust:example.org")),
        ];
        for (typed, expected) in cases {
            assert_eq!(
                channel_id_of(typed, &here).as_ref().map(ChannelId::as_str),
                expected,
                "{typed}"
            );
        }
    }
}
