//! REST access to Discord from the settings: serenity's HTTP client (token checked, optional
//! self-hosted API base) and [`RestExecutor`], which executes core actions without a gateway
//! connection (for tools that act without listening, and for protocol tests).

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serenity::all::{ApplicationId, ChannelId, GuildId, Http, HttpBuilder, RoleId, UserId};
use tokio::sync::OnceCell;

use super::error::{DiscordError, HandlerError};
use super::DEFAULT_API_BASE;
use crate::config::DiscordSettings;
use crate::core::Action;
use crate::platform::pacing::EditPolicy;

/// How long connecting to the API may take (within the request deadline).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What executing actions needs besides the HTTP client, and what it learns on the way.
pub(crate) struct ActionSettings {
    /// `[discord] mod_log_channel`: the default moderators' channel, used only for cases of
    /// the guild it belongs to.
    pub(crate) mod_log_channel: Option<ChannelId>,
    /// Members with this role count as moderators and may take every decision (rank still
    /// applies).
    pub(crate) moderator_role: Option<RoleId>,
    /// With the members intent the cache's members are current; without it they are read
    /// over REST before a decision.
    pub(crate) members_intent: bool,
    /// How often a streamed answer is edited.
    pub(crate) policy: EditPolicy,
    /// Steward's own user id, once known.
    bot: OnceCell<UserId>,
    /// The guild of each channel looked up (a channel never changes guild).
    channel_guilds: Mutex<HashMap<ChannelId, GuildId>>,
    /// The moderators' channel each community chose (`setting mod-log here`), as learned from
    /// the mod-log posts the router asked for; refusal notes go there.
    mod_logs: Mutex<HashMap<GuildId, ChannelId>>,
}

impl ActionSettings {
    pub(crate) fn new(settings: &DiscordSettings) -> Self {
        Self {
            mod_log_channel: settings
                .mod_log_channel
                .and_then(NonZeroU64::new)
                .map(ChannelId::from),
            moderator_role: settings
                .moderator_role
                .and_then(NonZeroU64::new)
                .map(RoleId::from),
            members_intent: settings.members_intent,
            policy: EditPolicy::default(),
            bot: OnceCell::new(),
            channel_guilds: Mutex::default(),
            mod_logs: Mutex::default(),
        }
    }

    /// Records Steward's user id (known at start from `GET /users/@me`).
    pub(crate) fn set_bot_id(&self, id: UserId) {
        let _ = self.bot.set(id);
    }

    /// Steward's user id, asked once from the API if not known yet.
    pub(crate) async fn bot_id(&self, http: &Http) -> Result<UserId, serenity::Error> {
        let id = self
            .bot
            .get_or_try_init(|| async { http.get_current_user().await.map(|me| me.id) })
            .await?;
        Ok(*id)
    }

    pub(crate) fn remembered_guild(&self, channel: ChannelId) -> Option<GuildId> {
        let known = self
            .channel_guilds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        known.get(&channel).copied()
    }

    pub(crate) fn remember_guild(&self, channel: ChannelId, guild: GuildId) {
        let mut known = self
            .channel_guilds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        known.insert(channel, guild);
    }

    /// The moderators' channel `guild` chose, if a mod-log post told us.
    pub(crate) fn chosen_mod_log(&self, guild: GuildId) -> Option<ChannelId> {
        let chosen = self.mod_logs.lock().unwrap_or_else(PoisonError::into_inner);
        chosen.get(&guild).copied()
    }

    pub(crate) fn remember_mod_log(&self, guild: GuildId, channel: ChannelId) {
        let mut chosen = self.mod_logs.lock().unwrap_or_else(PoisonError::into_inner);
        chosen.insert(guild, channel);
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

/// Serenity's HTTP client for `settings`. Every request has a deadline
/// (`[discord] request_timeout_secs`): a server that never answers makes the call fail with a
/// timeout, which is logged, instead of leaving a task waiting forever.
pub(crate) fn http(settings: &DiscordSettings) -> Result<Http, DiscordError> {
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(settings.request_timeout)
        .connect_timeout(settings.request_timeout.min(CONNECT_TIMEOUT))
        .build()
        .map_err(|error| DiscordError::Client(error.to_string()))?;
    let mut http = HttpBuilder::new(token(settings)?).client(client);
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

    /// Executes one action (streamed bodies are edited in at the usual bounded rate). A
    /// moderator's decision they may not take is [`HandlerError::Refused`].
    pub async fn execute(&self, action: Action) -> Result<(), HandlerError> {
        super::actions::execute(&self.http, None, &self.actions, action).await
    }

    /// Executes actions in order as the adapter does: failures are logged, refusals noted in
    /// the community's mod log.
    pub async fn execute_all(&self, actions: Vec<Action>) {
        super::actions::execute_all(&self.http, None, &self.actions, actions).await;
    }
}
