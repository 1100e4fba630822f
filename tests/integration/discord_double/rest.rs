//! The double's REST endpoint: a small HTTP/1.1 server (keep-alive, `Content-Length` bodies,
//! JSON or multipart with files) that records every request and answers the routes Steward
//! uses with Discord API v10 shapes (messages, interactions, member actions, and the guild,
//! member, channel and history lookups).
//! A wrong `Authorization` header gets Discord's 401; unknown routes get a 404 Discord error.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::payloads::{self, BOT};
use super::{multipart, FaultReply, Recorded, State};

pub async fn serve(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, state.clone()));
    }
}

/// One parsed request.
struct Request {
    method: String,
    target: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

async fn connection(mut stream: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buffer).await {
        let path = request.target.split('?').next().unwrap_or_default();
        let fault = state.take_fault(&request.method, path);
        let (status, body) = match fault {
            Some(FaultReply::Status(status, body)) => {
                state.record_only(&request.method, &request.target, &request.body);
                (status, body.to_string())
            }
            Some(FaultReply::Stall) => {
                state.record_only(&request.method, &request.target, &request.body);
                // A server that accepted the request and never answers.
                std::future::pending::<()>().await;
                unreachable!()
            }
            // The request is served (a message is created), but the answer cannot be read.
            Some(FaultReply::Garbage) => {
                answer(&state, request);
                (200, "<html>internal proxy page</html>".to_string())
            }
            None => {
                let (status, body) = answer(&state, request);
                (status, body.map(|b| b.to_string()).unwrap_or_default())
            }
        };
        let reason = match status {
            200 => "OK",
            204 => "No Content",
            401 => "Unauthorized",
            500 => "Internal Server Error",
            _ => "Not Found",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(body.as_bytes()).await.is_err()
        {
            return;
        }
    }
}

/// Reads one request from `stream`; `None` at EOF. Leftover bytes stay in `buffer`.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (
        request_line.next()?.to_string(),
        request_line.next()?.to_string(),
    );
    let mut length = 0;
    let mut authorization = None;
    let mut content_type = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => authorization = Some(value.trim().to_string()),
            "content-type" => content_type = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    Some(Request {
        method,
        target,
        authorization,
        content_type,
        body,
    })
}

/// Records `request` and decides the answer: (status, JSON body).
fn answer(state: &State, request: Request) -> (u16, Option<Value>) {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (request.target.clone(), String::new()),
    };
    // A message with files comes as multipart: its JSON is the `payload_json` part.
    let parts = request
        .content_type
        .as_deref()
        .and_then(|kind| multipart::parse(kind, &request.body));
    let (body, files) = match parts {
        Some((payload, files)) => (payload, files),
        None => (
            serde_json::from_slice(&request.body).unwrap_or(Value::Null),
            Vec::new(),
        ),
    };
    let authorized = request.authorization.as_deref() == Some(&format!("Bot {}", state.token));
    let limit = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("limit="))
        .and_then(|limit| limit.parse::<usize>().ok())
        .unwrap_or(50)
        .min(100);
    state.record(Recorded {
        method: request.method.clone(),
        path: path.clone(),
        query,
        body: body.clone(),
        files,
        authorized,
    });
    if !authorized {
        return (
            401,
            Some(json!({"message": "401: Unauthorized", "code": 0})),
        );
    }
    let route = path.strip_prefix("/api/v10").unwrap_or(&path);
    let segments: Vec<&str> = route.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => (200, Some(json!({"url": state.gateway_url}))),
        ("GET", ["gateway", "bot"]) => (
            200,
            Some(json!({"url": state.gateway_url, "shards": 1,
                        "session_start_limit": {"total": 1000, "remaining": 999,
                                                "reset_after": 0, "max_concurrency": 1}})),
        ),
        ("GET", ["users", "@me"]) => (200, Some(payloads::bot_user())),
        ("GET", ["applications", "@me"]) => (200, Some(payloads::application())),
        ("PUT", ["applications", _, "guilds", guild, "commands"]) => {
            let first = state.new_id();
            (
                200,
                Some(payloads::registered_commands(&body, guild, first)),
            )
        }
        ("POST", ["channels", channel, "messages"]) => {
            (200, Some(state.store_message(channel, None, &body)))
        }
        ("PATCH", ["channels", channel, "messages", id]) => {
            (200, Some(state.edit_message(channel, id, &body)))
        }
        ("DELETE", ["channels", _, "messages", _]) => (204, None),
        // History, newest first (catch-up reads it at start).
        ("GET", ["channels", channel, "messages"]) => {
            (200, Some(Value::Array(state.history(channel, limit))))
        }
        ("PUT", ["channels", _, "messages", _, "reactions", _, "@me"]) => (204, None),
        ("POST", ["channels", channel, "messages", _, "threads"]) => {
            let id = state.new_id();
            let name = body["name"].as_str().unwrap_or("thread");
            let parent = channel.parse().unwrap_or(0);
            (
                200,
                Some(payloads::thread(id, payloads::GUILD, parent, name)),
            )
        }
        ("GET", ["channels", channel]) => match state.channel(channel) {
            Some(found) => (200, Some(found)),
            None => (
                404,
                Some(json!({"message": "Unknown Channel", "code": 10003})),
            ),
        },
        ("POST", ["interactions", _, token, "callback"]) => {
            // Type 4 answers with a message: it becomes the interaction's `@original`.
            if body["type"] == 4 {
                state.store_original(token, &body["data"]);
            }
            (204, None)
        }
        ("POST", ["webhooks", _, token]) => {
            let webhook = format!("webhook:{token}");
            (200, Some(state.store_message(&webhook, Some(BOT), &body)))
        }
        ("PATCH", ["webhooks", _, token, "messages", id]) => {
            let webhook = format!("webhook:{token}");
            (200, Some(state.edit_message(&webhook, id, &body)))
        }
        // A response or follow-up removed (a deferred "thinking…" the answer made moot).
        ("DELETE", ["webhooks", _, _, "messages", _]) => (204, None),
        ("PATCH", ["guilds", _, "members", user]) => {
            let until = body
                .get("communication_disabled_until")
                .cloned()
                .unwrap_or(Value::Null);
            (
                200,
                Some(payloads::member(user.parse().unwrap_or(0), &until)),
            )
        }
        ("DELETE", ["guilds", _, "members", _])
        | ("PUT", ["guilds", _, "bans", _])
        | ("DELETE", ["guilds", _, "bans", _]) => (204, None),
        ("GET", ["guilds", guild]) => match state.guild(guild) {
            Some(found) => (200, Some(found)),
            None => (
                404,
                Some(json!({"message": "Unknown Guild", "code": 10004})),
            ),
        },
        ("GET", ["guilds", guild, "roles"]) => match state.guild(guild) {
            Some(found) => (200, Some(found["roles"].clone())),
            None => (
                404,
                Some(json!({"message": "Unknown Guild", "code": 10004})),
            ),
        },
        ("GET", ["guilds", guild, "members", user]) => match state.member(guild, user) {
            Some(found) => (200, Some(found)),
            None => (
                404,
                Some(json!({"message": "Unknown Member", "code": 10007})),
            ),
        },
        ("POST", ["users", "@me", "channels"]) => {
            let recipient = body["recipient_id"].as_str().and_then(|r| r.parse().ok());
            (
                200,
                Some(payloads::dm_channel(state.new_id(), recipient.unwrap_or(0))),
            )
        }
        _ => (404, Some(json!({"message": "404: Not Found", "code": 0}))),
    }
}
