//! Core actions -> Matrix calls: replies (`m.in_reply_to`), thread posts (`m.thread`), streamed
//! answers as bounded edits (`m.replace`, paced by [`crate::platform::pacing`]), reactions, the
//! moderators' room (`private`), private notices and posts with files (`files`); actions on
//! messages and members go through `moderate`, which checks them room by room.
//!
//! Text is Markdown made safe by `format` (hygiene, explicit mentions on every message and
//! edit): it goes out as `formatted_body` (org.matrix.custom.html) with the plain text as
//! `body`. A reply meant for the invoker alone never lands in a public room (`private`); a
//! private notice, with its file if any, goes to a direct chat. A failed action is logged and
//! skipped; it never stops the adapter.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::{Annotation, InReplyTo, Reply as ReplyRelation, Thread};
use matrix_sdk::ruma::events::room::message::{
    Relation, RoomMessageEventContent, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedUserId, RoomId, UserId};
use matrix_sdk::Room;

use super::handlers::Origin;
use super::moderate::{self, MemberAction};
use super::{files, format, private, Adapter};
use crate::core::{Action, Body, Location, MessageId, Reply};
use crate::platform::pacing::{pace, EditPolicy};

/// Where and how a message is posted.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) room: Room,
    pub(super) thread: Option<OwnedEventId>,
    pub(super) in_reply_to: Option<OwnedEventId>,
    /// The member to notify (the author of the message answered).
    pub(super) mention: Option<OwnedUserId>,
    /// `m.notice`: answers only the invoker should see, setup notices and Steward's own posts
    /// (the moderators' room, reports). Bots do not answer notices, so this also keeps
    /// bot-to-bot loops out.
    pub(super) notice: bool,
}

/// Executes one action; failures are logged.
pub(crate) async fn execute(adapter: &Adapter, action: Action, origin: Option<&Origin>) {
    let label = action_label(&action);
    // Boxed: the SDK's futures are deep, and every caller up to `tokio::spawn` must prove
    // them `Send`.
    let run: Pin<Box<dyn Future<Output = Result<(), matrix_sdk::Error>> + Send + '_>> =
        Box::pin(try_execute(adapter, action, origin));
    if let Err(error) = run.await {
        tracing::warn!(action = label, %error, "matrix action failed");
    }
}

async fn try_execute(
    adapter: &Adapter,
    action: Action,
    origin: Option<&Origin>,
) -> Result<(), matrix_sdk::Error> {
    match action {
        Action::Reply(reply) => post_reply(adapter, reply, origin).await,
        Action::ReplyInThread {
            location,
            message,
            body,
            ..
        } => {
            // Matrix threads have no names: the root message names the topic.
            let Some(room) = room_of(adapter, &location) else {
                return Ok(());
            };
            let Some(root) = event_id(&message) else {
                return Ok(());
            };
            let target = Target {
                room,
                mention: mention_for(Some(&root), origin),
                thread: Some(root),
                in_reply_to: None,
                notice: false,
            };
            post(adapter, target, body).await
        }
        Action::EditOwn {
            location,
            message,
            text,
        } => {
            let (Some(room), Some(id)) = (room_of(adapter, &location), event_id(&message)) else {
                return Ok(());
            };
            room.send(format::replacement(&id, &text, false, None))
                .await?;
            Ok(())
        }
        Action::React {
            location,
            message,
            emoji,
        } => {
            let (Some(room), Some(id)) = (room_of(adapter, &location), event_id(&message)) else {
                return Ok(());
            };
            room.send(ReactionEventContent::new(Annotation::new(id, emoji)))
                .await?;
            Ok(())
        }
        Action::DeleteMessage {
            location,
            message,
            reason,
            decided_by,
        } => moderate::redact(adapter, &location, &message, &reason, decided_by.as_ref()).await,
        Action::TimeoutMember {
            community,
            user,
            duration,
            reason,
            decided_by,
            ..
        } => {
            // Matrix has no timeouts; a kick removes the member from the conversation and lets
            // them come back, which is the closest match.
            let reason = format!("{reason} (timeout of {} s)", duration.as_secs());
            let action = MemberAction::Timeout;
            moderate::member_action(
                adapter,
                action,
                &community,
                &user,
                &reason,
                decided_by.as_ref(),
            )
            .await
        }
        Action::RemoveMember {
            community,
            user,
            ban,
            reason,
            decided_by,
            ..
        } => {
            let action = if ban {
                MemberAction::Ban
            } else {
                MemberAction::Kick
            };
            moderate::member_action(
                adapter,
                action,
                &community,
                &user,
                &reason,
                decided_by.as_ref(),
            )
            .await
        }
        Action::LiftTimeout {
            community,
            user,
            reason,
            decided_by,
            ..
        } => {
            let action = MemberAction::InviteBack;
            moderate::member_action(
                adapter,
                action,
                &community,
                &user,
                &reason,
                decided_by.as_ref(),
            )
            .await
        }
        Action::LiftBan {
            community,
            user,
            reason,
            decided_by,
            ..
        } => {
            let action = MemberAction::Unban;
            moderate::member_action(
                adapter,
                action,
                &community,
                &user,
                &reason,
                decided_by.as_ref(),
            )
            .await
        }
        Action::PostToModLog {
            community,
            channel,
            case,
            text,
            ..
        } => private::post_to_moderators(adapter, &community, channel.as_ref(), case, &text).await,
        Action::PostWithFiles {
            location,
            text,
            attachments,
        } => files::post_with_files(adapter, &location, &text, attachments).await,
        Action::PrivateNotice {
            user,
            text,
            attachment,
            ..
        } => {
            let Ok(user) = UserId::parse(user.as_str()) else {
                tracing::warn!(user = %user, "a private notice for someone who is not a Matrix user; dropped");
                return Ok(());
            };
            let room = private::direct_chat(adapter, &user).await?;
            if !text.is_empty() || attachment.is_none() {
                send_text(&room, format::message(&text, true, None), None).await?;
            }
            // The file follows the text that explains it, as an `m.file` (encrypted in an
            // encrypted chat).
            if let Some(file) = attachment {
                files::send_file(&room, file, None).await?;
            }
            Ok(())
        }
    }
}

