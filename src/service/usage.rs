//! An account's usage in its current periods, for the dashboard, live meters and
//! `GET /api/v1/usage`.

use super::accounts::{self, Standing};
use super::{Error, Tollgate};
use crate::catalog::{Aggregation, Catalog, Meter};
use crate::db;
use crate::usage::{meter_usage, PlanSummary, Snapshot};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

/// Usage now of each of `meters`: the current period's total for meters that
/// accumulate or peak, and the latest reported level for `last` meters (carried
/// across periods). Meters without usage are absent.
///
/// # Errors
/// A database error.
pub async fn current(
    db: &mut sqlx::PgConnection,
    catalog: &Catalog,
    standing: Standing<'_>,
    account_id: Uuid,
    meters: &[&Meter],
    now: DateTime<Utc>,
) -> Result<HashMap<String, Decimal>, Error> {
    let (levels, periodic): (Vec<&Meter>, Vec<&Meter>) = meters.iter().copied().partition(|m| m.aggregation == Aggregation::Last);
    let wanted: Vec<(String, DateTime<Utc>)> =
        periodic.iter().map(|m| (m.key.to_string(), standing.meter_period(catalog, m.key.as_str(), now).start)).collect();
    let mut out: HashMap<String, Decimal> = HashMap::new();
    if !wanted.is_empty() {
        out.extend(db::usage::totals(&mut *db, account_id, &wanted).await?);
    }
    for m in levels {
        let end = standing.meter_period(catalog, m.key.as_str(), now).end;
        out.extend(db::usage::latest_levels(&mut *db, account_id, &[m.key.to_string()], end).await?);
    }
    Ok(out)
}

/// The account's usage of every meter in its current period.
///
/// # Errors
/// [`Error::NotFound`] for an unknown account; [`Error::NoCatalog`].
pub async fn snapshot(t: &Tollgate, account_id: Uuid, now: DateTime<Utc>) -> Result<Snapshot, Error> {
    let catalog = t.catalog.get()?;
    let state = accounts::state(&t.pool, account_id).await?;
    let standing: Standing<'_> = state.standing();
    let periods: Vec<(String, crate::period::Period)> = catalog
        .meters
        .iter()
        .map(|m| (m.key.to_string(), standing.meter_period(&catalog, m.key.as_str(), now)))
        .collect();
    let all: Vec<&Meter> = catalog.meters.iter().collect();
    let mut conn = t.pool.acquire().await?;
    let totals = current(&mut conn, &catalog, standing, account_id, &all, now).await?;
    drop(conn);
    let meters = catalog
        .meters
        .iter()
        .zip(&periods)
        .map(|(m, (_, period))| {
            let usage = totals.get(m.key.as_str()).copied().unwrap_or(Decimal::ZERO);
            meter_usage(m, &standing.limit(&catalog, m.key.as_str()), &catalog.thresholds, usage, *period, now)
        })
        .collect();
    let period = crate::period::meter_period(crate::period::Reset::BillingPeriod, standing.cycle(), now);
    let plan = state.subscription.as_ref().and_then(|s| {
        let plan = catalog.plan(&s.plan_key)?;
        let interval = s.cycle().interval;
        let price = plan.price(interval);
        Some(PlanSummary {
            key: plan.key.to_string(),
            name: plan.name.clone(),
            status: s.status(),
            interval,
            trial_end: s.trial_end,
            price: price.map(|p| p.amount),
            per_seat: price.is_some_and(|p| p.per_seat),
            seats: standing.seats(),
            entitled: s.entitled,
            grace_until: s.grace_until,
        })
    });
    Ok(Snapshot { account_id, plan, period, days_remaining: period.days_remaining(now), meters, generated_at: now })
}
