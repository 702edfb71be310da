//! Grandfathered subscribers moved to the current price (issue 11 §3): when a
//! catalog version changes a plan's price, its live subscribers keep the older
//! price ([`crate::service::catalog`] keeps it on each subscription); an operator
//! previews how many subscribers a move reaches and their MRR before and after,
//! then moves them, each through its payment provider
//! ([`crate::service::provider::PaymentProvider::move_to_current_price`]): the new
//! price applies from the next renewal, or also to the rest of the current period
//! when the operator asks for proration.

use super::analytics::by_account;
use super::require_super_admin;
use crate::analytics::mrr::run_rate;
use crate::analytics::timeline::Terms;
use crate::catalog::edit::describe_price;
use crate::catalog::{Catalog, Plan, Price};
use crate::db::{self, subscriptions::SubscriptionRow};
use crate::money::Money;
use crate::period::Interval;
use crate::service::{provider, Actor, Error, Tollgate};
use crate::subscription::Status;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// What moving a plan's grandfathered subscribers on one interval would do.
#[derive(Debug, Clone, PartialEq)]
pub struct MovePreview {
    pub plan_name: String,
    pub interval: Interval,
    /// Live subscriptions keeping an older price, and how many of them Stripe bills.
    pub subscriptions: usize,
    pub billed_by_stripe: usize,
    /// Whether this server can reach Stripe (without it, Stripe-billed subscribers
    /// cannot be moved from here).
    pub stripe_configured: bool,
    /// Each distinct kept price in words (`$19.00/month`), lowest first.
    pub kept: Vec<String>,
    /// The current price in words.
    pub current: String,
    /// Their MRR now and after the move (recurring coupons applied; trials count
    /// nowhere, as on `/admin`), rounded to the currency's minor unit.
    pub mrr_before: Money,
    pub mrr_after: Money,
}

/// How a move went: subscriptions moved, and each one that was not, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveReport {
    pub moved: usize,
    pub failed: Vec<(Uuid, String)>,
}

/// The plan and the interval asked for, checked against the live catalog.
fn plan_of<'c>(
    catalog: &'c Catalog,
    plan: &str,
    interval: &str,
) -> Result<(&'c Plan, Interval), Error> {
    let p = catalog
        .plan(plan.trim())
        .ok_or_else(|| Error::invalid("plan", format!("There is no plan `{}`.", plan.trim())))?;
    let interval: Interval = interval
        .trim()
        .parse()
        .map_err(|_| Error::invalid("interval", "Choose month or year."))?;
    p.price(interval).ok_or_else(|| {
        Error::invalid(
            "interval",
            format!("{} has no current {interval} price.", p.name),
        )
    })?;
    Ok((p, interval))
}

/// The MRR of `subs` (run rate ÷ 12, rounded once) with each one's kept price
/// (`kept`) or with the current price.
fn mrr(
    catalog: &Catalog,
    subs: &[SubscriptionRow],
    coupons: &std::collections::HashMap<Uuid, crate::analytics::mrr::Redemption>,
    kept: bool,
    now: DateTime<Utc>,
) -> Money {
    let run_rate: Decimal = subs
        .iter()
        .filter(|s| matches!(s.status(), Status::Active | Status::PastDue))
        .map(|s| {
            let terms = Terms {
                plan: s.plan_key.clone(),
                interval: s.cycle().interval,
                seats: u32::try_from(s.seats.max(1)).unwrap_or(1),
                status: s.status(),
                price: if kept {
                    s.kept_price_at(now).cloned()
                } else {
                    None
                },
            };
            run_rate(catalog, &terms, coupons.get(&s.account_id), now)
        })
        .sum();
    Money::new(run_rate / Decimal::from(12), catalog.currency).round()
}

/// The plan, the interval and the live subscriptions keeping an older price on
/// them, for a super admin acting as themself.
///
/// # Errors
/// As [`preview`].
async fn keeping<'c>(
    t: &Tollgate,
    actor: &Actor,
    catalog: &'c Catalog,
    plan: &str,
    interval: &str,
) -> Result<(&'c Plan, Interval, Vec<SubscriptionRow>), Error> {
    require_super_admin(&t.pool, actor).await?;
    let (plan, interval) = plan_of(catalog, plan, interval)?;
    let subs = db::subscriptions::grandfathered(&t.pool, plan.key.as_str(), interval).await?;
    if subs.is_empty() {
        return Err(Error::Conflict(format!(
            "Every {} subscriber on the {interval} price already pays the current price.",
            plan.name
        )));
    }
    Ok((plan, interval, subs))
}

/// Previews moving `plan`'s grandfathered subscribers on `interval` to its
/// current price.
///
/// # Errors
/// [`Error::Forbidden`] unless a super admin acting as themself;
/// [`Error::Invalid`] (`plan`, `interval`) for an unknown plan or an interval it
/// has no price for; [`Error::Conflict`] when no subscriber keeps an older price.
pub async fn preview(
    t: &Tollgate,
    actor: &Actor,
    plan: &str,
    interval: &str,
    now: DateTime<Utc>,
) -> Result<MovePreview, Error> {
    let catalog = t.catalog.get()?;
    let (plan, interval, subs) = keeping(t, actor, &catalog, plan, interval).await?;
    let coupons = by_account(db::coupons::all_redemptions(&t.pool).await?);
    let mut kept: Vec<&Price> = Vec::new();
    for p in subs.iter().filter_map(|s| s.kept_price_at(now)) {
        if !kept.contains(&p) {
            kept.push(p);
        }
    }
    kept.sort_by_key(|a| a.amount.amount);
    Ok(MovePreview {
        plan_name: plan.name.clone(),
        interval,
        subscriptions: subs.len(),
        billed_by_stripe: subs.iter().filter(|s| s.provider == "stripe").count(),
        stripe_configured: t.stripe.is_some(),
        kept: kept.into_iter().map(describe_price).collect(),
        current: plan.price(interval).map(describe_price).unwrap_or_default(),
        mrr_before: mrr(&catalog, &subs, &coupons, true, now),
        mrr_after: mrr(&catalog, &subs, &coupons, false, now),
    })
}

/// Moves every grandfathered subscriber of `plan` on `interval` to its current
/// price, one by one through its provider (a failure leaves that one on its kept
/// price and is reported; the others still move). `expected` is the count the
/// operator previewed: a different count refuses the move, so nobody is moved
/// who was not in the preview's figures.
///
/// # Errors
/// As [`preview`]; [`Error::Conflict`] when the subscribers changed since the
/// preview.
pub async fn move_to_current(
    t: &Tollgate,
    actor: &Actor,
    plan: &str,
    interval: &str,
    prorate: bool,
    expected: usize,
    now: DateTime<Utc>,
) -> Result<MoveReport, Error> {
    let catalog = t.catalog.get()?;
    let (_, _, subs) = keeping(t, actor, &catalog, plan, interval).await?;
    if subs.len() != expected {
        return Err(Error::Conflict(format!(
            "{} subscribers keep an older price now, not {expected}: preview again.",
            subs.len()
        )));
    }
    let mut report = MoveReport::default();
    for sub in subs {
        let moved = match provider::for_subscription(t, &sub) {
            Ok(provider) => {
                provider
                    .move_to_current_price(t, &sub, prorate, actor, now)
                    .await
            }
            Err(e) => Err(e),
        };
        match moved {
            Ok(()) => report.moved += 1,
            Err(e) => {
                tracing::warn!(subscription = %sub.id, error = %e, "moving to the current price failed");
                report.failed.push((sub.account_id, e.to_string()));
            }
        }
    }
    Ok(report)
}
