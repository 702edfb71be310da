//! Who may change whose membership, and the changes themselves: role changes,
//! removal, leaving and ownership transfer. The rules:
//!
//! - exactly one owner; the owner's role changes only by transferring ownership,
//!   which only the owner does (the old owner becomes an admin);
//! - the owner manages everyone else; an admin manages members and viewers (and
//!   gives them only the member or viewer role); members and viewers manage nobody;
//! - nobody removes the owner; anyone but the owner may leave.
//!
//! Every change is audited and wakes the organization's live streams, which re-check
//! membership (a removed member's stream ends).

use super::super::accounts::Role;
use super::super::{Actor, Error};
use crate::db;
use sqlx::PgPool;
use uuid::Uuid;

/// A change to someone's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Give them this role.
    SetRole(Role),
    /// Remove them.
    Remove,
}

/// Whether `actor` (their role) may make `change` to a member holding `target`.
///
/// # Errors
/// A sentence explaining the refusal.
pub fn may_change(actor: Role, target: Role, change: MemberChange) -> Result<(), &'static str> {
    if target == Role::Owner {
        return Err(match change {
            MemberChange::Remove => {
                "The owner cannot be removed. The owner may transfer ownership first."
            }
            MemberChange::SetRole(_) => {
                "The owner's role changes only when the owner transfers ownership."
            }
        });
    }
    if change == MemberChange::SetRole(Role::Owner) {
        return Err("Only the owner can make someone the owner, by transferring ownership.");
    }
    match actor {
        Role::Owner => Ok(()),
        Role::Admin => match (target, change) {
            (Role::Admin, _) => Err("Only the owner can change or remove admins."),
            (_, MemberChange::SetRole(Role::Admin)) => {
                Err("Only the owner can make someone an admin.")
            }
            _ => Ok(()),
        },
        Role::Member | Role::Viewer => Err("Only the owner and admins manage members."),
    }
}

/// Whether `actor` may invite someone as `role` (or manage such invitations).
///
/// # Errors
/// A sentence explaining the refusal.
pub fn may_invite(actor: Role, role: Role) -> Result<(), &'static str> {
    match (actor, role) {
        (_, Role::Owner) => {
            Err("Nobody is invited as owner; the owner transfers ownership to a member.")
        }
        (Role::Owner, _) => Ok(()),
        (Role::Admin, Role::Member | Role::Viewer) => Ok(()),
        (Role::Admin, _) => Err("Only the owner can invite admins."),
        _ => Err("Only the owner and admins invite members."),
    }
}

/// Parses a role chosen in a form (`admin`, `member`, `viewer`; `owner` too, which
/// the rules then refuse).
///
/// # Errors
/// [`Error::Invalid`] for field `role`.
pub fn parse_role(s: &str) -> Result<Role, Error> {
    Role::parse(s.trim()).ok_or_else(|| Error::invalid("role", "Choose admin, member or viewer."))
}

/// The stored name of a role.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Member => "member",
        Role::Viewer => "viewer",
    }
}

/// The caller's role, or the refusal every outsider gets.
pub(super) async fn role_in(
    db: &mut sqlx::PgConnection,
    account_id: Uuid,
    user_id: Uuid,
) -> Result<Role, Error> {
    db::accounts::role_of(&mut *db, account_id, user_id)
        .await?
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(|| Error::NotFound("No such organization.".into()))
}

async fn target_role(
    db: &mut sqlx::PgConnection,
    account_id: Uuid,
    user_id: Uuid,
) -> Result<Role, Error> {
    db::memberships::lock_role(&mut *db, account_id, user_id)
        .await?
        .as_deref()
        .and_then(Role::parse)
        .ok_or_else(|| Error::NotFound("This person is not a member of the organization.".into()))
}

async fn audit(
    tx: &mut db::Tx<'_>,
    actor: &Actor,
    action: &str,
    account_id: Uuid,
    target: Uuid,
    details: serde_json::Value,
) -> Result<(), Error> {
    db::audit::record(
        &mut **tx,
        &db::audit::Entry {
            actor,
            action,
            target_kind: "membership",
            target_id: format!("{account_id}:{target}"),
            account_id: Some(account_id),
            ip: None,
            details,
        },
    )
    .await?;
    db::usage::notify_changed(&mut **tx, &[account_id]).await?;
    Ok(())
}

