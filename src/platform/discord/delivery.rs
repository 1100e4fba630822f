//! Delivering a core [`Body`] to Discord, into a channel (as a reply) or as a slash command's
//! response. Long text is split into messages of at most 2,000 characters; a streamed answer is
//! posted early and edited at a bounded rate ([`pace`]), each chunk in its own message, so the
//! limit holds while the answer grows.
//!
//! Every message and every edit declares its mentions (none; the replied-to member only on the
//! first message of a reply): an edit without `allowed_mentions` would fall back to Discord's
//! defaults and let generated text ping `@everyone`. Streamed text is the model's and is made
//! safe ([`sanitize_generated`]) at every edit.
//!
//! When the first post of a streamed answer fails, the stream is dropped at once (the
//! generation is cancelled: no model time for an answer nobody sees) and the stub is removed
//! where one may exist: a channel message whose creation Steward could not confirm, or a slash
//! command's "thinking" response. Channel messages are posted and edited reading back only the
//! new message's id, so a compatible server whose message objects differ from Discord's in
//! fields Steward never reads does not break answers.

use std::num::NonZeroU64;
use std::ops::ControlFlow;

use serde_json::Value;
use serenity::all::{
    ChannelId, CommandInteraction, CreateAllowedMentions, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EditInteractionResponse, EditMessage, Http, HttpError, LightMethod, MessageId, Request, Route,
};
use tokio::sync::Mutex;

use super::error::describe;

use crate::core::Body;
use crate::features::hygiene::sanitize_generated;
use crate::platform::pacing::{pace, EditPolicy};
use crate::platform::split::split_message;

/// Discord's limit for a message's content, in characters.
pub const MESSAGE_LIMIT: usize = 2000;

/// Shown instead of an empty answer: Discord rejects messages without content.
const EMPTY: &str = "…";

/// Where text goes.
pub enum Target<'a> {
    /// A channel or thread; the first message replies to `reply_to`.
    Channel {
        channel: ChannelId,
        reply_to: Option<MessageId>,
    },
    /// A slash command: the interaction response, then follow-ups. `responded` is true once a
    /// response (or a deferral) was sent, so the next message is a follow-up.
    Interaction {
        interaction: &'a CommandInteraction,
        responded: bool,
    },
}

/// One message this delivery posted.
#[derive(Debug, Clone, Copy)]
enum Posted {
    Message(ChannelId, MessageId),
    /// The interaction's original response.
    Original,
    Followup(MessageId),
}

/// A message (or several, once the text outgrows one) that shows an answer.
pub struct Delivery<'a> {
    http: &'a Http,
    target: Target<'a>,
    ephemeral: bool,
    posted: Vec<(Posted, String)>,
}

impl<'a> Delivery<'a> {
    /// `ephemeral` applies to interactions: only the invoker sees the messages.
    pub fn new(http: &'a Http, target: Target<'a>, ephemeral: bool) -> Self {
        Self {
            http,
            target,
            ephemeral,
            posted: Vec::new(),
        }
    }

    /// Delivers `body`: complete text at once, a stream by bounded edits. Streamed text comes
    /// from the model and is sanitized on every update; complete text is posted as given (the
    /// feature that generated it sanitizes it: only it knows which parts are its own).
    pub async fn body(self, body: Body, policy: EditPolicy) -> Result<(), serenity::Error> {
        match body {
            Body::Text(text) => {
                let mut this = self;
                this.show(&text).await
            }
            Body::Streaming(stream) => {
                // The update closure and the final delivery share the delivery. A failed first
                // post stops the stream (nothing is shown, so the generation is cancelled); a
                // later failed update only skips updates, and the final text is tried once more.
                let state = Mutex::new((self, None::<serenity::Error>));
                let shared = &state;
                let streamed = pace(stream, policy, move |text| async move {
                    let mut guard = shared.lock().await;
                    let (delivery, failure) = &mut *guard;
                    if failure.is_some() {
                        return ControlFlow::Continue(());
                    }
                    match delivery.show(&sanitize_generated(&text)).await {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(error) if delivery.posted.is_empty() => {
                            *failure = Some(error);
                            ControlFlow::Break(())
                        }
                        Err(error) => {
                            tracing::warn!(error = %describe(&error), "updating a streamed answer failed; later updates skipped");
                            *failure = Some(error);
                            ControlFlow::Continue(())
                        }
                    }
                })
                .await;
                let (mut delivery, failure) = state.into_inner();
                if streamed.stopped {
                    let error = failure.expect("the stream stops only after a failed first post");
                    tracing::warn!(
                        error = %describe(&error),
                        "the first post of a streamed answer failed; generation cancelled"
                    );
                    delivery
                        .remove_stub(&error, &sanitize_generated(&streamed.text))
                        .await;
                    return Err(error);
                }
                delivery.show(&sanitize_generated(&streamed.text)).await
            }
        }
    }

