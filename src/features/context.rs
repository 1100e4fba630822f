//! The per-event context: everything a feature needs to know about where and by whom it was
//! asked, built once by the router (one settings read per event) and passed down, so no
//! feature re-reads settings or asks which platform it is on.

use std::sync::Arc;

use crate::core::settings::{self, Language};
use crate::core::{Capabilities, Location, Role, UserId};
use crate::strings::Strings;

/// A community's stored settings, read once per event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunitySettings {
    values: Vec<(String, String)>,
}

impl CommunitySettings {
    pub fn new(values: Vec<(String, String)>) -> Self {
        Self { values }
    }

    /// The stored value of `key`, if moderators set one.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every stored setting, as (key, value).
    pub fn all(&self) -> &[(String, String)] {
        &self.values
    }

    /// The community's language: its `language` setting, else `default`.
    pub fn language(&self, default: Language) -> Language {
        self.get(settings::LANGUAGE)
            .and_then(Language::from_code)
            .unwrap_or(default)
    }

    /// A numeric setting (quota budgets), if set and valid.
    pub fn number(&self, key: &str) -> Option<u32> {
        let value = self.get(key)?;
        settings::known(key)
            .filter(|known| known.values.allows(value))
            .and_then(|_| value.parse().ok())
    }
}

/// What a feature knows about the event it handles.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where it happened.
    pub location: Location,
    /// Who asked (the author, the invoker, the reporter).
    pub actor: UserId,
    /// The actor's role in this community, as the adapter determined it.
    pub role: Role,
    pub language: Language,
    pub strings: Strings,
    pub settings: CommunitySettings,
    /// The platform's facts, from its adapter.
    pub capabilities: Arc<Capabilities>,
    /// Whether Steward records the actor here: false when they opted out or asked to be
    /// forgotten, or the channel is not recorded (`privacy`). Then nothing of the event is
    /// stored (no message, no unanswered question, no vote), and only what the actor
    /// addresses to Steward goes to the model.
    pub recorded: bool,
}

impl Context {
    /// How commands are written here ("/", "!steward ").
    pub fn prefix(&self) -> &str {
        &self.capabilities.command_prefix
    }
}
