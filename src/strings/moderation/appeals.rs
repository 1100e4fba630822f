//! Appeals' sentences: what the member is told when they appeal and when a moderator answers,
//! and what the moderators see.

use super::super::Strings;
use super::quote;
use crate::core::{Language, UserId};
use crate::store::{Appeal, AppealOutcome};

impl Strings {
    /// One appeal in a case's details.
    pub(super) fn appeal_line(&self, appeal: &Appeal) -> String {
        let state = match (appeal.outcome, &appeal.decided_by, self.language) {
            (None, _, Language::English) => "open".to_string(),
            (None, _, Language::Chinese) => "待处理".to_string(),
            (Some(outcome), by, _) => {
                let by = by
                    .as_ref()
                    .map_or_else(String::new, |by| format!(" ({by})"));
                format!("{}{by}", self.outcome_label(outcome))
            }
        };
        let text = quote(&appeal.text);
        match self.language {
            Language::English => format!("Appeal by {} ({state}):\n{text}", appeal.user),
            Language::Chinese => format!("{} 的申诉（{state}）：\n{text}", appeal.user),
        }
    }

    fn outcome_label(&self, outcome: AppealOutcome) -> &'static str {
        match outcome {
            AppealOutcome::Upheld => self.pick("upheld", "维持原决定"),
            AppealOutcome::Reversed => self.pick("reversed", "已撤销"),
        }
    }

    /// The reply to a member whose appeal was filed.
    pub fn appeal_filed(&self, number: i64) -> String {
        match self.language {
            Language::English => format!(
                "Your appeal of case #{number} was sent to the moderators. You will hear their answer privately."
            ),
            Language::Chinese => {
                format!("你对案例 #{number} 的申诉已提交给管理员，结果会私下通知你。")
            }
        }
    }

    /// The refusal for a case that does not exist here or is about someone else: the same
    /// words for both, so the reply reveals nothing about other members' cases.
    pub fn appeal_not_yours(&self, number: i64) -> String {
        match self.language {
            Language::English => format!(
                "There is no case #{number} about you in this community, so there is nothing to appeal. Check the number in the notice you received."
            ),
            Language::Chinese => {
                format!("本社区没有关于你的案例 #{number}，无法申诉。请核对你收到的通知中的编号。")
            }
        }
    }

    pub fn appeal_already_open(&self, number: i64) -> String {
        match self.language {
            Language::English => format!(
                "You already appealed case #{number}; a moderator has not answered yet. Please wait for their answer."
            ),
            Language::Chinese => format!("你已对案例 #{number} 提出申诉，管理员尚未答复，请耐心等待。"),
        }
    }

    pub fn appeal_too_long(&self, chars: usize, limit: usize) -> String {
        match self.language {
            Language::English => format!(
                "Your appeal is {chars} characters long; it can be at most {limit}. Please shorten it."
            ),
            Language::Chinese => format!("你的申诉有 {chars} 个字符，最多 {limit} 个，请缩短。"),
        }
    }

    /// The moderators' notice of a new appeal.
    pub fn appeal_log(&self, number: i64, user: &UserId, text: &str, prefix: &str) -> String {
        let text = quote(text);
        match self.language {
            Language::English => format!(
                "Case #{number}: {user} appeals:\n{text}\n`{prefix}case {number}` shows the case; `{prefix}case {number} uphold|reverse` answers."
            ),
            Language::Chinese => format!(
                "案例 #{number}：{user} 提出申诉：\n{text}\n`{prefix}case {number}` 查看案例；`{prefix}case {number} uphold|reverse` 答复。"
            ),
        }
    }

    /// `uphold` / `reverse` on a case without an open appeal.
    pub fn no_open_appeal(&self, number: i64, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "Case #{number} has no open appeal to uphold or reverse. To decide the case itself, use `{prefix}case {number} dismiss|resolve|delete|timeout|kick|ban`."
            ),
            Language::Chinese => format!(
                "案例 #{number} 没有待处理的申诉，无法 uphold 或 reverse。处理案例本身请用 `{prefix}case {number} dismiss|resolve|delete|timeout|kick|ban`。"
            ),
        }
    }

    pub fn case_already_reversed(&self, number: i64) -> String {
        match self.language {
            Language::English => format!("Case #{number} was already reversed."),
            Language::Chinese => format!("案例 #{number} 已被撤销。"),
        }
    }

    /// The reply to the moderator who answered an appeal, and the moderators' log line.
    pub fn appeal_answered(
        &self,
        number: i64,
        outcome: AppealOutcome,
        moderator: Option<&UserId>,
        lifted: (bool, bool),
    ) -> String {
        let lifted = self.lifted_label(lifted);
        let by = match (moderator, self.language) {
            (None, _) => String::new(),
            (Some(user), Language::English) => format!(", decided by {user}"),
            (Some(user), Language::Chinese) => format!("，处理人 {user}"),
        };
        match (outcome, self.language) {
            (AppealOutcome::Upheld, Language::English) => {
                format!("Case #{number}: appeal upheld, the decision stands{by}.")
            }
            (AppealOutcome::Upheld, Language::Chinese) => {
                format!("案例 #{number}：申诉被驳回，维持原决定{by}。")
            }
            (AppealOutcome::Reversed, Language::English) => {
                format!("Case #{number}: reversed on appeal{by}.{lifted}")
            }
            (AppealOutcome::Reversed, Language::Chinese) => {
                format!("案例 #{number}：申诉成立，已撤销{by}。{lifted}")
            }
        }
    }

    /// The private notice to the member whose appeal was answered.
    pub fn appeal_answer_to_member(
        &self,
        number: i64,
        outcome: AppealOutcome,
        lifted: (bool, bool),
    ) -> String {
        let lifted = self.lifted_label(lifted);
        match (outcome, self.language) {
            (AppealOutcome::Upheld, Language::English) => format!(
                "A moderator reviewed your appeal of case #{number}: the decision stands."
            ),
            (AppealOutcome::Upheld, Language::Chinese) => {
                format!("管理员已审阅你对案例 #{number} 的申诉：维持原决定。")
            }
            (AppealOutcome::Reversed, Language::English) => format!(
                "A moderator accepted your appeal of case #{number}: the decision was reversed.{lifted}"
            ),
            (AppealOutcome::Reversed, Language::Chinese) => {
                format!("管理员接受了你对案例 #{number} 的申诉：原决定已撤销。{lifted}")
            }
        }
    }

    /// What a reversal lifted on the platform, as (timeout, ban). A deleted message cannot
    /// be restored, and a kicked member may simply join again.
    fn lifted_label(&self, (timeout, ban): (bool, bool)) -> &'static str {
        match (timeout, ban) {
            (false, false) => "",
            (true, false) => self.pick(" The timeout was lifted.", "禁言已解除。"),
            (false, true) => self.pick(" The ban was lifted.", "封禁已解除。"),
            (true, true) => self.pick(
                " The timeout and the ban were lifted.",
                "禁言和封禁均已解除。",
            ),
        }
    }
}
