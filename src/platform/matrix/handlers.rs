//! Sync handlers and the worker behind them.
//!
//! matrix-sdk awaits event handlers inside the sync loop, so a handler that generated an answer
//! would stall syncing (and E2EE key delivery) for the whole answer. Handlers here only queue a
//! [`Job`]; the worker runs each job as its own task: look up what conversion needs (roles,
//! names, relations), convert, dispatch, execute the actions.

use std::sync::Arc;

use matrix_sdk::event_handler::EventHandlerHandle;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::member::{
    MembershipState, OriginalSyncRoomMemberEvent, StrippedRoomMemberEvent,
};
use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use matrix_sdk::ruma::events::room::pinned_events::OriginalSyncRoomPinnedEventsEvent;
use matrix_sdk::ruma::events::room::redaction::OriginalSyncRoomRedactionEvent;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedUserId, UserId};
use matrix_sdk::{Client, Room, RoomState};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::conversion::{self, RelationFacts, SenderContext};
use super::{buttons, rooms, send, Adapter};
use crate::core::{Event, EventKind};

/// Work queued by a sync handler (or, for missed messages, by start-up).
pub(crate) enum Job {
    Message(Room, Box<OriginalSyncRoomMessageEvent>),
    /// A message posted while Steward was stopped (see `catch_up`).
    Missed(Room, Box<OriginalSyncRoomMessageEvent>),
    Redaction(Room, Box<OriginalSyncRoomRedactionEvent>),
    Reaction(Room, Box<OriginalSyncReactionEvent>),
    Membership(Room, Box<OriginalSyncRoomMemberEvent>),
    Invite(Room, OwnedUserId),
    /// The room's pinned events changed.
    Pins(Room, Box<OriginalSyncRoomPinnedEventsEvent>),
}

/// The message that led to an action: replies mention its sender.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub event_id: OwnedEventId,
    pub sender: OwnedUserId,
}

/// Registers the sync handlers; each queues a job. Returns their handles so that `run` can
/// remove them (which drops their queue senders) when it stops.
pub(crate) fn register(client: &Client, jobs: mpsc::Sender<Job>) -> Vec<EventHandlerHandle> {
    let queue = |jobs: &mpsc::Sender<Job>| jobs.clone();
    let message = queue(&jobs);
    let redaction = queue(&jobs);
    let reaction = queue(&jobs);
    let membership = queue(&jobs);
    let pins = queue(&jobs);
    let invite = jobs;
    vec![
        client.add_event_handler(move |event: OriginalSyncRoomMessageEvent, room: Room| {
            let jobs = message.clone();
            async move { enqueue(&jobs, Job::Message(room, Box::new(event))).await }
        }),
        client.add_event_handler(move |event: OriginalSyncRoomRedactionEvent, room: Room| {
            let jobs = redaction.clone();
            async move { enqueue(&jobs, Job::Redaction(room, Box::new(event))).await }
        }),
        client.add_event_handler(move |event: OriginalSyncReactionEvent, room: Room| {
            let jobs = reaction.clone();
            async move { enqueue(&jobs, Job::Reaction(room, Box::new(event))).await }
        }),
        client.add_event_handler(move |event: OriginalSyncRoomMemberEvent, room: Room| {
            let jobs = membership.clone();
            async move { enqueue(&jobs, Job::Membership(room, Box::new(event))).await }
        }),
        client.add_event_handler(
            move |event: OriginalSyncRoomPinnedEventsEvent, room: Room| {
                let jobs = pins.clone();
                async move { enqueue(&jobs, Job::Pins(room, Box::new(event))).await }
            },
        ),
        client.add_event_handler(
            move |event: StrippedRoomMemberEvent, room: Room, client: Client| {
                let jobs = invite.clone();
                async move {
                    let for_us = client.user_id() == Some(&*event.state_key);
                    if for_us && event.content.membership == MembershipState::Invite {
                        enqueue(&jobs, Job::Invite(room, event.sender)).await;
                    }
                }
            },
        ),
    ]
}

/// Queues an invite found in the store (it arrived before the handlers existed).
pub(crate) async fn queue_pending_invite(jobs: &mpsc::Sender<Job>, room: Room) {
    match room.invite_details().await {
        Ok(invite) => enqueue(jobs, Job::Invite(room, invite.inviter_id)).await,
        Err(error) => {
            tracing::warn!(room = %room.room_id(), %error, "cannot read a pending invite");
        }
    }
}

/// Queues a message the first sync of a restart brought (posted while Steward was stopped).
pub(crate) async fn queue_missed(
    jobs: &mpsc::Sender<Job>,
    room: Room,
    event: OriginalSyncRoomMessageEvent,
) {
    enqueue(jobs, Job::Missed(room, Box::new(event))).await;
}

/// Queues a redaction the first sync of a restart brought (or one read back from the gap a cut
/// short timeline left): made while Steward was stopped.
pub(crate) async fn queue_redaction(
    jobs: &mpsc::Sender<Job>,
    room: Room,
    event: OriginalSyncRoomRedactionEvent,
) {
    enqueue(jobs, Job::Redaction(room, Box::new(event))).await;
}

