//! Feedback on Steward's answers. A member's 👍 or 👎 reaction on one of Steward's own messages
//! is a vote on that answer: one per member (a later reaction replaces it, removing the
//! reaction removes the vote). Reactions on anyone else's message, and reactions by Steward
//! itself or another bot, never count. `kb feedback` (moderators) reports the share of 👍 per
//! day or week and the worst-rated answers with their text and sources line; `steward kb
//! feedback` prints the same report.
//!
//! Which messages are Steward's comes from the store: adapters deliver Steward's own posts
//! (Discord's gateway echoes them, the Matrix sync returns them) and the router records them,
//! with the user id each adapter registered as Steward's ([`Outcome::SelfUnknown`] until then).

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::core::{CommunityId, Language, Location, MessageId, Platform, Reaction, UserId};
use crate::features::gaps::days_before;
use crate::features::Context;
use crate::store::{DayVotes, Store, StoreError, Vote};
use crate::strings::Strings;

/// How many worst-rated answers the report lists.
pub const WORST_ANSWERS: u32 = 5;
/// Windows up to this many days are reported per day; longer ones per week.
const DAILY_UP_TO: u32 = 31;
/// An answer's first line and its sources line are shortened to these many characters.
const EXCERPT_CHARS: usize = 160;
const SOURCES_CHARS: usize = 240;

/// What became of a reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A vote was recorded (replacing the member's earlier one, if any).
    Recorded,
    /// The member's vote was removed.
    Removed,
    /// A 👍/👎 was removed that was not the member's recorded vote.
    NothingToRemove,
    /// Neither 👍 nor 👎.
    NotAVote,
    /// Not on one of Steward's own messages (a member's, another bot's, or a message the store
    /// never recorded).
    NotAnAnswer,
    /// By Steward itself or by another bot.
    ByABot,
    /// The platform's adapter has not said which user Steward is there.
    SelfUnknown,
}

/// +1 for 👍, -1 for 👎, `None` for anything else. Clients differ: the variation selectors
/// (U+FE0E, U+FE0F) and skin tones are ignored, and Matrix clients that send a reaction's text
/// may send the shortcode (`:+1:`, `:thumbsup:`).
pub fn vote_value(emoji: &str) -> Option<i64> {
    let bare: String = emoji
        .trim()
        .chars()
        .filter(|&c| !matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}'))
        .collect();
    match bare.as_str() {
        "👍" | "+1" | ":+1:" | ":thumbsup:" | ":thumbs_up:" => Some(1),
        "👎" | "-1" | ":-1:" | ":thumbsdown:" | ":thumbs_down:" => Some(-1),
        _ => None,
    }
}

/// Handles a reaction added (`added`) or removed. `own` is Steward's user on the reaction's
/// platform. Only a 👍/👎 by someone other than a bot on a message Steward posted is recorded.
pub async fn reaction(
    store: &Store,
    own: Option<&UserId>,
    reaction: &Reaction,
    added: bool,
    now: SystemTime,
) -> Result<Outcome, StoreError> {
    let Some(value) = vote_value(&reaction.emoji) else {
        return Ok(Outcome::NotAVote);
    };
    let Some(own) = own else {
        return Ok(Outcome::SelfUnknown);
    };
    if &reaction.user == own {
        return Ok(Outcome::ByABot);
    }
    let platform = reaction.location.platform;
    if !added {
        // Only a recorded vote can be removed, so nothing else needs checking.
        let removed = store
            .remove_vote(platform, &reaction.message, &reaction.user, value)
            .await?;
        return Ok(if removed {
            Outcome::Removed
        } else {
            Outcome::NothingToRemove
        });
    }
    let answer = store.message(platform, &reaction.message).await?;
    let Some(answer) = answer.filter(|message| &message.author == own) else {
        return Ok(Outcome::NotAnAnswer);
    };
    if store.is_known_bot(platform, &reaction.user).await? {
        return Ok(Outcome::ByABot);
    }
    let vote = Vote {
        location: answer.location,
        message: answer.id,
        user: reaction.user.clone(),
        value,
        at: now,
    };
    store.record_vote(&vote).await?;
    Ok(Outcome::Recorded)
}

/// Handles `kb feedback [days]`; the router has checked the invoker is a moderator. Answers are
/// linked where the platform has links.
pub async fn report(store: &Store, ctx: &Context, days: u32) -> String {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let link =
        |location: &Location, message: &MessageId| ctx.capabilities.message_link(location, message);
    let now = SystemTime::now();
    match report_text(store, platform, community, days, ctx.strings, &link, now).await {
        Ok(text) => text,
        Err(error) => {
            tracing::error!(label = error.label(), %error, "kb feedback failed");
            ctx.strings.failed().to_string()
        }
    }
}

