//! Setting and removing an account's entitlement overrides ([`crate::overrides`]):
//! by a super admin acting as themself, or the CLI. Every change is audited and
//! reaches the account's live meters at once.

use super::require_super_admin;
use crate::db;
use crate::overrides::{self, Input, Override};
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// Who may change overrides, and the author name recorded.
async fn author(t: &Tollgate, actor: &Actor) -> Result<String, Error> {
    match actor {
        Actor::Cli => Ok("cli".into()),
        _ => Ok(require_super_admin(&t.pool, actor).await?.email),
    }
}

/// Sets (or replaces) the account's override described by `input`, with `reason`,
/// until `expires_at` (UTC, exclusive; `None`: until removed). Audited as
/// `entitlement_override.set`.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin acting as themself or the CLI;
/// [`Error::Invalid`] for an unknown meter or feature, a value of the wrong kind, an
/// empty or over-long reason (or one with control characters), an expiry not after
/// `now`; [`Error::NotFound`] for an unknown account.
pub async fn set(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    input: &Input<'_>,
    reason: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Override, Error> {
    let author = author(t, actor).await?;
    let catalog = t.catalog.get()?;
    let target =
        overrides::parse(&catalog, input).map_err(|r| Error::invalid(r.field, r.message))?;
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON
        || reason.chars().any(char::is_control)
    {
        return Err(Error::invalid(
            "reason",
            format!("Say why, in 1 to {MAX_REASON} characters on one line."),
        ));
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Err(Error::invalid(
            "expires_at",
            "The expiry must be in the future.",
        ));
    }
    let o = Override {
        target,
        reason: reason.to_string(),
        author,
        created_at: now,
        expires_at,
    };
    let mut tx = t.pool.begin().await?;
    db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such account".into()))?;
    db::overrides::upsert(&mut *tx, account_id, &o, actor.user_id()).await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "entitlement_override.set",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "override": o.target, "reason": o.reason, "expires_at": o.expires_at }),
        },
    )
    .await?;
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(o)
}

/// Removes the account's override of `kind` (`limit`/`feature`) `key`; the plan's
/// value applies again. Audited as `entitlement_override.removed`.
///
/// # Errors
/// [`Error::Forbidden`] as [`set`]; [`Error::NotFound`] when there is no such override.
pub async fn remove(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    kind: &str,
    key: &str,
) -> Result<(), Error> {
    author(t, actor).await?;
    let mut tx = t.pool.begin().await?;
    let removed = db::overrides::remove(&mut *tx, account_id, kind.trim(), key.trim())
        .await?
        .ok_or_else(|| Error::NotFound("This account has no such override.".into()))?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "entitlement_override.removed",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "kind": kind.trim(), "key": key.trim(), "value": removed }),
        },
    )
    .await?;
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(())
}

/// Every override of the account, expired ones too, newest first.
///
/// # Errors
/// [`Error::Forbidden`] as [`set`]; database errors.
pub async fn list(t: &Tollgate, actor: &Actor, account_id: Uuid) -> Result<Vec<Override>, Error> {
    author(t, actor).await?;
    Ok(db::overrides::all_for_account(&t.pool, account_id).await?)
}
