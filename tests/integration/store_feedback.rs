//! The store suite's cases for feedback on Steward's answers (run by `store_suite::run_suite` on
//! every backend): a vote recorded, replaced and removed; votes counted per day and the
//! worst-rated answers ranked; and, through `features::feedback`, the reactions that must not
//! count (on a member's or another bot's message, by Steward or another bot).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use steward::core::{
    Author, ChannelId, CommunityId, Location, Message, MessageId, Platform, Reaction, Role, UserId,
};
use steward::features::feedback::{self, Outcome};
use steward::store::{DayVotes, Store, Vote};

const DAY: u64 = 86_400_000;
/// The UTC day of `at(0)` (2023-11-14).
const FIRST_DAY: i64 = 19_675;

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + millis)
}

fn place(community: &str) -> Location {
    Location {
        platform: Platform::Discord,
        community: CommunityId::new(community),
        channel: ChannelId::new(format!("{community}-general")),
        thread: None,
    }
}

fn user(id: &str, is_bot: bool) -> Author {
    Author {
        id: UserId::new(id),
        display_name: id.into(),
        role: Role::Member,
        is_bot,
    }
}

async fn post(store: &Store, id: &str, location: &Location, author: Author, text: &str) {
    let message = Message {
        id: MessageId::new(id),
        location: location.clone(),
        author,
        text: text.into(),
        created_at: at(0),
        reply_to: None,
        mentions_bot: false,
        replies_to_bot: false,
    };
    store.record_message(&message).await.unwrap();
}

fn vote(location: &Location, message: &str, user: &str, value: i64, millis: u64) -> Vote {
    Vote {
        location: location.clone(),
        message: MessageId::new(message),
        user: UserId::new(user),
        value,
        at: at(millis),
    }
}

async fn vote_of(store: &Store, message: &str, user: &str) -> Option<i64> {
    store
        .vote(
            Platform::Discord,
            &MessageId::new(message),
            &UserId::new(user),
        )
        .await
        .unwrap()
}

