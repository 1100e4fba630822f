//! Why the Discord adapter stopped, or why one Discord call failed. Messages never contain the
//! bot token: serenity errors are scrubbed before they are wrapped. A failed call is described
//! with its route, HTTP status and Discord's error code and message ([`describe`]), with the
//! interaction and webhook tokens in routes redacted.

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
    #[error("Discord request failed: {}", describe(.0))]
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

/// A failed Discord call in one line for the logs: method, route, HTTP status, Discord's error
/// code and message for an error response; the route and whether it timed out or could not
/// connect for a request that got no response; the decoding problem for a response serenity
/// could not read. Interaction and webhook tokens in routes are redacted.
pub fn describe(error: &serenity::Error) -> String {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => {
            let json = &response.error;
            let mut text = format!(
                "{} {} answered {}: Discord error code {}: {}",
                response.method,
                redact_route(&response.url),
                response.status_code,
                json.code,
                json.message
            );
            for field in json.errors.iter().take(3) {
                text.push_str(&format!("; {}: {}", field.path, field.message));
            }
            text
        }
        serenity::Error::Http(HttpError::Request(request)) => {
            let route = request.url().map_or_else(
                || "(unknown route)".to_string(),
                |url| redact_route(url.as_str()),
            );
            let what = if request.is_timeout() {
                "got no answer in time (timed out)"
            } else if request.is_connect() {
                "could not connect"
            } else {
                "failed"
            };
            // reqwest's own text repeats the URL, tokens included: only its cause is kept.
            let cause = std::error::Error::source(request)
                .map_or_else(String::new, |cause| format!(": {cause}"));
            format!("{route} {what}{cause}")
        }
        serenity::Error::Json(json) => {
            format!("Discord's response could not be decoded ({json}); the payload differs from API v10")
        }
        other => other.to_string(),
    }
}

/// `url`'s path and query with the tokens of interaction callbacks and webhooks replaced:
/// `/api/v10/webhooks/1/[token]/messages/@original`.
pub fn redact_route(url: &str) -> String {
    let path = match url.find("://") {
        Some(scheme) => {
            let rest = &url[scheme + 3..];
            rest.find('/').map_or("/", |start| &rest[start..])
        }
        None => url,
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    for at in 0..segments.len() {
        if matches!(segments[at], "webhooks" | "interactions") && at + 2 < segments.len() {
            segments[at + 2] = "[token]";
        }
    }
    segments.join("/")
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
    fn routes_hide_interaction_and_webhook_tokens() {
        let cases = [
            (
                "http://127.0.0.1:9/api/v10/webhooks/77/aW50ZXJhY3Rpb24/messages/@original",
                "/api/v10/webhooks/77/[token]/messages/@original",
            ),
            (
                "https://discord.com/api/v10/interactions/5/tok.en/callback",
                "/api/v10/interactions/5/[token]/callback",
            ),
            (
                "https://discord.com/api/v10/channels/3/messages?limit=5",
                "/api/v10/channels/3/messages?limit=5",
            ),
            (
                "https://discord.com/api/v10/webhooks/77",
                "/api/v10/webhooks/77",
            ),
        ];
        for (url, route) in cases {
            assert_eq!(redact_route(url), route, "{url}");
        }
    }

    #[tokio::test]
    async fn an_error_response_names_status_and_code() {
        let body = r#"{"message": "Unknown Webhook", "code": 10015}"#;
        let response = hyper::Response::builder().status(404).body(body).unwrap();
        let response = serenity::http::ErrorResponse::from_response(
            reqwest::Response::from(response),
            reqwest::Method::POST,
        )
        .await;
        let error = serenity::Error::Http(HttpError::UnsuccessfulRequest(response));
        let text = describe(&error);
        assert!(text.starts_with("POST /"), "{text}");
        assert!(
            text.ends_with("answered 404 Not Found: Discord error code 10015: Unknown Webhook"),
            "{text}"
        );
        let handler = HandlerError::from(error);
        assert!(handler.to_string().contains("10015"), "{handler}");
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