    /// Shows `text`: chunks that changed are edited, new chunks are posted.
    pub async fn show(&mut self, text: &str) -> Result<(), serenity::Error> {
        let mut chunks = split_message(text, MESSAGE_LIMIT);
        if chunks.is_empty() {
            chunks.push(EMPTY.to_string());
        }
        for (index, chunk) in chunks.into_iter().enumerate() {
            match self.posted.get(index) {
                Some((_, shown)) if *shown == chunk => {}
                Some(&(posted, _)) => {
                    self.edit(posted, &chunk).await?;
                    self.posted[index].1 = chunk;
                }
                None => {
                    let posted = self.post(&chunk, index == 0).await?;
                    self.posted.push((posted, chunk));
                }
            }
        }
        Ok(())
    }

    async fn post(&mut self, text: &str, first: bool) -> Result<Posted, serenity::Error> {
        let http = self.http;
        match &mut self.target {
            Target::Channel { channel, reply_to } => {
                let mut message = CreateMessage::new()
                    .content(text)
                    .allowed_mentions(mentions(first && reply_to.is_some()));
                if let (true, Some(reply_to)) = (first, *reply_to) {
                    message = message.reference_message((*channel, reply_to));
                }
                let id = post_leniently(http, *channel, &message).await?;
                Ok(Posted::Message(*channel, id))
            }
            Target::Interaction {
                interaction,
                responded,
            } => {
                if *responded {
                    let followup = CreateInteractionResponseFollowup::new()
                        .content(text)
                        .ephemeral(self.ephemeral)
                        .allowed_mentions(mentions(false));
                    let sent = interaction.create_followup(http, followup).await?;
                    Ok(Posted::Followup(sent.id))
                } else {
                    let message = CreateInteractionResponseMessage::new()
                        .content(text)
                        .ephemeral(self.ephemeral)
                        .allowed_mentions(mentions(false));
                    interaction
                        .create_response(http, CreateInteractionResponse::Message(message))
                        .await?;
                    *responded = true;
                    Ok(Posted::Original)
                }
            }
        }
    }

    async fn edit(&self, posted: Posted, text: &str) -> Result<(), serenity::Error> {
        let http = self.http;
        match (posted, &self.target) {
            (Posted::Message(channel, id), _) => {
                let edit = EditMessage::new()
                    .content(text)
                    .allowed_mentions(mentions(false));
                let route = Route::ChannelMessage {
                    channel_id: channel,
                    message_id: id,
                };
                let request =
                    Request::new(route, LightMethod::Patch).body(Some(serde_json::to_vec(&edit)?));
                // The edited message is not read back (see `post_leniently`).
                http.request(request).await?;
            }
            (Posted::Original, Target::Interaction { interaction, .. }) => {
                let edit = EditInteractionResponse::new()
                    .content(text)
                    .allowed_mentions(mentions(false));
                interaction.edit_response(http, edit).await?;
            }
            (Posted::Followup(id), Target::Interaction { interaction, .. }) => {
                let followup = CreateInteractionResponseFollowup::new()
                    .content(text)
                    .allowed_mentions(mentions(false));
                interaction.edit_followup(http, id, followup).await?;
            }
            (Posted::Original | Posted::Followup(_), Target::Channel { .. }) => {
                // Interaction messages are only ever posted to interaction targets.
                tracing::error!("an interaction message was edited as a channel message; skipped");
            }
        }
        Ok(())
    }
}