/// The feedback on `community`'s answers in the `days` days before `now`: the share of 👍
/// overall and per day (per week for windows over a month), then the worst-rated answers,
/// each shown by `link` (else its message id) with its first line and sources line.
pub async fn report_text(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    days: u32,
    strings: Strings,
    link: &(dyn Fn(&Location, &MessageId) -> Option<String> + Sync),
    now: SystemTime,
) -> Result<String, StoreError> {
    let since = days_before(now, days);
    let per_day = store.votes_per_day(platform, community, since).await?;
    let (up, down) = per_day
        .iter()
        .fold((0, 0), |(up, down), day| (up + day.up, down + day.down));
    if up + down == 0 {
        return Ok(strings.feedback_none(days));
    }
    let mut out = strings.feedback_summary(days, up, down, percent(up, down));
    let weekly = days > DAILY_UP_TO;
    let _ = writeln!(out, "{}", strings.feedback_periods(weekly));
    for (first_day, up, down) in periods(&per_day, weekly) {
        let line = strings.feedback_period(&date(first_day), up, down, percent(up, down));
        let _ = writeln!(out, "- {line}");
    }

    let worst = store
        .worst_answers(platform, community, since, WORST_ANSWERS)
        .await?;
    let _ = writeln!(out, "{}", strings.feedback_worst());
    if worst.is_empty() {
        let _ = writeln!(out, "{}", strings.feedback_no_down());
    }
    for (rank, answer) in worst.iter().enumerate() {
        let place =
            link(&answer.location, &answer.message).unwrap_or_else(|| answer.message.to_string());
        let line = strings.feedback_rated(rank + 1, answer.up, answer.down, &place, answer.deleted);
        let _ = writeln!(out, "{line}");
        let (first, sources) = excerpt(&answer.text);
        for quoted in first.into_iter().chain(sources) {
            let _ = writeln!(out, "   > {quoted}");
        }
    }
    Ok(out)
}

/// The share of 👍 in percent, rounded.
fn percent(up: u64, down: u64) -> u64 {
    let total = up + down;
    if total == 0 {
        return 0;
    }
    (up * 100 + total / 2) / total
}

/// Votes per day, or summed per week (weeks start on Monday): (first day, up, down), oldest
/// first. `per_day` is ordered by day.
fn periods(per_day: &[DayVotes], weekly: bool) -> Vec<(i64, u64, u64)> {
    let mut out: Vec<(i64, u64, u64)> = Vec::new();
    for day in per_day {
        // 1970-01-01 was a Thursday: day 4 is the first Monday.
        let start = if weekly {
            day.day - (day.day + 3).rem_euclid(7)
        } else {
            day.day
        };
        match out.last_mut() {
            Some(last) if last.0 == start => {
                last.1 += day.up;
                last.2 += day.down;
            }
            _ => out.push((start, day.up, day.down)),
        }
    }
    out
}

/// The date of day `day` since 1970-01-01 (UTC), as `YYYY-MM-DD`.
fn date(day: i64) -> String {
    let (year, month, day_of_month) = crate::text::civil_date(day);
    format!("{year:04}-{month:02}-{day_of_month:02}")
}

/// An answer's first line of text and its sources line (the last line that starts with a
/// sources header, in either language), each shortened.
fn excerpt(text: &str) -> (Option<String>, Option<String>) {
    let headers = [Language::English, Language::Chinese].map(|l| Strings::new(l).sources_header());
    let is_sources = |line: &str| headers.iter().any(|header| line.starts_with(header));
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.trim_start_matches('>').trim())
        .filter(|line| !line.is_empty())
        .collect();
    let first = lines
        .iter()
        .find(|line| !is_sources(line))
        .map(|line| shorten(line, EXCERPT_CHARS));
    let sources = lines
        .iter()
        .rev()
        .find(|line| is_sources(line))
        .map(|line| shorten(line, SOURCES_CHARS));
    (first, sources)
}

/// `text` cut to at most `limit` characters, marked `…` when cut.
fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbs_in_every_form_are_votes() {
        let cases = [
            ("👍", Some(1)),
            ("👍\u{FE0F}", Some(1)),
            ("👍🏽", Some(1)),
            ("👍🏿\u{FE0F}", Some(1)),
            (":+1:", Some(1)),
            (" :thumbsup: ", Some(1)),
            ("👎", Some(-1)),
            ("👎\u{FE0F}", Some(-1)),
            ("👎🏻", Some(-1)),
            (":-1:", Some(-1)),
            ("🚩", None),
            ("👍👍", None),
            ("", None),
            ("<:thumbsup:1234>", None),
        ];
        for (emoji, expected) in cases {
            assert_eq!(vote_value(emoji), expected, "{emoji:?}");
        }
    }

    #[test]
    fn dates_and_weeks() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(59), "1970-03-01");
        assert_eq!(date(19_675), "2023-11-14");
        assert_eq!(date(11_016), "2000-02-29");
        let day = |day, up, down| DayVotes { day, up, down };
        // 2023-11-13 (day 19674) was a Monday.
        let votes = [
            day(19_673, 1, 0),
            day(19_674, 2, 1),
            day(19_680, 0, 3),
            day(19_681, 1, 0),
        ];
        assert_eq!(
            periods(&votes, false),
            [
                (19_673, 1, 0),
                (19_674, 2, 1),
                (19_680, 0, 3),
                (19_681, 1, 0)
            ]
        );
        assert_eq!(
            periods(&votes, true),
            [(19_667, 1, 0), (19_674, 2, 4), (19_681, 1, 0)]
        );
        assert_eq!(percent(2, 1), 67);
        assert_eq!(percent(0, 3), 0);
        assert_eq!(percent(0, 0), 0);
    }

    #[test]
    fn excerpts_keep_the_first_line_and_the_sources() {
        let text =
            "Use port 8428 [1].\nIt is the default.\n\nSources: [1] `en/install.md › Docker`";
        assert_eq!(
            excerpt(text),
            (
                Some("Use port 8428 [1].".into()),
                Some("Sources: [1] `en/install.md › Docker`".into())
            )
        );
        let quoted = "社区文档中的相关内容：\n> 默认端口 [1]\n\n来源：[1] `zh/a.md`";
        assert_eq!(excerpt(quoted).1.as_deref(), Some("来源：[1] `zh/a.md`"));
        assert_eq!(excerpt("Just text").1, None);
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
