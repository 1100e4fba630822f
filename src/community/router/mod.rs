//! The router: records what happened (`messages`: members' messages, edits, reports), unless
//! the author or the channel is excluded from recording (`privacy`), builds one [`Context`]
//! per event, applies the limits every feature shares (question length, quotas, one notice
//! per window: `limits`), hands the event to the feature that decides, and returns the
//! actions for the adapter to execute, counting events and actions in the metrics (`labels`).

mod feedback;
mod labels;
mod limits;
mod messages;
mod privacy;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::notices::NoticeGate;
use super::quotas::{Feature, Quotas};
use crate::config::QuotaSettings;
use crate::core::{
    Action, Author, Body, Capabilities, Command, Event, EventKind, Language, Location, MessageId,
    Platform, Reply, ReportWindow, UserId, KB_REPORT_DEFAULT_DAYS, SUMMARY_DEFAULT_MESSAGES,
};
use crate::features::ask::Ask;
use crate::features::conversations::Conversations;
use crate::features::help::help;
use crate::features::help_channels::Withdrawn;
use crate::features::moderation::{self, Moderation};
use crate::features::privacy::Privacy;
use crate::features::report::{ReportReply, Reports};
use crate::features::settings::setting;
use crate::features::summarize::Summarize;
use crate::features::{feedback as answer_feedback, gaps};
use crate::features::{CommunitySettings, Context};
use crate::jobs::Worker;
use crate::llm::ChatMessage;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::store::Store;
use crate::strings::Strings;
use labels::{action_label, event_label};

/// What the router knows about the bot.
#[derive(Debug, Clone)]
pub struct RouterSettings {
    pub bot_name: String,
    /// The default language of communities that set none.
    pub language: Language,
    /// Longer questions are refused before the engine sees them.
    pub max_question_chars: usize,
    /// Missed questions (posted while Steward was stopped) at most this old are answered at
    /// start; 0: none are.
    pub catch_up_minutes: u32,
}

impl RouterSettings {
    pub fn new(bot_name: impl Into<String>, language: Language) -> Self {
        Self {
            bot_name: bot_name.into(),
            language,
            max_question_chars: 4000,
            catch_up_minutes: 10,
        }
    }
}

/// The features a router hands events to.
pub struct Features {
    pub ask: Ask,
    pub moderation: Moderation,
    pub summarize: Summarize,
    /// Community conversations in the knowledge base (indexing, ✅, `kb mark`).
    pub conversations: Conversations,
    /// Members' data: the `privacy` commands, forgetting, exports, retention.
    pub privacy: Arc<Privacy>,
    /// Community reports: the `report` command, and the digest and alert loop
    /// (`app::insights`).
    pub reports: Arc<Reports>,
}

/// What runs beside event handling: the workers of durable background jobs, and the outbox
/// through which their actions reach the adapters.
pub struct Background {
    pub outbox: Arc<Outbox>,
    pub workers: Vec<Arc<Worker>>,
}

/// Routes core events to features.
pub struct Router {
    settings: RouterSettings,
    store: Arc<Store>,
    features: Features,
    /// Each adapter registers its platform's facts when it starts.
    capabilities: RwLock<HashMap<Platform, Arc<Capabilities>>>,
    /// Steward's own user on each platform, as its adapter registered it (`feedback`).
    own_users: RwLock<HashMap<Platform, UserId>>,
    quotas: Quotas,
    notices: NoticeGate,
    metrics: Arc<Metrics>,
    background: Background,
    /// Messages whose authors opted out of an answer (🙅 on their own message).
    withdrawn: Withdrawn,
}

impl Router {
    /// A router. The console's capabilities are known; other adapters register theirs with
    /// [`Router::register`] when they start.
    pub fn new(
        settings: RouterSettings,
        store: Arc<Store>,
        features: Features,
        background: Background,
        quotas: &QuotaSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let console = Capabilities::console();
        let capabilities = HashMap::from([(console.platform, Arc::new(console))]);
        Self {
            settings,
            store,
            features,
            capabilities: RwLock::new(capabilities),
            own_users: RwLock::new(HashMap::new()),
            quotas: Quotas::new(quotas.clone()),
            notices: NoticeGate::new(quotas.window),
            metrics,
            background,
            withdrawn: Withdrawn::default(),
        }
    }

    /// The adapter of `platform` takes delivery of background actions (verdicts of queued
    /// reviews) from now on.
    pub fn subscribe(&self, platform: Platform) -> mpsc::Receiver<Action> {
        self.background.outbox.subscribe(platform)
    }