impl Delivery<'_> {
    /// After a failed first post, removes what may have been left: a channel message the
    /// server may have created though Steward could not read its answer (an undecodable reply or
    /// no reply in time), found among the channel's newest as Steward's own with the same text
    /// and reply; or a slash command's deferred "thinking" response.
    async fn remove_stub(&self, error: &serenity::Error, text: &str) {
        let outcome = match &self.target {
            Target::Channel { channel, reply_to } => {
                if !outcome_unknown(error) {
                    return; // Discord answered with an error: no message was created.
                }
                let chunk = split_message(text, MESSAGE_LIMIT).into_iter().next();
                let chunk = chunk.unwrap_or_else(|| EMPTY.to_string());
                self.delete_unconfirmed(*channel, *reply_to, &chunk).await
            }
            Target::Interaction {
                interaction,
                responded: true,
            } => interaction.delete_response(self.http).await.map(|()| 1),
            Target::Interaction { .. } => Ok(0),
        };
        match outcome {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed the stub of a failed answer"),
            Err(error) => tracing::warn!(
                error = %describe(&error),
                "could not remove the stub of a failed answer"
            ),
        }
    }

    /// Deletes Steward's messages among `channel`'s newest that show `text` (replying to
    /// `reply_to`, if any); returns how many.
    async fn delete_unconfirmed(
        &self,
        channel: ChannelId,
        reply_to: Option<MessageId>,
        text: &str,
    ) -> Result<usize, serenity::Error> {
        let request = Request::new(
            Route::ChannelMessages {
                channel_id: channel,
            },
            LightMethod::Get,
        )
        .params(Some(vec![("limit", STUB_SEARCH.to_string())]));
        let body = self.http.request(request).await?.bytes().await;
        let body = body.map_err(|error| serenity::Error::Http(HttpError::Request(error)))?;
        let newest: Vec<Value> = serde_json::from_slice(&body)?;
        let mut removed = 0;
        for message in &newest {
            let replies_to = message["message_reference"]["message_id"].as_str();
            let ours = message["author"]["bot"] == true
                && message["content"].as_str() == Some(text)
                && replies_to == reply_to.map(|id| id.to_string()).as_deref();
            if let (true, Some(id)) = (ours, id_in(message)) {
                channel.delete_message(self.http, id).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// How many of a channel's newest messages are searched for a stub.
const STUB_SEARCH: usize = 10;

/// Whether a failed post may still have created its message: the server's answer could not
/// be read, or none came in time. An error response means nothing was created.
fn outcome_unknown(error: &serenity::Error) -> bool {
    match error {
        serenity::Error::Json(_) => true,
        serenity::Error::Http(HttpError::Request(request)) => !request.is_connect(),
        _ => false,
    }
}

/// Posts `message` in `channel` and reads back only the new message's id: a compatible
/// server's message object may differ from Discord's in fields Steward never reads (seen:
/// `public_flags` as a string), and serenity's strict decoding would fail the whole post.
async fn post_leniently(
    http: &Http,
    channel: ChannelId,
    message: &CreateMessage,
) -> Result<MessageId, serenity::Error> {
    let request = Request::new(
        Route::ChannelMessages {
            channel_id: channel,
        },
        LightMethod::Post,
    )
    .body(Some(serde_json::to_vec(message)?));
    let body = http.request(request).await?.bytes().await;
    let body = body.map_err(|error| serenity::Error::Http(HttpError::Request(error)))?;
    let created: Value = serde_json::from_slice(&body)?;
    id_in(&created).ok_or_else(|| {
        serenity::Error::Json(serde::de::Error::custom(
            "the created message has no valid \"id\"",
        ))
    })
}

/// A message object's id (a snowflake string; a number from lenient servers).
fn id_in(message: &Value) -> Option<MessageId> {
    let id = &message["id"];
    let id = id
        .as_str()
        .and_then(|id| id.parse().ok())
        .or_else(|| id.as_u64());
    id.and_then(NonZeroU64::new).map(MessageId::from)
}

/// What every message Steward sends may ping: nobody (`parse: []`), except the member being
/// answered, through the reply itself (`notify_replied_user`, first message of a reply only).
/// Model output and quoted member text must never ping `@everyone`, roles or users.
pub(crate) fn mentions(notify_replied_user: bool) -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(notify_replied_user)
}
