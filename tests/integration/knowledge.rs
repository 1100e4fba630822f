//! Grounded answers (the knowledge base): citations of shown passages only, "I don't know"
//! with the question recorded as a gap, quoted Chinese answers on the default model, the
//! `kb` commands on real files, and the evaluation's bar on the corpus in tests/fixtures/kb.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use steward::config::Language;
use steward::core::{
    Author, ChannelId, Command, CommunityId, Event, EventKind, Location, MessageId, Platform, Role,
    UserId,
};
use steward::knowledge::ALL_COMMUNITIES;

use crate::dispatch::{fixture_config, reply_text, Fixture};

pub fn docs(language: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/kb/docs/{language}"))
}

pub fn ask(question: &str) -> Event {
    Event::now(EventKind::CommandInvoked {
        location: Location {
            platform: Platform::Console,
            community: CommunityId::new("c"),
            channel: ChannelId::new("general"),
            thread: None,
        },
        invoker: Author {
            id: UserId::new("ana"),
            display_name: "Ana".into(),
            role: Role::Member,
            is_bot: false,
        },
        command: Command::Ask {
            question: question.into(),
        },
        message: Some(MessageId::new("m-ask")),
    })
}

/// A router over a scripted model answering `answer`, with `languages` as `[model]
/// languages` and the given documents in its knowledge base.
async fn grounded(answer: &'static str, languages: &[Language], docs: &[PathBuf]) -> Fixture {
    let languages = languages.to_vec();
    let f = fixture_config(Ok(answer), move |config| config.model.languages = languages).await;
    let summary = steward::app::kb::add(&f.store, docs, ALL_COMMUNITIES, |_| {})
        .await
        .unwrap();
    assert!(summary.added >= 10, "{summary:?}");
    f
}

#[tokio::test]
async fn an_answer_cites_only_the_passages_it_was_shown() {
    let f = grounded(
        "Lumen listens on port 8428 [1]; clustering uses another port [7].",
        &[Language::English],
        &[docs("en")],
    )
    .await;
    let text = reply_text(
        f.router
            .handle(ask("what port does lumen listen on by default?"))
            .await,
    )
    .await;
    assert!(text.contains("8428 [1];"), "{text}");
    assert!(
        !text.contains("[7]"),
        "an invented citation is dropped: {text}"
    );
    let sources = text.split("\n\nSources: ").nth(1).expect("a sources line");
    assert!(sources.starts_with("[1] `"), "{text}");
    assert!(
        !sources.contains("[2]"),
        "only cited passages are listed: {text}"
    );
    // The prompt carried the numbered passages and the question.
    let seen = f.engine.seen.lock().unwrap();
    let prompt = &seen[0].messages[0].content;
    assert!(prompt.starts_with("Sources:\n\n[1] ("), "{prompt}");
    assert!(
        prompt.contains("8428"),
        "the retrieved passage is in the prompt: {prompt}"
    );
    assert!(prompt.ends_with("Question: what port does lumen listen on by default?"));
}

#[tokio::test]
async fn an_unanswerable_question_is_a_gap_not_an_invention() {
    let f = grounded(
        "Bake it at 220 °C [1].",
        &[Language::English],
        &[docs("en")],
    )
    .await;
    for question in [
        "how do I bake sourdough bread?",
        "How do you bake sourdough bread at home?",
        "who won the football world cup?",
    ] {
        let text = reply_text(f.router.handle(ask(question)).await).await;
        assert!(text.starts_with("I don't know"), "{question}: {text}");
    }
    assert!(
        f.engine.seen.lock().unwrap().is_empty(),
        "the model was not asked"
    );
    let report =
        steward::app::kb::gaps_report(&f.store, Platform::Console, &CommunityId::new("c"), 7)
            .await
            .unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines[1].trim_start().starts_with("2 ×"), "{report}");
    assert!(lines[1].contains("sourdough"), "{report}");
    assert!(
        report.contains("1 × who won the football world cup?"),
        "{report}"
    );
}

