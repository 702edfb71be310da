//! Account actions in the admin panel (issue 11 §5), for a super admin acting as
//! themself: change the plan (with the proration preview the customer sees),
//! cancel and reactivate, and set payment terms and the external id. Plan changes
//! go through the account's payment provider, which audits them with the admin as
//! the actor; terms are audited here.

use super::{audit, require_super_admin};
use crate::db;
use crate::period::Interval;
use crate::service::plans::Chooser;
use crate::service::provider::{self, Chosen, Timing};
use crate::service::{Actor, Error, Tollgate};
use crate::terms::Terms;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Moves `account_id` to `plan_key` on `interval`, now or at the period end, through
/// its provider (an account without a subscription starts on the manual provider).
/// Any plan of the catalog may be chosen (sales-only and hidden ones too). Its
/// preview is [`provider::preview`], which lets a super admin acting as themself
/// see any account's.
///
/// # Errors
/// [`Error::Forbidden`] unless a super admin acting as themself;
/// [`Error::Conflict`] for the current plan; [`Error::Invalid`] for an unknown
/// plan or interval, or a period-end change of a subscription that is not active;
/// provider failures.
pub async fn change_plan(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    plan_key: &str,
    interval: Interval,
    timing: Timing,
    now: DateTime<Utc>,
) -> Result<Chosen, Error> {
    require_super_admin(&t.pool, actor).await?;
    provider::choose(
        t,
        account_id,
        plan_key,
        interval,
        timing,
        Chooser::Operator,
        actor,
        now,
    )
    .await
}

/// Ends `account_id`'s subscription at its period end.
///
/// # Errors
/// [`Error::Forbidden`] as [`change_plan`]; [`Error::Conflict`] without a live
/// subscription or when it already ends.
pub async fn cancel(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    require_super_admin(&t.pool, actor).await?;
    provider::cancel(t, account_id, actor, now).await
}

/// Keeps `account_id`'s subscription going after a cancellation at its period end.
///
/// # Errors
/// As [`cancel`]; [`Error::Conflict`] when it was not set to end.
pub async fn reactivate(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    require_super_admin(&t.pool, actor).await?;
    provider::reactivate(t, account_id, actor, now).await
}

/// Sets `account_id`'s net terms (days a manual invoice is due after issue; the
/// next invoices use them) and external id. Audited as `account.terms_updated`
/// with the values before and after.
///
/// # Errors
/// [`Error::Forbidden`] as [`change_plan`]; [`Error::NotFound`] for an unknown
/// account; [`Error::Invalid`] on `external_id` when another account has it.
pub async fn set_terms(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    terms: &Terms,
) -> Result<(), Error> {
    require_super_admin(&t.pool, actor).await?;
    let mut tx = t.pool.begin().await?;
    let before = db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("There is no such account.".into()))?;
    if let Err(e) = db::accounts::set_terms(&mut *tx, account_id, terms).await {
        return Err(if db::is_unique_violation(&e, "accounts_external_id_key") {
            Error::invalid(
                "external_id",
                "Another account already has this external id.",
            )
        } else {
            e.into()
        });
    }
    let details = serde_json::json!({
        "before": { "net_terms_days": before.net_terms_days, "external_id": before.external_id },
        "after": { "net_terms_days": terms.net_terms_days, "external_id": terms.external_id },
    });
    audit(
        &mut *tx,
        actor,
        "account.terms_updated",
        ("account", account_id.to_string()),
        Some(account_id),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
