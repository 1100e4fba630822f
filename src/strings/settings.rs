//! The `setting` command's sentences.

use super::Strings;
use crate::core::settings::{Known, Values};
use crate::core::Language;

impl Strings {
    pub fn settings_list(&self, current: &[(String, String)], known: &[Known]) -> String {
        let mut lines = Vec::new();
        for setting in known {
            let value = current
                .iter()
                .find(|(key, _)| key == setting.key)
                .map(|(_, value)| value.as_str())
                .unwrap_or(self.pick("(default)", "（默认）"));
            lines.push(format!(
                "- {} = {} ({})",
                setting.key,
                value,
                allowed(&setting.values)
            ));
        }
        format!("{}\n{}", self.pick("Settings:", "设置："), lines.join("\n"))
    }

    pub fn unknown_setting(&self, key: &str, known: &[Known]) -> String {
        let names: Vec<&str> = known.iter().map(|k| k.key).collect();
        match self.language {
            Language::English => format!(
                "There is no setting `{key}`. Settings: {}.",
                names.join(", ")
            ),
            Language::Chinese => {
                format!("没有名为 `{key}` 的设置。可用设置：{}。", names.join("、"))
            }
        }
    }

    pub fn setting_value(&self, key: &str, value: Option<&str>) -> String {
        let value = value.unwrap_or(self.pick("(default)", "（默认）"));
        format!("{key} = {value}")
    }

    pub fn setting_changed(&self, key: &str, value: &str) -> String {
        match self.language {
            Language::English => format!("Done: {key} is now {value}."),
            Language::Chinese => format!("已设置：{key} = {value}。"),
        }
    }

    pub fn bad_setting_value(&self, key: &str, value: &str, values: &Values) -> String {
        match (values, self.language) {
            (Values::OneOf(words), Language::English) => format!(
                "`{value}` is not a valid {key}; use one of: {}.",
                words.join(", ")
            ),
            (Values::OneOf(words), Language::Chinese) => {
                format!("`{value}` 不是有效的 {key}；可选：{}。", words.join("、"))
            }
            (Values::Number { min, max }, Language::English) => {
                format!("`{value}` is not a valid {key}; use a whole number from {min} to {max}.")
            }
            (Values::Number { min, max }, Language::Chinese) => {
                format!("`{value}` 不是有效的 {key}；请使用 {min} 到 {max} 之间的整数。")
            }
        }
    }
}

/// The allowed values in words: "en | zh" or "1-10000".
fn allowed(values: &Values) -> String {
    match values {
        Values::OneOf(words) => words.join(" | "),
        Values::Number { min, max } => format!("{min}-{max}"),
    }
}
