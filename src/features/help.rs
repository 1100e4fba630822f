//! `help`: what Steward can do.

use crate::core::{Action, Body, Location, MessageId, Reply};
use crate::strings::Strings;

/// The help reply for `location`.
pub fn help(
    strings: Strings,
    bot_name: &str,
    prefix: &str,
    report_emoji: Option<&str>,
    location: &Location,
    in_reply_to: Option<MessageId>,
) -> Action {
    Action::Reply(Reply {
        location: location.clone(),
        in_reply_to,
        body: Body::Text(strings.help(bot_name, prefix, report_emoji)),
        only_invoker: true,
    })
}
