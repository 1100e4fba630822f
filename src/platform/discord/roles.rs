//! Who may do what: Discord permissions mapped to Steward's roles. Pure functions over plain
//! values, so they are tested without a gateway.
//!
//! Roles come from GUILD-level permissions only: `@everyone` plus the member's roles, never a
//! channel's overwrites (a channel where someone may manage messages does not make them a
//! moderator of the server).
//!
//! Moderator = Manage Messages, Moderate Members, Kick Members or Ban Members, or the configured
//! moderator role. Owner = the guild owner, or Administrator.

use std::cmp::Reverse;
use std::collections::HashMap;

use serenity::all::{
    Guild, GuildId, PartialGuild, Permissions, Role as DiscordRole, RoleId, UserId,
};

use crate::core::Role;

/// What matters about one guild role: what it grants and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleFacts {
    pub permissions: Permissions,
    /// Discord's position: higher is above.
    pub position: u16,
}

/// What the adapter knows about a guild, copied out of the cache or a REST answer (cache
/// references must not be held across awaits).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuildFacts {
    pub owner: Option<UserId>,
    /// Guild-level permissions and position of each role; `@everyone` has the guild's id.
    pub roles: HashMap<RoleId, RoleFacts>,
    pub everyone: Option<RoleId>,
}

/// A member's rank: their highest role, ordered as Discord orders roles (position, then the
/// older role, i.e. the lower id, above). `None`: no role above `@everyone`.
pub type Rank = Option<(u16, Reverse<RoleId>)>;

impl GuildFacts {
    pub fn from_guild(guild: &Guild) -> Self {
        Self::from_parts(guild.id, guild.owner_id, &guild.roles)
    }

    /// From `GET /guilds/{id}` (the REST fallback when the cache lacks the guild).
    pub fn from_partial(guild: &PartialGuild) -> Self {
        Self::from_parts(guild.id, guild.owner_id, &guild.roles)
    }

    fn from_parts(id: GuildId, owner: UserId, roles: &HashMap<RoleId, DiscordRole>) -> Self {
        Self {
            owner: Some(owner),
            roles: roles
                .iter()
                .map(|(id, role)| {
                    let facts = RoleFacts {
                        permissions: role.permissions,
                        position: role.position,
                    };
                    (*id, facts)
                })
                .collect(),
            everyone: Some(RoleId::new(id.get())),
        }
    }

    /// A member's guild-level permissions: `@everyone` plus each of their roles. Channel
    /// overwrites are deliberately not applied: authority over the server is guild-level.
    pub fn permissions_of(&self, member_roles: &[RoleId]) -> Permissions {
        self.everyone
            .iter()
            .chain(member_roles)
            .filter_map(|role| self.roles.get(role))
            .fold(Permissions::empty(), |all, role| all | role.permissions)
    }

    /// The rank of a member with `member_roles` (roles the guild does not know are ignored).
    pub fn rank_of(&self, member_roles: &[RoleId]) -> Rank {
        member_roles
            .iter()
            .filter(|role| Some(**role) != self.everyone)
            .filter_map(|role| {
                let facts = self.roles.get(role)?;
                Some((facts.position, Reverse(*role)))
            })
            .max()
    }
}

/// Guild-level permissions that make someone a moderator.
pub const MODERATOR_PERMISSIONS: Permissions = Permissions::MANAGE_MESSAGES
    .union(Permissions::MODERATE_MEMBERS)
    .union(Permissions::KICK_MEMBERS)
    .union(Permissions::BAN_MEMBERS);

/// The role of `user`, from their guild-level `permissions` and roles.
pub fn role_of(
    user: UserId,
    permissions: Permissions,
    member_roles: &[RoleId],
    owner: Option<UserId>,
    moderator_role: Option<RoleId>,
) -> Role {
    if owner == Some(user) || permissions.contains(Permissions::ADMINISTRATOR) {
        Role::Owner
    } else if permissions.intersects(MODERATOR_PERMISSIONS)
        || moderator_role.is_some_and(|role| member_roles.contains(&role))
    {
        Role::Moderator
    } else {
        Role::Member
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(permissions: Permissions, position: u16) -> RoleFacts {
        RoleFacts {
            permissions,
            position,
        }
    }

    fn facts() -> GuildFacts {
        let everyone = RoleId::new(100);
        GuildFacts {
            owner: Some(UserId::new(1)),
            roles: HashMap::from([
                (
                    everyone,
                    role(Permissions::SEND_MESSAGES | Permissions::VIEW_CHANNEL, 0),
                ),
                (RoleId::new(200), role(Permissions::MANAGE_MESSAGES, 1)),
                (RoleId::new(300), role(Permissions::ADMINISTRATOR, 5)),
                (RoleId::new(400), role(Permissions::empty(), 2)),
                (RoleId::new(500), role(Permissions::MODERATE_MEMBERS, 3)),
                (RoleId::new(600), role(Permissions::BAN_MEMBERS, 3)),
            ]),
            everyone: Some(everyone),
        }
    }

    #[test]
    fn role_table() {
        let facts = facts();
        let helpers = Some(RoleId::new(400));
        // (user, member roles, configured moderator role, expected)
        let cases: &[(u64, &[u64], Option<RoleId>, Role)] = &[
            (1, &[], None, Role::Owner),
            (2, &[], None, Role::Member),
            (2, &[200], None, Role::Moderator),
            (2, &[500], None, Role::Moderator),
            (2, &[600], None, Role::Moderator),
            (2, &[300], None, Role::Owner),
            (2, &[400], None, Role::Member),
            (2, &[400], helpers, Role::Moderator),
            (2, &[999], helpers, Role::Member),
        ];
        for (user, roles, moderator_role, expected) in cases {
            let roles: Vec<RoleId> = roles.iter().map(|r| RoleId::new(*r)).collect();
            let permissions = facts.permissions_of(&roles);
            let role = role_of(
                UserId::new(*user),
                permissions,
                &roles,
                facts.owner,
                *moderator_role,
            );
            assert_eq!(role, *expected, "user {user} roles {roles:?}");
        }
    }

    #[test]
    fn everyone_permissions_apply_to_all_members() {
        let mut facts = facts();
        facts
            .roles
            .insert(RoleId::new(100), role(Permissions::MANAGE_MESSAGES, 0));
        let role = role_of(
            UserId::new(2),
            facts.permissions_of(&[]),
            &[],
            facts.owner,
            None,
        );
        assert_eq!(role, Role::Moderator);
    }

    #[test]
    fn ranks_follow_discords_role_order() {
        let facts = facts();
        let rank = |roles: &[u64]| {
            let roles: Vec<RoleId> = roles.iter().map(|r| RoleId::new(*r)).collect();
            facts.rank_of(&roles)
        };
        assert_eq!(rank(&[]), None);
        assert_eq!(rank(&[100]), None, "@everyone is no rank");
        assert_eq!(rank(&[999]), None, "unknown roles are ignored");
        assert!(rank(&[200]) > rank(&[]));
        assert!(rank(&[300, 200]) > rank(&[500]));
        // Same position: the older role (lower id) is above.
        assert!(rank(&[500]) > rank(&[600]));
    }
}
