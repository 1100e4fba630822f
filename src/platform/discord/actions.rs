//! Executing core actions with Discord's REST API. Replies to slash commands and button clicks
//! go through the interaction instead (see `commands`, `components`); everything else lands here.
//! A private notice is a direct message; its file, if any (a member's data export), is uploaded
//! with the last message (multipart: `payload_json` and `files[0]`), as are the charts of a post
//! with files (a community report) in its channel (`files`).
//!
//! Authority is checked where the action lands (`authority`): a moderator's decision needs the
//! matching guild-level permission and rank over the member, and Steward needs both too. A
//! refused action does nothing; [`execute_all`] notes it in the community's mod log. Mod-log
//! posts never leave their community: the channel the community chose, or the configured one
//! only if it is in that same guild.

use std::sync::LazyLock;

use regex::Regex;
use serenity::all::{
    AutoArchiveDuration, Cache, ChannelId, CreateMessage, CreateThread, EditMember, EditMessage,
    GuildId, Http, MessageId, ReactionType, Timestamp, UserId,
};

use super::authority::{Act, Lookup, RefusalNote};
use super::components::case_buttons;
use super::conversion::{parse_id, post_channel};
use super::delivery::{mentions, Delivery, Target, MESSAGE_LIMIT};
use super::error::{describe, HandlerError};
use super::files;
use super::rest::ActionSettings;
use crate::core::{self, Action};
use crate::platform::split::split_message;

/// Discord's longest thread name, in characters.
const THREAD_NAME_LIMIT: usize = 100;

/// Executes `action`; the caller logs a failure (an action never stops the adapter). `cache`
/// is serenity's when the gateway runs (lookups fall back to REST without it).
pub async fn execute(
    http: &Http,
    cache: Option<&Cache>,
    settings: &ActionSettings,
    action: Action,
) -> Result<(), HandlerError> {
    let lookup = Lookup::new(http, cache, settings);
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
            let edit = EditMessage::new()
                .content(text)
                .allowed_mentions(mentions(false));
            post_channel(&location)?
                .edit_message(http, message_id(message.as_str())?, edit)
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
            decided_by,
        } => {
            // Steward's own deletions are checked by Discord (Manage Messages); a moderator's
            // needs Manage Messages on the server, not in one channel.
            if let Some(actor) = decided_by {
                let guild = guild_id(&location.community)?;
                allowed(&lookup, guild, Act::Delete, Some(user_id(&actor)?), None).await?;
            }
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
            decided_by,
            ..
        } => {
            let guild = guild_id(&community)?;
            let user = user_id(&user)?;
            allowed(&lookup, guild, Act::Timeout, actor(decided_by)?, Some(user)).await?;
            let until = std::time::SystemTime::now() + duration.min(super::LONGEST_TIMEOUT);
            let secs = until
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let until = Timestamp::from_unix_timestamp(secs as i64)
                .map_err(|_| HandlerError::BadId(format!("timeout until {secs}")))?;
            let member = EditMember::new()
                .disable_communication_until_datetime(until)
                .audit_log_reason(&reason);
            guild.edit_member(http, user, member).await?;
        }
        Action::LiftTimeout {
            community,
            user,
            reason,
            decided_by,
            ..
        } => {
            let guild = guild_id(&community)?;
            let user = user_id(&user)?;
            allowed(
                &lookup,
                guild,
                Act::LiftTimeout,
                actor(decided_by)?,
                Some(user),
            )
            .await?;
            // `communication_disabled_until: null` ends the timeout.
            let member = EditMember::new()
                .enable_communication()
                .audit_log_reason(&reason);
            guild.edit_member(http, user, member).await?;
        }
        Action::RemoveMember {
            community,
            user,
            ban,
            reason,
            decided_by,
            ..
        } => {
            let guild = guild_id(&community)?;
            let user = user_id(&user)?;
            let act = if ban { Act::Ban } else { Act::Kick };
            allowed(&lookup, guild, act, actor(decided_by)?, Some(user)).await?;
            if ban {
                // Keep the member's messages: they are the evidence in the case log.
                guild.ban_with_reason(http, user, 0, &reason).await?;
            } else {
                guild.kick_with_reason(http, user, &reason).await?;
            }
        }
        Action::LiftBan {
            community,
            user,
            reason,
            decided_by,
            ..
        } => {
            let guild = guild_id(&community)?;
            let user = user_id(&user)?;
            allowed(&lookup, guild, Act::LiftBan, actor(decided_by)?, Some(user)).await?;
            http.remove_ban(guild, user, Some(&reason)).await?;
        }
        Action::PostToModLog {
            community,
            channel,
            case,
            text,
            ..
        } => {
            let guild = guild_id(&community)?;
            if let Some(channel) = mod_log_channel(&lookup, guild, channel.as_ref()).await? {
                post_mod_log(http, channel, &text, case).await?;
            }
        }
        // Posting in a channel needs no moderator's authority: the feature that decided the
        // post (a report a moderator asked for, the digest they opted into) checked it.
        Action::PostWithFiles {
            location,
            text,
            attachments,
        } => files::post_at(http, &location, &text, attachments).await?,
        Action::PrivateNotice {
            user,
            text,
            attachment,
            ..
        } => {
            let channel = user_id(&user)?.create_dm_channel(http).await?;
            // The file goes with the last message, after the text that explains it.
            files::send(http, channel.id, &text, attachment.into_iter().collect()).await?;
        }
    }
    Ok(())
}

