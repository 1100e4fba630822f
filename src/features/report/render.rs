//! The report's text: the title, the figures with what changed, the numbered lists of
//! unanswered questions and negative messages (with links), the top helpers and the reading,
//! fitted to one message of the platform.
//!
//! The messages are numbered once (unanswered questions first, then negative messages) and
//! the same numbers are shown to the model, so a `[3]` in the reading is item 3 of the lists.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Scope;
use crate::core::{Capabilities, ChannelId};
use crate::features::hygiene::sanitize_generated;
use crate::insights::health::{HealthMetrics, MessageRef};
use crate::knowledge::cite::shorten;
use crate::strings::{Figure, Strings};
use crate::text::civil_date;

/// At most this many messages in each list (and shown to the model).
pub(super) const ITEMS_PER_LIST: usize = 5;
/// A quoted message is cut to this many characters.
const EXCERPT_CHARS: usize = 100;

/// Which list a numbered message is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemKind {
    Unanswered,
    Negative,
}

/// What the text is made of, gathered by `build`.
pub(super) struct Facts<'a> {
    /// "whole community" or "channel #general".
    pub scope_name: &'a str,
    /// The window as typed (`7d`).
    pub label: &'a str,
    pub from: SystemTime,
    pub to: SystemTime,
    pub current: &'a HealthMetrics,
    pub before: &'a HealthMetrics,
    /// The top helpers' display names and first replies.
    pub helpers: &'a [(String, u64)],
    pub unanswered_after: Duration,
}

/// The report's lines, by section, before fitting.
#[derive(Debug, Default)]
pub(super) struct Parts {
    pub title: String,
    /// Said when the window had no messages.
    pub empty: Option<String>,
    pub figures: Vec<String>,
    /// Each list's header and its numbered, linked lines.
    pub lists: Vec<(String, Vec<String>)>,
    pub helpers: Option<String>,
    /// The reading, or the line saying it is unavailable; empty without one.
    pub reading: Vec<String>,
}

/// The numbered messages, in number order (1-based): unanswered questions, then the most
/// negative messages.
pub(super) fn shown<'a>(
    current: &'a HealthMetrics,
    quote_only_from: Option<&ChannelId>,
) -> Vec<(ItemKind, &'a MessageRef)> {
    let quotable = |reference: &&MessageRef| {
        quote_only_from.is_none_or(|here| &reference.location.channel == here)
    };
    let unanswered = current
        .unanswered_old
        .iter()
        .filter(quotable)
        .take(ITEMS_PER_LIST);
    let negative = current
        .negative_examples
        .iter()
        .filter(quotable)
        .take(ITEMS_PER_LIST);
    unanswered
        .map(|reference| (ItemKind::Unanswered, reference))
        .chain(negative.map(|reference| (ItemKind::Negative, reference)))
        .collect()
}

/// Every section but the reading.
pub(super) fn parts(scope: &Scope<'_>, facts: &Facts<'_>) -> Parts {
    let strings = scope.strings;
    let current = facts.current;
    let title = strings.report_title(
        scope.digest,
        facts.scope_name,
        facts.label,
        &date_time(facts.from),
        &date_time(facts.to),
    );
    let empty = (current.messages == 0).then(|| strings.report_no_messages().to_string());
    let (mut unanswered, mut negative) = (Vec::new(), Vec::new());
    for (index, (kind, reference)) in shown(current, scope.quote_only_from)
        .into_iter()
        .enumerate()
    {
        let line = item_line(index + 1, reference, scope.capabilities);
        match kind {
            ItemKind::Unanswered => unanswered.push(line),
            ItemKind::Negative => negative.push(line),
        }
    }
    let mut lists = Vec::new();
    if !unanswered.is_empty() {
        let older_than = strings.duration(facts.unanswered_after.as_secs());
        let header = strings.report_unanswered(current.unanswered_old_total, &older_than);
        lists.push((header, unanswered));
    }
    if !negative.is_empty() {
        lists.push((strings.report_negative().to_string(), negative));
    }
    let helpers = (!facts.helpers.is_empty()).then(|| {
        let names: Vec<String> = facts
            .helpers
            .iter()
            .map(|(name, answers)| format!("{} ({answers})", sanitize_generated(&one_line(name))))
            .collect();
        strings.report_helpers(&names.join(", "))
    });
    Parts {
        title,
        empty,
        figures: figures(strings, current, facts.before),
        lists,
        helpers,
        reading: Vec::new(),
    }
}

