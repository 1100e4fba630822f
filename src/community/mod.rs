//! The application layer between adapters and features: one [`Router`] per process turns each
//! core event into a [`Context`] (settings, role, language, the platform's capabilities),
//! applies quotas and limits, and hands the event to the feature that decides the actions.
//! (`Context` is defined beside the features that consume it, so features never import this
//! layer.)

pub mod mention;
pub mod notices;
pub mod quotas;
pub mod router;

pub use crate::features::context::{CommunitySettings, Context};
pub use router::{Background, Features, Router, RouterSettings};