/// Executes every action in order, logging failures; one failed action does not stop the rest.
/// A refused moderation action is noted in the community's mod log.
pub async fn execute_all(
    http: &Http,
    cache: Option<&Cache>,
    settings: &ActionSettings,
    actions: Vec<Action>,
) {
    let lookup = Lookup::new(http, cache, settings);
    // Learn the moderators' channels the communities chose before acting, so a refusal earlier
    // in the batch (a ban before its log line) is noted in the right place. (Collected first:
    // an action is not `Sync`, so no reference to one may live across an await.)
    let chosen: Vec<(GuildId, ChannelId)> = actions
        .iter()
        .filter_map(|action| match action {
            Action::PostToModLog {
                community,
                channel: Some(channel),
                ..
            } => Some((guild_id(community).ok()?, channel_id(channel).ok()?)),
            _ => None,
        })
        .collect();
    for (guild, channel) in chosen {
        if lookup.channel_guild(channel).await.ok().flatten() == Some(guild) {
            settings.remember_mod_log(guild, channel);
        }
    }
    for action in actions {
        match execute(http, cache, settings, action).await {
            Ok(()) => {}
            Err(HandlerError::Refused {
                guild,
                act,
                target,
                refusal,
            }) => {
                tracing::warn!(
                    label = "discord_refused",
                    reason = refusal.label(),
                    %guild,
                    act = act.verb(),
                    %refusal,
                    "a moderation action was refused"
                );
                let note = RefusalNote {
                    act,
                    target,
                    refusal: &refusal,
                };
                note_in_mod_log(&lookup, guild, &note.to_string()).await;
            }
            Err(error) => {
                tracing::warn!(label = error.label(), %error, "a Discord action failed");
            }
        }
    }
}

/// Checks `act` with `authority`; a refusal becomes [`HandlerError::Refused`].
async fn allowed(
    lookup: &Lookup<'_>,
    guild: GuildId,
    act: Act,
    actor: Option<UserId>,
    target: Option<UserId>,
) -> Result<(), HandlerError> {
    lookup
        .check(guild, act, actor, target)
        .await
        .map_err(|refusal| HandlerError::Refused {
            guild,
            act,
            target,
            refusal,
        })
}

/// Where `guild`'s mod-log post goes: the channel the community chose, else the configured
/// one; either only if it is a channel of `guild` (a case never leaves its community). `None`:
/// the post is dropped, with a warning saying why.
async fn mod_log_channel(
    lookup: &Lookup<'_>,
    guild: GuildId,
    chosen: Option<&core::ChannelId>,
) -> Result<Option<ChannelId>, HandlerError> {
    let (channel, is_chosen) = match chosen {
        Some(channel) => (channel_id(channel)?, true),
        None => match lookup.settings.mod_log_channel {
            Some(channel) => (channel, false),
            None => {
                tracing::warn!(%guild, "a mod-log post was dropped: the community chose no moderators' channel (`setting mod-log here`) and [discord] mod_log_channel is not set");
                return Ok(None);
            }
        },
    };
    match lookup.channel_guild(channel).await {
        Ok(Some(owner)) if owner == guild => {
            if is_chosen {
                lookup.settings.remember_mod_log(guild, channel);
            }
            Ok(Some(channel))
        }
        Ok(owner) => {
            tracing::warn!(%guild, %channel, owner = ?owner, "a mod-log post was dropped: the channel is not in this community's server (a case never leaves its community)");
            Ok(None)
        }
        Err(error) => {
            tracing::warn!(%guild, %channel, error = %describe(&error), "a mod-log post was dropped: the channel's server could not be checked");
            Ok(None)
        }
    }
}

