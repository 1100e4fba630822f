//! Sentences for requests refused by a quota or a full queue.

use std::time::Duration;

use super::Strings;
use crate::core::Language;

impl Strings {
    /// A member used up a quota: when to try again. Sent at most once per quota window.
    pub fn quota_refused(&self, retry_after: Duration) -> String {
        let minutes = retry_after.as_secs().div_ceil(60).max(1);
        match self.language {
            Language::English if minutes == 1 => {
                "You have asked a lot in a short time. Please try again in a minute.".to_string()
            }
            Language::English => format!(
                "You have asked a lot in a short time. Please try again in {minutes} minutes."
            ),
            Language::Chinese => format!("你短时间内提问太多了，请 {minutes} 分钟后再试。"),
        }
    }
}
