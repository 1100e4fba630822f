//! Members' messages before a feature sees them: recording (with the author's role), screening,
//! deciding whether a message is addressed to the bot — a mention, a reply to it, a follow-up
//! in a thread it takes part in, a new post in a help channel — and answering it once (live or
//! caught up after downtime) with the conversation's earlier turns, edits (only the author's,
//! screened again), reports (weighed by the reported author's role), and the asker taking an
//! answer back.
//!
//! A member who opted out or asked to be forgotten, and every message in a channel whose
//! recording moderators switched off, leave no trace: their messages, edits, roles and votes
//! are not stored and their conversations not indexed; the rules still screen them (opting
//! out must not switch off anti-spam), and only a message addressed to Steward directly (a
//! mention, a reply to it) is answered, without earlier turns, live only (nothing records
//! that it was answered, so a catch-up after downtime does not answer it).

use std::time::{Duration, SystemTime};

use super::{log_store_error, Feature, Router};
use crate::community::mention::strip_mention;
use crate::core::settings::AnswerMode;
use crate::core::{Action, Author, Location, Message, MessageId, Reaction, Role, UserId};
use crate::features::{followup, help_channels, Context};
use crate::llm::{ChatMessage, ChatRole};
use crate::store::EditOutcome;

/// A message the bot answers, and how.
struct Addressed {
    /// The question, the bot's mention removed.
    question: String,
    /// The earlier turns of the conversation it continues, oldest first (empty for a new
    /// question).
    earlier: Vec<ChatMessage>,
    /// A help channel's new post: the answer opens a thread of this name.
    new_thread: Option<String>,
}

/// In a thread, a member's message needs no mention while one of the last this many messages
/// before it is Steward's own.
const FOLLOW_WITHIN: usize = 6;

/// How often, and how long apart, an edit of a message not yet recorded is tried.
const EDIT_WAITS: u32 = 10;
const EDIT_WAIT: Duration = Duration::from_millis(200);

impl Router {
    pub(super) async fn message_posted(&self, message: Message) -> Vec<Action> {
        let recorded = self.recorded(&message.location, &message.author.id).await;
        if recorded {
            log_store_error(
                "record_message",
                self.store.record_message(&message).await.map(|_| ()),
            );
        }
        // Never another bot, never Steward itself (whose answer to a message withdrawn while
        // it was being written goes as soon as it is seen).
        if self.is_self(message.location.platform, &message.author.id) {
            return self.withdrawn_answer(message);
        }
        if message.author.is_bot {
            return Vec::new();
        }
        if recorded {
            self.record_role(&message.location, &message.author).await;
        }
        let ctx = self
            .context_with(&message.location, &message.author, recorded)
            .await;
        let screened = self.features.moderation.screen(&ctx, &message).await;
        let mut actions = screened.actions;
        if screened.removed {
            return actions;
        }
        if !recorded {
            if let Some(addressed) = self.addressed_directly(&message) {
                actions.extend(self.answer_addressed(&ctx, &message, addressed).await);
            }
            return actions;
        }
        // Its conversation is (re)indexed in the background.
        self.features.conversations.posted(&message).await;
        if let Some(addressed) = self.addressed(&ctx, &message).await {
            if self.first_answer(&message).await {
                let answer = self.answer_addressed(&ctx, &message, addressed).await;
                // The asker may have opted out (🙅 on their message) while it was prepared.
                if !self
                    .withdrawn
                    .contains(message.location.platform, &message.id)
                {
                    actions.extend(answer);
                }
            }
        }
        actions
    }

    /// Steward's own `message`, seen posted: its deletion if it answers a message whose
    /// author withdrew it while the answer was being written; else nothing.
    fn withdrawn_answer(&self, message: Message) -> Vec<Action> {
        let platform = message.location.platform;
        match help_channels::answered_message(&message) {
            Some(asked) if self.withdrawn.contains(platform, &asked) => {
                vec![help_channels::take_back(message.location, message.id)]
            }
            _ => Vec::new(),
        }
    }

