//! What moderation needs from the database, as a narrow trait: the reported message, the case
//! log with its appeals, and the community's settings (for work that runs without an event's
//! context, like the model's background review). The store is the one real implementation;
//! tests can use an in-memory fake.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::core::{CaseStatus, CommunityId, MessageId, Platform, Role, UserId};
use crate::store::{
    Appeal, AppealFiled, AppealOutcome, Case, CaseReview, NewCase, Store, StoreError, StoredMessage,
};

/// The messages, cases and appeals moderation reads and writes. Every case operation names
/// the community and the case's number in it, so one community can never reach another's
/// cases.
#[async_trait]
pub trait CaseLog: Send + Sync {
    /// A recorded message (to open a case about a reported one).
    async fn message(
        &self,
        platform: Platform,
        message: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError>;
    /// Opens a case; returns its number in its community.
    async fn open_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, StoreError>;
    /// Case `number` of one community.
    async fn case(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
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
    /// Moves a case from status `from` to `to`; false if its status was no longer `from`
    /// (the first decision wins). Closing a case is the move from `open`.
    #[allow(clippy::too_many_arguments)]
    async fn change_case_status(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        from: CaseStatus,
        to: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError>;
    /// Records the model's review of a case, once.
    async fn record_case_review(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        review: &CaseReview,
        at: SystemTime,
    ) -> Result<bool, StoreError>;
    /// Files a member's appeal of a case about them.
    async fn file_appeal(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        user: &UserId,
        text: &str,
        at: SystemTime,
    ) -> Result<AppealFiled, StoreError>;
    /// A case's appeals, oldest first.
    async fn appeals(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
    ) -> Result<Vec<Appeal>, StoreError>;
    /// Answers a case's open appeal; false if it has none.
    async fn answer_appeal(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        outcome: AppealOutcome,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError>;
    /// The community's settings as (key, value), for work without an event's context.
    async fn settings(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// The role Steward last saw `user` have in `community` (`None`: never seen).
    async fn member_role(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
    ) -> Result<Option<Role>, StoreError>;
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
        number: i64,
    ) -> Result<Option<Case>, StoreError> {
        Store::case(self, platform, community, number).await
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

    async fn change_case_status(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        from: CaseStatus,
        to: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        Store::change_case_status(self, platform, community, number, from, to, decided_by, at).await
    }

    async fn record_case_review(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        review: &CaseReview,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        Store::record_case_review(self, platform, community, number, review, at).await
    }

    async fn file_appeal(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        user: &UserId,
        text: &str,
        at: SystemTime,
    ) -> Result<AppealFiled, StoreError> {
        Store::file_appeal(self, platform, community, number, user, text, at).await
    }

    async fn appeals(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
    ) -> Result<Vec<Appeal>, StoreError> {
        Store::appeals(self, platform, community, number).await
    }

    async fn answer_appeal(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        outcome: AppealOutcome,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        Store::answer_appeal(self, platform, community, number, outcome, decided_by, at).await
    }

    async fn settings(
        &self,
        platform: Platform,
        community: &CommunityId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Store::settings(self, platform, community).await
    }

    async fn member_role(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
    ) -> Result<Option<Role>, StoreError> {
        Store::member_role(self, platform, community, user).await
    }
}
