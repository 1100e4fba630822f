//! A private Synapse homeserver for tests and benchmarks.
//!
//! [`Synapse::start`] installs `matrix-synapse` from PyPI into a cached venv (first time only,
//! about 30 s: `$STEWARD_CACHE_DIR/synapse-venv`, default `~/.cache/steward/synapse-venv`),
//! writes a minimal config in a temporary directory (SQLite, 127.0.0.1 on a free port, no
//! federation, a registration shared secret, rate limits out of the way), starts it and waits
//! for `/_matrix/client/versions`. Users are registered through the shared-secret admin API.
//! Dropping the value kills the server, also when a test panics. Startup takes ~2 s.
//!
//! Synapse ignores unknown `rc_*` keys silently, so the names below are the ones
//! `synapse/config/ratelimiting.py` reads (checked against 1.163).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The server name of every test homeserver: user ids are `@name:localhost`.
pub const SERVER_NAME: &str = "localhost";
const SHARED_SECRET: &str = "steward-test-shared-secret";
const READY_MARKER: &str = ".steward-ready";

/// A running Synapse. Killed on drop.
pub struct Synapse {
    child: Child,
    python: PathBuf,
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// How long `start` took (venv check, config, server start).
    pub startup: Duration,
    // Last: removed after `drop` has stopped the server.
    dir: tempfile::TempDir,
}

impl Synapse {
    /// Starts a fresh homeserver. Panics with the server log on failure.
    pub fn start() -> Synapse {
        let started = Instant::now();
        let venv = ensure_venv();
        let python = venv.join("bin/python");
        let dir = tempfile::Builder::new()
            .prefix("steward-synapse-")
            .tempdir()
            .expect("a temporary directory for Synapse");
        std::fs::write(dir.path().join("signing.key"), signing_key()).unwrap();
        let config = dir.path().join("homeserver.yaml");
        let log_path = dir.path().join("synapse.log");
        // Another process may take the port between our probe and Synapse's bind: retry.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            std::fs::write(&config, homeserver_yaml(dir.path(), port)).unwrap();
            let log = std::fs::File::create(&log_path).unwrap();
            let mut child = Command::new(&python)
                .args(["-m", "synapse.app.homeserver", "-c"])
                .arg(&config)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("cannot start Synapse");
            if wait_ready(&mut child, port, Duration::from_secs(90)) {
                return Synapse {
                    child,
                    python,
                    port,
                    url: format!("http://127.0.0.1:{port}"),
                    startup: started.elapsed(),
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        let tail: Vec<&str> = last_log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "Synapse did not start; last log lines:\n{}",
            tail.join("\n")
        );
    }

    /// The full user id for `localpart`.
    pub fn user_id(localpart: &str) -> String {
        format!("@{localpart}:{SERVER_NAME}")
    }

    /// Registers users (localpart, password, admin) through the shared-secret admin API, all in
    /// one Python process (it computes the HMAC-SHA1 the API wants).
    pub fn register(&self, users: &[(&str, &str, bool)]) {
        const SCRIPT: &str = r#"
import hmac, hashlib, json, sys, time, urllib.error, urllib.request
base, secret = sys.argv[1], sys.argv[2].encode()
def register(user, password, admin):
    with urllib.request.urlopen(base + "/_synapse/admin/v1/register") as r:
        nonce = json.load(r)["nonce"]
    mac = hmac.new(secret, digestmod=hashlib.sha1)
    mac.update(b"\x00".join(p.encode() for p in (nonce, user, password, "admin" if admin == "1" else "notadmin")))
    body = json.dumps({"nonce": nonce, "username": user, "password": password,
                       "admin": admin == "1", "mac": mac.hexdigest()}).encode()
    request = urllib.request.Request(base + "/_synapse/admin/v1/register", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        r.read()
for spec in sys.argv[3:]:
    user, password, admin = spec.split("\t")
    # Seen once under load: a 400. A nonce can expire or be consumed by a request that timed
    # out on our side but reached Synapse (then the user exists): try again with a fresh
    # nonce, and accept "already taken" on a retry; otherwise say what Synapse answered.
    for attempt in range(3):
        try:
            register(user, password, admin)
            break
        except urllib.error.HTTPError as error:
            answer = error.read().decode(errors="replace")
            if attempt > 0 and "M_USER_IN_USE" in answer:
                break
            if attempt == 2:
                sys.exit(f"registering {user}: HTTP {error.code}: {answer}")
            print(f"registering {user}: HTTP {error.code}: {answer}; trying again", file=sys.stderr)
            time.sleep(0.5)
"#;
        let specs = users
            .iter()
            .map(|(user, password, admin)| format!("{user}\t{password}\t{}", u8::from(*admin)));
        let output = Command::new(&self.python)
            .args(["-c", SCRIPT, &self.url, SHARED_SECRET])
            .args(specs)
            .output()
            .expect("cannot run the registration script");
        assert!(
            output.status.success(),
            "registering {users:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The server log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("synapse.log")).unwrap_or_default()
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The cached venv with Synapse, created on first use. A marker file is written only after a
/// complete install, so an interrupted install is redone rather than half-used.
fn ensure_venv() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let cache = std::env::var_os("STEWARD_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/steward")
        });
    let venv = cache.join("synapse-venv");
    if venv.join(READY_MARKER).is_file() {
        return venv;
    }
    let started = Instant::now();
    eprintln!(
        "synapse: installing matrix-synapse into {} (first run only)",
        venv.display()
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv).expect("cannot remove a half-made venv");
    }
    std::fs::create_dir_all(&cache).unwrap();
    run_checked(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    );
    run_checked(
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "matrix-synapse",
        ]),
        "pip install matrix-synapse",
    );
    std::fs::write(venv.join(READY_MARKER), b"ok\n").unwrap();
    eprintln!("synapse: installed in {:?}", started.elapsed());
    venv
}