/// The figures, each with what changed since the window before.
fn figures(s: Strings, now: &HealthMetrics, before: &HealthMetrics) -> Vec<String> {
    let count = |figure: Figure, now: u64, before: u64| {
        s.figure_line(figure, &now.to_string(), &count_change(s, now, before))
    };
    let no_data = || s.no_data().to_string();
    let answered_now = share(now.answered, now.questions);
    let answered = answered_now.map_or_else(no_data, |share| {
        s.answered_value(
            &s.percent(percent(share)),
            now.answered_by_members,
            now.answered_by_moderators,
            now.answered_by_steward,
        )
    });
    let answered_change = share_change(s, answered_now, share(before.answered, before.questions));
    let (reply_now, reply_before) = (
        now.median_first_human_reply,
        before.median_first_human_reply,
    );
    let first_reply = reply_now.map_or_else(no_data, |time| s.duration(time.as_secs()));
    let first_reply_change = match (reply_now, reply_before) {
        (_, None) => s.change_no_data().to_string(),
        (Some(a), Some(b)) if a.as_secs() / 60 == b.as_secs() / 60 => s.change_none().to_string(),
        (_, Some(b)) => s.change_was(&s.duration(b.as_secs())),
    };
    let negative = now.negative_share.map_or_else(no_data, |share| {
        s.negative_value(&s.percent(percent(share)), now.scored)
    });
    let satisfaction = now.satisfaction.map_or_else(no_data, |share| {
        s.satisfaction_value(&s.percent(percent(share)), now.votes)
    });
    vec![
        count(Figure::Messages, now.messages, before.messages),
        count(
            Figure::ActiveMembers,
            now.active_members,
            before.active_members,
        ),
        count(Figure::NewMembers, now.new_members, before.new_members),
        count(Figure::Threads, now.threads, before.threads),
        count(Figure::Questions, now.questions, before.questions),
        s.figure_line(Figure::Answered, &answered, &answered_change),
        s.figure_line(Figure::FirstReply, &first_reply, &first_reply_change),
        s.figure_line(
            Figure::Negative,
            &negative,
            &share_change(s, now.negative_share, before.negative_share),
        ),
        s.figure_line(
            Figure::Satisfaction,
            &satisfaction,
            &share_change(s, now.satisfaction, before.satisfaction),
        ),
    ]
}

/// `part / whole`, `None` when `whole` is 0.
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// A share in whole percent.
fn percent(share: f64) -> i64 {
    (share * 100.0).round() as i64
}

/// What changed for a count: a signed percentage; from 0, what it was.
fn count_change(s: Strings, now: u64, before: u64) -> String {
    if now == before {
        return s.change_none().to_string();
    }
    if before == 0 {
        return s.change_was("0");
    }
    let change = (now as f64 - before as f64) / before as f64 * 100.0;
    s.change_percent(change.round() as i64)
}

/// What changed for a share: signed points; a share missing before says so.
fn share_change(s: Strings, now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (_, None) => s.change_no_data().to_string(),
        (Some(now), Some(before)) => match percent(now) - percent(before) {
            0 => s.change_none().to_string(),
            points => s.change_points(points),
        },
        (None, Some(before)) => s.change_was(&s.percent(percent(before))),
    }
}

/// One numbered message: its number (a link where the platform has links) and its excerpt,
/// made safe to quote.
pub(crate) fn item_line(
    number: usize,
    reference: &MessageRef,
    capabilities: &Capabilities,
) -> String {
    let excerpt = sanitize_generated(&shorten(&one_line(&reference.excerpt), EXCERPT_CHARS));
    match capabilities.message_link(&reference.location, &reference.message) {
        Some(link) => format!("- [{number}]({link}) “{excerpt}”"),
        None => format!("- [{number}] “{excerpt}”"),
    }
}

/// `text` on one line, runs of white space as one space.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `YYYY-MM-DD HH:MM` (UTC).
fn date_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_date((seconds / 86_400) as i64);
    let minutes = seconds % 86_400 / 60;
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02}",
        minutes / 60,
        minutes % 60
    )
}

