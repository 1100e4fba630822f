//! Knowledge-base benchmark (not a test; prints figures, asserts nothing about time), for the
//! figures issue 10 asks for:
//!
//! 1. corpus: 100,000 synthetic community messages (about a fifth Chinese, 8-40 words each),
//!    generated from a fixed seed out of a vocabulary of technical chatter with a few thousand
//!    made-up project names that occur in a handful of messages each, so questions have real
//!    answers. Each message is stored as one passage of a document of 100 messages
//!    (`channel-N/day-M`), not grouped into conversations as recorded messages are (that gives
//!    the index its most passages, the worst case for search time), in a SQLite file in a
//!    temporary directory (as the default store is a file);
//! 2. lexical indexing: messages per second for the index terms and `Store::kb_store_document`
//!    over the whole corpus;
//! 3. indexing with embeddings: messages per second of `vectors::embed_missing` with the
//!    in-process embedding model (all-MiniLM-L6-v2) over the first 2,000 messages only (the
//!    whole corpus would take many minutes on a small CPU). Every other passage then gets a
//!    deterministic random unit vector of the model's size under its name, so semantic
//!    retrieval searches one vector per message: a flat scan costs the same whatever the
//!    values;
//! 4. retrieval latency: 200 questions (a fifth Chinese) through `Knowledge::retrieve` (the
//!    limit `ask` uses), after 10 warm-up questions: p50, p95 and max of its elapsed time,
//!    lexical only and hybrid (embedding the question included); the first hybrid question
//!    apart (it loads every vector into memory); and the hybrid parts (embedding the question,
//!    the vector search, loading the vectors);
//! 5. one `ask`: the default chat model answering 5 English questions of the evaluation corpus
//!    from `tests/fixtures/kb/docs` through `Ask::answer` (`[model] languages = ["en"]`, so the
//!    answers are generated, not quoted): median time in retrieval against the time to the
//!    first text and to the end of the answer.
//!
//! Without the embedding model, part 3 and the hybrid half of part 4 are skipped with the
//! reason (and part 5 retrieves lexically); without the chat model, part 5 is skipped. A
//! summary table to paste into `docs/knowledge.md` comes last.
//!
//! Run: `cargo bench --bench knowledge` (add `-- --messages N --embed N --queries N --asks N`;
//! defaults 100000, 2000, 200 and 5; `--asks 0` skips part 5).

#[path = "knowledge/ask.rs"]
mod ask;
#[path = "knowledge/corpus.rs"]
mod corpus;
#[path = "knowledge/report.rs"]
mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use steward::features::grounded::PASSAGES;
use steward::knowledge::retrieve::{Knowledge, KnowledgeBase, CANDIDATES};
use steward::knowledge::vectors::{self, VectorIndex};
use steward::knowledge::{terms, NewDocument, NewPassage, ALL_COMMUNITIES};
use steward::llm::bert::LocalEmbedder;
use steward::llm::Embedder;
use steward::store::Store;

use corpus::{Message, Rng};
use report::{
    ask_summary, file_size, ms, per_second, percent, percentile, print_ask, print_corpus,
    print_embedded, print_latency, spread, table, thousands,
};

const MESSAGES_PER_DOCUMENT: usize = 100;
/// Documents are spread over this many channels, one per channel and day.
const CHANNELS: usize = 20;
/// Questions asked before the measured ones (not counted).
const WARM_UP: usize = 10;
/// The questions are asked in this community; the corpus is visible to every community.
const SCOPE: &str = "console:bench";
const VECTOR_SEED: u64 = 0x5EED_0003;
/// Random vectors stored per transaction.
const VECTOR_BATCH: usize = 1_000;

struct Options {
    messages: usize,
    embed: usize,
    queries: usize,
    asks: usize,
}

