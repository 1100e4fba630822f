//! Moderation's sentences: case notices, lists, details and decisions, the dry run's "would
//! have", and what the member a case is about is told. Appeals and the community's own rules
//! have files of their own beside this one.

mod appeals;
mod rules;

use std::time::Duration;

use super::Strings;
use crate::core::{Automatic, CaseDecision, CaseStatus, Language, UserId};
use crate::store::{Appeal, Case, NewCase};

impl Strings {
    /// A case's status in words.
    pub fn status_label(&self, status: CaseStatus) -> &'static str {
        match status {
            CaseStatus::Open => self.pick("open", "未处理"),
            CaseStatus::Dismissed => self.pick("dismissed", "已驳回"),
            CaseStatus::Resolved => self.pick("resolved", "已处理"),
            CaseStatus::Deleted => self.pick("message deleted", "已删除消息"),
            CaseStatus::TimedOut => self.pick("member timed out", "已禁言"),
            CaseStatus::Kicked => self.pick("member kicked", "已踢出"),
            CaseStatus::Banned => self.pick("member banned", "已封禁"),
            CaseStatus::Reversed => self.pick("reversed on appeal", "申诉后已撤销"),
        }
    }

    /// What Steward did automatically, in words.
    pub fn automatic_label(&self, automatic: Automatic) -> &'static str {
        match automatic {
            Automatic::Nothing => self.pick("nothing", "无"),
            Automatic::Deleted => self.pick("message deleted", "已删除消息"),
            Automatic::TimedOut => self.pick("member timed out", "已禁言"),
            Automatic::DeletedAndTimedOut => self.pick("deleted and timed out", "已删除并禁言"),
        }
    }

    /// The moderators' notice of a new case. `number` is `None` if the case could not be
    /// saved; `rule` is the community's rule the model named (number, text); `dry_run` is what
    /// automatic moderation would have done (see [`Strings::would_have`]).
    pub fn case_opened(
        &self,
        number: Option<i64>,
        case: &NewCase,
        prefix: &str,
        rule: Option<(u32, &str)>,
        dry_run: Option<&str>,
    ) -> String {
        let shown = number.map_or_else(|| "?".to_string(), |number| number.to_string());
        let dry_run = dry_run.map_or_else(String::new, |text| format!("\n{text}"));
        let decide = number.map_or_else(String::new, |number| {
            format!("\n`{prefix}case {number} dismiss|delete|timeout <minutes>|kick|ban`")
        });
        format!(
            "{}{}{dry_run}{decide}",
            self.case_summary(&shown, case),
            self.rule_line(rule)
        )
    }

    /// A dry run's account of what automatic moderation would have done; nothing was.
    pub fn would_have(&self, user: &UserId, delete: bool, timeout: Option<Duration>) -> String {
        let user = at(user);
        let minutes = timeout.map(minutes_of);
        let done = match (self.language, delete, minutes) {
            (Language::English, true, Some(m)) => {
                format!("deleted the message and timed out {user} for {m} min")
            }
            (Language::English, true, None) => "deleted the message".to_string(),
            (Language::English, false, Some(m)) => format!("timed out {user} for {m} min"),
            (Language::English, false, None) => "done nothing".to_string(),
            (Language::Chinese, true, Some(m)) => format!("删除消息并禁言 {user} {m} 分钟"),
            (Language::Chinese, true, None) => "删除消息".to_string(),
            (Language::Chinese, false, Some(m)) => format!("禁言 {user} {m} 分钟"),
            (Language::Chinese, false, None) => "不做任何处理".to_string(),
        };
        match self.language {
            Language::English => format!(
                "Dry run: would have {done}. Nothing was done automatically; a moderator's own \
                 `case` decision still acts. (`setting moderation on` turns automatic actions on.)"
            ),
            Language::Chinese => format!(
                "试运行：本会{done}。实际未自动处理；管理员的 `case` 决定仍会执行。\
                 （`setting moderation on` 可开启自动处理。）"
            ),
        }
    }

    /// The moderators' notice of the model's review of a reported message: the model's
    /// labels, whether they flag it, the community's rule it names, and whether the message
    /// was deleted (or, in a dry run, would have been).
    pub fn case_reviewed(
        &self,
        number: i64,
        (category, severity, flags): (&str, &str, bool),
        rule: Option<(u32, &str)>,
        (deleted, would_delete): (bool, bool),
        prefix: &str,
    ) -> String {
        let done = match (deleted, would_delete, self.language) {
            (true, _, Language::English) => " The message was deleted.",
            (true, _, Language::Chinese) => "消息已删除。",
            (false, true, Language::English) => {
                " Dry run: the message would have been deleted; nothing was done."
            }
            (false, true, Language::Chinese) => "试运行：本会删除该消息，实际未处理。",
            (false, false, _) => "",
        };
        let rule = self.rule_line(rule);
        let head = match self.language {
            Language::English if flags => format!(
                "Case #{number}: the model labelled the reported message {category} ({severity}).{done}"
            ),
            Language::English => format!(
                "Case #{number}: the model found nothing wrong with the reported message; a moderator decides."
            ),
            Language::Chinese if flags => format!(
                "案例 #{number}：模型将被举报的消息标记为 {category}（{severity}）。{done}"
            ),
            Language::Chinese => {
                format!("案例 #{number}：模型未发现被举报的消息有问题，由管理员决定。")
            }
        };
        let minutes = self.pick("minutes", "分钟");
        format!("{head}{rule}\n`{prefix}case {number} dismiss|delete|timeout <{minutes}>|kick|ban`")
    }

    /// The line naming the community's rule the model said a message breaks; empty if none.
    fn rule_line(&self, rule: Option<(u32, &str)>) -> String {
        match (rule, self.language) {
            (None, _) => String::new(),
            (Some((number, text)), Language::English) => {
                format!("\nThe model says it breaks rule {number}: {text}")
            }
            (Some((number, text)), Language::Chinese) => {
                format!("\n模型认为违反了规则 {number}：{text}")
            }
        }
    }

    /// What a case is about: who, where, the excerpt, why, and what was done automatically.
    fn case_summary(&self, number: &str, case: &NewCase) -> String {
        let done = self.automatic_label(case.automatic);
        let excerpt = quote(&case.excerpt);
        let (category, source, user) = (&case.category, &case.source, at(&case.user));
        let (channel, reason) = (channel_ref(&case.location.channel), &case.reason);
        match self.language {
            Language::English => format!(
                "Case #{number}: {category} ({source}) by {user} in {channel}\n{excerpt}\nWhy: {reason}\nDone automatically: {done}"
            ),
            Language::Chinese => format!(
                "案例 #{number}：{category}（{source}），用户 {user}，频道 {channel}\n{excerpt}\n原因：{reason}\n自动处理：{done}"
            ),
        }
    }

    /// The list of open cases.
    pub fn open_cases(&self, cases: &[Case]) -> String {
        if cases.is_empty() {
            return self
                .pick("No open cases.", "没有未处理的案例。")
                .to_string();
        }
        let lines: Vec<String> = cases
            .iter()
            .map(|case| {
                let excerpt: String = case.excerpt.chars().take(60).collect();
                format!(
                    "#{} {} · {} · \"{}\" · {}",
                    case.number,
                    case.category,
                    case.user,
                    excerpt.replace('\n', " "),
                    self.automatic_label(case.automatic)
                )
            })
            .collect();
        format!(
            "{}\n{}",
            self.pick("Open cases (newest first):", "未处理的案例（最新在前）："),
            lines.join("\n")
        )
    }

    /// One case in full, with its appeals; `rules` are the community's current rules (to name
    /// the one the model cited).
    pub fn case_details(&self, case: &Case, appeals: &[Appeal], rules: &[String]) -> String {
        let summary = self.case_summary(&case.number.to_string(), &case.facts());
        let rule = match case.rule_index {
            None => String::new(),
            Some(number) => {
                let text = usize::try_from(number)
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|index| rules.get(index))
                    .map_or(
                        self.pick("(no longer in the rules)", "（已不在规则中）"),
                        |t| t.as_str(),
                    );
                self.rule_line(Some((number, text)))
            }
        };
        let status = self.status_label(case.status);
        let decided_by = case
            .decided_by
            .as_ref()
            .map_or_else(String::new, |user| format!(" ({user})"));
        let appeals: String = appeals
            .iter()
            .map(|appeal| format!("\n{}", self.appeal_line(appeal)))
            .collect();
        match self.language {
            Language::English => format!("{summary}{rule}\nStatus: {status}{decided_by}{appeals}"),
            Language::Chinese => format!("{summary}{rule}\n状态：{status}{decided_by}{appeals}"),
        }
    }

    pub fn no_such_case(&self, number: i64) -> String {
        match self.language {
            Language::English => format!("There is no case #{number} in this community."),
            Language::Chinese => format!("本社区没有案例 #{number}。"),
        }
    }

    pub fn case_already_decided(&self, case: &Case) -> String {
        let status = self.status_label(case.status);
        let by = case
            .decided_by
            .as_ref()
            .map_or_else(String::new, |user| user.to_string());
        let number = case.number;
        match self.language {
            Language::English => {
                format!("Case #{number} was already decided: {status} by {by}.")
            }
            Language::Chinese => format!("案例 #{number} 已被处理：{status}（{by}）。"),
        }
    }

    /// The reply to the moderator who decided a case.
    pub fn case_decided(&self, number: i64, decision: CaseDecision) -> String {
        let status = self.decision_label(decision);
        match self.language {
            Language::English => format!("Case #{number} closed: {status}."),
            Language::Chinese => format!("案例 #{number} 已关闭：{status}。"),
        }
    }

    /// The moderators' log line for a decision.
    pub fn case_decided_log(
        &self,
        number: i64,
        decision: CaseDecision,
        moderator: &UserId,
    ) -> String {
        let status = self.decision_label(decision);
        match self.language {
            Language::English => format!("Case #{number}: {status}, decided by {moderator}."),
            Language::Chinese => format!("案例 #{number}：{status}，处理人 {moderator}。"),
        }
    }

    fn decision_label(&self, decision: CaseDecision) -> String {
        let label = match decision.status() {
            Some(status) => self.status_label(status),
            None => self.pick("appeal upheld", "维持原决定"),
        };
        match decision {
            CaseDecision::Timeout { minutes } => match self.language {
                Language::English => format!("{label} for {minutes} min"),
                Language::Chinese => format!("{label} {minutes} 分钟"),
            },
            _ => label.to_string(),
        }
    }

    /// The private notice to a member whose message Steward removed or who was timed out
    /// automatically: the case, what happened, and how to appeal.
    pub fn member_notice_automatic(
        &self,
        number: i64,
        automatic: Automatic,
        timeout: Option<Duration>,
        prefix: &str,
    ) -> String {
        let minutes = timeout.map_or(0, minutes_of);
        let what = match (automatic, self.language) {
            (Automatic::Deleted, Language::English) => "your message was removed".to_string(),
            (Automatic::TimedOut, Language::English) => {
                format!("you were timed out for {minutes} min")
            }
            (Automatic::DeletedAndTimedOut, Language::English) => {
                format!("your message was removed and you were timed out for {minutes} min")
            }
            (Automatic::Deleted, Language::Chinese) => "你的消息已被删除".to_string(),
            (Automatic::TimedOut, Language::Chinese) => format!("你已被禁言 {minutes} 分钟"),
            (Automatic::DeletedAndTimedOut, Language::Chinese) => {
                format!("你的消息已被删除，并被禁言 {minutes} 分钟")
            }
            (Automatic::Nothing, _) => self.pick("nothing was done", "未做任何处理").to_string(),
        };
        self.member_notice(number, &what, prefix)
    }

    /// The private notice to the member a moderator's decision acts on.
    pub fn member_notice_decision(
        &self,
        number: i64,
        decision: CaseDecision,
        prefix: &str,
    ) -> String {
        let what = match (decision, self.language) {
            (CaseDecision::Delete, Language::English) => {
                "a moderator removed your message".to_string()
            }
            (CaseDecision::Timeout { minutes }, Language::English) => {
                format!("a moderator timed you out for {minutes} min")
            }
            (CaseDecision::Kick, Language::English) => {
                "a moderator removed you from the community".to_string()
            }
            (CaseDecision::Ban, Language::English) => {
                "a moderator banned you from the community".to_string()
            }
            (CaseDecision::Delete, Language::Chinese) => "管理员删除了你的消息".to_string(),
            (CaseDecision::Timeout { minutes }, Language::Chinese) => {
                format!("管理员将你禁言 {minutes} 分钟")
            }
            (CaseDecision::Kick, Language::Chinese) => "管理员将你移出了社区".to_string(),
            (CaseDecision::Ban, Language::Chinese) => "管理员将你封禁".to_string(),
            (other, _) => self.decision_label(other),
        };
        self.member_notice(number, &what, prefix)
    }

    fn member_notice(&self, number: i64, what: &str, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "Moderation case #{number}: {what}. If you think this was a mistake, write \
                 `{prefix}appeal {number} <why>` in the community and a moderator will look at it."
            ),
            Language::Chinese => format!(
                "审核案例 #{number}：{what}。如果你认为处理有误，请在社区中发送 \
                 `{prefix}appeal {number} <理由>`，管理员会查看。"
            ),
        }
    }
}