pub async fn answer_feedback(store: &Store) {
    let here = place("fb");
    let steward = || user("fb-steward", true);
    let a1 = "Use port 8428 [1].\n\nSources: [1] `en/install.md › Ports`";
    post(store, "fb-a1", &here, steward(), a1).await;
    post(store, "fb-a2", &here, steward(), "Yes [1].").await;
    post(store, "fb-a3", &here, steward(), "No [2].").await;

    // Recorded, replaced by a later vote, removed only as the vote it is.
    store
        .record_vote(&vote(&here, "fb-a1", "fb-ana", 1, 0))
        .await
        .unwrap();
    assert_eq!(vote_of(store, "fb-a1", "fb-ana").await, Some(1));
    store
        .record_vote(&vote(&here, "fb-a1", "fb-ana", -1, 10))
        .await
        .unwrap();
    assert_eq!(vote_of(store, "fb-a1", "fb-ana").await, Some(-1));
    let (discord, a1_id, ana) = (
        Platform::Discord,
        MessageId::new("fb-a1"),
        UserId::new("fb-ana"),
    );
    assert!(!store.remove_vote(discord, &a1_id, &ana, 1).await.unwrap());
    assert_eq!(vote_of(store, "fb-a1", "fb-ana").await, Some(-1));
    assert!(store.remove_vote(discord, &a1_id, &ana, -1).await.unwrap());
    assert_eq!(vote_of(store, "fb-a1", "fb-ana").await, None);
    assert!(!store.remove_vote(discord, &a1_id, &ana, -1).await.unwrap());

    // Three days of votes, and one in another community.
    for (message, who, value, millis) in [
        ("fb-a1", "fb-ana", -1, 0),
        ("fb-a1", "fb-bo", -1, 1),
        ("fb-a1", "fb-cy", 1, DAY),
        ("fb-a2", "fb-ana", 1, DAY + 1),
        ("fb-a2", "fb-bo", 1, DAY + 2),
        ("fb-a3", "fb-ana", -1, 2 * DAY),
    ] {
        store
            .record_vote(&vote(&here, message, who, value, millis))
            .await
            .unwrap();
    }
    let elsewhere = place("fb-elsewhere");
    post(store, "fb-e1", &elsewhere, steward(), "Elsewhere.").await;
    store
        .record_vote(&vote(&elsewhere, "fb-e1", "fb-ana", -1, 0))
        .await
        .unwrap();

    let community = &here.community;
    let day = |day: i64, up, down| DayVotes {
        day: FIRST_DAY + day,
        up,
        down,
    };
    assert_eq!(
        store
            .votes_per_day(discord, community, at(0))
            .await
            .unwrap(),
        vec![day(0, 0, 2), day(1, 3, 0), day(2, 0, 1)]
    );
    assert_eq!(
        store
            .votes_per_day(discord, community, at(DAY))
            .await
            .unwrap(),
        vec![day(1, 3, 0), day(2, 0, 1)],
        "since is inclusive"
    );

    let worst = store
        .worst_answers(discord, community, at(0), 5)
        .await
        .unwrap();
    let ranked: Vec<(&str, u64, u64)> = worst
        .iter()
        .map(|answer| (answer.message.as_str(), answer.down, answer.up))
        .collect();
    assert_eq!(
        ranked,
        [("fb-a1", 2, 1), ("fb-a3", 1, 0)],
        "no 👎, not listed"
    );
    assert_eq!(worst[0].text, a1, "the answer's text with its sources line");
    assert_eq!(worst[0].location, here);
    assert!(!worst[0].deleted);
    let first = store
        .worst_answers(discord, community, at(0), 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    // Only the votes in the window count.
    let recent = store
        .worst_answers(discord, community, at(DAY), 5)
        .await
        .unwrap();
    let recent: Vec<&str> = recent.iter().map(|a| a.message.as_str()).collect();
    assert_eq!(recent, ["fb-a3"]);
    // A deleted answer keeps its votes, marked deleted; its text is gone.
    store
        .delete_message(discord, &MessageId::new("fb-a3"), at(3 * DAY))
        .await
        .unwrap();
    let worst = store
        .worst_answers(discord, community, at(0), 5)
        .await
        .unwrap();
    assert!(worst[1].deleted && worst[1].text.is_empty(), "{worst:?}");

    // Who is a known bot: from the users Steward recorded.
    post(store, "fb-m1", &here, user("fb-ana", false), "thanks").await;
    assert!(store
        .is_known_bot(discord, &UserId::new("fb-steward"))
        .await
        .unwrap());
    assert!(!store
        .is_known_bot(discord, &UserId::new("fb-ana"))
        .await
        .unwrap());
    assert!(!store
        .is_known_bot(discord, &UserId::new("fb-nobody"))
        .await
        .unwrap());

    feedback_counts_only_members_on_stewards_messages(store).await;
}

/// Through the feature: only a member's 👍/👎 on one of Steward's own messages is a vote.
async fn feedback_counts_only_members_on_stewards_messages(store: &Store) {
    let here = place("fbf");
    let own = UserId::new("fbf-steward");
    post(
        store,
        "fbf-answer",
        &here,
        user("fbf-steward", true),
        "Yes [1].",
    )
    .await;
    post(store, "fbf-member", &here, user("fbf-ana", false), "hello").await;
    post(store, "fbf-bot", &here, user("fbf-otherbot", true), "beep").await;
    let reaction = |message: &str, by: &str, emoji: &str| Reaction {
        location: here.clone(),
        message: MessageId::new(message),
        user: UserId::new(by),
        emoji: emoji.into(),
    };
    let react = |reaction: Reaction, added: bool| {
        let own = own.clone();
        async move {
            feedback::reaction(store, Some(&own), &reaction, added, at(0))
                .await
                .unwrap()
        }
    };

    let ignored = [
        (reaction("fbf-member", "fbf-bo", "👍"), Outcome::NotAnAnswer),
        (reaction("fbf-bot", "fbf-bo", "👍"), Outcome::NotAnAnswer),
        (
            reaction("fbf-unknown", "fbf-bo", "👍"),
            Outcome::NotAnAnswer,
        ),
        (reaction("fbf-answer", "fbf-steward", "👍"), Outcome::ByABot),
        (
            reaction("fbf-answer", "fbf-otherbot", "👎"),
            Outcome::ByABot,
        ),
        (reaction("fbf-answer", "fbf-bo", "🚩"), Outcome::NotAVote),
    ];
    for (reaction, expected) in ignored {
        let shown = format!("{reaction:?}");
        assert_eq!(react(reaction, true).await, expected, "{shown}");
    }
    for (message, who) in [
        ("fbf-member", "fbf-bo"),
        ("fbf-bot", "fbf-bo"),
        ("fbf-answer", "fbf-steward"),
        ("fbf-answer", "fbf-otherbot"),
    ] {
        assert_eq!(vote_of(store, message, who).await, None, "{message} {who}");
    }
    let unknown_self = feedback::reaction(
        store,
        None,
        &reaction("fbf-answer", "fbf-bo", "👍"),
        true,
        at(0),
    )
    .await
    .unwrap();
    assert_eq!(unknown_self, Outcome::SelfUnknown);

    // A member's vote: recorded, replaced, removed only by taking back the same emoji.
    let up = reaction("fbf-answer", "fbf-bo", "👍\u{FE0F}");
    let down = reaction("fbf-answer", "fbf-bo", "👎🏽");
    assert_eq!(react(up.clone(), true).await, Outcome::Recorded);
    assert_eq!(vote_of(store, "fbf-answer", "fbf-bo").await, Some(1));
    assert_eq!(react(down.clone(), true).await, Outcome::Recorded);
    assert_eq!(vote_of(store, "fbf-answer", "fbf-bo").await, Some(-1));
    assert_eq!(react(up, false).await, Outcome::NothingToRemove);
    assert_eq!(vote_of(store, "fbf-answer", "fbf-bo").await, Some(-1));
    assert_eq!(react(down, false).await, Outcome::Removed);
    assert_eq!(vote_of(store, "fbf-answer", "fbf-bo").await, None);
}
