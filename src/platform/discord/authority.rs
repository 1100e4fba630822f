//! Authority comes from where the action lands: before Steward acts on a member for a
//! moderator, the moderator must hold the matching permission at GUILD level (or the configured
//! moderator role) and rank above the member, as Discord's own UI requires; Steward itself must
//! hold the permission and rank above the member too. The checks are pure ([`may`]); the facts
//! come from serenity's cache or, failing that, from REST ([`Lookup`]).
//!
//! | action            | permission        | rank above the member |
//! |-------------------|-------------------|-----------------------|
//! | delete a message  | Manage Messages   | no (Discord lets Manage Messages delete anyone's) |
//! | time out / lift   | Moderate Members  | yes (and administrators cannot be timed out) |
//! | kick              | Kick Members      | yes |
//! | ban               | Ban Members       | yes, if they are still a member |
//! | unban             | Ban Members       | no (they are not a member) |
//!
//! Nobody acts on the guild owner; the owner outranks everyone.

use std::fmt;

use serenity::all::{
    Cache, ChannelId, GuildId, Http, HttpError, Permissions, RoleId, StatusCode, UserId,
};

use super::error::describe;
use super::rest::ActionSettings;
use super::roles::{role_of, GuildFacts};
use crate::core::Role;

/// What a moderator (or Steward's own policy) is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Delete,
    Timeout,
    LiftTimeout,
    Kick,
    Ban,
    LiftBan,
}

impl Act {
    /// The Discord permission the act needs.
    pub fn permission(self) -> Permissions {
        match self {
            Act::Delete => Permissions::MANAGE_MESSAGES,
            Act::Timeout | Act::LiftTimeout => Permissions::MODERATE_MEMBERS,
            Act::Kick => Permissions::KICK_MEMBERS,
            Act::Ban | Act::LiftBan => Permissions::BAN_MEMBERS,
        }
    }

    /// Whether the actor must rank above the member acted on.
    fn ranked(self) -> bool {
        !matches!(self, Act::Delete | Act::LiftBan)
    }

    /// For logs and notes: "ban", "time out", ...
    pub fn verb(self) -> &'static str {
        match self {
            Act::Delete => "delete a message of",
            Act::Timeout => "time out",
            Act::LiftTimeout => "lift the timeout of",
            Act::Kick => "kick",
            Act::Ban => "ban",
            Act::LiftBan => "lift the ban of",
        }
    }

    fn permission_name(self) -> &'static str {
        match self {
            Act::Delete => "Manage Messages",
            Act::Timeout | Act::LiftTimeout => "Moderate Members",
            Act::Kick => "Kick Members",
            Act::Ban | Act::LiftBan => "Ban Members",
        }
    }
}

/// Who is acting: a person (`is_bot` false) or Steward itself.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub id: UserId,
    pub roles: &'a [RoleId],
    pub is_bot: bool,
}

/// Why an action was not taken. Shown in the mod log (mentions render as names there and
/// ping nobody: mod-log posts allow no mentions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("<@{0}> is not a member of this server")]
    NotAMember(UserId),
    #[error("<@{actor}> lacks the {permission} permission on this server")]
    MissingPermission {
        actor: UserId,
        permission: &'static str,
    },
    #[error("<@{actor}>'s highest role is not above <@{target}>'s")]
    NotAbove { actor: UserId, target: UserId },
    #[error("nobody can act on the server owner")]
    TargetIsOwner,
    #[error("Discord does not allow timing out an administrator")]
    TargetIsAdministrator,
    #[error("Steward lacks the {permission} permission on this server")]
    BotMissingPermission { permission: &'static str },
    #[error("Steward's highest role is not above <@{target}>'s")]
    BotNotAbove { target: UserId },
    #[error("the permissions could not be checked ({0})")]
    Unverified(String),
}

impl Refusal {
    /// A short stable label for logs.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::NotAMember(_) => "not_a_member",
            Refusal::MissingPermission { .. } => "missing_permission",
            Refusal::NotAbove { .. } => "not_above",
            Refusal::TargetIsOwner => "target_is_owner",
            Refusal::TargetIsAdministrator => "target_is_administrator",
            Refusal::BotMissingPermission { .. } => "bot_missing_permission",
            Refusal::BotNotAbove { .. } => "bot_not_above",
            Refusal::Unverified(_) => "unverified",
        }
    }
}

