//! What the store remembers about members beyond their messages: the role Steward last saw a
//! member have in a community (a report about a moderator's message is decided by people), and
//! which questions Steward answered (catching up after downtime never answers one twice).

use std::time::SystemTime;

use sqlx::Row;

use super::{to_millis, Store, StoreError};
use crate::core::{CommunityId, MessageId, Platform, Role, UserId};

/// The stored text of a role.
fn role_text(role: Role) -> &'static str {
    match role {
        Role::Member => "member",
        Role::Moderator => "moderator",
        Role::Owner => "owner",
    }
}

/// The role stored as `text`; `None` for text this version does not know.
pub(super) fn parse_role(text: &str) -> Option<Role> {
    match text {
        "member" => Some(Role::Member),
        "moderator" => Some(Role::Moderator),
        "owner" => Some(Role::Owner),
        _ => None,
    }
}

impl Store {
    /// Remembers `user`'s role in `community` as seen `at` (the latest sighting wins).
    pub async fn record_member_role(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
        role: Role,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO member_roles (platform, community_id, user_id, role, seen_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (platform, community_id, user_id) \
             DO UPDATE SET role = excluded.role, seen_at = excluded.seen_at \
             WHERE member_roles.seen_at <= excluded.seen_at",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(user.as_str())
        .bind(role_text(role))
        .bind(to_millis(at))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("record a member's role"))?;
        Ok(())
    }

    /// The role Steward last saw `user` have in `community`; `None` if never seen (or stored
    /// by a newer version with a role this one does not know).
    pub async fn member_role(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
    ) -> Result<Option<Role>, StoreError> {
        let row = sqlx::query(
            "SELECT role FROM member_roles \
             WHERE platform = $1 AND community_id = $2 AND user_id = $3",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query("read a member's role"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let text: String = row
            .try_get("role")
            .map_err(StoreError::query("read a member's role"))?;
        Ok(parse_role(&text))
    }

    /// Marks a question as answered; returns false if it already was (someone else answered
    /// it first: another process, or an earlier run).
    pub async fn mark_answered(
        &self,
        platform: Platform,
        message: &MessageId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO answered_messages (platform, message_id, answered_at) \
             VALUES ($1, $2, $3) ON CONFLICT (platform, message_id) DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(message.as_str())
        .bind(to_millis(at))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("mark a question answered"))?
        .rows_affected();
        Ok(inserted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_role, role_text};
    use crate::core::Role;

    #[test]
    fn roles_read_back() {
        for role in [Role::Member, Role::Moderator, Role::Owner] {
            assert_eq!(parse_role(role_text(role)), Some(role));
        }
        assert_eq!(parse_role("admin"), None);
    }
}
