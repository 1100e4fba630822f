//! The double's gateway: a websocket server speaking Discord's gateway protocol v10 with JSON
//! text frames. HELLO with a heartbeat interval; IDENTIFY (token checked, else close 4004) ->
//! READY and one GUILD_CREATE per configured guild (or close 4014 when the message content
//! intent is "not enabled in the portal"); every heartbeat is ACKed; dispatches the
//! test injects are sent with increasing sequence numbers.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::payloads::{self, BOT};
use super::State;

/// The privileged MESSAGE_CONTENT intent bit.
const MESSAGE_CONTENT: u64 = 1 << 15;

pub async fn serve(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(session(stream, state.clone()));
    }
}

async fn session(stream: TcpStream, state: Arc<State>) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": state.heartbeat_interval_ms}});
    if sink.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    let (outgoing, mut queue) = mpsc::unbounded_channel::<Value>();
    loop {
        tokio::select! {
            incoming = source.next() => {
                let payload = match incoming {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<Value>(&text) {
                        Ok(payload) => payload,
                        Err(_) => continue,
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                state.received_from_bot(payload.clone());
                match payload["op"].as_u64() {
                    Some(1) => {
                        // A heartbeat: ACK it, or serenity reconnects.
                        let ack = Message::Text(json!({"op": 11}).to_string());
                        if sink.send(ack).await.is_err() {
                            break;
                        }
                    }
                    Some(2) => {
                        let token = payload["d"]["token"].as_str().unwrap_or_default();
                        if token.trim_start_matches("Bot ") != state.token {
                            let close = CloseFrame {
                                code: CloseCode::from(4004),
                                reason: "Authentication failed.".into(),
                            };
                            let _ = sink.send(Message::Close(Some(close))).await;
                            break;
                        }
                        let intents = payload["d"]["intents"].as_u64().unwrap_or(0);
                        if state.refuse_message_content && intents & MESSAGE_CONTENT != 0 {
                            let close = CloseFrame {
                                code: CloseCode::from(4014),
                                reason: "Disallowed intent(s).".into(),
                            };
                            let _ = sink.send(Message::Close(Some(close))).await;
                            break;
                        }
                        for (name, data) in identified(&state, &payload["d"]) {
                            let _ = outgoing.send(state.frame(name, data));
                        }
                        state.connected(outgoing.clone());
                    }
                    _ => {}
                }
            }
            Some(frame) = queue.recv() => {
                if sink.send(Message::Text(frame.to_string())).await.is_err() {
                    break;
                }
            }
        }
    }
    state.disconnected();
}

/// READY, then a GUILD_CREATE for each configured guild.
fn identified(state: &State, identify: &Value) -> Vec<(&'static str, Value)> {
    let ready_guilds: Vec<Value> = state
        .ready_guilds
        .iter()
        .map(|id| json!({"id": id.to_string(), "unavailable": true}))
        .collect();
    let ready = json!({
        "v": 10, "user": payloads::bot_user(), "guilds": ready_guilds,
        "session_id": "session-1", "resume_gateway_url": state.gateway_url,
        "shard": identify["shard"], "application": {"id": BOT.to_string(), "flags": 0}
    });
    let mut frames = vec![("READY", ready)];
    frames.extend(
        state
            .guilds
            .iter()
            .map(|guild| ("GUILD_CREATE", guild.clone())),
    );
    frames
}
