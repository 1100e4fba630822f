//! The platform-agnostic community core: events in, actions out.
//!
//! Nothing in this module (or below it) may name a platform crate (serenity, poise,
//! matrix-sdk, ruma, ...); `tests/core_isolation.rs` enforces that.

mod action;
mod command;
mod dispatch;
mod event;
mod ids;

pub use action::{Action, Body, Reply, TextStream, TextStreamItem};
pub use command::{
    CaseDecision, Command, MAX_TIMEOUT_MINUTES, SUMMARY_DEFAULT_MESSAGES, SUMMARY_MAX_MESSAGES,
};
pub use dispatch::{Dispatcher, DispatcherSettings, Features};
pub use event::{Author, Event, EventKind, Message, Reaction};
pub use ids::{ChannelId, CommunityId, Location, MessageId, Platform, Role, ThreadId, UserId};
