//! `multipart/form-data` bodies as Discord takes them for messages with files: the message's
//! JSON in the `payload_json` part, each file in a `files[n]` part with its file name and
//! content type (RFC 7578; Discord's "Uploading Files").

use serde_json::Value;

/// One file part of a request.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The form field, e.g. `files[0]`.
    pub field: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// The `payload_json` part (parsed; `Null` without one) and the file parts of `body`, when
/// `content_type` is `multipart/form-data` with a boundary; `None` otherwise.
pub fn parse(content_type: &str, body: &[u8]) -> Option<(Value, Vec<Upload>)> {
    let mut params = content_type.split(';').map(str::trim);
    if !params.next()?.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .find_map(|param| param.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let starts = positions(body, &delimiter);
    let mut payload = Value::Null;
    let mut uploads = Vec::new();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n")?;
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let head_end = positions(part, b"\r\n\r\n").first().copied()?;
        let head = String::from_utf8_lossy(&part[..head_end]).into_owned();
        let data = &part[head_end + 4..];
        let (mut field, mut filename, mut kind) = (None, None, None);
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for param in value.split(';').map(str::trim) {
                        if let Some(name) = param.strip_prefix("name=") {
                            field = Some(name.trim_matches('"').to_string());
                        } else if let Some(name) = param.strip_prefix("filename=") {
                            filename = Some(name.trim_matches('"').to_string());
                        }
                    }
                }
                "content-type" => kind = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let field = field?;
        if field == "payload_json" {
            payload = serde_json::from_slice(data).ok()?;
        } else {
            uploads.push(Upload {
                field,
                filename,
                content_type: kind,
                bytes: data.to_vec(),
            });
        }
    }
    Some((payload, uploads))
}

/// Where `needle` starts in `haystack`, in order.
fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return Vec::new();
    }
    (0..=haystack.len() - needle.len())
        .filter(|&at| &haystack[at..at + needle.len()] == needle)
        .collect()
}

#[test]
fn a_message_with_a_file_parses() {
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"files[0]\"; \
                 filename=\"export.json\"\r\nContent-Type: application/json\r\n\r\n\
                 {\"a\": 1}\r\n--XyZ\r\nContent-Disposition: form-data; \
                 name=\"payload_json\"\r\n\r\n{\"content\": \"hi\"}\r\n--XyZ--\r\n";
    let (payload, uploads) = parse("multipart/form-data; boundary=XyZ", body).unwrap();
    assert_eq!(payload["content"], "hi");
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].field, "files[0]");
    assert_eq!(uploads[0].filename.as_deref(), Some("export.json"));
    assert_eq!(uploads[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(uploads[0].bytes, b"{\"a\": 1}");
    assert!(parse("application/json", b"{}").is_none());
}
