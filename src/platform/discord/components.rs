//! Decision buttons on mod-log posts. A post about a case carries one row of buttons (dismiss,
//! delete, time out, kick, ban); a click becomes the clicker's `case N <decision>` command, which
//! the router decides like a typed one (moderators only) and whose actions pass the same
//! authority checks. Kick and ban first ask for a confirmation only the clicker sees; only its
//! Confirm decides.
//!
//! Custom ids: `steward:case:<n>:<decision>` on the post, `steward:confirm:<n>:<decision>` and
//! `steward:cancel:<n>` on the confirmation.

use serenity::all::{
    ButtonStyle, Cache, ComponentInteraction, Context, CreateActionRow, CreateButton,
    CreateInteractionResponse, CreateInteractionResponseMessage, EditInteractionResponse, Http,
};

use super::actions::execute_all;
use super::authority::Lookup;
use super::commands::DEFER_AFTER;
use super::conversion::{author, command_invoked, component_location};
use super::delivery::{mentions, MESSAGE_LIMIT};
use super::error::describe;
use super::Shared;
use crate::core::{Action, CaseDecision, Command};
use crate::platform::split::split_message;
use crate::strings::Strings;

/// How long the Time out button times out (a typed `case N timeout M` chooses).
const BUTTON_TIMEOUT_MINUTES: u32 = 60;

/// What a case button decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Dismiss,
    Delete,
    Timeout,
    Kick,
    Ban,
}

impl Choice {
    const ALL: [Choice; 5] = [
        Choice::Dismiss,
        Choice::Delete,
        Choice::Timeout,
        Choice::Kick,
        Choice::Ban,
    ];

    fn word(self) -> &'static str {
        match self {
            Choice::Dismiss => "dismiss",
            Choice::Delete => "delete",
            Choice::Timeout => "timeout",
            Choice::Kick => "kick",
            Choice::Ban => "ban",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.word() == word)
    }

    fn label(self) -> &'static str {
        match self {
            Choice::Dismiss => "Dismiss",
            Choice::Delete => "Delete message",
            Choice::Timeout => "Time out 1 h",
            Choice::Kick => "Kick",
            Choice::Ban => "Ban",
        }
    }

    fn style(self) -> ButtonStyle {
        match self {
            Choice::Dismiss => ButtonStyle::Secondary,
            Choice::Delete | Choice::Timeout => ButtonStyle::Primary,
            Choice::Kick | Choice::Ban => ButtonStyle::Danger,
        }
    }

    /// Removing a member is asked twice.
    fn needs_confirmation(self) -> bool {
        matches!(self, Choice::Kick | Choice::Ban)
    }

    pub fn decision(self) -> CaseDecision {
        match self {
            Choice::Dismiss => CaseDecision::Dismiss,
            Choice::Delete => CaseDecision::Delete,
            Choice::Timeout => CaseDecision::Timeout {
                minutes: BUTTON_TIMEOUT_MINUTES,
            },
            Choice::Kick => CaseDecision::Kick,
            Choice::Ban => CaseDecision::Ban,
        }
    }
}

/// A click on one of Steward's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Click {
    /// A button on a mod-log post.
    Decide { case: i64, choice: Choice },
    /// Confirm on the private confirmation of a kick or ban.
    Confirm { case: i64, choice: Choice },
    /// Cancel on that confirmation.
    Cancel { case: i64 },
}

impl Click {
    /// The click a custom id stands for; `None` for anything Steward did not make.
    pub fn parse(custom_id: &str) -> Option<Self> {
        let mut parts = custom_id.split(':');
        if parts.next() != Some("steward") {
            return None;
        }
        let kind = parts.next()?;
        let case = parts.next()?.parse::<i64>().ok().filter(|case| *case > 0)?;
        let choice = parts.next().map(Choice::from_word);
        let click = match (kind, choice) {
            ("case", Some(Some(choice))) => Click::Decide { case, choice },
            ("confirm", Some(Some(choice))) if choice.needs_confirmation() => {
                Click::Confirm { case, choice }
            }
            ("cancel", None) => Click::Cancel { case },
            _ => return None,
        };
        parts.next().is_none().then_some(click)
    }

