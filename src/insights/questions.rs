//! Which messages are questions, in English and Chinese, for the health figures ("questions
//! asked, answered, left unanswered").
//!
//! The base is the knowledge base's rule ([`crate::text::asks_question`]: a question mark or a
//! Chinese question word anywhere), shared so both features agree on what asks something. On
//! top of it, insights counts a question only when a moderator would: at least two words
//! (`"?"`, `"吗？"` and `"what?"` are reactions, not questions), not only chatter ("thanks?",
//! "ok?", "really?", "真的吗？"), a `?` inside a link does not count, Chinese words that only look
//! like question words ("没什么", "哪怕", "无论如何") are ignored, and English questions written
//! without a question mark count when they open with a question word ("how do I pin a version").

use crate::text::{asks_question, rough_words};

/// Words a message needs to be a question: one-word reactions ("why?", "吗？") are not.
const MIN_WORDS: usize = 2;

/// Words a question without a question mark needs: "how come" is a remark, "how do I pin a
/// crate" a question.
const MIN_WORDS_UNMARKED: usize = 4;

/// English words that open a question even without a question mark. Auxiliary verbs ("do",
/// "will", "can") are not here: "do it now" and "will do" are not questions.
const ENGLISH_OPENERS: [&str; 12] = [
    "how", "what", "why", "when", "where", "which", "who", "whom", "whose", "anyone", "anybody",
    "somebody",
];

/// Follow-ups of an opener that make an exclamation or a suggestion, not a question:
/// "what a day", "how nice", "why not".
const ENGLISH_EXCLAMATIONS: [&str; 9] = [
    "what a",
    "what an",
    "how nice",
    "how cool",
    "how great",
    "how lovely",
    "how sad",
    "why not",
    "who cares",
];

/// Chatter that may end with a question mark without asking anything a member should answer.
const CHATTER: [&str; 36] = [
    "thanks",
    "thank",
    "you",
    "thx",
    "ty",
    "ok",
    "okay",
    "k",
    "really",
    "lol",
    "lmao",
    "right",
    "sure",
    "huh",
    "what",
    "yes",
    "no",
    "yeah",
    "yep",
    "nope",
    "hi",
    "hello",
    "hey",
    "cool",
    "nice",
    "seriously",
    "eh",
    "hmm",
    "wat",
    "wait",
    "me",
    "too",
    "again",
    "so",
    "is",
    "it",
];

/// Chinese chatter, compared against the whole message without punctuation.
const CHINESE_CHATTER: [&str; 12] = [
    "真的吗",
    "是吗",
    "好吗",
    "对吗",
    "谢谢",
    "谢谢你",
    "好的",
    "什么",
    "啊",
    "嗯",
    "哈哈",
    "是不是",
];

/// Chinese phrases that contain a question word without asking: "没什么" (nothing much),
/// "哪怕" (even if), "无论如何" (anyway), "怎么也" / "什么都" (no matter how / anything).
const CHINESE_NOT_ASKING: [&str; 8] = [
    "没什么",
    "不怎么",
    "哪怕",
    "无论如何",
    "怎么也",
    "什么都",
    "哪儿都",
    "哪里都",
];

/// Whether `text` is a question someone in the community could answer (English or Chinese).
pub fn is_question(text: &str) -> bool {
    let text = without_links(text.trim());
    if rough_words(&text) < MIN_WORDS || is_chatter(&text) {
        return false;
    }
    let mut asking = text.clone();
    for phrase in CHINESE_NOT_ASKING {
        asking = asking.replace(phrase, " ");
    }
    asks_question(&asking) || opens_english_question(&text)
}

/// `text` without its links: a `?` in `https://x.org/?q=1` asks nothing.
fn without_links(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !(word.starts_with("http://") || word.starts_with("https://")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether every word of `text` is chatter, in English or in Chinese.
fn is_chatter(text: &str) -> bool {
    let letters: String = text
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let words: Vec<&str> = letters.split_whitespace().collect();
    if words.is_empty() {
        return true;
    }
    if words.iter().all(|word| CHATTER.contains(word)) {
        return true;
    }
    let joined: String = words.concat();
    CHINESE_CHATTER.contains(&joined.as_str())
}

/// An English question written without a question mark: an opener word first, enough words,
/// not an exclamation.
fn opens_english_question(text: &str) -> bool {
    let lower = text.to_lowercase();
    let first = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|word| !word.is_empty())
        .unwrap_or_default();
    ENGLISH_OPENERS.contains(&first)
        && rough_words(text) >= MIN_WORDS_UNMARKED
        && !ENGLISH_EXCLAMATIONS
            .iter()
            .any(|exclamation| lower.starts_with(exclamation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_in_english_and_chinese() {
        let cases = [
            ("How do I pin a crate version?", true),
            ("how do I pin a crate version", true),
            ("Does anyone know why the build fails?", true),
            ("anyone tried the new release on windows", true),
            ("Is this the right channel?", true),
            ("which feature flag turns on ab_glyph", true),
            ("怎么安装？", true),
            ("这个版本支持 Windows 吗", true),
            ("为什么编译失败", true),
            ("有没有人用过 Docker 部署", true),
            ("请问如何配置代理？", true),
            // Reactions and chatter.
            ("", false),
            ("?", false),
            ("why?", false),
            ("thanks?", false),
            ("thank you?", false),
            ("ok?", false),
            ("really??", false),
            ("wait what?", false),
            ("真的吗？", false),
            ("是吗？", false),
            ("吗？", false),
            // Statements.
            ("The build is green again.", false),
            ("what a day", false),
            ("how nice of you all to help", false),
            ("will do it tomorrow", false),
            ("see https://example.org/search?q=pin for the docs", false),
            ("没什么问题了", false),
            ("哪怕失败了也没关系", false),
            ("无论如何都要发布", false),
        ];
        for (text, expected) in cases {
            assert_eq!(is_question(text), expected, "{text:?}");
        }
    }

    #[test]
    fn the_shared_rule_still_finds_what_it_found() {
        // Every question the knowledge base's rule sees with two words or more and no
        // look-alike phrase is a question here too.
        for text in [
            "什么时候发布新版本",
            "哪个分支是稳定的",
            "能不能关掉这个提醒",
            "是否支持 ARM",
        ] {
            assert!(asks_question(text), "{text}");
            assert!(is_question(text), "{text}");
        }
    }
}
