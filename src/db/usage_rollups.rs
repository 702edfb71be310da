//! `usage_daily_rollups`: usage per account, meter, UTC day, member and the meter's
//! `group_by` properties (migration 0023).
//!
//! Ingestion adds each new event in the transaction that stores it ([`add`]), so
//! the rollup equals the stored events; [`rebuild`] recomputes an account's days
//! from them. The key of an event's properties and its cost are computed by the
//! SQL functions `usage_dimensions` and `usage_cost` in both places.

use crate::db::usage::EventRow;
use crate::history::{BucketRow, GroupBy, HistoryQuery};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Folds the rows of `{source}` (columns id, account_id, meter, user_id,
/// quantity, occurred_at, received_at, properties) into the rollup, in key order:
/// the rebuild's statement ([`add`] folds a batch in Rust by the same rules).
const FOLD: &str = "
    INSERT INTO usage_daily_rollups AS d
        (account_id, meter, day, user_id, dimensions, events, quantity, max_quantity, last_quantity, last_occurred_at, cost)
    SELECT e.account_id, e.meter, (e.occurred_at AT TIME ZONE 'UTC')::date, e.user_id,
           usage_dimensions(e.properties, m.group_by),
           count(*), sum(e.quantity), max(e.quantity),
           (array_agg(e.quantity ORDER BY e.occurred_at DESC, e.received_at DESC, e.id DESC))[1],
           max(e.occurred_at),
           sum(usage_cost(e.properties, m.cost_property))
    FROM {source} e JOIN meters m ON m.key = e.meter
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5";

/// How a row already there takes in a new one (`d` the stored row): sums add,
/// the peak is the greater, the level the later (a later batch wins a tie).
const MERGE: &str = "
    ON CONFLICT (account_id, meter, day, user_id, dimensions) DO UPDATE SET
        events = d.events + excluded.events,
        quantity = d.quantity + excluded.quantity,
        max_quantity = greatest(d.max_quantity, excluded.max_quantity),
        last_quantity = CASE WHEN excluded.last_occurred_at >= d.last_occurred_at
                             THEN excluded.last_quantity ELSE d.last_quantity END,
        last_occurred_at = greatest(d.last_occurred_at, excluded.last_occurred_at),
        cost = d.cost + excluded.cost";

/// One rollup row's share of a batch: its key and what the batch adds.
#[derive(Debug, Clone)]
struct Delta {
    account_id: Uuid,
    meter: String,
    day: NaiveDate,
    user_id: Option<Uuid>,
    dimensions: serde_json::Value,
    events: i64,
    quantity: Decimal,
    max_quantity: Decimal,
    last_quantity: Decimal,
    last_occurred_at: chrono::DateTime<chrono::Utc>,
    /// The id of the event whose quantity is `last_quantity` (ties on time go to
    /// the greater id, as in the rebuild).
    last_id: Uuid,
    cost: Decimal,
}

/// Adds newly stored events to the rollup. Call it in the transaction that
/// stored them, after their period totals (a consuming check holds its total
/// first: one lock order everywhere). The batch is folded here first (a batch
/// of one account's events on one day is one row to write), keyed by
/// [`crate::history::dimensions`] and costed by [`crate::history::cost`], the
/// same rules as the SQL functions the rebuild uses.
pub async fn add(
    db: &mut PgConnection,
    catalog: &crate::catalog::Catalog,
    events: &[&EventRow],
) -> Result<(), sqlx::Error> {
    use std::collections::BTreeMap;
    let mut rows: BTreeMap<(Uuid, &str, NaiveDate, Option<Uuid>, String), Delta> = BTreeMap::new();
    for e in events {
        let Some(meter) = catalog.meter(&e.meter) else {
            continue;
        };
        let empty = serde_json::Map::new();
        let properties = e.properties.as_object().unwrap_or(&empty);
        let dimensions = serde_json::Value::Object(crate::history::dimensions(meter, properties));
        let cost = crate::history::cost(meter, properties);
        let day = e.occurred_at.date_naive();
        rows.entry((e.account_id, e.meter.as_str(), day, e.user_id, dimensions.to_string()))
            .and_modify(|d| {
                d.events += 1;
                d.quantity += e.quantity;
                d.max_quantity = d.max_quantity.max(e.quantity);
                if (e.occurred_at, e.id) > (d.last_occurred_at, d.last_id) {
                    d.last_quantity = e.quantity;
                    d.last_occurred_at = e.occurred_at;
                    d.last_id = e.id;
                }
                d.cost += cost;
            })
            .or_insert_with(|| Delta {
                account_id: e.account_id,
                meter: e.meter.clone(),
                day,
                user_id: e.user_id,
                dimensions,
                events: 1,
                quantity: e.quantity,
                max_quantity: e.quantity,
                last_quantity: e.quantity,
                last_occurred_at: e.occurred_at,
                last_id: e.id,
                cost,
            });
    }
    if rows.is_empty() {
        return Ok(());
    }
    let d: Vec<&Delta> = rows.values().collect();
    sqlx::query(&format!(
        "INSERT INTO usage_daily_rollups AS d
             (account_id, meter, day, user_id, dimensions, events, quantity, max_quantity, last_quantity, last_occurred_at, cost)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::uuid[], $5::jsonb[], $6::int8[], $7::numeric[],
                              $8::numeric[], $9::numeric[], $10::timestamptz[], $11::numeric[])
         {MERGE}"
    ))
    .bind(d.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.meter.as_str()).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.day).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.user_id).collect::<Vec<_>>())
    .bind(d.iter().map(|r| &r.dimensions).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.events).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.quantity).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.max_quantity).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.last_quantity).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.last_occurred_at).collect::<Vec<_>>())
    .bind(d.iter().map(|r| r.cost).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// Recomputes one account's rollup for the days `[from, to)` (UTC) from its
/// stored events and returns the rows written. The caller holds the account's
/// usage lock exclusively (no event may be stored meanwhile). Days whose events
/// retention dropped have nothing to rebuild from: leave them out of the range.
pub async fn rebuild(
    db: &mut PgConnection,
    account_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM usage_daily_rollups WHERE account_id = $1 AND day >= $2 AND day < $3")
        .bind(account_id)
        .bind(from)
        .bind(to)
        .execute(&mut *db)
        .await?;
    let source = "(SELECT * FROM usage_events
                   WHERE account_id = $1
                     AND occurred_at >= ($2::date::timestamp AT TIME ZONE 'UTC')
                     AND occurred_at < ($3::date::timestamp AT TIME ZONE 'UTC'))";
    let done = sqlx::query(&format!("{}{MERGE}", FOLD.replace("{source}", source)))
        .bind(account_id)
        .bind(from)
        .bind(to)
        .execute(&mut *db)
        .await?;
    Ok(done.rows_affected())
}

