//! Why the Discord adapter stopped, or why one Discord call failed. Messages never contain the
//! bot token: serenity errors are scrubbed before they are wrapped.

use serenity::all::{GatewayError, GuildId, HttpError, StatusCode, UserId};

use super::authority::{Act, Refusal};

/// A fatal problem of the Discord adapter.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("no Discord bot token: set STEWARD_DISCORD_TOKEN (Developer Portal > your application > Bot > Reset Token)")]
    MissingToken,
    #[error("STEWARD_DISCORD_TOKEN does not look like a bot token (three dot-separated parts); copy it again from the Developer Portal")]
    MalformedToken,
    #[error("Discord rejected the bot token (401 Unauthorized); reset the token in the Developer Portal and update STEWARD_DISCORD_TOKEN")]
    InvalidToken,
    #[error("Discord refused the gateway intents: enable the Message Content intent under Bot > Privileged Gateway Intents in the Developer Portal")]
    DisallowedIntents,
    #[error("cannot reach the Discord API at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Discord gateway failed: {0}")]
    Gateway(String),
    #[error("Discord client failed: {0}")]
    Client(String),
}

impl DiscordError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            DiscordError::MissingToken => "discord_missing_token",
            DiscordError::MalformedToken => "discord_malformed_token",
            DiscordError::InvalidToken => "discord_invalid_token",
            DiscordError::DisallowedIntents => "discord_disallowed_intents",
            DiscordError::Unreachable { .. } => "discord_unreachable",
            DiscordError::Gateway(_) => "discord_gateway",
            DiscordError::Client(_) => "discord_client",
        }
    }

    /// Classifies a serenity error from start-up; `token` is removed from any text kept.
    pub(crate) fn from_serenity(error: serenity::Error, api_url: &str, token: &str) -> Self {
        match &error {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
                if response.status_code == StatusCode::UNAUTHORIZED =>
            {
                DiscordError::InvalidToken
            }
            serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
                DiscordError::InvalidToken
            }
            serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
                DiscordError::DisallowedIntents
            }
            serenity::Error::Http(HttpError::Request(_)) => DiscordError::Unreachable {
                url: api_url.to_string(),
                reason: scrub(&error.to_string(), token),
            },
            serenity::Error::Gateway(_) | serenity::Error::Tungstenite(_) => {
                DiscordError::Gateway(scrub(&error.to_string(), token))
            }
            _ => DiscordError::Client(scrub(&error.to_string(), token)),
        }
    }
}

/// A failure while handling one event or command; logged, and answered where possible.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Boxed: serenity's error is large, and handler results are returned everywhere.
    #[error("Discord request failed: {0}")]
    Discord(Box<serenity::Error>),
    #[error("{0} is not a valid Discord id")]
    BadId(String),
    /// A moderation action was not taken: the moderator (or Steward) may not do it there.
    #[error("refused to {} in guild {guild}: {refusal}", .act.verb())]
    Refused {
        guild: GuildId,
        act: Act,
        target: Option<UserId>,
        refusal: Refusal,
    },
}

impl From<serenity::Error> for HandlerError {
    fn from(error: serenity::Error) -> Self {
        HandlerError::Discord(Box::new(error))
    }
}

impl HandlerError {
    pub fn label(&self) -> &'static str {
        match self {
            HandlerError::Discord(_) => "discord_request",
            HandlerError::BadId(_) => "discord_bad_id",
            HandlerError::Refused { .. } => "discord_refused",
        }
    }
}

/// Replaces every occurrence of `secret` in `text`. Empty secrets leave the text alone.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    let secret = secret.trim_start_matches("Bot ");
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_token() {
        assert_eq!(
            scrub("bad Bot abc.def.ghi here", "abc.def.ghi"),
            "bad Bot [redacted] here"
        );
        assert_eq!(scrub("nothing", ""), "nothing");
    }

    #[test]
    fn gateway_auth_failures_are_classified_without_the_token() {
        let error = DiscordError::from_serenity(
            serenity::Error::Gateway(GatewayError::InvalidAuthentication),
            "https://discord.com",
            "abc.def.ghi",
        );
        assert_eq!(error.label(), "discord_invalid_token");
        assert!(!error.to_string().contains("abc.def.ghi"));
        let intents = DiscordError::from_serenity(
            serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents),
            "https://discord.com",
            "t",
        );
        assert!(intents.to_string().contains("Message Content intent"));
    }
}
