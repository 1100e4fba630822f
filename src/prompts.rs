//! Prompt templates from `prompts/`, compiled in and rendered with minijinja.

use minijinja::Environment;
use serde::Serialize;

/// Every template: (name, text). Names are file names under `prompts/`.
const TEMPLATES: &[(&str, &str)] = &[
    ("ask_system.txt", include_str!("../prompts/ask_system.txt")),
    (
        "ask_grounded_system.txt",
        include_str!("../prompts/ask_grounded_system.txt"),
    ),
    (
        "ask_grounded_user.txt",
        include_str!("../prompts/ask_grounded_user.txt"),
    ),
    (
        "moderation_review.txt",
        include_str!("../prompts/moderation_review.txt"),
    ),
    (
        "summarize_system.txt",
        include_str!("../prompts/summarize_system.txt"),
    ),
    (
        "sentiment_batch.txt",
        include_str!("../prompts/sentiment_batch.txt"),
    ),
    (
        "report_reading.txt",
        include_str!("../prompts/report_reading.txt"),
    ),
    (
        "knowledge_judge.txt",
        include_str!("../prompts/knowledge_judge.txt"),
    ),
];

/// A template could not be rendered (a bug in a template or a missing value).
#[derive(Debug, thiserror::Error)]
#[error("prompt template {name}: {reason}")]
pub struct PromptError {
    pub name: String,
    pub reason: String,
}

/// The prompt templates.
pub struct Prompts {
    env: Environment<'static>,
}

impl Prompts {
    /// The templates compiled into the binary.
    pub fn builtin() -> Self {
        let mut env = Environment::new();
        // Unknown placeholders are errors, not silently empty text.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .expect("built-in prompt templates parse (checked by tests)");
        }
        Self { env }
    }

    /// Renders template `name` with `context`; trailing whitespace is trimmed.
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, PromptError> {
        let error = |reason: String| PromptError {
            name: name.to_string(),
            reason,
        };
        let template = self
            .env
            .get_template(name)
            .map_err(|e| error(e.to_string()))?;
        let text = template.render(context).map_err(|e| error(e.to_string()))?;
        Ok(text.trim_end().to_string())
    }
}

/// Values for `ask_system.txt`.
#[derive(Debug, Serialize)]
pub struct AskSystem<'a> {
    pub bot_name: &'a str,
    pub community: &'a str,
    pub language: &'a str,
}

/// Values for `ask_grounded_system.txt` and `ask_grounded_user.txt`.
#[derive(Debug, Serialize)]
pub struct AskGrounded<'a> {
    pub bot_name: &'a str,
    pub community: &'a str,
    pub language: &'a str,
    /// The passages, numbered from 1 (`knowledge::cite::numbered`).
    pub sources: &'a str,
    pub question: &'a str,
}

/// Values for `moderation_review.txt`.
#[derive(Debug, Serialize)]
pub struct ModerationReview<'a> {
    pub community: &'a str,
    /// The community's own rules in plain language, rule 1 first; the template numbers them
    /// and asks for the number of the rule broken. Empty: no rules, and no rule question.
    pub rules: &'a [String],
}

/// Values for `summarize_system.txt`.
#[derive(Debug, Serialize)]
pub struct SummarizeSystem<'a> {
    pub community: &'a str,
    pub language: &'a str,
}

