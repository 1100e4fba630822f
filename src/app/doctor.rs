//! `steward doctor`: checks config, CPU, model file, the embedding model's files, database and
//! each remote inference server, and says how to fix each problem.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::{Config, Embeddings, ModelSource, ServerSettings, ENV_OVERRIDES};
use crate::llm::remote::{diagnose, Diagnosis};
use crate::model::{self, EmbedderManifest, ModelManifest};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked: "config", "model", ..., or an inference server's name.
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// How to fix it, when not ok.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Runs every check. Later checks that need the config are skipped when it is invalid.
pub async fn run(config_path: Option<&Path>) -> Vec<Check> {
    let mut checks = vec![cpu_check()];
    let config = match Config::load(config_path) {
        Ok(config) => {
            let source = config
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "built-in defaults (no config/steward.toml)".into());
            checks.push(Check::ok("config", source));
            config
        }
        Err(error) => {
            checks.push(Check::fail(
                "config",
                error.to_string(),
                "fix the key named above; every key is documented in config/steward.example.toml",
            ));
            return checks;
        }
    };
    checks.push(model_check(&config));
    checks.push(embedder_check(&config));
    checks.extend(inference_checks(&config).await);
    checks.push(database_check(&config).await);
    checks.extend(platform_checks(&config));
    let set: Vec<&str> = ENV_OVERRIDES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| std::env::var_os(name).is_some())
        .collect();
    let detail = if set.is_empty() {
        "none set".to_string()
    } else {
        format!("set: {}", set.join(", "))
    };
    checks.push(Check::ok("environment", detail));
    checks
}

/// Renders checks for the terminal.
pub fn report(checks: &[Check]) -> String {
    let mut out = String::new();
    for check in checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "[{mark}] {}: {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            let _ = writeln!(out, "       fix: {fix}");
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    let _ = match failed {
        0 => writeln!(out, "all checks passed"),
        n => writeln!(out, "{n} problem(s) found"),
    };
    out
}

fn platform_checks(config: &Config) -> Vec<Check> {
    use crate::config::MatrixAuth;
    let mut checks = Vec::new();
    if let Some(matrix) = &config.matrix {
        let credentials = match matrix.auth {
            MatrixAuth::Password(_) => "password from STEWARD_MATRIX_PASSWORD",
            MatrixAuth::AccessToken(_) => "access token from STEWARD_MATRIX_ACCESS_TOKEN",
            MatrixAuth::SavedSessionOnly => "no credentials set: a saved session is required",
        };
        let detail = format!("{} on {}; {credentials}", matrix.user_id, matrix.homeserver);
        let has_store = matrix.store_dir.is_dir();
        checks.push(match (&matrix.auth, has_store) {
            (MatrixAuth::SavedSessionOnly, false) => Check::fail(
                "matrix",
                detail,
                "set STEWARD_MATRIX_PASSWORD (or STEWARD_MATRIX_ACCESS_TOKEN) for the first login",
            ),
            _ => Check::ok("matrix", detail),
        });
    }
    if let Some(discord) = &config.discord {
        let shards = format!(
            "shards {}..={} of {}",
            discord.shard_first, discord.shard_last, discord.shard_total
        );
        checks.push(match discord.token {
            Some(_) => Check::ok("discord", format!("token set; {shards}")),
            None => Check::fail(
                "discord",
                format!("STEWARD_DISCORD_TOKEN is not set; {shards}"),
                "export STEWARD_DISCORD_TOKEN with the bot token from the Discord developer portal",
            ),
        });
    }
    if checks.is_empty() {
        checks.push(Check::ok(
            "platforms",
            "none configured ([matrix], [discord]); `steward console` works without",
        ));
    }
    checks
}

