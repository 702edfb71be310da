//! Applying a catalog coupon to an account (seed 004's non-profit discount), by a
//! super admin or the CLI. The coupon applies from the next invoice on, for its
//! duration ([`crate::coupon::Coupon::applies`]): Tollgate's own invoices read it
//! from the account, and a subscription Stripe bills gets it as its Stripe discount
//! ([`crate::service::stripe::discounts`]) before Tollgate records it.

use crate::db;
use crate::service::admin::require_super_admin;
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The longest "verified by" note.
pub const MAX_NOTE: usize = 500;

/// Redeems coupon `code` for the account, replacing its earlier coupon. Audited as
/// `coupon.applied`, with `verified_by`: who checked the account is eligible (the
/// non-profit's registration, seed 004). A super admin must give it; the CLI may.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin or the CLI; [`Error::Invalid`]
/// (field `coupon`) for a code the catalog does not have or terms Stripe cannot
/// take for a card-paid subscription, (field `verified_by`) for a missing,
/// over-long or multi-line note; [`Error::NotFound`] for an unknown account;
/// Stripe's failures (nothing is recorded then).
pub async fn apply(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    code: &str,
    verified_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !matches!(actor, Actor::Cli) {
        require_super_admin(&t.pool, actor).await?;
    }
    let verified_by = verified_by.map(str::trim).filter(|n| !n.is_empty());
    let refused = match verified_by {
        Some(n) => n.chars().count() > MAX_NOTE || n.chars().any(char::is_control),
        None => !matches!(actor, Actor::Cli),
    };
    if refused {
        return Err(Error::invalid("verified_by", format!("Say who verified the account is eligible, in 1 to {MAX_NOTE} characters on one line.")));
    }
    let catalog = t.catalog.get()?;
    let coupon = catalog.coupon(code.trim()).ok_or_else(|| {
        let known: Vec<&str> = catalog.coupons.iter().map(|c| c.code.as_str()).collect();
        Error::invalid(
            "coupon",
            format!(
                "No coupon `{}`; the catalog has: {}.",
                code.trim(),
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ),
        )
    })?;
    db::accounts::by_id(&t.pool, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such account".into()))?;
    let card_paid = stripe_subscription(t, account_id).await?;
    if let Some((stripe, id)) = &card_paid {
        crate::service::stripe::discounts::apply(stripe, id, coupon, catalog.currency).await?;
    }
    let mut tx = t.pool.begin().await?;
    db::coupons::redeem(
        &mut *tx,
        account_id,
        coupon.code.as_str(),
        actor.user_id(),
        now,
    )
    .await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "coupon.applied",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({
                "coupon": coupon.code.as_str(), "discount": coupon.discount, "duration": coupon.duration, "verified_by": verified_by,
                "stripe_subscription": card_paid.as_ref().map(|(_, id)| id),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the account's coupon (and, for a card-paid subscription, its Stripe
/// discount): its next invoices are at full price. Audited as `coupon.removed`.
///
/// # Errors
/// [`Error::Forbidden`] as [`apply`]; [`Error::NotFound`] when the account has no coupon.
pub async fn remove(t: &Tollgate, actor: &Actor, account_id: Uuid) -> Result<(), Error> {
    if !matches!(actor, Actor::Cli) {
        require_super_admin(&t.pool, actor).await?;
    }
    db::coupons::for_account(&t.pool, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("The account has no coupon.".into()))?;
    let card_paid = stripe_subscription(t, account_id).await?;
    if let Some((stripe, id)) = &card_paid {
        crate::service::stripe::discounts::remove(stripe, id).await?;
    }
    let mut tx = t.pool.begin().await?;
    let had = db::coupons::for_account(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("The account has no coupon.".into()))?;
    db::coupons::remove(&mut *tx, account_id).await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "coupon.removed",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({ "coupon": had.coupon_code, "invoices_applied": had.invoices_applied }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The account's live subscription when Stripe bills it: the configured Stripe and
/// the `sub_…` id.
///
/// # Errors
/// [`Error::Conflict`] when Stripe bills it but is not configured here.
async fn stripe_subscription(
    t: &Tollgate,
    account_id: Uuid,
) -> Result<Option<(std::sync::Arc<crate::service::stripe::Stripe>, String)>, Error> {
    let Some(sub) = db::subscriptions::live_for_account(&t.pool, account_id).await? else {
        return Ok(None);
    };
    let Some(id) = sub
        .provider_subscription_id
        .filter(|_| sub.provider == "stripe")
    else {
        return Ok(None);
    };
    let stripe = t.stripe.clone().ok_or_else(|| {
        Error::Conflict(
            "Stripe bills this subscription but is not configured on this server.".into(),
        )
    })?;
    Ok(Some((stripe, id)))
}
