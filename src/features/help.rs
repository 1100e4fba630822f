//! `help`: what Steward can do, written the way commands are written on this platform.

use crate::features::Context;

/// The help text for `ctx`; `report_emoji` is the reaction that reports a message, when
/// reports are on.
pub fn help(ctx: &Context, bot_name: &str, report_emoji: Option<&str>) -> String {
    ctx.strings.help(bot_name, ctx.prefix(), report_emoji)
}
