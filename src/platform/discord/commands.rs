//! Slash commands (poise): `/ask`, `/summarize`, `/help`, `/setting`, `/cases`, `/case`,
//! `/rules`, `/appeal`, `/kb`, the message menu's "Add to knowledge base" (`kb mark`),
//! `/privacy` and `/forget-me` (in `privacy`), and `/report` (in `report`).
//! Each is thin: it turns its options into a core [`Command`], lets the router decide, and
//! delivers the actions. Commands that may run the model (or build a report) are deferred at
//! once (Discord allows 3 s for the first response); the others answer directly, or are
//! deferred if the router is slow. `failures::on_error` turns every failure into a short
//! private reply.
//!
//! The invoker's role comes from their guild-level permissions (the interaction's
//! `member.permissions` include the channel's overwrites, which confer no authority).

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{CommandInteraction, CreateCommand, Http};

use super::actions::execute_all;
use super::authority::Lookup;
use super::conversion::{author, command_invoked, interaction_location};
use super::delivery::{Delivery, Target};
use super::error::HandlerError;
use super::{files, report, Shared};
use crate::core::{Action, Author, CaseDecision, Command};

/// The poise context of Steward's commands.
pub type Ctx<'a> = poise::Context<'a, Arc<Shared>, HandlerError>;

/// Deferred if the router has not answered by then; Discord's limit is 3 s.
pub(super) const DEFER_AFTER: Duration = Duration::from_millis(1500);

/// Every command, for the framework.
pub fn all() -> Vec<poise::Command<Arc<Shared>, HandlerError>> {
    vec![
        ask(),
        summarize(),
        help(),
        setting(),
        cases(),
        case(),
        rules(),
        appeal(),
        kb(),
        kb_mark(),
        super::privacy::privacy(),
        super::privacy::forget_me(),
        report::report(),
    ]
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
    #[name = "uphold (answer an appeal)"]
    Uphold,
    #[name = "reverse (answer an appeal)"]
    Reverse,
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
        Decision::Uphold => CaseDecision::Uphold,
        Decision::Reverse => CaseDecision::Reverse,
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

/// Show this server's rules; moderators can set or clear them
#[poise::command(slash_command, guild_only)]
pub async fn rules(
    ctx: Ctx<'_>,
    #[description = "New rules (moderators), separated by ;"] set: Option<String>,
    #[description = "Remove the rules (moderators)"] clear: Option<bool>,
) -> Result<(), HandlerError> {
    invoke(ctx, rules_command(set, clear.unwrap_or(false))).await
}

/// `/rules` options as a command. A slash command's text is one line, so `;` separates rules
/// there (the core keeps one rule per line).
fn rules_command(set: Option<String>, clear: bool) -> Command {
    match (set, clear) {
        (None, false) => Command::Rules { text: None },
        (None, true) => Command::Rules {
            text: Some(String::new()),
        },
        (Some(text), false) if !text.trim().is_empty() => {
            let lines: Vec<&str> = if text.contains('\n') {
                text.lines().map(str::trim).collect()
            } else {
                text.split(';').map(str::trim).collect()
            };
            let lines: Vec<&str> = lines.into_iter().filter(|line| !line.is_empty()).collect();
            Command::Rules {
                text: Some(lines.join("\n")),
            }
        }
        _ => Command::BadArguments { command: "rules" },
    }
}

/// Appeal a moderation decision about you (the case number is in the notice you received)
#[poise::command(slash_command, guild_only)]
pub async fn appeal(
    ctx: Ctx<'_>,
    #[description = "Case number"]
    #[min = 1]
    case: i64,
    #[description = "Why the decision should be reconsidered"] text: String,
) -> Result<(), HandlerError> {
    let command = match text.trim() {
        "" => Command::BadArguments { command: "appeal" },
        text => Command::Appeal {
            case,
            text: text.to_string(),
        },
    };
    invoke(ctx, command).await
}

/// Which knowledge report `/kb` shows.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum KbReport {
    #[name = "gaps"]
    Gaps,
    #[name = "feedback"]
    Feedback,
}

/// Questions Steward could not answer, or members' 👍/👎 on its answers (moderators)
#[poise::command(slash_command, guild_only)]
pub async fn kb(
    ctx: Ctx<'_>,
    #[description = "gaps: unanswered questions; feedback: 👍/👎 on answers"] report: KbReport,
    #[description = "How many days back (default 30)"]
    #[min = 1]
    #[max = 365]
    days: Option<u32>,
) -> Result<(), HandlerError> {
    let command = match report {
        KbReport::Gaps => Command::KbGaps { days },
        KbReport::Feedback => Command::KbFeedback { days },
    };
    invoke(ctx, command).await
}

