//! Slash commands (poise): `/ask`, `/summarize`, `/help`, `/setting`, `/cases`, `/case`. Each is thin: it turns its options into
//! a core [`Command`], lets the router decide, and delivers the actions. Commands that may
//! run the model are deferred at once (Discord allows 3 s for the first response); the others
//! answer directly, or are deferred if the router is slow. [`on_error`] turns every failure
//! into a short private reply.

use std::sync::Arc;
use std::time::Duration;

use poise::FrameworkError;
use serenity::all::{
    CommandInteraction, CreateCommand, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, Http,
};

use super::actions;
use super::conversion::{author, command_invoked, interaction_location};
use super::delivery::{Delivery, Target};
use super::error::HandlerError;
use super::roles::role_of;
use super::Shared;
use crate::core::{Action, Author, CaseDecision, Command};
use crate::strings::Strings;

/// The poise context of Steward's commands.
pub type Ctx<'a> = poise::Context<'a, Arc<Shared>, HandlerError>;

/// Deferred if the router has not answered by then; Discord's limit is 3 s.
const DEFER_AFTER: Duration = Duration::from_millis(1500);

/// Every command, for the framework.
pub fn all() -> Vec<poise::Command<Arc<Shared>, HandlerError>> {
    vec![ask(), summarize(), help(), setting(), cases(), case()]
}

/// What is registered in each guild.
pub fn definitions() -> Vec<CreateCommand> {
    poise::builtins::create_application_commands(&all())
}

/// Ask Steward a question; the answer comes from the local model
#[poise::command(slash_command, guild_only)]
pub async fn ask(
    ctx: Ctx<'_>,
    #[description = "Your question"] question: String,
) -> Result<(), HandlerError> {
    invoke(ctx, Command::Ask { question }).await
}

/// Summarize the recent messages here, each point linking to its sources
#[poise::command(slash_command, guild_only)]
pub async fn summarize(
    ctx: Ctx<'_>,
    #[description = "How many recent messages (default 30)"]
    #[min = 1]
    #[max = 100]
    messages: Option<u32>,
) -> Result<(), HandlerError> {
    invoke(ctx, Command::Summarize { messages }).await
}

/// What Steward can do
#[poise::command(slash_command, guild_only)]
pub async fn help(ctx: Ctx<'_>) -> Result<(), HandlerError> {
    invoke(ctx, Command::Help).await
}

/// Show or change this server's Steward settings (moderators)
#[poise::command(slash_command, guild_only)]
pub async fn setting(
    ctx: Ctx<'_>,
    #[description = "Setting name, e.g. language"] key: Option<String>,
    #[description = "New value, e.g. en or zh"] value: Option<String>,
) -> Result<(), HandlerError> {
    invoke(ctx, Command::Setting { key, value }).await
}

/// List open moderation cases (moderators)
#[poise::command(slash_command, guild_only)]
pub async fn cases(ctx: Ctx<'_>) -> Result<(), HandlerError> {
    invoke(ctx, Command::Cases).await
}

/// What a moderator may decide about a case.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Decision {
    #[name = "dismiss"]
    Dismiss,
    #[name = "resolve"]
    Resolve,
    #[name = "delete the message"]
    Delete,
    #[name = "timeout"]
    Timeout,
    #[name = "kick"]
    Kick,
    #[name = "ban"]
    Ban,
}

/// Show or decide a moderation case (moderators)
#[poise::command(slash_command, guild_only)]
pub async fn case(
    ctx: Ctx<'_>,
    #[description = "Case number"]
    #[min = 1]
    number: i64,
    #[description = "What to do; leave empty to show the case"] decision: Option<Decision>,
    #[description = "Timeout length in minutes (default 60)"]
    #[min = 1]
    #[max = 40320]
    minutes: Option<u32>,
) -> Result<(), HandlerError> {
    let decision = decision.map(|decision| match decision {
        Decision::Dismiss => CaseDecision::Dismiss,
        Decision::Resolve => CaseDecision::Resolve,
        Decision::Delete => CaseDecision::Delete,
        Decision::Timeout => CaseDecision::Timeout {
            minutes: minutes
                .unwrap_or(60)
                .clamp(1, super::LONGEST_TIMEOUT_MINUTES),
        },
        Decision::Kick => CaseDecision::Kick,
        Decision::Ban => CaseDecision::Ban,
    });
    invoke(
        ctx,
        Command::Case {
            id: number,
            decision,
        },
    )
    .await
}

