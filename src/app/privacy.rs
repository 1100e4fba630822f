//! `steward privacy`: members' data from the command line, for the owner of the Steward
//! process: forget a member of a community (`forget`; without `--yes` it only says what would
//! be deleted), export one member's or a whole community's data as JSON (`export`), and run
//! the retention purge once now (`purge`). Each does what the chat commands do, through the
//! same functions.

use std::sync::Arc;
use std::time::SystemTime;

use crate::config::Config;
use crate::core::{CommunityId, Platform, UserId};
use crate::features::privacy::{export, forget, retention};
use crate::store::{Store, StoreError};

/// A `--platform` value that names no platform.
#[derive(Debug, thiserror::Error)]
#[error("--platform {given:?}: use console, discord or matrix")]
pub struct PlatformArgError {
    pub given: String,
}

/// The platform a `--platform` argument names.
pub fn parse_platform(text: &str) -> Result<Platform, PlatformArgError> {
    Platform::parse(text.trim()).ok_or_else(|| PlatformArgError {
        given: text.to_string(),
    })
}

/// Who: one member of one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub platform: Platform,
    pub community: CommunityId,
    pub user: UserId,
}

impl Member {
    /// The member as the privacy feature names one: (platform, community, user).
    fn who(&self) -> (Platform, &CommunityId, &UserId) {
        (self.platform, &self.community, &self.user)
    }
}

/// `steward privacy forget` without `--yes`: what forgetting would delete, and how to do it.
pub async fn forget_preview(
    config: &Config,
    store: &Arc<Store>,
    member: &Member,
) -> Result<String, StoreError> {
    let index = super::conversation_index(config, store);
    let who = member.who();
    let messages = store
        .member_message_ids(member.platform, &member.community, &member.user)
        .await?
        .len();
    let conversations = forget::conversations_of(store, &index, who).await?.len();
    let excluded = store
        .member_exclusion(member.platform, &member.community, &member.user)
        .await?;
    let mut text = format!(
        "Forgetting {} in {}:{} would delete {messages} stored messages (with their edits), \
         {conversations} knowledge-base conversations holding them (indexed again without \
         them), their unanswered questions, votes and role, and cases about them closed more \
         than {} days ago; other cases about them are kept. They would not be recorded there \
         afterwards.\n",
        member.user,
        member.platform.as_str(),
        member.community,
        config.privacy.retain_cases_days
    );
    if let Some(reason) = excluded {
        text.push_str(&format!(
            "They are already not recorded there ({}).\n",
            reason.as_str()
        ));
    }
    text.push_str("Nothing was deleted: run it again with --yes to forget them.\n");
    Ok(text)
}

/// `steward privacy forget --yes`: forgets the member (one transaction), re-indexes their
/// conversations, and says what was deleted and kept.
pub async fn forget_member(
    config: &Config,
    store: &Arc<Store>,
    member: &Member,
) -> Result<String, StoreError> {
    let index = super::conversation_index(config, store);
    let who = member.who();
    let done = forget::forget(
        store,
        &index,
        who,
        config.privacy.retain_cases_days,
        SystemTime::now(),
    )
    .await?;
    if done == crate::store::Forgotten::default() {
        return Ok(format!(
            "Nothing was stored about {} in {}:{}; they are not recorded there from now on.\n",
            member.user,
            member.platform.as_str(),
            member.community
        ));
    }
    Ok(format!(
        "Forgot {} in {}:{}: deleted {} messages, {} knowledge-base conversations (indexed \
         again without them), {} unanswered questions, {} votes and {} old cases; kept {} \
         cases still open or closed less than {} days ago. They are not recorded there from \
         now on.\n",
        member.user,
        member.platform.as_str(),
        member.community,
        done.messages,
        done.documents,
        done.gaps,
        done.votes,
        done.cases_deleted,
        done.cases_kept,
        config.privacy.retain_cases_days
    ))
}

/// `steward privacy export`: one member's data (`user`), or every member's of the community,
/// as pretty JSON.
pub async fn export_json(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    user: Option<&UserId>,
) -> Result<Vec<u8>, StoreError> {
    Ok(match user {
        Some(user) => {
            let data = store.export_member(platform, community, user).await?;
            export::to_json(&data)
        }
        None => export::to_json(&export::community(store, platform, community).await?),
    })
}

/// `steward privacy purge`: the retention purge of every community, now; one line each.
pub async fn purge_now(config: &Config, store: &Arc<Store>) -> Result<String, StoreError> {
    let index = super::conversation_index(config, store);
    let report = retention::purge_all(store, &index, &config.privacy, SystemTime::now()).await?;
    Ok(report.render())
}
