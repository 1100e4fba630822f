//! What moderation needs from the database, as a narrow trait: the reported message, and the
//! case log. The store is the one real implementation; tests can use an in-memory fake.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::core::{CaseStatus, CommunityId, MessageId, Platform, UserId};
use crate::store::{Case, CaseReview, NewCase, Store, StoreError, StoredMessage};

/// The messages and cases moderation reads and writes. Every case operation names the
/// community, so one community can never reach another's cases.
#[async_trait]
pub trait CaseLog: Send + Sync {
    /// A recorded message (to open a case about a reported one).
    async fn message(
        &self,
        platform: Platform,
        message: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError>;
    /// Opens a case; returns its number.
    async fn open_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, StoreError>;
    /// One case of one community.
    async fn case(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
    ) -> Result<Option<Case>, StoreError>;
    /// The open case about a message, if any.
    async fn open_case_for_message(
        &self,
        platform: Platform,
        community: &CommunityId,
        message: &MessageId,
    ) -> Result<Option<Case>, StoreError>;
    /// The community's open cases, newest first.
    async fn open_cases(
        &self,
        platform: Platform,
        community: &CommunityId,
        limit: u32,
    ) -> Result<Vec<Case>, StoreError>;
    /// Closes an open case; false if it was not open (the first decision wins).
    async fn close_case(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
        status: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError>;
    /// Records the model's review of a case, once.
    async fn record_case_review(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
        review: &CaseReview,
        at: SystemTime,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl CaseLog for Store {
    async fn message(
        &self,
        platform: Platform,
        message: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        Store::message(self, platform, message).await
    }

    async fn open_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, StoreError> {
        Store::open_case(self, case, at).await
    }

    async fn case(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
    ) -> Result<Option<Case>, StoreError> {
        Store::case(self, platform, community, id).await
    }

    async fn open_case_for_message(
        &self,
        platform: Platform,
        community: &CommunityId,
        message: &MessageId,
    ) -> Result<Option<Case>, StoreError> {
        Store::open_case_for_message(self, platform, community, message).await
    }

    async fn open_cases(
        &self,
        platform: Platform,
        community: &CommunityId,
        limit: u32,
    ) -> Result<Vec<Case>, StoreError> {
        Store::open_cases(self, platform, community, limit).await
    }

    async fn close_case(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
        status: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        Store::close_case(self, platform, community, id, status, decided_by, at).await
    }

    async fn record_case_review(
        &self,
        platform: Platform,
        community: &CommunityId,
        id: i64,
        review: &CaseReview,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        Store::record_case_review(self, platform, community, id, review, at).await
    }
}
