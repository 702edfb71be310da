//! The revenue analytics of `/admin` and its CSV export: loads subscriptions,
//! their plan history, coupons, invoices and failed payments, and hands them to
//! the pure [`crate::analytics`] (where every figure is defined).

use super::require_super_admin;
use crate::analytics::cash::InvoiceFacts;
use crate::analytics::mrr::Redemption;
use crate::analytics::report::{self, Input, Report};
use crate::analytics::timeline::{self, ChangeFacts, SubscriptionFacts};
use crate::coupon::Coupon;
use crate::db;
use crate::keys::Key;
use crate::period::Interval;
use crate::service::{Actor, Error, Tollgate};
use crate::subscription::Status;
use chrono::{DateTime, Months, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// The report at `now` over the last [`report::MONTHS`] calendar months, for a
/// super admin acting as themself.
///
/// # Errors
/// [`Error::Forbidden`] for anyone else; [`Error::NoCatalog`] before a catalog is
/// loaded; database errors.
pub async fn report(t: &Tollgate, actor: &Actor, now: DateTime<Utc>) -> Result<Report, Error> {
    require_super_admin(&t.pool, actor).await?;
    // PostgreSQL keeps microseconds: so does the report's instant.
    let now = chrono::SubsecRound::trunc_subsecs(now, 6);
    let catalog = t.catalog.get()?;
    let input = load(t, catalog.currency.code(), now).await?;
    Ok(report::build(&catalog, &input, now, report::MONTHS))
}

/// Reads everything the report needs. Subscriptions are read whole (their history
/// decides MRR at any month's start); invoices and failed payments from the first
/// reported month on (and unpaid ones of any age).
async fn load(t: &Tollgate, currency: &str, now: DateTime<Utc>) -> Result<Input, Error> {
    let since = crate::analytics::month::month_start(now)
        .checked_sub_months(Months::new(report::MONTHS))
        .unwrap_or(now);
    let rows = db::subscriptions::all_for_analytics(&t.pool).await?;
    let changes = db::subscriptions::all_changes_for_analytics(&t.pool).await?;
    let redemptions = db::coupons::all_redemptions(&t.pool).await?;
    let invoices = db::invoices::for_analytics(&t.pool, currency, since).await?;
    let failed_payments = db::stripe::failed_payments_since(&t.pool, since).await?;

    let mut by_subscription: HashMap<Uuid, Vec<ChangeFacts>> = HashMap::new();
    for c in changes {
        let facts = ChangeFacts {
            plan: c.to_plan,
            interval: interval(&c.to_interval),
            seats: c.to_seats.and_then(|s| u32::try_from(s).ok()),
            status: status(&c.to_status),
            at: c.effective_at,
        };
        by_subscription
            .entry(c.subscription_id)
            .or_default()
            .push(facts);
    }
    let histories = rows
        .into_iter()
        .map(|r| {
            let interval = r.cycle().interval;
            let facts = SubscriptionFacts {
                id: r.id,
                account_id: r.account_id,
                provider: r.provider,
                plan: r.plan_key,
                interval,
                seats: u32::try_from(r.seats).unwrap_or(1),
                status: status(&r.status),
                created_at: r.created_at,
                trial_ended_at: r.trial_ended_at,
                canceled_at: r.canceled_at,
                kept_price: r.grandfathered_price.map(|j| j.0),
                kept_until: r.grandfathered_until,
            };
            timeline::build(
                &facts,
                by_subscription.get(&r.id).map_or(&[][..], Vec::as_slice),
            )
        })
        .collect();
    let coupons = by_account(redemptions);
    let invoices = invoices
        .into_iter()
        .map(|i| InvoiceFacts {
            issued_at: i.issued_at,
            due_at: i.due_at,
            paid_at: i.paid_at,
            voided_at: i.voided_at,
            uncollectible_at: i.marked_uncollectible_at,
            total: i.total,
            amount_due: i.amount_due,
            amount_paid: i.amount_paid,
            usage: i.usage,
        })
        .collect();
    Ok(Input {
        histories,
        coupons,
        invoices,
        failed_payments,
    })
}

/// Each account's coupon redemption, for the MRR figures.
pub(crate) fn by_account(rows: Vec<db::coupons::RedemptionTerms>) -> HashMap<Uuid, Redemption> {
    rows.into_iter()
        .filter_map(|r| {
            let coupon = Coupon {
                code: Key::parse(&r.coupon_code).ok()?,
                name: r.name,
                discount: r.discount.0,
                duration: r.duration.0,
            };
            Some((
                r.account_id,
                Redemption {
                    coupon,
                    redeemed_at: r.redeemed_at,
                },
            ))
        })
        .collect()
}

/// A stored interval (CHECK-constrained to `month`/`year`).
fn interval(s: &str) -> Interval {
    s.parse().unwrap_or(Interval::Month)
}

/// A stored status (CHECK-constrained); an unknown one counts nowhere.
fn status(s: &str) -> Status {
    s.parse().unwrap_or(Status::Incomplete)
}
