//! Core actions -> Matrix calls: replies (`m.in_reply_to`), thread posts (`m.thread`), streamed
//! answers as bounded edits (`m.replace`, paced by [`crate::platform::pacing`]), reactions,
//! redactions, kicks and bans, the moderators' room and private notices.
//!
//! Text is Markdown: it goes out as `formatted_body` (org.matrix.custom.html) with the plain text
//! as `body`. A failed action is logged and skipped; it never stops the adapter.

use std::sync::{Arc, Mutex};

use matrix_sdk::ruma::events::reaction::ReactionEventContent;
use matrix_sdk::ruma::events::relation::{Annotation, InReplyTo, Reply as ReplyRelation, Thread};
use matrix_sdk::ruma::events::room::message::{
    Relation, ReplacementMetadata, RoomMessageEventContent, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedUserId, RoomId, RoomOrAliasId, UserId};
use matrix_sdk::Room;

use super::format::markdown_content;
use super::handlers::Origin;
use super::Adapter;
use crate::core::{Action, Body, Location, MessageId};
use crate::platform::pacing::{pace, EditPolicy};

/// Where and how a message is posted.
#[derive(Debug, Clone)]
struct Target {
    room: Room,
    thread: Option<OwnedEventId>,
    in_reply_to: Option<OwnedEventId>,
    /// The member to notify (the author of the message answered).
    mention: Option<OwnedUserId>,
    /// `m.notice`: answers only the invoker should see, and setup notices. Bots do not answer
    /// notices, so this also keeps bot-to-bot loops out.
    notice: bool,
}

/// Executes one action; failures are logged.
pub(crate) async fn execute(adapter: &Adapter, action: Action, origin: Option<&Origin>) {
    let label = action_label(&action);
    if let Err(error) = try_execute(adapter, action, origin).await {
        tracing::warn!(action = label, %error, "matrix action failed");
    }
}

async fn try_execute(
    adapter: &Adapter,
    action: Action,
    origin: Option<&Origin>,
) -> Result<(), matrix_sdk::Error> {
    match action {
        Action::Reply(reply) => {
            let Some(room) = room_of(adapter, &reply.location) else {
                return Ok(());
            };
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
            edit(&room, &id, &text).await
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
        } => {
            let (Some(room), Some(id)) = (room_of(adapter, &location), event_id(&message)) else {
                return Ok(());
            };
            room.redact(&id, Some(&reason), None).await?;
            Ok(())
        }
        Action::TimeoutMember {
            community,
            user,
            duration,
            reason,
            ..
        } => {
            // Matrix has no timeouts; a kick removes the member from the conversation and lets
            // them come back, which is the closest match.
            let Ok(user) = UserId::parse(user.as_str()) else {
                return Ok(());
            };
            let reason = format!("{reason} (timeout of {} s)", duration.as_secs());
            for room in community_rooms(adapter, community.as_str()).await {
                kick(&room, &user, &reason).await?;
            }
            Ok(())
        }
        Action::RemoveMember {
            community,
            user,
            ban: banned,
            reason,
            ..
        } => {
            let Ok(user) = UserId::parse(user.as_str()) else {
                return Ok(());
            };
            for room in community_rooms(adapter, community.as_str()).await {
                if banned {
                    ban(&room, &user, &reason).await?;
                } else {
                    kick(&room, &user, &reason).await?;
                }
            }
            Ok(())
        }
        Action::PostToModLog { text, .. } => post_to_moderators(adapter, &text).await,
        Action::PrivateNotice { user, text, .. } => {
            let Ok(user) = UserId::parse(user.as_str()) else {
                return Ok(());
            };
            let room = match adapter.client.get_dm_room(&user) {
                Some(room) => room,
                None => adapter.client.create_dm(&user).await?,
            };
            send_text(&room, message_content(&text, true, None), None).await?;
            Ok(())
        }
    }
}

/// Removes `user` from `room`; they may rejoin. For later moderation features.
pub async fn kick(room: &Room, user: &UserId, reason: &str) -> Result<(), matrix_sdk::Error> {
    room.kick_user(user, Some(reason)).await
}

