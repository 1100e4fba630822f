//! Helpers for the Matrix scenarios: a Steward bot on a test Synapse (real model, temporary
//! SQLite store) and member clients (matrix-sdk, E2EE on, in-memory stores) that record every
//! message and membership change they see, so tests can wait for what the bot does.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::EncryptionInfo;
use matrix_sdk::ruma::api::client::room::create_room::v3::{
    CreationContent, Request as CreateRoom,
};
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::member::{MembershipState, OriginalSyncRoomMemberEvent};
use matrix_sdk::ruma::events::room::message::{
    OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
};
use matrix_sdk::ruma::events::space::child::SpaceChildEventContent;
use matrix_sdk::ruma::events::space::parent::SpaceParentEventContent;
use matrix_sdk::ruma::events::{InitialStateEvent, Mentions};
use matrix_sdk::ruma::room::RoomType;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{
    EventId, OwnedEventId, OwnedRoomId, OwnedServerName, OwnedUserId, RoomId, UserId,
};
use matrix_sdk::{Client, Room};
use steward::community::Router;
use steward::config::{Config, MatrixAuth, MatrixSettings, ModerationSettings, Secret};
use steward::platform::matrix::{self, MatrixError};
use steward::store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::synapse::{Synapse, SERVER_NAME};

pub const BOT: &str = "steward";
pub const PASSWORD: &str = "correct-horse-battery";
/// How long a test waits for the bot (the model answers in a few seconds on 2 cores).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// A Synapse with the bot and `members` registered.
pub fn homeserver(members: &[&str]) -> Synapse {
    let synapse = Synapse::start();
    let mut users = vec![(BOT, PASSWORD, false)];
    users.extend(members.iter().map(|member| (*member, PASSWORD, false)));
    synapse.register(&users);
    synapse
}

/// The router as `steward run` builds it, with the real default model and a SQLite store
/// in `dir`. Answers are short to keep the tests fast.
pub async fn router(dir: &Path) -> (Arc<Router>, Arc<Store>) {
    router_with(dir, ModerationSettings::default()).await
}

/// [`router`] with the given `[moderation]` settings.
pub async fn router_with(dir: &Path, moderation: ModerationSettings) -> (Arc<Router>, Arc<Store>) {
    let engine = Arc::new(crate::model_util::engine(8, 1).await);
    router_on(dir, moderation, engine).await
}

/// [`router_with`] over `engine` instead of the real model.
pub async fn router_on(
    dir: &Path,
    moderation: ModerationSettings,
    engine: Arc<dyn steward::llm::Engine>,
) -> (Arc<Router>, Arc<Store>) {
    let mut config = Config::defaults();
    config.model.max_new_tokens = 24;
    config.moderation = moderation;
    let url = format!("sqlite://{}/steward.db", dir.display());
    let store = Arc::new(Store::open(&url).await.expect("the test store opens"));
    let router = steward::app::router(
        &config,
        store.clone(),
        engine,
        steward::metrics::Metrics::new(),
    );
    // Background reviews run for the rest of the test.
    router.start_background(&tokio_util::sync::CancellationToken::new());
    (Arc::new(router), store)
}

/// `[matrix]` settings for the bot, logging in with its password on first start.
pub fn bot_settings(synapse: &Synapse, store_dir: &Path, allowlist: &[&str]) -> MatrixSettings {
    MatrixSettings {
        homeserver: synapse.url.clone(),
        user_id: Synapse::user_id(BOT),
        device_name: "Steward (test)".into(),
        store_dir: store_dir.to_path_buf(),
        command_prefix: "!steward".into(),
        invite_allowlist: allowlist.iter().map(|entry| entry.to_string()).collect(),
        ignore_users: Vec::new(),
        moderator_power_level: 50,
        moderators_room: None,
        communities: Vec::new(),
        auth: MatrixAuth::Password(Secret::new(PASSWORD.into())),
        store_passphrase_env: None,
        store_passphrase: None,
    }
}

/// The bot running in the background; [`TestBot::stop`] shuts it down like Ctrl-C would.
pub struct TestBot {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), MatrixError>>,
}

