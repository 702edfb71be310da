//! `email_outbox`: e-mail waiting to be sent, and what was sent.

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
