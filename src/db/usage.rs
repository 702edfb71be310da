//! `usage_events`, `usage_totals` and `threshold_crossings`.
//!
//! Ingestion writes a batch with a handful of array statements whatever its size:
//! one insert of the events, one upsert of totals per aggregation kind, one insert
//! of crossed thresholds.

use crate::catalog::Aggregation;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// An event ready to store.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub meter: String,
    pub user_id: Option<Uuid>,
    pub quantity: Decimal,
    pub occurred_at: DateTime<Utc>,
    pub idempotency_key: String,
    pub payload_hash: Vec<u8>,
    pub properties: serde_json::Value,
}

/// Inserts the events whose `(account_id, idempotency_key)` is new and returns the
/// ids of those inserted; the others already exist. The key, with the payload's
/// hash, goes to `usage_event_keys` (unique there: `usage_events` is partitioned by
/// time and cannot hold a unique key without it), the event to its month's
/// partition, in one statement.
pub async fn insert_new_events(
    db: &mut PgConnection,
    events: &[EventRow],
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut ids = Vec::with_capacity(events.len());
    let mut accounts = Vec::with_capacity(events.len());
    let mut meters = Vec::with_capacity(events.len());
    let mut users = Vec::with_capacity(events.len());
    let mut quantities = Vec::with_capacity(events.len());
    let mut times = Vec::with_capacity(events.len());
    let mut keys = Vec::with_capacity(events.len());
    let mut hashes = Vec::with_capacity(events.len());
    let mut properties = Vec::with_capacity(events.len());
    for e in events {
        ids.push(e.id);
        accounts.push(e.account_id);
        meters.push(e.meter.as_str());
        users.push(e.user_id);
        quantities.push(e.quantity);
        times.push(e.occurred_at);
        keys.push(e.idempotency_key.as_str());
        hashes.push(e.payload_hash.as_slice());
        properties.push(&e.properties);
    }
    sqlx::query_scalar(
        "WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::numeric[], $6::timestamptz[], $7::text[], $8::bytea[], $9::jsonb[])
                 AS i(id, account_id, meter, user_id, quantity, occurred_at, idempotency_key, payload_hash, properties)
         ), new_keys AS (
             INSERT INTO usage_event_keys (account_id, idempotency_key, payload_hash, event_id, occurred_at)
             SELECT account_id, idempotency_key, payload_hash, id, occurred_at FROM input
             ON CONFLICT (account_id, idempotency_key) DO NOTHING
             RETURNING event_id
         )
         INSERT INTO usage_events (id, account_id, meter, user_id, quantity, occurred_at, idempotency_key, properties)
         SELECT i.id, i.account_id, i.meter, i.user_id, i.quantity, i.occurred_at, i.idempotency_key, i.properties
         FROM input i JOIN new_keys k ON k.event_id = i.id
         RETURNING id",
    )
    .bind(&ids)
    .bind(&accounts)
    .bind(&meters)
    .bind(&users)
    .bind(&quantities)
    .bind(&times)
    .bind(&keys)
    .bind(&hashes)
    .bind(&properties)
    .fetch_all(db)
    .await
}

/// The first day of the month of the oldest stored event (UTC), if any: read from
/// the keys' time index (retention forgets the keys after it drops their events'
/// months, so for the minutes between the two this is a month too early).
pub async fn oldest_event_month(
    db: impl PgExecutor<'_>,
) -> Result<Option<chrono::NaiveDate>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT date_trunc('month', min(occurred_at) AT TIME ZONE 'UTC')::date FROM usage_event_keys",
    )
    .fetch_one(db)
    .await
}

/// Payload hashes of stored events, by `(account_id, idempotency_key)`.
pub async fn stored_hashes(
    db: impl PgExecutor<'_>,
    keys: &[(Uuid, String)],
) -> Result<Vec<(Uuid, String, Vec<u8>)>, sqlx::Error> {
    let (accounts, idem): (Vec<Uuid>, Vec<&str>) =
        keys.iter().map(|(a, k)| (*a, k.as_str())).unzip();
    sqlx::query_as(
        "SELECT e.account_id, e.idempotency_key, e.payload_hash FROM usage_event_keys e
         JOIN unnest($1::uuid[], $2::text[]) AS k(account_id, idempotency_key)
           ON e.account_id = k.account_id AND e.idempotency_key = k.idempotency_key",
    )
    .bind(&accounts)
    .bind(&idem)
    .fetch_all(db)
    .await
}

/// One meter's contribution to a period, pre-aggregated from a batch.
#[derive(Debug, Clone)]
pub struct TotalDelta {
    pub account_id: Uuid,
    pub meter: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// Sum (count, sum), peak (max) or latest level (last) of the batch.
    pub value: Decimal,
    /// Latest event time in the batch.
    pub last_occurred_at: DateTime<Utc>,
}