impl TestBot {
    /// Starts the adapter and waits until it is ready (initial sync done, handlers on).
    pub async fn start(settings: MatrixSettings, router: Arc<Router>) -> TestBot {
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let (ready, is_ready) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            matrix::run_with_ready(&settings, router, token, Some(ready)).await
        });
        if tokio::time::timeout(Duration::from_secs(60), is_ready)
            .await
            .is_err()
            || task.is_finished()
        {
            let outcome = task.await;
            panic!("the adapter did not become ready: {outcome:?}");
        }
        TestBot { shutdown, task }
    }

    /// Cancels and waits for `run` to return; it must return `Ok` promptly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("the adapter stops within 60 s of shutdown")
            .expect("the adapter task does not panic");
        if let Err(error) = result {
            panic!(
                "the adapter ended with an error: {error} ({})",
                error.label()
            );
        }
    }
}

/// Something a member's client saw.
#[derive(Debug, Clone)]
pub enum Seen {
    Message {
        room: OwnedRoomId,
        event: Box<OriginalSyncRoomMessageEvent>,
        encrypted: bool,
    },
    Membership {
        room: OwnedRoomId,
        user: OwnedUserId,
        membership: MembershipState,
    },
    Reaction {
        room: OwnedRoomId,
        sender: OwnedUserId,
        /// The event reacted to.
        target: OwnedEventId,
        key: String,
    },
}

/// A member's client that syncs in the background and records what it sees.
pub struct Member {
    pub client: Client,
    pub user_id: OwnedUserId,
    seen: Arc<(Mutex<Vec<Seen>>, Notify)>,
    /// Direct chats the bot opened with this member (joined by [`Member::wait_private`]).
    direct: Mutex<Vec<OwnedRoomId>>,
    sync: tokio::task::JoinHandle<()>,
}

impl Member {
    pub async fn login(synapse: &Synapse, localpart: &str) -> Member {
        let client = Client::builder()
            .homeserver_url(&synapse.url)
            .build()
            .await
            .expect("a member client");
        client
            .matrix_auth()
            .login_username(localpart, PASSWORD)
            .initial_device_display_name(localpart)
            .send()
            .await
            .expect("the member logs in");
        client
            .sync_once(SyncSettings::default().timeout(Duration::ZERO))
            .await
            .expect("the member's first sync");
        let seen: Arc<(Mutex<Vec<Seen>>, Notify)> = Arc::default();
        let log = seen.clone();
        client.add_event_handler(
            move |event: OriginalSyncRoomMessageEvent, room: Room, info: Option<EncryptionInfo>| {
                let log = log.clone();
                async move {
                    let seen = Seen::Message {
                        room: room.room_id().to_owned(),
                        event: Box::new(event),
                        encrypted: info.is_some(),
                    };
                    log.0.lock().unwrap().push(seen);
                    log.1.notify_waiters();
                }
            },
        );
        let log = seen.clone();
        client.add_event_handler(move |event: OriginalSyncRoomMemberEvent, room: Room| {
            let log = log.clone();
            async move {
                let seen = Seen::Membership {
                    room: room.room_id().to_owned(),
                    user: event.state_key.clone(),
                    membership: event.content.membership.clone(),
                };
                log.0.lock().unwrap().push(seen);
                log.1.notify_waiters();
            }
        });
        let log = seen.clone();
        client.add_event_handler(move |event: OriginalSyncReactionEvent, room: Room| {
            let log = log.clone();
            async move {
                let seen = Seen::Reaction {
                    room: room.room_id().to_owned(),
                    sender: event.sender.clone(),
                    target: event.content.relates_to.event_id.clone(),
                    key: event.content.relates_to.key.clone(),
                };
                log.0.lock().unwrap().push(seen);
                log.1.notify_waiters();
            }
        });
        let syncing = client.clone();
        let sync = tokio::spawn(async move {
            let settings = SyncSettings::default().timeout(Duration::from_secs(5));
            let sync: std::pin::Pin<
                Box<dyn std::future::Future<Output = matrix_sdk::Result<()>> + Send>,
            > = Box::pin(async move { syncing.sync(settings).await });
            if let Err(error) = sync.await {
                eprintln!("member sync ended: {error}");
            }
        });
        let user_id = client.user_id().unwrap().to_owned();
        Member {
            client,
            user_id,
            seen,
            direct: Mutex::new(Vec::new()),
            sync,
        }
    }

    /// Creates a space (`m.space` room type) and invites `invite`.
    pub async fn create_space(&self, invite: &[&str]) -> Room {
        let mut request = CreateRoom::new();
        request.invite = invite
            .iter()
            .map(|user| UserId::parse(*user).unwrap())
            .collect();
        let mut creation = CreationContent::new();
        creation.room_type = Some(RoomType::Space);
        request.creation_content = Some(Raw::new(&creation).expect("creation content"));
        self.client
            .create_room(request)
            .await
            .expect("the space is created")
    }

