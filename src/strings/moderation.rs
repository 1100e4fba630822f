//! Moderation's sentences: case notices, lists, details and decisions.

use super::Strings;
use crate::core::{Automatic, CaseDecision, CaseStatus, Language, UserId};
use crate::store::{Case, NewCase};

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

    /// The moderators' notice of a new case. `id` is `None` if the case could not be saved.
    pub fn case_opened(&self, id: Option<i64>, case: &NewCase, prefix: &str) -> String {
        let number = id.map_or_else(|| "?".to_string(), |id| id.to_string());
        let decide = id.map_or_else(String::new, |id| {
            format!("\n`{prefix}case {id} dismiss|delete|timeout <minutes>|kick|ban`")
        });
        format!("{}{decide}", self.case_summary(&number, case))
    }

    /// The moderators' notice of the model's review of a reported message: the model's
    /// labels, whether they flag it, and whether the message was deleted.
    pub fn case_reviewed(
        &self,
        id: i64,
        (category, severity, flags): (&str, &str, bool),
        deleted: bool,
        prefix: &str,
    ) -> String {
        let done = match (deleted, self.language) {
            (false, _) => String::new(),
            (true, Language::English) => " The message was deleted.".to_string(),
            (true, Language::Chinese) => "消息已删除。".to_string(),
        };
        match self.language {
            Language::English if flags => format!(
                "Case #{id}: the model labelled the reported message {category} ({severity}).{done}
`{prefix}case {id} dismiss|delete|timeout <minutes>|kick|ban`"
            ),
            Language::English => format!(
                "Case #{id}: the model found nothing wrong with the reported message; a moderator decides.
`{prefix}case {id} dismiss|delete|timeout <minutes>|kick|ban`"
            ),
            Language::Chinese if flags => format!(
                "案例 #{id}：模型将被举报的消息标记为 {category}（{severity}）。{done}
`{prefix}case {id} dismiss|delete|timeout <分钟>|kick|ban`"
            ),
            Language::Chinese => format!(
                "案例 #{id}：模型未发现被举报的消息有问题，由管理员决定。
`{prefix}case {id} dismiss|delete|timeout <分钟>|kick|ban`"
            ),
        }
    }

    /// What a case is about: who, where, the excerpt, why, and what was done automatically.
    fn case_summary(&self, number: &str, case: &NewCase) -> String {
        let done = self.automatic_label(case.automatic);
        let excerpt = quote(&case.excerpt);
        let (category, source, user) = (&case.category, &case.source, &case.user);
        let (channel, reason) = (&case.location.channel, &case.reason);
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
                    case.id,
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

    /// One case in full.
    pub fn case_details(&self, case: &Case) -> String {
        let summary = self.case_summary(&case.id.to_string(), &case.facts());
        let status = self.status_label(case.status);
        let decided_by = case
            .decided_by
            .as_ref()
            .map_or_else(String::new, |user| format!(" ({user})"));
        match self.language {
            Language::English => format!("{summary}\nStatus: {status}{decided_by}"),
            Language::Chinese => format!("{summary}\n状态：{status}{decided_by}"),
        }
    }

    pub fn no_such_case(&self, id: i64) -> String {
        match self.language {
            Language::English => format!("There is no case #{id} in this community."),
            Language::Chinese => format!("本社区没有案例 #{id}。"),
        }
    }

    pub fn case_already_decided(&self, case: &Case) -> String {
        let status = self.status_label(case.status);
        let by = case
            .decided_by
            .as_ref()
            .map_or_else(String::new, |user| user.to_string());
        match self.language {
            Language::English => {
                format!("Case #{} was already decided: {status} by {by}.", case.id)
            }
            Language::Chinese => format!("案例 #{} 已被处理：{status}（{by}）。", case.id),
        }
    }

    /// The reply to the moderator who decided a case.
    pub fn case_decided(&self, id: i64, decision: CaseDecision) -> String {
        let status = self.decision_label(decision);
        match self.language {
            Language::English => format!("Case #{id} closed: {status}."),
            Language::Chinese => format!("案例 #{id} 已关闭：{status}。"),
        }
    }

    /// The moderators' log line for a decision.
    pub fn case_decided_log(&self, id: i64, decision: CaseDecision, moderator: &UserId) -> String {
        let status = self.decision_label(decision);
        match self.language {
            Language::English => format!("Case #{id}: {status}, decided by {moderator}."),
            Language::Chinese => format!("案例 #{id}：{status}，处理人 {moderator}。"),
        }
    }

    fn decision_label(&self, decision: CaseDecision) -> String {
        let label = self.status_label(decision.status());
        match decision {
            CaseDecision::Timeout { minutes } => match self.language {
                Language::English => format!("{label} for {minutes} min"),
                Language::Chinese => format!("{label} {minutes} 分钟"),
            },
            _ => label.to_string(),
        }
    }
}

/// A message excerpt as a Markdown quote, one line per line.
fn quote(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
