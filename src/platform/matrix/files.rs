//! Posts with files, and files on their own: a community report (its text, then each chart) in
//! the room (or thread) it was asked for, a member's data export in a direct chat.
//!
//! The text goes first, as Steward's other posts do (Markdown made safe by `format`), as a
//! notice: it is Steward's own post, and bots do not answer notices. Then each file is uploaded
//! and sent with `Room::send_attachment`, which encrypts the media first in an encrypted room:
//! an image (`image/*`) becomes an `m.image` with its media type, size and, for a PNG, its width
//! and height (read from the IHDR header) so clients lay it out before downloading it; anything
//! else becomes an `m.file`. In a thread, the files follow the text into it.

use std::str::FromStr;

use matrix_sdk::attachment::{AttachmentConfig, AttachmentInfo, BaseFileInfo, BaseImageInfo};
use matrix_sdk::room::reply::{EnforceThread, Reply};
use matrix_sdk::ruma::events::room::message::{AddMentions, ReplyWithinThread};
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::{EventId, UInt};
use matrix_sdk::Room;

use super::send::{event_id_str, post_new, room_of, Target};
use super::Adapter;
use crate::core::{Attachment, Location};

/// The media type of a file whose own type does not parse.
const FALLBACK_MIME: &str = "application/octet-stream";

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// Posts `text`, then each of `files`, at `location` (inside its thread, if it names one).
pub(super) async fn post_with_files(
    adapter: &Adapter,
    location: &Location,
    text: &str,
    files: Vec<Attachment>,
) -> Result<(), matrix_sdk::Error> {
    let Some(room) = room_of(adapter, location) else {
        return Ok(());
    };
    let thread = location
        .thread
        .as_ref()
        .and_then(|thread| event_id_str(thread.as_str()));
    if !text.trim().is_empty() {
        let target = Target {
            room: room.clone(),
            thread: thread.clone(),
            in_reply_to: None,
            mention: None,
            notice: true,
        };
        post_new(adapter, &target, text).await?;
    }
    for file in files {
        send_file(&room, file, thread.as_deref()).await?;
    }
    Ok(())
}

/// Uploads `file` into `room` as an `m.image` (an image type) or an `m.file` (anything else),
/// inside `thread` if given; the SDK encrypts it first in an encrypted room. It mentions nobody.
pub(super) async fn send_file(
    room: &Room,
    file: Attachment,
    thread: Option<&EventId>,
) -> Result<(), matrix_sdk::Error> {
    // The SDK's media type is `mime::Mime`, inferred here from `send_attachment`: Steward has
    // no other use for the `mime` crate.
    let Some((mime, image)) = media_type(&file.mime) else {
        return Ok(()); // Unreachable: the fallback parses.
    };
    let size = UInt::new(file.bytes.len() as u64);
    let info = if image {
        let (width, height) = png_size(&file.bytes).map_or((None, None), |(width, height)| {
            (Some(UInt::from(width)), Some(UInt::from(height)))
        });
        AttachmentInfo::Image(BaseImageInfo {
            width,
            height,
            size,
            ..BaseImageInfo::default()
        })
    } else {
        AttachmentInfo::File(BaseFileInfo { size })
    };
    let mut config = AttachmentConfig::new()
        .info(info)
        .mentions(Some(Mentions::new()));
    if let Some(root) = thread {
        // A reply "within the thread" to its root, not to the root itself: the plain thread
        // relation, as the text before it has.
        config = config.reply(Some(Reply {
            event_id: root.to_owned(),
            enforce_thread: EnforceThread::Threaded(ReplyWithinThread::No),
            add_mentions: AddMentions::No,
        }));
    }
    room.send_attachment(file.name, &mime, file.bytes, config)
        .await?;
    Ok(())
}

/// `text` as a media type, and whether it is an image's; the generic binary type (not an image)
/// when it does not parse.
fn media_type<M: FromStr>(text: &str) -> Option<(M, bool)> {
    let text = text.trim();
    match text.parse::<M>() {
        Ok(parsed) => Some((parsed, text.to_ascii_lowercase().starts_with("image/"))),
        Err(_) => FALLBACK_MIME
            .parse::<M>()
            .ok()
            .map(|parsed| (parsed, false)),
    }
}

/// A PNG's width and height in pixels: the first chunk is IHDR, whose data starts with both as
/// big-endian 32-bit numbers (bytes 16..24). `None` for anything else, or a zero size.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..8)? != PNG_SIGNATURE || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let number = |at: usize| -> Option<u32> {
        let four: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(four))
    };
    let (width, height) = (number(16)?, number(20)?);
    (width > 0 && height > 0).then_some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 33 bytes of a PNG: signature, then the IHDR chunk (length 13).
    fn png_head(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = PNG_SIGNATURE.to_vec();
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn png_size_reads_the_header() {
        assert_eq!(png_size(&png_head(1000, 500)), Some((1000, 500)));
        assert_eq!(png_size(&png_head(1, 70_000)), Some((1, 70_000)));
        assert_eq!(png_size(&png_head(0, 500)), None);
        assert_eq!(png_size(&png_head(1000, 500)[..20]), None, "truncated");
        assert_eq!(png_size(b"GIF89a........................."), None);
        let mut not_ihdr = png_head(1000, 500);
        not_ihdr[12..16].copy_from_slice(b"tEXt");
        assert_eq!(png_size(&not_ihdr), None);
        assert_eq!(png_size(&[]), None);
    }

    #[test]
    fn media_types_and_images() {
        let kind = |text: &str| media_type::<String>(text).map(|(_, image)| image);
        assert_eq!(kind("image/png"), Some(true));
        assert_eq!(kind(" Image/PNG "), Some(true));
        assert_eq!(kind("application/json"), Some(false));
        // A type that reads neither the text nor the fallback: no media type at all.
        assert!(media_type::<u8>("image/png").is_none());
    }
}
