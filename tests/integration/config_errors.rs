//! Bad configuration gets one clear line naming the file and key, and exit code 2.

use std::path::Path;
use std::process::Command;

use steward::config::{Config, ConfigError, EngineChoice, ModelSource};

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("steward.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn error_table() {
    let dir = tempfile::tempdir().unwrap();
    // (config text, expected key, expected words in the message)
    let cases = [
        (
            "[model]\ntemprature = 0.5\n",
            "model.temprature",
            "unknown field",
        ),
        (
            "[bot]\nname = \"S\"\ncolour = 1\n",
            "bot.colour",
            "unknown field",
        ),
        ("[gateway]\nx = 1\n", "gateway", "unknown field"),
        (
            "[model]\nmax_new_tokens = \"many\"\n",
            "model.max_new_tokens",
            "invalid type",
        ),
        (
            "[model]\nmax_new_tokens = 0\n",
            "model.max_new_tokens",
            "out of range",
        ),
        (
            "[model]\ntemperature = 7.5\n",
            "model.temperature",
            "out of range",
        ),
        (
            "[bot]\nlanguage = \"fr\"\n",
            "bot.language",
            "unknown language",
        ),
        ("[model]\nhf_repo = \"a/b\"\n", "model.hf_file", "required"),
        (
            "[model]\ngguf = \"a.gguf\"\nhf_repo = \"a/b\"\nhf_file = \"c.gguf\"\n",
            "model.gguf",
            "not both",
        ),
        (
            "[store]\nurl = \"mysql://u:secretpw@h/db\"\n",
            "store.url",
            "unsupported database",
        ),
        (
            "[quotas]\nmember_budget = -1\n",
            "quotas.member_budget",
            "out of range",
        ),
        (
            "[quotas]\nchannel_budget = 0\n",
            "quotas.channel_budget",
            "out of range",
        ),
        (
            "[quotas]\ncommunity_budget = 1000000000\n",
            "quotas.community_budget",
            "use 1 to 100000",
        ),
        (
            "[quotas]\nreport_budget = 0\n",
            "quotas.report_budget",
            "out of range",
        ),
        (
            "[quotas]\nwindow_secs = 0\n",
            "quotas.window_secs",
            "use 1 to 86400",
        ),
        (
            "[quotas]\nwindow_secs = 31536000\n",
            "quotas.window_secs",
            "out of range",
        ),
        (
            "[quotas]\nask_cost = 0\n",
            "quotas.ask_cost",
            "out of range",
        ),
        (
            "[quotas]\nmember_budget = 2\n",
            "quotas.summarize_cost",
            "use 1 to 2",
        ),
        (
            "[quotas]\nenabled = \"yes\"\n",
            "quotas.enabled",
            "invalid type",
        ),
        (
            "[quotas]\nmember_quota = 10\n",
            "quotas.member_quota",
            "unknown field",
        ),
        (
            "[bot]\nmax_question_chars = 0\n",
            "bot.max_question_chars",
            "out of range",
        ),
        (
            "[bot]\nmax_question_chars = -4000\n",
            "bot.max_question_chars",
            "out of range",
        ),
        ("[model\nx = 1\n", "(syntax)", ""),
        (
            "[metrics]\nlisten = \"nonsense\"\n",
            "metrics.listen",
            "not an address",
        ),
        (
            "[metrics]\nlisten = \"127.0.0.1:9464\"\nport = 9464\n",
            "metrics.port",
            "unknown field",
        ),
    ];
    for (text, key, words) in cases {
        let path = write(dir.path(), text);
        let error = Config::load_with_env(Some(&path), &no_env).expect_err(text);
        let message = error.to_string();
        assert!(
            matches!(error, ConfigError::Invalid { .. }),
            "{text}: {error:?}"
        );
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(
            message.contains(&format!("key `{key}`")),
            "{text} -> {message}"
        );
        assert!(message.contains(words), "{text} -> {message}");
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(
            !message.contains("secretpw"),
            "no secrets in errors: {message}"
        );
    }
}

