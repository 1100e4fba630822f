//! Who may do what: Discord permissions mapped to Steward's roles. Pure functions over plain
//! values, so they are tested without a gateway.
//!
//! Moderator = Manage Messages, Moderate Members, or the configured moderator role.
//! Owner = the guild owner, or Administrator.

use std::collections::HashMap;

use serenity::all::{Guild, Permissions, RoleId, UserId};

use crate::core::Role;

/// What the adapter knows about a guild, copied out of the cache (cache references must not be
/// held across awaits).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuildFacts {
    pub owner: Option<UserId>,
    /// Guild-level permissions of each role; the `@everyone` role has the guild's id.
    pub role_permissions: HashMap<RoleId, Permissions>,
    pub everyone: Option<RoleId>,
}

impl GuildFacts {
    pub fn from_guild(guild: &Guild) -> Self {
        Self {
            owner: Some(guild.owner_id),
            role_permissions: guild
                .roles
                .iter()
                .map(|(id, role)| (*id, role.permissions))
                .collect(),
            everyone: Some(RoleId::new(guild.id.get())),
        }
    }

    /// A member's guild-level permissions: `@everyone` plus each of their roles. Channel
    /// overwrites are not applied; Discord's own checks still guard every action Steward takes.
    pub fn permissions_of(&self, member_roles: &[RoleId]) -> Permissions {
        self.everyone
            .iter()
            .chain(member_roles)
            .filter_map(|role| self.role_permissions.get(role))
            .fold(Permissions::empty(), |all, p| all | *p)
    }
}

/// The role of `user`, from their permissions (guild-level, or the ones Discord computed for an
/// interaction) and roles.
pub fn role_of(
    user: UserId,
    permissions: Permissions,
    member_roles: &[RoleId],
    owner: Option<UserId>,
    moderator_role: Option<RoleId>,
) -> Role {
    if owner == Some(user) || permissions.contains(Permissions::ADMINISTRATOR) {
        Role::Owner
    } else if permissions.intersects(Permissions::MANAGE_MESSAGES | Permissions::MODERATE_MEMBERS)
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

    fn facts() -> GuildFacts {
        let everyone = RoleId::new(100);
        GuildFacts {
            owner: Some(UserId::new(1)),
            role_permissions: HashMap::from([
                (
                    everyone,
                    Permissions::SEND_MESSAGES | Permissions::VIEW_CHANNEL,
                ),
                (RoleId::new(200), Permissions::MANAGE_MESSAGES),
                (RoleId::new(300), Permissions::ADMINISTRATOR),
                (RoleId::new(400), Permissions::empty()),
                (RoleId::new(500), Permissions::MODERATE_MEMBERS),
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
            .role_permissions
            .insert(RoleId::new(100), Permissions::MANAGE_MESSAGES);
        let role = role_of(
            UserId::new(2),
            facts.permissions_of(&[]),
            &[],
            facts.owner,
            None,
        );
        assert_eq!(role, Role::Moderator);
    }
}
