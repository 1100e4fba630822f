//! `report [window] [channel]`: a community's health over a window, for its moderators, and
//! the same report as the weekly digest (`features::digest`).
//!
//! The figures come from [`crate::insights::health::gather`], once for the window and once
//! for the window of the same length before it, so every figure says what changed (a count in
//! percent, a share in points; a figure that cannot be computed says "no data", never a made-up
//! 0). Below them: the oldest unanswered questions and the most negative messages, each with a
//! link where the platform has links, the top helpers, and a short reading written by the
//! model (`reading`), whose `[n]` citations may only name the numbered messages it was shown
//! and become links. The engine failing, being busy or too slow leaves the report without the
//! reading plus one line saying so. Two PNG charts (sentiment and volume; questions and first
//! replies) travel with the text as attachments: `Action::PostWithFiles` at the command's
//! channel. The text is fitted to the platform's message length (`render::fit`), because a
//! message with files is not split by the adapters.

mod channel;
mod reading;
mod render;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::InsightsSettings;
use crate::core::{
    Action, Attachment, Capabilities, ChannelId, CommunityId, Language, Location, Platform,
    ReportWindow, UserId,
};
use crate::features::Context;
use crate::insights::charts::{questions_chart, sentiment_chart, ChartText};
use crate::insights::health::{gather, Window};
use crate::llm::{Engine, Priority};
use crate::prompts::Prompts;
use crate::store::{Store, StoreError};
use crate::strings::Strings;

pub use channel::{channel_id_of, channel_label};
pub use reading::Reading;
pub(crate) use render::item_line;

/// Why a report could not be built (the charts and the reading never fail it).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReportError {
    /// A short stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ReportError::Store(error) => error.label(),
        }
    }
}

/// A built report: its text (fitted to one message) and its two charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub text: String,
    /// `sentiment-<window>.png` and `questions-<window>.png` (fewer if a chart failed).
    pub charts: Vec<Attachment>,
}

impl Report {
    /// The action that posts the report with its charts at `location`.
    pub fn post_at(self, location: Location) -> Action {
        Action::PostWithFiles {
            location,
            text: self.text,
            attachments: self.charts,
        }
    }
}

/// What a report is about and for whom: the community (or one channel of it, with its
/// threads), the language and platform facts of the place it is posted.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub platform: Platform,
    pub community: &'a CommunityId,
    /// `None`: the whole community.
    pub channel: Option<&'a ChannelId>,
    pub strings: Strings,
    pub capabilities: &'a Capabilities,
    /// The weekly digest (its own title) rather than a moderator's `report`.
    pub digest: bool,
    /// Where the report is posted, unless that is the moderators' own channel: messages of
    /// other channels are counted but never quoted, linked or shown to the model there, so a
    /// report in a public channel carries no excerpt of a private one. `None`: quote any.
    pub quote_only_from: Option<&'a ChannelId>,
}

/// What the `report` command answers: the report to post where the command was typed, or a
/// sentence for the moderator alone (an unknown channel, a failure).
#[derive(Debug)]
pub enum ReportReply {
    Post(Report),
    Text(String),
}

/// Builds reports: the store, the engine for the reading, and the `[insights]` settings.
pub struct Reports {
    store: Arc<Store>,
    engine: Arc<dyn Engine>,
    prompts: Arc<Prompts>,
    settings: InsightsSettings,
    /// The languages the model writes well (`[model] languages`): a community speaking
    /// another gets its report without the reading.
    writes: Vec<Language>,
    /// The reading's deadline (`[model] request_timeout`).
    timeout: Duration,
}