/// A user as written in notices: `@name` (Matrix ids already start with `@`).
fn at(user: &UserId) -> String {
    let id = user.as_str();
    if id.starts_with('@') {
        id.to_string()
    } else {
        format!("@{id}")
    }
}

/// A channel as the moderators' log names it: `#general`; ids that carry their own sigil (a
/// Matrix room's `!id:server`, a `#alias`) as they are. Adapters may render `@user` and
/// `#channel` as their platform's mentions.
fn channel_ref(channel: &crate::core::ChannelId) -> String {
    let id = channel.as_str();
    if id.starts_with(['#', '!']) {
        id.to_string()
    } else {
        format!("#{id}")
    }
}

/// A duration in whole minutes, rounded up (a 30 s timeout is "1 min", never "0 min").
fn minutes_of(duration: Duration) -> u64 {
    duration.as_secs().div_ceil(60)
}

/// A text excerpt as a Markdown quote, one line per line.
fn quote(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn would_have_table() {
        let en = Strings::new(Language::English);
        let zh = Strings::new(Language::Chinese);
        let x = UserId::new("x");
        let ten = Some(Duration::from_secs(600));
        assert!(en
            .would_have(&x, true, ten)
            .starts_with("Dry run: would have deleted the message and timed out @x for 10 min."));
        assert!(en
            .would_have(&x, false, Some(Duration::from_secs(30)))
            .starts_with("Dry run: would have timed out @x for 1 min."));
        let matrix = UserId::new("@bob:localhost");
        assert!(en
            .would_have(&matrix, false, ten)
            .contains("timed out @bob:localhost for 10 min"));
        assert!(zh
            .would_have(&x, true, None)
            .starts_with("试运行：本会删除消息。"));
    }

    #[test]
    fn member_notices_say_how_to_appeal() {
        let en = Strings::new(Language::English);
        let text = en.member_notice_automatic(
            7,
            Automatic::DeletedAndTimedOut,
            Some(Duration::from_secs(300)),
            "/",
        );
        assert!(
            text.starts_with(
                "Moderation case #7: your message was removed and you were timed out for 5 min."
            ),
            "{text}"
        );
        assert!(text.contains("`/appeal 7 <why>`"), "{text}");
        let zh = Strings::new(Language::Chinese);
        let text = zh.member_notice_decision(3, CaseDecision::Ban, "!steward ");
        assert!(text.contains("`!steward appeal 3 <理由>`"), "{text}");
    }
}
