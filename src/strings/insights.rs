//! What Steward says about a community's health: the `report` command and the weekly digest
//! (figures, what changed, lists, the reading), the charts' labels, the moderators' alerts,
//! and the `setting digest` answers. The numbers are formatted by the feature; here they are
//! only put into sentences.

use super::Strings;
use crate::core::{ChannelId, Language};
use crate::insights::charts::ChartText;

/// One figure of a report, named in the community's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Messages,
    ActiveMembers,
    NewMembers,
    Threads,
    Questions,
    Answered,
    FirstReply,
    Negative,
    Satisfaction,
}

impl Strings {
    /// A figure that cannot be computed (no questions, nothing scored, no votes).
    pub fn no_data(&self) -> &'static str {
        self.pick("no data", "无数据")
    }

    /// The first line of a report: what it covers (`scope`), the window as typed (`7d`) and
    /// its dates (UTC).
    pub fn report_title(
        &self,
        digest: bool,
        scope: &str,
        window: &str,
        from: &str,
        to: &str,
    ) -> String {
        match (self.language, digest) {
            (Language::English, false) => format!(
                "**Community report** · {scope} · last {window} ({from} to {to} UTC), compared with the {window} before"
            ),
            (Language::English, true) => format!(
                "**Weekly digest** · {scope} · {from} to {to} UTC, compared with the week before"
            ),
            (Language::Chinese, false) => {
                format!("**社区报告** · {scope} · 最近 {window}（UTC {from} 至 {to}），与之前 {window} 对比")
            }
            (Language::Chinese, true) => {
                format!("**每周摘要** · {scope} · UTC {from} 至 {to}，与上一周对比")
            }
        }
    }

    /// A report about the whole community.
    pub fn report_whole_community(&self) -> &'static str {
        self.pick("whole community", "整个社区")
    }

    /// A report (or alert) about one channel, by its name or id.
    pub fn report_channel(&self, name: &str) -> String {
        match self.language {
            Language::English => format!("channel {name}"),
            Language::Chinese => format!("频道 {name}"),
        }
    }

    /// The window had no messages at all.
    pub fn report_no_messages(&self) -> &'static str {
        self.pick(
            "No messages in this window: every figure is zero and the charts are empty.",
            "这段时间内没有消息：各项数据均为零，图表为空。",
        )
    }

    /// The name of a figure.
    pub fn figure(&self, figure: Figure) -> &'static str {
        match figure {
            Figure::Messages => self.pick("Messages", "消息"),
            Figure::ActiveMembers => self.pick("Active members", "活跃成员"),
            Figure::NewMembers => self.pick("New members (first message)", "新成员（首次发言）"),
            Figure::Threads => self.pick("Threads", "话题"),
            Figure::Questions => self.pick("Questions", "提问"),
            Figure::Answered => self.pick("Answered", "已回答"),
            Figure::FirstReply => self.pick("Median time to first reply", "首次回复时间中位数"),
            Figure::Negative => self.pick("Negative messages", "负面消息"),
            Figure::Satisfaction => self.pick("Satisfaction with answers", "回答满意度"),
        }
    }

    /// One line of figures: `- Messages: 120 (+20 %)`.
    pub fn figure_line(&self, figure: Figure, value: &str, change: &str) -> String {
        let name = self.figure(figure);
        match self.language {
            Language::English => format!("- {name}: {value} ({change})"),
            Language::Chinese => format!("- {name}：{value}（{change}）"),
        }
    }

    /// A share in percent: `80 %`.
    pub fn percent(&self, percent: i64) -> String {
        match self.language {
            Language::English => format!("{percent} %"),
            Language::Chinese => format!("{percent}%"),
        }
    }

    /// The share of negative messages among `scored`.
    pub fn negative_value(&self, percent: &str, scored: u64) -> String {
        match self.language {
            Language::English => format!("{percent} of {scored} scored"),
            Language::Chinese => format!("{percent}（共评分 {scored} 条）"),
        }
    }

    /// Satisfaction: the share of 👍 among `votes`.
    pub fn satisfaction_value(&self, percent: &str, votes: u64) -> String {
        match self.language {
            Language::English => format!("{percent} 👍 of {votes} votes"),
            Language::Chinese => format!("{percent} 👍（共 {votes} 票）"),
        }
    }

    /// The answered share and how the answers split: members, moderators, Steward.
    pub fn answered_value(
        &self,
        percent: &str,
        members: u64,
        moderators: u64,
        steward: u64,
    ) -> String {
        match self.language {
            Language::English => format!(
                "{percent} (by members {members}, moderators {moderators}, Steward {steward})"
            ),
            Language::Chinese => {
                format!("{percent}（成员 {members}，管理员 {moderators}，Steward {steward}）")
            }
        }
    }

    /// A duration, rounded for reading: whole minutes below 90 minutes, else hours below two
    /// days, else days, to a tenth (`45 min`, `1.5 h`, `24 h`, `3.2 d`).
    pub fn duration(&self, seconds: u64) -> String {
        let (value, english, chinese) = if seconds < 90 * 60 {
            (((seconds + 30) / 60).to_string(), "min", "分钟")
        } else if seconds < 48 * 3600 {
            (tenths(seconds, 3600), "h", "小时")
        } else {
            (tenths(seconds, 86_400), "d", "天")
        };
        match self.language {
            Language::English => format!("{value} {english}"),
            Language::Chinese => format!("{value} {chinese}"),
        }
    }

    /// What changed, for a count: `+20 %`, `-5 %`.
    pub fn change_percent(&self, percent: i64) -> String {
        let sign = if percent > 0 { "+" } else { "" };
        format!("{sign}{}", self.percent(percent))
    }

    /// What changed, for a share: `+4 points`.
    pub fn change_points(&self, points: i64) -> String {
        let sign = if points > 0 { "+" } else { "" };
        match self.language {
            Language::English if points.abs() == 1 => format!("{sign}{points} point"),
            Language::English => format!("{sign}{points} points"),
            Language::Chinese => format!("{sign}{points} 个百分点"),
        }
    }

    /// Nothing changed.
    pub fn change_none(&self) -> &'static str {
        self.pick("no change", "持平")
    }

    /// What the figure was before, where a change cannot be a percentage (from 0, a time).
    pub fn change_was(&self, before: &str) -> String {
        match self.language {
            Language::English => format!("before: {before}"),
            Language::Chinese => format!("之前：{before}"),
        }
    }

    /// The window before had no data for this figure.
    pub fn change_no_data(&self) -> &'static str {
        self.pick("no data before", "之前无数据")
    }

    /// Before the oldest unanswered questions.
    pub fn report_unanswered(&self, total: u64, older_than: &str) -> String {
        match self.language {
            Language::English => {
                format!("Unanswered questions older than {older_than} ({total} in all):")
            }
            Language::Chinese => format!("超过 {older_than} 仍未回答的问题（共 {total} 个）："),
        }
    }

    /// Before the most negative messages.
    pub fn report_negative(&self) -> &'static str {
        self.pick("Most negative messages:", "最负面的消息：")
    }

    /// The members who gave the first reply to most questions.
    pub fn report_helpers(&self, helpers: &str) -> String {
        match self.language {
            Language::English => format!("Top helpers (first replies): {helpers}"),
            Language::Chinese => format!("最热心的成员（首次回复数）：{helpers}"),
        }
    }

    /// Before the model's reading of the figures.
    pub fn report_reading(&self) -> &'static str {
        self.pick("Reading (written by the model):", "解读（由模型撰写）：")
    }

    /// The model's reading could not be written (busy, too slow, failed).
    pub fn report_reading_unavailable(&self) -> &'static str {
        self.pick(
            "(The model's reading is unavailable right now; the figures above are complete.)",
            "（模型解读暂不可用；以上数据完整。）",
        )
    }

    /// The model does not write the community's language well enough for a reading.
    pub fn report_reading_language(&self) -> &'static str {
        self.pick(
            "(No model reading: the configured model does not write this language well.)",
            "（无模型解读：当前配置的模型不擅长用该语言写作。）",
        )
    }

    /// The report was cut to the platform's message length.
    pub fn report_shortened(&self) -> &'static str {
        self.pick(
            "(Shortened to fit one message; the charts show the rest.)",
            "（为放入一条消息已截短；其余内容见图表。）",
        )
    }

    /// `report <channel>` named a channel Steward does not know in this community.
    pub fn report_unknown_channel(&self, channel: &str, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "I have no messages from a channel `{channel}` in this community. Name a channel \
                 by its mention or id, or type `{prefix}report here` in it."
            ),
            Language::Chinese => format!(
                "我在本社区没有频道 `{channel}` 的消息。请用频道提及或 ID 指定频道，\
                 或在该频道中输入 `{prefix}report here`。"
            ),
        }
    }

    /// `report` with arguments that do not fit.
    pub fn report_usage(&self, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "Usage: `{prefix}report [window] [channel]` (window: a number with h, d or w, \
                 from 1h to 365d, default 7d, e.g. 24h, 7d, 4w; channel: here, a mention or \
                 an id; moderators only)"
            ),
            Language::Chinese => format!(
                "用法：`{prefix}report [时长] [频道]`（时长为数字加 h、d 或 w，范围 1h 到 365d，\
                 默认 7d，例如 24h、7d、4w；频道：here、频道提及或 ID；仅限管理员）"
            ),
        }
    }

    /// The labels of the report's charts.
    /// The sentiment chart's own title, before the scope and window.
    pub fn chart_sentiment_title(&self) -> &'static str {
        self.pick("Sentiment and messages", "情绪与消息量")
    }

    /// The questions chart's own title, before the scope and window.
    pub fn chart_questions_title(&self) -> &'static str {
        self.pick("Questions and first replies", "提问与首次回复")
    }

    pub fn chart_text(&self, scope: &str, window: &str) -> ChartText {
        let title = match self.language {
            Language::English => format!("{scope}, last {window} (UTC)"),
            Language::Chinese => format!("{scope}，最近 {window}（UTC）"),
        };
        ChartText {
            title,
            messages: self.pick("messages", "消息数").into(),
            positive: self.pick("positive", "正面").into(),
            neutral: self.pick("neutral", "中性").into(),
            negative: self.pick("negative", "负面").into(),
            questions: self.pick("questions", "提问").into(),
            answered: self.pick("answered", "已回答").into(),
            first_reply_hours: self
                .pick("median first reply (hours)", "首次回复中位数（小时）")
                .into(),
            time_axis: self.pick("time (UTC)", "时间（UTC）").into(),
            no_data: self
                .pick("no data in this window", "这段时间内没有数据")
                .into(),
        }
    }

    /// An alert: many more negative messages in a channel than usual.
    pub fn alert_negative_spike(
        &self,
        channel: &str,
        window: &str,
        percent: &str,
        scored: u64,
        usual: &str,
    ) -> String {
        match self.language {
            Language::English => format!(
                "⚠️ More negative messages than usual in {channel}: {percent} of the {scored} \
                 scored messages of the last {window} are negative (usually {usual})."
            ),
            Language::Chinese => format!(
                "⚠️ {channel} 的负面消息比平常多：最近 {window} 内已评分的 {scored} 条消息中有 \
                 {percent} 为负面（平常为 {usual}）。"
            ),
        }
    }

    /// An alert: more unanswered questions in a channel than usual.
    pub fn alert_unanswered_rise(
        &self,
        channel: &str,
        window: &str,
        count: u64,
        usual: &str,
    ) -> String {
        match self.language {
            Language::English => format!(
                "⚠️ Unanswered questions are piling up in {channel}: {count} questions of the \
                 last {window} have no answer yet (usually {usual} per {window})."
            ),
            Language::Chinese => format!(
                "⚠️ {channel} 中未回答的问题在增加：最近 {window} 内有 {count} 个问题尚无人回答\
                 （平常每 {window} {usual} 个）。"
            ),
        }
    }

    /// Before the messages an alert links to.
    pub fn alert_examples(&self) -> &'static str {
        self.pick("For example:", "例如：")
    }

    /// `setting digest here`.
    pub fn digest_here(&self, channel: &ChannelId, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "Done: the weekly digest (a community report with charts) is posted in this \
                 channel ({channel}) from now on. Choose when with `{prefix}setting digest_day \
                 mon..sun` and `{prefix}setting digest_hour 0..23` (UTC); \
                 `{prefix}setting digest off` stops it."
            ),
            Language::Chinese => format!(
                "已设置：从现在起每周摘要（附图表的社区报告）会发到本频道（{channel}）。\
                 用 `{prefix}setting digest_day mon..sun` 和 `{prefix}setting digest_hour 0..23`\
                 （UTC）选择时间；`{prefix}setting digest off` 可停止。"
            ),
        }
    }

    /// `setting digest off`.
    pub fn digest_off(&self) -> &'static str {
        self.pick(
            "Done: no weekly digest is posted in this community any more.",
            "已停止：本社区不再发布每周摘要。",
        )
    }
}

/// `seconds` in `unit`s, rounded to a tenth, without a trailing `.0`.
fn tenths(seconds: u64, unit: u64) -> String {
    let tenths = (seconds * 10 + unit / 2) / unit;
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let english = Strings::new(Language::English);
        let cases = [
            (0, "0 min"),
            (29, "0 min"),
            (45 * 60, "45 min"),
            (90 * 60, "1.5 h"),
            (24 * 3600, "24 h"),
            (3 * 86_400 + 4 * 3600, "3.2 d"),
        ];
        for (seconds, text) in cases {
            assert_eq!(english.duration(seconds), text, "{seconds}");
        }
        assert_eq!(Strings::new(Language::Chinese).duration(3 * 3600), "3 小时");
    }
}
