//! The `steward` binary: parses the command line, runs a command, maps errors to exit codes
//! (2 for configuration errors, 1 for everything else).

use std::process::ExitCode;

use clap::Parser;
use steward::app::cli::{
    ClassifyCommand, Cli, Command, DiscordCommand, EvalCommand, KbCommand, ModelCommand,
    PrivacyCommand, RoleArg, SentimentStageArg,
};
use steward::app::{self, AppError};
use steward::config::Config;
use steward::core::Role;

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
                ) || matches!(e, AppError::Classify(c) if c.is_usage())
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
            let paths = tokio::task::spawn_blocking(move || app::fetch_models(&config))
                .await?
                .map_err(AppError::from)?;
            for path in paths {
                println!("{}", path.display());
            }
        }
        Command::Bench {
            runs,
            question,
            prompts,
            max_tokens,
            sentiment,
            messages,
            asks,
        } => {
            let config = load()?;
            if sentiment {
                let options = app::bench_sentiment::SentimentBenchOptions {
                    messages,
                    asks,
                    question,
                };
                print!("{}", app::bench_sentiment::run(&config, &options).await?);
            } else if let Some(prompts) = prompts {
                print!(
                    "{}",
                    app::bench_prompts::run(&config, &prompts, runs, max_tokens).await?
                );
            } else {
                let options = app::bench::BenchOptions { runs, question };
                print!("{}", app::bench::run(&config, &options).await?);
            }
        }
        Command::Kb { command } => {
            let config = load()?;
            let store = app::open_store(&config).await.map_err(AppError::from)?;
            run_kb(&config, &store, command).await?;
        }
        Command::Privacy { command } => {
            let config = load()?;
            let store = app::open_store(&config).await.map_err(AppError::from)?;
            let store = std::sync::Arc::new(store);
            let code = run_privacy(&config, &store, command).await;
            store.close().await;
            return code;
        }
        Command::Eval {
            command:
                EvalCommand::Ask {
                    kb,
                    history,
                    cases,
                    retrieval_only,
                    json,
                    min_relevance,
                    min_known,
                },
        } => {
            let defaults = steward::knowledge::retrieve::Floor::default();
            let floor = steward::knowledge::retrieve::Floor {
                min_relevance: min_relevance.unwrap_or(defaults.min_relevance),
                min_known: min_known.unwrap_or(defaults.min_known),
            };
            let config = load()?;
            let mut file = match &json {
                Some(path) => Some(std::fs::File::create(path).map_err(|error| {
                    anyhow::anyhow!("cannot write {}: {error}", path.display())
                })?),
                None => None,
            };
            let out = file.as_mut().map(|f| f as &mut dyn std::io::Write);
            let report = app::eval_ask::evaluate(
                &config,
                &kb,
                history.as_deref(),
                &cases,
                retrieval_only,
                floor,
                out,
            )
            .await?;
            print!("{report}");
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
        Command::Classify {
            command:
                ClassifyCommand::Sentiment {
                    input,
                    output,
                    labels,
                    stage,
                    batch,
                },
        } => {
            use app::classify::{ClassifyOptions, StageChoice};
            let config = load()?;
            let options = ClassifyOptions {
                input,
                output,
                labels,
                stage: match stage {
                    SentimentStageArg::Lexical => StageChoice::Lexical,
                    SentimentStageArg::Model => StageChoice::Model,
                    SentimentStageArg::Auto => StageChoice::Auto,
                },
                batch,
            };
            print!("{}", app::classify::sentiment(&config, &options).await?);
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

/// `steward kb ...` on the configured store.
async fn run_kb(
    config: &steward::config::Config,
    store: &steward::store::Store,
    command: KbCommand,
) -> anyhow::Result<()> {
    use app::kb;
    let community = |text: Option<String>| -> anyhow::Result<String> {
        let parsed = text.as_deref().map(kb::parse_community).transpose()?;
        Ok(kb::scope_of(parsed.as_ref()))
    };
    match command {
        KbCommand::Add {
            paths,
            community: c,
        } => {
            let scope = community(c)?;
            let summary = kb::add(store, &paths, &scope, |line| println!("{line}")).await?;
            print!("{}", summary.render());
            // New passages get their vectors now, so semantic retrieval finds them at once
            // (a running bot would embed them in the background otherwise).
            let metrics = steward::metrics::Metrics::new();
            if let Some(embedder) = app::load_embedder(config, metrics).await? {
                println!("{}", kb::embed_passages(store, embedder.as_ref()).await?);
            }
        }
        KbCommand::List => print!("{}", kb::list(store).await?),
        KbCommand::Remove { path, community: c } => {
            let scope = community(c)?;
            if !store.kb_remove_document(&scope, &path).await? {
                anyhow::bail!("no document {path:?} in the knowledge base (see `steward kb list`)");
            }
            println!("removed {path}");
        }
        KbCommand::Gaps { community, days } => {
            let (platform, id) = kb::parse_community(&community)?;
            print!("{}", kb::gaps_report(store, platform, &id, days).await?);
        }
        KbCommand::Feedback { community, days } => {
            let (platform, id) = kb::parse_community(&community)?;
            print!(
                "{}",
                kb::feedback_report(config, store, platform, &id, days).await?
            );
        }
        KbCommand::Backfill { community } => {
            let community = community.as_deref().map(kb::parse_community).transpose()?;
            let exclude = &config.knowledge.exclude_channels;
            print!(
                "{}",
                kb::backfill(store, exclude, community.as_ref()).await?
            );
            // As after `kb add`: the new passages get their vectors now.
            let metrics = steward::metrics::Metrics::new();
            if let Some(embedder) = app::load_embedder(config, metrics).await? {
                println!("{}", kb::embed_passages(store, embedder.as_ref()).await?);
            }
        }
    }
    Ok(())
}

/// `steward privacy ...` on the configured store; forgetting without `--yes` exits with 2.
async fn run_privacy(
    config: &Config,
    store: &std::sync::Arc<steward::store::Store>,
    command: PrivacyCommand,
) -> anyhow::Result<ExitCode> {
    use app::privacy;
    use steward::core::{CommunityId, UserId};
    match command {
        PrivacyCommand::Forget {
            platform,
            community,
            user,
            yes,
        } => {
            let member = privacy::Member {
                platform: privacy::parse_platform(&platform)?,
                community: CommunityId::new(community.trim()),
                user: UserId::new(user.trim()),
            };
            if !yes {
                print!("{}", privacy::forget_preview(config, store, &member).await?);
                return Ok(ExitCode::from(2));
            }
            print!("{}", privacy::forget_member(config, store, &member).await?);
        }
        PrivacyCommand::Export {
            platform,
            community,
            user,
            output,
        } => {
            let platform = privacy::parse_platform(&platform)?;
            let community = CommunityId::new(community.trim());
            let user = user.map(|user| UserId::new(user.trim()));
            let json = privacy::export_json(store, platform, &community, user.as_ref()).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &json).map_err(|error| {
                        anyhow::anyhow!("cannot write {}: {error}", path.display())
                    })?;
                    eprintln!("steward: wrote {}", path.display());
                }
                None => {
                    use std::io::Write;
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(&json)?;
                    stdout.flush()?;
                }
            }
        }
        PrivacyCommand::Purge => print!("{}", privacy::purge_now(config, store).await?),
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