async fn invoke(ctx: Ctx<'_>, command: Command) -> Result<(), HandlerError> {
    // Prefix commands are disabled, so every invocation is an interaction.
    let poise::Context::Application(app) = ctx else {
        return Ok(());
    };
    let interaction = app.interaction;
    let shared = ctx.data();
    let http = ctx.http();
    let Some(location) = interaction_location(interaction) else {
        return Ok(()); // guild_only: Discord never sends these outside guilds
    };
    let runs_model = matches!(command, Command::Ask { .. } | Command::Summarize { .. });
    // Replies to moderator commands and help are private; a deferral must say so up front.
    let private = command.requires_moderator() || matches!(command, Command::Help);
    let mut responded = false;
    if runs_model {
        interaction.defer(http).await?;
        responded = true;
    }
    let event = command_invoked(location, invoker(ctx, interaction, shared), command);
    let handling = shared.router.handle(event);
    tokio::pin!(handling);
    let actions = if responded {
        handling.await
    } else {
        tokio::select! {
            actions = &mut handling => actions,
            () = tokio::time::sleep(DEFER_AFTER) => {
                defer(http, interaction, private).await?;
                responded = true;
                handling.await
            }
        }
    };
    for action in actions {
        match action {
            Action::Reply(reply) => {
                let target = Target::Interaction {
                    interaction,
                    responded,
                };
                Delivery::new(http, target, reply.only_invoker)
                    .body(reply.body, shared.actions.policy)
                    .await?;
                responded = true;
            }
            other => {
                if let Err(error) = actions::execute(http, &shared.actions, other).await {
                    tracing::warn!(label = error.label(), %error, "a Discord action failed");
                }
            }
        }
    }
    Ok(())
}

async fn defer(
    http: &Http,
    interaction: &CommandInteraction,
    private: bool,
) -> Result<(), serenity::Error> {
    if private {
        interaction.defer_ephemeral(http).await
    } else {
        interaction.defer(http).await
    }
}

/// The invoker with their role. Discord sends the member's permissions in the channel with
/// every guild interaction; the owner comes from the cached guild.
fn invoker(ctx: Ctx<'_>, interaction: &CommandInteraction, shared: &Shared) -> Author {
    let member = interaction.member.as_deref();
    let permissions = member.and_then(|m| m.permissions).unwrap_or_default();
    let roles = member.map(|m| m.roles.as_slice()).unwrap_or_default();
    let owner = interaction
        .guild_id
        .and_then(|guild| ctx.cache().guild(guild).map(|g| g.owner_id));
    let role = role_of(
        interaction.user.id,
        permissions,
        roles,
        owner,
        shared.moderator_role,
    );
    author(
        &interaction.user,
        member.and_then(|m| m.nick.as_deref()),
        role,
    )
}

/// The one error handler: logs the error and tells the invoker, privately, that it failed.
pub fn on_error(error: FrameworkError<'_, Arc<Shared>, HandlerError>) -> poise::BoxFuture<'_, ()> {
    Box::pin(async move {
        let label = match &error {
            FrameworkError::Command { error, .. } | FrameworkError::EventHandler { error, .. } => {
                error.label()
            }
            FrameworkError::ArgumentParse { .. } => "discord_argument_parse",
            FrameworkError::UnknownInteraction { .. } => "discord_unknown_command",
            FrameworkError::CommandPanic { .. } => "discord_command_panic",
            _ => "discord_framework",
        };
        tracing::error!(label, %error, "Discord command failed");
        let interaction = match &error {
            FrameworkError::UnknownInteraction { interaction, .. } => Some(*interaction),
            other => match other.ctx() {
                Some(poise::Context::Application(app)) => Some(app.interaction),
                _ => None,
            },
        };
        let Some(interaction) = interaction else {
            return;
        };
        let ctx = error.serenity_context();
        let shared = match &error {
            FrameworkError::UnknownInteraction { framework, .. } => Some(framework.user_data),
            other => other.ctx().map(|command_ctx| command_ctx.data()),
        };
        let language = shared.map_or(crate::config::Language::English, |shared| {
            shared.router.settings().language
        });
        let strings = Strings::new(language);
        let text = match &error {
            // A command registered by an older version of Steward.
            FrameworkError::UnknownInteraction { .. } => strings.unknown_command(),
            _ => strings.failed(),
        };
        tell_privately(&ctx.http, interaction, text).await;
    })
}

/// Answers `interaction` privately: as its response if none was sent yet, else as a follow-up.
async fn tell_privately(http: &Http, interaction: &CommandInteraction, text: &str) {
    let response = CreateInteractionResponseMessage::new()
        .content(text)
        .ephemeral(true);
    let first = interaction
        .create_response(http, CreateInteractionResponse::Message(response))
        .await;
    if first.is_err() {
        let followup = CreateInteractionResponseFollowup::new()
            .content(text)
            .ephemeral(true);
        if let Err(error) = interaction.create_followup(http, followup).await {
            tracing::warn!(%error, "could not tell the invoker about a failed command");
        }
    }
}
