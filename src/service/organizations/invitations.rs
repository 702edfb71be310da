//! Invitations by e-mail: a single-use link `/invite/{token}` valid for
//! [`VALID_DAYS`] days. Only the token's SHA-256 is stored; resending replaces the
//! token (the old link dies). The e-mail is enqueued (template `invitation`) in the
//! same transaction. An invitation can only be accepted by the user with its
//! e-mail address.

use super::super::accounts::Role;
use super::super::{link_token, mail, Actor, Error, Tollgate};
use super::roles::{may_invite, role_in, role_name};
use super::seats;
use crate::db::{self, invitations::InvitationRow, users::UserRow};
use crate::identity::Email;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Days an invitation link stays valid.
pub const VALID_DAYS: i64 = 7;
/// SHA-256 of a token, as stored (surrounding blanks of a pasted link ignored).
pub fn hash_token(token: &str) -> Vec<u8> {
    link_token::hash(token.trim())
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// Can be accepted.
    Pending,
    /// Older than its expiry.
    Expired,
    /// Revoked by the organization.
    Revoked,
    /// Already used.
    Accepted,
}

impl InvitationState {
    /// The state of `row` at `now`.
    pub fn of(row: &InvitationRow, now: DateTime<Utc>) -> Self {
        if row.accepted_at.is_some() {
            InvitationState::Accepted
        } else if row.revoked_at.is_some() {
            InvitationState::Revoked
        } else if row.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }

    /// Why an invitation in this state cannot be accepted (`None` when it can).
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            InvitationState::Pending => None,
            InvitationState::Expired => {
                Some("This invitation has expired. Ask the organization for a new one.")
            }
            InvitationState::Revoked => Some("This invitation was withdrawn by the organization."),
            InvitationState::Accepted => Some("This invitation has already been used."),
        }
    }
}

/// An invitation just made or resent: the token exists only here (and in the
/// e-mail).
#[derive(Debug, Clone)]
pub struct Sent {
    /// The invitation.
    pub id: Uuid,
    /// The secret of the link.
    pub token: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// The invitation link for `token`.
pub fn link(t: &Tollgate, token: &str) -> String {
    format!("{}/invite/{token}", t.settings.public_url)
}

/// Who is invited as what: the address and the role's name.
struct Invitee<'a> {
    email: &'a str,
    role: &'a str,
}

