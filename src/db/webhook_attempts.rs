//! `webhook_attempts` (migration 0027): every attempt of a delivery, the delivery log.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// One attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status; `None`: no answer.
    pub response_status: Option<i32>,
    /// The answer's first characters (at most 1024).
    pub response_body: String,
    pub latency_ms: i32,
    pub error: Option<String>,
}

/// Records an attempt, unless its delivery is gone (its endpoint was deleted
/// meanwhile); returns whether it was recorded.
pub async fn insert(db: impl PgExecutor<'_>, a: &AttemptRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, response_status, response_body, latency_ms, error)
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)",
    )
    .bind(a.delivery_id)
    .bind(a.attempted_at)
    .bind(a.response_status)
    .bind(&a.response_body)
    .bind(a.latency_ms)
    .bind(&a.error)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A delivery's attempts, oldest first (at most 100).
pub async fn of_delivery(db: impl PgExecutor<'_>, delivery_id: Uuid) -> Result<Vec<AttemptRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT delivery_id, attempted_at, response_status, response_body, latency_ms, error
           FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempted_at, id LIMIT 100",
    )
    .bind(delivery_id)
    .fetch_all(db)
    .await
}
