//! Export: everything stored about one member in one community, as plain serializable data
//! (`privacy export` sends it to the member as a JSON file; owners export from the command
//! line). Ids are strings as the platform gives them; times are RFC 3339 UTC strings with
//! milliseconds ([`rfc3339_utc`]).

use std::collections::HashMap;
use std::time::SystemTime;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::core::{CommunityId, Platform, UserId};
use crate::store::{from_millis, Store, StoreError};

/// Everything stored about one member in one community (serialized as pretty JSON).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberExport {
    pub platform: String,
    pub community: String,
    pub user: String,
    /// Their display name as last seen (`None`: no user row).
    pub display_name: Option<String>,
    /// The role Steward last saw them have here (`member`, `moderator`, `owner`).
    pub role: Option<String>,
    /// Their messages are not recorded here (they opted out or were forgotten).
    pub excluded: bool,
    /// Their messages, oldest first.
    pub messages: Vec<ExportedMessage>,
    /// Questions they asked Steward that it could not answer, oldest first.
    pub questions_unanswered: Vec<ExportedGap>,
    /// Their 👍/👎 on Steward's answers, oldest first.
    pub votes: Vec<ExportedVote>,
    /// Moderation cases about them, oldest first.
    pub cases: Vec<ExportedCase>,
    /// Their appeals, oldest first.
    pub appeals: Vec<ExportedAppeal>,
}

/// A stored message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportedMessage {
    pub id: String,
    pub channel: String,
    pub thread: Option<String>,
    /// The current text; empty once deleted or past retention.
    pub text: String,
    pub reply_to: Option<String>,
    pub created_at: String,
    pub edited_at: Option<String>,
    /// Deleted on its platform.
    pub deleted: bool,
    /// The tone Steward read in it for community insights: `positive`, `neutral` or
    /// `negative`; `None` when not scored.
    pub sentiment: Option<String>,
    /// Its earlier texts, oldest first.
    pub edits: Vec<ExportedEdit>,
}

/// An earlier text of a message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportedEdit {
    /// The text the message had before this edit.
    pub text: String,
    pub edited_at: String,
}

/// An unanswered question.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportedGap {
    pub question: String,
    /// The message it was asked in, when known.
    pub message: Option<String>,
    pub asked_at: String,
}

/// A vote on one of Steward's answers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportedVote {
    /// The answer (Steward's message).
    pub answer: String,
    pub channel: String,
    /// `up` (👍) or `down` (👎).
    pub vote: String,
    pub voted_at: String,
}

/// A moderation case about the member.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportedCase {
    /// Its number in the community.
    pub number: i64,
    pub channel: String,
    pub message: Option<String>,
    /// The start of the message (empty once the case is past retention).
    pub excerpt: String,
    /// `rule`, `model` or `report`.
    pub source: String,
    pub category: String,
    pub reason: String,
    /// `open`, or the moderator's decision.
    pub status: String,
    pub created_at: String,
    pub decided_at: Option<String>,
}

/// An appeal the member filed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExportedAppeal {
    /// The number of the case appealed.
    pub case: i64,
    pub text: String,
    pub created_at: String,
    /// `upheld` or `reversed`; `None` while waiting.
    pub outcome: Option<String>,
    pub decided_at: Option<String>,
}

impl Store {
    /// Everything stored about `user` in `community`, read in one transaction. A member
    /// nothing is stored about gets empty lists.
    pub async fn export_member(
        &self,
        platform: Platform,
        community: &CommunityId,
        user: &UserId,
    ) -> Result<MemberExport, StoreError> {
        const OPERATION: &str = "export a member's data";
        let excluded = self
            .member_exclusion(platform, community, user)
            .await?
            .is_some();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::query(OPERATION))?;
        let mut export = MemberExport {
            platform: platform.as_str().to_string(),
            community: community.as_str().to_string(),
            user: user.as_str().to_string(),
            display_name: None,
            role: None,
            excluded,
            messages: Vec::new(),
            questions_unanswered: Vec::new(),
            votes: Vec::new(),
            cases: Vec::new(),
            appeals: Vec::new(),
        };
        read(&mut tx, &mut export)
            .await
            .map_err(StoreError::query(OPERATION))?;
        tx.commit().await.map_err(StoreError::query(OPERATION))?;
        Ok(export)
    }
}

