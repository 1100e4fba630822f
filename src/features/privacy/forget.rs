//! Forgetting a member in one community (`forget-me`, a moderator's `privacy forget`,
//! `steward privacy forget`): find the knowledge-base conversations their messages are part
//! of, delete everything about them in one store transaction (those conversations'
//! documents included), then index those conversations again from what is left.
//!
//! Chat commands take two steps: the first says what will be deleted and is remembered here
//! (in memory, per actor) for [`CONFIRM_WITHIN`]; `confirm` after that, or for another
//! member than the one asked about, does nothing. A restart forgets pending requests: the
//! member asks again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::core::{CommunityId, Platform, UserId};
use crate::features::conversations::message_id_of;
use crate::knowledge::conversations::{ConversationIndex, ConversationKey};
use crate::store::{Forgotten, Store, StoreError};

/// How long a request to forget waits for its confirmation.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(5 * 60);

/// Who asked: (platform, community, actor).
pub type Asker = (Platform, CommunityId, UserId);

/// Requests to forget that wait for their confirmation.
#[derive(Debug, Default)]
pub struct Confirmations {
    pending: Mutex<HashMap<Asker, (UserId, Instant)>>,
}

impl Confirmations {
    /// Remembers that `asker` asked to forget `target` at `now` (replacing an earlier
    /// request); expired requests are dropped on the way.
    pub fn ask(&self, asker: Asker, target: UserId, now: Instant) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.retain(|_, (_, at)| now.saturating_duration_since(*at) < CONFIRM_WITHIN);
        pending.insert(asker, (target, now));
    }

    /// Whether `asker` asked to forget `target` less than [`CONFIRM_WITHIN`] before `now`; the
    /// request is used up when it matches (or has expired).
    pub fn take(&self, asker: &Asker, target: &UserId, now: Instant) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some((asked_about, at)) = pending.get(asker) else {
            return false;
        };
        let fresh = now.saturating_duration_since(*at) < CONFIRM_WITHIN;
        let matches = asked_about == target;
        if matches || !fresh {
            pending.remove(asker);
        }
        fresh && matches
    }
}

/// The member a moderator's `privacy forget` names: a Discord mention (`<@123>`, `<@!123>`),
/// a matrix.to link to a user, or an id as typed (`123`, `@ana:example.org`). `None` for a
/// role or channel mention, or nothing usable.
pub fn member_id_of(text: &str) -> Option<UserId> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix("<@").and_then(|t| t.strip_suffix('>')) {
        let id = inner.strip_prefix('!').unwrap_or(inner);
        return (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| UserId::new(id));
    }
    if text.starts_with("<#") || text.starts_with("<@&") {
        return None;
    }
    // A link's last path segment, percent-decoded, like a message link's.
    let id = message_id_of(text)?;
    Some(UserId::new(id.as_str()))
}

/// The knowledge-base conversations that hold `user`'s stored messages in `community`, each
/// once.
pub async fn conversations_of(
    store: &Store,
    index: &ConversationIndex,
    (platform, community, user): (Platform, &CommunityId, &UserId),
) -> Result<Vec<ConversationKey>, StoreError> {
    let mut keys: Vec<ConversationKey> = Vec::new();
    for message in store.member_message_ids(platform, community, user).await? {
        let Some(key) = index.conversation_of(platform, &message).await? else {
            continue;
        };
        if &key.community == community && !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Forgets `user` in `community`: one store transaction (their messages, edits, answered
/// marks, unanswered questions, votes, role, finished jobs naming them, the conversation
/// documents holding their messages, old closed cases about them), keeping cases closed less
/// than `retain_cases_days` ago, and excluding them from recording; then the conversations
/// are indexed again without them. A failure to re-index is logged: their text already left
/// the knowledge base with the documents, and the next message or backfill indexes the rest.
pub async fn forget(
    store: &Store,
    index: &ConversationIndex,
    member: (Platform, &CommunityId, &UserId),
    retain_cases_days: u32,
    now: SystemTime,
) -> Result<Forgotten, StoreError> {
    let (platform, community, user) = member;
    let keys = conversations_of(store, index, member).await?;
    let documents: Vec<(String, String)> = keys.iter().map(|k| (k.scope(), k.path())).collect();
    let cases_before = days_before(now, retain_cases_days);
    let forgotten = store
        .forget_member(platform, community, user, &documents, cases_before, now)
        .await?;
    for key in &keys {
        if let Err(error) = index.index(key, now).await {
            tracing::error!(label = error.label(), %error, path = %key.path(), "re-indexing a conversation after forgetting a member failed");
        }
    }
    Ok(forgotten)
}

/// `days` days before `now` (the Unix epoch if that is earlier).
pub fn days_before(now: SystemTime, days: u32) -> SystemTime {
    now.checked_sub(Duration::from_secs(u64::from(days) * 24 * 60 * 60))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asker(user: &str) -> Asker {
        (Platform::Discord, CommunityId::new("g"), UserId::new(user))
    }

    #[test]
    fn a_confirmation_needs_a_fresh_request_for_the_same_member() {
        let confirmations = Confirmations::default();
        let start = Instant::now();
        let ana = UserId::new("ana");
        // Nothing asked: nothing to confirm.
        assert!(!confirmations.take(&asker("ana"), &ana, start));
        confirmations.ask(asker("ana"), ana.clone(), start);
        // Another actor, or another target, confirms nothing.
        assert!(!confirmations.take(&asker("bob"), &ana, start));
        assert!(!confirmations.take(&asker("ana"), &UserId::new("bob"), start));
        let later = start + Duration::from_secs(60);
        assert!(confirmations.take(&asker("ana"), &ana, later));
        // Used up.
        assert!(!confirmations.take(&asker("ana"), &ana, later));
        // Expired after five minutes.
        confirmations.ask(asker("ana"), ana.clone(), start);
        let expired = start + CONFIRM_WITHIN;
        assert!(!confirmations.take(&asker("ana"), &ana, expired));
        assert!(!confirmations.take(&asker("ana"), &ana, start));
    }

    #[test]
    fn members_are_named_by_id_mention_or_link() {
        let cases = [
            ("123456", Some("123456")),
            ("<@123456>", Some("123456")),
            ("<@!123456>", Some("123456")),
            ("<@&42>", None),
            ("<#42>", None),
            ("<@abc>", None),
            ("@ana:example.org", Some("@ana:example.org")),
            (
                "https://matrix.to/#/@ana:example.org",
                Some("@ana:example.org"),
            ),
            (
                "https://matrix.to/#/%40ana%3Aexample.org",
                Some("@ana:example.org"),
            ),
            ("  ", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                member_id_of(text).as_ref().map(UserId::as_str),
                expected,
                "{text}"
            );
        }
    }
}
