//! The console adapter: a terminal chat that acts as one channel of one community.
//!
//! Plain lines are member messages; lines starting with `/` are commands (`/ask`, `/help`,
//! `/quit`). It reads any async line source, so piped input works and ends at EOF. A file sent
//! privately (a data export) is written to a directory of its own (`files`) and its path shown.

mod files;
mod parse;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::community::Router;
use crate::core::{Action, Body, Platform, Role, TextStream, TextStreamItem};
pub use parse::{parse_line, ConsoleContext, Line};

/// How the console session presents itself.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    pub bot_name: String,
    pub user: String,
    pub role: Role,
    pub community: String,
    pub channel: String,
    /// Print a prompt and let Ctrl-C cancel an answer (a terminal, not a pipe).
    pub interactive: bool,
}

/// What a session did, for benchmarks and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleSummary {
    pub lines: usize,
    pub answers: usize,
    pub generated_tokens: usize,
}

/// Runs the console until `/quit`, EOF, or Ctrl-C at the prompt.
pub async fn run(
    router: &Router,
    options: &ConsoleOptions,
    input: impl AsyncBufRead + Unpin,
    output: &mut (impl AsyncWrite + Unpin),
) -> io::Result<ConsoleSummary> {
    let context = ConsoleContext {
        user: options.user.clone(),
        role: options.role,
        community: options.community.clone(),
        channel: options.channel.clone(),
    };
    let counter = AtomicU64::new(0);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let mut summary = ConsoleSummary::default();
    let mut lines = input.lines();
    // Verdicts of queued reviews arrive while the console waits for input.
    let mut background = router.subscribe(Platform::Console);
    loop {
        if options.interactive {
            output.write_all(b"> ").await?;
            output.flush().await?;
        }
        let next = loop {
            tokio::select! {
                line = lines.next_line() => break line?,
                _ = tokio::signal::ctrl_c(), if options.interactive => break None,
                Some(action) = background.recv() => {
                    execute(action, options, output, &mut summary).await?;
                }
            }
        };
        let Some(line) = next else { break };
        summary.lines += 1;
        // Unique across runs: the store keeps messages (and which were answered) by id.
        let id = format!(
            "console-{run}-{}",
            counter.fetch_add(1, Ordering::Relaxed) + 1
        );
        match parse_line(&line, &context, id) {
            Line::Empty => {}
            Line::Quit => break,
            Line::Local(text) => write_line(output, &text).await?,
            Line::Event(event) => {
                for action in router.handle(*event).await {
                    execute(action, options, output, &mut summary).await?;
                }
            }
        }
    }
    output.flush().await?;
    Ok(summary)
}

async fn execute(
    action: Action,
    options: &ConsoleOptions,
    output: &mut (impl AsyncWrite + Unpin),
    summary: &mut ConsoleSummary,
) -> io::Result<()> {
    let bot = &options.bot_name;
    match action {
        Action::Reply(reply) => {
            render_body(reply.body, bot, options.interactive, output, summary).await
        }
        Action::ReplyInThread {
            body, thread_name, ..
        } => {
            write_line(output, &format!("[{bot} opened thread \"{thread_name}\"]")).await?;
            render_body(body, bot, options.interactive, output, summary).await
        }
        Action::EditOwn { text, .. } => {
            write_line(output, &format!("{bot} (edited): {text}")).await
        }
        Action::React { emoji, message, .. } => {
            write_line(output, &format!("[{bot} reacted {emoji} to {message}]")).await
        }
        Action::DeleteMessage {
            message, reason, ..
        } => write_line(output, &format!("[{bot} deleted {message}: {reason}]")).await,
        Action::TimeoutMember {
            user,
            duration,
            reason,
            ..
        } => {
            let secs = duration.as_secs();
            write_line(
                output,
                &format!("[{bot} timed out {user} for {secs}s: {reason}]"),
            )
            .await
        }
        Action::RemoveMember {
            user, ban, reason, ..
        } => {
            let verb = if ban { "banned" } else { "kicked" };
            write_line(output, &format!("[{bot} {verb} {user}: {reason}]")).await
        }
        Action::LiftTimeout { user, reason, .. } => {
            write_line(
                output,
                &format!("[{bot} lifted the timeout of {user}: {reason}]"),
            )
            .await
        }
        Action::LiftBan { user, reason, .. } => {
            write_line(
                output,
                &format!("[{bot} lifted the ban of {user}: {reason}]"),
            )
            .await
        }
        Action::PostToModLog { text, .. } => write_line(output, &format!("[mod log] {text}")).await,
        Action::PostWithFiles {
            text, attachments, ..
        } => {
            let mut lines = vec![text];
            for file in &attachments {
                lines.push(match files::save(file) {
                    Ok(path) => format!("(file: {})", path.display()),
                    Err(error) => format!("(file {:?} not saved: {error})", file.name),
                });
            }
            write_line(output, &lines.join("\n")).await
        }
        Action::PrivateNotice {
            user,
            text,
            attachment,
            ..
        } => {
            let line = match attachment {
                None => format!("[private to {user}] {text}"),
                Some(file) => match files::save(&file) {
                    Ok(path) => {
                        format!("[private to {user}] {text} (file: {})", path.display())
                    }
                    Err(error) => format!(
                        "[private to {user}] {text} (file {:?} not saved: {error})",
                        file.name
                    ),
                },
            };
            write_line(output, &line).await
        }
    }
}

async fn render_body(
    body: Body,
    bot: &str,
    interactive: bool,
    output: &mut (impl AsyncWrite + Unpin),
    summary: &mut ConsoleSummary,
) -> io::Result<()> {
    match body {
        Body::Text(text) => write_line(output, &format!("{bot}: {text}")).await,
        Body::Streaming(stream) => {
            output.write_all(format!("{bot}: ").as_bytes()).await?;
            output.flush().await?;
            stream_to(stream, interactive, output, summary).await
        }
    }
}

/// Prints deltas as they arrive. In a terminal, Ctrl-C drops the stream, which cancels the
/// generation.
async fn stream_to(
    stream: TextStream,
    interactive: bool,
    output: &mut (impl AsyncWrite + Unpin),
    summary: &mut ConsoleSummary,
) -> io::Result<()> {
    let mut stream = stream.0;
    let mut wrote_text = false;
    loop {
        let item = if interactive {
            tokio::select! {
                item = stream.next() => item,
                _ = tokio::signal::ctrl_c() => {
                    output.write_all(b" [cancelled]\n").await?;
                    return Ok(());
                }
            }
        } else {
            stream.next().await
        };
        match item {
            Some(TextStreamItem::Delta(text)) => {
                // Models often start with whitespace; it looks odd after "Steward: ".
                let text = if wrote_text {
                    text.as_str()
                } else {
                    text.trim_start()
                };
                wrote_text |= !text.is_empty();
                output.write_all(text.as_bytes()).await?;
                output.flush().await?;
            }
            Some(TextStreamItem::Finished { tokens }) => {
                summary.answers += 1;
                summary.generated_tokens += tokens;
            }
            Some(TextStreamItem::Failed(message)) => {
                let separator = if wrote_text { " " } else { "" };
                output
                    .write_all(format!("{separator}[{message}]").as_bytes())
                    .await?;
            }
            None => break,
        }
    }
    output.write_all(b"\n").await?;
    output.flush().await
}

async fn write_line(output: &mut (impl AsyncWrite + Unpin), text: &str) -> io::Result<()> {
    output.write_all(text.as_bytes()).await?;
    output.write_all(b"\n").await?;
    output.flush().await
}
