//! Deleting what names a message or a member outside their own rows: finished jobs whose
//! JSON payload names them (a review job carries the message's text and its author),
//! unanswered questions recorded without their message's id, and what community insights
//! derived from a message (its sentiment, the reaction counts on it). Shared by deleting a
//! message, forgetting a member and retention, inside their transactions.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::core::{CommunityId, MessageId, Platform, UserId};
use crate::store::JobState;

/// A string field a job's JSON payload must have, such as `"message": "123"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobField<'a> {
    name: &'a str,
    value: &'a str,
}

impl<'a> JobField<'a> {
    pub(crate) fn new(name: &'a str, value: &'a str) -> Self {
        Self { name, value }
    }

    /// A `LIKE` pattern (escape character `\`) for payloads that hold the field as serde_json
    /// writes it: `"name":"value"`, JSON escapes included.
    fn like_pattern(&self) -> String {
        let written = format!("{}:{}", Value::from(self.name), Value::from(self.value));
        format!("%{}%", escape_like(&written))
    }

    fn matches(&self, payload: &Value) -> bool {
        payload.get(self.name).and_then(Value::as_str) == Some(self.value)
    }
}

/// `text` with the `LIKE` wildcards and the escape character itself escaped by `\`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Deletes the finished (done or failed) jobs created before `created_before` (milliseconds;
/// `None`: whenever) whose payload is a JSON object with every field of `fields`; returns
/// how many. The first field narrows the rows in SQL (`LIKE`, which SQLite compares without
/// case); each is then compared exactly on the parsed payload. Pending and running jobs are
/// left alone: they finish, and are deleted with the next message or member they name, or
/// pruned.
pub(crate) async fn delete_finished_jobs(
    conn: &mut AnyConnection,
    fields: &[JobField<'_>],
    created_before: Option<i64>,
) -> Result<u64, sqlx::Error> {
    let Some(first) = fields.first() else {
        return Ok(0);
    };
    let rows = sqlx::query(
        "SELECT id, payload FROM jobs WHERE state IN ($1, $2) AND created_at < $3 \
         AND payload LIKE $4 ESCAPE '\\'",
    )
    .bind(JobState::Done.as_str())
    .bind(JobState::Failed.as_str())
    .bind(created_before.unwrap_or(i64::MAX))
    .bind(first.like_pattern())
    .fetch_all(&mut *conn)
    .await?;
    let mut deleted = 0;
    for row in &rows {
        let payload: String = row.try_get("payload")?;
        let Ok(payload) = serde_json::from_str::<Value>(&payload) else {
            continue;
        };
        if !fields.iter().all(|field| field.matches(&payload)) {
            continue;
        }
        let id: i64 = row.try_get("id")?;
        deleted += sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

/// Deletes the unanswered questions of `community` recorded without a message id (by a caller
/// that did not know it, or before gaps named their message) that `asker` asked (or nobody is
/// recorded as asking: gaps from before askers were recorded) and that one of `texts`
/// contains: what was asked in the message those texts were. Returns how many.
pub(crate) async fn delete_gaps_quoting(
    conn: &mut AnyConnection,
    platform: Platform,
    community: &CommunityId,
    asker: &UserId,
    texts: &[String],
) -> Result<u64, sqlx::Error> {
    let texts: Vec<&str> = texts
        .iter()
        .map(|text| text.trim())
        .filter(|text| !text.is_empty())
        .collect();
    if texts.is_empty() {
        return Ok(0);
    }
    let rows = sqlx::query(
        "SELECT id, question FROM kb_gaps WHERE platform = $1 AND community = $2 \
         AND message_id IS NULL AND (user_id = $3 OR user_id IS NULL)",
    )
    .bind(platform.as_str())
    .bind(community.as_str())
    .bind(asker.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let mut deleted = 0;
    for row in &rows {
        let question: String = row.try_get("question")?;
        let question = question.trim();
        if question.is_empty() || !texts.iter().any(|text| text.contains(question)) {
            continue;
        }
        let id: i64 = row.try_get("id")?;
        deleted += sqlx::query("DELETE FROM kb_gaps WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

/// Deletes what community insights derived from one message: its sentiment and the reaction
/// counts on it (deleting a message takes its tone and its reactions along). Returns how many
/// rows.
pub(crate) async fn delete_message_insights(
    conn: &mut AnyConnection,
    platform: Platform,
    message: &MessageId,
) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    for sql in [
        "DELETE FROM message_sentiment WHERE platform = $1 AND message_id = $2",
        "DELETE FROM message_reactions WHERE platform = $1 AND message_id = $2",
    ] {
        deleted += sqlx::query(sql)
            .bind(platform.as_str())
            .bind(message.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_the_field_as_serde_json_writes_it() {
        let field = JobField::new("message", "12_3%");
        assert_eq!(field.like_pattern(), r#"%"message":"12\_3\%"%"#);
        let quoted = JobField::new("author", r#"a"b\c"#);
        assert_eq!(quoted.like_pattern(), r#"%"author":"a\\"b\\\\c"%"#);
        let payload = serde_json::json!({"message": "12_3%", "author": "a\"b\\c"});
        assert!(field.matches(&payload) && quoted.matches(&payload));
        assert!(payload.to_string().contains(r#""message":"12_3%""#));
        assert!(!JobField::new("message", "12").matches(&payload));
        assert!(!JobField::new("text", "12_3%").matches(&payload));
    }
}
