//! The community's own rules: showing, saving and refusing them.

use super::super::Strings;
use crate::core::Language;

impl Strings {
    /// The `rules` command's answer: the numbered rules, or how moderators set them.
    pub fn rules_list(&self, rules: &[String], prefix: &str) -> String {
        if rules.is_empty() {
            return match self.language {
                Language::English => format!(
                    "This community has not written down its rules yet. Moderators: `{prefix}rules set <one rule per line>`."
                ),
                Language::Chinese => {
                    format!("本社区还没有写下规则。管理员可使用 `{prefix}rules set <每行一条规则>`。")
                }
            };
        }
        format!(
            "{}\n{}",
            self.pick("The community's rules:", "社区规则："),
            numbered(rules)
        )
    }

    /// The reply to the moderator who set the rules.
    pub fn rules_saved(&self, rules: &[String]) -> String {
        let count = rules.len();
        let head = match self.language {
            Language::English if count == 1 => {
                "Saved 1 rule. The model's reviews name the rule a message breaks:".to_string()
            }
            Language::English => {
                format!("Saved {count} rules. The model's reviews name the rule a message breaks:")
            }
            Language::Chinese => {
                format!("已保存 {count} 条规则。模型审核时会指出消息违反的规则：")
            }
        };
        format!("{head}\n{}", numbered(rules))
    }

    pub fn rules_cleared(&self) -> &'static str {
        self.pick(
            "Done: the community's rules were cleared.",
            "已清除社区规则。",
        )
    }

    pub fn too_many_rules(&self, count: usize, limit: usize) -> String {
        match self.language {
            Language::English => format!(
                "That is {count} rules; a community can have at most {limit}. Nothing was changed."
            ),
            Language::Chinese => {
                format!("共 {count} 条规则，每个社区最多 {limit} 条。未做任何更改。")
            }
        }
    }

    pub fn rules_too_long(&self, chars: usize, limit: usize) -> String {
        match self.language {
            Language::English => format!(
                "The rules are {chars} characters long; at most {limit} fit. Nothing was changed."
            ),
            Language::Chinese => {
                format!("规则共 {chars} 个字符，最多 {limit} 个。未做任何更改。")
            }
        }
    }

    pub fn no_rules_in_text(&self, prefix: &str) -> String {
        match self.language {
            Language::English => format!(
                "I found no rule in that text. Write one rule per line: `{prefix}rules set 1. Be kind` (or `{prefix}rules clear` to remove them)."
            ),
            Language::Chinese => format!(
                "没有在文本中找到规则。请每行写一条：`{prefix}rules set 1. 友善交流`（或用 `{prefix}rules clear` 清除）。"
            ),
        }
    }
}

/// `1. ...` lines.
fn numbered(rules: &[String]) -> String {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| format!("{}. {rule}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}
