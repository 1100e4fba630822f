//! The dispatcher: records what happened, decides which feature handles an event, and returns
//! the actions for the adapter to execute.

use std::sync::Arc;

use super::action::Action;
use super::command::{Command, SUMMARY_DEFAULT_MESSAGES};
use super::event::{Event, EventKind, Message};
use super::ids::{Location, MessageId, Platform, UserId};
use crate::config::Language;
use crate::features::ask::Ask;
use crate::features::help::help;
use crate::features::moderation::{self, Moderation};
use crate::features::settings::{community_language, setting};
use crate::features::summarize::Summarize;
use crate::store::Store;
use crate::strings::Strings;

/// What the dispatcher needs to know about the bot.
#[derive(Debug, Clone)]
pub struct DispatcherSettings {
    pub bot_name: String,
    pub language: Language,
    /// `[matrix] command_prefix` followed by a space, e.g. "!steward ".
    pub matrix_command_prefix: String,
}

impl DispatcherSettings {
    /// Settings with the default Matrix command prefix.
    pub fn new(bot_name: impl Into<String>, language: Language) -> Self {
        Self {
            bot_name: bot_name.into(),
            language,
            matrix_command_prefix: "!steward ".to_string(),
        }
    }

    /// How commands are written on each platform, for help texts.
    pub fn command_prefix(&self, platform: Platform) -> &str {
        match platform {
            Platform::Console | Platform::Discord => "/",
            Platform::Matrix => &self.matrix_command_prefix,
        }
    }
}

/// Routes core events to features.
pub struct Dispatcher {
    settings: DispatcherSettings,
    store: Arc<Store>,
    ask: Ask,
    moderation: Moderation,
    summarize: Summarize,
}

/// The features a dispatcher routes to.
pub struct Features {
    pub ask: Ask,
    pub moderation: Moderation,
    pub summarize: Summarize,
}

impl Dispatcher {
    pub fn new(settings: DispatcherSettings, store: Arc<Store>, features: Features) -> Self {
        let Features {
            ask,
            moderation,
            summarize,
        } = features;
        Self {
            settings,
            store,
            ask,
            moderation,
            summarize,
        }
    }

    pub fn settings(&self) -> &DispatcherSettings {
        &self.settings
    }

    /// Handles one event. Store failures are logged and do not stop the answer.
    pub async fn handle(&self, event: Event) -> Vec<Action> {
        match event.kind {
            EventKind::MessagePosted(message) => self.message_posted(message).await,
            EventKind::CommandInvoked {
                location,
                invoker,
                command,
                message,
            } => {
                if command.requires_moderator() && !invoker.role.can_moderate() {
                    return vec![self.refusal(&location, message).await];
                }
                self.command(&location, &invoker.id, command, message).await
            }
            EventKind::MessageEdited {
                location,
                message,
                new_text,
            } => {
                let result = self
                    .store
                    .edit_message(location.platform, &message, &new_text, event.at)
                    .await;
                log_store_error("edit_message", result.map(|_| ()));
                Vec::new()
            }
            EventKind::MessageDeleted { location, message } => {
                let result = self
                    .store
                    .delete_message(location.platform, &message, event.at)
                    .await;
                log_store_error("delete_message", result.map(|_| ()));
                Vec::new()
            }
            EventKind::MemberJoined {
                platform, member, ..
            } => {
                log_store_error(
                    "upsert_user",
                    self.store.upsert_user(platform, &member).await,
                );
                Vec::new()
            }
            EventKind::BotAdded {
                platform,
                community,
                community_name,
                added_by,
                notice_location,
            } => {
                let result = self
                    .store
                    .upsert_community(platform, &community, &community_name)
                    .await;
                log_store_error("upsert_community", result);
                self.setup_notice(platform, added_by, notice_location)
            }
            EventKind::ReactionAdded(reaction) => {
                let strings = self.strings_for(&reaction.location).await;
                let prefix = self.settings.command_prefix(reaction.location.platform);
                self.moderation.reaction(&reaction, strings, prefix).await
            }
            EventKind::ReactionRemoved(_) | EventKind::ThreadCreated { .. } => Vec::new(),
        }
    }

    async fn message_posted(&self, message: Message) -> Vec<Action> {
        log_store_error(
            "record_message",
            self.store.record_message(&message).await.map(|_| ()),
        );
        if message.author.is_bot {
            return Vec::new();
        }
        let strings = self.strings_for(&message.location).await;
        let prefix = self.settings.command_prefix(message.location.platform);
        let screened = self.moderation.screen(&message, strings, prefix).await;
        let mut actions = screened.actions;
        if screened.removed {
            return actions;
        }
        let (mentioned, question) = strip_mention(&message.text, &self.settings.bot_name);
        if mentioned || message.mentions_bot || message.replies_to_bot {
            let command = Command::Ask {
                question: question.to_string(),
            };
            let answer = self
                .command(
                    &message.location,
                    &message.author.id,
                    command,
                    Some(message.id),
                )
                .await;
            actions.extend(answer);
        }
        actions
    }