/// A reply. One meant for the invoker alone goes where only they (and the moderators) can read
/// it: here if this is the community's moderators' room or a room they share with Steward
/// alone, else a direct chat with them (hole 7).
async fn post_reply(
    adapter: &Adapter,
    reply: Reply,
    origin: Option<&Origin>,
) -> Result<(), matrix_sdk::Error> {
    let Some(room) = room_of(adapter, &reply.location) else {
        return Ok(());
    };
    if reply.only_invoker {
        let invoker = origin.map(|origin| &*origin.sender);
        let community = reply.location.community.as_str();
        if !private::is_private_for(adapter, &room, community, invoker).await {
            let Some(invoker) = invoker else {
                tracing::warn!(room = %room.room_id(), "a private reply without an invoker; not posted in a shared room");
                return Ok(());
            };
            let direct = private::direct_chat(adapter, invoker).await?;
            let target = Target {
                room: direct,
                thread: None,
                in_reply_to: None,
                mention: None,
                notice: true,
            };
            return post(adapter, target, reply.body).await;
        }
    }
    let in_reply_to = reply.in_reply_to.as_ref().and_then(event_id);
    let target = Target {
        thread: reply
            .location
            .thread
            .as_ref()
            .and_then(|t| event_id_str(t.as_str())),
        mention: mention_for(in_reply_to.as_deref(), origin),
        in_reply_to,
        // Without an origin this is a notice of Steward's own (the setup notice).
        notice: reply.only_invoker || origin.is_none(),
        room,
    };
    post(adapter, target, reply.body).await
}

/// Posts `body`; a stream is posted at its first text and then edited, bounded by
/// [`EditPolicy::default`], ending with the full text.
async fn post(adapter: &Adapter, target: Target, body: Body) -> Result<(), matrix_sdk::Error> {
    match body {
        Body::Text(text) => {
            post_new(adapter, &target, &text).await?;
            Ok(())
        }
        Body::Streaming(stream) => {
            let posted: Arc<Mutex<Option<(OwnedEventId, String)>>> = Arc::new(Mutex::new(None));
            let streamed = pace(stream, EditPolicy::default(), |text| {
                let (posted, target) = (posted.clone(), target.clone());
                async move {
                    match update(adapter, &target, &posted, &text).await {
                        Ok(()) => ControlFlow::Continue(()),
                        // Nothing is shown: stop generating an answer nobody would see.
                        Err(error) if posted.lock().expect("not poisoned").is_none() => {
                            tracing::warn!(%error, "the first post of a streamed answer failed; generation cancelled");
                            ControlFlow::Break(())
                        }
                        Err(error) => {
                            tracing::warn!(%error, "updating a streamed answer failed");
                            ControlFlow::Continue(())
                        }
                    }
                }
            })
            .await;
            if streamed.text.is_empty() || streamed.stopped {
                return Ok(());
            }
            update(adapter, &target, &posted, &streamed.text).await
        }
    }
}

