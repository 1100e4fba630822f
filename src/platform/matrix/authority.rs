//! Who may act on whom, room by room. Authority comes from where an action lands (Draupnir and
//! Mjolnir check the acting moderator's power in the room they act in): before Steward redacts,
//! kicks, bans, unbans or invites in a room, the moderator whose decision it is must have the
//! power *that room* requires for it, Steward must have it too, and the member acted on must
//! rank strictly below both. Steward's automatic decisions check Steward and the member only.
//!
//! [`check`] is the pure rule over power levels; [`check_room`] reads a room's power levels and
//! applies it.

use std::fmt;

use matrix_sdk::ruma::events::room::power_levels::{
    PowerLevelAction, RoomPowerLevels, UserPowerLevel,
};
use matrix_sdk::ruma::UserId;
use matrix_sdk::Room;

/// What Steward is about to do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Redact someone else's event.
    Redact,
    /// Kick a member (also how a timeout is done on Matrix).
    Kick,
    Ban,
    Unban,
    /// Invite a member back (lifting a timeout).
    Invite,
}

impl Act {
    /// A short stable name for logs.
    pub fn label(self) -> &'static str {
        match self {
            Act::Redact => "redact",
            Act::Kick => "kick",
            Act::Ban => "ban",
            Act::Unban => "unban",
            Act::Invite => "invite",
        }
    }

    /// The power level the room requires for this.
    pub fn required(self, levels: &RoomPowerLevels) -> i64 {
        let level = match self {
            Act::Redact => levels.for_action(PowerLevelAction::RedactOther),
            Act::Kick => levels.kick,
            Act::Ban => levels.ban,
            Act::Unban => levels.for_action(PowerLevelAction::Unban),
            Act::Invite => levels.invite,
        };
        i64::from(level)
    }
}

/// A member's power in a room: a number, or a room creator's (room version 12 on), which ranks
/// above every number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Power {
    Level(i64),
    Creator,
}

impl From<UserPowerLevel> for Power {
    fn from(level: UserPowerLevel) -> Self {
        match level {
            UserPowerLevel::Int(level) => Power::Level(i64::from(level)),
            _ => Power::Creator,
        }
    }
}

impl fmt::Display for Power {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Power::Level(level) => write!(f, "{level}"),
            Power::Creator => f.write_str("creator"),
        }
    }
}

/// The powers that decide one action in one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Powers {
    /// What the room requires for the action.
    pub required: i64,
    pub bot: Power,
    /// The moderator whose decision it is; `None` for Steward's own policy.
    pub actor: Option<Power>,
    /// The member acted on, if the action has one.
    pub target: Option<Power>,
}

/// Why Steward did not act in a room.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the moderator's power level ({actor}) is below the {required} this room requires to {act}"
    )]
    ActorTooLow {
        act: &'static str,
        actor: Power,
        required: i64,
    },
    #[error("Steward's power level ({bot}) is below the {required} this room requires to {act}")]
    BotTooLow {
        act: &'static str,
        bot: Power,
        required: i64,
    },
    #[error("the member's power level ({target}) is not below the moderator's ({actor})")]
    TargetNotBelowActor { target: Power, actor: Power },
    #[error("the member's power level ({target}) is not below Steward's ({bot})")]
    TargetNotBelowBot { target: Power, bot: Power },
    #[error("the room's power levels cannot be read")]
    Unreadable,
    #[error("{0:?} is not a Matrix user id")]
    BadUserId(String),
}

impl Refusal {
    /// A short stable label for logs.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::ActorTooLow { .. } => "actor_too_low",
            Refusal::BotTooLow { .. } => "bot_too_low",
            Refusal::TargetNotBelowActor { .. } => "target_not_below_actor",
            Refusal::TargetNotBelowBot { .. } => "target_not_below_bot",
            Refusal::Unreadable => "power_levels_unreadable",
            Refusal::BadUserId(_) => "bad_user_id",
        }
    }
}

