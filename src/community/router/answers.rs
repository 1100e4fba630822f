//! Answering a question: the checks every question passes (not empty, not too long, the
//! quotas), then the ask feature's streamed answer, as a reply or in a new thread.

use std::time::Instant;

use super::{reply, Router};
use crate::community::quotas::Feature;
use crate::core::{Action, Body, MessageId, Reply};
use crate::features::Context;
use crate::llm::ChatMessage;

impl Router {
    pub(super) async fn ask(
        &self,
        ctx: &Context,
        question: &str,
        message: Option<MessageId>,
    ) -> Vec<Action> {
        self.answer_question(ctx, question, message, Vec::new(), None)
            .await
    }

    /// Answers `question` (asked in `message`): `earlier` are the turns of the conversation it
    /// continues (oldest first; empty for a new question); with `new_thread`, the answer opens
    /// a thread of that name on `message` instead of replying to it.
    pub(super) async fn answer_question(
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
}
