//! `kb gaps`: the questions Steward could not answer, grouped by similarity
//! ([`crate::knowledge::gaps`]), most asked first. Moderators read it in chat; `steward kb
//! gaps` prints the same text (in English) on the command line.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::core::{CommunityId, Platform};
use crate::features::Context;
use crate::knowledge::gaps::{self, GapGroup};
use crate::store::{Store, StoreError};
use crate::strings::Strings;

/// Handles `kb gaps [days]`; the router has checked the invoker is a moderator.
pub async fn report(store: &Store, ctx: &Context, days: u32) -> String {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    match report_text(
        store,
        platform,
        community,
        days,
        ctx.strings,
        SystemTime::now(),
    )
    .await
    {
        Ok(text) => text,
        Err(error) => {
            tracing::error!(label = error.label(), %error, "kb gaps failed");
            ctx.strings.failed().to_string()
        }
    }
}

/// The questions of `community` nobody could answer in the `days` days before `now`, grouped
/// and rendered.
pub async fn report_text(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    days: u32,
    strings: Strings,
    now: SystemTime,
) -> Result<String, StoreError> {
    let recorded = store
        .kb_gaps(platform, community, days_before(now, days))
        .await?;
    let groups = gaps::group(&recorded, gaps::SIMILAR);
    Ok(render(&groups, days, strings))
}

/// The grouped questions, one line each with its count, other phrasings under it.
pub fn render(groups: &[GapGroup], days: u32, strings: Strings) -> String {
    if groups.is_empty() {
        return strings.gaps_none(days);
    }
    let mut out = strings.gaps_header(days);
    let also = strings.gaps_also();
    for group in groups {
        let _ = writeln!(out, "{:>4} × {}", group.count, group.question);
        for example in &group.examples {
            let _ = writeln!(out, "       {also} {example}");
        }
    }
    out
}

/// `days` whole days before `now` (the epoch if that is earlier).
pub(crate) fn days_before(now: SystemTime, days: u32) -> SystemTime {
    now.checked_sub(Duration::from_secs(u64::from(days) * 86_400))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Language;

    fn group(question: &str, count: usize, examples: &[&str]) -> GapGroup {
        GapGroup {
            question: question.into(),
            count,
            last_asked: SystemTime::UNIX_EPOCH,
            examples: examples.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn the_command_line_layout_in_both_languages() {
        let groups = [
            group(
                "How do I install on Linux?",
                3,
                &["Installing on Linux Mint"],
            ),
            group("who won the cup?", 1, &[]),
        ];
        assert_eq!(
            render(&groups, 7, Strings::new(Language::English)),
            "Unanswered questions, last 7 days (most asked first):\n\
             \x20  3 × How do I install on Linux?\n\
             \x20      also: Installing on Linux Mint\n\
             \x20  1 × who won the cup?\n"
        );
        let chinese = render(&groups, 7, Strings::new(Language::Chinese));
        assert!(
            chinese.starts_with("最近 7 天内未能回答的问题"),
            "{chinese}"
        );
        assert!(
            chinese.contains("也问过： Installing on Linux Mint"),
            "{chinese}"
        );
        assert_eq!(
            render(&[], 30, Strings::new(Language::English)),
            "No unanswered questions in the last 30 days.\n"
        );
    }
}
