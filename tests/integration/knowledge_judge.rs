//! `[knowledge] judge = true`: the model reads each retrieved passage before the answer. Only
//! the passages it says contain the answer are answered from and cited; none means "I don't
//! know" and a knowledge gap; a judge that fails changes nothing. And the real default model
//! gives verdicts on both in-process engines.

use std::sync::Arc;

use steward::config::Language;
use steward::core::{CommunityId, Platform};
use steward::knowledge::judge::Judge;
use steward::knowledge::retrieve::{Knowledge, KnowledgeBase};
use steward::knowledge::ALL_COMMUNITIES;
use steward::llm::{ChatRequest, Engine, LlmError};
use steward::prompts::Prompts;

use crate::dispatch::{fixture_config, reply_text, Fixture};
use crate::knowledge::{ask, docs};
use crate::model_util::{engine_on, Kind};

const QUESTION: &str = "what port does lumen listen on by default?";

/// A router whose scripted model answers `answer`, with the judge on and the English
/// documents in its knowledge base; `verdict` answers each judge request.
async fn judged(answer: &'static str, verdict: fn(&ChatRequest) -> Option<String>) -> Fixture {
    let f = fixture_config(Ok(answer), |config| {
        config.model.languages = vec![Language::English];
        config.knowledge.judge = true;
    })
    .await;
    steward::app::kb::add(&f.store, &[docs("en")], ALL_COMMUNITIES, |_| {})
        .await
        .unwrap();
    *f.engine.respond.lock().unwrap() = Some(verdict);
    f
}

/// Whether `request` is the judge's.
fn is_judged(request: &ChatRequest) -> bool {
    request.system
        == Prompts::builtin()
            .render("knowledge_judge.txt", ())
            .unwrap()
}

/// The judge's requests and the answer's, in the order the model saw them.
fn requests(f: &Fixture) -> (Vec<ChatRequest>, Vec<ChatRequest>) {
    f.engine
        .seen
        .lock()
        .unwrap()
        .iter()
        .cloned()
        .partition(is_judged)
}

#[tokio::test]
async fn only_passages_the_judge_says_answer_are_used_and_cited() {
    // Yes only to the install guide's table of ports (the HTTP API page states the port too).
    let f = judged("Lumen listens on port 8428 [1].", |request| {
        let prompt = &request.messages[0].content;
        let yes = prompt.contains("› Ports)");
        is_judged(request).then(|| if yes { "Yes." } else { "No" }.to_string())
    })
    .await;
    let text = reply_text(f.router.handle(ask(QUESTION)).await).await;
    let (judged, answered) = requests(&f);
    assert!(judged.len() >= 2, "every retrieved passage is judged");
    for request in &judged {
        let prompt = &request.messages[0].content;
        assert!(prompt.starts_with("Passage ("), "{prompt}");
        assert!(
            prompt.contains(&format!("Question: {QUESTION}")),
            "{prompt}"
        );
    }
    assert_eq!(answered.len(), 1, "then one answer");
    let prompt = &answered[0].messages[0].content;
    assert!(prompt.contains("› Ports)\n| Port"), "{prompt}");
    assert!(
        !prompt.contains("[2] ("),
        "passages judged not to answer are not shown: {prompt}"
    );
    assert!(text.contains("8428 [1]."), "{text}");
    let sources = text.split("\n\nSources: ").nth(1).expect("a sources line");
    assert!(
        sources.starts_with("[1] `") && !sources.contains("[2]"),
        "{text}"
    );
}

#[tokio::test]
async fn passages_the_judge_rejects_make_a_gap_not_an_answer() {
    let f = judged("Lumen listens on port 1234 [1].", |request| {
        is_judged(request).then(|| "no".to_string())
    })
    .await;
    let text = reply_text(f.router.handle(ask(QUESTION)).await).await;
    assert!(text.starts_with("I don't know"), "{text}");
    let (judged, answered) = requests(&f);
    assert!(!judged.is_empty(), "the passages were judged");
    assert!(answered.is_empty(), "the model was not asked to answer");
    let report =
        steward::app::kb::gaps_report(&f.store, Platform::Console, &CommunityId::new("c"), 7)
            .await
            .unwrap();
    assert!(report.contains(QUESTION), "{report}");
}

#[tokio::test]
async fn a_judge_that_fails_leaves_the_answer_as_it_was() {
    // Neither yes nor no: no verdict.
    let f = judged("Lumen listens on port 8428 [1].", |request| {
        is_judged(request).then(|| "The passage".to_string())
    })
    .await;
    let text = reply_text(f.router.handle(ask(QUESTION)).await).await;
    assert!(text.contains("8428 [1]."), "{text}");
    let (_, answered) = requests(&f);
    let prompt = &answered[0].messages[0].content;
    assert!(prompt.contains("[2] ("), "every passage is kept: {prompt}");
}

/// The judge's requests run on both in-process engines. The default model answers yes or no
/// to an English question; to a Chinese one it may say "The passage contains", which is no
/// verdict (the passage is then kept), never an engine error. Whether it is right is the
/// evaluation's business.
#[tokio::test]
async fn the_judge_runs_on_the_default_model_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = Arc::new(steward::store::Store::open(&url).await.unwrap());
    steward::app::kb::add(&store, &[docs("en"), docs("zh")], ALL_COMMUNITIES, |_| {})
        .await
        .unwrap();
    let knowledge = Knowledge::new(store, None);
    for kind in [Kind::LlamaCpp, Kind::MistralRs] {
        let engine: Arc<dyn Engine> = Arc::new(engine_on(kind, 8, 1).await);
        let judge = Judge::new(
            engine,
            Prompts::builtin()
                .render("knowledge_judge.txt", ())
                .unwrap(),
            std::time::Duration::from_secs(60),
        );
        for (question, english) in [(QUESTION, true), ("青鸟默认用哪个端口？", false)] {
            let retrieval = knowledge.retrieve("console:c", question, 3).await.unwrap();
            assert!(!retrieval.passages.is_empty(), "{question}");
            for verdict in judge.verdicts(question, &retrieval.passages).await {
                match verdict {
                    Ok(_) => {}
                    Err(LlmError::BadStructuredOutput(_)) if !english => {}
                    Err(error) => panic!("{kind:?}, {question}: {error}"),
                }
            }
        }
    }
}