/// A period total after an update.
#[derive(Debug, Clone, FromRow)]
pub struct Total {
    pub account_id: Uuid,
    pub meter: String,
    pub period_start: DateTime<Utc>,
    pub value: Decimal,
}

/// Folds a batch's deltas of one aggregation kind into the stored totals and returns
/// the new totals.
pub async fn apply_deltas(
    db: &mut PgConnection,
    aggregation: Aggregation,
    deltas: &[TotalDelta],
) -> Result<Vec<Total>, sqlx::Error> {
    if deltas.is_empty() {
        return Ok(Vec::new());
    }
    let merge = match aggregation {
        Aggregation::Count | Aggregation::Sum => "t.value + excluded.value",
        Aggregation::Max => "greatest(t.value, excluded.value)",
        Aggregation::Last => "CASE WHEN excluded.last_occurred_at >= t.last_occurred_at THEN excluded.value ELSE t.value END",
    };
    let sql = format!(
        "INSERT INTO usage_totals AS t (account_id, meter, period_start, period_end, value, last_occurred_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::numeric[], $6::timestamptz[])
         ON CONFLICT (account_id, meter, period_start) DO UPDATE SET
             value = {merge},
             last_occurred_at = greatest(t.last_occurred_at, excluded.last_occurred_at),
             updated_at = now()
         RETURNING account_id, meter, period_start, value"
    );
    // The change is announced by the same statement (one round trip less than
    // `notify_changed`): delivered at commit, repeats folded by PostgreSQL.
    let sql = format!(
        "WITH up AS ({sql})
         SELECT up.account_id, up.meter, up.period_start, up.value
         FROM up, LATERAL (SELECT pg_notify('{USAGE_CHANNEL}', up.account_id::text)) AS announced"
    );
    sqlx::query_as(&sql)
        .bind(deltas.iter().map(|d| d.account_id).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.meter.as_str()).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.period_start).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.period_end).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.value).collect::<Vec<_>>())
        .bind(
            deltas
                .iter()
                .map(|d| d.last_occurred_at)
                .collect::<Vec<_>>(),
        )
        .fetch_all(db)
        .await
}

/// Totals of the given `(account, meter, period_start)` triples; triples without
/// usage are absent. One statement for any number of accounts.
pub async fn totals(
    db: impl PgExecutor<'_>,
    wanted: &[(Uuid, String, DateTime<Utc>)],
) -> Result<Vec<(Uuid, String, Decimal)>, sqlx::Error> {
    let accounts: Vec<Uuid> = wanted.iter().map(|w| w.0).collect();
    let meters: Vec<&str> = wanted.iter().map(|w| w.1.as_str()).collect();
    let starts: Vec<DateTime<Utc>> = wanted.iter().map(|w| w.2).collect();
    sqlx::query_as(
        "SELECT t.account_id, t.meter, t.value FROM usage_totals t
         JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS p(account_id, meter, period_start)
           ON t.account_id = p.account_id AND t.meter = p.meter AND t.period_start = p.period_start",
    )
    .bind(&accounts)
    .bind(&meters)
    .bind(&starts)
    .fetch_all(db)
    .await
}

/// The current level of `last` meters for the given `(account, meter, before)`
/// triples: each one's most recent reported value before `before`, whatever period
/// it was reported in (a level such as "documents stored" stays what it was until a
/// new value is reported). Triples never reported are absent.
pub async fn latest_levels(
    db: impl PgExecutor<'_>,
    wanted: &[(Uuid, String, DateTime<Utc>)],
) -> Result<Vec<(Uuid, String, Decimal)>, sqlx::Error> {
    let accounts: Vec<Uuid> = wanted.iter().map(|w| w.0).collect();
    let meters: Vec<&str> = wanted.iter().map(|w| w.1.as_str()).collect();
    let before: Vec<DateTime<Utc>> = wanted.iter().map(|w| w.2).collect();
    sqlx::query_as(
        "SELECT DISTINCT ON (t.account_id, t.meter) t.account_id, t.meter, t.value FROM usage_totals t
         JOIN unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS w(account_id, meter, before)
           ON t.account_id = w.account_id AND t.meter = w.meter AND t.last_occurred_at < w.before
         ORDER BY t.account_id, t.meter, t.last_occurred_at DESC",
    )
    .bind(&accounts)
    .bind(&meters)
    .bind(&before)
    .fetch_all(db)
    .await
}

