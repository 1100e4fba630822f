//! A local Discord protocol double: a gateway websocket and a REST endpoint on 127.0.0.1, so
//! the Discord adapter runs unchanged (serenity pointed at it through `api_base_url` and
//! `gateway_url`). Tests inject gateway dispatches and read every REST request back (a message
//! with files as its `payload_json` and its files). The REST side also serves what the adapter
//! looks up: guilds, members (for permission and rank checks), channels and channel history
//! (for catch-up).

pub mod gateway;
pub mod multipart;
pub mod payloads;
pub mod rest;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

/// The bot token the double accepts.
pub const TOKEN: &str = "MTIz.double.token";

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Without the query string, e.g. `/api/v10/channels/300/messages`.
    pub path: String,
    pub query: String,
    /// The JSON body (`Null` when empty); of a multipart request, its `payload_json`.
    pub body: Value,
    /// The files of a multipart request (a message with attachments).
    pub files: Vec<multipart::Upload>,
    pub authorized: bool,
}

/// A message the bot posted, with every version of its content.
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: String,
    /// A channel id, or `webhook:{token}` for interaction responses and follow-ups.
    pub channel: String,
    pub versions: Vec<Value>,
}

impl Posted {
    pub fn content(&self) -> &str {
        self.versions
            .last()
            .and_then(|v| v["content"].as_str())
            .unwrap_or_default()
    }
}

/// A scripted failure of the REST side: the next `times` requests with `method` whose path ends
/// with `path_suffix` get `reply` instead of the normal answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path_suffix: String,
    pub times: usize,
    pub reply: FaultReply,
}

#[derive(Debug, Clone)]
pub enum FaultReply {
    /// This status and JSON body (a Discord error object); nothing is done.
    Status(u16, Value),
    /// The request is served (a posted message is created), but the answer is not JSON.
    Garbage,
    /// No answer at all: the connection stays open and silent.
    Stall,
}

/// What the double was told to serve, and what it saw.
pub struct State {
    pub token: String,
    pub gateway_url: String,
    pub heartbeat_interval_ms: u64,
    /// Guilds listed (unavailable) in READY: known to the bot from before.
    pub ready_guilds: Vec<u64>,
    /// GUILD_CREATE payloads sent right after READY.
    pub guilds: Vec<Value>,
    /// Close with 4014 when the bot asks for the message content intent.
    pub refuse_message_content: bool,
    /// Guild members served by `GET /guilds/{g}/members/{u}`, by (guild, user).
    members: Mutex<HashMap<(u64, u64), Value>>,
    /// Channel history served by `GET /channels/{c}/messages`, by channel.
    history: HashMap<u64, Vec<Value>>,
    next_id: AtomicU64,
    seq: AtomicU64,
    requests: Mutex<Vec<Recorded>>,
    from_bot: Mutex<Vec<Value>>,
    posted: Mutex<Vec<Posted>>,
    session: Mutex<Option<UnboundedSender<Value>>>,
    faults: Mutex<Vec<Fault>>,
    /// Messages the bot posted in channels, as REST returns them (channel history includes
    /// them).
    created: Mutex<Vec<(u64, Value)>>,
}

impl State {
    pub fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    fn record(&self, request: Recorded) {
        self.requests.lock().unwrap().push(request);
    }

    /// Takes one use of the first fault matching `method` and `path`.
    fn take_fault(&self, method: &str, path: &str) -> Option<FaultReply> {
        let mut faults = self.faults.lock().unwrap();
        let at = faults
            .iter()
            .position(|f| f.method == method && path.ends_with(&f.path_suffix) && f.times > 0)?;
        faults[at].times -= 1;
        Some(faults[at].reply.clone())
    }

