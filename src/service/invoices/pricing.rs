//! Pricing closed billing periods of manual subscriptions: the charges of each
//! period's invoice, before coupon and credit (see [`super::issue`]).
//!
//! A batch of periods is priced with a fixed number of statements whatever its
//! size: one for the subscriptions' change history, one for the accounts'
//! overrides, one per priced meter for the usage. What each period is charged:
//! the plan in effect at the period's start for the paid share of the period, the
//! proration of every change made during it, and usage priced by the plan in
//! effect at its end above the allowance then (the plan's limit with the account's
//! override in force at the period's last second).

use crate::catalog::{Catalog, Plan};
use crate::db;
use crate::db::subscriptions::{ChangeRecord, InvoicingRow};
use crate::invoice::charges::{plan_charges, plan_label, usage_charge};
use crate::invoice::{schedule, Charge, LineKind};
use crate::period::{meter_period, Interval, Period};
use crate::rating::Pricing;
use crate::usage::project_window;
use crate::service::Error;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// One closed period of a subscription to bill.
#[derive(Debug, Clone, Copy)]
pub(super) struct Item<'a> {
    pub sub: &'a InvoicingRow,
    pub period: Period,
}

/// A period's charges, ready to issue (never empty).
#[derive(Debug, Clone)]
pub(super) struct Priced<'a> {
    pub sub: &'a InvoicingRow,
    pub period: Period,
    /// The plan in effect at the period's end (the invoice's plan).
    pub plan: &'a Plan,
    pub charges: Vec<Charge>,
}

/// Prices each of `items`; `None` for a period with nothing to bill (a free plan
/// without usage prices, a trial). Answers in the items' order.
///
/// # Errors
/// [`Error::Internal`] for a subscription on a plan the catalog no longer has;
/// database failures.
pub(super) async fn price_batch<'a>(
    conn: &mut PgConnection,
    catalog: &'a Catalog,
    items: &[Item<'a>],
) -> Result<Vec<Option<Priced<'a>>>, Error> {
    price(conn, catalog, items, None).await
}

/// [`price_batch`] for periods still running, with each meter window's usage
/// projected from `now` to its end ([`project_window`]): the projected invoice.
/// With `now` at a period's last second nothing is left to project, and the
/// charges are those the invoice run will issue for it.
///
/// # Errors
/// As [`price_batch`].
pub(super) async fn price_projected<'a>(
    conn: &mut PgConnection,
    catalog: &'a Catalog,
    items: &[Item<'a>],
    now: DateTime<Utc>,
) -> Result<Vec<Option<Priced<'a>>>, Error> {
    price(conn, catalog, items, Some(now)).await
}

/// The charges of one period of `sub` as the invoice run prices it now (a
/// correction re-prices a period already invoiced); empty when there is nothing
/// to bill.
///
/// # Errors
/// As [`price_batch`].
pub(crate) async fn period_charges(
    conn: &mut PgConnection,
    catalog: &Catalog,
    sub: &InvoicingRow,
    period: Period,
) -> Result<Vec<Charge>, Error> {
    Ok(price(conn, catalog, &[Item { sub, period }], None)
        .await?
        .pop()
        .flatten()
        .map(|p| p.charges)
        .unwrap_or_default())
}

