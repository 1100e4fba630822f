//! Communities, channels and users: the rows that messages point to.
//!
//! The `ensure_*` helpers insert a row only if it is missing (with an empty name until the
//! platform tells us one) and run on any executor, so `record_message` can call them inside its
//! transaction. The public `upsert_*` methods also overwrite names.

use std::time::SystemTime;

use sqlx::any::Any;
use sqlx::{Executor, Row};

use super::{to_millis, Store, StoreError};
use crate::core::{Author, ChannelId, CommunityId, Location, Platform, UserId};

impl Store {
    /// Records a community, or renames it if it is already known.
    pub async fn upsert_community(
        &self,
        platform: Platform,
        community: &CommunityId,
        name: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO communities (platform, id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, id) DO UPDATE SET name = excluded.name",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(name)
        .bind(to_millis(SystemTime::now()))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("save a community"))?;
        Ok(())
    }

    /// Records the channel of `location` (and its community, if new), or renames it.
    pub async fn upsert_channel(&self, location: &Location, name: &str) -> Result<(), StoreError> {
        const OPERATION: &str = "save a channel";
        let mut tx = self
            .begin_write()
            .await
            .map_err(StoreError::query(OPERATION))?;
        ensure_community(&mut *tx, location.platform, &location.community)
            .await
            .map_err(StoreError::query(OPERATION))?;
        sqlx::query(
            "INSERT INTO channels (platform, id, community_id, name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, id) DO UPDATE \
             SET community_id = excluded.community_id, name = excluded.name",
        )
        .bind(location.platform.as_str())
        .bind(location.channel.as_str())
        .bind(location.community.as_str())
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))
    }

    /// Records a user, or updates their display name and bot flag.
    pub async fn upsert_user(&self, platform: Platform, author: &Author) -> Result<(), StoreError> {
        upsert_user(&self.pool, platform, author)
            .await
            .map_err(StoreError::query("save a user"))
    }

    /// The name of a known community (empty if it was only seen through its messages).
    pub async fn community_name(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Option<String>, StoreError> {
        self.fetch_name(
            "SELECT name FROM communities WHERE platform = $1 AND id = $2",
            platform,
            community.as_str(),
            "read a community",
        )
        .await
    }

    /// The name of a known channel (empty if it was only seen through its messages).
    pub async fn channel_name(
        &self,
        platform: Platform,
        channel: &ChannelId,
    ) -> Result<Option<String>, StoreError> {
        self.fetch_name(
            "SELECT name FROM channels WHERE platform = $1 AND id = $2",
            platform,
            channel.as_str(),
            "read a channel",
        )
        .await
    }

    /// The last known display name of a user.
    pub async fn user_display_name(
        &self,
        platform: Platform,
        user: &UserId,
    ) -> Result<Option<String>, StoreError> {
        self.fetch_name(
            "SELECT display_name FROM users WHERE platform = $1 AND id = $2",
            platform,
            user.as_str(),
            "read a user",
        )
        .await
    }

    async fn fetch_name(
        &self,
        sql: &'static str,
        platform: Platform,
        id: &str,
        operation: &'static str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(sql)
            .bind(platform.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query(operation))?;
        row.map(|row| row.try_get::<String, _>(0))
            .transpose()
            .map_err(StoreError::query(operation))
    }
}

/// Inserts a community row with an empty name unless it exists.
pub(super) async fn ensure_community<'e, E>(
    executor: E,
    platform: Platform,
    community: &CommunityId,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO communities (platform, id, name, created_at) VALUES ($1, $2, '', $3) \
         ON CONFLICT (platform, id) DO NOTHING",
    )
    .bind(platform.as_str())
    .bind(community.as_str())
    .bind(to_millis(SystemTime::now()))
    .execute(executor)
    .await?;
    Ok(())
}

/// Inserts the channel row of `location` with an empty name unless it exists. The community row
/// must exist.
pub(super) async fn ensure_channel<'e, E>(
    executor: E,
    location: &Location,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO channels (platform, id, community_id, name) VALUES ($1, $2, $3, '') \
         ON CONFLICT (platform, id) DO NOTHING",
    )
    .bind(location.platform.as_str())
    .bind(location.channel.as_str())
    .bind(location.community.as_str())
    .execute(executor)
    .await?;
    Ok(())
}

/// Inserts a user, or updates the display name and bot flag of a known one.
pub(super) async fn upsert_user<'e, E>(
    executor: E,
    platform: Platform,
    author: &Author,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO users (platform, id, display_name, is_bot) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (platform, id) DO UPDATE \
         SET display_name = excluded.display_name, is_bot = excluded.is_bot",
    )
    .bind(platform.as_str())
    .bind(author.id.as_str())
    .bind(author.display_name.as_str())
    .bind(i64::from(author.is_bot))
    .execute(executor)
    .await?;
    Ok(())
}
