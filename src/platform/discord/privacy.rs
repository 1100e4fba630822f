//! The members'-data slash commands: `/privacy` (the notice, opt-out and opt-in, export, a
//! channel switched off or on by moderators, a member forgotten by moderators) and `/forget-me`.
//! Like every command they only turn their options into a core [`Command`] (the same values the
//! text forms `privacy ...` and `forget-me [confirm]` parse to) and let the router decide;
//! replies are private (see `commands::invoke`).

use serenity::all::UserId;

use super::commands::{invoke, Ctx};
use super::error::HandlerError;
use crate::core::{Command, PrivacyCommand};

/// What `/privacy` does; no choice shows the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum PrivacyAction {
    #[name = "notice"]
    Notice,
    #[name = "opt-out"]
    OptOut,
    #[name = "opt-in"]
    OptIn,
    #[name = "export"]
    Export,
    #[name = "channel-off"]
    ChannelOff,
    #[name = "channel-on"]
    ChannelOn,
    #[name = "forget"]
    Forget,
}

/// What Steward stores here; opt out or in, export your data (moderators: channel, forget)
#[poise::command(slash_command, guild_only)]
pub async fn privacy(
    ctx: Ctx<'_>,
    #[description = "notice, opt-out, opt-in, export; moderators: channel-off, channel-on, forget"]
    action: Option<PrivacyAction>,
    #[description = "forget: the member whose data to delete (moderators)"] member: Option<UserId>,
    #[description = "forget: set after a first forget (within 5 minutes) to delete for real"]
    confirm: Option<bool>,
) -> Result<(), HandlerError> {
    let command = privacy_command(action, member, confirm.unwrap_or(false));
    invoke(ctx, command).await
}

/// Delete everything Steward stores about you in this server (asks to confirm first)
#[poise::command(slash_command, guild_only, rename = "forget-me")]
pub async fn forget_me(
    ctx: Ctx<'_>,
    #[description = "Set after a first /forget-me (within 5 minutes) to delete for real"]
    confirm: Option<bool>,
) -> Result<(), HandlerError> {
    let confirm = confirm.unwrap_or(false);
    invoke(ctx, Command::Privacy(PrivacyCommand::ForgetMe { confirm })).await
}

/// `/privacy` options as a command. A member belongs only to `forget`, and `forget` needs one;
/// `confirm` only confirms a `forget`. Anything else shows the usage.
fn privacy_command(
    action: Option<PrivacyAction>,
    member: Option<UserId>,
    confirm: bool,
) -> Command {
    let privacy = match (action.unwrap_or(PrivacyAction::Notice), member) {
        (PrivacyAction::Forget, Some(member)) => PrivacyCommand::Forget {
            user: member.to_string(),
            confirm,
        },
        (_, Some(_)) | (PrivacyAction::Forget, None) => return bad(),
        _ if confirm => return bad(),
        (PrivacyAction::Notice, None) => PrivacyCommand::Notice,
        (PrivacyAction::OptOut, None) => PrivacyCommand::OptOut,
        (PrivacyAction::OptIn, None) => PrivacyCommand::OptIn,
        (PrivacyAction::Export, None) => PrivacyCommand::Export,
        (PrivacyAction::ChannelOff, None) => PrivacyCommand::Channel { recorded: false },
        (PrivacyAction::ChannelOn, None) => PrivacyCommand::Channel { recorded: true },
    };
    Command::Privacy(privacy)
}

fn bad() -> Command {
    Command::BadArguments { command: "privacy" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_options_become_commands() {
        use PrivacyAction as A;
        use PrivacyCommand as P;
        let member = Some(UserId::new(500));
        let privacy = Command::Privacy;
        let forget = |confirm| {
            privacy(P::Forget {
                user: "500".into(),
                confirm,
            })
        };
        let cases = [
            (None, None, false, privacy(P::Notice)),
            (Some(A::Notice), None, false, privacy(P::Notice)),
            (Some(A::OptOut), None, false, privacy(P::OptOut)),
            (Some(A::OptIn), None, false, privacy(P::OptIn)),
            (Some(A::Export), None, false, privacy(P::Export)),
            (
                Some(A::ChannelOff),
                None,
                false,
                privacy(P::Channel { recorded: false }),
            ),
            (
                Some(A::ChannelOn),
                None,
                false,
                privacy(P::Channel { recorded: true }),
            ),
            (Some(A::Forget), member, false, forget(false)),
            (Some(A::Forget), member, true, forget(true)),
            (Some(A::Forget), None, false, bad()),
            (Some(A::Forget), None, true, bad()),
            (Some(A::Export), member, false, bad()),
            (None, member, false, bad()),
            (Some(A::OptOut), None, true, bad()),
        ];
        for (action, member, confirm, expected) in cases {
            assert_eq!(
                privacy_command(action, member, confirm),
                expected,
                "{action:?} {member:?} {confirm}"
            );
        }
    }
}
