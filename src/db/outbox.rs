//! `email_outbox`: e-mail waiting to be sent, and what was sent.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    /// Recipient, already parsed (lower-case).
    pub to: &'a str,
    /// Template name.
    pub template: &'a str,
    /// Template variables.
    pub context: &'a serde_json::Value,
    /// At most one message per key; `None` for messages that may repeat.
    pub dedup_key: Option<&'a str>,
    /// The account the message is about, if any.
    pub account_id: Option<Uuid>,
}

/// Enqueues a message; returns `false` (and enqueues nothing) when `dedup_key` was
/// already used.
pub async fn insert(db: impl PgExecutor<'_>, m: &NewMail<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO email_outbox (id, to_address, template, context, dedup_key, account_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(m.to)
    .bind(m.template)
    .bind(m.context)
    .bind(m.dedup_key)
    .bind(m.account_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: Uuid,
    pub to_address: String,
    pub template: String,
    pub context: serde_json::Value,
    pub dedup_key: Option<String>,
    pub account_id: Option<Uuid>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Delivery attempts started so far (a claim counts as one).
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, to_address, template, context, dedup_key, account_id, status, attempts, next_attempt_at, last_error, created_at, sent_at";

/// Claims up to `limit` pending messages that are due, oldest due first: counts an
/// attempt and moves `next_attempt_at` `lease_seconds` ahead, so no other worker
/// (in this or another process) claims them while this one sends. Rows another
/// worker is claiming at the same moment are skipped (`FOR UPDATE SKIP LOCKED`). A
/// worker that dies mid-send leaves its rows to be claimed again after the lease.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    limit: i64,
    lease_seconds: f64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         WHERE id IN (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING {COLUMNS}"
    ))
    .bind(limit)
    .bind(lease_seconds)
    .fetch_all(db)
    .await
}

/// SQL that blanks the context's `link` (an invitation or password-reset link: a
/// live credential whose token is otherwise stored only hashed) once the message
/// has left, so the outbox and its backups hold no working links.
const REDACT_LINK: &str = "context = CASE WHEN context ? 'link' THEN jsonb_set(context, '{link}', '\"(removed after sending)\"') ELSE context END";

/// Marks a claimed message sent and removes its secret link (see [`REDACT_LINK`]).
pub async fn mark_sent(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("UPDATE email_outbox SET status = 'sent', sent_at = now(), last_error = NULL, {REDACT_LINK} WHERE id = $1 AND status = 'pending'"))
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Schedules another attempt of a claimed message `delay_seconds` from now.
pub async fn mark_retry(
    db: impl PgExecutor<'_>,
    id: Uuid,
    delay_seconds: f64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_outbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(delay_seconds)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives up on a claimed message.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("UPDATE email_outbox SET status = 'failed', last_error = $2, {REDACT_LINK} WHERE id = $1 AND status = 'pending'"))
        .bind(id)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// The newest `limit` messages, to `to` only when given, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    to: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_outbox WHERE $1::text IS NULL OR to_address = $1
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One message.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM email_outbox WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}