/// Whether `act` may happen with these powers. The moderator is checked first: a refusal names
/// the person's missing authority before the bot's.
pub fn check(act: Act, powers: Powers) -> Result<(), Refusal> {
    let required = Power::Level(powers.required);
    if let Some(actor) = powers.actor {
        if actor < required {
            return Err(Refusal::ActorTooLow {
                act: act.label(),
                actor,
                required: powers.required,
            });
        }
    }
    if powers.bot < required {
        return Err(Refusal::BotTooLow {
            act: act.label(),
            bot: powers.bot,
            required: powers.required,
        });
    }
    if let Some(target) = powers.target {
        if let Some(actor) = powers.actor {
            if target >= actor {
                return Err(Refusal::TargetNotBelowActor { target, actor });
            }
        }
        if target >= powers.bot {
            return Err(Refusal::TargetNotBelowBot {
                target,
                bot: powers.bot,
            });
        }
    }
    Ok(())
}

/// [`check`] with `room`'s current power levels (from the local state store: no request).
/// Unreadable power levels refuse: fail closed.
pub(crate) async fn check_room(
    room: &Room,
    bot: &UserId,
    act: Act,
    actor: Option<&UserId>,
    target: Option<&UserId>,
) -> Result<(), Refusal> {
    let levels = room.power_levels().await.map_err(|error| {
        tracing::debug!(room = %room.room_id(), %error, "cannot read power levels");
        Refusal::Unreadable
    })?;
    let power = |user: &UserId| Power::from(levels.for_user(user));
    check(
        act,
        Powers {
            required: act.required(&levels),
            bot: power(bot),
            actor: actor.map(power),
            target: target.map(power),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn powers(required: i64, bot: i64, actor: Option<i64>, target: Option<i64>) -> Powers {
        Powers {
            required,
            bot: Power::Level(bot),
            actor: actor.map(Power::Level),
            target: target.map(Power::Level),
        }
    }

    #[test]
    fn hole_1_authority_table() {
        let ok = |p| check(Act::Ban, p).map_err(|e| e.label());
        let cases = [
            // A moderator with the room's ban level bans a member.
            (powers(50, 100, Some(50), Some(0)), Ok(())),
            // A moderator elsewhere has no power here.
            (powers(50, 100, Some(0), Some(0)), Err("actor_too_low")),
            // The room requires more than the moderator has.
            (powers(75, 100, Some(50), Some(0)), Err("actor_too_low")),
            // Steward itself cannot ban here.
            (powers(50, 49, Some(100), Some(0)), Err("bot_too_low")),
            // Equal rank is not enough (Discord's rule, and Matrix's for kicks and bans).
            (
                powers(50, 100, Some(50), Some(50)),
                Err("target_not_below_actor"),
            ),
            (
                powers(50, 100, Some(50), Some(60)),
                Err("target_not_below_actor"),
            ),
            // The member outranks Steward.
            (
                powers(50, 50, Some(100), Some(50)),
                Err("target_not_below_bot"),
            ),
            // Steward's own policy: only Steward and the member are checked.
            (powers(50, 50, None, Some(0)), Ok(())),
            (powers(50, 50, None, Some(50)), Err("target_not_below_bot")),
            (powers(50, 40, None, Some(0)), Err("bot_too_low")),
            // Nobody acted on (an invite): no rank to compare.
            (powers(0, 0, Some(0), None), Ok(())),
            // Negative levels are levels too.
            (powers(-5, 0, Some(-5), Some(-10)), Ok(())),
        ];
        for (powers, expected) in cases {
            assert_eq!(ok(powers), expected, "{powers:?}");
        }
    }

    #[test]
    fn room_creators_outrank_every_level() {
        // Steward created the room too: it must outrank the member as well.
        let creator = Powers {
            required: 100,
            bot: Power::Creator,
            actor: Some(Power::Creator),
            target: Some(Power::Level(100)),
        };
        assert_eq!(check(Act::Kick, creator), Ok(()));
        let against_creator = Powers {
            target: Some(Power::Creator),
            ..creator
        };
        assert_eq!(
            check(Act::Kick, against_creator).map_err(|e| e.label()),
            Err("target_not_below_actor")
        );
        assert!(Power::Creator > Power::Level(i64::MAX));
        let refusal = check(Act::Redact, powers(50, 100, Some(10), None)).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the moderator's power level (10) is below the 50 this room requires to redact"
        );
    }
}
