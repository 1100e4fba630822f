//! Helpers for the remote backend's tests (`remote`, `remote_faults`): configs with an
//! `[inference]` pool, the pool behind a scheduler, streams recorded event by event, and the
//! `steward` binary run as a subprocess.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use steward::config::Config;
use steward::llm::remote::RemotePool;
use steward::llm::{ChatRequest, Engine, LlmError, Scheduler, SchedulerSettings, StreamEvent};
use steward::metrics::Metrics;

use crate::openai_server::{Served, CHAT};

pub const SYSTEM: &str = "You are a helpful assistant. Answer briefly and accurately.";

/// One `[[inference.servers]]` entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub url: String,
    pub model: String,
    pub api_key_env: Option<String>,
    pub max_concurrent: usize,
    pub serves: &'static str,
}

impl Entry {
    pub fn chat(name: &str, url: String, model: &str) -> Self {
        Self {
            name: name.to_string(),
            url,
            model: model.to_string(),
            api_key_env: None,
            max_concurrent: 4,
            serves: r#"["chat"]"#,
        }
    }

    pub fn embeddings(name: &str, url: String, model: &str) -> Self {
        Self {
            serves: r#"["embeddings"]"#,
            ..Self::chat(name, url, model)
        }
    }
}

/// The `[inference]` timings of a test; short, so faults resolve quickly.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    pub first_token_secs: u64,
    pub failure_threshold: u32,
    pub health_secs: u64,
    pub probe_secs: u64,
}

impl Default for Pool {
    fn default() -> Self {
        Self {
            // Generous: every test of the binary shares 2 cores with the real model.
            first_token_secs: 30,
            failure_threshold: 3,
            health_secs: 30,
            probe_secs: 30,
        }
    }
}

/// Writes a config into `dir`: a private SQLite store, no local model (the models directory is
/// empty, so anything answered came from a server), and the given pool.
pub fn write_config(dir: &Path, pool: Pool, servers: &[Entry]) -> PathBuf {
    let mut text = format!(
        "[model]\nmodels_dir = {:?}\nmax_new_tokens = 24\n\n\
         [store]\nurl = \"sqlite://{}/steward.db\"\n\n\
         [console]\nuser = \"ana\"\n\n\
         [inference]\nfallback_to_local = false\nconnect_timeout_secs = 2\n\
         first_token_timeout_secs = {}\nhealth_interval_secs = {}\n\
         probe_interval_secs = {}\nfailure_threshold = {}\n",
        dir.join("no-local-model").display().to_string(),
        dir.display(),
        pool.first_token_secs,
        pool.health_secs,
        pool.probe_secs,
        pool.failure_threshold,
    );
    for server in servers {
        text.push_str(&format!(
            "\n[[inference.servers]]\nname = {:?}\nurl = {:?}\nmodel = {:?}\nweight = 1\n\
             max_concurrent = {}\nserves = {}\n",
            server.name, server.url, server.model, server.max_concurrent, server.serves
        ));
        if let Some(variable) = &server.api_key_env {
            text.push_str(&format!("api_key_env = {variable:?}\n"));
        }
    }
    let path = dir.join("steward.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Loads a config written by [`write_config`] (no environment: no keys).
pub fn load(path: &Path) -> Config {
    Config::load_with_env(Some(path), &|_| None).expect("the test config is valid")
}

/// The remote pool of `config` behind a scheduler that runs four at once.
pub fn pool_engine(config: &Config, metrics: Arc<Metrics>) -> Scheduler {
    let pool = RemotePool::new(&config.inference, metrics.clone()).expect("the pool starts");
    let settings = SchedulerSettings {
        queue_capacity: 16,
        max_concurrent: 4,
        preempt_background: false,
    };
    Scheduler::new(Arc::new(pool), settings, metrics)
}

/// How a request's stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    Done,
    Interrupted,
    /// Any other error: "label: message".
    Failed(String),
}

/// What one request's stream delivered, in order.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub question: String,
    pub text: String,
    pub deltas: usize,
    pub ends: Vec<End>,
    /// Deltas that came after an end (must be none).
    pub after_end: usize,
}

impl Record {
    /// Records one event of the stream.
    pub fn event(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::Delta(text) => {
                if !self.ends.is_empty() {
                    self.after_end += 1;
                }
                self.deltas += 1;
                self.text.push_str(&text);
            }
            StreamEvent::Done(_) => self.ends.push(End::Done),
            StreamEvent::Error(LlmError::Interrupted) => self.ends.push(End::Interrupted),
            StreamEvent::Error(error) => self
                .ends
                .push(End::Failed(format!("{}: {error}", error.label()))),
        }
    }
}

/// Streams `question` to its end and records everything (a refusal is recorded as its end).
pub async fn ask(engine: &dyn Engine, question: &str, max_new_tokens: usize) -> Record {
    let mut record = Record {
        question: question.to_string(),
        ..Record::default()
    };
    let request = ChatRequest::new(SYSTEM, question).with_max_new_tokens(max_new_tokens);
    match engine.stream(request).await {
        Ok(mut stream) => {
            while let Some(event) = stream.next_event().await {
                record.event(event);
            }
        }
        Err(error) => record
            .ends
            .push(End::Failed(format!("{}: {error}", error.label()))),
    }
    record
}

/// The texts `log` holds for `question` where the server sent the whole answer.
pub fn whole_answers(log: &[Served], question: &str) -> Vec<String> {
    log.iter()
        .filter(|s| s.path == CHAT && s.question() == Some(question) && s.finished)
        .map(|s| s.text.clone())
        .collect()
}

/// Polls `condition` every 20 ms for up to `limit`; true once it held.
pub async fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

/// What a run of the `steward` binary printed.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

/// Runs `steward --config CONFIG ARGS` with `input` on stdin and `env` added (logs at warn
/// unless `env` says otherwise); killed if it runs past two minutes.
pub async fn run_steward(config: &Path, args: &[&str], input: &str, env: &[(&str, &str)]) -> Run {
    use tokio::io::AsyncWriteExt as _;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("STEWARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the steward binary starts");
    let mut stdin = child.stdin.take().unwrap();
    // A process that exits without reading (a config error) closes the pipe; its output
    // below says why.
    let _ = stdin.write_all(input.as_bytes()).await;
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("steward ends within two minutes")
        .unwrap();
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
    }
}
