//! Steward: a self-hosted bot that brings a local LLM into technical communities.
//!
//! Events flow one way: a platform adapter turns platform events into [`core::Event`]s, the
//! [`core::Dispatcher`] routes them to features, features decide on [`core::Action`]s, and the
//! adapter executes them. Only `platform` (and the wiring in `app`) knows any platform crate.

pub mod app;
pub mod config;
pub mod core;
pub mod features;
pub mod llm;
pub mod model;
pub mod platform;
pub mod prompts;
pub mod store;
pub mod strings;
