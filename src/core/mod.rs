//! The platform-agnostic community core: plain types only. Events in, actions out, commands,
//! ids, roles, case labels, settings keys and the platform's capabilities as data.
//!
//! Nothing here does work, and nothing here imports another module of the crate or any
//! platform crate; `tests/integration/core_isolation.rs` enforces both.

mod action;
mod capabilities;
mod case;
mod command;
mod event;
mod ids;
mod privacy;
mod report;
pub mod settings;

pub use action::{Action, Attachment, Body, Reply, TextStream, TextStreamItem};
pub use capabilities::Capabilities;
pub use case::{Automatic, CaseCategory, CaseSource, CaseStatus};
pub use command::{
    CaseDecision, Command, KB_REPORT_DEFAULT_DAYS, KB_REPORT_MAX_DAYS, SUMMARY_DEFAULT_MESSAGES,
    SUMMARY_MAX_MESSAGES,
};
pub use event::{Author, Event, EventKind, Message, Reaction};
pub use ids::{ChannelId, CommunityId, Location, MessageId, Platform, Role, ThreadId, UserId};
pub use privacy::PrivacyCommand;
pub use report::{ReportWindow, REPORT_DEFAULT_HOURS, REPORT_MAX_HOURS, REPORT_MIN_HOURS};
pub use settings::Language;