async fn enqueue_mail(
    t: &Tollgate,
    tx: &mut db::Tx<'_>,
    account_id: Uuid,
    inviter: &UserRow,
    to: Invitee<'_>,
    sent: &Sent,
) -> Result<(), Error> {
    let (email, role, token, expires_at) = (to.email, to.role, &sent.token, sent.expires_at);
    let org = db::accounts::by_id(&mut **tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("No such organization.".into()))?;
    let context = serde_json::json!({
        "inviter": { "name": inviter.name },
        "organization": { "name": org.name, "slug": org.slug },
        "role": role,
        "link": link(t, token),
        "expires_at": expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    mail::enqueue(
        &mut **tx,
        email,
        "invitation",
        &context,
        None,
        Some(account_id),
    )
    .await?;
    Ok(())
}

async fn audit(
    tx: &mut db::Tx<'_>,
    actor: &Actor,
    action: &str,
    account_id: Uuid,
    id: Uuid,
    details: serde_json::Value,
) -> Result<(), Error> {
    db::audit::record(
        &mut **tx,
        &db::audit::Entry {
            actor,
            action,
            target_kind: "invitation",
            target_id: id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details,
        },
    )
    .await?;
    Ok(())
}

/// `inviter` invites `email` as `role` to `account_id` at `now`.
///
/// # Errors
/// [`Error::NotFound`] when the inviter is not a member; [`Error::Forbidden`] when
/// the rules refuse the role; [`Error::Invalid`] for a bad e-mail, an address that
/// is a member or already invited (field `email`), or no free seat (field `seats`).
pub async fn invite(
    t: &Tollgate,
    account_id: Uuid,
    inviter: &UserRow,
    email: &str,
    role: Role,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Sent, Error> {
    let email = Email::parse(email).map_err(|e| Error::invalid("email", e.0))?;
    crate::service::email_verification::ensure_verified(inviter)?;
    let mut tx = t.pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let mine = role_in(&mut tx, account_id, inviter.id).await?;
    may_invite(mine, role).map_err(|m| Error::Forbidden(m.into()))?;
    if let Some(user) = db::users::by_email(&mut *tx, email.as_str()).await? {
        if db::accounts::role_of(&mut *tx, account_id, user.id)
            .await?
            .is_some()
        {
            return Err(Error::invalid("email", "This person is already a member."));
        }
    }
    if let Some(open) =
        db::invitations::open_for_email(&mut *tx, account_id, email.as_str()).await?
    {
        if InvitationState::of(&open, now) == InvitationState::Pending {
            return Err(Error::invalid(
                "email",
                "This address is already invited. Resend the invitation from the list instead.",
            ));
        }
        db::invitations::revoke(&mut *tx, open.id).await?;
    }
    let use_ = seats::seat_use(t, &mut tx, account_id, now).await?;
    if !use_.has_free_seat() {
        let bought = use_.purchased.unwrap_or_default();
        let next = if mine == Role::Owner {
            "Add seats on the billing page, then invite again."
        } else {
            "Ask the owner to add seats."
        };
        return Err(Error::invalid(
            "seats",
            format!("All {bought} seats are taken by members and pending invitations. {next}"),
        ));
    }
    let token = link_token::new();
    let id = Uuid::now_v7();
    let expires_at = now + Duration::days(VALID_DAYS);
    db::invitations::insert(
        &mut *tx,
        &db::invitations::NewInvitation {
            id,
            account_id,
            email: email.as_str(),
            role: role_name(role),
            token_hash: &hash_token(&token),
            invited_by: Some(inviter.id),
            expires_at,
        },
    )
    .await?;
    let sent = Sent {
        id,
        token,
        expires_at,
    };
    enqueue_mail(
        t,
        &mut tx,
        account_id,
        inviter,
        Invitee {
            email: email.as_str(),
            role: role_name(role),
        },
        &sent,
    )
    .await?;
    audit(&mut tx, actor, "invitation.created", account_id, id, serde_json::json!({ "email": email.as_str(), "role": role_name(role), "expires_at": expires_at })).await?;
    tx.commit().await?;
    Ok(sent)
}

async fn managed_open(
    tx: &mut db::Tx<'_>,
    account_id: Uuid,
    by: Uuid,
    id: Uuid,
) -> Result<InvitationRow, Error> {
    let mine = role_in(tx, account_id, by).await?;
    let inv = db::invitations::open_for_update(&mut **tx, account_id, id)
        .await?
        .ok_or_else(|| Error::NotFound("No such pending invitation.".into()))?;
    let role = Role::parse(&inv.role).unwrap_or(Role::Viewer);
    may_invite(mine, role).map_err(|m| Error::Forbidden(m.into()))?;
    Ok(inv)
}

/// Sends invitation `id` again with a new token and a new expiry; the old link
/// stops working.
///
/// # Errors
/// [`Error::NotFound`] for a non-member or an invitation that is not open;
/// [`Error::Forbidden`] when the rules refuse.
pub async fn resend(
    t: &Tollgate,
    account_id: Uuid,
    by: &UserRow,
    id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Sent, Error> {
    crate::service::email_verification::ensure_verified(by)?;
    let mut tx = t.pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let inv = managed_open(&mut tx, account_id, by.id, id).await?;
    if InvitationState::of(&inv, now) == InvitationState::Expired
        && !seats::seat_use(t, &mut tx, account_id, now)
            .await?
            .has_free_seat()
    {
        return Err(Error::invalid(
            "seats",
            "All seats are taken. Add seats before renewing this expired invitation.",
        ));
    }
    let token = link_token::new();
    let expires_at = now + Duration::days(VALID_DAYS);
    db::invitations::renew(&mut *tx, id, &hash_token(&token), expires_at).await?;
    let sent = Sent {
        id,
        token,
        expires_at,
    };
    enqueue_mail(
        t,
        &mut tx,
        account_id,
        by,
        Invitee {
            email: &inv.email,
            role: &inv.role,
        },
        &sent,
    )
    .await?;
    audit(
        &mut tx,
        actor,
        "invitation.resent",
        account_id,
        id,
        serde_json::json!({ "email": inv.email, "role": inv.role, "expires_at": expires_at }),
    )
    .await?;
    tx.commit().await?;
    Ok(sent)
}

/// Revokes invitation `id`; its link stops working and its seat is free.
///
/// # Errors
/// As [`resend`].
pub async fn revoke(
    t: &Tollgate,
    account_id: Uuid,
    by: Uuid,
    id: Uuid,
    actor: &Actor,
) -> Result<(), Error> {
    let mut tx = t.pool.begin().await?;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let inv = managed_open(&mut tx, account_id, by, id).await?;
    db::invitations::revoke(&mut *tx, id).await?;
    audit(
        &mut tx,
        actor,
        "invitation.revoked",
        account_id,
        id,
        serde_json::json!({ "email": inv.email, "role": inv.role }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Pending invitations of `account_id`, for its owner and admins.
///
/// # Errors
/// [`Error::NotFound`] for non-members, [`Error::Forbidden`] for members and viewers.
pub async fn pending(
    t: &Tollgate,
    account_id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationRow>, Error> {
    let mut conn = t.pool.acquire().await?;
    if role_in(&mut conn, account_id, by).await? > Role::Admin {
        return Err(Error::Forbidden(
            "Only the owner and admins see invitations.".into(),
        ));
    }
    Ok(db::invitations::pending(&mut *conn, account_id, now).await?)
}

/// What the link shows before accepting.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The invitation.
    pub invitation: InvitationRow,
    /// Its state now.
    pub state: InvitationState,
    /// The organization's name.
    pub organization: String,
    /// The organization's slug.
    pub slug: String,
    /// Who invited, if still known.
    pub inviter: Option<String>,
}

/// The invitation behind `token`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown token (never issued, or replaced by a resend).
pub async fn preview(t: &Tollgate, token: &str, now: DateTime<Utc>) -> Result<Preview, Error> {
    let inv = db::invitations::by_token_hash(&t.pool, &hash_token(token))
        .await?
        .ok_or_else(unknown)?;
    let org = db::accounts::by_id(&t.pool, inv.account_id)
        .await?
        .ok_or_else(unknown)?;
    let inviter = match inv.invited_by {
        Some(id) => db::users::by_id(&t.pool, id).await?.map(|u| u.name),
        None => None,
    };
    Ok(Preview {
        state: InvitationState::of(&inv, now),
        organization: org.name,
        slug: org.slug.unwrap_or_default(),
        inviter,
        invitation: inv,
    })
}

fn unknown() -> Error {
    Error::NotFound("This invitation link is not valid. It may have been replaced by a newer invitation; use the link in the latest e-mail.".into())
}

/// `user` accepts the invitation behind `token` and joins with its role. Returns
/// the organization's id and slug.
///
/// # Errors
/// [`Error::NotFound`] for an unknown token; [`Error::Conflict`] for an expired,
/// revoked or used invitation, or when already a member; [`Error::Forbidden`] when
/// `user`'s e-mail is not the invited address.
pub async fn accept(
    t: &Tollgate,
    token: &str,
    user: &UserRow,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Uuid, String), Error> {
    let token_hash = hash_token(token);
    let mut tx = t.pool.begin().await?;
    // Account first, then the invitation: the order revoke and resend lock in, so
    // an accept racing a revoke waits instead of deadlocking.
    let account_id = db::invitations::by_token_hash(&mut *tx, &token_hash)
        .await?
        .ok_or_else(unknown)?
        .account_id;
    db::memberships::lock_account(&mut *tx, account_id).await?;
    let inv = db::invitations::by_token_hash_for_update(&mut *tx, &token_hash)
        .await?
        .ok_or_else(unknown)?;
    if let Some(why) = InvitationState::of(&inv, now).refusal() {
        return Err(Error::Conflict(why.into()));
    }
    if !inv.email.eq_ignore_ascii_case(&user.email) {
        return Err(Error::Forbidden(format!(
            "This invitation was sent to another e-mail address; you are signed in as {}. Log out and sign in (or sign up) with the invited address.",
            user.email
        )));
    }
    if db::accounts::role_of(&mut *tx, inv.account_id, user.id)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(
            "You are already a member of this organization.".into(),
        ));
    }
    db::accounts::insert_membership(&mut *tx, inv.account_id, user.id, &inv.role).await?;
    db::invitations::accept(&mut *tx, inv.id, user.id).await?;
    // The invitation reached this address: it is proved.
    crate::service::email_verification::mark_verified(&mut tx, user, "invitation").await?;
    audit(
        &mut tx,
        actor,
        "invitation.accepted",
        inv.account_id,
        inv.id,
        serde_json::json!({ "email": inv.email, "role": inv.role, "user": user.id }),
    )
    .await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "membership.added",
            target_kind: "membership",
            target_id: format!("{}:{}", inv.account_id, user.id),
            account_id: Some(inv.account_id),
            ip: None,
            details: serde_json::json!({ "user": user.id, "role": inv.role, "invitation": inv.id }),
        },
    )
    .await?;
    db::usage::notify_changed(&mut *tx, &[inv.account_id]).await?;
    let slug = db::accounts::by_id(&mut *tx, inv.account_id)
        .await?
        .and_then(|a| a.slug)
        .unwrap_or_default();
    tx.commit().await?;
    Ok((inv.account_id, slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = link_token::new();
        assert_eq!(a.len(), link_token::CHARS);
        assert_ne!(a, link_token::new());
        assert_eq!(hash_token(&a).len(), 32);
        assert_eq!(hash_token(&a), hash_token(&format!(" {a} ")));
    }
}
