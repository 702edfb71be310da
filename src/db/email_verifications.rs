//! `email_verifications`: links that prove a user's e-mail address (only the
//! token's SHA-256 is stored).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A verification link, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct VerificationRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The password hash of the sign-up that sent the link, set when it is used.
    pub password_hash: Option<String>,
    /// SHA-256 of the sign-up browser's cookie: only that browser is logged in.
    pub browser_hash: Option<Vec<u8>>,
}

/// A link to store ([`insert`]).
#[derive(Debug, Clone, Copy)]
pub struct NewVerification<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The address it proves.
    pub email: &'a str,
    /// SHA-256 of the token.
    pub token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
    /// A sign-up's password hash, set when the link is used.
    pub password_hash: Option<&'a str>,
    /// SHA-256 of the sign-up browser's cookie.
    pub browser_hash: Option<&'a [u8]>,
}

/// Stores a new link.
pub async fn insert(db: impl PgExecutor<'_>, v: &NewVerification<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO email_verifications (id, user_id, email, token_hash, expires_at, password_hash, browser_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(v.id)
        .bind(v.user_id)
        .bind(v.email)
        .bind(v.token_hash)
        .bind(v.expires_at)
        .bind(v.password_hash)
        .bind(v.browser_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// The link whose token hashes to `token_hash`, locked until the transaction ends.
pub async fn lock_by_hash(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, user_id, email, expires_at, used_at, password_hash, browser_hash FROM email_verifications WHERE token_hash = $1 FOR UPDATE")
        .bind(token_hash)
        .fetch_optional(db)
        .await
}

/// Marks every unused link of `user_id` used. Returns how many were open.
pub async fn use_all_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE email_verifications SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Links sent to `user_id` in the last `window_secs` seconds.
pub async fn sent_since(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    window_secs: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM email_verifications WHERE user_id = $1 AND created_at > now() - make_interval(secs => $2)",
    )
    .bind(user_id)
    .bind(window_secs as f64)
    .fetch_one(db)
    .await
}
