//! `webhook_endpoints` (migration 0027): where outgoing webhooks go.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// An endpoint as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: Uuid,
    /// `None`: platform-wide (every account's events).
    pub account_id: Option<Uuid>,
    pub url: String,
    pub description: String,
    /// Wanted types; empty: all.
    pub event_types: Vec<String>,
    /// The current signing secret's bytes.
    pub secret: Vec<u8>,
    /// The secret before the last rotation, signing too until `previous_secret_expires_at`.
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    /// `manual` or `failing` while disabled.
    pub disabled_reason: Option<String>,
    /// The first failure since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, url, description, event_types, secret, previous_secret, \
    previous_secret_expires_at, enabled, disabled_reason, failing_since, created_at, updated_at";

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub account_id: Option<Uuid>,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a [String],
    pub secret: &'a [u8],
}

/// Inserts an endpoint.
pub async fn insert(db: impl PgExecutor<'_>, e: &NewEndpoint<'_>) -> Result<EndpointRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (id, account_id, url, description, event_types, secret)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(e.id)
    .bind(e.account_id)
    .bind(e.url)
    .bind(e.description)
    .bind(e.event_types)
    .bind(e.secret)
    .fetch_one(db)
    .await
}

/// The endpoints of `account_id` (`None`: the platform's), oldest first, at most `limit`.
pub async fn list(db: impl PgExecutor<'_>, account_id: Option<Uuid>, limit: i64) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE account_id IS NOT DISTINCT FROM $1
         ORDER BY created_at, id LIMIT $2"
    ))
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How many endpoints `account_id` (`None`: the platform) has.
pub async fn count(db: impl PgExecutor<'_>, account_id: Option<Uuid>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints WHERE account_id IS NOT DISTINCT FROM $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// The endpoint `id` of `account_id` (`None`: a platform one), locked for update.
pub async fn get_for_update(db: impl PgExecutor<'_>, id: Uuid, account_id: Option<Uuid>) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// The endpoint `id` of `account_id` (`None`: a platform one).
pub async fn get(db: impl PgExecutor<'_>, id: Uuid, account_id: Option<Uuid>) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND account_id IS NOT DISTINCT FROM $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// The endpoints with these ids, whatever their owner (for the delivery worker).
pub async fn by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ANY($1)"))
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Writes the editable fields; `enabled` false with `manual`, true clears the
/// reason and the failing streak.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    url: &str,
    description: &str,
    event_types: &[String],
    enabled: bool,
) -> Result<EndpointRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4,
             enabled = $5,
             disabled_reason = CASE WHEN $5 THEN NULL WHEN enabled THEN 'manual' ELSE disabled_reason END,
             failing_since = CASE WHEN $5 AND NOT enabled THEN NULL ELSE failing_since END,
             updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(url)
    .bind(description)
    .bind(event_types)
    .bind(enabled)
    .fetch_one(db)
    .await
}

/// Replaces the secret; the old one keeps signing until `overlap_until`.
pub async fn rotate_secret(db: impl PgExecutor<'_>, id: Uuid, secret: &[u8], overlap_until: DateTime<Utc>) -> Result<EndpointRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $3,
             secret = $2, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(secret)
    .bind(overlap_until)
    .fetch_one(db)
    .await
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// After a success: the failing streak ends.
pub async fn mark_healthy(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// After a failure at `now`: starts the failing streak if none runs; returns when
/// it started.
pub async fn mark_failing(db: impl PgExecutor<'_>, id: Uuid, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2)
         WHERE id = $1 RETURNING failing_since",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}

/// Disables an endpoint that has been failing; returns whether it was enabled
/// (so that one worker alone reports it).
pub async fn disable_failing(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', updated_at = now()
         WHERE id = $1 AND enabled",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every endpoint (platform-wide and accounts') whose URL starts with `prefix`, at
/// most 100: what `tollgate webhooks listen` verifies with.
pub async fn with_url_prefix(db: impl PgExecutor<'_>, prefix: &str) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE starts_with(url, $1) ORDER BY created_at LIMIT 100"
    ))
    .bind(prefix)
    .fetch_all(db)
    .await
}
