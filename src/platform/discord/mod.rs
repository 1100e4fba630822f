//! The Discord adapter (serenity 0.12 + poise 0.7): gateway events and slash commands become
//! core events, the router's actions become REST calls.
//!
//! - `conversion`: serenity values -> core events (pure, unit-tested from Discord JSON).
//! - `roles`: guild-level Discord permissions -> member / moderator / owner.
//! - `authority`: may this moderator (and Steward) do this to this member here? Permission and
//!   rank, checked before every moderation action.
//! - `events`: the gateway event handler; `commands`: the slash commands (`privacy`: the
//!   members'-data ones; `report`: the community report; `failures`: the one error handler);
//!   `components`: the decision buttons on mod-log posts; `catch_up`: questions asked while
//!   Steward was stopped.
//! - `delivery`: replies and streamed answers within the 2,000-character limit; `files`:
//!   messages with files (reports' charts, data exports); `actions`: every other action.
//! - `invite`: the invite URL's permissions and the gateway intents, each explained.
//!
//! [`run`] connects the configured shard range and returns when `shutdown` is cancelled.

mod actions;
mod authority;
mod catch_up;
mod commands;
mod components;
pub mod conversion;
mod delivery;
mod error;
mod events;
mod failures;
mod files;
mod invite;
mod privacy;
mod report;
mod rest;
mod roles;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serenity::all::{ClientBuilder, GuildId};
use tokio_util::sync::CancellationToken;

pub use delivery::MESSAGE_LIMIT;
pub use error::{DiscordError, HandlerError};
pub use invite::{intents, invite_url, permissions, PERMISSIONS};
pub use rest::RestExecutor;

use crate::community::Router;
use crate::config::DiscordSettings;
use crate::core::{Capabilities, Platform};

/// Discord's own REST base, used unless `[discord] api_base_url` is set.
pub const DEFAULT_API_BASE: &str = "https://discord.com";

/// Discord's longest member timeout: 28 days.
pub const LONGEST_TIMEOUT: Duration = Duration::from_secs(28 * 24 * 3600);
/// The same in minutes (the `/case` command's option; poise wants the literal, 40320, too).
pub const LONGEST_TIMEOUT_MINUTES: u32 = 28 * 24 * 60;

/// What Discord can do, for the router: slash commands, message links on the configured web
/// base (Discord's own, or a compatible server's), 2,000-character messages, 28-day timeouts,
/// ephemeral replies, threads started from a message.
pub fn capabilities(settings: &DiscordSettings) -> Capabilities {
    let base = rest::api_base(settings).trim_end_matches('/');
    Capabilities {
        platform: Platform::Discord,
        command_prefix: "/".into(),
        permalink: Some(format!(
            "{base}/channels/{{community}}/{{channel}}/{{message}}"
        )),
        max_message_chars: MESSAGE_LIMIT,
        longest_timeout: Some(LONGEST_TIMEOUT),
        private_replies: true,
        threads: true,
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long a clean shutdown may take before the client is dropped anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What event handlers and commands share.
pub(crate) struct Shared {
    pub(crate) router: Arc<Router>,
    /// What executing actions needs (the moderator role among it).
    pub(crate) actions: rest::ActionSettings,
    /// Guilds already caught up on since start.
    caught_up: Mutex<HashSet<GuildId>>,
}

impl Shared {
    /// True the first time `guild` asks to be caught up on (GUILD_CREATE repeats after a
    /// reconnect).
    pub(crate) fn first_catch_up(&self, guild: GuildId) -> bool {
        self.caught_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(guild)
    }
}

/// Runs the Discord bot until `shutdown` is cancelled (then the shards are closed cleanly and
/// `Ok` is returned) or a fatal problem occurs: no or a rejected token, refused intents, an
/// unreachable API. Error messages never contain the token.
pub async fn run(
    settings: &DiscordSettings,
    router: Arc<Router>,
    shutdown: CancellationToken,
) -> Result<(), DiscordError> {
    let token = rest::token(settings)?;
    let api_base = rest::api_base(settings);
    let fail = |error: serenity::Error| DiscordError::from_serenity(error, api_base, token);
    let http = rest::http(settings)?;
    // A bad token or an unreachable API fails here with a clear error, before any shard starts.
    let me = http.get_current_user().await.map_err(fail)?;
    tracing::info!(bot = %me.name, id = %me.id, "Discord token accepted");
    router.register(capabilities(settings));
    // Subscribed before the gateway starts, so no background action is missed.
    let mut background = router.subscribe(Platform::Discord);

    let action_settings = rest::ActionSettings::new(settings);
    action_settings.set_bot_id(me.id);
    let shared = Arc::new(Shared {
        router,
        actions: action_settings,
        caught_up: Mutex::default(),
    });
    let data = shared.clone();
    let delivering = shared.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: failures::on_error,
            // Slash commands only: mentions are questions, handled as messages.
            prefix_options: poise::PrefixFrameworkOptions {
                mention_as_prefix: false,
                ..Default::default()
            },
            // Roles come from guild permissions, not from the application's owners.
            initialize_owners: false,
            ..Default::default()
        })
        .setup(move |_ctx, _ready, _framework| Box::pin(async move { Ok(data) }))
        .build();
    let mut client = ClientBuilder::new_with_http(http, intents(settings.members_intent))
        .event_handler(events::Events { shared })
        .framework(framework)
        .await
        .map_err(fail)?;
    if let Some(url) = &settings.gateway_url {
        // serenity appends `?v=10&...` itself.
        *client.ws_url.lock().await = url.clone();
    }

    // Verdicts of queued reviews and other background actions go out over REST, checked and
    // noted like the others (with the gateway's cache for lookups).
    let (http, cache) = (client.http.clone(), client.cache.clone());
    let deliverer = tokio::spawn(async move {
        while let Some(action) = background.recv().await {
            actions::execute_all(&http, Some(&*cache), &delivering.actions, vec![action]).await;
        }
    });
    // Stops delivering when this function returns, however it returns.
    let _deliverer = AbortOnDrop(deliverer);

    let manager = client.shard_manager.clone();
    tracing::info!(
        first = settings.shard_first,
        last = settings.shard_last,
        total = settings.shard_total,
        "starting Discord shards"
    );
    // serenity's range end is inclusive: `first..last` starts shards first..=last.
    let start = client.start_shard_range(
        settings.shard_first..settings.shard_last,
        settings.shard_total,
    );
    tokio::pin!(start);
    tokio::select! {
        result = &mut start => result.map_err(fail),
        () = shutdown.cancelled() => {
            manager.shutdown_all().await;
            // `start` returns once the manager reports the shutdown; bounded because a manager
            // without running shards reports nothing.
            if tokio::time::timeout(SHUTDOWN_GRACE, start).await.is_err() {
                tracing::warn!("Discord shards did not stop in time; dropping the client");
            }
            Ok(())
        }
    }
}