/// Locks one meter's period total for a consuming check, creating it at zero if
/// needed, and returns the usage so far. Concurrent consumers of the same meter wait
/// here in turn; ingestion of the same meter waits too.
pub async fn lock_total(
    db: &mut PgConnection,
    account_id: Uuid,
    meter: &str,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
) -> Result<Decimal, sqlx::Error> {
    sqlx::query(
        "INSERT INTO usage_totals (account_id, meter, period_start, period_end, value, last_occurred_at)
         VALUES ($1, $2, $3, $4, 0, $3) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(meter)
    .bind(period_start)
    .bind(period_end)
    .execute(&mut *db)
    .await?;
    sqlx::query_scalar("SELECT value FROM usage_totals WHERE account_id = $1 AND meter = $2 AND period_start = $3 FOR UPDATE")
        .bind(account_id)
        .bind(meter)
        .bind(period_start)
        .fetch_one(&mut *db)
        .await
}

/// Recomputes one meter's total for a period from its events (after the billing
/// cycle changed, periods start elsewhere; after a correction) and returns it
/// (zero when no event is left in the period: the total is gone then).
pub async fn rebuild_total(
    db: &mut PgConnection,
    account_id: Uuid,
    meter: &str,
    aggregation: Aggregation,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
) -> Result<Decimal, sqlx::Error> {
    sqlx::query(
        "DELETE FROM usage_totals WHERE account_id = $1 AND meter = $2 AND period_start = $3",
    )
    .bind(account_id)
    .bind(meter)
    .bind(period_start)
    .execute(&mut *db)
    .await?;
    let value = match aggregation {
        Aggregation::Count | Aggregation::Sum => "sum(quantity)",
        Aggregation::Max => "max(quantity)",
        Aggregation::Last => "(array_agg(quantity ORDER BY occurred_at DESC, received_at DESC))[1]",
    };
    let sql = format!(
        "INSERT INTO usage_totals (account_id, meter, period_start, period_end, value, last_occurred_at)
         SELECT $1, $2, $3, $4, {value}, max(occurred_at) FROM usage_events
         WHERE account_id = $1 AND meter = $2 AND occurred_at >= $3 AND occurred_at < $4
         HAVING count(*) > 0
         RETURNING value"
    );
    let value: Option<Decimal> = sqlx::query_scalar(&sql)
        .bind(account_id)
        .bind(meter)
        .bind(period_start)
        .bind(period_end)
        .fetch_optional(&mut *db)
        .await?;
    Ok(value.unwrap_or_default())
}

/// The periods of `account_id`'s totals of `meter` that hold one of `times`
/// (`[start, end)`, UTC).
pub async fn totals_covering(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    meter: &str,
    times: &[DateTime<Utc>],
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT period_start, period_end FROM usage_totals u
          WHERE account_id = $1 AND meter = $2
            AND EXISTS (SELECT 1 FROM unnest($3::timestamptz[]) AS t(at) WHERE t.at >= u.period_start AND t.at < u.period_end)
          ORDER BY period_start",
    )
    .bind(account_id)
    .bind(meter)
    .bind(times)
    .fetch_all(db)
    .await
}

/// Forgets the thresholds of one period total above `percent` (all of them for
/// `None`), so that they notify again when usage reaches them after a correction.
pub async fn forget_crossings_above(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    meter: &str,
    period_start: DateTime<Utc>,
    percent: Option<Decimal>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM threshold_crossings
          WHERE account_id = $1 AND meter = $2 AND period_start = $3 AND ($4::numeric IS NULL OR percent > $4)",
    )
    .bind(account_id)
    .bind(meter)
    .bind(period_start)
    .bind(percent)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A threshold reached by a period total.
#[derive(Debug, Clone, FromRow)]
pub struct Crossing {
    pub account_id: Uuid,
    pub meter: String,
    pub period_start: DateTime<Utc>,
    pub percent: Decimal,
}

/// Records reached thresholds and returns only those not recorded before: each
/// threshold notifies once per account, meter and period.
pub async fn record_crossings(
    db: impl PgExecutor<'_>,
    reached: &[Crossing],
) -> Result<Vec<Crossing>, sqlx::Error> {
    if reached.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "INSERT INTO threshold_crossings (account_id, meter, period_start, percent)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::numeric[])
         ON CONFLICT DO NOTHING
         RETURNING account_id, meter, period_start, percent",
    )
    .bind(reached.iter().map(|c| c.account_id).collect::<Vec<_>>())
    .bind(reached.iter().map(|c| c.meter.as_str()).collect::<Vec<_>>())
    .bind(reached.iter().map(|c| c.period_start).collect::<Vec<_>>())
    .bind(reached.iter().map(|c| c.percent).collect::<Vec<_>>())
    .fetch_all(db)
    .await
}

/// Tells every server process that the accounts' usage changed (delivered at
/// commit; PostgreSQL folds repeats within a transaction).
pub async fn notify_changed(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify('tollgate_usage', id::text) FROM unnest($1::uuid[]) AS t(id)")
        .bind(account_ids)
        .execute(db)
        .await?;
    Ok(())
}

/// The channel [`notify_changed`] publishes on.
pub const USAGE_CHANNEL: &str = "tollgate_usage";