/// `[model] engine` errors name the key and say which value to use instead.
#[test]
fn engine_errors_say_which_engine_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let hub = "hf_repo = \"owner/model\"\nhf_file = \"model.gguf\"\n";
    // (the `[model]` lines, the whole message after the key)
    let cases = [
        (
            "engine = \"vllm\"\n".to_string(),
            "\"vllm\" is not an engine: use \"auto\", \"mistralrs\" or \"llamacpp\"",
        ),
        (
            "engine = \" candle \"\n".to_string(),
            "\"candle\" is not an engine: use \"auto\", \"mistralrs\" or \"llamacpp\"",
        ),
        (
            format!("{hub}engine = \"llamacpp\"\n"),
            "\"llamacpp\" loads local GGUF files only: download the file and set model.gguf, \
             or use \"mistralrs\"",
        ),
    ];
    for (lines, expected) in cases {
        let path = write(dir.path(), &format!("[model]\n{lines}"));
        let error = Config::load_with_env(Some(&path), &no_env).expect_err(&lines);
        assert!(matches!(error, ConfigError::Invalid { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("{}: key `model.engine`: {expected}", path.display()),
            "{lines}"
        );
    }
    // The same engine values are accepted where they fit.
    let path = write(
        dir.path(),
        "[model]\ngguf = \"local.gguf\"\nengine = \"llamacpp\"\n",
    );
    let config = Config::load_with_env(Some(&path), &no_env).unwrap();
    assert_eq!(config.model.engine, EngineChoice::LlamaCpp);
    let path = write(
        dir.path(),
        &format!("[model]\n{hub}engine = \"mistralrs\"\n"),
    );
    let config = Config::load_with_env(Some(&path), &no_env).unwrap();
    assert_eq!(config.model.engine, EngineChoice::MistralRs);
}

#[test]
fn unknown_key_error_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "[bot]\nname = \"S\"\n\n[model]\ntemprature = 0.5\n",
    );
    let message = Config::load_with_env(Some(&path), &no_env)
        .unwrap_err()
        .to_string();
    assert!(message.contains("line 5"), "{message}");
}

#[test]
fn missing_file_is_named() {
    let error =
        Config::load_with_env(Some(Path::new("/nonexistent/steward.toml")), &no_env).unwrap_err();
    assert!(matches!(error, ConfigError::NotFound { .. }));
    assert!(error.to_string().contains("/nonexistent/steward.toml"));
}

#[test]
fn example_config_is_valid_and_matches_the_defaults() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/steward.example.toml");
    let config =
        Config::load_with_env(Some(&example), &no_env).expect("the example config is valid");
    let defaults = Config::load_with_env(None, &no_env).unwrap();
    assert_eq!(config.model.source, ModelSource::Default);
    assert_eq!(config.model.max_new_tokens, defaults.model.max_new_tokens);
    assert_eq!(config.model.queue_capacity, defaults.model.queue_capacity);
    assert_eq!(config.store.url.expose(), defaults.store.url.expose());
    assert_eq!(config.bot.name, defaults.bot.name);
    let (example, default) = (&config.moderation, &defaults.moderation);
    assert_eq!(example.enabled, default.enabled);
    assert_eq!(example.flood, default.flood);
    assert_eq!(example.flood_timeout, default.flood_timeout);
    assert_eq!(
        (example.max_mentions, example.max_links),
        (default.max_mentions, default.max_links)
    );
    assert_eq!(example.model_review, default.model_review);
    assert_eq!(example.model_may_delete, default.model_may_delete);
    assert_eq!(example.report_emoji, default.report_emoji);
    assert_eq!(example.new_communities, default.new_communities);
    assert_eq!(config.quotas, defaults.quotas);
    assert_eq!(
        config.bot.max_question_chars,
        defaults.bot.max_question_chars
    );
}

#[test]
fn quotas_and_question_length_are_read_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let defaults = Config::defaults();
    assert_eq!(defaults.bot.max_question_chars, 4000);
    assert!(defaults.quotas.enabled && defaults.quotas.moderators_exempt);
    let text = "[bot]\nmax_question_chars = 500\n\n[quotas]\nwindow_secs = 60\n\
                member_budget = 20\nsummarize_cost = 5\nmoderators_exempt = false\n";
    let config = Config::load_with_env(Some(&write(dir.path(), text)), &no_env).unwrap();
    assert_eq!(config.bot.max_question_chars, 500);
    let quotas = &config.quotas;
    assert_eq!(quotas.window, std::time::Duration::from_secs(60));
    assert_eq!((quotas.member_budget, quotas.summarize_cost), (20, 5));
    assert_eq!(quotas.channel_budget, defaults.quotas.channel_budget);
    assert!(!quotas.moderators_exempt);
}

