//! The monthly partitions of `usage_events` (migration 0020): creating months ahead
//! of the events, and dropping months past retention with the idempotency keys and
//! Stripe meter reports of their events.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool};

/// Creates the partition of every month (UTC) from the one holding `from` to the one
/// holding `to`, both inclusive, moving rows the default partition holds for them.
/// Returns how many it created.
pub async fn ensure_months(
    db: impl PgExecutor<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE created) FROM (
             SELECT usage_events_ensure_month(g AT TIME ZONE 'UTC') AS created
             FROM generate_series(date_trunc('month', $1 AT TIME ZONE 'UTC'),
                                  date_trunc('month', $2 AT TIME ZONE 'UTC'),
                                  interval '1 month') AS g
         ) months",
    )
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await
}

/// The first day (UTC) of each month that has its own partition, oldest first.
pub async fn months(db: impl PgExecutor<'_>) -> Result<Vec<NaiveDate>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'usage_events'::regclass
           AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'",
    )
    .fetch_all(db)
    .await?;
    let mut months: Vec<NaiveDate> = names.iter().filter_map(|n| month_of(n)).collect();
    months.sort_unstable();
    Ok(months)
}

fn month_of(partition: &str) -> Option<NaiveDate> {
    let rest = partition.strip_prefix("usage_events_")?;
    let (y, m) = rest.split_once('_')?;
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

fn partition_name(month: NaiveDate) -> String {
    format!("usage_events_{:04}_{:02}", month.year(), month.month())
}

/// What [`drop_before`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    /// The months (first day, UTC) whose partitions were dropped.
    pub months: Vec<NaiveDate>,
    /// Events deleted from the default partition (months without their own).
    pub default_rows: u64,
    /// Idempotency keys forgotten with their events.
    pub keys: u64,
    /// Stripe meter reports of the forgotten events.
    pub meter_reports: u64,
}

/// How long dropping a month waits for the parent table's lock.
const DROP_LOCK_TIMEOUT: &str = "2s";

/// Rows deleted per statement by [`drop_before`].
const DELETE_BATCH: i64 = 10_000;

/// Forgets every event that occurred before `cutoff`, which must be the first
/// instant of a month (UTC), in one process at a time (a session advisory lock; a
/// process that finds it taken returns nothing dropped): drops the partitions of
/// earlier months whole (each in a transaction of its own, which holds the parent
/// table's lock for a moment),
/// then deletes older rows of the default partition, the events' idempotency keys
/// and their Stripe meter reports in batches of [`DELETE_BATCH`], so that no
/// statement holds locks for long. Totals and invoices are kept: only raw events go.
pub async fn drop_before(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<Dropped, sqlx::Error> {
    // One process at a time (every server runs the upkeep): the others find the
    // lock taken and leave it, so each drop is reported once.
    // Detached from the pool: if this future is dropped or the unlock fails, the
    // connection closes and the lock goes with it instead of staying in the pool.
    let mut conn = pool.acquire().await?.detach();
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('usage_events_retention'))")
            .fetch_one(&mut conn)
            .await?;
    if !locked {
        return Ok(Dropped::default());
    }
    let dropped = forget(&mut conn, cutoff).await;
    // Closing the connection (dropping it) releases the lock if this fails.
    sqlx::query("SELECT pg_advisory_unlock(hashtext('usage_events_retention'))")
        .execute(&mut conn)
        .await?;
    dropped
}

async fn forget(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> Result<Dropped, sqlx::Error> {
    let cutoff_month = month_containing(cutoff);
    let mut dropped = Dropped::default();
    for month in months(&mut *conn).await? {
        if next_month(month) <= cutoff_month {
            // The drop takes the parent table's lock, which waits for every open
            // reader and makes every insert wait behind it: it gives up after
            // DROP_LOCK_TIMEOUT (an error; the next upkeep tries again).
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query(&format!("SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'"))
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!("DROP TABLE IF EXISTS {}", partition_name(month)))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            dropped.months.push(month);
        }
    }
    dropped.default_rows = delete_batched(
        conn,
        "DELETE FROM usage_events_default WHERE ctid = ANY (ARRAY(
             SELECT ctid FROM usage_events_default WHERE occurred_at < $1 LIMIT $2))",
        cutoff,
    )
    .await?;
    dropped.keys = delete_batched(
        conn,
        "DELETE FROM usage_event_keys WHERE (account_id, idempotency_key) IN (
             SELECT account_id, idempotency_key FROM usage_event_keys WHERE occurred_at < $1 LIMIT $2)",
        cutoff,
    )
    .await?;
    dropped.meter_reports = delete_batched(
        conn,
        "DELETE FROM stripe_meter_reports WHERE (account_id, event_id) IN (
             SELECT account_id, event_id FROM stripe_meter_reports WHERE occurred_at < $1 LIMIT $2)",
        cutoff,
    )
    .await?;
    Ok(dropped)
}

async fn delete_batched(
    conn: &mut PgConnection,
    sql: &str,
    cutoff: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let n = sqlx::query(sql)
            .bind(cutoff)
            .bind(DELETE_BATCH)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        total += n;
        if n < DELETE_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// The first day (UTC) of the month holding `t`.
pub fn month_containing(t: DateTime<Utc>) -> NaiveDate {
    let d = t.date_naive();
    d.with_day(1).unwrap_or(d)
}

/// The first day of the month after `month`'s.
pub fn next_month(month: NaiveDate) -> NaiveDate {
    month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX)
}

/// The first instant (UTC) of `month`.
pub fn month_start(month: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&month.and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip_and_others_are_not_months() {
        let m = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(partition_name(m), "usage_events_2026_03");
        assert_eq!(month_of(&partition_name(m)), Some(m));
        assert_eq!(month_of("usage_events_default"), None);
        assert_eq!(month_of("usage_events_2026_13"), None);
        assert_eq!(
            next_month(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
    }
}