    /// Starts the background workers; each finishes its job in hand once `shutdown` is
    /// cancelled. Await the handles to know they stopped.
    pub fn start_background(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        self.background
            .workers
            .iter()
            .map(|worker| tokio::spawn(worker.clone().run(shutdown.clone())))
            .collect()
    }

    pub fn settings(&self) -> &RouterSettings {
        &self.settings
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Registers the facts of an adapter's platform (replacing earlier ones).
    pub fn register(&self, capabilities: Capabilities) {
        let mut all = self
            .capabilities
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.insert(capabilities.platform, Arc::new(capabilities));
    }

    /// The facts of `platform`, as its adapter registered them (the console's, with a
    /// warning, if it never did: a wiring mistake, not a user's).
    pub fn capabilities(&self, platform: Platform) -> Arc<Capabilities> {
        let all = self
            .capabilities
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.get(&platform).cloned().unwrap_or_else(|| {
            tracing::warn!(%platform, "no capabilities registered for this platform");
            Arc::new(Capabilities {
                platform,
                ..Capabilities::console()
            })
        })
    }

    /// The facts of `platform` if its adapter registered them (the background loops skip a
    /// platform whose adapter has not started yet).
    pub fn registered_capabilities(&self, platform: Platform) -> Option<Arc<Capabilities>> {
        let all = self
            .capabilities
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.get(&platform).cloned()
    }

    /// The report feature (the digest and alert loop runs with it).
    pub fn reports(&self) -> &Arc<Reports> {
        &self.features.reports
    }

    /// Where actions decided outside any event go (alerts, digests).
    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.background.outbox
    }

    /// Handles one event. Store failures are logged and do not stop the answer.
    pub async fn handle(&self, event: Event) -> Vec<Action> {
        let actions = self.route(event).await;
        for action in &actions {
            let (platform, kind) = action_label(action);
            self.metrics.platform_event(platform.as_str(), "out", kind);
        }
        actions
    }

