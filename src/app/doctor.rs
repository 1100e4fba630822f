//! `steward doctor`: checks config, CPU, model file and database, and says how to fix each
//! problem.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::{Config, ModelSource, ENV_OVERRIDES};
use crate::model::{self, ModelManifest};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    /// How to fix it, when not ok.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
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
    match &config.model.source {
        ModelSource::Default => {
            let manifest = ModelManifest::builtin_default();
            let path = manifest.path_in(&config.model.models_dir);
            match model::verify(&manifest, &path) {
                Ok(()) => Check::ok("model", format!("{} (size and sha256 verified)", path.display())),
                Err(error) => Check::fail(
                    "model",
                    error.to_string(),
                    "run `steward model fetch` (or `cargo run --release -- model fetch`) to download and verify the default model",
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
