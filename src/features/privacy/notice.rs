//! `privacy`: what Steward stores in this community, for how long (the effective retention:
//! the configured one, or the community's shorter one), whether it records the member asking,
//! and the commands that change that.

use super::retention::effective_retention;
use super::Privacy;
use crate::features::Context;
use crate::store::{ExclusionReason, StoreError};
use crate::strings::{NoticeFacts, RecordingStatus};

/// The notice for the context's community and actor.
pub async fn text(privacy: &Privacy, ctx: &Context) -> Result<String, StoreError> {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let exclusion = privacy
        .store()
        .member_exclusion(platform, community, &ctx.actor)
        .await?;
    let status = match exclusion {
        Some(ExclusionReason::Forgotten) => RecordingStatus::Forgotten,
        Some(ExclusionReason::OptOut | ExclusionReason::Moderator) => RecordingStatus::OptedOut,
        // Not excluded themselves, yet not recorded: the channel is off.
        None if !ctx.recorded => RecordingStatus::ChannelOff,
        None => RecordingStatus::Recorded,
    };
    let settings = privacy.settings();
    let facts = NoticeFacts {
        retain_messages_days: effective_retention(
            settings.retain_messages_days,
            ctx.settings.retain_messages_days(),
        ),
        retain_cases_days: settings.retain_cases_days,
        status,
        prefix: ctx.prefix(),
    };
    Ok(ctx.strings.privacy_notice(&facts))
}
