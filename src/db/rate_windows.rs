//! `rate_windows`: calls per account, rate feature and window.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Adds `calls` to the window if the total stays within `max`; returns the new
/// total, or `None` when the calls would pass `max` (nothing is added then).
pub async fn try_add(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    feature: &str,
    window_start: DateTime<Utc>,
    calls: i32,
    max: i64,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO rate_windows AS w (account_id, feature, window_start, calls)
         SELECT $1, $2, $3, $4 WHERE $4 <= $5
         ON CONFLICT (account_id, feature, window_start) DO UPDATE SET calls = w.calls + excluded.calls
         WHERE w.calls + excluded.calls <= $5
         RETURNING calls",
    )
    .bind(account_id)
    .bind(feature)
    .bind(window_start)
    .bind(calls)
    .bind(max)
    .fetch_optional(db)
    .await
}

/// Deletes windows that ended more than an hour ago.
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM rate_windows WHERE window_start < now() - interval '1 hour'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}