async fn enqueue(jobs: &mpsc::Sender<Job>, job: Job) {
    // Waiting when the queue is full slows the sync down instead of dropping events.
    if jobs.send(job).await.is_err() {
        tracing::debug!("matrix worker stopped; event dropped");
    }
}

/// Events handled at once; more wait in the queue (and, when it is full, the sync loop waits):
/// nothing is dropped, and a burst cannot start unbounded tasks.
const MAX_EVENTS_IN_FLIGHT: usize = 16;

/// Runs queued jobs, each as its own task (at most [`MAX_EVENTS_IN_FLIGHT`] at once), until
/// `stop` is cancelled; then it runs what is still queued and waits for every task to finish.
pub(crate) async fn work(
    adapter: Arc<Adapter>,
    mut queue: mpsc::Receiver<Job>,
    stop: CancellationToken,
) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            job = queue.recv(), if tasks.len() < MAX_EVENTS_IN_FLIGHT => match job {
                Some(job) => { tasks.spawn(process(adapter.clone(), job)); }
                None => break,
            },
            Some(done) = tasks.join_next() => log_panic(done),
            _ = stop.cancelled() => {
                queue.close();
                while let Some(job) = queue.recv().await {
                    while tasks.len() >= MAX_EVENTS_IN_FLIGHT {
                        if let Some(done) = tasks.join_next().await {
                            log_panic(done);
                        }
                    }
                    tasks.spawn(process(adapter.clone(), job));
                }
                break;
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        log_panic(done);
    }
}

fn log_panic(result: Result<(), tokio::task::JoinError>) {
    if let Err(error) = result {
        tracing::error!(%error, "a matrix event task panicked");
    }
}

/// One job. Boxed: the SDK's futures are deep, and `JoinSet::spawn` must prove them `Send`.
fn process(
    adapter: Arc<Adapter>,
    job: Job,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        let adapter = &*adapter;
        match job {
            Job::Message(room, event) => on_message(adapter, room, *event).await,
            Job::Missed(room, event) => on_missed(adapter, room, *event).await,
            // Every redaction counts, also one from before Steward's latest join (a message
            // recorded during an earlier membership): deleting what is not stored changes
            // nothing.
            Job::Redaction(room, event) => {
                if joined(&room) {
                    // A redacted reaction is a reaction taken back.
                    let redacted = event
                        .redacts
                        .as_deref()
                        .or(event.content.redacts.as_deref());
                    let reaction = redacted.and_then(|id| {
                        let mut reactions = adapter.reactions.lock().expect("not poisoned");
                        reactions.take(id.as_str())
                    });
                    if let Some(reaction) = reaction {
                        let removed = Event::now(EventKind::ReactionRemoved(reaction));
                        dispatch(adapter, removed, None).await;
                        return;
                    }
                    let context = rooms::room_context(adapter, &room).await;
                    if let Some(event) = conversion::redaction_event(&event, &context) {
                        dispatch(adapter, event, None).await;
                    }
                }
            }
            Job::Reaction(room, event) => {
                if joined(&room) && !rooms::is_backlog(adapter, &room, event.origin_server_ts).await
                {
                    // A decision reaction on a case notice stands for `case N <decision>`.
                    if let Some(command) = buttons::decision_event(adapter, &room, &event).await {
                        let origin = Origin {
                            event_id: event.event_id.clone(),
                            sender: event.sender.clone(),
                        };
                        dispatch(adapter, command, Some(&origin)).await;
                        return;
                    }
                    let context = rooms::room_context(adapter, &room).await;
                    let reaction_id = event.event_id.clone();
                    if let Some(event) = conversion::reaction_event(&event, &context) {
                        if let EventKind::ReactionAdded(reaction) = &event.kind {
                            let mut reactions = adapter.reactions.lock().expect("not poisoned");
                            reactions.insert(reaction_id.as_str(), reaction.clone());
                        }
                        dispatch(adapter, event, None).await;
                    }
                }
            }
            Job::Membership(room, event) => rooms::on_membership(adapter, room, *event).await,
            Job::Invite(room, inviter) => rooms::on_invite(adapter, room, inviter).await,
            // A pin (a moderator's by default) vouches for the pinned message's conversation.
            Job::Pins(room, event) => {
                if joined(&room) {
                    let context = rooms::room_context(adapter, &room).await;
                    let role = rooms::role_of(adapter, &room, &event.sender).await;
                    for pin in conversion::pinned_events(&event, &context, role) {
                        dispatch(adapter, pin, None).await;
                    }
                }
            }
        }
    })
}

fn joined(room: &Room) -> bool {
    room.state() == RoomState::Joined
}

async fn on_message(adapter: &Adapter, room: Room, event: OriginalSyncRoomMessageEvent) {
    if !joined(&room) {
        return;
    }
    if event.sender == adapter.bot_id {
        record_own(adapter, &room, &event).await;
        return;
    }
    if rooms::is_backlog(adapter, &room, event.origin_server_ts).await {
        tracing::debug!(event = %event.event_id, "skipping a message from before Steward joined");
        return;
    }
    let Some((core_event, origin)) = convert(adapter, &room, &event).await else {
        return;
    };
    dispatch(adapter, core_event, Some(&origin)).await;
}

