//! The one error handler of the slash commands ([`on_error`]): every failure is logged with its
//! cause (route, status, Discord's error code; never a token) and the invoker is told, privately,
//! that their command failed: in the response if none was sent yet, else in a follow-up.

use std::sync::Arc;

use poise::FrameworkError;
use serenity::all::{
    CommandInteraction, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, Http,
};

use super::delivery::mentions;
use super::error::{describe, HandlerError};
use super::Shared;
use crate::strings::Strings;

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
        match &error {
            // poise's own text names only the command: the cause (route, status, Discord's
            // error code) is in Steward's error.
            FrameworkError::Command {
                error: cause, ctx, ..
            } => tracing::error!(
                label,
                command = %ctx.command().qualified_name,
                error = %cause,
                "Discord command failed"
            ),
            other => tracing::error!(label, error = %other, "Discord command failed"),
        }
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
        .ephemeral(true)
        .allowed_mentions(mentions(false));
    // Each call is bounded by the client's request deadline, so a server that never answers
    // the callback ends in a logged warning, not a task waiting forever.
    let Err(first) = interaction
        .create_response(http, CreateInteractionResponse::Message(response))
        .await
    else {
        return;
    };
    let followup = CreateInteractionResponseFollowup::new()
        .content(text)
        .ephemeral(true)
        .allowed_mentions(mentions(false));
    match interaction.create_followup(http, followup).await {
        Ok(_) => tracing::info!(
            response = %describe(&first),
            "told the invoker about a failed command in a follow-up"
        ),
        Err(error) => tracing::warn!(
            response = %describe(&first),
            followup = %describe(&error),
            "could not tell the invoker about a failed command"
        ),
    }
}
