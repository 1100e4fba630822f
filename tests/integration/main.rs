//! Steward's integration tests, one binary with shared helpers (ripgrep's layout): linking the
//! model engine once instead of once per file.

mod config_errors;
mod console;
mod core_isolation;
mod discord;
mod discord_commands;
mod discord_double;
mod discord_messages;
mod discord_moderation;
mod discord_trust;
mod dispatch;
mod engine;
mod jobs;
mod limits;
mod matrix;
mod matrix_trust;
mod matrix_util;
mod metrics;
mod model_util;
mod moderation;
mod moderation_eval;
mod moderation_trust;
mod postgres;
mod review_burst;
mod scheduler;
mod scripted;
mod store;
mod store_suite;
mod summarize;
mod synapse;
mod trust;