/// Adds a message's conversation to the knowledge base, marked (moderators): a message
/// context-menu command (right-click a message, Apps), the Discord form of `kb mark <link>`.
#[poise::command(context_menu_command = "Add to knowledge base", guild_only)]
pub async fn kb_mark(ctx: Ctx<'_>, message: serenity::all::Message) -> Result<(), HandlerError> {
    let command = Command::KbMark {
        message: message.id.to_string(),
    };
    invoke(ctx, command).await
}

pub(super) async fn invoke(ctx: Ctx<'_>, command: Command) -> Result<(), HandlerError> {
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
    let slow = matches!(
        command,
        Command::Ask { .. } | Command::Summarize { .. } | Command::Report { .. }
    );
    // Replies to moderator commands, help, appeals and privacy commands are private; a deferral
    // must say so up front.
    let private = command.requires_moderator()
        || matches!(
            command,
            Command::Help | Command::Appeal { .. } | Command::Privacy(_)
        );
    let mut responded = false;
    if slow {
        defer(http, interaction, private).await?;
        responded = true;
    }
    let invoker = invoker(ctx, interaction, shared).await;
    let event = command_invoked(location, invoker, command);
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
    // Replies answer the interaction; a post with files (a report) goes to the channel for
    // everyone; the rest (a decision's actions, its log line) follow in order, with refusals
    // noted in the mod log.
    let mut others = Vec::new();
    let mut failure: Option<HandlerError> = None;
    let (mut replied, mut posted_files) = (false, false);
    for action in actions {
        match action {
            Action::Reply(reply) if failure.is_none() => {
                let target = Target::Interaction {
                    interaction,
                    responded,
                };
                let delivered = Delivery::new(http, target, reply.only_invoker)
                    .body(reply.body, shared.actions.policy)
                    .await;
                match delivered {
                    Ok(()) => {
                        responded = true;
                        replied = true;
                    }
                    Err(error) => failure = Some(error.into()),
                }
            }
            Action::Reply(_) => {}
            Action::PostWithFiles {
                location,
                text,
                attachments,
            } if failure.is_none() => {
                // Sent here, not with the others: a failure must reach the invoker.
                match files::post_at(http, &location, &text, attachments).await {
                    Ok(()) => posted_files = true,
                    Err(error) => failure = Some(error),
                }
            }
            other => others.push(other),
        }
    }
    execute_all(http, Some(ctx.cache()), &shared.actions, others).await;
    if let Some(error) = failure {
        return Err(error);
    }
    if posted_files && !replied {
        report::close_response(http, interaction, responded, private).await;
    }
    Ok(())
}

pub(super) async fn defer(
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

/// The invoker with their role from guild-level permissions: the guild's roles (cached, else
/// asked) and the member's roles as the interaction reports them. The interaction's own
/// `permissions` are the channel's, overwrites included, and are deliberately not used.
async fn invoker(ctx: Ctx<'_>, interaction: &CommandInteraction, shared: &Shared) -> Author {
    let member = interaction.member.as_deref();
    let roles = member.map(|m| m.roles.as_slice()).unwrap_or_default();
    let role = match interaction.guild_id {
        Some(guild) => {
            let lookup = Lookup::new(ctx.http(), Some(ctx.cache()), &shared.actions);
            lookup.role(guild, interaction.user.id, roles).await
        }
        None => crate::core::Role::Member,
    };
    author(
        &interaction.user,
        member.and_then(|m| m.nick.as_deref()),
        role,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_options_become_commands() {
        let rules = |text: &str| Command::Rules {
            text: Some(text.to_string()),
        };
        let cases = [
            (None, false, Command::Rules { text: None }),
            (None, true, rules("")),
            (Some("Be kind; No spam ;"), false, rules("Be kind\nNo spam")),
            (Some("  Be kind  "), false, rules("Be kind")),
            (
                Some("   "),
                false,
                Command::BadArguments { command: "rules" },
            ),
            (
                Some("Be kind"),
                true,
                Command::BadArguments { command: "rules" },
            ),
        ];
        for (set, clear, expected) in cases {
            assert_eq!(
                rules_command(set.map(str::to_string), clear),
                expected,
                "{set:?} {clear}"
            );
        }
    }
}