fn run_checked(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|error| {
        panic!("{what}: cannot run: {error} (is python3 with venv and pip installed?)")
    });
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn homeserver_yaml(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    // Every rate limit Synapse applies to clients, opened wide: tests send bursts.
    let open = "{per_second: 1000, burst_count: 1000}";
    format!(
        r#"server_name: "{SERVER_NAME}"
pid_file: "{dir}/homeserver.pid"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{dir}/homeserver.db"
media_store_path: "{dir}/media_store"
signing_key_path: "{dir}/signing.key"
registration_shared_secret: "{SHARED_SECRET}"
macaroon_secret_key: "steward-test-macaroon"
form_secret: "steward-test-form"
report_stats: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
rc_message: {open}
rc_registration: {open}
rc_login:
  address: {open}
  account: {open}
  failed_attempts: {open}
rc_joins:
  local: {open}
  remote: {open}
rc_joins_per_room: {open}
rc_invites:
  per_room: {open}
  per_user: {open}
  per_issuer: {open}
rc_key_requests: {open}
rc_room_creation: {open}
rc_profile: {open}
rc_user_directory: {open}
rc_admin_redaction: {open}
"#
    )
}

/// An ed25519 signing key in Synapse's format ("ed25519 <key id> <unpadded base64 seed>"). Any
/// 32 bytes are a valid seed; they come from the OS random source.
fn signing_key() -> String {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .expect("/dev/urandom is readable");
    format!("ed25519 a_test {}\n", base64_unpadded(&seed))
}

fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free local port")
}

/// Polls `/_matrix/client/versions` until it answers 200, or the process exits.
fn wait_ready(child: &mut Child, port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if http_get(port, "/_matrix/client/versions").is_some_and(|(status, _)| status == 200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A minimal HTTP/1.1 GET on 127.0.0.1 (no client library needed); returns status and body.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())?;
    Some((status, body))
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64_unpadded(b"f"), "Zg");
    assert_eq!(base64_unpadded(b"fo"), "Zm8");
    assert_eq!(base64_unpadded(b"foo"), "Zm9v");
    assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
}
