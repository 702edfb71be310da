//! Usage corrections: `usage_corrections` and `usage_voided_events` (migration
//! 0024). Voiding moves events out of `usage_events` into `usage_voided_events`,
//! so everything read from the stored events follows.

pub use crate::correction::Selection;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgExecutor};
use std::collections::HashSet;
use uuid::Uuid;

/// One voided event, as it was stored.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Voided {
    pub event_id: Uuid,
    pub meter: String,
    pub user_id: Option<Uuid>,
    pub quantity: Decimal,
    pub occurred_at: DateTime<Utc>,
    pub idempotency_key: String,
}

/// Records a correction; its transaction id is the row's `xid`.
pub async fn insert(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO usage_corrections (account_id, id, reason) VALUES ($1, $2, $3)")
        .bind(account_id)
        .bind(id)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(())
}

/// How many stored events of the account a range selects, counting at most
/// `cap + 1` (enough to tell "too many").
pub async fn count_in_range(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    meter: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM usage_events
             WHERE account_id = $1 AND meter = $2 AND occurred_at >= $3 AND occurred_at < $4
             LIMIT $5 + 1) AS t",
    )
    .bind(account_id)
    .bind(meter)
    .bind(from)
    .bind(to)
    .bind(cap)
    .fetch_one(db)
    .await
}

/// Moves the selected events of `account_id` from `usage_events` to
/// `usage_voided_events` under `correction_id`, in one statement; returns them.
/// Events already voided or never stored are simply not selected.
pub async fn void(
    db: &mut PgConnection,
    account_id: Uuid,
    correction_id: Uuid,
    selection: &Selection,
) -> Result<Vec<Voided>, sqlx::Error> {
    // Keys are found through usage_event_keys, whose row gives each event's time:
    // the event's partition.
    let (chosen, meter, from, to, keys) = match selection {
        Selection::Keys(keys) => (
            "SELECT e.id, e.occurred_at FROM usage_event_keys k
               JOIN usage_events e ON e.account_id = k.account_id AND e.id = k.event_id AND e.occurred_at = k.occurred_at
              WHERE k.account_id = $1 AND k.idempotency_key = ANY($3)",
            None,
            None,
            None,
            Some(keys.as_slice()),
        ),
        Selection::Range { meter, from, to } => (
            "SELECT id, occurred_at FROM usage_events
              WHERE account_id = $1 AND meter = $4 AND occurred_at >= $5 AND occurred_at < $6",
            Some(meter.as_str()),
            Some(*from),
            Some(*to),
            None,
        ),
    };
    let sql = format!(
        "WITH chosen AS ({chosen}),
         gone AS (
             DELETE FROM usage_events e USING chosen c
              WHERE e.account_id = $1 AND e.id = c.id AND e.occurred_at = c.occurred_at
              RETURNING e.*
         )
         INSERT INTO usage_voided_events
             (account_id, event_id, correction_id, meter, user_id, quantity, occurred_at, received_at, idempotency_key, properties)
         SELECT account_id, id, $2, meter, user_id, quantity, occurred_at, received_at, idempotency_key, properties FROM gone
         RETURNING event_id, meter, user_id, quantity, occurred_at, idempotency_key"
    );
    sqlx::query_as(&sql)
        .bind(account_id)
        .bind(correction_id)
        .bind(keys)
        .bind(meter)
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await
}

/// The keys among `keys` whose events were voided before.
pub async fn already_voided(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    keys: &[String],
) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT idempotency_key FROM usage_voided_events WHERE account_id = $1 AND idempotency_key = ANY($2)",
    )
    .bind(account_id)
    .bind(keys)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// How many of the events were reported to a Stripe billing meter (Stripe bills
/// them; a correction there is Stripe's).
pub async fn reported_to_stripe(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    event_ids: &[Uuid],
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM stripe_meter_reports
          WHERE account_id = $1 AND event_id = ANY($2) AND status IN ('pending', 'sent')",
    )
    .bind(account_id)
    .bind(event_ids)
    .fetch_one(db)
    .await
}

/// A correction as the admin pages list it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Summary {
    pub id: Uuid,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    /// Events voided.
    pub events: i64,
    /// Quantity voided per meter, as `meter quantity` pairs joined by `, `.
    pub quantities: String,
    /// Sum of the invoice adjustments it made (negative: credited).
    pub adjusted: Decimal,
}

/// The account's latest `limit` corrections, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
) -> Result<Vec<Summary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.reason, c.created_at,
                (SELECT count(*) FROM usage_voided_events v WHERE v.account_id = c.account_id AND v.correction_id = c.id) AS events,
                coalesce((SELECT string_agg(meter || ' ' || trim_scale(q)::text, ', ' ORDER BY meter)
                            FROM (SELECT meter, sum(quantity) AS q FROM usage_voided_events v
                                   WHERE v.account_id = c.account_id AND v.correction_id = c.id GROUP BY meter) AS m), '') AS quantities,
                (SELECT coalesce(sum(amount), 0) FROM invoice_adjustments a WHERE a.account_id = c.account_id AND a.correction_id = c.id) AS adjusted
           FROM usage_corrections c WHERE c.account_id = $1
          ORDER BY c.created_at DESC, c.id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The database's snapshot now (`pg_current_snapshot()`, as text): which
/// transactions a reading made from now on sees.
pub async fn snapshot(db: impl PgExecutor<'_>) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_current_snapshot()::text")
        .fetch_one(db)
        .await
}

/// The accounts among `account_ids` with a correction that `snapshot` (from
/// [`snapshot`]) does not see: a reading made with it may predate the correction.
pub async fn corrected_since(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
    snapshot: &str,
) -> Result<HashSet<Uuid>, sqlx::Error> {
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM usage_corrections
          WHERE account_id = ANY($1) AND NOT pg_visible_in_snapshot(xid, $2::text::pg_snapshot)",
    )
    .bind(account_ids)
    .bind(snapshot)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}
