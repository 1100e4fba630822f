//! The platform-agnostic community core: events in, actions out.
//!
//! Nothing in this module (or below it) may name a platform crate (serenity, poise,
//! matrix-sdk, ruma, ...); `tests/core_isolation.rs` enforces that.

mod action;
mod dispatch;
mod event;
mod ids;

pub use action::{Action, Body, Reply, TextStream, TextStreamItem};
pub use dispatch::{Dispatcher, DispatcherSettings};
pub use event::{Author, Command, Event, EventKind, Message, Reaction};
pub use ids::{ChannelId, CommunityId, Location, MessageId, Platform, Role, ThreadId, UserId};