    /// Records a request a fault answers (the normal handler, which records, is skipped).
    fn record_only(&self, method: &str, target: &str, body: &[u8]) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        self.record(Recorded {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            files: Vec::new(),
            authorized: true,
        });
    }

    fn received_from_bot(&self, payload: Value) {
        self.from_bot.lock().unwrap().push(payload);
    }

    /// A dispatch frame with the next sequence number.
    fn frame(&self, name: &str, data: Value) -> Value {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        json!({"op": 0, "s": seq, "t": name, "d": data})
    }

    fn connected(&self, session: UnboundedSender<Value>) {
        *self.session.lock().unwrap() = Some(session);
    }

    fn disconnected(&self) {
        *self.session.lock().unwrap() = None;
    }

    /// Stores a message the bot posted and returns it as Discord would.
    fn store_message(&self, channel: &str, webhook: Option<u64>, body: &Value) -> Value {
        let id = self.new_id();
        let mut message = payloads::message(
            id,
            channel.parse().unwrap_or(payloads::GENERAL),
            None,
            payloads::user(payloads::BOT, "steward", true),
            body["content"].as_str().unwrap_or_default(),
        );
        for key in ["message_reference", "flags", "components"] {
            if let Some(value) = body.get(key) {
                message[key] = value.clone();
            }
        }
        if let Some(webhook) = webhook {
            message["webhook_id"] = json!(webhook.to_string());
        } else if let Ok(channel) = channel.parse() {
            self.created
                .lock()
                .unwrap()
                .push((channel, message.clone()));
        }
        self.posted.lock().unwrap().push(Posted {
            id: id.to_string(),
            channel: channel.to_string(),
            versions: vec![body.clone()],
        });
        message
    }

    /// Records an edit and returns the edited message.
    fn edit_message(&self, channel: &str, id: &str, body: &Value) -> Value {
        let mut posted = self.posted.lock().unwrap();
        match posted
            .iter_mut()
            .find(|p| p.channel == channel && p.id == id)
        {
            Some(found) => found.versions.push(body.clone()),
            None => posted.push(Posted {
                id: id.to_string(),
                channel: channel.to_string(),
                versions: vec![body.clone()],
            }),
        }
        let numeric = id.parse().unwrap_or(1);
        let channel_id = channel.parse().unwrap_or(payloads::GENERAL);
        let author = payloads::user(payloads::BOT, "steward", true);
        let content = body["content"].as_str().unwrap_or_default();
        payloads::message(numeric, channel_id, None, author, content)
    }

    fn store_original(&self, token: &str, data: &Value) {
        self.posted.lock().unwrap().push(Posted {
            id: "@original".into(),
            channel: format!("webhook:{token}"),
            versions: vec![data.clone()],
        });
    }

    /// A guild as `GET /guilds/{id}` returns it (no channels, members or presences).
    fn guild(&self, id: &str) -> Option<Value> {
        let mut guild = self
            .guilds
            .iter()
            .find(|guild| guild["id"] == id)
            .cloned()?;
        let object = guild.as_object_mut()?;
        for key in [
            "channels",
            "threads",
            "members",
            "presences",
            "voice_states",
        ] {
            object.remove(key);
        }
        Some(guild)
    }

    fn member(&self, guild: &str, user: &str) -> Option<Value> {
        let key = (guild.parse().ok()?, user.parse().ok()?);
        self.members.lock().unwrap().get(&key).cloned()
    }

    /// The newest `limit` messages of `channel`, newest first, as Discord pages history.
    fn history(&self, channel: &str, limit: usize) -> Vec<Value> {
        let Ok(channel) = channel.parse::<u64>() else {
            return Vec::new();
        };
        let mut messages = self.history.get(&channel).cloned().unwrap_or_default();
        let created = self.created.lock().unwrap();
        messages.extend(
            created
                .iter()
                .filter(|(posted_in, _)| *posted_in == channel)
                .map(|(_, message)| message.clone()),
        );
        let id = |message: &Value| {
            message["id"]
                .as_str()
                .and_then(|id| id.parse::<u64>().ok())
                .unwrap_or(0)
        };
        messages.sort_by_key(|message| std::cmp::Reverse(id(message)));
        messages.truncate(limit);
        messages
    }

    fn channel(&self, id: &str) -> Option<Value> {
        self.guilds.iter().find_map(|guild| {
            let lists = [&guild["channels"], &guild["threads"]];
            lists
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .find(|channel| channel["id"] == id)
                .cloned()
        })
    }
}

/// Options for a double.
pub struct DoubleOptions {
    pub ready_guilds: Vec<u64>,
    pub guilds: Vec<Value>,
    pub heartbeat_interval_ms: u64,
    /// Act as if the owner never enabled the message content intent.
    pub refuse_message_content: bool,
    /// Guild members the REST endpoint knows: (guild, member object).
    pub members: Vec<(u64, Value)>,
    /// Channel history: (channel, message object as REST returns it).
    pub history: Vec<(u64, Value)>,
}

