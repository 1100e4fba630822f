//! Messages with files: a community report with its charts in a channel or thread, a member's
//! data export in a direct message. Each message is a multipart upload (`payload_json` and one
//! `files[n]` part per file) that pings nobody.
//!
//! Nothing is lost to Discord's limits: text longer than one message (2,000 characters) is split
//! first ([`split_message`]) and the files travel with the last part, after the text that
//! explains them; a message carries at most ten files, so any further ones follow in messages of
//! their own. The text is posted as given: the feature that wrote it made it safe (only it knows
//! which parts came from the model), as for every complete text (`delivery`).

use serenity::all::{ChannelId, CreateAttachment, CreateMessage, Http};

use super::conversion::post_channel;
use super::delivery::{mentions, MESSAGE_LIMIT};
use super::error::HandlerError;
use crate::core::{Attachment, Location};
use crate::platform::split::split_message;

/// Discord's most files on one message.
pub const FILES_PER_MESSAGE: usize = 10;

/// One message to post: its text (empty: files only) and its files.
#[derive(Debug, PartialEq, Eq)]
struct Part {
    text: String,
    files: Vec<Attachment>,
}

/// Posts `text` with `files` at `location` (its thread, if it names one).
pub(super) async fn post_at(
    http: &Http,
    location: &Location,
    text: &str,
    files: Vec<Attachment>,
) -> Result<(), HandlerError> {
    send(http, post_channel(location)?, text, files).await?;
    Ok(())
}

/// Posts `text` in `channel` with `files` attached, split as the module explains. Stops at the
/// first failed message (the error says which request failed).
pub(super) async fn send(
    http: &Http,
    channel: ChannelId,
    text: &str,
    files: Vec<Attachment>,
) -> Result<(), serenity::Error> {
    for part in parts(text, files) {
        let mut message = CreateMessage::new().allowed_mentions(mentions(false));
        // Discord rejects an empty `content`; a message of files alone simply has none.
        if !part.text.is_empty() {
            message = message.content(part.text);
        }
        for file in part.files {
            message = message.add_file(CreateAttachment::bytes(file.bytes, file.name));
        }
        channel.send_message(http, message).await?;
    }
    Ok(())
}

/// The messages that carry `text` and `files`, in order: the text's parts, the first ten files
/// with the last part, further files ten to a message. Empty text and no files: nothing.
fn parts(text: &str, files: Vec<Attachment>) -> Vec<Part> {
    let mut parts: Vec<Part> = split_message(text, MESSAGE_LIMIT)
        .into_iter()
        .map(|text| Part {
            text,
            files: Vec::new(),
        })
        .collect();
    let mut files = files.into_iter().peekable();
    let mut batches = Vec::new();
    while files.peek().is_some() {
        let batch: Vec<Attachment> = files.by_ref().take(FILES_PER_MESSAGE).collect();
        batches.push(batch);
    }
    let mut batches = batches.into_iter();
    if let Some(first) = batches.next() {
        if parts.is_empty() {
            // No text: the files still need a message to travel with.
            parts.push(Part {
                text: String::new(),
                files: Vec::new(),
            });
        }
        if let Some(last) = parts.last_mut() {
            last.files = first;
        }
    }
    parts.extend(batches.map(|files| Part {
        text: String::new(),
        files,
    }));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(name: &str) -> Attachment {
        Attachment {
            name: name.to_string(),
            mime: "image/png".to_string(),
            bytes: vec![0x89, b'P', b'N', b'G'],
        }
    }

    #[test]
    fn short_text_carries_every_file() {
        let files = vec![png("sentiment.png"), png("questions.png")];
        let parts = parts("Report: 12 messages", files.clone());
        assert_eq!(
            parts,
            [Part {
                text: "Report: 12 messages".into(),
                files
            }]
        );
    }

    #[test]
    fn long_text_is_split_and_the_files_go_with_the_last_part() {
        let paragraph = "word ".repeat(300); // 1,500 characters
        let text = format!("{paragraph}\n\n{paragraph}\n\n{paragraph}");
        let files = vec![png("a.png"), png("b.png")];
        let parts = parts(&text, files.clone());
        assert!(parts.len() >= 2, "{}", parts.len());
        let (last, earlier) = parts.split_last().unwrap();
        assert_eq!(last.files, files);
        assert!(earlier.iter().all(|part| part.files.is_empty()));
        assert!(parts
            .iter()
            .all(|part| part.text.chars().count() <= MESSAGE_LIMIT));
        let words: usize = parts
            .iter()
            .map(|part| part.text.split_whitespace().count())
            .sum();
        assert_eq!(words, 900, "no text is lost");
    }

    #[test]
    fn files_beyond_ten_follow_in_messages_of_their_own() {
        let files: Vec<Attachment> = (0..23).map(|n| png(&format!("{n}.png"))).collect();
        let parts = parts("three messages", files.clone());
        let counts: Vec<usize> = parts.iter().map(|part| part.files.len()).collect();
        assert_eq!(counts, [10, 10, 3]);
        assert_eq!(parts[0].text, "three messages");
        assert!(parts[1..].iter().all(|part| part.text.is_empty()));
        let sent: Vec<Attachment> = parts.into_iter().flat_map(|part| part.files).collect();
        assert_eq!(sent, files, "every file, in order");
    }

    #[test]
    fn files_without_text_still_get_a_message_and_nothing_gives_none() {
        let parts_of_file = parts("  ", vec![png("export.png")]);
        assert_eq!(
            parts_of_file,
            [Part {
                text: String::new(),
                files: vec![png("export.png")]
            }]
        );
        assert!(parts("", Vec::new()).is_empty());
        let text_only = parts("just text", Vec::new());
        assert_eq!(text_only.len(), 1);
        assert!(text_only[0].files.is_empty());
    }
}
