//! An account's usage in its current periods, for the dashboard, live meters and
//! `GET /api/v1/usage`.

use super::accounts::{self, Standing};
use super::{Error, Tollgate};
use crate::catalog::{Aggregation, Catalog, Meter};
use crate::db;
use crate::usage::{meter_usage, MeterUsage, PlanSummary, Snapshot};
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
    let all = current_for(db, catalog, &[(account_id, standing)], meters, now).await?;
    Ok(all.into_iter().map(|((_, meter), v)| (meter, v)).collect())
}

/// [`current`] for many accounts at once, keyed by `(account, meter)`: two
/// statements whatever the number of accounts.
///
/// # Errors
/// A database error.
pub async fn current_for(
    db: &mut sqlx::PgConnection,
    catalog: &Catalog,
    standings: &[(Uuid, Standing<'_>)],
    meters: &[&Meter],
    now: DateTime<Utc>,
) -> Result<HashMap<(Uuid, String), Decimal>, Error> {
    let (mut periodic, mut levels) = (Vec::new(), Vec::new());
    for (account, standing) in standings {
        for m in meters {
            let period = standing.meter_period(catalog, m.key.as_str(), now);
            if m.aggregation == Aggregation::Last {
                levels.push((*account, m.key.to_string(), period.end));
            } else {
                periodic.push((*account, m.key.to_string(), period.start));
            }
        }
    }
    let mut out = HashMap::new();
    if !periodic.is_empty() {
        out.extend(
            db::usage::totals(&mut *db, &periodic)
                .await?
                .into_iter()
                .map(|(a, m, v)| ((a, m), v)),
        );
    }
    if !levels.is_empty() {
        out.extend(
            db::usage::latest_levels(&mut *db, &levels)
                .await?
                .into_iter()
                .map(|(a, m, v)| ((a, m), v)),
        );
    }
    Ok(out)
}

/// Every meter of the catalog for an account in `standing`, from its usage now
/// (`usage` gives a meter's usage; absent is zero): limits are effective limits
/// (plan and overrides).
pub fn meters_now(
    catalog: &Catalog,
    standing: Standing<'_>,
    usage: impl Fn(&str) -> Option<Decimal>,
    now: DateTime<Utc>,
) -> Vec<MeterUsage> {
    catalog
        .meters
        .iter()
        .map(|m| {
            let used = usage(m.key.as_str()).unwrap_or(Decimal::ZERO);
            meter_now(catalog, standing, m, used, now)
        })
        .collect()
}

/// One meter of [`meters_now`], `used` so far in its current period.
pub fn meter_now(
    catalog: &Catalog,
    standing: Standing<'_>,
    m: &Meter,
    used: Decimal,
    now: DateTime<Utc>,
) -> MeterUsage {
    meter_usage(
        m,
        &standing.limit(catalog, m.key.as_str()),
        &catalog.thresholds,
        used,
        standing.meter_period(catalog, m.key.as_str(), now),
        now,
    )
}

/// The account's usage of every meter in its current period.
///
/// # Errors
/// [`Error::NotFound`] for an unknown account; [`Error::NoCatalog`].
pub async fn snapshot(
    t: &Tollgate,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Snapshot, Error> {
    let catalog = t.catalog.get()?;
    let state = accounts::state(&t.pool, account_id).await?;
    let standing: Standing<'_> = state.standing();
    let all: Vec<&Meter> = catalog.meters.iter().collect();
    let mut conn = t.pool.acquire().await?;
    let totals = current(&mut conn, &catalog, standing, account_id, &all, now).await?;
    drop(conn);
    let meters = meters_now(&catalog, standing, |m| totals.get(m).copied(), now);
    let period =
        crate::period::meter_period(crate::period::Reset::BillingPeriod, standing.cycle(), now);
    let plan = state.subscription.as_ref().and_then(|s| {
        let plan = catalog.plan(&s.plan_key)?;
        let interval = s.cycle().interval;
        let price = plan.price_for(interval, s.kept_price_at(now));
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
            by_invoice: s.provider == "manual",
        })
    });
    Ok(Snapshot {
        account_id,
        plan,
        period,
        days_remaining: period.days_remaining(now),
        meters,
        generated_at: now,
    })
}