/// The text in at most `limit` characters: the lists shrink first (5, 3, 1, no items); if
/// that is not enough, whole lines are kept while they fit and a note says it was shortened.
pub(super) fn fit(parts: &Parts, limit: usize, strings: Strings) -> String {
    for items in [ITEMS_PER_LIST, 3, 1, 0] {
        let text = compose(parts, items);
        if text.chars().count() <= limit {
            return text;
        }
    }
    let note = strings.report_shortened();
    let budget = limit.saturating_sub(note.chars().count() + 1);
    let full = compose(parts, 0);
    let mut kept = String::new();
    let mut used = 0;
    for line in full.lines() {
        let chars = line.chars().count() + 1;
        if used + chars > budget {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
        used += chars;
    }
    if kept.is_empty() {
        kept = full.chars().take(budget).collect();
        kept.push('\n');
    }
    kept.push_str(note);
    kept.chars().take(limit).collect()
}

/// The sections as lines, with at most `items` messages per list (none: no list).
fn compose(parts: &Parts, items: usize) -> String {
    let mut lines = vec![parts.title.clone()];
    lines.extend(parts.empty.iter().cloned());
    lines.extend(parts.figures.iter().cloned());
    if items > 0 {
        for (header, list) in &parts.lists {
            lines.push(header.clone());
            lines.extend(list.iter().take(items).cloned());
        }
    }
    lines.extend(parts.helpers.iter().cloned());
    lines.extend(parts.reading.iter().cloned());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Language;

    const EN: Strings = Strings {
        language: Language::English,
    };

    #[test]
    fn changes_are_signed_and_never_invent_a_zero() {
        assert_eq!(count_change(EN, 120, 100), "+20 %");
        assert_eq!(count_change(EN, 50, 100), "-50 %");
        assert_eq!(count_change(EN, 7, 7), "no change");
        assert_eq!(count_change(EN, 3, 0), "before: 0");
        assert_eq!(share_change(EN, Some(0.5), Some(0.25)), "+25 points");
        assert_eq!(share_change(EN, Some(0.2), Some(0.21)), "-1 point");
        assert_eq!(share_change(EN, Some(0.2), None), "no data before");
        assert_eq!(share_change(EN, None, Some(0.4)), "before: 40 %");
        let zh = Strings::new(Language::Chinese);
        assert_eq!(share_change(zh, Some(0.5), Some(0.25)), "+25 个百分点");
    }

    #[test]
    fn a_report_outside_the_moderators_channel_quotes_only_its_own_channel() {
        use crate::core::{CommunityId, Location, MessageId, Platform};
        use crate::insights::health::{compute, Inputs, Window};
        let now = UNIX_EPOCH + Duration::from_secs(20_000 * 86_400);
        let window = Window {
            from: now - Duration::from_secs(86_400),
            to: now,
        };
        let inputs = Inputs {
            messages: &[],
            first_time_posters: &[],
            steward: None,
            votes_up: 0,
            votes_down: 0,
            now,
            unanswered_after: Duration::from_secs(3600),
        };
        let mut current = compute(window, &inputs);
        let reference = |channel: &str, id: &str| MessageRef {
            location: Location {
                platform: Platform::Discord,
                community: CommunityId::new("guild"),
                channel: ChannelId::new(channel),
                thread: None,
            },
            message: MessageId::new(id),
            excerpt: format!("text of {id}"),
        };
        current.unanswered_old = vec![reference("public", "1"), reference("private", "2")];
        current.negative_examples = vec![reference("private", "3"), reference("public", "4")];
        let public = ChannelId::new("public");
        let ids = |shown: Vec<(ItemKind, &MessageRef)>| -> Vec<String> {
            shown.iter().map(|(_, r)| r.message.to_string()).collect()
        };
        assert_eq!(ids(shown(&current, Some(&public))), ["1", "4"]);
        assert_eq!(ids(shown(&current, None)), ["1", "2", "3", "4"]);
    }

    #[test]
    fn dates_are_utc() {
        let time = UNIX_EPOCH + Duration::from_secs(19_723 * 86_400 + 9 * 3600 + 5 * 60);
        assert_eq!(date_time(time), "2024-01-01 09:05");
    }

    #[test]
    fn long_reports_shrink_their_lists_then_cut_whole_lines() {
        let item = |n: usize| format!("- [{n}](https://chat.example/{n}) “{}”", "x".repeat(80));
        let parts = Parts {
            title: "Title".into(),
            figures: vec!["- Messages: 5 (no change)".into()],
            lists: vec![("Negative:".into(), (1..=5).map(item).collect())],
            reading: vec!["Reading:".into(), "y".repeat(300)],
            ..Parts::default()
        };
        let full = fit(&parts, usize::MAX, EN);
        assert!(full.contains("[5]"), "{full}");
        let shorter = fit(&parts, 800, EN);
        assert!(shorter.chars().count() <= 800, "{shorter}");
        assert!(
            shorter.contains("[1]") && !shorter.contains("[5]"),
            "{shorter}"
        );
        assert!(
            shorter.ends_with(&"y".repeat(300)),
            "the reading stays: {shorter}"
        );
        let cut = fit(&parts, 120, EN);
        assert!(cut.chars().count() <= 120, "{cut}");
        assert!(
            cut.starts_with("Title\n") && cut.ends_with(EN.report_shortened()),
            "{cut}"
        );
    }
}
