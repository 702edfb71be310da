//! `password_resets` and `password_reset_requests`: reset links (only the token's
//! SHA-256 is stored) and the per-e-mail request log behind the rate limit.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A reset link, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ResetRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Stores a new link for `user_id` valid until `expires_at`.
pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user_id: Uuid,
    token_hash: &[u8],
    sent_by: Option<Uuid>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO password_resets (id, user_id, token_hash, sent_by, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(user_id)
        .bind(token_hash)
        .bind(sent_by)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// The link whose token hashes to `token_hash`, locked until the transaction ends
/// (two uses of one link run one after the other).
pub async fn lock_by_hash(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<ResetRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, user_id, expires_at, used_at FROM password_resets WHERE token_hash = $1 FOR UPDATE")
        .bind(token_hash)
        .fetch_optional(db)
        .await
}

/// Marks every unused link of `user_id` used (the one just used and all others).
/// Returns how many were open.
pub async fn use_all_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Serialises requests for one e-mail until the transaction ends, so that parallel
/// requests cannot all pass the rate limit.
pub async fn lock_requests(db: impl PgExecutor<'_>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 13))")
        .bind(email)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a request for `email` (known or not).
pub async fn record_request(db: impl PgExecutor<'_>, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO password_reset_requests (email) VALUES ($1)")
        .bind(email)
        .execute(db)
        .await?;
    Ok(())
}

/// Requests for `email` in the last `window_secs` seconds.
pub async fn recent_requests(
    db: impl PgExecutor<'_>,
    email: &str,
    window_secs: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM password_reset_requests WHERE email = $1 AND requested_at > now() - make_interval(secs => $2)",
    )
    .bind(email)
    .bind(window_secs as f64)
    .fetch_one(db)
    .await
}

/// Forgets requests older than a day and links that ended more than a day ago.
pub async fn prune(db: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let requests = sqlx::query(
        "DELETE FROM password_reset_requests WHERE requested_at < now() - interval '1 day'",
    )
    .execute(db)
    .await?
    .rows_affected();
    let links =
        sqlx::query("DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected();
    Ok(requests + links)
}
