//! REST access to Discord from the settings: serenity's HTTP client (token checked, optional
//! self-hosted API base) and [`RestExecutor`], which executes core actions without a gateway
//! connection (for tools that act without listening, and for protocol tests).

use std::num::NonZeroU64;

use serenity::all::{ApplicationId, ChannelId, Http, HttpBuilder};

use super::error::{DiscordError, HandlerError};
use super::DEFAULT_API_BASE;
use crate::config::DiscordSettings;
use crate::core::Action;
use crate::platform::pacing::EditPolicy;

/// What executing actions needs besides the HTTP client.
pub(crate) struct ActionSettings {
    pub(crate) mod_log_channel: Option<ChannelId>,
    /// How often a streamed answer is edited.
    pub(crate) policy: EditPolicy,
}

impl ActionSettings {
    pub(crate) fn new(settings: &DiscordSettings) -> Self {
        Self {
            mod_log_channel: settings
                .mod_log_channel
                .and_then(NonZeroU64::new)
                .map(ChannelId::from),
            policy: EditPolicy::default(),
        }
    }
}

/// The bot token, checked for shape (never printed).
pub(crate) fn token(settings: &DiscordSettings) -> Result<&str, DiscordError> {
    let token = settings
        .token
        .as_ref()
        .ok_or(DiscordError::MissingToken)?
        .expose()
        .as_str();
    serenity::utils::validate_token(token).map_err(|_| DiscordError::MalformedToken)?;
    Ok(token)
}

/// The REST base URL actually used.
pub(crate) fn api_base(settings: &DiscordSettings) -> &str {
    settings.api_base_url.as_deref().unwrap_or(DEFAULT_API_BASE)
}

/// Serenity's HTTP client for `settings`.
pub(crate) fn http(settings: &DiscordSettings) -> Result<Http, DiscordError> {
    let mut http = HttpBuilder::new(token(settings)?);
    if let Some(base) = &settings.api_base_url {
        // serenity's own rate limiter ignores the proxy and always calls discord.com, so it
        // is off here; the self-hosted server (or rate-limiting proxy) enforces its limits.
        http = http.proxy(base.clone()).ratelimiter_disabled(true);
    }
    if let Some(id) = settings.application_id.and_then(NonZeroU64::new) {
        http = http.application_id(ApplicationId::from(id));
    }
    Ok(http.build())
}

/// Executes core actions with the REST API alone.
pub struct RestExecutor {
    http: Http,
    actions: ActionSettings,
}

impl RestExecutor {
    /// Fails only on a missing or malformed token; nothing is sent yet.
    pub fn new(settings: &DiscordSettings) -> Result<Self, DiscordError> {
        Ok(Self {
            http: http(settings)?,
            actions: ActionSettings::new(settings),
        })
    }

    /// Executes one action (streamed bodies are edited in at the usual bounded rate).
    pub async fn execute(&self, action: Action) -> Result<(), HandlerError> {
        super::actions::execute(&self.http, &self.actions, action).await
    }
}
