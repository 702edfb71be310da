//! An account's usage in its current periods, for the dashboard, live meters and
//! `GET /api/v1/usage`.

use super::accounts::{self, Standing};
use super::{Error, Tollgate};
use crate::db;
use crate::usage::{meter_usage, PlanSummary, Snapshot};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

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
    let wanted: Vec<(String, DateTime<Utc>)> = periods.iter().map(|(m, p)| (m.clone(), p.start)).collect();
    let totals: HashMap<String, Decimal> = db::usage::totals(&t.pool, account_id, &wanted).await?.into_iter().collect();
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
        })
    });
    Ok(Snapshot { account_id, plan, period, days_remaining: period.days_remaining(now), meters, generated_at: now })
}
