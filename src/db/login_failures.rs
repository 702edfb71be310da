//! `login_failures`: failed log-ins per e-mail, for the per-minute limit.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Serialises log-in attempts for `email` until the transaction ends, so that the
/// failure count is checked and updated as one step.
pub async fn lock(db: impl PgExecutor<'_>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))")
        .bind(email)
        .execute(db)
        .await?;
    Ok(())
}

/// Failed log-ins for `email` in the last `seconds`, and when the latest was (UTC).
pub async fn recent(
    db: impl PgExecutor<'_>,
    email: &str,
    seconds: i64,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    sqlx::query_as("SELECT count(*), max(attempted_at) FROM login_failures WHERE email = $1 AND attempted_at > now() - make_interval(secs => $2)")
        .bind(email)
        .bind(seconds as f64)
        .fetch_one(db)
        .await
}

/// Records a failed log-in (an attempt counts as failed until [`forget`] takes it
/// back); returns its time, which names it for [`forget`].
pub async fn record(db: impl PgExecutor<'_>, email: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO login_failures (email) VALUES ($1) RETURNING attempted_at")
        .bind(email)
        .fetch_one(db)
        .await
}

/// Takes back the attempt [`record`] noted at `at` for `email` (the password was
/// right, or it could not be checked).
pub async fn forget(
    db: impl PgExecutor<'_>,
    email: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE ctid = (SELECT ctid FROM login_failures WHERE email = $1 AND attempted_at = $2 LIMIT 1)")
        .bind(email)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets failures older than a day.
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM login_failures WHERE attempted_at < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}
