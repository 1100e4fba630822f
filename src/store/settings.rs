//! Per-community settings: string keys and values, one set per community.
//!
//! The store does not interpret keys or values; the features that own a setting parse and
//! validate it. A setting may be stored before anything else is known about its community.

use sqlx::Row;

use super::{Store, StoreError};
use crate::core::{CommunityId, Platform};

impl Store {
    /// Sets `key` to `value` for one community, replacing any previous value.
    pub async fn set_setting(
        &self,
        platform: Platform,
        community: &CommunityId,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (platform, community_id, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, community_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("save a setting"))?;
        Ok(())
    }

    /// The value of `key` for one community, if set.
    pub async fn setting(
        &self,
        platform: Platform,
        community: &CommunityId,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        const OPERATION: &str = "read a setting";
        let row = sqlx::query(
            "SELECT value FROM settings WHERE platform = $1 AND community_id = $2 AND key = $3",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        row.map(|row| row.try_get::<String, _>(0))
            .transpose()
            .map_err(StoreError::query(OPERATION))
    }

    /// Every setting of one community as `(key, value)` pairs, sorted by key (byte order on
    /// every backend, whatever the database's collation).
    pub async fn settings(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        const OPERATION: &str = "list settings";
        let rows = sqlx::query(
            "SELECT key, value FROM settings WHERE platform = $1 AND community_id = $2",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let mut settings = rows
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<Vec<(String, String)>, sqlx::Error>>()
            .map_err(StoreError::query(OPERATION))?;
        settings.sort();
        Ok(settings)
    }

    /// Removes `key` for one community. Returns false if it was not set.
    pub async fn delete_setting(
        &self,
        platform: Platform,
        community: &CommunityId,
        key: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM settings WHERE platform = $1 AND community_id = $2 AND key = $3",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("delete a setting"))?;
        Ok(result.rows_affected() > 0)
    }
}
