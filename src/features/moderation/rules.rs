//! The rules stage: cheap, deterministic checks run on every member's message (blocked
//! patterns, mention and link spam, flooding). Moderators' own messages are not checked.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use regex::Regex;

use crate::config::ModerationSettings;
use crate::core::{CaseCategory, Location, Message, UserId};

/// What a rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleHit {
    /// A blocked pattern matched; `pattern` is the pattern as configured.
    Blocked { pattern: String },
    /// Too many messages too fast.
    Flood { messages: u32, window: Duration },
    /// Too many mentions in one message.
    Mentions { count: usize, max: usize },
    /// Too many links in one message.
    Links { count: usize, max: usize },
    /// An invitation to another server or room (the built-in invite rule).
    Invite { link: String },
}

impl RuleHit {
    /// The case category it files a case under.
    pub fn category(&self) -> CaseCategory {
        match self {
            RuleHit::Blocked { .. } => CaseCategory::BlockedPattern,
            RuleHit::Flood { .. } => CaseCategory::Flood,
            RuleHit::Mentions { .. } => CaseCategory::MentionSpam,
            RuleHit::Links { .. } | RuleHit::Invite { .. } => CaseCategory::LinkSpam,
        }
    }
}

/// Whether a member is flooding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flooding {
    No,
    /// Just went over the limit: open a case and time the member out.
    New(RuleHit),
    /// Already caught within this window: nothing new to report.
    Again,
}

/// Discord user/role mentions (`<@123>`, `<@!123>`, `<@&123>`), `@everyone`/`@here`, and
/// `@name` / Matrix ids (`@ana:example.org`) in plain text.
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<@[!&]?\d+>|(?:^|[\s(])@[\w][\w.\-:]*").expect("mention pattern")
});
/// Invitations to other communities, including spaced-out forms (`discord . gg / abc`).
static INVITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:discord(?:app)?\s*\.\s*(?:gg|io|me|li)|discord(?:app)?\s*\.\s*com\s*/\s*invite|dsc\s*\.\s*gg|invite\s*\.\s*gg)\s*/\s*[a-z0-9-]{2,}|matrix\.to/#/[#!+][^\s)]+|\bt\.me/(?:joinchat/|\+)[\w-]+|chat\.whatsapp\.com/[\w-]+",
    )
    .expect("invite pattern")
});
static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:https?://|www\.)\S+").expect("link pattern"));

/// Forget rate-limit state of members who went quiet, every this many checks.
const SWEEP_EVERY: u64 = 4096;

/// The rules, with the state the flood rule keeps per member.
pub struct Rules {
    patterns: Vec<Regex>,
    max_mentions: usize,
    max_links: usize,
    block_invites: bool,
    flood: Option<Flood>,
    checks: AtomicU64,
}

struct Flood {
    limiter: DefaultKeyedRateLimiter<String>,
    messages: u32,
    window: Duration,
    /// Members caught flooding, until when their further messages are not reported again
    /// (a burst already in flight would otherwise open one case per message).
    caught: Mutex<HashMap<String, Instant>>,
}

impl Rules {
    pub fn new(settings: &ModerationSettings) -> Self {
        let flood = settings.flood.and_then(|limit| {
            let burst = NonZeroU32::new(limit.messages)?;
            let quota = Quota::with_period(limit.window / limit.messages)?.allow_burst(burst);
            Some(Flood {
                limiter: RateLimiter::keyed(quota),
                messages: limit.messages,
                window: limit.window,
                caught: Mutex::new(HashMap::new()),
            })
        });
        Self {
            patterns: settings.blocked_patterns.clone(),
            max_mentions: settings.max_mentions,
            max_links: settings.max_links,
            block_invites: settings.block_invites,
            flood,
            checks: AtomicU64::new(0),
        }
    }

    /// The most serious rule `message` breaks, if any. Every message counts towards the
    /// flood limit, whatever else it breaks.
    pub fn check(&self, message: &Message) -> Option<RuleHit> {
        let flooding = match self.flood.as_ref() {
            Some(flood) => match self.check_flood(flood, &message.location, &message.author.id) {
                Flooding::New(hit) => Some(hit),
                Flooding::No | Flooding::Again => None,
            },
            None => None,
        };
        if let Some(pattern) = self.blocked(&message.text) {
            return Some(pattern);
        }
        if flooding.is_some() {
            return flooding;
        }
        self.spam(&message.text)
    }

    /// The rules that read text alone (no flood counting): for the free text of a command.
    pub fn check_text(&self, text: &str) -> Option<RuleHit> {
        self.blocked(text).or_else(|| self.spam(text))
    }

    fn blocked(&self, text: &str) -> Option<RuleHit> {
        let pattern = self.patterns.iter().find(|p| p.is_match(text))?;
        Some(RuleHit::Blocked {
            pattern: pattern.as_str().to_string(),
        })
    }

    /// Mention, link and invite spam.
    fn spam(&self, text: &str) -> Option<RuleHit> {
        if self.block_invites {
            if let Some(link) = INVITE.find(text) {
                return Some(RuleHit::Invite {
                    link: link.as_str().to_string(),
                });
            }
        }
        let count = MENTION.find_iter(text).count();
        if self.max_mentions > 0 && count > self.max_mentions {
            return Some(RuleHit::Mentions {
                count,
                max: self.max_mentions,
            });
        }
        let count = LINK.find_iter(text).count();
        if self.max_links > 0 && count > self.max_links {
            return Some(RuleHit::Links {
                count,
                max: self.max_links,
            });
        }
        None
    }