/// The note posted to the community's mod log when an action is refused.
pub struct RefusalNote<'a> {
    pub act: Act,
    pub target: Option<UserId>,
    pub refusal: &'a Refusal,
}

impl fmt::Display for RefusalNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target {
            Some(target) => write!(
                f,
                "Steward did not {} <@{target}>: {}.",
                self.act.verb(),
                self.refusal
            ),
            None => write!(f, "Steward did not delete the message: {}.", self.refusal),
        }
    }
}

/// Whether `who` may do `act` to `target` (their id and roles; `None`: no member is acted on,
/// or they are no longer a member). `moderator_role` grants every permission to people (not to
/// the bot), but never rank.
pub fn may(
    facts: &GuildFacts,
    act: Act,
    who: Who<'_>,
    target: Option<(UserId, &[RoleId])>,
    moderator_role: Option<RoleId>,
) -> Result<(), Refusal> {
    let is_owner = facts.owner == Some(who.id);
    let permissions = facts.permissions_of(who.roles);
    let permitted = is_owner
        || permissions.contains(Permissions::ADMINISTRATOR)
        || permissions.contains(act.permission())
        || (!who.is_bot && moderator_role.is_some_and(|role| who.roles.contains(&role)));
    if !permitted {
        let permission = act.permission_name();
        return Err(if who.is_bot {
            Refusal::BotMissingPermission { permission }
        } else {
            Refusal::MissingPermission {
                actor: who.id,
                permission,
            }
        });
    }
    let Some((target, target_roles)) = target.filter(|_| act.ranked()) else {
        return Ok(());
    };
    if facts.owner == Some(target) {
        return Err(Refusal::TargetIsOwner);
    }
    if act == Act::Timeout
        && facts
            .permissions_of(target_roles)
            .contains(Permissions::ADMINISTRATOR)
    {
        return Err(Refusal::TargetIsAdministrator);
    }
    if is_owner || facts.rank_of(who.roles) > facts.rank_of(target_roles) {
        return Ok(());
    }
    Err(if who.is_bot {
        Refusal::BotNotAbove { target }
    } else {
        Refusal::NotAbove {
            actor: who.id,
            target,
        }
    })
}

/// Facts about guilds, members and channels: serenity's cache first, REST when the cache has
/// nothing (the REST-only executor, a guild not cached yet).
pub struct Lookup<'a> {
    pub http: &'a Http,
    pub cache: Option<&'a Cache>,
    pub settings: &'a ActionSettings,
}

impl<'a> Lookup<'a> {
    pub fn new(http: &'a Http, cache: Option<&'a Cache>, settings: &'a ActionSettings) -> Self {
        Self {
            http,
            cache,
            settings,
        }
    }

    /// The guild's owner and roles (roles stay current in the cache: role events come with the
    /// GUILDS intent).
    pub async fn guild(&self, guild: GuildId) -> Result<GuildFacts, serenity::Error> {
        let cached = self.cache.and_then(|cache| {
            cache
                .guild(guild)
                .map(|found| GuildFacts::from_guild(&found))
        });
        if let Some(facts) = cached {
            return Ok(facts);
        }
        let partial = self.http.get_guild(guild).await?;
        Ok(GuildFacts::from_partial(&partial))
    }