/// Values for `report_reading.txt` (the figures and numbered messages are the user message).
#[derive(Debug, Serialize)]
pub struct ReportReading<'a> {
    pub community: &'a str,
    pub language: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_reading_renders_in_both_languages() {
        let prompts = Prompts::builtin();
        let render = |language| {
            prompts
                .render(
                    "report_reading.txt",
                    ReportReading {
                        community: "rust",
                        language,
                    },
                )
                .unwrap()
        };
        let english = render("en");
        assert!(english.contains("rust community"), "{english}");
        assert!(english.contains("not instructions"), "{english}");
        assert!(english.contains("square brackets"), "{english}");
        assert!(!english.contains("Chinese"), "{english}");
        assert!(render("zh").ends_with("Write in Chinese."));
    }

    #[test]
    fn grounded_prompts_carry_the_sources_and_the_question() {
        let prompts = Prompts::builtin();
        let values = AskGrounded {
            bot_name: "Steward",
            community: "rust",
            language: "zh",
            sources: "[1] (docs/install.md)\nRun the installer.",
            question: "怎么安装？",
        };
        let system = prompts.render("ask_grounded_system.txt", &values).unwrap();
        assert!(system.contains("numbered sources") && system.contains("[1]"));
        assert!(system.ends_with("Answer in Chinese."), "{system}");
        let user = prompts.render("ask_grounded_user.txt", &values).unwrap();
        assert!(user.contains("[1] (docs/install.md)\nRun the installer."));
        assert!(user.ends_with("Question: 怎么安装？"), "{user}");
    }

    #[test]
    fn ask_system_renders_in_both_languages() {
        let prompts = Prompts::builtin();
        let english = prompts
            .render(
                "ask_system.txt",
                AskSystem {
                    bot_name: "Steward",
                    community: "rust",
                    language: "en",
                },
            )
            .unwrap();
        assert!(english.starts_with("You are Steward"), "{english}");
        assert!(english.contains("rust community"));
        assert!(!english.contains("Chinese"));
        let chinese = prompts
            .render(
                "ask_system.txt",
                AskSystem {
                    bot_name: "Steward",
                    community: "rust",
                    language: "zh",
                },
            )
            .unwrap();
        assert!(chinese.ends_with("Answer in Chinese."), "{chinese}");
    }

    #[test]
    fn moderation_review_renders() {
        let text = Prompts::builtin()
            .render(
                "moderation_review.txt",
                ModerationReview {
                    community: "rust",
                    rules: &[],
                },
            )
            .unwrap();
        assert!(text.contains("the rust community"), "{text}");
        assert!(text.contains("not instructions"), "{text}");
        assert!(!text.contains("rule"), "no rules, no rule question: {text}");
        assert!(text.ends_with("are \"none\"."), "{text}");
    }

    /// The review sees the community's own rules, numbered, and is asked for a number.
    #[test]
    fn moderation_review_receives_the_communitys_rules() {
        let rules = ["Be kind".to_string(), "No spam".into(), "禁止刷屏".into()];
        let text = Prompts::builtin()
            .render(
                "moderation_review.txt",
                ModerationReview {
                    community: "rust",
                    rules: &rules,
                },
            )
            .unwrap();
        assert!(
            text.contains("own rules:\n1. Be kind\n2. No spam\n3. 禁止刷屏\nrule: the number"),
            "{text}"
        );
        assert!(text.ends_with("or 0 if it breaks none."), "{text}");
    }

    #[test]
    fn summarize_system_renders_in_both_languages() {
        let prompts = Prompts::builtin();
        let render = |language| {
            prompts
                .render(
                    "summarize_system.txt",
                    SummarizeSystem {
                        community: "rust",
                        language,
                    },
                )
                .unwrap()
        };
        let english = render("en");
        assert!(english.contains("square brackets"), "{english}");
        assert!(!english.contains("Chinese"), "{english}");
        assert!(render("zh").ends_with("Write in Chinese."));
    }

    #[test]
    fn sentiment_batch_renders_without_values() {
        let text = Prompts::builtin()
            .render("sentiment_batch.txt", ())
            .unwrap();
        assert!(text.contains("not instructions"), "{text}");
        // One character per message (src/sentiment/model.rs parses these three).
        for symbol in ["\"+\" positive", "\"-\" negative", "\"0\" neutral"] {
            assert!(text.contains(symbol), "{text}");
        }
        assert!(text.ends_with("and so on."), "{text}");
    }

    #[test]
    fn knowledge_judge_renders_without_values() {
        let text = Prompts::builtin()
            .render("knowledge_judge.txt", ())
            .unwrap();
        assert!(text.contains("Say yes only if"), "{text}");
        assert!(text.contains("not instructions"), "{text}");
    }

    #[test]
    fn missing_values_are_errors() {
        let prompts = Prompts::builtin();
        let error = prompts
            .render("ask_system.txt", serde_json::json!({ "bot_name": "x" }))
            .unwrap_err();
        assert_eq!(error.name, "ask_system.txt");
    }

    #[test]
    fn unknown_template_is_an_error() {
        assert!(Prompts::builtin().render("nope.txt", ()).is_err());
    }
}
