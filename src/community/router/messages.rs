//! Members' messages before a feature sees them: recording (with the author's role), screening,
//! deciding whether a message is addressed to the bot and answering it once (live or caught up
//! after downtime), edits (only the author's, screened again), and reports (weighed by the
//! reported author's role).

use std::time::{Duration, SystemTime};

use super::{log_store_error, Feature, Router};
use crate::community::mention::strip_mention;
use crate::core::{Action, Author, Location, Message, MessageId, Reaction, Role, UserId};
use crate::store::EditOutcome;

/// How often, and how long apart, an edit of a message not yet recorded is tried.
const EDIT_WAITS: u32 = 10;
const EDIT_WAIT: Duration = Duration::from_millis(200);

impl Router {
    pub(super) async fn message_posted(&self, message: Message) -> Vec<Action> {
        log_store_error(
            "record_message",
            self.store.record_message(&message).await.map(|_| ()),
        );
        if message.author.is_bot {
            return Vec::new();
        }
        self.record_role(&message.location, &message.author).await;
        let ctx = self.context(&message.location, &message.author).await;
        let screened = self.features.moderation.screen(&ctx, &message).await;
        let mut actions = screened.actions;
        if screened.removed {
            return actions;
        }
        // Its conversation is (re)indexed in the background.
        self.features.conversations.posted(&message).await;
        if let Some(question) = self.addressed(&message) {
            if self.first_answer(&message).await {
                actions.extend(self.ask(&ctx, &question, Some(message.id)).await);
            }
        }
        actions
    }

    /// The question, if `message` is addressed to the bot (a mention, or a reply to it).
    fn addressed(&self, message: &Message) -> Option<String> {
        let (mentioned, question) = strip_mention(&message.text, &self.settings.bot_name);
        (mentioned || message.mentions_bot || message.replies_to_bot).then(|| question.into_owned())
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
    /// addressed to the bot within `catch_up_minutes` of now. It is not screened: the flood
    /// rule would read a burst of catch-up deliveries as flooding, and moderators see reports.
    pub(super) async fn missed_message(&self, message: Message, now: SystemTime) -> Vec<Action> {
        log_store_error(
            "record_message",
            self.store.record_message(&message).await.map(|_| ()),
        );
        if message.author.is_bot {
            return Vec::new();
        }
        self.features.conversations.posted(&message).await;
        let window = Duration::from_secs(u64::from(self.settings.catch_up_minutes) * 60);
        let recent = now
            .duration_since(message.created_at)
            .map(|age| age <= window)
            .unwrap_or(true);
        let Some(question) = self.addressed(&message).filter(|_| recent) else {
            return Vec::new();
        };
        if self.settings.catch_up_minutes == 0 || !self.first_answer(&message).await {
            return Vec::new();
        }
        tracing::info!(message = %message.id, "answering a question asked while Steward was stopped");
        let ctx = self.context(&message.location, &message.author).await;
        self.ask(&ctx, &question, Some(message.id)).await
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
        let ctx = self.context(&edited.location, &edited.author).await;
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

    pub(super) async fn reaction_added(&self, reaction: Reaction) -> Vec<Action> {
        // A 👍/👎 on one of Steward's answers is feedback; any other reaction is left alone.
        self.feedback_reaction(&reaction, true).await;
        // A ✅ by the member who asked marks their conversation solved.
        self.features.conversations.reaction(&reaction).await;
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