/// Bans `user` from `room`.
pub async fn ban(room: &Room, user: &UserId, reason: &str) -> Result<(), matrix_sdk::Error> {
    room.ban_user(user, Some(reason)).await
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
                    if let Err(error) = update(adapter, &target, &posted, &text).await {
                        tracing::warn!(%error, "updating a streamed answer failed");
                    }
                }
            })
            .await;
            if streamed.text.is_empty() {
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
            edit(&target.room, &id, text).await?;
            *posted.lock().expect("not poisoned") = Some((id, text.to_string()));
        }
    }
    Ok(())
}

/// Sends a new message to `target` and remembers it as the bot's (and its thread as followed).
async fn post_new(
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
    let content = message_content(text, target.notice, target.mention.clone());
    let started = std::time::Instant::now();
    let id = send_text(&target.room, content, relation).await?;
    tracing::debug!(event = %id, send_ms = started.elapsed().as_millis() as u64, "posted");
    adapter
        .own_events
        .lock()
        .expect("not poisoned")
        .insert(id.as_str());
    if let Some(root) = &target.thread {
        adapter
            .followed_threads
            .lock()
            .expect("not poisoned")
            .insert(root.as_str());
    }
    Ok(id)
}

/// Markdown text (or notice) content, mentioning `mention` if given.
fn message_content(
    text: &str,
    notice: bool,
    mention: Option<OwnedUserId>,
) -> RoomMessageEventContentWithoutRelation {
    let content = markdown_content(text, notice);
    match mention {
        Some(user) => content.add_mentions(Mentions::with_user_ids([user])),
        None => content,
    }
}

async fn send_text(
    room: &Room,
    content: RoomMessageEventContentWithoutRelation,
    relation: Option<Relation<RoomMessageEventContentWithoutRelation>>,
) -> Result<OwnedEventId, matrix_sdk::Error> {
    let content: RoomMessageEventContent = content.with_relation(relation);
    Ok(room.send(content).await?.response.event_id)
}

/// Replaces the text of one of the bot's messages. No mentions: an edit must not notify again.
async fn edit(room: &Room, id: &EventId, text: &str) -> Result<(), matrix_sdk::Error> {
    let content = markdown_content(text, false)
        .make_replacement(ReplacementMetadata::new(id.to_owned(), None));
    room.send(content).await?;
    Ok(())
}

/// Posts to `[matrix] moderators_room` (a room id or alias), if configured and joined.
async fn post_to_moderators(adapter: &Adapter, text: &str) -> Result<(), matrix_sdk::Error> {
    let Some(configured) = &adapter.settings.moderators_room else {
        tracing::info!("no [matrix] moderators_room configured; moderator report not posted");
        return Ok(());
    };
    let Ok(target) = RoomOrAliasId::parse(configured) else {
        tracing::warn!(room = %configured, "[matrix] moderators_room is not a room id or alias");
        return Ok(());
    };
    let room_id = match <&RoomId>::try_from(&*target) {
        Ok(id) => id.to_owned(),
        Err(alias) => adapter.client.resolve_room_alias(alias).await?.room_id,
    };
    let Some(room) = adapter.client.get_room(&room_id) else {
        tracing::warn!(room = %configured, "Steward is not in the moderators' room; invite it there");
        return Ok(());
    };
    send_text(&room, message_content(text, true, None), None).await?;
    Ok(())
}

/// Joined rooms whose community is `community`.
async fn community_rooms(adapter: &Adapter, community: &str) -> Vec<Room> {
    let mut rooms = Vec::new();
    for room in adapter.client.joined_rooms() {
        if super::rooms::community_of(&room).await.id == community {
            rooms.push(room);
        }
    }
    rooms
}

fn room_of(adapter: &Adapter, location: &Location) -> Option<Room> {
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

fn event_id(message: &MessageId) -> Option<OwnedEventId> {
    event_id_str(message.as_str())
}

fn event_id_str(id: &str) -> Option<OwnedEventId> {
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
        Action::PostToModLog { .. } => "moderators_room",
        Action::PrivateNotice { .. } => "private_notice",
    }
}
