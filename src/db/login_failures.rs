//! `login_failures`: failed log-ins per e-mail, for the per-minute limit.

use sqlx::PgExecutor;

/// Serialises log-in attempts for `email` until the transaction ends, so that the
/// failure count is checked and updated as one step.
pub async fn lock(db: impl PgExecutor<'_>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))").bind(email).execute(db).await?;
    Ok(())
}

/// Failed log-ins for `email` in the last `seconds`.
pub async fn recent(db: impl PgExecutor<'_>, email: &str, seconds: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE email = $1 AND attempted_at > now() - make_interval(secs => $2)")
        .bind(email)
        .bind(seconds as f64)
        .fetch_one(db)
        .await
}

/// Records a failed log-in.
pub async fn record(db: impl PgExecutor<'_>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_failures (email) VALUES ($1)").bind(email).execute(db).await?;
    Ok(())
}

/// Forgets failures older than a day.
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM login_failures WHERE attempted_at < now() - interval '1 day'")
        .execute(db)
        .await?
        .rows_affected())
}
