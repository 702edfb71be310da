//! `invitations`: single-use links into an organization (token stored as SHA-256).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// An invitation row.
#[derive(Debug, Clone, FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, account_id, email, role, invited_by, created_at, sent_at, expires_at, accepted_at, revoked_at";

/// A new invitation.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a [u8],
    pub invited_by: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts an invitation. Fails with a unique violation on `invitations_one_open`
/// when the address has an open one.
pub async fn insert(db: impl PgExecutor<'_>, i: &NewInvitation<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invitations (id, account_id, email, role, token_hash, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(i.id)
    .bind(i.account_id)
    .bind(i.email)
    .bind(i.role)
    .bind(i.token_hash)
    .bind(i.invited_by)
    .bind(i.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The invitation whose token hashes to `token_hash`, locked for update.
pub async fn by_token_hash_for_update(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1 FOR UPDATE"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// The invitation whose token hashes to `token_hash`.
pub async fn by_token_hash(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// The open (not accepted, not revoked) invitation `id` of `account_id`, locked.
pub async fn open_for_update(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    id: Uuid,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE account_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL FOR UPDATE"
    ))
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The open invitation for `email` in `account_id`, if any (expired or not).
pub async fn open_for_email(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    email: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE account_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL"
    ))
    .bind(account_id)
    .bind(email)
    .fetch_optional(db)
    .await
}

/// Pending invitations (open and not expired at `now`), newest first.
pub async fn pending(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE account_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC"
    ))
    .bind(account_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// Number of pending invitations (they reserve seats).
pub async fn pending_count(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM invitations WHERE account_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2")
        .bind(account_id)
        .bind(now)
        .fetch_one(db)
        .await
}

/// Replaces the token (the old link dies) and the expiry.
pub async fn renew(
    db: impl PgExecutor<'_>,
    id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invitations SET token_hash = $2, expires_at = $3, sent_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(token_hash)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks an invitation revoked.
pub async fn revoke(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invitations SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL AND accepted_at IS NULL")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks an invitation accepted by `user_id`.
pub async fn accept(db: impl PgExecutor<'_>, id: Uuid, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1")
        .bind(id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Test support: moves an invitation's expiry (tests cannot wait 7 days).
pub async fn set_expiry(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invitations SET expires_at = $2, created_at = least(created_at, $2 - interval '1 second') WHERE id = $1")
        .bind(id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}