impl Options {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str, default: usize| {
            args.iter()
                .position(|arg| arg == name)
                .and_then(|at| args.get(at + 1))
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        let messages = value("--messages", 100_000).max(1);
        Self {
            messages,
            embed: value("--embed", 2_000).min(messages),
            queries: value("--queries", 200).max(1),
            asks: value("--asks", 5).min(ask::QUESTIONS.len()),
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    logs();
    let options = Options::from_args();
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let models_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let build = if cfg!(feature = "cuda") {
        "cuda build"
    } else {
        "CPU build"
    };
    let machine = format!("{cores} cores, {build}");
    println!(
        "knowledge benchmark: {machine}; SQLite store in {}",
        scratch.path().display()
    );
    let mut summary: Vec<(String, String)> = vec![("machine".into(), machine)];

    // 1. The corpus.
    let started = Instant::now();
    let messages = corpus::messages(options.messages);
    let count = messages.len();
    print_corpus(&messages, started.elapsed());
    let chinese = messages.iter().filter(|m| m.chinese).count();
    summary.push((
        "corpus".into(),
        format!(
            "{} synthetic messages ({:.0} % Chinese), one passage each (no conversation grouping: the most passages), SQLite file",
            thousands(count),
            percent(chinese, count)
        ),
    ));

    // 2. Lexical indexing.
    let db = scratch.path().join("kb.db");
    let store = Arc::new(
        Store::open(&format!("sqlite://{}", db.display()))
            .await
            .expect("the store opens"),
    );
    let indexed = index(&store, &messages).await;
    let database = file_size(&db) + file_size(&db.with_extension("db-wal"));
    table(
        "2. Indexing, lexical (index terms + Store::kb_store_document, one transaction per document)",
        &[
            ("throughput", per_second(count, indexed.total)),
            (
                "total",
                format!(
                    "{:.1} s for {} messages (terms {:.1} s, store {:.1} s)",
                    indexed.total.as_secs_f64(),
                    thousands(count),
                    indexed.terms.as_secs_f64(),
                    indexed.store.as_secs_f64()
                ),
            ),
            (
                "index terms",
                format!("{:.1} per message", indexed.term_count as f64 / count as f64),
            ),
            ("database", format!("{:.1} MB (file and WAL)", database as f64 / 1e6)),
        ],
    );
    summary.push((
        "indexing, lexical".into(),
        format!(
            "{} ({:.1} s)",
            per_second(count, indexed.total),
            indexed.total.as_secs_f64()
        ),
    ));

    // 3. Indexing with embeddings.
    let started = Instant::now();
    // Loading reads about 90 MB: on the blocking pool, as the bot does.
    let dir = models_dir.clone();
    let embedder: Result<Arc<dyn Embedder>, String> =
        tokio::task::spawn_blocking(move || LocalEmbedder::load(&dir))
            .await
            .expect("loading the embedding model does not panic")
            .map(|embedder| Arc::new(embedder) as Arc<dyn Embedder>)
            .map_err(|error| error.to_string());
    let embedder_load = started.elapsed();
    match &embedder {
        Ok(embedder) => {
            let embedded = embed_corpus(&store, embedder.as_ref(), options.embed).await;
            print_embedded(&embedded, embedder.as_ref(), embedder_load, &indexed, count);
            summary.push((
                format!(
                    "indexing, with embeddings ({}, {} messages)",
                    embedded.model,
                    thousands(embedded.embedded)
                ),
                per_second(embedded.embedded, embedded.embed),
            ));
        }
        Err(why) => println!(
            "\n3. Indexing with embeddings: skipped, the embedding model did not load: {why}"
        ),
    }

    // 4. Retrieval latency.
    let questions = corpus::questions(WARM_UP + options.queries);
    let lexical = retrievals(&Knowledge::new(store.clone(), None), &questions).await;
    let hybrid = match &embedder {
        Ok(embedder) => {
            // A knowledge base of its own: its first question loads the vectors.
            let knowledge = Knowledge::new(store.clone(), Some(embedder.clone()));
            let hybrid = retrievals(&knowledge, &questions).await;
            // Its vectors leave memory before the parts load their own copy.
            drop(knowledge);
            let parts = hybrid_parts(&store, embedder.as_ref(), &questions).await;
            Some((hybrid, parts))
        }
        Err(_) => None,
    };
    print_latency(&questions, &lexical, hybrid.as_ref(), count);
    summary.push((
        format!("retrieval, lexical ({} questions)", lexical.measured.len()),
        spread(&lexical.measured),
    ));
    if let Some((hybrid, parts)) = &hybrid {
        summary.push((
            "retrieval, hybrid (embedding the question included)".into(),
            format!(
                "{}; of which embedding the question p50 {}, vector search p50 {}",
                spread(&hybrid.measured),
                ms(percentile(&parts.embed, 0.5)),
                ms(percentile(&parts.search, 0.5))
            ),
        ));
        summary.push((
            format!(
                "first hybrid question (loads {} vectors, {:.0} MB)",
                thousands(parts.vectors),
                parts.megabytes
            ),
            format!("{} (loading alone {})", ms(hybrid.first), ms(parts.load)),
        ));
    }

    // 5. Retrieval against generation in one ask.
    if options.asks == 0 {
        println!("\n5. One ask: skipped (--asks 0)");
    } else {
        let embedder = embedder.ok();
        match ask::run(&models_dir, scratch.path(), embedder, options.asks).await {
            Ok(run) => {
                print_ask(&run);
                summary.push(ask_summary(&run, &lexical));
            }
            Err(why) => println!("\n5. One ask: skipped: {why}"),
        }
    }

    println!("\nSummary (for docs/knowledge.md):\n");
    println!("| measure | figure |\n|---|---|");
    for (measure, figure) in &summary {
        println!("| {measure} | {figure} |");
    }
    store.close().await;
}

/// Warnings on stderr (an embedding failure, for one); `RUST_LOG` for more.
fn logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// What lexical indexing took.
struct Indexed {
    total: Duration,
    terms: Duration,
    store: Duration,
    term_count: u64,
}

/// Stores the corpus, one document per `MESSAGES_PER_DOCUMENT` messages, as `kb add` stores
/// a file: terms per passage, then the document in one transaction.
async fn index(store: &Store, messages: &[Message]) -> Indexed {
    let now = SystemTime::now();
    let mut indexed = Indexed {
        total: Duration::ZERO,
        terms: Duration::ZERO,
        store: Duration::ZERO,
        term_count: 0,
    };
    let started = Instant::now();
    for (number, chunk) in messages.chunks(MESSAGES_PER_DOCUMENT).enumerate() {
        let split = Instant::now();
        let passages: Vec<NewPassage> = chunk
            .iter()
            .enumerate()
            .map(|(ordinal, message)| NewPassage {
                ordinal: ordinal as u32,
                heading: String::new(),
                text: message.text.clone(),
                terms: terms::index_terms(&message.text),
            })
            .collect();
        indexed.term_count += passages.iter().map(|p| p.terms.len() as u64).sum::<u64>();
        let mut hasher = Sha256::new();
        for message in chunk {
            hasher.update(message.text.as_bytes());
            hasher.update(b"\n");
        }
        let document = NewDocument {
            path: format!(
                "channel-{}/day-{}",
                number % CHANNELS + 1,
                number / CHANNELS + 1
            ),
            scope: ALL_COMMUNITIES.to_string(),
            sha256: format!("{:x}", hasher.finalize()),
            passages,
        };
        let storing = Instant::now();
        indexed.terms += storing - split;
        store
            .kb_store_document(&document, now)
            .await
            .expect("the document is stored");
        indexed.store += storing.elapsed();
        if (number + 1) % 50 == 0 {
            eprint!(
                "\rindexing: {} messages",
                thousands((number + 1) * MESSAGES_PER_DOCUMENT)
            );
        }
    }
    eprintln!();
    indexed.total = started.elapsed();
    indexed
}

/// What indexing with embeddings took.
struct Embedded {
    model: String,
    dimensions: usize,
    /// Passages embedded by the model, and the time `embed_missing` took.
    embedded: usize,
    embed: Duration,
    /// Passages given a random vector, and the time that took.
    random: usize,
    random_time: Duration,
}

/// Gives every passage after the first `subset` a random unit vector, then embeds the first
/// `subset` with `embed_missing` (timed): afterwards every passage has a vector.
async fn embed_corpus(store: &Store, embedder: &dyn Embedder, subset: usize) -> Embedded {
    let model = embedder.model();
    // One sentence first: the vector size, and the model's first run out of the timing.
    let probe = embedder
        .embed(&["how do I configure the reverse proxy for port 8428 with tls".to_string()])
        .await
        .expect("the embedding model embeds a sentence");
    let dimensions = probe.first().map_or(0, Vec::len);
    assert!(dimensions > 0, "the embedding model returned no vector");

    let started = Instant::now();
    let pending = store
        .kb_passages_without_vector(&model, usize::MAX)
        .await
        .expect("the passages are read");
    // Lowest ids first: the first `subset` messages stay for the model.
    let rest: Vec<i64> = pending.iter().skip(subset).map(|p| p.id).collect();
    drop(pending);
    let mut rng = Rng::new(VECTOR_SEED);
    for batch in rest.chunks(VECTOR_BATCH) {
        let rows: Vec<(i64, Vec<f32>)> = batch
            .iter()
            .map(|&id| (id, random_unit(&mut rng, dimensions)))
            .collect();
        store
            .kb_store_vectors(&model, &rows)
            .await
            .expect("the vectors are stored");
    }
    let random_time = started.elapsed();

    let started = Instant::now();
    let embedded = vectors::embed_missing(store, embedder, |done| {
        eprint!("\rembedding: {done}/{subset} messages");
    })
    .await
    .expect("the messages are embedded");
    let embed = started.elapsed();
    eprintln!();
    Embedded {
        model,
        dimensions,
        embedded: embedded as usize,
        embed,
        random: rest.len(),
        random_time,
    }
}

fn random_unit(rng: &mut Rng, dimensions: usize) -> Vec<f32> {
    vectors::normalized(
        (0..dimensions)
            .map(|_| (rng.unit() * 2.0 - 1.0) as f32)
            .collect(),
    )
}

/// Retrieval times of one mode, the warm-up questions left out.
struct Run {
    /// The very first question's (for hybrid: loads the vectors).
    first: Duration,
    /// Sorted.
    measured: Vec<Duration>,
    /// Measured questions with at least one usable passage.
    answered: usize,
}

async fn retrievals(knowledge: &dyn KnowledgeBase, questions: &[Message]) -> Run {
    let mut run = Run {
        first: Duration::ZERO,
        measured: Vec::new(),
        answered: 0,
    };
    for (at, question) in questions.iter().enumerate() {
        let retrieval = knowledge
            .retrieve(SCOPE, &question.text, PASSAGES)
            .await
            .expect("retrieval works");
        if at == 0 {
            run.first = retrieval.elapsed;
        }
        if at >= WARM_UP {
            run.measured.push(retrieval.elapsed);
            run.answered += usize::from(!retrieval.passages.is_empty());
        }
    }
    run.measured.sort();
    run
}

/// The hybrid question's parts, measured on their own: embedding the question, and the
/// nearest vectors (after the first call, which loads them all).
struct Parts {
    load: Duration,
    vectors: usize,
    megabytes: f64,
    /// Sorted.
    embed: Vec<Duration>,
    /// Sorted.
    search: Vec<Duration>,
}

async fn hybrid_parts(store: &Store, embedder: &dyn Embedder, questions: &[Message]) -> Parts {
    let model = embedder.model();
    let stored = store
        .kb_vector_count(&model)
        .await
        .expect("the vectors are counted") as usize;
    let index = VectorIndex::new(model);
    let mut parts = Parts {
        load: Duration::ZERO,
        vectors: stored,
        megabytes: 0.0,
        embed: Vec::new(),
        search: Vec::new(),
    };
    for (at, question) in questions.iter().enumerate() {
        let started = Instant::now();
        let vector = embedder
            .embed(std::slice::from_ref(&question.text))
            .await
            .expect("the question is embedded")
            .into_iter()
            .next()
            .expect("one vector per question");
        let query = vectors::normalized(vector);
        let embedded = Instant::now();
        index
            .nearest(store, &query, CANDIDATES)
            .await
            .expect("the vectors are searched");
        let searched = embedded.elapsed();
        if at == 0 {
            parts.load = searched;
            parts.megabytes = (stored * query.len() * 4) as f64 / 1e6;
        } else if at >= WARM_UP {
            parts.embed.push(embedded - started);
            parts.search.push(searched);
        }
    }
    parts.embed.sort();
    parts.search.sort();
    parts
}