    /// A command by `user` counts toward the flood limit like a message.
    pub fn check_command(&self, location: &Location, user: &UserId) -> Flooding {
        match self.flood.as_ref() {
            Some(flood) => self.check_flood(flood, location, user),
            None => Flooding::No,
        }
    }

    fn check_flood(&self, flood: &Flood, location: &Location, user: &UserId) -> Flooding {
        let key = format!(
            "{}\u{0}{}\u{0}{}",
            location.platform, location.community, user
        );
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            flood.limiter.retain_recent();
            let now = Instant::now();
            let mut caught = flood.caught.lock().expect("flood state lock");
            caught.retain(|_, until| *until > now);
        }
        if flood.limiter.check_key(&key).is_ok() {
            return Flooding::No;
        }
        let now = Instant::now();
        let mut caught = flood.caught.lock().expect("flood state lock");
        if caught.get(&key).is_some_and(|until| *until > now) {
            return Flooding::Again;
        }
        caught.insert(key, now + flood.window);
        Flooding::New(RuleHit::Flood {
            messages: flood.messages,
            window: flood.window,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::config::FloodLimit;
    use crate::core::{
        Author, ChannelId, CommunityId, Location, MessageId, Platform, Role, UserId,
    };

    fn message(user: &str, text: &str) -> Message {
        Message {
            id: MessageId::new("m"),
            location: Location {
                platform: Platform::Discord,
                community: CommunityId::new("g"),
                channel: ChannelId::new("c"),
                thread: None,
            },
            author: Author {
                id: UserId::new(user),
                display_name: user.into(),
                role: Role::Member,
                is_bot: false,
            },
            text: text.into(),
            created_at: SystemTime::now(),
            reply_to: None,
            mentions_bot: false,
            replies_to_bot: false,
        }
    }

    fn rules(flood: Option<FloodLimit>) -> Rules {
        let settings = ModerationSettings {
            blocked_patterns: vec![regex::RegexBuilder::new(r"free\s+nitro")
                .case_insensitive(true)
                .build()
                .unwrap()],
            max_mentions: 3,
            max_links: 2,
            flood,
            ..Default::default()
        };
        Rules::new(&settings)
    }

    #[test]
    fn rule_table() {
        let rules = rules(None);
        let blocked = Some(RuleHit::Blocked {
            pattern: r"free\s+nitro".into(),
        });
        let cases = [
            ("How do I borrow twice?", None),
            ("Get FREE   Nitro now", blocked.clone()),
            ("免费 free nitro 领取", blocked),
            ("@a @b @c", None),
            (
                "@a @b @c @d hi",
                Some(RuleHit::Mentions { count: 4, max: 3 }),
            ),
            (
                "<@1> <@!2> <@&3> @everyone",
                Some(RuleHit::Mentions { count: 4, max: 3 }),
            ),
            ("mail me: ana@example.org", None),
            ("see https://a.example and https://b.example", None),
            (
                "https://a.example www.b.example http://c.example",
                Some(RuleHit::Links { count: 3, max: 2 }),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(rules.check(&message("ana", text)), expected, "{text}");
        }
    }

    #[test]
    fn invite_rule_is_off_by_default_and_catches_disguised_invites() {
        let text = "join us: discord.gg/abc123";
        assert_eq!(rules(None).check_text(text), None);
        let on = Rules::new(&ModerationSettings {
            block_invites: true,
            ..Default::default()
        });
        let invites = [
            "join us: discord.gg/abc123",
            "https://discord.com/invite/rust-zh",
            "discord . gg / freestuff",
            "DISCORDAPP.COM/INVITE/x1y2",
            "come to https://matrix.to/#/#crypto-pumps:evil.example",
            "t.me/joinchat/AAAA-bbbb and more",
            "https://chat.whatsapp.com/Hk3k2",
        ];
        for text in invites {
            assert!(
                matches!(on.check_text(text), Some(RuleHit::Invite { .. })),
                "{text}"
            );
        }
        let fine = [
            "the discord.js docs say otherwise",
            "see https://matrix.to/#/@ana:example.org for her profile",
            "read https://discord.com/developers/docs",
            "我们的 discord 频道",
        ];
        for text in fine {
            assert_eq!(on.check_text(text), None, "{text}");
        }
    }

    #[test]
    fn command_text_is_screened_without_counting_toward_flood() {
        let rules = rules(None);
        assert!(matches!(
            rules.check_text("/ask free nitro here"),
            Some(RuleHit::Blocked { .. })
        ));
        assert_eq!(rules.check_text("how do I pin a crate?"), None);
    }

    #[test]
    fn flood_is_per_member_and_reported_once() {
        let limit = FloodLimit {
            messages: 3,
            window: Duration::from_secs(60),
        };
        let rules = rules(Some(limit));
        for _ in 0..3 {
            assert_eq!(rules.check(&message("ana", "hi")), None);
        }
        let flood = Some(RuleHit::Flood {
            messages: 3,
            window: Duration::from_secs(60),
        });
        assert_eq!(rules.check(&message("ana", "hi")), flood);
        // The rest of the burst is not reported again.
        assert_eq!(rules.check(&message("ana", "hi")), None);
        // Someone else is not affected.
        assert_eq!(rules.check(&message("bob", "hi")), None);
        // A blocked pattern is still caught while flooding.
        assert!(matches!(
            rules.check(&message("ana", "free nitro")),
            Some(RuleHit::Blocked { .. })
        ));
    }
}