fn cpu_check() -> Check {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            Check::ok(
                "cpu",
                "x86-64 with AVX2 and FMA (the build targets x86-64-v3)",
            )
        } else {
            Check::fail(
                "cpu",
                "this CPU lacks AVX2/FMA, but the build targets x86-64-v3",
                "remove the rustflags line from .cargo/config.toml and rebuild (about 3x slower)",
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    Check::ok("cpu", std::env::consts::ARCH)
}

fn model_check(config: &Config) -> Check {
    let inference = &config.inference;
    if inference.has_chat_servers() && !inference.fallback_to_local {
        return Check::ok(
            "model",
            "the local model is not used: answers come from the [inference] servers \
             (set fallback_to_local = true to answer locally when they are all down)",
        );
    }
    match &config.model.source {
        ModelSource::Default => {
            let manifest = ModelManifest::builtin_default();
            let path = manifest.path_in(&config.model.models_dir);
            match model::verify(&manifest, &path) {
                Ok(()) => Check::ok("model", format!("{} (size and sha256 verified)", path.display())),
                Err(error) => Check::fail(
                    "model",
                    error.to_string(),
                    "run `steward model fetch` (or `cargo run --release -- model fetch`) to download and verify the default model, or set [model] gguf to a GGUF file you have",
                ),
            }
        }
        ModelSource::LocalGguf(path) => match crate::llm::check_gguf(path) {
            Ok(()) => Check::ok("model", format!("{} (GGUF header checked)", path.display())),
            Err(problem) => Check::fail(
                "model",
                format!("{}: {problem}", path.display()),
                "point [model] gguf at an existing .gguf file, or remove it to use the default model",
            ),
        },
        ModelSource::Hub { repo, file } => Check::ok(
            "model",
            format!("hf://{repo}/{file} (downloaded from the Hugging Face hub at start; needs network)"),
        ),
    }
}

/// The in-process embedding model's files (present, size, SHA-256), when `[knowledge]
/// embeddings` uses it.
fn embedder_check(config: &Config) -> Check {
    let servers = config.inference.has_embedding_servers();
    match config.knowledge.embeddings.resolve(servers) {
        Embeddings::Off => Check::ok(
            "embeddings",
            "off ([knowledge] embeddings = \"off\"): retrieval is lexical only",
        ),
        Embeddings::Remote => Check::ok(
            "embeddings",
            "from the [inference] servers that serve embeddings (each is checked below)",
        ),
        Embeddings::Local | Embeddings::Auto => {
            let manifest = EmbedderManifest::builtin();
            let models_dir = &config.model.models_dir;
            match model::verify_embedder(&manifest, models_dir) {
                Ok(()) => Check::ok(
                    "embeddings",
                    format!(
                        "{} in process, {} files in {} (size and sha256 verified)",
                        manifest.name,
                        manifest.files().len(),
                        models_dir.display()
                    ),
                ),
                Err(error) => Check::fail(
                    "embeddings",
                    error.to_string(),
                    format!(
                        "run `steward model fetch` (or `cargo run --release -- model fetch`) to \
                         download and verify {}; until then retrieval is lexical only \
                         (or set [knowledge] embeddings = \"off\")",
                        manifest.name
                    ),
                ),
            }
        }
    }
}

/// One check per `[[inference.servers]]`, named after the server: reachable, lists the
/// model, generates one token. All servers are checked at once.
async fn inference_checks(config: &Config) -> Vec<Check> {
    let inference = &config.inference;
    let diagnoses = inference
        .servers
        .iter()
        .map(|server| diagnose(server, inference));
    let diagnoses = futures::future::join_all(diagnoses).await;
    inference
        .servers
        .iter()
        .zip(diagnoses)
        .map(|(server, diagnosis)| server_check(server, diagnosis))
        .collect()
}

fn server_check(server: &ServerSettings, diagnosis: Diagnosis) -> Check {
    let name = server.name.clone();
    let url = &server.url;
    let model = &server.model;
    match diagnosis {
        Diagnosis::Healthy { models } => {
            let serves: Vec<&str> = server.serves.iter().map(|c| c.as_str()).collect();
            Check::ok(
                name,
                format!(
                    "{url}: serves {model} ({} listed; used for {})",
                    models.len(),
                    serves.join(", ")
                ),
            )
        }
        Diagnosis::Unreachable(error) => Check::fail(
            name,
            error,
            format!("start the server / check the url ({url}) and that this machine can reach it"),
        ),
        Diagnosis::Unauthorized { status, error } => {
            let fix = match &server.api_key_env {
                Some(variable) => format!("{status}: set {variable} to the server's key"),
                None => format!(
                    "{status}: the server wants a key: export it in an environment variable and \
                     name that variable in api_key_env for this server"
                ),
            };
            Check::fail(name, error, fix)
        }
        Diagnosis::NotOpenAi(error) => Check::fail(
            name,
            error,
            format!(
                "check that the url is the OpenAI-compatible base (usually ending in /v1): \
                 GET {url}/models must list the served models"
            ),
        ),
        Diagnosis::ModelNotServed { listed } => {
            let fix = if listed.is_empty() {
                format!("the server lists no model; start it with {model}")
            } else {
                format!(
                    "the server lists: {}; set model to one of them",
                    listed.join(", ")
                )
            };
            Check::fail(name, format!("{url} does not serve model {model:?}"), fix)
        }
        Diagnosis::CompletionFailed(error) => Check::fail(
            name,
            error,
            format!(
                "the server lists {model} but a one-token answer failed: check the server's log"
            ),
        ),
    }
}

async fn database_check(config: &Config) -> Check {
    match super::open_store(config).await {
        Ok(store) => {
            let backend = store.backend().to_string();
            store.close().await;
            Check::ok("database", format!("{backend}, migrations applied"))
        }
        Err(error) => Check::fail(
            "database",
            error.to_string(),
            "check [store] url (or STEWARD_DATABASE_URL) and that the database is reachable",
        ),
    }
}
