//! Platform adapters: platform event -> core event, core action -> platform call.

pub mod console;
