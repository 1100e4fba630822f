//! Delivering a core [`Body`] to Discord, into a channel (as a reply) or as a slash command's
//! response. Long text is split into messages of at most 2,000 characters; a streamed answer is
//! posted early and edited at a bounded rate ([`pace`]), each chunk in its own message, so the
//! limit holds while the answer grows.
//!
//! Every message and every edit declares its mentions (none; the replied-to member only on the
//! first message of a reply): an edit without `allowed_mentions` would fall back to Discord's
//! defaults and let generated text ping `@everyone`. Streamed text is the model's and is made
//! safe ([`sanitize_generated`]) at every edit.

use serenity::all::{
    ChannelId, CommandInteraction, CreateAllowedMentions, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EditInteractionResponse, EditMessage, Http, MessageId,
};
use tokio::sync::Mutex;

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
                // The update closure and the final delivery share the delivery; a failed
                // update stops further updates but not the generation's bookkeeping.
                let state = Mutex::new((self, None::<serenity::Error>));
                let shared = &state;
                let streamed = pace(stream, policy, move |text| async move {
                    let mut guard = shared.lock().await;
                    let (delivery, failure) = &mut *guard;
                    if failure.is_none() {
                        if let Err(error) = delivery.show(&sanitize_generated(&text)).await {
                            *failure = Some(error);
                        }
                    }
                })
                .await;
                let (mut delivery, failure) = state.into_inner();
                if let Some(error) = failure {
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
                let sent = channel.send_message(http, message).await?;
                Ok(Posted::Message(*channel, sent.id))
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
                channel.edit_message(http, id, edit).await?;
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

/// What every message Steward sends may ping: nobody (`parse: []`), except the member being
/// answered, through the reply itself (`notify_replied_user`, first message of a reply only).
/// Model output and quoted member text must never ping `@everyone`, roles or users.
pub(crate) fn mentions(notify_replied_user: bool) -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(notify_replied_user)
}