/// The SQL of a series key for `group_by`, over the rollup's columns; a
/// property's name is the statement's parameter `$property_param`.
fn key_sql(group_by: &GroupBy, property_param: u8) -> String {
    match group_by {
        GroupBy::Nothing => "NULL::text".into(),
        GroupBy::User => "user_id::text".into(),
        GroupBy::Property(_) => format!("dimensions ->> ${property_param}"),
    }
}

fn property(group_by: &GroupBy) -> Option<&str> {
    match group_by {
        GroupBy::Property(p) => Some(p),
        _ => None,
    }
}

/// One account's rollup for a history query: a row per bucket and key that has
/// usage.
pub async fn buckets(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    q: &HistoryQuery,
) -> Result<Vec<BucketRow>, sqlx::Error> {
    let rows: Vec<(NaiveDate, Option<String>, Decimal, Decimal, Decimal, Decimal)> =
        sqlx::query_as(&format!(
            "SELECT date_trunc($6, day::timestamp)::date AS start, {key} AS key,
                    sum(quantity), max(max_quantity),
                    (array_agg(last_quantity ORDER BY last_occurred_at DESC))[1],
                    sum(cost)
             FROM usage_daily_rollups
             WHERE account_id = $1 AND meter = $2 AND day >= $3 AND day < $4
             GROUP BY 1, 2",
            key = key_sql(&q.group_by, 5)
        ))
        .bind(account_id)
        .bind(&q.meter)
        .bind(q.from)
        .bind(q.to)
        .bind(property(&q.group_by))
        .bind(q.granularity.as_str())
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(start, key, quantity, max_quantity, last_quantity, cost)| BucketRow {
            start,
            key,
            quantity,
            max_quantity,
            last_quantity,
            cost,
        })
        .collect())
}

/// Each key's level before the query's first day (for last meters: the level a
/// range starts from).
pub async fn levels_before(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    q: &HistoryQuery,
) -> Result<Vec<(Option<String>, Decimal)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT ON (key) key, last_quantity FROM (
             SELECT {key} AS key, last_quantity, last_occurred_at
             FROM usage_daily_rollups
             WHERE account_id = $1 AND meter = $2 AND day < $3
         ) r ORDER BY key, last_occurred_at DESC",
        key = key_sql(&q.group_by, 4)
    ))
    .bind(account_id)
    .bind(&q.meter)
    .bind(q.from)
    .bind(property(&q.group_by))
    .fetch_all(db)
    .await
}

/// One range's usage: `(sum, peak, latest level)`; the level is `None` when the
/// range has no usage.
pub type RangeUsage = (Decimal, Decimal, Option<Decimal>);

