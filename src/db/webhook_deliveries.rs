//! `webhook_deliveries` (migration 0027): one event to one endpoint, pending until
//! it succeeds or fails for good.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A delivery claimed by a worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    /// Attempts started, this one included.
    pub attempts: i32,
    /// When the delivery was made (a replay: when it was asked for).
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` deliveries due at `now` to enabled endpoints, oldest due
/// first, reserving them for `lease_secs` (several workers never claim the same
/// one; one whose worker died is claimed again after the lease). Counts the
/// attempt.
///
/// The plan is pinned to an ordered scan of the due index that stops at `limit`:
/// right after a burst (an invoice run writing thousands of deliveries) the
/// statistics still say the table is small, and the planner's own choice (every
/// due row, sorted, on each claim) made draining the burst quadratic (measured:
/// 435 deliveries/s over 20,000, against several thousand with this plan).
pub async fn claim_due(pool: &sqlx::PgPool, now: DateTime<Utc>, limit: i64, lease_secs: f64) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *tx).await?;
    sqlx::query("SET LOCAL enable_sort = off").execute(&mut *tx).await?;
    sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await?;
    let claimed = sqlx::query_as(
        "UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, next_attempt_at = $1 + make_interval(secs => $3)
           FROM (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                  WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND e.enabled
                  ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED) due
          WHERE d.id = due.id
         RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at",
    )
    .bind(now)
    .bind(limit)
    .bind(lease_secs)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Ends a delivery: `succeeded` or `failed`, if it is still the claim of the
/// worker that made attempt number `attempts` (a worker whose lease ran out and
/// whose delivery another one claimed changes nothing).
pub async fn finish(db: impl PgExecutor<'_>, id: Uuid, attempts: i32, status: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_deliveries SET status = $3, finished_at = $4 WHERE id = $1 AND attempts = $2 AND status = 'pending'")
        .bind(id)
        .bind(attempts)
        .bind(status)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Schedules the next attempt, under the same condition as [`finish`].
pub async fn retry_at(db: impl PgExecutor<'_>, id: Uuid, attempts: i32, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE id = $1 AND attempts = $2 AND status = 'pending'")
        .bind(id)
        .bind(attempts)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

/// Fails the pending deliveries made before `before` (past the retry window
/// whatever happened: one whose attempts could not be recorded would otherwise be
/// claimed forever); returns how many. It reads only those (an index of pending
/// deliveries by age), so each pass of the worker pays nothing for a backlog.
pub async fn fail_stale(db: impl PgExecutor<'_>, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', finished_at = $2
          WHERE status = 'pending' AND created_at < $1",
    )
    .bind(before)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Fails every pending delivery of an endpoint (it was disabled for failing);
/// returns how many.
pub async fn fail_pending_of(db: impl PgExecutor<'_>, endpoint_id: Uuid, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', finished_at = $2 WHERE endpoint_id = $1 AND status = 'pending'",
    )
    .bind(endpoint_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A new delivery of `delivery_id`'s event to its endpoint, due now; `None` when
/// there is no such delivery of that endpoint.
pub async fn replay(db: impl PgExecutor<'_>, delivery_id: Uuid, endpoint_id: Uuid, now: DateTime<Utc>) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, replay_of, created_at, next_attempt_at)
         SELECT gen_random_uuid(), d.event_id, d.endpoint_id, d.id, $3, $3
           FROM webhook_deliveries d WHERE d.id = $1 AND d.endpoint_id = $2
         RETURNING id",
    )
    .bind(delivery_id)
    .bind(endpoint_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// A line of an endpoint's delivery log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub event_seq: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub replay_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The last attempt's answer (`None`: no answer, or no attempt yet).
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
}

/// A log line's columns, with the delivery's last attempt.
const LOG_LINE: &str = "SELECT d.id, d.event_id, ev.type AS event_type, ev.seq AS event_seq, d.status, d.attempts,
        d.next_attempt_at, d.replay_of, d.created_at, d.finished_at,
        a.response_status, a.latency_ms, a.error
   FROM webhook_deliveries d
   JOIN webhook_events ev ON ev.id = d.event_id
   LEFT JOIN LATERAL (SELECT response_status, latency_ms, error FROM webhook_attempts
                       WHERE delivery_id = d.id ORDER BY attempted_at DESC, id DESC LIMIT 1) a ON true";

/// The newest `limit` deliveries of an endpoint from `offset`, with their last
/// attempt.
pub async fn log(db: impl PgExecutor<'_>, endpoint_id: Uuid, limit: i64, offset: i64) -> Result<Vec<LogRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{LOG_LINE} WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(endpoint_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// The log line of delivery `id` of `endpoint_id`.
pub async fn one(db: impl PgExecutor<'_>, id: Uuid, endpoint_id: Uuid) -> Result<Option<LogRow>, sqlx::Error> {
    sqlx::query_as(&format!("{LOG_LINE} WHERE d.id = $1 AND d.endpoint_id = $2"))
        .bind(id)
        .bind(endpoint_id)
        .fetch_optional(db)
        .await
}

/// How many deliveries an endpoint has.
pub async fn count(db: impl PgExecutor<'_>, endpoint_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1")
        .bind(endpoint_id)
        .fetch_one(db)
        .await
}

