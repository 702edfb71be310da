//! The usage job (issue 4): usage above the included quantity of a Stripe-billed plan goes to
//! Stripe's billing meters, in batches, retried, each event once. Three steps, each safe to run
//! in several processes at once:
//!
//! 1. **Items.** A Stripe subscription carries one metered item per usage price of its plan
//!    (Checkout adds them; after a plan change the job swaps them, without proration, since
//!    metered usage is billed in arrears). `subscriptions.stripe_metered_for` remembers the plan
//!    the items match, so Stripe is asked only after a change.
//! 2. **Assign.** Each new usage event of such a subscription gets one report, under an advisory
//!    lock: for a count or sum meter, the whole units of the event above the plan's included
//!    quantity in the meter's usage period ([`stripe_catalog::excess_units`]: the period's
//!    reports add up to its excess, whatever the order); for a last meter, the level above the
//!    included quantity ([`stripe_catalog::level_units`]). Events older than Stripe's 35-day
//!    window, or from before the subscription, are not reported.
//! 3. **Send.** Pending reports are claimed in batches and sent as meter events
//!    (<https://docs.stripe.com/api/billing/meter-event/create>) with the usage event's id as
//!    `identifier`, so a report sent twice (a lease ran out mid-send) counts once at Stripe. A
//!    rate limit, a Stripe 5xx or a network failure is retried with backoff; any other refusal,
//!    or the last attempt, marks the report failed with Stripe's message.

use super::{describe, failed, metered, Stripe};
use crate::catalog::Aggregation;
use crate::db::{
    self,
    stripe_meters::{NewReport, ReportKey},
    subscriptions::SubscriptionRow,
};
use crate::period::{meter_period, Cycle, Interval};
use crate::service::provider::audit;
use crate::service::{Actor, Error, Tollgate};
use crate::stripe_catalog;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use rust_decimal::Decimal;
use std::collections::HashMap;
use stripe_billing::billing_meter_event::CreateBillingMeterEvent;
use stripe_billing::subscription::{
    RetrieveSubscription, UpdateSubscription, UpdateSubscriptionItems,
    UpdateSubscriptionProrationBehavior,
};
use stripe_shared::RecurringUsageType;
use uuid::Uuid;

/// Events assigned per transaction.
const ASSIGN_BATCH: i64 = 500;
/// Reports claimed per send batch.
const SEND_BATCH: i64 = 100;
/// Meter events in flight at once.
const CONCURRENCY: usize = 8;
/// How long a claimed report is left to its worker.
const LEASE_SECONDS: f64 = 120.0;
/// Attempts before a report is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// Subscriptions whose items are checked per run.
const ITEMS_BATCH: i64 = 50;
/// Stripe accepts meter events whose timestamp is at most 35 days old.
const STRIPE_WINDOW_DAYS: i64 = 35;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Subscriptions whose metered items were checked (and changed where needed).
    pub items_checked: usize,
    /// Usage events given a report.
    pub assigned: usize,
    /// Meter events Stripe accepted.
    pub sent: usize,
    /// Meter events to try again later.
    pub retried: usize,
    /// Meter events given up on.
    pub failed: usize,
}

/// One run of the job: items, then every unassigned event, then every due report.
///
/// # Errors
/// [`Error::NoCatalog`] or a database error. Stripe failures do not fail the run: they are
/// logged (items) or retried (reports).
pub async fn run(t: &Tollgate, stripe: &Stripe, now: DateTime<Utc>) -> Result<Report, Error> {
    let mut report = Report {
        items_checked: check_items(t, stripe).await?,
        ..Report::default()
    };
    loop {
        let assigned = assign(t, now).await?;
        report.assigned += assigned;
        if i64::try_from(assigned).unwrap_or(i64::MAX) < ASSIGN_BATCH {
            break;
        }
    }
    loop {
        let (claimed, sent, retried, failed) = send_due(t, stripe, now).await?;
        report.sent += sent;
        report.retried += retried;
        report.failed += failed;
        if i64::try_from(claimed).unwrap_or(i64::MAX) < SEND_BATCH {
            break;
        }
    }
    Ok(report)
}