impl Reports {
    pub fn new(
        store: Arc<Store>,
        engine: Arc<dyn Engine>,
        prompts: Arc<Prompts>,
        settings: InsightsSettings,
        writes: Vec<Language>,
        timeout: Duration,
    ) -> Self {
        Self {
            store,
            engine,
            prompts,
            settings,
            writes,
            timeout,
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn settings(&self) -> &InsightsSettings {
        &self.settings
    }

    /// How the reading is written: a moderator waiting (`Interactive`) or the digest
    /// (`Background`).
    pub fn reading(&self, priority: Priority) -> Reading<'_> {
        Reading {
            engine: self.engine.as_ref(),
            prompts: &self.prompts,
            deadline: self.timeout,
            priority,
            writes: &self.writes,
        }
    }

    /// The `report` command (the router has checked the invoker moderates): the report of
    /// the window ending `now`, posted where the command was typed.
    pub async fn command(
        &self,
        ctx: &Context,
        window: ReportWindow,
        channel: Option<&str>,
        steward: Option<&UserId>,
        now: SystemTime,
    ) -> ReportReply {
        let (platform, community) = (ctx.location.platform, &ctx.location.community);
        let channel = match channel {
            None => None,
            Some(typed) => match self.resolve_channel(ctx, typed).await {
                Ok(Some(channel)) => Some(channel),
                Ok(None) => {
                    let text = ctx.strings.report_unknown_channel(typed, ctx.prefix());
                    return ReportReply::Text(text);
                }
                Err(error) => return failed(ctx, &error),
            },
        };
        let here = &ctx.location.channel;
        let in_mod_log = ctx.settings.mod_log().as_ref() == Some(here);
        let scope = Scope {
            platform,
            community,
            channel: channel.as_ref(),
            strings: ctx.strings,
            capabilities: ctx.capabilities.as_ref(),
            digest: false,
            quote_only_from: (!in_mod_log).then_some(here),
        };
        let length = Duration::from_secs(u64::from(window.hours) * 3600);
        let window = window_ending(now, length);
        let reading = self.reading(Priority::Interactive);
        match build(
            &self.store,
            Some(&reading),
            &scope,
            window,
            steward,
            &self.settings,
            now,
        )
        .await
        {
            Ok(report) => ReportReply::Post(report),
            Err(error) => failed(ctx, &error),
        }
    }

    /// The channel a moderator named, if it is one of this community's: `here` always is;
    /// another must have recorded messages here (so a report never reads another
    /// community's channel).
    async fn resolve_channel(
        &self,
        ctx: &Context,
        typed: &str,
    ) -> Result<Option<ChannelId>, ReportError> {
        let Some(channel) = channel_id_of(typed, &ctx.location.channel) else {
            return Ok(None);
        };
        if channel == ctx.location.channel {
            return Ok(Some(channel));
        }
        let known = self
            .store
            .active_channels(ctx.location.platform, &ctx.location.community, UNIX_EPOCH)
            .await?;
        Ok(known.contains(&channel).then_some(channel))
    }
}

fn failed(ctx: &Context, error: &ReportError) -> ReportReply {
    tracing::error!(label = error.label(), %error, "building a community report failed");
    ReportReply::Text(ctx.strings.failed().to_string())
}

/// The window of `length` that ends at `to`.
pub fn window_ending(to: SystemTime, length: Duration) -> Window {
    Window {
        from: to.checked_sub(length).unwrap_or(UNIX_EPOCH),
        to,
    }
}

/// The report of `scope` over `window`, compared with the window of the same length before
/// it; answers up to `now` count. `reading` None: no model reading (and no line about it).
pub async fn build(
    store: &Store,
    reading: Option<&Reading<'_>>,
    scope: &Scope<'_>,
    window: Window,
    steward: Option<&UserId>,
    settings: &InsightsSettings,
    now: SystemTime,
) -> Result<Report, ReportError> {
    let (from, to) = (window.from, window.to);
    let length = to.duration_since(from).unwrap_or_default();
    let (platform, community, channel) = (scope.platform, scope.community, scope.channel);
    let after = settings.unanswered_after;
    let (current, buckets) = gather(
        store, platform, community, channel, window, steward, after, now,
    )
    .await?;
    let before_window = window_ending(from, length);
    let (before, _) = gather(
        store,
        platform,
        community,
        channel,
        before_window,
        steward,
        after,
        now,
    )
    .await?;

    let strings = scope.strings;
    let scope_name = match channel {
        Some(channel) => strings.report_channel(&channel_label(store, platform, channel).await?),
        None => strings.report_whole_community().to_string(),
    };
    let label = window_label(length);
    let mut helpers = Vec::new();
    for helper in &current.top_helpers {
        let name = store.user_display_name(platform, &helper.user).await?;
        let name = name
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| helper.user.to_string());
        helpers.push((name, helper.answers));
    }
    let facts = render::Facts {
        scope_name: &scope_name,
        label: &label,
        from,
        to,
        current: &current,
        before: &before,
        helpers: &helpers,
        unanswered_after: after,
    };
    let mut parts = render::parts(scope, &facts);

    // An empty window has nothing to read.
    if let Some(writer) = reading.filter(|_| current.messages > 0) {
        let community_name = store
            .community_name(platform, community)
            .await?
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| community.to_string());
        let shown = render::shown(&current, scope.quote_only_from);
        let links = shown
            .iter()
            .map(|(_, reference)| {
                scope
                    .capabilities
                    .message_link(&reference.location, &reference.message)
            })
            .collect::<Vec<_>>();
        let input = reading::Input {
            community: &community_name,
            language: strings.language,
            figures: &parts.figures,
            shown: &shown,
            links: &links,
        };
        parts.reading = reading::read(writer, &input).await.lines(strings);
    }

    let text = render::fit(&parts, scope.capabilities.max_message_chars, strings);
    let chart_text = strings.chart_text(&scope_name, &label);
    // Each chart says what it shows before the shared scope and window.
    let titled = |what: &str| ChartText {
        title: format!("{what} · {}", chart_text.title),
        ..chart_text.clone()
    };
    let mut charts = Vec::new();
    for (kind, drawn) in [
        (
            "sentiment",
            sentiment_chart(&buckets, &titled(strings.chart_sentiment_title())),
        ),
        (
            "questions",
            questions_chart(&buckets, &titled(strings.chart_questions_title())),
        ),
    ] {
        match drawn {
            Ok(bytes) => charts.push(Attachment {
                name: format!("{kind}-{label}.png"),
                mime: "image/png".to_string(),
                bytes,
            }),
            // The figures are in the text; a missing chart is logged, not fatal.
            Err(error) => tracing::error!(chart = kind, %error, "drawing a report chart failed"),
        }
    }
    Ok(Report { text, charts })
}

/// A window's length as `report` takes it (`7d`, `5h`), or in minutes when it is not whole
/// hours (reports and digests always are).
pub fn window_label(length: Duration) -> String {
    let seconds = length.as_secs();
    match u32::try_from(seconds / 3600) {
        Ok(hours) if seconds % 3600 == 0 && hours > 0 => ReportWindow { hours }.label(),
        _ => format!("{}min", seconds / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_labels() {
        assert_eq!(window_label(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(window_label(Duration::from_secs(5 * 3600)), "5h");
        assert_eq!(window_label(Duration::from_secs(90 * 60)), "90min");
        assert_eq!(window_label(Duration::ZERO), "0min");
    }
}
