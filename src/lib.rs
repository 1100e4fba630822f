//! Steward: a self-hosted bot that brings a local LLM into technical communities.
//!
//! Events flow one way: a platform adapter turns platform events into [`core::Event`]s, the
//! [`community::Router`] builds a per-event context and routes them to features, features
//! decide on [`core::Action`]s, and the adapter executes them. Only `platform` (and the wiring
//! in `app`) knows any platform crate. `docs/architecture.md` maps the modules.

pub mod app;
pub mod community;
pub mod config;
pub mod core;
pub mod features;
pub mod insights;
pub mod jobs;
pub mod knowledge;
pub mod llm;
pub mod metrics;
pub mod model;
pub mod outbox;
pub mod platform;
pub mod prompts;
pub mod sentiment;
pub mod store;
pub mod strings;
pub mod text;