/// Fills `export` (its platform, community and user say whose).
async fn read(conn: &mut AnyConnection, export: &mut MemberExport) -> Result<(), sqlx::Error> {
    let who = Who(&export.platform, &export.community, &export.user);
    let names = sqlx::query("SELECT display_name FROM users WHERE platform = $1 AND id = $2")
        .bind(who.0)
        .bind(who.2)
        .fetch_optional(&mut *conn)
        .await?;
    let display_name: Option<String> = names.map(|row| row.try_get(0)).transpose()?;
    let role: Option<String> = who
        .rows(
            &mut *conn,
            "SELECT role FROM member_roles \
             WHERE platform = $1 AND community_id = $2 AND user_id = $3",
        )
        .await?
        .first()
        .map(|row| row.try_get(0))
        .transpose()?;

    let mut edits: HashMap<String, Vec<ExportedEdit>> = HashMap::new();
    let edit_rows = who
        .rows(
            &mut *conn,
            "SELECT e.message_id AS message_id, e.previous_text AS previous_text, \
             e.edited_at AS edited_at FROM message_edits AS e \
             JOIN messages AS m ON m.platform = e.platform AND m.id = e.message_id \
             WHERE m.platform = $1 AND m.community_id = $2 AND m.author_id = $3 \
             ORDER BY e.edited_at, e.previous_text",
        )
        .await?;
    for row in &edit_rows {
        edits
            .entry(row.try_get("message_id")?)
            .or_default()
            .push(ExportedEdit {
                text: row.try_get("previous_text")?,
                edited_at: time(row, "edited_at")?,
            });
    }
    let messages = who
        .rows(
            &mut *conn,
            "SELECT m.id AS id, m.channel_id AS channel_id, m.thread_id AS thread_id, \
             m.text AS text, m.reply_to AS reply_to, m.created_at AS created_at, \
             m.edited_at AS edited_at, m.deleted_at AS deleted_at, s.label AS sentiment \
             FROM messages AS m LEFT JOIN message_sentiment AS s \
             ON s.platform = m.platform AND s.message_id = m.id \
             WHERE m.platform = $1 AND m.community_id = $2 AND m.author_id = $3 \
             ORDER BY m.created_at, m.id",
        )
        .await?;
    let mut exported = Vec::with_capacity(messages.len());
    for row in &messages {
        let id: String = row.try_get("id")?;
        exported.push(ExportedMessage {
            channel: row.try_get("channel_id")?,
            thread: row.try_get("thread_id")?,
            text: row.try_get("text")?,
            reply_to: row.try_get("reply_to")?,
            created_at: time(row, "created_at")?,
            edited_at: optional_time(row, "edited_at")?,
            deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
            sentiment: row.try_get("sentiment")?,
            edits: edits.remove(&id).unwrap_or_default(),
            id,
        });
    }

    let gaps = who
        .rows(
            &mut *conn,
            "SELECT question, message_id, asked_at FROM kb_gaps \
             WHERE platform = $1 AND community = $2 AND user_id = $3 ORDER BY asked_at, id",
        )
        .await?;
    let votes = who
        .rows(
            &mut *conn,
            "SELECT message_id, channel_id, value, voted_at FROM answer_feedback \
             WHERE platform = $1 AND community_id = $2 AND user_id = $3 \
             ORDER BY voted_at, message_id",
        )
        .await?;
    let cases = who
        .rows(
            &mut *conn,
            "SELECT id, number, channel_id, message_id, excerpt, source, category, reason, \
             status, created_at, decided_at FROM moderation_cases \
             WHERE platform = $1 AND community_id = $2 AND user_id = $3 ORDER BY id",
        )
        .await?;
    let appeals = who
        .rows(
            &mut *conn,
            "SELECT c.id AS case_id, c.number AS number, a.text AS text, \
             a.created_at AS created_at, a.outcome AS outcome, a.decided_at AS decided_at \
             FROM case_appeals AS a JOIN moderation_cases AS c ON c.id = a.case_id \
             WHERE c.platform = $1 AND c.community_id = $2 AND a.user_id = $3 ORDER BY a.id",
        )
        .await?;

    export.display_name = display_name;
    export.role = role;
    export.messages = exported;
    export.questions_unanswered = gaps.iter().map(gap).collect::<Result<_, _>>()?;
    export.votes = votes.iter().map(vote).collect::<Result<_, _>>()?;
    export.cases = cases.iter().map(case).collect::<Result<_, _>>()?;
    export.appeals = appeals.iter().map(appeal).collect::<Result<_, _>>()?;
    Ok(())
}