/// Steward's own message (or edit), as the sync returns it: recorded through the router like a
/// bot's message (it is never answered), so that members' 👍/👎 on an answer find it, with its
/// text and sources line.
async fn record_own(adapter: &Adapter, room: &Room, event: &OriginalSyncRoomMessageEvent) {
    let context = rooms::room_context(adapter, room).await;
    if let Some(own) = conversion::own_message_event(event, &context) {
        dispatch(adapter, own, None).await;
    }
}

/// A message posted while Steward was stopped: the router records it and answers it once if
/// it was addressed to the bot recently enough. Commands, edits and notices from then are not
/// replayed.
async fn on_missed(adapter: &Adapter, room: Room, event: OriginalSyncRoomMessageEvent) {
    if event.sender == adapter.bot_id
        || !joined(&room)
        || rooms::is_backlog(adapter, &room, event.origin_server_ts).await
    {
        return;
    }
    let Some((core_event, origin)) = convert(adapter, &room, &event).await else {
        return;
    };
    match core_event.kind {
        EventKind::MessagePosted(message) => {
            tracing::debug!(event = %event.event_id, "delivering a message missed while stopped");
            // `at` is now: the router measures the message's age from it.
            let missed = Event::now(EventKind::MissedMessage(message));
            dispatch(adapter, missed, Some(&origin)).await;
        }
        _ => tracing::debug!(event = %event.event_id, "a missed command or edit is not replayed"),
    }
}

/// Looks up what conversion needs and converts; also returns the message as the origin of the
/// actions it leads to.
async fn convert(
    adapter: &Adapter,
    room: &Room,
    event: &OriginalSyncRoomMessageEvent,
) -> Option<(Event, Origin)> {
    let started = std::time::Instant::now();
    let context = rooms::room_context(adapter, room).await;
    let sender = sender_context(adapter, room, &event.sender).await;
    let facts = relation_facts(adapter, room, event).await;
    let core_event = conversion::message_event(event, &context, &sender, facts)?;
    // Where time goes between a member's message and the answer (debug level).
    let sent_at = event.origin_server_ts.to_system_time();
    tracing::debug!(
        event = %event.event_id,
        since_sent_ms = sent_at.and_then(|at| at.elapsed().ok()).map(|d| d.as_millis() as u64),
        lookups_ms = started.elapsed().as_millis() as u64,
        "message converted"
    );
    let origin = Origin {
        event_id: event.event_id.clone(),
        sender: event.sender.clone(),
    };
    Some((core_event, origin))
}

/// Runs an event through the router and executes the actions in order.
pub(crate) async fn dispatch(adapter: &Adapter, event: Event, origin: Option<&Origin>) {
    let started = std::time::Instant::now();
    let actions = adapter.router.handle(event).await;
    tracing::debug!(
        actions = actions.len(),
        dispatch_ms = started.elapsed().as_millis() as u64,
        "dispatched"
    );
    for action in actions {
        send::execute(adapter, action, origin).await;
    }
}

async fn sender_context(adapter: &Adapter, room: &Room, sender: &UserId) -> SenderContext {
    let display_name = match room.get_member_no_sync(sender).await {
        Ok(Some(member)) => member.name().to_string(),
        _ => sender.localpart().to_string(),
    };
    SenderContext {
        display_name,
        role: rooms::role_of(adapter, room, sender).await,
        ignored: adapter
            .settings
            .ignore_users
            .iter()
            .any(|user| user == sender.as_str()),
    }
}

async fn relation_facts(
    adapter: &Adapter,
    room: &Room,
    event: &OriginalSyncRoomMessageEvent,
) -> RelationFacts {
    let replies_to_bot = match conversion::reply_target(&event.content) {
        Some(target) => sent_by_bot(adapter, room, target).await,
        None => false,
    };
    let thread_followed = match conversion::thread_root(&event.content) {
        Some(root) => {
            let followed = adapter
                .followed_threads
                .lock()
                .expect("not poisoned")
                .contains(root.as_str());
            followed || sent_by_bot(adapter, room, root).await
        }
        None => false,
    };
    RelationFacts {
        replies_to_bot,
        thread_followed,
    }
}

/// Whether `event_id` is one of the bot's messages: remembered, or looked up (event cache, then
/// the homeserver).
async fn sent_by_bot(adapter: &Adapter, room: &Room, event_id: &EventId) -> bool {
    if adapter
        .own_events
        .lock()
        .expect("not poisoned")
        .contains(event_id.as_str())
    {
        return true;
    }
    match room.load_or_fetch_event(event_id, None).await {
        Ok(event) => event.sender().as_deref() == Some(&*adapter.bot_id),
        Err(error) => {
            tracing::debug!(%error, event = %event_id, "cannot load a related event");
            false
        }
    }
}
