//! Community insights: health metrics computed from the store, their time series, charts, and
//! the background sentiment scoring of stored messages.
//!
//! - `health`: the figures of one community (or channel) over one window, and per-bucket series.
//! - `questions`: which messages are questions (English and Chinese).
//! - `charts`: PNG charts (plotters) with an embedded CJK-capable font (`font/`: WenQuanYi Micro
//!   Hei, subset, Apache-2.0).
//! - `scoring`: sentiment for every stored message, in the background.

pub mod charts;
pub mod health;
pub mod questions;
pub mod scoring;