    pub fn custom_id(self) -> String {
        match self {
            Click::Decide { case, choice } => format!("steward:case:{case}:{}", choice.word()),
            Click::Confirm { case, choice } => {
                format!("steward:confirm:{case}:{}", choice.word())
            }
            Click::Cancel { case } => format!("steward:cancel:{case}"),
        }
    }
}

/// The row of decision buttons for a mod-log post about `case`.
pub fn case_buttons(case: i64) -> Vec<CreateActionRow> {
    let buttons = Choice::ALL
        .into_iter()
        .map(|choice| {
            CreateButton::new(Click::Decide { case, choice }.custom_id())
                .label(choice.label())
                .style(choice.style())
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

/// The private "are you sure?" of a kick or ban.
fn confirmation(case: i64, choice: Choice) -> CreateInteractionResponseMessage {
    let confirm = CreateButton::new(Click::Confirm { case, choice }.custom_id())
        .label(format!("Yes, {}", choice.word()))
        .style(ButtonStyle::Danger);
    let cancel = CreateButton::new(Click::Cancel { case }.custom_id())
        .label("Cancel")
        .style(ButtonStyle::Secondary);
    CreateInteractionResponseMessage::new()
        .content(format!(
            "{} the member of case #{case}? Only you see this.",
            choice.label()
        ))
        .ephemeral(true)
        .allowed_mentions(mentions(false))
        .components(vec![CreateActionRow::Buttons(vec![confirm, cancel])])
}

/// Handles a click on a message component. Every click is answered (Discord shows "interaction
/// failed" otherwise): a confirmation, or the router's reply, privately.
pub async fn clicked(ctx: &Context, shared: &Shared, interaction: &ComponentInteraction) {
    let http: &Http = &ctx.http;
    let cache: &Cache = &ctx.cache;
    let Some(click) = Click::parse(&interaction.data.custom_id) else {
        // Not one of Steward's buttons (or one from an older version).
        let strings = Strings::new(shared.router.settings().language);
        answer(ctx, interaction, strings.unknown_command(), false, false).await;
        return;
    };
    let (Some(guild), Some(location)) = (interaction.guild_id, component_location(interaction))
    else {
        return; // buttons are only ever posted in guilds
    };
    let member = interaction.member.as_ref();
    let roles = member.map(|m| m.roles.as_slice()).unwrap_or_default();
    let lookup = Lookup::new(http, Some(cache), &shared.actions);
    let role = lookup.role(guild, interaction.user.id, roles).await;
    let (case, choice, update) = match click {
        Click::Cancel { case } => {
            let text = format!("Case #{case}: nothing was done.");
            answer(ctx, interaction, &text, true, false).await;
            return;
        }
        // Members are refused by the router at once; they never see a confirmation.
        Click::Decide { case, choice } if choice.needs_confirmation() && role.can_moderate() => {
            let response = CreateInteractionResponse::Message(confirmation(case, choice));
            if let Err(error) = interaction.create_response(http, response).await {
                tracing::warn!(error = %describe(&error), "answering a button click failed");
            }
            return;
        }
        Click::Decide { case, choice } => (case, choice, false),
        Click::Confirm { case, choice } => (case, choice, true),
    };
    let invoker = author(
        &interaction.user,
        member.and_then(|m| m.nick.as_deref()),
        role,
    );
    let command = Command::Case {
        id: case,
        decision: Some(choice.decision()),
    };
    let handling = shared
        .router
        .handle(command_invoked(location, invoker, command));
    tokio::pin!(handling);
    let mut deferred = false;
    let actions = tokio::select! {
        actions = &mut handling => actions,
        () = tokio::time::sleep(DEFER_AFTER) => {
            deferred = defer(ctx, interaction, update).await;
            handling.await
        }
    };
    let mut replies = Vec::new();
    let mut others = Vec::new();
    for action in actions {
        match action {
            Action::Reply(reply) => match reply.body.as_text() {
                Some(text) => replies.push(text.to_string()),
                None => tracing::warn!("a streamed reply to a button click was dropped"),
            },
            other => others.push(other),
        }
    }
    answer(ctx, interaction, &replies.join("\n\n"), update, deferred).await;
    execute_all(http, Some(cache), &shared.actions, others).await;
}

/// Acknowledges a slow click; true if Discord took it.
async fn defer(ctx: &Context, interaction: &ComponentInteraction, update: bool) -> bool {
    let result = if update {
        interaction
            .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
            .await
    } else {
        interaction.defer_ephemeral(&ctx.http).await
    };
    match result {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(error = %describe(&error), "deferring a button click failed");
            false
        }
    }
}

/// Answers a click with `text`: replacing the confirmation it was on (`update`, its buttons
/// removed) or privately; as an edit once deferred.
async fn answer(
    ctx: &Context,
    interaction: &ComponentInteraction,
    text: &str,
    update: bool,
    deferred: bool,
) {
    let text = split_message(text, MESSAGE_LIMIT)
        .into_iter()
        .next()
        .unwrap_or_else(|| "…".to_string());
    let result = if deferred {
        let edit = EditInteractionResponse::new()
            .content(text)
            .components(Vec::new())
            .allowed_mentions(mentions(false));
        interaction.edit_response(&ctx.http, edit).await.map(|_| ())
    } else {
        let message = CreateInteractionResponseMessage::new()
            .content(text)
            .allowed_mentions(mentions(false));
        let response = if update {
            CreateInteractionResponse::UpdateMessage(message.components(Vec::new()))
        } else {
            CreateInteractionResponse::Message(message.ephemeral(true))
        };
        interaction.create_response(&ctx.http, response).await
    };
    if let Err(error) = result {
        tracing::warn!(error = %describe(&error), "answering a button click failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_read_back() {
        for choice in Choice::ALL {
            let click = Click::Decide { case: 12, choice };
            assert_eq!(Click::parse(&click.custom_id()), Some(click));
        }
        let confirm = Click::Confirm {
            case: 3,
            choice: Choice::Ban,
        };
        assert_eq!(confirm.custom_id(), "steward:confirm:3:ban");
        assert_eq!(Click::parse("steward:confirm:3:ban"), Some(confirm));
        assert_eq!(
            Click::parse("steward:cancel:3"),
            Some(Click::Cancel { case: 3 })
        );
    }

    #[test]
    fn foreign_or_malformed_ids_are_not_clicks() {
        for id in [
            "",
            "steward",
            "steward:case",
            "steward:case:12",
            "steward:case:0:ban",
            "steward:case:-4:ban",
            "steward:case:twelve:ban",
            "steward:case:12:obliterate",
            "steward:case:12:ban:extra",
            "steward:confirm:12:dismiss",
            "steward:cancel:12:ban",
            "other:case:12:ban",
            "steward:case:99999999999999999999:ban",
            "steward:case:İ:ẞ",
        ] {
            assert_eq!(Click::parse(id), None, "{id}");
        }
    }

    #[test]
    fn a_case_post_has_five_buttons_and_removing_asks_twice() {
        let rows = serde_json::to_value(case_buttons(7)).unwrap();
        let ids: Vec<&str> = rows[0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|button| button["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "steward:case:7:dismiss",
                "steward:case:7:delete",
                "steward:case:7:timeout",
                "steward:case:7:kick",
                "steward:case:7:ban"
            ]
        );
        assert!(Choice::Ban.needs_confirmation() && Choice::Kick.needs_confirmation());
        assert!(!Choice::Delete.needs_confirmation());
        assert_eq!(
            Choice::Timeout.decision(),
            CaseDecision::Timeout { minutes: 60 }
        );
    }
}