    /// How `message` is addressed to the bot, if it is: a mention or a reply to it (with the
    /// earlier turns when it continues a conversation the bot took part in), a message in a
    /// thread the bot took part in (a follow-up needs no mention), or a new question in a
    /// help channel (`setting answer_mode help`).
    async fn addressed(&self, ctx: &Context, message: &Message) -> Option<Addressed> {
        let (mentioned, question) = strip_mention(&message.text, &self.settings.bot_name);
        let question = question.into_owned();
        let direct = mentioned || message.mentions_bot || message.replies_to_bot;
        let continues = message.reply_to.is_some() || message.location.thread.is_some();
        let earlier = if continues {
            self.earlier_turns(message).await
        } else {
            Vec::new()
        };
        // In a thread, earlier turns are only found when the bot wrote in it; it follows the
        // thread while it is part of the conversation: one of the last few messages is its own.
        // A summary posted in a busy thread does not make it answer everyone there for long.
        let follows = message.location.thread.is_some()
            && earlier
                .iter()
                .rev()
                .take(FOLLOW_WITHIN)
                .any(|turn| turn.role == ChatRole::Assistant);
        if direct || follows {
            return Some(Addressed {
                question,
                earlier,
                new_thread: None,
            });
        }
        let help = ctx.settings.answer_mode(&message.location.channel) == AnswerMode::Help;
        if help && help_channels::is_new_post(message, ctx.prefix()) {
            // A top-level post opens a thread; a forum post is its thread already.
            let new_thread = (message.location.thread.is_none() && ctx.capabilities.threads)
                .then(|| help_channels::thread_name(&question));
            return Some(Addressed {
                question,
                earlier: Vec::new(),
                new_thread,
            });
        }
        None
    }

    /// A message of someone Steward does not record, if it is addressed to Steward directly
    /// (a mention, a reply to it): only that question, no earlier turns, no help channel.
    fn addressed_directly(&self, message: &Message) -> Option<Addressed> {
        let (mentioned, question) = strip_mention(&message.text, &self.settings.bot_name);
        let direct = mentioned || message.mentions_bot || message.replies_to_bot;
        direct.then(|| Addressed {
            question: question.into_owned(),
            earlier: Vec::new(),
            new_thread: None,
        })
    }

