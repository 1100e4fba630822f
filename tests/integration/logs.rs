//! The test binary's log lines, captured, for tests that promise a diagnosable log line. One
//! subscriber serves the whole process (tests run in parallel, on many threads), so each test
//! looks for text only it can produce (its own ids, codes or routes).

use std::io;
use std::sync::{Mutex, Once};
use std::time::Duration;

static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        CAPTURED.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Starts capturing (once per process): Steward's info lines and everyone's warnings.
pub fn capture() {
    static START: Once = Once::new();
    START.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::new("warn,steward=info");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(|| Capture)
            .try_init();
    });
}

/// The captured lines that contain every one of `needles`.
pub fn lines_with(needles: &[&str]) -> Vec<String> {
    let captured = CAPTURED.lock().unwrap();
    String::from_utf8_lossy(&captured)
        .lines()
        .filter(|line| needles.iter().all(|needle| line.contains(needle)))
        .map(str::to_string)
        .collect()
}

/// Waits up to `within` for a line containing every one of `needles`.
pub async fn wait_for_line(needles: &[&str], within: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(line) = lines_with(needles).into_iter().next() {
            return Some(line);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