/// The channel the `api_keys` trigger publishes a changed key's id on.
pub const KEYS_CHANNEL: &str = "tollgate_keys";

/// The prefix of a sync mark on [`USAGE_CHANNEL`] (`sync:<process nonce>:<n>`).
pub const SYNC_PREFIX: &str = "sync:";

/// Sends a sync mark (`payload`, from
/// [`crate::service::state_cache::StateCache::next_mark`]) on [`USAGE_CHANNEL`].
pub async fn notify_sync(db: impl PgExecutor<'_>, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify('tollgate_usage', $1)")
        .bind(payload)
        .execute(db)
        .await?;
    Ok(())
}

/// A meter's usage by `account_id` over `[start, end)` from the stored events, as
/// `aggregation` reads it (count and sum: the sum; max: the peak; last: the latest
/// level), and the sum of the events' `cost_property` when one is given (values that
/// are not decimal numbers count as zero).
pub async fn period_usage(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    meter: &str,
    aggregation: Aggregation,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cost_property: Option<&str>,
) -> Result<(Decimal, Decimal), sqlx::Error> {
    let mut one = period_usage_many(
        db,
        meter,
        aggregation,
        cost_property,
        &[account_id],
        &[start],
        &[end],
    )
    .await?;
    Ok(one.pop().unwrap_or_default())
}

/// [`period_usage`] of many `(account_ids[i], [starts[i], ends[i]))` windows of one
/// meter in one statement, answers in the windows' order (the invoice run prices a
/// batch of periods with one query per priced meter).
///
/// # Errors
/// A database error; the three slices must have the same length (else a database
/// error: `unnest` pads with NULL and the statement's check fails).
pub async fn period_usage_many(
    db: impl PgExecutor<'_>,
    meter: &str,
    aggregation: Aggregation,
    cost_property: Option<&str>,
    account_ids: &[Uuid],
    starts: &[DateTime<Utc>],
    ends: &[DateTime<Utc>],
) -> Result<Vec<(Decimal, Decimal)>, sqlx::Error> {
    if account_ids.len() != starts.len() || starts.len() != ends.len() {
        return Err(sqlx::Error::Protocol(
            "period_usage_many: windows of unequal length".into(),
        ));
    }
    let value = match aggregation {
        Aggregation::Count | Aggregation::Sum => "coalesce(sum(e.quantity), 0)",
        Aggregation::Max => "coalesce(max(e.quantity), 0)",
        Aggregation::Last => {
            "coalesce((array_agg(e.quantity ORDER BY e.occurred_at DESC, e.received_at DESC))[1], 0)"
        }
    };
    let rows: Vec<(Decimal, Decimal)> = sqlx::query_as(&format!(
        "SELECT u.value, u.cost
         FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS w(account_id, start_at, end_at, n)
         CROSS JOIN LATERAL (
             SELECT {value} AS value,
                    coalesce(sum(CASE WHEN $5::text IS NOT NULL AND e.properties->>$5 ~ '^[0-9]{{1,15}}(\\.[0-9]{{1,12}})?$' THEN (e.properties->>$5)::numeric ELSE 0 END), 0) AS cost
             FROM usage_events e
             WHERE e.account_id = w.account_id AND e.meter = $4 AND e.occurred_at >= w.start_at AND e.occurred_at < w.end_at
         ) u
         ORDER BY w.n"
    ))
    .bind(account_ids)
    .bind(starts)
    .bind(ends)
    .bind(meter)
    .bind(cost_property)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// One stored event, for the usage export.
#[derive(Debug, Clone, FromRow)]
pub struct ExportedEvent {
    pub id: Uuid,
    pub meter: String,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub quantity: Decimal,
    pub user_id: Option<Uuid>,
    pub idempotency_key: String,
    pub properties: serde_json::Value,
}

/// Where an export of events goes on: the last row's `(meter, occurred_at, id)`.
pub type EventCursor = (String, DateTime<Utc>, Uuid);

/// Up to `limit` of `account_id`'s events that occurred in `[from, to)`, in
/// `(meter, occurred_at, id)` order after `after` (the order of the events' index,
/// so each page is a range read, whatever the page).
pub async fn export_events(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Option<&EventCursor>,
    limit: i64,
) -> Result<Vec<ExportedEvent>, sqlx::Error> {
    let (meter, at, id) = after.cloned().map_or((None, None, None), |(m, t, i)| (Some(m), Some(t), Some(i)));
    sqlx::query_as(
        "SELECT id, meter, occurred_at, received_at, quantity, user_id, idempotency_key, properties
         FROM usage_events
         WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3
           AND ($4::text IS NULL OR (meter, occurred_at, id) > ($4, $5, $6))
         ORDER BY meter, occurred_at, id
         LIMIT $7",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .bind(meter)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await
}