/// Posts the first text of a stream, or edits the posted message when the text changed.
async fn update(
    adapter: &Adapter,
    target: &Target,
    posted: &Mutex<Option<(OwnedEventId, String)>>,
    text: &str,
) -> Result<(), matrix_sdk::Error> {
    let previous = posted.lock().expect("not poisoned").clone();
    match previous {
        None => {
            let id = post_new(adapter, target, text).await?;
            *posted.lock().expect("not poisoned") = Some((id, text.to_string()));
        }
        Some((_, sent)) if sent == text => {}
        Some((id, _)) => {
            let edit = format::replacement(&id, text, target.notice, target.mention.as_deref());
            target.room.send(edit).await?;
            *posted.lock().expect("not poisoned") = Some((id, text.to_string()));
        }
    }
    Ok(())
}

/// Sends a new message to `target` and remembers it as the bot's (and its thread as followed).
pub(super) async fn post_new(
    adapter: &Adapter,
    target: &Target,
    text: &str,
) -> Result<OwnedEventId, matrix_sdk::Error> {
    let relation = match (&target.thread, &target.in_reply_to) {
        (Some(root), Some(reply)) => {
            Some(Relation::Thread(Thread::reply(root.clone(), reply.clone())))
        }
        (Some(root), None) => Some(Relation::Thread(Thread::plain(root.clone(), root.clone()))),
        (None, Some(reply)) => Some(Relation::Reply(ReplyRelation::new(InReplyTo::new(
            reply.clone(),
        )))),
        (None, None) => None,
    };
    let content = format::message(text, target.notice, target.mention.as_deref());
    let started = std::time::Instant::now();
    let id = send_text(&target.room, content, relation).await?;
    tracing::debug!(event = %id, send_ms = started.elapsed().as_millis() as u64, "posted");
    remember_own(adapter, &id);
    if let Some(root) = &target.thread {
        adapter
            .followed_threads
            .lock()
            .expect("not poisoned")
            .insert(root.as_str());
    }
    Ok(id)
}

/// Remembers `id` as the bot's (a reply to it is a reply to the bot).
pub(super) fn remember_own(adapter: &Adapter, id: &EventId) {
    adapter
        .own_events
        .lock()
        .expect("not poisoned")
        .insert(id.as_str());
}

pub(super) async fn send_text(
    room: &Room,
    content: RoomMessageEventContentWithoutRelation,
    relation: Option<Relation<RoomMessageEventContentWithoutRelation>>,
) -> Result<OwnedEventId, matrix_sdk::Error> {
    let content: RoomMessageEventContent = content.with_relation(relation);
    Ok(room.send(content).await?.response.event_id)
}

/// The joined room of `location`.
pub(crate) fn room_of(adapter: &Adapter, location: &Location) -> Option<Room> {
    let room = RoomId::parse(location.channel.as_str())
        .ok()
        .and_then(|id| adapter.client.get_room(&id));
    if room.is_none() {
        tracing::warn!(room = %location.channel, "action for a room Steward is not in");
    }
    room
}

/// Mention the author of the message answered (not for replies to anything else).
fn mention_for(reply_to: Option<&EventId>, origin: Option<&Origin>) -> Option<OwnedUserId> {
    origin
        .filter(|origin| Some(&*origin.event_id) == reply_to)
        .map(|origin| origin.sender.clone())
}

pub(crate) fn event_id(message: &MessageId) -> Option<OwnedEventId> {
    event_id_str(message.as_str())
}

pub(super) fn event_id_str(id: &str) -> Option<OwnedEventId> {
    EventId::parse(id).ok()
}

fn action_label(action: &Action) -> &'static str {
    match action {
        Action::Reply(_) => "reply",
        Action::ReplyInThread { .. } => "reply_in_thread",
        Action::EditOwn { .. } => "edit",
        Action::React { .. } => "react",
        Action::DeleteMessage { .. } => "redact",
        Action::TimeoutMember { .. } => "timeout",
        Action::RemoveMember { ban: true, .. } => "ban",
        Action::RemoveMember { ban: false, .. } => "kick",
        Action::LiftTimeout { .. } => "lift_timeout",
        Action::LiftBan { .. } => "lift_ban",
        Action::PostToModLog { .. } => "moderators_room",
        Action::PostWithFiles { .. } => "post_with_files",
        Action::PrivateNotice { .. } => "private_notice",
    }
}