    /// The earlier turns of the conversation `message` continues, if the bot took part in it
    /// ([`followup::earlier_turns`]); none until the adapter registered the bot's user, or when
    /// the store fails.
    async fn earlier_turns(&self, message: &Message) -> Vec<ChatMessage> {
        let Some(own) = self.own_user(message.location.platform) else {
            return Vec::new();
        };
        let bot_name = self.settings.bot_name.as_str();
        let clean = |text: &str| strip_mention(text, bot_name).1.into_owned();
        match followup::earlier_turns(&self.store, &own, message, &clean).await {
            Ok(turns) => turns,
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: read a conversation's earlier turns");
                Vec::new()
            }
        }
    }

    /// Answers an addressed message: as a reply (or in a new thread for a help channel's
    /// post), with the conversation's earlier turns.
    async fn answer_addressed(
        &self,
        ctx: &Context,
        message: &Message,
        addressed: Addressed,
    ) -> Vec<Action> {
        self.answer_question(
            ctx,
            &addressed.question,
            Some(message.id.clone()),
            addressed.earlier,
            addressed.new_thread,
        )
        .await
    }

    /// Claims the answer to `message`: false if it was answered already (an earlier run, or
    /// another process sharing the database). A store failure answers anyway.
    async fn first_answer(&self, message: &Message) -> bool {
        match self
            .store
            .mark_answered(message.location.platform, &message.id, SystemTime::now())
            .await
        {
            Ok(first) => first,
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: mark a question answered");
                true
            }
        }
    }

    /// A message posted while Steward was stopped: recorded, and answered once if it was
    /// addressed to the bot (as a live message would be) within `catch_up_minutes` of now. It
    /// is not screened: the flood rule would read a burst of catch-up deliveries as flooding,
    /// and moderators see reports.
    pub(super) async fn missed_message(&self, message: Message, now: SystemTime) -> Vec<Action> {
        if !self.recorded(&message.location, &message.author.id).await {
            return Vec::new();
        }
        log_store_error(
            "record_message",
            self.store.record_message(&message).await.map(|_| ()),
        );
        if message.author.is_bot || self.is_self(message.location.platform, &message.author.id) {
            return Vec::new();
        }
        self.features.conversations.posted(&message).await;
        let window = Duration::from_secs(u64::from(self.settings.catch_up_minutes) * 60);
        let recent = now
            .duration_since(message.created_at)
            .map(|age| age <= window)
            .unwrap_or(true);
        if !recent || self.settings.catch_up_minutes == 0 {
            return Vec::new();
        }
        let ctx = self.context(&message.location, &message.author).await;
        let Some(addressed) = self.addressed(&ctx, &message).await else {
            return Vec::new();
        };
        if !self.first_answer(&message).await {
            return Vec::new();
        }
        tracing::info!(message = %message.id, "answering a question asked while Steward was stopped");
        self.answer_addressed(&ctx, &message, addressed).await
    }

    /// An edit: applied only when its author sent it, then screened again like a new message
    /// (a member must not post something harmless and edit the spam in).
    pub(super) async fn message_edited(
        &self,
        location: Location,
        message: MessageId,
        editor: UserId,
        new_text: String,
        at: SystemTime,
    ) -> Vec<Action> {
        if !self.recorded(&location, &editor).await {
            return self
                .unrecorded_edit(location, message, editor, new_text, at)
                .await;
        }
        // Adapters handle events concurrently (serenity does; the Matrix worker runs several at
        // once), so an edit sent right after its message can arrive first: wait a little for
        // the message to be recorded before giving up on the edit.
        let mut outcome = Ok(EditOutcome::Unknown);
        for attempt in 0..EDIT_WAITS {
            if attempt > 0 {
                tokio::time::sleep(EDIT_WAIT).await;
            }
            outcome = self
                .store
                .edit_message(location.platform, &message, &editor, &new_text, at)
                .await;
            if !matches!(outcome, Ok(EditOutcome::Unknown)) {
                break;
            }
        }
        match outcome {
            // Steward's own edits (a streamed answer growing) are recorded, not screened.
            Ok(EditOutcome::Applied) if self.is_self(location.platform, &editor) => {
                return Vec::new();
            }
            Ok(EditOutcome::Applied) => {}
            Ok(EditOutcome::NotTheAuthor) => {
                tracing::warn!(%message, editor = %editor, "an edit by someone other than the author was ignored");
                return Vec::new();
            }
            Ok(EditOutcome::Unchanged | EditOutcome::Unknown) => return Vec::new(),
            Err(error) => {
                log_store_error("edit_message", Err(error));
                return Vec::new();
            }
        }
        // Its conversation is indexed again in the background.
        self.features
            .conversations
            .edited(location.platform, &message)
            .await;
        self.screen_edit(location, message, editor, new_text, at, true)
            .await
    }

    /// An edit by someone Steward does not record (or in a channel it does not record): not
    /// applied, still screened by the rules. Its message is usually not stored, so nothing
    /// proves the editor wrote it (Matrix lets anyone send an edit of any event): the
    /// screening may open a case and time the editor out, but never deletes the message.
    async fn unrecorded_edit(
        &self,
        location: Location,
        message: MessageId,
        editor: UserId,
        new_text: String,
        at: SystemTime,
    ) -> Vec<Action> {
        if self.is_self(location.platform, &editor) {
            return Vec::new();
        }
        match self.store.message(location.platform, &message).await {
            Ok(Some(stored)) if stored.author != editor => {
                tracing::warn!(%message, editor = %editor, "an edit by someone other than the author was ignored");
                return Vec::new();
            }
            Ok(_) => {}
            Err(error) => log_store_error("message", Err(error)),
        }
        let mut actions = self
            .screen_edit(location, message.clone(), editor, new_text, at, false)
            .await;
        actions.retain(|action| {
            !matches!(action, Action::DeleteMessage { message: target, .. } if *target == message)
        });
        actions
    }

    /// Screens an edit like a new message from its author (their role as last seen).
    async fn screen_edit(
        &self,
        location: Location,
        message: MessageId,
        editor: UserId,
        new_text: String,
        at: SystemTime,
        recorded: bool,
    ) -> Vec<Action> {
        let role = self.known_role(&location, &editor).await;
        let author = Author {
            id: editor,
            display_name: String::new(),
            role,
            is_bot: false,
        };
        let edited = Message {
            id: message,
            location,
            author,
            text: new_text,
            created_at: at,
            reply_to: None,
            mentions_bot: false,
            replies_to_bot: false,
        };
        let ctx = self
            .context_with(&edited.location, &edited.author, recorded)
            .await;
        self.features.moderation.screen(&ctx, &edited).await.actions
    }

    /// Remembers the role a member had when they last spoke (reports read it).
    pub(super) async fn record_role(&self, location: &Location, author: &Author) {
        let result = self
            .store
            .record_member_role(
                location.platform,
                &location.community,
                &author.id,
                author.role,
                SystemTime::now(),
            )
            .await;
        log_store_error("record_member_role", result);
    }

    /// The role Steward last saw `user` have in the location's community; a member if never
    /// seen.
    async fn known_role(&self, location: &Location, user: &UserId) -> Role {
        match self
            .store
            .member_role(location.platform, &location.community, user)
            .await
        {
            Ok(role) => role.unwrap_or(Role::Member),
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: read a member's role");
                Role::Member
            }
        }
    }

    pub(super) async fn reaction_removed(&self, reaction: Reaction) -> Vec<Action> {
        self.count_reaction(&reaction, false).await;
        self.feedback_reaction(&reaction, false).await;
        // Only a recorded member's ✅ ever solved anything, so only theirs is taken back.
        if self.recorded(&reaction.location, &reaction.user).await {
            self.features
                .conversations
                .reaction_removed(&reaction)
                .await;
        }
        Vec::new()
    }

    pub(super) async fn reaction_added(&self, reaction: Reaction) -> Vec<Action> {
        self.count_reaction(&reaction, true).await;
        // Nothing of a member Steward does not record is stored: no vote, no ✅.
        if self.recorded(&reaction.location, &reaction.user).await {
            // A 👍/👎 on one of Steward's answers is feedback; any other reaction is left alone.
            self.feedback_reaction(&reaction, true).await;
            // A ✅ by the member who asked marks their conversation solved.
            self.features.conversations.reaction(&reaction).await;
        }
        // A 🙅 by the member who asked, on Steward's answer or on their own message, takes
        // Steward's answer back.
        let own = self.own_user(reaction.location.platform);
        match help_channels::opt_out(&self.store, own.as_ref(), &self.withdrawn, &reaction).await {
            Ok(deletions) if !deletions.is_empty() => return deletions,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(label = error.label(), %error, "store failed: read an answer taken back");
            }
        }
        if !self.features.moderation.is_report(&reaction.emoji) {
            return Vec::new();
        }
        // The store knows no roles; reports are counted against the reporter as a member.
        let reporter = Author {
            id: reaction.user.clone(),
            display_name: String::new(),
            role: crate::core::Role::Member,
            is_bot: false,
        };
        let ctx = self.context(&reaction.location, &reporter).await;
        if let Err(actions) = self.admit(&ctx, Feature::Report, None) {
            return actions;
        }
        self.features.moderation.reaction(&ctx, &reaction).await
    }
}