/// Posts `note` in `guild`'s moderators' channel, if it has one.
async fn note_in_mod_log(lookup: &Lookup<'_>, guild: GuildId, note: &str) {
    let channel = match lookup.settings.chosen_mod_log(guild) {
        Some(channel) => Some(channel),
        None => mod_log_channel(lookup, guild, None).await.ok().flatten(),
    };
    let Some(channel) = channel else { return };
    if let Err(error) = post_mod_log(lookup.http, channel, note, None).await {
        tracing::warn!(%guild, error = %describe(&error), "posting a refusal note to the mod log failed");
    }
}

/// Posts mod-log text (split under the limit); the last message of a case's post carries the
/// decision buttons. People and channels in the text render as mentions but ping nobody.
async fn post_mod_log(
    http: &Http,
    channel: ChannelId,
    text: &str,
    case: Option<i64>,
) -> Result<(), serenity::Error> {
    let chunks = split_message(&with_mentions(text), MESSAGE_LIMIT);
    let last = chunks.len().saturating_sub(1);
    for (index, chunk) in chunks.into_iter().enumerate() {
        let mut message = CreateMessage::new()
            .content(chunk)
            .allowed_mentions(mentions(false));
        if let (true, Some(case)) = (index == last, case) {
            message = message.components(case_buttons(case));
        }
        channel.send_message(http, message).await?;
    }
    Ok(())
}

/// Renders the moderators' log's `@123` and `#456` (how it names people and channels) as
/// Discord mentions, so moderators see names and can click them; `allowed_mentions` on every
/// post keeps them from pinging anyone.
fn with_mentions(text: &str) -> std::borrow::Cow<'_, str> {
    static REFERENCES: LazyLock<Regex> = LazyLock::new(|| {
        // Channels only at snowflake length (15+ digits): a case's `#12` stays text.
        Regex::new(r"(^|[\s(（，,:：])(@\d{1,20}|#\d{15,20})\b").expect("a valid pattern")
    });
    REFERENCES.replace_all(text, "$1<$2>")
}

fn actor(decided_by: Option<core::UserId>) -> Result<Option<UserId>, HandlerError> {
    decided_by.as_ref().map(user_id).transpose()
}

fn guild_id(community: &core::CommunityId) -> Result<GuildId, HandlerError> {
    parse_id(community.as_str()).map(GuildId::from)
}

fn user_id(user: &core::UserId) -> Result<UserId, HandlerError> {
    parse_id(user.as_str()).map(UserId::from)
}

fn channel_id(channel: &core::ChannelId) -> Result<ChannelId, HandlerError> {
    parse_id(channel.as_str()).map(ChannelId::from)
}

fn message_id(id: &str) -> Result<MessageId, HandlerError> {
    parse_id(id).map(MessageId::from)
}

#[cfg(test)]
mod tests {
    use super::with_mentions;

    #[test]
    fn log_references_become_mentions() {
        let cases = [
            (
                "Case #1: spam (rule) by @42 in #1300000000000000300\n> @7 said hi",
                "Case #1: spam (rule) by <@42> in <#1300000000000000300>\n> <@7> said hi",
            ),
            (
                "案例 #3：垃圾，用户 @42，频道 #1300000000000000300",
                "案例 #3：垃圾，用户 <@42>，频道 <#1300000000000000300>",
            ),
            (
                "mail me@42.example and issue#12",
                "mail me@42.example and issue#12",
            ),
            ("already <@42>", "already <@42>"),
        ];
        for (text, expected) in cases {
            assert_eq!(with_mentions(text), expected, "{text}");
        }
    }
}