/// Step 1: puts the metered prices of each changed subscription's plan on its Stripe items;
/// a change is audited (`subscription.metered_items_changed`, by the system).
async fn check_items(t: &Tollgate, stripe: &Stripe) -> Result<usize, Error> {
    let catalog = t.catalog.get()?;
    let unchecked = db::subscriptions::stripe_items_unchecked(&t.pool, ITEMS_BATCH).await?;
    let mut checked = 0;
    for sub in unchecked {
        let Some(stripe_id) = sub.provider_subscription_id.as_deref() else {
            continue;
        };
        let wanted = match (
            catalog.plan(&sub.plan_key),
            sub.interval.parse::<Interval>(),
        ) {
            (Some(plan), Ok(i)) => match metered::price_ids(stripe, &catalog, plan, i).await {
                Ok(ids) => ids,
                Err(Error::Invalid { .. }) => Vec::new(),
                Err(e) => {
                    tracing::warn!(subscription = %sub.id, error = %e, "metered prices not found; trying again next run");
                    continue;
                }
            },
            _ => Vec::new(),
        };
        match swap_items(stripe, stripe_id, &wanted).await {
            Ok(swapped) => {
                record_checked(t, &sub, stripe_id, swapped).await?;
                checked += 1;
            }
            Err(e) => {
                tracing::warn!(subscription = %sub.id, error = %e, "metered items not updated; trying again next run")
            }
        }
    }
    Ok(checked)
}