    async fn route(&self, event: Event) -> Vec<Action> {
        let (platform, kind) = event_label(&event.kind);
        self.metrics.platform_event(platform.as_str(), "in", kind);
        match event.kind {
            EventKind::MessagePosted(message) => self.message_posted(message).await,
            EventKind::MissedMessage(message) => self.missed_message(message, event.at).await,
            EventKind::CommandInvoked {
                location,
                invoker,
                command,
                message,
            } => {
                let ctx = self.context(&location, &invoker).await;
                self.command_invoked(&ctx, &invoker, command, message).await
            }
            EventKind::MessageEdited {
                location,
                message,
                editor,
                new_text,
            } => {
                self.message_edited(location, message, editor, new_text, event.at)
                    .await
            }
            EventKind::MessageDeleted { location, message } => {
                let result = self
                    .store
                    .delete_message(location.platform, &message, event.at)
                    .await;
                log_store_error("delete_message", result.map(|_| ()));
                // At once, not queued: a deleted message must never be retrieved or cited.
                self.features
                    .conversations
                    .deleted(location.platform, &message)
                    .await;
                Vec::new()
            }
            EventKind::MemberJoined {
                platform,
                community,
                member,
            } => {
                if self.member_recorded(platform, &community, &member.id).await {
                    log_store_error(
                        "upsert_user",
                        self.store.upsert_user(platform, &member).await,
                    );
                }
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
            EventKind::ReactionAdded(reaction) => self.reaction_added(reaction).await,
            EventKind::ReactionRemoved(reaction) => self.reaction_removed(reaction).await,
            EventKind::ThreadCreated { .. } => Vec::new(),
            EventKind::ThreadSolved { location, solved } => {
                self.features
                    .conversations
                    .thread_solved(&location, solved)
                    .await;
                Vec::new()
            }
            EventKind::MessagePinned {
                location,
                message,
                by,
                role,
            } => {
                // A pin stands for `kb mark`, which is for moderators only.
                if role.can_moderate() {
                    self.features
                        .conversations
                        .pinned(&location, &message)
                        .await;
                } else {
                    tracing::debug!(%message, %by, "a member's pin vouches for nothing");
                }
                Vec::new()
            }
        }
    }

    /// The context of an event by `actor` at `location`: the community's settings, and
    /// whether the actor is recorded there, are read here, once.
    async fn context(&self, location: &Location, actor: &Author) -> Context {
        let recorded = self.recorded(location, &actor.id).await;
        self.context_with(location, actor, recorded).await
    }

    /// [`Router::context`] when whether the actor is recorded is known already.
    async fn context_with(&self, location: &Location, actor: &Author, recorded: bool) -> Context {
        let settings = match self
            .store
            .settings(location.platform, &location.community)
            .await
        {
            Ok(values) => CommunitySettings::new(values),
            Err(error) => {
                tracing::warn!(label = error.label(), %error, "reading the community's settings failed; using defaults");
                CommunitySettings::default()
            }
        };
        let language = settings.language(self.settings.language);
        Context {
            location: location.clone(),
            actor: actor.id.clone(),
            role: actor.role,
            language,
            strings: Strings::new(language),
            settings,
            capabilities: self.capabilities(location.platform),
            recorded,
        }
    }

    async fn command_invoked(
        &self,
        ctx: &Context,
        invoker: &Author,
        command: Command,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        if command.requires_moderator() && !ctx.role.can_moderate() {
            let text = ctx.strings.moderators_only().to_string();
            return vec![reply(ctx, message, text, true)];
        }
        if ctx.recorded {
            self.record_role(&ctx.location, invoker).await;
        }
        // Commands count toward the flood rule like messages, and their text is screened by
        // the same rules (`/ask free nitro` is spam too).
        let screened = self
            .features
            .moderation
            .screen_command(ctx, invoker, command.text(), message.as_ref())
            .await;
        if screened.removed {
            return screened.actions;
        }
        let mut actions = screened.actions;
        actions.extend(self.command(ctx, command, message).await);
        actions
    }

    async fn command(
        &self,
        ctx: &Context,
        command: Command,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        let strings = ctx.strings;
        match command {
            Command::Help => {
                let text = help(
                    ctx,
                    &self.settings.bot_name,
                    self.features.moderation.report_emoji(),
                );
                vec![reply(ctx, message, text, true)]
            }
            Command::Ask { question } => self.ask(ctx, &question, message).await,
            Command::Summarize { messages } => {
                let count = messages.unwrap_or(SUMMARY_DEFAULT_MESSAGES);
                self.summarize(ctx, count, message).await
            }
            Command::Setting { key, value } => {
                let retention = self.features.privacy.settings().retain_messages_days;
                let text = setting(&self.store, ctx, key, value, retention).await;
                vec![reply(ctx, message, text, true)]
            }
            Command::Cases => {
                let text = moderation::cases::list(self.store.as_ref(), ctx).await;
                vec![reply(ctx, message, text, true)]
            }
            Command::Case { id, decision } => {
                let (text, mut actions) =
                    moderation::cases::case(self.store.as_ref(), ctx, id, decision).await;
                actions.insert(0, reply(ctx, message, text, true));
                actions
            }
            Command::Rules { text } => {
                // Showing the rules may be public; changing them answers the moderator only.
                let private = text.is_some();
                let answer = moderation::community_rules::rules(&self.store, ctx, text).await;
                vec![reply(ctx, message, answer, private)]
            }
            Command::Appeal { case, text } => {
                let (answer, mut actions) =
                    moderation::appeals::appeal(self.store.as_ref(), ctx, case, &text).await;
                actions.insert(0, reply(ctx, message, answer, true));
                actions
            }
            Command::KbGaps { days } => {
                let days = days.unwrap_or(KB_REPORT_DEFAULT_DAYS);
                let text = gaps::report(&self.store, ctx, days).await;
                vec![reply(ctx, message, text, true)]
            }
            Command::KbFeedback { days } => {
                let days = days.unwrap_or(KB_REPORT_DEFAULT_DAYS);
                let text = answer_feedback::report(&self.store, ctx, days).await;
                vec![reply(ctx, message, text, true)]
            }
            Command::KbMark { message: target } => {
                let text = self.features.conversations.mark(ctx, &target).await;
                vec![reply(ctx, message, text, true)]
            }
            Command::Report { window, channel } => {
                let window = window.unwrap_or(ReportWindow::DEFAULT);
                self.report(ctx, window, channel.as_deref(), message).await
            }
            Command::Privacy(command) => self.privacy_command(ctx, command, message).await,
            Command::BadArguments { command } => {
                vec![reply(
                    ctx,
                    message,
                    strings.usage(command, ctx.prefix()),
                    true,
                )]
            }
        }
    }

    async fn ask(&self, ctx: &Context, question: &str, message: Option<MessageId>) -> Vec<Action> {
        self.answer_question(ctx, question, message, Vec::new(), None)
            .await
    }

    /// Answers `question` (asked in `message`): `earlier` are the turns of the conversation it
    /// continues (oldest first; empty for a new question); with `new_thread`, the answer opens
    /// a thread of that name on `message` instead of replying to it.
    async fn answer_question(
        &self,
        ctx: &Context,
        question: &str,
        message: Option<MessageId>,
        earlier: Vec<ChatMessage>,
        new_thread: Option<String>,
    ) -> Vec<Action> {
        let started = Instant::now();
        let question = question.trim();
        if question.is_empty() {
            let text = ctx.strings.empty_question(ctx.prefix());
            return vec![reply(ctx, message, text, false)];
        }
        let chars = question.chars().count();
        if chars > self.settings.max_question_chars {
            self.metrics.feature_request("ask", "too_long", 0.0);
            let text = ctx
                .strings
                .question_too_long(chars, self.settings.max_question_chars);
            return vec![reply(ctx, message, text, true)];
        }
        if let Err(actions) = self.admit(ctx, Feature::Ask, message.clone()) {
            return actions;
        }
        match self.features.ask.follow_up(ctx, question, earlier).await {
            Ok(stream) => {
                let body = Body::Streaming(self.measured(stream, "ask", started));
                let action = match (new_thread, message) {
                    (Some(thread_name), Some(message)) => Action::ReplyInThread {
                        location: ctx.location.clone(),
                        message,
                        thread_name,
                        body,
                    },
                    (_, in_reply_to) => Action::Reply(Reply {
                        location: ctx.location.clone(),
                        in_reply_to,
                        body,
                        only_invoker: false,
                    }),
                };
                vec![action]
            }
            Err(error) => self.engine_refused(ctx, message, &error, "ask", started),
        }
    }

    async fn summarize(
        &self,
        ctx: &Context,
        count: u32,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        let started = Instant::now();
        if let Err(actions) = self.admit(ctx, Feature::Summarize, message.clone()) {
            return actions;
        }
        match self.features.summarize.summarize(ctx, count).await {
            Ok(text) => {
                let seconds = started.elapsed().as_secs_f64();
                self.metrics
                    .feature_request("summarize", "answered", seconds);
                vec![reply(ctx, message, text, false)]
            }
            Err(error) => self.engine_refused(ctx, message, &error, "summarize", started),
        }
    }

    /// `report`: the community's health, posted with its charts where the command was typed;
    /// an unknown channel or a failure answers the moderator alone.
    async fn report(
        &self,
        ctx: &Context,
        window: ReportWindow,
        channel: Option<&str>,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        let started = Instant::now();
        let steward = self.own_user(ctx.location.platform);
        let reports = &self.features.reports;
        let answer = reports
            .command(ctx, window, channel, steward.as_ref(), SystemTime::now())
            .await;
        let seconds = started.elapsed().as_secs_f64();
        match answer {
            ReportReply::Post(report) => {
                self.metrics.feature_request("report", "posted", seconds);
                vec![report.post_at(ctx.location.clone())]
            }
            ReportReply::Text(text) => {
                self.metrics.feature_request("report", "refused", seconds);
                vec![reply(ctx, message, text, true)]
            }
        }
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
        let capabilities = self.capabilities(platform);
        let text = strings.setup_notice(&self.settings.bot_name, &capabilities.command_prefix);
        match (notice_location, added_by) {
            (Some(location), _) => vec![Action::Reply(Reply {
                location,
                in_reply_to: None,
                body: Body::Text(text),
                only_invoker: false,
            })],
            (None, Some(user)) => vec![Action::PrivateNotice {
                platform,
                user,
                text,
                attachment: None,
            }],
            (None, None) => Vec::new(),
        }
    }
}

/// A text reply at the context's location.
pub(super) fn reply(
    ctx: &Context,
    in_reply_to: Option<MessageId>,
    text: String,
    only_invoker: bool,
) -> Action {
    Action::Reply(Reply {
        location: ctx.location.clone(),
        in_reply_to,
        body: Body::Text(text),
        only_invoker,
    })
}

fn log_store_error(operation: &str, result: Result<(), crate::store::StoreError>) {
    if let Err(error) = result {
        tracing::error!(operation, label = error.label(), %error, "store failed");
    }
}
