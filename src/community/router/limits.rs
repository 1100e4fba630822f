//! The limits every model-backed feature shares: quotas (with the community's own, tighter
//! budgets), one notice per member per window for quota refusals and a full queue alike, and
//! the outcome and latency of streamed answers.

use std::time::Instant;

use futures::StreamExt;

use super::{reply, Router};
use crate::community::quotas::{Feature, QuotaKey, QuotaOverrides};
use crate::core::{Action, MessageId, TextStream, TextStreamItem};
use crate::features::ask;
use crate::features::Context;
use crate::llm::LlmError;

impl Router {
    /// Quota check for a request that costs model time. `Err` holds what to say: one notice per
    /// member per window, nothing after that.
    pub(super) fn admit(
        &self,
        ctx: &Context,
        feature: Feature,
        message: Option<MessageId>,
    ) -> Result<(), Vec<Action>> {
        let key = QuotaKey {
            platform: ctx.location.platform,
            community: &ctx.location.community,
            channel: &ctx.location.channel,
            user: &ctx.actor,
        };
        let overrides = self.overrides(ctx);
        match self.quotas.check(&key, feature, ctx.role, &overrides) {
            Ok(()) => Ok(()),
            Err(refusal) => {
                self.metrics
                    .quota_refused(feature.as_str(), refusal.scope.as_str());
                self.metrics.feature_request(feature.as_str(), "quota", 0.0);
                tracing::info!(
                    feature = feature.as_str(),
                    scope = refusal.scope.as_str(),
                    user = %ctx.actor,
                    "refused by quota"
                );
                if feature == Feature::Report || !self.notify_once(ctx) {
                    return Err(Vec::new());
                }
                let text = ctx.strings.quota_refused(refusal.retry_after);
                Err(vec![reply(ctx, message, text, true)])
            }
        }
    }

    /// The community's quota settings. Moderators may tighten the configured budgets, never
    /// loosen them: the model's time is the server owner's, shared by every community.
    fn overrides(&self, ctx: &Context) -> QuotaOverrides {
        let overrides = match QuotaOverrides::from_settings(ctx.settings.all()) {
            Ok(overrides) => overrides,
            Err(problem) => {
                tracing::warn!(community = %ctx.location.community, %problem, "ignoring the community's quota settings");
                return QuotaOverrides::default();
            }
        };
        let configured = self.quotas.settings();
        let tighten = |value: Option<u32>, limit: u32| value.map(|v| v.min(limit));
        QuotaOverrides {
            member_budget: tighten(overrides.member_budget, configured.member_budget),
            channel_budget: tighten(overrides.channel_budget, configured.channel_budget),
            community_budget: tighten(overrides.community_budget, configured.community_budget),
            report_budget: tighten(overrides.report_budget, configured.report_budget),
        }
    }

    /// Whether the actor may get a notice now (at most one per window).
    fn notify_once(&self, ctx: &Context) -> bool {
        self.notices.should_notify(
            ctx.location.platform,
            &ctx.location.community,
            &ctx.actor,
            Instant::now(),
        )
    }

    /// The reply when the engine refused or failed before any text: "busy" follows the
    /// one-notice-per-window rule; other failures are always said.
    pub(super) fn engine_refused(
        &self,
        ctx: &Context,
        message: Option<MessageId>,
        error: &LlmError,
        feature: &'static str,
        started: Instant,
    ) -> Vec<Action> {
        let seconds = started.elapsed().as_secs_f64();
        tracing::warn!(feature, label = error.label(), %error, "request failed");
        if matches!(error, LlmError::Overloaded { .. }) {
            self.metrics.feature_request(feature, "busy", seconds);
            if !self.notify_once(ctx) {
                return Vec::new();
            }
            let text = ctx.strings.busy().to_string();
            return vec![reply(ctx, message, text, true)];
        }
        self.metrics.feature_request(feature, "failed", seconds);
        let text = ask::user_message(error, ctx.strings).to_string();
        vec![reply(ctx, message, text, false)]
    }

    /// Counts the stream's outcome and latency when it ends.
    pub(super) fn measured(
        &self,
        stream: TextStream,
        feature: &'static str,
        started: Instant,
    ) -> TextStream {
        let metrics = self.metrics.clone();
        TextStream::new(stream.0.inspect(move |item| {
            let outcome = match item {
                TextStreamItem::Delta(_) => return,
                TextStreamItem::Finished { .. } => "answered",
                TextStreamItem::Failed(_) => "failed",
            };
            metrics.feature_request(feature, outcome, started.elapsed().as_secs_f64());
        }))
    }
}