    /// A member's roles; `None` if they are not a member. Members are read from the cache only
    /// with the members intent: without it the cache never hears that a role was taken away,
    /// and a demoted moderator must not keep their authority.
    pub async fn member_roles(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Option<Vec<RoleId>>, serenity::Error> {
        if self.settings.members_intent {
            let cached = self.cache.and_then(|cache| {
                let guild = cache.guild(guild)?;
                guild.members.get(&user).map(|member| member.roles.clone())
            });
            if let Some(roles) = cached {
                return Ok(Some(roles));
            }
        }
        match self.http.get_member(guild, user).await {
            Ok(member) => Ok(Some(member.roles)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The guild a channel belongs to; `None` for channels outside guilds or unknown ones.
    /// Remembered: a channel never moves to another guild.
    pub async fn channel_guild(
        &self,
        channel: ChannelId,
    ) -> Result<Option<GuildId>, serenity::Error> {
        if let Some(guild) = self.settings.remembered_guild(channel) {
            return Ok(Some(guild));
        }
        // serenity's cache finds a channel only through its guild, which is what we look for:
        // ask once, then remember.
        let guild = match self.http.get_channel(channel).await {
            Ok(serenity::all::Channel::Guild(found)) => Some(found.guild_id),
            Ok(_) => None,
            Err(error) if is_not_found(&error) => None,
            Err(error) => return Err(error),
        };
        if let Some(guild) = guild {
            self.settings.remember_guild(channel, guild);
        }
        Ok(guild)
    }

    /// Steward's own user id.
    pub async fn bot(&self) -> Result<UserId, serenity::Error> {
        if let Some(cache) = self.cache {
            return Ok(cache.current_user().id);
        }
        self.settings.bot_id(self.http).await
    }

    /// The role of `user` (with `roles`, as an interaction reports them) from guild-level
    /// permissions. A guild whose roles cannot be read gives no authority.
    pub async fn role(&self, guild: GuildId, user: UserId, roles: &[RoleId]) -> Role {
        match self.guild(guild).await {
            Ok(facts) => role_of(
                user,
                facts.permissions_of(roles),
                roles,
                facts.owner,
                self.settings.moderator_role,
            ),
            Err(error) => {
                tracing::warn!(%guild, error = %describe(&error), "reading the guild's roles failed; treating the user as a member");
                Role::Member
            }
        }
    }

    /// Checks that `act` may be done to `target` in `guild`: for `actor` (a moderator's
    /// decision) and for Steward itself. With no actor (Steward's own policy) only the bot is
    /// checked, and a failed lookup lets Discord decide (it enforces the bot's rank itself);
    /// a moderator's decision that cannot be checked is refused.
    pub async fn check(
        &self,
        guild: GuildId,
        act: Act,
        actor: Option<UserId>,
        target: Option<UserId>,
    ) -> Result<(), Refusal> {
        match self.check_inner(guild, act, actor, target).await {
            Ok(result) => result,
            Err(error) if actor.is_some() => Err(Refusal::Unverified(error.to_string())),
            Err(error) => {
                tracing::warn!(%guild, %error, act = act.verb(), "could not check Steward's own rank; acting anyway");
                Ok(())
            }
        }
    }

    async fn check_inner(
        &self,
        guild: GuildId,
        act: Act,
        actor: Option<UserId>,
        target: Option<UserId>,
    ) -> Result<Result<(), Refusal>, serenity::Error> {
        let facts = self.guild(guild).await?;
        let target_roles = match target.filter(|_| act.ranked()) {
            Some(target) => self
                .member_roles(guild, target)
                .await?
                .map(|roles| (target, roles)),
            None => None,
        };
        let target = target_roles
            .as_ref()
            .map(|(id, roles)| (*id, roles.as_slice()));
        if let Some(actor) = actor {
            let Some(roles) = self.member_roles(guild, actor).await? else {
                return Ok(Err(Refusal::NotAMember(actor)));
            };
            let who = Who {
                id: actor,
                roles: &roles,
                is_bot: false,
            };
            if let Err(refusal) = may(&facts, act, who, target, self.settings.moderator_role) {
                return Ok(Err(refusal));
            }
        }
        if actor.is_none() && !act.ranked() {
            // Steward's own deletions: Discord checks Manage Messages itself.
            return Ok(Ok(()));
        }
        let bot = self.bot().await?;
        let roles = self.member_roles(guild, bot).await?.unwrap_or_default();
        let who = Who {
            id: bot,
            roles: &roles,
            is_bot: true,
        };
        Ok(may(&facts, act, who, target, None))
    }
}

/// Discord answered 404 (unknown member, channel, ...).
pub fn is_not_found(error: &serenity::Error) -> bool {
    matches!(
        error,
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
            if response.status_code == StatusCode::NOT_FOUND
    )
}

#[cfg(test)]
#[path = "authority_tests.rs"]
mod tests;
