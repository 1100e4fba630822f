//! Exports: everything stored about a member in one community as pretty JSON
//! ([`crate::store::MemberExport`]). `privacy export` sends it to the member privately as a
//! file; `steward privacy export` writes one member's, or every member's of a community, for
//! the owner.

use serde::Serialize;

use super::Answer;
use crate::core::{Action, Attachment, CommunityId, Platform, UserId};
use crate::features::Context;
use crate::store::{MemberExport, Store, StoreError};

/// The media type of an export.
pub const JSON: &str = "application/json";

/// Every member's export of one community (`steward privacy export` without `--user`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommunityExport {
    pub platform: String,
    pub community: String,
    pub members: Vec<MemberExport>,
}

/// Whether nothing is stored about the member (the file's lists are all empty).
pub fn is_empty(export: &MemberExport) -> bool {
    export.messages.is_empty()
        && export.questions_unanswered.is_empty()
        && export.votes.is_empty()
        && export.cases.is_empty()
        && export.appeals.is_empty()
}

/// Pretty JSON of `value`.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("an export serializes");
    bytes.push(b'\n');
    bytes
}

/// The export file's name: `steward-export-<community>.json`, the id written with letters,
/// digits, `-`, `_` and `.` only (a Matrix room id has `!` and `:`).
pub fn file_name(community: &CommunityId) -> String {
    let id: String = community
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("steward-export-{id}.json")
}

/// One member's export as a file.
pub async fn member_file(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
    user: &UserId,
) -> Result<(Attachment, bool), StoreError> {
    let export = store.export_member(platform, community, user).await?;
    let empty = is_empty(&export);
    let attachment = Attachment {
        name: file_name(community),
        mime: JSON.to_string(),
        bytes: to_json(&export),
    };
    Ok((attachment, empty))
}

/// Every member's export of a community, members with stored messages first as the store
/// lists them.
pub async fn community(
    store: &Store,
    platform: Platform,
    community: &CommunityId,
) -> Result<CommunityExport, StoreError> {
    let mut members = Vec::new();
    for user in store.community_members(platform, community).await? {
        members.push(store.export_member(platform, community, &user).await?);
    }
    Ok(CommunityExport {
        platform: platform.as_str().to_string(),
        community: community.as_str().to_string(),
        members,
    })
}

/// `privacy export`: the file goes to the member privately; the reply says so (and whether
/// there was anything to send).
pub async fn command(store: &Store, ctx: &Context) -> Result<Answer, StoreError> {
    let (platform, community) = (ctx.location.platform, &ctx.location.community);
    let (attachment, empty) = member_file(store, platform, community, &ctx.actor).await?;
    let notice = Action::PrivateNotice {
        platform,
        user: ctx.actor.clone(),
        text: ctx.strings.export_message(community.as_str(), empty),
        attachment: Some(attachment),
    };
    Ok(Answer {
        text: ctx.strings.export_sent(empty).to_string(),
        actions: vec![notice],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        let name = |id: &str| file_name(&CommunityId::new(id));
        assert_eq!(name("900"), "steward-export-900.json");
        assert_eq!(
            name("!space:example.org"),
            "steward-export-_space_example.org.json"
        );
        assert_eq!(name("../x"), "steward-export-.._x.json");
    }
}