    async fn strings_for(&self, location: &Location) -> Strings {
        Strings::new(community_language(&self.store, location, self.settings.language).await)
    }

    async fn command(
        &self,
        location: &Location,
        invoker: &UserId,
        command: Command,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        let language = community_language(&self.store, location, self.settings.language).await;
        let strings = Strings::new(language);
        let prefix = self.settings.command_prefix(location.platform);
        let action = match command {
            Command::Help => help(
                strings,
                &self.settings.bot_name,
                prefix,
                self.moderation.report_emoji(),
                location,
                message,
            ),
            Command::Ask { question } if question.trim().is_empty() => {
                text_reply(location, message, strings.empty_question(prefix))
            }
            Command::Ask { question } => {
                self.ask
                    .answer(location, &question, message, language)
                    .await
            }
            Command::Summarize { messages } => {
                let count = messages.unwrap_or(SUMMARY_DEFAULT_MESSAGES);
                self.summarize
                    .summarize(location, message, count, language)
                    .await
            }
            Command::Setting { key, value } => {
                setting(&self.store, strings, location, message, key, value).await
            }
            Command::Cases => {
                return moderation::cases::list(&self.store, strings, location, message).await
            }
            Command::Case { id, decision } => {
                return moderation::cases::case(
                    &self.store,
                    strings,
                    location,
                    message,
                    invoker,
                    id,
                    decision,
                )
                .await
            }
            Command::BadArguments { command } => {
                text_reply(location, message, strings.usage(command, prefix))
            }
        };
        vec![action]
    }

    /// The notice posted when Steward joins: in the notice channel, else privately to whoever
    /// added it.
    fn setup_notice(
        &self,
        platform: Platform,
        added_by: Option<UserId>,
        notice_location: Option<Location>,
    ) -> Vec<Action> {
        let strings = Strings::new(self.settings.language);
        let text = strings.setup_notice(
            &self.settings.bot_name,
            self.settings.command_prefix(platform),
        );
        match (notice_location, added_by) {
            (Some(location), _) => vec![text_reply(&location, None, text)],
            (None, Some(user)) => vec![Action::PrivateNotice {
                platform,
                user,
                text,
            }],
            (None, None) => Vec::new(),
        }
    }

    async fn refusal(&self, location: &Location, message: Option<MessageId>) -> Action {
        let language = community_language(&self.store, location, self.settings.language).await;
        let strings = Strings::new(language);
        let mut action = text_reply(location, message, strings.moderators_only().to_string());
        if let Action::Reply(reply) = &mut action {
            reply.only_invoker = true;
        }
        action
    }
}

fn text_reply(location: &Location, in_reply_to: Option<MessageId>, text: String) -> Action {
    Action::Reply(super::action::Reply {
        location: location.clone(),
        in_reply_to,
        body: super::action::Body::Text(text),
        only_invoker: false,
    })
}

fn log_store_error(operation: &str, result: Result<(), crate::store::StoreError>) {
    if let Err(error) = result {
        tracing::error!(operation, label = error.label(), %error, "store failed");
    }
}

/// Finds `@name` (any case) in `text`; returns whether it was there and the text without it.
pub fn strip_mention<'a>(text: &'a str, bot_name: &str) -> (bool, std::borrow::Cow<'a, str>) {
    let needle = format!("@{}", bot_name.to_lowercase());
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; only strip when offsets agree.
    match lower.find(&needle) {
        Some(start) if lower.len() == text.len() => {
            let end = start + needle.len();
            // Names are ASCII-ish; "@steward什么" (no space, common in Chinese) still counts.
            let boundary = text[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
            if !boundary {
                return (false, text.into());
            }
            let rest = format!("{} {}", &text[..start], &text[end..]);
            let collapsed = rest.split_whitespace().collect::<Vec<_>>().join(" ");
            let cleaned = collapsed
                .trim_start_matches([',', ':', '，', '：'])
                .trim()
                .to_string();
            (true, cleaned.into())
        }
        _ => (false, text.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_mention;

    #[test]
    fn mention_table() {
        let cases = [
            ("@steward what is Rust?", true, "what is Rust?"),
            ("@Steward: what is Rust?", true, "what is Rust?"),
            ("hey @STEWARD, why?", true, "hey , why?"),
            ("@steward什么是 Rust？", true, "什么是 Rust？"),
            ("what is Rust?", false, "what is Rust?"),
            ("@stewardship is nice", false, "@stewardship is nice"),
            ("@steward", true, ""),
            ("请问 @steward 什么是 Rust？", true, "请问 什么是 Rust？"),
        ];
        for (text, mentioned, question) in cases {
            let (found, rest) = strip_mention(text, "Steward");
            assert_eq!((found, rest.as_ref()), (mentioned, question), "{text}");
        }
    }
}
