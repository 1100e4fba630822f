//! [`compute`]: the figures of one window, as the module documentation defines them.

use std::collections::{HashMap, HashSet};

use super::answers::{is_human, outcomes, sorted, Tone};
use super::{
    median, message_ref, Answerer, HealthMetrics, Helper, Inputs, Window, NEGATIVE_EXAMPLES,
    TOP_HELPERS, UNANSWERED_LISTED,
};
use crate::core::UserId;
use crate::store::WindowMessage;

/// The figures of `window` from `inputs` (pure: the same inputs give the same figures).
pub fn compute(window: Window, inputs: &Inputs) -> HealthMetrics {
    let messages = sorted(inputs);
    let steward = inputs.steward;
    let in_window: Vec<&WindowMessage> = messages
        .iter()
        .copied()
        .filter(|message| window.contains(message.created_at))
        .collect();
    let human: Vec<&WindowMessage> = in_window
        .iter()
        .copied()
        .filter(|message| is_human(message, steward))
        .collect();

    let authors: HashSet<&UserId> = human.iter().map(|message| &message.author).collect();
    let first_timers: HashSet<&UserId> = inputs.first_time_posters.iter().collect();
    let new_members = first_timers
        .iter()
        .filter(|user| authors.contains(*user))
        .count();
    let threads: HashSet<&str> = in_window
        .iter()
        .filter_map(|message| message.location.thread.as_ref())
        .map(|thread| thread.as_str())
        .collect();
    let reactions = in_window
        .iter()
        .fold(0u64, |sum, message| sum.saturating_add(message.reactions));

    let mut tone = Tone::default();
    for message in &human {
        tone.add(message);
    }

    let outcomes = outcomes(window, inputs, &messages);
    let answered_by = |who: Answerer| {
        count(
            outcomes
                .iter()
                .filter(|outcome| outcome.answerer == Some(who))
                .count(),
        )
    };
    let delays = outcomes
        .iter()
        .filter_map(|outcome| outcome.first_human.map(|(_, delay)| delay))
        .collect();
    let mut helped: HashMap<&UserId, u64> = HashMap::new();
    for (helper, _) in outcomes.iter().filter_map(|outcome| outcome.first_human) {
        *helped.entry(helper).or_default() += 1;
    }
    let mut top_helpers: Vec<Helper> = helped
        .into_iter()
        .map(|(user, answers)| Helper {
            user: user.clone(),
            answers,
        })
        .collect();
    top_helpers.sort_by(|a, b| b.answers.cmp(&a.answers).then_with(|| a.user.cmp(&b.user)));
    top_helpers.truncate(TOP_HELPERS);

    // A question waiting since before this is "old"; none is when the cutoff is not
    // representable.
    let cutoff = inputs.now.checked_sub(inputs.unanswered_after);
    let unanswered_old: Vec<&WindowMessage> = outcomes
        .iter()
        .filter(|outcome| outcome.answerer.is_none())
        .map(|outcome| outcome.question)
        .filter(|question| cutoff.is_some_and(|cutoff| question.created_at < cutoff))
        .collect();

    let mut negatives: Vec<(f32, &WindowMessage)> = human
        .iter()
        .filter(|message| !message.deleted)
        .filter_map(|message| match &message.sentiment {
            Some((label, score)) if label == "negative" => Some((*score, *message)),
            _ => None,
        })
        .collect();
    // Stable sort: equal scores keep time order (oldest first).
    negatives.sort_by(|a, b| a.0.total_cmp(&b.0));

    let scored = tone.scored();
    let votes = inputs.votes_up.saturating_add(inputs.votes_down);
    HealthMetrics {
        window,
        active_members: count(authors.len()),
        new_members: count(new_members),
        messages: count(human.len()),
        threads: count(threads.len()),
        questions: count(outcomes.len()),
        answered: count(
            outcomes
                .iter()
                .filter(|outcome| outcome.answerer.is_some())
                .count(),
        ),
        answered_by_members: answered_by(Answerer::Member),
        answered_by_moderators: answered_by(Answerer::Moderator),
        answered_by_steward: answered_by(Answerer::Steward),
        median_first_human_reply: median(delays),
        unanswered_old: unanswered_old
            .iter()
            .take(UNANSWERED_LISTED)
            .map(|question| message_ref(question))
            .collect(),
        unanswered_old_total: count(unanswered_old.len()),
        reactions,
        scored,
        positive: tone.positive,
        neutral: tone.neutral,
        negative: tone.negative,
        negative_share: (scored > 0).then(|| tone.negative as f64 / scored as f64),
        satisfaction: (votes > 0).then(|| inputs.votes_up as f64 / votes as f64),
        votes,
        top_helpers,
        negative_examples: negatives
            .iter()
            .take(NEGATIVE_EXAMPLES)
            .map(|(_, message)| message_ref(message))
            .collect(),
    }
}

/// A count as the figures hold it.
pub(super) fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
