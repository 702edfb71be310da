//! Impersonation: a super admin views Tollgate as a user to help them. The session
//! keeps an [`Impersonation`]; while it lasts the admin has exactly that user's
//! powers, and everything done is audited with both ids. It ends on "stop", on
//! log-out, or [`MAX_MINUTES`] after it started.

use super::{audit, require_super_admin, user};
use crate::db::{self, users::UserRow};
use crate::service::{Actor, Error};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// How long an impersonation lasts, in minutes.
pub const MAX_MINUTES: i64 = 60;
/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What the session keeps while a super admin impersonates a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impersonation {
    /// The super admin (also the session's signed-in user).
    pub admin_id: Uuid,
    /// The user being viewed as.
    pub user_id: Uuid,
    /// When it started; it ends [`MAX_MINUTES`] later.
    pub started_at: DateTime<Utc>,
    /// The account the admin's pages acted for before, restored on "stop".
    pub admin_account_id: Uuid,
}

impl Impersonation {
    /// Whether it has run out at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.started_at + Duration::minutes(MAX_MINUTES)
    }

    /// The audit actor while it lasts: the user, impersonated by the admin.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.user_id,
            impersonator: Some(self.admin_id),
        }
    }
}

/// Checks a reason: required, at most [`MAX_REASON_CHARS`] characters.
///
/// # Errors
/// [`Error::Invalid`] for field `reason`.
pub fn parse_reason(reason: &str) -> Result<String, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "Say why you need to view as this user.",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("Keep the reason to {MAX_REASON_CHARS} characters."),
        ));
    }
    Ok(reason.to_string())
}

/// A started impersonation and the user's personal account (where their pages
/// start).
#[derive(Debug, Clone)]
pub struct Started {
    /// What the session keeps.
    pub impersonation: Impersonation,
    /// The user viewed as.
    pub user: UserRow,
    /// Their personal account.
    pub account_id: Uuid,
}

/// Starts impersonating `user_id` for `reason` at `now`; `admin_account_id` is
/// the account the admin's pages act for (restored on stop). Audited as
/// `impersonation.started` with the user as actor, the admin as impersonator and
/// the reason.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor (an impersonating one included),
/// for the admin themself and for another super admin; [`Error::Invalid`] for the
/// reason; [`Error::NotFound`]; [`Error::Conflict`] for a disabled user.
pub async fn start(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    reason: &str,
    admin_account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Started, Error> {
    let admin = require_super_admin(pool, actor).await?;
    let reason = parse_reason(reason)?;
    let mut tx = pool.begin().await?;
    let target = user(&mut *tx, user_id).await?;
    if target.id == admin.id {
        return Err(Error::Forbidden("You cannot impersonate yourself.".into()));
    }
    if target.is_super_admin {
        return Err(Error::Forbidden(
            "Super admins cannot be impersonated.".into(),
        ));
    }
    if target.disabled_at.is_some() {
        return Err(Error::Conflict(format!(
            "{} is disabled and cannot be impersonated.",
            target.email
        )));
    }
    let account_id = db::accounts::personal_of(&mut *tx, user_id)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| Error::NotFound("This user has no account.".into()))?;
    let impersonation = Impersonation {
        admin_id: admin.id,
        user_id,
        started_at: now,
        admin_account_id,
    };
    let details = serde_json::json!({
        "reason": reason,
        "admin_email": admin.email,
        "expires_at": now + Duration::minutes(MAX_MINUTES),
    });
    audit(
        &mut *tx,
        &impersonation.actor(),
        "impersonation.started",
        ("user", user_id.to_string()),
        Some(account_id),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(Started {
        impersonation,
        user: target,
        account_id,
    })
}

/// How an impersonation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The admin pressed "Stop" (`impersonation.stopped`).
    Stopped,
    /// The admin logged out (`impersonation.stopped`, `how: log_out`).
    LoggedOut,
    /// It ran out (`impersonation.expired`).
    Expired,
    /// The admin lost their powers or the user was disabled or promoted
    /// (`impersonation.ended`).
    Revoked,
}

/// Audits the end of `imp`, and wakes the live streams of the user's accounts so
/// that a stream the admin opened meanwhile ends at once.
///
/// # Errors
/// A database error.
pub async fn end(
    pool: &PgPool,
    imp: &Impersonation,
    how: Ending,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (action, how_text) = match how {
        Ending::Stopped => ("impersonation.stopped", "stop"),
        Ending::LoggedOut => ("impersonation.stopped", "log_out"),
        Ending::Expired => ("impersonation.expired", "expired"),
        Ending::Revoked => ("impersonation.ended", "revoked"),
    };
    let minutes = (now - imp.started_at).num_minutes();
    let details =
        serde_json::json!({ "how": how_text, "started_at": imp.started_at, "minutes": minutes });
    audit(
        pool,
        &imp.actor(),
        action,
        ("user", imp.user_id.to_string()),
        None,
        details,
    )
    .await?;
    // Wakes the live streams of the user's accounts: one the admin opened while
    // impersonating re-checks and ends now rather than at the next change.
    let accounts = db::memberships::account_ids_of(pool, imp.user_id).await?;
    db::usage::notify_changed(pool, &accounts).await?;
    Ok(())
}

/// Whether `imp` may go on: the admin is still an enabled super admin, and the
/// user is enabled and not a super admin. Returns the user when it may.
///
/// # Errors
/// A database error.
pub async fn still_valid(pool: &PgPool, imp: &Impersonation) -> Result<Option<UserRow>, Error> {
    let admin_ok = db::users::by_id(pool, imp.admin_id)
        .await?
        .is_some_and(|a| a.is_super_admin && a.disabled_at.is_none());
    if !admin_ok {
        return Ok(None);
    }
    Ok(db::users::by_id(pool, imp.user_id)
        .await?
        .filter(|u| !u.is_super_admin && u.disabled_at.is_none()))
}
