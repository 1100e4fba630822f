//! An in-memory [`CaseLog`] for unit tests (no database), behaving like the store where the
//! tests rely on it: numbers count per community, the first decision wins, one open appeal
//! per case, only the case's member may appeal.

use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;

use super::log::CaseLog;
use crate::core::{
    Automatic, CaseCategory, CaseSource, CaseStatus, ChannelId, CommunityId, Location, MessageId,
    Platform, Role, UserId,
};
use crate::store::{
    Appeal, AppealFiled, AppealOutcome, Case, CaseReview, NewCase, StoreError, StoredMessage,
};

#[derive(Default)]
pub(crate) struct Memory {
    pub cases: Mutex<Vec<Case>>,
    /// (the case's global id, the appeal).
    pub appeals: Mutex<Vec<(i64, Appeal)>>,
    pub settings: Mutex<Vec<(String, String)>>,
}

impl Memory {
    /// A log holding `cases`.
    pub fn with(cases: Vec<Case>) -> Self {
        let memory = Self::default();
        *memory.cases.lock().unwrap() = cases;
        memory
    }

    /// Case `number` of `community`, as stored now.
    pub fn get(&self, community: &str, number: i64) -> Case {
        self.find(&CommunityId::new(community), number)
            .expect("the case exists")
    }

    fn find(&self, community: &CommunityId, number: i64) -> Option<Case> {
        let cases = self.cases.lock().unwrap();
        cases
            .iter()
            .find(|c| c.number == number && &c.location.community == community)
            .cloned()
    }
}

/// An open case in `community` about a message by `user`.
pub(crate) fn an_open_case(number: i64, community: &str, user: &str) -> Case {
    Case {
        // A global id unlike the number, so a mix-up shows.
        id: 1000 + number,
        number,
        location: Location {
            platform: Platform::Discord,
            community: CommunityId::new(community),
            channel: ChannelId::new("general"),
            thread: None,
        },
        message: Some(MessageId::new("m1")),
        user: UserId::new(user),
        excerpt: "free nitro".into(),
        source: CaseSource::Report,
        category: CaseCategory::Reported,
        reason: "reported by bob".into(),
        automatic: Automatic::Nothing,
        status: CaseStatus::Open,
        created_at: SystemTime::UNIX_EPOCH,
        decided_by: None,
        decided_at: None,
        reviewed_at: None,
        review_severity: None,
        rule_index: None,
    }
}

#[async_trait]
impl CaseLog for Memory {
    async fn message(
        &self,
        _: Platform,
        _: &MessageId,
    ) -> Result<Option<StoredMessage>, StoreError> {
        Ok(None)
    }

    async fn open_case(&self, case: &NewCase, at: SystemTime) -> Result<i64, StoreError> {
        let mut cases = self.cases.lock().unwrap();
        let community = &case.location.community;
        let number = 1 + cases
            .iter()
            .filter(|c| &c.location.community == community)
            .map(|c| c.number)
            .max()
            .unwrap_or(0);
        let id = cases.len() as i64 + 1000;
        cases.push(Case {
            id,
            number,
            location: case.location.clone(),
            message: case.message.clone(),
            user: case.user.clone(),
            excerpt: case.excerpt.clone(),
            source: case.source,
            category: case.category,
            reason: case.reason.clone(),
            automatic: case.automatic,
            status: CaseStatus::Open,
            created_at: at,
            decided_by: None,
            decided_at: None,
            reviewed_at: None,
            review_severity: None,
            rule_index: case.rule_index,
        });
        Ok(number)
    }

    async fn case(
        &self,
        _: Platform,
        community: &CommunityId,
        number: i64,
    ) -> Result<Option<Case>, StoreError> {
        Ok(self.find(community, number))
    }

    async fn open_case_for_message(
        &self,
        _: Platform,
        community: &CommunityId,
        message: &MessageId,
    ) -> Result<Option<Case>, StoreError> {
        let cases = self.cases.lock().unwrap();
        Ok(cases
            .iter()
            .find(|c| {
                &c.location.community == community
                    && c.message.as_ref() == Some(message)
                    && c.is_open()
            })
            .cloned())
    }

