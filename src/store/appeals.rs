//! Appeals: the member a case is about disputes it (`appeal 12 I was quoting the spammer`),
//! and a moderator upholds or reverses the decision.
//!
//! Like cases, appeals are reached only through (platform, community, case number), so an
//! appeal never crosses into another community. A case has at most one open appeal at a time.

use std::time::SystemTime;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{from_millis, to_millis, Store, StoreError};
use crate::core::{CommunityId, Platform, UserId};

/// How a moderator answered an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealOutcome {
    /// The decision stands.
    Upheld,
    /// The decision was undone.
    Reversed,
}

impl AppealOutcome {
    /// The stable text form, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "upheld",
            AppealOutcome::Reversed => "reversed",
        }
    }

    /// The outcome stored as `text`; `None` for text this version does not know.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "upheld" => Some(AppealOutcome::Upheld),
            "reversed" => Some(AppealOutcome::Reversed),
            _ => None,
        }
    }
}

/// A stored appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    pub id: i64,
    /// Who appealed (always the member the case is about).
    pub user: UserId,
    pub text: String,
    pub created_at: SystemTime,
    /// `None` while open.
    pub outcome: Option<AppealOutcome>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<SystemTime>,
}

impl Appeal {
    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }

    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let outcome = match row.try_get::<Option<String>, _>("outcome")? {
            None => None,
            Some(text) => Some(AppealOutcome::parse(&text).ok_or_else(|| {
                sqlx::Error::Decode(
                    format!("unknown value {text:?} in case_appeals.outcome").into(),
                )
            })?),
        };
        Ok(Appeal {
            id: row.try_get("id")?,
            user: UserId::new(row.try_get::<String, _>("user_id")?),
            text: row.try_get("text")?,
            created_at: from_millis(row.try_get("created_at")?),
            outcome,
            decided_by: row
                .try_get::<Option<String>, _>("decided_by")?
                .map(UserId::new),
            decided_at: row
                .try_get::<Option<i64>, _>("decided_at")?
                .map(from_millis),
        })
    }
}

/// What became of an appeal a member filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealFiled {
    Filed,
    /// The community has no case with that number.
    NoSuchCase,
    /// The case is about someone else: only its member may appeal it.
    NotTheirs,
    /// The case already has an appeal waiting for a moderator.
    AlreadyOpen,
}

impl Store {
    /// Files `user`'s appeal of case `number` of `community`: only the member the case is about
    /// may appeal, and only while no other appeal of the case is open. The checks and the
    /// insert are one statement.
    pub async fn file_appeal(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        user: &UserId,
        text: &str,
        at: SystemTime,
    ) -> Result<AppealFiled, StoreError> {
        const OPERATION: &str = "file an appeal";
        let result = sqlx::query(
            "INSERT INTO case_appeals (case_id, user_id, text, created_at) \
             SELECT c.id, c.user_id, $4, $5 FROM moderation_cases c \
             WHERE c.platform = $1 AND c.community_id = $2 AND c.number = $3 \
             AND c.user_id = $6 AND NOT EXISTS (SELECT 1 FROM case_appeals a \
             WHERE a.case_id = c.id AND a.outcome IS NULL)",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .bind(text)
        .bind(to_millis(at))
        .bind(user.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        if result.rows_affected() > 0 {
            return Ok(AppealFiled::Filed);
        }
        // Nothing inserted: say why.
        let row = sqlx::query(
            "SELECT user_id FROM moderation_cases \
             WHERE platform = $1 AND community_id = $2 AND number = $3",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        let Some(row) = row else {
            return Ok(AppealFiled::NoSuchCase);
        };
        let about: String = row.try_get(0).map_err(StoreError::query(OPERATION))?;
        Ok(if about == user.as_str() {
            AppealFiled::AlreadyOpen
        } else {
            AppealFiled::NotTheirs
        })
    }

    /// The appeals of case `number` of `community`, oldest first.
    pub async fn appeals(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
    ) -> Result<Vec<Appeal>, StoreError> {
        const OPERATION: &str = "list a case's appeals";
        let rows = sqlx::query(
            "SELECT a.id AS id, a.user_id AS user_id, a.text AS text, a.created_at AS created_at, \
             a.outcome AS outcome, a.decided_by AS decided_by, a.decided_at AS decided_at \
             FROM case_appeals a JOIN moderation_cases c ON c.id = a.case_id \
             WHERE c.platform = $1 AND c.community_id = $2 AND c.number = $3 ORDER BY a.id",
        )
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(OPERATION))?;
        rows.iter()
            .map(Appeal::from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::query(OPERATION))
    }

    /// Answers the open appeal of case `number` of `community`. Returns false if it has none
    /// (never filed, or another moderator answered it first).
    pub async fn answer_appeal(
        &self,
        platform: Platform,
        community: &CommunityId,
        number: i64,
        outcome: AppealOutcome,
        decided_by: &UserId,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE case_appeals SET outcome = $1, decided_by = $2, decided_at = $3 \
             WHERE outcome IS NULL AND case_id IN (SELECT id FROM moderation_cases \
             WHERE platform = $4 AND community_id = $5 AND number = $6)",
        )
        .bind(outcome.as_str())
        .bind(decided_by.as_str())
        .bind(to_millis(at))
        .bind(platform.as_str())
        .bind(community.as_str())
        .bind(number)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("answer an appeal"))?;
        Ok(result.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back() {
        for outcome in [AppealOutcome::Upheld, AppealOutcome::Reversed] {
            assert_eq!(AppealOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(AppealOutcome::parse("ignored"), None);
    }
}