/// Marks `sub`'s metered items as matching its plan and, when `swapped` holds the prices
/// removed and added, audits the swap in the same transaction.
async fn record_checked(
    t: &Tollgate,
    sub: &SubscriptionRow,
    stripe_id: &str,
    swapped: Option<(Vec<String>, Vec<String>)>,
) -> Result<(), Error> {
    let mut tx = t.pool.begin().await?;
    db::subscriptions::set_stripe_metered_for(&mut *tx, sub.id, &sub.plan_key, &sub.interval)
        .await?;
    if let Some((removed, added)) = swapped {
        let details = serde_json::json!({
            "plan": sub.plan_key, "interval": sub.interval, "removed_prices": removed, "added_prices": added,
            "stripe_subscription": stripe_id,
        });
        audit(
            &mut *tx,
            &Actor::System,
            "subscription.metered_items_changed",
            sub,
            details,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Makes the metered items of Stripe subscription `stripe_id` exactly `wanted` (price ids).
/// Returns the prices removed and added, `None` when the items already matched.
async fn swap_items(
    stripe: &Stripe,
    stripe_id: &str,
    wanted: &[String],
) -> Result<Option<(Vec<String>, Vec<String>)>, Error> {
    let remote = RetrieveSubscription::new(stripe_id)
        .send(stripe.client())
        .await
        .map_err(|e| failed("retrieve subscription", e))?;
    let metered: Vec<_> = remote
        .items
        .data
        .iter()
        .filter(|i| {
            i.price
                .recurring
                .as_ref()
                .is_some_and(|r| r.usage_type == RecurringUsageType::Metered)
        })
        .collect();
    let mut changes = Vec::new();
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for item in metered
        .iter()
        .filter(|i| !wanted.iter().any(|w| w == i.price.id.as_str()))
    {
        let mut delete = UpdateSubscriptionItems::new();
        delete.id = Some(item.id.as_str().to_owned());
        delete.deleted = Some(true);
        changes.push(delete);
        removed.push(item.price.id.as_str().to_owned());
    }
    for price in wanted
        .iter()
        .filter(|w| !metered.iter().any(|i| i.price.id.as_str() == w.as_str()))
    {
        let mut add = UpdateSubscriptionItems::new();
        add.price = Some(price.clone());
        changes.push(add);
        added.push(price.clone());
    }
    if changes.is_empty() {
        return Ok(None);
    }
    UpdateSubscription::new(stripe_id)
        .items(changes)
        .proration_behavior(UpdateSubscriptionProrationBehavior::None)
        .send(stripe.client())
        .await
        .map_err(|e| failed("update metered items", e))?;
    Ok(Some((removed, added)))
}

/// Step 2: one batch of unassigned events. Returns how many were assigned.
async fn assign(t: &Tollgate, now: DateTime<Utc>) -> Result<usize, Error> {
    let catalog = t.catalog.get()?;
    let billed: Vec<(String, String)> = catalog
        .plans
        .iter()
        .filter_map(|plan| {
            stripe_catalog::plan_usage_prices(&catalog, plan)
                .ok()
                .map(|usage| (plan, usage))
        })
        .flat_map(|(plan, usage)| {
            usage.into_iter().map(move |(meter, _)| {
                (plan.key.as_str().to_owned(), meter.key.as_str().to_owned())
            })
        })
        .collect();
    if billed.is_empty() {
        return Ok(0);
    }
    let mut tx = t.pool.begin().await?;
    db::stripe_meters::lock_assignment(&mut tx).await?;
    let events = db::stripe_meters::unreported(
        &mut *tx,
        &billed,
        now - Duration::days(STRIPE_WINDOW_DAYS),
        ASSIGN_BATCH,
    )
    .await?;
    // What is included is the plan's limit with the account's override.
    let accounts: Vec<Uuid> = events
        .iter()
        .map(|e| e.account_id)
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    let overrides = db::overrides::active_for(&mut *tx, &accounts, now).await?;
    for e in &events {
        let (Some(plan), Some(meter)) = (catalog.plan(&e.plan_key), catalog.meter(&e.meter)) else {
            continue;
        };
        let seats = u32::try_from(e.seats.max(1)).unwrap_or(1);
        let limit = overrides
            .get(&e.account_id)
            .unwrap_or(&crate::overrides::NONE)
            .limit(&e.meter, &plan.limit(&e.meter));
        let included = limit.resolve(seats).included.unwrap_or(Decimal::ZERO);
        let (value, send) = if meter.aggregation == Aggregation::Last {
            (stripe_catalog::level_units(e.quantity, included), true)
        } else {
            let cycle = Cycle {
                anchor: e.cycle_anchor,
                interval: e.interval.parse().unwrap_or(Interval::Month),
            };
            let period = meter_period(meter.reset, Some(cycle), e.occurred_at);
            let before = db::stripe_meters::count(
                &mut tx,
                e.account_id,
                e.subscription_id,
                &e.meter,
                period.start,
                e.quantity,
            )
            .await?;
            let units = stripe_catalog::excess_units(before, before + e.quantity, included);
            (units, units > 0)
        };
        let event_name = stripe_catalog::meter_event_name(&e.meter);
        let new = NewReport {
            account_id: e.account_id,
            event_id: e.event_id,
            subscription_id: e.subscription_id,
            stripe_customer: &e.stripe_customer,
            event_name: &event_name,
            value,
            occurred_at: e.occurred_at,
            send,
        };
        db::stripe_meters::insert(&mut *tx, &new).await?;
    }
    tx.commit().await?;
    Ok(events.len())
}

/// Step 3: one batch of due reports. Returns `(claimed, sent, retried, failed)`.
async fn send_due(
    t: &Tollgate,
    stripe: &Stripe,
    now: DateTime<Utc>,
) -> Result<(usize, usize, usize, usize), Error> {
    let due = db::stripe_meters::claim_due(&t.pool, SEND_BATCH, LEASE_SECONDS).await?;
    let claimed = due.len();
    let client = stripe.client().clone();
    let results: Vec<(ReportKey, i32, Result<(), stripe::StripeError>)> =
        futures::stream::iter(due.into_iter().map(|r| send(client.clone(), r, now)))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let (mut sent, mut retried, mut given_up) = (0, 0, 0);
    for (key, attempts, result) in results {
        match result {
            Ok(()) => {
                db::stripe_meters::mark_sent(&t.pool, key).await?;
                sent += 1;
            }
            Err(e) => {
                let message = describe("send meter event", &e);
                tracing::warn!(event = %key.event_id, attempts, "{message}");
                if retryable(&e) && attempts < MAX_ATTEMPTS {
                    db::stripe_meters::mark_retry(
                        &t.pool,
                        key,
                        backoff_seconds(attempts),
                        &message,
                    )
                    .await?;
                    retried += 1;
                } else {
                    db::stripe_meters::mark_failed(&t.pool, key, &message).await?;
                    given_up += 1;
                }
            }
        }
    }
    Ok((claimed, sent, retried, given_up))
}

/// Sends one report as a meter event, its usage event id as `identifier`.
async fn send(
    client: stripe::Client,
    r: db::stripe_meters::DueReport,
    now: DateTime<Utc>,
) -> (ReportKey, i32, Result<(), stripe::StripeError>) {
    let payload = HashMap::from([
        (metered::CUSTOMER_KEY.to_owned(), r.stripe_customer),
        (metered::VALUE_KEY.to_owned(), r.value.to_string()),
    ]);
    let sent = CreateBillingMeterEvent::new(r.event_name, payload)
        .identifier(r.key.event_id.to_string())
        .timestamp(r.occurred_at.min(now).timestamp())
        .send(&client)
        .await;
    (r.key, r.attempts, sent.map(|_| ()))
}

/// Whether Stripe may accept the same request later: rate limited (429), Stripe's own
/// failure (5xx), or no answer at all (<https://docs.stripe.com/error-handling#retries>).
fn retryable(e: &stripe::StripeError) -> bool {
    match e {
        stripe::StripeError::Stripe(_, status) => *status == 429 || *status >= 500,
        _ => true,
    }
}

/// Seconds before attempt `attempts + 1`: 30 s doubling, at most an hour.
pub fn backoff_seconds(attempts: i32) -> f64 {
    let exponent = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    (30.0 * f64::from(2_u32.pow(exponent))).min(3600.0)
}