    async fn open_cases(
        &self,
        _: Platform,
        community: &CommunityId,
        _: u32,
    ) -> Result<Vec<Case>, StoreError> {
        let cases = self.cases.lock().unwrap();
        Ok(cases
            .iter()
            .filter(|c| c.is_open() && &c.location.community == community)
            .cloned()
            .collect())
    }

    async fn change_case_status(
        &self,
        _: Platform,
        community: &CommunityId,
        number: i64,
        from: CaseStatus,
        to: CaseStatus,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let mut cases = self.cases.lock().unwrap();
        let Some(case) = cases
            .iter_mut()
            .find(|c| c.number == number && &c.location.community == community && c.status == from)
        else {
            return Ok(false);
        };
        case.status = to;
        case.decided_by = Some(decided_by.clone());
        case.decided_at = Some(at);
        Ok(true)
    }

    async fn record_case_review(
        &self,
        _: Platform,
        community: &CommunityId,
        number: i64,
        review: &CaseReview,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let mut cases = self.cases.lock().unwrap();
        let Some(case) = cases.iter_mut().find(|c| {
            c.number == number && &c.location.community == community && c.reviewed_at.is_none()
        }) else {
            return Ok(false);
        };
        case.reviewed_at = Some(at);
        case.review_severity = Some(review.severity.clone());
        case.category = review.category.unwrap_or(case.category);
        case.reason = format!("{}; {}", case.reason, review.reason);
        case.automatic = review.automatic.unwrap_or(case.automatic);
        case.rule_index = review.rule_index.or(case.rule_index);
        Ok(true)
    }

    async fn file_appeal(
        &self,
        _: Platform,
        community: &CommunityId,
        number: i64,
        user: &UserId,
        text: &str,
        at: SystemTime,
    ) -> Result<AppealFiled, StoreError> {
        let Some(case) = self.find(community, number) else {
            return Ok(AppealFiled::NoSuchCase);
        };
        if &case.user != user {
            return Ok(AppealFiled::NotTheirs);
        }
        let mut appeals = self.appeals.lock().unwrap();
        if appeals.iter().any(|(id, a)| *id == case.id && a.is_open()) {
            return Ok(AppealFiled::AlreadyOpen);
        }
        let appeal = Appeal {
            id: appeals.len() as i64 + 1,
            user: user.clone(),
            text: text.to_string(),
            created_at: at,
            outcome: None,
            decided_by: None,
            decided_at: None,
        };
        appeals.push((case.id, appeal));
        Ok(AppealFiled::Filed)
    }

    async fn appeals(
        &self,
        _: Platform,
        community: &CommunityId,
        number: i64,
    ) -> Result<Vec<Appeal>, StoreError> {
        let Some(case) = self.find(community, number) else {
            return Ok(Vec::new());
        };
        let appeals = self.appeals.lock().unwrap();
        Ok(appeals
            .iter()
            .filter(|(id, _)| *id == case.id)
            .map(|(_, appeal)| appeal.clone())
            .collect())
    }

    async fn answer_appeal(
        &self,
        _: Platform,
        community: &CommunityId,
        number: i64,
        outcome: AppealOutcome,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let Some(case) = self.find(community, number) else {
            return Ok(false);
        };
        let mut appeals = self.appeals.lock().unwrap();
        let Some((_, appeal)) = appeals
            .iter_mut()
            .find(|(id, a)| *id == case.id && a.is_open())
        else {
            return Ok(false);
        };
        appeal.outcome = Some(outcome);
        appeal.decided_by = Some(decided_by.clone());
        appeal.decided_at = Some(at);
        Ok(true)
    }

    async fn settings(
        &self,
        _: Platform,
        _: &CommunityId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self.settings.lock().unwrap().clone())
    }

    async fn member_role(
        &self,
        _: Platform,
        _: &CommunityId,
        _: &UserId,
    ) -> Result<Option<Role>, StoreError> {
        Ok(None)
    }
}
