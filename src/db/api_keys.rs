//! `api_keys`.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// An API key without its secret (which is never stored).
#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub kind: String,
    pub account_id: Option<Uuid>,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, account_id, name, prefix, created_at, last_used_at, revoked_at";

/// A new key's stored fields.
pub struct NewKey<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub account_id: Option<Uuid>,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a [u8],
    pub created_by: Option<Uuid>,
}

/// Stores a new key.
pub async fn insert(db: impl PgExecutor<'_>, k: &NewKey<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, kind, account_id, name, prefix, secret_hash, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(k.id)
    .bind(k.kind)
    .bind(k.account_id)
    .bind(k.name)
    .bind(k.prefix)
    .bind(k.secret_hash)
    .bind(k.created_by)
    .execute(db)
    .await?;
    Ok(())
}

/// The key whose secret hashes to `hash` (revoked ones included, so the caller can
/// tell revoked from unknown in its logs).
pub async fn by_hash(
    db: impl PgExecutor<'_>,
    hash: &[u8],
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE secret_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(db)
    .await
}

/// The account's keys, newest first.
pub async fn for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at DESC"
    ))
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// The key `id`, revoked or not.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every platform key, live ones first, then newest first.
pub async fn platform_keys(db: impl PgExecutor<'_>) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE kind = 'platform' ORDER BY revoked_at IS NOT NULL, created_at DESC"))
        .fetch_all(db)
        .await
}

/// Revokes the account's key `id`; returns the key when it was live.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    id: Uuid,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Records use, at most once a minute per key so that busy keys do not write on
/// every request.
pub async fn touch(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes key `id` of any kind; returns the key when it was live.
pub async fn revoke_any(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING {COLUMNS}"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Revokes the live keys `user_id` created (of `account_id` only, when given: a
/// membership that ended), since keys end with their creator's access (issue 12).
/// Returns their prefixes, for the audit entry of the change that ended the access.
pub async fn revoke_created_by(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    account_id: Option<Uuid>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = now()
         WHERE created_by = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR account_id = $2) RETURNING prefix",
    )
    .bind(user_id)
    .bind(account_id)
    .fetch_all(db)
    .await
}
