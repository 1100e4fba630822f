//! Platform adapters: platform event -> core event, core action -> platform call.
//!
//! Only this module (and the wiring in `app`) may use platform crates. `pacing` and `split`
//! are platform-agnostic helpers the chat adapters share (generated text is made safe to post
//! by `features::hygiene`).

pub mod console;
pub mod discord;
#[cfg(test)]
pub(crate) mod fuzz;
pub mod matrix;
pub mod pacing;
pub mod split;
