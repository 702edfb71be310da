//! Usage over time (issue 13): history series from the daily rollup, and the
//! rollup's rebuild from the raw events.

use super::{Error, Tollgate};
use crate::db;
use crate::catalog::Aggregation;
use crate::history::{
    assemble, recent_periods, to_date, Granularity, GroupBy, History, HistoryQuery, RawQuery,
};
use crate::period::Period;
use crate::usage::MeterUsage;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

/// How many past periods [`timeline`] shows before the current one.
pub const PAST_PERIODS: usize = 5;

/// `account_id`'s history of `meter` (a key of the loaded catalog) as `raw` asks
/// (see [`HistoryQuery::parse`]), on `now`'s UTC day.
///
/// # Errors
/// [`Error::Invalid`] naming `meter` (unknown) or the bad parameter;
/// [`Error::NoCatalog`]; a database error.
pub async fn history(
    t: &Tollgate,
    account_id: Uuid,
    meter: &str,
    raw: &RawQuery<'_>,
    now: DateTime<Utc>,
) -> Result<History, Error> {
    let catalog = t.catalog.get()?;
    let m = meter_of(&catalog, meter.trim())?;
    let q = HistoryQuery::parse(m, raw, now.date_naive())
        .map_err(|e| Error::invalid(e.field, e.message))?;
    query(&t.pool, account_id, &q).await
}

/// The catalog's meter `key`, or [`Error::Invalid`] naming `meter`.
fn meter_of<'c>(catalog: &'c crate::catalog::Catalog, key: &str) -> Result<&'c crate::catalog::Meter, Error> {
    catalog
        .meter(key)
        .ok_or_else(|| Error::invalid("meter", format!("`{key}` is not a meter of this catalog")))
}

/// Runs a checked query: two statements on one connection (the buckets, and for
/// last meters the levels before the range).
///
/// # Errors
/// A database error.
pub async fn query(
    pool: &sqlx::PgPool,
    account_id: Uuid,
    q: &HistoryQuery,
) -> Result<History, Error> {
    let mut conn = pool.acquire().await?;
    let rows = db::usage_rollups::buckets(&mut *conn, account_id, q).await?;
    let levels = if q.aggregation == Aggregation::Last {
        db::usage_rollups::levels_before(&mut *conn, account_id, q).await?
    } else {
        Vec::new()
    };
    Ok(assemble(q, &rows, &levels))
}

/// Recomputes the rollup of `account_ids` (every account when empty) for the days
/// `[from, to)` from the stored events, one account per transaction, each holding
/// the account's usage lock exclusively (its ingestion waits meanwhile, for
/// milliseconds). Returns the accounts and rows rebuilt. Days older than the
/// events kept (retention) must stay out of the range: their rollup is all that
/// remains of them.
///
/// # Errors
/// [`Error::Invalid`] when `from` is not before `to`, or before the month of the
/// oldest stored event; a database error (the account being rebuilt is rolled back;
/// those before it stay rebuilt).
pub async fn rebuild(
    pool: &sqlx::PgPool,
    account_ids: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(usize, u64), Error> {
    if from >= to {
        return Err(Error::invalid("from", "from must be before to"));
    }
    // Months retention dropped have only their rollup left; rebuilding them would
    // erase it. Retention drops whole months, so the month of the oldest stored
    // event is the first one whose events are all there.
    if let Some(oldest) = db::usage::oldest_event_month(pool).await? {
        if from < oldest {
            return Err(Error::invalid(
                "from",
                format!("the oldest stored events are from {oldest}: the days before have only their rollup left; rebuild from {oldest} on"),
            ));
        }
    }
    let ids = if account_ids.is_empty() {
        db::accounts::all_ids(pool).await?
    } else {
        account_ids.to_vec()
    };
    let mut rows = 0;
    for id in &ids {
        let mut tx = pool.begin().await?;
        db::accounts::lock_for_cycle_change(&mut *tx, *id).await?;
        rows += db::usage_rollups::rebuild(&mut tx, *id, from, to).await?;
        tx.commit().await?;
    }
    Ok((ids.len(), rows))
}

/// One meter of an account over time: the dashboard's two charts.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The meter now: usage, limit and current period.
    pub now: MeterUsage,
    /// Usage to date at the end of each UTC day of the current period, up to
    /// today (see [`to_date`]; the last equals `now.usage`).
    pub days: Vec<(NaiveDate, Decimal)>,
    /// The last [`PAST_PERIODS`] periods and the current one, oldest first, with
    /// their usage: past periods summed by UTC day from the rollup (a day a
    /// period boundary cuts counts in the period it starts in), the current one
    /// exact.
    pub periods: Vec<(Period, Decimal)>,
}

/// `account_id`'s [`Timeline`] of `meter` at `now`.
///
/// # Errors
/// [`Error::Invalid`] for a meter not in the catalog; [`Error::NotFound`] for an
/// unknown account; [`Error::NoCatalog`]; a database error.
pub async fn timeline(
    t: &Tollgate,
    account_id: Uuid,
    meter: &str,
    now: DateTime<Utc>,
) -> Result<Timeline, Error> {
    let catalog = t.catalog.get()?;
    let m = meter_of(&catalog, meter)?;
    // One read of the account's standing, and the usage of this meter only.
    let state = super::accounts::state(&t.pool, account_id).await?;
    let standing = state.standing();
    let cycle = standing.cycle();
    let used = super::usage::current(
        &mut *t.pool.acquire().await?,
        &catalog,
        standing,
        account_id,
        &[m],
        now,
    )
    .await?
    .remove(meter)
    .unwrap_or_default();
    let current = super::usage::meter_now(&catalog, standing, m, used, now);

    let q = HistoryQuery {
        meter: meter.to_string(),
        aggregation: m.aggregation,
        from: current.period.start.date_naive(),
        to: now.date_naive() + chrono::Days::new(1),
        granularity: Granularity::Day,
        group_by: GroupBy::Nothing,
    };
    let daily = query(&t.pool, account_id, &q).await?;
    let values: Vec<Decimal> = daily
        .series
        .first()
        .map(|s| s.points.iter().map(|p| p.value).collect())
        .unwrap_or_default();
    let days = q
        .buckets()
        .into_iter()
        .zip(to_date(m.aggregation, &values, current.usage))
        .collect();

    let periods = recent_periods(m.reset, cycle, current.period, PAST_PERIODS);
    let ranges: Vec<(NaiveDate, NaiveDate)> = periods
        .iter()
        .map(|p| (p.start.date_naive(), p.end.date_naive()))
        .collect();
    let past = &ranges[..ranges.len().saturating_sub(1)];
    let sums = db::usage_rollups::in_ranges(&t.pool, account_id, meter, past).await?;
    let mut level = Decimal::ZERO;
    let mut out: Vec<(Period, Decimal)> = periods
        .iter()
        .zip(sums)
        .map(|(p, (sum, peak, last))| {
            let v = match m.aggregation {
                Aggregation::Count | Aggregation::Sum => sum,
                Aggregation::Max => peak,
                Aggregation::Last => {
                    level = last.unwrap_or(level);
                    level
                }
            };
            (*p, v)
        })
        .collect();
    out.push((current.period, current.usage));
    Ok(Timeline {
        now: current,
        days,
        periods: out,
    })
}