    /// Waits for a message from the bot in a direct chat with this member whose body `pick`
    /// accepts (joining the bot's invitations on the way); returns the body.
    pub async fn wait_private(&self, what: &str, mut pick: impl FnMut(&str) -> bool) -> String {
        let bot = Synapse::user_id(BOT);
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        loop {
            for room in self.client.invited_rooms() {
                let from_bot = matches!(
                    room.invite_details().await,
                    Ok(invite) if invite.inviter_id.as_str() == bot
                );
                if from_bot && self.client.join_room_by_id(room.room_id()).await.is_ok() {
                    self.direct.lock().unwrap().push(room.room_id().to_owned());
                }
            }
            let direct = self.direct.lock().unwrap().clone();
            let found = direct.iter().find_map(|room| {
                self.messages_from(room, &bot)
                    .into_iter()
                    .map(|event| event.content.body().to_string())
                    .find(|body| pick(body))
            });
            if let Some(body) = found {
                return body;
            }
            if tokio::time::Instant::now() > deadline {
                let seen = self.seen.0.lock().unwrap();
                panic!(
                    "timed out waiting for {what} in a direct chat; {} saw: {seen:#?}",
                    self.user_id
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every body of the bot's messages in `room` the member has seen so far.
    pub fn bot_bodies(&self, room: &RoomId) -> Vec<String> {
        self.messages_from(room, &Synapse::user_id(BOT))
            .into_iter()
            .map(|event| event.content.body().to_string())
            .collect()
    }

    /// Creates a private room (encrypted if asked) and invites `invite`.
    pub async fn create_room(&self, invite: &[&str], encrypted: bool) -> Room {
        let mut request = CreateRoom::new();
        request.invite = invite
            .iter()
            .map(|user| UserId::parse(*user).unwrap())
            .collect();
        if encrypted {
            request.initial_state = vec![InitialStateEvent::with_empty_state_key(
                RoomEncryptionEventContent::with_recommended_defaults(),
            )
            .to_raw_any()];
        }
        self.client
            .create_room(request)
            .await
            .expect("the room is created")
    }

    /// Waits until the member has seen something `pick` accepts, and returns what it picked.
    pub async fn wait_for<T>(&self, what: &str, mut pick: impl FnMut(&Seen) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        loop {
            let notified = self.seen.1.notified();
            if let Some(found) = self.seen.0.lock().unwrap().iter().find_map(&mut pick) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen = self.seen.0.lock().unwrap();
                panic!(
                    "timed out waiting for {what}; {} saw: {seen:#?}",
                    self.user_id
                );
            }
        }
    }

    /// Creates a room with the bot invited and waits until the bot has joined it.
    pub async fn room_with_bot(&self, encrypted: bool) -> Room {
        let bot = Synapse::user_id(BOT);
        let room = self.create_room(&[&bot], encrypted).await;
        self.wait_for_membership(room.room_id(), &bot, MembershipState::Join)
            .await;
        room
    }

    /// Waits until `user` has `membership` in `room`.
    pub async fn wait_for_membership(
        &self,
        room: &RoomId,
        user: &str,
        membership: MembershipState,
    ) {
        let what = format!("{user} {membership:?} in {room}");
        self.wait_for(&what, |seen| match seen {
            Seen::Membership {
                room: r,
                user: u,
                membership: m,
            } if r == room && u.as_str() == user && *m == membership => Some(()),
            _ => None,
        })
        .await
    }

    /// Every message from `sender` in `room` that the member has seen so far.
    pub fn messages_from(&self, room: &RoomId, sender: &str) -> Vec<OriginalSyncRoomMessageEvent> {
        self.seen
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|seen| match seen {
                Seen::Message { room: r, event, .. }
                    if r == room && event.sender.as_str() == sender =>
                {
                    Some((**event).clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Joins a room the member was invited to.
    pub async fn join(&self, room: &RoomId) -> Room {
        self.client
            .join_room_by_id(room)
            .await
            .expect("the member joins the room")
    }

    /// Waits until the homeserver serves `event` in `room` redacted.
    pub async fn wait_for_redaction(&self, room: &Room, event: &EventId) {
        let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
        loop {
            let fetched = room
                .event(event, None)
                .await
                .expect("the event is readable");
            if fetched.raw().json().get().contains("redacted_because") {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{event} was not redacted"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends `content` to `room`; returns its event id.
    pub async fn send(&self, room: &Room, content: RoomMessageEventContent) -> OwnedEventId {
        room.send(content)
            .await
            .expect("the member's message is sent")
            .response
            .event_id
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.sync.abort();
    }
}

/// The test server, as the `via` of space links.
fn via() -> Vec<OwnedServerName> {
    vec![OwnedServerName::try_from(SERVER_NAME).expect("a server name")]
}

/// Lists `child` in `space` the way Element does: `m.space.child` in the space and
/// `m.space.parent` in the child (the sender needs power in both).
pub async fn add_to_space(space: &Room, child: &Room) {
    space
        .send_state_event_for_key(child.room_id(), SpaceChildEventContent::new(via()))
        .await
        .expect("m.space.child is sent");
    claim_space(child, space.room_id()).await;
}

/// `child` claims `space` as its parent (`m.space.parent`); the space says nothing.
pub async fn claim_space(child: &Room, space: &RoomId) {
    child
        .send_state_event_for_key(space, SpaceParentEventContent::new(via()))
        .await
        .expect("m.space.parent is sent");
}

/// A message that mentions the bot the way Element does: a pill in the HTML body, the display
/// name in the plain body, and an intentional mention.
pub fn mention(question: &str) -> RoomMessageEventContent {
    let bot = Synapse::user_id(BOT);
    RoomMessageEventContent::text_html(
        format!("{BOT}: {question}"),
        format!("<a href=\"https://matrix.to/#/{bot}\">{BOT}</a>: {question}"),
    )
    .add_mentions(Mentions::with_user_ids([UserId::parse(&bot).unwrap()]))
}

/// `content` posted inside the thread rooted at `root`, after `latest`.
pub fn in_thread(
    content: RoomMessageEventContent,
    root: &EventId,
    latest: &EventId,
) -> RoomMessageEventContent {
    let mut content = content;
    content.relates_to = Some(Relation::Thread(Thread::plain(
        root.to_owned(),
        latest.to_owned(),
    )));
    content
}

/// How many of the bot's messages the member has seen replying to `to` (directly or in a thread).
pub fn answers_to(member: &Member, room: &RoomId, to: &EventId) -> usize {
    let bot = Synapse::user_id(BOT);
    member
        .messages_from(room, &bot)
        .into_iter()
        .filter(|event| {
            let seen = Seen::Message {
                room: room.to_owned(),
                event: Box::new(event.clone()),
                encrypted: false,
            };
            bot_reply_to(&seen, room, to).is_some()
        })
        .count()
}

/// The bot's devices as the homeserver lists them (sorted), asked with the access token the
/// adapter saved in `store_dir/session.json`, and the device id saved there.
pub async fn bot_devices(synapse: &Synapse, store_dir: &Path) -> (String, Vec<String>) {
    let saved = std::fs::read_to_string(store_dir.join("session.json")).expect("a saved session");
    let saved: serde_json::Value = serde_json::from_str(&saved).unwrap();
    let token = saved["access_token"]
        .as_str()
        .expect("an access token in the session");
    let body = matrix_sdk::reqwest::Client::new()
        .get(format!("{}/_matrix/client/v3/devices", synapse.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /devices")
        .text()
        .await
        .unwrap();
    let devices: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut listed: Vec<String> = devices["devices"]
        .as_array()
        .unwrap_or_else(|| panic!("no device list in {body}"))
        .iter()
        .map(|device| device["device_id"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    let saved_device = saved["device_id"]
        .as_str()
        .expect("a device id in the session");
    (saved_device.to_string(), listed)
}

/// The bot's first message replying to `to` (a plain reply, or a reply inside a thread).
pub fn bot_reply_to(
    seen: &Seen,
    room: &RoomId,
    to: &EventId,
) -> Option<(OriginalSyncRoomMessageEvent, bool)> {
    let Seen::Message {
        room: r,
        event,
        encrypted,
    } = seen
    else {
        return None;
    };
    if r != room || event.sender.as_str() != Synapse::user_id(BOT) {
        return None;
    }
    let target = match event.content.relates_to.as_ref()? {
        Relation::Reply(reply) => &reply.in_reply_to.event_id,
        Relation::Thread(thread) => &thread.in_reply_to.as_ref()?.event_id,
        _ => return None,
    };
    (target == to).then(|| ((**event).clone(), *encrypted))
}