#[tokio::test]
async fn a_chinese_question_gets_quoted_cited_chinese_on_the_default_model() {
    // The default model writes English only: the model must not be asked to write Chinese.
    let f = grounded("degenerate 1.1.1.1", &[Language::English], &[docs("zh")]).await;
    let text = reply_text(f.router.handle(ask("青鸟默认用哪个端口？")).await).await;
    assert!(
        f.engine.seen.lock().unwrap().is_empty(),
        "quoted, not generated: {text}"
    );
    assert!(text.starts_with("社区文档中的相关内容："), "{text}");
    assert!(text.contains("\n> "), "{text}");
    assert!(
        text.contains("[1]") && text.contains("来源：[1] `"),
        "{text}"
    );
    let cjk = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    assert!(cjk > 20, "{text}");
    assert!(!steward::app::eval_ask::degenerate(&text), "{text}");
}

#[tokio::test]
async fn without_documents_the_model_answers_as_before() {
    let f = fixture_config(Ok("Paris is the capital."), |_| {}).await;
    let text = reply_text(f.router.handle(ask("Capital of France?")).await).await;
    assert_eq!(text, "Paris is the capital.");
}

/// Runs the real binary with a private store; returns (stdout, stderr, success).
fn steward(dir: &Path, args: &[&str]) -> (String, String, bool) {
    let config = dir.join("steward.toml");
    if !config.exists() {
        let text = format!("[store]\nurl = \"sqlite://{}/steward.db\"\n", dir.display());
        std::fs::write(&config, text).unwrap();
    }
    let output = Process::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env("STEWARD_LOG", "warn")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

#[test]
fn kb_add_list_remove_with_bad_files_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("docs");
    std::fs::create_dir_all(tree.join("empty")).unwrap();
    std::fs::write(tree.join("install.md"), "# Install\n\nRun `lumen serve`.\n").unwrap();
    std::fs::write(tree.join("notes.txt"), "Backups run nightly at 02:00.\n").unwrap();
    std::fs::write(tree.join("logo.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(tree.join("broken.md"), [b'#', b' ', 0xff, 0xfe, b'\n']).unwrap();
    let tree_arg = tree.to_str().unwrap();

    let (stdout, stderr, ok) = steward(dir.path(), &["kb", "add", tree_arg]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("docs/install.md (1 passages)"), "{stdout}");
    assert!(
        stdout.contains("skipped") && stdout.contains("logo.png"),
        "{stdout}"
    );
    assert!(stdout.contains("UTF-8"), "{stdout}");
    assert!(
        stdout.contains("2 added, 0 updated, 0 unchanged, 3 skipped"),
        "{stdout}"
    );

    // Again: unchanged; a changed file replaces its passages.
    std::fs::write(tree.join("notes.txt"), "Backups run nightly at 03:00.\n").unwrap();
    let (stdout, _, ok) = steward(dir.path(), &["kb", "add", tree_arg]);
    assert!(
        ok && stdout.contains("0 added, 1 updated, 1 unchanged"),
        "{stdout}"
    );

    let (stdout, _, ok) = steward(dir.path(), &["kb", "list"]);
    assert!(ok && stdout.contains("2 documents"), "{stdout}");
    let install = format!("{}/install.md", tree_arg.trim_end_matches('/'));
    let (stdout, stderr, ok) = steward(dir.path(), &["kb", "remove", &install]);
    assert!(ok, "{stdout}{stderr}");
    let (stdout, stderr, ok) = steward(dir.path(), &["kb", "remove", &install]);
    assert!(!ok && stderr.contains("no document"), "{stdout}{stderr}");
    let (stdout, _, _) = steward(dir.path(), &["kb", "list"]);
    assert!(stdout.contains("1 documents"), "{stdout}");
    let (_, stderr, ok) = steward(dir.path(), &["kb", "gaps", "--community", "irc:1"]);
    assert!(!ok && stderr.contains("platform:id"), "{stderr}");
}

/// Runs `steward eval ask --retrieval-only` on the corpus: its documents and, with `history`,
/// its community history. Returns the per-case JSON lines, the printed report and stderr.
fn corpus_outcomes(history: bool) -> (Vec<serde_json::Value>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json = dir.path().join("cases.json");
    let docs = root.join("tests/fixtures/kb/docs");
    let cases = root.join("tests/fixtures/kb/cases.jsonl");
    let history_file = root.join("tests/fixtures/kb/history.jsonl");
    let mut args = vec![
        "eval",
        "ask",
        "--kb",
        docs.to_str().unwrap(),
        "--cases",
        cases.to_str().unwrap(),
        "--retrieval-only",
        "--json",
        json.to_str().unwrap(),
    ];
    if history {
        args.extend(["--history", history_file.to_str().unwrap()]);
    }
    let (stdout, stderr, ok) = steward(dir.path(), &args);
    assert!(ok, "{stdout}{stderr}");
    let outcomes: Vec<serde_json::Value> = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(outcomes.len(), 139);
    (outcomes, stdout, stderr)
}

/// A case about the community history (`en-h01`, `zh-h03`): its source is a conversation.
fn about_history(outcome: &serde_json::Value) -> bool {
    outcome["id"]
        .as_str()
        .is_some_and(|id| id.get(2..).is_some_and(|rest| rest.starts_with("-h")))
}

/// Per language, over the cases `pick` keeps: (hit@3 over answerable cases, share of
/// unanswerable cases answered "I don't know").
fn corpus_figures(
    outcomes: &[serde_json::Value],
    language: &str,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> (f64, f64) {
    let of = |answerable: bool| -> Vec<&serde_json::Value> {
        outcomes
            .iter()
            .filter(|o| o["language"] == language && o["answerable"] == answerable && pick(o))
            .collect()
    };
    let share = |cases: Vec<&serde_json::Value>, key: &str| {
        let yes = cases.iter().filter(|o| o[key] == true).count();
        yes as f64 / cases.len() as f64
    };
    (share(of(true), "hit_at_3"), share(of(false), "dont_know"))
}

/// Lexical retrieval on the corpus's documents alone (the history's cases left out), as
/// measured when it landed (docs/knowledge.md): a drop means ranking or the floor got worse.
/// The "I don't know" bar is the documents' own: indexed community chatter gives off-topic
/// questions words to match (see the history's figures).
#[test]
fn retrieval_on_the_documents_does_not_regress() {
    let (outcomes, report, _) = corpus_outcomes(false);
    eprintln!("{report}");
    for language in ["en", "zh"] {
        let (hit_at_3, dont_know) = corpus_figures(&outcomes, language, |o| !about_history(o));
        assert!(hit_at_3 >= 0.9, "{language}: hit@3 {hit_at_3}\n{report}");
        assert!(
            dont_know >= 0.25,
            "{language}: I don't know {dont_know}\n{report}"
        );
    }
}

/// Retrieval on the whole corpus, documents and community history: hit@3 >= 0.9 per language
/// over every answerable case and over the history's alone; the history recorded, its
/// reactions applied and its conversations indexed as the bot would (a question another member
/// answered, or one whose asker reacted ✅: 26 of 32, the Friday chatter and a question
/// answered only "同问" left out); a conversation of one member that nobody vouched for (no
/// ✅, or someone else's) is never indexed, so never retrieved.
#[test]
fn retrieval_on_the_corpus_does_not_regress() {
    let (outcomes, report, stderr) = corpus_outcomes(true);
    eprintln!("{report}");
    assert!(
        stderr
            .contains("history: 115 messages and 26 reactions recorded; 26 conversations indexed"),
        "{stderr}"
    );
    for language in ["en", "zh"] {
        let (hit_at_3, _) = corpus_figures(&outcomes, language, |_| true);
        assert!(hit_at_3 >= 0.9, "{language}: hit@3 {hit_at_3}\n{report}");
        let (history_hit_at_3, _) = corpus_figures(&outcomes, language, about_history);
        assert!(
            history_hit_at_3 >= 0.9,
            "{language}: history hit@3 {history_hit_at_3}\n{report}"
        );
    }
    let unindexed = [
        "messages/console/help/en09-1",
        "messages/console/general/en16-1",
        "messages/console/zh-help/zh09-1",
        "messages/console/zh-chat/zh16-1",
    ];
    for outcome in &outcomes {
        for best in outcome["best"].as_array().unwrap() {
            let path = best[0].as_str().unwrap();
            assert!(!unindexed.contains(&path), "{path} was indexed: {outcome}");
        }
    }
}

/// The issue's bar on the corpus with its community history: hit@3 >= 0.9 and >= 90 % of
/// unanswerable questions routed to "I don't know", per language. Retrieval routes about a
/// quarter of the documents' unanswerable questions (they share the documents' words by
/// design), fewer with the history's conversations indexed.
#[test]
#[ignore = "not reached yet: the lexical floor routes well under half of the unanswerable questions to \"I don't know\" (issue 10)"]
fn retrieval_meets_the_issues_bar_on_the_corpus() {
    let (outcomes, report, _) = corpus_outcomes(true);
    for language in ["en", "zh"] {
        let (hit_at_3, dont_know) = corpus_figures(&outcomes, language, |_| true);
        assert!(hit_at_3 >= 0.9, "{language}: hit@3 {hit_at_3}\n{report}");
        assert!(
            dont_know >= 0.9,
            "{language}: I don't know {dont_know}\n{report}"
        );
    }
}

/// The in-process embedding model, fetched beside the default model by `steward model fetch`.
fn local_embedder() -> std::sync::Arc<dyn steward::llm::Embedder> {
    let models = crate::model_util::default_model()
        .parent()
        .expect("the models directory")
        .to_path_buf();
    std::sync::Arc::new(
        steward::llm::bert::LocalEmbedder::load(&models)
            .expect("the embedding model loads (run `steward model fetch`)"),
    )
}

/// An embedding model that always fails.
struct BrokenEmbedder;

#[async_trait::async_trait]
impl steward::llm::Embedder for BrokenEmbedder {
    async fn embed(&self, _texts: &[String]) -> Result<Vec<Vec<f32>>, steward::llm::LlmError> {
        Err(steward::llm::LlmError::Interrupted)
    }
    fn info(&self) -> String {
        "broken".into()
    }
    fn model(&self) -> String {
        "broken".into()
    }
}

#[tokio::test]
async fn semantic_retrieval_embeds_passages_and_finds_new_ones_at_once() {
    use steward::knowledge::retrieve::{Knowledge, KnowledgeBase};
    use steward::knowledge::vectors;

    let f = fixture_config(Ok("unused"), |_| {}).await;
    let summary = steward::app::kb::add(&f.store, &[docs("en")], ALL_COMMUNITIES, |_| {})
        .await
        .unwrap();
    let embedder = local_embedder();
    let embedded = vectors::embed_missing(&f.store, embedder.as_ref(), |_| {})
        .await
        .unwrap();
    assert_eq!(embedded, summary.passages as u64);
    assert!(f
        .store
        .kb_passages_without_vector(&embedder.model(), 10)
        .await
        .unwrap()
        .is_empty());

    let knowledge = Knowledge::new(f.store.clone(), Some(embedder.clone()));
    let found = knowledge
        .retrieve("console:c", "whats the default port lumen listens on?", 3)
        .await
        .unwrap();
    let port = found
        .passages
        .iter()
        .find(|p| p.candidate.text.contains("8428"))
        .unwrap_or_else(|| panic!("a passage with the port: {found:?}"));
    assert!(port.similarity.is_some_and(|s| s > 0.3), "{port:?}");

    // A document added after the vector index was loaded is found as soon as it is embedded.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zeppelin.md"),
        "# Zeppelin mode\n\nZeppelin mode streams every metric to the airship dashboard once a minute.\n",
    )
    .unwrap();
    steward::app::kb::add(
        &f.store,
        &[dir.path().to_path_buf()],
        ALL_COMMUNITIES,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        vectors::embed_missing(&f.store, embedder.as_ref(), |_| {})
            .await
            .unwrap(),
        1
    );
    let found = knowledge
        .retrieve("console:c", "what does zeppelin mode do?", 3)
        .await
        .unwrap();
    assert!(
        found.passages[0].candidate.path.ends_with("zeppelin.md"),
        "{found:?}"
    );
    assert!(found.passages[0].similarity.is_some(), "{found:?}");

    // A failing embedding model leaves retrieval lexical, never without an answer.
    let lexical = Knowledge::new(f.store.clone(), Some(std::sync::Arc::new(BrokenEmbedder)));
    let found = lexical
        .retrieve("console:c", "whats the default port lumen listens on?", 3)
        .await
        .unwrap();
    assert!(
        found
            .passages
            .iter()
            .any(|p| p.candidate.text.contains("8428")),
        "{found:?}"
    );
    assert!(found.passages.iter().all(|p| p.similarity.is_none()));
}