/// Gives `target` the role `role` in `account_id`, as `by`; below admin, the
/// account's API keys they created are revoked (only owners and admins hold keys).
///
/// # Errors
/// [`Error::NotFound`] when `by` is not a member (the organization is hidden) or
/// `target` is not; [`Error::Forbidden`] when the rules refuse.
pub async fn change_role(
    pool: &PgPool,
    account_id: Uuid,
    by: Uuid,
    target: Uuid,
    role: Role,
    actor: &Actor,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let mine = role_in(&mut tx, account_id, by).await?;
    let theirs = target_role(&mut tx, account_id, target).await?;
    may_change(mine, theirs, MemberChange::SetRole(role))
        .map_err(|m| Error::Forbidden(m.into()))?;
    if theirs == role {
        return Ok(());
    }
    db::memberships::set_role(&mut *tx, account_id, target, role_name(role)).await?;
    // Below admin a member may not hold API keys: the ones they made end.
    let keys = if role > Role::Admin {
        db::api_keys::revoke_created_by(&mut *tx, target, Some(account_id)).await?
    } else {
        Vec::new()
    };
    let details = serde_json::json!({ "user": target, "from": role_name(theirs), "to": role_name(role), "keys_revoked": keys });
    audit(
        &mut tx,
        actor,
        "membership.role_changed",
        account_id,
        target,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes `target` from `account_id`, as `by`. Their access ends with the commit:
/// every page, server function and live stream checks membership on each request,
/// and the account's API keys they created are revoked.
///
/// # Errors
/// As [`change_role`].
pub async fn remove(
    pool: &PgPool,
    account_id: Uuid,
    by: Uuid,
    target: Uuid,
    actor: &Actor,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let mine = role_in(&mut tx, account_id, by).await?;
    let theirs = target_role(&mut tx, account_id, target).await?;
    if by == target {
        return Err(Error::Forbidden(
            "Use \"Leave\" to leave the organization.".into(),
        ));
    }
    may_change(mine, theirs, MemberChange::Remove).map_err(|m| Error::Forbidden(m.into()))?;
    db::memberships::delete(&mut *tx, account_id, target).await?;
    let keys = db::api_keys::revoke_created_by(&mut *tx, target, Some(account_id)).await?;
    audit(
        &mut tx,
        actor,
        "membership.removed",
        account_id,
        target,
        serde_json::json!({ "user": target, "role": role_name(theirs), "keys_revoked": keys }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `user_id` leaves `account_id`, and the account's API keys they created are
/// revoked. The owner cannot leave (transfer first).
///
/// # Errors
/// [`Error::NotFound`] for non-members; [`Error::Forbidden`] for the owner.
pub async fn leave(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    actor: &Actor,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let mine = role_in(&mut tx, account_id, user_id).await?;
    if mine == Role::Owner {
        return Err(Error::Forbidden(
            "The owner cannot leave. Transfer ownership to another member first.".into(),
        ));
    }
    db::memberships::delete(&mut *tx, account_id, user_id).await?;
    let keys = db::api_keys::revoke_created_by(&mut *tx, user_id, Some(account_id)).await?;
    audit(
        &mut tx,
        actor,
        "membership.left",
        account_id,
        user_id,
        serde_json::json!({ "user": user_id, "role": role_name(mine), "keys_revoked": keys }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The owner `by` makes `target` (a member) the owner and becomes an admin.
///
/// # Errors
/// [`Error::Forbidden`] unless `by` is the owner acting as themself (not
/// impersonated); [`Error::NotFound`] when `target` is not a member;
/// [`Error::Invalid`] when `target` is the owner.
pub async fn transfer_ownership(
    pool: &PgPool,
    account_id: Uuid,
    by: Uuid,
    target: Uuid,
    actor: &Actor,
) -> Result<(), Error> {
    crate::service::keys::refuse_impersonated(actor, "transfer ownership")?;
    let mut tx = pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let mine = role_in(&mut tx, account_id, by).await?;
    if mine != Role::Owner {
        return Err(Error::Forbidden(
            "Only the owner can transfer ownership.".into(),
        ));
    }
    let theirs = target_role(&mut tx, account_id, target).await?;
    if theirs == Role::Owner {
        return Err(Error::invalid("user", "You are already the owner."));
    }
    // Demote first: the partial unique index allows one owner at a time.
    db::memberships::set_role(&mut *tx, account_id, by, "admin").await?;
    db::memberships::set_role(&mut *tx, account_id, target, "owner").await?;
    audit(
        &mut tx,
        actor,
        "organization.ownership_transferred",
        account_id,
        target,
        serde_json::json!({ "from": by, "to": target, "to_previous_role": role_name(theirs) }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberChange::{Remove, SetRole};
    use Role::{Admin, Member, Owner, Viewer};

    #[test]
    fn the_owner_manages_everyone_but_stays_owner() {
        for target in [Admin, Member, Viewer] {
            assert!(may_change(Owner, target, Remove).is_ok());
            for to in [Admin, Member, Viewer] {
                assert!(may_change(Owner, target, SetRole(to)).is_ok());
            }
            assert!(
                may_change(Owner, target, SetRole(Owner)).is_err(),
                "ownership moves by transfer only"
            );
        }
        assert!(may_change(Owner, Owner, Remove).is_err());
        assert!(may_change(Owner, Owner, SetRole(Admin)).is_err());
    }

    #[test]
    fn admins_manage_members_and_viewers_only() {
        assert!(may_change(Admin, Member, SetRole(Viewer)).is_ok());
        assert!(may_change(Admin, Viewer, SetRole(Member)).is_ok());
        assert!(may_change(Admin, Member, Remove).is_ok());
        assert!(may_change(Admin, Member, SetRole(Admin)).is_err());
        assert!(may_change(Admin, Admin, SetRole(Member)).is_err());
        assert!(may_change(Admin, Admin, Remove).is_err());
        assert!(may_change(Admin, Owner, Remove).is_err());
        assert!(may_change(Admin, Owner, SetRole(Member)).is_err());
    }

    #[test]
    fn members_and_viewers_manage_nobody() {
        for actor in [Member, Viewer] {
            for target in [Admin, Member, Viewer] {
                assert!(may_change(actor, target, Remove).is_err());
                assert!(may_change(actor, target, SetRole(Viewer)).is_err());
            }
        }
    }

    #[test]
    fn invitations_follow_the_same_rules() {
        assert!(may_invite(Owner, Admin).is_ok());
        assert!(may_invite(Admin, Member).is_ok() && may_invite(Admin, Viewer).is_ok());
        assert!(may_invite(Admin, Admin).is_err());
        assert!(may_invite(Owner, Owner).is_err());
        assert!(may_invite(Member, Viewer).is_err() && may_invite(Viewer, Viewer).is_err());
    }
}
