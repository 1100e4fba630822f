//! Synthetic community chatter for the sentiment benchmark: English and Chinese messages of
//! every tone (thanks, questions, complaints, sarcasm, plain technical talk), varied by number
//! so no two consecutive messages are the same text.

use std::time::{Duration, SystemTime};

use crate::core::{
    Author, ChannelId, CommunityId, Location, Message, MessageId, Platform, Role, UserId,
};

/// Message templates: `{v}` becomes a version, `{k}` a number, `{name}` a member's name.
const TEMPLATES: &[&str] = &[
    "Thanks {name}, the fix for the connection pool works perfectly!",
    "How do I set the worker count in tokio {v}?",
    "The build broke again after upgrading to {v}, this is so frustrating.",
    "Has anyone tried release {v}? The changelog looks interesting.",
    "I love the new API, great work everyone",
    "yeah right, 'works on my machine' again",
    "the query takes {k} seconds now, a bit slow",
    "The docs for the config file are confusing and incomplete.",
    "Merged #{k}, CI is green.",
    "Can someone review my PR #{k} when they have time?",
    "This crash in {v} is terrible, we lost a day of work.",
    "lgtm 👍",
    "Postgres or SQLite for a small bot with {k} members?",
    "Thanks for nothing, the issue has been open for {k} days",
    "Great talk yesterday {name}, learned a lot about async Rust!",
    "Is there a way to pin a crate to {v} in a workspace?",
    "谢谢{name}，连接池的问题解决了！",
    "怎么设置 tokio {v} 的线程数？",
    "升级到 {v} 以后编译又失败了，真烦人",
    "这个库很好用，文档也很清楚",
    "有人试过 {v} 吗？",
    "垃圾，又崩溃了，第{k}次了",
    "查询要 {k} 秒，有点慢",
    "PR #{k} 已经合并了",
    "呵呵，真是太好了",
    "太棒了，感谢大家！",
    "请问数据库迁移怎么回滚？",
    "这个文档不好，看不懂",
];

const NAMES: &[&str] = &["ana", "bo", "chen", "dev", "li", "mira", "sam", "wei"];

/// Members who write the messages.
const MEMBERS: usize = 50;
/// Channels they are spread over.
const CHANNELS: usize = 4;

/// The text of message `index`.
pub fn text(index: usize) -> String {
    let template = TEMPLATES[index % TEMPLATES.len()];
    let round = index / TEMPLATES.len();
    template
        .replace("{v}", &format!("1.{}", round % 40))
        .replace("{k}", &(round % 97 + 2).to_string())
        .replace("{name}", NAMES[(index + round) % NAMES.len()])
}

/// `count` members' messages in one console community, one second apart, the last one
/// `now`.
pub fn messages(count: usize, now: SystemTime) -> Vec<Message> {
    (0..count)
        .map(|index| {
            let age = Duration::from_secs((count - index) as u64);
            let member = index % MEMBERS;
            Message {
                id: MessageId::new(format!("bench-sentiment-{index}")),
                location: Location {
                    platform: Platform::Console,
                    community: CommunityId::new("bench"),
                    channel: ChannelId::new(format!("channel-{}", index % CHANNELS)),
                    thread: None,
                },
                author: Author {
                    id: UserId::new(format!("member-{member}")),
                    display_name: format!("member {member}"),
                    role: Role::Member,
                    is_bot: false,
                },
                text: text(index),
                created_at: now.checked_sub(age).unwrap_or(now),
                reply_to: None,
                mentions_bot: false,
                replies_to_bot: false,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatter_is_varied_and_in_both_languages() {
        let texts: Vec<String> = (0..200).map(text).collect();
        assert!(texts.iter().all(|t| !t.contains('{')), "{texts:?}");
        assert!(texts.windows(2).all(|pair| pair[0] != pair[1]));
        assert!(texts.iter().any(|t| t.contains("连接池")));
        assert!(texts.iter().any(|t| t.contains("tokio 1.")));
        let messages = messages(3, SystemTime::now());
        assert!(messages[0].created_at < messages[2].created_at);
        assert_ne!(messages[0].id, messages[1].id);
    }
}