async fn price<'a>(
    conn: &mut PgConnection,
    catalog: &'a Catalog,
    items: &[Item<'a>],
    projected_at: Option<DateTime<Utc>>,
) -> Result<Vec<Option<Priced<'a>>>, Error> {
    let (Some(until), Some(first_end)) = (
        items.iter().map(|i| i.period.end).max(),
        items.iter().map(|i| last_second(i.period)).min(),
    ) else {
        return Ok(Vec::new());
    };
    let sub_ids: Vec<Uuid> = items.iter().map(|i| i.sub.id).collect();
    let mut account_ids: Vec<Uuid> = items.iter().map(|i| i.sub.account_id).collect();
    account_ids.sort();
    account_ids.dedup();
    let changes = db::subscriptions::changes_until_many(&mut *conn, &sub_ids, until).await?;
    // Overrides in force at the earliest last second; each period keeps those in
    // force at its own.
    let overrides = db::overrides::active_for(&mut *conn, &account_ids, first_end).await?;

    let mut plans = Vec::with_capacity(items.len());
    let mut usage = UsageAsks::default();
    for item in items {
        let history: &[ChangeRecord] = changes.get(&item.sub.id).map_or(&[], Vec::as_slice);
        let before_end = history.partition_point(|c| c.effective_at < item.period.end);
        let history = &history[..before_end];
        let Some(start) = terms_at(catalog, item.sub, history, item.period.start) else {
            return Err(Error::Internal(format!(
                "subscription {} is on a plan the catalog no longer has",
                item.sub.id
            )));
        };
        let end = terms_at(catalog, item.sub, history, last_second(item.period)).unwrap_or(start);
        let asks = usage.ask(catalog, item, end.plan);
        plans.push((history, start, end, asks));
    }
    let answers = usage.answer(conn, catalog).await?;

    let mut out = Vec::with_capacity(items.len());
    for (item, (history, start, end, asks)) in items.iter().zip(plans) {
        let mut charges = base_and_prorations(catalog, item, history, start);
        let in_force = overrides
            .get(&item.sub.account_id)
            .map(|o| o.at(last_second(item.period)))
            .unwrap_or_default();
        // Per usage price, the projection of the window holding `projected_at`
        // (windows come in time order).
        let mut current: HashMap<usize, (Decimal, Decimal)> = HashMap::new();
        for ask in asks {
            let (meter_key, pricing) = &end.plan.usage_prices[ask.price];
            let Some(meter) = catalog.meter(meter_key.as_str()) else {
                continue;
            };
            let limit = in_force.limit(meter_key.as_str(), &end.plan.limit(meter_key.as_str()));
            let actual = answers[&ask.group][ask.index];
            let (used, cost) = match projected_at {
                None => actual,
                Some(now) => {
                    let p = project_window(
                        meter.aggregation,
                        &ask.window,
                        actual,
                        now,
                        current.get(&ask.price).copied(),
                    );
                    if ask.window.contains(now) {
                        current.insert(ask.price, p);
                    }
                    p
                }
            };
            charges.extend(usage_charge(meter, &limit, pricing, end.seats, used, cost));
        }
        out.push((!charges.is_empty()).then_some(Priced {
            sub: item.sub,
            period: item.period,
            plan: end.plan,
            charges,
        }));
    }
    Ok(out)
}

/// The last second of a period (its end is exclusive).
fn last_second(p: Period) -> DateTime<Utc> {
    p.end - Duration::seconds(1)
}

/// The plan, interval and seats in effect at an instant.
#[derive(Debug, Clone, Copy)]
struct Terms<'c> {
    plan: &'c Plan,
    interval: Interval,
    seats: u32,
}

/// The terms in effect at `at`, from the change history (the subscription's current
/// values when the history says nothing).
fn terms_at<'c>(
    catalog: &'c Catalog,
    sub: &InvoicingRow,
    changes: &[ChangeRecord],
    at: DateTime<Utc>,
) -> Option<Terms<'c>> {
    let last = changes
        .iter()
        .rev()
        .find(|c| c.effective_at <= at)
        .or_else(|| changes.first());
    let (plan, interval) = match last {
        Some(c) => (
            c.to_plan.as_str(),
            c.to_interval.parse().unwrap_or(Interval::Month),
        ),
        None => (sub.plan_key.as_str(), sub.cycle().interval),
    };
    let seats = changes
        .iter()
        .rev()
        .filter(|c| c.effective_at <= at)
        .find_map(|c| c.to_seats)
        .unwrap_or(sub.seats);
    Some(Terms {
        plan: catalog.plan(plan)?,
        interval,
        seats: u32::try_from(seats.max(1)).unwrap_or(1),
    })
}

/// The plan's price for the paid share of the period, and the prorations of the
/// changes made during it.
fn base_and_prorations(
    catalog: &Catalog,
    item: &Item<'_>,
    history: &[ChangeRecord],
    start: Terms<'_>,
) -> Vec<Charge> {
    let (sub, period) = (item.sub, item.period);
    let mut charges = Vec::new();
    let trial_end = sub.trial_ended_at.or(sub.trial_end);
    let share = schedule::paid_share(period, sub.created_at, trial_end, sub.canceled_at);
    // A grandfathered price is the subscriber's price on their current plan and interval.
    let kept = sub.kept_price_at(period.start).filter(|_| {
        start.plan.key.as_str() == sub.plan_key && start.interval.as_str() == sub.interval
    });
    if let (Some(price), true) = (
        start.plan.price_for(start.interval, kept),
        share > Decimal::ZERO,
    ) {
        charges.extend(plan_charges(
            price,
            start.seats,
            share,
            &plan_label(&start.plan.name, start.interval),
        ));
    }
    for c in history.iter().filter(|c| period.contains(c.effective_at)) {
        if let Some(amount) = c.proration.filter(|p| !p.is_zero()) {
            charges.push(proration_charge(catalog, c, amount));
        }
    }
    charges
}

