//! What Steward says in the moderators' knowledge reports: `kb gaps` (questions it could not
//! answer) and `kb feedback` (members' 👍/👎 on its answers). The command line prints the same
//! English text.

use super::Strings;
use crate::core::Language;

impl Strings {
    /// `kb gaps` found nothing.
    pub fn gaps_none(&self, days: u32) -> String {
        match self.language {
            Language::English => format!("No unanswered questions in the last {days} days.\n"),
            Language::Chinese => format!("最近 {days} 天内没有未能回答的问题。\n"),
        }
    }

    /// The first line of `kb gaps`.
    pub fn gaps_header(&self, days: u32) -> String {
        match self.language {
            Language::English => {
                format!("Unanswered questions, last {days} days (most asked first):\n")
            }
            Language::Chinese => format!("最近 {days} 天内未能回答的问题（问得最多的在前）：\n"),
        }
    }

    /// Before another phrasing of the same unanswered question.
    pub fn gaps_also(&self) -> &'static str {
        self.pick("also:", "也问过：")
    }

    /// `kb feedback` found no votes.
    pub fn feedback_none(&self, days: u32) -> String {
        match self.language {
            Language::English => format!("No 👍 or 👎 on answers in the last {days} days.\n"),
            Language::Chinese => format!("最近 {days} 天内没有人给回答点 👍 或 👎。\n"),
        }
    }

    /// The first line of `kb feedback`: the share of 👍 over the whole window.
    pub fn feedback_summary(&self, days: u32, up: u64, down: u64, percent: u64) -> String {
        match self.language {
            Language::English => format!(
                "Feedback on answers, last {days} days: {percent} % 👍 ({up} 👍, {down} 👎).\n"
            ),
            Language::Chinese => {
                format!("最近 {days} 天的回答反馈：{percent}% 👍（{up} 👍，{down} 👎）。\n")
            }
        }
    }

    /// Before the satisfaction of each day (`weekly` false) or week.
    pub fn feedback_periods(&self, weekly: bool) -> &'static str {
        if weekly {
            self.pick("Per week (from Monday, UTC):", "每周（自周一起，UTC）：")
        } else {
            self.pick("Per day (UTC):", "每天（UTC）：")
        }
    }

    /// One day or week: its first date, the share of 👍 and the counts.
    pub fn feedback_period(&self, date: &str, up: u64, down: u64, percent: u64) -> String {
        match self.language {
            Language::English => format!("{date}  {percent} % 👍 ({up} 👍, {down} 👎)"),
            Language::Chinese => format!("{date}  {percent}% 👍（{up} 👍，{down} 👎）"),
        }
    }

    /// Before the worst-rated answers.
    pub fn feedback_worst(&self) -> &'static str {
        self.pick("Worst-rated answers:", "评价最差的回答：")
    }

    /// No answer got a 👎 in the window.
    pub fn feedback_no_down(&self) -> &'static str {
        self.pick("No answer got a 👎.", "没有回答被点 👎。")
    }

    /// One of the worst-rated answers: its rank, votes and where it is (a link, or its id).
    pub fn feedback_rated(
        &self,
        rank: usize,
        up: u64,
        down: u64,
        place: &str,
        deleted: bool,
    ) -> String {
        let deleted = match (deleted, self.language) {
            (false, _) => "",
            (true, Language::English) => " (deleted)",
            (true, Language::Chinese) => "（已删除）",
        };
        match self.language {
            Language::English => format!("{rank}. {down} 👎, {up} 👍 · {place}{deleted}"),
            Language::Chinese => format!("{rank}. {down} 👎，{up} 👍 · {place}{deleted}"),
        }
    }
}
