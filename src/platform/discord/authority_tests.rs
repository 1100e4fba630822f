//! The authority checks as tables: who may delete, time out, kick and ban whom.

use std::collections::HashMap;

use super::*;
use crate::platform::discord::roles::RoleFacts;

const OWNER: u64 = 1;
const EVERYONE: u64 = 100;
const MODS: u64 = 200; // Manage Messages, position 1
const JUNIORS: u64 = 210; // Ban/Kick/Moderate, position 2
const VETERANS: u64 = 220; // nothing, position 3
const SENIORS: u64 = 230; // Ban/Kick/Moderate, position 4
const ADMINS: u64 = 240; // Administrator, position 5
const BOT_ROLE: u64 = 4200; // everything Steward asks for, position 6
const HELPERS: u64 = 250; // the configured moderator role, no permissions, position 2

fn facts() -> GuildFacts {
    let enforcers = Permissions::BAN_MEMBERS
        | Permissions::KICK_MEMBERS
        | Permissions::MODERATE_MEMBERS
        | Permissions::MANAGE_MESSAGES;
    let role = |permissions, position| RoleFacts {
        permissions,
        position,
    };
    GuildFacts {
        owner: Some(UserId::new(OWNER)),
        roles: HashMap::from([
            (RoleId::new(EVERYONE), role(Permissions::SEND_MESSAGES, 0)),
            (RoleId::new(MODS), role(Permissions::MANAGE_MESSAGES, 1)),
            (RoleId::new(JUNIORS), role(enforcers, 2)),
            (RoleId::new(VETERANS), role(Permissions::empty(), 3)),
            (RoleId::new(SENIORS), role(enforcers, 4)),
            (RoleId::new(ADMINS), role(Permissions::ADMINISTRATOR, 5)),
            (RoleId::new(BOT_ROLE), role(enforcers, 6)),
            (RoleId::new(HELPERS), role(Permissions::empty(), 2)),
        ]),
        everyone: Some(RoleId::new(EVERYONE)),
    }
}

fn ids(roles: &[u64]) -> Vec<RoleId> {
    roles.iter().map(|r| RoleId::new(*r)).collect()
}

#[test]
fn hole_2_authority_table() {
    let facts = facts();
    let helpers = Some(RoleId::new(HELPERS));
    let (actor, target) = (UserId::new(600), UserId::new(500));
    // (act, actor roles, actor is bot, target roles (None: no member), expected refusal label)
    type Case<'a> = (Act, &'a [u64], bool, Option<&'a [u64]>, Option<&'a str>);
    let cases: &[Case] = &[
        // Manage Messages is enough to delete, and nothing more.
        (Act::Delete, &[MODS], false, None, None),
        (
            Act::Ban,
            &[MODS],
            false,
            Some(&[][..]),
            Some("missing_permission"),
        ),
        (
            Act::Kick,
            &[MODS],
            false,
            Some(&[][..]),
            Some("missing_permission"),
        ),
        (
            Act::Timeout,
            &[MODS],
            false,
            Some(&[][..]),
            Some("missing_permission"),
        ),
        (Act::Delete, &[], false, None, Some("missing_permission")),
        // Ban Members below the target's rank.
        (
            Act::Ban,
            &[JUNIORS],
            false,
            Some(&[VETERANS][..]),
            Some("not_above"),
        ),
        (
            Act::Ban,
            &[JUNIORS],
            false,
            Some(&[JUNIORS][..]),
            Some("not_above"),
        ),
        (Act::Ban, &[SENIORS], false, Some(&[VETERANS][..]), None),
        (Act::Ban, &[JUNIORS], false, Some(&[][..]), None),
        // A ban of someone who already left: no rank to compare.
        (Act::Ban, &[JUNIORS], false, None, None),
        (Act::LiftBan, &[JUNIORS], false, None, None),
        (
            Act::LiftBan,
            &[MODS],
            false,
            None,
            Some("missing_permission"),
        ),
        // Administrators have every permission but still need rank; never timed out.
        (Act::Ban, &[ADMINS], false, Some(&[SENIORS][..]), None),
        (
            Act::Ban,
            &[SENIORS],
            false,
            Some(&[ADMINS][..]),
            Some("not_above"),
        ),
        (
            Act::Timeout,
            &[BOT_ROLE],
            true,
            Some(&[ADMINS][..]),
            Some("target_is_administrator"),
        ),
        (
            Act::LiftTimeout,
            &[SENIORS],
            false,
            Some(&[JUNIORS][..]),
            None,
        ),
        // The configured moderator role grants permissions, not rank.
        (Act::Ban, &[HELPERS], false, Some(&[][..]), None),
        (
            Act::Ban,
            &[HELPERS],
            false,
            Some(&[VETERANS][..]),
            Some("not_above"),
        ),
        // Steward itself: permission and rank.
        (Act::Timeout, &[BOT_ROLE], true, Some(&[SENIORS][..]), None),
        (
            Act::Timeout,
            &[],
            true,
            Some(&[][..]),
            Some("bot_missing_permission"),
        ),
        (
            Act::Timeout,
            &[JUNIORS],
            true,
            Some(&[SENIORS][..]),
            Some("bot_not_above"),
        ),
        (
            Act::Ban,
            &[HELPERS],
            true,
            Some(&[][..]),
            Some("bot_missing_permission"),
        ),
    ];
    for (act, roles, is_bot, target_roles, expected) in cases {
        let roles = ids(roles);
        let target_roles = target_roles.map(ids);
        let who = Who {
            id: actor,
            roles: &roles,
            is_bot: *is_bot,
        };
        let target = target_roles.as_deref().map(|roles| (target, roles));
        let result = may(&facts, *act, who, target, helpers);
        assert_eq!(
            result.as_ref().err().map(Refusal::label),
            *expected,
            "{act:?} by {roles:?} (bot: {is_bot}) on {target_roles:?}: {result:?}"
        );
    }
}

#[test]
fn the_owner_outranks_everyone_and_nobody_acts_on_the_owner() {
    let facts = facts();
    let owner = Who {
        id: UserId::new(OWNER),
        roles: &[][..],
        is_bot: false,
    };
    let admins = ids(&[ADMINS]);
    let target = Some((UserId::new(5), admins.as_slice()));
    assert_eq!(may(&facts, Act::Ban, owner, target, None), Ok(()));
    let bot_roles = ids(&[BOT_ROLE]);
    let bot = Who {
        id: UserId::new(42),
        roles: &bot_roles,
        is_bot: true,
    };
    let no_roles: &[RoleId] = &[];
    let target = Some((UserId::new(OWNER), no_roles));
    assert_eq!(
        may(&facts, Act::Timeout, bot, target, None),
        Err(Refusal::TargetIsOwner)
    );
}

#[test]
fn refusal_notes_name_the_people_as_mentions() {
    let refusal = Refusal::MissingPermission {
        actor: UserId::new(600),
        permission: "Ban Members",
    };
    let note = RefusalNote {
        act: Act::Ban,
        target: Some(UserId::new(500)),
        refusal: &refusal,
    };
    assert_eq!(
        note.to_string(),
        "Steward did not ban <@500>: <@600> lacks the Ban Members permission on this server."
    );
}