/// Where a period's usage of one meter slice is answered: group and position.
#[derive(Debug, Clone)]
struct Ask {
    /// The position of the meter's price in the plan's usage prices.
    price: usize,
    /// The meter period read.
    window: Period,
    group: (String, Option<String>),
    index: usize,
}

/// The usage windows a batch needs, grouped by meter and cost property (one
/// statement per group).
#[derive(Debug, Default)]
struct UsageAsks {
    groups: HashMap<(String, Option<String>), Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    accounts: Vec<Uuid>,
    starts: Vec<DateTime<Utc>>,
    ends: Vec<DateTime<Utc>>,
}

impl UsageAsks {
    /// Records the windows `plan` prices for `item`: per usage-priced meter, one
    /// per meter period inside the invoice period (twelve for an annual plan whose
    /// meters reset monthly: each month's allowance is its own).
    fn ask(&mut self, catalog: &Catalog, item: &Item<'_>, plan: &Plan) -> Vec<Ask> {
        let mut asks = Vec::new();
        for (price, (meter_key, pricing)) in plan.usage_prices.iter().enumerate() {
            let Some(meter) = catalog.meter(meter_key.as_str()) else {
                continue;
            };
            let cost_property = match pricing {
                Pricing::CostPlus { property, .. } => Some(property.to_string()),
                _ => None,
            };
            let group = (meter_key.to_string(), cost_property);
            let windows = self.groups.entry(group.clone()).or_default();
            for slice in meter_slices(meter.reset, item.sub, item.period) {
                asks.push(Ask {
                    price,
                    window: slice,
                    group: group.clone(),
                    index: windows.accounts.len(),
                });
                windows.accounts.push(item.sub.account_id);
                windows.starts.push(slice.start);
                windows.ends.push(slice.end);
            }
        }
        asks
    }

    /// Reads every window: usage and cost per group, in the windows' order.
    async fn answer(
        self,
        conn: &mut PgConnection,
        catalog: &Catalog,
    ) -> Result<HashMap<(String, Option<String>), Vec<(Decimal, Decimal)>>, Error> {
        let mut out = HashMap::with_capacity(self.groups.len());
        for (group, w) in self.groups {
            let Some(meter) = catalog.meter(group.0.as_str()) else {
                continue;
            };
            let rows = db::usage::period_usage_many(
                &mut *conn,
                &group.0,
                meter.aggregation,
                group.1.as_deref(),
                &w.accounts,
                &w.starts,
                &w.ends,
            )
            .await?;
            out.insert(group, rows);
        }
        Ok(out)
    }
}

/// The meter periods inside an invoice period: one for a monthly plan, twelve for an
/// annual plan whose meters reset monthly.
fn meter_slices(reset: crate::period::Reset, sub: &InvoicingRow, period: Period) -> Vec<Period> {
    let mut out = Vec::new();
    let mut t = period.start;
    while t < period.end && out.len() < 400 {
        let p = meter_period(reset, Some(sub.cycle()), t);
        let slice = Period {
            start: p.start.max(period.start),
            end: p.end.min(period.end),
        };
        if slice.end <= t {
            break;
        }
        out.push(slice);
        t = slice.end;
    }
    out
}

fn proration_charge(catalog: &Catalog, c: &ChangeRecord, amount: Decimal) -> Charge {
    let name = |key: &str| {
        catalog
            .plan(key)
            .map_or_else(|| key.to_string(), |p| p.name.clone())
    };
    let what = match c.from_plan.as_deref() {
        Some(from) if from != c.to_plan => {
            format!("Change from {} to {}", name(from), name(&c.to_plan))
        }
        // Same plan, same seats: the move from a grandfathered price.
        Some(_) if c.from_seats == c.to_seats => {
            format!("Move to the current price of {}", name(&c.to_plan))
        }
        _ => format!("Seats changed to {}", c.to_seats.unwrap_or(1)),
    };
    Charge {
        kind: LineKind::Proration,
        description: format!(
            "{what} on {} (rest of the period)",
            c.effective_at.format("%Y-%m-%d")
        ),
        quantity: Decimal::ONE,
        unit_amount: None,
        amount,
        meter: None,
    }
}
