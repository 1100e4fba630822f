//! A private PostgreSQL cluster for tests, started from the machine's PostgreSQL binaries.
//!
//! [`PgCluster::start`] runs `initdb` (trust auth) in a temporary directory, starts the server
//! on 127.0.0.1 at a free port with its socket inside that directory, and creates a database.
//! Dropping the cluster stops the server (`pg_ctl stop -m fast`), also when a test panics.
//!
//! The binaries come from `$STEWARD_PG_BIN`, else `pg_config --bindir`, else
//! `/usr/lib/postgresql/15/bin`. If they are missing the test fails: a store suite that
//! silently skips PostgreSQL would hide breakage. `initdb` refuses to run as root, so as root
//! every PostgreSQL command runs as the `postgres` system user, which owns the directory.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const FALLBACK_BIN: &str = "/usr/lib/postgresql/15/bin";
const SUPERUSER: &str = "steward";
const SYSTEM_USER: &str = "postgres";

/// A running private PostgreSQL server. Stopped on drop.
pub struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    /// Run commands as the `postgres` system user (we are root).
    as_postgres: bool,
    /// How long `start` took, from `initdb` to a created database.
    pub startup: Duration,
    // Last: removed after `drop` has stopped the server.
    dir: tempfile::TempDir,
}

impl PgCluster {
    /// Starts a cluster with one database, `database`. Panics with a clear message on failure.
    pub fn start(database: &str) -> PgCluster {
        let started = Instant::now();
        let bin = find_bin_dir();
        let as_postgres = running_as_root();

        let dir = tempfile::Builder::new()
            .prefix("steward-pg-")
            .tempdir()
            .expect("cannot create a temporary directory for PostgreSQL");
        if as_postgres {
            chown_to_postgres(dir.path());
        }
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");

        let mut cluster = PgCluster {
            bin,
            data,
            log,
            port: 0,
            as_postgres,
            startup: Duration::ZERO,
            dir,
        };

        let data = cluster.data.display().to_string();
        cluster.run_checked(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );

        // Another process may take the port between our probe and the server's bind: retry.
        let mut last_failure = String::new();
        for _ in 0..3 {
            cluster.port = free_port();
            let server_options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off",
                cluster.port,
                cluster.dir.path().display()
            );
            let log = cluster.log.display().to_string();
            let output = cluster.run(
                "pg_ctl",
                &[
                    "-D",
                    &data,
                    "-l",
                    &log,
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &server_options,
                    "start",
                ],
            );
            if output.status.success() {
                last_failure.clear();
                break;
            }
            last_failure = describe("pg_ctl start", &output);
        }
        if !last_failure.is_empty() {
            let log = std::fs::read_to_string(&cluster.log).unwrap_or_default();
            panic!("cannot start PostgreSQL: {last_failure}\nserver log:\n{log}");
        }

        let port = cluster.port.to_string();
        cluster.run_checked(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, database],
        );
        cluster.startup = started.elapsed();
        cluster
    }

    /// A URL for `database` on this cluster. `password` is ignored by the server (trust auth)
    /// and only lets tests check that it never shows up in messages.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:not-a-secret@127.0.0.1:{}/{database}",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs a PostgreSQL binary (as the `postgres` user when we are root).
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", SYSTEM_USER, "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        command.args(args).current_dir(self.dir.path());
        command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
    }

    fn run_checked(&self, program: &str, args: &[&str]) {
        let output = self.run(program, args);
        if !output.status.success() {
            panic!("{}", describe(program, &output));
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.port == 0 {
            return;
        }
        let data = self.data.display().to_string();
        let output = self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
        if !output.status.success() {
            eprintln!("warning: {}", describe("pg_ctl stop", &output));
        }
    }
}

/// The directory with `initdb` and `pg_ctl`; panics (failing the test) if there is none.
fn find_bin_dir() -> PathBuf {
    let mut tried = Vec::new();
    if let Some(dir) = std::env::var_os("STEWARD_PG_BIN") {
        let dir = PathBuf::from(dir);
        if has_server_binaries(&dir) {
            return dir;
        }
        tried.push(format!("$STEWARD_PG_BIN={}", dir.display()));
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server_binaries(&dir) {
            return dir;
        }
        tried.push(format!("pg_config --bindir ({})", dir.display()));
    }
    let dir = PathBuf::from(FALLBACK_BIN);
    if has_server_binaries(&dir) {
        return dir;
    }
    tried.push(FALLBACK_BIN.to_owned());
    panic!(
        "PostgreSQL server binaries (initdb, pg_ctl, createdb) not found; tried {}. \
         Install PostgreSQL (e.g. apt-get install postgresql-15) or set STEWARD_PG_BIN.",
        tried.join(", ")
    );
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "createdb"]
        .iter()
        .all(|program| dir.join(program).is_file())
}

fn running_as_root() -> bool {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .expect("cannot run `id -u`");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

fn chown_to_postgres(path: &Path) {
    let id = |flag: &str| -> u32 {
        let output = Command::new("id")
            .args([flag, SYSTEM_USER])
            .output()
            .expect("cannot run `id`");
        assert!(
            output.status.success(),
            "running as root, but there is no `{SYSTEM_USER}` system user to run PostgreSQL as"
        );
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("`id` printed a non-number")
    };
    std::os::unix::fs::chown(path, Some(id("-u")), Some(id("-g")))
        .unwrap_or_else(|e| panic!("cannot chown {} to {SYSTEM_USER}: {e}", path.display()));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("cannot find a free TCP port")
        .port()
}

fn describe(what: &str, output: &Output) -> String {
    format!(
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