/// One account's usage of `meter` in each of the day ranges `[from, to)`, in the
/// ranges' order: one statement whatever their number.
pub async fn in_ranges(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    meter: &str,
    ranges: &[(NaiveDate, NaiveDate)],
) -> Result<Vec<RangeUsage>, sqlx::Error> {
    let (from, to): (Vec<NaiveDate>, Vec<NaiveDate>) = ranges.iter().copied().unzip();
    sqlx::query_as(
        "SELECT coalesce(u.quantity, 0), coalesce(u.peak, 0), u.level
         FROM unnest($3::date[], $4::date[]) WITH ORDINALITY AS r(from_day, to_day, n)
         CROSS JOIN LATERAL (
             SELECT sum(quantity) AS quantity, max(max_quantity) AS peak,
                    (array_agg(last_quantity ORDER BY last_occurred_at DESC))[1] AS level
             FROM usage_daily_rollups
             WHERE account_id = $1 AND meter = $2 AND day >= r.from_day AND day < r.to_day
         ) u
         ORDER BY r.n",
    )
    .bind(account_id)
    .bind(meter)
    .bind(&from)
    .bind(&to)
    .fetch_all(db)
    .await
}

/// What the rollup holds for one member and property values over a day (a row)
/// or a month (a stored report's line, [`super::usage_reports`]).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Figures {
    pub user_id: Option<Uuid>,
    pub dimensions: serde_json::Value,
    pub events: i64,
    /// Sum of the quantities.
    pub quantity: Decimal,
    /// The peak (max meters).
    pub max_quantity: Decimal,
    /// The level last reported (last meters).
    pub last_quantity: Decimal,
    /// Sum of the meter's cost property.
    pub cost: Decimal,
}

/// One row of the daily rollup, for the usage export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportedDay {
    pub account_id: Uuid,
    pub meter: String,
    pub day: NaiveDate,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// Where an export of the rollup goes on: the last group's `(account, meter, day)`.
pub type DayCursor = (Uuid, String, NaiveDate);

/// The rollup rows of the `(account, meter, day)` groups after `after`, for
/// `account_id` (every account when `None`) and the days `[from, to)`: whole
/// groups in key order, about `limit` rows (a page ends at a group's end, so the
/// cursor never splits one).
pub async fn export_days(
    db: impl PgExecutor<'_>,
    account_id: Option<Uuid>,
    from: NaiveDate,
    to: NaiveDate,
    after: Option<&DayCursor>,
    limit: i64,
) -> Result<Vec<ExportedDay>, sqlx::Error> {
    let (a, m, d) = after
        .cloned()
        .map_or((None, None, None), |(a, m, d)| (Some(a), Some(m), Some(d)));
    // The groups of the page first (at most `limit`), then all their rows.
    sqlx::query_as(
        "WITH groups AS (
             SELECT DISTINCT account_id, meter, day FROM (
                 SELECT account_id, meter, day FROM usage_daily_rollups
                 WHERE ($1::uuid IS NULL OR account_id = $1) AND day >= $2 AND day < $3
                   AND ($4::uuid IS NULL OR (account_id, meter, day) > ($4, $5, $6))
                 ORDER BY account_id, meter, day
                 LIMIT $7
             ) first_rows
         )
         SELECT r.account_id, r.meter, r.day, r.user_id, r.dimensions, r.events, r.quantity,
                r.max_quantity, r.last_quantity, r.cost
         FROM usage_daily_rollups r JOIN groups g USING (account_id, meter, day)
         ORDER BY r.account_id, r.meter, r.day, r.user_id NULLS FIRST, r.dimensions",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .bind(a)
    .bind(m)
    .bind(d)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Usage and cost per meter and property values over the days `[from, to)`, all
/// accounts together: the groups that carry a cost, the costliest first, at most
/// `limit`.
pub async fn costs_by_dimensions(
    db: impl PgExecutor<'_>,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<(String, serde_json::Value, Decimal, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT meter, dimensions, sum(quantity), sum(cost) FROM usage_daily_rollups
         WHERE day >= $1 AND day < $2
         GROUP BY meter, dimensions HAVING sum(cost) > 0
         ORDER BY 4 DESC, 1, 2 LIMIT $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Each account's cost over the days `[from, to)`: those with a cost, the
/// costliest first, at most `limit`.
pub async fn costs_by_account(
    db: impl PgExecutor<'_>,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> Result<Vec<(Uuid, Decimal)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, sum(cost) FROM usage_daily_rollups
         WHERE day >= $1 AND day < $2
         GROUP BY account_id HAVING sum(cost) > 0
         ORDER BY 2 DESC, 1 LIMIT $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}
