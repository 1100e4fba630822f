//! Features: each decides what to do about an event and returns actions. None calls a
//! platform API.

pub mod ask;
pub mod context;
pub mod conversations;
pub mod digest;
pub mod ending;
pub mod feedback;
pub mod followup;
pub mod gaps;
pub mod grounded;
pub mod help;
pub mod help_channels;
pub mod hygiene;
pub mod insight_alerts;
pub mod moderation;
pub mod privacy;
pub mod report;
pub mod settings;
pub mod summarize;

pub use context::{CommunitySettings, Context};
