//! What Steward asks Discord for: the bot permissions in the invite URL and the gateway
//! intents. Each bit is listed with the reason Steward needs it, so a server owner can check
//! that nothing more is requested.

use serenity::all::{GatewayIntents, Permissions};

/// Every permission Steward needs, with why. The invite URL requests exactly these.
pub const PERMISSIONS: &[(Permissions, &str)] = &[
    (
        Permissions::VIEW_CHANNEL,
        "see the channels it answers in (without it no message events arrive)",
    ),
    (
        Permissions::SEND_MESSAGES,
        "post answers, the setup notice and the mod log",
    ),
    (
        Permissions::SEND_MESSAGES_IN_THREADS,
        "answer inside threads, where the question was asked",
    ),
    (
        Permissions::CREATE_PUBLIC_THREADS,
        "open a thread on a question for a long answer",
    ),
    (
        Permissions::READ_MESSAGE_HISTORY,
        "reply to a message (Discord requires it for message references), and read questions asked while it was stopped",
    ),
    (
        Permissions::ATTACH_FILES,
        "attach the charts of community reports (`/report`, the weekly digest)",
    ),
    (
        Permissions::ADD_REACTIONS,
        "react to messages (acknowledgements, moderation)",
    ),
    (
        Permissions::MANAGE_MESSAGES,
        "delete messages when moderators or moderation rules ask for it",
    ),
    (
        Permissions::MODERATE_MEMBERS,
        "time out members when moderators or moderation rules ask for it, and lift a timeout reversed on appeal",
    ),
    (
        Permissions::KICK_MEMBERS,
        "kick a member when a moderator decides a case that way (`/case N kick`)",
    ),
    (
        Permissions::BAN_MEMBERS,
        "ban a member when a moderator decides a case that way (`/case N ban`), and lift a ban reversed on appeal",
    ),
];

/// The union of [`PERMISSIONS`].
pub fn permissions() -> Permissions {
    PERMISSIONS
        .iter()
        .fold(Permissions::empty(), |all, (bit, _)| all | *bit)
}

/// The OAuth2 URL a server owner opens to add Steward: the `bot` scope with [`permissions`],
/// and `applications.commands` so Steward can register its slash commands. `web_base` is the
/// server's address: Discord's own (`https://discord.com`), or a compatible server's
/// (`[discord] api_base_url`), whose invite page is at the same path.
pub fn invite_url(web_base: &str, application_id: u64) -> String {
    format!(
        "{}/oauth2/authorize?client_id={application_id}&permissions={}&scope=bot%20applications.commands",
        web_base.trim_end_matches('/'),
        permissions().bits()
    )
}

/// The gateway intents Steward subscribes to. `MESSAGE_CONTENT` is privileged: the bot owner
/// enables it in the Developer Portal (Bot > Privileged Gateway Intents), otherwise Discord
/// closes the connection (close code 4014). `GUILD_MEMBERS` (privileged too) is only requested
/// with `members_intent = true`, for member-join events.
pub fn intents(members: bool) -> GatewayIntents {
    let base = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MESSAGE_REACTIONS;
    if members {
        base | GatewayIntents::GUILD_MEMBERS
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_url_requests_exactly_the_listed_permissions() {
        let url = invite_url("https://discord.com", 1234);
        // 2 + 4 + 64 + 1024 + 2048 + 8192 + 32768 + 65536 + 2^35 + 2^38 + 2^40
        assert_eq!(permissions().bits(), 1_408_749_382_726);
        assert_eq!(
            url,
            "https://discord.com/oauth2/authorize?client_id=1234&permissions=1408749382726&scope=bot%20applications.commands"
        );
        assert!(!permissions().contains(Permissions::ADMINISTRATOR));
    }

    #[test]
    fn invite_url_uses_the_configured_server() {
        let url = invite_url("http://127.0.0.1:3001/", 7);
        assert!(
            url.starts_with("http://127.0.0.1:3001/oauth2/authorize?client_id=7&"),
            "{url}"
        );
    }

    #[test]
    fn members_intent_is_opt_in() {
        assert!(!intents(false).contains(GatewayIntents::GUILD_MEMBERS));
        assert!(intents(true).contains(GatewayIntents::GUILD_MEMBERS));
        assert!(intents(false).contains(GatewayIntents::MESSAGE_CONTENT));
    }
}
