//! What makes an alert or a weekly digest go out once: a row claimed before posting, with an
//! insert that only one process can win (also across restarts and several processes on one
//! PostgreSQL database). No member data.

use std::time::SystemTime;

use sqlx::Row;

use super::AlertKind;
use crate::core::{ChannelId, CommunityId, Platform};
use crate::store::{from_millis, to_millis, Store, StoreError};

impl Store {
    /// Records that an alert of `kind` is posted for (`channel`, `window_start`) at `now`;
    /// false when it already was (by this process or another): the caller posts only on true.
    pub async fn claim_alert(
        &self,
        platform: Platform,
        community: &CommunityId,
        channel: &ChannelId,
        kind: AlertKind,
        window_start: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO insight_alerts \
             (platform, community_id, channel_id, kind, window_start, posted_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (platform, community_id, channel_id, kind, window_start) DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(channel.as_str())
        .bind(kind.as_str())
        .bind(to_millis(window_start))
        .bind(to_millis(now))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("claim an insight alert"))?
        .rows_affected();
        Ok(inserted > 0)
    }

    /// The due time of the last weekly digest claimed for the community; `None`: never.
    pub async fn digest_last_due(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Option<SystemTime>, StoreError> {
        const OPERATION: &str = "read the last digest";
        let row = sqlx::query(
            "SELECT last_due_at FROM insight_digests WHERE platform = $1 AND community_id = $2",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        row.map(|row| row.try_get::<i64, _>(0).map(from_millis))
            .transpose()
            .map_err(StoreError::query(OPERATION))
    }

    /// Claims the digest due at `due` (posted at `now`): true only if no digest due at or
    /// after `due` was claimed for the community. One statement (an upsert that updates only
    /// while the stored due time is earlier), so two processes or a restart never post one
    /// digest twice, and a digest due earlier than one already posted is never posted late.
    pub async fn claim_digest(
        &self,
        platform: Platform,
        community: &CommunityId,
        due: SystemTime,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO insight_digests (platform, community_id, last_due_at, posted_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, community_id) \
             DO UPDATE SET last_due_at = excluded.last_due_at, posted_at = excluded.posted_at \
             WHERE insight_digests.last_due_at < excluded.last_due_at",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(to_millis(due))
        .bind(to_millis(now))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("claim a digest"))?
        .rows_affected();
        Ok(claimed > 0)
    }
}
