//! Executing core actions with Discord's REST API. Replies to slash commands go through the
//! interaction instead (see `commands`); everything else lands here.
//!
//! Moderation buttons on mod-log posts are not implemented yet: the moderation feature that
//! needs them will add components here.

use serenity::all::{
    AutoArchiveDuration, CreateMessage, CreateThread, EditMember, EditMessage, GuildId, Http,
    MessageId, ReactionType, Timestamp, UserId,
};

use super::conversion::{parse_id, post_channel};
use super::delivery::{Delivery, Target, MESSAGE_LIMIT};
use super::error::HandlerError;
use super::rest::ActionSettings;
use crate::core::{Action, Body};

/// Discord's longest timeout.
/// Discord's longest thread name, in characters.
const THREAD_NAME_LIMIT: usize = 100;

/// Executes `action`; the caller logs a failure (an action never stops the adapter).
pub async fn execute(
    http: &Http,
    settings: &ActionSettings,
    action: Action,
) -> Result<(), HandlerError> {
    match action {
        // Discord has no invoker-only channel messages; `only_invoker` only matters for
        // interactions, which `commands` delivers itself.
        Action::Reply(reply) => {
            let target = Target::Channel {
                channel: post_channel(&reply.location)?,
                reply_to: reply
                    .in_reply_to
                    .map(|m| message_id(m.as_str()))
                    .transpose()?,
            };
            Delivery::new(http, target, false)
                .body(reply.body, settings.policy)
                .await?;
        }
        Action::ReplyInThread {
            location,
            message,
            thread_name,
            body,
        } => {
            let channel = post_channel(&location)?;
            let name: String = thread_name.chars().take(THREAD_NAME_LIMIT).collect();
            let thread = channel
                .create_thread_from_message(
                    http,
                    message_id(message.as_str())?,
                    CreateThread::new(name).auto_archive_duration(AutoArchiveDuration::OneDay),
                )
                .await?;
            let target = Target::Channel {
                channel: thread.id,
                reply_to: None,
            };
            Delivery::new(http, target, false)
                .body(body, settings.policy)
                .await?;
        }
        Action::EditOwn {
            location,
            message,
            text,
        } => {
            let text: String = text.chars().take(MESSAGE_LIMIT).collect();
            post_channel(&location)?
                .edit_message(
                    http,
                    message_id(message.as_str())?,
                    EditMessage::new().content(text),
                )
                .await?;
        }
        Action::React {
            location,
            message,
            emoji,
        } => {
            // Custom emoji arrive as `<:name:id>`; anything else is a Unicode emoji.
            let reaction =
                ReactionType::try_from(emoji.as_str()).unwrap_or(ReactionType::Unicode(emoji));
            post_channel(&location)?
                .create_reaction(http, message_id(message.as_str())?, reaction)
                .await?;
        }
        Action::DeleteMessage {
            location,
            message,
            reason,
        } => {
            http.delete_message(
                post_channel(&location)?,
                message_id(message.as_str())?,
                Some(&reason),
            )
            .await?;
        }
        Action::TimeoutMember {
            community,
            user,
            duration,
            reason,
            ..
        } => {
            let until = std::time::SystemTime::now() + duration.min(super::LONGEST_TIMEOUT);
            let secs = until
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let until = Timestamp::from_unix_timestamp(secs as i64)
                .map_err(|_| HandlerError::BadId(format!("timeout until {secs}")))?;
            let guild = GuildId::from(parse_id(community.as_str())?);
            let member = EditMember::new()
                .disable_communication_until_datetime(until)
                .audit_log_reason(&reason);
            guild
                .edit_member(http, UserId::from(parse_id(user.as_str())?), member)
                .await?;
        }
        Action::RemoveMember {
            community,
            user,
            ban,
            reason,
            ..
        } => {
            let guild = GuildId::from(parse_id(community.as_str())?);
            let user = UserId::from(parse_id(user.as_str())?);
            if ban {
                // Keep the member's messages: they are the evidence in the case log.
                guild.ban_with_reason(http, user, 0, &reason).await?;
            } else {
                guild.kick_with_reason(http, user, &reason).await?;
            }
        }
        Action::PostToModLog { text, .. } => match settings.mod_log_channel {
            Some(channel) => {
                let target = Target::Channel {
                    channel,
                    reply_to: None,
                };
                Delivery::new(http, target, false)
                    .body(Body::Text(text), settings.policy)
                    .await?;
            }
            None => tracing::warn!("a mod-log post was dropped: set [discord] mod_log_channel"),
        },
        Action::PrivateNotice { user, text, .. } => {
            let channel = UserId::from(parse_id(user.as_str())?)
                .create_dm_channel(http)
                .await?;
            for chunk in crate::platform::split::split_message(&text, MESSAGE_LIMIT) {
                channel
                    .id
                    .send_message(http, CreateMessage::new().content(chunk))
                    .await?;
            }
        }
    }
    Ok(())
}

/// Executes every action in order, logging failures; one failed action does not stop the rest.
pub async fn execute_all(http: &Http, settings: &ActionSettings, actions: Vec<Action>) {
    for action in actions {
        if let Err(error) = execute(http, settings, action).await {
            tracing::warn!(label = error.label(), %error, "a Discord action failed");
        }
    }
}

fn message_id(id: &str) -> Result<MessageId, HandlerError> {
    parse_id(id).map(MessageId::from)
}