#[test]
fn metrics_are_off_unless_listen_is_set() {
    let defaults = Config::load_with_env(None, &no_env).unwrap();
    assert_eq!(defaults.metrics.listen, None);
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/steward.example.toml"),
    )
    .unwrap();
    let listen = "listen = \"127.0.0.1:9464\"";
    let uncommented = example
        .replace("# [metrics]\n", "[metrics]\n")
        .replace(&format!("# {listen}"), listen);
    assert_ne!(uncommented, example, "the example documents [metrics]");
    let dir = tempfile::tempdir().unwrap();
    let config = Config::load_with_env(Some(&write(dir.path(), &uncommented)), &no_env).unwrap();
    assert_eq!(
        config.metrics.listen,
        Some("127.0.0.1:9464".parse().unwrap())
    );
}

#[test]
fn moderation_patterns_are_checked_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "[moderation]\nblocked_patterns = [\"free\\\\s+nitro\", \"discord\\\\.gift/\"]\n",
    );
    let config = Config::load_with_env(Some(&good), &no_env).unwrap();
    assert!(config.moderation.blocked_patterns[0].is_match("Free Nitro"));
    assert!(!config.moderation.blocked_patterns[1].is_match("discordXgift/"));

    let bad = write(dir.path(), "[moderation]\nblocked_patterns = [\"(oops\"]\n");
    let error = Config::load_with_env(Some(&bad), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("key `moderation.blocked_patterns[0]`: not a valid regular expression"),
        "{error}"
    );
}

#[test]
fn database_url_comes_from_the_environment_and_stays_secret() {
    let env = |name: &str| {
        (name == "STEWARD_DATABASE_URL").then(|| "postgres://u:hunter2@db/steward".to_string())
    };
    let config = Config::load_with_env(None, &env).unwrap();
    assert_eq!(config.store.url.expose(), "postgres://u:hunter2@db/steward");
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

fn steward(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .env("STEWARD_LOG", "off")
        .output()
        .unwrap()
}

#[test]
fn binary_exits_with_code_2_and_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad_key = write(dir.path(), "[model]\ntemprature = 0.5\n");
    let missing = dir.path().join("missing.toml");
    for path in [bad_key, missing] {
        let output = steward(&["--config", path.to_str().unwrap(), "console", "--no-fetch"]);
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

/// The commented `[matrix]` and `[discord]` examples, uncommented.
fn uncommented_platform_sections(example: &str) -> String {
    let mut in_section = false;
    let mut out = String::new();
    for line in example.lines() {
        if line == "# [matrix]" || line == "# [discord]" {
            in_section = true;
        } else if line.trim().is_empty() {
            in_section = false;
        }
        let keep = in_section && (line.starts_with("# [") || line.contains(" = "));
        out.push_str(if keep { &line[2..] } else { line });
        out.push('\n');
    }
    out
}

#[test]
fn example_platform_sections_are_valid_when_uncommented() {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/steward.example.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &uncommented_platform_sections(&example));
    let env = |name: &str| match name {
        "STEWARD_DISCORD_TOKEN" => Some("token".to_string()),
        "STEWARD_MATRIX_STORE_PASSPHRASE" => Some("a long passphrase".to_string()),
        _ => None,
    };
    let config = Config::load_with_env(Some(&path), &env).expect("uncommented examples are valid");
    let matrix = config.matrix.expect("[matrix] example");
    assert_eq!(matrix.user_id, "@steward:example.org");
    assert_eq!(matrix.moderator_power_level, 50);
    assert_eq!(
        matrix.store_passphrase_env.as_deref(),
        Some("STEWARD_MATRIX_STORE_PASSPHRASE")
    );
    let discord = config.discord.expect("[discord] example");
    assert_eq!(discord.shard_total, 1);
    assert!(discord.token.is_some());
}

#[test]
fn a_metrics_address_that_cannot_be_bound_stops_the_start_with_code_2() {
    // Something already listens on the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        &format!(
            "[store]\nurl = \"sqlite://{}/s.db\"\n[discord]\napi_base_url = \"http://127.0.0.1:9\"\n\
             [metrics]\nlisten = \"127.0.0.1:{port}\"\n",
            dir.path().display()
        ),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", config.to_str().unwrap(), "run"])
        .env("STEWARD_LOG", "off")
        .env("STEWARD_DISCORD_TOKEN", "unused.before.bind")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("[metrics] listen"), "{stderr}");
    assert!(stderr.contains(&port.to_string()), "{stderr}");
    // Nothing half-started: the database was never created.
    assert!(!dir.path().join("s.db").exists(), "{stderr}");
}
