//! `/report [window] [channel]`: the community's health report (moderators): activity,
//! questions and how they were answered, sentiment, with two charts. Like every command it only
//! turns its options into a core [`Command`] (the value the text form `report 7d` parses to:
//! the window is read by [`ReportWindow::parse`]) and lets the router decide, moderators only.
//!
//! The report is one channel message with the charts attached (`files`), posted where the
//! command was typed, for everyone there. The command itself is deferred privately at once
//! (building a report takes a while); once the report is posted that "thinking…" response is
//! removed ([`close_response`]): the post is the answer. A refusal or a bad window is answered
//! privately as usual.

use serenity::all::{ChannelId, CommandInteraction, Http};

use super::commands::{defer, invoke, Ctx};
use super::error::{describe, HandlerError};
use crate::core::{Command, ReportWindow};

/// Community health report with charts: activity, questions, sentiment (moderators)
#[poise::command(slash_command, guild_only)]
pub async fn report(
    ctx: Ctx<'_>,
    #[description = "How far back: 24h, 7d (default) or 4w; 1h to 365d"] window: Option<String>,
    #[description = "Only this channel and its threads (default: the whole server)"]
    #[channel_types("Text", "News")]
    channel: Option<ChannelId>,
) -> Result<(), HandlerError> {
    invoke(ctx, report_command(window.as_deref(), channel)).await
}

/// `/report` options as a command. The window is read by the core's own parser, so `/report
/// 7d` and `report 7d` mean the same; a window that does not parse shows the usage. The
/// channel option is a channel id, which the feature resolves like a typed one.
fn report_command(window: Option<&str>, channel: Option<ChannelId>) -> Command {
    let window = match window.map(str::trim) {
        None | Some("") => None,
        Some(text) => match ReportWindow::parse(text) {
            Some(window) => Some(window),
            None => return bad(),
        },
    };
    Command::Report {
        window,
        channel: channel.map(|channel| channel.to_string()),
    }
}

fn bad() -> Command {
    Command::BadArguments { command: "report" }
}

/// Ends a command whose only answer was a post in its channel (a report): the interaction
/// still shows "thinking…" (or nothing yet, and Discord would call the command failed), so it
/// is acknowledged if need be and that response removed.
pub(super) async fn close_response(
    http: &Http,
    interaction: &CommandInteraction,
    responded: bool,
    private: bool,
) {
    if !responded {
        if let Err(error) = defer(http, interaction, private).await {
            tracing::warn!(error = %describe(&error), "could not acknowledge a command answered in its channel");
            return;
        }
    }
    if let Err(error) = interaction.delete_response(http).await {
        tracing::warn!(error = %describe(&error), "could not remove the deferred response of a command answered in its channel");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_options_become_commands() {
        assert_eq!(
            report_command(None, None),
            Command::Report {
                window: None,
                channel: None
            }
        );
        assert_eq!(
            report_command(Some("  "), Some(ChannelId::new(300))),
            Command::Report {
                window: None,
                channel: Some("300".into())
            }
        );
        let cases = [("7d", 168), ("24h", 24), ("4w", 672), (" 7D ", 168)];
        for (text, hours) in cases {
            match report_command(Some(text), Some(ChannelId::new(300))) {
                Command::Report {
                    window: Some(window),
                    channel: Some(channel),
                } => {
                    assert_eq!(window.hours, hours, "{text}");
                    assert_eq!(channel, "300");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        for text in ["-3d", "0d", "9999y", "abc", "7d 24h", "7d general"] {
            assert_eq!(report_command(Some(text), None), bad(), "{text}");
        }
    }
}