/// Whose data: platform, community, user.
#[derive(Clone, Copy)]
struct Who<'a>(&'a str, &'a str, &'a str);

impl Who<'_> {
    /// The rows of `sql` with `$1` platform, `$2` community and `$3` user bound.
    async fn rows(
        self,
        conn: &mut AnyConnection,
        sql: &'static str,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        sqlx::query(sql)
            .bind(self.0)
            .bind(self.1)
            .bind(self.2)
            .fetch_all(&mut *conn)
            .await
    }
}

fn gap(row: &AnyRow) -> Result<ExportedGap, sqlx::Error> {
    Ok(ExportedGap {
        question: row.try_get("question")?,
        message: row.try_get("message_id")?,
        asked_at: time(row, "asked_at")?,
    })
}

fn vote(row: &AnyRow) -> Result<ExportedVote, sqlx::Error> {
    let value: i64 = row.try_get("value")?;
    Ok(ExportedVote {
        answer: row.try_get("message_id")?,
        channel: row.try_get("channel_id")?,
        vote: if value > 0 { "up" } else { "down" }.to_string(),
        voted_at: time(row, "voted_at")?,
    })
}

fn case(row: &AnyRow) -> Result<ExportedCase, sqlx::Error> {
    Ok(ExportedCase {
        number: case_number(row)?,
        channel: row.try_get("channel_id")?,
        message: row.try_get("message_id")?,
        excerpt: row.try_get("excerpt")?,
        source: row.try_get("source")?,
        category: row.try_get("category")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        created_at: time(row, "created_at")?,
        decided_at: optional_time(row, "decided_at")?,
    })
}

fn appeal(row: &AnyRow) -> Result<ExportedAppeal, sqlx::Error> {
    Ok(ExportedAppeal {
        case: case_number(row)?,
        text: row.try_get("text")?,
        created_at: time(row, "created_at")?,
        outcome: row.try_get("outcome")?,
        decided_at: optional_time(row, "decided_at")?,
    })
}

/// A case's number in its community (every row has one since migration 0005; a missing one
/// reads as the row id, as `Case` does). The id column is `id` or `case_id`.
fn case_number(row: &AnyRow) -> Result<i64, sqlx::Error> {
    if let Some(number) = row.try_get::<Option<i64>, _>("number")? {
        return Ok(number);
    }
    row.try_get("id").or_else(|_| row.try_get("case_id"))
}

fn time(row: &AnyRow, column: &str) -> Result<String, sqlx::Error> {
    Ok(rfc3339_utc(from_millis(row.try_get(column)?)))
}

fn optional_time(row: &AnyRow, column: &str) -> Result<Option<String>, sqlx::Error> {
    Ok(row
        .try_get::<Option<i64>, _>(column)?
        .map(|millis| rfc3339_utc(from_millis(millis))))
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g. `2023-11-14T22:13:20.123Z`.
pub fn rfc3339_utc(time: SystemTime) -> String {
    let millis = crate::store::to_millis(time);
    let (seconds, milli) = (millis.div_euclid(1000), millis.rem_euclid(1000));
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = crate::text::civil_date(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_are_rfc3339_utc() {
        let cases: [(i64, &str); 5] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
        ];
        for (millis, expected) in cases {
            let time = if millis >= 0 {
                UNIX_EPOCH + Duration::from_millis(millis as u64)
            } else {
                UNIX_EPOCH - Duration::from_millis(millis.unsigned_abs())
            };
            assert_eq!(rfc3339_utc(time), expected, "{millis}");
        }
    }
}
