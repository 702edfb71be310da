//! What an account on the manual provider owes so far this billing period, and
//! what its invoice will come to at the period's end (issue 13, "What do I owe"):
//! priced by the invoice run's own code ([`super::pricing`]), with the coupon and
//! credit balance the run would apply ([`super::issue::coupon_for`]), so there is
//! no second pricing path.

use super::issue::coupon_for;
use super::pricing::{price_batch, price_projected, Item};
use crate::db;
use crate::invoice::{adjustment, assemble, Charge, Draft};
use crate::period::Period;
use crate::service::{Error, Tollgate};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The current period's invoice, as it stands and as projected.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The billing period (UTC, `[start, end)`).
    pub period: Period,
    /// The invoice if the period closed now: the plan for the period, its
    /// prorations, usage so far over the allowance, coupon and credit.
    pub accrued: Draft,
    /// The invoice at the period's end, usage projected linearly from now
    /// ([`crate::usage::project_window`]).
    pub projected: Draft,
}

/// `account_id`'s [`Preview`] at `now`; `None` without a live subscription on the
/// manual provider (Stripe bills its own). A trial or a free plan without usage
/// prices previews as nothing owed.
///
/// # Errors
/// [`Error::NoCatalog`]; [`Error::Internal`] for a plan the catalog no longer
/// has; a database error.
pub async fn current(
    t: &Tollgate,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Preview>, Error> {
    let catalog = t.catalog.get()?;
    let Some(sub) = db::subscriptions::manual_live_for_invoicing(&t.pool, account_id).await? else {
        return Ok(None);
    };
    let period = sub.cycle().period_containing(now);
    let item = [Item { sub: &sub, period }];
    let mut conn = t.pool.acquire().await?;
    let accrued = price_batch(&mut conn, &catalog, &item).await?.pop().flatten();
    let projected = price_projected(&mut conn, &catalog, &item, now)
        .await?
        .pop()
        .flatten();
    drop(conn);
    let redemptions = db::coupons::for_accounts(&t.pool, &[account_id]).await?;
    let coupon = coupon_for(&catalog, redemptions.get(&account_id), 0, period.start);
    let credit = db::credits::balances_in(&t.pool, &[account_id], catalog.currency.code())
        .await?
        .get(&account_id)
        .copied()
        .unwrap_or_default();
    // Usage corrections of issued invoices: the run bills them with this period.
    let adjustments: Vec<Charge> = db::invoice_adjustments::pending(&t.pool, &[account_id], false)
        .await?
        .iter()
        .filter(|a| a.currency == catalog.currency.code())
        .map(|a| adjustment::charge(&a.meter, a.amount, &a.description))
        .collect();
    let draft = |charges: Option<Vec<Charge>>| {
        let mut charges = charges.unwrap_or_default();
        if !charges.is_empty() {
            charges.extend(adjustments.iter().cloned());
        }
        let coupon = coupon.filter(|_| !charges.is_empty());
        assemble(catalog.currency, charges, coupon, credit)
    };
    Ok(Some(Preview {
        period,
        accrued: draft(accrued.map(|p| p.charges)),
        projected: draft(projected.map(|p| p.charges)),
    }))
}
