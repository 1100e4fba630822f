//! The router: records what happened (`messages`: members' messages, edits, reports), unless
//! the author or the channel is excluded from recording (`privacy`), builds one [`Context`]
//! per event, applies the limits every feature shares (question length, quotas, one notice
//! per window: `limits`), hands the event to the feature that decides, and returns the
//! actions for the adapter to execute, counting events and actions in the metrics (`labels`).

mod answers;
mod events;
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
                self.message_deleted(location, message, event.at).await
            }
            EventKind::MemberJoined {
                platform,
                community,
                member,
            } => self.member_joined(platform, community, member).await,
            EventKind::BotAdded {
                platform,
                community,
                community_name,
                added_by,
                notice_location,
            } => {
                self.bot_added(
                    platform,
                    community,
                    community_name,
                    added_by,
                    notice_location,
                )
                .await
            }
            EventKind::ReactionAdded(reaction) => self.reaction_added(reaction).await,
            EventKind::ReactionRemoved(reaction) => self.reaction_removed(reaction).await,
            EventKind::ThreadCreated { .. } => Vec::new(),
            EventKind::ThreadSolved { location, solved } => {
                self.thread_solved(location, solved).await
            }
            EventKind::MessagePinned {
                location,
                message,
                by,
                role,
            } => self.message_pinned(location, message, by, role).await,
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

pub(super) fn log_store_error(operation: &str, result: Result<(), crate::store::StoreError>) {
    if let Err(error) = result {
        tracing::error!(operation, label = error.label(), %error, "store failed");
    }
}
