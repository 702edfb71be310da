//! Applying a catalog coupon to an account (seed 004's non-profit discount), by a
//! super admin or the CLI. The coupon applies from the next invoice on, for its
//! duration ([`crate::coupon::Coupon::applies`]).

use crate::db;
use crate::service::admin::require_super_admin;
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Redeems coupon `code` for the account, replacing its earlier coupon. Audited as
/// `coupon.applied`.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin or the CLI; [`Error::Invalid`]
/// (field `coupon`) for a code the catalog does not have; [`Error::NotFound`] for
/// an unknown account.
pub async fn apply(t: &Tollgate, actor: &Actor, account_id: Uuid, code: &str, now: DateTime<Utc>) -> Result<(), Error> {
    if !matches!(actor, Actor::Cli) {
        require_super_admin(&t.pool, actor).await?;
    }
    let catalog = t.catalog.get()?;
    let coupon = catalog.coupon(code.trim()).ok_or_else(|| {
        let known: Vec<&str> = catalog.coupons.iter().map(|c| c.code.as_str()).collect();
        Error::invalid("coupon", format!("No coupon `{}`; the catalog has: {}.", code.trim(), if known.is_empty() { "none".into() } else { known.join(", ") }))
    })?;
    let mut tx = t.pool.begin().await?;
    db::accounts::by_id(&mut *tx, account_id).await?.ok_or_else(|| Error::NotFound("no such account".into()))?;
    db::coupons::redeem(&mut *tx, account_id, coupon.code.as_str(), actor.user_id(), now).await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "coupon.applied",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "coupon": coupon.code.as_str(), "discount": coupon.discount, "duration": coupon.duration }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