impl Default for DoubleOptions {
    /// One guild the bot already belongs to (listed in READY), with its GUILD_CREATE, its
    /// owner, a member and the bot as members, and no history.
    fn default() -> Self {
        use payloads::{guild_member, BOT, BOT_ROLE, GUILD, MEMBER, OWNER};
        Self {
            ready_guilds: vec![GUILD],
            guilds: vec![payloads::guild(
                GUILD,
                "Rustaceans",
                Some(payloads::WELCOME),
            )],
            heartbeat_interval_ms: 1000,
            refuse_message_content: false,
            members: vec![
                (GUILD, guild_member(OWNER, &[])),
                (GUILD, guild_member(MEMBER, &[])),
                (GUILD, guild_member(BOT, &[BOT_ROLE])),
            ],
            history: Vec::new(),
        }
    }
}

/// A running double; its servers stop when it is dropped.
pub struct DiscordDouble {
    pub state: Arc<State>,
    /// For `[discord] api_base_url`.
    pub api_base: String,
    /// For `[discord] gateway_url`.
    pub gateway_url: String,
    tasks: Vec<JoinHandle<()>>,
}

impl DiscordDouble {
    pub async fn start(options: DoubleOptions) -> Self {
        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_base = format!("http://{}", rest.local_addr().unwrap());
        let gateway_url = format!("ws://{}", ws.local_addr().unwrap());
        let mut members = HashMap::new();
        for (guild, member) in options.members {
            let user: u64 = member["user"]["id"].as_str().unwrap().parse().unwrap();
            members.insert((guild, user), member);
        }
        let mut history: HashMap<u64, Vec<Value>> = HashMap::new();
        for (channel, message) in options.history {
            history.entry(channel).or_default().push(message);
        }
        let state = Arc::new(State {
            token: TOKEN.into(),
            gateway_url: gateway_url.clone(),
            heartbeat_interval_ms: options.heartbeat_interval_ms,
            ready_guilds: options.ready_guilds,
            guilds: options.guilds,
            refuse_message_content: options.refuse_message_content,
            members: Mutex::new(members),
            history,
            next_id: AtomicU64::new(10_000),
            seq: AtomicU64::new(0),
            requests: Mutex::default(),
            from_bot: Mutex::default(),
            posted: Mutex::default(),
            session: Mutex::default(),
            faults: Mutex::default(),
            created: Mutex::default(),
        });
        let tasks = vec![
            tokio::spawn(rest::serve(rest, state.clone())),
            tokio::spawn(gateway::serve(ws, state.clone())),
        ];
        Self {
            state,
            api_base,
            gateway_url,
            tasks,
        }
    }

    /// Makes the REST side fail as `fault` says.
    pub fn inject(&self, fault: Fault) {
        self.state.faults.lock().unwrap().push(fault);
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Every gateway payload the bot sent (IDENTIFY, heartbeats, ...).
    pub fn bot_sent(&self) -> Vec<Value> {
        self.state.from_bot.lock().unwrap().clone()
    }

    /// Messages the bot posted, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.state.posted.lock().unwrap().clone()
    }

    /// Sends a dispatch event to the bot, waiting for an identified session first.
    pub async fn dispatch(&self, event: &str, data: Value) {
        let session = self
            .wait_for("an identified gateway session", |_| {
                self.state.session.lock().unwrap().clone()
            })
            .await;
        session
            .send(self.state.frame(event, data))
            .expect("the session is open");
    }

    /// The first REST request matching `method` and `path`.
    pub async fn request(&self, method: &str, path: &str) -> Recorded {
        let what = format!("{method} {path}");
        self.wait_for(&what, |double| {
            double
                .requests()
                .into_iter()
                .find(|r| r.method == method && r.path == path)
        })
        .await
    }

    /// Polls `check` until it returns a value; panics after 90 s with what the double saw.
    pub async fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            if tokio::time::Instant::now() > deadline {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {}?{} {}", r.method, r.path, r.query, r.body))
                    .collect();
                panic!("timed out waiting for {what}; requests: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for DiscordDouble {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
